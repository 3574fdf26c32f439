using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// MarkIPHeader([OFFSET]): sets the IP header annotation of each packet to OFFSET bytes in
/// (default 0), with the transport header right after the IP header's length. Checks
/// nothing, does not trim packets and does not set the destination IP annotation (use
/// CheckIPHeader or CheckIPHeader2 for that).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 14 00 00 00 00 40 00 00 00 0a 00 00 01 0a 00 00 02&gt;, LIMIT 1, STOP true) -> MarkIPHeader(14) -> StripToNetworkHeader -> IPPrint(ip) -> Discard;</example>
public sealed class MarkIPHeader : SimpleElement
{
    private int _offset;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var offset = a.ReadP("OFFSET", Args.Unsigned, 0);
        if (!a.Complete()) return false;
        _offset = offset;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        int off = _offset;
        foreach (var p in batch.Packets)
        {
            // The header length comes from the packet; a packet too short to hold it gets the minimum.
            int hlen = off < p.Length ? (p.Data[off] & 0xF) << 2 : IPHeaderAccess.IPHeaderMin;
            p.SetNetworkHeader(off, hlen);
        }
    }
}
