using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The tcpdump-like pattern language of Click's IPClassifier and IPFilter: tokenizing, parsing
/// (with Click's carried-over qualifiers: "src port 80 or 81"), checking (Click's error and
/// warning messages), and compilation of every pattern into one shared
/// <see cref="DecisionTree"/>. Word tests are relative to the IP header, the transport header
/// (ports, TCP flags, ICMP type, transp[...]) or the MAC header (ether host).
/// Semantics follow Click: transport-layer directives match only first fragments of packets of
/// the right protocol; a directive whose bytes are missing from a short packet is false
/// ("port != 5" included), and 'not' makes it true.
/// </summary>
public static class IPFilterCompiler
{
    internal const int Unknown = -1000;
    internal const int ProtoICMP = 1, ProtoIGMP = 2, ProtoIPIP = 4, ProtoTCP = 6, ProtoUDP = 17, ProtoDCCP = 33;
    internal const int ProtoTcpOrUdp = 256, ProtoTransp = 257;

    // ---------------------------------------------------------------------------------------
    // Matching a packet.

    /// <summary>
    /// Classifies a packet whose network header annotation marks its IP header (the data start
    /// if unset). The transport header is its annotation, else the IP header plus its length.
    /// Returns the output, or -1 to drop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Match(DecisionTree tree, Packet p)
    {
        var buf = p.BufferSpan;
        int head = p.Headroom;
        int end = head + p.Length;
        int nh = p.HasNetworkHeader ? head + p.NetworkHeaderOffset : head;
        if ((uint)nh > (uint)end) nh = end;
        var net = buf[nh..end];
        int th = p.HasTransportHeader ? head + p.TransportHeaderOffset : nh + (net.Length > 0 ? (net[0] & 0xF) << 2 : 0);
        var transport = th >= nh && th < end ? buf[th..end] : default;
        ReadOnlySpan<byte> mac = default;
        if (p.HasMacHeader)
        {
            int mh = head + p.MacHeaderOffset;
            if ((uint)mh < (uint)end) mac = buf[mh..end];
        }
        return tree.Match(net, transport, mac);
    }

    // ---------------------------------------------------------------------------------------
    // Entry points.

    /// <summary>
    /// Compiles IPFilter arguments ("ACTION PATTERN": allow, deny, drop or an output number),
    /// or, with <paramref name="classifier"/>, IPClassifier arguments (pattern i goes to output i).
    /// Reports problems to <paramref name="errh"/> and returns null if there were errors.
    /// </summary>
    public static DecisionTree? Compile(IReadOnlyList<string> conf, int noutputs, bool classifier, Element? context, ErrorHandler errh)
    {
        var rules = Parse(conf, noutputs, classifier, context, errh, out int errors);
        if (errors > 0) return null;
        var g = new DecisionTree.Graph();
        int next = DecisionTree.Drop;
        for (int i = rules.Count - 1; i >= 0; i--)
            next = Emit(g, rules[i].Pattern, DecisionTree.OutputTarget(rules[i].Output), next);
        return g.Build(next);
    }

    /// <summary>A parsed pattern: the output (-1: drop) and its formula.</summary>
    internal sealed record ParsedRule(int Output, Formula Pattern);

    internal static List<ParsedRule> Parse(IReadOnlyList<string> conf, int noutputs, bool classifier, Element? context, ErrorHandler errh, out int errors)
    {
        var rules = new List<ParsedRule>();
        int before = errh.ErrorCount;
        for (int argno = 0; argno < conf.Count; argno++)
        {
            var words = Tokenize(ConfigText.Unquote(conf[argno]));
            if (classifier) words.Insert(0, argno.ToString(CultureInfo.InvariantCulture));
            if (words.Count == 0)
            {
                errh.Error($"empty pattern {argno}");
                continue;
            }
            var perr = new Reporter(errh, $"pattern {argno}: ");
            int slot = -1;
            string slotWord = words[0];
            if (slotWord == "allow")
            {
                slot = 0;
                if (noutputs == 0) perr.Error("'allow' is meaningless, element has zero outputs");
            }
            else if (slotWord == "deny")
            {
                if (noutputs > 1) perr.Warning("meaning of 'deny' has changed (now it means 'drop')");
            }
            else if (slotWord == "drop") { }
            else if (ParseInt(slotWord, out int s))
            {
                if (s < 0 || s >= noutputs) perr.Error($"slot '{s}' out of range");
                else slot = s;
            }
            else
                perr.Error($"unknown slot ID '{slotWord}'");

            Formula f;
            if (words.Count == 1 || (words.Count == 2 && words[1] is "-" or "any" or "all"))
                f = Formula.True;
            else
            {
                var parser = new PatternParser(words, perr);
                f = parser.ParseExpr();
                if (parser.Pos < words.Count)
                    perr.Error($"garbage after expression at '{words[parser.Pos]}'");
            }
            rules.Add(new ParsedRule(slot, f));
        }
        errors = errh.ErrorCount - before;
        return rules;
    }

    /// <summary>Prefixes messages with "pattern N: " (Click's PrefixErrorHandler).</summary>
    private sealed class Reporter(ErrorHandler errh, string prefix)
    {
        public bool Error(string msg) => errh.Error(prefix + msg);
        public void Warning(string msg) => errh.Warning(prefix + "warning: " + msg);
    }

    // ---------------------------------------------------------------------------------------
    // Tokens: words of letters, digits and "-./@_:", the operators && || <= >= != == and single
    // punctuation characters.

    internal static List<string> Tokenize(string text)
    {
        var words = new List<string>();
        int i = 0, n = text.Length;
        while (i < n)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            if ((c == '&' || c == '|') && i + 1 < n && text[i + 1] == c)
            {
                words.Add(text.Substring(i, 2));
                i += 2;
            }
            else if ((c == '<' || c == '>' || c == '!' || c == '=') && i + 1 < n && text[i + 1] == '=')
            {
                words.Add(text.Substring(i, 2));
                i += 2;
            }
            else if (IsWordChar(c))
            {
                int start = i;
                while (i < n && IsWordChar(text[i])) i++;
                words.Add(text[start..i]);
            }
            else
            {
                words.Add(text.Substring(i, 1));
                i++;
            }
        }
        return words;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '/' or '@' or '_' or ':';

    // ---------------------------------------------------------------------------------------
    // Names.

