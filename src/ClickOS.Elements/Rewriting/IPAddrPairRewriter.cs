namespace ClickOS.Elements;

/// <summary>
/// IPAddrPairRewriter(INPUTSPEC1, ..., INPUTSPECn [, keywords]): NAT by address pair. A packet
/// (SA, DA) of any IP protocol with no mapping installs (SA, DA) => (SA', DA') [FOUTPUT] and
/// (DA', SA') => (DA, SA) [ROUTPUT]; addresses and IP, TCP and UDP checksums are rewritten.
/// INPUTSPECs: 'drop', 'pass OUT', 'keep FOUT ROUT', a mapper name, 'pattern SADDR DADDR FOUT
/// ROUT' (either may be '-'; SADDR may be a range L-H or prefix ADDR/LEN, '#' for sequential)
/// or 'pattern NAME FOUT ROUT'. Keywords and handlers as IPAddrRewriter.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: IPAddrPairRewriter(pattern 198.51.100.1 - 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class IPAddrPairRewriter : RewriterBase
{
    protected override bool Handles(byte proto) => true;
    protected override FlowKey Key => FlowKey.AddressPair;
}
