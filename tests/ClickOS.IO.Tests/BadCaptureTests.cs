using System.Buffers.Binary;
using System.IO.Compression;
using ClickOS.Tests;

namespace ClickOS.IO.Tests;

/// <summary>
/// Truncated, corrupt and oversized pcap and pcapng files: each gives a clear error or a
/// counted skip, the packets before the damage still come out, and the router stops by
/// itself (no exception, no hang). Every case runs with and without MMAP.
/// </summary>
public sealed class BadCaptureTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-bad-" + Guid.NewGuid().ToString("N")[..8]);

    public BadCaptureTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string n) => Path.Combine(_dir, n);

    private byte[] GoodPcap(int packets)
    {
        TestRouter.WritePcap(P("good.pcap"), Enumerable.Range(0, packets).Select(i => TestRouter.Frame(60 + i)));
        return File.ReadAllBytes(P("good.pcap"));
    }

    /// <summary>Runs FromDump over <paramref name="file"/>; returns (packets out, runtime error text).</summary>
    private (long Count, string Errors) Read(byte[] file, bool mmap, string extra = "")
    {
        File.WriteAllBytes(P("bad.pcap"), file);
        using var t = TestRouter.Start($"f :: FromDump({P("bad.pcap")}, STOP true, MMAP {(mmap ? "true" : "false")}{extra}) -> c :: Counter -> Discard;");
        t.Run(5_000);
        long count = t.ReadLong("c.count");
        string errs = t.Err.ToString() + t.Errors.Text;
        t.AssertNoLeaks();
        return (count, errs);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void HugeCapturedLengthIsAnErrorAfterTheGoodPackets(bool mmap)
    {
        var f = GoodPcap(3);
        int third = 24 + 16 + 60 + 16 + 61;
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(third + 8), 0x7FFFFFF0);
        var (count, errors) = Read(f, mmap);
        Assert.Equal(2, count);
        Assert.Contains($"bad packet header (captured length {0x7FFFFFF0}) at offset {third}; giving up", errors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OversizedRecordJustOverTheLimitIsRefused(bool mmap)
    {
        var f = GoodPcap(1);
        var big = new byte[16 + 300_000];
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(8), 300_000);
        BinaryPrimitives.WriteUInt32LittleEndian(big.AsSpan(12), 300_000);
        var (count, errors) = Read([.. f, .. big], mmap);
        Assert.Equal(1, count);
        Assert.Contains("captured length 300000", errors);
    }

    [Theory]
    [InlineData(true, 1)]   // cut inside the last record's data
    [InlineData(false, 1)]
    [InlineData(true, 70)]  // cut inside the last record's header
    [InlineData(false, 70)]
    public void TruncatedPcapStopsAfterTheLastWholePacket(bool mmap, int cut)
    {
        var f = GoodPcap(3);
        var (count, errors) = Read(f[..^cut], mmap);
        Assert.Equal(2, count);
        Assert.Equal("", errors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void EmptyAndHeaderOnlyFiles(bool mmap)
    {
        File.WriteAllBytes(P("empty.pcap"), []);
        var t = new TestRouter($"FromDump({P("empty.pcap")}, MMAP {(mmap ? "true" : "false")}) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("not a tcpdump file (too short)", t.Errors.Text);
        var (count, errors) = Read(GoodPcap(1)[..24], mmap);
        Assert.Equal(0, count);
        Assert.Equal("", errors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void PcapNgWithABadInterfaceNumberIsACountedSkip(bool mmap)
    {
        var frames = Enumerable.Range(0, 4).Select(i => TestRouter.Frame(60 + i)).ToList();
        var ng = CaptureFormatTests.PcapNg(false, false, frames);
        // The second enhanced packet names interface 7 (there is only 0).
        int at = FindBlock(ng, 6, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(ng.AsSpan(at + 8), 7);
        File.WriteAllBytes(P("bad.pcapng"), ng);
        using var t = TestRouter.Start($"f :: FromDump({P("bad.pcapng")}, STOP true, MMAP {(mmap ? "true" : "false")}) -> c :: Counter -> Discard;");
        t.Run(5_000);
        Assert.Equal(3, t.ReadLong("c.count"));
        Assert.Equal(1, t.ReadLong("f.skipped"));
        t.AssertNoLeaks();
    }

    [Theory]
    [InlineData(true, 5)]        // block length too small
    [InlineData(false, 5)]
    [InlineData(true, 0x7FFFFFF0)] // absurdly large
    [InlineData(false, 0x7FFFFFF0)]
    [InlineData(true, 37)]       // not a multiple of 4
    public void PcapNgWithACorruptBlockLengthGivesUp(bool mmap, int length)
    {
        var frames = Enumerable.Range(0, 4).Select(i => TestRouter.Frame(60 + i)).ToList();
        var ng = CaptureFormatTests.PcapNg(false, false, frames);
        int at = FindBlock(ng, 6, 2);
        BinaryPrimitives.WriteUInt32LittleEndian(ng.AsSpan(at + 4), (uint)length);
        var (count, errors) = Read(ng, mmap);
        Assert.Equal(2, count);
        Assert.Contains("bad pcapng block; giving up", errors);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TruncatedPcapNgStopsAfterTheLastWholeBlock(bool mmap)
    {
        var frames = Enumerable.Range(0, 4).Select(i => TestRouter.Frame(60 + i)).ToList();
        var ng = CaptureFormatTests.PcapNg(false, false, frames);
        var (count, errors) = Read(ng[..^10], mmap);
        Assert.Equal(3, count);
        Assert.Equal("", errors);
    }

    [Fact]
    public void CorruptGzipIsAnErrorNotAnException()
    {
        var f = GoodPcap(5000);
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(f);
        var z = ms.ToArray();
        for (int i = z.Length / 2; i < z.Length / 2 + 16; i++) z[i] ^= 0x5A; // damage the deflate stream
        var (count, errors) = Read(z, mmap: true);
        Assert.InRange(count, 1, 4999);
        Assert.Contains("giving up", errors);
        // Damage in the first block is found while opening: an initialization error that says what.
        var z2 = ms.ToArray();
        for (int i = 12; i < 40; i++) z2[i] ^= 0x5A;
        File.WriteAllBytes(P("bad2.pcap"), z2);
        var t = new TestRouter($"FromDump({P("bad2.pcap")}) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("bad2.pcap: ", t.Errors.Text);
        Assert.DoesNotContain("too short", t.Errors.Text);
    }

    [Fact]
    public void TruncatedGzipEndsQuietlyAfterTheLastWholePacket()
    {
        var f = GoodPcap(200);
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(f);
        var z = ms.ToArray();
        var (count, _) = Read(z[..(z.Length / 2)], mmap: true);
        Assert.InRange(count, 1, 199);
    }

    /// <summary>Offset of the <paramref name="index"/>-th block of <paramref name="type"/> (little-endian pcapng).</summary>
    private static int FindBlock(byte[] ng, uint type, int index)
    {
        int at = 0, seen = 0;
        while (at + 12 <= ng.Length)
        {
            uint t = BinaryPrimitives.ReadUInt32LittleEndian(ng.AsSpan(at));
            int len = (int)BinaryPrimitives.ReadUInt32LittleEndian(ng.AsSpan(at + 4));
            if (t == type && seen++ == index) return at;
            at += len;
        }
        throw new InvalidOperationException("block not found");
    }
}
