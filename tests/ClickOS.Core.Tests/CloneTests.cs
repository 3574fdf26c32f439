namespace ClickOS.Core.Tests;

public sealed class CloneTests
{
    [Fact]
    public void Clone_SharesData_AndCopiesAnnotations()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(40))!;
        p.PaintAnno = 4;
        p.TimestampNs = 1000;
        p.SetNetworkHeader(14, 20);
        var c = p.Clone()!;
        Assert.NotSame(p, c);
        Assert.True(p.Shared);
        Assert.True(c.Shared);
        Assert.Equal(p.Data.ToArray(), c.Data.ToArray());
        Assert.True(p.Data.Overlaps(c.Data)); // same bytes, not a copy
        Assert.Equal(4, c.PaintAnno);
        Assert.Equal(1000, c.TimestampNs);
        Assert.Equal(14, c.NetworkHeaderOffset);
        Assert.Equal(2, pool.Outstanding);
    }

    [Fact]
    public void Clone_AnnotationsAreIndependent()
    {
        var pool = new PacketPool();
        var p = pool.Make(10)!;
        p.PaintAnno = 1;
        var c = p.Clone()!;
        c.PaintAnno = 2;
        c.SetAnnoU32(AnnoOffsets.Aggregate, 9);
        Assert.Equal(1, p.PaintAnno);
        Assert.Equal(0u, p.GetAnnoU32(AnnoOffsets.Aggregate));
    }

    [Fact]
    public void WritableData_OnClone_CopiesOnWrite_OriginalUnchanged()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(40))!;
        var c = p.Clone()!;
        var w = c.WritableData();
        w[0] = 0xFF;
        w[39] = 0xFE;
        Assert.Equal(Bytes.Seq(40), p.Data.ToArray());
        Assert.Equal(0xFF, c.Data[0]);
        Assert.Equal(0xFE, c.Data[39]);
        Assert.Equal(Bytes.Seq(38, 1), c.Data[1..39].ToArray());
        Assert.False(p.Shared);
        Assert.False(c.Shared);
        Assert.Equal(p.Headroom, c.Headroom);
    }

    [Fact]
    public void WritableData_OnOriginal_WhileShared_LeavesCloneUnchanged()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(16))!;
        var c = p.Clone()!;
        p.WritableData().Clear();
        Assert.Equal(Bytes.Seq(16), c.Data.ToArray());
        Assert.All(p.Data.ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Uniqueify_KeepsHeaderOffsetsAndHeadroomBytes()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(60))!;
        p.Pull(14);
        p.SetNetworkHeader(0, 20);
        var c = p.Clone()!;
        c.Uniqueify();
        Assert.False(c.Shared);
        Assert.Equal(0, c.NetworkHeaderOffset);
        Assert.Equal(20, c.TransportHeaderOffset);
        Assert.True(c.TryUnpull(14));
        Assert.Equal(Bytes.Seq(60), c.Data.ToArray());
    }

    [Fact]
    public void PushAndPut_OnClone_DoNotTouchTheOriginal()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(20))!;
        p.Push(1);
        p.WritableData()[0] = 0x11; // a known byte just behind the data start
        p.Pull(1);
        p.Put(1);
        p.WritableData()[^1] = 0x22; // and one just after the data end
        p.Take(1);
        var c = p.Clone()!;
        c.Push(4);
        c.WritableData()[..4].Fill(0xAA);
        var d = p.Clone()!;
        d.Put(8);
        d.WritableData()[^8..].Fill(0xBB);
        // The bytes around the original's window are untouched too.
        Assert.Equal(Bytes.Seq(20), p.Data.ToArray());
        Assert.Equal(0x11, p.At(-1, 1)[0]);
        Assert.Equal(0x22, p.At(20, 1)[0]); // Put on the clone zeroes only its own copy
        Assert.Equal(Bytes.Seq(20), c.Data[4..].ToArray());
        Assert.Equal(Bytes.Seq(20), d.Data[..20].ToArray());
        Assert.All(d.Data[20..].ToArray(), b => Assert.Equal(0xBB, b));
        Assert.Equal(20, p.Length);
    }

    [Fact]
    public void PullAndTake_OnClone_ChangeOnlyItsWindow()
    {
        var pool = new PacketPool();
        var p = pool.Make(Bytes.Seq(20))!;
        var c = p.Clone()!;
        c.Pull(5);
        c.Take(5);
        Assert.Equal(20, p.Length);
        Assert.Equal(Bytes.Seq(20), p.Data.ToArray());
        Assert.Equal(Bytes.Seq(10, 5), c.Data.ToArray());
        Assert.True(c.Shared);
    }

    [Fact]
    public void KillingOriginal_KeepsSharedBufferAliveForClone()
    {
        var pool = new PacketPool(initialPackets: 16);
        var p = pool.Make(Bytes.Seq(32))!;
        var c = p.Clone()!;
        p.Kill();
        Assert.False(c.Shared);
        // Fresh packets must not be handed the buffer the clone still uses.
        var others = Enumerable.Range(0, 100).Select(_ => pool.Make(new byte[32])!).ToList();
        Assert.Equal(Bytes.Seq(32), c.Data.ToArray());
        c.Kill();
        foreach (var o in others) o.Kill();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void Clones_ReleaseRefcounts_OutstandingZero_AndBuffersReused()
    {
        var pool = new PacketPool(initialPackets: 16);
        // Warm up so every packet object and buffer the loop needs exists.
        for (int i = 0; i < 4; i++)
        {
            var w = pool.Make(64)!;
            var wc = w.Clone()!;
            wc.WritableData()[0] = 1;
            w.Kill();
            wc.Kill();
        }
        long buffers = pool.BuffersAllocated, created = pool.Created;
        for (int i = 0; i < 5_000; i++)
        {
            var p = pool.Make(64)!;
            var c1 = p.Clone()!;
            var c2 = c1.Clone()!;
            c2.WritableData()[0] = (byte)i; // copy-on-write takes a second buffer
            if (i % 2 == 0) { p.Kill(); c1.Kill(); c2.Kill(); }
            else { c2.Kill(); c1.Kill(); p.Kill(); }
        }
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(buffers, pool.BuffersAllocated);
        Assert.Equal(created, pool.Created);
    }

    [Fact]
    public void Clone_WhenPoolIsAtItsLimit_ReturnsNull()
    {
        var pool = new PacketPool(initialPackets: 2, maxPackets: 2);
        var p = pool.Make(10)!;
        var c = p.Clone();
        Assert.NotNull(c);
        Assert.Null(p.Clone());
        Assert.Equal(2, pool.Outstanding);
    }

    [Fact]
    public void Clone_OfOversizePacket_CopiesOnWrite()
    {
        var pool = new PacketPool(bufferSize: 256);
        var p = pool.Make(Bytes.Seq(200), headroom: 100)!;
        var c = p.Clone()!;
        c.WritableData()[0] = 0xFF;
        Assert.Equal(Bytes.Seq(200), p.Data.ToArray());
        Assert.Equal(0xFF, c.Data[0]);
        Assert.Equal(Bytes.Seq(199, 1), c.Data[1..].ToArray());
        p.Kill();
        c.Kill();
        Assert.Equal(0, pool.Outstanding);
    }
}
