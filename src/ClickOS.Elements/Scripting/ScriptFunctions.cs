using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Script's expression functions, registered as read handlers with parameters on each
/// Script element, so "$(add 1 2)" calls the script's own "add" handler.
/// </summary>
internal static class ScriptFunctions
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Register(Element e)
    {
        void F(string name, Func<string, ErrorHandler, string?> f) =>
            e.SetHandler(name, (p, eh) => f(p, eh), null, HandlerFlags.ReadParam);

        F("add", (p, eh) => Fold(p, eh, 0, (a, b) => a + b, (a, b) => a + b));
        F("sub", (p, eh) => Fold(p, eh, 0, (a, b) => a - b, (a, b) => a - b));
        F("mul", (p, eh) => Fold(p, eh, 1, (a, b) => a * b, (a, b) => a * b));
        F("min", (p, eh) => Fold(p, eh, 1, Math.Min, Math.Min));
        F("max", (p, eh) => Fold(p, eh, 1, Math.Max, Math.Max));
        F("div", (p, eh) => DoubleFold(p, eh, (a, b) => a / b) is { } d ? FormatDouble(d) : null);
        F("idiv", (p, eh) => DoubleFold(p, eh, (a, b) => a / b) is { } d ? ((long)Math.Truncate(d)).ToString(Inv) : null);
        F("mod", (p, eh) =>
        {
            var w = Words(p);
            if (w.Count != 2 || !Values.ParseInt64(w[0], out long a) || !Values.ParseInt64(w[1], out long b)) { eh.Error("expected two numbers"); return null; }
            if (b == 0) { eh.Error("division by zero"); return null; }
            return (a % b).ToString(Inv);
        });
        F("rem", (p, eh) =>
        {
            var w = Words(p);
            if (w.Count != 2) { eh.Error("expected two numbers"); return null; }
            if (Values.ParseInt64(w[0], out long a) && Values.ParseInt64(w[1], out long b))
                return b == 0 ? Err(eh, "division by zero") : (a % b).ToString(Inv);
            if (Values.ParseDouble(w[0], out double x) && Values.ParseDouble(w[1], out double y)) return FormatDouble(Math.IEEERemainder(x, y) is var r && Math.Sign(r) != Math.Sign(x) && r != 0 ? x % y : x % y);
            eh.Error("expected two numbers");
            return null;
        });
        F("neg", (p, eh) => One(p, eh, l => (-l).ToString(Inv), d => FormatDouble(-d)));
        F("abs", (p, eh) => One(p, eh, l => Math.Abs(l).ToString(Inv), d => FormatDouble(Math.Abs(d))));
        foreach (var (name, cmp) in new (string, Func<int, bool>)[] { ("eq", c => c == 0), ("ne", c => c != 0), ("lt", c => c < 0), ("gt", c => c > 0), ("le", c => c <= 0), ("ge", c => c >= 0) })
            F(name, (p, eh) => Compare(p, eh) is { } c ? B(cmp(c)) : null);
        F("not", (p, eh) => Values.ParseBool(ConfigText.Unquote(p).Trim(), out bool b) ? B(!b) : Err(eh, "syntax error"));
        F("and", (p, eh) => Logic(p, eh, true, false));
        F("or", (p, eh) => Logic(p, eh, false, false));
        F("nand", (p, eh) => Logic(p, eh, true, true));
        F("nor", (p, eh) => Logic(p, eh, false, true));
        F("if", (p, eh) =>
        {
            var w = Words(p);
            if (w.Count == 0 || !Values.ParseBool(ConfigText.Unquote(w[0]), out bool c)) return Err(eh, "syntax error");
            return c ? (w.Count > 1 ? w[1] : "") : (w.Count > 2 ? w[2] : "");
        });
        F("in", (p, _) =>
        {
            var w = Words(p);
            if (w.Count == 0) return "false";
            string x = ConfigText.Unquote(w[0]);
            return B(w.Skip(1).Any(y => ConfigText.Unquote(y) == x));
        });
        F("first", (p, _) => Words(p) is { Count: > 0 } w ? w[0] : "");
        F("length", (p, _) => p.Length.ToString(Inv));
        F("unquote", (p, _) => ConfigText.Unquote(p));
        F("random", (p, eh) =>
        {
            var w = Words(p);
            var rng = Random.Shared;
            if (w.Count == 0) return rng.Next().ToString(Inv);
            if (w.Count == 1 && Values.ParseInt64(w[0], out long n) && n > 0) return rng.NextInt64(n).ToString(Inv);
            if (w.Count == 2 && Values.ParseInt64(w[0], out long a) && Values.ParseInt64(w[1], out long b) && b >= a) return rng.NextInt64(a, b + 1).ToString(Inv);
            return Err(eh, "bad N");
        });
        F("sprintf", Sprintf);
        F("htons", (p, eh) => One(p, eh, l => ((ushort)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)l)).ToString(Inv), null));
        F("ntohs", (p, eh) => One(p, eh, l => ((ushort)System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((ushort)l)).ToString(Inv), null));
        F("htonl", (p, eh) => One(p, eh, l => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)l).ToString(Inv), null));
        F("ntohl", (p, eh) => One(p, eh, l => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)l).ToString(Inv), null));
        F("readable", (p, eh) => B(Words(p).All(h => e.Host.FindHandler(h, e, out _, ErrorHandler.Silent) is { CanRead: true })));
        F("writable", (p, eh) => B(Words(p).All(h => e.Host.FindHandler(h, e, out _, ErrorHandler.Silent) is { CanWrite: true })));
    }

    private static string? Err(ErrorHandler eh, string msg) { eh.Error(msg); return null; }
    private static string B(bool b) => b ? "true" : "false";
    private static List<string> Words(string p) => ConfigText.SplitSpace(p);

    /// <summary>Formats like C's %.12g.</summary>
    public static string FormatDouble(double d)
    {
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        if (double.IsNaN(d)) return "nan";
        if (d == 0) return "0";
        int exp = (int)Math.Floor(Math.Log10(Math.Abs(d)));
        if (exp < -4 || exp >= 12)
        {
            string m = (d / Math.Pow(10, exp)).ToString("0.###########", Inv);
            if (m == "10") { m = "1"; exp++; }
            return m + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", Inv);
        }
        return Math.Round(d, Math.Max(0, 11 - exp)).ToString("0.###########", Inv);
    }

    private static string? Fold(string p, ErrorHandler eh, long empty, Func<long, long, long> il, Func<double, double, double> dl)
    {
        var w = Words(p);
        if (w.Count == 0) return empty.ToString(Inv);
        long acc = 0;
        double dacc = 0;
        bool isDouble = false;
        for (int i = 0; i < w.Count; i++)
        {
            string s = ConfigText.Unquote(w[i]);
            if (!isDouble && Values.ParseInt64(s, out long l))
            {
                acc = i == 0 ? l : il(acc, l);
                continue;
            }
            if (!Values.ParseDouble(s, out double d)) { eh.Error("expected list of numbers"); return null; }
            if (!isDouble) { isDouble = true; dacc = acc; }
            dacc = i == 0 ? d : dl(dacc, d);
            if (i + 1 < w.Count)
                for (int j = i + 1; j < w.Count; j++)
                {
                    if (!Values.ParseDouble(ConfigText.Unquote(w[j]), out double dj)) { eh.Error("expected list of numbers"); return null; }
                    dacc = dl(dacc, dj);
                }
            return FormatDouble(dacc);
        }
        return acc.ToString(Inv);
    }

    private static double? DoubleFold(string p, ErrorHandler eh, Func<double, double, double> f)
    {
        var w = Words(p);
        if (w.Count == 0) return 0;
        double acc = 0;
        for (int i = 0; i < w.Count; i++)
        {
            if (!Values.ParseDouble(ConfigText.Unquote(w[i]), out double d)) { eh.Error("expected list of numbers"); return null; }
            acc = i == 0 ? d : f(acc, d);
        }
        return acc;
    }

    private static string? One(string p, ErrorHandler eh, Func<long, string> il, Func<double, string>? dl)
    {
        var w = Words(p);
        if (w.Count == 1 && Values.ParseInt64(ConfigText.Unquote(w[0]), out long l)) return il(l);
        if (dl != null && w.Count == 1 && Values.ParseDouble(ConfigText.Unquote(w[0]), out double d)) return dl(d);
        return Err(eh, "expected one number");
    }

    private static int? Compare(string p, ErrorHandler eh)
    {
        var w = Words(p);
        if (w.Count != 2) { eh.Error("expected two numbers"); return null; }
        string a = ConfigText.Unquote(w[0]), b = ConfigText.Unquote(w[1]);
        if (Values.ParseInt64(a, out long x) && Values.ParseInt64(b, out long y)) return x.CompareTo(y);
        if (Values.ParseDouble(a, out double dx) && Values.ParseDouble(b, out double dy)) return dx.CompareTo(dy);
        return Math.Sign(string.CompareOrdinal(a, b));
    }

    private static string? Logic(string p, ErrorHandler eh, bool isAnd, bool negate)
    {
        bool result = isAnd;
        foreach (var word in Words(p))
        {
            if (!Values.ParseBool(ConfigText.Unquote(word), out bool b)) return Err(eh, "syntax error");
            if (isAnd && !b) { result = false; break; }
            if (!isAnd && b) { result = true; break; }
        }
        return B(result ^ negate);
    }

    private static string? Sprintf(string p, ErrorHandler eh)
    {
        var w = Words(p);
        if (w.Count == 0) return Err(eh, "syntax error");
        string fmt = ConfigText.Unquote(w[0]);
        int arg = 1;
        var sb = new StringBuilder();
        for (int i = 0; i < fmt.Length; i++)
        {
            char c = fmt[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= fmt.Length) return Err(eh, "syntax error");
            if (fmt[i] == '%') { sb.Append('%'); continue; }
            string flags = "";
            while (i < fmt.Length && "0#- +".Contains(fmt[i])) flags += fmt[i++];
            int width = 0;
            if (i < fmt.Length && fmt[i] == '*') { if (arg >= w.Count || !int.TryParse(w[arg++], out width)) return Err(eh, "syntax error"); i++; }
            else while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) width = width * 10 + (fmt[i++] - '0');
            int prec = -1;
            if (i < fmt.Length && fmt[i] == '.')
            {
                i++;
                prec = 0;
                if (i < fmt.Length && fmt[i] == '*') { if (arg >= w.Count || !int.TryParse(w[arg++], out prec)) return Err(eh, "syntax error"); i++; }
                else while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) prec = prec * 10 + (fmt[i++] - '0');
            }
            while (i < fmt.Length && "hlLq".Contains(fmt[i])) i++;
            if (i >= fmt.Length || arg >= w.Count) return Err(eh, "syntax error");
            char conv = fmt[i];
            string a = ConfigText.Unquote(w[arg++]);
            string body;
            if (conv == 's') body = prec >= 0 && prec < a.Length ? a[..prec] : a;
            else
            {
                if (!Values.ParseInt64(a, out long v)) return Err(eh, "syntax error");
                body = conv switch
                {
                    'd' or 'i' => v.ToString(Inv),
                    'u' => ((ulong)v).ToString(Inv),
                    'x' => ((ulong)v).ToString("x", Inv),
                    'X' => ((ulong)v).ToString("X", Inv),
                    'o' => Convert.ToString(v, 8),
                    _ => "\0",
                };
                if (body == "\0") return Err(eh, "syntax error");
                if (prec >= 0) body = body.PadLeft(prec, '0');
                if (flags.Contains('+') && v >= 0 && conv is 'd' or 'i') body = "+" + body;
                if (flags.Contains('#') && v != 0) body = conv switch { 'x' => "0x" + body, 'X' => "0X" + body, 'o' => "0" + body, _ => body };
            }
            if (body.Length < width)
                body = flags.Contains('-') ? body.PadRight(width) : flags.Contains('0') && conv != 's' ? body.PadLeft(width, '0') : body.PadLeft(width);
            sb.Append(body);
        }
        if (arg < w.Count) return Err(eh, "syntax error");
        return sb.ToString();
    }
}
