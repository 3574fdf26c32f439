using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// StoreIPAddress([ADDRESS,] OFFSET): writes the destination IP annotation (one-argument form;
/// nothing happens if it is zero) or ADDRESS into the packet at OFFSET. OFFSET "src" or "dst"
/// means the IP header's field, and then the IP and TCP/UDP checksums are updated
/// incrementally; a numeric OFFSET changes no checksum.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> StoreIPAddress(10.0.0.9, dst) -> Discard;</example>
public sealed class StoreIPAddress : SimpleElement
{
    private int _offset;      // numeric offset from the data start, or -1/-2 for src/dst fields
    private uint _addr;
    private bool _useAddr;

    private static bool Off(string s, out int v, out string err)
    {
        err = "expected offset, 'src' or 'dst'";
        v = s switch { "src" => -1, "dst" => -2, _ => int.MinValue };
        if (v != int.MinValue) return true;
        return Values.ParseInt64(s, out long l) && l is >= 0 and < int.MaxValue && (v = (int)l) >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count == 2)
        {
            var a = new Args(conf, errh);
            var addr = a.ReadMP("ADDRESS", Args.IPAddress);
            var off = a.ReadMP<int>("OFFSET", Off);
            if (!a.Complete()) return false;
            _addr = addr;
            _useAddr = true;
            _offset = off;
            return true;
        }
        var b = new Args(conf, errh);
        var o = b.ReadMP<int>("OFFSET", Off);
        if (!b.Complete()) return false;
        _offset = o;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            uint a = _useAddr ? _addr : p.DstIPAnno;
            if (!_useAddr && a == 0) continue;
            if (_offset >= 0)
            {
                if (p.Length >= _offset + 4) BinaryPrimitives.WriteUInt32BigEndian(p.WritableData()[_offset..], a);
                continue;
            }
            if (!p.HasNetworkHeader) continue;
            int ip = p.NetworkHeaderOffset;
            if (ip < 0 || p.Length < ip + 20) continue;
            var d = p.WritableData();
            int field = ip + (_offset == -1 ? 12 : 16);
            uint old = BinaryPrimitives.ReadUInt32BigEndian(d[field..]);
            BinaryPrimitives.WriteUInt32BigEndian(d[field..], a);
            IPChecksumUpdate.Address(d, ip, old, a);
        }
    }
}

/// <summary>Incremental checksum updates (RFC 1624) after rewriting IP header fields.</summary>
public static class IPChecksumUpdate
{
    /// <summary>Adjusts a 16-bit checksum at <paramref name="at"/> for a 32-bit word changing from old to new.</summary>
    public static void Adjust32(Span<byte> d, int at, uint oldValue, uint newValue)
    {
        if (at < 0 || at + 2 > d.Length) return;
        uint sum = (uint)(~BinaryPrimitives.ReadUInt16BigEndian(d[at..]) & 0xFFFF);
        sum += (~oldValue >> 16) & 0xFFFF;
        sum += ~oldValue & 0xFFFF;
        sum += newValue >> 16;
        sum += newValue & 0xFFFF;
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(d[at..], (ushort)~sum);
    }

    /// <summary>After an IP address change, fixes the IP header checksum and a TCP/UDP checksum in a first fragment.</summary>
    public static void Address(Span<byte> d, int ip, uint oldAddr, uint newAddr)
    {
        Adjust32(d, ip + 10, oldAddr, newAddr);
        int hl = (d[ip] & 0x0F) * 4;
        bool firstFragment = (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) == 0;
        if (!firstFragment) return;
        int t = ip + hl;
        switch (d[ip + 9])
        {
            case 6:
                if (d.Length >= t + 18) Adjust32(d, t + 16, oldAddr, newAddr);
                break;
            case 17:
                // A zero UDP checksum means "none" and stays zero.
                if (d.Length >= t + 8 && BinaryPrimitives.ReadUInt16BigEndian(d[(t + 6)..]) != 0)
                {
                    Adjust32(d, t + 6, oldAddr, newAddr);
                    if (BinaryPrimitives.ReadUInt16BigEndian(d[(t + 6)..]) == 0) BinaryPrimitives.WriteUInt16BigEndian(d[(t + 6)..], 0xFFFF);
                }
                break;
        }
    }
}
