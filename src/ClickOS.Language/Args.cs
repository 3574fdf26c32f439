using ClickOS.Core;

namespace ClickOS.Language;

/// <summary>A parsed argument, filled in by <see cref="Args.Complete"/>.</summary>
public sealed class Arg<T>
{
    public bool Present { get; internal set; }
    public T Value { get; internal set; } = default!;
    public T Or(T fallback) => Present ? Value : fallback;
    public static implicit operator T(Arg<T> a) => a.Value;
}

/// <summary>
/// All-or-nothing configuration-argument parsing, like Click's Args:
/// declare positional (mandatory/optional) and keyword arguments, then call
/// <see cref="Complete"/>, which assigns positionals in order, matches "KEYWORD value"
/// arguments, parses each with its type, and reports every problem.
/// </summary>
/// <example>
/// var a = new Args(conf, errh);
/// var cap = a.ReadMP("CAPACITY", Args.Unsigned, 1000);
/// var stop = a.Read("STOP", Args.Bool, false);
/// if (!a.Complete()) return false;
/// </example>
public sealed class Args
{
    public delegate bool Parser<T>(string text, out T value, out string error);

    private sealed class Spec
    {
        public required string Keyword;
        public bool Positional;
        public bool Mandatory;
        public bool All;
        public required Func<string, string?> Apply; // returns error or null
        public bool Seen;
    }

    private readonly IReadOnlyList<string> _conf;
    private readonly ErrorHandler _errh;
    private readonly List<Spec> _specs = [];
    private readonly List<Action> _commits = [];
    private List<string>? _rest;

    public Args(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        _conf = conf;
        _errh = errh;
    }

    private Arg<T> Add<T>(string keyword, Parser<T> parser, T fallback, bool positional, bool mandatory, bool all = false, List<T>? allList = null)
    {
        var arg = new Arg<T> { Value = fallback };
        T parsed = default!;
        bool have = false;
        var spec = new Spec
        {
            Keyword = keyword,
            Positional = positional,
            Mandatory = mandatory,
            All = all,
            Apply = text =>
            {
                if (!parser(text, out var v, out var err)) return err;
                if (allList != null) allList.Add(v);
                parsed = v;
                have = true;
                return null;
            },
        };
        _specs.Add(spec);
        _commits.Add(() =>
        {
            if (have) { arg.Value = parsed; arg.Present = true; }
        });
        return arg;
    }

    /// <summary>Mandatory positional argument (may also be given as a keyword).</summary>
    public Arg<T> ReadMP<T>(string keyword, Parser<T> parser) => Add(keyword, parser, default!, true, true);
    /// <summary>Optional positional argument (may also be given as a keyword).</summary>
    public Arg<T> ReadP<T>(string keyword, Parser<T> parser, T fallback = default!) => Add(keyword, parser, fallback, true, false);
    /// <summary>Optional keyword argument.</summary>
    public Arg<T> Read<T>(string keyword, Parser<T> parser, T fallback = default!) => Add(keyword, parser, fallback, false, false);
    /// <summary>Mandatory keyword argument.</summary>
    public Arg<T> ReadM<T>(string keyword, Parser<T> parser) => Add(keyword, parser, default!, false, true);

    /// <summary>A keyword that may appear many times; every value is collected.</summary>
    public List<T> ReadAll<T>(string keyword, Parser<T> parser)
    {
        var list = new List<T>();
        var tmp = new List<T>();
        Add(keyword, parser, default!, false, false, all: true, allList: tmp);
        _commits.Add(() => list.AddRange(tmp));
        return list;
    }

    /// <summary>Keeps unmatched arguments instead of reporting "too many arguments".</summary>
    public List<string> Rest()
    {
        _rest = [];
        return _rest;
    }

    private static bool LooksLikeKeyword(string w) =>
        w.Length > 0 && char.IsAsciiLetterUpper(w[0]) && w.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');

    private static bool IsKeywordForm(string w) =>
        w.Length > 0 && (char.IsAsciiLetter(w[0]) || w[0] == '_') && w.All(c => char.IsAsciiLetterOrDigit(c) || "_:.?!".Contains(c));

    /// <summary>Matches and parses everything; assigns results only if there was no error.</summary>
    public bool Complete()
    {
        int errors = 0;
        var positional = _specs.Where(s => s.Positional).ToList();
        int nextPos = 0;
        bool extraPositional = false;
        var keywordValues = new List<(Spec Spec, string Value)>();
        var positionalValues = new List<(Spec Spec, string Value)>();
        // Keyword arguments first, so positional slots given by keyword are skipped.
        var positionalArgs = new List<string>();
        foreach (var arg in _conf)
        {
            var (word, rest) = ConfigText.ShiftWord(arg);
            Spec? kw = null;
            if (LooksLikeKeyword(word) && (rest.Length > 0 || arg.Trim() == word))
                kw = _specs.FirstOrDefault(s => s.Keyword == word);
            if (kw != null && (rest.Length > 0 || !kw.Positional))
                keywordValues.Add((kw, rest));
            else if (kw == null && LooksLikeKeyword(word) && rest.Length > 0 && IsKeywordForm(word))
            {
                _errh.Error($"{word}: unknown argument");
                errors++;
            }
            else
                positionalArgs.Add(arg);
        }
        foreach (var arg in positionalArgs)
        {
            while (nextPos < positional.Count && keywordValues.Any(k => k.Spec == positional[nextPos])) nextPos++;
            if (nextPos < positional.Count)
            {
                positionalValues.Add((positional[nextPos++], arg));
                continue;
            }
            if (_rest != null) { _rest.Add(arg); continue; }
            extraPositional = true;
        }
        if (extraPositional)
        {
            _errh.Error("too many arguments");
            errors++;
        }
        foreach (var (spec, value) in positionalValues.Concat(keywordValues))
        {
            spec.Seen = true;
            var err = spec.Apply(value);
            if (err != null)
            {
                _errh.Error($"{spec.Keyword}: {(err.StartsWith("out of range", StringComparison.Ordinal) ? err : "parse error")}");
                errors++;
            }
        }
        foreach (var s in _specs)
            if (s.Mandatory && !s.Seen)
            {
                _errh.Error($"{s.Keyword}: required argument missing");
                errors++;
            }
        if (errors > 0) return false;
        foreach (var c in _commits) c();
        return true;
    }

