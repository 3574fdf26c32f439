using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterForwarding(ElementRegistry r)
    {
        r.Add("IPEncap", () => new IPEncap());
        r.Add("UDPIPEncap", () => new UDPIPEncap());
        RoutingRegistration.Register(r);
    }
}
