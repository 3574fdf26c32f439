using ClickOS.Runtime;

namespace ClickOS.Elements;

public static class FirewallRegistration
{
    public static void Register(ElementRegistry r) => r.Add("ConnTrack", () => new ConnTrack());
}
