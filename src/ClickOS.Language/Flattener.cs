using System.Text;
using ClickOS.Core;

namespace ClickOS.Language;

public sealed class FlatElement(string name, string className, string config, string landmark)
{
    public string Name { get; } = name;
    public string ClassName { get; } = className;
    public string Config { get; } = config;
    public string Landmark { get; } = landmark;
}

public sealed record FlatConnection(int From, int FromPort, int To, int ToPort, string Landmark);

/// <summary>A configuration with every compound expanded: primitive elements and their connections.</summary>
public sealed class FlatConfig
{
    public List<FlatElement> Elements { get; } = [];
    public List<FlatConnection> Connections { get; } = [];
    public List<string> Requirements { get; } = [];

    public int IndexOf(string name) => Elements.FindIndex(e => e.Name == name);
}

/// <summary>A chain of variable scopes: compound formals, define()s, driver NAME=VALUE overrides.</summary>
public sealed class VariableEnv(VariableEnv? parent)
{
    private readonly Dictionary<string, string> _vars = new(StringComparer.Ordinal);
    public VariableEnv? Parent { get; } = parent;

    public void Set(string name, string value) => _vars[name] = value;
    public bool ContainsLocal(string name) => _vars.ContainsKey(name);

    public string? Lookup(string name)
    {
        for (var e = this; e != null; e = e.Parent)
            if (e._vars.TryGetValue(name, out var v)) return v;
        return null;
    }
}

/// <summary>
/// Expands compound elements into primitives (naming inner elements "compound/inner"),
/// substitutes variables into configuration strings, and splices compound and group
/// ports into direct connections.
/// </summary>
public sealed class Flattener(ErrorHandler errh)
{
    private sealed class Node
    {
        public string Name = "";
        public ClassRef? Class;
        public string Config = "";
        public string Landmark = "";
        public VariableEnv Env = null!;
        public bool Pseudo;
        public bool Dead;
    }

    private readonly List<Node> _nodes = [];
    private readonly List<FlatConnection> _conns = [];

    public FlatConfig Flatten(ParsedConfig parsed, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var topEnv = new VariableEnv(null);
        foreach (var (n, v) in parsed.Top.Defines) topEnv.Set(n, v);
        if (overrides != null)
            foreach (var (n, v) in overrides) topEnv.Set(n, v);
        var map = AddBody(parsed.Top, "", topEnv);
        AddConnections(parsed.Top, map);

        for (int i = 0; i < _nodes.Count; i++)
        {
            var node = _nodes[i];
            if (!node.Dead && !node.Pseudo && node.Class is CompoundClass)
                Expand(i);
        }
        SplicePseudo();

        var flat = new FlatConfig();
        flat.Requirements.AddRange(parsed.Requirements);
        var newIndex = new int[_nodes.Count];
        for (int i = 0; i < _nodes.Count; i++)
        {
            var n = _nodes[i];
            if (n.Dead || n.Pseudo || n.Class == null) { newIndex[i] = -1; continue; }
            newIndex[i] = flat.Elements.Count;
            flat.Elements.Add(new FlatElement(n.Name, n.Class.Name, n.Config, n.Landmark));
        }
        var seen = new HashSet<(int, int, int, int)>();
        foreach (var c in _conns)
        {
            int f = newIndex[c.From], t = newIndex[c.To];
            if (f < 0 || t < 0) continue;
            if (seen.Add((f, c.FromPort, t, c.ToPort)))
                flat.Connections.Add(c with { From = f, To = t });
        }
        flat.Connections.Sort((a, b) =>
            a.To != b.To ? a.To.CompareTo(b.To) :
            a.ToPort != b.ToPort ? a.ToPort.CompareTo(b.ToPort) :
            a.From != b.From ? a.From.CompareTo(b.From) : a.FromPort.CompareTo(b.FromPort));
        return flat;
    }

    private int[] AddBody(Body body, string prefix, VariableEnv env)
    {
        var map = new int[body.Decls.Count];
        for (int i = 0; i < body.Decls.Count; i++)
        {
            var d = body.Decls[i];
            var node = new Node
            {
                Name = prefix + d.Name,
                Class = d.Class,
                Landmark = d.Landmark,
                Env = env,
                Pseudo = d.Kind is DeclKind.Input or DeclKind.Output or DeclKind.Group,
                Dead = d.Kind == DeclKind.Error,
            };
            if (!node.Pseudo && !node.Dead)
                node.Config = ConfigText.Expand(d.Config, env.Lookup).Trim();
            map[i] = _nodes.Count;
            _nodes.Add(node);
        }
        return map;
    }

    private void AddConnections(Body body, int[] map)
    {
        foreach (var c in body.Conns)
            _conns.Add(new FlatConnection(map[c.From], c.FromPort, map[c.To], c.ToPort, c.Landmark));
    }

