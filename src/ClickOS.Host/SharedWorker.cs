using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClickOS.Control;
using ClickOS.Core;
using ClickOS.Runtime;

namespace ClickOS.Host;

/// <summary>
/// The process behind "shared" isolation (<c>clickos worker</c>): many routers on a
/// <see cref="SharedDriver"/>, managed by the host over a Unix socket speaking JSON lines, and
/// one ControlSocket for all of them (a connection picks its instance with <c>INSTANCE name</c>).
/// The worker outlives its host: after a host restart the new host reconnects and adopts the
/// instances still running here.
/// </summary>
public sealed class SharedWorker : IDisposable
{
    private readonly string _socketPath;
    private readonly SharedDriver _driver;
    private readonly ElementRegistry _registry = ControlElements.CreateFullRegistry();
    private readonly ConcurrentDictionary<string, Entry> _instances = new(StringComparer.Ordinal);
    private readonly ControlServer _control;
    private readonly Router _lobby;
    private readonly object _sendLock = new();
    private Socket? _host;
    private volatile bool _stopping;

    private sealed class Entry(string name, string logPath)
    {
        public readonly string Name = name;
        public readonly LogWriter Log = new(logPath);
        public SharedDriver.Slot Slot = null!;
        public volatile bool Ready;
    }

    private sealed class Target(Entry e) : IControlTarget
    {
        public ControlReply Run(Func<Router, ControlReply> command) =>
            e.Slot.HasExited ? ControlReply.NoRouter() : e.Slot.Current.Invoke(command, ControlReply.NoRouter, TimeSpan.FromSeconds(30));
    }

    public SharedWorker(string socketPath, int lanes, TimeSpan hangTimeout)
    {
        _socketPath = socketPath;
        _driver = new SharedDriver(lanes)
        {
            HangTimeout = hangTimeout,
            Ready = s => { var e = (Entry)s.Tag!; e.Ready = true; Send(w => Event(w, "ready", e.Name)); },
            Exited = OnExited,
            IdleReported = s => Send(w => Event(w, "idle", ((Entry)s.Tag!).Name)),
        };
        var errh = new CollectingErrorHandler();
        _lobby = ConfigLoader.CreateRouter("", "worker", _registry, errh, new RouterOptions { InitialPackets = 0 })!;
        _driver.Add(_lobby);
        _control = ControlServer.ListenUnix(socketPath + ".ctl", _lobby);
        _control.Selector = name => _instances.TryGetValue(name, out var e) ? new Target(e) : null;
        _control.Start();
        // Instances' Print and error output reaches their log files within a fifth of a second.
        _flush = new System.Threading.Timer(_ => { foreach (var e in _instances.Values) e.Log.Flush(); }, null, 200, 200);
    }

    private readonly System.Threading.Timer _flush;