    // ---- value types ----
    public static readonly Parser<string> String = ParseString;
    public static readonly Parser<string> Any = ParseAny;
    public static readonly Parser<string> Word = ParseWord;
    public static readonly Parser<bool> Bool = ParseBool;
    public static readonly Parser<int> Int = ParseInt;
    public static readonly Parser<int> Unsigned = ParseUnsigned;
    public static readonly Parser<long> Int64 = ParseInt64;
    public static readonly Parser<long> UInt64 = ParseUInt64;
    public static readonly Parser<int> Byte = ParseByte;
    public static readonly Parser<double> Real = ParseReal;
    public static readonly Parser<double> Seconds = ParseSeconds;
    public static readonly Parser<double> Bandwidth = ParseBandwidth;
    public static readonly Parser<uint> IPAddress = ParseIPAddress;
    public static readonly Parser<byte[]> IP6Address = ParseIP6Address;
    public static readonly Parser<byte[]> EtherAddress = ParseEtherAddress;
    public static readonly Parser<(uint Addr, uint Mask)> IPPrefix = ParseIPPrefix;


    public static bool ParseString(string s, out string v, out string err)
    {
        err = "expected string";
        v = ConfigText.Unquote(s);
        return true;
    }

    /// <summary>The argument text as written (Click's AnyArg).</summary>
    public static bool ParseAny(string s, out string v, out string err) { v = s; err = ""; return true; }

    public static bool ParseWord(string s, out string v, out string err)
    {
        err = "expected word";
        v = ConfigText.Unquote(s);
        return v.Length > 0 && !v.Any(char.IsWhiteSpace);
    }

    public static bool ParseBool(string s, out bool v, out string err)
    {
        err = "expected boolean";
        return Values.ParseBool(s, out v);
    }

    public static bool ParseInt(string s, out int v, out string err)
    {
        err = "expected integer";
        v = 0;
        if (!Values.ParseInt64(s, out long l)) return false;
        if (l is < int.MinValue or > int.MaxValue) { err = l < 0 ? $"out of range, bound {int.MinValue}" : $"out of range, bound {int.MaxValue}"; return false; }
        v = (int)l;
        return true;
    }

    public static bool ParseUnsigned(string s, out int v, out string err)
    {
        err = "expected unsigned integer";
        v = 0;
        if (!Values.ParseInt64(s, out long l) || l < 0) return false;
        if (l > int.MaxValue) { err = $"out of range, bound {int.MaxValue}"; return false; }
        v = (int)l;
        return true;
    }

    public static bool ParseInt64(string s, out long v, out string err)
    {
        err = "expected integer";
        return Values.ParseInt64(s, out v);
    }

    public static bool ParseUInt64(string s, out long v, out string err)
    {
        err = "expected unsigned integer";
        return Values.ParseInt64(s, out v) && v >= 0;
    }

    public static bool ParseByte(string s, out int v, out string err)
    {
        err = "expected integer between 0 and 255";
        return Values.ParseInt64(s, out long l) & (v = (int)l) == l && l is >= 0 and <= 255;
    }

    public static bool ParseReal(string s, out double v, out string err)
    {
        err = "expected real number";
        return Values.ParseDouble(s, out v);
    }

    /// <summary>A time interval in seconds (Click's SecondsArg).</summary>
    public static bool ParseSeconds(string s, out double v, out string err)
    {
        err = "expected time in seconds";
        return Values.ParseSeconds(s, out v) && v >= 0;
    }

    /// <summary>A bandwidth in bytes per second (Click's BandwidthArg).</summary>
    public static bool ParseBandwidth(string s, out double v, out string err)
    {
        err = "expected bandwidth";
        return Values.ParseBandwidth(s, out v);
    }

    public static bool ParseIPAddress(string s, out uint v, out string err)
    {
        err = "expected IP address";
        return Values.ParseIPv4(s, out v);
    }

    public static bool ParseIPPrefix(string s, out (uint Addr, uint Mask) v, out string err)
    {
        err = "expected IP address prefix";
        bool ok = Values.ParseIPPrefix(s, out uint a, out uint m);
        v = (a, m);
        return ok;
    }

    public static bool ParseIP6Address(string s, out byte[] v, out string err)
    {
        err = "expected IPv6 address";
        return Values.ParseIPv6(s, out v);
    }

    public static bool ParseEtherAddress(string s, out byte[] v, out string err)
    {
        err = "expected Ethernet address";
        return Values.ParseEther(s, out v);
    }
}
