namespace ClickOS.Core.Tests;

public sealed class PacketBatchTests
{
    private readonly PacketPool _pool = new();

    private PacketBatch Filled(int n, int tag = 0)
    {
        var b = new PacketBatch();
        for (int i = 0; i < n; i++)
        {
            var p = _pool.Make(4)!;
            p.SetAnnoU32(AnnoOffsets.Aggregate, (uint)(tag + i));
            b.Add(p);
        }
        return b;
    }

    private static uint Tag(Packet p) => p.GetAnnoU32(AnnoOffsets.Aggregate);

    [Fact]
    public void Add_AppendsInOrder()
    {
        var b = new PacketBatch();
        Assert.True(b.IsEmpty);
        var p1 = _pool.Make(1)!;
        var p2 = _pool.Make(2)!;
        b.Add(p1);
        b.Add(p2);
        Assert.Equal(2, b.Count);
        Assert.False(b.IsEmpty);
        Assert.Same(p1, b[0]);
        Assert.Same(p2, b[1]);
        Assert.Equal(2, b.Packets.Length);
        Assert.Same(p2, b.Packets[1]);
    }

    [Fact]
    public void IsFull_AtMaxSize_AndAddPastMaxSizeThrows()
    {
        var b = Filled(PacketBatch.MaxSize - 1);
        Assert.False(b.IsFull);
        b.Add(_pool.Make(1)!);
        Assert.True(b.IsFull);
        var extra = _pool.Make(1)!;
        Assert.Throws<InvalidOperationException>(() => b.Add(extra));
        Assert.Equal(PacketBatch.MaxSize, b.Count);
    }

    [Fact]
    public void SetCount_AfterCompaction()
    {
        var b = Filled(6);
        // Keep the even-tagged packets, killing the others, as a filtering element would.
        int k = 0;
        foreach (var p in b.Packets)
        {
            if (Tag(p) % 2 == 0) b[k++] = p;
            else p.Kill();
        }
        b.SetCount(k);
        Assert.Equal(3, b.Count);
        Assert.Equal([0u, 2u, 4u], b.Packets.ToArray().Select(Tag));
        Assert.Equal(3, _pool.Outstanding);
    }

    [Fact]
    public void KillAll_KillsEveryPacketAndEmpties()
    {
        var b = Filled(10);
        Assert.Equal(10, _pool.Outstanding);
        b.KillAll();
        Assert.Equal(0, b.Count);
        Assert.True(b.IsEmpty);
        Assert.Equal(0, _pool.Outstanding);
    }

    [Fact]
    public void Clear_EmptiesWithoutKilling()
    {
        var b = Filled(3);
        b.Clear();
        Assert.True(b.IsEmpty);
        Assert.Equal(3, _pool.Outstanding);
    }

    [Fact]
    public void Append_MovesEverythingWhenItFits()
    {
        var a = Filled(3, tag: 0);
        var b = Filled(4, tag: 100);
        Assert.Equal(4, a.Append(b));
        Assert.Equal(7, a.Count);
        Assert.True(b.IsEmpty);
        Assert.Equal([0u, 1u, 2u, 100u, 101u, 102u, 103u], a.Packets.ToArray().Select(Tag));
    }

    [Fact]
    public void Append_Overflow_MovesWhatFits_AndKeepsTheRestInOrder()
    {
        var a = Filled(PacketBatch.MaxSize - 6, tag: 0);
        var b = Filled(10, tag: 1000);
        Assert.Equal(6, a.Append(b));
        Assert.True(a.IsFull);
        Assert.Equal(1005u, Tag(a[PacketBatch.MaxSize - 1]));
        Assert.Equal(4, b.Count);
        Assert.Equal([1006u, 1007u, 1008u, 1009u], b.Packets.ToArray().Select(Tag));
        // Nothing lost or duplicated.
        Assert.Equal(PacketBatch.MaxSize + 4, _pool.Outstanding);
        Assert.Equal(PacketBatch.MaxSize + 4, a.Packets.ToArray().Concat(b.Packets.ToArray()).Distinct().Count());
    }

    [Fact]
    public void Append_ToFullBatch_MovesNothing()
    {
        var a = Filled(PacketBatch.MaxSize);
        var b = Filled(2, tag: 500);
        Assert.Equal(0, a.Append(b));
        Assert.Equal(2, b.Count);
        Assert.Equal(500u, Tag(b[0]));
    }

    [Fact]
    public void BatchPool_ReturnsBatchesCleared_AndReusesThem()
    {
        var pool = new BatchPool();
        var b = pool.Rent();
        b.Add(_pool.Make(1)!);
        pool.Return(b);
        var again = pool.Rent();
        Assert.Same(b, again);
        Assert.True(again.IsEmpty);
    }

    [Fact]
    public void BatchPool_GrowsPastItsInitialCapacity()
    {
        var pool = new BatchPool();
        var rented = Enumerable.Range(0, 40).Select(_ => pool.Rent()).ToList();
        Assert.Equal(40, rented.Distinct().Count());
        foreach (var b in rented) pool.Return(b);
        var back = Enumerable.Range(0, 40).Select(_ => pool.Rent()).ToHashSet();
        Assert.True(back.SetEquals(rented));
    }
}
