// Hot-swap pause benchmark: how long forwarding stops while a running 50-element
// configuration is replaced by a new one that takes over its state.
//
//   dotnet run -c Release --project bench/HotSwap [-- SWAPS]
//
// A probe element at the end of the pipeline stamps every batch it sees (Stopwatch ticks) and
// keeps the largest gap between consecutive batches; it takes its last stamp over in a
// hot-swap, so the first batch after a swap measures the whole pause: from the last batch the
// old router forwarded to the first the new one did. The swap itself (TakeState, switching
// routers, cleaning up the old one) is also timed inside the driver (HotSwapReport.PauseNs).
// Parsing and initializing the new configuration happen before, off the router's thread, and
// are reported separately.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClickOS.Control;
using ClickOS.Core;
using ClickOS.Language;
using ClickOS.Runtime;

int swaps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var registry = ControlElements.CreateFullRegistry();
registry.Add("GapProbe", () => new GapProbe());

// 50 elements: a source, 45 per-packet elements, a queue and its drain, the probe, a sink.
var sb = new StringBuilder("src :: InfiniteSource(LENGTH 64, BURST 32)");
for (int i = 0; i < 45; i++) sb.Append(i % 3 == 0 ? $" -> c{i} :: Counter" : i % 3 == 1 ? $" -> p{i} :: Paint({i % 8})" : $" -> n{i} :: Null");
sb.Append(" -> q :: Queue(4096) -> u :: Unqueue(BURST 32) -> probe :: GapProbe -> Discard;\n");
string config = sb.ToString();

var errh = new TextErrorHandler(Console.Error);
var flat = ConfigLoader.Load(config, "hotswap.click", registry, errh)!;
Console.WriteLine($"configuration: {flat.Elements.Count} elements");
long buildNs = 0;
var options = new RouterOptions
{
    StandardOutput = TextWriter.Null,
    HotConfig = (text, old, eh) =>
    {
        long t0 = Stopwatch.GetTimestamp();
        var f = ConfigLoader.Load(text, "<hotconfig>", registry, eh);
        var r = f == null ? null : Router.Create(f, registry, eh, old.Options, replacing: old);
        buildNs = (long)(Stopwatch.GetElapsedTime(t0).TotalMilliseconds * 1e6);
        return r;
    },
};
var router = Router.Create(flat, registry, errh, options)!;
var driver = new Thread(() => router = Driver.Run(router)) { Name = "driver" };
driver.Start();

Router Current()
{
    var r = router;
    while (r.Successor is { } n) r = n;
    return r;
}
long Probe(Func<GapProbe, long> f) => Current().Invoke(r => f((GapProbe)r["probe"]!), () => -1, TimeSpan.FromSeconds(10));

Thread.Sleep(1000);
// The baseline: the largest gap between batches over a second with no swap.
Probe(p => { p.MaxGapNs = 0; return 0; });
Thread.Sleep(1000);
long baseline = Probe(p => p.MaxGapNs);
long before = Probe(p => p.Packets);

var pauses = new List<double>();
var internals = new List<double>();
var builds = new List<double>();
for (int i = 0; i < swaps; i++)
{
    Probe(p => { p.MaxGapNs = 0; return 0; });
    var h = Current().GlobalHandlers.First(x => x.Name == "hotconfig");
    var eh = new CollectingErrorHandler();
    if (!h.CallWrite(config, eh)) { Console.Error.WriteLine(eh.Text); return 1; }
    Thread.Sleep(20);
    pauses.Add(Probe(p => p.MaxGapNs) / 1e3);
    internals.Add(Current().LastHotSwap!.PauseNs / 1e3);
    builds.Add(buildNs / 1e6);
}
long after = Probe(p => p.Packets);
Current().StopNow();
driver.Join();
router.Cleanup();

static double Pct(List<double> xs, double p)
{
    var s = xs.Order().ToList();
    return s[Math.Min(s.Count - 1, (int)Math.Ceiling(p / 100 * s.Count) - 1)];
}
Console.WriteLine($"swaps: {swaps}; packets forwarded across them: {after - before:N0}");
Console.WriteLine($"largest gap between batches without a swap: {baseline / 1e3:F1} us");
Console.WriteLine($"forwarding pause per swap (us):   p50 {Pct(pauses, 50):F1}  p99 {Pct(pauses, 99):F1}  max {pauses.Max():F1}");
Console.WriteLine($"swap on the driver thread (us):   p50 {Pct(internals, 50):F1}  p99 {Pct(internals, 99):F1}  max {internals.Max():F1}");
Console.WriteLine($"parse + initialize, off-thread (ms): p50 {Pct(builds, 50):F2}  p99 {Pct(builds, 99):F2}");
return 0;

/// <summary>Records the largest gap between consecutive batches; keeps its last stamp across a hot-swap.</summary>
sealed class GapProbe : Element
{
    public long LastTicks, MaxGapNs, Packets;

    public override void Push(int port, PacketBatch batch)
    {
        long now = Stopwatch.GetTimestamp();
        if (LastTicks != 0)
        {
            long gap = (long)((now - LastTicks) * (1e9 / Stopwatch.Frequency));
            if (gap > MaxGapNs) MaxGapNs = gap;
        }
        LastTicks = now;
        Packets += batch.Count;
        Output(0, batch);
    }

    public override void TakeState(Element old, ErrorHandler errh)
    {
        var o = (GapProbe)old;
        LastTicks = o.LastTicks;
        MaxGapNs = o.MaxGapNs;
        Packets = o.Packets;
    }
}
