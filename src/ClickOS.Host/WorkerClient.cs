using System.Threading.Tasks;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace ClickOS.Host;

/// <summary>The host's side of one shared worker process: requests, replies and events over JSON lines.</summary>
internal sealed class WorkerClient : IDisposable
{
    private readonly Socket _socket;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly Thread _reader;
    private readonly object _sendLock = new();
    private long _nextId;
    private volatile bool _closed;

    public int Pid { get; }
    public string SocketPath { get; }
    public string ControlPath => SocketPath + ".ctl";
    /// <summary>Events: (event, instance name, reason).</summary>
    public Action<string, string, string?>? OnEvent { get; set; }
    /// <summary>The worker went away (it died, or was shut down).</summary>
    public Action<WorkerClient>? OnLost { get; set; }
    public bool Closed => _closed;

    private WorkerClient(Socket socket, int pid, string path)
    {
        _socket = socket;
        Pid = pid;
        SocketPath = path;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "worker-client" };
    }

    /// <summary>Connects to a worker at <paramref name="path"/>, waiting up to <paramref name="timeout"/> for it to listen.</summary>
    public static WorkerClient? Connect(string path, int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                s.Connect(new UnixDomainSocketEndPoint(path));
                var c = new WorkerClient(s, pid, path);
                return c;
            }
            catch (SocketException)
            {
                s.Dispose();
                if (DateTime.UtcNow > deadline || (pid > 0 && !Native.Alive(pid))) return null;
                Thread.Sleep(2);
            }
        }
    }

    public void Start() => _reader.Start();

    public JsonElement Request(string op, Action<Utf8JsonWriter>? fields = null, TimeSpan? timeout = null)
    {
        long id = Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        var buf = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("op", op);
            fields?.Invoke(w);
            w.WriteEndObject();
        }
        try
        {
            lock (_sendLock)
            {
                _socket.Send(buf.WrittenSpan);
                _socket.Send("\n"u8);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _pending.TryRemove(id, out _);
            throw new IOException("the shared worker is gone");
        }
        if (!tcs.Task.Wait(timeout ?? TimeSpan.FromSeconds(30)))
        {
            _pending.TryRemove(id, out _);
            throw new IOException($"the shared worker did not answer '{op}'");
        }
        return tcs.Task.Result;
    }

    private void ReadLoop()
    {
        try
        {
            using var stream = new NetworkStream(_socket, ownsSocket: false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0) continue;
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement.Clone();
                if (root.TryGetProperty("event", out var ev))
                {
                    string? reason = root.TryGetProperty("reason", out var r) ? r.GetString() : null;
                    OnEvent?.Invoke(ev.GetString()!, root.GetProperty("name").GetString()!, reason);
                }
                else if (root.TryGetProperty("id", out var id) && _pending.TryRemove(id.GetInt64(), out var tcs))
                {
                    tcs.TrySetResult(root);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or JsonException or ObjectDisposedException) { }
        _closed = true;
        foreach (var kv in _pending)
            if (_pending.TryRemove(kv.Key, out var t)) t.TrySetException(new IOException("the shared worker is gone"));
        OnLost?.Invoke(this);
    }

    public static List<string> Errors(JsonElement reply) =>
        reply.TryGetProperty("errors", out var e) ? e.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : [];

    public static bool Ok(JsonElement reply) => reply.GetProperty("ok").GetBoolean();

    public void Dispose()
    {
        _closed = true;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _socket.Dispose();
    }
}
