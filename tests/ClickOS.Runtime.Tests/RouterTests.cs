using ClickOS.Core;
using ClickOS.Runtime;
using ClickOS.Tests;

namespace ClickOS.Runtime.Tests;

public sealed class RouterTests
{
    [Fact]
    public void AgnosticElementsResolveFromNeighbours()
    {
        using var t = TestRouter.Start("InfiniteSource(LIMIT 1) -> q :: Queue -> n :: Null -> c :: Counter -> u :: Unqueue -> Discard;");
        var r = t.Router!;
        Assert.True(r["n"]!.InputIsPull(0));
        Assert.True(r["c"]!.OutputIsPull(0));
        Assert.True(r["InfiniteSource@1"]!.OutputIsPush(0));
        Assert.Equal("1 input\npush\n1 output\npull\n", t.Read("q.ports"));
    }

    [Fact]
    public void UnconstrainedAgnosticPortsDefaultToPush()
    {
        using var t = TestRouter.Start("InfiniteSource(LIMIT 1, STOP true) -> n :: Null -> Discard;");
        Assert.True(t.Router!["n"]!.InputIsPush(0));
    }

    [Fact]
    public void AgnosticInMixedContextIsAnError()
    {
        var t = new TestRouter("Idle -> q :: Queue -> n :: Null -> Tee -> Discard; InfiniteSource -> n;");
        Assert.Null(t.Router);
        Assert.Contains("agnostic 'n :: Null' in mixed context: pull input 0, push output 0", t.Errors.Text);
        Assert.Contains("Router could not be initialized!", t.Errors.Text);
    }

    [Fact]
    public void PortCountsFollowConnections()
    {
        using var t = TestRouter.Start("Idle -> cl :: Classifier(12/0800, 12/0806, -); cl[0] -> Discard; cl[1] -> Discard; cl[2] -> Discard;");
        Assert.Equal(3, t.Router!["cl"]!.NOutputs);
    }

    [Fact]
    public void ConfigureErrorsInEveryElementAreReported()
    {
        var t = new TestRouter("Idle -> Counter(1) -> Paint() -> Queue(x) -> Discard;");
        Assert.Null(t.Router);
        Assert.Equal(4, t.Errors.ErrorCount); // three elements + "could not be initialized"
    }

    [Fact]
    public void GlobalHandlers()
    {
        using var t = TestRouter.Start("a :: Idle -> b :: Discard;");
        Assert.Equal("2\na\nb\n", t.Read("list"));
        Assert.Equal("2.1", t.Read("version"));
        Assert.Contains("Counter\n", t.Read("classes"));
        Assert.Equal("a :: Idle;\nb :: Discard;\n\na -> b;\n", t.Read("flatconfig"));
        Assert.Contains("stop\tw", t.Read("handlers"));
        Assert.Equal("Idle", t.Read("a.class"));
        Assert.Equal("a", t.Read("a.name"));
        Assert.Contains("count\tr", t.Read("b.handlers"));
    }

    [Fact]
    public void StopHandlerStopsTheDriver()
    {
        using var t = TestRouter.Start("Idle -> Discard;");
        Assert.True(t.Write("stop"));
        t.Run(2000);
        Assert.True(t.Router!.StopRequested);
    }

    [Fact]
    public void CancellationStopsAnIdleDriver()
    {
        using var t = TestRouter.Start("Idle -> Discard;");
        using var cts = new CancellationTokenSource(50);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Driver.Run(t.Router!, cts.Token);
        Assert.InRange(sw.ElapsedMilliseconds, 40, 5000);
    }

    [Fact]
    public void HandlersAreFoundRelativeToCompounds()
    {
        using var t = TestRouter.Start("""
            elementclass C { input -> c :: Counter -> output; s :: Script(TYPE PASSIVE, return $(c.count)) }
            InfiniteSource(LIMIT 3, STOP true) -> x :: C -> c :: Counter -> Discard;
            """);
        t.Run();
        var h = t.Router!.FindHandler("x/s.run", null, out _, t.Errors)!;
        Assert.Equal("3", h.CallRead("", t.Errors));
    }

    [Fact]
    public void SimulatedTimeOnlyMovesWithTimers()
    {
        using var t = TestRouter.Start("s :: Script(print $(now), wait 3600s, print $(now), stop);", simtime: true);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        t.Run();
        Assert.True(sw.ElapsedMilliseconds < 2000);
        var lines = t.Out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => double.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(3600, lines[1] - lines[0], 3);
    }

    [Fact]
    public void StrideSchedulingFollowsScheduleInfo()
    {
        using var t = TestRouter.Start("""
            a :: InfiniteSource(LIMIT 4000) -> ca :: Counter -> Discard;
            b :: InfiniteSource(LIMIT 4000) -> cb :: Counter -> Discard;
            ScheduleInfo(b 0.25);
            """);
        t.Router!.Scheduler.RunBatch(1000);
        long a = t.ReadLong("ca.count"), b = t.ReadLong("cb.count");
        Assert.Equal(4.0, (double)a / b, 1);
    }

    [Fact]
    public void ManyRoutersRunIndependentlyOnTheirOwnThreads()
    {
        var routers = Enumerable.Range(0, 8).Select(i => TestRouter.Start($"InfiniteSource(LIMIT {1000 * (i + 1)}, STOP true, BURST 8) -> c :: Counter -> Discard;")).ToList();
        var threads = routers.Select(r => new Thread(() => Driver.Run(r.Router!))).ToList();
        threads.ForEach(th => th.Start());
        Assert.True(threads.All(th => th.Join(10_000)));
        for (int i = 0; i < routers.Count; i++)
        {
            Assert.Equal(1000 * (i + 1), routers[i].ReadLong("c.count"));
            routers[i].AssertNoLeaks();
        }
    }

    [Fact]
    public void UnknownHandlerReportsError()
    {
        using var t = TestRouter.Start("a :: Idle -> Discard;");
        var errh = new CollectingErrorHandler();
        Assert.Null(t.Router!.FindHandler("a.nosuch", null, out _, errh));
        Assert.Null(t.Router.FindHandler("zz.count", null, out _, errh));
        Assert.Equal("no handler 'a.nosuch'\nno element named 'zz'", errh.Text);
    }

    [Fact]
    public void ElementLandmarksComeFromTheirDeclaration()
    {
        using var t = TestRouter.Start("a :: Idle;\n\nb :: Discard;\na -> b;");
        Assert.Equal("test.click:1", t.Router!["a"]!.Landmark);
        Assert.Equal("test.click:3", t.Router["b"]!.Landmark);
    }

    [Fact]
    public void NotifierSignalIsIdleBehindIdle()
    {
        using var t = TestRouter.Start("Idle -> q :: Queue -> u :: Unqueue -> Discard;");
        var s = t.Router!.UpstreamEmptySignal(t.Router["u"]!, 0, null);
        Assert.False(s.Active);
        Assert.False(s.IsBusy);
        var s2 = t.Router.UpstreamEmptySignal(t.Router["q"]!, 0, null);
        Assert.True(s2.IsIdle);
    }
}
