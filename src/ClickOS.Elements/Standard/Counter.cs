using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Counter: counts packets and bytes passing through.
/// Keywords: COUNT_CALL "N HANDLER [VALUE]" (call a write handler when the count reaches N),
/// BYTE_COUNT_CALL "N HANDLER [VALUE]".
/// Handlers: count, byte_count, rate, bit_rate, byte_rate (read), reset, reset_counts (write), count_call, byte_count_call.
/// </summary>
/// <example>InfiniteSource(LIMIT 10, STOP true) -> c :: Counter -> Discard;</example>
public sealed class Counter : SimpleElement
{
    private long _count, _bytes;
    private long _countCallAt = -1, _byteCallAt = -1;
    private string? _countCall, _byteCall;
    // Rate estimate: an EWMA of packets and bytes per second, updated once per elapsed second.
    private long _rateEpochNs, _rateCount, _rateBytes;
    private double _pktRate, _byteRate;

    public long Count => _count;
    public long ByteCount => _bytes;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cc = a.Read("COUNT_CALL", Args.Any, "");
        var bc = a.Read("BYTE_COUNT_CALL", Args.Any, "");
        if (!a.Complete()) return false;
        return ParseCall(cc, out _countCallAt, out _countCall, "COUNT_CALL", errh)
            & ParseCall(bc, out _byteCallAt, out _byteCall, "BYTE_COUNT_CALL", errh);
    }

    private static bool ParseCall(string spec, out long at, out string? call, string what, ErrorHandler errh)
    {
        at = -1;
        call = null;
        if (spec.Length == 0) return true;
        var (n, rest) = ConfigText.ShiftWord(spec);
        if (!Values.ParseInt64(n, out at) || rest.Length == 0)
            return errh.Error($"{what}: expected 'COUNT HANDLER [VALUE]'");
        call = rest;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _rateEpochNs = Host.Clock.NowNs;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        var ps = batch.Packets;
        long bytes = 0;
        for (int i = 0; i < ps.Length; i++)
            bytes += ps[i].Length;
        _count += ps.Length;
        _bytes += bytes;
        if (_countCall != null || _byteCall != null)
            CheckCalls();
    }

    private void CheckCalls()
    {
        if (_countCall != null && _count >= _countCallAt)
        {
            var c = _countCall;
            _countCall = null;
            ElementUtil.CallWrite(Host, this, c, Host.RuntimeErrors);
        }
        if (_byteCall != null && _bytes >= _byteCallAt)
        {
            var c = _byteCall;
            _byteCall = null;
            ElementUtil.CallWrite(Host, this, c, Host.RuntimeErrors);
        }
    }

    private void UpdateRate()
    {
        long now = Host.Clock.NowNs;
        double dt = (now - _rateEpochNs) / 1e9;
        if (dt <= 0) return;
        double pr = (_count - _rateCount) / dt, br = (_bytes - _rateBytes) / dt;
        _pktRate = pr;
        _byteRate = br;
        if (dt >= 1)
        {
            _rateEpochNs = now;
            _rateCount = _count;
            _rateBytes = _bytes;
        }
    }

    private void Reset()
    {
        _count = _bytes = 0;
        _rateCount = _rateBytes = 0;
        _pktRate = _byteRate = 0;
        _rateEpochNs = Host.Clock.NowNs;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddReadHandler("byte_count", () => _bytes.ToString(inv));
        AddReadHandler("rate", () => { UpdateRate(); return _pktRate.ToString("0.##", inv); });
        AddReadHandler("byte_rate", () => { UpdateRate(); return _byteRate.ToString("0.##", inv); });
        AddReadHandler("bit_rate", () => { UpdateRate(); return (_byteRate * 8).ToString("0.##", inv); });
        AddButton("reset", Reset);
        AddButton("reset_counts", Reset);
        SetHandler("count_call", (_, _) => _countCall == null ? "" : $"{_countCallAt} {_countCall}",
            (v, errh) => ParseCall(v, out _countCallAt, out _countCall, "count_call", errh), HandlerFlags.None);
        SetHandler("byte_count_call", (_, _) => _byteCall == null ? "" : $"{_byteCallAt} {_byteCall}",
            (v, errh) => ParseCall(v, out _byteCallAt, out _byteCall, "byte_count_call", errh), HandlerFlags.None);
    }

    public override void TakeState(Element old, ErrorHandler errh)
    {
        if (old is Counter c) { _count = c._count; _bytes = c._bytes; }
    }
}
