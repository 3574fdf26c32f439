using System.Text.RegularExpressions;

namespace ClickOS.Cli.Tests.Network;

/// <summary>
/// The catalog's CG-NAT and load balancer (examples/live/nat.click, loadbalancer.click)
/// between real Linux hosts in network namespaces: real TCP connections through clickos, with
/// servers that report the peer address they saw. Needs root; skipped with the reason otherwise.
/// </summary>
[Collection("network")]
public sealed class MiddleboxNetworkTests
{
    private static string Example(string name) => Path.Combine(ClickRunner.RepoRoot, "examples", "live", name);

    /// <summary>A TCP server that answers each connection with "IDENTITY PEER_ADDRESS:PEER_PORT" and closes it.</summary>
    internal const string ServerPy = """
        import socket, sys
        addr, port, identity = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(64)
        print("listening", flush=True)
        while True:
            c, peer = s.accept()
            c.sendall(("%s %s:%d\n" % (identity, peer[0], peer[1])).encode())
            c.close()
        """;

    /// <summary>
    /// Opens COUNT connections to DST:PORT from each SOURCE address (or the default one) in
    /// turn and prints "SOURCE ANSWER" for each; "SOURCE error ..." when one fails.
    /// </summary>
    internal const string ClientPy = """
        import socket, sys
        dst, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        for src in sys.argv[4:] or ["-"]:
            for i in range(count):
                try:
                    s = socket.create_connection((dst, port), timeout=5, source_address=None if src == "-" else (src, 0))
                    data = b""
                    while True:
                        d = s.recv(256)
                        if not d:
                            break
                        data += d
                    s.close()
                    print(src, data.decode().strip(), flush=True)
                except OSError as e:
                    print(src, "error", e, flush=True)
        """;

