using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// RatedUnqueue(RATE): pulls packets from its input at most RATE packets per second and
/// pushes them out. Keywords: RATE (packets/s), BURST (int, default 1), ACTIVE (bool).
/// Handlers: rate (read/write), count, reset, active.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> Queue -> RatedUnqueue(1000) -> Discard;</example>
public sealed class RatedUnqueue : Element, ITaskCallback
{
    private double _rate;
    private int _burst = 1;
    private bool _active = true;
    private long _count;
    private double _tokens;
    private long _lastNs;
    private Task _task = null!;
    private Timer _timer = null!;
    private NotifierSignal _signal;

    public override string Processing => "l/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var rate = a.ReadMP("RATE", Args.Real);
        var burst = a.Read("BURST", Args.Unsigned, 1);
        var active = a.Read("ACTIVE", Args.Bool, true);
        if (!a.Complete()) return false;
        if (rate.Value < 0) return errh.Error("RATE: out of range");
        _rate = rate;
        _burst = Math.Clamp(burst.Value, 1, PacketBatch.MaxSize);
        _active = active;
        return true;
    }

    /// <summary>The config handler: a new RATE, BURST or ACTIVE applies at once; the count stays.</summary>
    public override bool CanLiveReconfigure => true;

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (!Configure(conf, errh)) return false;
        if (_active) _task.Reschedule();
        else _task.Unschedule();
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
        _timer = CreateTimer(_ => _task.Reschedule());
        _signal = Host.UpstreamEmptySignal(this, 0, _task);
        _lastNs = Host.Clock.NowNs;
        _tokens = 1;
        return true;
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        long now = Host.Clock.NowNs;
        _tokens = Math.Min(_tokens + (now - _lastNs) / 1e9 * _rate, Math.Max(_burst, 1));
        _lastNs = now;
        if (_tokens < 1)
        {
            long waitNs = _rate > 0 ? (long)((1 - _tokens) / _rate * 1e9) + 1 : 1_000_000_000;
            _timer.ScheduleAt(now + waitNs);
            return false;
        }
        var b = Input(0, (int)Math.Min(_tokens, _burst));
        if (b != null)
        {
            _tokens -= b.Count;
            _count += b.Count;
            Output(0, b);
            task.FastReschedule();
            return true;
        }
        if (_signal.Active) task.FastReschedule();
        return false;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddButton("reset", () => _count = 0);
        SetHandler("rate", (_, _) => _rate.ToString(inv), ElementUtil.Writer(Args.Real, v => { _rate = v; _task.Reschedule(); }, "rate"), HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; if (v) _task.Reschedule(); }, "active"), HandlerFlags.None);
    }
}
