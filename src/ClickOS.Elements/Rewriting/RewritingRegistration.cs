using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterRewriting(ElementRegistry r)
    {
        r.Add("IPRewriter", () => new IPRewriter());
        r.Add("TCPRewriter", () => new TCPRewriter());
        r.Add("UDPRewriter", () => new UDPRewriter());
        r.Add("RoundRobinIPMapper", () => new RoundRobinIPMapper());
        r.Add("ICMPPingRewriter", () => new ICMPPingRewriter());
    }
}
