using System.Diagnostics;
using System.Text;

namespace ClickOS.Cli.Tests.Network;

/// <summary>
/// A [Fact] that runs only where real-network tests can: as root, with the ip tool and
/// network namespaces. Elsewhere it is skipped, and the reason shows in the test output.
/// </summary>
public sealed class NetworkFactAttribute : FactAttribute
{
    public NetworkFactAttribute(params string[] tools)
    {
        string? why = NetworkLab.Unavailable(tools);
        if (why != null) Skip = why;
    }
}

/// <summary>A [Fact] or [Theory] that needs some command-line tools (not root); skipped, with the reason, without them.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        foreach (var t in tools)
            if (NetworkLab.FindTool(t) == null) { Skip = $"needs '{t}' (.ci/run installs it from Debian's packages)"; break; }
    }
}

public sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(params string[] tools)
    {
        foreach (var t in tools)
            if (NetworkLab.FindTool(t) == null) { Skip = $"needs '{t}' (.ci/run installs it from Debian's packages)"; break; }
    }
}

/// <summary>
/// Network namespaces, veth pairs and processes for one test. Everything it creates is
/// removed in Dispose, also when the test fails; all traffic stays inside its namespaces.
/// </summary>
public sealed class NetworkLab : IDisposable
{
    private static int s_serial;
    private readonly string _prefix = $"ck{Environment.ProcessId % 100000}x{Interlocked.Increment(ref s_serial)}";
    private readonly List<string> _namespaces = [];
    private readonly List<Process> _processes = [];

    public static string? Unavailable(params string[] tools)
    {
        if (!OperatingSystem.IsLinux()) return "real-network tests need Linux";
        if (Environment.UserName != "root" && Environment.GetEnvironmentVariable("USER") != "root" && !IsRoot())
            return "real-network tests need root (network namespaces, AF_PACKET, TUN)";
        foreach (var t in tools.Append("ip"))
            if (FindTool(t) == null) return $"real-network tests need '{t}' (.ci/run installs it from Debian's packages)";
        if (!File.Exists("/var/run/netns") && !Directory.Exists("/var/run/netns") && Sh("ip netns list").Exit != 0)
            return "network namespaces are not available here";
        return null;
    }