    private void Expand(int index)
    {
        var node = _nodes[index];
        var args = ConfigText.SplitArgs(node.Config);
        ClassRef? cls = node.Class;
        int depth = 0;
        while (cls is CompoundClass cc)
        {
            if (++depth > 100) { errh.Error(node.Landmark, $"compound class '{cc.Name}' extends itself"); node.Dead = true; return; }
            foreach (var ov in cc.Overloads)
            {
                var env = Bind(ov, args, node.Env);
                if (env == null) continue;
                node.Dead = true;
                foreach (var (n, v) in ov.Body.Defines)
                    if (!env.ContainsLocal(n)) env.Set(n, v);
                var map = AddBody(ov.Body, node.Name + "/", env);
                AddConnections(ov.Body, map);
                // Connections to the compound attach to its input/output pseudo-elements.
                int inIdx = map[0], outIdx = map[1];
                for (int i = 0; i < _conns.Count; i++)
                {
                    var c = _conns[i];
                    if (c.To == index) c = c with { To = inIdx };
                    if (c.From == index) c = c with { From = outIdx };
                    _conns[i] = c;
                }
                return;
            }
            if (cc.Fallback == null)
            {
                errh.Error(node.Landmark, $"no match for '{cc.Name}({string.Join(", ", args)})'");
                node.Dead = true;
                return;
            }
            cls = cc.Fallback;
        }
        // Fell back to a primitive class.
        node.Class = cls;
    }

    private static VariableEnv? Bind(Overload ov, List<string> args, VariableEnv parent)
    {
        var keywords = ov.Formals.Where(f => f.Keyword != null).ToList();
        var positional = ov.Formals.Where(f => f.Keyword == null && !f.Rest).ToList();
        var rest = ov.Formals.FirstOrDefault(f => f.Rest);
        var env = new VariableEnv(parent);
        var remaining = new List<string>();
        foreach (var a in args)
        {
            if (keywords.Count > 0)
            {
                var (w, v) = ConfigText.ShiftWord(a);
                var k = keywords.FirstOrDefault(f => f.Keyword == w);
                if (k != null) { env.Set(k.Variable, v); continue; }
            }
            remaining.Add(a);
        }
        if (remaining.Count < positional.Count || (rest == null && remaining.Count > positional.Count))
            return null;
        for (int i = 0; i < positional.Count; i++) env.Set(positional[i].Variable, remaining[i]);
        if (rest != null) env.Set(rest.Variable, string.Join(", ", remaining.Skip(positional.Count)));
        foreach (var k in keywords)
            if (!env.ContainsLocal(k.Variable)) env.Set(k.Variable, "");
        return env;
    }

    private void SplicePseudo()
    {
        for (int p = 0; p < _nodes.Count; p++)
        {
            if (!_nodes[p].Pseudo) continue;
            var ins = new List<FlatConnection>();
            var outs = new List<FlatConnection>();
            var keep = new List<FlatConnection>(_conns.Count);
            foreach (var c in _conns)
            {
                bool touches = false;
                if (c.To == p) { ins.Add(c); touches = true; }
                if (c.From == p) { outs.Add(c); touches = true; }
                if (!touches) keep.Add(c);
            }
            foreach (var i in ins)
                foreach (var o in outs)
                    if (i.ToPort == o.FromPort && i.From != p && o.To != p)
                        keep.Add(new FlatConnection(i.From, i.FromPort, o.To, o.ToPort, i.Landmark));
            _conns.Clear();
            _conns.AddRange(keep);
        }
    }
}

/// <summary>Prints a flat configuration the way Click's -o/-qo- does.</summary>
public static class Unparser
{
    public static string Unparse(FlatConfig flat)
    {
        var sb = new StringBuilder();
        foreach (var r in flat.Requirements)
            if (!r.StartsWith("library ", StringComparison.Ordinal))
                sb.Append("require(").Append(r).Append(");\n");
        foreach (var e in flat.Elements)
        {
            sb.Append(e.Name).Append(" :: ").Append(e.ClassName);
            if (e.Config.Length > 0) sb.Append('(').Append(e.Config).Append(')');
            sb.Append(";\n");
        }
        var conns = flat.Connections;
        if (conns.Count == 0)
            return sb.ToString();
        sb.Append('\n');
        int n = conns.Count;
        var next = new int[n];
        var startsChain = new bool[n];
        Array.Fill(next, -1);
        Array.Fill(startsChain, true);
        for (int c = 0; c < n; c++)
        {
            if (conns[c].ToPort != 0) continue;
            int found = -1, count = 0;
            for (int d = 0; d < n; d++)
                if (d != c && conns[d].From == conns[c].To && conns[d].FromPort == 0) { if (found < 0) found = d; count++; }
            if (count == 1)
            {
                next[c] = found;
                startsChain[found] = false;
            }
        }
        var done = new bool[n];
        void Chain(int c)
        {
            var from = conns[c];
            sb.Append(flat.Elements[from.From].Name);
            if (from.FromPort != 0) sb.Append(" [").Append(from.FromPort).Append(']');
            int d = c;
            bool firstLink = true;
            while (d >= 0 && !done[d])
            {
                if (!firstLink) sb.Append("\n   ");
                firstLink = false;
                var cd = conns[d];
                sb.Append(" -> ");
                if (cd.ToPort != 0) sb.Append('[').Append(cd.ToPort).Append("] ");
                sb.Append(flat.Elements[cd.To].Name);
                done[d] = true;
                d = next[d];
            }
            sb.Append(";\n");
        }
        for (int c = 0; c < n; c++)
            if (startsChain[c] && !done[c]) Chain(c);
        for (int c = 0; c < n; c++)
            if (!done[c]) Chain(c);
        return sb.ToString();
    }
}
