using ClickOS.Core;

namespace ClickOS.Language.Tests;

/// <summary>Shared helpers: a small primitive-class set, parse/flatten/unparse wrappers.</summary>
internal static class TestUtil
{
    private static readonly string[] Primitives =
        ["Idle", "Counter", "Discard", "Queue", "Paint", "Print", "Classifier", "Tee"];

    public static bool IsPrimitive(string name) => Primitives.Contains(name);

    public static ParsedConfig Parse(string text, CollectingErrorHandler errh, string file = "test.click",
        Func<string, string?>? readFile = null, Func<string, bool>? isPrimitive = null)
    {
        var parser = new Parser(isPrimitive ?? IsPrimitive, errh, readFile ?? (_ => null));
        return parser.Parse(text, file);
    }

    public static ParsedConfig ParseOk(string text, string file = "test.click", Func<string, string?>? readFile = null)
    {
        var errh = new CollectingErrorHandler();
        var parsed = Parse(text, errh, file, readFile);
        Assert.True(errh.ErrorCount == 0, "unexpected errors:\n" + errh.Text);
        return parsed;
    }

    public static FlatConfig Flatten(string text, CollectingErrorHandler errh,
        IReadOnlyDictionary<string, string>? overrides = null, Func<string, bool>? isPrimitive = null)
    {
        var parsed = Parse(text, errh, isPrimitive: isPrimitive);
        return new Flattener(errh).Flatten(parsed, overrides);
    }

    public static FlatConfig FlattenOk(string text, IReadOnlyDictionary<string, string>? overrides = null,
        Func<string, bool>? isPrimitive = null)
    {
        var errh = new CollectingErrorHandler();
        var flat = Flatten(text, errh, overrides, isPrimitive);
        Assert.True(errh.ErrorCount == 0, "unexpected errors:\n" + errh.Text);
        return flat;
    }

    /// <summary>Element names in order.</summary>
    public static string[] Names(FlatConfig flat) => flat.Elements.Select(e => e.Name).ToArray();

    /// <summary>Connections as "from [p] -> [q] to" strings, in the flat config's order.</summary>
    public static string[] Conns(FlatConfig flat) =>
        flat.Connections.Select(c => $"{flat.Elements[c.From].Name}[{c.FromPort}]->[{c.ToPort}]{flat.Elements[c.To].Name}").ToArray();

    /// <summary>Connections of a parsed body, using declaration names.</summary>
    public static string[] Conns(Body body) =>
        body.Conns.Select(c => $"{body.Decls[c.From].Name}[{c.FromPort}]->[{c.ToPort}]{body.Decls[c.To].Name}").ToArray();

    public static string[] ElementNames(Body body) =>
        body.Decls.Where(d => d.Kind is DeclKind.Element).Select(d => d.Name).ToArray();

    public static DeclT Decl(Body body, string name) => body.Decls[body.Names[name]];

    public static string[] Errors(CollectingErrorHandler errh) =>
        errh.Messages.Where(m => m.Severity == Severity.Error).Select(m => m.Text).ToArray();
}
