using System.Net.Sockets;
using System.Text;
using ClickOS.Core;
using ClickOS.Runtime;

namespace ClickOS.Control.Tests;

/// <summary>
/// Hostile and careless clients: none of them may stall the data path, grow memory without
/// bound, or stop other clients from being served.
/// </summary>
public sealed class RobustnessTests
{
    // A source that never stops, so the counter shows whether forwarding goes on.
    private const string Config = "cs :: ControlSocket(TCP, 0); RatedSource(RATE 2000) -> c :: Counter -> Discard;";

    private static void AssertForwarding(LiveRouter live)
    {
        long before = live.ReadLong("c.count");
        var until = DateTime.UtcNow.AddSeconds(10);
        while (live.ReadLong("c.count") <= before + 20)
        {
            Assert.True(DateTime.UtcNow < until, "forwarding stalled");
            Thread.Sleep(10);
        }
    }

    private static string ReadCount(int port)
    {
        using var c = new RawClient(port);
        Assert.Equal(["200 Read handler 'c.name' OK"], c.Command("READ c.name"));
        Assert.Equal("DATA 1", c.Line());
        return c.Bytes(1);
    }

    [Fact]
    public void OverlongLineIsRefusedAndClosed()
    {
        using var live = new LiveRouter(Config);
        using var c = new RawClient(live.Port());
        var junk = new byte[200 * 1024];
        Array.Fill(junk, (byte)'A');
        try { c.Socket.Send(junk); } catch (SocketException) { }
        Assert.Equal("500 Line too long", c.Line());
        Assert.True(c.ClosedByServer());
        AssertForwarding(live);
        Assert.Equal("c", ReadCount(live.Port()));
    }

    [Fact]
    public void BinaryGarbageGetsAnswersNotCrashes()
    {
        using var live = new LiveRouter(Config);
        using var c = new RawClient(live.Port());
        var rng = new Random(7);
        var garbage = new byte[64 * 1024];
        rng.NextBytes(garbage);
        // Keep it line-shaped now and then so many commands get parsed.
        for (int i = 0; i < garbage.Length; i += 50) garbage[i] = (byte)'\n';
        c.Socket.Send(garbage);
        c.Send("\nREAD c.name\r\n");
        // Skip the answers to the garbage; the real command is answered in order.
        string line;
        do line = c.Line(); while (line != "200 Read handler 'c.name' OK");
        Assert.Equal("DATA 1", c.Line());
        Assert.Equal("c", c.Bytes(1));
        AssertForwarding(live);
    }

    [Fact]
    public void ClientThatStopsReadingDoesNotStallOthers()
    {
        using var live = new LiveRouter(Config);
        int port = live.Port();
        using var greedy = LiveRouter.Connect(port);
        greedy.ReceiveBufferSize = 4096;
        // Thousands of reads whose replies it never collects.
        // 40 MB of commands: more than the kernel's socket buffers can hold on both sides.
        var one = "READ c.handlers\r\n"u8.ToArray();
        var bytes = new byte[one.Length * 2_400_000];
        for (int i = 0; i < bytes.Length; i += one.Length) one.CopyTo(bytes, i);
        greedy.Blocking = false;
        int sent = 0;
        var until = DateTime.UtcNow.AddSeconds(3);
        while (sent < bytes.Length && DateTime.UtcNow < until)
        {
            int n = greedy.Send(bytes, sent, bytes.Length - sent, SocketFlags.None, out var err);
            if (n > 0) sent += n;
            else Thread.Sleep(5);
        }
        // The server stopped reading it (its output is at the high-water mark), so not all was taken.
        Assert.True(sent < bytes.Length, "server kept reading from a client that never reads");
        AssertForwarding(live);
        Assert.Equal("c", ReadCount(port));
    }

    [Fact]
    public void HalfCloseStillGetsReplies()
    {
        using var live = new LiveRouter(Config);
        using var c = new RawClient(live.Port());
        c.Send("READ c.name\r\nREAD c.class");   // the last line has no terminator
        c.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(["200 Read handler 'c.name' OK"], c.Reply());
        Assert.Equal("DATA 1", c.Line());
        Assert.Equal("c", c.Bytes(1));
        Assert.Equal(["200 Read handler 'c.class' OK"], c.Reply());
        Assert.Equal("DATA 7", c.Line());
        Assert.Equal("Counter", c.Bytes(7));
        Assert.True(c.ClosedByServer());
    }

    [Fact]
    public void WriteDataMissingAtCloseIsASyntaxError()
    {
        using var live = new LiveRouter("cs :: ControlSocket(TCP, 0); Idle -> q :: Queue -> Discard;");
        using var c = new RawClient(live.Port());
        c.Send("WRITEDATA q.capacity 10\r\n12");
        c.Socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(["500 Not enough data"], c.Reply());
        Assert.True(c.ClosedByServer());
    }

