using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ICMPPingEncap(SRC, DST [, IDENTIFIER]): wraps each packet's bytes in an ICMP echo request
/// (sequence numbers count from 0) inside an IPv4 header from SRC to DST (TTL 255), and sets
/// the destination annotation.
/// </summary>
/// <example>InfiniteSource(DATA "ping", LIMIT 1, STOP true) -> ICMPPingEncap(10.0.0.1, 10.0.0.2) -> Discard;</example>
public sealed class ICMPPingEncap : SimpleElement
{
    private uint _src, _dst;
    private ushort _ident, _seq, _ipId;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var src = a.ReadMP("SRC", Args.IPAddress);
        var dst = a.ReadMP("DST", Args.IPAddress);
        var id = a.ReadP("IDENTIFIER", Args.Unsigned, 0);
        if (!a.Complete()) return false;
        _src = src;
        _dst = dst;
        _ident = (ushort)id.Value;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            p.Push(28);
            var w = p.WritableData();
            int total = Math.Min(p.Length, 0xFFFF);
            w[0] = 0x45;
            w[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(w[2..], (ushort)total);
            BinaryPrimitives.WriteUInt16BigEndian(w[4..], _ipId++);
            BinaryPrimitives.WriteUInt16BigEndian(w[6..], 0);
            w[8] = 255;
            w[9] = 1;
            w[10] = w[11] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(w[12..], _src);
            BinaryPrimitives.WriteUInt32BigEndian(w[16..], _dst);
            BinaryPrimitives.WriteUInt16BigEndian(w[10..], InternetChecksum.Compute(w[..20]));
            var icmp = w[20..total];
            icmp[0] = 8;
            icmp[1] = 0;
            icmp[2] = icmp[3] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], _ident);
            BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], _seq++);
            BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
            p.SetNetworkHeader(0, 20);
            p.DstIPAnno = _dst;
        }
    }
}
