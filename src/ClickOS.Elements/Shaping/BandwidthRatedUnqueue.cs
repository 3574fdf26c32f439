using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// BandwidthRatedUnqueue(RATE [, keywords]): pulls packets from its input at most RATE (a
/// bandwidth: "384kbps", "1MBps"; a bare number is bytes/s) and pushes them out. A token
/// bucket, charged each packet's length after the pull (a pull needs a non-negative balance),
/// sized by BURST_DURATION (time, default 20 ms of RATE) or BURST_BYTES; ACTIVE (bool, true).
/// The task sleeps on the upstream empty notifier and on a timer while the bucket refills.
/// Handlers: rate (read/write), count, byte_count, reset, active (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> Queue -> BandwidthRatedUnqueue(1Mbps) -> Discard;</example>
public sealed class BandwidthRatedUnqueue : Element, ITaskCallback
{
    private TokenBucket _bucket;
    private double _fixedBurst, _duration;
    private double _meanLength = 64;
    private bool _active = true;
    private long _count, _bytes;
    private Task _task = null!;
    private Timer _timer = null!;
    private NotifierSignal _signal;

    public override string Processing => "l/h";
    public override bool CanLiveReconfigure => true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh) => Parse(conf, errh, false);

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Parse(conf, errh, true);

    private bool Parse(IReadOnlyList<string> conf, ErrorHandler errh, bool live)
    {
        var a = new Args(conf, errh);
        var ra = new RateArgs(a, true, 0.02);
        var active = a.Read("ACTIVE", Args.Bool, true);
        if (!a.Complete() || !ra.Check(errh)) return false;
        _fixedBurst = ra.FixedBurst;
        _duration = ra.Duration;
        SetRate(ra.Rate);
        _active = active;
        if (live) Wake();
        return true;
    }

    private void SetRate(double rate) => _bucket.Set(rate, RateArgs.Capacity(rate, _fixedBurst, _duration));

    private void Wake()
    {
        if (_active) _task.Reschedule();
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
        _timer = CreateTimer(_ => _task.Reschedule());
        _signal = Host.UpstreamEmptySignal(this, 0, _task);
        _bucket.Start(Host.Clock.NowNs);
        return true;
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        long now = Host.Clock.NowNs;
        _bucket.Refill(now);
        if (!_bucket.Has(0))
        {
            long wait = _bucket.NsUntil(0);
            if (wait != long.MaxValue) _timer.ScheduleAt(now + wait);
            return false;
        }
        // Lengths are known only after the pull: ask for about as many packets as the balance covers.
        double n = Math.Ceiling(Math.Max(_bucket.Tokens, 1) / _meanLength);
        var b = Input(0, (int)Math.Clamp(n, 1, PacketBatch.MaxSize));
        if (b != null)
        {
            long bytes = 0;
            foreach (var p in b.Packets) bytes += p.Length;
            _bucket.Tokens -= bytes;
            _meanLength = Math.Max((double)bytes / b.Count, 1);
            _count += b.Count;
            _bytes += bytes;
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
        AddReadHandler("byte_count", () => _bytes.ToString(inv));
        AddButton("reset", () => { _count = _bytes = 0; });
        SetHandler("rate", (_, _) => Values.UnparseBandwidth(_bucket.Rate), (v, errh) =>
        {
            if (!RateArgs.Parse(v, true, out double rate, errh)) return false;
            SetRate(rate);
            Wake();
            return true;
        }, HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; Wake(); }, "active"), HandlerFlags.None);
    }
}
