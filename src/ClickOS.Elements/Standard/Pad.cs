using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>Pad([LENGTH, ZERO]): extends packets shorter than LENGTH (default 60) with zero bytes, clearing the extra-length annotation of packets it pads.</summary>
/// <example>InfiniteSource(LENGTH 20, LIMIT 1, STOP true) -> Pad(60) -> Discard;</example>
public sealed class Pad : SimpleElement
{
    private int _n = 60;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var n = a.ReadP("LENGTH", Args.Unsigned, 60);
        a.Read("ZERO", Args.Bool, true);
        if (!a.Complete()) return false;
        _n = n;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            if (p.Length >= _n) continue;
            int add = _n - p.Length;
            p.Put(add);
            // A padded packet's length is real again: Click clears the extra-length annotation.
            p.SetAnnoU32(AnnoOffsets.ExtraLength, 0);
        }
    }
}
