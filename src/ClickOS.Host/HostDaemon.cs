using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ClickOS.Control;
using ClickOS.Core;
using ClickOS.Runtime;

using ClickOS.Host.Switch;
using ClickOS.IO.ShmRing;

namespace ClickOS.Host;

public sealed record HostOptions
{
    /// <summary>State directory: instances.json, one folder per instance (config, log, sockets), worker sockets.</summary>
    public required string Directory { get; init; }
    /// <summary>The clickos executable instances run (default: this process's own executable).</summary>
    public string? ClickosPath { get; init; }
    public int MaxInstances { get; init; } = 10_000;
    public int MaxProcessInstances { get; init; } = 2_000;
    public int SharedLanes { get; init; } = Environment.ProcessorCount;
    public bool UseCgroups { get; init; } = true;
    /// <summary>Run the switch and give instances their virtual ports (vif0, …).</summary>
    public bool Switch { get; init; } = true;
    /// <summary>Slots per virtual-port ring (each direction), 2 KB each. 2048: at 1024 a loaded host wakes its producers four times as often, which cost a third of the switch throughput on 2 cores.</summary>
    public int VifSlots { get; init; } = 2048;
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan HangTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>An API error: HTTP status, a stable code, a message and details (file:line errors).</summary>
public sealed class HostException(int status, string code, string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;
    public IReadOnlyList<string> Details { get; } = details ?? [];
}

/// <summary>
/// The ClickOS host: owns instances, starts them in their isolation, supervises them (crashes,
/// restarts with backoff, idle sleep), persists the desired state and serves their ControlSockets.
/// Public methods are thread-safe; the HTTP API is a thin layer over them.
/// </summary>
public sealed class HostDaemon : IDisposable
{
    private readonly HostOptions _o;
    private readonly object _gate = new();
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<int, Instance> _byPid = [];
    private readonly HashSet<int> _earlyReady = [];
    private readonly Dictionary<string, ControlProxy> _proxies = new(StringComparer.Ordinal);
    private readonly StateStore _store;
    private readonly Cgroups _cgroups;
    private readonly VSwitch? _switch;
    private readonly string _vifRoot;
    private readonly ElementRegistry _registry = ControlElements.CreateFullRegistry();
    private readonly string _clickos;
    private readonly Socket _notify;
    private readonly Thread _notifyThread, _watchThread, _superviseThread;
    private readonly int _watchWake;
    private WorkerClient? _worker;
    private readonly object _workerLock = new();
    private volatile bool _stopping;
    private readonly DateTime _startedUtc = DateTime.UtcNow;

    public string Directory => _o.Directory;
    public string NotifyPath { get; }
    public Cgroups Cgroups => _cgroups;

    public HostDaemon(HostOptions options)
    {
        _o = options;
        System.IO.Directory.CreateDirectory(options.Directory);
        System.IO.Directory.CreateDirectory(Path.Combine(options.Directory, "instances"));
        _store = new StateStore(options.Directory);
        // One parent group per state directory, named stably so a restarted host finds its instances' groups.
        _cgroups = options.UseCgroups ? Cgroups.Detect("clickos-" + StableId(Path.GetFullPath(options.Directory))) : Cgroups.None;
        _clickos = options.ClickosPath ?? Environment.ProcessPath ?? "clickos";
        // Virtual ports live on tmpfs: shared memory, never written back to a disk.
        string id = StableId(Path.GetFullPath(options.Directory));
        _vifRoot = System.IO.Directory.Exists("/dev/shm") ? Path.Combine("/dev/shm", "clickos-" + id) : Path.Combine(options.Directory, "vifs");
        if (options.Switch)
        {
            System.IO.Directory.CreateDirectory(_vifRoot);
            _switch = new VSwitch(Path.Combine(_vifRoot, "switch.bell"));
        }
        NotifyPath = Path.Combine(options.Directory, "notify.sock");
        if (File.Exists(NotifyPath)) File.Delete(NotifyPath);
        _notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _notify.Bind(new UnixDomainSocketEndPoint(NotifyPath));
        _watchWake = Posix.CreateEventFd();
        _notifyThread = new Thread(NotifyLoop) { IsBackground = true, Name = "host-notify" };
        _watchThread = new Thread(WatchLoop) { IsBackground = true, Name = "host-watch" };
        _superviseThread = new Thread(SuperviseLoop) { IsBackground = true, Name = "host-supervise" };
    }

    /// <summary>Loads the saved state, adopts instances that survived a host restart, starts the rest.</summary>
    public void Start()
    {
        _switch?.Start();
        LoadSwitchState();
        _notifyThread.Start();
        _watchThread.Start();
        _superviseThread.Start();
        var specs = _store.Load();
        var shared = specs.Where(s => s.Isolation == Isolation.Shared).ToList();
        HashSet<string> alive = [];
        if (shared.Count > 0) alive = AdoptWorker();
        foreach (var spec in specs)
        {
            var inst = new Instance(spec, InstanceDir(spec.Name));
            System.IO.Directory.CreateDirectory(inst.Directory);
            lock (_gate) _instances[spec.Name] = inst;
            StartProxy(inst);
            if (!spec.Enabled) continue;
            // A surviving instance keeps its rings: the same regions again.
            CreatePorts(inst, spec.VifCount);
            bool adopted = spec.Isolation == Isolation.Process ? TryAdoptProcess(inst) : alive.Contains(spec.Name) && AdoptShared(inst);
            if (!adopted) StartBackend(inst, wait: false);
        }
    }

    /// <summary>FNV-1a of the path, in hex (string.GetHashCode differs from process to process).</summary>
    private static string StableId(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) h = (h ^ c) * 16777619;
        return h.ToString("x8", CultureInfo.InvariantCulture);
    }

    private string InstanceDir(string name) => Path.Combine(_o.Directory, "instances", name);

    // ---------------------------------------------------------------- API operations

    public IReadOnlyList<Instance> List()
    {
        lock (_gate) return [.. _instances.Values.OrderBy(i => i.Name, StringComparer.Ordinal)];
    }

