using System.Buffers.Binary;
using System.IO.Compression;
using ClickOS.Tests;

namespace ClickOS.IO.Tests;

/// <summary>pcapng captures and compressed pcaps read through FromDump.</summary>
public sealed class CaptureFormatTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-fmt-" + Guid.NewGuid().ToString("N")[..8]);

    public CaptureFormatTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string n) => Path.Combine(_dir, n);

    internal static byte[] Block(uint type, byte[] body, bool bigEndian)
    {
        int padded = (body.Length + 3) & ~3;
        var b = new byte[12 + padded];
        void W(int at, uint v) { if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(at), v); else BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(at), v); }
        W(0, type);
        W(4, (uint)b.Length);
        body.CopyTo(b, 8);
        W(b.Length - 4, (uint)b.Length);
        return b;
    }

    /// <summary>A pcapng file: section header, one interface (optionally with ns resolution), enhanced and simple packets.</summary>
    internal static byte[] PcapNg(bool bigEndian, bool nanos, IReadOnlyList<byte[]> frames)
    {
        var ms = new MemoryStream();
        byte[] U32(uint v) { var x = new byte[4]; if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(x, v); else BinaryPrimitives.WriteUInt32LittleEndian(x, v); return x; }
        byte[] U16(ushort v) { var x = new byte[2]; if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(x, v); else BinaryPrimitives.WriteUInt16LittleEndian(x, v); return x; }
        ms.Write(Block(PcapNgConst.Shb, [.. U32(0x1A2B3C4D), .. U16(1), .. U16(0), .. new byte[8]], bigEndian));
        byte[] opts = nanos ? [.. U16(9), .. U16(1), 9, 0, 0, 0, .. U16(0), .. U16(0)] : [];
        ms.Write(Block(1, [.. U16(1), .. U16(0), .. U32(65535), .. opts], bigEndian));
        ms.Write(Block(5, [1, 2, 3, 4], bigEndian)); // an unknown (statistics) block is skipped
        for (int i = 0; i < frames.Count; i++)
        {
            var f = frames[i];
            if (i == frames.Count - 1)
            {
                ms.Write(Block(3, [.. U32((uint)f.Length), .. f], bigEndian));
                continue;
            }
            ulong units = nanos ? 1_000_000_000UL : 1_000_000UL;
            ulong stamp = (1_700_000_000UL + (ulong)i) * units + (ulong)(i + 1) * (nanos ? 7UL : 1UL);
            ms.Write(Block(6, [.. U32(0), .. U32((uint)(stamp >> 32)), .. U32((uint)stamp), .. U32((uint)f.Length), .. U32((uint)f.Length), .. f], bigEndian));
        }
        return ms.ToArray();
    }

    private static class PcapNgConst { public const uint Shb = 0x0A0D0D0A; }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void ReadsPcapNg(bool bigEndian, bool nanos)
    {
        var frames = new[] { TestRouter.Frame(60, fill: 1), TestRouter.Frame(61, fill: 2), TestRouter.Frame(62, fill: 3) };
        File.WriteAllBytes(P("in.pcapng"), PcapNg(bigEndian, nanos, frames));
        using var t = TestRouter.Start($"FromDump({P("in.pcapng")}, STOP true) -> c :: Counter -> Print(x, 0, TIMESTAMP true) -> Discard;");
        t.Run();
        Assert.Equal(3, t.ReadLong("c.count"));
        Assert.Equal(183, t.ReadLong("c.byte_count"));
        var lines = t.Err.ToString().Split('\n');
        Assert.StartsWith(nanos ? "x: 1700000000.000000007:" : "x: 1700000000.000001:", lines[0]);
        Assert.StartsWith(nanos ? "x: 1700000001.000000014:" : "x: 1700000001.000002:", lines[1]);
        Assert.Equal("ETHER", t.Read("FromDump@1.encap"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void ReadsGzipAndBzip2CompressedPcaps()
    {
        var frames = Enumerable.Range(0, 50).Select(i => TestRouter.Frame(60 + i, fill: (byte)i)).ToList();
        TestRouter.WritePcap(P("plain.pcap"), frames);
        using (var gz = new GZipStream(File.Create(P("in.pcap.gz")), CompressionLevel.Fastest))
            gz.Write(File.ReadAllBytes(P("plain.pcap")));
        var psi = new System.Diagnostics.ProcessStartInfo("bzip2", ["-k", "-f", P("plain.pcap")]) { UseShellExecute = false };
        using (var bz = System.Diagnostics.Process.Start(psi)!) bz.WaitForExit();
        foreach (var f in new[] { "in.pcap.gz", "plain.pcap.bz2" })
        {
            using var t = TestRouter.Start($"FromDump({P(f)}, STOP true) -> c :: Counter -> Discard;");
            t.Run();
            Assert.Equal(50, t.ReadLong("c.count"));
            Assert.Equal(frames.Sum(x => x.Length), t.ReadLong("c.byte_count"));
            t.AssertNoLeaks();
        }
    }

    [Theory]
    [InlineData("START_AFTER 1.5", 3)]     // records at +0, +1, +2, +3, +4 s (and µs): the last three
    [InlineData("END_AFTER 2.5", 3)]       // the first three
    [InlineData("START_AFTER 1.5, INTERVAL 1.5", 2)]
    public void RelativeStartAndEndSelectRecords(string keywords, int expected)
    {
        TestRouter.WritePcap(P("in.pcap"), Enumerable.Range(0, 5).Select(_ => TestRouter.Frame(60)));
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true, {keywords}) -> c :: Counter -> Discard;");
        t.Run();
        Assert.Equal(expected, t.ReadLong("c.count"));
    }

    [Fact]
    public void ExclusiveKeywordsAreErrors()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60)]);
        var t = new TestRouter($"FromDump({P("in.pcap")}, END_AFTER 1, INTERVAL 1) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("END, END_AFTER and INTERVAL are mutually exclusive", t.Errors.Text);
    }

    [Fact]
    public void TimingReplaysAtTheOriginalPaceInSimulatedTime()
    {
        TestRouter.WritePcap(P("in.pcap"), [TestRouter.Frame(60), TestRouter.Frame(60), TestRouter.Frame(60)]);
        // Records are 1 s + 1 µs apart; in simulated time the replay follows them exactly.
        using var t = TestRouter.Start($"FromDump({P("in.pcap")}, STOP true, TIMING true) -> c :: Counter -> Discard; s :: Script(wait 1.5s, print $(c.count));", simtime: true);
        t.Run();
        Assert.Equal("2\n", t.Out.ToString());
        Assert.Equal(3, t.ReadLong("c.count"));
    }
}
