using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Runtime;

public sealed record RouterOptions
{
    public bool SimulatedTime { get; init; }
    /// <summary>Where simulated time starts (Click's default: 1,000,000,000 s after the epoch).</summary>
    public double SimulatedStart { get; init; } = 1_000_000_000;
    public TextWriter? StandardOutput { get; init; }
    public TextWriter? ErrorOutput { get; init; }
    public int InitialPackets { get; init; } = 256;
    public string Version { get; init; } = Router.ClickVersion;
    /// <summary>
    /// Builds and initializes a replacement configuration from its text (off the router's
    /// thread), reporting errors; null when it fails. When set, the router has Click's
    /// <c>hotconfig</c> write handler (the driver's <c>-R</c>).
    /// </summary>
    public Func<string, Router, ErrorHandler, Router?>? HotConfig { get; init; }
    /// <summary>Adds the global <c>stats</c> read handler a ClickOS host reads for its metrics (not in Click, so off by default).</summary>
    public bool InstanceStats { get; init; }
    /// <summary>Largest number of packets the router's pool may hold (a host's memory limit).</summary>
    public long MaxPackets { get; init; } = 1 << 22;
    /// <summary>Where a ClickOS host put this instance's virtual ports (FromDevice(vif0) attaches to the file vif0 there); null standalone.</summary>
    public string? VifDirectory { get; init; }
}

/// <summary>
/// One running configuration: its elements, their connections, handlers, a packet pool and a
/// scheduler. A router belongs to one thread; a process may hold many.
/// </summary>
public sealed partial class Router : ElementHost
{
    public const string ClickVersion = "2.1";

    private readonly List<Element> _elements = [];
    private readonly List<Connection> _connections = [];
    private readonly Dictionary<string, Element> _byName = new(StringComparer.Ordinal);
    private readonly List<Handler> _globalHandlers = [];
    private readonly PacketPool _pool;
    private readonly BatchPool _batches = new();
    private readonly TaskScheduler _scheduler = new();
    private readonly TimerSet _timers;
    private readonly RouterClock _clock;
    private readonly TextWriter _stdout, _stderr;
    private readonly ErrorHandler _runtimeErrors;
    private int _stopRequests;
    private volatile bool _stopNow;

    public readonly record struct Connection(Element From, int FromPort, Element To, int ToPort);

    private Router(RouterOptions options, ElementRegistry registry, FlatConfig flat, Router? predecessor)
    {
        _predecessor = predecessor;
        _clock = new RouterClock(options.SimulatedTime, (long)(options.SimulatedStart * 1e9));
        _timers = new TimerSet(_clock);
        _pool = new PacketPool(options.InitialPackets, maxPackets: options.MaxPackets);
        _stdout = options.StandardOutput ?? Console.Out;
        _stderr = options.ErrorOutput ?? Console.Error;
        _runtimeErrors = new TextErrorHandler(_stderr);
        Registry = registry;
        Flat = flat;
        Options = options;
    }

    public ElementRegistry Registry { get; }
    public FlatConfig Flat { get; }
    public RouterOptions Options { get; }
    public IReadOnlyList<Connection> Connections => _connections;
    public override IReadOnlyList<Element> Elements => _elements;
    public override PacketPool Pool => _pool;
    public override BatchPool Batches => _batches;
    public override TaskScheduler Scheduler => _scheduler;
    public override TimerSet Timers => _timers;
    public override RouterClock Clock => _clock;
    public override TextWriter ErrorOutput => _stderr;
    public override TextWriter StandardOutput => _stdout;
    public override string? VifDirectory => Options.VifDirectory;
    public override ErrorHandler RuntimeErrors => _runtimeErrors;
    public IReadOnlyList<Handler> GlobalHandlers => _globalHandlers;
    /// <summary>AddressInfo names, current on the router's thread while it configures and runs.</summary>
    public NameDatabase Names { get; } = new();

    /// <summary>
    /// Set by a DriverManager: called when the run count drops to zero. Returns after one
    /// script step; the script raises the run count again if it wants the router to go on.
    /// </summary>
    public Action? DriverHook { get; set; }
    public bool StopRequested => _stopNow || _runCount <= 0;
    internal Func<bool> StopRequestedFn => _stopFn ??= () => _stopNow || _runCount <= 0;
    private Func<bool>? _stopFn;
    private int _runCount = 1;
    /// <summary>Also called by <see cref="Wake"/>: a shared driver that runs many routers on one thread hooks in here.</summary>
    public Action? WakeHook { get; set; }
    /// <summary>Set by a shared driver after the router's first turn.</summary>
    internal bool Started { get; set; }
    public int RunCount => _runCount;