    internal enum PKind { None, Host, Net, Proto, IPFrag, IPUnfrag, Port, TcpOpt, Ether, IPEct, IPCe, Field, Error }

    /// <summary>A header field: bits [BitOffset, BitOffset+BitLength) of the IP header, or of the transport header when Proto is set.</summary>
    internal sealed record FieldDef(string Name, int Proto, int BitOffset, int BitLength);

    internal static readonly FieldDef FieldVers = new("ip vers", Unknown, 0, 4);
    internal static readonly FieldDef FieldHL = new("ip hl", Unknown, 4, 4);
    internal static readonly FieldDef FieldTos = new("ip tos", Unknown, 8, 8);
    internal static readonly FieldDef FieldDscp = new("ip dscp", Unknown, 8, 6);
    internal static readonly FieldDef FieldEcn = new("ip ecn", Unknown, 14, 2);
    internal static readonly FieldDef FieldTosEcn = new("ip tos", Unknown, 14, 2);
    internal static readonly FieldDef FieldLen = new("ip len", Unknown, 16, 16);
    internal static readonly FieldDef FieldId = new("ip id", Unknown, 32, 16);
    internal static readonly FieldDef FieldTtl = new("ip ttl", Unknown, 64, 8);
    internal static readonly FieldDef FieldTcpWin = new("tcp win", ProtoTCP, 112, 16);
    internal static readonly FieldDef FieldIcmpType = new("icmp type", ProtoICMP, 0, 8);

    /// <summary>A type word: a directive kind (with its field), or a syntax word (Kind None).</summary>
    private readonly record struct TypeWord(PKind Kind, FieldDef? Field, bool Range = false);

    private static bool TryTypeWord(string w, out TypeWord t)
    {
        t = w switch
        {
            "ce" => new TypeWord(PKind.IPCe, null),
            "dscp" => new TypeWord(PKind.Field, FieldDscp),
            "ecn" => new TypeWord(PKind.Field, FieldEcn),
            "ect" => new TypeWord(PKind.IPEct, null),
            "frag" => new TypeWord(PKind.IPFrag, null),
            "hl" => new TypeWord(PKind.Field, FieldHL),
            "host" => new TypeWord(PKind.Host, null),
            "id" => new TypeWord(PKind.Field, FieldId),
            "len" => new TypeWord(PKind.Field, FieldLen),
            "net" => new TypeWord(PKind.Net, null),
            "opt" => new TypeWord(PKind.TcpOpt, null),
            "port" => new TypeWord(PKind.Port, null),
            "portrange" => new TypeWord(PKind.Port, null, true),
            "proto" => new TypeWord(PKind.Proto, null),
            "tos" => new TypeWord(PKind.Field, FieldTos),
            "ttl" => new TypeWord(PKind.Field, FieldTtl),
            "type" => new TypeWord(PKind.Field, FieldIcmpType),
            "unfrag" => new TypeWord(PKind.IPUnfrag, null),
            "vers" => new TypeWord(PKind.Field, FieldVers),
            "win" => new TypeWord(PKind.Field, FieldTcpWin),
            "dest" or "dst" or "ether" or "ip" or "not" or "src" => new TypeWord(PKind.None, null),
            _ => new TypeWord(PKind.Error, null),
        };
        return t.Kind != PKind.Error;
    }

    private static int ProtoByName(string w) => w switch
    {
        "icmp" => ProtoICMP, "igmp" => ProtoIGMP, "ipip" => ProtoIPIP, "tcp" => ProtoTCP, "udp" => ProtoUDP,
        "tcpudp" => ProtoTcpOrUdp, "transp" => ProtoTransp, _ => -1,
    };

    private static int KnownPort(string w) => w switch
    {
        "auth" => 113, "bootpc" => 68, "bootps" => 67, "chargen" => 19, "daytime" => 13, "discard" => 9,
        "dns" => 53, "domain" => 53, "echo" => 7, "finger" => 79, "ftp" => 21, "ftp-data" => 20,
        "https" => 443, "imap3" => 220, "imaps" => 993, "irc" => 194, "netbios-dgm" => 138,
        "netbios-ns" => 137, "netbios-ssn" => 139, "nntp" => 119, "ntp" => 123, "pop3" => 110,
        "pop3s" => 995, "rip" => 520, "route" => 520, "smtp" => 25, "snmp" => 161, "snmp-trap" => 162,
        "ssh" => 22, "sunrpc" => 111, "telnet" => 23, "tftp" => 69, "www" => 80, _ => -1,
    };

    private static int TcpOptByName(string w) => w switch
    {
        "fin" => 0x01, "syn" => 0x02, "rst" => 0x04, "psh" => 0x08, "ack" => 0x10, "urg" => 0x20, _ => -1,
    };

    private static int IcmpTypeByName(string w) => ICMPNames.TypeByName(w);

    // Click's userlevel driver also looks port names up in the system's services database.
    private static readonly Lazy<(Dictionary<string, int> Tcp, Dictionary<string, int> Udp)> Services = new(LoadServices);

    private static (Dictionary<string, int>, Dictionary<string, int>) LoadServices()
    {
        var tcp = new Dictionary<string, int>(StringComparer.Ordinal);
        var udp = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            if (File.Exists("/etc/services"))
                foreach (var raw in File.ReadLines("/etc/services"))
                {
                    int hash = raw.IndexOf('#');
                    var parts = (hash >= 0 ? raw[..hash] : raw).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length < 2) continue;
                    int slash = parts[1].IndexOf('/');
                    if (slash <= 0 || !int.TryParse(parts[1][..slash], NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535) continue;
                    var dict = parts[1][(slash + 1)..] switch { "tcp" => tcp, "udp" => udp, _ => null };
                    if (dict == null) continue;
                    for (int i = 0; i < parts.Length; i++)
                        if (i != 1) dict.TryAdd(parts[i], port);
                }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return (tcp, udp);
    }

    private static int PortByName(string w, bool tcp)
    {
        int p = KnownPort(w);
        if (p >= 0) return p;
        var db = tcp ? Services.Value.Tcp : Services.Value.Udp;
        return db.TryGetValue(w, out p) ? p : -1;
    }

    internal static string ProtoName(int p) => p switch
    {
        Unknown => "", ProtoICMP => "icmp", ProtoIGMP => "igmp", ProtoIPIP => "ipip", ProtoTCP => "tcp", ProtoUDP => "udp",
        ProtoTcpOrUdp => "tcpudp", ProtoTransp => "transp", _ => "ip proto " + p.ToString(CultureInfo.InvariantCulture),
    };

