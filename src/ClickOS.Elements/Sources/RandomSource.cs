using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// RandomSource(LENGTH [, LIMIT, BURST, ACTIVE, STOP, SEED]): emits packets of LENGTH random
/// bytes (push: BURST per task run; pull: on demand). SEED (default 0) makes the bytes
/// repeatable. Handlers: count, reset, active, limit.
/// </summary>
/// <example>RandomSource(60, LIMIT 10, STOP true) -> c :: Counter -> Discard;</example>
public sealed class RandomSource : Element, ITaskCallback
{
    private int _length, _burst = 1;
    private long _limit = -1, _count;
    private bool _active = true, _stop;
    private Random _rng = new(0);
    private Task? _task;

    public override string PortCount => "0/1";
    public override string Processing => "a/a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var len = a.ReadMP("LENGTH", Args.Unsigned);
        var limit = a.ReadP("LIMIT", Args.Int64, -1L);
        var burst = a.ReadP("BURST", Args.Unsigned, 1);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        var stop = a.Read("STOP", Args.Bool, false);
        var seed = a.Read("SEED", Args.Int, 0);
        if (!a.Complete()) return false;
        _length = len;
        _limit = limit;
        _burst = Math.Clamp(burst.Value, 1, PacketBatch.MaxSize);
        _active = active;
        _stop = stop;
        _rng = new Random(seed);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (OutputIsPush(0)) _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
        return true;
    }

    private PacketBatch? Make(int n)
    {
        if (_limit >= 0) n = (int)Math.Min(n, _limit - _count);
        if (n <= 0) return null;
        var b = Host.Batches.Rent();
        for (int i = 0; i < n; i++)
        {
            var p = Host.Pool.Make(_length);
            if (p == null) break;
            _rng.NextBytes(p.WritableData());
            p.TimestampNs = Host.Clock.NowNs;
            b.Add(p);
        }
        _count += b.Count;
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        var b = Make(_burst);
        if (b == null)
        {
            if (_stop) Host.PleaseStop();
            return false;
        }
        Output(0, b);
        task.FastReschedule();
        return true;
    }

    public override PacketBatch? Pull(int port, int max) => _active ? Make(Math.Min(max, _burst)) : null;

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddButton("reset", () => { _count = 0; if (_active) _task?.Reschedule(); });
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; if (v) _task?.Reschedule(); }, "active"), HandlerFlags.None);
        SetHandler("limit", (_, _) => _limit.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Int64, v => { _limit = v; _task?.Reschedule(); }, "limit"), HandlerFlags.None);
    }
}
