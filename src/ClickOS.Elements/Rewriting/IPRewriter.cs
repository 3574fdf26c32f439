namespace ClickOS.Elements;

/// <summary>
/// IPRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): network address and port translation
/// (NAPT) for TCP and UDP. Each packet is looked up by flow ID (both directions are indexed);
/// a packet of a known flow is rewritten, its checksums updated incrementally (a zero UDP
/// checksum stays zero), and sent to the mapping's output. A new flow follows its input's
/// INPUTSPEC: 'drop' or 'discard', 'pass OUT', 'keep FOUT ROUT', 'pattern SADDR SPORT DADDR DPORT
/// FOUT ROUT' (SADDR may be a range L-H or prefix ADDR/LEN; SPORT a range L-H, L-H# sequential
/// or L-H? random), 'pattern NAME FOUT ROUT' (IPRewriterPatterns), or the name of a mapper
/// element (RoundRobinIPMapper, SourceIPHashMapper). Other protocols and later fragments are
/// dropped unless the input 'pass'es.
/// Keywords: MAPPING_CAPACITY/CAPACITY (a number, which also sizes the index up front, or
/// another rewriter's name to share its limit), TCP_TIMEOUT (24 h), TCP_DONE_TIMEOUT (4 min),
/// TCP_NODATA_TIMEOUT (5 min), UDP_TIMEOUT/TIMEOUT (5 min), UDP_STREAMING_TIMEOUT/STREAMING_TIMEOUT,
/// TCP_GUARANTEE/UDP_GUARANTEE/GUARANTEE (5 s: when the table is full, the longest-idle flow of a
/// bounded sample is evicted if it is past its guarantee, else the new flow fails),
/// REAP_INTERVAL (15 min; expiry is spread over it), DST_ANNO (true).
/// Handlers: table_size, nmappings, size, mapping_failures, evictions, capacity (read/write),
/// memory (bytes held by flows and index), tcp_lookup/udp_lookup (read with 'SADDR SPORT DADDR
/// DPORT': the rewritten flow, or nothing), patterns, table (mappings, tcp_table, udp_table), clear.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> rw :: IPRewriter(pattern 198.51.100.1 1024-65535# - - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class IPRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => proto is 6 or 17;
}
