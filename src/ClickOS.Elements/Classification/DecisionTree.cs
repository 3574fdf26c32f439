using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace ClickOS.Elements;

/// <summary>Which header a <see cref="WordTest"/>'s offset is relative to.</summary>
public enum HeaderBase : byte
{
    /// <summary>The bytes a tree matches on (Classifier: the packet data; IPClassifier: the IP header).</summary>
    Network = 0,
    /// <summary>The transport header (IPClassifier: the IP header plus its length, or the annotation).</summary>
    Transport = 1,
    /// <summary>The MAC header annotation.</summary>
    Mac = 2,
}

/// <summary>A test on one 32-bit big-endian word: (word &amp; Mask) == Value.</summary>
public readonly record struct WordTest(int Offset, uint Mask, uint Value)
{
    /// <summary>The header the offset is relative to (default: the matched bytes).</summary>
    public HeaderBase Base { get; init; }

    /// <summary>Bytes the packet must have for the test to be evaluable.</summary>
    public int NeedLength => Offset + (Mask == 0 ? 0 : 4 - BitOperations.TrailingZeroCount(Mask) / 8);
}

/// <summary>
/// A compiled first-match classifier: a DAG of word tests. Rules (Classifier) or arbitrary
/// test graphs (<see cref="Graph"/>, used by IPClassifier/IPFilter) are optimized before use:
/// tests whose outcome is already known on every path that reaches them are removed (facts
/// learned along the path, including the packet length they imply), identical subtrees are
/// shared, and chains of tests on the same word with different values ("src host A, else src
/// host B, else ...") become one multi-way switch searched by binary search. The cost per
/// packet therefore depends on the depth of the tree, not on the number of rules.
/// A packet too short for a test takes the test's "no" branch, unless the test was built with
/// shortYes (then its "yes" branch). Matching never allocates.
/// Shared by Classifier, IPClassifier and IPFilter.
/// </summary>
public sealed class DecisionTree
{
    /// <summary>The target meaning "drop the packet".</summary>
    public const int Drop = int.MinValue;

    /// <summary>The graph target that sends a packet to <paramref name="output"/>.</summary>
    public static int OutputTarget(int output) => output < 0 ? Drop : -output - 1;

    private const byte FlagShortYes = 1;
    private const byte FlagSwitch = 2;
    private const int MinSwitchChain = 4;

    private struct Node
    {
        public int Offset;
        public uint Mask;
        public uint Value;   // switch: position in its chain
        public int Need;
        public int Yes;      // >= 0: node; < 0: output (-x - 1); Drop: drop. Switch: first table entry.
        public int No;       // switch: the chain's exit
        public int Count;    // switch: number of table entries
        public HeaderBase Base;
        public byte Flags;
    }

    private Node[] _nodes = [];
    private int _start = Drop;
    private uint[] _swValues = [];
    private int[] _swPos = [];
    private int[] _swTargets = [];

    /// <summary>Number of steps in the compiled program.</summary>
    public int NodeCount => _nodes.Length;

    /// <summary>The output every packet goes to when the program tests nothing (-1: drop), else null.</summary>
    public int? OutputEverything => _start >= 0 ? null : _start == Drop ? -1 : -_start - 1;

    public sealed record Clause(IReadOnlyList<WordTest> Tests, bool Negated);
    public sealed record Rule(IReadOnlyList<Clause> Clauses, int Output);

    /// <summary>Compiles Classifier-style rules: each a conjunction of (possibly negated) clauses, first match wins.</summary>
    public static DecisionTree Compile(IReadOnlyList<Rule> rules)
    {
        var g = new Graph();
        int next = Drop;
        for (int r = rules.Count - 1; r >= 0; r--)
        {
            int cur = OutputTarget(rules[r].Output);
            var clauses = rules[r].Clauses;
            for (int c = clauses.Count - 1; c >= 0; c--)
            {
                var cl = clauses[c];
                int pass = cur, fail = next;
                int x = cl.Negated ? fail : pass;
                int y = cl.Negated ? pass : fail;
                // all tests true -> x; any false (or too short) -> y
                for (int t = cl.Tests.Count - 1; t >= 0; t--)
                    x = g.Test(cl.Tests[t], x, y);
                cur = x;
            }
            next = cur;
        }
        return g.Build(next);
    }

