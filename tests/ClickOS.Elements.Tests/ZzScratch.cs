using System.Diagnostics;
using ClickOS.Core;
namespace ClickOS.Elements.Tests;
public sealed class ZzScratch(Xunit.Abstractions.ITestOutputHelper o)
{
    [Fact]
    public void Debug()
    {
        foreach (int n in new[] { 10, 100, 1000, 3000, 10000 })
        {
            var rules = new List<string>();
            for (int i = 0; i < n; i++) rules.Add($"{i % 3} src host 10.{i / 250}.{i % 250}.1 and dst tcp port {1000 + i}");
            rules.Add("drop all");
            var sw = Stopwatch.StartNew();
            var errh = new CollectingErrorHandler();
            var tree = IPFilterCompiler.Compile(rules, 3, false, null, errh)!;
            o.WriteLine($"host+port {n}: {sw.ElapsedMilliseconds} ms, {tree.NodeCount} nodes");
            rules.Clear();
            for (int i = 0; i < n; i++) rules.Add($"{i % 3} tcp port {1000 + i} or udp dst port {1000+i}");
            sw.Restart();
            tree = IPFilterCompiler.Compile(rules, 3, false, null, errh)!;
            o.WriteLine($"ports {n}: {sw.ElapsedMilliseconds} ms, {tree.NodeCount} nodes");
            rules.Clear();
            for (int i = 0; i < n; i++) rules.Add($"{i % 3} src net 10.{i / 250}.{i % 250}.0/24 and (dst port {i} or ip ttl < {i % 200 + 1}) and not icmp");
            sw.Restart();
            tree = IPFilterCompiler.Compile(rules, 3, false, null, errh)!;
            o.WriteLine($"mixed {n}: {sw.ElapsedMilliseconds} ms, {tree.NodeCount} nodes");
        }
    }
}
