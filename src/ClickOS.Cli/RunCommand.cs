using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using ClickOS.Control;
using ClickOS.Core;
using ClickOS.IO;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Cli;

/// <summary>
/// "clickos run": Click's userlevel driver command line, with the same options, output
/// formats and exit codes.
/// </summary>
public static class RunCommand
{
    public const string VersionText = """
        click (Click) 2.1 (ClickOS for .NET)
        Copyright (C) 1999-2001 Massachusetts Institute of Technology
        Copyright (C) 2001-2003 International Computer Science Institute
        Copyright (C) 2008-2009 Meraki, Inc.
        Copyright (C) 2004-2011 Regents of the University of California
        Copyright (C) 1999-2012 Eddie Kohler
        This is free software; see the source for copying conditions.
        There is NO warranty, not even for merchantability or fitness for a
        particular purpose.

        """;

    public const string HelpText = """
        'Click' runs a Click router configuration at user level. It installs the
        configuration, reporting any errors to standard error, and then generally runs
        until interrupted.

        Usage: clickos run [OPTION]... [ROUTERFILE]

        Options:
          -f, --file FILE               Read router configuration from FILE.
          -e, --expression EXPR         Use EXPR as router configuration.
          -j, --threads N               Start N threads (default 1).
          -p, --port PORT               Listen for control connections on TCP port.
          -u, --unix-socket FILE        Listen for control connections on Unix socket.
              --socket FD               Add a file descriptor control connection.
          -R, --allow-reconfigure       Provide a writable 'hotconfig' handler.
          -h, --handler ELEMENT.H       Call ELEMENT's read handler H after running
                                        driver and print result to standard output.
          -x, --exit-handler ELEMENT.H  Use handler ELEMENT.H value for exit status.
          -o, --output FILE             Write flat configuration to FILE.
          -q, --quit                    Do not run driver.
          -t, --time                    Print information on how long driver took.
          -w, --no-warnings             Do not print warnings.
              --simtime                 Run in simulation time.
          -C, --clickpath PATH          Use PATH for CLICKPATH.
              --help                    Print this message and exit.
          -v, --version                 Print version number and exit.

        Report bugs to <click@librelist.com>.

        """;

    private const string ShortUsage = "Usage: clickos run [OPTION]... [ROUTERFILE]\nTry 'clickos run --help' for more information.\n";

    private sealed class Options
    {
        public string? File, Expr, Output, ExitHandler;
        public readonly List<string> Handlers = [];
        public bool Quit, Time, NoWarnings, SimTime, AllowReconfigure;
        public readonly List<string> Ports = [], UnixSockets = [];
        public double SimStart = 1_000_000_000;
        public int Threads = 1;
        public readonly Dictionary<string, string> Defines = new(StringComparer.Ordinal);
    }

    private static readonly (string Long, char Short, bool Arg)[] Spec =
    [
        ("file", 'f', true), ("expression", 'e', true), ("threads", 'j', true), ("port", 'p', true),
        ("unix-socket", 'u', true), ("socket", '\0', true), ("allow-reconfigure", 'R', false),
        ("handler", 'h', true), ("exit-handler", 'x', true), ("output", 'o', true), ("quit", 'q', false),
        ("time", 't', false), ("no-warnings", 'w', false), ("warnings", '\0', false), ("simtime", '\0', false),
        ("simulation-time", '\0', false), ("clickpath", 'C', true), ("help", '\0', false), ("version", 'v', false),
    ];

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new Options();
        int? early = ParseArgs(args, o, stdout, stderr);
        if (early != null) return early.Value;

        var errh = new TextErrorHandler(stderr);
        string text, file;
        if (o.Expr != null) { text = o.Expr; file = "<expr>"; }
        else if (o.File != null && o.File != "-")
        {
            file = o.File;
            try { text = System.IO.File.ReadAllText(o.File, Encoding.Latin1); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errh.Error($"{o.File}: {IOErrorText.Of(ex)}");
                return 1;
            }
        }
        else
        {
            file = "<stdin>";
            text = Console.In.ReadToEnd();
        }

