using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// CheckICMPHeader([keywords VERBOSE, DETAILS]): checks the ICMP header of ICMP/IP packets
/// (which need an IP header annotation, e.g. from CheckIPHeader): the protocol, a sensible
/// length for the ICMP type (errors carry at least an IP header and 8 bytes; timestamps are
/// exactly 20 bytes; information requests exactly 8), and the ICMP checksum. Valid packets
/// leave on output 0; invalid ones on output 1 if it is connected, else are dropped. The first
/// failure (every failure with VERBOSE) prints "NAME :: CheckICMPHeader: ICMP header check
/// failed: REASON". DETAILS (bool) keeps per-reason counts.
/// Handlers: drops, drop_details (with DETAILS).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 00 00 00 40 01 66 df 0a 00 00 01 0a 00 00 02 08 00 f7 ff 00 00 00 00&gt;, LIMIT 2, STOP true) -> CheckIPHeader -> i :: CheckICMPHeader(DETAILS true) -> Discard; i[1] -> Discard;</example>
public sealed class CheckICMPHeader : ReasonCheckElement
{
    private static readonly string[] Reasons = ["not ICMP", "bad packet length", "bad ICMP checksum"];
    private const int NotICMP = 0, BadLength = 1, BadChecksum = 2;


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
        if (!p.HasNetworkHeader) return NotICMP;
        var ip = IPHeaderAccess.Network(p);
        if (ip.Length < 10 || ip[9] != IPHeaderAccess.ProtoICMP) return NotICMP;
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return BadLength;
        int off = IPHeaderAccess.TransportOffset(p, ip);
        int icmpLen = p.Length - off;
        if (icmpLen < 8 || !IPHeaderAccess.InBuffer(p, off)) return BadLength;
        var icmp = IPHeaderAccess.From(p, off);
        switch (icmp[0])
        {
            case 3: case 4: case 5: case 11: case 12:
                // unreachable, source quench, redirect, time exceeded, parameter problem:
                // the offending IP header and the first 64 bits of its payload follow
                if (icmpLen < 8 + 28) return BadLength;
                break;
            case 13: case 14:
                // timestamp, timestamp reply: exactly 12 more bytes
                if (icmpLen != 20) return BadLength;
                break;
            case 15: case 16:
                // information request, reply: nothing more
                if (icmpLen != 8) return BadLength;
                break;
        }
        if (InternetChecksum.Compute(icmp[..icmpLen]) != 0) return BadChecksum;
        return -1;
    }

    protected override string[] ReasonTexts => Reasons;
    protected override string FailurePrefix => $"{Declaration}: ICMP header check failed: ";
}