    /// <summary>Click's please_stop_driver: lowers the run count; the driver stops at zero unless a DriverManager keeps it going.</summary>
    public override void PleaseStop() => AdjustRunCount(-1);

    public void AdjustRunCount(int delta)
    {
        _stopRequests += delta < 0 ? -delta : 0;
        _runCount += delta;
        if (_runCount <= 0) Wake();
    }

    /// <summary>Stops the driver unconditionally (SIGINT, a host stopping an instance). After a hot-swap it stops the router that replaced this one.</summary>
    public void StopNow()
    {
        if (Volatile.Read(ref _successor) is { } next)
        {
            next.StopNow();
            return;
        }
        _stopNow = true;
        Wake();
    }

    /// <summary>Wakes a driver asleep in <see cref="PollSelects"/> (a handler write from another thread, a stop).</summary>
    public void Wake()
    {
        WakeHook?.Invoke();
        int fd = _wakeFd;
        if (fd >= 0) Posix.SignalEventFd(fd);
    }

    /// <summary>Called by the driver when the run count is at or below zero: lets a DriverManager step; returns whether to keep running.</summary>
    public bool CheckDriver()
    {
        if (_stopNow) return false;
        for (int i = 0; i < 1000 && _runCount <= 0 && DriverHook != null; i++)
        {
            int before = _runCount;
            DriverHook();
            if (_runCount == before) break;
        }
        if (_runCount <= 0) _stopNow = true;
        return !_stopNow;
    }

    public int StopRequests => _stopRequests;

    public Element? this[string name] => _byName.GetValueOrDefault(name);

    // ---------------- building ----------------

    /// <summary>
    /// Builds and initializes a router from a flat configuration. Reports every error to
    /// <paramref name="errh"/>; returns null if any occurred (after printing Click's
    /// "Router could not be initialized!").
    /// </summary>
    public static Router? Create(FlatConfig flat, ElementRegistry registry, ErrorHandler errh, RouterOptions? options = null, bool initialize = true, Router? replacing = null)
    {
        var r = new Router(options ?? new RouterOptions(), registry, flat, replacing);
        int before = errh.ErrorCount;
        if (!r.Build(errh) || errh.ErrorCount > before)
        {
            errh.Error("Router could not be initialized!");
            return null;
        }
        if (initialize && !r.Initialize(errh))
        {
            errh.Error("Router could not be initialized!");
            return null;
        }
        return r;
    }

    private bool Build(ErrorHandler errh)
    {
        int before = errh.ErrorCount;
        for (int i = 0; i < Flat.Elements.Count; i++)
        {
            var fe = Flat.Elements[i];
            var e = Registry.Create(fe.ClassName);
            if (e == null)
            {
                errh.Error(fe.Landmark, $"unknown element class '{fe.ClassName}'");
                e = new ErrorElement { ClassName = fe.ClassName };
            }
            e.Name = fe.Name;
            e.Landmark = fe.Landmark;
            e.Configuration = fe.Config;
            e.Index = i;
            e.AttachHost(this);
            _elements.Add(e);
            _byName[fe.Name] = e;
        }
        foreach (var c in Flat.Connections)
            _connections.Add(new Connection(_elements[c.From], c.FromPort, _elements[c.To], c.ToPort));
        if (errh.ErrorCount > before) return false;
        return ResolvePorts(errh);
    }

    private static string Ctx(Element e) => $"'{e.Name} :: {e.ClassName}'";