        var registry = ControlElements.CreateFullRegistry();
        static string? ReadInclude(string p) => System.IO.File.Exists(p) ? System.IO.File.ReadAllText(p, Encoding.Latin1) : null;
        var flat = ConfigLoader.Load(text, file, registry, errh, o.Defines, ReadInclude);
        if (flat == null) return 1;
        AddDriverControlSockets(flat, o);

        // Under a ClickOS host (or systemd), the environment says how to report readiness and idleness.
        var instance = InstanceEnvironment.Read();
        var options = new RouterOptions
        {
            InstanceStats = instance.Managed,
            VifDirectory = Environment.GetEnvironmentVariable("CLICKOS_VIF_DIR") is { Length: > 0 } vifs ? vifs : null,
            InitialPackets = instance.Managed ? 16 : 256,
            MaxPackets = instance.MaxPackets,
            SimulatedTime = o.SimTime,
            SimulatedStart = o.SimStart,
            StandardOutput = stdout,
            ErrorOutput = stderr,
            // -R: the hotconfig handler parses and initializes the new configuration off the
            // router's thread; the driver swaps it in at a batch boundary.
            HotConfig = o.AllowReconfigure ? (newText, old, eh) =>
            {
                var next = ConfigLoader.Load(newText, "<hotconfig>", registry, eh, o.Defines, ReadInclude);
                if (next == null) return null;
                AddDriverControlSockets(next, o);
                return Router.Create(next, registry, eh, old.Options, replacing: old);
            } : null,
        };
        var router = Router.Create(flat, registry, errh, options);
        if (router == null) return 1;
        int exit = 0;