    /// <summary>
    /// A decision graph under construction. <see cref="Test"/> returns a target (a node index)
    /// for "if the test holds go to <c>yes</c>, else <c>no</c>"; identical nodes are shared.
    /// Targets are node indices, <see cref="OutputTarget"/> values or <see cref="Drop"/>.
    /// </summary>
    public sealed class Graph
    {
        internal readonly List<GNode> Nodes = [];
        private readonly Dictionary<GNode, int> _memo = [];

        public int Count => Nodes.Count;

        /// <summary>A node testing <paramref name="t"/>; a packet too short for it goes to <c>yes</c> if <paramref name="shortYes"/>, else to <c>no</c>.</summary>
        public int Test(WordTest t, int yes, int no, bool shortYes = false)
        {
            uint value = t.Value & t.Mask;
            if (yes == no) return yes;
            if (t.Mask == 0) return yes; // always true, never short
            var key = new GNode(t.Base, t.Offset, t.Mask, value, t.NeedLength, shortYes, yes, no);
            if (_memo.TryGetValue(key, out int idx)) return idx;
            idx = Nodes.Count;
            Nodes.Add(key);
            _memo[key] = idx;
            return idx;
        }

        /// <summary>Optimizes the graph reachable from <paramref name="start"/> into a program.</summary>
        public DecisionTree Build(int start)
        {
            var tree = new DecisionTree();
            var optimized = new Optimizer(this).Run(start, out int newStart);
            tree.Lay(optimized, newStart);
            return tree;
        }
    }

    internal readonly record struct GNode(HeaderBase Base, int Offset, uint Mask, uint Value, int Need, bool ShortYes, int Yes, int No)
    {
        public bool SameWord(in GNode o) => Base == o.Base && Offset == o.Offset && Mask == o.Mask;
    }

    // ---------------------------------------------------------------------------------------
    // Optimization: walk the graph from the start, carrying the facts known on the path (bits
    // of words, and the minimum packet length per header). A test decided by the facts is
    // skipped; every other test is rebuilt with its two subtrees. Results are memoized by
    // (node, facts), so shared subtrees reached with the same knowledge are built once.

    private sealed class FactSet
    {
        public readonly long[] Keys;     // words with known bits, sorted
        public readonly uint[] Known;
        public readonly uint[] Bits;
        public readonly int[] Len;       // minimum packet length per HeaderBase
        public readonly Neg[] Negs;      // recent "(word & mask) != value" facts
        public int Id;
        private readonly int _hash;

        public FactSet(long[] keys, uint[] known, uint[] bits, int[] len, Neg[] negs)
        {
            Keys = keys; Known = known; Bits = bits; Len = len; Negs = negs;
            var h = new HashCode();
            for (int i = 0; i < keys.Length; i++) { h.Add(keys[i]); h.Add(known[i]); h.Add(bits[i]); }
            foreach (var l in len) h.Add(l);
            foreach (var n in negs) h.Add(n);
            _hash = h.ToHashCode();
        }

        public int Find(long key) => Array.BinarySearch(Keys, key);

        public override int GetHashCode() => _hash;

        public override bool Equals(object? obj) =>
            obj is FactSet o && o._hash == _hash && Keys.AsSpan().SequenceEqual(o.Keys) && Known.AsSpan().SequenceEqual(o.Known)
            && Bits.AsSpan().SequenceEqual(o.Bits) && Len.AsSpan().SequenceEqual(o.Len) && Negs.AsSpan().SequenceEqual(o.Negs);
    }

    /// <summary>"(word &amp; Mask) != Value", or (Weak) "... or the packet is too short for that test".</summary>
    private readonly record struct Neg(long Key, uint Mask, uint Value, bool Weak);

    private static long WordKey(HeaderBase b, int offset) => ((long)b << 32) | (uint)offset;

