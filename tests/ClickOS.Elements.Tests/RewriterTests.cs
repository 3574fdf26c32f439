using System.Net;
using System.Net.NetworkInformation;
using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>The IPRewriter family: mappings both ways, checksums (checked by PacketDotNet), specs, limits, expiry.</summary>
public sealed partial class RewriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-rw-" + Guid.NewGuid().ToString("N")[..8]);
    public RewriterTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private static byte[] Eth(IPv4Packet ip)
    {
        var e = new EthernetPacket(PhysicalAddress.Parse("020000000001"), PhysicalAddress.Parse("020000000002"), EthernetType.IPv4) { PayloadPacket = ip };
        return e.Bytes;
    }

    private static byte[] Udp(string src, ushort sp, string dst, ushort dp, bool checksum = true, int payload = 11)
    {
        var u = new UdpPacket(sp, dp) { PayloadData = Enumerable.Range(0, payload).Select(i => (byte)(i * 7)).ToArray() };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = u, TimeToLive = 64 };
        u.UpdateUdpChecksum();
        if (!checksum) u.Checksum = 0;
        ip.UpdateIPChecksum();
        return Eth(ip);
    }

    private static byte[] Tcp(string src, ushort sp, string dst, ushort dp, bool syn = true, bool fin = false)
    {
        var t = new TcpPacket(sp, dp) { Synchronize = syn, Finished = fin, SequenceNumber = 1000, WindowSize = 5000, PayloadData = [1, 2, 3, 4, 5] };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = t, TimeToLive = 64 };
        t.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return Eth(ip);
    }

    private static byte[] Ping(string src, string dst, ushort id, bool reply = false)
    {
        var icmp = new IcmpV4Packet(new PacketDotNet.Utils.ByteArraySegment(new byte[16]))
        {
            TypeCode = reply ? IcmpV4TypeCode.EchoReply : IcmpV4TypeCode.EchoRequest, Id = id, Sequence = 7,
        };
        icmp.Checksum = 0;
        icmp.Checksum = (ushort)ClickOS.Core.InternetChecksum.Compute(icmp.Bytes);
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = icmp, TimeToLive = 64 };
        ip.UpdateIPChecksum();
        return Eth(ip);
    }

    /// <summary>Reads an ENCAP IP pcap written by ToDump: each record as a PacketDotNet IPv4 packet.</summary>
    private static List<IPv4Packet> ReadIP(string path)
    {
        var b = File.ReadAllBytes(path);
        var list = new List<IPv4Packet>();
        for (int pos = 24; pos + 16 <= b.Length;)
        {
            int cap = BitConverter.ToInt32(b, pos + 8);
            list.Add(new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(b.AsSpan(pos + 16, cap).ToArray())));
            pos += 16 + cap;
        }
        return list;
    }

    private string Nat(string spec, string extra = "") => $"""
        rw :: IPRewriter({spec}, drop{extra});
        FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> [0]rw;
        rw[0] -> fwd :: Counter -> ToDump({P("fwd.pcap")}, ENCAP IP) -> IPMirror -> [1]rw;
        rw[1] -> rev :: Counter -> ToDump({P("rev.pcap")}, ENCAP IP);
        """;

    [Fact]
    public void NaptRewritesBothWaysWithValidChecksums()
    {
        TestRouter.WritePcap(P("in.pcap"), [
            Udp("10.0.0.5", 5000, "192.0.2.9", 53), Tcp("10.0.0.6", 6000, "192.0.2.10", 80),
            Udp("10.0.0.5", 5000, "192.0.2.9", 53), Udp("10.0.0.7", 7000, "192.0.2.9", 53, checksum: false)]);
        using var t = TestRouter.Start(Nat("pattern 198.51.100.1 40000-40010# - - 0 1"));
        t.Run();
        Assert.Equal(4, t.ReadLong("fwd.count"));
        Assert.Equal(4, t.ReadLong("rev.count"));
        Assert.Equal(3, t.ReadLong("rw.table_size"));
        Assert.Equal("198.51.100.1 40000-40010 - - [3]\n<drop>\n", t.Read("rw.patterns"));
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        ushort[] ports = [40000, 40001, 40000, 40002];
        for (int i = 0; i < fwd.Count; i++)
        {
            Assert.Equal("198.51.100.1", fwd[i].SourceAddress.ToString());
            Assert.True(fwd[i].ValidIPChecksum);
            if (fwd[i].PayloadPacket is UdpPacket u)
            {
                Assert.Equal(ports[i], u.SourcePort);
                if (i == 3) Assert.Equal(0, u.Checksum); // "no checksum" stays so
                else Assert.True(u.ValidUdpChecksum);
            }
            else
            {
                var tcp = (TcpPacket)fwd[i].PayloadPacket;
                Assert.Equal(ports[i], tcp.SourcePort);
                Assert.True(tcp.ValidTcpChecksum);
            }
        }
        // Replies come back to the original hosts and ports, checksums intact.
        var rev = ReadIP(P("rev.pcap"));
        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.5", "10.0.0.7"], rev.Select(r => r.DestinationAddress.ToString()));
        Assert.All(rev, r => Assert.True(r.ValidIPChecksum));
        Assert.Equal(5000, ((UdpPacket)rev[0].PayloadPacket).DestinationPort);
        Assert.True(((UdpPacket)rev[0].PayloadPacket).ValidUdpChecksum);
        Assert.True(((TcpPacket)rev[1].PayloadPacket).ValidTcpChecksum);
    }

    [Fact]
    public void SourcePortIsKeptWhenFreeAndExhaustedRangesAreCountedFailures()
    {
        var frames = Enumerable.Range(0, 6).Select(i => Udp($"10.0.0.{i + 1}", 40001, "192.0.2.9", 53)).ToList();
        TestRouter.WritePcap(P("in.pcap"), frames);
        using var t = TestRouter.Start(Nat("pattern 198.51.100.1 40000-40003 - - 0 1"));
        t.Run();
        Assert.Equal(4, t.ReadLong("fwd.count"));
        Assert.Equal(2, t.ReadLong("rw.mapping_failures"));
        t.AssertNoLeaks();
        var ports = ReadIP(P("fwd.pcap")).Select(p => (int)((UdpPacket)p.PayloadPacket).SourcePort).ToList();
        Assert.Equal(40001, ports[0]);                       // the packet's own port, free
        Assert.Equal(4, ports.Distinct().Count());           // then other free ports of the range
        Assert.All(ports, p => Assert.InRange(p, 40000, 40003));
    }

    [Fact]
    public void CapacityBoundsTheTableUnderAFloodOfNewFlows()
    {
        // A SYN flood from 500 sources: the table never exceeds CAPACITY; the rest are counted failures.
        var frames = Enumerable.Range(0, 500).Select(i => Tcp($"10.{i >> 8}.{i & 255}.1", (ushort)(1024 + i), "192.0.2.1", 80)).ToList();
        TestRouter.WritePcap(P("in.pcap"), frames);
        using var t = TestRouter.Start(Nat("pattern 198.51.100.1 1024-65535 - - 0 1", ", CAPACITY 100"));
        t.Run();
        Assert.Equal(100, t.ReadLong("rw.table_size"));
        Assert.Equal(400, t.ReadLong("rw.mapping_failures"));
        Assert.Equal(100, t.ReadLong("fwd.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void KeepAndPassSpecs()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Ping("10.0.0.5", "192.0.2.9", 9)]);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(keep 0 1, pass 2);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> c :: IPClassifier(udp, -);
            c[0] -> [0]rw; c[1] -> [1]rw;
            rw[0] -> a :: Counter -> ToDump({P("fwd.pcap")}, ENCAP IP);
            rw[1] -> b :: Counter -> Discard;
            rw[2] -> passed :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(1, t.ReadLong("a.count"));
        Assert.Equal(1, t.ReadLong("passed.count"));
        Assert.Equal(1, t.ReadLong("rw.table_size"));
        t.AssertNoLeaks();
        var f = ReadIP(P("fwd.pcap"))[0];
        Assert.Equal("10.0.0.5", f.SourceAddress.ToString());
        Assert.Equal(5000, ((UdpPacket)f.PayloadPacket).SourcePort);
    }

    [Fact]
    public void RoundRobinMapperSpreadsFlowsAndTheyStick()
    {
        var frames = new List<byte[]>();
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < 6; i++) frames.Add(Tcp($"10.0.0.{i + 1}", 1000, "203.0.113.80", 80));
        TestRouter.WritePcap(P("in.pcap"), frames);
        using var t = TestRouter.Start($"""
            lb :: RoundRobinIPMapper(- - 10.10.0.1 - 0 1, - - 10.10.0.2 - 0 1, - - 10.10.0.3 8080 0 1);
            rw :: IPRewriter(lb);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> rw -> ToDump({P("fwd.pcap")}, ENCAP IP);
            rw[1] -> Discard;
            """);
        t.Run();
        Assert.Equal(6, t.ReadLong("rw.table_size"));
        t.AssertNoLeaks();
        var dsts = ReadIP(P("fwd.pcap")).Select(p => $"{p.DestinationAddress}:{((TcpPacket)p.PayloadPacket).DestinationPort}").ToList();
        string[] first = ["10.10.0.1:80", "10.10.0.2:80", "10.10.0.3:8080", "10.10.0.1:80", "10.10.0.2:80", "10.10.0.3:8080"];
        Assert.Equal(first.Concat(first), dsts);
        Assert.All(ReadIP(P("fwd.pcap")), p => Assert.True(((TcpPacket)p.PayloadPacket).ValidTcpChecksum));
    }

    [Fact]
    public void PingRewriterTranslatesIdentifiersBothWays()
    {
        TestRouter.WritePcap(P("in.pcap"), [Ping("10.0.0.5", "192.0.2.9", 77), Ping("10.0.0.6", "192.0.2.9", 77)]);
        using var t = TestRouter.Start($"""
            rw :: ICMPPingRewriter(pattern 198.51.100.1 40000-40999# - - 0 1, drop);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> [0]rw;
            rw[0] -> ToDump({P("fwd.pcap")}, ENCAP IP) -> ICMPPingResponder -> [1]rw;
            rw[1] -> ToDump({P("rev.pcap")}, ENCAP IP);
            """);
        t.Run();
        Assert.Equal(2, t.ReadLong("rw.table_size"));
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        Assert.Equal([40000, 40001], fwd.Select(p => (int)((IcmpV4Packet)p.PayloadPacket).Id));
        Assert.All(fwd, p => Assert.Equal(0, ClickOS.Core.InternetChecksum.Compute(((IcmpV4Packet)p.PayloadPacket).Bytes)));
        var rev = ReadIP(P("rev.pcap"));
        Assert.Equal(["10.0.0.5", "10.0.0.6"], rev.Select(p => p.DestinationAddress.ToString()));
        Assert.All(rev, p => Assert.Equal(77, ((IcmpV4Packet)p.PayloadPacket).Id));
        Assert.All(rev, p => Assert.True(p.ValidIPChecksum));
    }

    [Fact]
    public void IdleFlowsExpireAfterTheirTimeout()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Udp("10.0.0.6", 5000, "192.0.2.9", 53)]);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 40000-40010# - - 0 1, UDP_TIMEOUT 2, REAP_INTERVAL 1);
            FromDump({P("in.pcap")}) -> Strip(14) -> CheckIPHeader -> rw -> Discard; rw[1] -> Discard;
            DriverManager(wait 1s, set before $(rw.table_size), wait 4s, print "$before $(rw.table_size)", stop);
            """, simtime: true);
        t.Run();
        Assert.Equal("2 0", t.Out.ToString().Trim());
    }

    [Theory]
    [InlineData("IPRewriter(bogus spec here, drop)", "bad input specification")]
    [InlineData("IPRewriter(pattern 1.2.3.4 99999 - - 0 1, drop)", "bad source port")]
    [InlineData("IPRewriter(pattern 1.2.3.4 10-5 - - 0 1, drop)", "bad source port range")]
    [InlineData("IPRewriter(pass 7, drop)", "output port '7' out of range")]
    [InlineData("IPRewriter(nosuchmapper, drop)", "'nosuchmapper' is not an element")]
    public void BadSpecsGiveClearErrors(string element, string message)
    {
        var t = new TestRouter($"Idle -> rw :: {element} -> Discard; Idle -> [1]rw; rw[1] -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }

    [Fact]
    public void FlowTableMatchesADictionaryUnderRandomAddsAndRemoves()
    {
        var table = new FlowTable(int.MaxValue);
        var model = new Dictionary<(FlowId, byte), (int Index, bool Reply)>();
        var live = new List<int>();
        var rng = new Random(3);
        for (int step = 0; step < 60000; step++)
        {
            if (live.Count > 0 && rng.Next(3) == 0)
            {
                int k = rng.Next(live.Count);
                int fi = live[k];
                live.RemoveAt(k);
                ref var f = ref table[fi];
                model.Remove((f.In, f.Proto));
                model.Remove((f.Out.Reverse(), f.Proto));
                table.Remove(fi);
                continue;
            }
            var inId = new FlowId((uint)rng.Next(1, 50), (ushort)rng.Next(1, 20), (uint)rng.Next(1, 50), (ushort)rng.Next(1, 20));
            var outId = new FlowId(999, (ushort)rng.Next(1, 60000), inId.Daddr, inId.Dport);
            byte proto = rng.Next(2) == 0 ? (byte)6 : (byte)17;
            if (model.ContainsKey((inId, proto)) || model.ContainsKey((outId.Reverse(), proto)) || inId == outId.Reverse()) continue;
            int idx = table.Add(inId, outId, proto, 0, 1, -1, 0);
            live.Add(idx);
            model[(inId, proto)] = (idx, false);
            model[(outId.Reverse(), proto)] = (idx, true);
            if (step % 1999 == 0)
                foreach (var ((id, pr), v) in model)
                {
                    Assert.Equal(v.Index, table.Find(id, pr, out bool reply));
                    Assert.Equal(v.Reply, reply);
                }
        }
        Assert.Equal(live.Count, table.Count);
    }
}