    private static bool IsRoot()
    {
        try { return File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:") && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0"); }
        catch (IOException) { return false; }
    }

    public static string? FindTool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin"]))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Creates a namespace (with loopback up and IPv6 off, so no stray router solicitations).</summary>
    public string Namespace(string role)
    {
        string ns = $"{_prefix}{role}";
        Must($"ip netns add {ns}");
        _namespaces.Add(ns);
        Must($"ip -n {ns} link set lo up");
        Exec(ns, "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1");
        return ns;
    }

    /// <summary>A veth pair with one end in each namespace, both up, IPv6 off.</summary>
    public void Veth(string nsA, string ifA, string nsB, string ifB, string? macA = null, string? macB = null)
    {
        string tmpA = $"{_prefix}a{_namespaces.Count}{ifA.Length}", tmpB = $"{_prefix}b{_namespaces.Count}{ifB.Length}";
        tmpA = tmpA[..Math.Min(tmpA.Length, 15)];
        tmpB = tmpB[..Math.Min(tmpB.Length, 15)];
        Must($"ip link add {tmpA} type veth peer name {tmpB}");
        Must($"ip link set {tmpA} netns {nsA} name {ifA}");
        Must($"ip link set {tmpB} netns {nsB} name {ifB}");
        foreach (var (ns, ifn, mac) in new[] { (nsA, ifA, macA), (nsB, ifB, macB) })
        {
            if (mac != null) Must($"ip -n {ns} link set {ifn} address {mac}");
            Exec(ns, $"sysctl -qw net.ipv6.conf.{ifn}.disable_ipv6=1");
            Must($"ip -n {ns} link set {ifn} up");
        }
    }

    public void Address(string ns, string ifn, string prefix) => Must($"ip -n {ns} addr add {prefix} dev {ifn}");

    /// <summary>
    /// Turns off segmentation offloads on a host's interface, as one must on hosts whose traffic
    /// a software middlebox forwards: otherwise the stack hands 64 KB TCP super-frames to the veth.
    /// </summary>
    public static void NoOffloads(string ns, string ifn) => Must($"ip netns exec {ns} ethtool -K {ifn} tso off gso off gro off");

    public void DefaultRoute(string ns, string via) => Must($"ip -n {ns} route add default via {via}");

    /// <summary>Runs a command inside a namespace and waits for it.</summary>
    public static (int Exit, string Out) Exec(string ns, string command, int timeoutMs = 30_000) =>
        Sh($"ip netns exec {ns} {command}", timeoutMs);

    /// <summary>Starts a long-running command inside a namespace; it is stopped in Dispose.</summary>
    public BackgroundProcess Start(string ns, IEnumerable<string> argv)
    {
        var psi = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "netns", "exec", ns }.Concat(argv)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        _processes.Add(p);
        return new BackgroundProcess(p);
    }

    /// <summary>Starts clickos inside a namespace and waits until its configuration prints "ready".</summary>
    public BackgroundProcess StartClick(string ns, string configFile, params string[] args)
    {
        var bp = Start(ns, ClickArgv(["run", .. args, configFile]));
        if (!bp.WaitForLine("ready", 30_000))
            throw new InvalidOperationException($"clickos did not start:\n{bp.Output}\n{bp.Errors}");
        return bp;
    }

    /// <summary>The command line that runs clickos with <paramref name="args"/>.</summary>
    public static List<string> ClickArgv(IEnumerable<string> args)
    {
        string exe = ClickRunner.Executable;
        var argv = exe.EndsWith(".dll", StringComparison.Ordinal) ? new List<string> { "dotnet", exe } : [exe];
        argv.AddRange(args);
        return argv;
    }

    public static (int Exit, string Out) Sh(string command, int timeoutMs = 30_000)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (124, so.Result + se.Result);
        }
        return (p.ExitCode, so.Result + se.Result);
    }

    private static void Must(string command)
    {
        var (exit, output) = Sh(command);
        if (exit != 0) throw new InvalidOperationException($"'{command}' failed ({exit}): {output}");
    }

    public void Dispose()
    {
        foreach (var p in _processes)
        {
            try
            {
                if (!p.HasExited) { Sh($"kill -TERM {p.Id}"); if (!p.WaitForExit(5000)) p.Kill(entireProcessTree: true); }
                p.WaitForExit();
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        foreach (var ns in _namespaces) Sh($"ip netns del {ns}");
    }
}

/// <summary>A process started in a namespace, with its output collected as it comes.</summary>
public sealed class BackgroundProcess
{
    private readonly Process _p;
    private readonly StringBuilder _out = new(), _err = new();
    private readonly object _lock = new();

    public BackgroundProcess(Process p)
    {
        _p = p;
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_lock) _out.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_lock) _err.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
    }

    public int Id => _p.Id;
    public string Output { get { lock (_lock) return _out.ToString(); } }
    public string Errors { get { lock (_lock) return _err.ToString(); } }

    /// <summary>Waits for an output line that starts with <paramref name="text"/>.</summary>
    public bool WaitForLine(string text, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (Output.Split('\n').Any(l => l.Trim().StartsWith(text, StringComparison.Ordinal))) return true;
            if (_p.HasExited) return false;
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Waits for the process to finish by itself; returns its exit code, or -1 after killing it at the timeout.</summary>
    public int WaitForExit(int timeoutMs)
    {
        if (!_p.WaitForExit(timeoutMs)) { _p.Kill(entireProcessTree: true); _p.WaitForExit(); return -1; }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    /// <summary>Waits for a line on standard error that starts with <paramref name="text"/>.</summary>
    public bool WaitForErrorLine(string text, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (Errors.Split('\n').Any(l => l.Trim().StartsWith(text, StringComparison.Ordinal))) return true;
            if (_p.HasExited) return false;
            Thread.Sleep(20);
        }
        return false;
    }

    /// <summary>Asks the process to stop (SIGTERM, as an operator would) and waits for it.</summary>
    public int Stop(int timeoutMs = 10_000)
    {
        if (!_p.HasExited) NetworkLab.Sh($"kill -TERM {_p.Id}");
        if (!_p.WaitForExit(timeoutMs)) { _p.Kill(entireProcessTree: true); _p.WaitForExit(); return -1; }
        _p.WaitForExit(); // drains the output readers
        return _p.ExitCode;
    }
}
