using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Unqueue: a task pulls up to BURST packets from its input and pushes them to its output,
/// sleeping on the upstream empty notifier when there is nothing to pull.
/// Keywords: ACTIVE (bool, true), BURST (int, 1), LIMIT (int, -1).
/// Handlers: count, reset (write), active, burst, limit (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> Queue -> u :: Unqueue(BURST 4) -> Discard;</example>
public sealed class Unqueue : Element, ITaskCallback
{
    private bool _active = true;
    private int _burst = 1;
    private long _limit = -1, _count;
    private Task _task = null!;
    private NotifierSignal _signal;

    public override string Processing => "l/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var burst = a.ReadP("BURST", Args.Int, 1);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var limit = a.Read("LIMIT", Args.Int64, -1L);
        if (!a.Complete()) return false;
        _burst = burst.Value <= 0 ? PacketBatch.MaxSize : Math.Min(burst.Value, PacketBatch.MaxSize);
        _active = active;
        _limit = limit;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _task = CreateTask(this, _active, ScheduleTickets());
        _signal = Host.UpstreamEmptySignal(this, 0, _task);
        return true;
    }

    private int ScheduleTickets() => Host is { } h ? ScheduleInfo.TicketsFor(h, this) : Task.DefaultTickets;

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        int n = _burst;
        if (_limit >= 0)
        {
            long left = _limit - _count;
            if (left <= 0) return false;
            n = (int)Math.Min(n, left);
        }
        var b = Input(0, n);
        if (b != null)
        {
            _count += b.Count;
            Output(0, b);
        }
        if (b != null || _signal.Active)
            task.FastReschedule();
        return b != null;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddButton("reset", () => { _count = 0; if (_active) _task.Reschedule(); });
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v =>
        {
            _active = v;
            if (v) _task.Reschedule();
        }, "active"), HandlerFlags.None);
        SetHandler("burst", (_, _) => _burst.ToString(inv), ElementUtil.Writer(Args.Int, v => _burst = v <= 0 ? PacketBatch.MaxSize : Math.Min(v, PacketBatch.MaxSize), "burst"), HandlerFlags.None);
        SetHandler("limit", (_, _) => _limit.ToString(inv), ElementUtil.Writer(Args.Int64, v => { _limit = v; _task.Reschedule(); }, "limit"), HandlerFlags.None);
    }
}
