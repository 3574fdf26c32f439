using System.Net.Sockets;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Control.Tests;

/// <summary>A router driven on its own thread, as the driver runs it, with a bounded stop.</summary>
public sealed class LiveRouter : IDisposable
{
    private readonly Thread _thread;
    private Router _final;
    public Router Router { get; }
    public StringWriter Out { get; } = new();
    public StringWriter Err { get; } = new();
    public CollectingErrorHandler Errors { get; } = new();
    public ElementRegistry Registry { get; } = ControlElements.CreateFullRegistry();

    public LiveRouter(string config, bool allowHotConfig = false)
    {
        var flat = ConfigLoader.Load(config, "test.click", Registry, Errors);
        Assert.True(flat != null, Errors.Text);
        var options = new RouterOptions
        {
            StandardOutput = TextWriter.Synchronized(Out),
            ErrorOutput = TextWriter.Synchronized(Err),
            HotConfig = allowHotConfig ? (text, old, eh) =>
            {
                var next = ConfigLoader.Load(text, "<hotconfig>", Registry, eh);
                return next == null ? null : Router.Create(next, Registry, eh, old.Options, replacing: old);
            } : null,
        };
        var r = Router.Create(flat!, Registry, Errors, options);
        Assert.True(r != null, Errors.Text);
        Router = _final = r!;
        _thread = new Thread(() => _final = Driver.Run(Router)) { IsBackground = true, Name = "test driver" };
        _thread.Start();
    }

    /// <summary>The router now running (a later one after hot-swaps).</summary>
    public Router Current
    {
        get
        {
            var r = Router;
            while (r.Successor is { } next) r = next;
            return r;
        }
    }

    public int Port(string element = "cs") => ((ControlSocket)Current[element]!).BoundPort;

    /// <summary>Reads a handler on the router's own thread.</summary>
    public string Read(string handler) => Current.Invoke(r =>
    {
        var eh = new CollectingErrorHandler();
        var h = r.FindHandler(handler, null, out _, eh) ?? throw new InvalidOperationException(eh.Text);
        return h.CallRead("", eh) ?? throw new InvalidOperationException(eh.Text);
    }, () => throw new InvalidOperationException("router stopped"), TimeSpan.FromSeconds(10));

    public long ReadLong(string handler) => long.Parse(Read(handler).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Polls <paramref name="cond"/> until it holds; fails after 15 s.</summary>
    public static void WaitFor(Func<bool> cond, string what = "a condition")
    {
        var until = DateTime.UtcNow.AddSeconds(15);
        while (!cond())
        {
            Assert.True(DateTime.UtcNow < until, "timed out waiting for " + what);
            Thread.Sleep(10);
        }
    }

    public static Socket Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
        s.Connect("127.0.0.1", port);
        return s;
    }

    public void Dispose()
    {
        Router.StopNow();
        bool stopped = _thread.Join(TimeSpan.FromSeconds(20));
        _final.Cleanup();
        Assert.True(stopped, "driver did not stop");
    }
}

/// <summary>A line-oriented test client that reads replies exactly as sent.</summary>
public sealed class RawClient : IDisposable
{
    private readonly Socket _s;
    private readonly List<byte> _pending = [];

    public RawClient(int port)
    {
        _s = LiveRouter.Connect(port);
        Assert.Equal("Click::ControlSocket/1.3", Line());
    }

    public RawClient(Socket s) { _s = s; }

    public Socket Socket => _s;

    public void Send(string text) => _s.Send(Encoding.Latin1.GetBytes(text));

    public string Line()
    {
        while (true)
        {
            int nl = _pending.IndexOf((byte)'\n');
            if (nl >= 0)
            {
                var line = Encoding.Latin1.GetString(_pending.GetRange(0, nl + 1).ToArray());
                _pending.RemoveRange(0, nl + 1);
                Assert.EndsWith("\r\n", line);
                return line[..^2];
            }
            Fill();
        }
    }

    public string Bytes(int n)
    {
        while (_pending.Count < n) Fill();
        var s = Encoding.Latin1.GetString(_pending.GetRange(0, n).ToArray());
        _pending.RemoveRange(0, n);
        return s;
    }

    private void Fill()
    {
        var buf = new byte[4096];
        int got = _s.Receive(buf);
        if (got == 0) throw new IOException("connection closed");
        _pending.AddRange(buf.AsSpan(0, got).ToArray());
    }

    /// <summary>Sends a command and returns every reply line up to the last ("CODE text").</summary>
    public List<string> Command(string command)
    {
        Send(command + "\r\n");
        return Reply();
    }

    public List<string> Reply()
    {
        var lines = new List<string>();
        while (true)
        {
            var l = Line();
            lines.Add(l);
            if (l.Length >= 4 && l[3] == ' ') return lines;
        }
    }

    /// <summary>True once the server has closed the connection (reads until EOF).</summary>
    public bool ClosedByServer()
    {
        try
        {
            var buf = new byte[4096];
            while (_s.Receive(buf) > 0) { }
            return true;
        }
        catch (SocketException) { return false; }
    }

    public void Dispose() => _s.Dispose();
}
