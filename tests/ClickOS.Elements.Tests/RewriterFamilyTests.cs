using System.Net;
using System.Text;
using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>Address rewriters, named patterns, hash mapping, ICMP error rewriting, FTP, eviction and shared capacity.</summary>
public sealed partial class RewriterTests
{
    private string Pipe(string rewriter, string extra = "") => $"""
        rw :: {rewriter};
        FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> [0]rw;
        rw[0] -> fwd :: Counter -> ToDump({P("fwd.pcap")}, ENCAP IP) -> IPMirror -> [1]rw;
        rw[1] -> rev :: Counter -> ToDump({P("rev.pcap")}, ENCAP IP);
        {extra}
        """;

    [Fact]
    public void IPAddrRewriterMapsEachInsideHostToItsOwnAddressForEveryProtocol()
    {
        TestRouter.WritePcap(P("in.pcap"), [
            Udp("10.0.0.5", 5000, "192.0.2.9", 53), Tcp("10.0.0.6", 6000, "192.0.2.10", 80),
            Ping("10.0.0.5", "192.0.2.9", 3), Udp("10.0.0.7", 7000, "192.0.2.9", 53)]);
        using var t = TestRouter.Start(Pipe("IPAddrRewriter(pattern 198.51.100.1-198.51.100.2# - 0 1, drop)"));
        t.Run();
        // Two outside addresses for three inside hosts: the third is refused.
        Assert.Equal(3, t.ReadLong("fwd.count"));
        Assert.Equal(3, t.ReadLong("rev.count"));
        Assert.Equal(2, t.ReadLong("rw.table_size"));
        Assert.Equal(1, t.ReadLong("rw.mapping_failures"));
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        Assert.Equal(["198.51.100.1", "198.51.100.2", "198.51.100.1"], fwd.Select(p => p.SourceAddress.ToString()));
        Assert.All(fwd, p => Assert.True(p.ValidIPChecksum));
        Assert.Equal(5000, ((UdpPacket)fwd[0].PayloadPacket).SourcePort); // ports untouched
        Assert.True(((UdpPacket)fwd[0].PayloadPacket).ValidUdpChecksum);
        Assert.True(((TcpPacket)fwd[1].PayloadPacket).ValidTcpChecksum);
        var rev = ReadIP(P("rev.pcap"));
        Assert.Equal(["10.0.0.5", "10.0.0.6", "10.0.0.5"], rev.Select(p => p.DestinationAddress.ToString()));
        Assert.True(((UdpPacket)rev[0].PayloadPacket).ValidUdpChecksum);
        Assert.True(((TcpPacket)rev[1].PayloadPacket).ValidTcpChecksum);
        Assert.Contains("IP", t.Read("rw.table"));
    }

