using System.Runtime.CompilerServices;

namespace ClickOS.Core;

/// <summary>
/// Preallocated packets and buffers for one router (one thread). Buffers are carved from
/// pinned slabs, so steady-state traffic allocates nothing; the pool grows by a slab when it
/// runs dry, up to <see cref="MaxPackets"/>. Not thread-safe: each router owns its own pool.
/// </summary>
public sealed class PacketPool
{
    public const int DefaultHeadroom = 28;
    public const int DefaultBufferSize = 2048;
    private const int BuffersPerSlab = 64;

    private Packet[] _packets;
    private int _packetCount;
    private PacketBuffer[] _buffers;
    private int _bufferCount;
    private long _created;
    private long _outstanding;
    private long _allocatedBuffers;
    private long _made;

    public PacketPool(int initialPackets = 64, int bufferSize = DefaultBufferSize, long maxPackets = 1 << 22)
    {
        BufferSize = bufferSize;
        MaxPackets = maxPackets;
        _packets = new Packet[Math.Max(initialPackets, 16)];
        _buffers = new PacketBuffer[Math.Max(initialPackets, 16)];
        for (int i = 0; i < initialPackets; i++)
            _packets[_packetCount++] = NewPacket();
        GrowBuffers(initialPackets);
    }

    public int BufferSize { get; }
    public long MaxPackets { get; }
    /// <summary>Packets handed out and not yet killed: a leak check for tests.</summary>
    public long Outstanding => _outstanding;
    /// <summary>Packet objects this pool ever created.</summary>
    public long Created => _created;
    public long BuffersAllocated => _allocatedBuffers;
    /// <summary>Packets handed out since the pool was made (clones included): an activity count for idle detection.</summary>
    public long Made => _made;

    private Packet NewPacket()
    {
        _created++;
        return new Packet { Pool = this, Free = true };
    }

    private void GrowBuffers(int count)
    {
        // Small pools (a consolidated instance) grow in small slabs first, so an idle instance
        // holds tens of kilobytes of buffers, not a full slab.
        count = Math.Max(count, (int)Math.Clamp(_allocatedBuffers, 16, BuffersPerSlab));
        var slab = GC.AllocateUninitializedArray<byte>(count * BufferSize, pinned: true);
        if (_bufferCount + count > _buffers.Length)
            Array.Resize(ref _buffers, Math.Max(_buffers.Length * 2, _bufferCount + count));
        for (int i = 0; i < count; i++)
            _buffers[_bufferCount++] = new PacketBuffer { Slab = slab, Start = i * BufferSize, Capacity = BufferSize, Pooled = true };
        _allocatedBuffers += count;
    }

    /// <summary>
    /// A new packet of <paramref name="length"/> uninitialized bytes with at least
    /// <paramref name="headroom"/> bytes before and <paramref name="tailroom"/> after.
    /// Returns null when the pool is at its limit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Packet? Make(int headroom, int length, int tailroom)
    {
        if (_packetCount == 0 && !GrowPackets())
            return null;
        var p = _packets[--_packetCount];
        // A free packet usually still holds the buffer it was freed with: reuse it as is.
        var kept = p.Buffer;
        if (kept != null && headroom + length + tailroom <= kept.Capacity)
            kept.Refs = 1;
        else
            AttachFresh(p, headroom + length + tailroom);
        p.DataStart = p.BufStart + headroom;
        p.DataLength = length;
        p.Free = false;
        p.ClearAnnotations();
        _outstanding++;
        _made++;
        return p;
    }

    public Packet? Make(int length) => Make(DefaultHeadroom, length, 0);

    /// <summary>A new packet holding a copy of <paramref name="data"/>.</summary>
    public Packet? Make(ReadOnlySpan<byte> data, int headroom = DefaultHeadroom, int tailroom = 0)
    {
        var p = Make(headroom, data.Length, tailroom);
        if (p != null)
            data.CopyTo(new Span<byte>(p.Slab, p.DataStart, data.Length));
        return p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AttachFresh(Packet p, int capacity)
    {
        DropKept(p);
        AttachBuffer(p, capacity);
    }

    /// <summary>Gives the buffer a free packet kept back to the free list.</summary>
    private void DropKept(Packet p)
    {
        var b = p.Buffer;
        if (b == null) return;
        p.Buffer = null!;
        if (_bufferCount == _buffers.Length)
            Array.Resize(ref _buffers, _buffers.Length * 2);
        _buffers[_bufferCount++] = b;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool GrowPackets()
    {
        if (_created >= MaxPackets)
            return false;
        int n = (int)Math.Min(Math.Max(_created, 64), MaxPackets - _created);
        if (n > _packets.Length)
            Array.Resize(ref _packets, n);
        for (int i = 0; i < n; i++)
            _packets[_packetCount++] = NewPacket();
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void AttachBuffer(Packet p, int capacity)
    {
        PacketBuffer b;
        if (capacity <= BufferSize)
        {
            if (_bufferCount == 0)
                GrowBuffers(0);
            b = _buffers[--_bufferCount];
        }
        else
        {
            b = OversizeBuffer(capacity);
        }
        b.Refs = 1;
        p.Buffer = b;
        p.Slab = b.Slab;
        p.BufStart = b.Start;
        p.BufEnd = b.Start + b.Capacity;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static PacketBuffer OversizeBuffer(int capacity) =>
        new() { Slab = new byte[capacity], Start = 0, Capacity = capacity, Pooled = false };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void ReleaseBuffer(PacketBuffer b)
    {
        if (--b.Refs == 0 && b.Pooled)
        {
            if (_bufferCount == _buffers.Length)
                Array.Resize(ref _buffers, _buffers.Length * 2);
            _buffers[_bufferCount++] = b;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Free(Packet p)
    {
        if (p.Free || p.Pool != this)
            ThrowHelper.ThrowBadFree(p.Free);
        p.Free = true;
        var b = p.Buffer;
        // The last user of a pooled buffer keeps it while free, saving a detach and reattach.
        if (--b.Refs != 0 || !b.Pooled)
            p.Buffer = null!;
        if (_packetCount == _packets.Length)
            Array.Resize(ref _packets, _packets.Length * 2);
        _packets[_packetCount++] = p;
        _outstanding--;
    }

    internal Packet? Clone(Packet src)
    {
        if (_packetCount == 0 && !GrowPackets())
            return null;
        var p = _packets[--_packetCount];
        DropKept(p);
        p.Free = false;
        var b = src.Buffer;
        b.Refs++;
        p.Buffer = b;
        p.Slab = src.Slab;
        p.BufStart = src.BufStart;
        p.BufEnd = src.BufEnd;
        p.DataStart = src.DataStart;
        p.DataLength = src.DataLength;
        p.CopyAnnotationsFrom(src);
        _made++;
        _outstanding++;
        return p;
    }
}

/// <summary>Throws for the data path, out of line so callers stay small.</summary>
public static class ThrowHelper
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowBadFree(bool doubleFree) =>
        throw new InvalidOperationException(doubleFree ? "packet freed twice" : "packet freed to a pool that does not own it");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowBatchFull() => throw new InvalidOperationException("packet batch is full");

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowInvalidOperation(string message) => throw new InvalidOperationException(message);
}