    /// <summary>Port counts, push/pull resolution, and connection checks, with Click's messages.</summary>
    private bool ResolvePorts(ErrorHandler errh)
    {
        int before = errh.ErrorCount;
        int n = _elements.Count;
        var nin = new int[n];
        var nout = new int[n];
        var usedIn = new int[n];
        var usedOut = new int[n];
        foreach (var c in _connections)
        {
            usedOut[c.From.Index] = Math.Max(usedOut[c.From.Index], c.FromPort + 1);
            usedIn[c.To.Index] = Math.Max(usedIn[c.To.Index], c.ToPort + 1);
        }
        for (int i = 0; i < n; i++)
        {
            var e = _elements[i];
            if (!PortRange.TryParseSpec(e.PortCount, out var ri, out var ro))
            {
                errh.Error($"{e.Name} :: {e.ClassName}: bad port count");
                continue;
            }
            if (ri.SameAsOther && ro.SameAsOther) { nin[i] = nout[i] = Math.Max(usedIn[i], usedOut[i]); }
            else if (ri.SameAsOther) { nout[i] = ro.Resolve(usedOut[i]); nin[i] = nout[i]; }
            else if (ro.SameAsOther) { nin[i] = ri.Resolve(usedIn[i]); nout[i] = nin[i]; }
            else { nin[i] = ri.Resolve(usedIn[i]); nout[i] = ro.Resolve(usedOut[i]); }
        }
        // Connections to ports that do not exist (input side first, as Click checks them).
        var valid = new List<Connection>();
        foreach (var c in _connections)
        {
            bool ok = true;
            if (c.ToPort >= nin[c.To.Index])
            {
                errh.Error(c.To.Landmark, $"{Ctx(c.To)} has no input {c.ToPort}");
                ok = false;
            }
            if (c.FromPort >= nout[c.From.Index])
            {
                errh.Error(c.From.Landmark, $"{Ctx(c.From)} has no output {c.FromPort}");
                ok = false;
            }
            if (ok) valid.Add(c);
        }
        if (errh.ErrorCount > before) return false;

        // Processing: 0 = agnostic (unresolved), 1 = push, 2 = pull.
        var inProc = new int[n][];
        var outProc = new int[n][];
        for (int i = 0; i < n; i++)
        {
            var e = _elements[i];
            string proc = e.Processing;
            int slash = proc.IndexOf('/');
            string pin = slash < 0 ? proc : proc[..slash];
            string pout = slash < 0 ? proc : proc[(slash + 1)..];
            inProc[i] = new int[nin[i]];
            outProc[i] = new int[nout[i]];
            for (int p = 0; p < nin[i]; p++) inProc[i][p] = Code(pin, p);
            for (int p = 0; p < nout[i]; p++) outProc[i][p] = Code(pout, p);
        }
        // Propagate push/pull through connections and through agnostic elements' flows.
        bool changed = true;
        var agnosticIn = new bool[n][];
        var agnosticOut = new bool[n][];
        for (int i = 0; i < n; i++)
        {
            agnosticIn[i] = inProc[i].Select(x => x == 0).ToArray();
            agnosticOut[i] = outProc[i].Select(x => x == 0).ToArray();
        }
        var flows = new FlowCode[n];
        for (int i = 0; i < n; i++) flows[i] = new FlowCode(_elements[i].FlowCode);
        int pass = 0;
        while (changed)
        {
            changed = false;
            foreach (var c in valid)
            {
                ref int o = ref outProc[c.From.Index][c.FromPort];
                ref int ip = ref inProc[c.To.Index][c.ToPort];
                if (o == 0 && ip != 0) { o = ip; changed = true; }
                else if (ip == 0 && o != 0) { ip = o; changed = true; }
            }
            for (int i = 0; i < n; i++)
            {
                for (int a = 0; a < nin[i]; a++)
                {
                    if (!agnosticIn[i][a]) continue;
                    for (int b = 0; b < nout[i]; b++)
                    {
                        if (!agnosticOut[i][b] || !flows[i].Flows(a, b)) continue;
                        ref int x = ref inProc[i][a];
                        ref int y = ref outProc[i][b];
                        if (x == 0 && y != 0) { x = y; changed = true; }
                        else if (y == 0 && x != 0) { y = x; changed = true; }
                    }
                }
            }
            if (!changed && pass++ == 0)
            {
                // Whatever is still agnostic defaults to push; propagate again from there.
                for (int i = 0; i < n && !changed; i++)
                {
                    for (int p = 0; p < nin[i] && !changed; p++) if (inProc[i][p] == 0) { inProc[i][p] = 1; changed = true; }
                    for (int p = 0; p < nout[i] && !changed; p++) if (outProc[i][p] == 0) { outProc[i][p] = 1; changed = true; }
                }
                if (changed) pass = 0;
            }
        }
        // Agnostic ports of one element joined by flow must agree.
        for (int i = 0; i < n; i++)
        {
            var e = _elements[i];
            for (int a = 0; a < nin[i]; a++)
                for (int b = 0; b < nout[i]; b++)
                    if (agnosticIn[i][a] && agnosticOut[i][b] && flows[i].Flows(a, b) && inProc[i][a] != outProc[i][b])
                        errh.Error($"agnostic {Ctx(e)} in mixed context: {Name(inProc[i][a])} input {a}, {Name(outProc[i][b])} output {b}");
        }
        foreach (var c in valid)
        {
            int o = outProc[c.From.Index][c.FromPort], ip = inProc[c.To.Index][c.ToPort];
            if (o != ip)
                errh.Error($"{Ctx(c.From)} {Name(o)} output {c.FromPort} connected to {Ctx(c.To)} {Name(ip)} input {c.ToPort}");
        }
        if (errh.ErrorCount > before) return false;

        // Set up ports; check multiplicity and unused ports.
        for (int i = 0; i < n; i++)
            _elements[i].SetPorts(inProc[i].Select(x => x == 1).ToArray(), outProc[i].Select(x => x == 1).ToArray());
        var outCount = new Dictionary<(int, int), int>();
        var inCount = new Dictionary<(int, int), int>();
        foreach (var c in valid)
        {
            outCount[(c.From.Index, c.FromPort)] = outCount.GetValueOrDefault((c.From.Index, c.FromPort)) + 1;
            inCount[(c.To.Index, c.ToPort)] = inCount.GetValueOrDefault((c.To.Index, c.ToPort)) + 1;
            if (outProc[c.From.Index][c.FromPort] == 1) c.From.ConnectOutput(c.FromPort, c.To, c.ToPort);
            else c.To.ConnectInput(c.ToPort, c.From, c.FromPort);
        }
        for (int i = 0; i < n; i++)
            for (int p = 0; p < nin[i]; p++)
                for (int k = 1; k < inCount.GetValueOrDefault((i, p)) && inProc[i][p] == 2; k++)
                    errh.Error(_elements[i].Landmark, $"illegal reuse of {Ctx(_elements[i])} pull input {p}");
        for (int i = 0; i < n; i++)
            for (int p = 0; p < nout[i]; p++)
                for (int k = 1; k < outCount.GetValueOrDefault((i, p)) && outProc[i][p] == 1; k++)
                    errh.Error(_elements[i].Landmark, $"illegal reuse of {Ctx(_elements[i])} push output {p}");
        for (int i = 0; i < n; i++)
            for (int p = 0; p < nin[i]; p++)
                if (!inCount.ContainsKey((i, p)))
                    errh.Error(_elements[i].Landmark, $"{Ctx(_elements[i])} input {p} unused");
        for (int i = 0; i < n; i++)
            for (int p = 0; p < nout[i]; p++)
                if (!outCount.ContainsKey((i, p)))
                    errh.Error(_elements[i].Landmark, $"{Ctx(_elements[i])} output {p} unused");
        _connections.Clear();
        _connections.AddRange(valid);
        return errh.ErrorCount == before;

        static int Code(string s, int p)
        {
            if (s.Length == 0) return 0;
            char ch = s[Math.Min(p, s.Length - 1)];
            return ch switch { 'h' => 1, 'l' => 2, _ => 0 };
        }
        static string Name(int x) => x == 1 ? "push" : x == 2 ? "pull" : "agnostic";
    }

