using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ClickOS.Elements;

/// <summary>A TCP/UDP flow identifier: addresses and ports (host order), packed into 12 bytes.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 2)]
public readonly record struct FlowId(uint Saddr, ushort Sport, uint Daddr, ushort Dport)
{
    public FlowId Reverse() => new(Daddr, Dport, Saddr, Sport);

    public override string ToString() =>
        $"({IP(Saddr)}, {Sport}, {IP(Daddr)}, {Dport})";

    internal static string IP(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";
}

/// <summary>
/// The rewriter's flows and their index, sized for carrier use (a million mappings in about
/// 50 MB). Flows are 34-byte structs in fixed pages, so growing never copies or doubles them.
/// The index is open addressing over 32-bit slots, each holding an entry number (flow × 2 +
/// direction, plus one) in its low bits and a tag of the key's hash in the high bits, so most
/// probes never touch a flow. Each flow has two entries: its forward flow ID and its reply
/// flow ID. Deletion shifts entries back, so there are no tombstones and lookups stay short
/// however many flows come and go.
/// </summary>
public sealed class FlowTable
{
    [StructLayout(LayoutKind.Sequential, Pack = 2)]
    public struct Flow
    {
        public FlowId In, Out;
        public uint LastMs;       // milliseconds on the table's clock; the free-list link when free
        public short Pattern;     // index into the owner's patterns, or -1
        public byte Proto;        // 0: free
        public byte State;        // TCP: bit 0 FIN/RST seen; bit 1 data forward; bit 2 data reply
        public byte FOut, ROut;

        public readonly bool Live => Proto != 0;
    }

    public const int MaxPorts = 256;
    private const int PageShift = 12, PageSize = 1 << PageShift, PageMask = PageSize - 1;
    private Flow[][] _pages = [];
    private int _freeHead = -1, _used;
    private uint[] _slots;
    private int _mask, _valueBits;
    private uint _valueMask;
    public int Count { get; private set; }

    /// <summary>The mapping limit; rewriters sharing one (MAPPING_CAPACITY naming another) share this object.</summary>
    public MappingLimit Limit { get; set; } = new();

    public int Capacity => Limit.Capacity;
    public bool Full => Limit.Used >= Limit.Capacity;

    public FlowTable(int capacity)
    {
        Limit.Capacity = capacity;
        _slots = new uint[256];
        _mask = 255;
        SetValueBits(PageSize);
    }

    /// <summary>
    /// Sizes the index for <paramref name="flows"/> flows up front (a rewriter with a CAPACITY),
    /// so filling the table never rehashes: no latency spike and no garbage the size of the index.
    /// </summary>
    public void Reserve(int flows)
    {
        if (Count != 0 || flows <= 0) return;
        int size = 256;
        while ((long)(flows * 2L + 1) * 2 > size && size < (1 << 30)) size <<= 1;
        int pages = (flows + PageSize - 1) / PageSize;
        SetValueBits(pages * PageSize);
        _slots = new uint[size];
        _mask = size - 1;
        _pages = [];
        _pagesReserved = pages;
    }

    private int _pagesReserved;

    public ref Flow this[int i]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ref _pages[i >> PageShift][i & PageMask];
    }

    /// <summary>One more than the highest flow index ever used: scans go up to it.</summary>
    public int HighWater => _used;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(in FlowId f, byte proto)
    {
        ulong a = ((ulong)f.Saddr << 32 | f.Daddr) * 0x9E3779B97F4A7C15UL;
        ulong b = ((ulong)f.Sport << 24 | (ulong)f.Dport << 8 | proto) * 0xC2B2AE3D27D4EB4FUL;
        ulong h = a ^ BitOperations.RotateLeft(b, 31);
        return (uint)(h >> 32) ^ (uint)h;
    }

    private void SetValueBits(int flowCapacity)
    {
        // Entry numbers go up to flowCapacity × 2; the rest of the 32 bits carry the tag.
        _valueBits = Math.Max(BitOperations.Log2((uint)flowCapacity * 2) + 1, 8);
        _valueMask = (1u << _valueBits) - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint Tag(uint h) => (h >> _valueBits) << _valueBits;

    /// <summary>The index hash of a key: look it up with <see cref="Find(in FlowId, byte, uint, out bool)"/>, prefetch with <see cref="Prefetch"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint HashOf(in FlowId f, byte proto) => Hash(f, proto);

    /// <summary>Hints the CPU to fetch the index slot a lookup of <paramref name="h"/> reads first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void Prefetch(uint h)
    {
        if (System.Runtime.Intrinsics.X86.Sse.IsSupported)
            System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref _slots[(int)h & _mask]));
    }

    /// <summary>
    /// Hints the CPU to fetch the flow that a lookup of <paramref name="h"/> most likely ends at
    /// (the home slot's, if its tag matches). Call it after <see cref="Prefetch"/> had time to land.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchFlow(uint h)
    {
        uint s = _slots[(int)h & _mask];
        if (s == 0 || (s & ~_valueMask) != Tag(h) || !System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int fi = ((int)(s & _valueMask) - 1) >> 1;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref this[fi]));
    }

    /// <summary>Finds the flow whose forward or reply ID is <paramref name="f"/>; returns its index (or -1) and the direction.</summary>
    public int Find(in FlowId f, byte proto, out bool reply) => Find(f, proto, Hash(f, proto), out reply);

    public int Find(in FlowId f, byte proto, uint h, out bool reply)
    {
        uint tag = Tag(h);
        var slots = _slots;
        int i = (int)h & _mask;
        while (true)
        {
            uint s = slots[i];
            if (s == 0) { reply = false; return -1; }
            if ((s & ~_valueMask) == tag)
            {
                int e = (int)(s & _valueMask) - 1;
                int fi = e >> 1;
                ref var fl = ref this[fi];
                bool r = (e & 1) != 0;
                if (fl.Proto == proto && (r ? fl.Out.Reverse() : fl.In) == f) { reply = r; return fi; }
            }
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds a flow (both directions); returns its index, or -1 when the table is full.</summary>
    public int Add(in FlowId inId, in FlowId outId, byte proto, byte fout, byte rout, short pattern, uint nowMs)
    {
        if (Full) return -1;
        int fi;
        if (_freeHead >= 0) { fi = _freeHead; _freeHead = (int)this[fi].LastMs; }
        else
        {
            if (_used == _pages.Length * PageSize) AddPage();
            fi = _used++;
        }
        this[fi] = new Flow { In = inId, Out = outId, Proto = proto, FOut = fout, ROut = rout, Pattern = pattern, LastMs = nowMs };
        Count++;
        Limit.Used++;
        if ((Count * 2 + 1) * 2 > _slots.Length) Rebuild(_slots.Length * 2, _valueMask);
        Insert(Hash(inId, proto), (uint)(fi * 2 + 1));
        Insert(Hash(outId.Reverse(), proto), (uint)(fi * 2 + 2));
        return fi;
    }

    private void AddPage()
    {
        Array.Resize(ref _pages, _pages.Length + 1);
        _pages[^1] = new Flow[PageSize];
        int flowCap = Math.Max(_pages.Length, _pagesReserved) * PageSize;
        if ((uint)flowCap * 2 + 1 > _valueMask)
        {
            // Entry numbers outgrew their bits: re-encode the index with shorter tags.
            uint oldMask = _valueMask;
            SetValueBits(flowCap * 2);
            Rebuild(_slots.Length, oldMask);
        }
    }

    private void Insert(uint h, uint entry)
    {
        int i = (int)h & _mask;
        while (_slots[i] != 0) i = (i + 1) & _mask;
        _slots[i] = Tag(h) | entry;
    }

    private uint EntryHash(uint entry)
    {
        int e = (int)entry - 1;
        ref var fl = ref this[e >> 1];
        return (e & 1) == 0 ? Hash(fl.In, fl.Proto) : Hash(fl.Out.Reverse(), fl.Proto);
    }

    private void Rebuild(int size, uint oldValueMask)
    {
        var old = _slots;
        _slots = new uint[size];
        _mask = size - 1;
        foreach (uint s in old)
            if (s != 0)
            {
                uint entry = s & oldValueMask;
                Insert(EntryHash(entry), entry);
            }
    }

    /// <summary>Removes flow <paramref name="fi"/> (both directions).</summary>
    public void Remove(int fi)
    {
        ref var fl = ref this[fi];
        if (!fl.Live) return;
        RemoveSlot(Hash(fl.In, fl.Proto), (uint)(fi * 2 + 1));
        RemoveSlot(Hash(fl.Out.Reverse(), fl.Proto), (uint)(fi * 2 + 2));
        fl.Proto = 0;
        fl.LastMs = (uint)_freeHead;
        _freeHead = fi;
        Count--;
        Limit.Used--;
    }

    private void RemoveSlot(uint h, uint entry)
    {
        int i = (int)h & _mask;
        while ((_slots[i] & _valueMask) != entry) i = (i + 1) & _mask;
        // Backward-shift deletion: move later members of the probe run into the hole.
        int hole = i;
        int j = (i + 1) & _mask;
        while (_slots[j] != 0)
        {
            int home = (int)EntryHash(_slots[j] & _valueMask) & _mask;
            // Can the entry at j move to the hole? Only if its home is not in (hole, j].
            bool inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!inRange)
            {
                _slots[hole] = _slots[j];
                hole = j;
            }
            j = (j + 1) & _mask;
        }
        _slots[hole] = 0;
    }

    /// <summary>A test of a live flow, given how long it has been idle.</summary>
    public delegate bool FlowTest(in Flow f, uint idleMs);

    private int _cursor; // where the next expiry slice or eviction sample starts

    /// <summary>
    /// The period of expiry slices for a sweep interval of <paramref name="intervalNs"/>: a slice
    /// a second (or per interval, if shorter), so a large table is never swept in one go.
    /// </summary>
    public static long SliceNs(long intervalNs) => Math.Clamp(intervalNs, 1_000_000L, 1_000_000_000L);

    /// <summary>
    /// One slice of an amortized expiry pass: checks the next 1/(interval/slice) of the flows
    /// after the cursor and calls <paramref name="remove"/> for each live one <paramref name="expired"/> accepts.
    /// </summary>
    public void ExpireSlice(uint nowMs, long intervalNs, FlowTest expired, Action<int> remove)
    {
        int n = _used;
        if (n == 0) return;
        long slices = Math.Max(1, intervalNs / SliceNs(intervalNs));
        int chunk = (int)Math.Min(n, (n + slices - 1) / slices);
        for (int k = 0; k < chunk; k++)
        {
            if (_cursor >= n) _cursor = 0;
            int fi = _cursor++;
            ref var f = ref this[fi];
            if (f.Live && expired(f, nowMs - f.LastMs)) remove(fi);
        }
    }

    /// <summary>
    /// A flow to evict from a full table: of the next <paramref name="sample"/> flows after the
    /// cursor, the one idle longest that <paramref name="evictable"/> accepts; -1 if none. The
    /// bounded sample keeps a flood of new flows from stalling the data path.
    /// </summary>
    public int PickVictim(uint nowMs, int sample, FlowTest evictable)
    {
        int n = _used, best = -1;
        uint bestIdle = 0;
        for (int k = 0; k < sample && n > 0; k++)
        {
            if (_cursor >= n) _cursor = 0;
            int fi = _cursor++;
            ref var f = ref this[fi];
            if (!f.Live) continue;
            uint idle = nowMs - f.LastMs;
            if (idle >= bestIdle && evictable(f, idle)) { best = fi; bestIdle = idle; }
        }
        return best;
    }

    /// <summary>Bytes held by flows and index.</summary>
    public long BytesAllocated => (long)_pages.Length * PageSize * Unsafe.SizeOf<Flow>() + (long)_slots.Length * 4;
}
