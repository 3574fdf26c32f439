using ClickOS.Runtime;

namespace ClickOS.IO;

/// <summary>Registration table for I/O elements, plus everything below them.</summary>
public static class IOElements
{
    public static void Register(ElementRegistry r)
    {
        r.Add("FromDump", () => new FromDump());
        r.Add("ToDump", () => new ToDump());
        r.Add("FromIPSummaryDump", () => new FromIPSummaryDump());
        r.Add("ToIPSummaryDump", () => new ToIPSummaryDump());
        r.Add("FromDevice", () => new FromDevice());
        r.Add("ToDevice", () => new ToDevice());
        // ClickOS's names for a VM's network front-end: here, the instance's switch ports.
        r.AddAlias("FromNetFront", "FromDevice");
        r.AddAlias("ToNetFront", "ToDevice");
        r.Add("KernelTun", () => new KernelTun());
        r.Add("KernelTap", () => new KernelTap());
    }

    /// <summary>A registry with every element this build knows.</summary>
    public static ElementRegistry CreateFullRegistry()
    {
        var r = new ElementRegistry();
        Elements.StandardElements.Register(r);
        Register(r);
        return r;
    }
}
