namespace ClickOS.Language;

public enum DeclKind { Element, Input, Output, Group, Error }

/// <summary>An element declared in a scope (before compound expansion).</summary>
public sealed class DeclT(string name, ClassRef? cls, string config, string landmark, DeclKind kind = DeclKind.Element)
{
    public string Name { get; } = name;
    public ClassRef? Class { get; } = cls;
    public string Config { get; } = config;
    public string Landmark { get; } = landmark;
    public DeclKind Kind { get; } = kind;
}

public sealed record ConnT(int From, int FromPort, int To, int ToPort, string Landmark);

public abstract class ClassRef
{
    public abstract string Name { get; }
}

/// <summary>A class implemented in code, looked up in the element registry.</summary>
public sealed class PrimitiveClass(string name) : ClassRef
{
    public override string Name { get; } = name;
}

/// <summary>An elementclass: overloads tried in order, then the class it extends (|| ...).</summary>
public sealed class CompoundClass(string name, string landmark) : ClassRef
{
    public override string Name { get; } = name;
    public string Landmark { get; } = landmark;
    public List<Overload> Overloads { get; } = [];
    public ClassRef? Fallback { get; set; }
}

public sealed record Formal(string Variable, string? Keyword, bool Rest);

public sealed class Overload(List<Formal> formals, Body body)
{
    public List<Formal> Formals { get; } = formals;
    public Body Body { get; } = body;
}

/// <summary>The contents of a scope: the router itself, a compound body.</summary>
public sealed class Body
{
    public List<DeclT> Decls { get; } = [];
    public List<ConnT> Conns { get; } = [];
    public List<(string Name, string Value)> Defines { get; } = [];
    public Dictionary<string, int> Names { get; } = new(StringComparer.Ordinal);
    public int AnonOffset { get; set; }
    public bool IsCompound { get; set; }
}

/// <summary>A parsed configuration file: the top-level body plus its requirements.</summary>
public sealed class ParsedConfig
{
    public Body Top { get; } = new();
    public List<string> Requirements { get; } = [];
    public string File { get; set; } = "";
}
