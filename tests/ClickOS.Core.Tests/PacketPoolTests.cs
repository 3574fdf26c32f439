namespace ClickOS.Core.Tests;

public sealed class PacketPoolTests
{
    [Fact]
    public void Make_GivesExactHeadroomAndAtLeastTheTailroomAsked()
    {
        var pool = new PacketPool();
        var p = pool.Make(40, 100, 20)!;
        Assert.Equal(100, p.Length);
        Assert.Equal(40, p.Headroom);
        Assert.True(p.Tailroom >= 20);
        // A pooled buffer is BufferSize bytes; the rest of it is tailroom.
        Assert.Equal(pool.BufferSize, p.Headroom + p.Length + p.Tailroom);
        Assert.Equal(100, p.Data.Length);
    }

    [Fact]
    public void Make_WithLengthOnly_UsesDefaultHeadroom()
    {
        var pool = new PacketPool();
        var p = pool.Make(60)!;
        Assert.Equal(60, p.Length);
        Assert.Equal(PacketPool.DefaultHeadroom, p.Headroom);
    }

    [Fact]
    public void Make_FromBytes_CopiesThem()
    {
        var pool = new PacketPool();
        var src = Bytes.Seq(50);
        var p = pool.Make(src, headroom: 10, tailroom: 5)!;
        src[0] = 0xFF;
        Assert.Equal(10, p.Headroom);
        Assert.Equal(50, p.Length);
        Assert.Equal(Bytes.Seq(50), p.Data.ToArray());
    }

    [Fact]
    public void CustomBufferSize_BoundsTailroom()
    {
        var pool = new PacketPool(bufferSize: 256);
        var p = pool.Make(28, 100, 0)!;
        Assert.Equal(256, pool.BufferSize);
        Assert.Equal(128, p.Tailroom);
    }

    [Fact]
    public void Outstanding_CountsLivePackets_AndReturnsToZeroAfterKill()
    {
        var pool = new PacketPool();
        var ps = new List<Packet>();
        for (int i = 0; i < 10; i++)
            ps.Add(pool.Make(64)!);
        Assert.Equal(10, pool.Outstanding);
        ps[3].Kill();
        Assert.Equal(9, pool.Outstanding);
        foreach (var p in ps.Where((_, i) => i != 3))
            p.Kill();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void DoubleFree_Throws()
    {
        var pool = new PacketPool();
        var p = pool.Make(64)!;
        p.Kill();
        var ex = Assert.Throws<InvalidOperationException>(p.Kill);
        Assert.Contains("twice", ex.Message);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void DoubleFree_DoesNotPutThePacketOnTheFreeListTwice()
    {
        var pool = new PacketPool();
        var p = pool.Make(64)!;
        p.Kill();
        Assert.Throws<InvalidOperationException>(p.Kill);
        var a = pool.Make(64)!;
        var b = pool.Make(64)!;
        Assert.NotSame(a, b);
    }

    [Fact]
    public void FreeToForeignPool_Throws_AndLeavesBothPoolsUnchanged()
    {
        var a = new PacketPool();
        var b = new PacketPool();
        var p = a.Make(64)!;
        var ex = Assert.Throws<InvalidOperationException>(() => b.Free(p));
        Assert.Contains("does not own", ex.Message);
        Assert.Equal(1, a.Outstanding);
        Assert.Equal(0, b.Outstanding);
        p.Kill();
        Assert.Equal(0, a.Outstanding);
    }

    [Fact]
    public void Pool_GrowsBeyondItsInitialSize()
    {
        var pool = new PacketPool(initialPackets: 4);
        var ps = new List<Packet>();
        for (int i = 0; i < 300; i++)
        {
            var p = pool.Make(i % 1500)!;
            Assert.NotNull(p);
            ps.Add(p);
        }
        Assert.Equal(300, ps.Distinct().Count());
        Assert.Equal(300, pool.Outstanding);
        Assert.True(pool.Created >= 300);
        Assert.True(pool.BuffersAllocated >= 300);
        foreach (var p in ps) p.Kill();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void GrownPackets_HaveDistinctBuffers()
    {
        var pool = new PacketPool(initialPackets: 2);
        var ps = Enumerable.Range(0, 200).Select(i => pool.Make(new byte[] { (byte)i, (byte)(i >> 8) })!).ToList();
        for (int i = 0; i < ps.Count; i++)
        {
            Assert.Equal((byte)i, ps[i].Data[0]);
            Assert.Equal((byte)(i >> 8), ps[i].Data[1]);
        }
    }

    [Fact]
    public void KilledPackets_AreReused()
    {
        var pool = new PacketPool(initialPackets: 16);
        var p = pool.Make(64)!;
        long created = pool.Created;
        p.Kill();
        var q = pool.Make(64)!;
        Assert.Same(p, q);
        Assert.Equal(created, pool.Created);
    }

    [Fact]
    public void SteadyState_AllocatesNoNewPacketsOrBuffers()
    {
        var pool = new PacketPool(initialPackets: 16);
        for (int i = 0; i < 16; i++) pool.Make(64)!.Kill();
        long created = pool.Created, buffers = pool.BuffersAllocated;
        for (int i = 0; i < 10_000; i++)
        {
            var a = pool.Make(64)!;
            var b = pool.Make(1000)!;
            a.Kill();
            b.Kill();
        }
        Assert.Equal(created, pool.Created);
        Assert.Equal(buffers, pool.BuffersAllocated);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void MaxPackets_LimitsMake_UntilOneIsKilled()
    {
        var pool = new PacketPool(initialPackets: 4, maxPackets: 4);
        var ps = Enumerable.Range(0, 4).Select(_ => pool.Make(10)).ToList();
        Assert.All(ps, Assert.NotNull);
        Assert.Null(pool.Make(10));
        Assert.Equal(4, pool.Outstanding);
        ps[0]!.Kill();
        Assert.NotNull(pool.Make(10));
    }

    [Fact]
    public void Oversize_PacketLargerThanBufferSize_Works_AndIsNotPooled()
    {
        var pool = new PacketPool();
        long buffers = pool.BuffersAllocated;
        var data = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        var p = pool.Make(data)!;
        Assert.Equal(5000, p.Length);
        Assert.Equal(PacketPool.DefaultHeadroom, p.Headroom);
        Assert.Equal(data, p.Data.ToArray());
        Assert.True(p.Headroom + p.Length + p.Tailroom > pool.BufferSize);
        p.Kill();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(buffers, pool.BuffersAllocated);
        // The packet object itself is recycled; its next buffer is a normal pooled one.
        var q = pool.Make(64)!;
        Assert.Equal(pool.BufferSize, q.Headroom + q.Length + q.Tailroom);
    }

    [Fact]
    public void Oversize_ByHeadroomAndTailroomAlone()
    {
        var pool = new PacketPool(bufferSize: 256);
        var p = pool.Make(200, 10, 100)!;
        Assert.Equal(200, p.Headroom);
        Assert.Equal(10, p.Length);
        Assert.True(p.Tailroom >= 100);
    }
}
