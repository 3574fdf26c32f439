using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>Routing-table elements.</summary>
public static class RoutingRegistration
{
    public static void Register(ElementRegistry r)
    {
        r.Add("LinearIPLookup", () => new LinearIPLookup());
        r.Add("StaticIPLookup", () => new StaticIPLookup());
        r.Add("RadixIPLookup", () => new RadixIPLookup());
        r.Add("DirectIPLookup", () => new DirectIPLookup());
    }
}
