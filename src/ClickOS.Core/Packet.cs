using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace ClickOS.Core;

/// <summary>
/// Bytes that one or more packets share. Copy-on-write: a packet whose buffer has
/// more than one reference copies it before writing.
/// </summary>
public sealed class PacketBuffer
{
    internal byte[] Slab = [];
    internal int Start;
    internal int Capacity;
    internal int Refs;
    internal bool Pooled;
}

/// <summary>Named annotation offsets in <see cref="Packet.Anno"/>, Click 2.1's userlevel layout.</summary>
public static class AnnoOffsets
{
    public const int Size = 48;
    public const int DstIP = 0;
    public const int Paint = 16;
    public const int IcmpParamProb = 17;
    public const int FixIPSrc = 19;
    public const int VlanTci = 20;
    public const int Aggregate = 20;
    public const int FwdRate = 20;
    public const int MiscIP = 20;
    public const int ExtraPackets = 24;
    public const int SendErr = 26;
    public const int ExtraLength = 28;
    public const int IPReassembler = 28;
    public const int FirstTimestamp = 32;
    public const int PacketNumber = 32;
    public const int SequenceNumber = 36;

    public static bool TryParse(string name, out int offset, out int size)
    {
        (offset, size) = name switch
        {
            "DST_IP" => (DstIP, 4),
            "DST_IP6" => (DstIP, 16),
            "PAINT" => (Paint, 1),
            "ICMP_PARAMPROB" => (IcmpParamProb, 1),
            "FIX_IP_SRC" => (FixIPSrc, 1),
            "VLAN_TCI" => (VlanTci, 2),
            "AGGREGATE" => (Aggregate, 4),
            "FWD_RATE" => (FwdRate, 4),
            "MISC_IP" => (MiscIP, 4),
            "EXTRA_PACKETS" => (ExtraPackets, 4),
            "SEND_ERR" => (SendErr, 1),
            "EXTRA_LENGTH" => (ExtraLength, 4),
            "FIRST_TIMESTAMP" => (FirstTimestamp, 8),
            "PACKET_NUMBER" => (PacketNumber, 4),
            "SEQUENCE_NUMBER" => (SequenceNumber, 4),
            _ => (-1, 0),
        };
        return offset >= 0;
    }
}

[InlineArray(AnnoOffsets.Size)]
public struct AnnoArea
{
    private byte _b0;
}

/// <summary>Click's packet-type annotation.</summary>
public enum PacketType : byte
{
    Host = 0, Broadcast = 1, Multicast = 2, OtherHost = 3, Outgoing = 4, Loopback = 5, FastRoute = 6,
}

/// <summary>
/// A packet: a window [Head, Head+Length) onto a pooled <see cref="PacketBuffer"/>, plus
/// annotations. Packets are only created by a <see cref="PacketPool"/> and go back to it
/// through <see cref="Kill"/>; every packet leaves an element on exactly one output or is killed.
/// </summary>
public sealed class Packet
{
    internal PacketBuffer Buffer = null!;
    internal byte[] Slab = [];
    internal int BufStart;     // absolute index of the buffer's first byte in Slab
    internal int BufEnd;       // absolute index one past the buffer's last byte
    internal int DataStart;    // absolute index of the first data byte
    internal int DataLength;
    internal PacketPool Pool = null!;
    internal bool Free;

    public AnnoArea Anno;
    /// <summary>Timestamp in nanoseconds since the Unix epoch; 0 means unset.</summary>
    public long TimestampNs;
    public PacketType PacketType;
    // Header offsets are relative to the buffer start so they survive push/pull; -1 = unset.
    internal int NetworkOffset = -1;
    internal int TransportOffset = -1;
    internal int MacOffset = -1;

    internal Packet() { }