    private sealed class Optimizer(Graph src)
    {
        private const int StateBudget = 1 << 21;
        private readonly Dictionary<FactSet, FactSet> _sets = [];
        private readonly List<FactSet> _byId = [];
        private readonly Dictionary<long, int> _memo = [];
        private readonly Graph _dst = new();

        private FactSet Intern(FactSet f)
        {
            if (_sets.TryGetValue(f, out var have)) return have;
            f.Id = _byId.Count;
            _byId.Add(f);
            _sets[f] = f;
            return f;
        }

        private FactSet Empty => _byId[0];

        private const int MaxNegs = 8;

        /// <summary>The facts after learning that the node's test is <paramref name="outcome"/> (with the data present).</summary>
        private FactSet Learn(FactSet f, in GNode n, bool outcome)
        {
            int b = (int)n.Base;
            bool present = n.Need <= f.Len[b];
            if (!present && n.ShortYes == outcome)
            {
                // A short packet may take this branch. Failing a test that short packets fail is
                // still worth remembering for later tests that short packets fail too.
                return outcome ? f : AddNeg(f, new Neg(WordKey(n.Base, n.Offset), n.Mask, n.Value, true));
            }
            bool addBits = outcome || BitOperations.PopCount(n.Mask) == 1;
            long key = WordKey(n.Base, n.Offset);
            int idx = f.Find(key);
            uint kMask = idx >= 0 ? f.Known[idx] : 0, kBits = idx >= 0 ? f.Bits[idx] : 0;
            uint value = outcome ? n.Value : n.Value ^ n.Mask;
            uint nMask = addBits ? kMask | n.Mask : kMask;
            uint nBits = addBits ? (kBits & ~n.Mask) | value : kBits;
            int newLen = Math.Max(f.Len[b], n.Need);
            var negs = f.Negs;
            if (!addBits && (kMask & n.Mask) != n.Mask)
                negs = WithNeg(negs, new Neg(key, n.Mask, n.Value, false));
            if (nMask == kMask && nBits == kBits && newLen == f.Len[b] && negs == f.Negs) return f;
            long[] keys; uint[] known, bits;
            if (nMask == kMask)
            {
                keys = f.Keys; known = f.Known; bits = f.Bits;
            }
            else if (idx >= 0)
            {
                keys = f.Keys;
                known = (uint[])f.Known.Clone(); known[idx] = nMask;
                bits = (uint[])f.Bits.Clone(); bits[idx] = nBits;
            }
            else
            {
                int at = ~idx;
                keys = Insert(f.Keys, at, key);
                known = Insert(f.Known, at, nMask);
                bits = Insert(f.Bits, at, nBits);
            }
            var len = f.Len;
            if (newLen != len[b])
            {
                len = (int[])len.Clone();
                len[b] = newLen;
            }
            return Intern(new FactSet(keys, known, bits, len, negs));
        }

        private static Neg[] WithNeg(Neg[] negs, Neg neg)
        {
            if (Array.IndexOf(negs, neg) >= 0) return negs;
            int keep = Math.Min(negs.Length, MaxNegs - 1);
            var nn = new Neg[keep + 1];
            Array.Copy(negs, negs.Length - keep, nn, 0, keep);
            nn[keep] = neg;
            return nn;
        }

        private FactSet AddNeg(FactSet f, Neg neg)
        {
            var negs = WithNeg(f.Negs, neg);
            return negs == f.Negs ? f : Intern(new FactSet(f.Keys, f.Known, f.Bits, f.Len, negs));
        }

        private static T[] Insert<T>(T[] a, int at, T v)
        {
            var r = new T[a.Length + 1];
            Array.Copy(a, 0, r, 0, at);
            r[at] = v;
            Array.Copy(a, at, r, at + 1, a.Length - at);
            return r;
        }

