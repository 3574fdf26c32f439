using System.Buffers.Binary;
using System.Net;
using System.Text;
using ClickOS.Tests;
using PacketDotNet;
using PacketDotNet.Utils;

namespace ClickOS.Elements.Tests;

/// <summary>
/// The IP header elements (CheckIPHeader, the L4 checkers, the checksum setters, DecIPTTL,
/// SetIPDSCP/ECN, MarkIPHeader, StripToNetworkHeader, IPPrint), with PacketDotNet as an
/// independent oracle for building packets and verifying checksums and header fields.
/// </summary>
public sealed class IPHeaderTests
{
    // ---- packet builders (PacketDotNet) ----

    private static IPv4Packet Ip(string src, string dst, PacketDotNet.ProtocolType proto, Packet? payload, byte ttl = 64, ushort id = 1)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst))
        {
            TimeToLive = ttl,
            Id = id,
            Protocol = proto,
        };
        if (payload != null) ip.PayloadPacket = payload;
        return ip;
    }

    private static byte[] Udp(string src = "10.0.0.2", string dst = "10.0.0.9", ushort sport = 1234, ushort dport = 53, int payload = 12, byte ttl = 64, bool checksum = true)
    {
        var udp = new UdpPacket(sport, dport) { PayloadData = Fill(payload) };
        var ip = Ip(src, dst, PacketDotNet.ProtocolType.Udp, udp, ttl);
        ip.UpdateCalculatedValues();
        if (checksum) udp.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    private static byte[] Tcp(string src = "10.1.120.186", string dst = "172.16.13.201", ushort sport = 26937, ushort dport = 8080,
        uint seq = 486183062, uint ack = 0, bool syn = true, bool ackFlag = false, bool psh = false, bool fin = false, int payload = 0, ushort window = 65535)
    {
        var tcp = new TcpPacket(sport, dport)
        {
            SequenceNumber = seq,
            AcknowledgmentNumber = ack,
            Synchronize = syn,
            Acknowledgment = ackFlag,
            Push = psh,
            Finished = fin,
            WindowSize = window,
            PayloadData = Fill(payload),
        };
        var ip = Ip(src, dst, PacketDotNet.ProtocolType.Tcp, tcp);
        ip.UpdateCalculatedValues();
        tcp.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    private static byte[] Icmp(IcmpV4TypeCode typeCode, ushort ident, ushort seq, int payload = 8, string src = "10.0.0.2", string dst = "8.8.8.8")
    {
        var bytes = new byte[8 + payload];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)typeCode);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), ident);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(6), seq);
        for (int i = 0; i < payload; i++) bytes[8 + i] = (byte)(i + 1);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), ClickOS.Core.InternetChecksum.Compute(bytes));
        var ip = RawIp(src, dst, 1, bytes);
        var parsed = ParseIp(ip).Extract<IcmpV4Packet>();
        Assert.True(parsed.ValidIcmpChecksum);   // the oracle agrees with the builder
        Assert.Equal(typeCode, parsed.TypeCode);
        return ip;
    }

    /// <summary>An IPv4 packet with a correct header checksum around an arbitrary payload.</summary>
    private static byte[] RawIp(string src, string dst, byte proto, byte[] payload, byte ttl = 64, ushort fragField = 0, ushort id = 1, byte tos = 0)
    {
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst))
        {
            TimeToLive = ttl,
            Id = id,
            Protocol = (PacketDotNet.ProtocolType)proto,
            TypeOfService = tos,
            PayloadData = payload,
        };
        ip.UpdateCalculatedValues();
        var b = ip.Bytes;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), fragField);
        return FixIPChecksum(b);
    }

    private static byte[] FixIPChecksum(byte[] b)
    {
        int hl = (b[0] & 0xF) * 4;
        b[10] = b[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), ClickOS.Core.InternetChecksum.Compute(b.AsSpan(0, hl)));
        return b;
    }

    private static byte[] Fill(int n)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)('a' + i % 26);
        return b;
    }

    private static byte[] Ether(byte[] ip)
    {
        var f = new byte[14 + ip.Length];
        f[0] = 2; f[5] = 1; f[6] = 2; f[11] = 2; f[12] = 8;
        ip.CopyTo(f, 14);
        return f;
    }

    private static string Hex(byte[] b) => "\\<" + Convert.ToHexString(b) + ">";

    private static IPv4Packet ParseIp(byte[] b) => new(new ByteArraySegment(b));

    // ---- running packets through a configuration ----

    /// <summary>
    /// Runs <paramref name="ipPackets"/> (wrapped in Ethernet) from in.pcap through
    /// <paramref name="config"/>; "in.pcap"/"OUT0"/"OUT1" in the configuration name temp files
    /// whose frames come back (Ethernet header stripped).
    /// </summary>
    private sealed class PcapRun : IDisposable
    {
        private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-iph-" + Guid.NewGuid().ToString("N")[..8]);
        public TestRouter T { get; }

        public PcapRun(IEnumerable<byte[]> ipPackets, string config)
        {
            Directory.CreateDirectory(_dir);
            TestRouter.WritePcap(Path.Combine(_dir, "in.pcap"), ipPackets.Select(Ether));
            config = config.Replace("in.pcap", Path.Combine(_dir, "in.pcap"), StringComparison.Ordinal)
                .Replace("OUT0", Path.Combine(_dir, "out0.pcap"), StringComparison.Ordinal)
                .Replace("OUT1", Path.Combine(_dir, "out1.pcap"), StringComparison.Ordinal);
            T = TestRouter.Start(config);
            T.Run();
            T.Router!.Cleanup(); // flush ToDump
        }

        public List<byte[]> Out(int n, int strip = 14)
        {
            string path = Path.Combine(_dir, $"out{n}.pcap");
            var b = File.ReadAllBytes(path);
            var list = new List<byte[]>();
            for (int pos = 24; pos + 16 <= b.Length;)
            {
                int cap = BitConverter.ToInt32(b, pos + 8);
                list.Add(b.AsSpan(pos + 16 + strip, cap - strip).ToArray());
                pos += 16 + cap;
            }
            return list;
        }

        public string Err => T.Err.ToString();

        public void Dispose()
        {
            T.Dispose();
            Assert.Equal(0, T.Router!.Pool.Outstanding);
            Directory.Delete(_dir, true);
        }
    }

    private const string Src = "FromDump(in.pcap, STOP true, BURST 64) -> Strip(14)";
    private const string Sink0 = "Unstrip(14) -> ToDump(OUT0)";
    private const string Sink1 = "Unstrip(14) -> ToDump(OUT1)";

    private static TestRouter RunConfig(string config)
    {
        var t = TestRouter.Start(config);
        t.Run();
        return t;
    }

    // ---- CheckIPHeader ----

    [Fact]
    public void CheckIPHeaderPassesValidPacketsAndTrimsPadding()
    {
        var udp = Udp(payload: 4);                    // 32 bytes of IP
        var padded = udp.Concat(new byte[14]).ToArray(); // Ethernet-style padding
        using var r = new PcapRun([udp, padded, Tcp()], $"{Src} -> c :: CheckIPHeader -> IPPrint(TIMESTAMP false) -> {Sink0}; c[1] -> {Sink1};");
        var good = r.Out(0);
        Assert.Equal(3, good.Count);
        Assert.Equal(udp, good[0]);
        Assert.Equal(udp, good[1]);                   // trimmed to the IP length
        Assert.Empty(r.Out(1));
        Assert.Equal("0", r.T.Read("c.drops"));
        Assert.Equal(
            "10.0.0.2.1234 > 10.0.0.9.53: udp 12\n10.0.0.2.1234 > 10.0.0.9.53: udp 12\n" +
            "10.1.120.186.26937 > 172.16.13.201.8080: S 486183062:486183063(1,40,40) win 65535\n", r.Err);
        foreach (var g in good) Assert.True(ParseIp(g).ValidIPChecksum);
    }

    [Fact]
    public void CheckIPHeaderClassifiesMalformedPacketsInOrder()
    {
        var good = Udp();
        var tiny = good[..19];
        var v6 = (byte[])good.Clone(); v6[0] = 0x65; FixIPChecksum(v6);
        var shortHl = (byte[])good.Clone(); shortHl[0] = 0x44; FixIPChecksum(shortHl);
        var longLen = (byte[])good.Clone(); BinaryPrimitives.WriteUInt16BigEndian(longLen.AsSpan(2), 500); FixIPChecksum(longLen);
        var lenBelowHl = (byte[])good.Clone(); BinaryPrimitives.WriteUInt16BigEndian(lenBelowHl.AsSpan(2), 19); FixIPChecksum(lenBelowHl);
        var badSum = (byte[])good.Clone(); badSum[10] ^= 0x55;
        var hlBeyond = (byte[])good.Clone(); hlBeyond[0] = 0x4F;
        byte[][] input = [good, tiny, v6, good, shortHl, longLen, lenBelowHl, badSum, hlBeyond, good];
        using var r = new PcapRun(input, $"{Src} -> c :: CheckIPHeader(DETAILS true) -> Paint(1) -> m :: Null -> {Sink0}; c[1] -> Paint(2) -> m;");
        var all = r.Out(0);
        Assert.Equal(input.Length, all.Count);
        for (int i = 0; i < input.Length; i++) Assert.Equal(input[i], all[i]); // order kept across the two outputs
        Assert.Equal("7", r.T.Read("c.drops"));
        Assert.Equal("1\ttiny packet\n1\tbad IP version\n1\tbad IP header length\n3\tbad IP length\n1\tbad IP checksum\n0\tbad source address\n",
            r.T.Read("c.drop_details"));
        Assert.Equal("c: IP header check failed: tiny packet\n", r.Err);
    }

    [Fact]
    public void CheckIPHeaderVerboseReportsEveryFailureAndDropsWithoutOutput1()
    {
        var good = Udp();
        var badSum = (byte[])good.Clone(); badSum[11] ^= 1;
        using var r = new PcapRun([badSum, good, badSum], $"{Src} -> c :: CheckIPHeader(VERBOSE true) -> {Sink0};");
        Assert.Single(r.Out(0));
        Assert.Equal("2", r.T.Read("c.drops"));
        Assert.Equal("c: IP header check failed: bad IP checksum\nc: IP header check failed: bad IP checksum\n", r.Err);
        Assert.Null(r.T.Router!.FindHandler("c.drop_details", null, out _, ClickOS.Core.ErrorHandler.Silent));
    }

    [Fact]
    public void CheckIPHeaderSourceAddressChecks()
    {
        var fromBcast = Udp(src: "10.0.0.255", dst: "10.0.0.9");
        var fromBcastToUs = Udp(src: "10.0.0.255", dst: "10.0.0.1");
        var fromZero = Udp(src: "0.0.0.0", dst: "10.0.0.9");
        var fromListed = Udp(src: "1.2.3.4", dst: "10.0.0.9");
        var ok = Udp();
        byte[][] input = [fromBcast, fromBcastToUs, fromZero, fromListed, ok];
        using (var r = new PcapRun(input, $"{Src} -> c :: CheckIPHeader(INTERFACES 10.0.0.1/24 192.168.0.1/16, DETAILS true) -> {Sink0};"))
        {
            Assert.Equal([fromBcastToUs, fromListed, ok], r.Out(0));
            Assert.Equal("2", r.T.Read("c.drops"));
            Assert.EndsWith("2\tbad source address\n", r.T.Read("c.drop_details"));
        }
        using (var r = new PcapRun(input, $"{Src} -> c :: CheckIPHeader(BADSRC 1.2.3.4 10.0.0.255, GOODDST 10.0.0.9) -> {Sink0};"))
            Assert.Equal([fromBcast, fromZero, fromListed, ok], r.Out(0)); // sources to GOODDST are exempt
        using (var r = new PcapRun(input, $"{Src} -> c :: CheckIPHeader(BADSRC 1.2.3.4) -> {Sink0};"))
            Assert.Equal([fromBcast, fromBcastToUs, fromZero, ok], r.Out(0));
        using (var r = new PcapRun(input, $"{Src} -> c :: CheckIPHeader(1.2.3.4) -> {Sink0};")) // old syntax adds 0.0.0.0 and 255.255.255.255
            Assert.Equal([fromBcast, fromBcastToUs, ok], r.Out(0));
    }

    [Fact]
    public void CheckIPHeaderOffsetAndAnnotations()
    {
        var udp = Udp();
        foreach (var conf in new[] { "OFFSET 14", "14" })
        {
            using var r = new PcapRun([udp], $"FromDump(in.pcap, STOP true) -> CheckIPHeader({conf}) -> StripToNetworkHeader -> IPPrint(x, TIMESTAMP false, TTL true) -> ToDump(OUT0);");
            Assert.Equal("x: ttl 64 10.0.0.2.1234 > 10.0.0.9.53: udp 20\n", r.Err);
        }
        using var t = RunConfig($"InfiniteSource(DATA {Hex(udp)}, LIMIT 1, STOP true) -> CheckIPHeader -> Print(a, PRINTANNO true, MAXLENGTH 0) -> Discard;");
        Assert.StartsWith("a: (0a000009", t.Err.ToString()); // destination IP annotation set
    }

    [Fact]
    public void CheckIPHeader2IgnoresChecksumsUnlessAsked()
    {
        var bad = Udp(); bad[10] ^= 0xFF;
        using (var r = new PcapRun([bad], $"{Src} -> c :: CheckIPHeader2 -> {Sink0};"))
        {
            Assert.Single(r.Out(0));
            Assert.Equal("0", r.T.Read("c.drops"));
        }
        using (var r = new PcapRun([bad], $"{Src} -> c :: CheckIPHeader2(CHECKSUM true) -> {Sink0};"))
        {
            Assert.Empty(r.Out(0));
            Assert.Equal("c: IP header check failed: bad IP checksum\n", r.Err);
        }
        using (var r = new PcapRun([bad], $"{Src} -> c :: CheckIPHeader(CHECKSUM false) -> {Sink0};"))
            Assert.Single(r.Out(0));
    }

    [Fact]
    public void CheckIPHeaderWorksInPullContext()
    {
        var good = Udp();
        var bad = (byte[])good.Clone(); bad[10] ^= 1;
        using var r = new PcapRun([good, bad, good], $"{Src} -> q :: Queue -> c :: CheckIPHeader -> u :: Unqueue -> {Sink0}; c[1] -> {Sink1}; DriverManager(pause, wait 20ms, stop);");
        Assert.Equal(2, r.Out(0).Count);
        Assert.Equal([bad], r.Out(1));
    }

    [Theory]
    [InlineData("CheckIPHeader(BADSRC 1.2.3)", "BADSRC: parse error")]
    [InlineData("CheckIPHeader(1.2.3.4, 14, 3)", "too many arguments")]
    [InlineData("CheckIPHeader(VERBOSE maybe)", "VERBOSE: parse error")]
    [InlineData("SetIPDSCP(64)", "diffserv code point out of range")]
    [InlineData("SetIPDSCP", "DSCP: required argument missing")]
    [InlineData("SetIPECN(ect3)", "bad ECN argument")]
    [InlineData("IPPrint(CONTENTS bogus)", "bad contents value 'BOGUS'; should be 'NONE', 'HEX', or 'ASCII'")]
    [InlineData("IPPrint(CONTENTS HEX, PAYLOAD ASCII)", "specify at most one of PAYLOAD and CONTENTS")]
    [InlineData("CheckTCPHeader(1)", "too many arguments")]
    public void BadConfigurationsAreReported(string element, string message)
    {
        var t = new TestRouter($"InfiniteSource(LIMIT 1, STOP true) -> {element} -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }

    // ---- checksum setters ----

    [Fact]
    public void SetIPChecksumFixesHeadersAndDropsBadOnes()
    {
        var a = Udp(ttl: 9); a[10] = a[11] = 0;
        var opts = RawIp("10.0.0.1", "10.0.0.2", 17, new byte[8]);
        var withOptions = new byte[opts.Length + 4];
        opts.AsSpan(0, 20).CopyTo(withOptions); opts.AsSpan(20).CopyTo(withOptions.AsSpan(24));
        withOptions[0] = 0x46; withOptions[20] = 1; withOptions[21] = 1; withOptions[22] = 1; withOptions[23] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(withOptions.AsSpan(2), (ushort)withOptions.Length);
        var tooShort = a[..12];
        var hlTooLong = (byte[])a.Clone(); hlTooLong[0] = 0x4F;
        using var r = new PcapRun([a, tooShort, withOptions, hlTooLong], $"{Src} -> s :: SetIPChecksum -> {Sink0};");
        var outs = r.Out(0);
        Assert.Equal(2, outs.Count);
        Assert.True(ParseIp(outs[0]).ValidIPChecksum);
        Assert.True(ParseIp(outs[1]).ValidIPChecksum);
        Assert.Equal(0x46, outs[1][0]);
        Assert.Equal("2", r.T.Read("s.drops"));
        Assert.Equal("SetIPChecksum: bad input packet\n", r.Err);
    }

    [Fact]
    public void SetIPChecksumUsesTheNetworkHeaderAnnotation()
    {
        var a = Udp(); a[10] ^= 0x12;
        using var r = new PcapRun([a], "FromDump(in.pcap, STOP true) -> MarkIPHeader(14) -> SetIPChecksum -> ToDump(OUT0);");
        Assert.True(ParseIp(r.Out(0)[0]).ValidIPChecksum);
    }

    [Fact]
    public void SetTCPAndUDPChecksumsAfterPayloadEdits()
    {
        var tcp = Tcp(payload: 11, psh: true, ackFlag: true, ack: 7);
        var udp = Udp(payload: 9);
        using var r = new PcapRun([tcp, udp],
            $"{Src} -> CheckIPHeader -> cl :: Classifier(9/06, 9/11); " +
            $"cl[0] -> StoreData(40, \\<de ad be ef>) -> SetTCPChecksum -> ct :: CheckTCPHeader -> m :: Null -> {Sink0}; " +
            "cl[1] -> StoreData(28, \\<ca fe>) -> SetUDPChecksum -> cu :: CheckUDPHeader -> m;");
        var outs = r.Out(0);
        Assert.Equal(2, outs.Count);
        var t = ParseIp(outs[0]).Extract<TcpPacket>();
        var u = ParseIp(outs[1]).Extract<UdpPacket>();
        Assert.True(t.ValidTcpChecksum);
        Assert.Equal(0xdeadbeef, BinaryPrimitives.ReadUInt32BigEndian(t.PayloadData));
        Assert.True(u.ValidUdpChecksum);
        Assert.Equal(0xca, u.PayloadData[0]);
        Assert.Equal("0", r.T.Read("ct.drops"));
        Assert.Equal("0", r.T.Read("cu.drops"));
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void SetTCPChecksumFixOffAndBadLengths()
    {
        var tcp = Tcp(payload: 4);
        var badOff = (byte[])tcp.Clone(); badOff[32] = (byte)((3 << 4) | (badOff[32] & 0xF)); // data offset 12 bytes
        var truncated = tcp[..30]; // IP length says 44
        using var r = new PcapRun([badOff, truncated], $"{Src} -> MarkIPHeader -> SetTCPChecksum(true) -> {Sink0};");
        var outs = r.Out(0);
        Assert.Single(outs);
        var t = ParseIp(outs[0]).Extract<TcpPacket>();
        Assert.Equal(5, t.DataOffset);
        Assert.True(t.ValidTcpChecksum);
        Assert.Equal("SetTCPChecksum: bad lengths\n", r.Err);
    }

    [Fact]
    public void SetUDPChecksumSendsFragmentsAndShortPacketsToOutput1()
    {
        var udp = Udp(payload: 10);
        var frag = RawIp("10.0.0.1", "10.0.0.2", 17, udp[20..], fragField: 0x2000);
        var shortUdp = (byte[])udp.Clone(); BinaryPrimitives.WriteUInt16BigEndian(shortUdp.AsSpan(24), 100);
        using (var r = new PcapRun([frag, udp, shortUdp], $"{Src} -> MarkIPHeader -> s :: SetUDPChecksum -> {Sink0}; s[1] -> {Sink1};"))
        {
            Assert.Equal([udp], r.Out(0));
            Assert.Equal([frag, shortUdp], r.Out(1));
            Assert.Equal("", r.Err);
        }
        using (var r = new PcapRun([frag, shortUdp, frag], $"{Src} -> MarkIPHeader -> t :: Tee; t[0] -> a :: SetUDPChecksum -> {Sink0}; t[1] -> b :: SetUDPChecksum -> Discard;"))
        {
            Assert.Empty(r.Out(0));
            Assert.Equal("a :: SetUDPChecksum: fragment or short packet\n", r.Err); // once per router
        }
    }

    [Fact]
    public void SettersCopyOnWriteAndLeaveClonesAlone()
    {
        var udp = Udp(); udp[10] = udp[11] = 0;
        using var r = new PcapRun([udp], $"{Src} -> MarkIPHeader -> t :: Tee; t[0] -> SetIPChecksum -> DecIPTTL -> SetIPDSCP(10) -> {Sink0}; t[1] -> {Sink1};");
        Assert.Equal(udp, r.Out(1)[0]);
        var changed = ParseIp(r.Out(0)[0]);
        Assert.True(changed.ValidIPChecksum);
        Assert.Equal(63, changed.TimeToLive);
        Assert.Equal(10 << 2, changed.TypeOfService);
    }

    // ---- L4 checks ----

    [Fact]
    public void CheckTCPHeaderDetails()
    {
        var good = Tcp(payload: 5);
        var badSum = (byte[])good.Clone(); badSum[36] ^= 1;
        var badOff = (byte[])good.Clone(); badOff[32] = 0x40; // data offset 16 bytes
        var offBeyond = (byte[])good.Clone(); offBeyond[32] = 0xF0; // 60 bytes > TCP length
        var udp = Udp();
        using var r = new PcapRun([good, badSum, badOff, offBeyond, udp, good],
            $"{Src} -> CheckIPHeader -> c :: CheckTCPHeader(DETAILS true) -> {Sink0}; c[1] -> {Sink1};");
        Assert.Equal([good, good], r.Out(0));
        Assert.Equal([badSum, badOff, offBeyond, udp], r.Out(1));
        Assert.Equal("4", r.T.Read("c.drops"));
        Assert.Equal("1\tnot TCP\n2\tbad packet length\n1\tbad TCP checksum\n", r.T.Read("c.drop_details"));
        Assert.Equal("c :: CheckTCPHeader: TCP header check failed: bad TCP checksum\n", r.Err);
    }

    [Fact]
    public void CheckTCPHeaderWithoutIPAnnotationIsNotTCP()
    {
        using var t = RunConfig($"InfiniteSource(DATA {Hex(Tcp())}, LIMIT 3, STOP true) -> c :: CheckTCPHeader(VERBOSE true, DETAILS true) -> Discard;");
        Assert.Equal("3", t.Read("c.drops"));
        Assert.StartsWith("3\tnot TCP\n", t.Read("c.drop_details"));
        Assert.Equal(3, t.Err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        t.AssertNoLeaks();
    }

    [Fact]
    public void CheckUDPHeaderDetails()
    {
        var good = Udp(payload: 7);
        var noSum = Udp(payload: 7, checksum: false);
        var badSum = (byte[])good.Clone(); badSum[30] ^= 0x40;
        var lenTooBig = (byte[])good.Clone(); BinaryPrimitives.WriteUInt16BigEndian(lenTooBig.AsSpan(24), 200);
        var lenTiny = (byte[])good.Clone(); BinaryPrimitives.WriteUInt16BigEndian(lenTiny.AsSpan(24), 4);
        var icmp = Icmp(IcmpV4TypeCode.EchoRequest, 1, 1);
        using var r = new PcapRun([good, noSum, badSum, lenTooBig, lenTiny, icmp],
            $"{Src} -> CheckIPHeader -> c :: CheckUDPHeader(DETAILS true) -> {Sink0}; c[1] -> {Sink1};");
        Assert.Equal([good, noSum], r.Out(0));
        Assert.Equal(4, r.Out(1).Count);
        Assert.Equal("1\tnot UDP\n2\tbad packet length\n1\tbad UDP checksum\n", r.T.Read("c.drop_details"));
        Assert.Equal("UDP header check failed: bad UDP checksum\n", r.Err);
    }

    [Fact]
    public void CheckICMPHeaderDetails()
    {
        var echo = Icmp(IcmpV4TypeCode.EchoRequest, 119, 3);
        var badSum = (byte[])echo.Clone(); badSum[25] ^= 1;
        var shortUnreach = Icmp(IcmpV4TypeCode.UnreachablePort, 0, 0, payload: 20);
        var unreach = Icmp(IcmpV4TypeCode.UnreachablePort, 0, 0, payload: 28);
        var tstamp = Icmp((IcmpV4TypeCode)0x0D00, 0, 0, payload: 12);
        var badTstamp = Icmp((IcmpV4TypeCode)0x0D00, 0, 0, payload: 13);
        var tiny = RawIp("10.0.0.1", "10.0.0.2", 1, new byte[4]);
        using var r = new PcapRun([echo, badSum, shortUnreach, unreach, tstamp, badTstamp, tiny, Tcp()],
            $"{Src} -> CheckIPHeader -> c :: CheckICMPHeader(DETAILS true) -> {Sink0}; c[1] -> {Sink1};");
        Assert.Equal([echo, unreach, tstamp], r.Out(0));
        Assert.Equal("1\tnot ICMP\n3\tbad packet length\n1\tbad ICMP checksum\n", r.T.Read("c.drop_details"));
        Assert.Equal("c :: CheckICMPHeader: ICMP header check failed: bad ICMP checksum\n", r.Err);
        foreach (var p in r.Out(0)) Assert.True(ParseIp(p).Extract<IcmpV4Packet>().ValidIcmpChecksum);
    }

    // ---- DecIPTTL, SetIPDSCP, SetIPECN ----

    [Fact]
    public void DecIPTTLDecrementsAndExpires()
    {
        var a = Udp(ttl: 64);
        var one = Udp(ttl: 1);
        var zero = Udp(ttl: 0);
        var two = Udp(ttl: 2);
        using var r = new PcapRun([a, one, two, zero], $"{Src} -> CheckIPHeader -> d :: DecIPTTL -> {Sink0}; d[1] -> {Sink1};");
        var outs = r.Out(0);
        Assert.Equal(2, outs.Count);
        Assert.Equal(63, ParseIp(outs[0]).TimeToLive);
        Assert.Equal(1, ParseIp(outs[1]).TimeToLive);
        foreach (var p in outs) Assert.True(ParseIp(p).ValidIPChecksum);
        Assert.Equal([one, zero], r.Out(1));
        Assert.Equal("2", r.T.Read("d.drops"));
    }

    [Fact]
    public void DecIPTTLChecksumMatchesRecomputationForEveryChecksumValue()
    {
        // The incremental update must agree with PacketDotNet's full recomputation for every
        // starting checksum, including the ones where one's-complement zero has two forms.
        var bytes = new List<byte[]>();
        for (int id = 0; id < 65536; id += 97)
        {
            var p = Udp(ttl: (byte)(2 + id % 200));
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)id);
            bytes.Add(FixIPChecksum(p));
        }
        using var r = new PcapRun(bytes, $"{Src} -> CheckIPHeader -> DecIPTTL -> CheckIPHeader -> {Sink0};");
        var outs = r.Out(0);
        Assert.Equal(bytes.Count, outs.Count);
        for (int i = 0; i < outs.Count; i++)
        {
            Assert.Equal(bytes[i][8] - 1, outs[i][8]);
            Assert.True(ParseIp(outs[i]).ValidIPChecksum);
        }
    }

    [Fact]
    public void DecIPTTLActiveAndMulticast()
    {
        var mc = Udp(dst: "224.0.0.5", ttl: 1);
        var uc = Udp(ttl: 9);
        using (var r = new PcapRun([mc, uc], $"{Src} -> CheckIPHeader -> d :: DecIPTTL(MULTICAST false) -> {Sink0};"))
        {
            var outs = r.Out(0);
            Assert.Equal(mc, outs[0]);
            Assert.Equal(8, outs[1][8]);
        }
        using (var r = new PcapRun([mc, uc], $"{Src} -> CheckIPHeader -> d :: DecIPTTL(ACTIVE false) -> {Sink0};"))
        {
            Assert.Equal([mc, uc], r.Out(0));
            Assert.Equal("false", r.T.Read("d.active"));
            Assert.True(r.T.Write("d.active", "true"));
            Assert.Equal("true", r.T.Read("d.active"));
        }
    }

    [Fact]
    public void SetIPDSCPAndECNKeepTheChecksumValid()
    {
        var a = RawIp("10.0.0.1", "10.0.0.2", 17, new byte[8], tos: 0xFF);
        using var r = new PcapRun([a], $"{Src} -> CheckIPHeader -> t :: Tee; t[0] -> d :: SetIPDSCP(46) -> {Sink0}; " +
            $"t[1] -> e :: SetIPECN(ECT(0)) -> {Sink1};");
        var d = ParseIp(r.Out(0)[0]);
        Assert.Equal((46 << 2) | 3, d.TypeOfService);
        Assert.True(d.ValidIPChecksum);
        var e = ParseIp(r.Out(1)[0]);
        Assert.Equal(0xFC | 2, e.TypeOfService);
        Assert.True(e.ValidIPChecksum);
        Assert.Equal("46", r.T.Read("d.dscp"));
        Assert.True(r.T.Write("d.dscp", "8"));
        Assert.Equal("8", r.T.Read("d.dscp"));
        Assert.False(r.T.Write("d.dscp", "99"));
        Assert.Equal("ECT(0)", r.T.Read("e.ecn"));
        Assert.True(r.T.Write("e.ecn", "ce"));
        Assert.Equal("ce", r.T.Read("e.ecn"));
    }

    [Theory]
    [InlineData("no", 0)]
    [InlineData("-", 0)]
    [InlineData("1", 1)]
    [InlineData("ect1", 1)]
    [InlineData("ECT(1)", 1)]
    [InlineData("ect2", 2)]
    [InlineData("ce", 3)]
    [InlineData("CE", 3)]
    public void SetIPECNNames(string name, int value)
    {
        var a = RawIp("10.0.0.1", "10.0.0.2", 17, new byte[8], tos: 0xA5);
        using var r = new PcapRun([a], $"{Src} -> MarkIPHeader -> SetIPECN({name}) -> {Sink0};");
        var p = ParseIp(r.Out(0)[0]);
        Assert.Equal(0xA4 | value, p.TypeOfService);
        Assert.True(p.ValidIPChecksum);
    }

    // ---- MarkIPHeader, StripToNetworkHeader ----

    [Fact]
    public void MarkIPHeaderAndStripToNetworkHeader()
    {
        var udp = Udp();
        using var r = new PcapRun([udp],
            "FromDump(in.pcap, STOP true) -> MarkIPHeader(14) -> StripToNetworkHeader -> c :: CheckIPHeader -> ToDump(OUT0);" +
            "FromDump(in.pcap, STOP true) -> MarkIPHeader(14) -> Strip(20) -> StripToNetworkHeader -> IPPrint(back, TIMESTAMP false) -> ToDump(OUT1);");
        Assert.Equal(udp, r.Out(0, strip: 0)[0]);
        Assert.Equal(udp, r.Out(0, strip: 0)[0]);   // Ethernet header gone
        Assert.Equal(udp, r.Out(1, strip: 0)[0]);   // data start moved back to the IP header
        Assert.Equal("back: 10.0.0.2.1234 > 10.0.0.9.53: udp 20\n", r.Err);
        Assert.Equal("0", r.T.Read("c.drops"));
    }

    // ---- IPPrint ----

    private static string IPPrintLine(byte[] ip, string args = "TIMESTAMP false", string prefix = "MarkIPHeader")
    {
        using var t = RunConfig($"InfiniteSource(DATA {Hex(ip)}, LIMIT 1, STOP true) -> {prefix} -> IPPrint({args}) -> Discard;");
        t.AssertNoLeaks();
        return t.Err.ToString();
    }

    [Fact]
    public void IPPrintTcpLines()
    {
        Assert.Equal("10.1.120.186.26937 > 172.16.13.201.8080: S 486183062:486183063(1,40,40) win 65535\n", IPPrintLine(Tcp()));
        Assert.Equal("172.16.13.201.8080 > 10.1.120.186.26937: S 163731126:163731127(1,40,40) ack 486183063 win 65535\n",
            IPPrintLine(Tcp("172.16.13.201", "10.1.120.186", 8080, 26937, 163731126, 486183063, ackFlag: true)));
        Assert.Equal("1.1.1.1.1 > 2.2.2.2.2: P 5:48(43,83,83) ack 9 win 100\n",
            IPPrintLine(Tcp("1.1.1.1", "2.2.2.2", 1, 2, 5, 9, syn: false, ackFlag: true, psh: true, payload: 43, window: 100)));
        Assert.Equal("1.1.1.1.1 > 2.2.2.2.2: F 5:6(1,40,40) ack 9 win 100\n",
            IPPrintLine(Tcp("1.1.1.1", "2.2.2.2", 1, 2, 5, 9, syn: false, ackFlag: true, fin: true, window: 100)));
        Assert.Equal("1.1.1.1.1 > 2.2.2.2.2: . 5:5(0,40,40) ack 9 win 100\n",
            IPPrintLine(Tcp("1.1.1.1", "2.2.2.2", 1, 2, 5, 9, syn: false, ackFlag: true, window: 100)));
        // truncated transport headers
        var t = Tcp();
        Assert.Equal("10.1.120.186 > 172.16.13.201: truncated-tcp\n", IPPrintLine(t[..22]));
        Assert.Equal("10.1.120.186.26937 > 172.16.13.201.8080: truncated-tcp\n", IPPrintLine(t[..30]));
        Assert.Equal("10.1.120.186.26937 > 172.16.13.201.8080: S 486183062:486183063(1,35,40)truncated-tcp\n", IPPrintLine(t[..35]));
    }

    [Fact]
    public void IPPrintUdpIcmpAndOtherLines()
    {
        Assert.Equal("10.0.0.2.1234 > 10.0.0.9.53: udp 20\n", IPPrintLine(Udp(payload: 12)));
        Assert.Equal("10.0.0.2.1234 > 10.0.0.9.53: truncated-udp\n", IPPrintLine(Udp()[..26]));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp echo (119, 3)\n", IPPrintLine(Icmp(IcmpV4TypeCode.EchoRequest, 119, 3)));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp echo-reply (30464, 768)\n", IPPrintLine(Icmp(IcmpV4TypeCode.EchoReply, 119, 3), "TIMESTAMP false, SWAP false"));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp timeexceeded transit\n", IPPrintLine(Icmp((IcmpV4TypeCode)0x0B00, 0, 0, payload: 28)));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp parameterproblem length\n", IPPrintLine(Icmp((IcmpV4TypeCode)0x0C02, 0, 0, payload: 28)));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp type 42 code 7\n", IPPrintLine(Icmp((IcmpV4TypeCode)0x2A07, 0, 0)));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp sourcequench\n", IPPrintLine(Icmp((IcmpV4TypeCode)0x0400, 0, 0)));

        var inner = Udp("10.0.0.9", "192.168.0.7", 4000, 53);
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp 192.168.0.7 unreachable port udp/53\n",
            IPPrintLine(IcmpWith(0x0303, 0, inner[..28])));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp 192.168.0.7 unreachable protocol udp\n",
            IPPrintLine(IcmpWith(0x0302, 0, inner[..28])));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp 192.168.0.7 unreachable needfrag (mtu 576)\n",
            IPPrintLine(IcmpWith(0x0304, 576, inner[..28])));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp 192.168.0.7 unreachable port protocol 99truncated-icmp\n",
            IPPrintLine(IcmpWith(0x0303, 0, Proto(inner, 99)[..22])));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp 192.168.0.7 unreachable code 99\n", IPPrintLine(IcmpWith(0x0363, 0, inner[..28])));
        Assert.Equal("10.0.0.2 > 8.8.8.8: icmp unreachable port truncated-icmp\n", IPPrintLine(IcmpWith(0x0303, 0, inner[..10])));

        Assert.Equal("10.0.0.1 > 10.0.0.2: ip-proto-47\n", IPPrintLine(RawIp("10.0.0.1", "10.0.0.2", 47, new byte[4])));
        Assert.Equal("truncated-ip\n", IPPrintLine(Udp()[..19]));
    }

    private static byte[] Proto(byte[] ip, byte proto)
    {
        var b = (byte[])ip.Clone();
        b[9] = proto;
        return b;
    }

    private static byte[] IcmpWith(int typeCode, ushort mtu, byte[] rest)
    {
        var icmp = new byte[8 + rest.Length];
        icmp[0] = (byte)(typeCode >> 8);
        icmp[1] = (byte)typeCode;
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(6), mtu);
        rest.CopyTo(icmp, 8);
        BinaryPrimitives.WriteUInt16BigEndian(icmp.AsSpan(2), ClickOS.Core.InternetChecksum.Compute(icmp));
        return RawIp("10.0.0.2", "8.8.8.8", 1, icmp);
    }

    [Fact]
    public void IPPrintFieldsAnnotationsAndFragments()
    {
        var frag = RawIp("10.0.0.1", "10.0.0.2", 17, new byte[16], fragField: 0x2000 | 3, id: 77, tos: 8);
        Assert.Equal("lbl: #0.5: 10.0.0.1 > 10.0.0.2: udp (frag 77:16@24+)\n",
            IPPrintLine(frag, "lbl, TIMESTAMP false, AGGREGATE true, PAINT true", "MarkIPHeader -> Paint(5)"));
        Assert.Equal("paint 5: id 77 ttl 64 tos 8 length 36 10.0.0.1 > 10.0.0.2: udp (frag 77:16@24+)\n",
            IPPrintLine(frag, "TIMESTAMP false, PAINT true, ID true, TTL true, TOS true, LENGTH true", "MarkIPHeader -> Paint(5)"));
        var first = RawIp("10.0.0.1", "10.0.0.2", 17, Udp()[20..], fragField: 0x2000, id: 5);
        Assert.Equal("10.0.0.1.1234 > 10.0.0.2.53: udp 20 (frag 5:20@0+)\n", IPPrintLine(first));
        // no network header: nothing printed
        Assert.Equal("", IPPrintLine(Udp(), "TIMESTAMP false", "Null"));
        Assert.Equal("", IPPrintLine(Udp(), "ACTIVE false"));
    }

    [Fact]
    public void IPPrintTimestamps()
    {
        using var t = RunConfig($"InfiniteSource(DATA {Hex(Udp())}, LIMIT 2, STOP true) -> MarkIPHeader -> s :: SetTimestamp(1700000000.001) -> IPPrint(x) -> Discard;");
        Assert.Equal("x: 1700000000.001000: 10.0.0.2.1234 > 10.0.0.9.53: udp 20\nx: 1700000000.001000: 10.0.0.2.1234 > 10.0.0.9.53: udp 20\n", t.Err.ToString());
    }

    [Fact]
    public void IPPrintContentsAndPayload()
    {
        var udp = Udp(payload: 30);
        string hex = IPPrintLine(udp, "TIMESTAMP false, CONTENTS HEX, MAXLENGTH 30");
        string expectHex = "10.0.0.2.1234 > 10.0.0.9.53: udp 38\n  " + Groups(udp.AsSpan(0, 24)) + "\n  " + Groups(udp.AsSpan(24, 6)) + "\n";
        Assert.Equal(expectHex, hex);

        string payload = IPPrintLine(udp, "TIMESTAMP false, PAYLOAD ASCII");
        Assert.Equal("10.0.0.2.1234 > 10.0.0.9.53: udp 38\n  abcdefgh ijklmnop qrstuvwx yzabcd\n", payload);

        string all = IPPrintLine(udp, "TIMESTAMP false, CONTENTS true, MAXLENGTH -1");
        Assert.Equal(3, all.Count(c => c == '\n') - 1);
        Assert.Equal("10.0.0.2.1234 > 10.0.0.9.53: udp 38\n", IPPrintLine(udp, "TIMESTAMP false, CONTENTS false"));

        var tcp = Tcp(payload: 3);
        Assert.EndsWith("(4,43,43) win 65535\n  616263\n", IPPrintLine(tcp, "TIMESTAMP false, PAYLOAD HEX"));
        Assert.EndsWith("win 65535\n", IPPrintLine(Tcp(), "TIMESTAMP false, PAYLOAD true"));
    }

    private static string Groups(ReadOnlySpan<byte> b)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < b.Length; i++)
        {
            if (i > 0 && i % 4 == 0) sb.Append(' ');
            sb.Append(b[i].ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    [Fact]
    public void IPPrintOutfileAndActiveHandler()
    {
        string file = Path.Combine(Path.GetTempPath(), "clickos-ipprint-" + Guid.NewGuid().ToString("N")[..8] + ".txt");
        try
        {
            using (var t = RunConfig($"InfiniteSource(DATA {Hex(Udp())}, LIMIT 2, STOP true) -> MarkIPHeader -> p :: IPPrint(f, TIMESTAMP false, OUTFILE {file}) -> Discard;"))
            {
                Assert.Equal("true", t.Read("p.active"));
                Assert.True(t.Write("p.active", "false"));
                Assert.Equal("false", t.Read("p.active"));
                t.AssertNoLeaks();
                Assert.Equal("", t.Err.ToString());
            }
            Assert.Equal("f: 10.0.0.2.1234 > 10.0.0.9.53: udp 20\nf: 10.0.0.2.1234 > 10.0.0.9.53: udp 20\n", File.ReadAllText(file));
        }
        finally
        {
            File.Delete(file);
        }
    }

    // ---- robustness and allocation ----

    [Fact]
    public void RandomGarbageNeverThrowsOrLeaks()
    {
        var rng = new Random(12345);
        var packets = new List<byte[]>();
        for (int i = 0; i < 400; i++)
        {
            var p = (i % 3) switch { 0 => Udp(payload: rng.Next(0, 40)), 1 => Tcp(payload: rng.Next(0, 40)), _ => Icmp(IcmpV4TypeCode.EchoRequest, 1, 2, rng.Next(0, 40)) };
            int n = rng.Next(0, p.Length + 1);
            var b = p[..n];
            for (int k = rng.Next(0, 4); k > 0 && b.Length > 0; k--) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            if (b.Length >= 20 && (b[0] & 0xF) >= 5 && (b[0] & 0xF) * 4 <= b.Length && rng.Next(2) == 0) FixIPChecksum(b);
            packets.Add(b);
        }
        string chain = "MarkIPHeader -> IPPrint(CONTENTS HEX, PAYLOAD false) -> DecIPTTL -> SetIPDSCP(3) -> SetIPECN(ce) -> SetUDPChecksum -> IPPrint(PAYLOAD ASCII)";
        using var r = new PcapRun(packets,
            $"{Src} -> t :: Tee(3); t[0] -> c :: CheckIPHeader(VERBOSE true) -> tc :: CheckTCPHeader -> uc :: CheckUDPHeader -> ic :: CheckICMPHeader -> Discard; " +
            $"t[1] -> {chain} -> SetTCPChecksum(true) -> SetIPChecksum -> {Sink0}; " +
            "t[2] -> CheckIPHeader2 -> StripToNetworkHeader -> DecIPTTL -> IPPrint(TTL true, ID true, TOS true, LENGTH true) -> SetTCPChecksum -> Discard;");
        Assert.True(r.T.ReadLong("c.drops") > 0);
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerPacket()
    {
        string data = Hex(Udp(payload: 18));
        using var t = TestRouter.Start(
            $"InfiniteSource(DATA {data}, BURST 32) -> c :: Counter -> ch :: CheckIPHeader -> CheckUDPHeader -> SetUDPChecksum -> DecIPTTL -> SetIPDSCP(12) -> SetIPECN(1) " +
            "-> SetIPChecksum -> CheckIPHeader2 -> CheckTCPHeader -> IPPrint(ACTIVE false) -> Discard; ch[1] -> Discard;");
        var sched = t.Router!.Scheduler;
        for (int i = 0; i < 3_000; i++) sched.RunBatch(129);
        var counter = t.Router.Elements.OfType<Counter>().First();
        AllocationProbe.AssertNoAllocation(sched, () => counter.Count, 300_000);
    }
}
