using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>Helpers shared by element implementations (formatting, handler plumbing).</summary>
public static class ElementUtil
{
    public static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Click's Timestamp unparse: "SEC.USEC" (6 digits) or 9 digits when sub-microsecond.</summary>
    public static string FormatTimestamp(long ns)
    {
        long sec = Math.DivRem(ns, 1_000_000_000, out long sub);
        if (sub < 0) { sec--; sub += 1_000_000_000; }
        if (sub % 1000 == 0)
            return sec.ToString(Inv) + "." + (sub / 1000).ToString("D6", Inv);
        return sec.ToString(Inv) + "." + sub.ToString("D9", Inv);
    }

    /// <summary>Parses "SEC[.FRAC]" into nanoseconds.</summary>
    public static bool ParseTimestamp(string s, out long ns)
    {
        ns = 0;
        s = s.Trim();
        int dot = s.IndexOf('.');
        string a = dot < 0 ? s : s[..dot];
        string f = dot < 0 ? "" : s[(dot + 1)..];
        if (a.Length == 0 && f.Length == 0) return false;
        if (!long.TryParse(a.Length == 0 ? "0" : a, NumberStyles.AllowLeadingSign, Inv, out long sec)) return false;
        if (f.Length > 9) f = f[..9];
        if (f.Length > 0 && !f.All(char.IsAsciiDigit)) return false;
        long frac = f.Length == 0 ? 0 : long.Parse(f.PadRight(9, '0'), Inv);
        ns = sec * 1_000_000_000 + (sec < 0 ? -frac : frac);
        return true;
    }

    public static string Bool(bool b) => b ? "true" : "false";

    /// <summary>A write handler that parses a value with an Args type and applies it.</summary>
    public static WriteHandlerFn Writer<T>(Args.Parser<T> parser, Action<T> apply, string what) => (value, errh) =>
    {
        if (!parser(ConfigText.Uncomment(value), out var v, out var err))
            return errh.Error($"{what}: {err}");
        apply(v);
        return true;
    };

    /// <summary>Calls a handler given as "element.handler [value]", for *_CALL keywords.</summary>
    public static bool CallWrite(ElementHost host, Element context, string spec, ErrorHandler errh)
    {
        var (name, value) = ConfigText.ShiftWord(spec);
        var h = host.FindHandler(name, context, out _, errh);
        if (h == null) return false;
        return h.CallWrite(ConfigText.Unquote(value), errh);
    }

    public static string Hex(ReadOnlySpan<byte> data)
    {
        var sb = new StringBuilder(data.Length * 2);
        foreach (var b in data) sb.Append(b.ToString("x2", Inv));
        return sb.ToString();
    }
}
