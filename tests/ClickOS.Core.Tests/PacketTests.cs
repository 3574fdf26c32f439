namespace ClickOS.Core.Tests;

public sealed class PacketTests
{
    private readonly PacketPool _pool = new();

    [Fact]
    public void WritableData_WritesAreVisibleInData()
    {
        var p = _pool.Make(new byte[8])!;
        p.WritableData()[3] = 0xAB;
        Assert.Equal(0xAB, p.Data[3]);
        Assert.Equal(8, p.WritableData().Length);
        Assert.False(p.Shared);
    }

    [Fact]
    public void Push_WithinHeadroom_PrependsAndKeepsData()
    {
        var p = _pool.Make(Bytes.Seq(20), headroom: 28)!;
        p.Push(14);
        Assert.Equal(34, p.Length);
        Assert.Equal(14, p.Headroom);
        Assert.Equal(Bytes.Seq(20), p.Data[14..].ToArray());
    }

    [Fact]
    public void Push_BeyondHeadroom_GrowsAndKeepsData()
    {
        var p = _pool.Make(Bytes.Seq(100), headroom: 8)!;
        p.Push(50);
        Assert.Equal(150, p.Length);
        Assert.True(p.Headroom >= 0);
        Assert.Equal(Bytes.Seq(100), p.Data[50..].ToArray());
        // Pushing again within the new headroom needs no further growth and still keeps data.
        int head = p.Headroom;
        p.Push(head);
        Assert.Equal(0, p.Headroom);
        Assert.Equal(Bytes.Seq(100), p.Data[(50 + head)..].ToArray());
    }

    [Fact]
    public void Pull_RemovesFromFront_AndClampsAtLength()
    {
        var p = _pool.Make(Bytes.Seq(20))!;
        p.Pull(5);
        Assert.Equal(15, p.Length);
        Assert.Equal(PacketPool.DefaultHeadroom + 5, p.Headroom);
        Assert.Equal(Bytes.Seq(15, 5), p.Data.ToArray());
        p.Pull(100);
        Assert.Equal(0, p.Length);
        Assert.Equal(PacketPool.DefaultHeadroom + 20, p.Headroom);
    }

    [Fact]
    public void Put_WithinTailroom_AppendsZeroes()
    {
        var p = _pool.Make(8, 4, 32)!;
        // Dirty the tailroom first so zeroing is observable.
        p.Put(16);
        p.WritableData().Fill(0xEE);
        p.Take(16);
        int tail = p.Tailroom;
        p.Put(10);
        Assert.Equal(14, p.Length);
        Assert.Equal(tail - 10, p.Tailroom);
        Assert.All(p.Data[4..].ToArray(), b => Assert.Equal(0, b));
        Assert.All(p.Data[..4].ToArray(), b => Assert.Equal(0xEE, b));
    }