    private bool _initialized;

    /// <summary>Configures every element (in configure-phase order), then initializes them.</summary>
    public bool Initialize(ErrorHandler errh)
    {
        if (_initialized) return true;
        using var names = NameDatabase.Enter(Names);
        int before = errh.ErrorCount;
        var order = _elements.OrderBy(e => e.ConfigurePhaseValue).ThenBy(e => e.Index).ToList();
        foreach (var e in order)
        {
            var ctx = new ContextErrorHandler(errh, e.Landmark, $"While configuring {Ctx(e)}:");
            try
            {
                if (!e.Configure(ConfigText.SplitArgs(e.Configuration), ctx) && ctx.ErrorCount == 0)
                    ctx.Error("unspecified error");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ctx.Error($"internal error: {ex.Message}");
            }
        }
        if (errh.ErrorCount > before) return false;
        AddGlobalHandlers();
        foreach (var e in _elements) AddDefaultHandlers(e);
        foreach (var e in order)
        {
            var ctx = new ContextErrorHandler(errh, e.Landmark, $"While initializing {Ctx(e)}:");
            try
            {
                if (!e.Initialize(ctx) && ctx.ErrorCount == 0)
                    ctx.Error("unspecified error");
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ctx.Error($"internal error: {ex.Message}");
            }
            if (errh.ErrorCount > before) break;
        }
        if (errh.ErrorCount > before)
        {
            Cleanup();
            return false;
        }
        foreach (var e in _elements) e.AddHandlers();
        _initialized = true;
        return true;
    }

