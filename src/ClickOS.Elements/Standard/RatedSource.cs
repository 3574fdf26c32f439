using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// RatedSource([DATA, RATE, LIMIT, ACTIVE]): emits copies of one packet at RATE packets per
/// second (default 10), at most LIMIT in all. Keywords: LENGTH, STOP (bool), BANDWIDTH (rate in
/// bytes/s; RATE = BANDWIDTH / packet length). Handlers: count, reset, data, rate, limit, active, length.
/// </summary>
/// <example>RatedSource(RATE 1000, LIMIT 10, STOP true) -> c :: Counter -> Discard;</example>
public sealed class RatedSource : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Input;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _count * _length;

    private byte[] _data = [];
    private int _length;
    private double _rate = 10;
    private long _limit = -1, _count;
    private bool _active = true, _stop;
    private Task? _task;
    private Timer? _timer;
    private Packet? _template;
    private double _tokens, _capacity;
    private long _lastNs;

    public override string PortCount => "0/1";
    public override string Processing => "a/a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var data = a.ReadP("DATA", Args.String, InfiniteSource.DefaultData);
        var rate = a.ReadP("RATE", Args.Unsigned, 10);
        var limit = a.ReadP("LIMIT", Args.Int64, -1L);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        var length = a.Read("LENGTH", Args.Unsigned, -1);
        var stop = a.Read("STOP", Args.Bool, false);
        var bw = a.Read("BANDWIDTH", Args.Bandwidth, 0.0);
        if (!a.Complete()) return false;
        _data = System.Text.Encoding.Latin1.GetBytes(data.Value);
        _length = length.Value >= 0 ? length.Value : _data.Length;
        _rate = bw.Present ? bw.Value / Math.Max(_length, 1) : rate.Value;
        _limit = limit;
        _active = active;
        _stop = stop;
        _capacity = _rate < 200 ? 2 : _rate / 100;
        return true;
    }

    /// <summary>The config handler: new DATA, RATE, LIMIT or ACTIVE apply at once; the count stays.</summary>
    public override bool CanLiveReconfigure => true;

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (!Configure(conf, errh)) return false;
        MakeTemplate();
        Wake();
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        MakeTemplate();
        _tokens = 1;
        _lastNs = Host.Clock.NowNs;
        if (OutputIsPush(0))
        {
            _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
            _timer = CreateTimer(_ => _task.Reschedule());
        }
        return true;
    }

    private void MakeTemplate()
    {
        _template?.Kill();
        var p = Host.Pool.Make(60, _length, 0)!;
        var d = p.WritableData();
        d.Clear();
        for (int off = 0; _data.Length > 0 && off < _length; off += _data.Length)
            _data.AsSpan(0, Math.Min(_data.Length, _length - off)).CopyTo(d[off..]);
        _template = p;
    }

    public override void Cleanup()
    {
        _template?.Kill();
        _template = null;
    }

    private void Refill()
    {
        long now = Host.Clock.NowNs;
        _tokens = Math.Min(_capacity, _tokens + (now - _lastNs) / 1e9 * _rate);
        _lastNs = now;
    }

    private Packet? Next()
    {
        if (!_active) return null;
        if (_limit >= 0 && _count >= _limit) return null;
        Refill();
        if (_tokens < 1) return null;
        var p = _template!.Clone();
        if (p == null) return null;
        _tokens -= 1;
        p.TimestampNs = Host.Clock.NowNs;
        _count++;
        return p;
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        if (_limit >= 0 && _count >= _limit)
        {
            if (_stop) Host.PleaseStop();
            return false;
        }
        var p = Next();
        if (p != null)
        {
            OutputOne(0, p);
            task.FastReschedule();
            return true;
        }
        double wait = _rate > 0 ? (1 - _tokens) / _rate : 1;
        _timer!.ScheduleAt(Host.Clock.NowNs + (long)(Math.Max(wait, 0) * 1e9) + 1);
        return false;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var p = Next();
        if (p == null)
        {
            if (_stop && _limit >= 0 && _count == _limit) { _count++; Host.PleaseStop(); }
            return null;
        }
        var b = Host.Batches.Rent();
        b.Add(p);
        return b;
    }

    private void Wake()
    {
        if (_task != null && _active) _task.Reschedule();
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddButton("reset", () => { _count = 0; _tokens = 1; Wake(); });
        SetHandler("data", (_, _) => System.Text.Encoding.Latin1.GetString(_data), (v, _) =>
        {
            _data = System.Text.Encoding.Latin1.GetBytes(ConfigText.Unquote(v));
            _length = _data.Length;
            MakeTemplate();
            return true;
        }, HandlerFlags.Raw);
        SetHandler("rate", (_, _) => _rate.ToString(inv), ElementUtil.Writer(Args.Unsigned, v => { _rate = v; _capacity = v < 200 ? 2 : v / 100.0; Wake(); }, "rate"), HandlerFlags.None);
        SetHandler("limit", (_, _) => _limit.ToString(inv), ElementUtil.Writer(Args.Int64, v => { _limit = v; Wake(); }, "limit"), HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; if (v) { _tokens = 1; Wake(); } }, "active"), HandlerFlags.None);
        SetHandler("length", (_, _) => _length.ToString(inv), ElementUtil.Writer(Args.Unsigned, v => { _length = v; MakeTemplate(); }, "length"), HandlerFlags.None);
    }
}
