// Consolidation benchmark: creates N instances of a 10-element firewall on one host, then
// reports create-to-forwarding latency (p50/p99), memory per instance (PSS), host memory and
// the time to destroy them all.
//   dotnet run -c Release --project bench/Consolidation -- --clickos .dist/clickos [--process 1,10,100,1000] [--shared 1,10,100,1000,10000] [--latencies DIR]
using System.Diagnostics;
using System.Globalization;
using ClickOS.Host;

string clickos = Path.GetFullPath(".dist/clickos");
int[] processNs = [1, 10, 100, 1000], sharedNs = [1, 10, 100, 1000, 10000];
string? latencyDir = null;
if (args.Contains("--figure6"))
{
    int at = Array.IndexOf(args, "--clickos");
    return Figure6.Run(at >= 0 ? Path.GetFullPath(args[at + 1]) : clickos, args);
}
for (int i = 0; i + 1 < args.Length; i += 2)
{
    if (args[i] == "--clickos") clickos = Path.GetFullPath(args[i + 1]);
    else if (args[i] == "--process") processNs = Parse(args[i + 1]);
    else if (args[i] == "--shared") sharedNs = Parse(args[i + 1]);
    else if (args[i] == "--latencies") latencyDir = Path.GetFullPath(args[i + 1]);
}
static int[] Parse(string s) => s.Length == 0 ? [] : s.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();

const string Firewall = """
    src :: RatedSource(\<45000028000000004006f97cc0a80001c0a800020400005000000000000000005002200000000000>, RATE 10)
    -> EtherEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02)
    -> cl :: Classifier(12/0800, -)
    -> Strip(14)
    -> CheckIPHeader
    -> IPFilter(allow tcp dst port 80, deny all)
    -> DecIPTTL
    -> Unstrip(14)
    -> c :: Counter
    -> Discard;
    cl[1] -> Discard;
    """;

Console.WriteLine($"clickos: {clickos}; {Environment.ProcessorCount} cores");
Console.WriteLine("| isolation | N | create→forwarding p50 | p99 | PSS per instance | host memory (PSS) | destroy all |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (int n in processNs) Run(Isolation.Process, n);
foreach (int n in sharedNs) Run(Isolation.Shared, n);
return 0;

void Run(Isolation iso, int n)
{
    string dir = Directory.CreateTempSubdirectory("clickos-consolidation-").FullName;
    var host = new HostDaemon(new HostOptions { Directory = dir, ClickosPath = clickos, MaxInstances = 20000, MaxProcessInstances = 2000, UseCgroups = false });
    host.Start();
    long workerBase = 0;
    if (iso == Isolation.Shared)
    {
        // The empty worker's own memory is the host's, not the instances'.
        host.Create(new InstanceSpec { Name = "warmup", Config = Firewall, Isolation = iso });
        host.Destroy("warmup");
        workerBase = ProcStats.Pss(host.WorkerPid!.Value) ?? 0;
    }
    var lat = new List<double>(n);
    for (int i = 0; i < n; i++)
    {
        var inst = host.Create(new InstanceSpec { Name = $"fw{i}", Config = Firewall, Isolation = iso });
        lat.Add(inst.StartLatency!.Value.TotalMilliseconds);
    }
    Thread.Sleep(1500);   // let every instance forward a few packets
    // Every instance is forwarding: check a sample of counters.
    var rng = new Random(42);
    for (int k = 0; k < Math.Min(n, 20); k++)
    {
        string name = $"fw{rng.Next(n)}";
        long c = long.Parse(host.ReadHandler(name, "c.count").Trim(), CultureInfo.InvariantCulture);
        if (c <= 0) throw new InvalidOperationException($"{name} is not forwarding");
    }
    long instPss;
    if (iso == Isolation.Process) instPss = host.List().Sum(i => ProcStats.Pss(i.Pid) ?? 0);
    else instPss = (ProcStats.Pss(host.WorkerPid!.Value) ?? 0) - workerBase;
    long hostPss = ProcStats.Pss(Environment.ProcessId) ?? 0;
    if (iso == Isolation.Shared) hostPss += workerBase;
    var sw = Stopwatch.StartNew();
    System.Threading.Tasks.Parallel.ForEach(host.List(), new System.Threading.Tasks.ParallelOptions { MaxDegreeOfParallelism = 8 }, i => host.Destroy(i.Name));
    sw.Stop();
    host.Shutdown(stopInstances: true);
    Directory.Delete(dir, recursive: true);
    // In creation order, to see whether latency grows with the number of live instances.
    if (latencyDir != null)
    {
        Directory.CreateDirectory(latencyDir);
        File.WriteAllLines(Path.Combine(latencyDir, $"{(iso == Isolation.Process ? "process" : "shared")}-{n}.txt"), lat.Select(x => x.ToString("0.000", CultureInfo.InvariantCulture)));
    }
    lat.Sort();
    double P(double q) => lat[Math.Min(lat.Count - 1, (int)(q * lat.Count))];
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {(iso == Isolation.Process ? "process" : "shared")} | {n} | {P(0.5):0.00} ms | {P(0.99):0.00} ms | {instPss / n / 1024.0:0} KB | {hostPss / 1048576.0:0.0} MB | {sw.Elapsed.TotalMilliseconds:0} ms |"));
}
