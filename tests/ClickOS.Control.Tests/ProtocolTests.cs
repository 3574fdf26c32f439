using System.Net.Sockets;
using System.Text;

namespace ClickOS.Control.Tests;

/// <summary>The ControlSocket protocol over real sockets, with Click 2.1's exact texts.</summary>
public sealed class ProtocolTests
{
    // Five packets, then the source stops; nothing ends the driver but the test.
    private const string Config = """
        cs :: ControlSocket(TCP, 0);
        InfiniteSource(LIMIT 5, STOP false) -> c :: Counter -> s :: Switch(0) -> Discard;
        s[1] -> Discard;
        Idle -> q :: Queue(5) -> Discard;
        """;


    [Fact]
    public void ReferenceTranscript()
    {
        using var live = new LiveRouter(Config);
        LiveRouter.WaitFor(() => live.ReadLong("c.count") == 5);
        using var c = new RawClient(live.Port());
        Assert.Equal(["200 Read handler 'c.count' OK"], c.Command("READ c.count"));
        Assert.Equal("DATA 1", c.Line());
        Assert.Equal("5", c.Bytes(1));
        Assert.Equal(["530 Handler 'c.count' read-only"], c.Command("WRITE c.count 5"));
        Assert.Equal(["510 No element named 'nosuch'"], c.Command("READ nosuch.x"));
        Assert.Equal(["511 No handler named 'c.nosuch'"], c.Command("READ c.nosuch"));
        Assert.Equal(["501 Command 'FOO' unimplemented"], c.Command("FOO"));
        Assert.Equal(["500 Wrong number of arguments"], c.Command("READ"));
        Assert.Equal(["520-Write handler 's.switch' error:", "520 Switch output must be integer"], c.Command("WRITE s.switch banana"));
        Assert.Equal(["200 Goodbye!"], c.Command("QUIT"));
        Assert.True(c.ClosedByServer());
    }