    private bool _cleanedUp;

    /// <summary>Lets elements release resources (close files, flush dumps). Idempotent.</summary>
    public void Cleanup()
    {
        if (_cleanedUp) return;
        _cleanedUp = true;
        foreach (var e in _elements)
        {
            try { e.Cleanup(); }
            catch (Exception ex) when (ex is not OutOfMemoryException) { _runtimeErrors.Error($"{e.Name}: cleanup failed: {ex.Message}"); }
        }
        int fd = Interlocked.Exchange(ref _wakeFd, -1);
        if (fd >= 0) Posix.close(fd);
    }

    // ---------------- handlers ----------------

    private void AddDefaultHandlers(Element e)
    {
        e.AddReadHandler("name", () => e.Name);
        e.AddReadHandler("class", () => e.ClassName);
        e.SetHandler("config", (_, _) => e.Configuration,
            e.CanLiveReconfigure ? (v, eh) =>
            {
                if (!e.LiveReconfigure(ConfigText.SplitArgs(v), eh)) return false;
                e.Configuration = v;
                return true;
            } : null, HandlerFlags.None);
        e.AddReadHandler("ports", e.PortsDescription);
        e.AddReadHandler("handlers", () => HandlerList(e.Handlers));
    }

    private static string HandlerList(IEnumerable<Handler> hs)
    {
        var sb = new StringBuilder();
        foreach (var h in hs)
            sb.Append(h.Name).Append('\t').Append(h.CanRead ? "r" : "").Append(h.CanWrite ? "w" : "").Append('\n');
        return sb.ToString();
    }

    /// <summary>
    /// The <c>stats</c> handler: "name value" lines summing the router's <see cref="ITrafficCounter"/>
    /// elements (packets and bytes in and out, drops) plus its buffer pool and task counts.
    /// </summary>
    public string StatsText()
    {
        long pin = 0, bin = 0, pout = 0, bout = 0, drops = 0;
        foreach (var e in _elements)
        {
            if (e is not ITrafficCounter t) continue;
            switch (t.Role)
            {
                case TrafficRole.Input: pin += t.TrafficPackets; bin += t.TrafficBytes; break;
                case TrafficRole.Output: pout += t.TrafficPackets; bout += t.TrafficBytes; break;
                default: drops += t.TrafficPackets; break;
            }
        }
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return string.Create(inv, $"packets_in {pin}\nbytes_in {bin}\npackets_out {pout}\nbytes_out {bout}\ndrops {drops}\n" +
            $"packets_made {_pool.Made}\npackets_outstanding {_pool.Outstanding}\npool_packets {_pool.Created}\n" +
            $"pool_buffer_bytes {_pool.BuffersAllocated * _pool.BufferSize}\ntasks_run {_scheduler.Runs}\nelements {_elements.Count}\n");
    }

    private void AddGlobal(string name, Func<string>? read, WriteHandlerFn? write = null)
    {
        _globalHandlers.Add(new Handler(name, read == null ? null : (_, _) => read(), write, HandlerFlags.None));
    }

