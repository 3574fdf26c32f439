using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// RandomSample([P], keywords SAMPLE, DROP, ACTIVE, SEED): passes each packet with probability P
/// (SAMPLE, default 1; or drops with probability DROP). Unsampled packets go to output 1 if it
/// exists. SEED (default 0) makes runs repeatable. Handlers: sampling_prob, drop_prob, active (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> s :: RandomSample(0.5) -> Discard; s[1] -> Discard;</example>
public sealed class RandomSample : FilterElement
{
    private double _p = 1;
    private bool _active = true;
    private Random _rng = new(0);

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var p = a.ReadP("SAMPLE", Args.Real, 1.0);
        var drop = a.Read("DROP", Args.Real, 0.0);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var seed = a.Read("SEED", Args.Int, 0);
        if (!a.Complete()) return false;
        if (p.Present && drop.Present) return errh.Error("SAMPLE and DROP are mutually exclusive");
        double prob = drop.Present ? 1 - drop.Value : p.Value;
        if (prob is < 0 or > 1) return errh.Error("probability out of range");
        _p = prob;
        _active = active;
        _rng = new Random(seed);
        return true;
    }

    protected override int Classify(Packet p) => !_active || _p >= 1 || _rng.NextDouble() < _p ? 0 : 1;

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        SetHandler("sampling_prob", (_, _) => _p.ToString(inv), ElementUtil.Writer(Args.Real, v => _p = Math.Clamp(v, 0, 1), "sampling_prob"), HandlerFlags.None);
        SetHandler("drop_prob", (_, _) => (1 - _p).ToString(inv), ElementUtil.Writer(Args.Real, v => _p = 1 - Math.Clamp(v, 0, 1), "drop_prob"), HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => _active = v, "active"), HandlerFlags.None);
    }
}
