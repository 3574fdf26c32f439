using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>
/// Registration of the IP and Ethernet elements. Each group of elements registers itself in
/// its own file by implementing one of these partial methods, so groups can be added
/// independently.
/// </summary>
public static partial class IPRegistration
{
    public static void Register(ElementRegistry r)
    {
        RegisterClassifiers(r);
        RegisterHeaderChecks(r);
        RegisterEthernet(r);
        RegisterForwarding(r);
        RegisterRewriting(r);
    }

    static partial void RegisterClassifiers(ElementRegistry r);
    static partial void RegisterHeaderChecks(ElementRegistry r);
    static partial void RegisterEthernet(ElementRegistry r);
    static partial void RegisterForwarding(ElementRegistry r);
    static partial void RegisterRewriting(ElementRegistry r);
}
