using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ClickOS.Runtime;

namespace ClickOS.Control;

/// <summary>
/// The sockets behind a ControlSocket: one listening socket and its connections, served by one
/// control thread with poll(). Commands run on the router's thread (posted between task
/// batches), so the data path never waits on a socket, and nothing here can block it: output is
/// buffered per connection, input is read only while a connection's limits allow, and a peer
/// that stops reading is dropped after <see cref="StallTimeout"/>.
/// </summary>
public sealed class ControlServer : IControlTarget, IDisposable
{
    private readonly Socket _listener;
    private readonly string? _unixPath;
    private readonly List<Connection> _connections = [];
    private readonly int _wakeFd;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile Router _router;
    private long _accepted, _refused;

    public ControlLimits Limits { get; init; } = new();
    public bool ReadOnly { get; set; }
    public string? Proxy { get; set; }
    /// <summary>Where VERBOSE connection messages go (null: none). Called on the control thread.</summary>
    public Action<string>? Log { get; set; }
    /// <summary>Lets connections pick another router with <c>INSTANCE name</c> (see <see cref="ControlSession.Selector"/>).</summary>
    public Func<string, IControlTarget?>? Selector { get; set; }
    public string Declaration { get; set; } = "ControlSocket";
    /// <summary>Most connections served at once; more are accepted and closed at once.</summary>
    public int MaxConnections { get; set; } = 1024;
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a command may wait for the router's thread.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The bound TCP port (0 for a UNIX socket).</summary>
    public int Port { get; }
    public string Address { get; }
    public int ConnectionCount { get { lock (_connections) return _connections.Count; } }
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Refused => Interlocked.Read(ref _refused);

    private ControlServer(Socket listener, string? unixPath, Router router)
    {
        _listener = listener;
        _unixPath = unixPath;
        _router = router;
        _listener.Blocking = false;
        Port = listener.LocalEndPoint is IPEndPoint ip ? ip.Port : 0;
        Address = unixPath ?? listener.LocalEndPoint!.ToString()!;
        _wakeFd = Posix.CreateEventFd();
        _thread = new Thread(Serve) { IsBackground = true, Name = "ControlSocket" };
    }