    public Instance Get(string name)
    {
        lock (_gate)
            return _instances.TryGetValue(name, out var i) ? i : throw new HostException(404, "not_found", $"no instance named '{name}'");
    }

    /// <summary>Checks the configuration, records the instance, starts it and waits until it forwards.</summary>
    public Instance Create(InstanceSpec spec, bool wait = true)
    {
        if (InstanceSpec.CheckName(spec.Name) is { } bad) throw new HostException(400, "bad_request", bad);
        var errors = CheckConfig(spec.Config, spec.ConfigName);
        if (errors.Count > 0) throw new HostException(422, "bad_config", $"configuration '{spec.ConfigName}' has errors", errors);
        Instance inst;
        lock (_gate)
        {
            if (_instances.ContainsKey(spec.Name)) throw new HostException(409, "exists", $"an instance named '{spec.Name}' already exists");
            if (_instances.Count >= _o.MaxInstances)
                throw new HostException(403, "limit_exceeded", $"the host allows at most {_o.MaxInstances} instances");
            if (spec.Isolation == Isolation.Process && _instances.Values.Count(i => i.Spec.Isolation == Isolation.Process) >= _o.MaxProcessInstances)
                throw new HostException(403, "limit_exceeded", $"the host allows at most {_o.MaxProcessInstances} process instances (use --isolation shared for more)");
            inst = new Instance(spec with { Enabled = true, Paused = false }, InstanceDir(spec.Name));
            _instances[spec.Name] = inst;
        }
        try
        {
            System.IO.Directory.CreateDirectory(inst.Directory);
            File.Delete(inst.LogPath);
            _store.Save(inst.Spec);
            StartProxy(inst);
            string? failure = StartBackend(inst, wait);
            if (failure != null)
            {
                var log = LogErrors(inst);
                Remove(inst);
                throw new HostException(422, "start_failed", $"instance '{spec.Name}' did not start: {failure}", log);
            }
            return inst;
        }
        catch (Exception ex) when (ex is not HostException)
        {
            Remove(inst);
            throw new HostException(500, "internal", $"instance '{spec.Name}' could not be created: {ex.Message}");
        }
    }

    /// <summary>Parses and configures (without initializing) a configuration: all its file:line errors.</summary>
    public List<string> CheckConfig(string text, string file)
    {
        var errh = new CollectingErrorHandler();
        var flat = ConfigLoader.Load(text, file, _registry, errh);
        if (flat != null)
        {
            var r = Router.Create(flat, _registry, errh, new RouterOptions { InitialPackets = 0, StandardOutput = TextWriter.Null, ErrorOutput = TextWriter.Null }, initialize: false);
            r?.Cleanup();
        }
        return errh.Messages.Where(m => m.Severity >= Severity.Error).Select(m => m.Text).ToList();
    }

    public void Destroy(string name)
    {
        var inst = Get(name);
        lock (inst)
        {
            StopBackend(inst);
            Remove(inst);
        }
    }

    public VSwitch? Switch => _switch;

    /// <summary>
    /// Gives the instance switch ports vif0 … vif(count-1) that it does not have yet (after a host
    /// restart, the same regions again; after a reconfiguration naming more ports, the new ones).
    /// </summary>
    private void CreatePorts(Instance inst, int count)
    {
        if (_switch == null) return;
        lock (inst.Ports) CreatePortsLocked(inst, count);
    }

    private void CreatePortsLocked(Instance inst, int count)
    {
        if (_switch == null || count <= inst.Ports.Count) return;
        string dir = Path.Combine(_vifRoot, inst.Name);
        System.IO.Directory.CreateDirectory(dir);
        // Set first: a failure part-way leaves ports that RemovePorts must find.
        inst.VifDirectory = dir;
        for (int i = inst.Ports.Count; i < count; i++)
        {
            string name = $"{inst.Name}:vif{i}";
            string path = Path.Combine(dir, $"vif{i}");
            var region = VifRegion.Create(path, _o.VifSlots, 2048, _switch.Bell, out string? error)
                ?? throw new HostException(500, "internal", $"virtual port {name}: {error}");
            string mac = PortMac(name);
            File.WriteAllText(path + ".mac", mac + "\n");
            var port = new VifPortEnd(name, region, mac) { Wake = () => WakeForTraffic(inst) };
            _switch.Add(port);
            inst.Ports.Add(port);
            RestoreChain(name);
        }
    }

    // ---------------------------------------------------------------- switch configuration
    // Chains and the host's own ports (NIC, TAP, sinks) are the operator's configuration: kept
    // in switch.json, restored when the host starts, and a chain whose port went away with its
    // instance comes back when the port does.

    private readonly Dictionary<string, string> _chains = new(StringComparer.Ordinal);
    private readonly List<(string Kind, string Name, string? Device, string? Mac)> _devicePorts = [];
    private string SwitchStatePath => Path.Combine(_o.Directory, "switch.json");

