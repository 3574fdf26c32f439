using System.Net;
using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>Address rewriting elements, checked with PacketDotNet.</summary>
public sealed class IPAddressElementTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-ipaddr-" + Guid.NewGuid().ToString("N")[..6]);

    public IPAddressElementTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private static byte[] Tcp(bool udp)
    {
        var eth = new EthernetPacket(PhysicalAddress("020000000001"), PhysicalAddress("020000000002"), EthernetType.IPv4);
        var ip = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("192.168.1.9"));
        if (udp)
        {
            var u = new UdpPacket(1111, 53) { PayloadData = [1, 2, 3, 4, 5] };
            ip.PayloadPacket = u;
            eth.PayloadPacket = ip;
            u.UpdateUdpChecksum();
        }
        else
        {
            var t = new TcpPacket(40000, 80) { PayloadData = [9, 8, 7], Synchronize = true, SequenceNumber = 1234 };
            ip.PayloadPacket = t;
            eth.PayloadPacket = ip;
            t.UpdateTcpChecksum();
        }
        ip.UpdateIPChecksum();
        return eth.Bytes;
    }

    private static System.Net.NetworkInformation.PhysicalAddress PhysicalAddress(string hex) => System.Net.NetworkInformation.PhysicalAddress.Parse(hex);

    private List<byte[]> Through(string elements, params byte[][] frames)
    {
        string inp = Path.Combine(_dir, "in.pcap"), outp = Path.Combine(_dir, "out.pcap");
        TestRouter.WritePcap(inp, frames);
        using (var t = TestRouter.Start($"FromDump({inp}, STOP true) -> Strip(14) -> MarkIPHeader -> {elements} -> Unstrip(14) -> ToDump({outp});"))
        {
            t.Run();
            t.AssertNoLeaks();
        }
        var b = File.ReadAllBytes(outp);
        var list = new List<byte[]>();
        for (int pos = 24; pos + 16 <= b.Length;)
        {
            int cap = BitConverter.ToInt32(b, pos + 8);
            list.Add(b.AsSpan(pos + 16, cap).ToArray());
            pos += 16 + cap;
        }
        return list;
    }

    [Theory]
    [InlineData(false, "dst")]
    [InlineData(true, "dst")]
    [InlineData(false, "src")]
    [InlineData(true, "src")]
    public void StoreIPAddressFieldKeepsChecksumsValid(bool udp, string field)
    {
        var outp = Through($"StoreIPAddress(172.16.5.6, {field})", Tcp(udp));
        var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, outp[0]);
        var ip = eth.Extract<IPv4Packet>();
        Assert.Equal("172.16.5.6", (field == "dst" ? ip.DestinationAddress : ip.SourceAddress).ToString());
        Assert.True(ip.ValidIPChecksum);
        if (udp) Assert.True(eth.Extract<UdpPacket>().ValidUdpChecksum);
        else Assert.True(eth.Extract<TcpPacket>().ValidChecksum);
    }

    [Fact]
    public void StoreIPAddressAtOffsetLeavesChecksums()
    {
        var outp = Through("SetIPAddress(9.9.9.9) -> StoreIPAddress(16)", Tcp(false));
        var ip = ((EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, outp[0])).Extract<IPv4Packet>();
        Assert.Equal("9.9.9.9", ip.DestinationAddress.ToString());
        Assert.False(ip.ValidIPChecksum);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void IPMirrorSwapsAddressesAndPorts(bool udp)
    {
        var outp = Through("IPMirror", Tcp(udp));
        var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, outp[0]);
        var ip = eth.Extract<IPv4Packet>();
        Assert.Equal("192.168.1.9", ip.SourceAddress.ToString());
        Assert.Equal("10.0.0.1", ip.DestinationAddress.ToString());
        Assert.True(ip.ValidIPChecksum);
        if (udp)
        {
            var u = eth.Extract<UdpPacket>();
            Assert.Equal(53, u.SourcePort);
            Assert.Equal(1111, u.DestinationPort);
            Assert.True(u.ValidUdpChecksum);
        }
        else
        {
            var tcp = eth.Extract<TcpPacket>();
            Assert.Equal(80, tcp.SourcePort);
            Assert.True(tcp.ValidChecksum);
        }
    }

    [Fact]
    public void FragmentThenReassembleGivesBackTheOriginal()
    {
        var eth = new EthernetPacket(PhysicalAddress("020000000001"), PhysicalAddress("020000000002"), EthernetType.IPv4);
        var ip = new IPv4Packet(IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.2")) { Id = 4242 };
        var udp = new UdpPacket(1234, 5678) { PayloadData = Enumerable.Range(0, 1400).Select(i => (byte)i).ToArray() };
        ip.PayloadPacket = udp;
        eth.PayloadPacket = ip;
        udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        var original = eth.Bytes;
        var outp = Through("IPFragmenter(576) -> c :: Counter -> IPReassembler", original);
        Assert.Single(outp);
        Assert.Equal(original, outp[0]);
    }

    [Fact]
    public void AggregateIPFlowsNumbersFlowsAndDirections()
    {
        static byte[] Udp(string s, string d, ushort sp, ushort dp)
        {
            var eth = new EthernetPacket(PhysicalAddress("020000000001"), PhysicalAddress("020000000002"), EthernetType.IPv4);
            var ip = new IPv4Packet(IPAddress.Parse(s), IPAddress.Parse(d)) { PayloadPacket = new UdpPacket(sp, dp) };
            eth.PayloadPacket = ip;
            ip.UpdateIPChecksum();
            return eth.Bytes;
        }
        string inp = Path.Combine(_dir, "in.pcap"), outp = Path.Combine(_dir, "out.ipsum");
        TestRouter.WritePcap(inp, [Udp("10.0.0.1", "10.0.0.2", 1000, 53), Udp("10.0.0.2", "10.0.0.1", 53, 1000), Udp("10.0.0.3", "10.0.0.2", 1000, 53), Udp("10.0.0.1", "10.0.0.2", 1000, 53)]);
        using (var t = TestRouter.Start($"FromDump({inp}, STOP true) -> Strip(14) -> MarkIPHeader -> a :: AggregateIPFlows -> ToIPSummaryDump({outp}, FIELDS aggregate paint ip_src) -> Discard;"))
        {
            t.Run();
            Assert.Equal("2", t.Read("a.count"));
        }
        var lines = File.ReadAllLines(outp).Where(l => !l.StartsWith('!')).ToArray();
        Assert.Equal(["1 0 10.0.0.1", "1 1 10.0.0.2", "2 0 10.0.0.3", "1 0 10.0.0.1"], lines);
    }

    [Theory]
    [InlineData("", 1, 0)]
    [InlineData(", BADADDRS 10.0.0.1", 0, 1)]
    [InlineData(", MTU 100", 1, 0)]
    public void ICMPErrorQuotesWithinMtuAndSkipsBadAddresses(string keywords, int errors, int skipped)
    {
        string inp = Path.Combine(_dir, "in.pcap"), outp = Path.Combine(_dir, "out.pcap");
        TestRouter.WritePcap(inp, [Tcp(false)]);
        using (var t = TestRouter.Start($"FromDump({inp}, STOP true) -> Strip(14) -> MarkIPHeader -> e :: ICMPError(10.9.9.9, unreachable, needfrag, PMTU 1400{keywords}) -> ok :: Counter -> ToDump({outp}, ENCAP IP); e[1] -> no :: Counter -> Discard;"))
        {
            t.Run();
            Assert.Equal(errors, t.ReadLong("ok.count"));
            Assert.Equal(skipped, t.ReadLong("no.count"));
            t.AssertNoLeaks();
        }
        if (errors == 0) return;
        var b = File.ReadAllBytes(outp);
        var ip = new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(b.AsSpan(40).ToArray()));
        var icmp = ip.Extract<IcmpV4Packet>();
        Assert.True(ip.ValidIPChecksum);
        Assert.Equal("10.0.0.1", ip.DestinationAddress.ToString());
        Assert.Equal(3, (int)icmp.TypeCode >> 8);
        Assert.Equal(1400, (b[40 + 26] << 8) | b[40 + 27]); // next-hop MTU field
        Assert.True(ip.TotalLength <= (keywords.Contains("MTU 100") ? 100 : 576));
    }

    [Fact]
    public void GetIPAddressFillsTheAnnotationUsedByRouting()
    {
        string inp = Path.Combine(_dir, "in.pcap");
        TestRouter.WritePcap(inp, [Tcp(false)]);
        using var t = TestRouter.Start($"FromDump({inp}, STOP true) -> Strip(14) -> GetIPAddress(16) -> rt :: LinearIPLookup(192.168.1.0/24 0, 0.0.0.0/0 1); rt[0] -> a :: Counter -> Discard; rt[1] -> b :: Counter -> Discard;");
        t.Run();
        Assert.Equal(1, t.ReadLong("a.count"));
        Assert.Equal(0, t.ReadLong("b.count"));
    }
}

