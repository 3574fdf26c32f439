using System.Text;

namespace ClickOS.Language;

/// <summary>
/// Click's configuration-string utilities: splitting an argument list at top-level commas,
/// removing comments, unquoting strings (with backslash escapes and \&lt;hex&gt; data), and
/// expanding $variables.
/// </summary>
public static class ConfigText
{
    /// <summary>Skips a quoted string or comment starting at <paramref name="i"/>; returns the index after it, or -1 if none starts there.</summary>
    private static int SkipSpecial(string s, int i)
    {
        char c = s[i];
        if (c == '"')
        {
            i++;
            while (i < s.Length && s[i] != '"')
            {
                if (s[i] == '\\' && i + 1 < s.Length)
                {
                    if (s[i + 1] == '<')
                    {
                        int e = s.IndexOf('>', i + 2);
                        i = e < 0 ? s.Length : e + 1;
                        continue;
                    }
                    i++;
                }
                i++;
            }
            return Math.Min(i + 1, s.Length);
        }
        if (c == '\'')
        {
            int e = s.IndexOf('\'', i + 1);
            return e < 0 ? s.Length : e + 1;
        }
        if (c == '\\' && i + 1 < s.Length && s[i + 1] == '<')
        {
            int j = i + 2;
            while (j < s.Length && s[j] != '>')
            {
                if (s[j] == '/' && j + 1 < s.Length && (s[j + 1] == '/' || s[j + 1] == '*'))
                {
                    j = SkipComment(s, j);
                    continue;
                }
                j++;
            }
            return Math.Min(j + 1, s.Length);
        }
        if (c == '/' && i + 1 < s.Length && (s[i + 1] == '/' || s[i + 1] == '*'))
            return SkipComment(s, i);
        return -1;
    }

    private static int SkipComment(string s, int i)
    {
        if (s[i + 1] == '/')
        {
            int e = s.IndexOf('\n', i);
            return e < 0 ? s.Length : e;
        }
        int end = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
        return end < 0 ? s.Length : end + 2;
    }

    private static bool IsCommentAt(string s, int i) =>
        s[i] == '/' && i + 1 < s.Length && (s[i + 1] == '/' || s[i + 1] == '*');

    /// <summary>
    /// Removes comments and surrounding whitespace (Click's cp_uncomment): a comment and the
    /// whitespace around it become one space; other internal whitespace is kept as written.
    /// </summary>
    public static string Uncomment(string s)
    {
        int i = 0;
        while (i < s.Length && (char.IsWhiteSpace(s[i]) || IsCommentAt(s, i)))
            i = IsCommentAt(s, i) ? SkipComment(s, i) : i + 1;
        StringBuilder? sb = null;
        int left = i, right = i;
        bool closed = false;
        while (i < s.Length)
        {
            if (char.IsWhiteSpace(s[i])) { i++; continue; }
            if (IsCommentAt(s, i))
            {
                i = SkipComment(s, i);
                closed = true;
                continue;
            }
            if (closed)
            {
                sb ??= new StringBuilder(s.Length);
                sb.Append(s, left, right - left).Append(' ');
                left = i;
                closed = false;
            }
            int j = SkipSpecial(s, i);
            i = j > 0 ? j : i + 1;
            right = i;
        }
        if (sb == null) return s[left..right];
        return sb.Append(s, left, right - left).ToString();
    }

    /// <summary>
    /// Splits an argument list at top-level commas, removing comments and surrounding
    /// whitespace (Click's cp_argvec). An empty configuration gives no arguments, and an
    /// empty final argument is dropped.
    /// </summary>
    public static List<string> SplitArgs(string conf)
    {
        var result = new List<string>();
        int start = 0, i = 0;
        while (i < conf.Length)
        {
            char c = conf[i];
            if (c == ',')
            {
                result.Add(Uncomment(conf[start..i]));
                start = ++i;
                continue;
            }
            int j = SkipSpecial(conf, i);
            i = j > 0 ? j : i + 1;
        }
        // Like cp_argvec, an empty final argument is ignored: "a, b," is two arguments.
        var last = Uncomment(conf[start..]);
        if (last.Length > 0)
            result.Add(last);
        return result;
    }