    [Fact]
    public void EveryCommandAndCode()
    {
        using var live = new LiveRouter(Config);
        LiveRouter.WaitFor(() => live.ReadLong("c.count") == 5);
        using var c = new RawClient(live.Port());
        // GET, element numbers, global handlers and their canonical forms.
        Assert.Equal(["200 Read handler '2.name' OK"], c.Command("GET 2.name"));
        Assert.Equal("DATA 16", c.Line());
        Assert.Equal("InfiniteSource@2", c.Bytes(16));
        Assert.Equal(["200 Read handler '.version' OK"], c.Command("read .version"));
        Assert.Equal("DATA 3", c.Line());
        Assert.Equal("2.1", c.Bytes(3));
        Assert.Equal(["200 Read handler '0.version' OK"], c.Command("READ 0.version"));
        c.Line(); c.Bytes(3);
        Assert.Equal(["510 No element named '99'"], c.Command("READ 99.name"));
        Assert.Equal(["511 No handler named 'nosuch'"], c.Command("READ nosuch"));
        // SET and a write that works; READDATA passes parameters; WRITEDATA with data.
        Assert.Equal(["200 Write handler 's.switch' OK"], c.Command("SET s.switch 1"));
        Assert.Equal("1", ReadValue(c, "s.switch"));
        c.Send("WRITEDATA q.capacity 2\r\n17");
        Assert.Equal(["200 Write handler 'q.capacity' OK"], c.Reply());
        Assert.Equal("17", ReadValue(c, "q.capacity"));
        c.Send("SETDATA s.switch 1\r\n0");
        Assert.Equal(["200 Write handler 's.switch' OK"], c.Reply());
        Assert.Equal(["500 Syntax error in 'WRITEDATA'"], c.Command("WRITEDATA s.switch x"));
        Assert.Equal(["500 Wrong number of arguments"], c.Command("WRITEDATA s.switch"));
        // READUNTIL/WRITEUNTIL: data up to a terminator line (trailing spaces ignored).
        c.Send("WRITEUNTIL s.switch END\r\n1\r\nEND  \r\n");
        Assert.Equal(["200 Write handler 's.switch' OK"], c.Reply());
        Assert.Equal("1", ReadValue(c, "s.switch"));
        c.Send("READUNTIL q.length\r\n\r\n");
        Assert.Equal(["200 Read handler 'q.length' OK"], c.Reply());
        Assert.Equal("DATA 1", c.Line());
        Assert.Equal("0", c.Bytes(1));
        // CHECKREAD/CHECKWRITE.
        Assert.Equal(["200 Read handler 'c.count' OK"], c.Command("CHECKREAD c.count"));
        Assert.Equal(["511 Handler 'c.count' not writable"], c.Command("CHECKWRITE c.count"));
        Assert.Equal(["511 Handler 'c.reset' not readable"], c.Command("CHECKREAD c.reset"));
        Assert.Equal(["200 Write handler 'c.reset' OK"], c.Command("CHECKWRITE c.reset"));
        Assert.Equal(["510 No element named 'x'"], c.Command("CHECKREAD x.y"));
        Assert.Equal(["500 Wrong number of arguments"], c.Command("CHECKREAD a b"));
        // Write-only handlers are not readable.
        Assert.Equal(["530 Handler 'c.reset' write-only"], c.Command("READ c.reset"));
        // LLRPC: Click's answers.
        Assert.Equal(["501 Cannot call LLRPC 'c#1A' remotely"], c.Command("LLRPC c#1A"));
        Assert.Equal(["500 Syntax error in LLRPC name 'c'"], c.Command("LLRPC c"));
        Assert.Equal(["510 No element named 'zz'"], c.Command("LLRPC zz#1"));
        Assert.Equal(["500 Syntax error in 'llrpc'"], c.Command("LLRPC c#1 x"));
        // A read handler's error is 590, Click's "unspecified".
        var err = c.Command("READ q.nosuchparam");
        Assert.StartsWith("511", err[0]);
        // HELP lists the commands.
        var help = c.Command("HELP");
        Assert.Equal("200-Commands supported:", help[0]);
        Assert.Equal("200 QUIT                    close connection", help[^1]);
        Assert.Equal(11, help.Count);
        // Commands are case-insensitive; blank lines are ignored; CR and LF alone end lines.
        c.Send("\r\n\n   \rread c.count\r");
        Assert.Equal(["200 Read handler 'c.count' OK"], c.Reply());
        c.Line(); c.Bytes(1);
        // Control characters in a reply are made printable, as Click does.
        Assert.Equal(["501 Command 'A^AB\\377' unimplemented"], c.Command("a\u0001b\u00ff"));
        // CLOSE with arguments: a syntax complaint, then goodbye.
        c.Send("CLOSE now\r\n");
        Assert.Equal("500 Bad command syntax", c.Line());
        Assert.Equal("200 Goodbye!", c.Line());
        Assert.True(c.ClosedByServer());
    }

    private static string ReadValue(RawClient c, string handler)
    {
        var r = c.Command("READ " + handler);
        Assert.Equal($"200 Read handler '{handler}' OK", r[0]);
        var data = c.Line();
        return c.Bytes(int.Parse(data[5..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void ReadErrorIs590AndWarningsAre220()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0); rt :: RadixIPLookup(10.0.0.0/8 0); Idle -> rt -> Discard; rq :: Queue(3); Idle -> rq -> Discard;");
        using var c = new RawClient(live.Port());
        Assert.Equal(["590-Read handler 'rt.lookup' error:", "590 expected IP address"], c.Command("READ rt.lookup banana"));
        Assert.Equal(["520-Write handler 'rt.add' error:", "520 conflict with existing route '10.0.0.0/8 - 0'"], c.Command("WRITE rt.add 10.0.0.0/8 0"));
        Assert.Equal(["200 Write handler 'rt.add' OK"], c.Command("WRITE rt.add 11.0.0.0/8 0"));
    }

    [Fact]
    public void ReadOnlySocketRefusesWrites()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0, READONLY true); Idle -> c :: Counter -> Discard;");
        using var c = new RawClient(live.Port());
        Assert.Equal(["530 Permission denied for 'c.reset'"], c.Command("WRITE c.reset"));
        Assert.Equal(["530 Permission denied for 'c.reset'"], c.Command("CHECKWRITE c.reset"));
        Assert.Equal(["200 Read handler 'c.count' OK"], c.Command("READ c.count"));
    }

