using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ClickOS.Elements;

/// <summary>One pattern for <see cref="AhoCorasick"/>: its bytes and whether ASCII letters match either case.</summary>
public readonly record struct AcPattern(byte[] Bytes, bool NoCase);

/// <summary>Receives the matches of a scan; a struct so that scans specialize and allocate nothing.</summary>
public interface IAcMatchSink
{
    /// <summary>
    /// The automaton entered <paramref name="state"/>, whose output patterns
    /// (<see cref="AhoCorasick.Outputs"/>) all end at data index <paramref name="end"/>.
    /// </summary>
    void OnMatch(int state, int end);
}

/// <summary>
/// A multi-pattern matcher compiled to a dense DFA: one table row per state, one column per
/// byte class, so scanning costs one table lookup per byte whatever the number of patterns.
/// <para>
/// Bytes that no pattern tells apart share a class (alphabet reduction), which keeps rows short
/// and the hot part of the table in cache. Case-insensitive patterns are trie edges that accept
/// both cases of a letter; since a case-sensitive and a case-insensitive pattern can then both
/// be partly matched by the same input, a DFA state is the set of trie nodes that match a suffix
/// of the input (a subset construction). With only case-sensitive patterns that set is exactly
/// an Aho–Corasick state and its failure chain, so the DFA has one state per trie node.
/// </para>
/// <para>
/// States are stored premultiplied (row offset = index × classes), so a step is
/// <c>s = table[s + class[b]]</c>; an entry's sign bit says the target state has outputs, so
/// the scan loop tests one flag per byte. A state depends only on the last
/// <see cref="MaxPatternLength"/> bytes, which lets long inputs be cut into overlapping pieces
/// scanned side by side (independent dependency chains, so the CPU overlaps their loads).
/// </para>
/// </summary>
public sealed class AhoCorasick
{
    /// <summary>The start state (nothing matched yet), as a row offset.</summary>
    public const int Root = 0;
    private const int MatchFlag = int.MinValue;
    private const int StateMask = int.MaxValue;
    /// <summary>Table entries allowed before building fails (1 GiB of table).</summary>
    public const long MaxTableEntries = 1L << 28;

    private readonly int[] _delta;
    private readonly byte[] _classOf;
    private readonly int _classes;
    private readonly int[] _outStart;
    private readonly int[] _outPatterns;

    public int StateCount { get; }
    public int ClassCount => _classes;
    public int PatternCount { get; }
    public int MaxPatternLength { get; }
    public long TableBytes => (long)_delta.Length * sizeof(int) + _classOf.Length + ((long)_outStart.Length + _outPatterns.Length) * sizeof(int);

    private AhoCorasick(int[] delta, byte[] classOf, int classes, int states, int[] outStart, int[] outPatterns, int patterns, int maxLen)
    {
        _delta = delta;
        _classOf = classOf;
        _classes = classes;
        StateCount = states;
        _outStart = outStart;
        _outPatterns = outPatterns;
        PatternCount = patterns;
        MaxPatternLength = maxLen;
    }

    /// <summary>Compiles <paramref name="patterns"/>; null (with <paramref name="error"/>) if one is empty or the DFA would be too large.</summary>
    public static AhoCorasick? Build(IReadOnlyList<AcPattern> patterns, out string error) =>
        new Builder(patterns).Build(out error);

    /// <summary>The patterns (indices into the build list) that end when the automaton enters <paramref name="state"/>.</summary>
    public ReadOnlySpan<int> Outputs(int state)
    {
        int i = (state & StateMask) / _classes;
        return _outPatterns.AsSpan(_outStart[i], _outStart[i + 1] - _outStart[i]);
    }

    /// <summary>One step without match reporting (the returned state has its match flag cleared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Step(int state, byte b) => _delta[state + _classOf[b]] & StateMask;

    /// <summary>
    /// Scans <paramref name="data"/> from <paramref name="state"/>, reporting every state with
    /// outputs to <paramref name="sink"/>, and returns the state after the last byte. Long inputs
    /// are scanned as overlapping pieces side by side, so a match may be reported more than once
    /// (same state, same end); sinks that count should count each pattern once per scan.
    /// </summary>
    public int Scan<TSink>(ReadOnlySpan<byte> data, int state, ref TSink sink) where TSink : struct, IAcMatchSink
    {
        int n = data.Length, w = MaxPatternLength;
        // Each extra piece rescans w bytes to warm up its state; split only where that is cheap.
        // (Eight pieces measured slower than four on 1460-byte payloads: more warm-up, register spills.)
        if (n >= 256 && n >= 8 * w) return Scan4(data, state, ref sink);
        if (n >= 64 && n >= 4 * w) return Scan2(data, state, ref sink);
        return Scan1(data, 0, n, state, ref sink);
    }

