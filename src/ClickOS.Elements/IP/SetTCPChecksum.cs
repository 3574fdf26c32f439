using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SetTCPChecksum([FIXOFF]): computes and stores the TCP checksum of TCP/IP packets (which
/// need an IP header annotation), using the IP header for the pseudo-header. With FIXOFF true,
/// first repairs a TCP header length (data offset) that is below 20 bytes or beyond the TCP
/// length. Packets whose IP length doesn't fit the packet are dropped with the message
/// "SetTCPChecksum: bad lengths".
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 28 00 00 00 00 40 06 00 00 0a 00 00 01 0a 00 00 02 04 d2 00 50 00 00 00 01 00 00 00 00 50 02 ff ff 00 00 00 00&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> SetTCPChecksum -> CheckTCPHeader -> Discard;</example>
public sealed class SetTCPChecksum : SimpleElement
{
    private bool _fixOff;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var fixoff = a.ReadP("FIXOFF", Args.Bool, false);
        if (!a.Complete()) return false;
        _fixOff = fixoff;
        return true;
    }

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
                Host.ErrorOutput.Write("SetTCPChecksum: bad lengths\n");
                p.Kill();
            }
        }
        batch.SetCount(keep);
    }

    private bool Fix(Packet p)
    {
        var ip = IPHeaderAccess.Network(p);
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return false;
        int plen = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) - ((ip[0] & 0xF) << 2);
        int off = IPHeaderAccess.TransportOffset(p, ip);
        if (plen < 20 || !IPHeaderAccess.InBuffer(p, off) || plen > p.Length - off) return false;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        bool frag = IPHeaderAccess.IsFragment(ip);
        var tcp = IPHeaderAccess.WritableFrom(p, off)[..plen];
        if (_fixOff)
        {
            int thoff = (tcp[12] >> 4) << 2;
            if (thoff < 20)
                tcp[12] = (byte)((5 << 4) | (tcp[12] & 0xF));
            else if (thoff > plen && !frag)
                tcp[12] = (byte)((((plen >> 2) & 0xF) << 4) | (tcp[12] & 0xF));
        }
        tcp[16] = 0;
        tcp[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], IPHeaderAccess.TransportChecksum(tcp, src, dst, IPHeaderAccess.ProtoTCP));
        return true;
    }
}
