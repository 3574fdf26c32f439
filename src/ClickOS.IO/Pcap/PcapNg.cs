using System.Buffers.Binary;

namespace ClickOS.IO;

/// <summary>
/// Reading pcapng captures: Section Header, Interface Description (link type and timestamp
/// resolution), Enhanced Packet and Simple Packet blocks; other blocks are skipped.
/// </summary>
public sealed class PcapNg
{
    public const uint SectionHeaderType = 0x0A0D0D0A;
    private const uint ByteOrderMagic = 0x1A2B3C4D;

    private bool _swapped;

    /// <summary>Packet blocks skipped because they were malformed.</summary>
    public long Malformed { get; private set; }
    private readonly List<(int LinkType, int SnapLen, long UnitsPerSecond)> _interfaces = [];

    public static bool IsSectionHeader(ReadOnlySpan<byte> b) =>
        b.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(b) == SectionHeaderType;

    public uint Read32(ReadOnlySpan<byte> b) =>
        _swapped ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);

    private ushort Read16(ReadOnlySpan<byte> b) =>
        _swapped ? BinaryPrimitives.ReadUInt16BigEndian(b) : BinaryPrimitives.ReadUInt16LittleEndian(b);

    /// <summary>A new section: its byte order comes from the magic after the block length.</summary>
    public void StartSection(ReadOnlySpan<byte> head)
    {
        _swapped = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]) != ByteOrderMagic;
        _interfaces.Clear();
    }

    /// <summary>
    /// Interprets one whole block. For a packet block returns true with its timestamp (ns),
    /// where its bytes start within the block, and its lengths and link type.
    /// </summary>
    public bool Packet(ReadOnlySpan<byte> block, out long tsNs, out int dataOffset, out int caplen, out int origLen, out int linkType)
    {
        tsNs = 0;
        dataOffset = caplen = origLen = linkType = 0;
        uint type = Read32(block);
        int total = block.Length;
        switch (type)
        {
            case 1: // Interface Description
            {
                if (total < 20) return false;
                int link = Read16(block[8..]);
                int snap = (int)Read32(block[12..]);
                long units = 1_000_000;
                for (int at = 16; at + 4 <= total - 4;)
                {
                    int code = Read16(block[at..]), len = Read16(block[(at + 2)..]);
                    if (code == 0) break;
                    if (code == 9 && len >= 1 && at + 4 < total)
                    {
                        byte r = block[at + 4];
                        units = (r & 0x80) != 0 ? 1L << Math.Min(r & 0x7F, 62) : (long)Math.Pow(10, Math.Min((int)r, 18));
                    }
                    at += 4 + ((len + 3) & ~3);
                }
                _interfaces.Add((link, snap, units));
                return false;
            }
            case 6: // Enhanced Packet
            {
                if (total < 32) { Malformed++; return false; }
                int iface = (int)Read32(block[8..]);
                ulong stamp = ((ulong)Read32(block[12..]) << 32) | Read32(block[16..]);
                caplen = (int)Read32(block[20..]);
                origLen = (int)Read32(block[24..]);
                if (iface >= _interfaces.Count || caplen < 0 || 28 + caplen > total - 4) { Malformed++; return false; }
                var (link, _, units) = _interfaces[iface];
                tsNs = ToNanoseconds(stamp, units);
                dataOffset = 28;
                linkType = link;
                return true;
            }
            case 3: // Simple Packet
            {
                if (total < 16 || _interfaces.Count == 0) { Malformed++; return false; }
                origLen = (int)Read32(block[8..]);
                var (link, snap, _) = _interfaces[0];
                caplen = Math.Min(origLen, Math.Min(snap > 0 ? snap : int.MaxValue, total - 16));
                dataOffset = 12;
                linkType = link;
                return true;
            }
            default:
                return false;
        }
    }

    private static long ToNanoseconds(ulong stamp, long unitsPerSecond)
    {
        ulong sec = stamp / (ulong)unitsPerSecond, frac = stamp % (ulong)unitsPerSecond;
        return (long)sec * 1_000_000_000 + (long)((double)frac * 1e9 / unitsPerSecond);
    }
}
