using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// CheckUDPHeader([keywords VERBOSE, DETAILS]): checks the UDP header of UDP/IP packets (which
/// need an IP header annotation, e.g. from CheckIPHeader): the protocol, the UDP length
/// against the packet length, and the UDP checksum unless it is zero. Valid packets leave on
/// output 0; invalid ones on output 1 if it is connected, else are dropped. The first failure
/// (every failure with VERBOSE) prints "UDP header check failed: REASON". DETAILS (bool)
/// keeps per-reason counts. Handlers: drops, drop_details (with DETAILS).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 66 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 2, STOP true) -> CheckIPHeader -> u :: CheckUDPHeader(DETAILS true) -> Discard; u[1] -> Discard;</example>
public sealed class CheckUDPHeader : ReasonCheckElement
{
    private static readonly string[] Reasons = ["not UDP", "bad packet length", "bad UDP checksum"];
    private const int NotUDP = 0, BadLength = 1, BadChecksum = 2;


    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var verbose = a.Read("VERBOSE", Args.Bool, false);
        var details = a.Read("DETAILS", Args.Bool, false);
        if (!a.Complete()) return false;
        SetReporting(verbose, details);
        return true;
    }

    protected override int Check(Packet p)
    {
        if (!p.HasNetworkHeader) return NotUDP;
        var ip = IPHeaderAccess.Network(p);
        if (ip.Length < 10 || ip[9] != IPHeaderAccess.ProtoUDP) return NotUDP;
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return BadLength;
        int iphLen = (ip[0] & 0xF) << 2;
        var udp = IPHeaderAccess.From(p, IPHeaderAccess.TransportOffset(p, ip));
        if (udp.Length < 8) return BadLength;
        int len = BinaryPrimitives.ReadUInt16BigEndian(udp[4..]);
        if (len < 8 || p.Length < len + iphLen + p.NetworkHeaderOffset || udp.Length < len)
            return BadLength;
        if (BinaryPrimitives.ReadUInt16BigEndian(udp[6..]) != 0)
        {
            uint src = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
            uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
            if (!IPHeaderAccess.TransportChecksumValid(udp[..len], src, dst, IPHeaderAccess.ProtoUDP))
                return BadChecksum;
        }
        return -1;
    }

    protected override string[] ReasonTexts => Reasons;
    protected override string FailurePrefix => "UDP header check failed: ";
}
