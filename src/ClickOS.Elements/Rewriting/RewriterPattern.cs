using System.Globalization;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// An IPRewriter pattern. For port rewriters it is "SADDR SPORT DADDR DPORT"; for address
/// rewriters (IPAddrRewriter, IPAddrPairRewriter) "SADDR DADDR". Each field is a value or '-'
/// (keep). SADDR may be a range L-H or a prefix ADDR/LEN; SPORT a range L-H. A trailing '#'
/// allocates sequentially and '?' randomly; otherwise a port range prefers the packet's own
/// port and an address range picks by the flow's source address (so one inside host keeps
/// one outside address). Chosen addresses and ports never collide with a live mapping.
/// </summary>
public sealed class RewriterPattern
{
    public uint SaddrLo, SaddrHi, Daddr;
    public bool KeepSaddr = true, KeepDaddr = true, KeepSport = true, KeepDport = true;
    public ushort SportLo, SportHi, Dport;
    public char Mode;           // '\0' prefer the packet's own port, '#' sequential, '?' random
    public char AddrMode;       // same, for an address range
    public int LiveFlows;
    public string Name = "";
    private int _nextSeq;
    private long _nextAddr;
    private readonly Random _rng = new(0x1D);
    private string _text = "";

    /// <summary>Parses a port pattern "SADDR SPORT DADDR DPORT" from <paramref name="w"/>[at..].</summary>
    public static RewriterPattern? Parse(IReadOnlyList<string> w, int at, out string error)
    {
        error = "";
        var p = new RewriterPattern();
        if (w.Count < at + 4) { error = "bad pattern: expected 'SADDR SPORT DADDR DPORT'"; return null; }
        if (!p.ParseSaddr(w[at], out error)) return null;
        string sp = w[at + 1];
        if (sp != "-")
        {
            // '$' is an older spelling of '?' (random, not preferring the packet's own port).
            if (sp.EndsWith('#') || sp.EndsWith('?') || sp.EndsWith('$')) { p.Mode = sp[^1] == '$' ? '?' : sp[^1]; sp = sp[..^1]; }
            int dash = sp.IndexOf('-');
            if (dash < 0 ? !Port(sp, out p.SportLo) : !Port(sp[..dash], out p.SportLo) || !Port(sp[(dash + 1)..], out p.SportHi))
            { error = $"bad source port '{w[at + 1]}' in pattern"; return null; }
            if (dash < 0) p.SportHi = p.SportLo;
            if (p.SportHi < p.SportLo) { error = $"bad source port range '{w[at + 1]}' in pattern"; return null; }
            p.KeepSport = false;
        }
        if (!p.ParseDaddr(w[at + 2], out error)) return null;
        if (w[at + 3] != "-")
        {
            if (!Port(w[at + 3], out p.Dport)) { error = $"bad destination port '{w[at + 3]}' in pattern"; return null; }
            p.KeepDport = false;
        }
        p._text = string.Join(' ', p.SaddrText(), p.KeepSport ? "-" : p.SportLo == p.SportHi ? p.SportLo.ToString(CultureInfo.InvariantCulture) : $"{p.SportLo}-{p.SportHi}",
            p.KeepDaddr ? "-" : FlowId.IP(p.Daddr), p.KeepDport ? "-" : p.Dport.ToString(CultureInfo.InvariantCulture));
        return p;
    }

    /// <summary>Parses an address pattern "SADDR DADDR" from <paramref name="w"/>[at..].</summary>
    public static RewriterPattern? ParseAddresses(IReadOnlyList<string> w, int at, out string error)
    {
        error = "";
        var p = new RewriterPattern();
        if (w.Count < at + 2) { error = "bad pattern: expected 'SADDR DADDR'"; return null; }
        if (!p.ParseSaddr(w[at], out error) || !p.ParseDaddr(w[at + 1], out error)) return null;
        p._text = p.SaddrText() + " " + (p.KeepDaddr ? "-" : FlowId.IP(p.Daddr));
        return p;
    }

