using ClickOS.Core;

namespace ClickOS.Runtime;

/// <summary>
/// Element classes by Click name. An explicit table (no reflection), so NativeAOT keeps
/// exactly the classes registered.
/// </summary>
public sealed class ElementRegistry
{
    private readonly Dictionary<string, Func<Element>> _factories = new(StringComparer.Ordinal);

    private readonly Dictionary<string, string> _aliases = new(StringComparer.Ordinal);

    public void Add(string className, Func<Element> factory) => _factories[className] = factory;

    /// <summary>Another name for a registered class (ClickOS's FromNetFront for FromDevice); documented with that class.</summary>
    public void AddAlias(string alias, string className)
    {
        _factories[alias] = _factories[className];
        _aliases[alias] = className;
    }

    /// <summary>The class an alias stands for; null for a class's own name.</summary>
    public string? AliasOf(string className) => _aliases.GetValueOrDefault(className);
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