    [Fact]
    public void IPAddrPairRewriterRewritesDestinationsPerAddressPair()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "203.0.113.1", 53), Tcp("10.0.0.5", 6000, "203.0.113.1", 80), Udp("10.0.0.6", 5000, "203.0.113.1", 53)]);
        using var t = TestRouter.Start(Pipe("IPAddrPairRewriter(pattern - 10.10.0.9 0 1, drop)"));
        t.Run();
        Assert.Equal(2, t.ReadLong("rw.table_size")); // (10.0.0.5, 203.0.113.1) and (10.0.0.6, 203.0.113.1)
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        Assert.All(fwd, p => Assert.Equal("10.10.0.9", p.DestinationAddress.ToString()));
        Assert.True(((TcpPacket)fwd[1].PayloadPacket).ValidTcpChecksum);
        var rev = ReadIP(P("rev.pcap"));
        Assert.All(rev, p => Assert.Equal("203.0.113.1", p.SourceAddress.ToString()));
        Assert.Equal(["10.0.0.5", "10.0.0.5", "10.0.0.6"], rev.Select(p => p.DestinationAddress.ToString()));
        Assert.All(rev, p => Assert.True(p.ValidIPChecksum));
    }

    [Fact]
    public void NamedPatternsAreSharedBetweenInputsAndRewriters()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Udp("10.0.0.6", 5000, "192.0.2.9", 53)]);
        using var t = TestRouter.Start(Pipe("IPRewriter(pattern out 0 1, drop)", "IPRewriterPatterns(out 198.51.100.7 50000-50009# - -);"));
        t.Run();
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        Assert.Equal([50000, 50001], fwd.Select(p => (int)((UdpPacket)p.PayloadPacket).SourcePort));
        Assert.All(fwd, p => Assert.Equal("198.51.100.7", p.SourceAddress.ToString()));
        Assert.Equal("198.51.100.7 50000-50009 - - [2]\n<drop>\n", t.Read("rw.patterns"));
    }

    [Theory]
    [InlineData("IPRewriterPatterns(a 1.2.3.4 - - -, a 1.2.3.5 - - -); Idle -> rw :: IPRewriter(pattern a 0 0) -> Discard;", "pattern name 'a' is already defined")]
    [InlineData("Idle -> rw :: IPRewriter(pattern nosuch 0 0) -> Discard;", "no pattern named 'nosuch'")]
    [InlineData("IPRewriterPatterns(a 1.2.3.4 1000 - -); Idle -> rw :: IPAddrRewriter(pattern a 0 0) -> Discard;", "needs an address pattern")]
    [InlineData("Idle -> rw :: IPAddrRewriter(pattern 1.2.3.4 5.6.7.8 0 0) -> Discard;", "DADDR must be '-'")]
    [InlineData("Idle -> rw :: IPRewriter(pattern 1.2.3.4 - - - 0 0, MAPPING_CAPACITY nosuch) -> Discard;", "'nosuch' is not a rewriter element")]
    [InlineData("Idle -> ICMPRewriter(nosuch) -> Discard;", "'nosuch' is not an IPRewriter-like element")]
    [InlineData("map :: SourceIPHashMapper(4, - - 1.2.3.4 - 0 0 1); Idle -> rw :: IPRewriter(map) -> Discard;", "expected 'NNODES SEED'")]
    public void FamilyConfigurationErrorsAreClear(string config, string message)
    {
        var t = new TestRouter(config);
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }

    [Fact]
    public void SourceIPHashMapperKeepsASourceOnOneBackendAndIsConsistent()
    {
        static Dictionary<uint, int> Assign(string servers)
        {
            using var t = TestRouter.Start($"map :: SourceIPHashMapper(64 0xbadbeef, {servers}); Idle -> rw :: IPRewriter(map) -> Discard;");
            var m = (SourceIPHashMapper)t.Router!.FindElement("map", null)!;
            var res = new Dictionary<uint, int>();
            for (uint s = 0; s < 4000; s++) res[0x0A000000u + s * 7919] = m.ServerFor(0x0A000000u + s * 7919);
            return res;
        }
        const string a = "- - 10.10.0.1 - 0 0 11", b = "- - 10.10.0.2 - 0 0 22", c = "- - 10.10.0.3 - 0 0 33", d = "- - 10.10.0.4 - 0 0 44";
        var four = Assign($"{a}, {b}, {c}, {d}");
        var three = Assign($"{a}, {b}, {c}");
        // Balanced within 40% of a fair share.
        foreach (var g in four.Values.GroupBy(x => x)) Assert.InRange(g.Count(), 600, 1400);
        // Removing backend 3 (ID 44) moves only its own sources.
        foreach (var (src, srv) in four)
            if (srv != 3) Assert.Equal(srv, three[src]);

        // In a rewriter: many flows of one source all go to one backend.
        var frames = Enumerable.Range(0, 20).Select(i => Tcp("10.0.0.5", (ushort)(1000 + i), "203.0.113.80", 80)).ToList();
        frames.AddRange(Enumerable.Range(0, 20).Select(i => Tcp($"10.0.1.{i + 1}", 1000, "203.0.113.80", 80)));
        TestRouter.WritePcap(P("in.pcap"), frames);
        using var r = TestRouter.Start($"""
            map :: SourceIPHashMapper(64 0xbadbeef, {a.Replace(" 0 0 ", " 0 1 ")}, {b.Replace(" 0 0 ", " 0 1 ")}, {c.Replace(" 0 0 ", " 0 1 ")});
            rw :: IPRewriter(map);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> rw -> ToDump({P("fwd.pcap")}, ENCAP IP);
            rw[1] -> Discard;
            """);
        r.Run();
        r.AssertNoLeaks();
        var dsts = ReadIP(P("fwd.pcap")).Select(p => p.DestinationAddress.ToString()).ToList();
        Assert.Single(dsts.Take(20).Distinct());
        Assert.True(dsts.Skip(20).Distinct().Count() >= 2);
    }

    [Fact]
    public void ICMPRewriterTranslatesErrorsQuotingRewrittenPackets()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Tcp("10.0.0.6", 6000, "192.0.2.9", 80)]);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> rw;
            rw[0] -> ToDump({P("fwd.pcap")}, ENCAP IP) -> ICMPError(192.0.2.254, unreachable, port) -> icmp :: ICMPRewriter(rw);
            rw[1] -> Discard;
            icmp[0] -> ToDump({P("err.pcap")}, ENCAP IP);
            icmp[1] -> other :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(2, t.ReadLong("icmp.rewritten"));
        Assert.Equal(0, t.ReadLong("other.count"));
        t.AssertNoLeaks();
        var errs = ReadIP(P("err.pcap"));
        Assert.Equal(2, errs.Count);
        string[] hosts = ["10.0.0.5", "10.0.0.6"];
        ushort[] ports = [5000, 6000];
        for (int i = 0; i < 2; i++)
        {
            var e = errs[i];
            Assert.Equal(hosts[i], e.DestinationAddress.ToString());
            Assert.Equal("192.0.2.254", e.SourceAddress.ToString());
            Assert.True(e.ValidIPChecksum);
            var icmp = (IcmpV4Packet)e.PayloadPacket;
            Assert.Equal(0, ClickOS.Core.InternetChecksum.Compute(icmp.Bytes));
            var quoted = icmp.Bytes.AsSpan(8).ToArray();
            var inner = new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(quoted[..20]));
            Assert.Equal(hosts[i], inner.SourceAddress.ToString());
            Assert.Equal("192.0.2.9", inner.DestinationAddress.ToString());
            Assert.Equal(0, ClickOS.Core.InternetChecksum.Compute(quoted.AsSpan(0, 20)));
            Assert.Equal(ports[i], (quoted[20] << 8) | quoted[21]);
        }
    }

    [Fact]
    public void ICMPRewriterPassesUnmappedAndNonErrorPacketsToOutput1()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Ping("10.0.0.5", "192.0.2.9", 3)]);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1);
            Idle -> rw; rw[0], rw[1] -> Discard;
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> c :: IPClassifier(udp, -);
            c[0] -> ICMPError(192.0.2.254, unreachable, port) -> icmp :: ICMPRewriter(rw);
            c[1] -> icmp;
            icmp[0] -> ok :: Counter -> Discard;
            icmp[1] -> other :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(0, t.ReadLong("ok.count"));
        Assert.Equal(2, t.ReadLong("other.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void ICMPRewriterInPullModeKeepsRewrittenErrorsAndPushesTheRest()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53), Ping("10.0.0.5", "192.0.2.9", 3), Udp("10.0.0.6", 5000, "192.0.2.9", 53)]);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1);
            rw[1] -> Discard;
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> c :: IPClassifier(udp, -);
            c[0] -> rw -> ICMPError(192.0.2.254, unreachable, port) -> q :: Queue;
            c[1] -> q;
            q -> icmp :: ICMPRewriter(rw) -> u :: Unqueue -> ok :: Counter -> Discard;
            icmp[1] -> other :: Counter -> Discard;
            DriverManager(wait 100ms, stop);
            """);
        t.Run();
        Assert.Equal(2, t.ReadLong("ok.count"));
        Assert.Equal(1, t.ReadLong("other.count"));
        Assert.Equal(2, t.ReadLong("icmp.rewritten"));
        t.AssertNoLeaks();
    }

    private static byte[] TcpData(string src, ushort sp, string dst, ushort dp, uint seq, uint ack, string payload, bool ackFlag = true)
    {
        var tcp = new TcpPacket(sp, dp) { SequenceNumber = seq, AcknowledgmentNumber = ack, Acknowledgment = ackFlag, Push = true, WindowSize = 5000, PayloadData = Encoding.ASCII.GetBytes(payload) };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = tcp, TimeToLive = 64 };
        tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return Eth(ip);
    }

    [Fact]
    public void FTPPortMapperRewritesPortCommandsInstallsDataMappingsAndShiftsSequenceNumbers()
    {
        TestRouter.WritePcap(P("in.pcap"), [
            TcpData("10.0.0.2", 6587, "203.0.113.2", 21, 1000, 1, "USER x\r\n"),
            TcpData("10.0.0.2", 6587, "203.0.113.2", 21, 1008, 1, "PORT 10,0,0,2,3,9\r\n"),
            TcpData("10.0.0.2", 6587, "203.0.113.2", 21, 1027, 1, "LIST\r\n")]);
        using var t = TestRouter.Start($"""
            ctl :: TCPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1, drop);
            data :: TCPRewriter(drop);
            Idle -> data -> Discard; data[1] -> Discard;
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> ftp :: FTPPortMapper(ctl, data, 198.51.100.1 50000-50999# - - 0 1) -> [0]ctl;
            ctl[0] -> ToDump({P("fwd.pcap")}, ENCAP IP) -> IPMirror -> [1]ctl;
            ctl[1] -> ToDump({P("rev.pcap")}, ENCAP IP);
            """);
        t.Run();
        Assert.Equal(1, t.ReadLong("ftp.port_commands"));
        Assert.Equal(1, t.ReadLong("data.table_size"));
        Assert.Contains("(10.0.0.2, 777, 203.0.113.2, 20) => (198.51.100.1, 50000, 203.0.113.2, 20)", t.Read("data.table"));
        t.AssertNoLeaks();
        var fwd = ReadIP(P("fwd.pcap"));
        var port = (TcpPacket)fwd[1].PayloadPacket;
        Assert.Equal("PORT 198,51,100,1,195,80\r\n", Encoding.ASCII.GetString(port.PayloadData));
        Assert.True(port.ValidTcpChecksum);
        Assert.True(fwd[1].ValidIPChecksum);
        Assert.Equal(20 + 20 + 26, fwd[1].TotalLength);
        int delta = "PORT 198,51,100,1,195,80\r\n".Length - "PORT 10,0,0,2,3,9\r\n".Length;
        Assert.Equal(1008u, port.SequenceNumber);                 // the PORT packet itself keeps its number
        var list = (TcpPacket)fwd[2].PayloadPacket;
        Assert.Equal((uint)(1027 + delta), list.SequenceNumber);  // later data moves by the growth
        Assert.True(list.ValidTcpChecksum);
        // IPMirror turns each forward packet into a "reply" whose ACK is the forward SEQ: after
        // the rewriter, replies must acknowledge in the client's original numbering.
        var rev = ReadIP(P("rev.pcap"));
        Assert.Equal(1027u, ((TcpPacket)rev[2].PayloadPacket).AcknowledgmentNumber);
        Assert.Equal(1008u, ((TcpPacket)rev[1].PayloadPacket).AcknowledgmentNumber);
        Assert.All(rev, p => Assert.True(((TcpPacket)p.PayloadPacket).ValidTcpChecksum));
    }

    [Fact]
    public void AFullTableEvictsTheOldestFlowPastItsGuarantee()
    {
        TestRouter.WritePcap(P("in.pcap"), Enumerable.Range(0, 30).Select(i => Udp($"10.0.0.{i + 1}", 5000, "192.0.2.9", 53)).ToList());
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, CAPACITY 10, GUARANTEE 2);
            src :: FromDump({P("in.pcap")}, TIMING true) -> Strip(14) -> CheckIPHeader -> rw -> Discard; rw[1] -> Discard;
            DriverManager(wait 40s, stop);
            """, simtime: true);
        t.Run();
        // Packets come a second apart: each new flow past the tenth finds the oldest idle > 2 s.
        Assert.Equal(10, t.ReadLong("rw.table_size"));
        Assert.Equal(20, t.ReadLong("rw.evictions"));
        Assert.Equal(0, t.ReadLong("rw.mapping_failures"));
        var table = t.Read("rw.table");
        Assert.Contains("(10.0.0.30, 5000,", table);
        Assert.DoesNotContain("(10.0.0.20, 5000,", table);
        t.AssertNoLeaks();
    }

    [Fact]
    public void GuaranteedFlowsAreNotEvictedAndCapacityIsWritable()
    {
        TestRouter.WritePcap(P("in.pcap"), Enumerable.Range(0, 30).Select(i => Udp($"10.0.0.{i + 1}", 5000, "192.0.2.9", 53)).ToList());
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, CAPACITY 10, GUARANTEE 60);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> rw -> Discard; rw[1] -> Discard;
            """);
        t.Run();
        Assert.Equal(10, t.ReadLong("rw.table_size"));
        Assert.Equal(0, t.ReadLong("rw.evictions"));
        Assert.Equal(20, t.ReadLong("rw.mapping_failures"));
        Assert.True(t.Write("rw.capacity", "25"));
        Assert.Equal("25", t.Read("rw.capacity").Trim());
        Assert.False(t.Write("rw.capacity", "lots"));
    }

    [Fact]
    public void MappingCapacityCanBeSharedWithAnotherRewriter()
    {
        TestRouter.WritePcap(P("in.pcap"), Enumerable.Range(0, 20).Select(i => Udp($"10.0.0.{i + 1}", 5000, "192.0.2.9", 53)).ToList());
        using var t = TestRouter.Start($"""
            a :: IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, CAPACITY 12, GUARANTEE 60);
            b :: UDPRewriter(pattern 198.51.100.2 1024-65535 - - 0 1, MAPPING_CAPACITY a, GUARANTEE 60);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> rr :: RoundRobinSwitch;
            rr[0] -> a -> Discard; a[1] -> Discard;
            rr[1] -> b -> Discard; b[1] -> Discard;
            """);
        t.Run();
        Assert.Equal(12, t.ReadLong("a.table_size") + t.ReadLong("b.table_size"));
        Assert.Equal(8, t.ReadLong("a.mapping_failures") + t.ReadLong("b.mapping_failures"));
    }
}

public sealed class RewriterLookupTests : IDisposable
{
    private readonly string _pcap = Path.Combine(Path.GetTempPath(), "clickos-rwl-" + Guid.NewGuid().ToString("N")[..8] + ".pcap");
    public void Dispose() => File.Delete(_pcap);

    [Fact]
    public void LookupHandlersReportTheRewrittenFlow()
    {
        // One UDP packet 10.0.0.1:40000 -> 8.8.8.8:53, built by InfiniteSource.
        using var t = TestRouter.Start("""
            InfiniteSource(DATA \<45000020 00000000 401160bd 0a000001 08080808 9c400035 000c0000 00000000>, LIMIT 1, STOP false)
              -> MarkIPHeader -> rw :: IPRewriter(pattern 198.51.100.1 50000-50010$ - - 0 1) -> Discard; rw[1] -> Discard;
            DriverManager(wait 10ms, print "[$(rw.udp_lookup 10.0.0.1 40000 8.8.8.8 53)][$(rw.tcp_lookup 10.0.0.1 40000 8.8.8.8 53)]", stop);
            """, simtime: true);
        t.Run();
        var m = System.Text.RegularExpressions.Regex.Match(t.Out.ToString(), @"^\[198\.51\.100\.1 (\d+) 8\.8\.8\.8 53\n?\]\[\]");
        Assert.True(m.Success, t.Out.ToString());
        Assert.InRange(int.Parse(m.Groups[1].Value), 50000, 50010);
    }
}
