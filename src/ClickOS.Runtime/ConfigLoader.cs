using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Runtime;

/// <summary>Text to flat configuration: parse, then expand compounds. Null if any error was reported.</summary>
public static class ConfigLoader
{
    public static FlatConfig? Load(string text, string file, ElementRegistry registry, ErrorHandler errh,
        IReadOnlyDictionary<string, string>? overrides = null, Func<string, string?>? readFile = null)
    {
        int before = errh.ErrorCount;
        var parser = new Parser(registry.Contains, errh, readFile);
        var parsed = parser.Parse(text, file);
        var flat = new Flattener(errh).Flatten(parsed, overrides);
        return errh.ErrorCount > before ? null : flat;
    }

    /// <summary>Parses and initializes a router in one step (tests, the instance host).</summary>
    public static Router? CreateRouter(string text, string file, ElementRegistry registry, ErrorHandler errh, RouterOptions? options = null)
    {
        var flat = Load(text, file, registry, errh);
        return flat == null ? null : Router.Create(flat, registry, errh, options);
    }
}
