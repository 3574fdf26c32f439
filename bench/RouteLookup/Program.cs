// Route-table benchmark: builds a BGP-like table of N routes (default 500,000) in each lookup
// element and measures insertion time and lookups per second over random destinations.
//   dotnet run -c Release --project bench/RouteLookup [-- N]
using System.Diagnostics;
using ClickOS.Core;
using ClickOS.Elements;

int n = args.Length > 0 ? int.Parse(args[0]) : 500_000;
var rng = new Random(42);
var routes = new List<IPRoute>(n);
var seen = new HashSet<(uint, uint)>();
while (routes.Count < n)
{
    // Mostly /24s, some shorter and some longer prefixes, like a full BGP table.
    int r = rng.Next(100);
    int len = r < 55 ? 24 : r < 85 ? rng.Next(16, 24) : r < 97 ? rng.Next(8, 16) : rng.Next(25, 33);
    uint mask = 0xFFFFFFFFu << (32 - len);
    uint addr = (uint)rng.NextInt64(0x01000000, 0xE0000000) & mask;
    if (seen.Add((addr, mask)))
        routes.Add(new IPRoute(addr, mask, (uint)rng.Next(1, 64), rng.Next(0, 8)));
}
var dsts = new uint[1 << 20];
for (int i = 0; i < dsts.Length; i++) dsts[i] = (uint)rng.NextInt64(0x01000000, 0xE0000000);

foreach (var table in new IPRouteTable[] { new DirectIPLookup(), new RadixIPLookup() })
{
    var errh = new CollectingErrorHandler();
    var sw = Stopwatch.StartNew();
    foreach (var route in routes) table.AddRoute(route, replace: false, errh);
    double load = sw.Elapsed.TotalSeconds;
    long sink = 0;
    for (int i = 0; i < dsts.Length; i++) sink += table.Lookup(dsts[i], out _); // warm up
    int rounds = 8;
    sw.Restart();
    for (int k = 0; k < rounds; k++)
        for (int i = 0; i < dsts.Length; i++)
            sink += table.Lookup(dsts[i], out _);
    double secs = sw.Elapsed.TotalSeconds;
    Console.WriteLine($"{table.GetType().Name,-15} {n} routes: insert {load:F2} s, {rounds * (double)dsts.Length / secs / 1e6:F1} M lookups/s (checksum {sink})");
}
