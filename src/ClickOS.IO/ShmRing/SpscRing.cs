using System.Runtime.CompilerServices;

namespace ClickOS.IO.ShmRing;

/// <summary>
/// One direction of a virtual port: a single-producer/single-consumer ring of fixed-size slots
/// in memory that two processes (or two threads) share. The producer's index and the consumer's
/// index live on separate cache lines and are published once per batch, as in Snabb's
/// interlink. Each side keeps its own copy of its index and a cached view of the other's, so a
/// batch touches the shared lines twice.
/// <para>
/// Neither side trusts the other: every index read from shared memory is checked against the
/// reader's own (monotonic, at most one ring apart) and every slot length against the slot
/// size, read once into a local. A bad value marks the ring <see cref="Corrupt"/>; the owner
/// then shuts the port instead of following the value.
/// </para>
/// <para>
/// Sleeping: a consumer with nothing to read sets its waiting word and checks once more
/// (<see cref="PrepareSleep"/>); a producer that publishes while the word is set clears it and
/// rings the consumer's <see cref="Doorbell"/>. A producer facing a full ring does the same in
/// the other direction (<see cref="PrepareWaitForSpace"/>), with hysteresis: it is rung only once
/// the ring is half empty, so a producer that outruns its consumer (a generator, many instances
/// on few cores) wakes once per half ring instead of spinning on every freed slot. While traffic
/// flows nobody rings.
/// </para>
/// </summary>
public sealed unsafe class SpscRing
{
    /// <summary>Shared control block: producer line, consumer line, two waiting words, each on its own 64-byte line.</summary>
    public const int ControlBytes = 256;
    /// <summary>Per slot: the frame length (u32) and a reserved word, then the frame.</summary>
    public const int SlotHeader = 8;
    private const int TailOff = 0, HeadOff = 64, ConsumerWaitOff = 128, ProducerWaitOff = 192;

    private readonly byte* _ctl, _slots;
    private readonly ulong _mask;
    private readonly Doorbell? _consumerBell, _producerBell;
    // Producer's private state.
    private ulong _tail, _headSeen;
    // Consumer's private state.
    private ulong _head, _tailSeen;

    public int Slots { get; }
    public int SlotSize { get; }
    public int MaxFrame => SlotSize - SlotHeader;
    public bool Corrupt => CorruptReason != null;
    public string? CorruptReason { get; private set; }

    /// <summary>Bytes a ring of this geometry occupies (control block and slots).</summary>
    public static long Bytes(int slots, int slotSize) => ControlBytes + (long)slots * slotSize;

    /// <param name="at">Start of the ring: 64-byte aligned, <see cref="Bytes"/> long.</param>
    /// <param name="consumerBell">Rung by the producer when the consumer sleeps.</param>
    /// <param name="producerBell">Rung by the consumer when the producer waits for space.</param>
    public SpscRing(byte* at, int slots, int slotSize, Doorbell? consumerBell, Doorbell? producerBell)
    {
        if (slots < 2 || (slots & (slots - 1)) != 0) throw new ArgumentException("slots must be a power of two, at least 2", nameof(slots));
        if (slotSize < 64 || slotSize % 64 != 0) throw new ArgumentException("slot size must be a multiple of 64", nameof(slotSize));
        _ctl = at;
        _slots = at + ControlBytes;
        Slots = slots;
        SlotSize = slotSize;
        _mask = (ulong)slots - 1;
        _consumerBell = consumerBell;
        _producerBell = producerBell;
        // Attach where the ring stands (a fresh ring is all zeros).
        _tail = _headSeen = _head = _tailSeen = 0;
        ulong t = Volatile.Read(ref Tail), h = Volatile.Read(ref Head);
        if (h <= t && t - h <= (ulong)slots)
        {
            _tail = _tailSeen = t;
            _head = _headSeen = h;
        }
        else MarkCorrupt($"indices out of range when attached (head {h}, tail {t})");
    }

    private ref ulong Tail => ref *(ulong*)(_ctl + TailOff);
    private ref ulong Head => ref *(ulong*)(_ctl + HeadOff);
    private ref int ConsumerWaiting => ref *(int*)(_ctl + ConsumerWaitOff);
    private ref int ProducerWaiting => ref *(int*)(_ctl + ProducerWaitOff);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte* Slot(ulong index) => _slots + (long)(index & _mask) * SlotSize;

    // ---------------- producer ----------------

