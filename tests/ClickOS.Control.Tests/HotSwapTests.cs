using ClickOS.Core;
using ClickOS.Runtime;

namespace ClickOS.Control.Tests;

/// <summary>Hot-swapping whole configurations under traffic, through the control socket.</summary>
public sealed class HotSwapTests
{
    // Subscribers 10.0.0.X NATed to 192.168.0.X; the queue drains slower than traffic arrives,
    // so it always holds packets at the moment of the swap.
    private static string Nat(int subscriber, int queue, string extra = "") => $"""
        cs :: ControlSocket(TCP, 0);
        src :: FastUDPFlows(RATE 4000, LIMIT -1, LENGTH 60, SRCETH 0:0:0:0:0:1, SRCIP 10.0.0.{subscriber},
                            DSTETH 0:0:0:0:0:2, DSTIP 1.0.0.1, FLOWS 20, FLOWSIZE 1000000000)
          -> Unqueue -> Strip(14) -> CheckIPHeader
          -> rw :: IPRewriter(pattern 192.168.0.{subscriber} 1024-65535 - - 0 1)
          -> cin :: Counter -> q :: Queue({queue}) -> RatedUnqueue(1500) -> cout :: Counter {extra} -> Discard;
        rw[1] -> Discard;
        """;

    private sealed record Snapshot(long In, long Out, long Length, long Drops, HashSet<string> Mappings);

    /// <summary>All the numbers at one instant, read on the router's thread.</summary>
    private static Snapshot Take(LiveRouter live) => live.Current.Invoke(r =>
    {
        var eh = new CollectingErrorHandler();
        string Read(string h) => r.FindHandler(h, null, out _, eh)!.CallRead("", eh)!;
        long L(string h) => long.Parse(Read(h).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var maps = Read("rw.table").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l[..l.IndexOf(" idle ", StringComparison.Ordinal)]).ToHashSet();
        return new Snapshot(L("cin.count"), L("cout.count"), L("q.length"), L("q.drops"), maps);
    }, () => throw new InvalidOperationException("router stopped"), TimeSpan.FromSeconds(10));


    [Fact]
    public void NatStateAndQueuedPacketsSurviveAndNewConfigApplies()
    {
        using var live = new LiveRouter(Nat(1, 300), allowHotConfig: true);
        LiveRouter.WaitFor(() => live.ReadLong("rw.nmappings") == 20 && live.ReadLong("q.length") > 100, "mappings and a full queue");
        using var client = ControlClient.ConnectTcp("127.0.0.1", live.Port(), TimeSpan.FromSeconds(10));
        var before = Take(live);
        Assert.Equal(before.In, before.Out + before.Length + before.Drops);
        Assert.Equal(20, before.Mappings.Count);
        Assert.All(before.Mappings, m => Assert.Contains("=> (192.168.0.1, ", m));
        var oldRouter = live.Current;

        // The new configuration: a second subscriber with its own address, a larger queue.
        var reply = client.Write("hotconfig", Nat(2, 1000, "-> extra :: Counter"));
        Assert.True(reply.Ok, reply.ToString());
        Assert.NotSame(oldRouter, live.Current);
        var after = Take(live);
        // No queued packet was lost: everything counted in either left, waits, or was dropped
        // by the queue (and the counters carried over, so this spans the swap).
        Assert.Equal(after.In, after.Out + after.Length + after.Drops);
        Assert.True(after.In >= before.In && after.Out >= before.Out && after.Drops >= before.Drops);
        Assert.True(after.Length > 0, "the old queue's packets moved to the new queue");
        // Every established mapping is still there, unchanged.
        Assert.Subset(after.Mappings, before.Mappings);

        // The new configuration's behaviour: new subscriber flows get the new pattern's address.
        LiveRouter.WaitFor(() => live.ReadLong("rw.nmappings") == 40 && live.ReadLong("extra.count") > 0, "new mappings");
        var later = Take(live);
        Assert.Equal(20, later.Mappings.Count(m => m.StartsWith("(10.0.0.2, ", StringComparison.Ordinal) && m.Contains("=> (192.168.0.2, ")));
        Assert.Equal(20, later.Mappings.Count(m => m.StartsWith("(10.0.0.1, ", StringComparison.Ordinal) && m.Contains("=> (192.168.0.1, ")));
        Assert.Equal("1000", live.Read("q.capacity"));
        // The same connection still works: the control socket moved to the new router.
        var n = client.Read("rw.nmappings");
        Assert.True(n.Ok);
        Assert.NotNull(live.Current.LastHotSwap);
    }

