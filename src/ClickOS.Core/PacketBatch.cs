using System.Runtime.CompilerServices;

namespace ClickOS.Core;

/// <summary>
/// An array batch of packets, the unit of the data path (as in BESS). A batch is owned by
/// whoever holds it: pushing it hands over the batch and its packets.
/// </summary>
public sealed class PacketBatch
{
    public const int MaxSize = 256;
    internal readonly Packet[] Items = new Packet[MaxSize];
    private int _count;

    public int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _count;
    }

    public bool IsFull => _count == MaxSize;
    public bool IsEmpty => _count == 0;

    public Span<Packet> Packets
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Items, 0, _count);
    }

    public Packet this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Items[i];
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        set => Items[i] = value;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(Packet p)
    {
        if ((uint)_count >= MaxSize)
            ThrowHelper.ThrowBatchFull();
        Items[_count++] = p;
    }

    /// <summary>Sets the count after in-place compaction by an element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetCount(int n) => _count = n;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Clear() => _count = 0;

    /// <summary>Kills every packet and empties the batch.</summary>
    public void KillAll()
    {
        var items = Items;
        for (int i = 0; i < _count; i++)
            items[i].Kill();
        _count = 0;
    }

    /// <summary>Moves the packets of <paramref name="other"/> to the end of this batch; returns how many moved.</summary>
    public int Append(PacketBatch other)
    {
        int n = Math.Min(other._count, MaxSize - _count);
        Array.Copy(other.Items, 0, Items, _count, n);
        _count += n;
        if (n < other._count)
            Array.Copy(other.Items, n, other.Items, 0, other._count - n);
        other._count -= n;
        return n;
    }
}

/// <summary>A free list of batches for one router.</summary>
public sealed class BatchPool
{
    private PacketBatch[] _free = new PacketBatch[16];
    private int _count;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PacketBatch Rent()
    {
        if (_count == 0)
            return new PacketBatch();
        return _free[--_count];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Return(PacketBatch b)
    {
        b.Clear();
        if (_count == _free.Length)
            Array.Resize(ref _free, _count * 2);
        _free[_count++] = b;
    }
}
