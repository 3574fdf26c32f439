using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>ConnTrack (the stateful firewall) and adversarial traffic against it and the NAT.</summary>
public sealed partial class RewriterTests
{
    // Inside traffic on input 0, outside traffic on input 1; IPMirror makes each inside packet's reply.
    private string Firewall(string extra = "", string ct = "ConnTrack") => $"""
        ct :: {ct};
        FromDump({P("in.pcap")}) -> Strip(14) -> CheckIPHeader -> [0]ct;
        outside :: FromDump({P("out.pcap")}, ACTIVE false) -> Strip(14) -> CheckIPHeader -> [1]ct;
        ct[0] -> sent :: Counter -> Discard;
        ct[1] -> allowed :: Counter -> ToDump({P("allowed.pcap")}, ENCAP IP);
        ct[2] -> denied :: Counter -> Discard;
        DriverManager(wait 1s, write outside.active true, wait 1s, stop);
        {extra}
        """;

    private static byte[] Mirror(byte[] frame)
    {
        var e = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, (byte[])frame.Clone()); // PacketDotNet edits in place
        var ip = (IPv4Packet)e.PayloadPacket;
        (ip.SourceAddress, ip.DestinationAddress) = (ip.DestinationAddress, ip.SourceAddress);
        if (ip.PayloadPacket is UdpPacket u) { (u.SourcePort, u.DestinationPort) = (u.DestinationPort, u.SourcePort); u.UpdateUdpChecksum(); }
        if (ip.PayloadPacket is TcpPacket t) { (t.SourcePort, t.DestinationPort) = (t.DestinationPort, t.SourcePort); t.Synchronize = true; t.Acknowledgment = true; t.UpdateTcpChecksum(); }
        if (ip.PayloadPacket is IcmpV4Packet i)
        {
            i.TypeCode = IcmpV4TypeCode.EchoReply;
            i.Checksum = 0;
            i.Checksum = (ushort)ClickOS.Core.InternetChecksum.Compute(i.Bytes);
        }
        ip.UpdateIPChecksum();
        return e.Bytes;
    }

    [Fact]
    public void ConnTrackAdmitsRepliesAndRelatedErrorsAndDeniesTheRest()
    {
        var udp = Udp("10.0.0.5", 5000, "192.0.2.9", 53);
        var tcp = Tcp("10.0.0.6", 6000, "192.0.2.10", 80);
        var ping = Ping("10.0.0.7", "192.0.2.9", 42);
        TestRouter.WritePcap(P("in.pcap"), [udp, tcp, ping, Tcp("10.0.0.6", 6000, "192.0.2.10", 80, syn: false, fin: true)]);
        // An ICMP error quoting the UDP packet, built by ICMPError from a copy of it.
        TestRouter.WritePcap(P("err-src.pcap"), [udp]);
        using (var e = TestRouter.Start($"FromDump({P("err-src.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> ICMPError(192.0.2.254, unreachable, port) -> EtherEncap(0x0800, 2:0:0:0:0:1, 2:0:0:0:0:2) -> ToDump({P("err.pcap")})"))
            e.Run();
        var err = File.ReadAllBytes(P("err.pcap"))[40..];
        TestRouter.WritePcap(P("out.pcap"), [
            Mirror(udp), Mirror(tcp), Mirror(ping), err,
            Udp("192.0.2.9", 53, "10.0.0.5", 5001),     // wrong port: not a reply
            Udp("10.0.0.5", 5000, "192.0.2.9", 53),     // the inside's own tuple, from outside: spoofed
            Tcp("198.51.100.66", 4444, "10.0.0.6", 22), // unsolicited
        ]);
        using var t = TestRouter.Start(Firewall("", "ConnTrack(UDP_TIMEOUT 30)"), simtime: true);
        t.Run();
        Assert.Equal(4, t.ReadLong("sent.count"));
        Assert.Equal(4, t.ReadLong("allowed.count"));
        Assert.Equal(3, t.ReadLong("denied.count"));
        Assert.Equal(1, t.ReadLong("ct.related"));
        Assert.Equal(3, t.ReadLong("ct.count"));
        var table = t.Read("ct.table");
        Assert.Contains("UDP (10.0.0.5, 5000, 192.0.2.9, 53) answered", table);
        Assert.Contains("TCP (10.0.0.6, 6000, 192.0.2.10, 80) closing", table);
        Assert.Contains("ICMP (10.0.0.7, 42, 192.0.2.9, 0) answered", table);
        t.AssertNoLeaks();
    }

    [Fact]
    public void ConnTrackFlowsExpireAndLaterRepliesAreDenied()
    {
        TestRouter.WritePcap(P("in.pcap"), [Udp("10.0.0.5", 5000, "192.0.2.9", 53)]);
        TestRouter.WritePcap(P("out.pcap"), [Mirror(Udp("10.0.0.5", 5000, "192.0.2.9", 53))]);
        using var t = TestRouter.Start($"""
            ct :: ConnTrack(UDP_TIMEOUT 2, REAP_INTERVAL 1);
            FromDump({P("in.pcap")}, STOP false) -> Strip(14) -> CheckIPHeader -> [0]ct;
            late :: FromDump({P("out.pcap")}, ACTIVE false) -> Strip(14) -> CheckIPHeader -> [1]ct;
            ct[0] -> Discard; ct[1] -> allowed :: Counter -> Discard; ct[2] -> denied :: Counter -> Discard;
            DriverManager(wait 1s, set n $(ct.count), wait 4s, write late.active true, wait 1s, print "$n $(ct.count) $(allowed.count) $(denied.count)", stop);
            """, simtime: true);
        t.Run();
        Assert.Equal("1 0 0 1", t.Out.ToString().Trim());
    }

    [Fact]
    public void StrictConnTrackStartsTcpFlowsOnlyWithSyn()
    {
        TestRouter.WritePcap(P("in.pcap"), [Tcp("10.0.0.6", 6000, "192.0.2.10", 80, syn: false), Tcp("10.0.0.6", 6001, "192.0.2.10", 80)]);
        TestRouter.WritePcap(P("out.pcap"), []);
        using var t = TestRouter.Start(Firewall("", "ConnTrack(STRICT true)"), simtime: true);
        t.Run();
        Assert.Equal(1, t.ReadLong("sent.count"));
        Assert.Equal(1, t.ReadLong("ct.count"));
        Assert.Equal(1, t.ReadLong("ct.denied"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void SynFloodFromInsideIsBoundedByCapacityAndSparesEstablishedConnections()
    {
        // Ten real connections, answered; then a 2,000-flow SYN flood (a scan of the outside).
        var inside = Enumerable.Range(0, 10).Select(i => Tcp("10.0.0.6", (ushort)(6000 + i), "192.0.2.10", 443)).ToList();
        var rnd = new Random(7);
        var flood = Enumerable.Range(0, 2000).Select(i => Tcp($"10.0.{rnd.Next(256)}.{rnd.Next(1, 255)}", (ushort)rnd.Next(1024, 65535), $"192.0.{i % 256}.{i / 256 + 1}", (ushort)(1 + i % 1024))).ToList();
        var outside = inside.Select(Mirror).ToList();
        TestRouter.WritePcap(P("in.pcap"), inside);
        TestRouter.WritePcap(P("flood.pcap"), flood);
        TestRouter.WritePcap(P("out.pcap"), outside);
        TestRouter.WritePcap(P("late.pcap"), outside);
        using var t = TestRouter.Start($"""
            ct :: ConnTrack(CAPACITY 100);
            FromDump({P("in.pcap")}) -> Strip(14) -> CheckIPHeader -> [0]ct;
            flood :: FromDump({P("flood.pcap")}, ACTIVE false) -> Strip(14) -> CheckIPHeader -> [0]ct;
            outside :: FromDump({P("out.pcap")}, ACTIVE false) -> Strip(14) -> CheckIPHeader -> [1]ct;
            late :: FromDump({P("late.pcap")}, ACTIVE false) -> Strip(14) -> CheckIPHeader -> [1]ct;
            ct[0] -> Discard; ct[1] -> allowed :: Counter -> Discard; ct[2] -> denied :: Counter -> Discard;
            DriverManager(wait 1s, write outside.active true, wait 1s, write flood.active true, wait 2s, write late.active true, wait 1s, stop);
            """, simtime: true);
        t.Run();
        Assert.Equal(100, t.ReadLong("ct.count"));
        // 2,010 flows tried, 100 held: every other one either pushed a flow out or was refused.
        Assert.Equal(1910, t.ReadLong("ct.table_full") + t.ReadLong("ct.evictions"));
        // The established connections' replies still pass after the flood.
        Assert.True(20 == t.ReadLong("allowed.count"), $"denied {t.Read("denied.count")} full {t.Read("ct.table_full")} ev {t.Read("ct.evictions")} table {t.Read("ct.table")}");
        Assert.Equal(10, t.Read("ct.table").Split('\n').Count(l => l.Contains("established")));
        t.AssertNoLeaks();
    }

    [Fact]
    public void PortScanFromOutsideIsDeniedWithoutGrowingTheTable()
    {
        TestRouter.WritePcap(P("in.pcap"), []);
        TestRouter.WritePcap(P("out.pcap"), Enumerable.Range(1, 3000).Select(port => Tcp("198.51.100.66", 40000, "10.0.0.6", (ushort)port)).ToList());
        using var t = TestRouter.Start(Firewall(), simtime: true);
        t.Run();
        Assert.Equal(3000, t.ReadLong("denied.count"));
        Assert.Equal(0, t.ReadLong("ct.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void TruncatedAndMalformedPacketsAreDeniedOrPassedNeverCrash()
    {
        var good = Udp("10.0.0.5", 5000, "192.0.2.9", 53);
        var frames = new List<byte[]>();
        for (int len = 14; len < good.Length; len += 3) frames.Add(good[..len]);
        TestRouter.WritePcap(P("in.pcap"), frames);
        TestRouter.WritePcap(P("out.pcap"), frames);
        using var t = TestRouter.Start($"""
            ct :: ConnTrack;
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> MarkIPHeader -> [0]ct;
            FromDump({P("out.pcap")}, STOP true) -> Strip(14) -> MarkIPHeader -> [1]ct;
            ct[0] -> Discard; ct[1] -> allowed :: Counter -> Discard; ct[2] -> Discard;
            """);
        t.Run();
        Assert.Equal(0, t.ReadLong("allowed.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void NatUnderPortScanAndSynFloodKeepsMemoryBoundedByCapacity()
    {
        // Outside scan of the NAT address (no mappings: dropped) and an inside SYN flood.
        var rnd = new Random(11);
        var flood = Enumerable.Range(0, 5000).Select(i => Tcp($"10.{rnd.Next(256)}.{rnd.Next(256)}.{rnd.Next(1, 255)}", (ushort)rnd.Next(1024, 65535), "192.0.2.1", (ushort)(1 + i % 1000))).ToList();
        var scan = Enumerable.Range(1024, 5000).Select(port => Tcp("203.0.113.9", 80, "198.51.100.1", (ushort)port)).ToList();
        TestRouter.WritePcap(P("in.pcap"), flood);
        TestRouter.WritePcap(P("out.pcap"), scan);
        using var t = TestRouter.Start($"""
            rw :: IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, drop, CAPACITY 1000);
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> [0]rw;
            FromDump({P("out.pcap")}) -> Strip(14) -> CheckIPHeader -> [1]rw;
            rw[0] -> fwd :: Counter -> Discard; rw[1] -> rev :: Counter -> Discard;
            """);
        var before = long.Parse(t.Read("rw.memory").Trim());
        t.Run();
        Assert.Equal(1000, t.ReadLong("rw.table_size"));
        Assert.Equal(4000, t.ReadLong("rw.mapping_failures") + t.ReadLong("rw.evictions"));
        Assert.Equal(0, t.ReadLong("rev.count")); // no scan packet got in
        long after = long.Parse(t.Read("rw.memory").Trim());
        Assert.True(after - before <= 1000 * 200, $"memory grew by {after - before} bytes for 1000 mappings");
        t.AssertNoLeaks();
    }
}
