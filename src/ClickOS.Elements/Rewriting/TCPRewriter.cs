namespace ClickOS.Elements;

/// <summary>
/// TCPRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): IPRewriter for TCP only; other packets
/// are dropped unless their input 'pass'es them. Input specifications, keywords and handlers as
/// IPRewriter.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000028 00000000 40060000 0a000001 08080808 1f900050 00000001 00000000 50022000 00000000&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> rw :: TCPRewriter(pattern 198.51.100.1 1024-65535# - - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class TCPRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => proto == 6;
}