    /// <summary>Adds a host port: "null" (a sink), "nic" (an existing interface) or "tap" (a new TAP interface).</summary>
    public SwitchPort AddPort(string kind, string name, string? device, string? mac, bool save = true)
    {
        var sw = _switch ?? throw new HostException(404, "not_found", "this host runs without a switch");
        if (string.IsNullOrEmpty(name) || name.Contains(':', StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal))
            throw new HostException(400, "bad_request", "a port needs a name without ':' or '/' (names with ':' belong to instances)");
        if (kind is not ("null" or "nic" or "tap"))
            throw new HostException(400, "bad_request", $"unknown port kind '{kind}': use \"null\" (a sink), \"nic\" (an existing interface, AF_PACKET) or \"tap\" (a new TAP interface)");
        if (kind == "nic" && string.IsNullOrEmpty(device)) throw new HostException(400, "bad_request", "a nic port needs \"device\": the interface to attach");
        if (mac != null && !VSwitch.TryParseMac(mac, out _)) throw new HostException(400, "bad_request", $"'{mac}' is not a MAC address");
        if (sw.Find(name) != null) throw new HostException(409, "exists", $"a port named '{name}' exists");
        SwitchPort port;
        try
        {
            port = kind switch
            {
                "nic" => new NicPort(name, device!, mac),
                "tap" => new TapPort(name, device ?? "", mac),
                _ => new NullPort(name, mac),
            };
        }
        catch (IOException ex) { throw new HostException(400, "bad_request", ex.Message); }
        try { sw.Add(port); }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            port.Dispose();
            throw new HostException(409, "exists", ex.Message);
        }
        lock (_chains) _devicePorts.Add((kind, name, device, mac));
        RestoreChain(name);
        if (save) SaveSwitchState();
        return port;
    }

    public void RemovePort(string name)
    {
        var sw = _switch ?? throw new HostException(404, "not_found", "this host runs without a switch");
        if (name.Contains(':', StringComparison.Ordinal)) throw new HostException(409, "conflict", $"port '{name}' belongs to an instance: destroy the instance");
        if (!sw.Remove(name)) throw new HostException(404, "not_found", $"no port '{name}'");
        lock (_chains)
        {
            _devicePorts.RemoveAll(p => p.Name == name);
            if (_chains.Remove(name, out var other)) _chains.Remove(other);
        }
        SaveSwitchState();
    }

    public void Chain(string a, string b)
    {
        var sw = _switch ?? throw new HostException(404, "not_found", "this host runs without a switch");
        try { sw.Chain(a, b); }
        catch (KeyNotFoundException ex) { throw new HostException(404, "not_found", ex.Message); }
        catch (InvalidOperationException ex) { throw new HostException(409, "conflict", ex.Message); }
        lock (_chains)
        {
            _chains[a] = b;
            _chains[b] = a;
        }
        SaveSwitchState();
    }

    public void Unchain(string port)
    {
        var sw = _switch ?? throw new HostException(404, "not_found", "this host runs without a switch");
        bool wanted;
        lock (_chains)
        {
            wanted = _chains.Remove(port, out var other);
            if (wanted) _chains.Remove(other!);
        }
        if (!sw.Unchain(port) && !wanted) throw new HostException(404, "not_found", $"port '{port}' is not chained");
        SaveSwitchState();
    }

    /// <summary>The chains the operator asked for (each once), whether or not both ports exist now.</summary>
    public IReadOnlyList<(string A, string B)> Chains
    {
        get { lock (_chains) return _chains.Where(kv => string.CompareOrdinal(kv.Key, kv.Value) < 0).Select(kv => (kv.Key, kv.Value)).ToList(); }
    }

    /// <summary>A port (re)appeared: rejoin the chain it was in, if the other end is there.</summary>
    private void RestoreChain(string name)
    {
        if (_switch == null) return;
        string? other;
        lock (_chains) _chains.TryGetValue(name, out other);
        if (other == null || _switch.Find(other) is not { ChainedTo: null } || _switch.Find(name) is not { ChainedTo: null }) return;
        try { _switch.Chain(name, other); }
        catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException) { }
    }

    private void SaveSwitchState()
    {
        var buf = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buf, new System.Text.Json.JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("ports");
            lock (_chains)
            {
                foreach (var p in _devicePorts)
                {
                    w.WriteStartObject();
                    w.WriteString("kind", p.Kind);
                    w.WriteString("name", p.Name);
                    if (p.Device != null) w.WriteString("device", p.Device);
                    if (p.Mac != null) w.WriteString("mac", p.Mac);
                    w.WriteEndObject();
                }
            }
            w.WriteEndArray();
            w.WriteStartArray("chains");
            foreach (var (a, b) in Chains)
            {
                w.WriteStartArray();
                w.WriteStringValue(a);
                w.WriteStringValue(b);
                w.WriteEndArray();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        string tmp = SwitchStatePath + ".tmp";
        File.WriteAllBytes(tmp, buf.WrittenSpan.ToArray());
        File.Move(tmp, SwitchStatePath, overwrite: true);
    }

    private void LoadSwitchState()
    {
        if (_switch == null || !File.Exists(SwitchStatePath)) return;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(SwitchStatePath));
            foreach (var c in doc.RootElement.GetProperty("chains").EnumerateArray())
            {
                string a = c[0].GetString()!, b = c[1].GetString()!;
                lock (_chains)
                {
                    _chains[a] = b;
                    _chains[b] = a;
                }
            }
            foreach (var p in doc.RootElement.GetProperty("ports").EnumerateArray())
            {
                string? S(string k) => p.TryGetProperty(k, out var v) ? v.GetString() : null;
                try { AddPort(S("kind") ?? "", S("name") ?? "", S("device"), S("mac"), save: false); }
                catch (HostException ex)
                {
                    // An interface that is gone: the port is kept in the file, the host starts anyway.
                    lock (_chains) _devicePorts.Add((S("kind") ?? "", S("name") ?? "", S("device"), S("mac")));
                    Console.Error.WriteLine($"clickos host: switch port '{S("name")}' not restored: {ex.Message}");
                }
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            Console.Error.WriteLine($"clickos host: {SwitchStatePath}: unreadable ({ex.Message}); the switch starts with no chains or host ports");
        }
    }

    /// <summary>A stable, locally administered MAC address for a port.</summary>
    private static string PortMac(string port)
    {
        uint h = 2166136261;
        foreach (char c in port) h = (h ^ c) * 16777619;
        return string.Create(CultureInfo.InvariantCulture, $"02:c1:{h >> 24:x2}:{(h >> 16) & 0xff:x2}:{(h >> 8) & 0xff:x2}:{h & 0xff:x2}");
    }

    private void RemovePorts(Instance inst)
    {
        if (_switch == null) return;
        lock (inst.Ports) RemovePortsLocked(inst);
    }

    private void RemovePortsLocked(Instance inst)
    {
        if (_switch == null || inst.VifDirectory == null) return;
        foreach (var p in inst.Ports) _switch.Remove(p.Name);
        inst.Ports.Clear();
        // The regions, their FIFOs and .mac files; an instance still mapping a region keeps it until it exits.
        try { System.IO.Directory.Delete(inst.VifDirectory, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        inst.VifDirectory = null;
    }

    /// <summary>A frame arrived for a sleeping instance: wake it; the frame waits in its ring.</summary>
    private void WakeForTraffic(Instance inst)
    {
        try { EnsureAwake(inst); }
        catch (HostException) { }
    }

    private void Remove(Instance inst)
    {
        lock (_gate)
        {
            if (_instances.TryGetValue(inst.Name, out var cur) && cur == inst) _instances.Remove(inst.Name);
            if (_proxies.Remove(inst.Name, out var p)) p.Dispose();
        }
        _cgroups.Remove(inst.Name);
        RemovePorts(inst);
        bool hadChains;
        lock (_chains)
        {
            var mine = _chains.Keys.Where(k => k.StartsWith(inst.Name + ":", StringComparison.Ordinal)).ToList();
            hadChains = mine.Count > 0;
            foreach (var k in mine)
                if (_chains.Remove(k, out var other)) _chains.Remove(other);
        }
        if (hadChains) SaveSwitchState();
        _store.Delete(inst.Name);
        try { System.IO.Directory.Delete(inst.Directory, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }

    public Instance StartInstance(string name)
    {
        var inst = Get(name);
        lock (inst)
        {
            if (inst.State is InstanceState.Running or InstanceState.Starting or InstanceState.Paused or InstanceState.Sleeping) return inst;
            inst.Spec = inst.Spec with { Enabled = true, Paused = false };
            inst.Restarts = 0;
            inst.LastError = null;
            _store.Save(inst.Spec);
            string? failure = StartBackend(inst, wait: true);
            if (failure != null) throw new HostException(422, "start_failed", $"instance '{name}' did not start: {failure}", LogErrors(inst));
        }
        return inst;
    }

    public Instance Stop(string name)
    {
        var inst = Get(name);
        lock (inst)
        {
            inst.Spec = inst.Spec with { Enabled = false, Paused = false };
            _store.Save(inst.Spec);
            StopBackend(inst);
        }
        return inst;
    }

    public Instance Pause(string name)
    {
        var inst = Get(name);
        lock (inst)
        {
            if (inst.State is not (InstanceState.Running or InstanceState.Sleeping or InstanceState.Paused))
                throw new HostException(409, "not_running", $"instance '{name}' is {inst.StateText}");
            if (inst.State == InstanceState.Running) PauseBackend(inst);
            lock (_gate) inst.State = InstanceState.Paused;
            inst.Spec = inst.Spec with { Paused = true };
            _store.Save(inst.Spec);
        }
        return inst;
    }

    public Instance Resume(string name)
    {
        var inst = Get(name);
        lock (inst)
        {
            if (inst.State is not (InstanceState.Paused or InstanceState.Sleeping or InstanceState.Running))
                throw new HostException(409, "not_running", $"instance '{name}' is {inst.StateText}");
            if (inst.State != InstanceState.Running) ResumeBackend(inst);
            lock (_gate) inst.State = InstanceState.Running;
            inst.Spec = inst.Spec with { Paused = false };
            _store.Save(inst.Spec);
        }
        return inst;
    }

    /// <summary>Wakes a sleeping instance (an API request or a ControlSocket connection for it).</summary>
    public void EnsureAwake(Instance inst)
    {
        if (inst.State != InstanceState.Sleeping) return;
        lock (inst)
        {
            if (inst.State != InstanceState.Sleeping) return;
            ResumeBackend(inst);
            lock (_gate) inst.State = InstanceState.Running;
        }
    }

    /// <summary>Hot-swaps a new configuration into a running instance, keeping element state (the hotconfig handler).</summary>
    public Instance Reconfigure(string name, string config)
    {
        var inst = Get(name);
        var errors = CheckConfig(config, "<hotconfig>");
        if (errors.Count > 0) throw new HostException(422, "bad_config", "the new configuration has errors; the old one keeps running", errors);
        // Ports the new configuration names must exist before it initializes.
        lock (inst) CreatePorts(inst, (inst.Spec with { Config = config }).VifCount);
        var r = Control(inst, c => c.Write("hotconfig", config));
        if (!r.Ok) throw new HostException(422, "reconfigure_failed", $"hot-swap failed: {r.Messages.FirstOrDefault()}", r.Details.ToList());
        lock (inst)
        {
            inst.Spec = inst.Spec with { Config = config };
            _store.Save(inst.Spec);
        }
        return inst;
    }

    public string ReadHandler(string name, string handler, string param = "")
    {
        var r = Control(Get(name), c => c.Read(handler, param));
        return r.Ok ? r.DataText : throw HandlerError(r, handler);
    }

    public void WriteHandler(string name, string handler, string value)
    {
        var r = Control(Get(name), c => c.Write(handler, value));
        if (!r.Ok) throw HandlerError(r, handler);
    }

    private static HostException HandlerError(ControlResponse r, string handler) => r.Code switch
    {
        ControlCode.NoSuchElement or ControlCode.NoSuchHandler => new HostException(404, "no_handler", r.Messages.FirstOrDefault() ?? $"no handler '{handler}'"),
        ControlCode.Permission => new HostException(403, "permission", r.Messages.FirstOrDefault() ?? "permission denied"),
        _ => new HostException(422, "handler_error", r.Messages.FirstOrDefault() ?? $"handler '{handler}' failed", r.Details.ToList()),
    };

    /// <summary>Runs one ControlSocket exchange with a running instance (waking it first).</summary>
    public ControlResponse Control(Instance inst, Func<ControlClient, ControlResponse> call)
    {
        if (inst.State is InstanceState.Stopped or InstanceState.Failed or InstanceState.Starting)
            throw new HostException(409, "not_running", $"instance '{inst.Name}' is {inst.StateText}");
        // A frozen process cannot answer; a paused shared instance still serves handlers.
        if (inst.State == InstanceState.Paused && inst.Spec.Isolation == Isolation.Process)
            throw new HostException(409, "paused", $"instance '{inst.Name}' is paused: resume it to call its handlers");
        EnsureAwake(inst);
        try
        {
            using var c = ConnectControl(inst, TimeSpan.FromSeconds(30));
            return call(c);
        }
        catch (Exception ex) when (ex is SocketException or IOException or ControlProtocolException)
        {
            throw new HostException(502, "unreachable", $"instance '{inst.Name}' did not answer on its control socket: {ex.Message}");
        }
    }

    internal ControlClient ConnectControl(Instance inst, TimeSpan timeout)
    {
        if (inst.Spec.Isolation == Isolation.Process) return ControlClient.ConnectUnix(InternalControlPath(inst), timeout);
        var w = inst.Worker ?? throw new IOException("no worker");
        var c = ControlClient.ConnectUnix(w.ControlPath, timeout);
        var r = c.SelectInstance(inst.Name);
        if (!r.Ok)
        {
            c.Dispose();
            throw new IOException(r.Messages.FirstOrDefault() ?? "instance not in its worker");
        }
        return c;
    }

    /// <summary>The socket the instance itself serves (the host's public one proxies to it).</summary>
    internal string InternalControlPath(Instance inst) => Path.Combine(inst.Directory, "ctl.sock");

    public string Logs(string name, int tail)
    {
        var inst = Get(name);
        if (!File.Exists(inst.LogPath)) return "";
        var lines = File.ReadAllLines(inst.LogPath);
        return string.Concat(lines.Skip(Math.Max(0, lines.Length - tail)).Select(l => l + "\n"));
    }

    private static List<string> LogErrors(Instance inst)
    {
        try { return File.Exists(inst.LogPath) ? File.ReadAllLines(inst.LogPath).Where(l => l.Length > 0).TakeLast(50).ToList() : []; }
        catch (IOException) { return []; }
    }

    /// <summary>The instance's "stats" handler as name/value pairs, plus memory and CPU where known.</summary>
    public Dictionary<string, double> Stats(Instance inst)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        string? text = null;
        try
        {
            if (inst.State is InstanceState.Running or InstanceState.Paused or InstanceState.Sleeping)
            {
                if (inst.Spec.Isolation == Isolation.Shared && inst.Worker is { Closed: false } w)
                {
                    var r = w.Request("stats", x => x.WriteString("name", inst.Name), TimeSpan.FromSeconds(5));
                    if (WorkerClient.Ok(r)) text = r.GetProperty("stats").GetString();
                }
                else if (inst.State == InstanceState.Running)
                {
                    using var c = ConnectControl(inst, TimeSpan.FromSeconds(5));
                    var r = c.Read("stats");
                    if (r.Ok) text = r.DataText;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException or ControlProtocolException) { }
        foreach (var line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            int sp = line.IndexOf(' ');
            if (sp > 0 && double.TryParse(line[(sp + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) d[line[..sp]] = v;
        }
        if (inst.Spec.Isolation == Isolation.Process && inst.Pid > 0)
        {
            if (ProcStats.Pss(inst.Pid) is long pss and >= 0) d["memory_bytes"] = pss;
            if (ProcStats.CpuSeconds(inst.Pid) is double cpu and >= 0) d["cpu_seconds"] = cpu;
        }
        else if (d.TryGetValue("pool_buffer_bytes", out double pool)) d["memory_bytes"] = pool;
        return d;
    }

    public (int Instances, int Running, long HostPss, DateTime Started, string Cgroups) HostStats()
    {
        lock (_gate)
            return (_instances.Count, _instances.Values.Count(i => i.State == InstanceState.Running),
                ProcStats.Pss(Environment.ProcessId) ?? -1, _startedUtc, _cgroups.Describe);
    }

    public int? WorkerPid => _worker is { Closed: false } w ? w.Pid : null;

    // ---------------------------------------------------------------- backends

    /// <summary>Starts the instance; with <paramref name="wait"/>, returns null once it forwards or why it did not.</summary>
    private string? StartBackend(Instance inst, bool wait)
    {
        // Ports exist while the instance runs (or may run again soon): made here, before its
        // FromDevice/ToDevice look for them; freed when it ends for good (OnExit).
        CreatePorts(inst, inst.Spec.VifCount);
        lock (_gate) inst.MarkStarting();
        var ready = inst.ReadySignal;
        try
        {
            if (inst.Spec.Isolation == Isolation.Process) StartProcess(inst);
            else StartShared(inst);
        }
        catch (Exception ex) when (ex is IOException or SocketException or UnauthorizedAccessException or HostException)
        {
            lock (_gate)
            {
                inst.State = InstanceState.Failed;
                inst.LastError = ex.Message;
            }
            ready.TrySetResult(ex.Message);
        }
        if (!wait) return null;
        if (!ready.Task.Wait(_o.ReadyTimeout))
        {
            StopBackend(inst);
            return $"not ready within {_o.ReadyTimeout.TotalSeconds:0.#} s";
        }
        return ready.Task.Result;
    }

    private void StartProcess(Instance inst)
    {
        var spec = inst.Spec;
        string config = Path.Combine(inst.Directory, "config.click");
        File.WriteAllText(config, spec.Config, Encoding.Latin1);
        string ctl = InternalControlPath(inst);
        if (File.Exists(ctl)) File.Delete(ctl);
        var argv = new List<string>();
        string path = _clickos;
        if (spec.NetNs != null)
        {
            path = File.Exists("/usr/sbin/ip") ? "/usr/sbin/ip" : "/sbin/ip";
            argv.AddRange([path, "netns", "exec", spec.NetNs]);
        }
        argv.AddRange([_clickos, "run", "-R", "-u", ctl, config]);
        bool limited = spec.MemoryMax > 0 || spec.Cpus > 0;
        bool inCgroup = limited && _cgroups.Available && _cgroups.Create(spec.Name, spec.MemoryMax, spec.Cpus, out _);
        var env = new List<string>();
        foreach (System.Collections.DictionaryEntry kv in Environment.GetEnvironmentVariables())
        {
            string k = (string)kv.Key;
            if (k is "NOTIFY_SOCKET" or "CLICKOS_VIF_DIR" || k.StartsWith("CLICKOS_INSTANCE", StringComparison.Ordinal) || k.StartsWith("DOTNET_GC", StringComparison.Ordinal)) continue;
            env.Add($"{k}={kv.Value}");
        }
        env.Add($"NOTIFY_SOCKET={NotifyPath}");
        env.Add($"CLICKOS_INSTANCE={spec.Name}");
        if (inst.VifDirectory != null) env.Add($"CLICKOS_VIF_DIR={inst.VifDirectory}");
        env.Add($"CLICKOS_INSTANCE_MAX_PACKETS={InstanceRouter.MaxPacketsFor(spec.MemoryMax)}");
        if (spec.IdleSleep > TimeSpan.Zero) env.Add($"CLICKOS_INSTANCE_IDLE_MS={(long)spec.IdleSleep.TotalMilliseconds}");
        // Small instances: a small first GC budget keeps the private heap near its live size.
        env.Add("DOTNET_GCgen0size=0x80000");
        // Without a memory cgroup the runtime's own heap limit enforces --memory.
        if (spec.MemoryMax > 0 && !inCgroup) env.Add($"DOTNET_GCHeapHardLimit=0x{spec.MemoryMax:x}");
        int pid = Native.Spawn(path, argv, env, inst.LogPath);
        if (inCgroup) _cgroups.Add(spec.Name, pid);
        long start = Native.StartTime(pid);
        File.WriteAllText(Path.Combine(inst.Directory, "pid"), $"{pid} {start}\n");
        Watch(inst, pid);
    }

    private void Watch(Instance inst, int pid)
    {
        int fd = Native.PidFdOpen(pid);
        bool early;
        lock (_gate)
        {
            inst.Pid = pid;
            inst.PidFd = fd;
            _byPid[pid] = inst;
            early = _earlyReady.Remove(pid);
        }
        Posix.SignalEventFd(_watchWake);
        if (early) MarkReady(inst);
    }

    private bool TryAdoptProcess(Instance inst)
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(inst.Directory, "pid")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int pid = int.Parse(parts[0], CultureInfo.InvariantCulture);
            long start = long.Parse(parts[1], CultureInfo.InvariantCulture);
            if (!Native.Alive(pid) || Native.StartTime(pid) != start) return false;
            lock (_gate)
            {
                inst.State = InstanceState.Running;
                inst.StartedUtc = DateTime.UtcNow;
                inst.ReadySignal.TrySetResult(null);
            }
            Watch(inst, pid);
            // It may have been asleep (frozen) when the old host died.
            if (inst.Spec.Paused)
            {
                PauseBackend(inst);
                lock (_gate) inst.State = InstanceState.Paused;
            }
            else ResumeBackend(inst);
            return true;
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private WorkerClient EnsureWorker()
    {
        lock (_workerLock)
        {
            if (_worker is { Closed: false } w) return w;
            string sock = Path.Combine(_o.Directory, "worker.sock");
            string log = Path.Combine(_o.Directory, "worker.log");
            var env = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .Where(kv => (string)kv.Key != "NOTIFY_SOCKET").Select(kv => $"{kv.Key}={kv.Value}").ToList();
            int pid = Native.Spawn(_clickos, [_clickos, "worker", "--socket", sock, "--lanes", _o.SharedLanes.ToString(CultureInfo.InvariantCulture), "--hang-timeout-ms", ((long)_o.HangTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)], env, log);
            File.WriteAllText(Path.Combine(_o.Directory, "worker.pid"), $"{pid} {Native.StartTime(pid)}\n");
            var c = WorkerClient.Connect(sock, pid, TimeSpan.FromSeconds(15)) ?? throw new IOException($"the shared worker did not start (see {log})");
            Attach(c);
            return c;
        }
    }

    private void Attach(WorkerClient c)
    {
        c.OnEvent = OnWorkerEvent;
        c.OnLost = OnWorkerLost;
        _worker = c;
        c.Start();
    }

    /// <summary>Reconnects to a worker that survived a host restart; returns the instances it still runs.</summary>
    private HashSet<string> AdoptWorker()
    {
        try
        {
            var parts = File.ReadAllText(Path.Combine(_o.Directory, "worker.pid")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            int pid = int.Parse(parts[0], CultureInfo.InvariantCulture);
            if (!Native.Alive(pid) || Native.StartTime(pid) != long.Parse(parts[1], CultureInfo.InvariantCulture)) return [];
            var c = WorkerClient.Connect(Path.Combine(_o.Directory, "worker.sock"), pid, TimeSpan.FromSeconds(2));
            if (c == null) return [];
            lock (_workerLock) Attach(c);
            var list = c.Request("list");
            return list.GetProperty("instances").EnumerateArray().Select(e => e.GetProperty("name").GetString()!).ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException or KeyNotFoundException)
        {
            return [];
        }
    }

    private bool AdoptShared(Instance inst)
    {
        var w = _worker;
        if (w == null) return false;
        lock (_gate)
        {
            inst.Worker = w;
            inst.State = InstanceState.Running;
            inst.StartedUtc = DateTime.UtcNow;
            inst.ReadySignal.TrySetResult(null);
        }
        w.Request(inst.Spec.Paused ? "pause" : "resume", x => x.WriteString("name", inst.Name));
        if (inst.Spec.Paused) lock (_gate) inst.State = InstanceState.Paused;
        return true;
    }

    private void StartShared(Instance inst)
    {
        var w = EnsureWorker();
        lock (_gate) inst.Worker = w;
        var spec = inst.Spec;
        var reply = w.Request("create", x =>
        {
            x.WriteString("name", spec.Name);
            x.WriteString("config", spec.Config);
            x.WriteString("config_name", spec.ConfigName);
            x.WriteString("log", inst.LogPath);
            x.WriteNumber("idle_ms", (long)spec.IdleSleep.TotalMilliseconds);
            x.WriteNumber("max_packets", InstanceRouter.MaxPacketsFor(spec.MemoryMax));
            if (inst.VifDirectory != null) x.WriteString("vif_dir", inst.VifDirectory);
        });
        if (!WorkerClient.Ok(reply))
        {
            File.AppendAllLines(inst.LogPath, WorkerClient.Errors(reply));
            throw new HostException(422, "start_failed", string.Join("; ", WorkerClient.Errors(reply)));
        }
    }

    private void StopBackend(Instance inst)
    {
        System.Threading.Tasks.Task exited;
        lock (_gate)
        {
            if (inst.State is InstanceState.Stopped or InstanceState.Failed)
            {
                inst.State = InstanceState.Stopped;
                inst.RestartAtTicks = 0;
                return;
            }
            inst.State = InstanceState.Stopped;   // the exit that follows is expected
            inst.RestartAtTicks = 0;
            exited = inst.ExitSignal.Task;
        }
        if (inst.Spec.Isolation == Isolation.Process)
        {
            int pid = inst.Pid;
            if (pid <= 0) return;
            _cgroups.Freeze(inst.Name, false);
            Native.kill(pid, Native.SIGTERM);
            Native.kill(pid, Native.SIGCONT);
            if (!exited.Wait(_o.StopTimeout))
            {
                Native.kill(pid, Native.SIGKILL);
                exited.Wait(_o.StopTimeout);
            }
        }
        else if (inst.Worker is { Closed: false } w)
        {
            try
            {
                w.Request("stop", x => x.WriteString("name", inst.Name));
                exited.Wait(_o.StopTimeout);
            }
            catch (IOException) { }
        }
    }

    private void PauseBackend(Instance inst)
    {
        if (inst.Spec.Isolation == Isolation.Process)
        {
            if (!_cgroups.Freeze(inst.Name, true)) Native.kill(inst.Pid, Native.SIGSTOP);
        }
        else inst.Worker?.Request("pause", x => x.WriteString("name", inst.Name));
    }

    private void ResumeBackend(Instance inst)
    {
        if (inst.Spec.Isolation == Isolation.Process)
        {
            _cgroups.Freeze(inst.Name, false);
            // Also resumes a SIGSTOPped process, and tells the driver a new idle period begins.
            Native.kill(inst.Pid, Native.SIGCONT);
        }
        else inst.Worker?.Request("resume", x => x.WriteString("name", inst.Name));
    }

    // ---------------------------------------------------------------- events

    private void MarkReady(Instance inst)
    {
        lock (_gate)
        {
            if (inst.State != InstanceState.Starting) return;
            inst.State = InstanceState.Running;
            inst.StartedUtc = DateTime.UtcNow;
            inst.StartLatency = Stopwatch.GetElapsedTime(inst.StartTicks);
        }
        inst.ReadySignal.TrySetResult(null);
    }

    private void MarkIdle(Instance inst)
    {
        lock (inst)
        {
            if (inst.State != InstanceState.Running || inst.Spec.IdleSleep <= TimeSpan.Zero) return;
            PauseBackend(inst);
            lock (_gate) inst.State = InstanceState.Sleeping;
            foreach (var p in inst.Ports) p.Asleep = true;
        }
    }

    /// <summary>An instance's router ended: a stop we asked for, a normal finish, or a failure.</summary>
    private void OnExit(Instance inst, bool failed, string reason)
    {
        string? readyFailure = null;
        lock (_gate)
        {
            inst.Pid = 0;
            bool wasStarting = inst.State == InstanceState.Starting;
            if (inst.State == InstanceState.Stopped)
            {
                // expected: stop or destroy
            }
            else if (failed)
            {
                inst.State = InstanceState.Failed;
                inst.LastError = reason;
                if (inst.Spec.Restart == RestartPolicy.OnFailure && inst.Spec.Enabled && !wasStarting)
                {
                    // Backoff: 100 ms doubling to 30 s; a run of a minute or more starts the count again.
                    if (inst.StartedUtc is { } s && DateTime.UtcNow - s > TimeSpan.FromMinutes(1)) inst.Restarts = 0;
                    double delay = Math.Min(30_000, 100 * Math.Pow(2, Math.Min(inst.Restarts, 20)));
                    inst.RestartAtTicks = Stopwatch.GetTimestamp() + (long)(delay / 1000 * Stopwatch.Frequency);
                }
            }
            else
            {
                inst.State = InstanceState.Stopped;
                inst.LastError = null;
            }
            // A configuration that finishes at once (a LIMIT with STOP) started fine and is now stopped.
            if (wasStarting && failed) readyFailure = reason;
            if (wasStarting && !failed) inst.StartLatency = Stopwatch.GetElapsedTime(inst.StartTicks);
            var exited = inst.ExitSignal;
            inst.ExitSignal = new System.Threading.Tasks.TaskCompletionSource(System.Threading.Tasks.TaskCreationOptions.RunContinuationsAsynchronously);
            exited.TrySetResult();
        }
        // Ended for good (stopped, or failed with no restart coming): its rings are freed and its
        // ports leave the switch, which goes on forwarding for the others. A restart keeps them,
        // so frames wait for the new process. Chains come back with the ports.
        if (inst.State == InstanceState.Stopped || (inst.State == InstanceState.Failed && inst.RestartAtTicks == 0))
            RemovePorts(inst);
        inst.ReadySignal.TrySetResult(readyFailure);
    }

    private static void ReapWorker(int pid, TimeSpan timeout)
    {
        var until = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!Native.ReapedOrNotChild(pid) && Stopwatch.GetTimestamp() < until) Thread.Sleep(10);
    }

    private void OnWorkerEvent(string ev, string name, string? reason)
    {
        Instance? inst;
        lock (_gate) _instances.TryGetValue(name, out inst);
        if (inst == null || inst.Spec.Isolation != Isolation.Shared) return;
        switch (ev)
        {
            case "ready": MarkReady(inst); break;
            case "idle": System.Threading.Tasks.Task.Run(() => MarkIdle(inst)); break;
            case "exited": OnExit(inst, reason != null, reason ?? "exited"); break;
        }
    }

    private void OnWorkerLost(WorkerClient w)
    {
        // Our child (a worker adopted after a host restart is not): collect its exit status so
        // no zombie is left behind; it may take a moment to exit after closing its socket.
        System.Threading.Tasks.Task.Run(() => ReapWorker(w.Pid, TimeSpan.FromSeconds(5)));
        if (_stopping) return;
        List<Instance> hit;
        lock (_gate) hit = _instances.Values.Where(i => i.Worker == w && i.State != InstanceState.Stopped).ToList();
        foreach (var i in hit) OnExit(i, true, "the shared worker process died");
    }

    private void NotifyLoop()
    {
        var buf = new byte[4096];
        while (!_stopping)
        {
            int n;
            try { n = _notify.Receive(buf); }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { if (_stopping) return; continue; }
            string msg = Encoding.UTF8.GetString(buf, 0, n);
            int pid = 0;
            bool ready = false, idle = false;
            foreach (var line in msg.Split('\n'))
            {
                if (line.StartsWith("MAINPID=", StringComparison.Ordinal)) int.TryParse(line.AsSpan(8), NumberStyles.None, CultureInfo.InvariantCulture, out pid);
                else if (line == "READY=1") ready = true;
                else if (line == "IDLE=1") idle = true;
            }
            Instance? inst;
            lock (_gate)
            {
                // READY can overtake the host's own bookkeeping of a process it just spawned.
                if (!_byPid.TryGetValue(pid, out inst) && ready && pid > 0)
                {
                    if (_earlyReady.Count > 4096) _earlyReady.Clear();
                    _earlyReady.Add(pid);
                }
            }
            if (inst == null) continue;
            if (ready) MarkReady(inst);
            if (idle) System.Threading.Tasks.Task.Run(() => MarkIdle(inst));
        }
    }

    private unsafe void WatchLoop()
    {
        var fds = new Posix.PollFd[64];
        while (!_stopping)
        {
            List<Instance> watched;
            lock (_gate) watched = _byPid.Values.Where(i => i.PidFd >= 0).ToList();
            if (fds.Length < watched.Count + 1) fds = new Posix.PollFd[(watched.Count + 1) * 2];
            fds[0] = new Posix.PollFd { Fd = _watchWake, Events = Posix.POLLIN };
            for (int i = 0; i < watched.Count; i++) fds[i + 1] = new Posix.PollFd { Fd = watched[i].PidFd, Events = Posix.POLLIN };
            int r;
            fixed (Posix.PollFd* p = fds) r = Posix.poll(p, (nuint)(watched.Count + 1), 1000);
            if (r <= 0) continue;
            if ((fds[0].REvents & Posix.POLLIN) != 0) Posix.DrainEventFd(_watchWake);
            for (int i = 0; i < watched.Count; i++)
            {
                if (fds[i + 1].REvents == 0) continue;
                var inst = watched[i];
                int pid, fd;
                lock (_gate)
                {
                    pid = inst.Pid;
                    fd = inst.PidFd;
                    inst.PidFd = -1;
                    _byPid.Remove(pid);
                }
                if (fd >= 0) Native.close(fd);
                int? status = Native.TryReap(pid);
                string reason = status is int st ? Native.DescribeStatus(st) : "exited (adopted after a host restart: status unknown)";
                bool failed = status is not int s2 || !Native.IsCleanExit(s2);
                // The cgroup OOM killer sends SIGKILL; the runtime's heap limit ends in an
                // OutOfMemoryException and an abort. Either way the reason says so.
                if (_cgroups.OomKilled(inst.Name) || (failed && (LogSaysOutOfMemory(inst) || (status is int sig && Native.WasSignaled(sig) && _cgroups.LimitHit(inst.Name)))))
                    reason = $"out of memory (limit {inst.Spec.MemoryMax} bytes): {reason}";
                else if (failed && LastLogLine(inst) is { } last) reason = $"{reason}: {last}";
                OnExit(inst, failed, reason);
            }
        }
    }

    private static bool LogSaysOutOfMemory(Instance inst)
    {
        try { return File.Exists(inst.LogPath) && File.ReadLines(inst.LogPath).TakeLast(20).Any(x => x.Contains("OutOfMemory", StringComparison.Ordinal) || x.Contains("Out of memory", StringComparison.Ordinal)); }
        catch (IOException) { return false; }
    }

    private static string? LastLogLine(Instance inst)
    {
        try { return File.Exists(inst.LogPath) ? File.ReadLines(inst.LogPath).LastOrDefault(l => l.Trim().Length > 0)?.Trim() : null; }
        catch (IOException) { return null; }
    }

    private void SuperviseLoop()
    {
        while (!_stopping)
        {
            Thread.Sleep(50);
            List<Instance> due;
            long now = Stopwatch.GetTimestamp();
            lock (_gate) due = _instances.Values.Where(i => i.State == InstanceState.Failed && i.RestartAtTicks != 0 && i.RestartAtTicks <= now).ToList();
            foreach (var inst in due)
            {
                lock (inst)
                {
                    if (inst.State != InstanceState.Failed || inst.RestartAtTicks == 0) continue;
                    inst.RestartAtTicks = 0;
                    inst.Restarts++;
                    StartBackend(inst, wait: false);
                }
            }
        }
    }

    private void StartProxy(Instance inst)
    {
        var p = new ControlProxy(inst, this);
        lock (_gate) _proxies[inst.Name] = p;
        p.Start();
    }

    /// <summary>Stops the host. With <paramref name="stopInstances"/>, instances are stopped too (they come back on the next start).</summary>
    public void Shutdown(bool stopInstances)
    {
        if (stopInstances)
        {
            foreach (var inst in List())
                lock (inst) StopBackend(inst);
            try { _worker?.Request("shutdown", null, TimeSpan.FromSeconds(5)); }
            catch (IOException) { }
            if (_worker is { } w) ReapWorker(w.Pid, TimeSpan.FromSeconds(5));
        }
        Dispose();
        // No instance outlives this host: its ports' shared memory goes (a host that only
        // disposes, as in a crash, leaves it for the instances and the next host).
        if (stopInstances && _switch != null)
        {
            try { System.IO.Directory.Delete(_vifRoot, recursive: true); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        }
        // Likewise the cgroups: made again when the instances start.
        if (stopInstances) _cgroups.RemoveAll();
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        lock (_gate)
        {
            foreach (var p in _proxies.Values) p.Dispose();
            _proxies.Clear();
        }
        _notify.Dispose();
        Posix.SignalEventFd(_watchWake);
        _watchThread.Join(TimeSpan.FromSeconds(2));
        _worker?.Dispose();
        _switch?.Dispose();
        try { File.Delete(NotifyPath); } catch (IOException) { }
    }
}
