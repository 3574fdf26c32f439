using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FixIPSrc(IPADDR): for packets whose FIX_IP_SRC annotation is set (ICMPError sets it), sets
/// the IP source address to IPADDR, clears the annotation and fixes the IP checksum.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> FixIPSrc(10.0.0.9) -> Discard;</example>
public sealed class FixIPSrc : SimpleElement
{
    private uint _addr;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var addr = a.ReadMP("IPADDR", Args.IPAddress);
        if (!a.Complete()) return false;
        _addr = addr;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            if (p.GetAnnoU8(AnnoOffsets.FixIPSrc) == 0) continue;
            p.SetAnnoU8(AnnoOffsets.FixIPSrc, 0);
            int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
            if (ip < 0 || p.Length < ip + 20) continue;
            var d = p.WritableData();
            int hl = (d[ip] & 0x0F) * 4;
            if (hl < 20 || p.Length < ip + hl) continue;
            BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 12)..], _addr);
            d[ip + 10] = d[ip + 11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[(ip + 10)..], InternetChecksum.Compute(d.Slice(ip, hl)));
        }
    }
}
