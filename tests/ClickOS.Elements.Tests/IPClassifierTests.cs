using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Numerics;
using System.Text;
using ClickOS.Core;
using ClickOS.Tests;
using PacketDotNet;
using CPacket = ClickOS.Core.Packet;
using PProtocol = PacketDotNet.ProtocolType;

namespace ClickOS.Elements.Tests;

/// <summary>
/// IPClassifier and IPFilter: one test per feature of the pattern language, error messages,
/// handlers, the element path, randomized differential tests against an independent reference
/// evaluator (packets built with PacketDotNet), and the decision tree's scaling.
/// </summary>
public sealed class IPClassifierTests
{
    // =====================================================================================
    // Packet builders (PacketDotNet) and helpers.

    private static readonly PhysicalAddress MacA = PhysicalAddress.Parse("02-00-00-00-00-0A");
    private static readonly PhysicalAddress MacB = PhysicalAddress.Parse("02-00-00-00-00-0B");

    private static byte[] Tcp(string src = "10.0.0.1", string dst = "10.0.0.2", ushort sport = 1234, ushort dport = 80,
        bool syn = false, bool ack = false, bool fin = false, bool rst = false, bool psh = false, bool urg = false,
        ushort window = 8192, byte ttl = 64, int payload = 0)
    {
        var tcp = new TcpPacket(sport, dport)
        {
            Synchronize = syn, Acknowledgment = ack, Finished = fin, Reset = rst, Push = psh, Urgent = urg,
            WindowSize = window, SequenceNumber = 1, PayloadData = new byte[payload],
        };
        return Ip(src, dst, PProtocol.Tcp, tcp, ttl);
    }