    /// <summary>Joins arguments back with ", " (Click's cp_unargvec).</summary>
    public static string JoinArgs(IEnumerable<string> args) => string.Join(", ", args);

    /// <summary>Splits a string into space-separated words, respecting quotes (Click's cp_spacevec).</summary>
    public static List<string> SplitSpace(string s)
    {
        var result = new List<string>();
        int i = 0;
        while (true)
        {
            while (i < s.Length && (char.IsWhiteSpace(s[i]) || IsCommentAt(s, i)))
                i = IsCommentAt(s, i) ? SkipComment(s, i) : i + 1;
            if (i >= s.Length) break;
            int start = i;
            while (i < s.Length && !char.IsWhiteSpace(s[i]))
            {
                int j = SkipSpecial(s, i);
                i = j > 0 ? j : i + 1;
            }
            result.Add(s[start..i]);
        }
        return result;
    }

    /// <summary>Splits off the first word: ("KEY", "rest") (Click's cp_shift_spacevec).</summary>
    public static (string First, string Others) ShiftWord(string s)
    {
        int i = 0;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        int start = i;
        while (i < s.Length && !char.IsWhiteSpace(s[i]))
        {
            int j = SkipSpecial(s, i);
            i = j > 0 ? j : i + 1;
        }
        string first = s[start..i];
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        return (first, s[i..]);
    }

