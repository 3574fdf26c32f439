namespace ClickOS.Elements;

/// <summary>
/// IPRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): network address and port translation
/// (NAPT) for TCP and UDP. Each packet is looked up by flow ID (both directions are indexed);
/// a packet of a known flow is rewritten, its checksums updated incrementally, and sent to the
/// mapping's output. A new flow follows its input's INPUTSPEC: 'drop' or 'discard', 'pass OUT',
/// 'keep FOUT ROUT', 'pattern SADDR SPORT DADDR DPORT FOUT ROUT' (SPORT may be a range L-H,
/// L-H# for sequential or L-H? for random ports), or the name of a mapper element such as
/// RoundRobinIPMapper. Other protocols and later fragments are dropped unless the input 'pass'es.
/// Keywords: MAPPING_CAPACITY/CAPACITY, TCP_TIMEOUT (24 h), TCP_DONE_TIMEOUT (4 min),
/// TCP_NODATA_TIMEOUT (5 min), UDP_TIMEOUT/TIMEOUT (5 min), UDP_STREAMING_TIMEOUT/STREAMING_TIMEOUT,
/// TCP_GUARANTEE/UDP_GUARANTEE/GUARANTEE, REAP_INTERVAL (15 min; expiry is spread over it), DST_ANNO (true).
/// Handlers: table_size, nmappings, size, mapping_failures, capacity, patterns, table (mappings,
/// tcp_table, udp_table), clear.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> rw :: IPRewriter(pattern 198.51.100.1 1024-65535# - - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class IPRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => proto is 6 or 17;
}
