using System.Buffers.Binary;
using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// ICMPPingResponder: turns ICMP echo requests into echo replies (addresses swapped, TTL 255,
/// type 0, checksums fixed) on output 0. Other packets go to output 1 if it exists.
/// Input packets need their IP header annotation (e.g. from CheckIPHeader or MarkIPHeader).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;4500001c 00000000 4001 0000 0a000002 0a000001 0800 f7ff 0000 0000&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> p :: ICMPPingResponder -> Discard; p[1] -> Discard;</example>
public sealed class ICMPPingResponder : FilterElement
{
    protected override int Classify(Packet p)
    {
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        if (ip < 0 || p.Length < ip + 20) return 1;
        var d = p.Data;
        int hl = (d[ip] & 0x0F) * 4;
        if (d[ip + 9] != 1 || hl < 20 || p.Length < ip + hl + 8 || (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x3FFF) != 0) return 1;
        int icmp = ip + hl;
        if (d[icmp] != 8) return 1;
        var w = p.WritableData();
        uint src = BinaryPrimitives.ReadUInt32BigEndian(w[(ip + 12)..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(w[(ip + 16)..]);
        BinaryPrimitives.WriteUInt32BigEndian(w[(ip + 12)..], dst);
        BinaryPrimitives.WriteUInt32BigEndian(w[(ip + 16)..], src);
        w[ip + 8] = 255;
        w[ip + 10] = w[ip + 11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], InternetChecksum.Compute(w.Slice(ip, hl)));
        // Type 8 -> 0 changes the first checksummed word by 0x0800.
        w[icmp] = 0;
        uint sum = (uint)(~BinaryPrimitives.ReadUInt16BigEndian(w[(icmp + 2)..]) & 0xFFFF) + (~0x0800u & 0xFFFF);
        while (sum >> 16 != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        BinaryPrimitives.WriteUInt16BigEndian(w[(icmp + 2)..], (ushort)~sum);
        p.DstIPAnno = src;
        return 0;
    }
}
