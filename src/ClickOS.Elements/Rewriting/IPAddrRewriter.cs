namespace ClickOS.Elements;

/// <summary>
/// IPAddrRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): Basic NAT. Rewrites the source
/// address of outgoing packets of any IP protocol, and the destination address of packets sent
/// back to the new address, updating IP and TCP/UDP checksums. A mapping is keyed by the inside
/// source address alone. INPUTSPECs: 'drop', 'pass OUT', 'keep FOUT ROUT', a mapper name, or
/// 'pattern SADDR - FOUT ROUT' where SADDR is an address, a range L-H or a prefix ADDR/LEN (an
/// unallocated address is picked from it; append '#' for sequential), or 'pattern NAME FOUT
/// ROUT' (IPRewriterPatterns). Keywords: TIMEOUT (5 min), GUARANTEE (5 s), REAP_INTERVAL,
/// MAPPING_CAPACITY (a number or another rewriter to share its capacity), DST_ANNO.
/// Handlers: table, mappings, table_size, nmappings, size, patterns, capacity, mapping_failures, clear.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: IPAddrRewriter(pattern 198.51.100.0/24# - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class IPAddrRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => true;
    protected override FlowKey Key => FlowKey.SourceAddress;
}
