using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// StripToNetworkHeader(): strips everything before the network header (for example the
/// Ethernet header) from each packet. If the network header annotation points before the
/// data start, moves the data start back to it. Packets without a network header annotation
/// pass unchanged.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;02 00 00 00 00 01 02 00 00 00 00 02 08 00 45 00 00 14 00 00 00 00 40 00 00 00 0a 00 00 01 0a 00 00 02&gt;, LIMIT 1, STOP true) -> MarkIPHeader(14) -> StripToNetworkHeader -> Print(ip) -> Discard;</example>
public sealed class StripToNetworkHeader : SimpleElement
{
    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            if (!p.HasNetworkHeader) continue;
            int off = p.NetworkHeaderOffset;
            if (off >= 0) p.Pull(off);
            else p.TryUnpull(-off);
        }
    }
}
