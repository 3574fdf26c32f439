using System.Buffers.Binary;
using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// SetUDPChecksum(): computes and stores the UDP checksum of UDP/IP packets (which need an IP
/// header annotation; the protocol isn't checked), using the IP header for the pseudo-header.
/// IP fragments and packets shorter than their UDP length leave on output 1 if it is
/// connected; otherwise they are dropped, and the first such packet in the router prints
/// "NAME :: SetUDPChecksum: fragment or short packet".
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 66 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 1, STOP true) -> CheckIPHeader -> SetUDPChecksum -> CheckUDPHeader -> Discard;</example>
public sealed class SetUDPChecksum : HeaderCheckElement
{
    private bool _printed, _messageDecided;

    protected override int Check(Packet p)
    {
        var ip = IPHeaderAccess.Network(p);
        if (ip.Length < IPHeaderAccess.IPHeaderMin || IPHeaderAccess.IsFragment(ip)) return 0;
        int off = IPHeaderAccess.TransportOffset(p, ip);
        if (!IPHeaderAccess.InBuffer(p, off)) return 0;
        int tlen = p.Length - off;
        if (tlen < 8) return 0;
        int len = BinaryPrimitives.ReadUInt16BigEndian(IPHeaderAccess.From(p, off)[4..]);
        if (tlen < len) return 0;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        var udp = IPHeaderAccess.WritableFrom(p, off);
        udp[6] = 0;
        udp[7] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], IPHeaderAccess.TransportChecksum(udp[..len], src, dst, IPHeaderAccess.ProtoUDP));
        return -1;
    }

    protected override void Reject(int reason)
    {
        // Click warns once per router (a router attachment), only when there is no output 1.
        if (NOutputs != 1 || _messageDecided) return;
        _messageDecided = true;
        foreach (var e in Host.Elements)
            if (e is SetUDPChecksum s && s._printed) return;
        _printed = true;
        Host.ErrorOutput.Write($"{Declaration}: fragment or short packet\n");
    }
}
