using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ClickOS.Cli.Tests.Network;

/// <summary>
/// The backplane end to end: a `clickos host` in its own namespace, whose switch has NIC ports
/// on two veths (a client's and a server's), and three instances chained through it,
/// firewall → NAT → load balancer, carrying real TCP connections. Everything is driven through
/// the CLI (`clickos switch`, `clickos instance`). Needs root; skipped with the reason otherwise.
/// </summary>
[Collection("network")]
public sealed class ServiceChainTests
{
    private const string ClientMac = "02:00:00:00:10:02", ServerMac = "02:00:00:00:20:02";
    private const string ClientGwMac = "02:00:00:00:00:01", ServerGwMac = "02:00:00:00:00:02";

    // vif0 faces the client, vif1 the servers. Only TCP to port 80 goes through.
    private const string Firewall = """
        FromDevice(vif0) -> c :: Classifier(12/0800, -);
        c[0] -> Strip(14) -> CheckIPHeader -> f :: IPFilter(allow tcp dst port 80, deny all) -> Unstrip(14) -> ToDevice(vif1);
        c[1] -> Discard;
        FromDevice(vif1) -> ToDevice(vif0);
        """;

    // Source NAT: clients appear as 10.2.0.1, ports 20000-29999.
    private const string Nat = """
        rw :: IPRewriter(pattern 10.2.0.1 20000-29999 - - 0 1, drop);
        FromDevice(vif0) -> Classifier(12/0800) -> Strip(14) -> CheckIPHeader -> [0]rw;
        FromDevice(vif1) -> Classifier(12/0800) -> Strip(14) -> CheckIPHeader -> [1]rw;
        rw[0] -> Unstrip(14) -> ToDevice(vif1);
        rw[1] -> Unstrip(14) -> ToDevice(vif0);
        """;

    // The virtual service 10.9.9.9:80, spread round robin over two backends.
    private const string LoadBalancer = $"""
        rr :: RoundRobinIPMapper(- - 10.2.0.2 8080 0 1, - - 10.2.0.2 8081 0 1);
        rw :: IPRewriter(rr, drop);
        FromDevice(vif0) -> Classifier(12/0800) -> Strip(14) -> CheckIPHeader -> [0]rw;
        FromDevice(vif1) -> Classifier(12/0800) -> Strip(14) -> CheckIPHeader -> [1]rw;
        rw[0] -> Unstrip(14) -> EtherRewrite({ServerGwMac}, {ServerMac}) -> ToDevice(vif1);
        rw[1] -> Unstrip(14) -> EtherRewrite({ClientGwMac}, {ClientMac}) -> ToDevice(vif0);
        """;

    /// <summary>Runs `clickos host` inside namespace <paramref name="ns"/>; returns its directory and a CLI runner that asserts success.</summary>
    private static (string Dir, Func<string[], ClickRunner.Result> Cli) StartHost(NetworkLab lab, string ns, string tag)
    {
        string dir = ClickRunner.TempDir(tag);
        string sock = Path.Combine(dir, "api.sock");
        var host = lab.Start(ns, NetworkLab.ClickArgv(["host", "--dir", dir, "--no-cgroups", "--shared-lanes", "1"]));
        var until = Stopwatch.StartNew();
        while (!File.Exists(sock))
        {
            Assert.True(until.Elapsed < TimeSpan.FromSeconds(30), "the host's API socket did not appear: " + host.Errors);
            Thread.Sleep(20);
        }
        return (dir, args =>
        {
            var r = ClickRunner.Run(args.Take(1).Concat(["--socket", sock]).Concat(args.Skip(1)), dir, 60_000);
            Assert.True(r.Exit == 0, $"clickos {string.Join(' ', args)}: {r.Stdout}{r.Stderr}");
            return r;
        });
    }

