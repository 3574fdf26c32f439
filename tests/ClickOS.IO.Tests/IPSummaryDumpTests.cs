using System.Buffers.Binary;
using System.Text;
using ClickOS.Core;
using ClickOS.Tests;
using PacketDotNet;
using PacketDotNet.Utils;

namespace ClickOS.IO.Tests;

/// <summary>
/// ToIPSummaryDump and FromIPSummaryDump: field formats (Click 2.1's), headers and "!" lines,
/// options, bad-packet reporting, binary dumps, malformed input, and the packets
/// FromIPSummaryDump builds (checked with PacketDotNet as an independent oracle).
/// </summary>
public sealed class IPSummaryDumpTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-ipsum-" + Guid.NewGuid().ToString("N")[..8]);

    public IPSummaryDumpTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    // ---- helpers ----

    private static List<byte[]> ReadPcapPackets(string path)
    {
        var b = File.ReadAllBytes(path);
        var list = new List<byte[]>();
        int pos = 24;
        while (pos + 16 <= b.Length)
        {
            int cap = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(pos + 8));
            list.Add(b.AsSpan(pos + 16, cap).ToArray());
            pos += 16 + cap;
        }
        return list;
    }

    private static ushort Checksum(ReadOnlySpan<byte> d, uint initial = 0) => InternetChecksum.Fold(InternetChecksum.Sum(d, initial));

    /// <summary>An Ethernet frame around <paramref name="ip"/> (IP checksum filled in).</summary>
    private static byte[] Ether(byte[] ip, int minLength = 60)
    {
        var f = new byte[Math.Max(14 + ip.Length, minLength)];
        byte[] dst = [2, 0, 0, 0, 0, 1], src = [2, 0, 0, 0, 0, 0x64];
        dst.CopyTo(f, 0);
        src.CopyTo(f, 6);
        f[12] = 0x08;
        ip.CopyTo(f, 14);
        return f;
    }

    /// <summary>IPv4 header (+ options) + <paramref name="rest"/>, IP checksum set.</summary>
    private static byte[] IPv4(byte proto, byte[] rest, byte[]? options = null, string src = "10.0.0.1", string dst = "10.0.0.2",
        ushort id = 7, byte ttl = 64, byte tos = 0, ushort off = 0, int? ipLen = null)
    {
        options ??= [];
        int hl = 20 + options.Length;
        var b = new byte[hl + rest.Length];
        b[0] = (byte)(0x40 | hl / 4);
        b[1] = tos;
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(2), (ushort)(ipLen ?? b.Length));
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(4), id);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(6), off);
        b[8] = ttl;
        b[9] = proto;
        System.Net.IPAddress.Parse(src).GetAddressBytes().CopyTo(b, 12);
        System.Net.IPAddress.Parse(dst).GetAddressBytes().CopyTo(b, 16);
        options.CopyTo(b, 20);
        rest.CopyTo(b, hl);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(10), Checksum(b.AsSpan(0, hl)));
        return b;
    }

    private static byte[] TcpHeader(ushort sport, ushort dport, uint seq, uint ack, byte flags, byte[]? options = null, byte[]? payload = null, ushort win = 512)
    {
        options ??= [];
        payload ??= [];
        int off = 20 + options.Length;
        var t = new byte[off + payload.Length];
        BinaryPrimitives.WriteUInt16BigEndian(t, sport);
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(4), seq);
        BinaryPrimitives.WriteUInt32BigEndian(t.AsSpan(8), ack);
        t[12] = (byte)(off / 4 << 4);
        t[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(t.AsSpan(14), win);
        options.CopyTo(t, 20);
        payload.CopyTo(t, off);
        return t;
    }

    /// <summary>Runs FromDump(frames) -> Strip(14) -> MarkIPHeader -> ToIPSummaryDump(ARGS) and returns the dump.</summary>
    private string Summarize(IEnumerable<byte[]> frames, string args)
    {
        TestRouter.WritePcap(P("in.pcap"), frames);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> MarkIPHeader -> ToIPSummaryDump({P("out.ipsum")}, {args});");
        t.Run();
        t.AssertNoLeaks();
        return File.ReadAllText(P("out.ipsum"), Encoding.Latin1);
    }

    private static string[] Body(string dump) =>
        dump.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith('!')).ToArray();

    // ---- ToIPSummaryDump ----

    [Fact]
    public void HeaderNamesCanonicalFieldsForOldNames()
    {
        var frame = Ether(IPv4(17, new byte[8]));
        string dump = Summarize([frame], "FIELDS src dst \"tcp seq\" length proto ts utimestamp wire_length");
        Assert.StartsWith("!IPSummaryDump 1.3\n!data ip_src ip_dst tcp_seq ip_len ip_proto timestamp timestamp wire_len\n", dump);
        Assert.Equal("10.0.0.1 10.0.0.2 - 28 U 1700000001.000001 1700000001.000001 46", Body(dump)[0]);
    }

    [Fact]
    public void DefaultFieldsAreTimestampAndSource()
    {
        string dump = Summarize([Ether(IPv4(17, new byte[8]))], "BANNER \"my dump\", HEADER true");
        Assert.Equal("!IPSummaryDump 1.3\n!creator \"my dump\"\n!data timestamp ip_src\n1700000001.000001 10.0.0.1\n", dump);
    }

    [Fact]
    public void UnknownFieldAndBinaryPayloadAreConfigurationErrors()
    {
        using var t = new TestRouter($"Idle -> ToIPSummaryDump({P("a")}, FIELDS ip_src bogus_field);");
        Assert.Null(t.Router);
        Assert.Contains("unknown content type 'bogus_field'", t.Errors.Text);
        using var u = new TestRouter($"Idle -> ToIPSummaryDump({P("b")}, FIELDS payload, BINARY true);");
        Assert.Null(u.Router);
        Assert.Contains("cannot use field payload with BINARY", u.Errors.Text);
    }

    [Fact]
    public void WritesTcpFieldsAndOptions()
    {
        // IP options: record route with one address and room for two more, then a NOP.
        byte[] ipOpts = [7, 15, 8, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        byte[] tcpOpts =
        [
            2, 4, 0x05, 0xB4, // mss 1460
            1,                // nop
            3, 3, 7,          // wscale 7
            4, 2,             // sack permitted
            8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // timestamp 1:2
            1, 1,
            5, 10, 0, 0, 0, 100, 0, 0, 0, 200, // sack 100-200
        ];
        var tcp = TcpHeader(1234, 80, 1000, 2000, 0x12, tcpOpts, Encoding.ASCII.GetBytes("hi\n\"$"));
        var ip = IPv4(6, tcp, ipOpts, tos: 0xB9, off: 0x4000, ttl: 33);
        string dump = Summarize([Ether(ip)],
            "FIELDS ip_hl ip_tos ip_dscp ip_ecn ip_frag ip_fragoff ip_opt sport dport tcp_seq tcp_ack tcp_flags tcp_off tcp_window tcp_opt tcp_ntopt tcp_sack payload_len payload ip_capture_len eth_type");
        Assert.Equal("36 185 46 ect1 ! 0! rr{10.0.0.1}+2 1234 80 1000 2000 SA 52 512 mss1460;wscale7;sackok;ts1:2;sack100-200 mss1460;wscale7;sackok;sack100-200 sackok;sack100-200 5 \"hi\\n\\\"\\$\" 93 0800",
            Body(dump)[0]);
    }

    [Theory]
    [InlineData(0x00, ".")]
    [InlineData(0x10, "A")]
    [InlineData(0x18, "PA")]
    [InlineData(0x11, "FA")]
    [InlineData(0x02, "S")]
    [InlineData(0xC1, "FEC")]
    public void TcpFlagLetters(byte flags, string text)
    {
        var ip = IPv4(6, TcpHeader(1, 2, 0, 0, flags));
        Assert.Equal(text, Body(Summarize([Ether(ip)], "FIELDS tcp_flags"))[0]);
    }

    [Fact]
    public void IcmpNamesAndFragments()
    {
        byte[] unreach = [3, 4, 0, 0, 0, 0, 0x05, 0xDC];
        byte[] echo = [8, 0, 0, 0, 0, 9, 0, 3];
        var frames = new[]
        {
            Ether(IPv4(1, unreach)),
            Ether(IPv4(1, echo)),
            Ether(IPv4(17, new byte[16], off: 0x2000)),       // first fragment
            Ether(IPv4(17, new byte[16], off: 0x0003)),       // later fragment, offset 24
        };
        var body = Body(Summarize(frames, "FIELDS icmp_type_name icmp_code_name icmp_nextmtu icmp_flowid icmp_seq ip_frag ip_fragoff sport"));
        Assert.Equal("unreachable needfrag 1500 - - . 0 -", body[0]);
        Assert.Equal("echo 0 - 9 3 . 0 -", body[1]);
        Assert.Equal("- - - - - F 0+ 0", body[2]);
        Assert.Equal("- - - - - f 24 -", body[3]);
    }

    [Fact]
    public void BadPacketLinesPrecedeTheirPackets()
    {
        var v6 = IPv4(17, new byte[8]);
        v6[0] = 0x65;
        var shortHl = IPv4(17, new byte[8]);
        shortHl[0] = 0x43;
        var truncated = IPv4(17, new byte[8], ipLen: 100);
        var frames = new[] { Ether(v6), Ether(shortHl), Ether(truncated, 0), Ether(IPv4(6, new byte[4], ipLen: 24), 0) };
        string dump = Summarize(frames, "FIELDS ip_src ip_len udp_len tcp_seq payload_len, BAD_PACKETS true");
        Assert.Equal(
            "!bad IP version 6\n- 46 - - 46\n" +
            "!bad IP header length 3\n- 46 - - 46\n" +
            "!bad truncated IP missing 72\n10.0.0.1 100 0 - 72\n" +
            "!bad truncated TCP header\n10.0.0.1 24 - - 4294967280\n",
            string.Join("\n", dump.Split('\n').Skip(2)));
    }

    [Fact]
    public void Md5FieldsMatchKnownDigests()
    {
        Span<byte> d = stackalloc byte[16];
        Md5.Hash("abc"u8, d);
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", Convert.ToHexStringLower(d));
        Md5.Hash([], d);
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", Convert.ToHexStringLower(d));
        // crosses a 64-byte block boundary with padding in a second block
        Md5.Hash(Encoding.ASCII.GetBytes("12345678901234567890123456789012345678901234567890123456789012345678901234567890"), d);
        Assert.Equal("57edf4a22be3c955ac49da2e2107b67a", Convert.ToHexStringLower(d));
        var ip = IPv4(17, [0, 1, 0, 2, 0, 11, 0, 0, (byte)'a', (byte)'b', (byte)'c']);
        var body = Body(Summarize([Ether(ip)], "FIELDS payload_md5_hex payload_md5"));
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72 qgauyYJ0pbR1w_tFOe_FYb", body[0]);
    }

    [Fact]
    public void BinaryDumpHasLengthPrefixedRecords()
    {
        var ip = IPv4(6, TcpHeader(1234, 80, 5, 6, 0x10));
        Summarize([Ether(ip)], "FIELDS timestamp ip_src sport tcp_flags ip_len, BINARY true");
        var b = File.ReadAllBytes(P("out.ipsum"));
        string head = "!IPSummaryDump 1.3\n!data timestamp ip_src sport tcp_flags ip_len\n!binary\n";
        Assert.Equal(head, Encoding.ASCII.GetString(b, 0, head.Length));
        var rec = b.AsSpan(head.Length);
        Assert.Equal(4 + 8 + 4 + 2 + 1 + 4, BinaryPrimitives.ReadInt32BigEndian(rec));
        Assert.Equal(1_700_000_001u, BinaryPrimitives.ReadUInt32BigEndian(rec[4..]));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(rec[8..]));
        Assert.Equal(new byte[] { 10, 0, 0, 1 }, rec.Slice(12, 4).ToArray());
        Assert.Equal(1234, BinaryPrimitives.ReadUInt16BigEndian(rec[16..]));
        Assert.Equal(0x10, rec[18]);
        Assert.Equal(40u, BinaryPrimitives.ReadUInt32BigEndian(rec[19..]));
    }

    // ---- FromIPSummaryDump ----

    private const string Trace =
        "!IPSummaryDump 1.3\n" +
        "!data timestamp ip_src sport ip_dst dport ip_proto ip_len tcp_flags ip_ttl payload\n" +
        "# comment\n" +
        "1700000000.000100 10.0.0.2 40000 192.168.1.10 80 T 45 S 64 \"hello\"\n" +
        "1700000000.000200 10.0.0.3 5353 224.0.0.251 5353 U 30 - 255 \"\\001\\002\"\n" +
        "1700000000.000300 10.0.0.5 - 10.0.0.1 - I 84 - 1 -\n" +
        "1700000000.000400 10.0.0.2 40000 192.168.1.10 80 T 40 FA - -\n";

    private List<byte[]> BuildPackets(string dump, string extra, out TestRouter router)
    {
        File.WriteAllText(P("in.ipsum"), dump, Encoding.Latin1);
        router = TestRouter.Start($"f :: FromIPSummaryDump({P("in.ipsum")}, STOP true{extra}) -> c :: Counter -> ToDump({P("out.pcap")}, ENCAP IP);");
        router.Run();
        router.AssertNoLeaks();
        return ReadPcapPackets(P("out.pcap"));
    }

    [Fact]
    public void BuildsPacketsWithValidChecksums()
    {
        var pkts = BuildPackets(Trace, ", CHECKSUM true", out var t);
        using (t)
            Assert.Equal(4, t.ReadLong("c.count"));
        Assert.Equal(4, pkts.Count);

        var ip0 = new IPv4Packet(new ByteArraySegment(pkts[0]));
        Assert.True(ip0.ValidIPChecksum);
        Assert.Equal(45, pkts[0].Length);
        Assert.Equal("10.0.0.2", ip0.SourceAddress.ToString());
        Assert.Equal(64, ip0.TimeToLive);
        var tcp = ip0.Extract<TcpPacket>();
        Assert.True(tcp.ValidChecksum);
        Assert.True(tcp.Synchronize);
        Assert.Equal(40000, tcp.SourcePort);
        Assert.Equal("hello", Encoding.ASCII.GetString(tcp.PayloadData));

        var ip1 = new IPv4Packet(new ByteArraySegment(pkts[1]));
        Assert.True(ip1.ValidIPChecksum);
        var udp = ip1.Extract<UdpPacket>();
        Assert.True(udp.ValidChecksum);
        Assert.Equal(10, udp.Length);
        Assert.Equal(new byte[] { 1, 2 }, udp.PayloadData);

        var ip2 = new IPv4Packet(new ByteArraySegment(pkts[2]));
        Assert.True(ip2.ValidIPChecksum);
        Assert.Equal(84, pkts[2].Length);
        Assert.Equal(1, ip2.TimeToLive);
        Assert.Equal(0, Checksum(pkts[2].AsSpan(20))); // the ICMP checksum verifies
        Assert.Equal(0, pkts[2][20]); // echo-reply by default

        var ip3 = new IPv4Packet(new ByteArraySegment(pkts[3]));
        Assert.Equal(100, ip3.TimeToLive); // default TTL
        var fin = ip3.Extract<TcpPacket>();
        Assert.True(fin.Finished && fin.Acknowledgment);
        Assert.True(fin.ValidChecksum);
    }

    [Fact]
    public void WithoutChecksumPacketsAreShortWithExtraLength()
    {
        File.WriteAllText(P("in.ipsum"), "!data ip_src ip_len ip_proto\n10.0.0.1 1000 U\n");
        using var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true) -> ToDump({P("out.pcap")}, ENCAP IP) -> ToIPSummaryDump({P("out.ipsum")}, FIELDS ip_len udp_len wire_len payload_len);");
        t.Run();
        t.AssertNoLeaks();
        Assert.Equal("1000 980 28 972", Body(File.ReadAllText(P("out.ipsum")))[0]);
        var b = File.ReadAllBytes(P("out.pcap"));
        Assert.Equal(28, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(24 + 8)));
        Assert.Equal(1000, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(24 + 12)));
    }

    [Fact]
    public void TextRoundTripReproducesTheDump()
    {
        const string fields = "timestamp ip_src ip_dst ip_proto ip_len ip_id ip_tos ip_ttl ip_frag ip_fragoff ip_opt sport dport tcp_seq tcp_ack tcp_flags tcp_window tcp_urp tcp_opt udp_len icmp_type icmp_code payload_len count eth_src eth_dst paint";
        string dump =
            "!IPSummaryDump 1.3\n" +
            $"!data {fields}\n" +
            "1700000000.000001 10.0.0.1 10.0.0.2 T 56 17 16 64 ! 0! . 1234 80 1000 2000 SA 512 0 mss1460;sackok;ts1:2 - - - 0 1 02-00-00-00-00-01 02-00-00-00-00-02 0\n" +
            "1700000000.500000 10.0.0.3 10.0.0.4 U 48 18 0 12 . 0 rr{1.2.3.4}+1 53 5353 - - - - - - 16 - - 8 1 02-00-00-00-00-03 02-00-00-00-00-04 3\n" +
            "1700000001.000000 10.0.0.5 10.0.0.6 I 28 19 0 255 F 0+ . - - - - - - - - - 8 0 8 1 02-00-00-00-00-05 02-00-00-00-00-06 1\n";
        File.WriteAllText(P("in.ipsum"), dump);
        using var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true, CHECKSUM true) -> MarkIPHeader(14) -> ToIPSummaryDump({P("out.ipsum")}, FIELDS {fields});");
        t.Run();
        t.AssertNoLeaks();
        Assert.Equal(dump, File.ReadAllText(P("out.ipsum")));
    }

    [Fact]
    public void BinaryDumpRoundTrips()
    {
        const string fields = "ntimestamp ip_src ip_dst ip_proto ip_len ip_ttl sport dport tcp_seq tcp_flags icmp_type payload_len count";
        File.WriteAllText(P("in.ipsum"), $"!data timestamp ip_src ip_dst ip_proto ip_len ip_ttl sport dport tcp_seq tcp_flags icmp_type payload_len count\n" +
            "1700000000.000001 10.0.0.1 10.0.0.2 T 60 64 1234 80 1000 SA - 20 1\n" +
            "1700000000.250000 10.0.0.3 10.0.0.4 U 48 12 53 5353 - - - 20 1\n" +
            "1700000001.000000 10.0.0.5 10.0.0.6 I 28 255 - - - - 8 8 1\n");
        using (var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true) -> MarkIPHeader -> ToIPSummaryDump({P("text1.ipsum")}, FIELDS {fields}) -> ToIPSummaryDump({P("bin.ipsum")}, FIELDS {fields}, BINARY true);"))
        {
            t.Run();
            t.AssertNoLeaks();
        }
        using (var t = TestRouter.Start($"FromIPSummaryDump({P("bin.ipsum")}, STOP true) -> MarkIPHeader -> ToIPSummaryDump({P("text2.ipsum")}, FIELDS {fields});"))
        {
            t.Run();
            t.AssertNoLeaks();
        }
        string text1 = File.ReadAllText(P("text1.ipsum"));
        Assert.Equal(3, Body(text1).Length);
        Assert.Equal(text1, File.ReadAllText(P("text2.ipsum")));
    }

    [Fact]
    public void MalformedLinesAreCountedAndTheFirstReported()
    {
        string dump =
            "!IPSummaryDump 1.3\n" +
            "!data ip_src ip_dst ip_proto\n" +
            "10.0.0.1 10.0.0.2 U\n" +
            "garbage here x\n" +
            "\n" +
            "   \t \n" +
            "999.1.1.1 nonsense 300\n" +
            "\"unterminated\n" +
            "10.0.0.3 10.0.0.4 T\n";
        File.WriteAllText(P("in.ipsum"), dump);
        using var t = TestRouter.Start($"f :: FromIPSummaryDump({P("in.ipsum")}, STOP true) -> c :: Counter -> Discard;");
        t.Run();
        Assert.Equal(2, t.ReadLong("c.count"));
        Assert.Equal(3, t.ReadLong("f.bad_lines"));
        Assert.Equal($"{P("in.ipsum")}:4: packet parse error\n", t.Err.ToString());
        t.AssertNoLeaks();
    }

    [Fact]
    public void RandomLinesNeverCrash()
    {
        var rng = new Random(42);
        const string alphabet = "0123456789.:;,-+!^{}=\"\\ TUIabcdefmnoprstwx?<>F";
        var sb = new StringBuilder("!data timestamp ip_src ip_dst ip_len ip_proto ip_hl ip_opt tcp_off tcp_opt tcp_flags ip_fragoff payload payload_len icmp_type icmp_code eth_type wire_len\n");
        for (int i = 0; i < 2000; i++)
        {
            int n = rng.Next(0, 60);
            for (int k = 0; k < n; k++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
            sb.Append('\n');
        }
        File.WriteAllText(P("in.ipsum"), sb.ToString());
        using var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true, CHECKSUM true) -> MarkIPHeader -> ToIPSummaryDump({P("out.ipsum")}, BAD_PACKETS true, FIELDS ip_src ip_len ip_opt tcp_opt payload payload_md5 icmp_code_name) -> Discard;");
        t.Run();
        t.AssertNoLeaks();
    }

    [Fact]
    public void BangLinesChangeDefaults()
    {
        string dump =
            "!IPSummaryDump 1.3\n" +
            "!proto U\n" +
            "!data ip_src\n" +
            "10.0.0.1\n" +
            "!proto bogus\n" +
            "!data ip_dst ip_proto\n" +
            "10.0.0.9 1\n";
        File.WriteAllText(P("in.ipsum"), dump);
        using var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true) -> ToIPSummaryDump({P("out.ipsum")}, FIELDS ip_src ip_dst ip_proto ip_len);");
        t.Run();
        t.AssertNoLeaks();
        Assert.Equal(["10.0.0.1 0.0.0.0 U 28", "0.0.0.0 10.0.0.9 I 28"], Body(File.ReadAllText(P("out.ipsum"))));
        Assert.Equal($"{P("in.ipsum")}:5: bad protocol in !proto\n", t.Err.ToString());
    }

    [Fact]
    public void UnknownFieldsInDataAreWarnedAndSkipped()
    {
        File.WriteAllText(P("in.ipsum"), "!data ip_src payload_md5 ip_dst\n10.0.0.1 abc 10.0.0.2\n");
        using var t = TestRouter.Start($"FromIPSummaryDump({P("in.ipsum")}, STOP true) -> ToIPSummaryDump({P("out.ipsum")}, FIELDS ip_src ip_dst);");
        t.Run();
        t.AssertNoLeaks();
        Assert.Equal("10.0.0.1 10.0.0.2", Body(File.ReadAllText(P("out.ipsum")))[0]);
        Assert.Contains("warning: unknown content type 'payload_md5'", t.Err.ToString());
    }

    [Fact]
    public void DataKeywordAndMultipacket()
    {
        using var t = TestRouter.Start($"FromIPSummaryDump(DATA \"!data timestamp first_timestamp ip_len count\\n10.000000 4.000000 300 3\\n\", MULTIPACKET true, STOP true) -> ToIPSummaryDump({P("out.ipsum")}, FIELDS timestamp ip_len count);");
        t.Run();
        t.AssertNoLeaks();
        Assert.Equal(["4.000000 100 1", "7.000000 100 1", "10.000000 100 1"], Body(File.ReadAllText(P("out.ipsum"))));
    }

    [Fact]
    public void PayloadAndOptionsTextSurvivesParsing()
    {
        foreach (var s in new[] { "rr{1.2.3.4,5.6.7.8}+1;98=1", "ssrr{1.0.0.1,1.0.0.2^1.0.0.3}", "ts{1,10000,!45}+2++3", "ts.ip{1.0.0.1=1,1.0.0.2=2}+1", "99=0:5:10" })
        {
            Assert.True(SummaryOptions.ParseIP(s, out var bytes), s);
            var sink = new ByteSink();
            SummaryOptions.IPText(sink, bytes, 0, bytes!.Length, SummaryOptions.IPAllNoPad);
            Assert.Equal(s, Encoding.ASCII.GetString(sink.Span));
        }
        foreach (var s in new[] { "mss1400;wscale10;sackok;ts669063908:38382731", "sack95-98;sack100-120", "77=1:2" })
        {
            Assert.True(SummaryOptions.ParseTcp(s, SummaryOptions.TcpAll, out var bytes), s);
            var sink = new ByteSink();
            SummaryOptions.TcpText(sink, bytes, 0, bytes!.Length, SummaryOptions.TcpAllNoPad);
            Assert.Equal(s, Encoding.ASCII.GetString(sink.Span));
        }
        Assert.False(SummaryOptions.ParseIP("rr{1.2.3}", out _));
        Assert.False(SummaryOptions.ParseTcp("mss70000", SummaryOptions.TcpAll, out _));
        Assert.True(SummaryText.TryParseString("\"a\\tb\\303\"'x y'"u8, out var str));
        Assert.Equal(new byte[] { (byte)'a', 9, (byte)'b', 0xC3, (byte)'x', (byte)' ', (byte)'y' }, str);
        Assert.Equal("\"\\$\\\\\\001z\"", SummaryText.Quote("$\\\u0001z"));
    }

    [Fact]
    public void MissingFileIsAnErrorUnlessAllowed()
    {
        using var t = new TestRouter($"FromIPSummaryDump({P("nope.ipsum")}) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("No such file or directory", t.Errors.Text);
        using var u = TestRouter.Start($"f :: FromIPSummaryDump({P("nope.ipsum")}, ALLOW_NONEXISTENT true, STOP true) -> c :: Counter -> Discard;");
        u.Run();
        Assert.Equal(0, u.ReadLong("c.count"));
        Assert.Equal("IP", u.Read("f.encap").Trim());
    }
}