/// <summary>The combo elements behave exactly like the chains of elements they stand for.</summary>
public sealed class ComboEquivalenceTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-combo-" + Guid.NewGuid().ToString("N")[..6]);

    public ComboEquivalenceTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private static string Trace([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "examples", "traffic", "router-in0.pcap"));

    private string RunToDumps(string prefix, string body)
    {
        using var t = TestRouter.Start($"FromDump({Trace()}, STOP true) -> {body}");
        t.Run();
        t.AssertNoLeaks();
        return string.Join("|", Enumerable.Range(0, 5).Select(i => Convert.ToHexString(File.ReadAllBytes(Path.Combine(_dir, $"{prefix}{i}.pcap")))));
    }

    [Fact]
    public void IPOutputComboMatchesItsChain()
    {
        string D(string n) => Path.Combine(_dir, n);
        string front = "Classifier(12/0800) -> Strip(14) -> CheckIPHeader -> Paint(1) -> ";
        string chain = RunToDumps("a", front + $"DropBroadcasts -> cp :: PaintTee(1) -> gio :: IPGWOptions(10.0.0.1) -> FixIPSrc(10.0.0.1) -> dt :: DecIPTTL -> fr :: IPFragmenter(300) -> ToDump({D("a0.pcap")}, ENCAP IP); cp[1] -> ToDump({D("a1.pcap")}, ENCAP IP); gio[1] -> ToDump({D("a2.pcap")}, ENCAP IP); dt[1] -> ToDump({D("a3.pcap")}, ENCAP IP); fr[1] -> ToDump({D("a4.pcap")}, ENCAP IP);");
        string combo = RunToDumps("b", front + $"o :: IPOutputCombo(1, 10.0.0.1, 300) -> ToDump({D("b0.pcap")}, ENCAP IP); o[1] -> ToDump({D("b1.pcap")}, ENCAP IP); o[2] -> ToDump({D("b2.pcap")}, ENCAP IP); o[3] -> ToDump({D("b3.pcap")}, ENCAP IP); o[4] -> ToDump({D("b4.pcap")}, ENCAP IP);");
        Assert.Equal(chain, combo);
        Assert.True(chain.Length > 5 * 48); // something was written
    }

    [Fact]
    public void IPInputComboMatchesItsChain()
    {
        string D(string n) => Path.Combine(_dir, n);
        string chain = RunToDumps("a", $"Paint(3) -> Strip(14) -> c :: CheckIPHeader -> GetIPAddress(16) -> ToDump({D("a0.pcap")}, ENCAP IP); c[1] -> ToDump({D("a1.pcap")}, ENCAP IP); Idle -> ToDump({D("a2.pcap")}); Idle -> ToDump({D("a3.pcap")}); Idle -> ToDump({D("a4.pcap")});");
        string combo = RunToDumps("b", $"i :: IPInputCombo(3) -> ToDump({D("b0.pcap")}, ENCAP IP); i[1] -> ToDump({D("b1.pcap")}, ENCAP IP); Idle -> ToDump({D("b2.pcap")}); Idle -> ToDump({D("b3.pcap")}); Idle -> ToDump({D("b4.pcap")});");
        Assert.Equal(chain, combo);
    }
}