    // ---------------------------------------------------------------------------------------
    // Primitives.

    internal enum SD { None, Src, Dst, And, Or }
    internal enum Op { Eq, Gt, Lt }
    /// <summary>What a data word turned out to be.</summary>
    internal enum DKind { None, Int, Host, Net, Ether, Proto, Port, TcpOpt, Field }

    internal sealed class Prim
    {
        public PKind Type;
        public FieldDef? Field;
        public DKind Data;
        public FieldDef? DataField;
        public Op Op;
        public bool OpNeg;
        public SD SrcDst;
        public int Transp = Unknown;
        public uint U, Mask, U2;
        public bool Range;
        public byte[] Eth = new byte[6];
        public byte[] EthMask = new byte[6];

        public Prim Clone()
        {
            var p = (Prim)MemberwiseClone();
            p.Eth = (byte[])Eth.Clone();
            p.EthMask = (byte[])EthMask.Clone();
            return p;
        }

        public string Describe() => SDName(SrcDst) + TypeName(Type, Field);

        public string OpName() => Op switch
        {
            Op.Gt => OpNeg ? "<=" : ">",
            Op.Lt => OpNeg ? ">=" : "<",
            _ => OpNeg ? "!=" : "=",
        };
    }

    private static string SDName(SD sd) => sd switch
    {
        SD.Src => "src ", SD.Dst => "dst ", SD.Or => "src or dst ", SD.And => "src and dst ", _ => "",
    };

    private static string TypeName(PKind t, FieldDef? f) => t switch
    {
        PKind.None => "<none>",
        PKind.Host => "ip host",
        PKind.Proto => "proto",
        PKind.Ether => "ether host",
        PKind.IPFrag => "ip frag",
        PKind.Port => "port",
        PKind.TcpOpt => "tcp opt",
        PKind.Net => "ip net",
        PKind.IPUnfrag => "ip unfrag",
        PKind.IPEct => "ip ect",
        PKind.IPCe => "ip ce",
        PKind.Field => f?.Name ?? "ip[...]",
        _ => "<unknown type>",
    };

    // ---------------------------------------------------------------------------------------
    // Formulas: and/or/not/?: over word-test literals. A literal is false when the packet is too
    // short for its test; 'not' turns that into true (Click's negate_subtree), while the
    // negations inside a directive ("!=", "ip frag", "<=") keep it false (flip_short).

    internal abstract record Formula
    {
        public static readonly Formula True = new Const(true);
        public static readonly Formula False = new Const(false);
    }

    internal sealed record Const(bool Value) : Formula;
    internal sealed record Lit(WordTest Test, bool Positive) : Formula;
    internal sealed record And(IReadOnlyList<Formula> Items) : Formula;
    internal sealed record Or(IReadOnlyList<Formula> Items) : Formula;
    internal sealed record Not(Formula Item) : Formula;
    internal sealed record Ternary(Formula Cond, Formula Then, Formula Else) : Formula;

    /// <summary>The negation of a directive-internal formula; short packets still make it false.</summary>
    private static Formula NegateKeepShort(Formula f) => f switch
    {
        Const c => c.Value ? Formula.False : Formula.True,
        Lit l => l with { Positive = !l.Positive },
        And a => new Or([.. a.Items.Select(NegateKeepShort)]),
        Or o => new And([.. o.Items.Select(NegateKeepShort)]),
        Ternary t => new Ternary(t.Cond, NegateKeepShort(t.Then), NegateKeepShort(t.Else)),
        _ => throw new InvalidOperationException("unexpected negation"),
    };

    private static int Emit(DecisionTree.Graph g, Formula f, int t, int fl)
    {
        switch (f)
        {
            case Const c:
                return c.Value ? t : fl;
            case Lit l:
            {
                int yes = l.Positive ? t : fl, no = l.Positive ? fl : t;
                // a short packet makes the literal false
                return g.Test(l.Test, yes, no, shortYes: fl == yes);
            }
            case Not n:
                return Emit(g, n.Item, fl, t);
            case And a:
            {
                int cur = t;
                for (int i = a.Items.Count - 1; i >= 0; i--) cur = Emit(g, a.Items[i], cur, fl);
                return cur;
            }
            case Or o:
            {
                int cur = fl;
                for (int i = o.Items.Count - 1; i >= 0; i--) cur = Emit(g, o.Items[i], t, cur);
                return cur;
            }
            case Ternary te:
                return Emit(g, te.Cond, Emit(g, te.Then, t, fl), Emit(g, te.Else, t, fl));
            default:
                throw new InvalidOperationException("unknown formula");
        }
    }

    private static Formula AndOf(List<Formula> items) => items.Count == 0 ? Formula.True : items.Count == 1 ? items[0] : new And(items);

    private static WordTest Test(HeaderBase b, int offset, uint mask, uint value) => new(offset, mask, value & mask) { Base = b };

    private static Lit ProtoIs(int proto) => new(Test(HeaderBase.Network, 8, 0x00FF0000, (uint)proto << 16), true);

    private static Formula ProtoSet(int proto) => proto switch
    {
        ProtoTcpOrUdp => new Or([ProtoIs(ProtoTCP), ProtoIs(ProtoUDP)]),
        >= 256 => Formula.True,
        _ => ProtoIs(proto),
    };

    /// <summary>(field &amp; mask) OP value, for a field of <paramref name="mask"/>'s width at <paramref name="shift"/> in a word.</summary>
    private static Formula Compare(HeaderBase b, int offset, int shift, uint mask, uint value, Op op, bool negate)
    {
        Formula f;
        if (op == Op.Eq)
            f = mask == 0 ? Formula.True : new Lit(Test(b, offset, mask << shift, (value & mask) << shift), true);
        else
            f = GreaterThan(b, offset, shift, mask, value);
        return negate ? NegateKeepShort(f) : f;
    }