        /// <summary>1: the test certainly holds (or a short packet certainly goes yes); 0: certainly no; -1: unknown.</summary>
        private static int Decide(FactSet f, in GNode n)
        {
            long key = WordKey(n.Base, n.Offset);
            int idx = f.Find(key);
            int dv = -1;
            if (idx >= 0)
            {
                uint kMask = f.Known[idx], kBits = f.Bits[idx];
                if ((kMask & n.Mask) == n.Mask) dv = (kBits & n.Mask) == n.Value ? 1 : 0;
                else if ((kMask & n.Mask & (kBits ^ n.Value)) != 0) dv = 0;
            }
            if (dv < 0)
                foreach (var neg in f.Negs)
                    if (neg.Key == key && (neg.Mask & n.Mask) == neg.Mask && (n.Value & neg.Mask) == neg.Value)
                    {
                        // The test would imply what is known to be false. (A packet too short for
                        // the earlier test is too short for this one, which tests more bytes.)
                        if (neg.Weak && !n.ShortYes) return 0;
                        if (!neg.Weak) { dv = 0; break; }
                    }
            if (dv < 0) return -1;
            if (n.Need <= f.Len[(int)n.Base]) return dv;
            int shortOutcome = n.ShortYes ? 1 : 0;
            return dv == shortOutcome ? dv : -1;
        }

        private struct Frame
        {
            public int Orig, Node, Stage, Yes;
            public FactSet Facts;
        }

        // Long chains of "no" branches testing one word against different values ("src host A,
        // else src host B, ..."), indexed by value: when the facts know the word, the walk down
        // the chain is one lookup.
        private const int MinIndexedChain = 8;
        private sealed class Chain(int[] nodes, Dictionary<uint, List<int>> positions, int exit)
        {
            public readonly int[] Nodes = nodes;
            public readonly Dictionary<uint, List<int>> Positions = positions;
            public readonly int Exit = exit;
        }
        private int[] _chainOf = [];
        private int[] _posOf = [];
        private readonly List<Chain> _chains = [];

        private void IndexChains()
        {
            int count = src.Nodes.Count;
            _chainOf = new int[count];
            _posOf = new int[count];
            Array.Fill(_chainOf, -1);
            var next = new int[count];
            var hasPred = new bool[count];
            for (int i = 0; i < count; i++)
            {
                var n = src.Nodes[i];
                next[i] = n.No >= 0 && !n.ShortYes && !src.Nodes[n.No].ShortYes && n.SameWord(src.Nodes[n.No]) ? n.No : -1;
                if (next[i] >= 0) hasPred[next[i]] = true;
            }
            var assigned = new bool[count];
            var members = new List<int>();
            for (int head = 0; head < count; head++)
            {
                if (hasPred[head] || next[head] < 0) continue;
                members.Clear();
                for (int j = head; j >= 0 && !assigned[j]; j = next[j])
                {
                    members.Add(j);
                    assigned[j] = true;
                }
                if (members.Count < MinIndexedChain) continue;
                var positions = new Dictionary<uint, List<int>>();
                for (int k = 0; k < members.Count; k++)
                {
                    uint v = src.Nodes[members[k]].Value;
                    if (!positions.TryGetValue(v, out var list)) positions[v] = list = [];
                    list.Add(k);
                    _chainOf[members[k]] = _chains.Count;
                    _posOf[members[k]] = k;
                }
                _chains.Add(new Chain([.. members], positions, src.Nodes[members[^1]].No));
            }
        }

        private static bool KnownWord(FactSet f, in GNode n, out uint word)
        {
            word = 0;
            int idx = f.Find(WordKey(n.Base, n.Offset));
            if (idx < 0 || (f.Known[idx] & n.Mask) != n.Mask) return false;
            word = f.Bits[idx] & n.Mask;
            return true;
        }

        /// <summary>Where a packet whose word is <paramref name="word"/> leaves the chain entered at <paramref name="pos"/>.</summary>
        private int Jump(Chain c, int pos, uint word)
        {
            if (c.Positions.TryGetValue(word, out var list))
            {
                int i = list.BinarySearch(pos);
                if (i < 0) i = ~i;
                if (i < list.Count) return src.Nodes[c.Nodes[list[i]]].Yes;
            }
            return c.Exit;
        }