    private static byte[] Udp(string src = "10.0.0.1", string dst = "10.0.0.2", ushort sport = 1234, ushort dport = 53, byte ttl = 64, int payload = 4)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = new byte[payload] };
        return Ip(src, dst, PProtocol.Udp, udp, ttl);
    }

    private static byte[] Icmp(byte type, byte code = 0, string src = "10.0.0.1", string dst = "10.0.0.2", byte ttl = 64)
    {
        var body = new byte[8];
        body[0] = type;
        body[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2), InternetChecksum.Compute(body));
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { Protocol = PProtocol.Icmp, TimeToLive = ttl, PayloadData = body };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        var b = ip.Bytes;
        Assert.Equal(type, (byte)((ushort)new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(b)).Extract<IcmpV4Packet>().TypeCode >> 8));
        return b;
    }

    private static byte[] Raw(byte proto, string src = "10.0.0.1", string dst = "10.0.0.2", int payload = 8)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { Protocol = (PProtocol)proto, TimeToLive = 64, PayloadData = new byte[payload] };
        ip.UpdateCalculatedValues();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    private static byte[] Ip(string src, string dst, PProtocol proto, PacketDotNet.Packet payload, byte ttl)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { Protocol = proto, TimeToLive = ttl, Id = 7 };
        ip.PayloadPacket = payload;
        ip.UpdateCalculatedValues();
        if (payload is TcpPacket t) t.UpdateTcpChecksum();
        if (payload is UdpPacket u) u.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    /// <summary>Sets bytes 6-7 (flags and fragment offset in 8-byte units).</summary>
    private static byte[] Frag(byte[] ip, bool mf, int offset, bool df = false)
    {
        var b = (byte[])ip.Clone();
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), (ushort)((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (offset & 0x1FFF)));
        return FixIPChecksum(b);
    }

    /// <summary>Inserts <paramref name="optionBytes"/> (a multiple of 4) of IP options (NOPs, then EOL).</summary>
    private static byte[] WithOptions(byte[] ip, int optionBytes)
    {
        int hl = (ip[0] & 0xF) * 4;
        var b = new byte[ip.Length + optionBytes];
        ip.AsSpan(0, hl).CopyTo(b);
        for (int i = 0; i < optionBytes; i++) b[hl + i] = (byte)(i == optionBytes - 1 ? 0 : 1);
        ip.AsSpan(hl).CopyTo(b.AsSpan(hl + optionBytes));
        b[0] = (byte)(0x40 | ((hl + optionBytes) / 4));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)b.Length);
        return FixIPChecksum(b);
    }

    private static byte[] Set(byte[] ip, int offset, params byte[] bytes)
    {
        var b = (byte[])ip.Clone();
        bytes.CopyTo(b, offset);
        return FixIPChecksum(b);
    }

    private static byte[] FixIPChecksum(byte[] b)
    {
        int hl = (b[0] & 0xF) * 4;
        b[10] = b[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), InternetChecksum.Compute(b.AsSpan(0, hl)));
        return b;
    }

    private static byte[] Ether(byte[] ip, PhysicalAddress? src = null, PhysicalAddress? dst = null)
    {
        var eth = new EthernetPacket(src ?? MacA, dst ?? MacB, EthernetType.IPv4) { PayloadData = ip };
        return eth.Bytes;
    }

    private static readonly PacketPool Pool = new(16);

    /// <summary>Classifies a bare IP packet (no annotations: the data start is the IP header).</summary>
    private static int Classify(DecisionTree tree, byte[] ip)
    {
        var p = Pool.Make(ip)!;
        try { return IPFilterCompiler.Match(tree, p); }
        finally { p.Kill(); }
    }

    /// <summary>Classifies an Ethernet frame with MAC, network and transport annotations set.</summary>
    private static int ClassifyFrame(DecisionTree tree, byte[] frame)
    {
        var p = Pool.Make(frame)!;
        try
        {
            p.SetMacHeader(0);
            p.SetNetworkHeader(14, (frame[14] & 0xF) * 4);
            return IPFilterCompiler.Match(tree, p);
        }
        finally { p.Kill(); }
    }

    private static DecisionTree CompileClassifier(params string[] patterns)
    {
        var errh = new CollectingErrorHandler();
        var tree = IPFilterCompiler.Compile(patterns, patterns.Length, classifier: true, null, errh);
        Assert.True(tree != null && errh.ErrorCount == 0, string.Join(" | ", patterns) + ": " + errh.Text);
        return tree!;
    }

    private static bool Matches(string pattern, byte[] ip) => Classify(CompileClassifier(pattern, "-"), ip) == 0;

    private static void Yes(string pattern, params byte[][] packets)
    {
        var tree = CompileClassifier(pattern, "-");
        foreach (var p in packets) Assert.True(Classify(tree, p) == 0, $"'{pattern}' should match {Convert.ToHexString(p)}");
    }

    private static void No(string pattern, params byte[][] packets)
    {
        var tree = CompileClassifier(pattern, "-");
        foreach (var p in packets) Assert.True(Classify(tree, p) == 1, $"'{pattern}' should not match {Convert.ToHexString(p)}");
    }

    /// <summary>Compiles and returns every message (errors and warnings).</summary>
    private static (bool Ok, string Messages) Diagnose(int noutputs, bool classifier, params string[] conf)
    {
        var errh = new CollectingErrorHandler();
        var tree = IPFilterCompiler.Compile(conf, noutputs, classifier, null, errh);
        return (tree != null, errh.Text);
    }

    // =====================================================================================
    // Addresses.

    [Fact]
    public void HostMatchesSourceDestinationAndCombinations()
    {
        var ab = Udp("10.0.0.1", "10.0.0.2");
        var ba = Udp("10.0.0.2", "10.0.0.1");
        var aa = Udp("10.0.0.1", "10.0.0.1");
        var cd = Udp("10.0.0.3", "10.0.0.4");
        Yes("host 10.0.0.1", ab, ba, aa); No("host 10.0.0.1", cd);
        Yes("src host 10.0.0.1", ab, aa); No("src host 10.0.0.1", ba, cd);
        Yes("dst host 10.0.0.1", ba, aa); No("dst host 10.0.0.1", ab);
        Yes("src or dst host 10.0.0.1", ab, ba); No("src or dst host 10.0.0.1", cd);
        Yes("src and dst host 10.0.0.1", aa); No("src and dst host 10.0.0.1", ab, ba);
        Yes("src 10.0.0.1", ab); No("src 10.0.0.1", ba);
        Yes("dest 10.0.0.1", ba);
        Yes("10.0.0.3", cd);                       // bare address: src or dst host
        Yes("src host != 10.0.0.1", ba, cd); No("src host != 10.0.0.1", ab);
        Yes("host != 10.0.0.1", cd); No("host != 10.0.0.1", ab, ba);   // neither src nor dst
        Yes("src host == 10.0.0.1", ab);
        Yes("ip host 10.0.0.2", ab);
    }

    [Fact]
    public void NetAcceptsPrefixesMasksAndShorthand()
    {
        var p = Udp("192.168.5.9", "10.1.2.3");
        Yes("net 192.168.0.0/16", p); No("net 192.168.0.0/24", p);
        Yes("src net 192.168.0.0/16", p); No("dst net 192.168.0.0/16", p);
        Yes("dst net 10.0.0.0 mask 255.0.0.0", p);
        Yes("10.0.0.0/8", p);                       // bare prefix: net
        Yes("dst 10/8", p);                         // abbreviated prefix
        Yes("src net 192.168.5.0/255.255.255.0", p);
        Yes("dst net != 192.168.0.0/16", p); No("src net != 192.168.0.0/16", p);
        Yes("src host & 255.255.0.0 192.168.0.0", p);       // 'DIRECTIVE & MASK [[OP] VALUE]'
        Yes("src host & 0xFFFF0000 == 192.168.0.0", p);
        No("src host & 255.255.0.0 != 192.168.0.0", p);
    }

    [Fact]
    public void ImplicitQualifiersCarryOver()
    {
        var p = Tcp("1.2.3.4", "9.9.9.9", 5000, 81);
        Yes("src host 9.9.9.9 or 1.2.3.4", p);      // "or src host 1.2.3.4"
        No("dst host 8.8.8.8 or 1.2.3.4", p);       // "or dst host 1.2.3.4"
        Yes("dst port 80 or 81", p);
        No("src port 80 or 81", p);
        Yes("dst tcp port 80 or 81", p);
        No("dst udp port 80 or 81", p);             // the carried "udp" excludes TCP
        Yes("ip ttl 5 or 64", p);
        Yes("ip ttl > 100 or < 65", p);
        Yes("src host 1.2.3.4 and port 80 or 81", p);
        Yes("ip proto 17 or 6", p);
        Yes("syn or ack", Tcp(ack: true));
        Yes("tcp or www", Tcp(dport: 80)); No("tcp or www", Udp(dport: 80)); // Click: "www" inherits "tcp"
    }

    // =====================================================================================
    // Protocols and ports.

    [Fact]
    public void ProtocolsByNameAndNumber()
    {
        var t = Tcp(); var u = Udp(); var i = Icmp(8); var g = Raw(2); var ipip = Raw(4); var gre = Raw(47);
        Yes("tcp", t); No("tcp", u, i);
        Yes("udp", u); Yes("icmp", i); Yes("igmp", g); Yes("ipip", ipip);
        Yes("ip proto tcp", t); Yes("ip proto 47", gre); Yes("proto 17", u);
        Yes("tcp or udp", t, u); No("tcp or udp", i);
        Yes("ip proto tcpudp", t, u); No("ip proto tcpudp", gre);
        Yes("ip proto != 6", u, i); No("ip proto != 6", t);
        Yes("ip proto > 10", u, gre); No("ip proto > 10", t, i);
        Yes("ip proto <= 6", t, i); No("ip proto <= 6", u);
        Yes("transp", t, u, i, gre);
        Yes("!tcp", u); No("not tcp", t);
    }

    [Fact]
    public void PortsByNameNumberAndRelation()
    {
        var web = Tcp(sport: 40000, dport: 80);
        var dns = Udp(sport: 53, dport: 1000);
        Yes("port www", web); Yes("port 80", web); Yes("tcp port www", web);
        Yes("dst port www", web); No("src port www", web);
        Yes("www", web);                            // bare port name
        Yes("src port domain", dns); Yes("udp src port dns", dns); No("tcp port dns", dns);
        Yes("port 53", dns); No("port 53", Icmp(8));
        Yes("dst port > 999", dns); No("dst port > 1000", dns); No("dst port > 1023", web);
        Yes("dst port >= 80", web); No("dst port > 80", web);
        Yes("dst port < 81", web); Yes("dst port <= 80", web); No("dst port < 80", web);
        Yes("src port > 30000", web);
        Yes("port > 1023", web); No("port > 1023", dns);   // src or dst
        No("port < 1023", web);                     // "port < N": both ports (Click's negated relation)
        Yes("port < 50000", web);
        Yes("src port & 0xff00 == 0x9c00", web);    // 40000 = 0x9c40
        Yes("dst port != 81", web); No("dst port != 80", web);
        No("dst port != 81", Icmp(8));              // != still needs TCP or UDP
        Yes("not dst port 81", Icmp(8));            // ... unlike not
        Yes("port 1000-2000", dns); No("port 2000-3000", dns);
        Yes("dst portrange 1000-1000", dns); No("src portrange 54-100", dns);
        Yes("dst port != 2000-3000", dns); No("dst port != 1000-3000", dns);
    }

    [Fact]
    public void TcpFlagsWindowAndIcmpTypes()
    {
        var syn = Tcp(syn: true); var synack = Tcp(syn: true, ack: true); var ack = Tcp(ack: true);
        var fin = Tcp(fin: true, ack: true); var rst = Tcp(rst: true); var psh = Tcp(psh: true, ack: true); var urg = Tcp(urg: true);
        Yes("tcp syn", syn, synack); No("tcp syn", ack);
        Yes("tcp opt syn", syn); Yes("syn", syn);
        Yes("tcp syn and not ack", syn); No("tcp syn and not ack", synack);
        Yes("tcp syn ack", synack); No("syn ack", syn, ack);
        Yes("fin", fin); Yes("rst", rst); Yes("psh", psh); Yes("urg", urg); No("urg", psh);
        Yes("tcp opt ack", ack, fin, psh); No("ack", Udp());
        Yes("tcp win 8192", syn); Yes("tcp win > 8000", syn); No("tcp win < 8000", syn);
        Yes("tcp win 100", Tcp(window: 100));
        var echo = Icmp(8); var reply = Icmp(0); var tx = Icmp(11);
        Yes("icmp type echo", echo); No("icmp type echo", reply);
        Yes("icmp type echo-reply", reply); Yes("icmp type timeexceeded", tx); Yes("icmp type 11", tx);
        Yes("icmp echo-reply", reply); Yes("icmp type > 10", tx); No("icmp type > 10", echo, reply);
        Yes("icmp type != 8", reply); No("icmp type != 8", echo, Tcp()); Yes("not icmp type 8", Tcp());
        Yes("icmp type unreachable", Icmp(3)); Yes("icmp type parameterproblem", Icmp(12)); Yes("icmp type maskreq-reply", Icmp(18));
        Yes("timestamp-reply", Icmp(14));
    }

    // =====================================================================================
    // IP header fields.

    [Fact]
    public void IPHeaderFields()
    {
        var p = Set(Udp(ttl: 33), 1, 0xB9);           // TOS 0xB9: DSCP 46, ECN 1
        p = Set(p, 4, 0x12, 0x34);                   // ID 0x1234
        Yes("ip vers 4", p); No("ip vers 6", p);
        Yes("ip hl 5", p); Yes("ip hl 6", WithOptions(p, 4));
        Yes("ip id 0x1234", p); Yes("ip id > 4000", p);
        Yes("ip tos 0xb9", p); Yes("ip dscp 46", p); Yes("ip ecn 1", p);
        Yes("ip ect", p); No("ip ce", p); Yes("ip ce", Set(p, 1, 0x03)); No("ip ect", Set(p, 1, 0xB8));
        Yes("ip ect 1", p); No("ip ect 2", p);
        Yes("ip ttl 33", p); Yes("ip ttl <= 33", p); No("ip ttl < 33", p); Yes("ip ttl >= 33", p); Yes("ttl > 32", p);
        Yes("ip len 32", p); Yes("ip len > 31", p); No("ip len != 32", p);
        Yes("ip ttl & 0xf0 == 0x20", p); Yes("ip ttl & 0x0f > 0", p);
        Yes("ip tos & 0x03 != 0", p);
    }

    [Fact]
    public void FragmentsAndTransportDirectives()
    {
        var t = Tcp(sport: 1, dport: 80, syn: true);
        var first = Frag(t, mf: true, offset: 0);
        var later = Frag(t, mf: true, offset: 100);
        var last = Frag(t, mf: false, offset: 100);
        var df = Frag(t, mf: false, offset: 0, df: true);
        Yes("ip frag", first, later, last); No("ip frag", t, df);
        Yes("ip unfrag", t, df); No("unfrag", first, later);
        Yes("tcp port 80", first); No("tcp port 80", later, last);
        Yes("syn", first); No("syn", later);
        No("tcp win 8192", later); No("tcp[13] & 2 != 0", later);
        Yes("tcp", later); Yes("dst host 10.0.0.2", later);
        Yes("not port 80", later);                  // 'not' of a false transport test
        var ic = Frag(Icmp(8), mf: false, offset: 3);
        No("icmp type echo", ic); Yes("icmp", ic);
        Yes("ip[6:2] & 0x1fff == 100", later);
    }

    [Fact]
    public void ShortPacketsFailTransportTestsAndNotMatchesThem()
    {
        var full = Tcp(sport: 7, dport: 80, syn: true);
        var twoBytes = full[..22];                  // source port only
        var none = full[..20];                      // no transport header
        Yes("src port 7", twoBytes); No("dst port 80", twoBytes); No("port 80", twoBytes);
        No("dst port != 81", twoBytes);             // Click: a missing port is not "!= 81"
        Yes("not dst port 80", twoBytes);
        No("syn", twoBytes); Yes("not syn", twoBytes);
        No("src port 7", none); Yes("tcp", none);
        No("transp[0:1] == 0", none); Yes("not transp[0:1] == 0", none);
    }

    [Fact]
    public void ByteFieldsAtPositions()
    {
        var u = Udp(sport: 0x1234, dport: 0x5678);
        Yes("ip[9] == 17", u); Yes("ip[9:1] 17", u); Yes("ip[8:2] == 0x4011", u);
        Yes("ip[12:4] == 0x0a000001", u); Yes("ip[12,15] == 0x0a000001", u);
        Yes("ip[0] & 0xf0 == 0x40", u);
        Yes("transp[0:2] == 0x1234", u); Yes("udp[2:2] == 0x5678", u); No("tcp[2:2] == 0x5678", u);
        Yes("transp[2:2] > 0x5000", u); Yes("udp[0] == 0x12", u);
        var syn = Tcp(syn: true);
        Yes("tcp[13] & 2 != 0", syn); Yes("tcp[13] == 2", syn); No("tcp[13] & 16 != 0", syn);
        Yes("ip[9] == 6 and tcp[13] & 0x12 == 2", syn);
        // options move the transport header
        var opt = WithOptions(u, 8);
        Yes("udp src port 0x1234", opt); Yes("transp[0:2] == 0x1234", opt); Yes("ip hl 7", opt);
    }

    [Fact]
    public void EtherHostUsesTheMacHeaderAnnotation()
    {
        var frame = Ether(Udp(), MacA, MacB);
        var tree = CompileClassifier("ether src host 02:00:00:00:00:0a", "ether dst 02-00-00-00-00-0b", "ether host 02:00:00:00:00:0c", "-");
        Assert.Equal(0, ClassifyFrame(tree, frame));
        Assert.Equal(1, ClassifyFrame(tree, Ether(Udp(), MacB, MacB)));
        Assert.Equal(3, ClassifyFrame(tree, Ether(Udp(), MacB, MacA)));
        var t2 = CompileClassifier("ether host 02:00:00:00:00:0b and udp", "-");
        Assert.Equal(0, ClassifyFrame(t2, frame));
        Assert.Equal(1, Classify(t2, Udp()));        // no MAC header annotation: no match
        var t3 = CompileClassifier("ether src 02:00:00:00:00:0c or 02:00:00:00:00:0a", "-");
        Assert.Equal(0, ClassifyFrame(t3, frame));
    }

    // =====================================================================================
    // Connectives.

    [Fact]
    public void ConnectivesAndConstants()
    {
        var t = Tcp(dport: 22); var u = Udp();
        Yes("true", t); No("false", t); Yes("-", t); Yes("any", u); Yes("all", u);
        Yes("tcp and dst port 22", t); Yes("tcp && port 22", t); Yes("tcp port 22", t); Yes("tcp dst port 22", t);
        Yes("udp or port 22", t, u); Yes("udp || tcp", t);
        Yes("not udp", t); Yes("! udp", t); Yes("!udp", t); Yes("not not tcp", t); Yes("!(udp)", t);
        Yes("(udp or tcp) and (port 22 or port 53)", t, u);
        Yes("tcp ? port 22 : port 53", t, u); No("tcp ? port 23 : port 53", t); No("udp ? port 54 : false", u);
        Yes("udp ? false : tcp ? port 22 : false", t);
        Yes("not (udp and port 53)", t); No("not (udp and port 53)", u);
        Yes("tcp && !(port 80 || port 443)", t);
        Yes("true and tcp", t); No("false or udp", t);
        Yes("tcp port 22 not udp", t);              // juxtaposition is 'and'
    }

    [Fact]
    public void FirstMatchingPatternWins()
    {
        var tree = CompileClassifier("10.0.0.0/24 and syn", "10.0.0.0/24 and fin ack", "10.0.0.0/24 and tcp", "-");
        Assert.Equal(0, Classify(tree, Tcp(syn: true)));
        Assert.Equal(1, Classify(tree, Tcp(fin: true, ack: true)));
        Assert.Equal(2, Classify(tree, Tcp(ack: true)));
        Assert.Equal(3, Classify(tree, Udp()));
        var t2 = CompileClassifier("dst tcp port 8000 or 8080", "dst tcp port > 1023", "tcp");
        Assert.Equal(0, Classify(t2, Tcp(dport: 8080)));
        Assert.Equal(1, Classify(t2, Tcp(dport: 5000)));
        Assert.Equal(2, Classify(t2, Tcp(dport: 80)));
        Assert.Equal(-1, Classify(t2, Udp()));
    }

    // =====================================================================================
    // IPFilter actions and diagnostics.

    [Fact]
    public void IPFilterActions()
    {
        var errh = new CollectingErrorHandler();
        var tree = IPFilterCompiler.Compile(["deny src port 53", "allow udp dst port domain", "2 icmp", "1 tcp syn", "drop tcp", "allow"], 3, false, null, errh)!;
        Assert.Equal(0, errh.ErrorCount);
        Assert.Equal(-1, Classify(tree, Udp(sport: 53, dport: 53)));
        Assert.Equal(0, Classify(tree, Udp(sport: 99, dport: 53)));
        Assert.Equal(2, Classify(tree, Icmp(0)));
        Assert.Equal(1, Classify(tree, Tcp(syn: true)));
        Assert.Equal(-1, Classify(tree, Tcp()));
        Assert.Equal(0, Classify(tree, Raw(47)));
        Assert.Contains("pattern 0: warning: meaning of 'deny' has changed (now it means 'drop')", errh.Text);
    }

    [Theory]
    [InlineData("allow tcp port 99999", "pattern 0: 'port': out of range, bound 65535")]
    [InlineData("allow tcp xyz", "pattern 0: garbage after expression at 'xyz'")]
    [InlineData("allow (tcp", "pattern 0: missing ')'")]
    [InlineData("allow tcp and", "pattern 0: missing expression")]
    [InlineData("allow not", "pattern 0: missing expression after 'not'")]
    [InlineData("allow ()", "pattern 0: missing expression after '('")]
    [InlineData("allow echo", "pattern 0: '<none>  echo' is ambiguous; try 'port  echo', 'port  echo', 'icmp type  echo'")]
    [InlineData("allow 5", "pattern 0: specify header field or 'port'")]
    [InlineData("allow host", "pattern 0: 'ip host': address missing")]
    [InlineData("allow src", "pattern 0: partial directive")]
    [InlineData("allow ip ttl 300", "pattern 0: 'ip ttl': out of range, bound 255")]
    [InlineData("allow ip ttl & 0x100 == 1", "pattern 0: 'ip ttl': mask out of range, bound 0xFF")]
    [InlineData("allow ip ttl & 0 == 1", "pattern 0: zero mask ignored")]
    [InlineData("allow tcp opt != syn", "pattern 0: 'tcp opt': operator or mask not supported")]
    [InlineData("allow udp opt syn", "pattern 0: 'tcp opt udp syn' is meaningless; try 'tcp opt udp syn'")]
    [InlineData("allow src host > 1.2.3.4", "pattern 0: 'src ip host': operator not supported")]
    [InlineData("allow ip[2:3] == 1", "pattern 0: field [2:3] does not fit in a single word")]
    [InlineData("allow ip[0:5] == 1", "pattern 0: LEN in '[POS:LEN]' out of range, should be between 1 and 4")]
    [InlineData("allow ip[x] == 1", "pattern 0: syntax error after '[', expected '[POS]' or '[POS:LEN]'")]
    [InlineData("allow ip ttl >", "pattern 0: 'ip ttl': value missing")]
    [InlineData("allow tcp ? port 80", "pattern 0: missing ':' in ternary expression")]
    [InlineData("allow src dst host 1.2.3.4", "pattern 0: 'src' or 'dst' specified twice")]
    [InlineData("allow tcp udp port 4", "pattern 0: transport protocol specified twice")]
    [InlineData("allow ip ttl host 1.2.3.4", "pattern 0: type specified twice")]
    [InlineData("allow ip frag 3", "pattern 0: 'ip frag': value not supported")]
    [InlineData("allow icmp port 5", "pattern 0: 'port': bad protocol 1")]
    [InlineData("allow ip proto tcp == udp", "pattern 0: 'proto': specified twice")]
    [InlineData("allow ether host 1.2.3.4", "pattern 0: 'ether host': address missing")]
    [InlineData("allow net 10.0.0.1", "pattern 0: 'ip net': address missing")]
    [InlineData("allow ip ttl > ==", "pattern 0: dangling operator near '=='")]
    [InlineData("allow port 5-3", "pattern 0: 'port': empty range 5-3")]
    [InlineData("frob tcp", "pattern 0: unknown slot ID 'frob'")]
    [InlineData("7 tcp", "pattern 0: slot '7' out of range")]
    public void BadPatternsAreReportedLikeClick(string pattern, string message)
    {
        var (ok, text) = Diagnose(1, false, pattern);
        Assert.False(ok);
        Assert.Contains(message, text);
    }

    [Fact]
    public void WarningsAndZeroOutputs()
    {
        var (ok, text) = Diagnose(1, false, "allow ip ttl > 300");
        Assert.True(ok);
        Assert.Equal("pattern 0: warning: relation '> 300' is always false (range 0-255)", text);
        (ok, text) = Diagnose(1, false, "allow ip ttl < 300");
        Assert.True(ok);
        Assert.Equal("pattern 0: warning: relation '< 300' is always true (range 0-255)", text);
        (ok, text) = Diagnose(1, false, "allow src ip ttl 5");
        Assert.True(ok);
        Assert.Equal("pattern 0: warning: 'src ip ttl': 'src' or 'dst' ignored", text);
        (ok, text) = Diagnose(0, false, "allow tcp");
        Assert.False(ok);
        Assert.Equal("pattern 0: 'allow' is meaningless, element has zero outputs", text);
        (ok, text) = Diagnose(1, false, "");
        Assert.False(ok);
        Assert.Equal("empty pattern 0", text);
        Assert.True(Matches("ip ttl >= 0", Udp()));   // always true (with a warning)
        Assert.False(Matches("ip ttl > 255", Udp()));
    }

    // =====================================================================================
    // Elements, handlers, registration.

    private static string Hex(byte[] b) => "\\<" + Convert.ToHexString(b) + ">";

    [Fact]
    public void IPClassifierElementRoutesPacketsAndReportsProgram()
    {
        string cfg = $"""
            a :: InfiniteSource(DATA {Hex(Tcp(syn: true))}, LIMIT 3, STOP false) -> all :: Counter -> c :: IPClassifier(tcp syn, udp, -);
            b :: InfiniteSource(DATA {Hex(Udp())}, LIMIT 2, STOP false) -> all;
            d :: InfiniteSource(DATA {Hex(Icmp(8))}, LIMIT 1, STOP false) -> all;
            c[0] -> c0 :: Counter -> Discard; c[1] -> c1 :: Counter -> Discard; c[2] -> c2 :: Counter -> Discard;
            DriverManager(label l, wait 1ms, goto l $(lt $(all.count) 6), stop);
            """;
        using var t = TestRouter.Start(cfg);
        t.Run();
        Assert.Equal(3, t.ReadLong("c0.count"));
        Assert.Equal(2, t.ReadLong("c1.count"));
        Assert.Equal(1, t.ReadLong("c2.count"));
        Assert.Contains("safe length", t.Read("c.program"));
        Assert.Equal("tcp syn, udp, -", t.Read("c.config").Trim());
        Assert.Equal("udp", t.Read("c.pattern1").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void IPFilterConfigAndPatternHandlersReconfigureLive()
    {
        string cfg = $"""
            src :: InfiniteSource(DATA {Hex(Udp(dport: 53))}, LIMIT 2, ACTIVE false, STOP true) -> f :: IPFilter(allow tcp, drop all) -> ok :: Counter -> Discard;
            """;
        using var t = TestRouter.Start(cfg);
        Assert.True(t.Write("f.config", "allow udp dst port 53"));
        Assert.Equal("allow udp dst port 53", t.Read("f.config").Trim());
        Assert.False(t.Write("f.config", "allow udp dst port 99999"));   // error: the program is kept
        Assert.Equal("allow udp dst port 53", t.Read("f.config").Trim());
        Assert.True(t.Write("src.active", "true"));
        t.Run();
        Assert.Equal(2, t.ReadLong("ok.count"));
        t.AssertNoLeaks();

        using var t2 = TestRouter.Start("Idle -> c :: IPClassifier(tcp, -); c[0] -> Discard; c[1] -> Discard;");
        Assert.True(t2.Write("c.pattern0", "udp"));
        Assert.Equal("udp", t2.Read("c.pattern0").Trim());
        Assert.Equal("udp, -", t2.Read("c.config").Trim());
    }

    [Fact]
    public void IPClassifierNeedsOneArgumentPerOutputAndWarnsAboutUnreachableOutputs()
    {
        var t = new TestRouter("Idle -> c :: IPClassifier(tcp, udp, -); c[0] -> Discard; c[1] -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("need 2 arguments, one per output port", t.Errors.Text);

        using var t2 = TestRouter.Start("Idle -> c :: IPClassifier(tcp, udp, tcp or udp, -); c[0] -> Discard; c[1] -> Discard; c[2] -> Discard; c[3] -> Discard;");
        Assert.Contains("warning: output 2 matches no packets", t2.Errors.Text);

        var t3 = new TestRouter("Idle -> f :: IPFilter(allow tcp ttl, drop all) -> Discard;");
        Assert.Null(t3.Router);
        Assert.Contains("While configuring 'f :: IPFilter':", t3.Errors.Text);
        Assert.Contains("pattern 0: 'ip ttl': value missing", t3.Errors.Text);
    }

    [Fact]
    public void AddressInfoNamesWork()
    {
        string cfg = $"""
            AddressInfo(lan 10.0.0.0/8, web 172.16.0.5, gw 02:00:00:00:00:0a);
            a :: InfiniteSource(DATA {Hex(Udp("10.9.9.9", "172.16.0.5"))}, LIMIT 2, STOP false) -> c :: IPClassifier(src net lan and dst web, ether src gw, -);
            b :: InfiniteSource(DATA {Hex(Udp("11.0.0.1", "172.16.0.5"))}, LIMIT 1, STOP false) -> c;
            c[0] -> c0 :: Counter -> Discard; c[1] -> Discard; c[2] -> c2 :: Counter -> Discard;
            DriverManager(label l, wait 1ms, goto l $(lt $(add $(c0.count) $(c2.count)) 3), stop);
            """;
        using var t = TestRouter.Start(cfg);
        t.Run();
        Assert.Equal(2, t.ReadLong("c0.count"));
        Assert.Equal(1, t.ReadLong("c2.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void AnnotationsSelectTheHeaders()
    {
        var tree = CompileClassifier("src host 10.0.0.1 and dst port 53", "-");
        var frame = Ether(Udp("10.0.0.1", "10.0.0.2", 1, 53));
        Assert.Equal(0, ClassifyFrame(tree, frame));
        // Without annotations the data start is taken as the IP header.
        Assert.Equal(1, Classify(tree, frame));
        Assert.Equal(0, Classify(tree, frame[14..]));
        // A transport annotation is used as is (here: pointing 4 bytes too far).
        var p = Pool.Make(frame)!;
        p.SetNetworkHeader(14, 24);
        Assert.Equal(1, IPFilterCompiler.Match(tree, p));
        p.SetNetworkHeader(14, 20);
        Assert.Equal(0, IPFilterCompiler.Match(tree, p));
        p.Kill();
    }

    [Fact]
    public void ElementsAreRegistered()
    {
        var registry = ClickOS.IO.IOElements.CreateFullRegistry();
        Assert.IsType<IPClassifier>(registry.Create("IPClassifier"));
        Assert.IsType<IPFilter>(registry.Create("IPFilter"));
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerPacket()
    {
        string cfg = $"InfiniteSource(DATA {Hex(Tcp(dport: 443, syn: true))}, BURST 32) -> c :: Counter -> f :: IPFilter(allow src host 10.0.0.9, allow tcp dst port https and syn, 1 udp, drop all) -> Discard; f[1] -> Discard;";
        using var t = TestRouter.Start(cfg);
        var sched = t.Router!.Scheduler;
        for (int i = 0; i < 3_000; i++) sched.RunBatch(129);
        var counter = t.Router.Elements.OfType<Counter>().First();
        AllocationProbe.AssertNoAllocation(sched, () => counter.Count, 300_000);
    }

    // =====================================================================================
    // Scaling: the per-packet cost depends on the tree's depth, not the number of rules.

    private static string[] HostPortRules(int n)
    {
        var rules = new string[n + 1];
        for (int i = 0; i < n; i++)
            rules[i] = $"{i % 3} src host 10.{i / 250}.{i % 250}.1 and dst tcp port {1000 + i}";
        rules[n] = "drop all";
        return rules;
    }

    private static List<CPacket> ScalingPackets(int rules, int count, int seed)
    {
        var rng = new Random(seed);
        var list = new List<CPacket>();
        for (int k = 0; k < count; k++)
        {
            int i = rng.Next(rules);
            byte[] ip = (k % 4) switch
            {
                0 => Tcp($"10.{i / 250}.{i % 250}.1", "192.168.0.1", 5555, (ushort)(1000 + i)),            // matches rule i
                1 => Tcp($"10.{i / 250}.{i % 250}.1", "192.168.0.1", 5555, (ushort)(rng.Next(20000, 30000))), // host ok, port not
                2 => Udp($"172.16.{rng.Next(256)}.{rng.Next(256)}", "192.168.0.1", 1, 53),                     // nothing
                _ => Tcp($"10.{rng.Next(5)}.{rng.Next(250)}.2", "192.168.0.1", 5555, (ushort)(1000 + i)),     // port ok, host not
            };
            var p = Pool.Make(ip)!;
            p.SetNetworkHeader(0, 20);
            list.Add(p);
        }
        return list;
    }

    private static double NanosPerPacket(DecisionTree tree, List<CPacket> packets, int rounds)
    {
        double best = double.MaxValue;
        int sink = 0;
        for (int trial = 0; trial < 7; trial++)
        {
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < rounds; r++)
                foreach (var p in packets) sink += IPFilterCompiler.Match(tree, p);
            sw.Stop();
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / (rounds * packets.Count));
        }
        GC.KeepAlive(sink);
        return best;
    }

    [Fact]
    public void ThousandRulesCostAtMostThreeTimesTenRules()
    {
        var errh = new CollectingErrorHandler();
        var sw = Stopwatch.StartNew();
        var big = IPFilterCompiler.Compile(HostPortRules(1000), 3, false, null, errh)!;
        var compileTime = sw.Elapsed;
        var small = IPFilterCompiler.Compile(HostPortRules(10), 3, false, null, errh)!;
        Assert.Equal(0, errh.ErrorCount);
        Assert.True(compileTime < TimeSpan.FromSeconds(20), $"compiling 1000 rules took {compileTime}");

        var bigPackets = ScalingPackets(1000, 4096, 1);
        var smallPackets = ScalingPackets(10, 4096, 1);
        // Correctness first: rule i matches exactly the packets built for it.
        foreach (var (tree, packets, n) in new[] { (big, bigPackets, 1000), (small, smallPackets, 10) })
            for (int k = 0; k < packets.Count; k++)
            {
                var p = packets[k];
                var d = p.Data;
                int expected = -1;
                for (int i = 0; i < n && expected < 0; i++)
                {
                    uint src = (10u << 24) | ((uint)(i / 250) << 16) | ((uint)(i % 250) << 8) | 1;
                    if (d[9] == 6 && BinaryPrimitives.ReadUInt32BigEndian(d[12..]) == src && BinaryPrimitives.ReadUInt16BigEndian(d[22..]) == 1000 + i)
                        expected = i % 3;
                }
                Assert.Equal(expected, IPFilterCompiler.Match(tree, p));
            }

        NanosPerPacket(big, bigPackets, 20);   // warm up
        NanosPerPacket(small, smallPackets, 20);
        double ratio = double.MaxValue;
        string detail = "";
        for (int attempt = 0; attempt < 3 && ratio > 3; attempt++)
        {
            double tBig = NanosPerPacket(big, bigPackets, 30);
            double tSmall = NanosPerPacket(small, smallPackets, 30);
            ratio = tBig / tSmall;
            detail += $"1000 rules: {tBig:F1} ns/packet, 10 rules: {tSmall:F1} ns/packet; ";
        }
        foreach (var p in bigPackets.Concat(smallPackets)) p.Kill();
        Assert.True(ratio <= 3, detail + $"nodes {big.NodeCount} vs {small.NodeCount}");
    }

    [Fact]
    public void ChainsOfTestsOnOneWordBecomeSwitches()
    {
        var errh = new CollectingErrorHandler();
        var tree = IPFilterCompiler.Compile(HostPortRules(300), 3, false, null, errh)!;
        Assert.Contains("switch", tree.Describe());
        Assert.True(tree.NodeCount < 300 * 8, $"{tree.NodeCount} nodes");
    }

    // =====================================================================================
    // Randomized differential testing against a reference evaluator.

    /// <summary>A packet as the reference sees it: the frame, where its IP header starts, and whether MAC/IP annotations are set.</summary>
    private sealed class RefPacket(byte[] frame, int net, bool annotated)
    {
        public readonly byte[] Frame = frame;
        public readonly int Net = net;
        public readonly bool Annotated = annotated;
        public ReadOnlySpan<byte> IP => Frame.AsSpan(Net);
        public int HL => (Frame[Net] & 0xF) * 4;
        public ReadOnlySpan<byte> Transport => Net + HL <= Frame.Length ? Frame.AsSpan(Net + HL) : default;
        public int Proto => Frame[Net + 9];
        public int FragField => BinaryPrimitives.ReadUInt16BigEndian(Frame.AsSpan(Net + 6));
        public bool FirstFrag => (FragField & 0x1FFF) == 0;
        public uint Src => BinaryPrimitives.ReadUInt32BigEndian(Frame.AsSpan(Net + 12));
        public uint Dst => BinaryPrimitives.ReadUInt32BigEndian(Frame.AsSpan(Net + 16));
        public bool HasMac => Annotated;

        /// <summary>Big-endian value of transport bytes [pos, pos+len), or null if they are not all there.</summary>
        public uint? TransportValue(int pos, int len)
        {
            var t = Transport;
            if (pos + len > t.Length) return null;
            uint v = 0;
            for (int i = 0; i < len; i++) v = (v << 8) | t[pos + i];
            return v;
        }

        public uint IPValue(int pos, int len)
        {
            uint v = 0;
            for (int i = 0; i < len; i++) v = (v << 8) | Frame[Net + pos + i];
            return v;
        }
    }

    private enum Rel { Eq, Ne, Lt, Gt, Le, Ge }

    private static string RelText(Rel r, Random rng) => r switch
    {
        Rel.Eq => rng.Next(3) switch { 0 => "", 1 => "== ", _ => "= " },
        Rel.Ne => "!= ",
        Rel.Lt => "< ",
        Rel.Gt => "> ",
        Rel.Le => "<= ",
        _ => ">= ",
    };

    private static bool RelHolds(Rel r, uint x, uint v) => r switch
    {
        Rel.Eq => x == v, Rel.Ne => x != v, Rel.Lt => x < v, Rel.Gt => x > v, Rel.Le => x <= v, _ => x >= v,
    };

    /// <summary>Whether the relation is one Click implements as a negated test ("!=", "&lt;", "&gt;=").</summary>
    private static bool NegatedForm(Rel r) => r is Rel.Ne or Rel.Lt or Rel.Le;

    /// <summary>What Click's parser remembers of the previous primitive (its _prev_prim).</summary>
    private sealed class RenderState
    {
        public Atom? Prev;
        public int PrevSD = -1;        // -1: none; 0 src, 1 dst, 2 src or dst, 3 src and dst
        public bool PrevEther;

        public void Reset() { Prev = null; PrevSD = -1; PrevEther = false; }
    }

    private abstract class Atom
    {
        /// <summary>The full text, with qualifiers (or self-describing data).</summary>
        public abstract string Full(RenderState s, Random rng);
        /// <summary>A shorter text relying on Click's carried-over qualifiers, if possible.</summary>
        public virtual string? Short(RenderState s, Random rng) => null;
        /// <summary>The src/dst the parsed primitive ends up with (what a following bare address inherits).</summary>
        public virtual int SDAfter(RenderState s) => -1;
        /// <summary>Whether the text ends with a data word (so a juxtaposed primitive cannot merge into it).</summary>
        public virtual bool EndsWithData => true;
        public abstract bool Eval(RefPacket p);
    }

    private sealed class HostAtom(int sd, uint addr, uint mask, bool ne, int style) : Atom
    {
        // sd: 0 src, 1 dst, 2 src or dst, 3 src and dst; style (nets): 0 A/len, 1 A mask M, 2 A/M, 3 host & M A
        public bool IsNet => mask != 0xFFFFFFFF;
        private string Op => ne ? "!= " : "";
        private string Data()
        {
            string a = IPText(addr);
            if (!IsNet) return a;
            return style switch
            {
                0 => $"{a}/{BitOperations.PopCount(mask)}",
                1 => $"{a} mask {IPText(mask)}",
                _ => $"{a}/{IPText(mask)}",
            };
        }
        public override string Full(RenderState s, Random rng)
        {
            string q = sd switch
            {
                0 => "src ", 1 => rng.Next(2) == 0 ? "dst " : "dest ", 2 => rng.Next(2) == 0 ? "" : "src or dst ", _ => "src and dst ",
            };
            if (IsNet && style == 3) return $"{q}host & {IPText(mask)} {Op}{IPText(addr)}";
            string kw = IsNet ? "net " : "host ";
            if (q.Length > 0 && rng.Next(3) == 0) kw = "";     // "src 1.2.3.4", "dst 10.0.0.0/8"
            return $"{q}{kw}{Op}{Data()}";
        }
        public override string? Short(RenderState s, Random rng) =>
            style != 3 && !s.PrevEther && (s.PrevSD < 0 ? 2 : s.PrevSD) == sd ? Op + Data() : null;
        public override int SDAfter(RenderState s) => sd;
        public override bool Eval(RefPacket p)
        {
            bool sm = (p.Src & mask) == (addr & mask), dm = (p.Dst & mask) == (addr & mask);
            bool r = sd switch { 0 => sm, 1 => dm, 2 => sm || dm, _ => sm && dm };
            return ne ? !r : r;
        }
    }

    private sealed class ProtoAtom(int proto, Rel rel, int style) : Atom
    {
        private bool Named => rel == Rel.Eq && style == 0 && ProtoName(proto) != null;
        public override string Full(RenderState s, Random rng) =>
            Named ? (rng.Next(2) == 0 ? ProtoName(proto)! : "ip proto " + ProtoName(proto)) : $"ip proto {RelText(rel, rng)}{proto}";
        public override string? Short(RenderState s, Random rng) => s.Prev is ProtoAtom && !s.PrevEther ? $"{RelText(rel, rng)}{proto}" : null;
        public override bool EndsWithData => !Named;
        public override bool Eval(RefPacket p) => RelHolds(rel, (uint)p.Proto, (uint)proto);
        public static string? ProtoName(int p) => p switch { 1 => "icmp", 2 => "igmp", 4 => "ipip", 6 => "tcp", 17 => "udp", _ => null };
    }

    private sealed class PortAtom(int sd, int proto, Rel rel, uint value, uint hi, bool range, bool named) : Atom
    {
        // proto: 0 tcp or udp, 6 tcp, 17 udp
        public int SD => sd;
        public int Proto => proto;
        private string ValueText(Random rng)
        {
            if (range) return (rel == Rel.Ne ? "!= " : "") + $"{value}-{hi}";
            if (named && rel == Rel.Eq)
                return value switch { 80 => "www", 53 => rng.Next(2) == 0 ? "domain" : "dns", 22 => "ssh", 443 => "https", 123 => "ntp", _ => value.ToString(CultureInfo.InvariantCulture) };
            return RelText(rel, rng) + value.ToString(CultureInfo.InvariantCulture);
        }
        public override string Full(RenderState s, Random rng)
        {
            string sdt = sd switch { 0 => "src ", 1 => "dst ", 2 => rng.Next(2) == 0 ? "" : "src or dst ", _ => "src and dst " };
            string pr = proto switch { 6 => "tcp ", 17 => "udp ", _ => "" };
            string kw = range && rel == Rel.Eq && rng.Next(2) == 0 ? "portrange " : "port ";
            return rng.Next(2) == 0 ? $"{sdt}{pr}{kw}{ValueText(rng)}" : $"{pr}{sdt}{kw}{ValueText(rng)}";
        }
        public override string? Short(RenderState s, Random rng) =>
            s.Prev is PortAtom pp && pp.SD == sd && pp.Proto == proto ? ValueText(rng) : null;
        public override int SDAfter(RenderState s) => sd;
        public override bool Eval(RefPacket p)
        {
            bool protoOk = proto == 0 ? p.Proto is 6 or 17 : p.Proto == proto;
            if (!protoOk || !p.FirstFrag) return false;
            uint? sp = p.TransportValue(0, 2), dp = p.TransportValue(2, 2);
            bool negated = range ? rel == Rel.Ne : NegatedForm(rel);
            // Click: each side is "present and holds" (for the negated forms: "present and fails"),
            // combined with the src/dst connective, swapped for the negated forms.
            bool Side(uint? x) => x is uint v && (negated ? !Holds(v) : Holds(v));
            bool ss = Side(sp), ds = Side(dp);
            return sd switch
            {
                0 => ss,
                1 => ds,
                2 => negated ? ss && ds : ss || ds,
                _ => negated ? ss || ds : ss && ds,
            };
        }
        private bool Holds(uint x) => range ? x >= value && x <= hi : rel switch
        {
            Rel.Eq or Rel.Ne => x == value,
            Rel.Gt or Rel.Le => x > value,
            _ => x >= value, // Ge; Lt is its negation
        };
    }

    private sealed class TcpFlagAtom(int flags, int style) : Atom
    {
        private static readonly string[] Names = ["fin", "syn", "rst", "psh", "ack", "urg"];
        private bool _bare;
        public override string Full(RenderState s, Random rng)
        {
            int bit = BitOperations.TrailingZeroCount(flags);
            _bare = false;
            if (BitOperations.PopCount((uint)flags) != 1) return "tcp opt " + flags.ToString(CultureInfo.InvariantCulture);
            // a bare flag after an ether primitive would be read as an Ethernet directive
            if (style == 0 && !s.PrevEther) { _bare = true; return Names[bit]; }
            return style == 2 ? "tcp opt " + Names[bit] : "tcp " + Names[bit];
        }
        public override int SDAfter(RenderState s) => _bare ? s.PrevSD : -1;
        public override bool Eval(RefPacket p) =>
            p.Proto == 6 && p.FirstFrag && p.TransportValue(13, 1) is uint f && (f & (uint)flags) == (uint)flags;
    }

    /// <summary>A header field: an IP field (always present) or a transport field with its protocol guard.</summary>
    private sealed class FieldAtom(string name, int guardProto, int bytePos, int bitShift, int bits, int fieldBytes, Rel rel, uint value, uint mask) : Atom
    {
        // guardProto: -1 IP header field; 0 transp (no protocol); 6/17/1: that protocol
        public string Name => name;
        private string Data(Random rng) => (mask != 0 ? $"& 0x{mask:x} " : "") + RelText(rel, rng) + Number(value, rng);
        private static string Number(uint v, Random rng) => rng.Next(3) == 0 ? $"0x{v:x}" : v.ToString(CultureInfo.InvariantCulture);
        public override string Full(RenderState s, Random rng) => $"{name} {Data(rng)}";
        public override string? Short(RenderState s, Random rng) => s.Prev is FieldAtom f && f.Name == name ? Data(rng) : null;
        public override bool Eval(RefPacket p)
        {
            uint raw;
            if (guardProto < 0)
                raw = p.IPValue(bytePos, fieldBytes);
            else
            {
                if (guardProto > 0 && p.Proto != guardProto) return false;
                if (!p.FirstFrag) return false;
                if (p.TransportValue(bytePos, fieldBytes) is not uint t) return false;
                raw = t;
            }
            uint full = bits == 32 ? 0xFFFFFFFF : (1u << bits) - 1;
            uint m = mask != 0 ? mask : full;
            uint x = (raw >> bitShift) & full & m;
            bool holds = rel switch
            {
                Rel.Eq or Rel.Ne => x == (value & m),
                Rel.Gt or Rel.Le => x > value,
                _ => x >= value,
            };
            return NegatedForm(rel) ? !holds : holds;
        }
    }

    private sealed class SimpleAtom(string text, bool endsWithData, Func<RefPacket, bool> eval) : Atom
    {
        public override string Full(RenderState s, Random rng) => text;
        public override bool EndsWithData => endsWithData;
        public override bool Eval(RefPacket p) => eval(p);
    }

    private sealed class EtherAtom(int sd, byte[] mac) : Atom
    {
        public int SD => sd;
        private string MacText => string.Join(":", mac.Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
        public override string Full(RenderState s, Random rng) => sd switch
        {
            0 => $"ether src host {MacText}", 1 => $"ether dst {MacText}", 2 => $"ether host {MacText}", _ => $"ether src and dst host {MacText}",
        };
        public override string? Short(RenderState s, Random rng) => s.Prev is EtherAtom e && e.SD == sd ? MacText : null;
        public override int SDAfter(RenderState s) => sd;
        public override bool Eval(RefPacket p)
        {
            if (!p.HasMac) return false;
            bool d = p.Frame.AsSpan(0, 6).SequenceEqual(mac), sm = p.Frame.AsSpan(6, 6).SequenceEqual(mac);
            return sd switch { 0 => sm, 1 => d, 2 => sm || d, _ => sm && d };
        }
    }

    private static string IPText(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";

    // ---- expressions over atoms ----

    private abstract record Expr;
    private sealed record EAtom(Atom A) : Expr;
    private sealed record EAnd(Expr[] Items) : Expr;
    private sealed record EOr(Expr[] Items) : Expr;
    private sealed record ENot(Expr X) : Expr;
    private sealed record ETern(Expr C, Expr T, Expr E) : Expr;
    private sealed record EConst(bool V) : Expr;

    private static bool Eval(Expr e, RefPacket p) => e switch
    {
        EAtom a => a.A.Eval(p),
        EAnd a => a.Items.All(x => Eval(x, p)),
        EOr o => o.Items.Any(x => Eval(x, p)),
        ENot n => !Eval(n.X, p),
        ETern t => Eval(t.C, p) ? Eval(t.T, p) : Eval(t.E, p),
        EConst c => c.V,
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Renders an expression as Click text, tracking what Click's parser carries from one primitive to the next.</summary>
    private sealed class Renderer(Random rng)
    {
        public readonly RenderState State = new();

        public string Render(Expr e, bool inner)
        {
            switch (e)
            {
                case EAtom a:
                {
                    string? text = rng.Next(2) == 0 ? a.A.Short(State, rng) : null;
                    text ??= a.A.Full(State, rng);
                    State.PrevSD = a.A.SDAfter(State);
                    State.PrevEther = a.A is EtherAtom;
                    State.Prev = a.A;
                    return text;
                }
                case EConst c:
                    return c.V ? "true" : "false";
                case ENot n:
                    return (rng.Next(2) == 0 ? "not " : "! ") + Paren(n.X);
                case EAnd a:
                {
                    var sb = new StringBuilder();
                    for (int i = 0; i < a.Items.Length; i++)
                    {
                        if (i > 0)
                        {
                            // juxtaposition only where the next primitive cannot merge into the previous one
                            bool juxt = rng.Next(3) == 0 && EndsWithData(a.Items[i - 1]);
                            sb.Append(juxt ? " " : rng.Next(2) == 0 ? " and " : " && ");
                        }
                        sb.Append(Paren(a.Items[i]));
                    }
                    return inner ? "(" + sb + ")" : sb.ToString();
                }
                case EOr o:
                {
                    var sb = new StringBuilder();
                    for (int i = 0; i < o.Items.Length; i++)
                    {
                        if (i > 0) sb.Append(rng.Next(2) == 0 ? " or " : " || ");
                        sb.Append(Paren(o.Items[i]));
                    }
                    return inner ? "(" + sb + ")" : sb.ToString();
                }
                case ETern t:
                {
                    string c = Paren(t.C);
                    string th = Paren(t.T);
                    string el = Paren(t.E);
                    string text = c + " ? " + th + " : " + el;
                    return inner ? "(" + text + ")" : text;
                }
                default:
                    throw new InvalidOperationException();
            }
        }

        private static bool EndsWithData(Expr e) => e switch
        {
            EAtom a => a.A.EndsWithData,
            ENot n => EndsWithData(n.X),
            _ => true,   // constants, and parenthesized subexpressions
        };

        private string Paren(Expr e) => e is EAtom or EConst ? Render(e, false) : e is ENot ? Render(e, false) : "(" + Render(e, false) + ")";
    }

    // ---- random generation ----

    private static readonly uint[] Addrs = [0x0A000001, 0x0A000002, 0x0A000103, 0xC0A80001, 0xC0A80102, 0xAC100001];
    private static readonly ushort[] Ports = [22, 53, 80, 123, 443, 1000, 1023, 1024, 5000, 8080, 40000, 65534];
    private static readonly byte[][] Macs = [[2, 0, 0, 0, 0, 0xA], [2, 0, 0, 0, 0, 0xB], [2, 0, 0, 0, 0, 0xC]];

    private static Rel RandomRel(Random rng) => (Rel)rng.Next(6);

    private static Atom RandomAtom(Random rng)
    {
        switch (rng.Next(14))
        {
            case 0:
            case 1:
            {
                int sd = rng.Next(4);
                uint a = Addrs[rng.Next(Addrs.Length)];
                if (rng.Next(2) == 0) return new HostAtom(sd, a, 0xFFFFFFFF, rng.Next(4) == 0, 0);
                int len = rng.Next(8, 31);
                uint mask = 0xFFFFFFFFu << (32 - len);
                return new HostAtom(sd, a & mask, mask, rng.Next(4) == 0, rng.Next(3));
            }
            case 2:
            {
                int[] protos = [1, 2, 4, 6, 17, 47];
                int pr = protos[rng.Next(protos.Length)];
                return rng.Next(3) == 0 ? new ProtoAtom(rng.Next(1, 255), RandomRel(rng), 1) : new ProtoAtom(pr, Rel.Eq, 0);
            }
            case 3:
            case 4:
            case 5:
            {
                int sd = rng.Next(4);
                int proto = new[] { 0, 6, 17 }[rng.Next(3)];
                if (rng.Next(6) == 0)
                {
                    uint lo = (uint)rng.Next(0, 2000), hi = lo + (uint)rng.Next(0, 6000);
                    return new PortAtom(sd, proto, rng.Next(3) == 0 ? Rel.Ne : Rel.Eq, lo, hi, true, false);
                }
                uint v = rng.Next(3) == 0 ? (uint)rng.Next(1, 65535) : Ports[rng.Next(Ports.Length)];
                return new PortAtom(sd, proto, RandomRel(rng), v, 0, false, rng.Next(2) == 0);
            }
            case 6:
            {
                int flags = rng.Next(4) == 0 ? rng.Next(1, 64) : 1 << rng.Next(6);
                return new TcpFlagAtom(flags, rng.Next(3));
            }
            case 7:
            {
                // IP header fields: name, byte position, shift, bits, bytes read
                var fields = new (string, int, int, int, int)[]
                {
                    ("ip vers", 0, 4, 4, 1), ("ip hl", 0, 0, 4, 1), ("ip tos", 1, 0, 8, 1), ("ip dscp", 1, 2, 6, 1),
                    ("ip ecn", 1, 0, 2, 1), ("ip id", 4, 0, 16, 2), ("ip ttl", 8, 0, 8, 1), ("ip len", 2, 0, 16, 2),
                    ("ip[9]", 9, 0, 8, 1), ("ip[12:4]", 12, 0, 32, 4), ("ip[6:2]", 6, 0, 16, 2), ("ip[16:2]", 16, 0, 16, 2),
                };
                var (name, pos, shift, bits, nbytes) = fields[rng.Next(fields.Length)];
                uint full = bits == 32 ? 0xFFFFFFFF : (1u << bits) - 1;
                var rel = RandomRel(rng);
                uint value = RandomFieldValue(rng, full, rel, name);
                uint mask = rng.Next(5) == 0 && bits > 2 ? (uint)rng.NextInt64(1, full) & full : 0;
                if (mask != 0 && (rel is Rel.Gt or Rel.Le) && value >= mask) mask = 0;
                if (mask != 0 && (rel is Rel.Lt or Rel.Ge) && (value == 0 || value > mask)) mask = 0;
                return new FieldAtom(name, -1, pos, shift, bits, nbytes, rel, value, mask);
            }
            case 8:
            {
                // transport fields (cut points in the generated packets never split them)
                var fields = new (string, int, int, int, int, int)[]
                {
                    ("tcp win", 6, 14, 0, 16, 2), ("icmp type", 1, 0, 0, 8, 1), ("transp[0:2]", 0, 0, 0, 16, 2),
                    ("tcp[13]", 6, 13, 0, 8, 1), ("udp[2:2]", 17, 2, 0, 16, 2), ("transp[4:4]", 0, 4, 0, 32, 4),
                    ("tcp[12:2]", 6, 12, 0, 16, 2), ("transp[0]", 0, 0, 0, 8, 1), ("icmp[0:2]", 1, 0, 0, 16, 2),
                };
                var (name, guard, pos, shift, bits, nbytes) = fields[rng.Next(fields.Length)];
                uint full = bits == 32 ? 0xFFFFFFFF : (1u << bits) - 1;
                var rel = RandomRel(rng);
                uint value = RandomFieldValue(rng, full, rel, name);
                uint mask = rng.Next(5) == 0 ? (uint)rng.NextInt64(1, full) & full : 0;
                if (mask != 0 && (rel is Rel.Gt or Rel.Le) && value >= mask) mask = 0;
                if (mask != 0 && (rel is Rel.Lt or Rel.Ge) && (value == 0 || value > mask)) mask = 0;
                return new FieldAtom(name, guard, pos, shift, bits, nbytes, rel, value, mask);
            }
            case 9:
            {
                int which = rng.Next(6);
                return which switch
                {
                    0 => new SimpleAtom("ip frag", false, p => (p.FragField & 0x3FFF) != 0),
                    1 => new SimpleAtom(rng.Next(2) == 0 ? "ip unfrag" : "unfrag", false, p => (p.FragField & 0x3FFF) == 0),
                    2 => new SimpleAtom("ip ect", false, p => (p.IP[1] & 3) != 0),
                    3 => new SimpleAtom("ip ce", false, p => (p.IP[1] & 3) == 3),
                    4 => new SimpleAtom("icmp type echo", true, p => p.Proto == 1 && p.FirstFrag && p.Transport.Length >= 1 && p.Transport[0] == 8),
                    _ => new SimpleAtom("icmp type echo-reply", true, p => p.Proto == 1 && p.FirstFrag && p.Transport.Length >= 1 && p.Transport[0] == 0),
                };
            }
            case 10:
                return new EtherAtom(rng.Next(4), Macs[rng.Next(Macs.Length)]);
            default:
            {
                int[] protos = [1, 6, 17];
                int pr = protos[rng.Next(protos.Length)];
                return new ProtoAtom(pr, Rel.Eq, 0);
            }
        }
    }

    private static uint RandomFieldValue(Random rng, uint full, Rel rel, string name)
    {
        // avoid the always-true/false relations (Click warns and folds them)
        uint lo = rel is Rel.Lt or Rel.Ge ? 1u : 0u;
        uint hi = rel is Rel.Gt or Rel.Le ? full - 1 : full;
        hi = Math.Min(hi, int.MaxValue);   // Click reads values as signed 32-bit integers
        if (name.Contains("ttl", StringComparison.Ordinal) && rng.Next(2) == 0) return Math.Clamp((uint)new[] { 1, 2, 64, 128 }[rng.Next(4)], lo, hi);
        if (name.Contains("icmp", StringComparison.Ordinal) && full == 0xFF && rng.Next(2) == 0) return Math.Clamp((uint)new[] { 0, 3, 8, 11 }[rng.Next(4)], lo, hi);
        if (name == "ip hl" && rng.Next(2) == 0) return Math.Clamp((uint)rng.Next(5, 8), lo, hi);
        if (name == "ip vers" && rng.Next(2) == 0) return Math.Clamp(4u, lo, hi);
        return (uint)rng.NextInt64(lo, (long)hi + 1);
    }

    private static Expr RandomExpr(Random rng, int depth)
    {
        int r = rng.Next(depth <= 0 ? 2 : 10);
        switch (r)
        {
            case 0:
            case 1:
                return rng.Next(40) == 0 ? new EConst(rng.Next(2) == 0) : new EAtom(RandomAtom(rng));
            case 2:
            case 3:
            case 4:
                return new EAnd([.. Enumerable.Range(0, rng.Next(2, 4)).Select(_ => RandomExpr(rng, depth - 1))]);
            case 5:
            case 6:
            case 7:
                return new EOr([.. Enumerable.Range(0, rng.Next(2, 4)).Select(_ => RandomExpr(rng, depth - 1))]);
            case 8:
                return new ENot(RandomExpr(rng, depth - 1));
            default:
                return new ETern(RandomExpr(rng, depth - 1), RandomExpr(rng, depth - 1), RandomExpr(rng, depth - 1));
        }
    }

    /// <summary>A random IPv4 packet in an Ethernet frame: TCP, UDP, ICMP or other; with options, fragments, truncation.</summary>
    private static byte[] RandomFrame(Random rng)
    {
        string A() => IPText(rng.Next(8) == 0 ? (uint)rng.Next() : Addrs[rng.Next(Addrs.Length)]);
        ushort P() => rng.Next(5) == 0 ? (ushort)rng.Next(65536) : Ports[rng.Next(Ports.Length)];
        byte ttl = (byte)new[] { 0, 1, 2, 3, 64, 128, 255, rng.Next(256) }[rng.Next(8)];
        byte[] ip = rng.Next(10) switch
        {
            < 4 => Tcp(A(), A(), P(), P(), syn: rng.Next(2) == 0, ack: rng.Next(2) == 0, fin: rng.Next(5) == 0, rst: rng.Next(8) == 0,
                       psh: rng.Next(4) == 0, urg: rng.Next(8) == 0, window: (ushort)rng.Next(65536), ttl: ttl, payload: rng.Next(0, 20)),
            < 7 => Udp(A(), A(), P(), P(), ttl, rng.Next(0, 30)),
            < 9 => Icmp((byte)new[] { 0, 3, 8, 11, 5, rng.Next(256) }[rng.Next(6)], (byte)rng.Next(4), A(), A(), ttl),
            _ => Raw((byte)new[] { 2, 4, 47, 50, rng.Next(256) }[rng.Next(5)], A(), A(), new[] { 0, 2, 4, 8, 12, 14, 16, 20 }[rng.Next(8)]),
        };
        if (rng.Next(4) == 0) ip = Set(ip, 1, (byte)rng.Next(256));                                   // TOS
        if (rng.Next(4) == 0) ip = Set(ip, 4, (byte)rng.Next(256), (byte)rng.Next(256));              // ID
        if (rng.Next(5) == 0) ip = WithOptions(ip, 4 * rng.Next(1, 5));
        if (rng.Next(5) == 0) ip = Frag(ip, rng.Next(2) == 0, rng.Next(3) == 0 ? 0 : rng.Next(1, 8192), rng.Next(2) == 0);
        if (rng.Next(8) == 0)
        {
            // truncate the transport header at a point that never splits a field
            int hl = (ip[0] & 0xF) * 4;
            int[] cuts = [0, 2, 4, 8, 12, 14, 16];
            int cut = hl + cuts[rng.Next(cuts.Length)];
            if (cut < ip.Length) ip = ip[..cut];
        }
        return Ether(ip, new PhysicalAddress(Macs[rng.Next(Macs.Length)]), new PhysicalAddress(Macs[rng.Next(Macs.Length)]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void RandomRuleSetsAgreeWithTheReferenceEvaluator(int seed)
    {
        var rng = new Random(seed);
        var frames = new List<byte[]>();
        for (int i = 0; i < 3000; i++) frames.Add(RandomFrame(rng));
        for (int set = 0; set < 12; set++)
        {
            int nrules = rng.Next(1, 12);
            int noutputs = rng.Next(1, 5);
            var exprs = new List<Expr>();
            var actions = new List<int>();
            var conf = new List<string>();
            var renderer = new Renderer(rng);
            for (int r = 0; r < nrules; r++)
            {
                var e = RandomExpr(rng, rng.Next(0, 4));
                int action = rng.Next(noutputs + 1) - 1;   // -1: drop
                string act = action < 0 ? (rng.Next(2) == 0 ? "drop" : "deny") : action == 0 && rng.Next(2) == 0 ? "allow" : action.ToString(CultureInfo.InvariantCulture);
                renderer.State.Reset();
                conf.Add(act + " " + renderer.Render(e, false));
                exprs.Add(e);
                actions.Add(action);
            }
            var errh = new CollectingErrorHandler();
            var tree = IPFilterCompiler.Compile(conf, noutputs, false, null, errh);
            Assert.True(tree != null, $"seed {seed} set {set}: {errh.Text}\n{string.Join("\n", conf)}");
            foreach (var frame in frames)
            {
                bool annotated = frame[0] != 2 || frame[5] != 0xC;   // frames to/from MAC ...0C: no annotations
                var rp = new RefPacket(frame, 14, annotated);
                int expected = -1;
                for (int r = 0; r < exprs.Count; r++)
                    if (Eval(exprs[r], rp)) { expected = actions[r]; break; }
                int got;
                if (annotated)
                    got = ClassifyFrame(tree!, frame);
                else
                {
                    // network header set, no MAC header: ether tests fail
                    var p = Pool.Make(frame)!;
                    p.SetNetworkHeader(14, (frame[14] & 0xF) * 4);
                    got = IPFilterCompiler.Match(tree!, p);
                    p.Kill();
                }
                if (got != expected)
                {
                    var detail = new StringBuilder();
                    for (int r = 0; r < exprs.Count; r++) detail.Append($"  rule {r} ({conf[r]}): {Eval(exprs[r], rp)}\n");
                    Assert.Fail($"seed {seed} set {set}: expected {expected}, got {got} for {Convert.ToHexString(frame)}\n{detail}");
                }
            }
        }
    }

    [Fact]
    public void RandomIPClassifierPatternsAgreeWithTheReferenceEvaluator()
    {
        var rng = new Random(99);
        var frames = Enumerable.Range(0, 2000).Select(_ => RandomFrame(rng)).ToList();
        for (int set = 0; set < 20; set++)
        {
            int n = rng.Next(1, 8);
            var exprs = Enumerable.Range(0, n).Select(_ => RandomExpr(rng, rng.Next(0, 3))).ToList();
            var renderer = new Renderer(rng);
            var patterns = exprs.Select(e => { renderer.State.Reset(); return renderer.Render(e, false); }).ToArray();
            var errh = new CollectingErrorHandler();
            var tree = IPFilterCompiler.Compile(patterns, n, true, null, errh);
            Assert.True(tree != null, errh.Text + "\n" + string.Join("\n", patterns));
            foreach (var frame in frames)
            {
                var rp = new RefPacket(frame, 14, true);
                int expected = exprs.FindIndex(e => Eval(e, rp));
                Assert.True(expected == ClassifyFrame(tree!, frame), $"set {set}: {string.Join(" | ", patterns)} on {Convert.ToHexString(frame)}");
            }
        }
    }
}
