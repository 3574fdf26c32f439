using System.Buffers.Binary;
using System.Numerics;

namespace ClickOS.IO;

/// <summary>
/// MD5 (RFC 1321), self-contained so payload digests need no platform crypto library, plus
/// Click's 22-character text form of a digest.
/// </summary>
internal static class Md5
{
    private static readonly uint[] K = BuildK();
    private static readonly int[] S =
    [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];

    private static uint[] BuildK()
    {
        var k = new uint[64];
        for (int i = 0; i < 64; i++)
            k[i] = (uint)(long)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0);
        return k;
    }

    public static void Hash(ReadOnlySpan<byte> data, Span<byte> digest)
    {
        uint a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
        long bitLen = (long)data.Length * 8;
        int full = data.Length / 64;
        for (int i = 0; i < full; i++)
            Block(data.Slice(i * 64, 64), ref a0, ref b0, ref c0, ref d0);
        Span<byte> tail = stackalloc byte[128];
        tail.Clear();
        int rem = data.Length - full * 64;
        data[(full * 64)..].CopyTo(tail);
        tail[rem] = 0x80;
        int tailLen = rem + 1 + 8 <= 64 ? 64 : 128;
        BinaryPrimitives.WriteInt64LittleEndian(tail[(tailLen - 8)..], bitLen);
        for (int i = 0; i < tailLen; i += 64)
            Block(tail.Slice(i, 64), ref a0, ref b0, ref c0, ref d0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest, a0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest[4..], b0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest[8..], c0);
        BinaryPrimitives.WriteUInt32LittleEndian(digest[12..], d0);
    }

    private static void Block(ReadOnlySpan<byte> block, ref uint a0, ref uint b0, ref uint c0, ref uint d0)
    {
        Span<uint> m = stackalloc uint[16];
        for (int i = 0; i < 16; i++) m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        uint a = a0, b = b0, c = c0, d = d0;
        for (int i = 0; i < 64; i++)
        {
            uint f;
            int g;
            if (i < 16) { f = (b & c) | (~b & d); g = i; }
            else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) & 15; }
            else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) & 15; }
            else { f = c ^ (b | ~d); g = (7 * i) & 15; }
            f = f + a + K[i] + m[g];
            a = d;
            d = c;
            c = b;
            b += BitOperations.RotateLeft(f, S[i]);
        }
        a0 += a; b0 += b; c0 += c; d0 += d;
    }

    /// <summary>Click's md5_finish_text with '@' allowed: 22 characters from [a-zA-Z0-9_@].</summary>
    public static void TextDigest(ReadOnlySpan<byte> digest, ByteSink sa)
    {
        const string chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@";
        for (int bit = 0; bit < 128; bit += 6)
        {
            int first = bit / 8;
            int val = digest[first] >> (bit % 8);
            if (bit + 8 > (first + 1) * 8 && first < 15)
                val += digest[first + 1] << (8 - (bit % 8));
            sa.Append((byte)chars[val & 0x3F]);
        }
    }
}
