using System.Globalization;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// An IPRewriter pattern, "SADDR SPORT DADDR DPORT": each field a value or '-' (keep), SPORT
/// also a range L-H (prefer the packet's own port, else a random free one), L-H# (sequential)
/// or L-H? (random). Chosen ports never collide with a live mapping of the same rewriter.
/// </summary>
public sealed class RewriterPattern
{
    public uint Saddr, Daddr;
    public bool KeepSaddr = true, KeepDaddr = true, KeepSport = true, KeepDport = true;
    public ushort SportLo, SportHi, Dport;
    public char Mode;           // '\0' prefer source port, '#' sequential, '?' random
    public int LiveFlows;
    private int _nextSeq;
    private readonly Random _rng = new(0x1D);
    private string _text = "";

    public static RewriterPattern? Parse(IReadOnlyList<string> w, int at, out string error)
    {
        error = "";
        var p = new RewriterPattern();
        if (w.Count < at + 4) { error = "bad pattern: expected 'SADDR SPORT DADDR DPORT'"; return null; }
        if (w[at] != "-")
        {
            if (!Values.ParseIPv4(w[at], out p.Saddr)) { error = $"bad source address '{w[at]}' in pattern"; return null; }
            p.KeepSaddr = false;
        }
        string sp = w[at + 1];
        if (sp != "-")
        {
            if (sp.EndsWith('#') || sp.EndsWith('?')) { p.Mode = sp[^1]; sp = sp[..^1]; }
            int dash = sp.IndexOf('-');
            if (dash < 0 ? !Port(sp, out p.SportLo) : !Port(sp[..dash], out p.SportLo) || !Port(sp[(dash + 1)..], out p.SportHi))
            { error = $"bad source port '{w[at + 1]}' in pattern"; return null; }
            if (dash < 0) p.SportHi = p.SportLo;
            if (p.SportHi < p.SportLo) { error = $"bad source port range '{w[at + 1]}' in pattern"; return null; }
            p.KeepSport = false;
        }
        if (w[at + 2] != "-")
        {
            if (!Values.ParseIPv4(w[at + 2], out p.Daddr)) { error = $"bad destination address '{w[at + 2]}' in pattern"; return null; }
            p.KeepDaddr = false;
        }
        if (w[at + 3] != "-")
        {
            if (!Port(w[at + 3], out p.Dport)) { error = $"bad destination port '{w[at + 3]}' in pattern"; return null; }
            p.KeepDport = false;
        }
        p._text = string.Join(' ', new[]
        {
            p.KeepSaddr ? "-" : FlowId.IP(p.Saddr),
            p.KeepSport ? "-" : p.SportLo == p.SportHi ? p.SportLo.ToString(CultureInfo.InvariantCulture) : $"{p.SportLo}-{p.SportHi}",
            p.KeepDaddr ? "-" : FlowId.IP(p.Daddr),
            p.KeepDport ? "-" : p.Dport.ToString(CultureInfo.InvariantCulture),
        });
        return p;
    }

    private static bool Port(string s, out ushort v)
    {
        v = 0;
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int x) || x > 65535) return false;
        v = (ushort)x;
        return true;
    }

    public override string ToString() => _text;

    /// <summary>The rewritten ID for <paramref name="inId"/>, with a source port that no live mapping of <paramref name="table"/> uses; false if none is free.</summary>
    public bool TryApply(in FlowId inId, byte proto, FlowTable table, out FlowId outId)
    {
        uint sa = KeepSaddr ? inId.Saddr : Saddr, da = KeepDaddr ? inId.Daddr : Daddr;
        ushort dp = KeepDport ? inId.Dport : Dport;
        if (KeepSport || SportLo == SportHi)
        {
            outId = new FlowId(sa, KeepSport ? inId.Sport : SportLo, da, dp);
            return table.Find(outId.Reverse(), proto, out _) < 0;
        }
        int span = SportHi - SportLo + 1;
        if (Mode == '\0' && inId.Sport >= SportLo && inId.Sport <= SportHi)
        {
            // The packet's own source port, if it is free; otherwise a random one.
            outId = new FlowId(sa, inId.Sport, da, dp);
            if (table.Find(outId.Reverse(), proto, out _) < 0) return true;
        }
        int start = Mode == '#' ? _nextSeq : _rng.Next(span);
        for (int k = 0; k < span; k++)
        {
            int off = (start + k) % span;
            var cand = new FlowId(sa, (ushort)(SportLo + off), da, dp);
            if (table.Find(cand.Reverse(), proto, out _) >= 0) continue;
            if (Mode == '#') _nextSeq = (off + 1) % span;
            outId = cand;
            return true;
        }
        outId = default;
        return false;
    }
}