    private void AddGlobalHandlers()
    {
        AddGlobal("version", () => Options.Version);
        AddGlobal("list", () =>
        {
            var sb = new StringBuilder().Append(_elements.Count).Append('\n');
            foreach (var e in _elements) sb.Append(e.Name).Append('\n');
            return sb.ToString();
        });
        AddGlobal("classes", () => string.Concat(Registry.ClassNames.Select(c => c + "\n")));
        AddGlobal("config", () => Unparser.Unparse(Flat));
        AddGlobal("flatconfig", () => Unparser.Unparse(Flat));
        AddGlobal("requirements", () => string.Concat(Flat.Requirements.Select(r => r + "\n")));
        AddGlobal("handlers", () => HandlerList(_globalHandlers));
        AddGlobal("stop", null, (v, eh) =>
        {
            int n = 1;
            if (v.Trim().Length > 0 && !int.TryParse(v.Trim(), out n)) return eh.Error("stop: expected integer");
            AdjustRunCount(-n);
            return true;
        });
        AddGlobal("driver", () => "userlevel");
        if (Options.HotConfig != null)
            _globalHandlers.Add(new Handler("hotconfig", null, HotConfig, HandlerFlags.ControlThread));
        if (Options.InstanceStats)
            AddGlobal("stats", StatsText);
    }

    public override Element? FindElement(string name, Element? context)
    {
        if (context != null)
        {
            string prefix = context.Name;
            int slash;
            while ((slash = prefix.LastIndexOf('/')) >= 0)
            {
                prefix = prefix[..slash];
                if (_byName.TryGetValue(prefix + "/" + name, out var e)) return e;
            }
        }
        if (_byName.TryGetValue(name, out var found)) return found;
        // Click also accepts element numbers (1-based).
        if (int.TryParse(name, out int idx) && idx >= 1 && idx <= _elements.Count) return _elements[idx - 1];
        return null;
    }

    public override Handler? FindHandler(string name, Element? context, out Element? element, ErrorHandler errh)
    {
        element = null;
        int dot = name.LastIndexOf('.');
        if (dot < 0)
        {
            var g = _globalHandlers.FirstOrDefault(h => h.Name == name);
            if (g == null) errh.Error($"no global handler '{name}'");
            return g;
        }
        string ename = name[..dot], hname = name[(dot + 1)..];
        element = FindElement(ename, context);
        if (element == null)
        {
            errh.Error($"no element named '{ename}'");
            return null;
        }
        var h = element.FindLocalHandler(hname);
        if (h == null) errh.Error($"no handler '{element.Name}.{hname}'");
        return h;
    }

    // ---------------- notifiers ----------------

    // ---------------- file descriptors ----------------

    private readonly List<(int Fd, Action OnReadable)> _selects = [];
    private Posix.PollFd[] _pollFds = [];

    public override void AddSelect(int fd, Action onReadable)
    {
        _selects.RemoveAll(x => x.Fd == fd);
        _selects.Add((fd, onReadable));
        _pollFds = new Posix.PollFd[_selects.Count];
        SelectsChanged?.Invoke(this, fd, true);
    }

    public override void RemoveSelect(int fd)
    {
        _selects.RemoveAll(x => x.Fd == fd);
        _pollFds = new Posix.PollFd[_selects.Count];
        SelectsChanged?.Invoke(this, fd, false);
    }

    /// <summary>A driver that watches descriptors itself (the shared driver's epoll) hears of each added (true) and removed descriptor.</summary>
    public Action<Router, int, bool>? SelectsChanged { get; set; }

    /// <summary>The descriptors registered now.</summary>
    public IEnumerable<int> SelectFds => _selects.Select(x => x.Fd).ToArray();

    public bool HasSelects => _selects.Count > 0;

    // An eventfd polled with the selects, so a handler call or a stop wakes a driver asleep in
    // poll(). Made when a driver first starts this router (a shared driver never sleeps in it,
    // so ten thousand shared instances do not hold ten thousand descriptors).
    private int _wakeFd = -1;

