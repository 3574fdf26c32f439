using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace ClickOS.Elements;

/// <summary>A test on one 32-bit big-endian word: (word &amp; Mask) == Value.</summary>
public readonly record struct WordTest(int Offset, uint Mask, uint Value)
{
    /// <summary>Bytes the packet must have for the test to be evaluable.</summary>
    public int NeedLength => Offset + (Mask == 0 ? 0 : 4 - BitOperations.TrailingZeroCount(Mask) / 8);
}

/// <summary>
/// A compiled first-match classifier: a DAG of word tests. Each rule is a conjunction of
/// clauses; a clause is a conjunction of word tests, optionally negated. Compilation shares
/// identical subtrees and removes tests whose outcome is already known on every path that
/// reaches them, so the cost per packet depends on the depth of the tree, not the rule count.
/// Shared by Classifier, IPClassifier and IPFilter.
/// </summary>
public sealed class DecisionTree
{
    public const int Drop = int.MinValue;

    private struct Node
    {
        public int Offset;
        public uint Mask;
        public uint Value;
        public int Need;
        public int Yes, No; // >= 0: node; < 0: output (-x - 1); Drop: drop
    }

    private Node[] _nodes = [];
    private int _start;

    public int NodeCount => _nodes.Length;

    public sealed record Clause(IReadOnlyList<WordTest> Tests, bool Negated);
    public sealed record Rule(IReadOnlyList<Clause> Clauses, int Output);

    public static DecisionTree Compile(IReadOnlyList<Rule> rules)
    {
        var b = new Builder();
        int next = Drop;
        for (int r = rules.Count - 1; r >= 0; r--)
        {
            int success = -rules[r].Output - 1;
            if (rules[r].Output < 0) success = Drop;
            int cur = success;
            var clauses = rules[r].Clauses;
            for (int c = clauses.Count - 1; c >= 0; c--)
            {
                var cl = clauses[c];
                int pass = cur, fail = next;
                int x = cl.Negated ? fail : pass;
                int y = cl.Negated ? pass : fail;
                // all tests true -> x; any false -> y
                for (int t = cl.Tests.Count - 1; t >= 0; t--)
                    x = b.Node(cl.Tests[t], x, y);
                cur = x;
            }
            next = cur;
        }
        var tree = new DecisionTree();
        tree.Optimize(b, next);
        return tree;
    }

    private sealed class Builder
    {
        public readonly List<Node> Nodes = [];
        private readonly Dictionary<(int, uint, uint, int, int), int> _memo = [];

        public int Node(WordTest t, int yes, int no)
        {
            if (yes == no) return yes;
            if (t.Mask == 0) return t.Value == 0 ? yes : no;
            var key = (t.Offset, t.Mask, t.Value & t.Mask, yes, no);
            if (_memo.TryGetValue(key, out int idx)) return idx;
            idx = Nodes.Count;
            Nodes.Add(new Node { Offset = t.Offset, Mask = t.Mask, Value = t.Value & t.Mask, Need = t.NeedLength, Yes = yes, No = no });
            _memo[key] = idx;
            return idx;
        }
    }

    // Known facts along a path: for each word offset, bits known and their values.
    private readonly record struct Fact(int Offset, uint Known, uint Bits);

    private void Optimize(Builder src, int start)
    {
        var dst = new Builder();
        var memo = new Dictionary<(int, string), int>();
        int Rebuild(int n, List<Fact> facts, int depth)
        {
            if (n < 0) return n;
            var node = src.Nodes[n];
            string key = depth > 48 ? "" : FactKey(facts, node.Offset);
            if (depth <= 48 && memo.TryGetValue((n, key), out int done)) return done;
            int result;
            var known = facts.FindIndex(f => f.Offset == node.Offset);
            uint kMask = known >= 0 ? facts[known].Known : 0, kBits = known >= 0 ? facts[known].Bits : 0;
            if ((kMask & node.Mask) == node.Mask)
            {
                result = Rebuild((kBits & node.Mask) == node.Value ? node.Yes : node.No, facts, depth + 1);
            }
            else if ((kMask & node.Mask & (kBits ^ node.Value)) != 0)
            {
                // A known bit contradicts the value: the test must fail.
                result = Rebuild(node.No, facts, depth + 1);
            }
            else
            {
                var yesFacts = new List<Fact>(facts);
                var merged = new Fact(node.Offset, kMask | node.Mask, (kBits & ~node.Mask) | node.Value);
                if (known >= 0) yesFacts[known] = merged; else yesFacts.Add(merged);
                int yes = Rebuild(node.Yes, yesFacts, depth + 1);
                int no = Rebuild(node.No, facts, depth + 1);
                result = dst.Node(new WordTest(node.Offset, node.Mask, node.Value), yes, no);
            }
            if (depth <= 48) memo[(n, key)] = result;
            return result;
        }
        _start = Rebuild(start, [], 0);
        _nodes = [.. dst.Nodes];
    }

    private static string FactKey(List<Fact> facts, int _)
    {
        if (facts.Count == 0) return "";
        var sb = new StringBuilder();
        foreach (var f in facts.OrderBy(f => f.Offset)) sb.Append(f.Offset).Append(':').Append(f.Known).Append('=').Append(f.Bits).Append(';');
        return sb.ToString();
    }

    /// <summary>Classifies one packet's bytes; returns the output number or -1 to drop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(ReadOnlySpan<byte> data)
    {
        int i = _start;
        var nodes = _nodes;
        while (i >= 0)
        {
            ref readonly Node n = ref nodes[i];
            bool ok;
            if (n.Offset + 4 <= data.Length)
                ok = (BinaryPrimitives.ReadUInt32BigEndian(data[n.Offset..]) & n.Mask) == n.Value;
            else
                ok = data.Length >= n.Need && (LoadPartial(data, n.Offset) & n.Mask) == n.Value;
            i = ok ? n.Yes : n.No;
        }
        return i == Drop ? -1 : -i - 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint LoadPartial(ReadOnlySpan<byte> data, int offset)
    {
        uint w = 0;
        for (int k = 0; k < 4; k++)
            w = (w << 8) | (offset + k < data.Length && offset + k >= 0 ? data[offset + k] : 0u);
        return w;
    }

    /// <summary>A readable listing of the program (the "program" handler).</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < _nodes.Length; i++)
        {
            var n = _nodes[i];
            sb.Append(i.ToString().PadLeft(3)).Append("  ").Append(n.Offset.ToString().PadLeft(3)).Append('/')
              .Append(n.Value.ToString("x8")).Append('%').Append(n.Mask.ToString("x8"))
              .Append("  yes->").Append(Target(n.Yes)).Append("  no->").Append(Target(n.No)).Append('\n');
        }
        sb.Append("safe length ").Append(_nodes.Length == 0 ? 0 : _nodes.Max(n => n.Need)).Append('\n');
        sb.Append("start -> ").Append(Target(_start)).Append('\n');
        return sb.ToString();
    }

    private static string Target(int t) => t >= 0 ? "step " + t : t == Drop ? "[X]" : "[" + (-t - 1) + "]";
}
