using System.Numerics;
using System.Runtime.CompilerServices;

namespace ClickOS.Elements;

/// <summary>A TCP/UDP flow identifier: addresses and ports (host order).</summary>
public readonly record struct FlowId(uint Saddr, ushort Sport, uint Daddr, ushort Dport)
{
    public FlowId Reverse() => new(Daddr, Dport, Saddr, Sport);

    public override string ToString() =>
        $"({IP(Saddr)}, {Sport}, {IP(Daddr)}, {Dport})";

    internal static string IP(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";
}

/// <summary>
/// The rewriter's flows and their index. A flow is a struct in one array; the index is an
/// open-addressing table of 32-bit slots (flow number × 2 + direction, plus one), with the
/// key's hash kept beside it so probes rarely touch the flows. Each flow has two entries:
/// its forward flow ID and its reply flow ID. Deleting uses backward shifting, so there are no
/// tombstones and lookups stay short however many flows come and go.
/// </summary>
public sealed class FlowTable
{
    public struct Flow
    {
        public FlowId In, Out;
        public long LastNs;
        public short Pattern;     // index into the owner's patterns, or -1
        public byte Proto;
        public byte State;        // TCP: bit 0 FIN/RST seen; bit 1 data forward; bit 2 data reply
        public ushort FOut, ROut;
        public int NextFree;
        public bool Live;
    }

    private Flow[] _flows;
    private int _freeHead = -1, _used;
    private int[] _slots;       // 0 empty, else flowIndex * 2 + reply + 1
    private uint[] _hashes;
    private int _mask;
    public int Count { get; private set; }
    public int Capacity { get; set; }

    public FlowTable(int capacity)
    {
        Capacity = capacity;
        _flows = new Flow[64];
        _slots = new int[256];
        _hashes = new uint[256];
        _mask = 255;
    }

    public ref Flow this[int i] => ref _flows[i];
    public int HighWater => _used;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(in FlowId f, byte proto)
    {
        ulong a = ((ulong)f.Saddr << 32 | f.Daddr) * 0x9E3779B97F4A7C15UL;
        ulong b = ((ulong)f.Sport << 24 | (ulong)f.Dport << 8 | proto) * 0xC2B2AE3D27D4EB4FUL;
        ulong h = a ^ BitOperations.RotateLeft(b, 31);
        return (uint)(h >> 32) ^ (uint)h;
    }

    /// <summary>Finds the flow whose forward or reply ID is <paramref name="f"/>; returns its index (or -1) and the direction.</summary>
    public int Find(in FlowId f, byte proto, out bool reply)
    {
        uint h = Hash(f, proto);
        int i = (int)h & _mask;
        while (true)
        {
            int s = _slots[i];
            if (s == 0) { reply = false; return -1; }
            if (_hashes[i] == h)
            {
                int fi = (s - 1) >> 1;
                ref var fl = ref _flows[fi];
                bool r = ((s - 1) & 1) != 0;
                if (fl.Proto == proto && (r ? fl.Out.Reverse() : fl.In) == f) { reply = r; return fi; }
            }
            i = (i + 1) & _mask;
        }
    }

    /// <summary>Adds a flow (both directions); returns its index, or -1 when the table is full.</summary>
    public int Add(in FlowId inId, in FlowId outId, byte proto, ushort fout, ushort rout, short pattern, long nowNs)
    {
        if (Count >= Capacity) return -1;
        int fi;
        if (_freeHead >= 0) { fi = _freeHead; _freeHead = _flows[fi].NextFree; }
        else
        {
            if (_used == _flows.Length) Array.Resize(ref _flows, _flows.Length * 2);
            fi = _used++;
        }
        _flows[fi] = new Flow { In = inId, Out = outId, Proto = proto, FOut = fout, ROut = rout, Pattern = pattern, LastNs = nowNs, Live = true, NextFree = -1 };
        Count++;
        if ((Count * 2 + 1) * 2 > _slots.Length) Grow();
        Insert(Hash(inId, proto), fi * 2 + 1);
        Insert(Hash(outId.Reverse(), proto), fi * 2 + 2);
        return fi;
    }

    private void Insert(uint h, int value)
    {
        int i = (int)h & _mask;
        while (_slots[i] != 0) i = (i + 1) & _mask;
        _slots[i] = value;
        _hashes[i] = h;
    }

    private void Grow()
    {
        var oldSlots = _slots;
        var oldHashes = _hashes;
        _slots = new int[oldSlots.Length * 2];
        _hashes = new uint[oldSlots.Length * 2];
        _mask = _slots.Length - 1;
        for (int i = 0; i < oldSlots.Length; i++)
            if (oldSlots[i] != 0) Insert(oldHashes[i], oldSlots[i]);
    }

    /// <summary>Removes flow <paramref name="fi"/> (both directions).</summary>
    public void Remove(int fi)
    {
        ref var fl = ref _flows[fi];
        if (!fl.Live) return;
        RemoveSlot(Hash(fl.In, fl.Proto), fi * 2 + 1);
        RemoveSlot(Hash(fl.Out.Reverse(), fl.Proto), fi * 2 + 2);
        fl.Live = false;
        fl.NextFree = _freeHead;
        _freeHead = fi;
        Count--;
    }

    private void RemoveSlot(uint h, int value)
    {
        int i = (int)h & _mask;
        while (_slots[i] != value) i = (i + 1) & _mask;
        // Backward-shift deletion: move later members of the probe run into the hole.
        int hole = i;
        int j = (i + 1) & _mask;
        while (_slots[j] != 0)
        {
            int home = (int)_hashes[j] & _mask;
            // Can the entry at j move to the hole? Only if its home is not in (hole, j].
            bool inRange = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (!inRange)
            {
                _slots[hole] = _slots[j];
                _hashes[hole] = _hashes[j];
                hole = j;
            }
            j = (j + 1) & _mask;
        }
        _slots[hole] = 0;
    }

    /// <summary>Approximate bytes held per live flow (flows plus index).</summary>
    public long BytesAllocated => (long)_flows.Length * Unsafe.SizeOf<Flow>() + (long)_slots.Length * 8;
}
