using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// AverageCounter: counts packets and bytes and reports the average rate since the first packet.
/// Keywords: IGNORE (seconds to ignore at start). Handlers: count, byte_count, rate, bit_rate, byte_rate, reset.
/// </summary>
/// <example>InfiniteSource(LIMIT 10, STOP true) -> a :: AverageCounter -> Discard;</example>
public sealed class AverageCounter : SimpleElement
{
    private long _count, _bytes, _firstNs, _lastNs, _ignoreNs;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var ignore = a.Read("IGNORE", Args.Seconds, 0.0);
        if (!a.Complete()) return false;
        _ignoreNs = (long)(ignore.Value * 1e9);
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        long now = Host.Clock.NowNs;
        if (_firstNs == 0) _firstNs = now;
        if (now - _firstNs < _ignoreNs) return;
        foreach (var p in batch.Packets) _bytes += p.Length;
        _count += batch.Count;
        _lastNs = now;
    }

    private double Seconds => _lastNs > _firstNs ? (_lastNs - _firstNs - _ignoreNs) / 1e9 : 0;

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddReadHandler("byte_count", () => _bytes.ToString(inv));
        AddReadHandler("rate", () => (Seconds > 0 ? _count / Seconds : 0).ToString("0.##", inv));
        AddReadHandler("byte_rate", () => (Seconds > 0 ? _bytes / Seconds : 0).ToString("0.##", inv));
        AddReadHandler("bit_rate", () => (Seconds > 0 ? _bytes * 8 / Seconds : 0).ToString("0.##", inv));
        AddButton("reset", () => { _count = _bytes = _firstNs = _lastNs = 0; });
    }
}