    [Fact]
    public void Put_BeyondTailroom_GrowsZeroFillsAndKeepsData()
    {
        var pool = new PacketPool(bufferSize: 128);
        var p = pool.Make(Bytes.Seq(100), headroom: 28)!;
        Assert.Equal(0, p.Tailroom);
        p.Put(60);
        Assert.Equal(160, p.Length);
        Assert.Equal(28, p.Headroom);
        Assert.Equal(Bytes.Seq(100), p.Data[..100].ToArray());
        Assert.All(p.Data[100..].ToArray(), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Take_RemovesFromEnd_AndClampsAtLength()
    {
        var p = _pool.Make(Bytes.Seq(20))!;
        int tail = p.Tailroom;
        p.Take(5);
        Assert.Equal(Bytes.Seq(15), p.Data.ToArray());
        Assert.Equal(tail + 5, p.Tailroom);
        p.Take(50);
        Assert.Equal(0, p.Length);
        Assert.Equal(PacketPool.DefaultHeadroom, p.Headroom);
    }

    [Fact]
    public void TryUnpull_RestoresStrippedBytes()
    {
        var p = _pool.Make(Bytes.Seq(30))!;
        p.Pull(14);
        Assert.True(p.TryUnpull(14));
        Assert.Equal(Bytes.Seq(30), p.Data.ToArray());
    }

    [Fact]
    public void TryUnpull_BeyondHeadroom_FailsAndChangesNothing()
    {
        var p = _pool.Make(Bytes.Seq(10), headroom: 4)!;
        Assert.False(p.TryUnpull(5));
        Assert.Equal(4, p.Headroom);
        Assert.Equal(Bytes.Seq(10), p.Data.ToArray());
        Assert.True(p.TryUnpull(4));
        Assert.Equal(0, p.Headroom);
        Assert.Equal(14, p.Length);
    }

    [Fact]
    public void RegrowAtTail_PreservesBytesBehindTheDataStart()
    {
        var pool = new PacketPool(bufferSize: 128);
        var p = pool.Make(Bytes.Seq(60), headroom: 28, tailroom: 0)!;
        p.Pull(14);
        p.Put(200); // beyond tailroom: regrow
        Assert.Equal(246, p.Length);
        Assert.True(p.TryUnpull(14));
        Assert.Equal(Bytes.Seq(60), p.Data[..60].ToArray());
    }

    [Fact]
    public void RegrowAtHead_PreservesBytesBehindTheDataStart()
    {
        var p = _pool.Make(Bytes.Seq(60), headroom: 28)!;
        p.Pull(14);            // headroom 42; bytes 0..13 now lie behind the data start
        p.Push(100);           // beyond headroom: regrow
        Assert.Equal(146, p.Length);
        // The last 14 pushed bytes are the old headroom's tail: the stripped header.
        Assert.Equal(Bytes.Seq(14), p.Data[86..100].ToArray());
        Assert.Equal(Bytes.Seq(46, 14), p.Data[100..].ToArray());
    }

    [Fact]
    public void BufferSpan_AndAt_SeeHeadroom()
    {
        var p = _pool.Make(Bytes.Seq(20), headroom: 10)!;
        p.Pull(4);
        Assert.Equal(Bytes.Seq(4), p.At(-4, 4).ToArray());
        Assert.Equal(p.Headroom + p.Length + p.Tailroom, p.BufferSpan.Length);
        Assert.Equal(Bytes.Seq(20), p.BufferSpan.Slice(10, 20).ToArray());
    }

    [Fact]
    public void HeaderOffsets_AreUnsetOnANewPacket()
    {
        var p = _pool.Make(60)!;
        Assert.False(p.HasNetworkHeader);
        Assert.False(p.HasTransportHeader);
        Assert.False(p.HasMacHeader);
    }

    [Fact]
    public void HeaderOffsets_FollowPullAndPush()
    {
        var p = _pool.Make(Bytes.Seq(60))!;
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        Assert.True(p.HasNetworkHeader && p.HasTransportHeader && p.HasMacHeader);
        Assert.Equal(0, p.MacHeaderOffset);
        Assert.Equal(14, p.NetworkHeaderOffset);
        Assert.Equal(34, p.TransportHeaderOffset);
        p.Pull(14);
        Assert.Equal(-14, p.MacHeaderOffset);
        Assert.Equal(0, p.NetworkHeaderOffset);
        Assert.Equal(20, p.TransportHeaderOffset);
        p.Push(4);
        Assert.Equal(4, p.NetworkHeaderOffset);
    }

    [Fact]
    public void HeaderOffsets_SurviveRegrowAtHeadAndTail()
    {
        var pool = new PacketPool(bufferSize: 128);
        var p = pool.Make(Bytes.Seq(60), headroom: 10)!;
        p.SetNetworkHeader(14, 20);
        p.Push(50); // regrow at head
        Assert.Equal(64, p.NetworkHeaderOffset);
        Assert.Equal(84, p.TransportHeaderOffset);
        Assert.Equal(Bytes.Seq(20, 14), p.At(p.NetworkHeaderOffset, 20).ToArray());
        p.Put(500); // regrow at tail
        Assert.Equal(64, p.NetworkHeaderOffset);
        Assert.Equal(Bytes.Seq(20, 14), p.At(p.NetworkHeaderOffset, 20).ToArray());
        Assert.Equal(Bytes.Seq(26, 34), p.At(p.TransportHeaderOffset, 26).ToArray());
    }

    [Fact]
    public void PaintAnno_IsTheByteAtPaintOffset()
    {
        var p = _pool.Make(10)!;
        p.PaintAnno = 7;
        Assert.Equal(7, p.GetAnnoU8(AnnoOffsets.Paint));
        p.SetAnnoU8(AnnoOffsets.Paint, 9);
        Assert.Equal(9, p.PaintAnno);
    }

    [Fact]
    public void DstIPAnno_IsStoredInNetworkOrderAtOffsetZero()
    {
        var p = _pool.Make(10)!;
        p.DstIPAnno = 0x0A000102; // 10.0.1.2
        Assert.Equal(10, p.GetAnnoU8(AnnoOffsets.DstIP));
        Assert.Equal(0, p.GetAnnoU8(AnnoOffsets.DstIP + 1));
        Assert.Equal(1, p.GetAnnoU8(AnnoOffsets.DstIP + 2));
        Assert.Equal(2, p.GetAnnoU8(AnnoOffsets.DstIP + 3));
        Assert.Equal(0x0A000102u, p.DstIPAnno);
    }

    [Fact]
    public void U32Anno_RoundTripsAndDoesNotTouchNeighbours()
    {
        var p = _pool.Make(10)!;
        p.SetAnnoU32(AnnoOffsets.ExtraPackets, 0xDEADBEEF);
        p.SetAnnoU32(AnnoOffsets.Aggregate, 42);
        Assert.Equal(0xDEADBEEFu, p.GetAnnoU32(AnnoOffsets.ExtraPackets));
        Assert.Equal(42u, p.GetAnnoU32(AnnoOffsets.Aggregate));
        Assert.Equal(0u, p.GetAnnoU32(AnnoOffsets.ExtraLength));
        Assert.Equal(42u, p.GetAnnoU32(AnnoOffsets.FwdRate)); // Click overlays these two
        Assert.Equal(0u, p.GetAnnoU32(AnnoOffsets.PacketNumber));
        // The last word of the area is addressable.
        p.SetAnnoU32(AnnoOffsets.Size - 4, 5);
        Assert.Equal(5u, p.GetAnnoU32(AnnoOffsets.Size - 4));
    }

    [Fact]
    public void ClearAnnotations_ResetsEverything()
    {
        var p = _pool.Make(Bytes.Seq(40))!;
        p.PaintAnno = 3;
        p.DstIPAnno = 0x01020304;
        p.SetAnnoU32(AnnoOffsets.Aggregate, 99);
        p.TimestampNs = 12345;
        p.PacketType = PacketType.Broadcast;
        p.SetNetworkHeader(14, 20);
        p.SetMacHeader(0);
        p.ClearAnnotations();
        Assert.Equal(0, p.PaintAnno);
        Assert.Equal(0u, p.DstIPAnno);
        Assert.Equal(0u, p.GetAnnoU32(AnnoOffsets.Aggregate));
        Assert.Equal(0, p.TimestampNs);
        Assert.Equal(PacketType.Host, p.PacketType);
        Assert.False(p.HasNetworkHeader || p.HasTransportHeader || p.HasMacHeader);
        Assert.Equal(Bytes.Seq(40), p.Data.ToArray());
    }

    [Fact]
    public void RecycledPacket_StartsWithClearAnnotations()
    {
        var pool = new PacketPool(initialPackets: 16);
        var p = pool.Make(10)!;
        p.PaintAnno = 5;
        p.TimestampNs = 77;
        p.SetNetworkHeader(0, 20);
        p.Kill();
        var q = pool.Make(10)!;
        Assert.Same(p, q);
        Assert.Equal(0, q.PaintAnno);
        Assert.Equal(0, q.TimestampNs);
        Assert.False(q.HasNetworkHeader);
    }

    [Theory]
    [InlineData("DST_IP", AnnoOffsets.DstIP, 4)]
    [InlineData("PAINT", AnnoOffsets.Paint, 1)]
    [InlineData("FIX_IP_SRC", AnnoOffsets.FixIPSrc, 1)]
    [InlineData("AGGREGATE", AnnoOffsets.Aggregate, 4)]
    public void AnnoOffsets_TryParse_KnownNames(string name, int offset, int size)
    {
        Assert.True(AnnoOffsets.TryParse(name, out int o, out int s));
        Assert.Equal(offset, o);
        Assert.Equal(size, s);
    }

    [Fact]
    public void AnnoOffsets_TryParse_UnknownName()
    {
        Assert.False(AnnoOffsets.TryParse("paint", out _, out int size));
        Assert.Equal(0, size);
    }
}
