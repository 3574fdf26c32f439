using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Discard: drops every packet. In pull mode a task pulls from upstream while it has packets.
/// Keywords: ACTIVE (bool, pull mode only), BURST (int, default 1). Handlers: count, reset_counts, active.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> d :: Discard;</example>
public sealed class Discard : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Drop;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => 0;

    private long _count;
    private bool _active = true;
    private int _burst = 1;
    private Task? _task;
    private NotifierSignal _signal;

    public override string PortCount => "1/0";
    public override string Processing => "a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var burst = a.Read("BURST", Args.Unsigned, 1);
        if (!a.Complete()) return false;
        _active = active;
        _burst = Math.Max(1, burst.Value);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (InputIsPull(0))
        {
            _task = CreateTask(this, _active);
            _signal = Host.UpstreamEmptySignal(this, 0, _task);
        }
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        _count += batch.Count;
        Drop(batch);
    }

    public bool RunTask(Task task)
    {
        var b = Input(0, _burst);
        if (b != null)
        {
            _count += b.Count;
            Drop(b);
        }
        if (b != null || _signal.Active)
            task.FastReschedule();
        return b != null;
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddButton("reset_counts", () => _count = 0);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v =>
        {
            _active = v;
            if (_task != null) { if (v) _task.Reschedule(); else _task.Unschedule(); }
        }, "active"), HandlerFlags.None);
    }
}
