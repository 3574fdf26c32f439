namespace ClickOS.Runtime;

/// <summary>
/// A port-count range from Click's port_count syntax: "1", "0-2", "1-", "-", "=" (same as the
/// other side). "IN/OUT", or one spec for both.
/// </summary>
public readonly record struct PortRange(int Min, int Max, bool SameAsOther)
{
    public static bool TryParseSpec(string spec, out PortRange inputs, out PortRange outputs)
    {
        int slash = spec.IndexOf('/');
        string a = slash < 0 ? spec : spec[..slash];
        string b = slash < 0 ? spec : spec[(slash + 1)..];
        bool ok1 = TryParse(a, out inputs);
        bool ok2 = TryParse(b, out outputs);
        return ok1 && ok2;
    }

    private static bool TryParse(string s, out PortRange r)
    {
        r = default;
        if (s == "=") { r = new PortRange(0, int.MaxValue, true); return true; }
        if (s == "-") { r = new PortRange(0, int.MaxValue, false); return true; }
        int dash = s.IndexOf('-');
        if (dash < 0)
        {
            if (!int.TryParse(s, out int n)) return false;
            r = new PortRange(n, n, false);
            return true;
        }
        if (!int.TryParse(s[..dash], out int lo)) return false;
        string hiS = s[(dash + 1)..];
        int hi = int.MaxValue;
        if (hiS.Length > 0 && !int.TryParse(hiS, out hi)) return false;
        r = new PortRange(lo, hi, false);
        return true;
    }

    /// <summary>The port count given the highest port used + 1.</summary>
    public int Resolve(int used) => Math.Max(Min, Math.Min(used, Max));
}
