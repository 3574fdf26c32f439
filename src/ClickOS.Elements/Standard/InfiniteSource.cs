using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// InfiniteSource: generates copies of one packet as fast as it is scheduled (push) or asked (pull).
/// Arguments: DATA (string), LIMIT (int, -1 = unlimited), BURST (int, 1), ACTIVE (bool, true),
/// STOP (bool, false: ask the driver to stop at LIMIT), LENGTH (int), TIMESTAMP (bool, true), END_CALL (handler).
/// Handlers: count, reset, data, limit, burst, active, length (read/write).
/// </summary>
/// <example>InfiniteSource(LENGTH 64, LIMIT 1000, STOP true, BURST 32) -> c :: Counter -> Discard;</example>
public class InfiniteSource : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Input;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _count * _length;

    /// <summary>Click's default packet contents.</summary>
    public const string DefaultData = "Random bullshit in a packet, at least 64 bytes long. Well, now it is.";

    private byte[] _data = [];
    private int _length;
    private long _limit = -1;
    private int _burst = 1;
    private bool _active = true, _stop, _timestamp = true;
    private string? _endCall;
    private long _count;
    private Task? _task;
    private Packet? _template;

    public override string PortCount => "0/1";
    public override string Processing => "a/a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var data = a.ReadP("DATA", Args.String, DefaultData);
        var limit = a.ReadP("LIMIT", Args.Int64, -1L);
        var burst = a.ReadP("BURST", Args.Unsigned, 1);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        var stop = a.Read("STOP", Args.Bool, false);
        var length = a.Read("LENGTH", Args.Unsigned, -1);
        var ts = a.Read("TIMESTAMP", Args.Bool, true);
        var endCall = a.Read("END_CALL", Args.Any, "");
        if (!a.Complete()) return false;
        if (burst.Value < 1) return errh.Error("burst size must be >= 1");
        if (stop.Value && endCall.Value.Length > 0) return errh.Error("END_CALL and STOP are mutually exclusive");
        _data = System.Text.Encoding.Latin1.GetBytes(data.Value);
        _length = length.Value >= 0 ? length.Value : _data.Length;
        _limit = limit;
        _burst = Math.Min(burst.Value, PacketBatch.MaxSize);
        _active = active;
        _stop = stop;
        _timestamp = ts;
        _endCall = endCall.Value.Length > 0 ? endCall.Value : null;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        MakeTemplate();
        if (OutputIsPush(0))
            _task = CreateTask(this, _active && (_limit < 0 || _count < _limit), ScheduleInfo.TicketsFor(Host, this));
        return true;
    }

    private void MakeTemplate()
    {
        _template?.Kill();
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, _length, 0)!;
        var d = p.WritableData();
        d.Clear();
        // LENGTH longer than DATA repeats DATA, as Click does.
        for (int off = 0; _data.Length > 0 && off < _length; off += _data.Length)
            _data.AsSpan(0, Math.Min(_data.Length, _length - off)).CopyTo(d[off..]);
        _template = p;
        // The template lives for the router's lifetime; don't count it as outstanding traffic.
    }

    public override void Cleanup()
    {
        _template?.Kill();
        _template = null;
    }

    /// <summary>
    /// Fills a batch with up to <paramref name="n"/> packets; one timestamp per batch (all are
    /// made at once). Small packets are copied (cheaper than sharing them and copying later on
    /// the first write); large ones are clones that share the template's bytes.
    /// </summary>
    private PacketBatch Generate(int n)
    {
        var b = Host.Batches.Rent();
        var template = _template!;
        long ts = _timestamp ? Host.Clock.NowNs : 0;
        bool copy = template.Length <= 256;
        var pool = Host.Pool;
        for (int i = 0; i < n; i++)
        {
            var p = copy ? pool.Make(template.Data) : template.Clone();
            if (p == null) break;
            p.TimestampNs = ts;
            b.Add(p);
        }
        return b;
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        int n = _burst;
        if (_limit >= 0)
        {
            long left = _limit - _count;
            if (left <= 0) { Finished(); return false; }
            if (left < n) n = (int)left;
        }
        var b = Generate(n);
        _count += b.Count;
        if (b.Count > 0) Output(0, b);
        else Host.Batches.Return(b);
        // As in Click, reaching LIMIT stops the source on the run after the last packet.
        task.FastReschedule();
        return true;
    }

    private void Finished()
    {
        if (_endCall != null) ElementUtil.CallWrite(Host, this, _endCall, Host.RuntimeErrors);
        else if (_stop) Host.PleaseStop();
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (!_active) return null;
        if (_limit >= 0 && _count >= _limit)
        {
            if (_stop && _count == _limit) { _count++; Finished(); }
            return null;
        }
        int n = Math.Min(max, _burst);
        if (_limit >= 0) n = (int)Math.Min(n, _limit - _count);
        var b = Generate(n);
        _count += b.Count;
        if (b.Count == 0) { Host.Batches.Return(b); return null; }
        return b;
    }

    private void Wake()
    {
        if (_task != null && _active && (_limit < 0 || _count < _limit)) _task.Reschedule();
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => Math.Min(_count, _limit < 0 ? long.MaxValue : _limit).ToString(ElementUtil.Inv));
        AddButton("reset", () => { _count = 0; Wake(); });
        SetHandler("data", (_, _) => System.Text.Encoding.Latin1.GetString(_data), (v, errh) =>
        {
            _data = System.Text.Encoding.Latin1.GetBytes(ConfigText.Unquote(v));
            _length = _data.Length;
            MakeTemplate();
            return true;
        }, HandlerFlags.Raw);
        SetHandler("limit", (_, _) => _limit.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Int64, v => { _limit = v; Wake(); }, "limit"), HandlerFlags.None);
        SetHandler("burst", (_, _) => _burst.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Unsigned, v => _burst = Math.Clamp(v, 1, PacketBatch.MaxSize), "burst"), HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; Wake(); }, "active"), HandlerFlags.None);
        SetHandler("length", (_, _) => _length.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Unsigned, v => { _length = v; MakeTemplate(); }, "length"), HandlerFlags.None);
    }
}
