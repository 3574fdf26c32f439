using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SetTimestamp([TIMESTAMP]): sets each packet's timestamp to TIMESTAMP ("SEC.FRAC"), or to the
/// current time if none is given. Keyword FIRST (bool): set only if unset.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> SetTimestamp(1700000000.5) -> Discard;</example>
public sealed class SetTimestamp : SimpleElement
{
    private long _ts = -1;
    private bool _first;

    private static bool Ts(string s, out long v, out string err)
    {
        err = "expected timestamp";
        return ElementUtil.ParseTimestamp(s, out v);
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var ts = a.ReadP("TIMESTAMP", Ts, -1L);
        var first = a.Read("FIRST", Args.Bool, false);
        if (!a.Complete()) return false;
        _ts = ts;
        _first = first;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        long t = _ts >= 0 ? _ts : Host.Clock.NowNs;
        foreach (var p in batch.Packets)
            if (!_first || p.TimestampNs == 0) p.TimestampNs = t;
    }
}
