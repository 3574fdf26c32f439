using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The pull shaper behind Shaper (packets/s) and BandwidthShaper (bytes/s): pulls are let
/// through while a token bucket of about 1 ms of RATE (at least one packet) has tokens.
/// Unlike Click's, it is an empty notifier: while it waits for tokens, or its input is empty,
/// the puller downstream sleeps and is woken when tokens or packets come, so a shaped pull
/// chain never spins (and runs in simulated time).
/// </summary>
public abstract class ShaperBase : Element, ITaskCallback
{
    // Short, so the output stays smooth; Click's Shaper (a GapRate) has no burst at all.
    private const double BurstSeconds = 0.001;

    private readonly bool _bandwidth;
    private TokenBucket _bucket;
    private double _meanLength = 64;
    private readonly Notifier _notifier = new(true);
    private NotifierSignal _upstream;
    private Task _relay = null!;
    private Timer _timer = null!;

    private protected ShaperBase(bool bandwidth) => _bandwidth = bandwidth;

    public override string PortCount => "1/1";
    public override string Processing => "l/l";
    public override bool CanLiveReconfigure => true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh) => Parse(conf, errh);

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (!Parse(conf, errh)) return false;
        _notifier.SetActive(true);
        return true;
    }

    private bool Parse(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var rate = a.ReadMP("RATE", _bandwidth ? Args.Bandwidth : Args.Real);
        if (!a.Complete()) return false;
        if (!(rate.Value >= 0) || double.IsInfinity(rate.Value)) return errh.Error("RATE: out of range");
        SetRate(rate.Value);
        return true;
    }

    private void SetRate(double rate) => _bucket.Set(rate, Math.Max(rate * BurstSeconds, 1));

    public override bool Initialize(ErrorHandler errh)
    {
        _relay = CreateTask(this, false);
        _timer = CreateTimer(_ => _notifier.SetActive(true));
        _upstream = Host.UpstreamEmptySignal(this, 0, _relay);
        _bucket.Start(Host.Clock.NowNs);
        return true;
    }

    public override Notifier? EmptyNotifier(int outputPort) => _notifier;

    /// <summary>Runs when the input's notifier turns active: wake the puller unless the timer will.</summary>
    public bool RunTask(Task task)
    {
        if (!_timer.Scheduled) _notifier.SetActive(true);
        return false;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (max <= 0) return null;
        long now = Host.Clock.NowNs;
        _bucket.Refill(now);
        // Bytes are charged after the pull (lengths are unknown before): a pull needs a
        // non-negative balance and may leave the bucket in debt. Packets need one whole token.
        double need = _bandwidth ? 0 : 1;
        if (!_bucket.Has(need))
        {
            _notifier.SetActive(false, false);
            long wait = _bucket.NsUntil(need);
            if (wait != long.MaxValue) _timer.ScheduleAt(now + wait);
            return null;
        }
        double n = _bandwidth ? Math.Ceiling(Math.Max(_bucket.Tokens, 1) / _meanLength) : Math.Floor(_bucket.Tokens + 1e-6);
        var b = Input(0, (int)Math.Clamp(n, 1, max));
        if (b == null)
        {
            if (!_upstream.Active) _notifier.SetActive(false, false);
            return null;
        }
        if (_bandwidth)
        {
            long bytes = 0;
            foreach (var p in b.Packets) bytes += p.Length;
            _bucket.Tokens -= bytes;
            _meanLength = Math.Max((double)bytes / b.Count, 1);
        }
        else
            _bucket.Tokens -= b.Count;
        return b;
    }

    public override void AddHandlers()
    {
        SetHandler("rate", (_, _) => RateArgs.Format(_bucket.Rate, _bandwidth), (v, errh) =>
        {
            if (!RateArgs.Parse(v, _bandwidth, out double rate, errh)) return false;
            SetRate(rate);
            _notifier.SetActive(true);
            return true;
        }, HandlerFlags.None);
    }
}