    /// <summary>Listens on TCP <paramref name="port"/> (0: any free port); <paramref name="tryNext"/> tries the following ports while taken.</summary>
    public static ControlServer ListenTcp(int port, bool localhostOnly, bool tryNext, Router router)
    {
        var addr = localhostOnly ? IPAddress.Loopback : IPAddress.Any;
        for (int p = port; ; p++)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // SO_REUSEADDR only (restart while old connections linger in TIME_WAIT). .NET's
                // ReuseAddress option also sets SO_REUSEPORT on Linux, which would let a second
                // process bind the same port and steal connections.
                if (OperatingSystem.IsLinux()) s.SetRawSocketOption(1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, BitConverter.GetBytes(1));
                s.Bind(new IPEndPoint(addr, p));
                s.Listen(64);
                return new ControlServer(s, null, router);
            }
            catch (SocketException ex) when (tryNext && ex.SocketErrorCode == SocketError.AddressAlreadyInUse && p < 65535 && p != 0)
            {
                s.Dispose();
            }
            catch
            {
                s.Dispose();
                throw;
            }
        }
    }

    public static ControlServer ListenUnix(string path, Router router)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            // A stale socket file from a process that died would make bind fail.
            if (File.Exists(path) && IsStaleSocket(path)) File.Delete(path);
            s.Bind(new UnixDomainSocketEndPoint(path));
            s.Listen(64);
            return new ControlServer(s, path, router);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private static bool IsStaleSocket(string path)
    {
        if ((File.GetAttributes(path) & FileAttributes.Directory) != 0) return false;
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
            return false;
        }
        catch (SocketException ex) { return ex.SocketErrorCode == SocketError.ConnectionRefused; }
    }

    /// <summary>The router commands run against; a hot-swap moves the server to the new router.</summary>
    public Router Router
    {
        get => _router;
        set => _router = value;
    }

    public void Start() => _thread.Start();

    public ControlReply Run(Func<Router, ControlReply> command) =>
        _router.Invoke(command, ControlReply.NoRouter, CallTimeout);

    // ---------------- the control thread ----------------

    private sealed class Connection(Socket socket, ControlSession session, int id)
    {
        public readonly Socket Socket = socket;
        public readonly ControlSession Session = session;
        public readonly int Id = id;
        public long LastProgress = Stopwatch.GetTimestamp();
    }

    private void Serve()
    {
        // The control thread must never take the process down: a failure ends the server only.
        try { ServeLoop(); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log?.Invoke($"{Declaration}: control thread stopped: {ex.GetType().Name}: {ex.Message}");
            ErrorReport?.Invoke($"{Declaration}: control thread stopped: {ex.Message}");
        }
    }

    /// <summary>Where a fatal control-thread error is reported (the router's error output).</summary>
    public Action<string>? ErrorReport { get; set; }

    private unsafe void ServeLoop()
    {
        var buffer = new byte[16 * 1024];
        var fds = new Posix.PollFd[16];
        int nextId = 0;
        while (!_stopping)
        {
            List<Connection> conns;
            lock (_connections) conns = [.. _connections];
            int n = 2 + conns.Count;
            if (fds.Length < n) fds = new Posix.PollFd[n * 2];
            fds[0] = new Posix.PollFd { Fd = _wakeFd, Events = Posix.POLLIN };
            fds[1] = new Posix.PollFd { Fd = (int)_listener.Handle, Events = Posix.POLLIN };
            bool busy = false;
            for (int i = 0; i < conns.Count; i++)
            {
                var s = conns[i].Session;
                short ev = 0;
                if (s.WantsInput) ev |= Posix.POLLIN;
                if (s.Output.Length > 0) ev |= Posix.POLLOUT;
                busy |= s.HasWork && s.Output.Length < Limits.OutputHighWater;
                fds[2 + i] = new Posix.PollFd { Fd = (int)conns[i].Socket.Handle, Events = ev };
            }
            int r;
            fixed (Posix.PollFd* p = fds) r = Posix.poll(p, (nuint)n, busy ? 0 : 1000);
            if (_stopping) break;
            if (r > 0 && (fds[0].REvents & Posix.POLLIN) != 0) Posix.DrainEventFd(_wakeFd);
            if (r > 0 && (fds[1].REvents & Posix.POLLIN) != 0) AcceptAll(ref nextId);
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < conns.Count; i++)
            {
                var c = conns[i];
                short re = r > 0 ? fds[2 + i].REvents : (short)0;
                if (!Service(c, re, buffer, now)) Close(c);
            }
        }
    }

    private void AcceptAll(ref int nextId)
    {
        for (int k = 0; k < 64; k++)
        {
            Socket s;
            try { s = _listener.Accept(); }
            catch (SocketException) { return; }
            catch (ObjectDisposedException) { return; }
            lock (_connections)
            {
                if (_connections.Count >= MaxConnections)
                {
                    Interlocked.Increment(ref _refused);
                    s.Dispose();
                    continue;
                }
            }
            s.Blocking = false;
            if (s.AddressFamily == AddressFamily.InterNetwork) s.NoDelay = true;
            var session = new ControlSession(this, Limits, ReadOnly, Proxy) { Selector = Selector };
            session.Start();
            var c = new Connection(s, session, nextId++);
            lock (_connections) _connections.Add(c);
            Interlocked.Increment(ref _accepted);
            Log?.Invoke(s.RemoteEndPoint is IPEndPoint ep
                ? $"{Declaration}: opened connection {c.Id} from {ep.Address}.{ep.Port}"
                : $"{Declaration}: opened connection {c.Id}");
        }
    }

    /// <summary>Reads a little, runs a few commands, writes what it can. False: close the connection.</summary>
    private bool Service(Connection c, short events, byte[] buffer, long now)
    {
        var s = c.Session;
        if ((events & (Posix.POLLIN | Posix.POLLHUP | Posix.POLLERR)) != 0 && s.WantsInput)
        {
            int want = Math.Min(buffer.Length, s.InputRoom);
            int got = c.Socket.Receive(buffer, 0, want, SocketFlags.None, out var err);
            if (err == SocketError.Success && got > 0) s.Feed(buffer.AsSpan(0, got));
            else if (err == SocketError.Success || (err != SocketError.WouldBlock && err != SocketError.Interrupted)) s.EndOfInput();
        }
        // A few commands per round, so one busy client cannot starve the others.
        if (s.HasWork && s.Output.Length < Limits.OutputHighWater) s.Process(16);
        if (s.Output.Length > 0)
        {
            var pending = s.Output.Pending;
            int sent = c.Socket.Send(pending, SocketFlags.None, out var err);
            if (sent > 0)
            {
                s.Output.Consume(sent);
                c.LastProgress = now;
                if (s.Output.Length == 0) s.Output.Trim();
            }
            else if (err != SocketError.WouldBlock && err != SocketError.Interrupted && err != SocketError.Success)
            {
                return false;   // the peer is gone: nothing more can be delivered
            }
            else if (Stopwatch.GetElapsedTime(c.LastProgress, now) > StallTimeout)
            {
                return false;   // the peer stopped reading
            }
        }
        else c.LastProgress = now;
        return !s.Finished;
    }

    private void Close(Connection c)
    {
        lock (_connections) _connections.Remove(c);
        try { c.Socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        c.Socket.Dispose();
        Log?.Invoke($"{Declaration}: closed connection {c.Id}");
    }

    /// <summary>Stops the control thread (within a second), flushes what it can and closes every socket.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        if (_wakeFd >= 0) Posix.SignalEventFd(_wakeFd);
        if (_thread.IsAlive && _thread != Thread.CurrentThread) _thread.Join(TimeSpan.FromSeconds(5));
        List<Connection> conns;
        lock (_connections) conns = [.. _connections];
        foreach (var c in conns)
        {
            // One last try to hand out buffered replies (Click does the same), without blocking.
            if (c.Session.Output.Length > 0) c.Socket.Send(c.Session.Output.Pending, SocketFlags.None, out _);
            Close(c);
        }
        try { _listener.Shutdown(SocketShutdown.Both); } catch (SocketException) { }
        _listener.Dispose();
        if (_unixPath != null) try { File.Delete(_unixPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        if (_wakeFd >= 0) Posix.close(_wakeFd);
    }
}