    /// <summary>Makes the wake descriptor before the driver's first sleep, so no wake-up is missed.</summary>
    internal void PrepareToSleep()
    {
        if (_wakeFd < 0) _wakeFd = Posix.CreateEventFd();
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutNs"/> (negative: no limit; zero: just looks) for a
    /// registered descriptor to become readable or for <see cref="Wake"/>, and runs the readable
    /// descriptors' callbacks. One ppoll() with a nanosecond timeout: a sleeping driver wakes once
    /// per timer, on time, and costs nothing in between.
    /// </summary>
    public unsafe void PollSelects(long timeoutNs)
    {
        int n = _selects.Count;
        if (n == 0 && timeoutNs == 0) return;
        if (timeoutNs != 0 && _wakeFd < 0) _wakeFd = Posix.CreateEventFd();
        // Without a wake descriptor (the process is out of them) a sleep is cut into short slices.
        if (_wakeFd < 0 && (timeoutNs < 0 || timeoutNs > 50_000_000)) timeoutNs = 50_000_000;
        var fds = _pollFds;
        if (fds.Length < n + 1) _pollFds = fds = new Posix.PollFd[n + 1];
        for (int i = 0; i < n; i++) fds[i] = new Posix.PollFd { Fd = _selects[i].Fd, Events = Posix.POLLIN };
        int total = n;
        if (timeoutNs != 0 && _wakeFd >= 0) fds[total++] = new Posix.PollFd { Fd = _wakeFd, Events = Posix.POLLIN };
        int r;
        fixed (Posix.PollFd* p = fds) r = Posix.PollNs(p, (nuint)total, timeoutNs);
        if (r <= 0) return;
        if (total > n && (fds[n].REvents & Posix.POLLIN) != 0) Posix.DrainEventFd(_wakeFd);
        for (int i = 0; i < n && i < _selects.Count; i++)
            if ((fds[i].REvents & Posix.POLLIN) != 0) _selects[i].OnReadable();
    }

    public override NotifierSignal UpstreamEmptySignal(Element e, int port, Task? listener) =>
        SearchSignal(e, port, listener, upstream: true);

    public override NotifierSignal DownstreamFullSignal(Element e, int port, Task? listener) =>
        SearchSignal(e, port, listener, upstream: false);

    private NotifierSignal SearchSignal(Element start, int port, Task? listener, bool upstream)
    {
        var signal = NotifierSignal.Idle;
        var seen = new HashSet<(Element, int)>();
        var work = new Stack<(Element, int)>();
        // Upstream: (element, input port) whose sources we visit. Downstream: (element, output port).
        work.Push((start, port));
        while (work.Count > 0)
        {
            var (e, p) = work.Pop();
            if (!seen.Add((e, p))) continue;
            foreach (var c in _connections)
            {
                if (upstream ? (c.To != e || c.ToPort != p) : (c.From != e || c.FromPort != p)) continue;
                var next = upstream ? c.From : c.To;
                int nport = upstream ? c.FromPort : c.ToPort;
                var notifier = upstream ? next.EmptyNotifier(nport) : next.FullNotifier(nport);
                if (notifier != null)
                {
                    if (listener != null) notifier.AddListener(listener);
                    signal += NotifierSignal.Of(notifier);
                    continue;
                }
                if (upstream && next.IsIdleSource) continue;
                if (!next.NotifierSearchPassesThrough) { signal += NotifierSignal.Busy; continue; }
                var flow = new FlowCode(next.FlowCode);
                int count = upstream ? next.NInputs : next.NOutputs;
                bool any = false;
                for (int q = 0; q < count; q++)
                {
                    bool flows = upstream ? flow.Flows(q, nport) : flow.Flows(nport, q);
                    bool rightKind = upstream ? next.InputIsPull(q) : next.OutputIsPush(q);
                    if (flows && rightKind) { work.Push((next, q)); any = true; }
                }
                if (!any) signal += NotifierSignal.Busy;
            }
        }
        return signal;
    }
}

/// <summary>Click's flow codes: which inputs reach which outputs ("x/x": all; "x/y": none; "#/#": same port).</summary>
public readonly struct FlowCode(string code)
{
    private readonly string _in = code.Contains('/') ? code[..code.IndexOf('/')] : code;
    private readonly string _out = code.Contains('/') ? code[(code.IndexOf('/') + 1)..] : code;

    private static char At(string s, int p) => s.Length == 0 ? 'x' : s[Math.Min(p, s.Length - 1)];

    public bool Flows(int input, int output)
    {
        char a = At(_in, input), b = At(_out, output);
        if (a == '#' || b == '#') return a == '#' && b == '#' ? input == output : false;
        if (char.IsAsciiLetterLower(a) && char.IsAsciiLetterLower(b)) return a == b;
        return a == b;
    }
}

/// <summary>Placeholder for an element whose class is unknown, so all errors can be reported.</summary>
internal sealed class ErrorElement : Element
{
    public override string PortCount => "-/-";
}
