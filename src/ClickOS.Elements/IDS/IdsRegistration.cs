using ClickOS.Runtime;

namespace ClickOS.Elements;

public static class IdsRegistration
{
    public static void Register(ElementRegistry r) => r.Add("FlowIDS", () => new FlowIDS());
}
