namespace ClickOS.Control.Tests;

/// <summary>
/// The "config" write handler and Click's keyword handlers on a running router, over the
/// control socket: arguments change, state stays.
/// </summary>
public sealed class LiveReconfigureTests
{

    private static ControlClient Client(LiveRouter live) => ControlClient.ConnectTcp("127.0.0.1", live.Port(), TimeSpan.FromSeconds(10));

    private static void Ok(ControlResponse r) => Assert.True(r.Ok, r.ToString());

    [Fact]
    public void QueueCapacityKeepsPackets()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0); RatedSource(RATE 2000) -> q :: Queue(50) -> u :: RatedUnqueue(RATE 10) -> Discard;");
        LiveRouter.WaitFor(() => live.ReadLong("q.length") == 50, "a full queue");
        using var c = Client(live);
        Ok(c.Write("q.config", "400"));
        Assert.Equal("400", c.Read("q.capacity").DataText);
        Assert.Equal("400", c.Read("q.config").DataText);
        LiveRouter.WaitFor(() => live.ReadLong("q.length") > 50, "the queue to grow into its new capacity");
        // Click's keyword handler does the same.
        Ok(c.Write("q.capacity", "1000"));
        Assert.Equal("1000", c.Read("q.capacity").DataText);
        // A bad value changes nothing.
        var bad = c.Write("q.config", "banana");
        Assert.Equal(ControlCode.HandlerError, bad.Code);
        Assert.Equal("1000", c.Read("q.capacity").DataText);
    }

    [Fact]
    public void RatesChange()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0); RatedSource(RATE 5000) -> Queue(10000) -> u :: RatedUnqueue(RATE 100) -> c :: Counter -> Discard;");
        using var c = Client(live);
        Ok(c.Write("u.config", "RATE 4000"));
        Assert.Equal("4000", c.Read("u.rate").DataText);
        long c0 = live.ReadLong("c.count");
        Thread.Sleep(300);
        // At 100/s this would be about 30 packets; at 4000/s, hundreds.
        Assert.True(live.ReadLong("c.count") - c0 > 300, "the new rate did not apply");
    }

    [Fact]
    public void IPFilterRulesChange()
    {
        // UDP to port 53: the filter first sends it to output 0, then to output 1.
        const string udp = @"\<45000020 00000000 401160bd 0a000001 08080808 9c400035 000c0000 00000000>";
        using var live = new LiveRouter($"cs :: ControlSocket(TCP, 0); RatedSource(DATA {udp}, RATE 2000) -> CheckIPHeader -> f :: IPFilter(0 udp port 53, 1 all) -> ok :: Counter -> Discard; f[1] -> no :: Counter -> Discard;");
        LiveRouter.WaitFor(() => live.ReadLong("ok.count") > 5, "allowed traffic");
        using var c = Client(live);
        Ok(c.Write("f.config", "1 udp port 53, 0 all"));
        long ok0 = live.ReadLong("ok.count");
        LiveRouter.WaitFor(() => live.ReadLong("no.count") > 5, "denied traffic");
        Assert.True(live.ReadLong("ok.count") <= ok0 + 1);
        var bad = c.Write("f.config", "allow nonsense here");
        Assert.Equal(ControlCode.HandlerError, bad.Code);
        Assert.Equal("1 udp port 53, 0 all", c.Read("f.config").DataText);
    }

    [Fact]
    public void RoutingTableConfigKeepsHandlerRoutes()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0); Idle -> rt :: RadixIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1) -> Discard; rt[1] -> Discard; rt[2] -> Discard;");
        using var c = Client(live);
        Ok(c.Write("rt.add", "192.168.0.0/16 2"));
        Ok(c.Write("rt.config", "10.0.0.0/8 1, 172.16.0.0/12 2"));
        Assert.Equal("1", c.Read("rt.lookup", "10.1.2.3").DataText);
        Assert.Equal("2", c.Read("rt.lookup", "172.16.0.1").DataText);
        Assert.Equal("-1", c.Read("rt.lookup", "8.8.8.8").DataText);       // the default route is gone
        Assert.Equal("2", c.Read("rt.lookup", "192.168.1.1").DataText);    // the handler's route stays
        var bad = c.Write("rt.config", "10.0.0.0/8 9");
        Assert.Equal(ControlCode.HandlerError, bad.Code);
        Assert.Equal("1", c.Read("rt.lookup", "10.1.2.3").DataText);
    }

    [Fact]
    public void RewriterPatternsChangeForNewFlowsOnly()
    {
        using var live = new LiveRouter("""
            cs :: ControlSocket(TCP, 0);
            src :: FastUDPFlows(RATE 2000, LIMIT -1, LENGTH 60, SRCETH 0:0:0:0:0:1, SRCIP 10.0.0.1,
                                DSTETH 0:0:0:0:0:2, DSTIP 1.0.0.1, FLOWS 10, FLOWSIZE 1000000000)
              -> Unqueue -> Strip(14) -> CheckIPHeader -> rw :: IPRewriter(pattern 192.168.0.1 1024-65535 - - 0 1) -> Discard;
            rw[1] -> Discard;
            """, allowHotConfig: false);
        LiveRouter.WaitFor(() => live.ReadLong("rw.nmappings") == 10, "mappings");
        using var c = Client(live);
        string before = c.Read("rw.patterns").DataText;
        Assert.StartsWith("192.168.0.1 1024-65535 - - [10]", before);
        Ok(c.Write("rw.config", "pattern 192.168.0.9 2000-3000 - - 0 1"));
        Assert.StartsWith("192.168.0.9 2000-3000 - - [0]", c.Read("rw.patterns").DataText);
        // Existing mappings keep their addresses and ports.
        Assert.Equal("10", c.Read("rw.nmappings").DataText);
        Assert.Equal(10, c.Read("rw.table").DataText.Split('\n').Count(l => l.Contains("=> (192.168.0.1, ")));
        var bad = c.Write("rw.config", "pattern 192.168.0.9 2000-3000 - - 0 7");
        Assert.Equal(ControlCode.HandlerError, bad.Code);
        Assert.StartsWith("192.168.0.9", c.Read("rw.patterns").DataText);
    }
}
