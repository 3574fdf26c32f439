using System.Text.RegularExpressions;

namespace ClickOS.Cli.Tests.Network;

/// <summary>
/// Real Linux hosts (network namespaces) talking through clickos on veth pairs: the bundled
/// live bridge, router and firewall examples, and KernelTun/KernelTap. Needs root; skipped
/// with the reason otherwise.
/// </summary>
[Collection("network")]
public sealed class LiveNetworkTests
{
    private static string Example(string name) => Path.Combine(ClickRunner.RepoRoot, "examples", "live", name);

    /// <summary>h1:eth0 — mid:p0 | mid:p1 — h2:eth0, hosts on one subnet.</summary>
    private static (string H1, string Mid, string H2) TwoHostsOneWire(NetworkLab lab, string subnet)
    {
        string h1 = lab.Namespace("h1"), mid = lab.Namespace("m"), h2 = lab.Namespace("h2");
        lab.Veth(h1, "eth0", mid, "p0");
        lab.Veth(h2, "eth0", mid, "p1");
        NetworkLab.NoOffloads(h1, "eth0");
        NetworkLab.NoOffloads(h2, "eth0");
        lab.Address(h1, "eth0", $"{subnet}.1/24");
        lab.Address(h2, "eth0", $"{subnet}.2/24");
        return (h1, mid, h2);
    }

    internal static void AssertPings(string ns, string target, string? ttl = null)
    {
        NetworkLab.Exec(ns, $"ping -c 1 -W 3 {target}"); // warm-up: ARP on every hop
        var (exit, output) = NetworkLab.Exec(ns, $"ping -c 3 -i 0.2 -W 2 {target}");
        Assert.True(exit == 0, output);
        Assert.Contains("3 received", output);
        if (ttl != null) Assert.Contains($"ttl={ttl}", output);
    }

    /// <summary>Serves a seeded 1 MiB file over HTTP on each port, from the namespace.</summary>
    private static byte[] Serve(NetworkLab lab, string ns, string addr, string dir, params int[] ports)
    {
        var blob = new byte[1 << 20];
        new Random(42).NextBytes(blob);
        File.WriteAllBytes(Path.Combine(dir, "blob"), blob);
        foreach (int port in ports)
        {
            var server = lab.Start(ns, ["python3", "-u", "-m", "http.server", port.ToString(), "--bind", addr, "--directory", dir]);
            Assert.True(server.WaitForLine("Serving HTTP", 15_000), server.Errors);
        }
        return blob;
    }

    private static (int Exit, byte[]? Body) Fetch(string ns, string url, string dir, int maxSeconds = 10)
    {
        string outFile = Path.Combine(dir, $"got-{Guid.NewGuid():N}");
        var (exit, _) = NetworkLab.Exec(ns, $"curl -s --max-time {maxSeconds} -o {outFile} {url}", (maxSeconds + 5) * 1000);
        return (exit, File.Exists(outFile) ? File.ReadAllBytes(outFile) : null);
    }

    internal static long Handler(string output, string name)
    {
        var m = Regex.Match(output, $@"{Regex.Escape(name)}:\s*\n(\d+)");
        Assert.True(m.Success, $"no {name} in:\n{output}");
        return long.Parse(m.Groups[1].Value);
    }

    [NetworkFact("ping", "curl", "python3", "ethtool")]
    public void BridgeCarriesPingAndTcpBetweenRealHosts() => Bridge("LINUX", "10.77.1");

    [NetworkFact("ping", "curl", "python3", "ethtool")]
    public void BridgeSendingThroughAfXdpCarriesPingAndTcpBetweenRealHosts() => Bridge("XDP", "10.77.7");

    private static void Bridge(string method, string subnet)
    {
        using var lab = new NetworkLab();
        var (h1, mid, h2) = TwoHostsOneWire(lab, subnet);
        var click = lab.StartClick(mid, Example("bridge.click"), "A=p0", "B=p1", $"METHOD={method}", "-h", "ab.count", "-h", "ba.count");
        AssertPings(h1, $"{subnet}.2");
        string dir = ClickRunner.TempDir("bridge");
        var blob = Serve(lab, h2, $"{subnet}.2", dir, 8080);
        var (exit, body) = Fetch(h1, $"http://{subnet}.2:8080/blob", dir);
        Assert.Equal(0, exit);
        Assert.Equal(blob, body);
        Assert.Equal(0, click.Stop());
        // A 1 MiB transfer is hundreds of frames each way.
        Assert.True(Handler(click.Output, "ab.count") > 100, click.Output);
        Assert.True(Handler(click.Output, "ba.count") > 500, click.Output);
    }