        public Graph Run(int start, out int newStart)
        {
            IndexChains();
            Intern(new FactSet([], [], [], new int[3], []));
            var stack = new List<Frame>();
            int result = 0;
            stack.Add(new Frame { Orig = start, Node = start, Facts = Empty });
            while (stack.Count > 0)
            {
                int top = stack.Count - 1;
                var fr = stack[top];
                if (fr.Stage == 0)
                {
                    int n = fr.Node;
                    if (n >= 0 && _memo.TryGetValue(((long)n << 32) | (uint)fr.Facts.Id, out int done))
                    {
                        result = done;
                        stack.RemoveAt(top);
                        continue;
                    }
                    // Follow tests the facts decide (no state is needed for them).
                    while (n >= 0)
                    {
                        var gn = src.Nodes[n];
                        if (_chainOf[n] >= 0 && KnownWord(fr.Facts, gn, out uint word))
                        {
                            n = Jump(_chains[_chainOf[n]], _posOf[n], word);
                            continue;
                        }
                        int d = Decide(fr.Facts, gn);
                        if (d < 0) break;
                        n = d == 1 ? gn.Yes : gn.No;
                    }
                    if (n < 0)
                    {
                        result = n;
                        Remember(fr.Orig, fr.Facts, n);
                        stack.RemoveAt(top);
                        continue;
                    }
                    if (n != fr.Node && _memo.TryGetValue(((long)n << 32) | (uint)fr.Facts.Id, out done))
                    {
                        result = done;
                        Remember(fr.Orig, fr.Facts, done);
                        stack.RemoveAt(top);
                        continue;
                    }
                    fr.Node = n;
                    fr.Stage = 1;
                    stack[top] = fr;
                    var node = src.Nodes[n];
                    stack.Add(new Frame { Orig = node.Yes, Node = node.Yes, Facts = Child(fr.Facts, node, true) });
                }
                else if (fr.Stage == 1)
                {
                    fr.Yes = result;
                    fr.Stage = 2;
                    stack[top] = fr;
                    var node = src.Nodes[fr.Node];
                    stack.Add(new Frame { Orig = node.No, Node = node.No, Facts = Child(fr.Facts, node, false) });
                }
                else
                {
                    var node = src.Nodes[fr.Node];
                    var t = new WordTest(node.Offset, node.Mask, node.Value) { Base = node.Base };
                    result = _dst.Test(t, fr.Yes, result, node.ShortYes);
                    Remember(fr.Node, fr.Facts, result);
                    if (fr.Orig != fr.Node) Remember(fr.Orig, fr.Facts, result);
                    stack.RemoveAt(top);
                }
            }
            newStart = result;
            return _dst;
        }

        private FactSet Child(FactSet f, in GNode n, bool outcome) =>
            _memo.Count > StateBudget ? Empty : Learn(f, n, outcome);

        private void Remember(int node, FactSet f, int result)
        {
            if (node >= 0) _memo[((long)node << 32) | (uint)f.Id] = result;
        }
    }

    // ---------------------------------------------------------------------------------------
    // Layout: number the reachable nodes from the start (depth first), then turn each chain of
    // "no" branches testing the same word (same header, offset and mask) into a switch: one
    // sorted table of (value, position in chain, yes target); a packet entering the chain at
    // position p goes to the first entry at or after p with its value, else to the chain's exit.

