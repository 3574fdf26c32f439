using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// DelayUnqueue(DELAY): pulls packets and pushes each once its timestamp plus DELAY has passed.
/// Handlers: delay (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 2, STOP true) -> Queue -> DelayUnqueue(0.01) -> Discard;</example>
public sealed class DelayUnqueue : Element, ITaskCallback
{
    private long _delayNs;
    private Packet? _held;
    private Task _task = null!;
    private Timer _timer = null!;
    private NotifierSignal _signal;

    public override string Processing => "l/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var d = a.ReadMP("DELAY", Args.Seconds);
        if (!a.Complete()) return false;
        _delayNs = (long)(d.Value * 1e9);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
        _timer = CreateTimer(_ => _task.Reschedule());
        _signal = Host.UpstreamEmptySignal(this, 0, _task);
        return true;
    }

    public bool RunTask(Task task)
    {
        bool worked = false;
        while (true)
        {
            if (_held == null)
            {
                var b = Input(0, 1);
                if (b == null) break;
                _held = b[0];
                Host.Batches.Return(b);
                if (_held.TimestampNs == 0) _held.TimestampNs = Host.Clock.NowNs;
            }
            long due = _held.TimestampNs + _delayNs;
            if (due > Host.Clock.NowNs)
            {
                _timer.ScheduleAt(due);
                return worked;
            }
            OutputOne(0, _held);
            _held = null;
            worked = true;
        }
        if (_signal.Active) task.FastReschedule();
        return worked;
    }

    public override void Cleanup()
    {
        _held?.Kill();
        _held = null;
    }

    public override void AddHandlers() =>
        SetHandler("delay", (_, _) => Values.UnparseSeconds(_delayNs / 1e9), ElementUtil.Writer(Args.Seconds, v => _delayNs = (long)(v * 1e9), "delay"), HandlerFlags.None);
}
