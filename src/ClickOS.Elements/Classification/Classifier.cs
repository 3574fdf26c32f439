using System.Globalization;
using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// Classifier(PATTERN_1, ..., PATTERN_N): sends each packet to the output of the first pattern
/// it matches; unmatched packets are dropped. A pattern is space-separated clauses
/// "OFFSET/VALUE[%MASK]" (hex VALUE, '?' for a wildcard nibble), each optionally negated
/// with '!'; "-" matches everything. Patterns compile into a decision tree (handler "program").
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> c :: Classifier(12/0800, -); c[0] -> Discard; c[1] -> Discard;</example>
public sealed class Classifier : Element
{
    private DecisionTree _tree = null!;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var rules = new List<DecisionTree.Rule>();
        bool ok = true;
        for (int i = 0; i < conf.Count; i++)
        {
            var rule = ParsePattern(conf[i], i, errh);
            if (rule == null) ok = false;
            else rules.Add(rule);
        }
        if (!ok) return false;
        _tree = DecisionTree.Compile(rules);
        return true;
    }

    /// <summary>Parses one Classifier pattern into a rule for output <paramref name="output"/>.</summary>
    public static DecisionTree.Rule? ParsePattern(string pattern, int output, ErrorHandler errh)
    {
        var clauses = new List<DecisionTree.Clause>();
        var words = pattern.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            errh.Error($"pattern {output}: empty pattern");
            return null;
        }
        foreach (var w0 in words)
        {
            string w = w0;
            if (w == "-" || w == "any" || w == "all") continue;
            bool neg = false;
            while (w.StartsWith('!')) { neg = !neg; w = w[1..]; }
            int slash = w.IndexOf('/');
            if (slash <= 0 || !int.TryParse(w[..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int offset))
            {
                errh.Error($"pattern {output}: expected 'OFFSET/VALUE' in '{w0}'");
                return null;
            }
            string rest = w[(slash + 1)..];
            string valS = rest, maskS = "";
            int pct = rest.IndexOf('%');
            if (pct >= 0) { valS = rest[..pct]; maskS = rest[(pct + 1)..]; }
            if (valS.Length == 0 || valS.Length % 2 != 0 || !valS.All(c => Uri.IsHexDigit(c) || c == '?')
                || (pct >= 0 && (maskS.Length != valS.Length || !maskS.All(Uri.IsHexDigit))))
            {
                errh.Error($"pattern {output}: bad value '{rest}' (expected an even number of hex digits)");
                return null;
            }
            int n = valS.Length / 2;
            var value = new byte[n];
            var mask = new byte[n];
            for (int k = 0; k < valS.Length; k++)
            {
                int shift = (k % 2 == 0) ? 4 : 0;
                char c = valS[k];
                int m = c == '?' ? 0 : 0xF;
                if (pct >= 0) m &= Convert.ToInt32(maskS[k].ToString(), 16);
                int v = c == '?' ? 0 : Convert.ToInt32(c.ToString(), 16);
                value[k / 2] |= (byte)((v & m) << shift);
                mask[k / 2] |= (byte)(m << shift);
            }
            clauses.Add(new DecisionTree.Clause(ToWords(offset, value, mask), neg));
        }
        return new DecisionTree.Rule(clauses, output);
    }

    /// <summary>Splits a byte comparison into aligned 32-bit word tests.</summary>
    public static List<WordTest> ToWords(int offset, ReadOnlySpan<byte> value, ReadOnlySpan<byte> mask)
    {
        var tests = new List<WordTest>();
        int start = offset & ~3;
        int end = offset + value.Length;
        for (int w = start; w < end; w += 4)
        {
            uint m = 0, v = 0;
            for (int k = 0; k < 4; k++)
            {
                int i = w + k - offset;
                m <<= 8;
                v <<= 8;
                if (i >= 0 && i < value.Length) { m |= mask[i]; v |= (uint)(value[i] & mask[i]); }
            }
            if (m != 0) tests.Add(new WordTest(w, m, v));
        }
        return tests;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        var tree = _tree;
        for (int i = 0; i < ps.Length; i++) outs[i] = tree.Match(ps[i].Data);
        Dispatch(batch, outs);
    }

    public override void AddHandlers() => AddReadHandler("program", () => _tree.Describe());
}
