namespace ClickOS.Language;

/// <summary>
/// Names for addresses, as Click's AddressInfo defines them ("eth0" → 10.0.0.1/24 and
/// 02:00:00:00:00:01). A router installs its database for the thread that configures and runs
/// it, so every address argument (and IPFilter's "host NAME") can use the names.
/// </summary>
public sealed class NameDatabase
{
    [ThreadStatic] private static NameDatabase? t_current;

    private readonly Dictionary<string, Entry> _names = new(StringComparer.Ordinal);

    public sealed class Entry
    {
        public uint? IP;
        public uint PrefixMask = 0xFFFFFFFF;
        public byte[]? Ether;
        public byte[]? IP6;
    }

    public static NameDatabase? Current => t_current;

    /// <summary>Makes <paramref name="db"/> current on this thread until the returned scope is disposed.</summary>
    public static Scope Enter(NameDatabase db)
    {
        var s = new Scope(t_current);
        t_current = db;
        return s;
    }

    public readonly struct Scope(NameDatabase? previous) : IDisposable
    {
        public void Dispose() => t_current = previous;
    }

    public Entry Define(string name)
    {
        if (!_names.TryGetValue(name, out var e)) _names[name] = e = new Entry();
        return e;
    }

    public bool Contains(string name) => _names.ContainsKey(name);

    private static (string Name, string Suffix) Split(string s)
    {
        int colon = s.IndexOf(':');
        return colon > 0 && !s.Contains("::", StringComparison.Ordinal) && s.IndexOf(':', colon + 1) < 0 ? (s[..colon], s[(colon + 1)..]) : (s, "");
    }

    public static bool TryIP(string s, out uint ip)
    {
        ip = 0;
        var db = t_current;
        if (db == null) return false;
        var (name, suffix) = Split(s);
        if (!db._names.TryGetValue(name, out var e) || e.IP == null) return false;
        switch (suffix)
        {
            case "": case "ip": ip = e.IP.Value; return true;
            case "bcast": ip = e.IP.Value | ~e.PrefixMask; return true;
            case "gw": ip = (e.IP.Value & e.PrefixMask) | 1; return true;
            default: return false;
        }
    }

    public static bool TryPrefix(string s, out uint addr, out uint mask)
    {
        addr = mask = 0;
        var db = t_current;
        if (db == null) return false;
        var (name, suffix) = Split(s);
        if (!db._names.TryGetValue(name, out var e) || e.IP == null) return false;
        switch (suffix)
        {
            case "": addr = e.IP.Value; mask = e.PrefixMask; return true;
            case "ipnet": case "net": addr = e.IP.Value & e.PrefixMask; mask = e.PrefixMask; return true;
            case "ip": addr = e.IP.Value; mask = 0xFFFFFFFF; return true;
            default: return false;
        }
    }

    public static bool TryEther(string s, out byte[] eth)
    {
        eth = [];
        var db = t_current;
        if (db == null) return false;
        var (name, suffix) = Split(s);
        if (suffix is not ("" or "eth") || !db._names.TryGetValue(name, out var e) || e.Ether == null) return false;
        eth = e.Ether;
        return true;
    }
}
