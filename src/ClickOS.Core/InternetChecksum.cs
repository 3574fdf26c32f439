using System.Buffers.Binary;

namespace ClickOS.Core;

/// <summary>RFC 1071 one's-complement checksums (IP, UDP, TCP, ICMP).</summary>
public static class InternetChecksum
{
    /// <summary>The 32-bit running sum of <paramref name="data"/> as 16-bit big-endian words.</summary>
    public static uint Sum(ReadOnlySpan<byte> data, uint initial = 0)
    {
        ulong sum = initial;
        int i = 0;
        for (; i + 1 < data.Length; i += 2)
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (i < data.Length) sum += (uint)data[i] << 8;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (uint)sum;
    }

    /// <summary>The checksum to store: the complement of the folded sum.</summary>
    public static ushort Fold(uint sum)
    {
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Sum(data));

    /// <summary>Sum of the IPv4 pseudo-header for TCP/UDP checksums.</summary>
    public static uint PseudoHeaderSum(uint src, uint dst, byte proto, int length) =>
        (src >> 16) + (src & 0xFFFF) + (dst >> 16) + (dst & 0xFFFF) + proto + (uint)length;
}