        if (o.Output != null)
        {
            string flatText = Unparser.Unparse(flat);
            if (o.Output == "-") stdout.Write(flatText);
            else
            {
                try { System.IO.File.WriteAllText(o.Output, flatText, Encoding.Latin1); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { errh.Error($"{o.Output}: {IOErrorText.Of(ex)}"); exit = 1; }
            }
        }

        if (flat.Elements.Count == 0 && !o.Quit && !o.NoWarnings)
            errh.Warning($"warning: {file}: configuration has no elements, exiting");

        var wall = Stopwatch.StartNew();
        // Only -t reads /proc for CPU times: an instance's start is measured in milliseconds.
        var cpu0 = o.Time ? Process.GetCurrentProcess() : null;
        var user0 = cpu0?.UserProcessorTime ?? default;
        var sys0 = cpu0?.PrivilegedProcessorTime ?? default;
        if (!o.Quit && flat.Elements.Count > 0)
        {
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; router.StopNow(); });
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; router.StopNow(); });
            var hooks = instance.Hooks();
            // The host sends SIGCONT when it resumes a paused instance: a new idle period starts.
            using var sigcont = hooks == null || OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGCONT, ctx =>
            {
                hooks.ResetIdle();
                router.Wake();
            });
            try
            {
                router = Driver.Run(router, hooks);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                stdout.Flush();
                errh.Error($"driver stopped by an internal error: {ex.GetType().Name}: {ex.Message}");
                router.Cleanup();
                return 1;
            }
        }
        wall.Stop();
        if (o.Time)
        {
            var p = Process.GetCurrentProcess();
            var u = p.UserProcessorTime - user0;
            var s = p.PrivilegedProcessorTime - sys0;
            long wcs = (wall.Elapsed.Ticks / 10 + 5000) / 10000; // centiseconds
            stdout.Write(string.Create(CultureInfo.InvariantCulture,
                $"{Ms(u)}u {Ms(s)}s {wcs / 6000}:{(wcs / 100) % 60:00}.{wcs % 100:00}\n"));
        }

        using var names = NameDatabase.Enter(router.Names);
        if (PrintHandlers(router, o.Handlers, stdout, stderr)) exit = 1;
        if (o.ExitHandler != null) exit = ExitValue(router, o.ExitHandler, stderr);
        router.Cleanup();
        return exit;

        static string Ms(TimeSpan t)
        {
            long ms = (t.Ticks / 10 + 500) / 1000;
            return $"{ms / 1000}.{ms % 1000:000}";
        }
    }

    /// <summary>Parses Click's options (bundled short options, unique long prefixes). Returns an exit code to stop early.</summary>
    private static int? ParseArgs(string[] args, Options o, TextWriter stdout, TextWriter stderr)
    {
        int Fail(string msg)
        {
            stderr.Write($"clickos: {msg}\n{ShortUsage}");
            return 1;
        }
        bool sawFile = false;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? name = null, value = null;
            bool hasArg;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string body = a[2..];
                int eq = body.IndexOf('=');
                string key = eq < 0 ? body : body[..eq];
                if (eq >= 0) value = body[(eq + 1)..];
                var matches = Spec.Where(s => s.Long == key).ToList();
                if (matches.Count == 0) matches = Spec.Where(s => s.Long.StartsWith(key, StringComparison.Ordinal)).ToList();
                if (key.StartsWith("no-", StringComparison.Ordinal) && matches.Count == 0) { continue; }
                if (matches.Count == 0) return Fail($"unrecognized option '--{key}'");
                if (matches.Count > 1) return Fail($"option '--{key}' is ambiguous");
                name = matches[0].Long;
                hasArg = matches[0].Arg;
                if (name is "simtime" or "simulation-time")
                {
                    o.SimTime = true;
                    if (value != null && !double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out o.SimStart))
                        return Fail($"'--simtime' expects a real number, not '{value}'");
                    continue;
                }
                if (hasArg && value == null)
                {
                    if (i + 1 >= args.Length) return Fail($"'--{name}' requires an argument");
                    value = args[++i];
                }
                else if (!hasArg && value != null) return Fail($"'--{name}' can't take an argument");
                int? r = Apply(name, value, o, stdout, Fail);
                if (r != null) return r;
                continue;
            }
            if (a.StartsWith('-') && a.Length > 1)
            {
                for (int k = 1; k < a.Length; k++)
                {
                    char c = a[k];
                    var spec = Spec.FirstOrDefault(s => s.Short == c && c != '\0');
                    if (spec.Long == null) return Fail($"unrecognized option '-{c}'");
                    if (spec.Arg)
                    {
                        if (k + 1 < a.Length) value = a[(k + 1)..];
                        else if (i + 1 < args.Length) value = args[++i];
                        else return Fail($"'-{c}' requires an argument");
                        int? r = Apply(spec.Long, value, o, stdout, Fail);
                        if (r != null) return r;
                        break;
                    }
                    int? r2 = Apply(spec.Long, null, o, stdout, Fail);
                    if (r2 != null) return r2;
                }
                continue;
            }
            int eqi = a.IndexOf('=');
            if (eqi > 0 && a[..eqi].All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_'))
            {
                string n = a[..eqi];
                if (o.Defines.ContainsKey(n)) return Fail($"parameter '{n}' multiply defined");
                o.Defines[n] = a[(eqi + 1)..];
                continue;
            }
            if (sawFile || o.Expr != null) return Fail("router configuration specified twice");
            o.File = a;
            sawFile = true;
        }
        return null;
    }

    private static int? Apply(string name, string? value, Options o, TextWriter stdout, Func<string, int> fail)
    {
        switch (name)
        {
            case "file":
                if (o.File != null || o.Expr != null) return fail("router configuration specified twice");
                o.File = value; break;
            case "expression":
                if (o.File != null || o.Expr != null) return fail("router configuration specified twice");
                o.Expr = value; break;
            case "handler": o.Handlers.Add(value!); break;
            case "exit-handler":
                if (o.ExitHandler != null) return fail("--exit-handler specified twice");
                o.ExitHandler = value; break;
            case "output":
                if (o.Output != null) return fail("output file specified twice");
                o.Output = value; break;
            case "quit": o.Quit = true; break;
            case "time": o.Time = true; break;
            case "no-warnings": o.NoWarnings = true; break;
            case "warnings": o.NoWarnings = false; break;
            case "threads":
                if (!int.TryParse(value, out o.Threads)) return fail($"'-j' expects an integer, not '{value}'");
                break;
            case "port":
            {
                string v = value!.EndsWith('+') ? value[..^1] : value!;
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
                    return fail($"'--port' expects a TCP port number, not '{value}'");
                o.Ports.Add(value!);
                break;
            }
            case "unix-socket": o.UnixSockets.Add(value!); break;
            case "allow-reconfigure": o.AllowReconfigure = true; break;
            case "socket":
                return fail("'--socket' (an inherited descriptor) is not supported; use '--port' or '--unix-socket'");
            case "clickpath": break;
            case "help": stdout.Write(HelpText); return 0;
            case "version": stdout.Write(VersionText); return 0;
        }
        return null;
    }

    /// <summary>
    /// The driver's -p and -u sockets, added to the configuration as Click's driver does (so they
    /// show in 'list' and survive hot-swaps by name).
    /// </summary>
    private static void AddDriverControlSockets(FlatConfig flat, Options o)
    {
        int n = 0;
        string Name() => n == 0 ? "click_driver@@ControlSocket" : $"click_driver@@ControlSocket@{n}";
        foreach (var p in o.Ports)
        {
            flat.Elements.Add(new FlatElement(Name(), "ControlSocket", $"TCP, {p}", "click"));
            n++;
        }
        foreach (var u in o.UnixSockets)
        {
            flat.Elements.Add(new FlatElement(Name(), "ControlSocket", $"UNIX, {ConfigText.Quote(u)}", "click"));
            n++;
        }
    }

    /// <summary>Prints -h handlers in Click's format. Returns true if any failed.</summary>
    private static bool PrintHandlers(Router router, List<string> names, TextWriter stdout, TextWriter stderr)
    {
        bool failed = false;
        bool showNames = names.Count > 1;
        foreach (var full in names)
        {
            int dot = full.LastIndexOf('.');
            var targets = new List<(Element? Element, Handler Handler, string Name)>();
            bool named = showNames;
            if (dot < 0)
            {
                var h = router.GlobalHandlers.FirstOrDefault(x => x.Name == full);
                if (h == null || !h.CanRead) { stderr.Write(h == null ? $"no '{full}' handler\n" : $"'{full}' is a write handler\n"); failed = true; continue; }
                targets.Add((null, h, full));
            }
            else
            {
                string ename = full[..dot], hname = full[(dot + 1)..];
                var e = router[ename];
                if (e != null)
                {
                    var h = e.FindLocalHandler(hname);
                    if (h == null) { stderr.Write($"no '{full}' handler\n"); failed = true; continue; }
                    if (!h.CanRead) { stderr.Write($"'{full}' is a write handler\n"); failed = true; continue; }
                    targets.Add((e, h, full));
                }
                else
                {
                    bool glob = ename.IndexOfAny(['?', '*', '[']) >= 0;
                    var matches = router.Elements.Where(x => glob ? Glob(ename, x.Name) : x.ClassName == ename).ToList();
                    if (matches.Count == 0) { stderr.Write(glob ? $"no element matching '{ename}'\n" : $"no element '{ename}'\n"); failed = true; continue; }
                    named = true;
                    foreach (var m in matches)
                        if (m.FindLocalHandler(hname) is { CanRead: true } mh) targets.Add((m, mh, m.Name + "." + hname));
                }
            }
            foreach (var (_, h, name) in targets)
            {
                var eh = new CollectingErrorHandler();
                string v = h.CallRead("", eh) ?? "";
                if (named) stdout.Write(name + ":\n");
                stdout.Write(h.Terminated(v));
                if (named) stdout.Write('\n');
            }
        }
        stdout.Flush();
        return failed;
    }

    private static bool Glob(string pattern, string name)
    {
        var rx = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal).Replace("\\[", "[", StringComparison.Ordinal) + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(name, rx);
    }

    private static int ExitValue(Router router, string spec, TextWriter stderr)
    {
        var (name, param) = ConfigText.ShiftWord(spec);
        var errh = new TextErrorHandler(stderr);
        var h = router.FindHandler(name, null, out _, errh);
        if (h == null) return 255;
        if (!h.CanRead) { stderr.Write($"no '{name}' read handler\n"); return 255; }
        var v = ConfigText.Uncomment(h.CallRead(param, errh) ?? "");
        if (int.TryParse(v, out int n)) return n;
        if (Values.ParseBool(v, out bool b)) return b ? 0 : 1;
        stderr.Write("exit handler value should be integer\n");
        return 255;
    }
}
