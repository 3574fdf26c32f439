using System.Buffers.Binary;

namespace ClickOS.IO;

/// <summary>Classic pcap constants and header handling (both byte orders, µs and ns timestamps).</summary>
public static class PcapFormat
{
    public const uint MagicMicro = 0xA1B2C3D4;
    public const uint MagicNano = 0xA1B23C4D;
    public const int FileHeaderSize = 24;
    public const int RecordHeaderSize = 16;

    public const int LinkEthernet = 1;
    public const int LinkRaw = 101;
    public const int LinkRawBsd = 12;
    public const int LinkRawOpenBsd = 14;
    public const int LinkSll = 113;
    public const int Link80211 = 105;

    public readonly record struct Header(bool Swapped, bool Nano, int SnapLen, int LinkType);

    public static bool TryParseHeader(ReadOnlySpan<byte> h, out Header header)
    {
        header = default;
        if (h.Length < FileHeaderSize) return false;
        uint m = BinaryPrimitives.ReadUInt32LittleEndian(h);
        bool swapped;
        bool nano;
        if (m == MagicMicro) { swapped = false; nano = false; }
        else if (m == MagicNano) { swapped = false; nano = true; }
        else if (BinaryPrimitives.ReverseEndianness(m) == MagicMicro) { swapped = true; nano = false; }
        else if (BinaryPrimitives.ReverseEndianness(m) == MagicNano) { swapped = true; nano = true; }
        else return false;
        int snap = (int)Read32(h[16..], swapped);
        int link = (int)Read32(h[20..], swapped);
        header = new Header(swapped, nano, snap, link);
        return true;
    }

    public static uint Read32(ReadOnlySpan<byte> b, bool swapped) =>
        swapped ? BinaryPrimitives.ReadUInt32BigEndian(b) : BinaryPrimitives.ReadUInt32LittleEndian(b);

    /// <summary>Click's ENCAP names for link types.</summary>
    public static int LinkTypeFromEncap(string encap) => encap.ToUpperInvariant() switch
    {
        "ETHER" or "ETHERNET" => LinkEthernet,
        "IP" or "RAW" => LinkRaw,
        "SLL" or "LINUX_SLL" => LinkSll,
        "802_11" => Link80211,
        _ => -1,
    };

    public static string EncapName(int link) => link switch
    {
        LinkEthernet => "ETHER",
        LinkRaw or LinkRawBsd or LinkRawOpenBsd => "IP",
        LinkSll => "SLL",
        Link80211 => "802_11",
        _ => "UNKNOWN",
    };

    public static void WriteFileHeader(Span<byte> h, bool nano, int snaplen, int linkType)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(h, nano ? MagicNano : MagicMicro);
        BinaryPrimitives.WriteUInt16LittleEndian(h[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(h[6..], 4);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(h[16..], snaplen);
        BinaryPrimitives.WriteInt32LittleEndian(h[20..], linkType);
    }
}