    [Fact]
    public void FailingConfigurationLeavesTheOldOneRunning()
    {
        using var live = new LiveRouter(Nat(1, 300), allowHotConfig: true);
        LiveRouter.WaitFor(() => live.ReadLong("cout.count") > 10, "traffic");
        using var client = ControlClient.ConnectTcp("127.0.0.1", live.Port(), TimeSpan.FromSeconds(10));
        var oldRouter = live.Current;
        var reply = client.Write("hotconfig", "cs :: ControlSocket(TCP, 0);\nIdle -> NoSuchClass() -> Discard;\nIdle -> OtherMissing() -> Discard;\n");
        Assert.Equal(ControlCode.HandlerError, reply.Code);
        Assert.Equal("Write handler 'hotconfig' error:", reply.Messages[0]);
        // Every error, with file:line, at once.
        Assert.Contains("<hotconfig>:2: unknown element class 'NoSuchClass'", reply.Messages);
        Assert.Contains("<hotconfig>:3: unknown element class 'OtherMissing'", reply.Messages);
        Assert.Same(oldRouter, live.Current);
        long c0 = live.ReadLong("cout.count");
        LiveRouter.WaitFor(() => live.ReadLong("cout.count") > c0 + 10, "the old router to keep forwarding");
        // A configuration that fails in initialization is also refused without harm.
        reply = client.Write("hotconfig", "cs :: ControlSocket(TCP, 0); rw :: IPRewriter(pattern 1.2.3.4 - - - 0 1, drop); Idle -> rw -> Discard; rw[1] -> Discard;");
        Assert.Equal(ControlCode.HandlerError, reply.Code);
        Assert.Same(oldRouter, live.Current);
    }

    [Fact]
    public void HotConfigNeedsAllowReconfigure()
    {
        using var live = new LiveRouter(Nat(1, 300));
        using var client = ControlClient.ConnectTcp("127.0.0.1", live.Port(), TimeSpan.FromSeconds(10));
        var reply = client.Write("hotconfig", "Idle -> Discard;");
        Assert.Equal(ControlCode.NoSuchHandler, reply.Code);
    }

    [Fact]
    public void SwapHappensBetweenBatchesOnTheDriverThread()
    {
        // A router that is never idle: the swap still gets in, at a batch boundary.
        using var live = new LiveRouter("InfiniteSource(LENGTH 64) -> c :: Counter -> Discard;", allowHotConfig: true);
        LiveRouter.WaitFor(() => live.ReadLong("c.count") > 1000, "traffic");
        var h = live.Current.GlobalHandlers.First(x => x.Name == "hotconfig");
        var eh = new CollectingErrorHandler();
        Assert.True(h.CallWrite("InfiniteSource(LENGTH 64) -> c :: Counter -> c2 :: Counter -> Discard;", eh), eh.Text);
        long first = live.ReadLong("c.count");
        LiveRouter.WaitFor(() => live.ReadLong("c2.count") > 0, "the new router");
        Assert.True(live.ReadLong("c.count") >= first);
        var report = live.Current.LastHotSwap!;
        Assert.Equal(2, report.ElementsTakenOver);   // the source (by name) and the counter
        Assert.InRange(report.PauseNs, 1, 1_000_000_000);
    }
}
