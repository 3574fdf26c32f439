using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>Truncate(LENGTH [, EXTRA_LENGTH]): cuts packets longer than LENGTH bytes down to LENGTH.
/// With EXTRA_LENGTH true (default) the removed length is added to the extra-length annotation.</summary>
/// <example>InfiniteSource(LENGTH 100, LIMIT 1, STOP true) -> Truncate(60) -> Discard;</example>
public sealed class Truncate : SimpleElement
{
    private int _n;
    private bool _extra = true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var n = a.ReadMP("LENGTH", Args.Unsigned);
        var extra = a.Read("EXTRA_LENGTH", Args.Bool, true);
        if (!a.Complete()) return false;
        _n = n;
        _extra = extra;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            int over = p.Length - _n;
            if (over <= 0) continue;
            p.Take(over);
            if (_extra) p.SetAnnoU32(AnnoOffsets.ExtraLength, p.GetAnnoU32(AnnoOffsets.ExtraLength) + (uint)over);
        }
    }

    public override void AddHandlers() =>
        SetHandler("length", (_, _) => _n.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Unsigned, v => _n = v, "length"), HandlerFlags.None);
}
