// The seed's Figure 6: N instances each generate packets into their switch port; the host's
// switch forwards everything to one output port. Reports aggregate Mpps and Gb/s per N and
// packet size, and the Jain fairness index of the instances' shares. Also the receive
// direction (one port fanning out to N instances) and a chain of 3 instances.
//   dotnet run -c Release --project bench/Consolidation -- --figure6 --clickos .dist/clickos
//     [--isolation shared|process] [--ns 1,2,4,…] [--sizes 64,…] [--seconds 2] [--out bench/results]
//     [--lanes N]   (the shared worker's threads; default: one per core)
//     [--veth]   (output port: a NIC port on a veth pair in a private namespace; needs root)
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ClickOS.Host;
using ClickOS.Host.Switch;

static class Figure6
{
    private const string SinkMac = "02:00:00:00:00:fe";
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private static int s_lanes = Environment.ProcessorCount;
    private static int s_vifSlots = 2048; // the host's default


    public static int Run(string clickos, string[] args)
    {
        int[] ns = [1, 2, 4, 8, 16, 32, 64, 128], sizes = [64, 128, 256, 512, 1024, 1500];
        var iso = Isolation.Shared;
        double seconds = 2;
        string outDir = Path.GetFullPath("bench/results");
        bool veth = false, rx = true, chain = true, tx = true;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => args[++i];
            if (a == "--ns") ns = Ints(Next());
            else if (a == "--sizes") sizes = Ints(Next());
            else if (a == "--isolation") iso = Enum.Parse<Isolation>(Next(), ignoreCase: true);
            else if (a == "--seconds") seconds = double.Parse(Next(), Inv);
            else if (a == "--out") outDir = Path.GetFullPath(Next());
            else if (a == "--veth") veth = true;
            else if (a == "--no-rx") rx = false;
            else if (a == "--no-chain") chain = false;
            else if (a == "--no-tx") tx = false;
            else if (a == "--lanes") s_lanes = int.Parse(Next(), Inv);
            else if (a == "--vif-slots") s_vifSlots = int.Parse(Next(), Inv);
        }
        Directory.CreateDirectory(outDir);
        string tag = $"{iso.ToString().ToLowerInvariant()}{(veth ? "-veth" : "")}{(s_vifSlots != 2048 ? $"-{s_vifSlots}slots" : "")}";
        Console.WriteLine($"clickos: {clickos}; {Environment.ProcessorCount} cores; isolation {tag}; {seconds} s per point; {s_vifSlots} ring slots");
        var rows = new List<Row>();
        if (tx)
        {
            Console.WriteLine("| direction | N | size | Mpps | Gb/s | Jain | min/max share |");
            Console.WriteLine("|---|---|---|---|---|---|---|");
            foreach (int n in ns)
                foreach (int size in sizes)
                {
                    var r = Transmit(clickos, iso, n, size, seconds, veth);
                    rows.Add(r);
                    Print(r);
                }
        }
        if (rx)
            foreach (int n in ns)
            {
                var r = Receive(clickos, iso, n, 64, seconds);
                rows.Add(r);
                Print(r);
            }
        if (chain)
            foreach (int size in new[] { 64, 1500 })
            {
                var r = Chain(clickos, iso, size, seconds);
                rows.Add(r);
                Print(r);
            }
        string csv = Path.Combine(outDir, $"figure6-{tag}.csv");
        var sb = new StringBuilder("direction,isolation,output,n,size,mpps,gbps,jain,min_share,max_share\n");
        foreach (var r in rows)
            sb.Append(Inv, $"{r.Direction},{iso.ToString().ToLowerInvariant()},{(veth ? "veth" : "null")},{r.N},{r.Size},{r.Mpps:0.000},{r.Gbps:0.000},{r.Jain:0.0000},{r.MinShare:0.000},{r.MaxShare:0.000}\n");
        File.WriteAllText(csv, sb.ToString());
        var txRows = rows.Where(r => r.Direction == "tx").ToList();
        if (txRows.Count > 0)
            File.WriteAllText(Path.Combine(outDir, $"figure6-{tag}.svg"), Svg(txRows, sizes, $"ClickOS for .NET, {tag} isolation: N instances → switch → one {(veth ? "veth" : "null")} port"));
        Console.WriteLine($"wrote {csv}");
        return 0;
    }

    private sealed record Row(string Direction, int N, int Size, double Mpps, double Gbps, double Jain, double MinShare, double MaxShare);

    private static void Print(Row r) => Console.WriteLine(string.Create(Inv,
        $"| {r.Direction} | {r.N} | {r.Size} | {r.Mpps:0.00} | {r.Gbps:0.00} | {r.Jain:0.000} | {r.MinShare:0.00}/{r.MaxShare:0.00} |"));

    private static int[] Ints(string s) => s.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(x => int.Parse(x, Inv)).ToArray();

    private static string Mac(int i) => string.Create(Inv, $"02:00:00:{(i >> 16) & 0xff:x2}:{(i >> 8) & 0xff:x2}:{i & 0xff:x2}");

    private static string Hex(string mac) => mac.Replace(":", "", StringComparison.Ordinal);

    // The header as InfiniteSource DATA; its LENGTH pads it with zeros to the frame size.
    private static string Frame(string dst, string src) => $"\\<{Convert.ToHexString(BuildFrame(dst, src, 42))}>";

    private static HostDaemon NewHost(string clickos, out string dir)
    {
        dir = Directory.CreateTempSubdirectory("clickos-fig6-").FullName;
        var host = new HostDaemon(new HostOptions { Directory = dir, ClickosPath = clickos, MaxInstances = 20000, MaxProcessInstances = 2000, UseCgroups = false, SharedLanes = s_lanes, VifSlots = s_vifSlots });
        host.Start();
        return host;
    }

    private static void Close(HostDaemon host, string dir)
    {
        host.Shutdown(stopInstances: true);
        Directory.Delete(dir, recursive: true);
    }

    private static Row Transmit(string clickos, Isolation iso, int n, int size, double seconds, bool veth)
    {
        var host = NewHost(clickos, out string dir);
        var sw = host.Switch!;
        VethSink? sink = null;
        try
        {
            SwitchPort output;
            if (veth)
            {
                sink = VethSink.Create();
                output = new NicPort("out", sink.HostSide, SinkMac);
            }
            else output = new NullPort("out", SinkMac);
            sw.Add(output);
            for (int i = 0; i < n; i++)
                host.Create(new InstanceSpec
                {
                    Name = $"g{i}",
                    Isolation = iso,
                    Config = $"InfiniteSource(DATA {Frame(SinkMac, Mac(i + 1))}, LENGTH {size}, LIMIT -1, BURST 64) -> PullNull -> ToDevice(vif0, BURST 64);",
                });
            var ports = Enumerable.Range(0, n).Select(i => sw.Find($"g{i}:vif0")!).ToArray();
            // The output's count first, then each instance's share.
            var (g, secs) = Measure(seconds, [() => output.Counters.TxPackets, .. ports.Select(p => (Func<long>)(() => p.Counters.RxPackets))]);
            return Result("tx", n, size, g[0], g[1..], secs);
        }
        finally
        {
            Close(host, dir);
            sink?.Dispose();
        }
    }

    /// <summary>One generator port sends to N instances in turn (unicast to each port's MAC); each counts and drops.</summary>
    private static Row Receive(string clickos, Isolation iso, int n, int size, double seconds)
    {
        var host = NewHost(clickos, out string dir);
        var sw = host.Switch!;
        try
        {
            var macs = new List<string>();
            for (int i = 0; i < n; i++)
            {
                host.Create(new InstanceSpec { Name = $"r{i}", Isolation = iso, Config = "FromDevice(vif0, BURST 64) -> c :: Counter -> Discard;" });
                macs.Add(sw.Find($"r{i}:vif0")!.Mac!);
            }
            var ports = Enumerable.Range(0, n).Select(i => sw.Find($"r{i}:vif0")!).ToArray();
            var gen = new GeneratorPort("gen", macs.Select(m => BuildFrame(m, "02:00:00:00:00:fd", size)).ToArray(), ports);
            sw.Add(gen);
            // Delivered: what each instance counted (the switch's tx counts what fit in its ring).
            var (shares, secs) = Measure(seconds, [.. Enumerable.Range(0, n).Select(i => (Func<long>)(() => long.Parse(host.ReadHandler($"r{i}", "c.count").Trim(), Inv)))]);
            return Result("rx", n, size, shares.Sum(), shares, secs);
        }
        finally
        {
            // The generator holds the instances' ports: out of the switch before they are unmapped.
            sw.Remove("gen");
            Close(host, dir);
        }
    }

    /// <summary>A generator port → A:vif0, A:vif1 → B:vif0, B:vif1 → C:vif0, C:vif1 → null port, all static chains.</summary>
    private static Row Chain(string clickos, Isolation iso, int size, double seconds)
    {
        var host = NewHost(clickos, out string dir);
        var sw = host.Switch!;
        try
        {
            foreach (var name in new[] { "A", "B", "C" })
                host.Create(new InstanceSpec { Name = name, Isolation = iso, Config = "FromDevice(vif0, BURST 64) -> Queue(1024) -> ToDevice(vif1, BURST 64);" });
            var sink = new NullPort("out");
            var gen = new GeneratorPort("gen", [BuildFrame(SinkMac, "02:00:00:00:00:fd", size)], [null], sink, window: 4096);
            sw.Add(gen);
            sw.Add(sink);
            sw.Chain("gen", "A:vif0");
            sw.Chain("A:vif1", "B:vif0");
            sw.Chain("B:vif1", "C:vif0");
            sw.Chain("C:vif1", "out");
            var (g, secs) = Measure(seconds, () => sink.Counters.TxPackets);
            foreach (var p in sw.Ports)
                Console.Error.WriteLine($"  {p.Name}: rx {p.Counters.RxPackets} tx {p.Counters.TxPackets} drops {p.Counters.Drops}");
            foreach (var name in new[] { "A", "B", "C" })
                Console.Error.WriteLine($"  {name}: in {host.ReadHandler(name, "FromDevice@1.count").Trim()} out {host.ReadHandler(name, "ToDevice@3.count").Trim()} queue drops {host.ReadHandler(name, "Queue@2.drops").Trim()}");
            return Result("chain3", 3, size, g[0], g, secs);
        }
        finally
        {
            sw.Remove("gen");
            Close(host, dir);
        }
    }

    /// <summary>After a warm-up, each counter's growth over <paramref name="seconds"/> (and the seconds it really took).</summary>
    private static (long[] Growth, double Secs) Measure(double seconds, params Func<long>[] counters)
    {
        Thread.Sleep(500); // warm up: every generator running
        Console.Error.WriteLine($"  measuring {counters.Length} counter(s) for {seconds} s");
        var c0 = counters.Select(c => c()).ToArray();
        var t = Stopwatch.StartNew();
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        var c1 = counters.Select(c => c()).ToArray();
        return (c1.Zip(c0, (a, b) => a - b).ToArray(), t.Elapsed.TotalSeconds);
    }

    private static Row Result(string dir, int n, int size, long packets, long[] counts, double seconds)
    {
        double mpps = packets / seconds / 1e6;
        var shares = counts.Select(x => (double)x).ToArray();
        double sum = shares.Sum(), sq = shares.Sum(x => x * x);
        double jain = sq == 0 ? 0 : sum * sum / (shares.Length * sq);
        double mean = sum / shares.Length;
        return new Row(dir, n, size, mpps, mpps * size * 8 / 1000, jain, mean == 0 ? 0 : shares.Min() / mean, mean == 0 ? 0 : shares.Max() / mean);
    }

    /// <summary>An Ethernet/IPv4/UDP frame of <paramref name="size"/> bytes (at least 42), zero payload.</summary>
    internal static byte[] BuildFrame(string dst, string src, int size)
    {
        var f = new byte[size];
        Convert.FromHexString(Hex(dst)).CopyTo(f, 0);
        Convert.FromHexString(Hex(src)).CopyTo(f, 6);
        Convert.FromHexString("0800" + "45000032000000004011f96ac0a80001c0a80002" + "04000050001e0000").CopyTo(f, 12);
        return f;
    }

    private static string Svg(List<Row> rows, int[] sizes, string title)
    {
        const int W = 760, H = 440, L = 70, R = 150, T = 40, B = 50;
        var ns = rows.Select(r => r.N).Distinct().OrderBy(x => x).ToArray();
        double ymax = Math.Max(1, rows.Max(r => r.Mpps)) * 1.1;
        double X(int n) => L + (ns.Length == 1 ? 0 : Math.Log2(n) / Math.Log2(ns[^1]) * (W - L - R));
        double Y(double v) => H - B - v / ymax * (H - T - B);
        string[] colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
        var s = new StringBuilder();
        s.Append(Inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        s.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        s.Append(Inv, $"<text x=\"{W / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">{System.Security.SecurityElement.Escape(title)}</text>\n");
        s.Append(Inv, $"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"black\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"black\"/>\n");
        foreach (int n in ns)
            s.Append(Inv, $"<text x=\"{X(n):0.0}\" y=\"{H - B + 16}\" text-anchor=\"middle\">{n}</text>\n");
        s.Append(Inv, $"<text x=\"{(L + W - R) / 2}\" y=\"{H - 12}\" text-anchor=\"middle\">instances (N)</text>\n");
        for (int k = 0; k <= 5; k++)
        {
            double v = ymax / 5 * k;
            s.Append(Inv, $"<text x=\"{L - 6}\" y=\"{Y(v) + 4:0.0}\" text-anchor=\"end\">{v:0.#}</text><line x1=\"{L}\" y1=\"{Y(v):0.0}\" x2=\"{W - R}\" y2=\"{Y(v):0.0}\" stroke=\"#ddd\"/>\n");
        }
        s.Append(Inv, $"<text x=\"18\" y=\"{(T + H - B) / 2}\" transform=\"rotate(-90 18 {(T + H - B) / 2})\" text-anchor=\"middle\">aggregate Mpps</text>\n");
        for (int i = 0; i < sizes.Length; i++)
        {
            var pts = rows.Where(r => r.Size == sizes[i]).OrderBy(r => r.N).ToList();
            if (pts.Count == 0) continue;
            string c = colors[i % colors.Length];
            s.Append(Inv, $"<polyline fill=\"none\" stroke=\"{c}\" stroke-width=\"2\" points=\"{string.Join(' ', pts.Select(p => string.Create(Inv, $"{X(p.N):0.0},{Y(p.Mpps):0.0}")))}\"/>\n");
            foreach (var p in pts) s.Append(Inv, $"<circle cx=\"{X(p.N):0.0}\" cy=\"{Y(p.Mpps):0.0}\" r=\"3\" fill=\"{c}\"/>\n");
            var last = pts[^1];
            s.Append(Inv, $"<text x=\"{W - R + 10}\" y=\"{T + 16 * i + 10}\" fill=\"{c}\">{sizes[i]} B: {last.Gbps:0.0} Gb/s at N={last.N}</text>\n");
        }
        s.Append("</svg>\n");
        return s.ToString();
    }
}

/// <summary>
/// A port that offers an endless stream of prebuilt frames (the receive and chain experiments'
/// source). Closed loop: a frame goes only when its destination port has room, so the source
/// measures what the instances take without loss instead of burning the switch's CPU on drops.
/// </summary>
sealed class GeneratorPort(string name, byte[][] frames, SwitchPort?[] destinations, SwitchPort? sink = null, int window = 0) : SwitchPort(name)
{
    private int _next;
    public override string Kind => "generator";
    public override int Poll(VSwitch sw, int max)
    {
        // With a sink and a window: at most WINDOW frames in flight between this port and the
        // sink (a chain measured without overload: its first hop does not spin on drops).
        if (sink != null) max = (int)Math.Min(max, Math.Max(0, window - (Counters.RxPackets - sink.Counters.TxPackets)));
        int sent = 0;
        for (int tries = 0; tries < max; tries++)
        {
            var to = destinations[_next] ?? ChainedTo;
            if (to == null || to.Room > 0)
            {
                sw.Forward(this, frames[_next]);
                sent++;
            }
            if (++_next == frames.Length) _next = 0;
        }
        return sent;
    }
    public override bool TrySend(ReadOnlySpan<byte> frame) => true;
    // Always has frames to offer (a NIC with a full receive ring): the switch must not sleep on it.
    public override bool PrepareSleep() => false;
}

/// <summary>A veth pair for the experiment's NIC output: the host side stays here, the peer lives in a private namespace.</summary>
sealed class VethSink : IDisposable
{
    public string HostSide => "fig6h";
    private const string Ns = "clickos-fig6";

    public static VethSink Create()
    {
        Sh($"ip netns del {Ns} 2>/dev/null; ip link del fig6h 2>/dev/null; ip netns add {Ns} && ip link add fig6h type veth peer name fig6p && ip link set fig6p netns {Ns} && ip link set fig6h up && ip -n {Ns} link set fig6p up");
        return new VethSink();
    }

    private static void Sh(string cmd)
    {
        using var p = Process.Start(new ProcessStartInfo("sh", ["-c", cmd]))!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{cmd}' failed (exit {p.ExitCode}); the veth output needs root");
    }

    public void Dispose() => Sh($"ip link del fig6h 2>/dev/null; ip netns del {Ns}");
}