    /// <summary>A TAP port puts the host's own stack on the switch: its ARP broadcasts reach an instance, whose answer reaches the stack.</summary>
    [NetworkFact("ping")]
    public void TapPortPutsTheHostStackOnTheSwitch()
    {
        using var lab = new NetworkLab();
        string sw = lab.Namespace("t");
        var (dir, cli) = StartHost(lab, sw, "tap");
        ClickRunner.Result Cli(params string[] a) => cli(a);
        // The instance answers ARP for 10.5.0.2 and ping: a tiny host on the switch.
        File.WriteAllText(Path.Combine(dir, "responder.click"), """
            FromDevice(vif0) -> c :: Counter -> cl :: Classifier(12/0806 20/0001, 12/0800, -);
            out :: Queue -> ToDevice(vif0);
            cl[0] -> ARPResponder(10.5.0.2 02:00:00:00:05:02) -> out;
            cl[1] -> Strip(14) -> CheckIPHeader -> ICMPPingResponder -> Unstrip(14) -> EtherMirror -> out;
            cl[2] -> Discard;
            """);
        Cli("instance", "create", "responder", Path.Combine(dir, "responder.click"));
        Cli("switch", "add", "tap", "stack", "--device", "cktap0");
        Assert.Equal(0, NetworkLab.Exec(sw, "ip addr add 10.5.0.1/24 dev cktap0").Exit);
        Assert.Equal(0, NetworkLab.Exec(sw, "ip link set cktap0 up").Exit);
        var (exit, output) = NetworkLab.Exec(sw, "ping -c 3 -i 0.2 -W 2 10.5.0.2");
        Assert.True(exit == 0, output);
        Assert.Contains("3 received", output);
        using var stats = JsonDocument.Parse(Cli("switch", "--json", "stats").Stdout);
        var stack = stats.RootElement.GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "stack");
        Assert.Equal("tap", stack.GetProperty("kind").GetString());
        Assert.Equal("cktap0", stack.GetProperty("device").GetString());
        Assert.True(stack.GetProperty("rx_packets").GetInt64() >= 4);   // an ARP request and 3 echo requests at least
        Assert.True(stack.GetProperty("tx_packets").GetInt64() >= 4);
        // Removing the port removes the interface.
        Cli("switch", "remove", "stack");
        var gone = Stopwatch.StartNew();
        while (NetworkLab.Exec(sw, "ip link show cktap0").Exit == 0)
        {
            Assert.True(gone.Elapsed < TimeSpan.FromSeconds(5), "cktap0 outlived its port");
            Thread.Sleep(50);
        }
    }

    [NetworkFact("python3", "ethtool")]
    public void FirewallNatLoadBalancerChainCarriesRealTcpBetweenNamespaces()
    {
        using var lab = new NetworkLab();
        string client = lab.Namespace("c"), sw = lab.Namespace("s"), server = lab.Namespace("v");
        lab.Veth(client, "eth0", sw, "cport", macA: ClientMac);
        lab.Veth(server, "eth0", sw, "sport", macA: ServerMac);
        NetworkLab.NoOffloads(client, "eth0");
        NetworkLab.NoOffloads(server, "eth0");
        lab.Address(client, "eth0", "10.1.0.2/24");
        lab.DefaultRoute(client, "10.1.0.1");
        lab.Address(server, "eth0", "10.2.0.2/24");
        // The middleboxes answer no ARP: the hosts know their gateways' addresses.
        Assert.Equal(0, NetworkLab.Exec(client, $"ip neigh replace 10.1.0.1 lladdr {ClientGwMac} dev eth0 nud permanent").Exit);
        Assert.Equal(0, NetworkLab.Exec(server, $"ip neigh replace 10.2.0.1 lladdr {ServerGwMac} dev eth0 nud permanent").Exit);

        var (dir, cli) = StartHost(lab, sw, "chain");
        ClickRunner.Result Cli(params string[] a) => cli(a);

        foreach (var (name, config) in new[] { ("fw", Firewall), ("nat", Nat), ("lb", LoadBalancer) })
        {
            File.WriteAllText(Path.Combine(dir, name + ".click"), config);
            Cli("instance", "create", name, Path.Combine(dir, name + ".click"));
        }
        Cli("switch", "add", "nic", "client", "--device", "cport");
        Cli("switch", "add", "nic", "server", "--device", "sport");
        Cli("switch", "chain", "client", "fw:vif0");
        Cli("switch", "chain", "fw:vif1", "nat:vif0");
        Cli("switch", "chain", "nat:vif1", "lb:vif0");
        Cli("switch", "chain", "lb:vif1", "server");
        string ports = Cli("switch", "ports").Stdout;
        Assert.Matches(@"client.{1,20}nic.{1,20}up", ports);
        Assert.Contains("fw:vif0", ports);

        string serverPy = MiddleboxNetworkTests.Script(dir, "server.py", MiddleboxNetworkTests.ServerPy);
        string clientPy = MiddleboxNetworkTests.Script(dir, "client.py", MiddleboxNetworkTests.ClientPy);
        MiddleboxNetworkTests.StartServer(lab, server, serverPy, "10.2.0.2", 8080, "backend-1");
        MiddleboxNetworkTests.StartServer(lab, server, serverPy, "10.2.0.2", 8081, "backend-2");

        var lines = MiddleboxNetworkTests.Connect(client, clientPy, "10.9.9.9", 80, 6);
        var seen = lines.Select(l =>
        {
            // "- backend-2 10.2.0.1:20017": through the LB to a backend, which saw the NAT's address.
            var m = Regex.Match(l, @"^- (backend-[12]) 10\.2\.0\.1:(\d+)$");
            Assert.True(m.Success, l);
            int port = int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(port, 20000, 29999);
            return m.Groups[1].Value;
        }).ToList();
        Assert.Equal(3, seen.Count(b => b == "backend-1"));
        Assert.Equal(3, seen.Count(b => b == "backend-2"));

        // The firewall stops anything but port 80: the connection gets no answer.
        var (_, blocked) = NetworkLab.Exec(client, "python3 -c \"import socket; s=socket.socket(); s.settimeout(1.5); print(s.connect_ex(('10.9.9.9', 22)))\"");
        Assert.NotEqual("0", blocked.Trim());

        // Every hop counted the traffic; nothing was dropped on the wires.
        using var stats = JsonDocument.Parse(Cli("switch", "--json", "stats").Stdout);
        var byName = stats.RootElement.GetProperty("ports").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        foreach (var p in new[] { "client", "fw:vif0", "fw:vif1", "nat:vif0", "nat:vif1", "lb:vif0", "lb:vif1", "server" })
        {
            Assert.True(byName[p].GetProperty("rx_packets").GetInt64() > 0, p);
            Assert.True(byName[p].GetProperty("tx_packets").GetInt64() > 0, p);
        }
        Assert.Equal("fw:vif0", byName["client"].GetProperty("chained_to").GetString());
        string table = Cli("switch", "stats").Stdout;
        Assert.Contains("RX PACKETS", table);
        Assert.Equal("6", Cli("instance", "read", "lb", "rw.nmappings").Stdout.Trim());

        // Undo a chain: the wire is gone, the ports stay.
        Cli("switch", "unchain", "nat:vif1");
        using var after = JsonDocument.Parse(Cli("switch", "--json", "ports").Stdout);
        var lb0 = after.RootElement.GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "lb:vif0");
        Assert.False(lb0.TryGetProperty("chained_to", out _));
    }
}
