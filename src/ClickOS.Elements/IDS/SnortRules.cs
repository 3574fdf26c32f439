using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>What FlowIDS does with a packet that matches a rule.</summary>
public enum IdsAction : byte { Alert, Drop }

/// <summary>
/// One rule of FlowIDS: a Snort rule header (action, protocol, addresses, ports, direction)
/// and one content pattern. Protocol 0 ("ip") applies to every payload FlowIDS inspects.
/// </summary>
public sealed class IdsRule
{
    public IdsAction Action;
    public byte Proto;
    public uint SrcAddr, SrcMask, DstAddr, DstMask;
    public ushort SrcPortLo, SrcPortHi = 65535, DstPortLo, DstPortHi = 65535;
    public bool Bidirectional;
    public string Msg = "";
    public byte[] Content = [];
    public bool NoCase;
    public int Sid, Rev;
    /// <summary>Header text as written (addresses and ports), for printing the rule back.</summary>
    public string SrcText = "any", SrcPortText = "any", DstText = "any", DstPortText = "any";

    /// <summary>Whether the header admits a packet of this protocol, addresses and ports.</summary>
    public bool Admits(byte proto, uint saddr, ushort sport, uint daddr, ushort dport) =>
        (Proto == 0 || Proto == proto)
        && (Forward(saddr, sport, daddr, dport) || (Bidirectional && Forward(daddr, dport, saddr, sport)));

    private bool Forward(uint saddr, ushort sport, uint daddr, ushort dport) =>
        (saddr & SrcMask) == SrcAddr && (daddr & DstMask) == DstAddr
        && sport >= SrcPortLo && sport <= SrcPortHi && dport >= DstPortLo && dport <= DstPortHi;

    /// <summary>The rule in the syntax <see cref="SnortRules"/> reads.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Action == IdsAction.Drop ? "drop " : "alert ")
          .Append(Proto switch { 6 => "tcp", 17 => "udp", _ => "ip" }).Append(' ')
          .Append(SrcText).Append(' ').Append(SrcPortText).Append(Bidirectional ? " <> " : " -> ")
          .Append(DstText).Append(' ').Append(DstPortText).Append(" (");
        if (Msg.Length > 0) sb.Append("msg:\"").Append(SnortRules.Escape(Msg)).Append("\"; ");
        sb.Append("content:\"").Append(SnortRules.FormatContent(Content)).Append("\"; ");
        if (NoCase) sb.Append("nocase; ");
        sb.Append("sid:").Append(Sid.ToString(CultureInfo.InvariantCulture)).Append(';');
        if (Rev > 0) sb.Append(" rev:").Append(Rev.ToString(CultureInfo.InvariantCulture)).Append(';');
        return sb.Append(')').ToString();
    }
}

/// <summary>
/// Reads FlowIDS rules: a subset of Snort's rule language, one rule per line.
/// <code>ACTION PROTO SRC SPORT DIR DST DPORT (OPTION; OPTION; ...)</code>
/// ACTION is alert or drop; PROTO tcp, udp or ip (ip: any payload FlowIDS inspects; its ports
/// must be any); SRC/DST any, an address or address/len; ports any, N, LO:HI, LO: or :HI;
/// DIR -&gt; or &lt;&gt; (either direction). Options: msg:"text", content:"text|hex bytes|text",
/// nocase, sid:N (required, unique), rev:N; classtype, reference, metadata, priority and gid
/// are accepted and ignored. Every other option, variables ($HOME_NET), negation (!), lists
/// ([...]) and a second content are errors, because ignoring them would make a rule match
/// traffic its author meant to exclude. '#' starts a comment line; a line ending in '\'
/// continues on the next one. Errors are reported as "ORIGIN:LINE: message".
/// </summary>
public static class SnortRules
{
    private static readonly HashSet<string> IgnoredOptions = ["classtype", "reference", "metadata", "priority", "gid"];

