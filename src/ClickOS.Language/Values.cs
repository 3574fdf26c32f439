using System.Globalization;
using System.Net;

namespace ClickOS.Language;

/// <summary>
/// Parsers for Click's configuration value types. Each returns false (and sets an error
/// description like "expected integer") on bad input.
/// </summary>
public static class Values
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static bool ParseBool(string s, out bool value)
    {
        // Exactly Click's BoolArg spellings.
        switch (s)
        {
            case "true": case "yes": case "1": case "t": case "y": value = true; return true;
            case "false": case "no": case "0": case "f": case "n": value = false; return true;
            default: value = false; return false;
        }
    }

    /// <summary>Integers in decimal, 0x hex, or 0-prefixed octal, with an optional sign.</summary>
    public static bool ParseInt64(string s, out long value)
    {
        value = 0;
        if (s.Length == 0) return false;
        bool neg = false;
        int i = 0;
        if (s[0] == '-' || s[0] == '+') { neg = s[0] == '-'; i = 1; }
        if (i >= s.Length) return false;
        ulong v;
        string body = s[i..];
        if (body.Length > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X'))
        {
            if (!ulong.TryParse(body[2..], NumberStyles.AllowHexSpecifier, Inv, out v)) return false;
        }
        else if (body.Length > 1 && body[0] == '0' && body.All(char.IsAsciiDigit))
        {
            v = 0;
            foreach (char c in body[1..])
            {
                if (c > '7') return false;
                v = v * 8 + (ulong)(c - '0');
            }
        }
        else if (!body.All(char.IsAsciiDigit) || !ulong.TryParse(body, NumberStyles.None, Inv, out v)) return false;
        if (neg) { if (v > (ulong)long.MaxValue + 1) return false; value = -(long)v; }
        else { if (v > long.MaxValue) return false; value = (long)v; }
        return true;
    }

    public static bool ParseUInt64(string s, out ulong value)
    {
        value = 0;
        if (s.StartsWith('-')) return false;
        if (s.Length > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
            return ulong.TryParse(s[2..], NumberStyles.AllowHexSpecifier, Inv, out value);
        if (ParseInt64(s, out long l)) { value = (ulong)l; return true; }
        return s.All(char.IsAsciiDigit) && ulong.TryParse(s, NumberStyles.None, Inv, out value);
    }

    public static bool ParseDouble(string s, out double value) =>
        double.TryParse(s, NumberStyles.Float, Inv, out value) && !s.Contains("Infinity", StringComparison.Ordinal) && s.Length > 0 && !char.IsWhiteSpace(s[0]);

    /// <summary>A time in seconds: "1", "1.5s", "10ms", "2min", "3h", "100us", "5ns".</summary>
    public static bool ParseSeconds(string s, out double seconds)
    {
        seconds = 0;
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '+' || s[i] == 'e' || s[i] == 'E'))
        {
            if ((s[i] == 'e' || s[i] == 'E') && (i + 1 >= s.Length || !(char.IsAsciiDigit(s[i + 1]) || s[i + 1] == '-' || s[i + 1] == '+'))) break;
            i++;
        }
        if (i == 0 || !double.TryParse(s[..i], NumberStyles.Float, Inv, out double v)) return false;
        string unit = s[i..].Trim();
        double mul = unit switch
        {
            "" or "s" or "sec" or "secs" or "second" or "seconds" => 1,
            "ms" or "msec" or "msecs" => 1e-3,
            "us" or "usec" or "usecs" => 1e-6,
            "ns" or "nsec" or "nsecs" => 1e-9,
            "m" or "min" or "mins" or "minute" or "minutes" => 60,
            "h" or "hr" or "hrs" or "hour" or "hours" => 3600,
            "d" or "day" or "days" => 86400,
            _ => double.NaN,
        };
        if (double.IsNaN(mul)) return false;
        seconds = v * mul;
        return true;
    }

    /// <summary>
    /// A bandwidth, returned in bytes per second: "10Mbps", "1.5GBps", "8kbps", "100B/s"; a bare
    /// number is bytes/s (Click's BandwidthArg). Units: bps, b/s, baud (bits); Bps, B/s (bytes);
    /// optional prefix k/K, M, G, T.
    /// </summary>
    public static bool ParseBandwidth(string s, out double bytesPerSec)
    {
        bytesPerSec = 0;
        int i = 0;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        if (i == 0 || !double.TryParse(s[..i], NumberStyles.Float, Inv, out double v)) return false;
        string unit = s[i..].Trim();
        if (unit.Length == 0) { bytesPerSec = v; return true; }
        double bytes = BandwidthUnit(unit), scale = 1;
        if (double.IsNaN(bytes) && unit.Length > 1)
        {
            scale = unit[0] switch { 'k' or 'K' => 1e3, 'M' => 1e6, 'G' => 1e9, 'T' => 1e12, _ => double.NaN };
            bytes = BandwidthUnit(unit[1..]);
        }
        if (double.IsNaN(bytes) || double.IsNaN(scale)) return false;
        bytesPerSec = v * scale * bytes;
        return true;
    }

    private static double BandwidthUnit(string u) => u switch
    {
        "bps" or "b/s" or "baud" => 1.0 / 8,
        "Bps" or "B/s" => 1,
        _ => double.NaN,
    };

    /// <summary>Formats bytes/s as Click's BandwidthArg prints it: "320kbps", "1Mbps", "2.5Gbps", or "MBps" above 2^29 B/s.</summary>
    public static string UnparseBandwidth(double bytesPerSec)
    {
        if (bytesPerSec >= 0x20000000) return (bytesPerSec / 1e6).ToString("0.######", Inv) + "MBps";
        if (bytesPerSec >= 125e6) return (bytesPerSec * 8 / 1e9).ToString("0.#########", Inv) + "Gbps";
        if (bytesPerSec >= 125e3) return (bytesPerSec * 8 / 1e6).ToString("0.######", Inv) + "Mbps";
        return (bytesPerSec * 8 / 1e3).ToString("0.###", Inv) + "kbps";
    }

    public static bool ParseIPv4(string s, out uint addr)
    {
        addr = 0;
        var parts = s.Split('.');
        if (parts.Length != 4) return NameDatabase.TryIP(s, out addr);
        foreach (var p in parts)
        {
            if (p.Length == 0 || p.Length > 3 || !p.All(char.IsAsciiDigit)) return false;
            int v = int.Parse(p, Inv);
            if (v > 255) return false;
            addr = (addr << 8) | (uint)v;
        }
        return true;
    }

    /// <summary>"a.b.c.d/len", "a.b.c.d/mask", or a bare address (mask /32 when <paramref name="allowBare"/>).</summary>
    public static bool ParseIPPrefix(string s, out uint addr, out uint mask, bool allowBare = true)
    {
        addr = mask = 0;
        int slash = s.IndexOf('/');
        if (slash < 0)
        {
            if (s.Split('.').Length != 4 && NameDatabase.TryPrefix(s, out addr, out mask)) return true;
            if (!allowBare || !ParseIPv4(s, out addr)) return false;
            mask = 0xFFFFFFFF;
            return true;
        }
        if (!ParseIPv4(s[..slash], out addr)) return false;
        string m = s[(slash + 1)..];
        if (m.All(char.IsAsciiDigit) && m.Length is > 0 and <= 2)
        {
            int len = int.Parse(m, Inv);
            if (len > 32) return false;
            mask = len == 0 ? 0 : 0xFFFFFFFFu << (32 - len);
            return true;
        }
        return ParseIPv4(m, out mask);
    }

    public static bool ParseIPv6(string s, out byte[] addr)
    {
        addr = [];
        if (!s.Contains(':') || !IPAddress.TryParse(s, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            return false;
        addr = ip.GetAddressBytes();
        return true;
    }

    /// <summary>Ethernet addresses "00:11:22:33:44:55" or "00-11-22-33-44-55".</summary>
    public static bool ParseEther(string s, out byte[] mac)
    {
        mac = new byte[6];
        var parts = s.Split(s.Contains('-') ? '-' : ':');
        if (parts.Length != 6) return NameDatabase.TryEther(s, out mac);
        for (int i = 0; i < 6; i++)
        {
            if (parts[i].Length is 0 or > 2 || !byte.TryParse(parts[i], NumberStyles.AllowHexSpecifier, Inv, out mac[i])) return false;
        }
        return true;
    }

    public static string UnparseIPv4(uint a) => $"{a >> 24}.{(a >> 16) & 255}.{(a >> 8) & 255}.{a & 255}";
    public static string UnparseEther(ReadOnlySpan<byte> m) =>
        string.Create(17, m.ToArray(), (span, b) =>
        {
            for (int i = 0; i < 6; i++)
            {
                b[i].TryFormat(span[(i * 3)..], out _, "X2", Inv);
                if (i < 5) span[i * 3 + 2] = '-';
            }
        });

    /// <summary>Formats seconds as Click prints times: "1.5s"-style is not used; Click prints plain seconds.</summary>
    public static string UnparseSeconds(double s) => s.ToString("0.######", Inv);
}
