using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The rate classifier behind Meter (packets/s) and BandwidthMeter (bytes/s). The arrival
/// rate is an exponentially weighted moving average in continuous time (time constant 100 ms):
/// each arrival adds its size / 100 ms, and the sum decays by e^(-t/100 ms). A steady stream of
/// R per second reads R. Each packet updates the rate, then goes to the output of the band the
/// rate falls in.
/// </summary>
public abstract class MeterBase : Element
{
    private const double TimeConstant = 0.1;
    private const double InvTau = 1 / TimeConstant;

    private readonly bool _bandwidth;
    private double[] _meters = [];
    private double _rate;
    private long _lastNs;

    private protected MeterBase(bool bandwidth) => _bandwidth = bandwidth;

    public override string PortCount => "1/2-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var rest = a.Rest();
        if (!a.Complete()) return false;
        if (rest.Count == 0) return errh.Error("too few arguments");
        var meters = new double[rest.Count];
        for (int i = 0; i < rest.Count; i++)
        {
            string s = rest[i].Trim();
            bool ok = _bandwidth ? Values.ParseBandwidth(s, out meters[i]) : Values.ParseDouble(s, out meters[i]);
            if (!ok || !(meters[i] >= 0)) return errh.Error($"argument {i + 1}: expected {(_bandwidth ? "bandwidth" : "rate")}");
            if (i > 0 && meters[i] <= meters[i - 1]) return errh.Error("rates must be in increasing order");
        }
        if (NOutputs != meters.Length + 1)
            return errh.Error($"need {meters.Length + 1} output ports, have {NOutputs}");
        _meters = meters;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _lastNs = Host.Clock.NowNs;
        return true;
    }

    private double RateAt(long nowNs)
    {
        long dt = nowNs - _lastNs;
        return dt > 0 ? _rate * Math.Exp(-dt * 1e-9 * InvTau) : _rate;
    }

    public override void Push(int port, PacketBatch batch)
    {
        long now = Host.Clock.NowNs;
        double rate = RateAt(now);
        _lastNs = now;
        var ps = batch.Packets;
        var meters = _meters;
        Span<int> outs = stackalloc int[ps.Length];
        for (int i = 0; i < ps.Length; i++)
        {
            rate += (_bandwidth ? ps[i].Length : 1) * InvTau;
            int o = 0;
            while (o < meters.Length && rate >= meters[o]) o++;
            outs[i] = o;
        }
        _rate = rate;
        Dispatch(batch, outs);
    }

    public override void AddHandlers()
    {
        AddReadHandler("rate", () => RateAt(Host.Clock.NowNs).ToString("0.###", ElementUtil.Inv));
        AddReadHandler("meters", () => string.Join(" ", _meters.Select(m => RateArgs.Format(m, _bandwidth))));
    }
}
