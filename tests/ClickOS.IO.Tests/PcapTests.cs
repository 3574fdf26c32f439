using System.Buffers.Binary;
using ClickOS.Tests;

namespace ClickOS.IO.Tests;

public sealed class PcapTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-io-" + Guid.NewGuid().ToString("N")[..8]);

    public PcapTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    internal static List<(long Sec, long Sub, byte[] Data, int Len)> ReadPcap(string path, out uint magic, out int snaplen, out int linktype)
    {
        var b = File.ReadAllBytes(path);
        magic = BinaryPrimitives.ReadUInt32LittleEndian(b);
        snaplen = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(16));
        linktype = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(20));
        var list = new List<(long, long, byte[], int)>();
        int pos = 24;
        while (pos + 16 <= b.Length)
        {
            long sec = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos));
            long sub = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(pos + 4));
            int cap = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(pos + 8));
            int len = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(pos + 12));
            list.Add((sec, sub, b.AsSpan(pos + 16, cap).ToArray(), len));
            pos += 16 + cap;
        }
        return list;
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void RoundTripKeepsBytesAndTimestamps(bool bigEndian, bool nano)
    {
        var frames = new[] { TestRouter.Frame(60, fill: 1), TestRouter.Frame(74, 0x0806, 2), TestRouter.Frame(1514, fill: 3) };
        TestRouter.WritePcap(P("in.pcap"), frames, bigEndian, nano);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true) -> c :: Counter -> ToDump({P("out.pcap")});");
        t.Run();
        Assert.Equal(3, t.ReadLong("c.count"));
        t.AssertNoLeaks();
        var recs = ReadPcap(P("out.pcap"), out uint magic, out int snap, out int link);
        Assert.Equal(0xA1B23C4Du, magic);
        Assert.Equal(2000, snap);
        Assert.Equal(1, link);
        Assert.Equal(3, recs.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(frames[i], recs[i].Data);
            Assert.Equal(1_700_000_001 + i, recs[i].Sec);
            Assert.Equal((i + 1) * 1000, recs[i].Sub); // µs input becomes ns output
        }
    }

    [Fact]
    public void SnaplenTruncatesButKeepsOriginalLength()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(200)]);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true) -> ToDump({P("out.pcap")}, SNAPLEN 64);");
        t.Run();
        t.AssertNoLeaks(); // also closes the dump
        var r = ReadPcap(P("out.pcap"), out _, out int snap, out _);
        Assert.Equal(64, snap);
        Assert.Equal(64, r[0].Data.Length);
        Assert.Equal(200, r[0].Len);
    }

    [Fact]
    public void EncapIPWritesRawLinkType()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60)]);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> ToDump({P("out.pcap")}, ENCAP IP);");
        t.Run();
        ReadPcap(P("out.pcap"), out _, out _, out int link);
        Assert.Equal(101, link);
    }

    [Fact]
    public void EndCallRunsInsteadOfStop()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60), TestRouter.Frame(60)]);
        using var t = TestRouter.Start($"f :: FromDump({P("in.pcap")}, END_CALL s.run) -> c :: Counter -> Discard; s :: Script(TYPE PASSIVE, print \"done $(c.count)\", stop);");
        t.Run();
        Assert.Equal("done 2\n", t.Out.ToString());
        Assert.Equal("2", t.Read("f.count"));
    }

    [Fact]
    public void FromDumpHandlersReportFilePosition()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60)]);
        using var t = TestRouter.Start($"f :: FromDump({P("in.pcap")}, STOP true) -> Discard;");
        t.Run();
        Assert.Equal((24 + 16 + 60).ToString(), t.Read("f.filesize"));
        Assert.Equal(t.Read("f.filesize"), t.Read("f.filepos"));
        Assert.Equal("ETHER", t.Read("f.encap"));
    }

    [Fact]
    public void TruncatedFileStopsCleanly()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60), TestRouter.Frame(60)]);
        var bytes = File.ReadAllBytes(P("in.pcap"));
        File.WriteAllBytes(P("in.pcap"), bytes[..^30]);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true) -> c :: Counter -> Discard;");
        t.Run();
        Assert.Equal(1, t.ReadLong("c.count"));
    }

    [Fact]
    public void NotAPcapIsAnError()
    {
        File.WriteAllText(P("in.pcap"), "this is not a capture file at all");
        var t = new TestRouter($"FromDump({P("in.pcap")}) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("not a tcpdump file (bad magic number)", t.Errors.Text);
    }

    [Fact]
    public void MissingFileIsAnError()
    {
        var t = new TestRouter($"FromDump({P("nope.pcap")}) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("No such file or directory", t.Errors.Text);
    }

    [Fact]
    public void ForceIPDropsNonIPAndSamplingIsDeterministic()
    {
        var ip = TestRouter.Frame(60);
        ip[14] = 0x45;
        TestRouter.WritePcap(P("in.pcap"), [ip, TestRouter.Frame(60, 0x0806), ip]);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true, FORCE_IP true) -> c :: Counter -> Discard;");
        t.Run();
        Assert.Equal(2, t.ReadLong("c.count"));
        Assert.Equal(2 * 46, t.ReadLong("c.byte_count")); // the Ethernet header is stripped
    }

    [Fact]
    public void ForceIPWithASecondOutputEmitsNonIPThere()
    {
        var ip = TestRouter.Frame(60);
        ip[14] = 0x45;
        TestRouter.WritePcap(P("in.pcap"), [ip, TestRouter.Frame(60, 0x0806), ip, TestRouter.Frame(70, 0x86DD)]);
        using var t = TestRouter.Start($"f :: FromDump({P("in.pcap")}, STOP true, FORCE_IP true, SAMPLE 1); f[0] -> c :: Counter -> Discard; f[1] -> n :: Counter -> Discard;");
        t.Run();
        Assert.Equal(2, t.ReadLong("c.count"));
        Assert.Equal(2, t.ReadLong("n.count"));
        Assert.Equal(130, t.ReadLong("n.byte_count")); // non-IP packets keep their link header
        Assert.Equal("1", t.Read("f.sampling_prob"));
        t.AssertNoLeaks();
    }

    private static byte[] Wifi(bool qos, bool fourAddr, ushort etherType, int ipLen = 20)
    {
        int h = (fourAddr ? 30 : 24) + (qos ? 2 : 0);
        var f = new byte[h + 8 + ipLen];
        f[0] = (byte)(0x08 | (qos ? 0x80 : 0));   // type data (2), QoS subtype bit
        f[1] = (byte)(fourAddr ? 3 : 1);           // to DS (and from DS)
        f[h] = 0xAA; f[h + 1] = 0xAA; f[h + 2] = 0x03;
        f[h + 6] = (byte)(etherType >> 8); f[h + 7] = (byte)etherType;
        f[h + 8] = 0x45;
        f[h + 8 + 3] = (byte)ipLen;
        return f;
    }

    [Fact]
    public void ForceIPFinds80211DataFramesIP()
    {
        // Plain, QoS, four-address data frames carrying IPv4; an ARP data frame; a beacon (management).
        var beacon = new byte[60];
        beacon[0] = 0x80;
        TestRouter.WritePcap(P("in.pcap"), [Wifi(false, false, 0x0800), Wifi(true, false, 0x0800), Wifi(false, true, 0x0800), Wifi(false, false, 0x0806), beacon], linkType: 105);
        using var t = TestRouter.Start($"f :: FromDump({P("in.pcap")}, STOP true, FORCE_IP true); f[0] -> c :: Counter -> Discard; f[1] -> n :: Counter -> Discard;");
        t.Run();
        Assert.Equal(3, t.ReadLong("c.count"));
        Assert.Equal(3 * 20, t.ReadLong("c.byte_count")); // 802.11 and LLC/SNAP headers stripped
        Assert.Equal(2, t.ReadLong("n.count"));
        Assert.Equal("802_11", t.Read("f.encap").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void PullModeToDumpUsesItsOwnTask()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60), TestRouter.Frame(61)]);
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}) -> Queue -> d :: ToDump({P("out.pcap")}); DriverManager(label l, wait 1ms, goto l $(lt $(d.count) 2), stop);");
        t.Run();
        Assert.Equal("2", t.Read("d.count"));
        t.AssertNoLeaks();
        Assert.Equal(2, ReadPcap(P("out.pcap"), out _, out _, out _).Count);
    }
}