    /// <summary>
    /// Removes quoting: "..." with backslash escapes, '...' literally, \&lt;hex&gt; as bytes
    /// (Click's cp_unquote). Returns bytes as Latin-1 characters.
    /// </summary>
    public static string Unquote(string s)
    {
        s = Uncomment(s);
        var sb = new StringBuilder(s.Length);
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (c == '"')
            {
                i++;
                while (i < s.Length && s[i] != '"')
                {
                    if (s[i] == '\\' && i + 1 < s.Length)
                        i = Escape(s, i, sb);
                    else
                        sb.Append(s[i++]);
                }
                i++;
            }
            else if (c == '\'')
            {
                int e = s.IndexOf('\'', i + 1);
                if (e < 0) e = s.Length;
                sb.Append(s, i + 1, e - i - 1);
                i = e + 1;
            }
            else if (c == '\\' && i + 1 < s.Length && s[i + 1] == '<')
            {
                i = HexBlock(s, i, sb);
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    private static int HexBlock(string s, int i, StringBuilder sb)
    {
        int j = i + 2;
        int nibble = -1;
        while (j < s.Length && s[j] != '>')
        {
            if (IsCommentAt(s, j))
            {
                j = SkipComment(s, j);
                continue;
            }
            int v = HexVal(s[j]);
            if (v >= 0)
            {
                if (nibble < 0) nibble = v;
                else
                {
                    sb.Append((char)((nibble << 4) | v));
                    nibble = -1;
                }
            }
            j++;
        }
        return Math.Min(j + 1, s.Length);
    }

    private static int HexVal(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static int Escape(string s, int i, StringBuilder sb)
    {
        char e = s[i + 1];
        switch (e)
        {
            case 'a': sb.Append('\a'); return i + 2;
            case 'b': sb.Append('\b'); return i + 2;
            case 't': sb.Append('\t'); return i + 2;
            case 'n': sb.Append('\n'); return i + 2;
            case 'v': sb.Append('\v'); return i + 2;
            case 'f': sb.Append('\f'); return i + 2;
            case 'r': sb.Append('\r'); return i + 2;
            case '\n': return i + 2;
            case '<': return HexBlock(s, i, sb);
            case 'x':
            {
                int j = i + 2, v = 0, n = 0;
                while (j < s.Length && n < 2 && HexVal(s[j]) >= 0) { v = v * 16 + HexVal(s[j]); j++; n++; }
                sb.Append((char)v);
                return j;
            }
            case >= '0' and <= '7':
            {
                int j = i + 1, v = 0, n = 0;
                while (j < s.Length && n < 3 && s[j] >= '0' && s[j] <= '7') { v = v * 8 + (s[j] - '0'); j++; n++; }
                sb.Append((char)(v & 0xFF));
                return j;
            }
            default:
                sb.Append(e);
                return i + 2;
        }
    }

    /// <summary>Quotes a string if it needs it (Click's cp_quote).</summary>
    public static string Quote(string s)
    {
        if (s.Length > 0 && s.All(c => char.IsLetterOrDigit(c) || "_-./:@+".Contains(c)))
            return s;
        return "\"" + EscapeForDoubleQuotes(s) + "\"";
    }

    /// <summary>Backslash-escapes a value for insertion between double quotes, so unquoting gives it back.</summary>
    public static string EscapeForDoubleQuotes(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '$': sb.Append("\\$"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 32 || c >= 127) sb.Append('\\').Append(Convert.ToString(c & 0xFF, 8).PadLeft(3, '0'));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>
    /// Expands $name, ${name}, ${name-default} from <paramref name="lookup"/>. Single-quoted text
    /// and $(...) are left alone; unknown variables stay as written.
    /// </summary>
    public static string Expand(string s, Func<string, string?> lookup)
    {
        if (s.IndexOf('$') < 0)
            return s;
        var sb = new StringBuilder(s.Length);
        int i = 0;
        bool inDouble = false;
        while (i < s.Length)
        {
            char c = s[i];
            if (!inDouble && c == '\'')
            {
                int e = s.IndexOf('\'', i + 1);
                e = e < 0 ? s.Length : e + 1;
                sb.Append(s, i, e - i);
                i = e;
                continue;
            }
            if (c == '"') { inDouble = !inDouble; sb.Append(c); i++; continue; }
            if (c == '\\' && i + 1 < s.Length) { sb.Append(c).Append(s[i + 1]); i += 2; continue; }
            if (!inDouble && IsCommentAt(s, i))
            {
                int e = SkipComment(s, i);
                sb.Append(s, i, e - i);
                i = e;
                continue;
            }
            if (c == '$' && i + 1 < s.Length)
            {
                if (s[i + 1] == '{')
                {
                    int e = s.IndexOf('}', i + 2);
                    if (e > 0)
                    {
                        string inner = s[(i + 2)..e];
                        string name = inner, def = "";
                        bool hasDefault = false;
                        int index = -1;
                        int dash = inner.IndexOf('-');
                        if (dash > 0) { name = inner[..dash]; def = inner[(dash + 1)..]; hasDefault = true; }
                        // ${x[N]}: the N-th (0-based) space-separated word of $x.
                        int br = name.IndexOf('[');
                        if (br > 0 && name.EndsWith(']') && int.TryParse(name[(br + 1)..^1], out index) && index >= 0)
                            name = name[..br];
                        else index = -1;
                        var v = lookup(name);
                        if (v != null && index >= 0)
                        {
                            var words = SplitSpace(v);
                            v = index < words.Count ? words[index] : null;
                        }
                        if (v != null) { sb.Append(inDouble ? EscapeForDoubleQuotes(v) : v); i = e + 1; continue; }
                        if (hasDefault) { sb.Append(inDouble ? EscapeForDoubleQuotes(def) : def); i = e + 1; continue; }
                    }
                }
                else if (IsVarChar(s[i + 1]))
                {
                    int j = i + 1;
                    while (j < s.Length && IsVarChar(s[j])) j++;
                    var v = lookup(s[(i + 1)..j]);
                    if (v != null) { sb.Append(inDouble ? EscapeForDoubleQuotes(v) : v); i = j; continue; }
                    sb.Append(s, i, j - i);
                    i = j;
                    continue;
                }
            }
            sb.Append(c);
            i++;
        }
        return sb.ToString();
    }

    public static bool IsVarChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
