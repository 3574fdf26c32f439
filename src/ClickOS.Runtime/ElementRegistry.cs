using ClickOS.Core;

namespace ClickOS.Runtime;

/// <summary>
/// Element classes by Click name. An explicit table (no reflection), so NativeAOT keeps
/// exactly the classes registered.
/// </summary>
public sealed class ElementRegistry
{
    private readonly Dictionary<string, Func<Element>> _factories = new(StringComparer.Ordinal);

    public void Add(string className, Func<Element> factory) => _factories[className] = factory;
    public bool Contains(string className) => _factories.ContainsKey(className);
    public IEnumerable<string> ClassNames => _factories.Keys.Order(StringComparer.Ordinal);

    public Element? Create(string className)
    {
        if (!_factories.TryGetValue(className, out var f)) return null;
        var e = f();
        e.ClassName = className;
        return e;
    }
}