    [NetworkFact("ping", "curl", "python3", "ethtool")]
    public void FirewallBlocksOneTcpPortAndPassesAnother()
    {
        using var lab = new NetworkLab();
        var (h1, mid, h2) = TwoHostsOneWire(lab, "10.77.2");
        var click = lab.StartClick(mid, Example("firewall.click"), "CLIENT=p0", "SERVER=p1", "BLOCKED=9090",
            "-h", "passed.count", "-h", "denied.count");
        string dir = ClickRunner.TempDir("firewall");
        var blob = Serve(lab, h2, "10.77.2.2", dir, 8080, 9090);
        AssertPings(h1, "10.77.2.2");
        var (okExit, okBody) = Fetch(h1, "http://10.77.2.2:8080/blob", dir);
        Assert.Equal(0, okExit);
        Assert.Equal(blob, okBody);
        var (blockedExit, _) = Fetch(h1, "http://10.77.2.2:9090/blob", dir, maxSeconds: 2);
        Assert.Equal(28, blockedExit); // curl: operation timed out (the SYNs vanish)
        Assert.Equal(0, click.Stop());
        Assert.True(Handler(click.Output, "denied.count") >= 1, click.Output);
        Assert.True(Handler(click.Output, "passed.count") > 100, click.Output);
    }

    [NetworkFact("ping", "curl", "python3", "ethtool")]
    public void StatefulFirewallLetsTheClientInitiateButNotTheServer()
    {
        using var lab = new NetworkLab();
        var (h1, mid, h2) = TwoHostsOneWire(lab, "10.77.3");
        var click = lab.StartClick(mid, Example("stateful-firewall.click"), "CLIENT=p0", "SERVER=p1",
            "-h", "outbound.count", "-h", "inbound.count", "-h", "denied.count");
        string dir = ClickRunner.TempDir("stateful");
        var blob = Serve(lab, h2, "10.77.3.2", dir, 8080);
        Serve(lab, h1, "10.77.3.1", dir, 8081);
        AssertPings(h1, "10.77.3.2");
        var (okExit, okBody) = Fetch(h1, "http://10.77.3.2:8080/blob", dir);
        Assert.Equal(0, okExit);
        Assert.Equal(blob, okBody);
        // The server side may not open a connection to the client.
        var (blockedExit, _) = Fetch(h2, "http://10.77.3.1:8081/blob", dir, maxSeconds: 2);
        Assert.Equal(28, blockedExit);
        Assert.Equal(0, click.Stop());
        Assert.True(Handler(click.Output, "denied.count") >= 1, click.Output);
        Assert.True(Handler(click.Output, "inbound.count") > 100, click.Output);
    }

    [NetworkFact("ping", "curl", "python3", "ethtool")]
    public void RouterForwardsBetweenTwoSubnetsAndAnswersPings()
    {
        using var lab = new NetworkLab();
        string h1 = lab.Namespace("h1"), r = lab.Namespace("r"), h2 = lab.Namespace("h2");
        lab.Veth(h1, "eth0", r, "r0", macB: "02:00:00:00:00:01");
        lab.Veth(h2, "eth0", r, "r1", macB: "02:00:00:00:00:02");
        NetworkLab.NoOffloads(h1, "eth0");
        NetworkLab.NoOffloads(h2, "eth0");
        lab.Address(h1, "eth0", "10.0.0.2/8");
        lab.DefaultRoute(h1, "10.0.0.1");
        lab.Address(h2, "eth0", "192.168.0.2/16");
        lab.DefaultRoute(h2, "192.168.0.1");
        var click = lab.StartClick(r, Example("router.click"), "DEV0=r0", "DEV1=r1", "-h", "pings.count", "-h", "tx1.count");
        AssertPings(h1, "10.0.0.1");                  // the router itself
        AssertPings(h1, "192.168.0.2", ttl: "63");    // across it: one hop, TTL decremented
        string dir = ClickRunner.TempDir("router");
        var blob = Serve(lab, h2, "192.168.0.2", dir, 8080);
        var (exit, body) = Fetch(h1, "http://192.168.0.2:8080/blob", dir);
        Assert.Equal(0, exit);
        Assert.Equal(blob, body);
        Assert.Equal(0, click.Stop());
        Assert.True(Handler(click.Output, "pings.count") >= 4, click.Output);
        Assert.True(Handler(click.Output, "tx1.count") > 100, click.Output);
    }

