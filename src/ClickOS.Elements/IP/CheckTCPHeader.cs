using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// CheckTCPHeader([keywords VERBOSE, DETAILS]): checks the TCP header of TCP/IP packets (which
/// need an IP header annotation, e.g. from CheckIPHeader): the protocol, the TCP header length
/// against the IP length and the packet length, and the TCP checksum. Valid packets leave on
/// output 0; invalid ones on output 1 if it is connected, else are dropped. The first failure
/// (every failure with VERBOSE) prints "NAME :: CheckTCPHeader: TCP header check failed: REASON".
/// DETAILS (bool) keeps per-reason counts. Handlers: drops, drop_details (with DETAILS).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 28 00 00 00 00 40 06 00 00 0a 00 00 01 0a 00 00 02 04 d2 00 50 00 00 00 01 00 00 00 00 50 02 ff ff 00 00 00 00&gt;, LIMIT 2, STOP true) -> CheckIPHeader2 -> SetTCPChecksum -> t :: CheckTCPHeader(DETAILS true) -> Discard; t[1] -> Discard;</example>
public sealed class CheckTCPHeader : ReasonCheckElement
{
    private static readonly string[] Reasons = ["not TCP", "bad packet length", "bad TCP checksum"];
    private const int NotTCP = 0, BadLength = 1, BadChecksum = 2;


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
        if (!p.HasNetworkHeader) return NotTCP;
        var ip = IPHeaderAccess.Network(p);
        if (ip.Length < 10 || ip[9] != IPHeaderAccess.ProtoTCP) return NotTCP;
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return BadLength;
        int iphLen = (ip[0] & 0xF) << 2;
        int len = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]) - iphLen;
        var tcp = IPHeaderAccess.From(p, IPHeaderAccess.TransportOffset(p, ip));
        if (len < 0 || tcp.Length < 13) return BadLength;
        int tcphLen = (tcp[12] >> 4) << 2;
        if (tcphLen < 20 || len < tcphLen || p.Length < len + iphLen + p.NetworkHeaderOffset || tcp.Length < len)
            return BadLength;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(ip[12..]);
        uint dst = BinaryPrimitives.ReadUInt32BigEndian(ip[16..]);
        if (!IPHeaderAccess.TransportChecksumValid(tcp[..len], src, dst, IPHeaderAccess.ProtoTCP))
            return BadChecksum;
        return -1;
    }

    protected override string[] ReasonTexts => Reasons;
    protected override string FailurePrefix => $"{Declaration}: TCP header check failed: ";
}