    /// <summary>(field &amp; mask) &gt; value as a disjunction of masked equalities.</summary>
    private static Formula GreaterThan(HeaderBase b, int offset, int shift, uint mask, uint value)
    {
        // The largest v with v &amp; ~mask == 0 and v &lt;= value: the masked field exceeds value iff it exceeds v.
        uint v = value;
        uint outside = v & ~mask;
        if (outside != 0)
        {
            int h = 31 - BitOperations.LeadingZeroCount(outside);
            uint below = h == 0 ? 0 : (1u << h) - 1;
            uint above = h == 31 ? 0 : ~((2u << h) - 1);
            v = (v & above) | (mask & below);
        }
        // x > v iff for some bit k of the mask where v has 0, x has 1 there and agrees with v above it.
        var terms = new List<Formula>();
        for (int k = 31; k >= 0; k--)
        {
            uint bit = 1u << k;
            if ((mask & bit) == 0 || (v & bit) != 0) continue;
            uint higher = mask & (k == 31 ? 0 : ~((bit << 1) - 1));
            terms.Add(new Lit(Test(b, offset, (higher | bit) << shift, ((v & higher) | bit) << shift), true));
        }
        return terms.Count == 0 ? Formula.False : terms.Count == 1 ? terms[0] : new Or(terms);
    }

    private static Formula SrcDst(SD sd, Func<bool, Formula> side)
    {
        var items = new List<Formula>();
        if (sd is SD.Src or SD.And or SD.Or) items.Add(side(true));
        if (sd is SD.Dst or SD.And or SD.Or) items.Add(side(false));
        return sd == SD.Or ? new Or(items) : AndOf(items);
    }

    /// <summary>The formula for a checked primitive.</summary>
    internal static Formula CompilePrim(Prim p)
    {
        var parts = new List<Formula>();
        if (p.Transp != Unknown) parts.Add(ProtoSet(p.Transp));
        if (p.Type is PKind.Port or PKind.TcpOpt || (p.Type == PKind.Field && p.Field!.Proto != Unknown))
            parts.Add(new Lit(Test(HeaderBase.Network, 4, 0x1FFF, 0), true)); // first fragment
        switch (p.Type)
        {
            case PKind.Host:
            {
                var f = SrcDst(p.SrcDst, src => new Lit(Test(HeaderBase.Network, src ? 12 : 16, p.Mask, p.U), true));
                parts.Add(p.OpNeg ? NegateKeepShort(f) : f);
                break;
            }
            case PKind.Ether:
            {
                var f = SrcDst(p.SrcDst, src => AndOf(EtherWords(src ? 6 : 0, p.Eth, p.EthMask)));
                parts.Add(p.OpNeg ? NegateKeepShort(f) : f);
                break;
            }
            case PKind.Proto:
                if (p.U >= 256)
                {
                    if (p.OpNeg) parts.Add(NegateKeepShort(ProtoSet((int)p.U)));
                    else if (p.Transp == Unknown) parts.Add(ProtoSet((int)p.U));
                }
                else
                    parts.Add(Compare(HeaderBase.Network, 8, 16, p.Mask, p.U, p.Op, p.OpNeg));
                break;
            case PKind.IPFrag:
            {
                Formula unfrag = new Lit(Test(HeaderBase.Network, 4, 0x3FFF, 0), true);
                parts.Add(p.OpNeg ? unfrag : NegateKeepShort(unfrag));
                break;
            }
            case PKind.Port:
            {
                Formula f;
                if (p.Range)
                    f = SrcDst(p.SrcDst, src =>
                    {
                        int shift = src ? 16 : 0;
                        var lo = p.U == 0 ? Formula.True : GreaterThan(HeaderBase.Transport, 0, shift, 0xFFFF, p.U - 1);
                        var hi = NegateKeepShort(GreaterThan(HeaderBase.Transport, 0, shift, 0xFFFF, p.U2));
                        return AndOf([lo, hi]);
                    });
                else
                    f = SrcDst(p.SrcDst, src => Compare(HeaderBase.Transport, 0, src ? 16 : 0, p.Mask, p.U, p.Op, false));
                parts.Add(p.OpNeg ? NegateKeepShort(f) : f);
                break;
            }
            case PKind.TcpOpt:
                parts.Add(new Lit(Test(HeaderBase.Transport, 12, p.Mask << 16, p.U << 16), true));
                break;
            case PKind.Field:
            {
                var fd = p.Field!;
                var b = fd.Proto != Unknown ? HeaderBase.Transport : HeaderBase.Network;
                int wordOffset = (fd.BitOffset >> 3) & ~3;
                int shift = 32 - ((fd.BitOffset & 31) + fd.BitLength);
                parts.Add(Compare(b, wordOffset, shift, p.Mask, p.U, p.Op, p.OpNeg));
                break;
            }
        }
        return AndOf(parts);
    }

    private static List<Formula> EtherWords(int offset, byte[] value, byte[] mask)
    {
        var r = new List<Formula>();
        foreach (var t in Classifier.ToWords(offset, value, mask))
            r.Add(new Lit(t with { Base = HeaderBase.Mac }, true));
        return r;
    }

    // ---------------------------------------------------------------------------------------
    // Values.

    internal static bool ParseInt(string s, out int v)
    {
        v = 0;
        if (!Values.ParseInt64(s, out long l) || l < int.MinValue || l > uint.MaxValue) return false;
        v = unchecked((int)l);
        return l <= int.MaxValue || s.StartsWith("0x", StringComparison.OrdinalIgnoreCase);
    }

