using ClickOS.IO;
using ClickOS.Runtime;

namespace ClickOS.Control;

/// <summary>Registration table for control elements, plus everything below them.</summary>
public static class ControlElements
{
    public static void Register(ElementRegistry r)
    {
        r.Add("ControlSocket", () => new ControlSocket());
    }

    /// <summary>A registry with every element this build knows.</summary>
    public static ElementRegistry CreateFullRegistry()
    {
        var r = IOElements.CreateFullRegistry();
        Register(r);
        return r;
    }
}