    private void Lay(Graph g, int start)
    {
        var order = new List<int>();
        var newIndex = new Dictionary<int, int>();
        if (start >= 0)
        {
            var stack = new Stack<int>();
            stack.Push(start);
            while (stack.Count > 0)
            {
                int n = stack.Pop();
                if (n < 0 || newIndex.ContainsKey(n)) continue;
                newIndex[n] = order.Count;
                order.Add(n);
                stack.Push(g.Nodes[n].No);
                stack.Push(g.Nodes[n].Yes);
            }
        }
        int Map(int t) => t >= 0 ? newIndex[t] : t;
        var nodes = new GNode[order.Count];
        for (int i = 0; i < order.Count; i++)
        {
            var n = g.Nodes[order[i]];
            nodes[i] = n with { Yes = Map(n.Yes), No = Map(n.No) };
        }
        _start = Map(start);

        int count = nodes.Length;
        var next = new int[count];
        var hasPred = new bool[count];
        for (int i = 0; i < count; i++)
        {
            int no = nodes[i].No;
            next[i] = no >= 0 && !nodes[i].ShortYes && !nodes[no].ShortYes && nodes[i].SameWord(nodes[no]) ? no : -1;
            if (next[i] >= 0) hasPred[next[i]] = true;
        }
        _nodes = new Node[count];
        for (int i = 0; i < count; i++)
        {
            var n = nodes[i];
            _nodes[i] = new Node { Offset = n.Offset, Mask = n.Mask, Value = n.Value, Need = n.Need, Yes = n.Yes, No = n.No, Base = n.Base, Flags = n.ShortYes ? FlagShortYes : (byte)0 };
        }
        var assigned = new bool[count];
        var values = new List<uint>();
        var positions = new List<int>();
        var targets = new List<int>();
        var chain = new List<int>();
        for (int head = 0; head < count; head++)
        {
            if (hasPred[head] || next[head] < 0) continue;
            chain.Clear();
            for (int j = head; j >= 0 && !assigned[j]; j = next[j])
            {
                chain.Add(j);
                assigned[j] = true;
            }
            if (chain.Count < MinSwitchChain) continue;
            int exit = nodes[chain[^1]].No;
            var entries = new List<(uint Value, int Pos, int Target)>();
            for (int k = 0; k < chain.Count; k++)
                entries.Add((nodes[chain[k]].Value, k, nodes[chain[k]].Yes));
            entries.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : a.Pos.CompareTo(b.Pos));
            int first = values.Count;
            foreach (var e in entries) { values.Add(e.Value); positions.Add(e.Pos); targets.Add(e.Target); }
            for (int k = 0; k < chain.Count; k++)
            {
                ref var rn = ref _nodes[chain[k]];
                rn.Flags = FlagSwitch;
                rn.Value = (uint)k;
                rn.Yes = first;
                rn.Count = entries.Count;
                rn.No = exit;
            }
        }
        _swValues = [.. values];
        _swPos = [.. positions];
        _swTargets = [.. targets];
    }

    // ---------------------------------------------------------------------------------------
    // Matching.

    /// <summary>Classifies one packet's bytes (every test relative to them); returns the output number or -1 to drop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Match(ReadOnlySpan<byte> data)
    {
        int i = _start;
        var nodes = _nodes;
        while (i >= 0)
        {
            ref readonly Node n = ref nodes[i];
            uint w;
            if ((uint)n.Offset + 4 <= (uint)data.Length)
                w = BinaryPrimitives.ReadUInt32BigEndian(data[n.Offset..]);
            else if (data.Length >= n.Need)
                w = LoadPartial(data, n.Offset);
            else
            {
                i = (n.Flags & FlagShortYes) != 0 ? n.Yes : n.No;
                continue;
            }
            w &= n.Mask;
            if ((n.Flags & FlagSwitch) == 0) i = w == n.Value ? n.Yes : n.No;
            else i = Lookup(in n, w);
        }
        return i == Drop ? -1 : -i - 1;
    }

    /// <summary>
    /// Classifies one packet given its headers: <paramref name="network"/>, <paramref name="transport"/>
    /// and <paramref name="mac"/> each run from that header to the end of the packet (empty when absent).
    /// Returns the output number or -1 to drop.
    /// </summary>
    public int Match(ReadOnlySpan<byte> network, ReadOnlySpan<byte> transport, ReadOnlySpan<byte> mac)
    {
        int i = _start;
        var nodes = _nodes;
        while (i >= 0)
        {
            ref readonly Node n = ref nodes[i];
            ReadOnlySpan<byte> data = n.Base == HeaderBase.Network ? network : n.Base == HeaderBase.Transport ? transport : mac;
            uint w;
            if ((uint)n.Offset + 4 <= (uint)data.Length)
                w = BinaryPrimitives.ReadUInt32BigEndian(data[n.Offset..]);
            else if (data.Length >= n.Need)
                w = LoadPartial(data, n.Offset);
            else
            {
                i = (n.Flags & FlagShortYes) != 0 ? n.Yes : n.No;
                continue;
            }
            w &= n.Mask;
            if ((n.Flags & FlagSwitch) == 0) i = w == n.Value ? n.Yes : n.No;
            else i = Lookup(in n, w);
        }
        return i == Drop ? -1 : -i - 1;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Lookup(in Node n, uint w)
    {
        var values = _swValues;
        int lo = n.Yes, hi = n.Yes + n.Count; // lower bound of w in [lo, hi)
        while (lo < hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            if (values[mid] < w) lo = mid + 1;
            else hi = mid;
        }
        int end = n.Yes + n.Count;
        for (int k = lo; k < end && values[k] == w; k++)
            if ((uint)_swPos[k] >= n.Value) return _swTargets[k];
        return n.No;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static uint LoadPartial(ReadOnlySpan<byte> data, int offset)
    {
        uint w = 0;
        for (int k = 0; k < 4; k++)
            w = (w << 8) | (offset + k < data.Length && offset + k >= 0 ? data[offset + k] : 0u);
        return w;
    }

    /// <summary>Whether some packet can reach <paramref name="output"/> (as far as the program shows).</summary>
    public bool CanReach(int output)
    {
        int t = OutputTarget(output);
        if (_start < 0) return _start == t;
        foreach (var n in _nodes)
        {
            if ((n.Flags & FlagSwitch) != 0)
            {
                if (n.No == t) return true;
                for (int k = n.Yes; k < n.Yes + n.Count; k++)
                    if (_swTargets[k] == t) return true;
            }
            else if (n.Yes == t || n.No == t) return true;
        }
        return false;
    }

    /// <summary>A readable listing of the program (the "program" handler).</summary>
    public string Describe()
    {
        var sb = new StringBuilder();
        var need = new int[3];
        for (int i = 0; i < _nodes.Length; i++)
        {
            var n = _nodes[i];
            need[(int)n.Base] = Math.Max(need[(int)n.Base], n.Need);
            sb.Append(i.ToString().PadLeft(3)).Append("  ");
            string prefix = n.Base switch { HeaderBase.Transport => "transp+", HeaderBase.Mac => "mac+", _ => "" };
            if ((n.Flags & FlagSwitch) == 0)
            {
                sb.Append(prefix).Append(n.Offset.ToString().PadLeft(prefix.Length == 0 ? 3 : 0)).Append('/')
                  .Append(n.Value.ToString("x8")).Append('%').Append(n.Mask.ToString("x8"))
                  .Append("  yes->").Append(Target(n.Yes)).Append("  no->").Append(Target(n.No));
                if ((n.Flags & FlagShortYes) != 0) sb.Append("  short->yes");
            }
            else
            {
                sb.Append(prefix).Append(n.Offset.ToString().PadLeft(prefix.Length == 0 ? 3 : 0)).Append("/switch%")
                  .Append(n.Mask.ToString("x8")).Append(" from ").Append(n.Value).Append(':');
                bool any = false;
                uint last = 0;
                for (int k = n.Yes; k < n.Yes + n.Count; k++)
                {
                    if ((uint)_swPos[k] < n.Value || (any && _swValues[k] == last)) continue;
                    sb.Append(' ').Append(_swValues[k].ToString("x8")).Append("->").Append(Target(_swTargets[k]));
                    last = _swValues[k];
                    any = true;
                }
                sb.Append("  else->").Append(Target(n.No));
            }
            sb.Append('\n');
        }
        sb.Append("safe length ").Append(need[0]).Append('\n');
        if (need[1] > 0) sb.Append("transport safe length ").Append(need[1]).Append('\n');
        sb.Append("start -> ").Append(Target(_start)).Append('\n');
        return sb.ToString();
    }

    private static string Target(int t) => t >= 0 ? "step " + t : t == Drop ? "[X]" : "[" + (-t - 1) + "]";
}