    [Fact]
    public void UnixSocketAndItsCleanup()
    {
        string dir = Directory.CreateTempSubdirectory("clickos-cs").FullName;
        string path = Path.Combine(dir, "ctl");
        try
        {
            using (var live = new LiveRouter($"cs :: ControlSocket(UNIX, \"{path}\"); Idle -> c :: Counter -> Discard;"))
            {
                using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified) { ReceiveTimeout = 10_000 };
                s.Connect(new UnixDomainSocketEndPoint(path));
                using var c = new RawClient(s);
                Assert.Equal("Click::ControlSocket/1.3", c.Line());
                Assert.Equal(["200 Read handler 'c.count' OK"], c.Command("READ c.count"));
                Assert.Equal("DATA 1", c.Line());
                Assert.Equal("0", c.Bytes(1));
            }
            Assert.False(File.Exists(path), "the socket file is removed at cleanup");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void ConfigurationErrors()
    {
        var eh = new ClickOS.Core.CollectingErrorHandler();
        var registry = ControlElements.CreateFullRegistry();
        var flat = ClickOS.Runtime.ConfigLoader.Load("ControlSocket(SCTP, 1); ControlSocket(TCP, 70000); ControlSocket(UNIX);", "bad.click", registry, eh);
        Assert.NotNull(flat);
        Assert.Null(ClickOS.Runtime.Router.Create(flat!, registry, eh));
        Assert.Contains("bad.click:1: While configuring 'ControlSocket@1 :: ControlSocket':\n  unknown socket type 'SCTP'", eh.Text);
        Assert.Contains("expected TCP port number, not '70000'", eh.Text);
        Assert.Contains("missing FILENAME", eh.Text);
    }

    [Fact]
    public void BusyPortIsAnErrorOrTheNextWithPlus()
    {
        using var first = new LiveRouter("cs :: ControlSocket(TCP, 0); Idle -> Discard;");
        int port = first.Port();
        var eh = new ClickOS.Core.CollectingErrorHandler();
        var registry = ControlElements.CreateFullRegistry();
        var flat = ClickOS.Runtime.ConfigLoader.Load($"ControlSocket(TCP, {port}); Idle -> Discard;", "busy.click", registry, eh)!;
        Assert.Null(ClickOS.Runtime.Router.Create(flat, registry, eh));
        Assert.Contains("bind: Address already in use", eh.Text);
        using var second = new LiveRouter($"cs :: ControlSocket(TCP, {port}+); Idle -> Discard;");
        Assert.True(second.Port() > port);
    }

    [Fact]
    public void VerboseReportsConnections()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0, VERBOSE true); Idle -> Discard;");
        using (var c = new RawClient(live.Port()))
            Assert.Equal(["200 Goodbye!"], c.Command("QUIT"));
        LiveRouter.WaitFor(() => live.Err.ToString().Contains("cs :: ControlSocket: closed connection 0"), "the close message");
        Assert.Matches(@"cs :: ControlSocket: opened connection 0 from 127\.0\.0\.1\.\d+\n", live.Err.ToString());
    }

    [Fact]
    public void RetriesThenStopsTheRouter()
    {
        using var first = new LiveRouter("cs :: ControlSocket(TCP, 0); Idle -> Discard;");
        int port = first.Port();
        var registry = ControlElements.CreateFullRegistry();
        var eh = new ClickOS.Core.CollectingErrorHandler();
        var err = new StringWriter();
        var r = ClickOS.Runtime.ConfigLoader.CreateRouter($"ControlSocket(TCP, {port}, RETRIES 1); Idle -> Discard;", "retry.click", registry, eh,
            new ClickOS.Runtime.RouterOptions { ErrorOutput = err });
        Assert.True(r != null, eh.Text);
        Assert.Contains("bind: Address already in use (1 try left)", eh.Text);
        Assert.Equal(0, eh.ErrorCount);
        using var cts = new CancellationTokenSource(10_000);
        var final = ClickOS.Runtime.Driver.Run(r!, cts.Token);
        Assert.False(cts.IsCancellationRequested, "the router should stop after its last retry");
        final.Cleanup();
        Assert.Contains("bind: Address already in use", err.ToString());
    }
}