    /// <summary>Sends a UDP datagram from SRC to DST:PORT on a connected socket; prints what comes back or the error.</summary>
    private const string UdpProbePy = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((sys.argv[1], 0))
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.settimeout(3)
        s.send(b"probe")
        try:
            print("answer", s.recv(100))
        except ConnectionRefusedError:
            print("refused")
        except socket.timeout:
            print("timeout")
        """;

    internal static string Script(string dir, string name, string text)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    internal static void StartServer(NetworkLab lab, string ns, string script, string addr, int port, string identity)
    {
        var server = lab.Start(ns, ["python3", "-u", script, addr, port.ToString(), identity]);
        Assert.True(server.WaitForLine("listening", 15_000), server.Errors);
    }

    internal static List<string> Connect(string ns, string script, string dst, int port, int count, params string[] sources)
    {
        var (exit, output) = NetworkLab.Exec(ns, $"python3 {script} {dst} {port} {count} {string.Join(' ', sources)}", 60_000);
        Assert.True(exit == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.True(lines.Count == count * Math.Max(1, sources.Length), output);
        Assert.DoesNotContain(lines, l => l.Contains(" error "));
        return lines;
    }

    [NetworkFact("ping", "python3", "ethtool")]
    public void NatCarriesRealConnectionsFromEachSubscriberThroughItsPortBlock()
    {
        using var lab = new NetworkLab();
        string client = lab.Namespace("c"), nat = lab.Namespace("n"), server = lab.Namespace("s");
        lab.Veth(client, "eth0", nat, "in0", macB: "02:00:00:00:01:01");
        lab.Veth(server, "eth0", nat, "out0", macB: "02:00:00:00:01:02");
        NetworkLab.NoOffloads(client, "eth0");
        NetworkLab.NoOffloads(server, "eth0");
        // Two subscribers on one host: 100.64.0.2 (ports 1024-2047) and 100.64.0.3 (2048-3071).
        lab.Address(client, "eth0", "100.64.0.2/24");
        lab.Address(client, "eth0", "100.64.0.3/24");
        lab.DefaultRoute(client, "100.64.0.1");
        lab.Address(server, "eth0", "198.51.100.2/24");
        var click = lab.StartClick(nat, Example("nat.click"), "INSIDE=in0", "OUTSIDE=out0",
            "-h", "s0.count", "-h", "s1.count", "-h", "icmprw.rewritten", "-h", "rw.mapping_failures");

        string dir = ClickRunner.TempDir("nat");
        StartServer(lab, server, Script(dir, "server.py", ServerPy), "198.51.100.2", 7000, "server");
        LiveNetworkTests.AssertPings(client, "100.64.0.1");        // the NAT's inside address
        LiveNetworkTests.AssertPings(client, "198.51.100.2", "63"); // through the ping rewriter, one hop

        var lines = Connect(client, Script(dir, "client.py", ClientPy), "198.51.100.2", 7000, 4, "100.64.0.2", "100.64.0.3");
        var seen = new HashSet<int>();
        foreach (var line in lines)
        {
            // "100.64.0.2 server 198.51.100.1:1024": the server saw the NAT's public address.
            var m = Regex.Match(line, @"^100\.64\.0\.(\d) server 198\.51\.100\.1:(\d+)$");
            Assert.True(m.Success, line);
            int sub = int.Parse(m.Groups[1].Value) - 2, port = int.Parse(m.Groups[2].Value);
            Assert.InRange(port, 1024 * (sub + 1), 1024 * (sub + 2) - 1);
            Assert.True(seen.Add(port), $"public port {port} used twice");
        }

        // A UDP datagram to a closed port: the server's ICMP port unreachable is translated
        // back to the subscriber's socket, which sees ECONNREFUSED.
        string probe = Script(dir, "udp.py", UdpProbePy);
        Assert.Equal("refused", NetworkLab.Exec(client, $"python3 {probe} 100.64.0.2 198.51.100.2 9").Out.Trim());
        // Unsolicited: the server cannot open a connection to the public address (not even
        // to a port in use by a subscriber's flow a moment ago).
        var (_, unsolicited) = NetworkLab.Exec(server, $"python3 {Script(dir, "c2.py", ClientPy.Replace("timeout=5", "timeout=1"))} 198.51.100.1 1024 1");
        Assert.Contains("error", unsolicited);

        Assert.Equal(0, click.Stop());
        // Per-subscriber counters: 4 connections of at least 4 packets each (SYN, ACK, ACK, FIN);
        // the first subscriber also sent the pings and the UDP probe.
        Assert.True(LiveNetworkTests.Handler(click.Output, "s0.count") >= 4 * 4 + 4 + 1, click.Output);
        Assert.True(LiveNetworkTests.Handler(click.Output, "s1.count") >= 4 * 4, click.Output);
        Assert.Equal(1, LiveNetworkTests.Handler(click.Output, "icmprw.rewritten"));
        Assert.Equal(0, LiveNetworkTests.Handler(click.Output, "rw.mapping_failures"));
    }

    [NetworkFact("python3", "ethtool")]
    public void LoadBalancerSpreadsRealConnectionsOverTheBackends()
    {
        using var lab = new NetworkLab();
        string client = lab.Namespace("c"), lb = lab.Namespace("l"), backends = lab.Namespace("b");
        lab.Veth(client, "eth0", lb, "f0", macB: "02:00:00:00:02:01");
        lab.Veth(backends, "eth0", lb, "b0", macB: "02:00:00:00:02:02");
        NetworkLab.NoOffloads(client, "eth0");
        NetworkLab.NoOffloads(backends, "eth0");
        foreach (var a in new[] { "192.0.2.2/24", "192.0.2.3/24", "192.0.2.4/24" }) lab.Address(client, "eth0", a);
        foreach (var a in new[] { "10.1.0.11/24", "10.1.0.12/24", "10.1.0.13/24" }) lab.Address(backends, "eth0", a);
        lab.DefaultRoute(backends, "10.1.0.1");

        string dir = ClickRunner.TempDir("lb");
        string serverPy = Script(dir, "server.py", ServerPy), clientPy = Script(dir, "client.py", ClientPy);
        for (int i = 1; i <= 3; i++) StartServer(lab, backends, serverPy, $"10.1.0.1{i}", 8080, $"backend-{i}");

        // Round robin: 9 connections from one client, 3 to each backend in turn.
        var click = lab.StartClick(lb, Example("loadbalancer.click"), "FRONT=f0", "BACK=b0",
            "-h", "conns.count", "-h", "toclients.count", "-h", "rw.nmappings");
        var lines = Connect(client, clientPy, "192.0.2.100", 80, 9, "192.0.2.2");
        var backendsSeen = lines.Select(l =>
        {
            // "192.0.2.2 backend-2 192.0.2.2:41234": the backend saw the real client address.
            var m = Regex.Match(l, @"^192\.0\.2\.2 (backend-\d) 192\.0\.2\.2:\d+$");
            Assert.True(m.Success, l);
            return m.Groups[1].Value;
        }).ToList();
        Assert.Equal(3, backendsSeen.Distinct().Count());
        Assert.All(backendsSeen.GroupBy(b => b), g => Assert.Equal(3, g.Count()));
        // In turn: no backend twice in a row.
        for (int i = 1; i < backendsSeen.Count; i++) Assert.NotEqual(backendsSeen[i - 1], backendsSeen[i]);
        Assert.Equal(0, click.Stop());
        Assert.Equal(9, LiveNetworkTests.Handler(click.Output, "rw.nmappings"));
        Assert.True(LiveNetworkTests.Handler(click.Output, "toclients.count") >= 9 * 3, click.Output);

        // Source hashing: every connection of one client address goes to the same backend.
        click = lab.StartClick(lb, Example("loadbalancer.click"), "FRONT=f0", "BACK=b0", "MAPPER=hash");
        lines = Connect(client, clientPy, "192.0.2.100", 80, 3, "192.0.2.2", "192.0.2.3", "192.0.2.4");
        var perClient = lines.Select(l => l.Split(' ')).GroupBy(w => w[0], w => w[1]).ToList();
        Assert.Equal(3, perClient.Count);
        Assert.All(perClient, g => Assert.Single(g.Distinct()));
        Assert.Equal(0, click.Stop());
    }

    /// <summary>h1:eth0 — mid:p0 | mid:p1 — h2:eth0: a bump in the wire between two hosts.</summary>
    private static (string H1, string Mid, string H2) Wire(NetworkLab lab)
    {
        string h1 = lab.Namespace("h1"), mid = lab.Namespace("m"), h2 = lab.Namespace("h2");
        lab.Veth(h1, "eth0", mid, "p0");
        lab.Veth(h2, "eth0", mid, "p1");
        NetworkLab.NoOffloads(h1, "eth0");
        NetworkLab.NoOffloads(h2, "eth0");
        return (h1, mid, h2);
    }

    [NetworkFact("curl", "python3", "ethtool")]
    public void IdsOnTheWireAlertsOnAnAttackAndPassesTheTraffic()
    {
        using var lab = new NetworkLab();
        var (h1, mid, h2) = Wire(lab);
        lab.Address(h1, "eth0", "10.77.5.1/24");
        lab.Address(h2, "eth0", "10.77.5.2/24");
        string dir = ClickRunner.TempDir("ids");
        File.WriteAllText(Path.Combine(dir, "index.html"), "welcome\n");
        string alerts = Path.Combine(dir, "alerts.pcap");
        var click = lab.StartClick(mid, Example("ids.click"), "A=p0", "B=p1", $"ALERTS={alerts}",
            $"RULES={Path.Combine(ClickRunner.RepoRoot, "examples", "ids.rules")}", "-h", "alerts.count", "-h", "ids.matches");
        var server = lab.Start(h2, ["python3", "-u", "-m", "http.server", "80", "--bind", "10.77.5.2", "--directory", dir]);
        Assert.True(server.WaitForLine("Serving HTTP", 15_000), server.Errors);

        var (ok, page) = NetworkLab.Exec(h1, "curl -s --max-time 10 http://10.77.5.2/index.html");
        Assert.Equal((0, "welcome\n"), (ok, page));
        var (exit, status) = NetworkLab.Exec(h1, "curl -s --max-time 10 -o /dev/null -w %{http_code} http://10.77.5.2/scripts/CMD.exe?/c+dir");
        Assert.Equal((0, "404"), (exit, status)); // alerted, not blocked: the request reached the server
        Assert.Equal(0, click.Stop());
        Assert.Equal(1, LiveNetworkTests.Handler(click.Output, "alerts.count"));
        Assert.Contains("1000001 1 alert \"cmd.exe in a web request\"", click.Output);
        Assert.Contains("ALERT: ", click.Errors);
        Assert.Single(CatalogTests.ReadPcap(alerts));
    }

    [NetworkFact("ping", "ethtool")]
    public void BrasOnTheWirePassesAPayingSubscriberAndStopsASuspendedOne()
    {
        using var lab = new NetworkLab();
        var (h1, mid, h2) = Wire(lab);
        lab.Address(h1, "eth0", "100.64.1.2/24");   // gold
        lab.Address(h1, "eth0", "100.64.1.5/24");   // suspended (rate 0)
        lab.Address(h2, "eth0", "100.64.1.1/24");
        var click = lab.StartClick(mid, Example("bras.click"), "ACCESS=p0", "CORE=p1", "-h", "up.subscribers");
        LiveNetworkTests.AssertPings(h1, "100.64.1.1");   // from 100.64.1.2, the primary address
        var (exit, output) = NetworkLab.Exec(h1, "ping -c 2 -i 0.2 -W 1 -I 100.64.1.5 100.64.1.1");
        Assert.True(exit != 0, output);
        Assert.Contains("0 received", output);
        Assert.Equal(0, click.Stop());
        Assert.Matches(@"100\.64\.1\.2 128kbps [4-9] \d+ 0 0\n", click.Output);   // 4 or more pings, none dropped
        Assert.Matches(@"100\.64\.1\.5 0kbps 0 0 2 168\n", click.Output);         // both dropped (84-byte IP packets)
    }
}
