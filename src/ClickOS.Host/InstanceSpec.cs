using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ClickOS.Host;

public enum Isolation { Process, Shared }

public enum RestartPolicy { Never, OnFailure }

/// <summary>What the operator asked for: everything needed to recreate an instance after a host restart.</summary>
public sealed record InstanceSpec
{
    public required string Name { get; init; }
    /// <summary>The Click configuration text.</summary>
    public required string Config { get; init; }
    /// <summary>Where the configuration came from (for file:line errors).</summary>
    public string ConfigName { get; init; } = "config";
    public Isolation Isolation { get; init; } = Isolation.Process;
    /// <summary>Memory limit in bytes (0: none).</summary>
    public long MemoryMax { get; init; }
    /// <summary>CPU limit in cores (0: none).</summary>
    public double Cpus { get; init; }
    /// <summary>Pause automatically after this long without activity (zero: never).</summary>
    public TimeSpan IdleSleep { get; init; }
    public RestartPolicy Restart { get; init; } = RestartPolicy.Never;
    /// <summary>Network namespace to run in (process isolation; from `ip netns`).</summary>
    public string? NetNs { get; init; }
    /// <summary>Switch ports (vif0, vif1, …) to give it; -1: as many as its configuration names.</summary>
    public int Vifs { get; init; } = -1;
    /// <summary>Whether the operator wants it running (false after `stop`).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Whether the operator paused it (kept across host restarts).</summary>
    public bool Paused { get; init; }

    /// <summary>The switch ports it gets: <see cref="Vifs"/>, or one past the highest vifN (or From/ToNetFront(N)) its configuration names.</summary>
    public int VifCount
    {
        get
        {
            if (Vifs >= 0) return Vifs;
            int n = 0;
            foreach (Match m in VifRx.Matches(Config))
                if (int.TryParse(m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int k) && k < 64)
                    n = Math.Max(n, k + 1);
            return n;
        }
    }

    private static readonly Regex VifRx = new(@"\bvif(\d+)\b|NetFront\s*\(\s*(\d+)\s*[,)]", RegexOptions.CultureInvariant);

    private static readonly Regex NameRx = new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$", RegexOptions.CultureInvariant);

    public static string? CheckName(string name) =>
        NameRx.IsMatch(name) ? null : $"bad instance name '{name}': use 1-63 letters, digits, '_', '.' or '-', starting with a letter or digit";

    public void Write(Utf8JsonWriter w, bool includeConfig = true)
    {
        w.WriteStartObject();
        w.WriteString("name", Name);
        if (includeConfig) w.WriteString("config", Config);
        w.WriteString("config_name", ConfigName);
        w.WriteString("isolation", Isolation == Isolation.Process ? "process" : "shared");
        w.WriteNumber("memory_max", MemoryMax);
        w.WriteNumber("cpus", Cpus);
        w.WriteNumber("idle_sleep_ms", (long)IdleSleep.TotalMilliseconds);
        w.WriteString("restart", Restart == RestartPolicy.Never ? "never" : "on-failure");
        if (NetNs != null) w.WriteString("netns", NetNs);
        w.WriteNumber("vifs", VifCount);
        w.WriteBoolean("enabled", Enabled);
        w.WriteBoolean("paused", Paused);
        w.WriteEndObject();
    }

