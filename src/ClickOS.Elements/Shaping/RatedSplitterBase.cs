using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The push splitter behind RatedSplitter (packets/s) and BandwidthRatedSplitter (bytes/s):
/// packets that find tokens in the bucket go to output 0, the rest to output 1 (dropped when
/// it is unconnected). Keywords RATE, BURST_DURATION (default 20 ms) and BURST_SIZE/BURST_BYTES
/// as in Click's token-bucket elements.
/// </summary>
public abstract class RatedSplitterBase : Element
{
    private readonly bool _bandwidth;
    private TokenBucket _bucket;
    private double _fixedBurst, _duration;

    private protected RatedSplitterBase(bool bandwidth) => _bandwidth = bandwidth;

    public override string PortCount => "1/1-2";
    public override string Processing => "h/h";
    public override bool CanLiveReconfigure => true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh) => Parse(conf, errh);

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Parse(conf, errh);

    private bool Parse(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var ra = new RateArgs(a, _bandwidth, 0.02);
        if (!a.Complete() || !ra.Check(errh)) return false;
        _fixedBurst = ra.FixedBurst;
        _duration = ra.Duration;
        SetRate(ra.Rate);
        return true;
    }

    private void SetRate(double rate) => _bucket.Set(rate, RateArgs.Capacity(rate, _fixedBurst, _duration));

    public override bool Initialize(ErrorHandler errh)
    {
        _bucket.Start(Host.Clock.NowNs);
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        _bucket.Refill(Host.Clock.NowNs);
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        if (_bandwidth)
            for (int i = 0; i < ps.Length; i++) outs[i] = _bucket.TryTake(ps[i].Length) ? 0 : 1;
        else
            for (int i = 0; i < ps.Length; i++) outs[i] = _bucket.TryTake(1) ? 0 : 1;
        Dispatch(batch, outs);
    }

    public override void AddHandlers()
    {
        SetHandler("rate", (_, _) => RateArgs.Format(_bucket.Rate, _bandwidth), (v, errh) =>
        {
            if (!RateArgs.Parse(v, _bandwidth, out double rate, errh)) return false;
            SetRate(rate);
            return true;
        }, HandlerFlags.None);
    }
}