    /// <summary>The plain loop over data[from..to).</summary>
    public int Scan1<TSink>(ReadOnlySpan<byte> data, int from, int to, int state, ref TSink sink) where TSink : struct, IAcMatchSink
    {
        ref int tbl = ref MemoryMarshal.GetArrayDataReference(_delta);
        ref byte cls = ref MemoryMarshal.GetArrayDataReference(_classOf);
        ref byte p = ref MemoryMarshal.GetReference(data);
        int s = state;
        for (int i = from; i < to; i++)
        {
            s = Unsafe.Add(ref tbl, s + Unsafe.Add(ref cls, Unsafe.Add(ref p, i)));
            if (s < 0)
            {
                s &= StateMask;
                sink.OnMatch(s, i);
            }
        }
        return s;
    }

    // Two pieces: [0, L) from the given state and [n-L, n) from the root, L = ceil((n + w) / 2).
    // The second piece's state is exact from n-L+w on, and n-L+w <= L, so every end is covered.
    private int Scan2<TSink>(ReadOnlySpan<byte> data, int state, ref TSink sink) where TSink : struct, IAcMatchSink
    {
        int n = data.Length;
        int len = (n + MaxPatternLength + 1) / 2;
        int b1 = n - len;
        ref int tbl = ref MemoryMarshal.GetArrayDataReference(_delta);
        ref byte cls = ref MemoryMarshal.GetArrayDataReference(_classOf);
        ref byte p = ref MemoryMarshal.GetReference(data);
        ref byte p1 = ref Unsafe.Add(ref p, b1);
        int s0 = state, s1 = Root;
        for (int i = 0; i < len; i++)
        {
            s0 = Unsafe.Add(ref tbl, s0 + Unsafe.Add(ref cls, Unsafe.Add(ref p, i)));
            s1 = Unsafe.Add(ref tbl, s1 + Unsafe.Add(ref cls, Unsafe.Add(ref p1, i)));
            if ((s0 | s1) < 0)
            {
                if (s0 < 0) { s0 &= StateMask; sink.OnMatch(s0, i); }
                if (s1 < 0) { s1 &= StateMask; sink.OnMatch(s1, b1 + i); }
            }
        }
        return s1;
    }

