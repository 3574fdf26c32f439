using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The token bucket behind the shaping elements: RATE tokens a second (packets or bytes) up to
/// a capacity. A cost larger than the whole capacity is let through once the bucket is full and
/// leaves it in debt, so small buckets still pass big packets at the right long-run rate.
/// </summary>
internal struct TokenBucket
{
    // Float rounding in refills must not leave a bucket a hair short of a token forever.
    private const double Slack = 1e-6;

    public double Rate;
    public double Capacity;
    public double Tokens;
    public long LastNs;

    /// <summary>Starts full at <paramref name="nowNs"/>.</summary>
    public void Start(long nowNs)
    {
        Tokens = Capacity;
        LastNs = nowNs;
    }

    public void Set(double rate, double capacity)
    {
        Rate = rate;
        Capacity = capacity;
        if (Tokens > capacity) Tokens = capacity;
    }

    public void Refill(long nowNs)
    {
        long dt = nowNs - LastNs;
        if (dt <= 0) return;
        LastNs = nowNs;
        double t = Tokens + dt * 1e-9 * Rate;
        Tokens = t < Capacity ? t : Capacity;
    }

    /// <summary>Whether the bucket holds at least <paramref name="level"/> tokens (never at rate 0).</summary>
    public readonly bool Has(double level) => Rate > 0 && Tokens + Slack >= level;

    /// <summary>Takes <paramref name="cost"/> tokens if there are enough (or the bucket is full).</summary>
    public bool TryTake(double cost)
    {
        if (!Has(cost < Capacity ? cost : Capacity)) return false;
        Tokens -= cost;
        return true;
    }

    /// <summary>Nanoseconds until the bucket holds <paramref name="level"/> tokens; long.MaxValue at rate 0.</summary>
    public readonly long NsUntil(double level)
    {
        if (Rate <= 0) return long.MaxValue;
        double missing = level - Tokens;
        if (missing <= 0) return 0;
        return (long)Math.Ceiling(missing / Rate * 1e9) + 1;
    }
}

/// <summary>
/// The rate arguments shared by the token-bucket elements, as in Click's RatedUnqueue family:
/// RATE (packets/s, or a bandwidth), BURST_DURATION (bucket capacity as time at RATE) and
/// BURST_SIZE (packets) or BURST_BYTES (bytes).
/// </summary>
internal sealed class RateArgs
{
    private readonly bool _bandwidth;
    private readonly double _defaultDuration;
    private readonly Arg<double> _rate, _duration, _size;

    public RateArgs(Args a, bool bandwidth, double defaultDuration)
    {
        _bandwidth = bandwidth;
        _defaultDuration = defaultDuration;
        _rate = a.ReadMP("RATE", bandwidth ? Args.Bandwidth : Args.Real);
        _duration = a.Read("BURST_DURATION", Args.Seconds, defaultDuration);
        _size = a.Read(bandwidth ? "BURST_BYTES" : "BURST_SIZE", Args.Real, 0.0);
    }

    public double Rate => _rate.Value;

    /// <summary>An explicit BURST_SIZE/BURST_BYTES, or 0 when the capacity follows the rate.</summary>
    public double FixedBurst => _size.Present ? _size.Value : 0;

    public double Duration => _duration.Present ? _duration.Value : _defaultDuration;

    /// <summary>Checks values after <see cref="Args.Complete"/>.</summary>
    public bool Check(ErrorHandler errh)
    {
        if (!(_rate.Value >= 0) || double.IsInfinity(_rate.Value)) return errh.Error("RATE: out of range");
        if (_size.Present && _duration.Present) return errh.Error($"BURST_DURATION and {(_bandwidth ? "BURST_BYTES" : "BURST_SIZE")} are mutually exclusive");
        if (_size.Present && !(_size.Value > 0)) return errh.Error($"{(_bandwidth ? "BURST_BYTES" : "BURST_SIZE")}: out of range");
        return true;
    }

    /// <summary>The bucket capacity for <paramref name="rate"/>: the fixed burst, else the burst duration's worth (at least one packet or byte).</summary>
    public static double Capacity(double rate, double fixedBurst, double duration) =>
        fixedBurst > 0 ? fixedBurst : Math.Max(rate * duration, 1);

    /// <summary>Formats a rate as the rate handlers print it: a bandwidth, or packets/s.</summary>
    public static string Format(double rate, bool bandwidth) =>
        bandwidth ? Values.UnparseBandwidth(rate) : rate.ToString("0.######", ElementUtil.Inv);

    /// <summary>Parses a rate written to a rate handler.</summary>
    public static bool Parse(string text, bool bandwidth, out double rate, ErrorHandler errh)
    {
        string s = ConfigText.Uncomment(text).Trim();
        bool ok = bandwidth ? Values.ParseBandwidth(s, out rate) : Values.ParseDouble(s, out rate);
        if (ok && rate >= 0 && !double.IsInfinity(rate)) return true;
        return errh.Error(bandwidth ? "rate: expected bandwidth" : "rate: expected real number");
    }
}
