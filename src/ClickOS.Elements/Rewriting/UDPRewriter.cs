namespace ClickOS.Elements;

/// <summary>
/// UDPRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): IPRewriter that handles TCP and UDP
/// with UDP-style timeouts (TIMEOUT, STREAMING_TIMEOUT, GUARANTEE). Input specifications and
/// handlers as IPRewriter.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> rw :: UDPRewriter(pattern 198.51.100.1 1024-65535# - - 0 1, TIMEOUT 30) -> Discard; rw[1] -> Discard;</example>
public sealed class UDPRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => proto is 6 or 17;
}