    // Four equal pieces of length L = ceil((n + 3w) / 4) starting at 0, L-w, 2(L-w) and n-L; each
    // piece after the first starts at the root and is exact once it has read w bytes, which is
    // before the previous piece ends (see Scan2). The last piece's final state is the result.
    private int Scan4<TSink>(ReadOnlySpan<byte> data, int state, ref TSink sink) where TSink : struct, IAcMatchSink
    {
        int n = data.Length, w = MaxPatternLength;
        int len = (n + 3 * w + 3) / 4;
        int b1 = len - w, b2 = 2 * (len - w), b3 = n - len;
        ref int tbl = ref MemoryMarshal.GetArrayDataReference(_delta);
        ref byte cls = ref MemoryMarshal.GetArrayDataReference(_classOf);
        ref byte p0 = ref MemoryMarshal.GetReference(data);
        ref byte p1 = ref Unsafe.Add(ref p0, b1);
        ref byte p2 = ref Unsafe.Add(ref p0, b2);
        ref byte p3 = ref Unsafe.Add(ref p0, b3);
        int s0 = state, s1 = Root, s2 = Root, s3 = Root;
        for (int i = 0; i < len; i++)
        {
            s0 = Unsafe.Add(ref tbl, s0 + Unsafe.Add(ref cls, Unsafe.Add(ref p0, i)));
            s1 = Unsafe.Add(ref tbl, s1 + Unsafe.Add(ref cls, Unsafe.Add(ref p1, i)));
            s2 = Unsafe.Add(ref tbl, s2 + Unsafe.Add(ref cls, Unsafe.Add(ref p2, i)));
            s3 = Unsafe.Add(ref tbl, s3 + Unsafe.Add(ref cls, Unsafe.Add(ref p3, i)));
            if ((s0 | s1 | s2 | s3) < 0)
            {
                if (s0 < 0) { s0 &= StateMask; sink.OnMatch(s0, i); }
                if (s1 < 0) { s1 &= StateMask; sink.OnMatch(s1, b1 + i); }
                if (s2 < 0) { s2 &= StateMask; sink.OnMatch(s2, b2 + i); }
                if (s3 < 0) { s3 &= StateMask; sink.OnMatch(s3, b3 + i); }
            }
        }
        return s3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsLetter(int b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    private sealed class Builder(IReadOnlyList<AcPattern> patterns)
    {
        // Trie edge symbols: 0-255 an exact byte, 256 + c a letter c (lowercase) in either case.
        private readonly List<Dictionary<int, int>?> _children = [null];
        private readonly List<List<int>?> _ends = [null];

        private int Child(int node, int sym)
        {
            var ch = _children[node] ??= [];
            if (ch.TryGetValue(sym, out int c)) return c;
            c = _children.Count;
            _children.Add(null);
            _ends.Add(null);
            ch[sym] = c;
            return c;
        }

        private static int Symbol(byte b, bool noCase) => noCase && IsLetter(b) ? 256 + (b | 0x20) : b;

        public AhoCorasick? Build(out string error)
        {
            error = "";
            int maxLen = 0;
            var exactUsed = new bool[256];
            var foldUsed = new bool[256];
            for (int pi = 0; pi < patterns.Count; pi++)
            {
                var pat = patterns[pi];
                if (pat.Bytes.Length == 0) { error = $"pattern {pi + 1} is empty"; return null; }
                maxLen = Math.Max(maxLen, pat.Bytes.Length);
                int node = 0;
                foreach (byte b in pat.Bytes)
                {
                    int sym = Symbol(b, pat.NoCase);
                    if (sym < 256) exactUsed[b] = true;
                    else foldUsed[sym - 256] = true;
                    node = Child(node, sym);
                }
                (_ends[node] ??= []).Add(pi);
            }

            // Byte classes: bytes go together exactly when the same edge symbols accept them.
            var classOf = new byte[256];
            var classRep = new List<int> { 0 };
            var keyClass = new Dictionary<int, int>();
            for (int b = 0; b < 256; b++)
            {
                int key = exactUsed[b] ? b : IsLetter(b) && foldUsed[b | 0x20] ? 256 + (b | 0x20) : -1;
                if (key < 0) continue;
                if (!keyClass.TryGetValue(key, out int c))
                {
                    c = classRep.Count;
                    keyClass[key] = c;
                    classRep.Add(b);
                }
                classOf[b] = (byte)c;
            }
            // Class 0 holds the bytes no pattern uses; if every byte is used it is still a valid (empty) class.
            int nc = classRep.Count;
            if (nc > 256)
            {
                // 256 used bytes plus the unused class: fold the empty class away by renumbering.
                for (int b = 0; b < 256; b++) classOf[b]--;
                classRep.RemoveAt(0);
                nc = 256;
            }

            // Subset construction. A DFA state is the sorted set of non-root trie nodes matching
            // a suffix of the input (the root always matches).
            var index = new Dictionary<NodeSet, int>();
            var sets = new List<int[]>();
            var start = new NodeSet([]);
            index[start] = 0;
            sets.Add([]);
            var rows = new List<int[]>();
            var buckets = new List<int>[nc];
            for (int c = 0; c < nc; c++) buckets[c] = [];
            var symClasses = new int[2];
            for (int si = 0; si < sets.Count; si++)
            {
                foreach (var bk in buckets) bk.Clear();
                void Spread(int node)
                {
                    var ch = _children[node];
                    if (ch == null) return;
                    foreach (var (sym, child) in ch)
                    {
                        int k;
                        if (sym < 256) { symClasses[0] = classOf[sym]; k = 1; }
                        else
                        {
                            int lo = sym - 256;
                            symClasses[0] = classOf[lo];
                            symClasses[1] = classOf[lo & ~0x20];
                            k = symClasses[0] == symClasses[1] ? 1 : 2;
                        }
                        for (int j = 0; j < k; j++) buckets[symClasses[j]].Add(child);
                    }
                }
                Spread(0);
                foreach (int node in sets[si]) Spread(node);
                var row = new int[nc];
                for (int c = 0; c < nc; c++)
                {
                    var bk = buckets[c];
                    if (bk.Count == 0) { row[c] = 0; continue; }
                    bk.Sort();
                    var key = new NodeSet(bk.ToArray());
                    if (!index.TryGetValue(key, out int target))
                    {
                        target = sets.Count;
                        if ((long)(target + 1) * nc > MaxTableEntries)
                        {
                            error = $"automaton too large (over {target} states)";
                            return null;
                        }
                        index[key] = target;
                        sets.Add(key.Nodes);
                    }
                    row[c] = target;
                }
                rows.Add(row);
            }

            int states = sets.Count;
            var outStart = new int[states + 1];
            var outs = new List<int>();
            var tmp = new List<int>();
            for (int s = 0; s < states; s++)
            {
                outStart[s] = outs.Count;
                tmp.Clear();
                foreach (int node in sets[s])
                    if (_ends[node] is { } e) tmp.AddRange(e);
                tmp.Sort();
                outs.AddRange(tmp);
            }
            outStart[states] = outs.Count;
            var delta = new int[states * nc];
            for (int s = 0; s < states; s++)
            {
                var row = rows[s];
                for (int c = 0; c < nc; c++)
                {
                    int t = row[c];
                    delta[s * nc + c] = t * nc | (outStart[t + 1] > outStart[t] ? MatchFlag : 0);
                }
            }
            return new AhoCorasick(delta, classOf, nc, states, outStart, outs.ToArray(), patterns.Count, maxLen);
        }
    }

    private readonly struct NodeSet : IEquatable<NodeSet>
    {
        public readonly int[] Nodes;
        private readonly int _hash;

        public NodeSet(int[] nodes)
        {
            Nodes = nodes;
            var h = new HashCode();
            foreach (int n in nodes) h.Add(n);
            _hash = h.ToHashCode();
        }

        public bool Equals(NodeSet o) => _hash == o._hash && Nodes.AsSpan().SequenceEqual(o.Nodes);
        public override bool Equals(object? obj) => obj is NodeSet o && Equals(o);
        public override int GetHashCode() => _hash;
    }
}
