using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPMirror([DST_ANNO]): swaps the IP source and destination addresses and, for TCP and UDP
/// first fragments, the ports; TCP packets also have their sequence and acknowledgement numbers
/// swapped (checksums stay valid). With DST_ANNO true (default) the
/// destination annotation is set to the new destination.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> IPMirror -> Discard;</example>
public sealed class IPMirror : SimpleElement
{
    private bool _dstAnno = true;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var d = a.ReadP("DST_ANNO", Args.Bool, true);
        if (!a.Complete()) return false;
        _dstAnno = d;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
            if (ip < 0 || p.Length < ip + 20) continue;
            var d = p.WritableData();
            uint src = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]);
            uint dst = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
            BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 12)..], dst);
            BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 16)..], src);
            if (_dstAnno) p.DstIPAnno = src;
            int hl = (d[ip] & 0x0F) * 4;
            bool first = (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) == 0;
            byte proto = d[ip + 9];
            int t = ip + hl;
            if (first && (proto == 6 || proto == 17) && p.Length >= t + 4)
            {
                ushort sp = BinaryPrimitives.ReadUInt16BigEndian(d[t..]);
                ushort dp = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]);
                BinaryPrimitives.WriteUInt16BigEndian(d[t..], dp);
                BinaryPrimitives.WriteUInt16BigEndian(d[(t + 2)..], sp);
                if (proto == 6 && p.Length >= t + 12)
                {
                    // TCP: the reply's sequence number is the original's acknowledgement, and vice versa.
                    uint seq = BinaryPrimitives.ReadUInt32BigEndian(d[(t + 4)..]);
                    uint ack = BinaryPrimitives.ReadUInt32BigEndian(d[(t + 8)..]);
                    BinaryPrimitives.WriteUInt32BigEndian(d[(t + 4)..], ack);
                    BinaryPrimitives.WriteUInt32BigEndian(d[(t + 8)..], seq);
                }
            }
        }
    }
}