    /// <summary>Whether this pattern rewrites only addresses (it has no port fields).</summary>
    public bool AddressOnly => KeepSport && KeepDport;

    private bool ParseSaddr(string s, out string error)
    {
        error = "";
        if (s == "-") return true;
        string orig = s;
        if (s.EndsWith('#') || s.EndsWith('?') || s.EndsWith('$')) { AddrMode = s[^1] == '$' ? '?' : s[^1]; s = s[..^1]; }
        int dash = s.IndexOf('-');
        int slash = s.IndexOf('/');
        bool ok;
        if (dash > 0) ok = Values.ParseIPv4(s[..dash], out SaddrLo) && Values.ParseIPv4(s[(dash + 1)..], out SaddrHi) && SaddrHi >= SaddrLo;
        else if (slash > 0)
        {
            ok = Values.ParseIPv4(s[..slash], out uint a) && int.TryParse(s[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int len) && len <= 32;
            if (ok)
            {
                int len2 = int.Parse(s[(slash + 1)..], CultureInfo.InvariantCulture);
                uint mask = len2 == 0 ? 0 : uint.MaxValue << (32 - len2);
                SaddrLo = a & mask;
                SaddrHi = SaddrLo | ~mask;
                // Leave out the network and broadcast addresses of a real subnet.
                if (len2 <= 30) { SaddrLo++; SaddrHi--; }
            }
        }
        else
        {
            ok = Values.ParseIPv4(s, out SaddrLo);
            SaddrHi = SaddrLo;
        }
        if (!ok) { error = $"bad source address '{orig}' in pattern"; return false; }
        KeepSaddr = false;
        return true;
    }

    private bool ParseDaddr(string s, out string error)
    {
        error = "";
        if (s == "-") return true;
        if (!Values.ParseIPv4(s, out Daddr)) { error = $"bad destination address '{s}' in pattern"; return false; }
        KeepDaddr = false;
        return true;
    }

    private string SaddrText() =>
        KeepSaddr ? "-" : SaddrLo == SaddrHi ? FlowId.IP(SaddrLo) : $"{FlowId.IP(SaddrLo)}-{FlowId.IP(SaddrHi)}";

    private static bool Port(string s, out ushort v)
    {
        v = 0;
        if (!int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int x) || x > 65535) return false;
        v = (ushort)x;
        return true;
    }

    public override string ToString() => _text;

    /// <summary>The rewritten ID for <paramref name="inId"/>, one that no live mapping of <paramref name="table"/> uses; false if none is free.</summary>
    public bool TryApply(in FlowId inId, byte proto, FlowTable table, out FlowId outId)
    {
        uint da = KeepDaddr ? inId.Daddr : Daddr;
        ushort dp = KeepDport ? inId.Dport : Dport;
        long aspan = KeepSaddr ? 1 : (long)SaddrHi - SaddrLo + 1;
        long astart = 0;
        if (aspan > 1)
            astart = AddrMode == '#' ? _nextAddr % aspan : AddrMode == '?' ? _rng.NextInt64(aspan) : (long)(Mix(inId.Saddr) % (ulong)aspan);
        // Address ranges are searched in full only for address rewriters; a port rewriter tries
        // a bounded number of addresses, each with its whole port range.
        long atries = AddressOnly ? aspan : Math.Min(aspan, 64);
        for (long ak = 0; ak < atries; ak++)
        {
            uint sa = KeepSaddr ? inId.Saddr : (uint)(SaddrLo + (astart + ak) % aspan);
            if (TryPorts(inId, proto, table, sa, da, dp, out outId))
            {
                if (AddrMode == '#') _nextAddr = (astart + ak + 1) % aspan;
                return true;
            }
        }
        outId = default;
        return false;
    }

    private static ulong Mix(uint x) => (x * 0x9E3779B97F4A7C15UL) >> 17;

    private bool TryPorts(in FlowId inId, byte proto, FlowTable table, uint sa, uint da, ushort dp, out FlowId outId)
    {
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