    private static bool ParseIPv4Partial(string s, out uint addr)
    {
        addr = 0;
        var parts = s.Split('.');
        if (parts.Length is < 1 or > 4) return false;
        for (int i = 0; i < 4; i++)
        {
            uint b = 0;
            if (i < parts.Length)
            {
                var p = parts[i];
                if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)) return false;
                b = uint.Parse(p, CultureInfo.InvariantCulture);
                if (b > 255) return false;
            }
            addr = (addr << 8) | b;
        }
        return true;
    }

    // ---------------------------------------------------------------------------------------
    // The parser.

    private sealed class PatternParser(List<string> words, Reporter errh)
    {
        public int Pos = 1;
        private Prim _prev = new();

        private bool At(string w) => Pos < words.Count && words[Pos] == w;
        private bool AtAny(string a, string b) => Pos < words.Count && (words[Pos] == a || words[Pos] == b);

        // expr ::= orexpr | orexpr ? expr : expr
        public Formula ParseExpr()
        {
            var c = ParseOr();
            if (!At("?")) return c;
            Pos++;
            int before = Pos;
            var a = ParseExpr();
            if (Pos == before || !At(":"))
            {
                errh.Error("missing ':' in ternary expression");
                return new And([c, a]);
            }
            Pos++;
            var b = ParseExpr();
            return new Ternary(c, a, b);
        }

        // orexpr ::= term (or term)*
        private Formula ParseOr()
        {
            var items = new List<Formula> { ParseTerm() };
            while (AtAny("or", "||"))
            {
                Pos++;
                items.Add(ParseTerm());
            }
            return items.Count == 1 ? items[0] : new Or(items);
        }

        // term ::= factor ([and] factor)*
        private Formula ParseTerm()
        {
            var items = new List<Formula>();
            bool explicitAnd = true;
            while (true)
            {
                int before = Pos;
                var f = ParseFactor(false);
                if (Pos == before)
                {
                    if (explicitAnd) errh.Error("missing expression");
                    break;
                }
                items.Add(f);
                if (AtAny("and", "&&"))
                {
                    Pos++;
                    explicitAnd = true;
                }
                else
                    explicitAnd = false;
            }
            return AndOf(items);
        }

        // factor ::= ! factor | ( expr ) | test
        private Formula ParseFactor(bool negated)
        {
            if (AtAny("not", "!"))
            {
                Pos++;
                int before = Pos;
                var f = ParseFactor(!negated);
                if (Pos == before) errh.Error($"missing expression after '{words[Pos - 1]}'");
                return f;
            }
            if (At("("))
            {
                Pos++;
                int before = Pos;
                var e = ParseExpr();
                if (Pos == before) errh.Error("missing expression after '('");
                if (At(")")) Pos++;
                else if (Pos != before) errh.Error("missing ')'");
                return negated ? new Not(e) : e;
            }
            return ParseTest(negated);
        }

        private string WordBeforeLast() => Pos >= words.Count - 1 ? "" : words[Pos];

        // test ::= true | false | quals [[ ]] [& mask] [relop] data
        private Formula ParseTest(bool negated)
        {
            if (Pos >= words.Count) return Formula.True;
            string first = words[Pos];
            if (first is ")" or "||" or "or" or "?" or ":") return Formula.True;
            if (first == "true") { Pos++; return negated ? Formula.False : Formula.True; }
            if (first == "false") { Pos++; return negated ? Formula.True : Formula.False; }

            int firstPos = Pos;
            var prim = new Prim();
            char header = '\0';
            for (; Pos < words.Count; Pos++)
            {
                string wd = words[Pos];
                var kind = Lookup(wd, PKind.None, null, Unknown, null, out var tw, out uint value, out _);
                if (kind == LookupKind.Type)
                {
                    if (prim.Type != PKind.None) errh.Error("type specified twice");
                    prim.Type = tw.Kind;
                    prim.Field = tw.Field;
                    prim.Range |= tw.Range;
                    if (tw.Field is { Proto: not Unknown } fd) SetTransp(prim, fd.Proto);
                }
                else if (kind == LookupKind.Value && tw.Kind == PKind.Proto)
                    SetTransp(prim, (int)value);
                else if (kind != LookupKind.NotFound)
                    break;
                else if (wd == "src")
                {
                    if (Pos < words.Count - 2 && words[Pos + 2] is "dst" or "dest" && words[Pos + 1] is "and" or "&&")
                    {
                        SetSD(prim, SD.And);
                        Pos += 2;
                    }
                    else if (Pos < words.Count - 2 && words[Pos + 2] is "dst" or "dest" && words[Pos + 1] is "or" or "||")
                    {
                        SetSD(prim, SD.Or);
                        Pos += 2;
                    }
                    else
                        SetSD(prim, SD.Src);
                }
                else if (wd is "dst" or "dest")
                    SetSD(prim, SD.Dst);
                else if (wd is "ip" or "ether")
                {
                    if (header != '\0') break;
                    header = wd[0] == 'i' ? 'i' : 'e';
                }
                else if (wd is "not" or "!")
                    negated = !negated;
                else
                    break;
            }

            if (Pos != firstPos) _prev = new Prim();
            if (_prev.Data == DKind.Ether) header = 'e';

            string w = WordBeforeLast();
            if (w == "[" && Pos > firstPos && prim.Type == PKind.None)
            {
                Pos = ParseBrackets(prim, Pos);
                w = WordBeforeLast();
            }

            // optional bitmask
            char maskKind = '\0';
            uint maskU = 0;
            byte[] maskE = [];
            if (w == "&" && Pos < words.Count - 1)
            {
                string mw = words[Pos + 1];
                if (ParseInt(mw, out int mi)) { maskKind = 'i'; maskU = (uint)mi; Pos += 2; }
                else if (header != 'e' && ParseIPAddress(mw, out uint ma)) { maskKind = 'h'; maskU = ma; Pos += 2; }
                else if (header != 'i' && ParseEtherAddress(mw, out var me)) { maskKind = 'e'; maskE = me; Pos += 2; }
                if (maskKind != '\0' && maskKind != 'e' && maskU == 0)
                {
                    errh.Error("zero mask ignored");
                    maskKind = '\0';
                }
                w = WordBeforeLast();
            }

            // optional relational operator
            Pos++;
            switch (w)
            {
                case "=": case "==": break;
                case "!=": prim.OpNeg = true; break;
                case ">": prim.Op = Op.Gt; break;
                case "<": prim.Op = Op.Lt; break;
                case ">=": prim.Op = Op.Lt; prim.OpNeg = true; break;
                case "<=": prim.Op = Op.Gt; prim.OpNeg = true; break;
                default: Pos--; break;
            }

            // the data
            if (Pos < words.Count)
            {
                w = words[Pos];
                var kind = Lookup(w, prim.Type, prim.Field, prim.Transp, errh, out var tw, out uint value, out var dataField);
                Pos++;
                if (kind == LookupKind.Ambiguous)
                    prim.Type = PKind.Error;
                else if (kind == LookupKind.Value)
                {
                    prim.Data = tw.Kind switch
                    {
                        PKind.Proto => DKind.Proto,
                        PKind.Port => DKind.Port,
                        PKind.TcpOpt => DKind.TcpOpt,
                        _ => DKind.Field,
                    };
                    prim.DataField = dataField;
                    prim.U = value;
                }
                else if (ParseInt(w, out int iv))
                {
                    prim.Data = DKind.Int;
                    prim.U = (uint)iv;
                }
                else if (header != 'e' && ParseIPAddress(w, out uint addr))
                {
                    if (Pos < words.Count - 1 && words[Pos] == "mask" && ParseIPAddress(words[Pos + 1], out uint m))
                    {
                        Pos += 2;
                        prim.Data = DKind.Net;
                        prim.U = addr;
                        prim.Mask = m;
                    }
                    else if (prim.Type == PKind.Net && ParseIPPrefix(w, out uint pa, out uint pm))
                    {
                        prim.Data = DKind.Net;
                        prim.U = pa;
                        prim.Mask = pm;
                    }
                    else
                    {
                        prim.Data = DKind.Host;
                        prim.U = addr;
                    }
                }
                else if (header != 'e' && ParseIPPrefix(w, out uint pa2, out uint pm2))
                {
                    prim.Data = DKind.Net;
                    prim.U = pa2;
                    prim.Mask = pm2;
                }
                else if (header != 'i' && ParseEtherAddress(w, out var eth))
                {
                    prim.Data = DKind.Ether;
                    prim.Eth = eth;
                }
                else if (TryRange(w, out uint lo, out uint hi))
                {
                    prim.Data = DKind.Int;
                    prim.Range = true;
                    prim.U = lo;
                    prim.U2 = hi;
                }
                else
                {
                    if (prim.Op != Op.Eq || prim.OpNeg) errh.Error($"dangling operator near '{w}'");
                    Pos--;
                }
            }

            if (Pos == firstPos)
            {
                errh.Error($"empty term near '{w}'");
                return Formula.True;
            }

            if (!Check(prim, header, maskKind, maskU, maskE)) return Formula.True;
            var f = CompilePrim(prim);
            _prev = prim;
            return negated ? new Not(f) : f;
        }

        private void SetTransp(Prim p, int proto)
        {
            if (p.Transp != Unknown && p.Transp != proto) errh.Error("transport protocol specified twice");
            p.Transp = proto;
        }

        private void SetSD(Prim p, SD sd)
        {
            if (p.SrcDst != SD.None) errh.Error("'src' or 'dst' specified twice");
            p.SrcDst = sd;
        }

        private static bool TryRange(string w, out uint lo, out uint hi)
        {
            lo = hi = 0;
            int dash = w.IndexOf('-');
            if (dash <= 0 || dash == w.Length - 1) return false;
            string a = w[..dash], b = w[(dash + 1)..];
            if (!a.All(char.IsAsciiDigit) || !b.All(char.IsAsciiDigit) || a.Length > 10 || b.Length > 10) return false;
            if (!uint.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out lo) || !uint.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out hi)) return false;
            return true;
        }

        private int ParseBrackets(Prim p, int pos)
        {
            int firstPos = pos + 1;
            var combo = new System.Text.StringBuilder();
            for (pos++; pos < words.Count && words[pos] != "]"; pos++) combo.Append(words[pos]);
            if (pos >= words.Count)
            {
                errh.Error("missing ']'");
                return firstPos;
            }
            pos++;
            string s = combo.ToString();
            int fieldPos, len = 1;
            int colon = s.IndexOf(':'), comma = s.IndexOf(',');
            bool ok;
            if (colon >= 0 && colon < s.Length - 1)
                ok = ParseInt(s[..colon], out fieldPos) && ParseInt(s[(colon + 1)..], out len);
            else if (colon < 0 && comma >= 0 && comma < s.Length - 1)
            {
                int pos2 = 0;
                ok = ParseInt(s[..comma], out fieldPos) && ParseInt(s[(comma + 1)..], out pos2);
                len = ok ? pos2 - fieldPos + 1 : 1;
            }
            else
                ok = ParseInt(s, out fieldPos);
            if (!ok)
            {
                errh.Error("syntax error after '[', expected '[POS]' or '[POS:LEN]'");
                return pos;
            }
            long bitPos = (long)fieldPos * 8, bitLen = (long)len * 8;
            if (bitLen < 1 || bitLen > 32)
                errh.Error("LEN in '[POS:LEN]' out of range, should be between 1 and 4");
            else if (bitPos < 0 || bitPos > 0xFFFF || (bitPos & ~31L) != ((bitPos + bitLen - 1) & ~31L))
                errh.Error($"field [{fieldPos}:{len}] does not fit in a single word");
            else
            {
                int proto = p.Transp == Unknown ? Unknown : p.Transp;
                string name = (proto == Unknown ? "ip" : ProtoName(proto)) + "[...]";
                p.Type = PKind.Field;
                p.Field = new FieldDef(name, proto, (int)bitPos, (int)bitLen);
            }
            return pos;
        }

        // ---- name lookup (Click's IPFilter::lookup) ----

        private enum LookupKind { NotFound, Ambiguous, Type, Value }

        /// <summary>
        /// Looks a word up: as a type word (only when <paramref name="type"/> is None), then in the
        /// protocol, TCP/UDP port, TCP option and ICMP type name tables, keeping the meanings that fit
        /// the directive type and transport protocol. Ambiguous or meaningless words are reported when
        /// <paramref name="report"/> is given.
        /// </summary>
        private LookupKind Lookup(string word, PKind type, FieldDef? field, int proto, Reporter? report, out TypeWord tw, out uint value, out FieldDef? dataField)
        {
            tw = default;
            value = 0;
            dataField = null;
            if (type == PKind.None && TryTypeWord(word, out tw))
                return tw.Kind == PKind.None ? LookupKind.NotFound : LookupKind.Type;

            bool typeIsIcmpType = type == PKind.Field && field == FieldIcmpType;
            int[] got = [ProtoByName(word), PortByName(word, true), PortByName(word, false), TcpOptByName(word), IcmpTypeByName(word)];
            if (got.All(g => g < 0)) return LookupKind.NotFound;
            bool[] fit =
            [
                got[0] >= 0 && type is PKind.None or PKind.Proto,
                got[1] >= 0 && type is PKind.None or PKind.Port && proto is Unknown or ProtoTCP or ProtoTcpOrUdp,
                got[2] >= 0 && type is PKind.None or PKind.Port && proto is Unknown or ProtoUDP or ProtoTcpOrUdp,
                got[3] >= 0 && type is PKind.None or PKind.TcpOpt && proto is Unknown or ProtoTCP or ProtoTcpOrUdp,
                got[4] >= 0 && (type == PKind.None || typeIsIcmpType) && proto is Unknown or ProtoICMP,
            ];
            if (fit[1] && fit[2] && got[1] == got[2]) fit[2] = false;
            int nfit = fit.Count(x => x);
            if (nfit == 1)
            {
                int i = Array.IndexOf(fit, true);
                value = (uint)got[i];
                switch (i)
                {
                    case 0: tw = new TypeWord(PKind.Proto, null); break;
                    case 1: case 2: tw = new TypeWord(PKind.Port, null); break;
                    case 3: tw = new TypeWord(PKind.TcpOpt, null); break;
                    default: tw = new TypeWord(PKind.Field, FieldIcmpType); dataField = FieldIcmpType; break;
                }
                return LookupKind.Value;
            }
            if (report != null)
            {
                string[] dbTypes = ["proto", "port", "port", "tcp opt", "icmp type"];
                var tries = new List<string>();
                for (int i = 0; i < 5; i++)
                    if (got[i] >= 0) tries.Add("'" + UnparseWord(dbTypes[i], proto, word) + "'");
                string self = UnparseWord(type == PKind.None ? "<none>" : TypeName(type, field), proto, word);
                report.Error($"'{self}' is {(nfit > 1 ? "ambiguous" : "meaningless")}; try {string.Join(", ", tries)}");
            }
            return LookupKind.Ambiguous;
        }

        private static string UnparseWord(string typeName, int proto, string word)
        {
            string tn = typeName, tr = ProtoName(proto);
            if (tn.Length > 0) tn += " ";
            if (tr.Length > 0 || (word.Length > 0 && tn.Length > 0)) tr += " ";
            return tn + tr + word;
        }

        // ---- addresses (literal, or AddressInfo names through ClickOS.Language.NameDatabase) ----

        private static bool ParseIPAddress(string w, out uint addr) => Values.ParseIPv4(w, out addr);

        private static bool ParseIPPrefix(string w, out uint addr, out uint mask)
        {
            addr = mask = 0;
            int slash = w.IndexOf('/');
            // Like Click's IPPrefixArg, a bare address is not a prefix.
            if (slash > 0 && ParseIPv4Partial(w[..slash], out addr))
            {
                string m = w[(slash + 1)..];
                if (m.Length is > 0 and <= 2 && m.All(char.IsAsciiDigit))
                {
                    int len = int.Parse(m, CultureInfo.InvariantCulture);
                    if (len <= 32)
                    {
                        mask = len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);
                        return true;
                    }
                }
                else if (Values.ParseIPv4(m, out mask))
                    return true;
            }
            // AddressInfo names ("net lan").
            return !w.Contains('/') && NameDatabase.TryPrefix(w, out addr, out mask);
        }

        private static bool ParseEtherAddress(string w, out byte[] eth)
        {
            if (Values.ParseEther(w, out eth) && eth.Length == 6) return true;
            eth = [];
            return false;
        }

        // ---- checking a primitive (Click's Primitive::check) ----

        private bool TypeError(Prim p, string msg) => errh.Error($"'{p.Describe()}': {msg}");

        private bool Check(Prim p, char header, char maskKind, uint maskU, byte[] maskE)
        {
            SD oldSD = p.SrcDst;
            if (p.Type == PKind.Error) return false;
            var prev = _prev;

            if (p.Type == PKind.None)
            {
                bool retried = false;
            retry:
                switch (p.Data)
                {
                    case DKind.Host: case DKind.Net: case DKind.TcpOpt: case DKind.Ether:
                        p.Type = p.Data switch { DKind.Host => PKind.Host, DKind.Net => PKind.Net, DKind.TcpOpt => PKind.TcpOpt, _ => PKind.Ether };
                        if (p.SrcDst == SD.None) p.SrcDst = prev.SrcDst;
                        break;
                    case DKind.Proto:
                        p.Type = PKind.Proto;
                        break;
                    case DKind.Port:
                        p.Type = PKind.Port;
                        if (p.SrcDst == SD.None) p.SrcDst = prev.SrcDst;
                        if (p.Transp == Unknown) p.Transp = prev.Transp;
                        break;
                    case DKind.Int:
                        if (retried || (prev.Type != PKind.Field && prev.Type != PKind.Proto && prev.Type != PKind.Port))
                            return errh.Error("specify header field or 'port'");
                        retried = true;
                        if (prev.Type == PKind.Field) { p.Data = DKind.Field; p.DataField = prev.Field; }
                        else if (prev.Type == PKind.Proto) p.Data = DKind.Proto;
                        else p.Data = DKind.Port;
                        if (p.Range && p.Data != DKind.Port) return errh.Error("specify 'port' for a port range");
                        goto retry;
                    case DKind.None:
                        if (p.Transp != Unknown) p.Type = PKind.Proto;
                        else return errh.Error("partial directive");
                        break;
                    case DKind.Field:
                        p.Type = PKind.Field;
                        p.Field = p.DataField;
                        if (p.Field!.Proto != Unknown && p.Transp == Unknown) p.Transp = p.Field.Proto;
                        break;
                }
            }

            if (header == '\0') header = p.Data == DKind.Ether ? 'e' : 'i';
            if (header == 'e' && p.Type == PKind.Host) p.Type = PKind.Ether;
            if (p.Range && p.Type != PKind.Port) return TypeError(p, "range not supported");

            switch (p.Type)
            {
                case PKind.Host:
                    if (header != 'i' || p.Data != DKind.Host) return TypeError(p, "address missing");
                    if (p.Op != Op.Eq) return TypeError(p, "operator not supported");
                    p.Mask = 0xFFFFFFFF;
                    if (maskKind != '\0' && maskKind != 'i' && maskKind != 'h') return TypeError(p, "bad mask");
                    if (maskKind != '\0') p.Mask = maskU;
                    break;

                case PKind.Net:
                    if (header != 'i' || p.Data != DKind.Net) return TypeError(p, "address missing");
                    if (p.Op != Op.Eq) return TypeError(p, "operator not supported");
                    p.Type = PKind.Host;
                    if (maskKind != '\0' && maskKind != 'i' && maskKind != 'h') return TypeError(p, "bad mask");
                    if (maskKind != '\0') p.Mask = maskU;
                    break;

                case PKind.Ether:
                    if (header != 'e' || p.Data != DKind.Ether) return TypeError(p, "address missing");
                    if (p.Op != Op.Eq) return TypeError(p, "operator not supported");
                    p.EthMask = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
                    if (maskKind != '\0' && maskKind != 'e') return TypeError(p, "bad mask");
                    if (maskKind == 'e') p.EthMask = maskE;
                    break;

                case PKind.Proto:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data is DKind.Int or DKind.Proto)
                    {
                        if (p.Transp != Unknown && p.Transp != (int)p.U) return TypeError(p, "specified twice");
                        p.Data = DKind.None;
                    }
                    else if (p.Transp != Unknown)
                        p.U = (uint)p.Transp;
                    else
                        return TypeError(p, "value missing");
                    p.Transp = Unknown;
                    if (p.Data != DKind.None) return TypeError(p, "value missing");
                    if (p.U >= 256)
                    {
                        if (p.Op != Op.Eq || maskKind != '\0')
                            return errh.Error($"'{ProtoName((int)p.U)}': operator or mask not supported");
                        p.Mask = 0xFF;
                    }
                    else if (maskKind != '\0' && maskKind != 'i')
                        return TypeError(p, "bad mask");
                    else if (!SetMask(p, 0xFF, maskKind != '\0' ? maskU : 0))
                        return false;
                    if (p.Op == Op.Eq && p.Mask == 0xFF && !p.OpNeg) p.Transp = (int)p.U;
                    break;

                case PKind.Port:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data == DKind.Int) p.Data = DKind.Port;
                    if (p.Data != DKind.Port) return TypeError(p, "value missing");
                    if (p.Transp == Unknown) p.Transp = ProtoTcpOrUdp;
                    else if (p.Transp is not (ProtoTCP or ProtoUDP or ProtoTcpOrUdp or ProtoDCCP))
                        return errh.Error($"'port': bad protocol {p.Transp}");
                    if (maskKind != '\0' && maskKind != 'i') return TypeError(p, "bad mask");
                    if (p.Range)
                    {
                        if (p.Op != Op.Eq || maskKind != '\0') return TypeError(p, "operator or mask not supported");
                        if (p.U > 0xFFFF || p.U2 > 0xFFFF) return TypeError(p, "out of range, bound 65535");
                        if (p.U > p.U2) return TypeError(p, $"empty range {p.U}-{p.U2}");
                        p.Mask = 0xFFFF;
                    }
                    else if (!SetMask(p, 0xFFFF, maskKind != '\0' ? maskU : 0))
                        return false;
                    break;

                case PKind.TcpOpt:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data == DKind.Int) p.Data = DKind.TcpOpt;
                    if (p.Data != DKind.TcpOpt) return TypeError(p, "value missing");
                    if (p.Transp == Unknown) p.Transp = ProtoTCP;
                    else if (p.Transp != ProtoTCP) return errh.Error($"'tcp opt': bad protocol {p.Transp}");
                    if (p.Op != Op.Eq || p.OpNeg || maskKind != '\0') return TypeError(p, "operator or mask not supported");
                    if (p.U > 255) return errh.Error($"'tcp opt': value {(int)p.U} out of range");
                    p.Mask = p.U;
                    break;

                case PKind.IPEct:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data is not (DKind.None or DKind.Int)) return TypeError(p, "value missing");
                    if (p.Data == DKind.None)
                    {
                        p.U = 0;
                        p.OpNeg = true;
                    }
                    else if (maskKind != '\0' && maskKind != 'i')
                        return TypeError(p, "bad mask");
                    if (!SetMask(p, 0x3, maskKind != '\0' ? maskU : 0)) return false;
                    p.Type = PKind.Field;
                    p.Field = FieldTosEcn;
                    break;

                case PKind.IPCe:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data != DKind.None || maskKind != '\0') return TypeError(p, "value not supported");
                    p.Mask = 3;
                    p.U = 3;
                    p.Type = PKind.Field;
                    p.Field = FieldTosEcn;
                    break;

                case PKind.IPFrag:
                case PKind.IPUnfrag:
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data != DKind.None || maskKind != '\0') return TypeError(p, "value not supported");
                    if (p.Type == PKind.IPUnfrag)
                    {
                        p.OpNeg = true;
                        p.Type = PKind.IPFrag;
                    }
                    p.Mask = 1;
                    break;

                case PKind.Field:
                {
                    if (header != 'i') return TypeError(p, "ip only");
                    if (p.Data != DKind.Int && !(p.Data == DKind.Field && p.DataField == p.Field)) return TypeError(p, "value missing");
                    if (maskKind != '\0' && maskKind != 'i') return TypeError(p, "bad mask");
                    int nbits = p.Field!.BitLength;
                    uint full = nbits == 32 ? 0xFFFFFFFF : (1u << nbits) - 1;
                    if (!SetMask(p, full, maskKind != '\0' ? maskU : 0)) return false;
                    break;
                }

                default:
                    return errh.Error($"unknown type '{TypeName(p.Type, p.Field)}'");
            }

            if (p.Type is PKind.Host or PKind.Port or PKind.Ether)
            {
                if (p.SrcDst == SD.None) p.SrcDst = SD.Or;
            }
            else if (oldSD != SD.None)
                errh.Warning($"'{p.Describe()}': 'src' or 'dst' ignored");
            return true;
        }

        /// <summary>Click's Primitive::set_mask: range checks, and always-true/false relations.</summary>
        private bool SetMask(Prim p, uint full, uint provided)
        {
            uint data = p.U;
            uint thisMask = provided != 0 ? provided : full;
            if ((thisMask & full) != thisMask)
                return errh.Error($"'{p.Describe()}': mask out of range, bound 0x{full:X}");
            if (p.Op is Op.Gt or Op.Lt)
            {
                if ((p.Op == Op.Lt && (data == 0 || data > thisMask)) || (p.Op == Op.Gt && data >= thisMask))
                {
                    bool willBe = p.Op == Op.Lt && data > thisMask ? !p.OpNeg : p.OpNeg;
                    errh.Warning($"relation '{p.OpName()} {data}' is always {(willBe ? "true" : "false")} (range 0-{thisMask})");
                    p.U = p.Mask = 0;
                    p.OpNeg = !willBe;
                    p.Op = Op.Eq;
                    return true;
                }
                if (p.Op == Op.Lt)
                {
                    p.U--;
                    p.OpNeg = !p.OpNeg;
                    p.Op = Op.Gt;
                }
                p.Mask = thisMask;
                return true;
            }
            if (data > full)
                return errh.Error($"'{p.Describe()}': out of range, bound {full}");
            p.U = data;
            p.Mask = thisMask;
            return true;
        }
    }
}
