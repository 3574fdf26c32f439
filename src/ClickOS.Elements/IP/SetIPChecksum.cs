using System.Buffers.Binary;
using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// SetIPChecksum(): computes and stores each IP packet's header checksum. The IP header is
/// found through the IP header annotation, or at the data start if there is none. Packets too
/// short for their header length are dropped; the first drop prints "SetIPChecksum: bad input
/// packet". Handler: drops.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 00 00 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 1, STOP true) -> SetIPChecksum -> CheckIPHeader -> Discard;</example>
public sealed class SetIPChecksum : SimpleElement
{
    private long _drops;

    protected override void Process(PacketBatch batch)
    {
        var ps = batch.Packets;
        int keep = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            if (Fix(p)) ps[keep++] = p;
            else
            {
                if (++_drops == 1) Host.ErrorOutput.Write("SetIPChecksum: bad input packet\n");
                p.Kill();
            }
        }
        batch.SetCount(keep);
    }

    private static bool Fix(Packet p)
    {
        int nh = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        var ip = IPHeaderAccess.From(p, nh);
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return false;
        int hlen = (ip[0] & 0xF) << 2;
        if (hlen < IPHeaderAccess.IPHeaderMin || hlen > ip.Length) return false;
        var w = IPHeaderAccess.WritableFrom(p, nh)[..hlen];
        w[10] = 0;
        w[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(w[10..], InternetChecksum.Compute(w));
        return true;
    }

    public override void AddHandlers() => AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
}