    private static long CpuTicks(int pid)
    {
        // Fields 14 and 15 of /proc/PID/stat: user and system time, in clock ticks (1/100 s).
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(f[11]) + long.Parse(f[12]);
    }

    [NetworkFact]
    public void IdleInterfacesCostNoCpu()
    {
        using var lab = new NetworkLab();
        string ns = lab.Namespace("idle");
        lab.Veth(ns, "p0", ns, "p1");
        var click = lab.StartClick(ns, Example("bridge.click"), "A=p0", "B=p1");
        Thread.Sleep(300); // let start-up work (JIT, first timers) finish
        long before = CpuTicks(click.Id);
        Thread.Sleep(3000);
        long used = CpuTicks(click.Id) - before;
        // Two FromDevice and two pull-mode ToDevice elements, all asleep: at most a few ticks
        // of poll() wake-ups in three seconds (a spinning core would use 300).
        Assert.True(used <= 5, $"idle bridge used {used} ticks of CPU in 3 s");
        Assert.Equal(0, click.Stop());
    }

    [NetworkFact("ping")]
    public void KernelTunExchangesIpPacketsWithTheHostStack()
    {
        using var lab = new NetworkLab();
        string ns = lab.Namespace("t");
        string cfg = Path.Combine(ClickRunner.TempDir("tun"), "tun.click");
        File.WriteAllText(cfg, """
            tun :: KernelTun(10.78.0.1/24, DEVNAME ctun0) -> c :: Counter -> ICMPPingResponder -> tun;
            Script(print "ready");
            """);
        var click = lab.StartClick(ns, cfg, "-h", "c.count", "-h", "tun.dev_name");
        Assert.Contains("10.78.0.1/24", NetworkLab.Exec(ns, "ip addr show ctun0").Out);
        AssertPings(ns, "10.78.0.2");
        Assert.Equal(0, click.Stop());
        Assert.True(Handler(click.Output, "c.count") >= 4, click.Output);
        Assert.Contains("ctun0", click.Output);
        // The interface goes away with the router.
        Assert.NotEqual(0, NetworkLab.Exec(ns, "ip link show ctun0").Exit);
    }

    [NetworkFact("ping")]
    public void KernelTapAnswersArpAndPingsAsAnEthernetNeighbour()
    {
        using var lab = new NetworkLab();
        string ns = lab.Namespace("t");
        string cfg = Path.Combine(ClickRunner.TempDir("tap"), "tap.click");
        File.WriteAllText(cfg, """
            tap :: KernelTap(10.78.1.1/24, DEVNAME ctap0, ETHER 02:00:00:00:01:01)
              -> cl :: Classifier(12/0806 20/0001, 12/0800, -);
            cl[0] -> ARPResponder(10.78.1.2 02:00:00:00:01:02) -> tap;
            cl[1] -> Strip(14) -> CheckIPHeader -> ICMPPingResponder -> Unstrip(14) -> EtherMirror -> pongs :: Counter -> tap;
            cl[2] -> Discard;
            Script(print "ready");
            """);
        var click = lab.StartClick(ns, cfg, "-h", "pongs.count", "-h", "tap.dev_name");
        Assert.Contains("02:00:00:00:01:01", NetworkLab.Exec(ns, "ip link show ctap0").Out);
        AssertPings(ns, "10.78.1.2");
        Assert.Equal(0, click.Stop());
        Assert.True(Handler(click.Output, "pongs.count") >= 4, click.Output);
    }
}
