using ClickOS.Core;
using ClickOS.Tests;

namespace ClickOS.Elements.Tests;

public sealed class RoutingTests
{
    private const string Outputs = "rt[0], rt[1], rt[2], rt[3] -> Discard;";

    [Theory]
    [InlineData("LinearIPLookup")]
    [InlineData("StaticIPLookup")]
    [InlineData("RadixIPLookup")]
    [InlineData("DirectIPLookup")]
    public void LongestPrefixWinsAndGatewayIsReported(string cls)
    {
        using var t = TestRouter.Start($"Idle -> rt :: {cls}(10.0.0.0/8 0, 10.1.0.0/16 10.1.0.1 1, 10.1.2.0/24 2, 0.0.0.0/0 192.0.2.1 3); {Outputs}");
        var h = t.Router!.FindHandler("rt.lookup", null, out _, t.Errors)!;
        Assert.Equal("2", h.CallRead("10.1.2.3", t.Errors));
        Assert.Equal("1 10.1.0.1", h.CallRead("10.1.9.9", t.Errors));
        Assert.Equal("0", h.CallRead("10.200.0.1", t.Errors));
        Assert.Equal("3 192.0.2.1", h.CallRead("8.8.8.8", t.Errors));
        Assert.Equal("10.0.0.0/8\t\t-\t\t0\n10.1.0.0/16\t\t10.1.0.1\t1\n10.1.2.0/24\t\t-\t\t2\n0.0.0.0/0\t\t192.0.2.1\t3\n", t.Read("rt.table"));
    }

    [Fact]
    public void DirectIPLookupRefusesNonContiguousMasksEverywhere()
    {
        // In the configuration, through add/set and through the config handler: DIR-24-8 cannot
        // hold such a route, so accepting it would list a route that never matches.
        var bad = new TestRouter($"Idle -> rt :: DirectIPLookup(10.0.0.0/255.0.255.0 0); {Outputs}");
        Assert.Null(bad.Router);
        Assert.Contains("route '10.0.0.0/255.0.255.0 0': DirectIPLookup needs a prefix length (contiguous mask)", bad.Errors.Text);
        using var t = TestRouter.Start($"Idle -> rt :: DirectIPLookup(10.0.0.0/8 0); {Outputs}");
        Assert.False(t.Write("rt.add", "11.0.0.0/255.0.255.0 1"));
        Assert.False(t.Write("rt.config", "10.0.0.0/8 0, 11.0.0.0/255.0.255.0 1"));
        Assert.Contains("DirectIPLookup needs a prefix length (contiguous mask)", t.Errors.Text);
        Assert.Equal("10.0.0.0/8\t\t-\t\t0\n", t.Read("rt.table"));
        // A contiguous configuration is accepted by the same handler.
        Assert.True(t.Write("rt.config", "11.0.0.0/8 1"));
        Assert.Equal("1", t.Router!.FindHandler("rt.lookup", null, out _, t.Errors)!.CallRead("11.2.3.4", t.Errors));
    }

    [Fact]
    public void StaticIPLookupHasNoWriteHandlers()
    {
        using var t = TestRouter.Start($"Idle -> rt :: StaticIPLookup(0.0.0.0/0 0); rt[0] -> Discard;");
        Assert.Null(t.Router!["rt"]!.FindLocalHandler("add"));
    }

    [Theory]
    [InlineData("LinearIPLookup")]
    [InlineData("RadixIPLookup")]
    [InlineData("DirectIPLookup")]
    public void HandlersAddSetRemoveAndReportErrors(string cls)
    {
        using var t = TestRouter.Start($"Idle -> rt :: {cls}(10.0.0.0/8 0); {Outputs}");
        Assert.True(t.Write("rt.add", "10.1.0.0/16 10.9.9.9 1"));
        Assert.False(t.Write("rt.add", "10.1.0.0/16 2"));
        Assert.True(t.Write("rt.set", "10.1.0.0/16 2"));
        var h = t.Router!.FindHandler("rt.lookup", null, out _, t.Errors)!;
        Assert.Equal("2", h.CallRead("10.1.0.5", t.Errors));
        Assert.True(t.Write("rt.remove", "10.1.0.0/16"));
        Assert.Equal("0", h.CallRead("10.1.0.5", t.Errors));
        Assert.False(t.Write("rt.remove", "10.1.0.0/16"));
        Assert.False(t.Write("rt.add", "10.2.0.0/16 9"));
        Assert.False(t.Write("rt.add", "garbage"));
        Assert.True(t.Write("rt.ctrl", "add 10.3.0.0/16 1\nadd 10.4.0.0/16 2\nremove 10.3.0.0/16"));
        Assert.Equal("2", h.CallRead("10.4.1.1", t.Errors));
        Assert.Equal("0", h.CallRead("10.3.1.1", t.Errors));
    }

    [Fact]
    public void PacketsGoToTheRouteOutputWithGatewayAnnotation()
    {
        using var t = TestRouter.Start("""
            src :: InfiniteSource(LIMIT 1, STOP true) -> rt :: RadixIPLookup(0.0.0.0/0 10.0.0.1 1, 10.0.0.0/8 0);
            rt[0] -> a :: Counter -> Discard; rt[1] -> b :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(0, t.ReadLong("a.count"));
        Assert.Equal(1, t.ReadLong("b.count"));
    }

    /// <summary>Random tables with additions and removals: every engine agrees with a brute-force reference.</summary>
    [Fact]
    public void EnginesAgreeWithReferenceOnRandomTables()
    {
        var rng = new Random(1234);
        using var t = TestRouter.Start($"Idle -> l :: LinearIPLookup -> Discard; Idle -> r :: RadixIPLookup -> Discard; Idle -> d :: DirectIPLookup -> Discard;");
        var engines = new[] { "l", "r", "d" }.Select(n => (IPRouteTable)t.Router![n]!).ToArray();
        var reference = new Dictionary<(uint, uint), IPRoute>();
        var errh = new CollectingErrorHandler();
        for (int step = 0; step < 3000; step++)
        {
            int len = rng.Next(0, 33);
            uint mask = len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);
            // Cluster addresses so prefixes overlap often.
            uint addr = (uint)(0x0A000000 | rng.Next(0, 1 << 18) << 6) & mask;
            var route = new IPRoute(addr, mask, (uint)rng.Next(0, 3), 0);
            if (rng.Next(4) == 0 && reference.Count > 0)
            {
                var victim = reference.Values.ElementAt(rng.Next(reference.Count));
                reference.Remove((victim.Addr, victim.Mask));
                foreach (var e in engines) Assert.True(e.RemoveRoute(victim with { Port = -1 }, errh), errh.Text);
            }
            else
            {
                reference[(addr, mask)] = route;
                foreach (var e in engines) e.AddRoute(route, replace: true, errh);
            }
            for (int q = 0; q < 20; q++)
            {
                uint dst = (uint)(0x0A000000 | rng.Next(0, 1 << 24));
                var best = reference.Values.Where(r => r.Contains(dst)).OrderByDescending(r => System.Numerics.BitOperations.PopCount(r.Mask)).FirstOrDefault();
                bool found = reference.Values.Any(r => r.Contains(dst));
                foreach (var e in engines)
                {
                    int port = e.Lookup(dst, out uint gw);
                    Assert.True((found ? 0 : -1) == port, $"{e.ClassName}: port {port} for {dst:x8} at step {step}");
                    if (found) Assert.True(best.Gw == gw, $"{e.ClassName}: gw {gw} for {dst:x8} at step {step}, expected {best.Gw} from {best.AddrText}");
                }
            }
        }
    }
}
