using System.Buffers.Binary;
using System.Net;
using System.Text;
using PacketDotNet;

namespace ClickOS.Cli.Tests;

/// <summary>
/// The middlebox catalog (examples/nat.click, loadbalancer.click, ids.click, bras.click) run
/// through the CLI on their bundled traffic (examples/traffic/make_catalog.py), their outputs
/// read back with PacketDotNet. The firewall and the router are covered by ExampleConfigTests.
/// </summary>
public sealed class CatalogTests : IDisposable
{
    private readonly string _dir = ClickRunner.TempDir("catalog");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Tmp(string name) => Path.Combine(_dir, name);

    private static ClickRunner.Result Run(params string[] args)
    {
        var r = ClickRunner.Run(["run", .. args], ClickRunner.RepoRoot);
        Assert.True(r.Exit == 0, $"exit {r.Exit}\n{r.Stdout}\n{r.Stderr}");
        return r;
    }

    private static string Traffic(string name) => Path.Combine(ClickRunner.RepoRoot, "examples", "traffic", name);

    // ------------------------------------------------------------------ pcap and packets

    /// <summary>The frames of a classic pcap file (either timestamp resolution, little-endian).</summary>
    internal static List<byte[]> ReadPcap(string path)
    {
        var b = File.ReadAllBytes(path);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(b);
        Assert.True(magic is 0xA1B2C3D4 or 0xA1B23C4D, $"{path}: not a little-endian pcap");
        var frames = new List<byte[]>();
        int at = 24;
        while (at + 16 <= b.Length)
        {
            int caplen = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at + 8));
            frames.Add(b.AsSpan(at + 16, caplen).ToArray());
            at += 16 + caplen;
        }
        Assert.Equal(b.Length, at);
        return frames;
    }

    internal static void WritePcap(string path, IEnumerable<byte[]> frames)
    {
        using var w = new BinaryWriter(File.Create(path));
        w.Write(0xA1B2C3D4u); w.Write((ushort)2); w.Write((ushort)4); w.Write(0); w.Write(0u); w.Write(65535u); w.Write(1u);
        uint t = 0;
        foreach (var f in frames)
        {
            w.Write(1_700_000_000u); w.Write(t++); w.Write((uint)f.Length); w.Write((uint)f.Length);
            w.Write(f);
        }
    }

    private static EthernetPacket Eth(byte[] frame) => (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frame);

    private static IPv4Packet? Ip(byte[] frame) => Eth(frame).PayloadPacket as IPv4Packet;

    /// <summary>The IP payload (transport header and data), as the header's lengths say.</summary>
    private static byte[] IpPayload(IPv4Packet ip)
    {
        var b = ip.Bytes;
        int hl = (b[0] & 0x0F) * 4, total = BinaryPrimitives.ReadUInt16BigEndian(b.AsSpan(2));
        return b.AsSpan(hl, total - hl).ToArray();
    }

    /// <summary>The one's-complement sum over data that includes its checksum: 0 when it is right.</summary>
    private static int Checksum(ReadOnlySpan<byte> data)
    {
        uint s = 0;
        for (int i = 0; i + 1 < data.Length; i += 2) s += (uint)(data[i] << 8 | data[i + 1]);
        if ((data.Length & 1) != 0) s += (uint)data[^1] << 8;
        while (s >> 16 != 0) s = (s & 0xFFFF) + (s >> 16);
        return (int)(~s & 0xFFFF);
    }

    /// <summary>Asserts that every checksum of an IPv4 packet (IP, TCP, UDP or ICMP) is right.</summary>
    private static void AssertChecksums(IPv4Packet ip)
    {
        Assert.True(ip.ValidIPChecksum, $"bad IP checksum: {ip}");
        switch (ip.PayloadPacket)
        {
            case TcpPacket t: Assert.True(t.ValidTcpChecksum, $"bad TCP checksum: {ip}"); break;
            case UdpPacket u: Assert.True(u.ValidUdpChecksum, $"bad UDP checksum: {ip}"); break;
            default:
                Assert.Equal(ProtocolType.Icmp, ip.Protocol);
                Assert.Equal(0, Checksum(IpPayload(ip)));
                break;
        }
    }

    private readonly record struct Flow(byte Proto, IPAddress Src, int SPort, IPAddress Dst, int DPort)
    {
        public Flow Reverse => new(Proto, Dst, DPort, Src, SPort);
    }

    /// <summary>The 5-tuple of a TCP or UDP packet (ICMP: the echo identifier as the source port).</summary>
    private static Flow FlowOf(IPv4Packet ip) => ip.PayloadPacket switch
    {
        TcpPacket t => new(6, ip.SourceAddress, t.SourcePort, ip.DestinationAddress, t.DestinationPort),
        UdpPacket u => new(17, ip.SourceAddress, u.SourcePort, ip.DestinationAddress, u.DestinationPort),
        _ => new(1, ip.SourceAddress, BinaryPrimitives.ReadUInt16BigEndian(IpPayload(ip).AsSpan(4)), ip.DestinationAddress, 0),
    };

    private static byte[] L4Payload(IPv4Packet ip) => ip.PayloadPacket switch
    {
        TcpPacket t => t.PayloadData ?? [],
        UdpPacket u => u.PayloadData ?? [],
        _ => IpPayload(ip).AsSpan(8).ToArray(),
    };

    // ------------------------------------------------------------------ CG-NAT

    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.1");

    /// <summary>Subscriber i (0-7) is 100.64.0.(i+2) with ports (and echo identifiers) 1024(i+1) to 1024(i+2)-1.</summary>
    private static int SubscriberIndex(IPAddress a)
    {
        var b = a.GetAddressBytes();
        return b[0] == 100 && b[1] == 64 && b[2] == 0 && b[3] is >= 2 and <= 9 ? b[3] - 2 : -1;
    }

    private static int BlockStart(int subscriber) => 1024 * (subscriber + 1);

    [Fact]
    public void NatGivesEachSubscriberItsOwnPortBlockAndTranslatesRepliesBack()
    {
        string outPcap = Tmp("nat-out.pcap"), backPcap = Tmp("nat-back.pcap");
        var r = Run("examples/nat.click", $"OUT={outPcap}", $"BACK={backPcap}");
        // 8 subscribers x (3 TCP connections of 4 packets, 2 DNS queries, 2 pings, 1 probe to an
        // unreachable host) = 136 packets out, and as many come back from the simulated
        // internet (8 of them ICMP errors). Outside: 14 unsolicited packets, one of them a ping
        // to the NAT (answered). 3 packets from the unprovisioned 100.64.0.77.
        Assert.Equal("""
            to internet 136, to subscribers 136 (ICMP errors 8), pings answered 1
            dropped: unprovisioned 3, unsolicited 13
            per subscriber: 17 17 17 17 17 17 17 17
            mappings: tcp/udp 48, ping 8, failures 0

            """, r.Stdout);

        // What the subscribers sent, in order (ARP and the unprovisioned address aside).
        var sent = ReadPcap(Traffic("nat-inside.pcap")).Select(Ip).OfType<IPv4Packet>()
            .Where(ip => SubscriberIndex(ip.SourceAddress) >= 0).ToList();
        Assert.Equal(136, sent.Count);

        var outFrames = ReadPcap(outPcap);
        Assert.Equal(137, outFrames.Count); // + the answer to the outside ping
        var translated = outFrames.Take(136).Select(f => Ip(f)!).ToList();
        var publicPortOf = new Dictionary<Flow, int>();
        var usedBy = new Dictionary<int, SortedSet<int>>();   // subscriber -> public ports
        var pingIds = new Dictionary<int, SortedSet<int>>();
        for (int i = 0; i < sent.Count; i++)
        {
            IPv4Packet orig = sent[i], tr = translated[i];
            AssertChecksums(tr);
            Assert.Equal(Public, tr.SourceAddress);
            Assert.Equal(orig.DestinationAddress, tr.DestinationAddress);
            Assert.Equal(orig.Protocol, tr.Protocol);
            Assert.Equal(L4Payload(orig), L4Payload(tr));
            var (of, tf) = (FlowOf(orig), FlowOf(tr));
            Assert.Equal(of.DPort, tf.DPort);
            int s = SubscriberIndex(orig.SourceAddress);
            // The public port (identifier) lies in the subscriber's own block ...
            Assert.InRange(tf.SPort, BlockStart(s), BlockStart(s) + 1023);
            // ... and is the same for every packet of the flow.
            if (publicPortOf.TryGetValue(of, out int p)) Assert.Equal(p, tf.SPort);
            else publicPortOf[of] = tf.SPort;
            var set = of.Proto == 1 ? pingIds : usedBy;
            (set.TryGetValue(s, out var ports) ? ports : set[s] = []).Add(tf.SPort);
        }
        // TCP/UDP flows never share a public port (subscribers 0 and 1 both used source port
        // 40000 to the same server), nor pings an identifier.
        var l4 = publicPortOf.Where(kv => kv.Key.Proto != 1).Select(kv => kv.Value).ToList();
        Assert.Equal(48, l4.Count);
        Assert.Equal(48, l4.Distinct().Count());
        var ids = publicPortOf.Where(kv => kv.Key.Proto == 1).Select(kv => kv.Value).ToList();
        Assert.Equal(8, ids.Distinct().Count());
        // Sequential allocation: each subscriber's 6 TCP/UDP flows took the first 6 ports of its block, its ping the first identifier.
        for (int s = 0; s < 8; s++)
        {
            Assert.Equal(Enumerable.Range(BlockStart(s), 6), usedBy[s]);
            Assert.Equal(new[] { BlockStart(s) }, pingIds[s]);
        }
        var pong = Ip(outFrames[136])!;
        Assert.Equal("203.0.113.66", pong.DestinationAddress.ToString());
        AssertChecksums(pong);

        // Back towards the subscribers: 2 ARP replies, then the replies of the simulated internet.
        var back = ReadPcap(backPcap);
        Assert.Equal(138, back.Count);
        var arps = back.Select(f => Eth(f).PayloadPacket).OfType<ArpPacket>().ToList();
        Assert.Equal(2, arps.Count);
        Assert.All(arps, a =>
        {
            Assert.Equal(ArpOperation.Response, a.Operation);
            Assert.Equal("100.64.0.1", a.SenderProtocolAddress.ToString());
            Assert.Equal("020000000101", a.SenderHardwareAddress.ToString());
        });
        var origFlows = sent.Select(FlowOf).ToHashSet();
        var origProbe = sent.Where(ip => ip.DestinationAddress.ToString() == "192.0.2.99").ToDictionary(ip => ip.SourceAddress, FlowOf);
        int errors = 0, echoReplies = 0, mirrored = 0;
        foreach (var ip in back.Select(Ip).OfType<IPv4Packet>())
        {
            AssertChecksums(ip);
            Assert.True(SubscriberIndex(ip.DestinationAddress) >= 0, $"reply to {ip.DestinationAddress}");
            if (ip.PayloadPacket is TcpPacket or UdpPacket)
            {
                // The mirror image of a packet a subscriber sent: addressed to its private address and port.
                Assert.Contains(FlowOf(ip).Reverse, origFlows);
                mirrored++;
            }
            else if (IpPayload(ip)[0] == 0)
            {
                Assert.Contains(new Flow(1, ip.DestinationAddress, FlowOf(ip).SPort, ip.SourceAddress, 0), origFlows);
                echoReplies++;
            }
            else
            {
                // ICMP host unreachable: the quoted packet is translated back to the subscriber's own.
                Assert.Equal((byte)3, IpPayload(ip)[0]);
                Assert.Equal("192.0.2.254", ip.SourceAddress.ToString());
                var quoted = IpPayload(ip).AsSpan(8);
                Assert.Equal(0, Checksum(quoted[..20]));
                Assert.Equal(ip.DestinationAddress, new IPAddress(quoted.Slice(12, 4)));
                Assert.Equal(origProbe[ip.DestinationAddress].SPort, BinaryPrimitives.ReadUInt16BigEndian(quoted[20..]));
                errors++;
            }
        }
        Assert.Equal((112, 16, 8), (mirrored, echoReplies, errors));
    }

    [Fact]
    public void NatKeepsAFullPortBlockToItsSubscriber()
    {
        // 100.64.0.4 (block 3072-4095) opens 1030 UDP flows: 1024 fit, 6 fail. 100.64.0.5 is unaffected.
        static byte[] Udp(string src, int sport)
        {
            var f = new byte[14 + 20 + 8 + 5];
            f[5] = 1; f[12] = 0x08;                                     // to 00:00:00:00:00:01, IPv4
            var ip = f.AsSpan(14);
            ip[0] = 0x45; ip[2] = 0; ip[3] = 33; ip[8] = 64; ip[9] = 17;
            IPAddress.Parse(src).GetAddressBytes().CopyTo(ip[12..]);
            IPAddress.Parse("8.8.8.8").GetAddressBytes().CopyTo(ip[16..]);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], (ushort)Checksum(ip[..20]));
            var udp = ip[20..];
            BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)sport);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], 53);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], 13);
            Encoding.ASCII.GetBytes("query").CopyTo(udp[8..]);
            var pseudo = new byte[12 + 13];
            ip.Slice(12, 8).CopyTo(pseudo);
            pseudo[9] = 17; pseudo[11] = 13;
            udp.CopyTo(pseudo.AsSpan(12));
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], (ushort)Checksum(pseudo));
            return f;
        }
        var frames = Enumerable.Range(0, 1030).Select(i => Udp("100.64.0.4", 20000 + i))
            .Concat(Enumerable.Range(0, 3).Select(i => Udp("100.64.0.5", 20000 + i))).ToList();
        string inPcap = Tmp("exhaust.pcap"), outPcap = Tmp("out.pcap");
        WritePcap(inPcap, frames);
        var r = Run("examples/nat.click", $"IN={inPcap}", $"OUT={outPcap}", $"BACK={Tmp("back.pcap")}");
        Assert.Contains("to internet 1027, to subscribers 1027 (ICMP errors 0)", r.Stdout);
        Assert.Contains("per subscriber: 0 0 1030 3 0 0 0 0\n", r.Stdout);
        Assert.Contains("mappings: tcp/udp 1027, ping 0, failures 6\n", r.Stdout);
        var ports = ReadPcap(outPcap).Select(Ip).OfType<IPv4Packet>().Where(ip => ip.PayloadPacket is UdpPacket)
            .GroupBy(ip => ip.SourceAddress.Equals(Public) ? ((UdpPacket)ip.PayloadPacket).SourcePort / 1024 : -1)
            .ToDictionary(g => g.Key, g => g.Select(ip => (int)((UdpPacket)ip.PayloadPacket).SourcePort).ToHashSet());
        Assert.Equal(1024, ports[3].Count);   // every port of 3072-4095
        Assert.Equal(3, ports[4].Count);      // 100.64.0.5's first three of 4096-5119
        Assert.Equal(2, ports.Count);
    }

    // ------------------------------------------------------------------ load balancer

    private static readonly string[] Backends = ["10.1.0.11", "10.1.0.12", "10.1.0.13"];

    /// <summary>Runs the balancer; returns each client connection's backend, by first appearance.</summary>
    private List<(Flow Client, string Backend)> RunBalancer(string mapper)
    {
        string outPcap = Tmp($"lb-{mapper}.pcap"), replies = Tmp($"lb-replies-{mapper}.pcap");
        var r = Run("examples/loadbalancer.click", $"OUT={outPcap}", $"REPLIES={replies}", $"MAPPER={mapper}");
        Assert.Equal("""
            service packets 120, to backends 120, replies 120, not for the service 3
            connections 30, failures 0

            """, r.Stdout);

        var backendOf = new Dictionary<Flow, string>();
        var order = new List<(Flow, string)>();
        foreach (var ip in ReadPcap(outPcap).Select(f => Ip(f)!))
        {
            AssertChecksums(ip);
            var f = FlowOf(ip);
            Assert.Contains(f.Dst.ToString(), Backends);
            Assert.Equal(8080, f.DPort);
            Assert.StartsWith("203.0.113.", f.Src.ToString()); // the client's address is kept
            var client = f with { Dst = IPAddress.Parse("192.0.2.100"), DPort = 80 };
            if (backendOf.TryGetValue(client, out var b)) Assert.Equal(b, f.Dst.ToString()); // the flow sticks
            else { backendOf[client] = f.Dst.ToString(); order.Add((client, f.Dst.ToString())); }
        }
        Assert.Equal(30, order.Count);

        var rep = ReadPcap(replies);
        Assert.Equal(121, rep.Count);
        var arp = Assert.Single(rep.Select(x => Eth(x).PayloadPacket).OfType<ArpPacket>());
        Assert.Equal("192.0.2.100", arp.SenderProtocolAddress.ToString());
        var perFlow = rep.Select(Ip).OfType<IPv4Packet>().Select(ip =>
        {
            AssertChecksums(ip);
            return FlowOf(ip).Reverse;
        }).GroupBy(f => f).ToDictionary(g => g.Key, g => g.Count());
        // Every connection's 4 packets came back from the VIP, port 80.
        Assert.Equal(30, perFlow.Count);
        Assert.All(perFlow, kv => { Assert.True(backendOf.ContainsKey(kv.Key)); Assert.Equal(4, kv.Value); });
        return order;
    }

    [Fact]
    public void LoadBalancerSpreadsConnectionsRoundRobinAndKeepsEachOnItsBackend()
    {
        var order = RunBalancer("rr");
        // New connections take the backends in turn: 10 each.
        for (int i = 0; i < order.Count; i++) Assert.Equal(Backends[i % 3], order[i].Backend);
        // Round robin ignores the client: some client's connections land on different backends.
        Assert.Contains(order.GroupBy(o => o.Client.Src), g => g.Select(o => o.Backend).Distinct().Count() > 1);
    }

    [Fact]
    public void LoadBalancerWithSourceHashKeepsEachClientOnOneBackend()
    {
        var order = RunBalancer("hash");
        var byClient = order.GroupBy(o => o.Client.Src).ToList();
        Assert.Equal(10, byClient.Count);
        Assert.All(byClient, g => Assert.Single(g.Select(o => o.Backend).Distinct()));
        Assert.True(order.Select(o => o.Backend).Distinct().Count() >= 2, "the hash uses more than one backend");
    }

    // ------------------------------------------------------------------ IDS

    [Fact]
    public void IdsAlertsOnEachSignatureIncludingOneSplitAcrossSegments()
    {
        string clean = Tmp("clean.pcap"), alerts = Tmp("alerts.pcap"), log = Tmp("alerts.txt");
        var r = Run("examples/ids.click", $"CLEAN={clean}", $"ALERTS={alerts}", $"LOG={log}");
        Assert.Equal("""
            inspected 55 packets, alerts 5, dropped 1, out of order 1, bad IP 0, non-IP 1
            1000001 2 alert "cmd.exe in a web request"
            1000002 1 alert "directory traversal"
            1000003 1 alert "EICAR test signature"
            1000004 1 alert "DNS query for a known-bad domain"
            1000005 1 drop "telnet login as root"
            1000006 0 alert "shell in a web request"

            """, r.Stdout);

        var alerted = ReadPcap(alerts).Select(f => Ip(f)!).ToList();
        Assert.Equal(5, alerted.Count);
        var payloads = alerted.Select(ip => Encoding.Latin1.GetString(L4Payload(ip))).ToList();
        Assert.Equal(2, payloads.Count(p => p.Contains("cmd.exe", StringComparison.OrdinalIgnoreCase)));
        Assert.Single(alerted, ip => Encoding.Latin1.GetString(L4Payload(ip)).Contains("../../") && FlowOf(ip).DPort == 80);
        Assert.Single(payloads, p => p.Contains("BADNESS"));
        // The signature was split: the alert is the second segment, which holds only its end.
        var split = Assert.Single(payloads, p => p.StartsWith("ANTIVIRUS-TEST-FILE"));
        Assert.DoesNotContain("EICAR", split);

        var passed = ReadPcap(clean);
        Assert.Equal(56 - 5 - 1, passed.Count);
        var cleanText = passed.Select(Ip).OfType<IPv4Packet>().Select(ip => Encoding.Latin1.GetString(L4Payload(ip))).ToList();
        Assert.Contains(cleanText, p => p.Contains("EICAR-STANDARD-"));      // the first half passes
        Assert.Contains(cleanText, p => p.EndsWith("/cmd."));                 // halves in two flows: no match
        Assert.Contains(cleanText, p => p.StartsWith("exe "));
        Assert.Contains(cleanText, p => p.Contains("../../"));                // to port 8080: the rule does not apply
        Assert.DoesNotContain(cleanText, p => p.Contains("root"));            // dropped
        Assert.Contains(cleanText, p => p.Contains("ls\r\n"));                // the rest of the telnet flow passes
        Assert.Equal(5, File.ReadAllLines(log).Count(l => l.StartsWith("ALERT: ")));
    }

    // ------------------------------------------------------------------ BRAS

    [Fact]
    public void BrasPolicesEachSubscriberToItsPlanAndAccountsForIt()
    {
        string outPcap = Tmp("bras.pcap");
        var r = Run("--simtime", "examples/bras.click", $"OUT={outPcap}");
        // Each stream: 100 packets of 100 bytes, one every 10 ms (80 kbit/s). A bucket starts
        // full (1500 bytes: 20 ms of these rates is less) and earns RATE/8 bytes a second, so
        // over the 0.99 s from first to last packet a subscriber at R bit/s passes
        // min(100, floor((1500 + R/8 x 0.99) / 100)) packets:
        //   40 kbit/s (default up):   (1500 + 4950) / 100  = 64
        //   16 kbit/s (bronze):       (1500 + 1980) / 100  = 34
        //   64 kbit/s (default down): (1500 + 7920) / 100  = 94
        //   128 kbit/s (gold): all 100;  0 (suspended): none.
        Assert.Equal("""
            upstream 400 packets, 198 passed, 202 dropped
            downstream 200 packets, 194 passed, 6 dropped
            upstream per subscriber (address rate packets bytes dropped_packets dropped_bytes):
            100.64.1.2 128kbps 100 10000 0 0
            100.64.1.3 40kbps 64 6400 36 3600
            100.64.1.4 16kbps 34 3400 66 6600
            100.64.1.5 0kbps 0 0 100 10000
            downstream per subscriber:
            100.64.1.2 128kbps 100 10000 0 0
            100.64.1.3 64kbps 94 9400 6 600

            """, r.Stdout);
        var passed = ReadPcap(outPcap).Select(f => Ip(f)!).ToList();
        Assert.Equal(392, passed.Count);
        Assert.Equal(34, passed.Count(ip => ip.SourceAddress.ToString() == "100.64.1.4"));
        Assert.DoesNotContain(passed, ip => ip.SourceAddress.ToString() == "100.64.1.5");
    }

    [Fact]
    public void BrasPlanChangesTakeEffectThroughSetRate()
    {
        // The same traffic with the default upstream plan raised to 1 Mbit/s: now only the
        // subscribers with their own plan (bronze 16 kbit/s, suspended) lose packets.
        string cfg = Tmp("bras-upgrade.click");
        File.WriteAllText(cfg, File.ReadAllText(Path.Combine(ClickRunner.RepoRoot, "examples", "bras.click"))
            .Replace("write up.set_rate 100.64.1.5 0);", "write up.set_rate 100.64.1.5 0, write up.set_rate 100.64.1.3 1Mbps);"));
        var r = Run("--simtime", cfg, $"OUT={Tmp("o.pcap")}");
        Assert.Contains("100.64.1.3 1Mbps 100 10000 0 0\n", r.Stdout);
        Assert.Contains("upstream 400 packets, 234 passed, 166 dropped\n", r.Stdout);
    }
}
