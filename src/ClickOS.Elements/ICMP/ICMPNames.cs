namespace ClickOS.Elements;

/// <summary>
/// Click's names for ICMP types and codes (its IPNameInfo database), shared by ICMPError's
/// arguments, IPPrint, IPFilter's "icmp type" and the IP summary dump fields.
/// </summary>
public static class ICMPNames
{
    public static readonly (string Name, int Value)[] TypeTable =
    [
        ("echo-reply", 0), ("unreachable", 3), ("sourcequench", 4), ("redirect", 5), ("echo", 8),
        ("routeradvert", 9), ("routersolicit", 10), ("timeexceeded", 11), ("parameterproblem", 12),
        ("timestamp", 13), ("timestamp-reply", 14), ("inforeq", 15), ("inforeq-reply", 16),
        ("maskreq", 17), ("maskreq-reply", 18),
    ];

    private static readonly (string Name, int Value)[] UnreachCodes =
    [
        ("net", 0), ("host", 1), ("protocol", 2), ("port", 3), ("needfrag", 4), ("srcroutefail", 5),
        ("netunknown", 6), ("hostunknown", 7), ("isolated", 8), ("netprohibited", 9), ("hostprohibited", 10),
        ("tosnet", 11), ("toshost", 12), ("filterprohibited", 13), ("hostprecedence", 14), ("precedencecutoff", 15),
    ];

    private static readonly (string Name, int Value)[] RedirectCodes = [("net", 0), ("host", 1), ("tosnet", 2), ("toshost", 3)];
    private static readonly (string Name, int Value)[] TimeExceededCodes = [("transit", 0), ("reassembly", 1)];
    private static readonly (string Name, int Value)[] ParamProbCodes = [("erroratptr", 0), ("missingopt", 1), ("length", 2)];

    /// <summary>The code names for an ICMP type (empty for types without named codes).</summary>
    public static (string Name, int Value)[] CodeTable(int type) => type switch
    {
        3 => UnreachCodes,
        5 => RedirectCodes,
        11 => TimeExceededCodes,
        12 => ParamProbCodes,
        _ => [],
    };

    public static string? TypeName(int type)
    {
        foreach (var (n, t) in TypeTable) if (t == type) return n;
        return null;
    }

    public static string? CodeName(int type, int code)
    {
        foreach (var (n, c) in CodeTable(type)) if (c == code) return n;
        return null;
    }

    /// <summary>A type by name only, or -1.</summary>
    public static int TypeByName(string name)
    {
        foreach (var (n, t) in TypeTable) if (n == name) return t;
        return -1;
    }

    /// <summary>A type by name or number (0-255), or -1.</summary>
    public static int ParseType(string s)
    {
        int t = TypeByName(s);
        if (t >= 0) return t;
        return int.TryParse(s, out int v) && v is >= 0 and <= 255 ? v : -1;
    }

    /// <summary>A code for <paramref name="type"/> by name or number (0-255), or -1.</summary>
    public static int ParseCode(int type, string s)
    {
        foreach (var (n, c) in CodeTable(type)) if (n == s) return c;
        return int.TryParse(s, out int v) && v is >= 0 and <= 255 ? v : -1;
    }

    /// <summary>Whether an ICMP type is an error message (errors are never answered with errors).</summary>
    public static bool IsError(int type) => type is 3 or 4 or 5 or 11 or 12;
}
