namespace ClickOS.Elements;

/// <summary>Click's names for ICMP types and codes (ICMPError arguments, IPPrint, IPFilter's "icmp type").</summary>
public static class ICMPNames
{
    private static readonly (int Type, string Name)[] Types =
    [
        (0, "echo-reply"), (3, "unreachable"), (4, "sourcequench"), (5, "redirect"), (8, "echo"),
        (9, "routeradvert"), (10, "routersolicit"), (11, "timeexceeded"), (12, "parameterproblem"),
        (13, "timestamp"), (14, "timestamp-reply"), (15, "inforeq"), (16, "inforeq-reply"),
        (17, "maskreq"), (18, "maskreq-reply"),
    ];

    private static readonly (int Type, int Code, string Name)[] Codes =
    [
        (3, 0, "net"), (3, 1, "host"), (3, 2, "protocol"), (3, 3, "port"), (3, 4, "needfrag"), (3, 5, "srcroutefail"),
        (3, 6, "net-unknown"), (3, 7, "host-unknown"), (3, 8, "isolated"), (3, 9, "net-prohibited"), (3, 10, "host-prohibited"),
        (3, 11, "net-tos"), (3, 12, "host-tos"), (3, 13, "filter-prohibited"), (3, 14, "host-precedence"), (3, 15, "precedence-cutoff"),
        (5, 0, "net"), (5, 1, "host"), (5, 2, "tos-net"), (5, 3, "tos-host"),
        (11, 0, "transit"), (11, 1, "reassembly"),
        (12, 0, "erroratptr"), (12, 1, "missingopt"), (12, 2, "length"),
    ];

    public static string? TypeName(int type)
    {
        foreach (var (t, n) in Types) if (t == type) return n;
        return null;
    }

    public static string? CodeName(int type, int code)
    {
        foreach (var (t, c, n) in Codes) if (t == type && c == code) return n;
        return null;
    }

    /// <summary>A type by name or number (0-255), or -1.</summary>
    public static int ParseType(string s)
    {
        foreach (var (t, n) in Types) if (n == s) return t;
        return int.TryParse(s, out int v) && v is >= 0 and <= 255 ? v : -1;
    }

    /// <summary>A code for <paramref name="type"/> by name or number (0-255), or -1.</summary>
    public static int ParseCode(int type, string s)
    {
        foreach (var (t, c, n) in Codes) if (t == type && n == s) return c;
        return int.TryParse(s, out int v) && v is >= 0 and <= 255 ? v : -1;
    }

    /// <summary>Whether an ICMP type is an error message (errors are never answered with errors).</summary>
    public static bool IsError(int type) => type is 3 or 4 or 5 or 11 or 12;
}