    /// <summary>Serves hosts, one at a time, until told to shut down.</summary>
    public int Run()
    {
        if (File.Exists(_socketPath)) File.Delete(_socketPath);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(_socketPath));
        listener.Listen(4);
        while (!_stopping)
        {
            Socket conn;
            try { conn = listener.Accept(); }
            catch (SocketException) when (_stopping) { break; }
            lock (_sendLock)
            {
                _host?.Dispose();
                _host = conn;
            }
            try { Serve(conn); }
            catch (Exception ex) when (ex is IOException or SocketException or JsonException or ObjectDisposedException) { }
            lock (_sendLock)
            {
                if (_host == conn) _host = null;
            }
            conn.Dispose();
        }
        // Shut down: the instances were asked to stop; give them a moment to clean up.
        for (int i = 0; i < 500 && !_instances.IsEmpty; i++) Thread.Sleep(10);
        return 0;
    }

    private void Serve(Socket conn)
    {
        using var stream = new NetworkStream(conn, ownsSocket: false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (!_stopping && reader.ReadLine() is { } line)
        {
            if (line.Length == 0) continue;
            using var doc = JsonDocument.Parse(line);
            var req = doc.RootElement;
            long id = req.TryGetProperty("id", out var idv) ? idv.GetInt64() : 0;
            string op = req.GetProperty("op").GetString() ?? "";
            string name = req.TryGetProperty("name", out var nv) ? nv.GetString() ?? "" : "";
            try
            {
                Handle(op, name, req, id);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                Reply(id, false, [$"{op}: {ex.Message}"]);
            }
            if (op == "shutdown") break;
        }
    }

    private void Handle(string op, string name, JsonElement req, long id)
    {
        switch (op)
        {
            case "create":
                Create(name, req, id);
                return;
            case "stop":
                if (!_instances.TryGetValue(name, out var e)) { Reply(id, false, [$"no instance '{name}'"]); return; }
                SharedDriver.Stop(e.Slot);
                Reply(id, true);
                return;
            case "pause" or "resume":
                if (!_instances.TryGetValue(name, out e)) { Reply(id, false, [$"no instance '{name}'"]); return; }
                if (op == "pause") SharedDriver.Pause(e.Slot); else SharedDriver.Resume(e.Slot);
                Reply(id, true);
                return;
            case "stats":
                if (!_instances.TryGetValue(name, out e)) { Reply(id, false, [$"no instance '{name}'"]); return; }
                Reply(id, true, null, w => w.WriteString("stats", e.Slot.Current.StatsText()));
                return;
            case "list":
                Reply(id, true, null, w =>
                {
                    w.WriteStartArray("instances");
                    foreach (var x in _instances.Values)
                    {
                        w.WriteStartObject();
                        w.WriteString("name", x.Name);
                        w.WriteBoolean("paused", x.Slot.IsPaused);
                        w.WriteBoolean("ready", x.Ready);
                        w.WriteEndObject();
                    }
                    w.WriteEndArray();
                });
                return;
            case "shutdown":
                _stopping = true;
                foreach (var x in _instances.Values) SharedDriver.Stop(x.Slot);
                Reply(id, true);
                return;
            default:
                Reply(id, false, [$"unknown operation '{op}'"]);
                return;
        }
    }

    private void Create(string name, JsonElement req, long id)
    {
        string config = req.GetProperty("config").GetString() ?? "";
        string configName = req.TryGetProperty("config_name", out var cn) ? cn.GetString() ?? "config" : "config";
        string log = req.GetProperty("log").GetString()!;
        long idleMs = req.TryGetProperty("idle_ms", out var im) ? im.GetInt64() : 0;
        long maxPackets = req.TryGetProperty("max_packets", out var mp) ? mp.GetInt64() : 1 << 16;
        string? vifDir = req.TryGetProperty("vif_dir", out var vd) ? vd.GetString() : null;
        if (_instances.ContainsKey(name)) { Reply(id, false, [$"instance '{name}' exists"]); return; }
        var entry = new Entry(name, log);
        var errh = new CollectingErrorHandler();
        var options = InstanceRouter.Options(entry.Log, maxPackets, _registry, vifDir);
        var router = ConfigLoader.CreateRouter(config, configName, _registry, errh, options);
        if (router == null)
        {
            Reply(id, false, errh.Messages.Select(m => m.Text).ToList());
            return;
        }
        _instances[name] = entry;
        entry.Slot = _driver.Add(router, entry, TimeSpan.FromMilliseconds(idleMs));
        Reply(id, true);
    }

    private void OnExited(SharedDriver.Slot slot, string? reason)
    {
        if (slot.Tag is not Entry e) return;
        if (reason != null) e.Log.WriteLine($"clickos: instance stopped: {reason}");
        e.Log.Flush();
        _instances.TryRemove(e.Name, out _);
        Send(w =>
        {
            Event(w, "exited", e.Name);
            if (reason != null) w.WriteString("reason", reason);
        });
    }

    private static void Event(Utf8JsonWriter w, string ev, string name)
    {
        w.WriteString("event", ev);
        w.WriteString("name", name);
    }

    private void Reply(long id, bool ok, List<string>? errors = null, Action<Utf8JsonWriter>? extra = null) => Send(w =>
    {
        w.WriteNumber("id", id);
        w.WriteBoolean("ok", ok);
        if (errors != null)
        {
            w.WriteStartArray("errors");
            foreach (var m in errors) w.WriteStringValue(m);
            w.WriteEndArray();
        }
        extra?.Invoke(w);
    });

    private void Send(Action<Utf8JsonWriter> body)
    {
        var buf = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        lock (_sendLock)
        {
            if (_host == null) return;   // no host connected: it asks for the list when it comes back
            try
            {
                _host.Send(buf.WrittenSpan);
                _host.Send("\n"u8);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _flush.Dispose();
        _control.Dispose();
        _driver.Dispose();
    }
}

/// <summary>Router settings for a host-managed instance, shared by both isolation levels.</summary>
public static class InstanceRouter
{
    public static RouterOptions Options(TextWriter output, long maxPackets, ElementRegistry registry, string? vifDirectory = null) => new()
    {
        VifDirectory = vifDirectory,
        StandardOutput = output,
        ErrorOutput = output,
        // Start with a handful of packets and small buffer slabs; the pool grows with traffic.
        InitialPackets = 16,
        MaxPackets = maxPackets,
        InstanceStats = true,
        HotConfig = (text, old, eh) =>
        {
            var flat = ConfigLoader.Load(text, "<hotconfig>", registry, eh);
            return flat == null ? null : Router.Create(flat, registry, eh, old.Options, replacing: old);
        },
    };

    /// <summary>The packet limit for a memory limit: buffers are 2 KiB, so about half the memory.</summary>
    public static long MaxPacketsFor(long memoryMax) =>
        memoryMax <= 0 ? 1 << 16 : Math.Clamp(memoryMax / 2 / PacketPool.DefaultBufferSize, 64, 1 << 22);
}

/// <summary>An instance's output in a shared worker: buffered, appended to its log file on flush.</summary>
internal sealed class LogWriter(string path) : TextWriter
{
    private readonly StringBuilder _buf = new();
    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_buf)
        {
            _buf.Append(value);
            if (_buf.Length > 8192) FlushLocked();
        }
    }

    public override void Write(string? value)
    {
        lock (_buf)
        {
            _buf.Append(value);
            if (_buf.Length > 8192) FlushLocked();
        }
    }

    public override void Flush()
    {
        lock (_buf) FlushLocked();
    }

    private void FlushLocked()
    {
        if (_buf.Length == 0) return;
        try { File.AppendAllText(path, _buf.ToString()); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        _buf.Clear();
    }
}