    [Fact]
    public void OversizedDataIsRefusedAndSkipped()
    {
        var registry = ControlElements.CreateFullRegistry();
        var eh = new CollectingErrorHandler();
        var router = ConfigLoader.CreateRouter("Idle -> q :: Queue -> Discard;", "t.click", registry, eh)!;
        var s = new ControlSession(new InlineTarget(router), new ControlLimits { MaxData = 1000 });
        s.Feed(Encoding.ASCII.GetBytes("WRITEDATA q.capacity 5000\r\n"));
        s.Feed(new byte[3000]);
        Assert.Equal(1, s.Process());
        Assert.Equal("521 Data too large for write handler 'q.capacity'\r\n", Encoding.Latin1.GetString(s.Output.Pending));
        s.Output.Consume(s.Output.Length);
        s.Feed(new byte[2000]);   // the rest of the refused block, skipped unbuffered
        s.Feed(Encoding.ASCII.GetBytes("READ q.capacity\r\n"));
        Assert.Equal(1, s.Process());
        Assert.Equal("200 Read handler 'q.capacity' OK\r\nDATA 4\r\n1000", Encoding.Latin1.GetString(s.Output.Pending));
        router.Cleanup();
    }

    [Fact]
    public void ThousandsOfConnectsLeaveNothingBehind()
    {
        using var live = new LiveRouter(Config);
        int port = live.Port();
        var greeting = new byte[26];
        for (int i = 0; i < 2200; i++)
        {
            using var s = LiveRouter.Connect(port);
            // Most wait for the greeting; some send a command and leave without reading, some
            // leave at once (a close before the server accepted).
            if (i < 2000) s.Receive(greeting);
            if (i % 2 == 0) s.Send("READ c.count\r\n"u8);
        }
        var until = DateTime.UtcNow.AddSeconds(10);
        while (live.ReadLong("cs.connections") != 0)
        {
            Assert.True(DateTime.UtcNow < until, "connections were not closed: " + live.Read("cs.connections"));
            Thread.Sleep(10);
        }
        Assert.Equal(2200, live.ReadLong("cs.accepted"));
        AssertForwarding(live);
    }

    [Fact]
    public void ConnectionsBeyondTheCapAreClosedAtOnce()
    {
        using var live = new LiveRouter(Config);
        var server = ((ControlSocket)live.Current["cs"]!).Server!;
        server.MaxConnections = 2;
        using var a = new RawClient(live.Port());
        using var b = new RawClient(live.Port());
        using var extra = LiveRouter.Connect(live.Port());
        // No greeting: the server accepted and closed it.
        var buf = new byte[64];
        Assert.Equal(0, extra.Receive(buf));
        Assert.Equal(1, server.Refused);
        // The two it serves still work.
        Assert.Equal(["200 Read handler 'c.name' OK"], a.Command("READ c.name"));
        Assert.Equal(["200 Read handler 'c.name' OK"], b.Command("READ c.name"));
    }

    [Fact]
    public void ReaderThatStallsIsDropped()
    {
        using var live = new LiveRouter(Config);
        var server = ((ControlSocket)live.Current["cs"]!).Server!;
        server.StallTimeout = TimeSpan.FromMilliseconds(500);
        using var greedy = LiveRouter.Connect(live.Port());
        greedy.ReceiveBufferSize = 4096;
        var one = "READ c.handlers\r\n"u8.ToArray();
        var bytes = new byte[one.Length * 2_400_000];
        for (int i = 0; i < bytes.Length; i += one.Length) one.CopyTo(bytes, i);
        greedy.Blocking = false;
        int sent = 0;
        var until = DateTime.UtcNow.AddSeconds(3);
        while (sent < bytes.Length && DateTime.UtcNow < until)
        {
            int n = greedy.Send(bytes, sent, bytes.Length - sent, SocketFlags.None, out _);
            if (n > 0) sent += n;
            else Thread.Sleep(5);
        }
        // Its replies go nowhere for longer than the stall timeout: the server lets it go.
        LiveRouter.WaitFor(() => live.ReadLong("cs.connections") == 0, "the stalled connection to be dropped");
        AssertForwarding(live);
    }

    [Fact]
    public void ManyClientsAtOnce()
    {
        using var live = new LiveRouter(Config);
        int port = live.Port();
        var clients = Enumerable.Range(0, 50).Select(_ => new RawClient(port)).ToList();
        try
        {
            System.Threading.Tasks.Parallel.ForEach(clients, c =>
            {
                for (int i = 0; i < 20; i++)
                {
                    Assert.Equal(["200 Read handler 'c.name' OK"], c.Command("READ c.name"));
                    Assert.Equal("DATA 1", c.Line());
                    Assert.Equal("c", c.Bytes(1));
                }
            });
            Assert.Equal(50, live.ReadLong("cs.connections"));
        }
        finally { clients.ForEach(c => c.Dispose()); }
    }
}

/// <summary>Runs commands on the calling thread (the router is not driven).</summary>
public sealed class InlineTarget(Router router) : IControlTarget
{
    public ControlReply Run(Func<Router, ControlReply> command) => command(router);
}
