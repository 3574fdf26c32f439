using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterRewriting(ElementRegistry r)
    {
        r.Add("IPRewriter", () => new IPRewriter());
        r.Add("TCPRewriter", () => new TCPRewriter());
        r.Add("UDPRewriter", () => new UDPRewriter());
        r.Add("IPAddrRewriter", () => new IPAddrRewriter());
        r.Add("IPAddrPairRewriter", () => new IPAddrPairRewriter());
        r.Add("ICMPPingRewriter", () => new ICMPPingRewriter());
        r.Add("ICMPRewriter", () => new ICMPRewriter());
        r.Add("IPRewriterPatterns", () => new IPRewriterPatterns());
        r.Add("RoundRobinIPMapper", () => new RoundRobinIPMapper());
        r.Add("SourceIPHashMapper", () => new SourceIPHashMapper());
        r.Add("FTPPortMapper", () => new FTPPortMapper());
    }
}
