using System.Globalization;

namespace ClickOS.Host;

/// <summary>
/// Per-instance resource limits and freezing through Linux cgroups: cgroup v2 (memory.max,
/// cpu.max, cgroup.freeze) where the unified hierarchy has those controllers, else the v1
/// memory, cpu and freezer hierarchies. Where neither is writable, <see cref="Available"/> is
/// false and the host falls back to SIGSTOP for pausing and the runtime's heap limit for memory.
/// </summary>
public sealed class Cgroups
{
    private readonly string? _v2;
    private readonly string? _memV1, _cpuV1, _freezerV1;

    private Cgroups(string? v2, string? mem, string? cpu, string? freezer)
    {
        _v2 = v2;
        _memV1 = mem;
        _cpuV1 = cpu;
        _freezerV1 = freezer;
    }

    public bool Available => _v2 != null || _memV1 != null;
    public string Describe => _v2 != null ? $"cgroup v2 at {_v2}" : _memV1 != null ? $"cgroup v1 (memory, cpu{(_freezerV1 != null ? ", freezer" : "")})" : "none";

    /// <summary>Finds a writable hierarchy and makes the host's parent group <paramref name="group"/> in it.</summary>
    public static Cgroups Detect(string group = "clickos")
    {
        string root = "/sys/fs/cgroup";
        foreach (var unified in new[] { root, Path.Combine(root, "unified") })
        {
            try
            {
                var ctrl = File.ReadAllText(Path.Combine(unified, "cgroup.controllers")).Split(' ', StringSplitOptions.TrimEntries);
                if (!ctrl.Contains("memory") || !ctrl.Contains("cpu")) continue;
                string dir = Path.Combine(unified, group);
                Directory.CreateDirectory(dir);
                File.WriteAllText(Path.Combine(unified, "cgroup.subtree_control"), "+memory +cpu");
                File.WriteAllText(Path.Combine(dir, "cgroup.subtree_control"), "+memory +cpu");
                return new Cgroups(dir, null, null, null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        string? V1(string controller)
        {
            try
            {
                string c = Path.Combine(root, controller);
                if (!Directory.Exists(c) || !File.Exists(Path.Combine(c, "cgroup.procs"))) return null;
                string dir = Path.Combine(c, group);
                Directory.CreateDirectory(dir);
                return dir;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return null; }
        }
        var mem = V1("memory");
        var cpu = mem != null ? V1("cpu") : null;
        return new Cgroups(null, mem, cpu, mem != null ? V1("freezer") : null);
    }

    public static Cgroups None => new(null, null, null, null);

    /// <summary>Makes the instance's groups and applies its limits; false (with why) when the kernel refused.</summary>
    public bool Create(string name, long memoryMax, double cpus, out string? error)
    {
        error = null;
        try
        {
            if (_v2 != null)
            {
                string d = Path.Combine(_v2, name);
                Directory.CreateDirectory(d);
                File.WriteAllText(Path.Combine(d, "memory.max"), memoryMax > 0 ? memoryMax.ToString(CultureInfo.InvariantCulture) : "max");
                if (memoryMax > 0) TryWrite(Path.Combine(d, "memory.swap.max"), "0");
                File.WriteAllText(Path.Combine(d, "cpu.max"), cpus > 0 ? $"{(long)(cpus * 100_000)} 100000" : "max 100000");
                return true;
            }
            if (_memV1 == null) return true;
            string m = Path.Combine(_memV1, name);
            Directory.CreateDirectory(m);
            if (memoryMax > 0)
            {
                File.WriteAllText(Path.Combine(m, "memory.limit_in_bytes"), memoryMax.ToString(CultureInfo.InvariantCulture));
                TryWrite(Path.Combine(m, "memory.memsw.limit_in_bytes"), memoryMax.ToString(CultureInfo.InvariantCulture));
            }
            if (_cpuV1 != null)
            {
                string c = Path.Combine(_cpuV1, name);
                Directory.CreateDirectory(c);
                File.WriteAllText(Path.Combine(c, "cpu.cfs_period_us"), "100000");
                File.WriteAllText(Path.Combine(c, "cpu.cfs_quota_us"), cpus > 0 ? ((long)(cpus * 100_000)).ToString(CultureInfo.InvariantCulture) : "-1");
            }
            if (_freezerV1 != null) Directory.CreateDirectory(Path.Combine(_freezerV1, name));
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error = ex.Message;
            return false;
        }
    }

    private static void TryWrite(string path, string value)
    {
        try { File.WriteAllText(path, value); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    public void Add(string name, int pid)
    {
        string p = pid.ToString(CultureInfo.InvariantCulture);
        if (_v2 != null) { TryWrite(Path.Combine(_v2, name, "cgroup.procs"), p); return; }
        foreach (var h in new[] { _memV1, _cpuV1, _freezerV1 })
            if (h != null) TryWrite(Path.Combine(h, name, "cgroup.procs"), p);
    }

    /// <summary>Freezes or thaws the instance's group; false when there is no freezer (use signals).</summary>
    public bool Freeze(string name, bool frozen)
    {
        try
        {
            if (_v2 != null)
            {
                File.WriteAllText(Path.Combine(_v2, name, "cgroup.freeze"), frozen ? "1" : "0");
                return true;
            }
            if (_freezerV1 != null && Directory.Exists(Path.Combine(_freezerV1, name)))
            {
                File.WriteAllText(Path.Combine(_freezerV1, name, "freezer.state"), frozen ? "FROZEN" : "THAWED");
                return true;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        return false;
    }

    /// <summary>Whether the kernel's OOM killer acted in the instance's group.</summary>
    public bool OomKilled(string name)
    {
        try
        {
            string f = _v2 != null ? Path.Combine(_v2, name, "memory.events") : _memV1 != null ? Path.Combine(_memV1, name, "memory.oom_control") : "";
            if (f.Length == 0 || !File.Exists(f)) return false;
            foreach (var line in File.ReadLines(f))
                if (line.StartsWith("oom_kill ", StringComparison.Ordinal) && line.Length > 9 && line[9..].Trim() != "0") return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        return false;
    }

    /// <summary>
    /// Whether the group's usage reached its memory limit: the kernel refused a charge (v2
    /// memory.events "max", v1 memory.failcnt) or the peak came within a quarter of the limit
    /// (v2 memory.peak, v1 memory.max_usage_in_bytes). The .NET runtime sizes its heap from the
    /// group's limit (about three quarters of it by default) and fails on its own near that,
    /// often with a SIGSEGV and before the kernel refuses anything (peaks of 36–47 MB under a
    /// 48 MB limit seen here); an instance that dies of a signal there died of its limit.
    /// </summary>
    public bool LimitHit(string name)
    {
        try
        {
            if (_v2 != null)
            {
                string dir = Path.Combine(_v2, name), f = Path.Combine(dir, "memory.events");
                if (File.Exists(f))
                    foreach (var line in File.ReadLines(f))
                        if (line.StartsWith("max ", StringComparison.Ordinal) && line[4..].Trim() != "0") return true;
                return Near(ReadLong(Path.Combine(dir, "memory.peak")), ReadLong(Path.Combine(dir, "memory.max")));
            }
            if (_memV1 == null) return false;
            string g = Path.Combine(_memV1, name);
            return ReadLong(Path.Combine(g, "memory.failcnt")) > 0
                || Near(ReadLong(Path.Combine(g, "memory.max_usage_in_bytes")), ReadLong(Path.Combine(g, "memory.limit_in_bytes")));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { return false; }

        static bool Near(long peak, long limit) => peak > 0 && limit > 0 && peak >= limit - limit / 4;
    }

    /// <summary>Memory charged to the group, bytes (-1 unknown).</summary>
    public long MemoryCurrent(string name) =>
        ReadLong(_v2 != null ? Path.Combine(_v2, name, "memory.current") : _memV1 != null ? Path.Combine(_memV1, name, "memory.usage_in_bytes") : null);

    private static long ReadLong(string? path)
    {
        if (path == null) return -1;
        try { return long.Parse(File.ReadAllText(path).Trim(), CultureInfo.InvariantCulture); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException) { return -1; }
    }

    /// <summary>Removes every instance's group and the host's own (a host that stops for good with its instances); groups still holding a process stay.</summary>
    public void RemoveAll()
    {
        foreach (var h in new[] { _v2, _memV1, _cpuV1, _freezerV1 })
        {
            if (h == null || !Directory.Exists(h)) continue;
            try
            {
                foreach (var d in Directory.GetDirectories(h))
                    try { Directory.Delete(d); }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
                Directory.Delete(h);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
    }

    public void Remove(string name)
    {
        foreach (var h in new[] { _v2, _memV1, _cpuV1, _freezerV1 })
        {
            if (h == null) continue;
            try { Directory.Delete(Path.Combine(h, name)); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
    }
}