    /// <summary>Free slots. Reads the consumer's index only when the cached view shows the ring full.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Free()
    {
        ulong used = _tail - _headSeen;
        if (used >= (ulong)Slots) used = RefreshHead();
        return Slots - (int)used;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ulong RefreshHead()
    {
        if (Corrupt) return (ulong)Slots;
        ulong h = Volatile.Read(ref Head);
        if (h > _tail || h < _headSeen || _tail - h > (ulong)Slots)
        {
            MarkCorrupt($"consumer index {h} outside [{_headSeen}, {_tail}]");
            return (ulong)Slots;
        }
        _headSeen = h;
        return _tail - h;
    }

    /// <summary>Copies a frame into the next slot; the caller checked <see cref="Free"/> and the length. Invisible until <see cref="Publish"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Put(ReadOnlySpan<byte> frame)
    {
        byte* s = Slot(_tail);
        *(uint*)s = (uint)frame.Length;
        frame.CopyTo(new Span<byte>(s + SlotHeader, frame.Length));
        _tail++;
    }

    /// <summary>The consumer's index as the producer last read it (it moves while the consumer drains).</summary>
    public ulong ConsumerIndexSeen => _headSeen;

    /// <summary>Frames put since the last publication.</summary>
    public int Unpublished => (int)(_tail - Volatile.Read(ref Tail));

    /// <summary>Makes the frames put so far visible, and rings the consumer if it sleeps.</summary>
    public void Publish()
    {
        Volatile.Write(ref Tail, _tail);
        RingIfWaiting();
    }

    /// <summary>
    /// Makes the frames visible without looking at the consumer: a producer that coalesces
    /// wake-ups (the switch, fanning out to many sleeping instances) publishes each batch this
    /// way and calls <see cref="RingIfWaiting"/> later, once enough frames or time have gathered.
    /// Until it does, a consumer that went to sleep meanwhile stays asleep.
    /// </summary>
    public void PublishQuiet() => Volatile.Write(ref Tail, _tail);

    /// <summary>Rings the consumer if it asked to be woken (after <see cref="PublishQuiet"/>).</summary>
    public void RingIfWaiting()
    {
        // Store-load order: the tail must be visible before we look at the waiting word (the
        // consumer sets its word, then re-reads the tail).
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref ConsumerWaiting) != 0 && Interlocked.Exchange(ref ConsumerWaiting, 0) != 0)
            _consumerBell?.Ring();
    }

    /// <summary>The ring is (nearly) full: asks the consumer to ring once half the ring is free. False if it already is (do not sleep).</summary>
    public bool PrepareWaitForSpace()
    {
        Volatile.Write(ref ProducerWaiting, 1);
        Interlocked.MemoryBarrier();
        if (RefreshHead() <= (ulong)Slots / 2 && !Corrupt)
        {
            Volatile.Write(ref ProducerWaiting, 0);
            return false;
        }
        return true;
    }

    // ---------------- consumer ----------------

    /// <summary>Frames ready to read (reads the producer's index).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Available()
    {
        ulong t = Volatile.Read(ref Tail);
        if (t < _tailSeen || t - _head > (ulong)Slots) return BadTail(t);
        _tailSeen = t;
        return (int)(t - _head);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int BadTail(ulong t)
    {
        MarkCorrupt($"producer index {t} outside [{_tailSeen}, {_head + (ulong)Slots}]");
        return 0;
    }

    /// <summary>The <paramref name="i"/>-th frame after the consumer's index (i &lt; <see cref="Available"/>); empty, and the ring corrupt, if its length is out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> Peek(int i)
    {
        byte* s = Slot(_head + (ulong)i);
        uint len = Volatile.Read(ref *(uint*)s);
        if (len > (uint)MaxFrame) return BadLength(len);
        return new ReadOnlySpan<byte>(s + SlotHeader, (int)len);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private ReadOnlySpan<byte> BadLength(uint len)
    {
        MarkCorrupt($"frame length {len} exceeds the slot ({MaxFrame} bytes)");
        return default;
    }

    /// <summary>Gives <paramref name="n"/> read slots back to the producer, and rings it if it waits for space.</summary>
    public void Release(int n)
    {
        _head += (ulong)n;
        Volatile.Write(ref Head, _head);
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref ProducerWaiting) != 0) WakeProducer();
    }

    // The producer waits for half a ring of room (its tail is still while it waits). An
    // out-of-range tail wakes it at once: the producer's own checks deal with it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WakeProducer()
    {
        ulong used = Volatile.Read(ref Tail) - _head;
        if (used > (ulong)Slots / 2 && used <= (ulong)Slots) return;
        if (Interlocked.Exchange(ref ProducerWaiting, 0) != 0) _producerBell?.Ring();
    }

    /// <summary>Nothing to read: asks the producer to ring. False if a frame arrived meanwhile (do not sleep).</summary>
    public bool PrepareSleep()
    {
        Volatile.Write(ref ConsumerWaiting, 1);
        Interlocked.MemoryBarrier();
        if (Available() > 0 || Corrupt)
        {
            Volatile.Write(ref ConsumerWaiting, 0);
            return false;
        }
        return true;
    }

    /// <summary>Clears a sleep request (the consumer woke for another reason).</summary>
    public void CancelSleep() => Volatile.Write(ref ConsumerWaiting, 0);

    private void MarkCorrupt(string why) => CorruptReason ??= why;

    /// <summary>For tests and fault injection: writes raw values into the shared indices, as a misbehaving peer could.</summary>
    internal void PokeIndices(ulong? tail, ulong? head)
    {
        if (tail is { } t) Volatile.Write(ref Tail, t);
        if (head is { } h) Volatile.Write(ref Head, h);
    }
}