    public int Length
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => DataLength;
    }

    public int Headroom => DataStart - BufStart;
    public int Tailroom => BufEnd - DataStart - DataLength;
    public bool Shared => Buffer.Refs > 1;
    /// <summary>True when the bytes live in a pinned pool slab, so native code may hold a pointer to them.</summary>
    public bool DataIsPinned => Buffer.Pooled;

    /// <summary>The packet's bytes, read-only. Use <see cref="WritableData"/> to change them.</summary>
    public ReadOnlySpan<byte> Data
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Slab, DataStart, DataLength);
    }

    /// <summary>The packet's bytes, made private first if a clone shares them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> WritableData()
    {
        if (Buffer.Refs > 1)
            Uniqueify();
        return new Span<byte>(Slab, DataStart, DataLength);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Uniqueify()
    {
        if (Buffer.Refs <= 1)
            return;
        var old = Buffer;
        var oldSlab = Slab;
        int oldStart = BufStart, cap = BufEnd - BufStart;
        int used = DataStart + DataLength - oldStart; // headroom (which may hold stripped headers) and data
        Pool.AttachBuffer(this, cap);
        Array.Copy(oldSlab, oldStart, Slab, BufStart, used);
        DataStart = BufStart + (DataStart - oldStart);
        Pool.ReleaseBuffer(old);
    }

    /// <summary>Click's push(): prepends <paramref name="n"/> bytes (uninitialized), growing headroom if needed.</summary>
    public void Push(int n)
    {
        if (n > Headroom)
            Regrow(n - Headroom + 32, 0);
        else if (Buffer.Refs > 1)
            Uniqueify();
        DataStart -= n;
        DataLength += n;
    }

    /// <summary>Click's pull(): removes <paramref name="n"/> bytes from the front.</summary>
    public void Pull(int n)
    {
        if (n > DataLength) n = DataLength;
        DataStart += n;
        DataLength -= n;
    }

    /// <summary>Click's put(): appends <paramref name="n"/> bytes (zeroed), growing tailroom if needed.</summary>
    public void Put(int n)
    {
        if (n > Tailroom)
            Regrow(0, n - Tailroom + 32);
        else if (Buffer.Refs > 1)
            Uniqueify();
        Array.Clear(Slab, DataStart + DataLength, n);
        DataLength += n;
    }

    /// <summary>Click's take(): removes <paramref name="n"/> bytes from the end.</summary>
    public void Take(int n)
    {
        if (n > DataLength) n = DataLength;
        DataLength -= n;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Regrow(int extraHead, int extraTail)
    {
        var old = Buffer;
        var oldSlab = Slab;
        int oldStart = BufStart, oldCap = BufEnd - BufStart;
        int dataRel = DataStart - oldStart;
        Pool.AttachBuffer(this, oldCap + extraHead + extraTail);
        // Copy the whole old buffer so bytes behind the data start (stripped headers) survive.
        Array.Copy(oldSlab, oldStart, Slab, BufStart + extraHead, oldCap);
        if (NetworkOffset >= 0) NetworkOffset += extraHead;
        if (TransportOffset >= 0) TransportOffset += extraHead;
        if (MacOffset >= 0) MacOffset += extraHead;
        DataStart = BufStart + extraHead + dataRel;
        Pool.ReleaseBuffer(old);
    }

    /// <summary>A new packet sharing this one's bytes (copy-on-write) with copied annotations.</summary>
    public Packet? Clone() => Pool.Clone(this);

    /// <summary>Returns the packet to its pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Kill() => Pool.Free(this);

    // ---- annotations ----
    public byte PaintAnno
    {
        get => Anno[AnnoOffsets.Paint];
        set => Anno[AnnoOffsets.Paint] = value;
    }

    public uint DstIPAnno
    {
        get => BinaryPrimitives.ReadUInt32BigEndian(Anno);
        set => BinaryPrimitives.WriteUInt32BigEndian(Anno, value);
    }

    public byte GetAnnoU8(int offset) => Anno[offset];
    public void SetAnnoU8(int offset, byte v) => Anno[offset] = v;
    public ushort GetAnnoU16(int offset) => BinaryPrimitives.ReadUInt16LittleEndian(((Span<byte>)Anno)[offset..]);
    public void SetAnnoU16(int offset, ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(((Span<byte>)Anno)[offset..], v);
    public uint GetAnnoU32(int offset) => BinaryPrimitives.ReadUInt32LittleEndian(((Span<byte>)Anno)[offset..]);
    public void SetAnnoU32(int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(((Span<byte>)Anno)[offset..], v);

    public void ClearAnnotations()
    {
        ((Span<byte>)Anno).Clear();
        TimestampNs = 0;
        PacketType = PacketType.Host;
        NetworkOffset = TransportOffset = MacOffset = -1;
    }

    public void CopyAnnotationsFrom(Packet p)
    {
        Anno = p.Anno;
        TimestampNs = p.TimestampNs;
        PacketType = p.PacketType;
        NetworkOffset = p.NetworkOffset;
        TransportOffset = p.TransportOffset;
        MacOffset = p.MacOffset;
    }

    // ---- header offsets (Click's network_header/transport_header) ----
    public bool HasNetworkHeader => NetworkOffset >= 0;
    /// <summary>Offset of the network header relative to the current data start (may be negative).</summary>
    public int NetworkHeaderOffset => NetworkOffset - (DataStart - BufStart);
    public int TransportHeaderOffset => TransportOffset - (DataStart - BufStart);
    public int MacHeaderOffset => MacOffset - (DataStart - BufStart);
    public bool HasTransportHeader => TransportOffset >= 0;
    public bool HasMacHeader => MacOffset >= 0;

    /// <summary>Sets the network header at <paramref name="offset"/> from the data start, <paramref name="length"/> bytes long; the transport header follows it.</summary>
    public void SetNetworkHeader(int offset, int length)
    {
        NetworkOffset = DataStart - BufStart + offset;
        TransportOffset = NetworkOffset + length;
    }

    public void SetMacHeader(int offset) => MacOffset = DataStart - BufStart + offset;

    /// <summary>The buffer from its start (headroom included), for elements that look behind the data start.</summary>
    public ReadOnlySpan<byte> BufferSpan => new(Slab, BufStart, BufEnd - BufStart);

    /// <summary>Bytes at an offset relative to the data start; the offset may be negative (into headroom).</summary>
    public ReadOnlySpan<byte> At(int offset, int length) => new(Slab, DataStart + offset, length);

    /// <summary>Moves the data start by <paramref name="delta"/> without changing buffer bytes (Unstrip: negative pull).</summary>
    public bool TryUnpull(int n)
    {
        if (n > Headroom) return false;
        DataStart -= n;
        DataLength += n;
        return true;
    }
}