    /// <summary>Reads a spec from JSON (the state file or an API request); errors name the field.</summary>
    public static InstanceSpec Read(JsonElement e, List<string> errors)
    {
        string Str(string key, string def)
        {
            if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return def;
            if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
            errors.Add($"'{key}' must be a string");
            return def;
        }
        string? StrOrNull(string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool Bool(string key, bool def)
        {
            if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return def;
            if (v.ValueKind is JsonValueKind.True or JsonValueKind.False) return v.GetBoolean();
            errors.Add($"'{key}' must be true or false");
            return def;
        }
        if (e.ValueKind != JsonValueKind.Object)
        {
            errors.Add("expected a JSON object");
            return new InstanceSpec { Name = "", Config = "" };
        }
        string name = Str("name", "");
        if (CheckName(name) is { } bad) errors.Add(bad);
        if (!e.TryGetProperty("config", out var cfg) || cfg.ValueKind != JsonValueKind.String) errors.Add("'config' (the configuration text) is required");
        string isolation = Str("isolation", "process");
        if (isolation is not ("process" or "shared")) errors.Add($"'isolation' must be 'process' or 'shared', not '{isolation}'");
        string restart = Str("restart", "never");
        if (restart is not ("never" or "on-failure")) errors.Add($"'restart' must be 'never' or 'on-failure', not '{restart}'");
        long memory = 0;
        if (e.TryGetProperty("memory_max", out var m))
        {
            if (m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out memory) && memory >= 0) { }
            else if (m.ValueKind == JsonValueKind.String && TryParseSize(m.GetString()!, out memory)) { }
            else errors.Add("'memory_max' must be a size in bytes (or like \"8M\")");
        }
        double cpus = 0;
        if (e.TryGetProperty("cpus", out var c) && !(c.ValueKind == JsonValueKind.Number && c.TryGetDouble(out cpus) && cpus >= 0 && cpus <= 1024))
            errors.Add("'cpus' must be a number of cores (like 0.2)");
        TimeSpan idle = TimeSpan.Zero;
        if (e.TryGetProperty("idle_sleep_ms", out var i))
        {
            if (i.ValueKind == JsonValueKind.Number && i.TryGetInt64(out long ms) && ms >= 0) idle = TimeSpan.FromMilliseconds(ms);
            else errors.Add("'idle_sleep_ms' must be a number of milliseconds");
        }
        else if (e.TryGetProperty("idle_sleep", out var i2) && i2.ValueKind == JsonValueKind.String && !TryParseDuration(i2.GetString()!, out idle))
            errors.Add("'idle_sleep' must be a duration like \"30s\"");
        int Vifs()
        {
            if (!e.TryGetProperty("vifs", out var v)) return -1;
            if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n is >= 0 and <= 64) return n;
            errors.Add("'vifs' must be a number of switch ports from 0 to 64");
            return -1;
        }
        return new InstanceSpec
        {
            Name = name,
            Config = cfg.ValueKind == JsonValueKind.String ? cfg.GetString()! : "",
            ConfigName = Str("config_name", "config"),
            Isolation = isolation == "shared" ? Isolation.Shared : Isolation.Process,
            MemoryMax = memory,
            Cpus = cpus,
            IdleSleep = idle,
            Restart = restart == "on-failure" ? RestartPolicy.OnFailure : RestartPolicy.Never,
            NetNs = StrOrNull("netns"),
            Vifs = Vifs(),
            Enabled = Bool("enabled", true),
            Paused = Bool("paused", false),
        };
    }

    /// <summary>"8M", "512K", "1G", "1048576" (binary multiples, as cgroups and Docker read them).</summary>
    public static bool TryParseSize(string s, out long bytes)
    {
        bytes = 0;
        s = s.Trim();
        if (s.Length == 0) return false;
        long mult = 1;
        char last = char.ToUpperInvariant(s[^1]);
        if (last == 'B') { s = s[..^1]; if (s.Length == 0) return false; last = char.ToUpperInvariant(s[^1]); }
        switch (last)
        {
            case 'K': mult = 1L << 10; s = s[..^1]; break;
            case 'M': mult = 1L << 20; s = s[..^1]; break;
            case 'G': mult = 1L << 30; s = s[..^1]; break;
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0 || v * mult > long.MaxValue) return false;
        bytes = (long)(v * mult);
        return true;
    }

    /// <summary>"30s", "500ms", "2m", "1h", or plain seconds.</summary>
    public static bool TryParseDuration(string s, out TimeSpan t)
    {
        t = TimeSpan.Zero;
        s = s.Trim();
        double mult = 1;
        if (s.EndsWith("ms", StringComparison.Ordinal)) { mult = 0.001; s = s[..^2]; }
        else if (s.EndsWith('s')) s = s[..^1];
        else if (s.EndsWith('m')) { mult = 60; s = s[..^1]; }
        else if (s.EndsWith('h')) { mult = 3600; s = s[..^1]; }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0 || v * mult > 1e9) return false;
        t = TimeSpan.FromSeconds(v * mult);
        return true;
    }
}
