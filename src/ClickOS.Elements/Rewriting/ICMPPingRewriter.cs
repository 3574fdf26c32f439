namespace ClickOS.Elements;

/// <summary>
/// ICMPPingRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): NAT for ICMP echo (ping). An echo
/// request's identifier plays the source port and its reply is matched back by address and
/// identifier, so 'pattern SADDR SPORT DADDR DPORT FOUT ROUT' rewrites the requester's address
/// and identifier (SPORT a value or range, with # and ? as in IPRewriter) and replies are
/// translated back. Other packets are dropped unless their input 'pass'es them. Keywords and
/// handlers as IPRewriter (UDP timeouts apply).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000054 00000000 40010000 0a000001 08080808 0800f7fe 00010000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: ICMPPingRewriter(pattern 198.51.100.1 40000-40999# - - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class ICMPPingRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => proto == 1;
}