    /// <summary>Reads a rules file into <paramref name="rules"/>; reports every bad line; false if any.</summary>
    public static bool ParseFile(string path, List<IdsRule> rules, ErrorHandler errh)
    {
        string text;
        try
        {
            text = File.ReadAllText(path, Encoding.Latin1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return errh.Error($"{path}: {IOErrorText.Of(e)}");
        }
        return ParseText(text, path, rules, errh);
    }

    /// <summary>Reads rules from text; <paramref name="origin"/> names it in errors ("origin:line: message").</summary>
    public static bool ParseText(string text, string origin, List<IdsRule> rules, ErrorHandler errh)
    {
        bool ok = true;
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i];
            while (line.EndsWith('\\') && i + 1 < lines.Length)
                line = line[..^1] + lines[++i];
            line = line.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var r = ParseRule(line, out string err);
            if (r == null) ok = errh.Error($"{origin}:{lineNo}", err);
            else rules.Add(r);
        }
        return ok;
    }

    /// <summary>Parses one rule; null with <paramref name="error"/> if it is not in the supported subset.</summary>
    public static IdsRule? ParseRule(string text, out string error)
    {
        error = "";
        int open = text.IndexOf('(');
        if (open < 0 || text.TrimEnd()[^1] != ')')
        {
            error = "expected 'ACTION PROTO SRC SPORT -> DST DPORT (OPTIONS)'";
            return null;
        }
        var head = text[..open].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (head.Length != 7)
        {
            error = $"rule header has {head.Length} fields, expected 7 (ACTION PROTO SRC SPORT -> DST DPORT)";
            return null;
        }
        var r = new IdsRule();
        switch (head[0])
        {
            case "alert": r.Action = IdsAction.Alert; break;
            case "drop": r.Action = IdsAction.Drop; break;
            default: error = $"unsupported action '{head[0]}' (alert or drop)"; return null;
        }
        switch (head[1])
        {
            case "tcp": r.Proto = 6; break;
            case "udp": r.Proto = 17; break;
            case "ip": r.Proto = 0; break;
            default: error = $"unsupported protocol '{head[1]}' (tcp, udp or ip)"; return null;
        }
        if (head[4] is not ("->" or "<>"))
        {
            error = $"bad direction '{head[4]}' (-> or <>)";
            return null;
        }
        r.Bidirectional = head[4] == "<>";
        if (!Address(head[2], out r.SrcAddr, out r.SrcMask, out error)
            || !Port(head[3], out r.SrcPortLo, out r.SrcPortHi, out error)
            || !Address(head[5], out r.DstAddr, out r.DstMask, out error)
            || !Port(head[6], out r.DstPortLo, out r.DstPortHi, out error))
            return null;
        if (r.Proto == 0 && (head[3] != "any" || head[6] != "any"))
        {
            error = "ip rules have no ports: use any, or tcp/udp";
            return null;
        }
        (r.SrcText, r.SrcPortText, r.DstText, r.DstPortText) = (head[2], head[3], head[5], head[6]);
        string body = text[(open + 1)..text.LastIndexOf(')')];
        bool haveContent = false, haveSid = false;
        var options = SplitOptions(body, out error);
        if (error.Length > 0) return null;
        foreach (var opt in options)
        {
            int colon = opt.IndexOf(':');
            string name = (colon < 0 ? opt : opt[..colon]).Trim();
            string value = colon < 0 ? "" : opt[(colon + 1)..].Trim();
            switch (name)
            {
                case "msg":
                    if (!Quoted(value, out string msg, out error)) { error = "msg: " + error; return null; }
                    r.Msg = Unescape(msg);
                    break;
                case "content":
                    if (haveContent)
                    {
                        error = "only one content per rule is supported";
                        return null;
                    }
                    if (value.StartsWith('!'))
                    {
                        error = "negated content is not supported";
                        return null;
                    }
                    if (!Quoted(value, out string inner, out error) || !ParseContent(inner, out r.Content, out error))
                    {
                        error = "content: " + error;
                        return null;
                    }
                    haveContent = true;
                    break;
                case "nocase":
                    if (value.Length > 0) { error = "nocase takes no value"; return null; }
                    r.NoCase = true;
                    break;
                case "sid":
                case "rev":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || (name == "sid" && n == 0))
                    {
                        error = $"{name}: expected a positive number, got '{value}'";
                        return null;
                    }
                    if (name == "sid") { r.Sid = n; haveSid = true; }
                    else r.Rev = n;
                    break;
                default:
                    if (IgnoredOptions.Contains(name)) break;
                    error = $"unsupported option '{name}'";
                    return null;
            }
        }
        if (!haveContent) error = "rule has no content";
        else if (!haveSid) error = "rule has no sid";
        return error.Length > 0 ? null : r;
    }

    // Splits "a; b:"x;y"; c" at semicolons outside quotes (a backslash escapes the next character).
    private static List<string> SplitOptions(string body, out string error)
    {
        error = "";
        var list = new List<string>();
        var cur = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '\\' && i + 1 < body.Length) { cur.Append(c).Append(body[++i]); continue; }
            if (c == '"') quoted = !quoted;
            if (c == ';' && !quoted)
            {
                if (cur.ToString().Trim().Length > 0) list.Add(cur.ToString().Trim());
                cur.Clear();
                continue;
            }
            cur.Append(c);
        }
        if (quoted) error = "unterminated quoted string";
        else if (cur.ToString().Trim().Length > 0) error = $"option '{cur.ToString().Trim()}' is not terminated by ';'";
        return list;
    }

    private static bool Quoted(string v, out string inner, out string error)
    {
        error = "";
        inner = "";
        if (v.Length < 2 || v[0] != '"' || v[^1] != '"')
        {
            error = "expected a quoted string";
            return false;
        }
        inner = v[1..^1];
        return true;
    }

    private static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
            sb.Append(s[i] == '\\' && i + 1 < s.Length ? s[++i] : s[i]);
        return sb.ToString();
    }

    /// <summary>
    /// Parses the inside of a Snort content string: literal characters (Latin-1), backslash
    /// escapes of " ; \ | :, and |hex| blocks ("|00 0d 0a|").
    /// </summary>
    public static bool ParseContent(string s, out byte[] bytes, out string error)
    {
        error = "";
        var b = new List<byte>(s.Length);
        bool hex = false;
        int nibble = -1;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (hex)
            {
                if (c == '|')
                {
                    if (nibble >= 0) { error = "odd number of hex digits in |...|"; break; }
                    hex = false;
                    continue;
                }
                if (c is ' ' or '\t') continue;
                int v = HexVal(c);
                if (v < 0) { error = $"bad hex digit '{c}' in |...|"; break; }
                if (nibble < 0) nibble = v;
                else { b.Add((byte)(nibble << 4 | v)); nibble = -1; }
                continue;
            }
            if (c == '|') { hex = true; continue; }
            if (c == '\\')
            {
                if (i + 1 >= s.Length) { error = "backslash at end of content"; break; }
                c = s[++i];
            }
            if (c > 0xFF) { error = $"character '{c}' is not a byte; use |hex|"; break; }
            b.Add((byte)c);
        }
        if (error.Length == 0 && hex) error = "unterminated |hex| block";
        if (error.Length == 0 && b.Count == 0) error = "empty content";
        bytes = error.Length == 0 ? b.ToArray() : [];
        return error.Length == 0;
    }

    /// <summary>Content bytes in Snort syntax: printable text as is, everything else in |hex| blocks.</summary>
    public static string FormatContent(ReadOnlySpan<byte> content)
    {
        var sb = new StringBuilder();
        bool hex = false;
        foreach (byte x in content)
        {
            bool plain = x is >= 0x20 and < 0x7F && x is not ((byte)'"' or (byte)';' or (byte)'\\' or (byte)'|' or (byte)':');
            if (plain == hex)
            {
                sb.Append('|');
                hex = !hex;
            }
            else if (hex) sb.Append(' ');
            if (plain) sb.Append((char)x);
            else sb.Append(x.ToString("x2", CultureInfo.InvariantCulture));
        }
        if (hex) sb.Append('|');
        return sb.ToString();
    }

    /// <summary>Escapes a msg for printing between double quotes.</summary>
    public static string Escape(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            if (c is '"' or ';' or '\\') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static int HexVal(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static bool Address(string s, out uint addr, out uint mask, out string error)
    {
        error = "";
        addr = mask = 0;
        if (s == "any") return true;
        if (s.StartsWith('$')) error = $"variables ('{s}') are not supported: use any or an address";
        else if (s.StartsWith('!') || s.StartsWith('[')) error = $"address '{s}': negation and lists are not supported";
        else if (!Values.ParseIPPrefix(s, out addr, out mask)) error = $"bad address '{s}'";
        addr &= mask;
        return error.Length == 0;
    }

    private static bool Port(string s, out ushort lo, out ushort hi, out string error)
    {
        error = "";
        lo = 0;
        hi = 65535;
        if (s == "any") return true;
        if (s.StartsWith('$')) { error = $"variables ('{s}') are not supported: use any or a port"; return false; }
        if (s.StartsWith('!') || s.StartsWith('[')) { error = $"port '{s}': negation and lists are not supported"; return false; }
        int colon = s.IndexOf(':');
        string a = colon < 0 ? s : s[..colon], b = colon < 0 ? s : s[(colon + 1)..];
        bool Num(string t, ushort dflt, out ushort v)
        {
            v = dflt;
            return t.Length == 0 && colon >= 0 || ushort.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        }
        if (!Num(a, 0, out lo) || !Num(b, 65535, out hi) || (a.Length == 0 && b.Length == 0) || lo > hi)
        {
            error = $"bad port '{s}' (any, N, LO:HI, LO: or :HI)";
            return false;
        }
        return true;
    }
}
