using ClickOS.Tests;

namespace ClickOS.Elements.Tests;

public sealed class ElementBehaviorTests
{
    private static TestRouter Run(string config, bool simtime = false)
    {
        var t = TestRouter.Start(config, simtime);
        t.Run();
        return t;
    }

    [Fact]
    public void CounterCountsPacketsAndBytes()
    {
        using var t = Run("InfiniteSource(LENGTH 100, LIMIT 7, STOP true, BURST 3) -> c :: Counter -> Discard;");
        Assert.Equal(7, t.ReadLong("c.count"));
        Assert.Equal(700, t.ReadLong("c.byte_count"));
        t.Write("c.reset");
        Assert.Equal(0, t.ReadLong("c.count"));
    }

    [Fact]
    public void CounterCountCallFiresOnce()
    {
        using var t = Run("InfiniteSource(LIMIT 10, STOP true) -> c :: Counter(COUNT_CALL 4 s.active false) -> Discard; s :: InfiniteSource(LIMIT 5, ACTIVE true) -> Discard;");
        Assert.Equal("false", t.Read("s.active"));
    }

    [Fact]
    public void InfiniteSourceLengthRepeatsData()
    {
        using var t = Run("InfiniteSource(DATA \"ab\", LENGTH 5, LIMIT 1, STOP true) -> Print(x, CONTENTS ASCII) -> Discard;");
        Assert.Equal("x:    5 |  ababa\n", t.Err.ToString());
    }

    [Fact]
    public void QueueTailDropsAndReportsOnce()
    {
        using var t = Run("InfiniteSource(LIMIT 10, STOP true, BURST 10) -> q :: Queue(4) -> Unqueue(ACTIVE false) -> Discard;");
        Assert.Equal(4, t.ReadLong("q.length"));
        Assert.Equal(6, t.ReadLong("q.drops"));
        Assert.Equal(4, t.ReadLong("q.highwater_length"));
        Assert.Equal("q :: Queue: overflow\n", t.Err.ToString());
        t.AssertNoLeaks();
    }

    [Fact]
    public void QueueCapacityIsWritableAndKeepsPackets()
    {
        using var t = Run("InfiniteSource(LIMIT 3, STOP true) -> q :: Queue(10) -> Unqueue(ACTIVE false) -> Discard;");
        Assert.True(t.Write("q.capacity", "2"));
        Assert.Equal(2, t.ReadLong("q.length"));
        Assert.Equal("2", t.Read("q.capacity"));
        Assert.True(t.Write("q.config", "20"));
        Assert.Equal("20", t.Read("q.capacity"));
        Assert.Equal(2, t.ReadLong("q.length"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void FrontDropQueueDropsOldest()
    {
        using var t = Run("InfiniteSource(LIMIT 5, STOP true, BURST 5) -> Paint(0) -> q :: FrontDropQueue(2) -> u :: Unqueue(ACTIVE false) -> c :: Counter -> Discard;");
        Assert.Equal(3, t.ReadLong("q.drops"));
        Assert.Equal(2, t.ReadLong("q.length"));
    }

    [Fact]
    public void UnqueueSleepsOnEmptyQueue()
    {
        // The source stops after 5 packets; the Unqueue must not spin on the empty queue afterwards.
        using var t = TestRouter.Start("InfiniteSource(LIMIT 5) -> q :: Queue -> u :: Unqueue -> c :: Counter -> Discard;");
        for (int i = 0; i < 1000; i++) t.Router!.Scheduler.RunBatch(129);
        Assert.Equal(5, t.ReadLong("c.count"));
        Assert.Equal(0, t.Router!.Scheduler.ScheduledCount);
    }

    [Fact]
    public void TeeClonesShareDataUntilWritten()
    {
        using var t = Run("InfiniteSource(DATA \\<00 00 00 00>, LIMIT 1, STOP true) -> tee :: Tee(2); tee[0] -> Print(a, CONTENTS HEX) -> Discard; tee[1] -> StoreData(0, \\<ff>) -> Print(b, CONTENTS HEX) -> Discard;");
        Assert.Equal("a:    4 | 00000000\nb:    4 | ff000000\n", t.Err.ToString());
        t.AssertNoLeaks();
    }

    [Fact]
    public void ClassifierFirstMatchWinsWithMasksAndNegation()
    {
        using var t = Run("""
            src :: InfiniteSource(DATA \<0800 45 06>, LIMIT 1, STOP true) -> cl :: Classifier(0/0806, 0/0800 !2/45, 0/0800 3/04%04, 0/08?? 2/4?, -);
            cl[0] -> c0 :: Counter -> Discard; cl[1] -> c1 :: Counter -> Discard; cl[2] -> c2 :: Counter -> Discard;
            cl[3] -> c3 :: Counter -> Discard; cl[4] -> c4 :: Counter -> Discard;
            """);
        Assert.Equal([0L, 0, 1, 0, 0], new[] { "c0", "c1", "c2", "c3", "c4" }.Select(c => t.ReadLong(c + ".count")));
        Assert.Contains("safe length", t.Read("cl.program"));
    }

    [Fact]
    public void ClassifierShortPacketsFailClausesAndMatchNegations()
    {
        using var t = Run("InfiniteSource(DATA \\<08>, LIMIT 1, STOP true) -> cl :: Classifier(20/00, !20/00, -); cl[0] -> a :: Counter -> Discard; cl[1] -> b :: Counter -> Discard; cl[2] -> Discard;");
        Assert.Equal(0, t.ReadLong("a.count"));
        Assert.Equal(1, t.ReadLong("b.count"));
    }

    [Fact]
    public void ClassifierKeepsPacketOrderAcrossOutputsThatMerge()
    {
        // Alternating classes in one batch must come out in their original order where the paths merge.
        using var t2 = Run("InfiniteSource(DATA \\<01>, LIMIT 4, STOP true, BURST 4) -> rr :: RoundRobinSwitch; rr[0] -> Paint(7) -> m :: Print(x, PRINTANNO false) -> Discard; rr[1] -> Paint(8) -> StoreData(0, \\<02>) -> m;");
        Assert.Equal("x:    1 | 01\nx:    1 | 02\nx:    1 | 01\nx:    1 | 02\n", t2.Err.ToString());
    }

    [Fact]
    public void PaintSwitchAndCheckPaintRouteByAnnotation()
    {
        using var t = Run("InfiniteSource(LIMIT 3, STOP true) -> Paint(2) -> ps :: PaintSwitch; ps[0] -> Discard; ps[1] -> Discard; ps[2] -> cp :: CheckPaint(2) -> ok :: Counter -> Discard; cp[1] -> bad :: Counter -> Discard;");
        Assert.Equal(3, t.ReadLong("ok.count"));
        Assert.Equal(0, t.ReadLong("bad.count"));
    }

    [Fact]
    public void SwitchHandlerRedirects()
    {
        using var t = TestRouter.Start("InfiniteSource(LIMIT 2, ACTIVE false, STOP true) -> s :: Switch(0); s[0] -> a :: Counter -> Discard; s[1] -> b :: Counter -> Discard;");
        Assert.True(t.Write("s.switch", "1"));
        Assert.True(t.Write("InfiniteSource@1.active", "true"));
        t.Run();
        Assert.Equal(0, t.ReadLong("a.count"));
        Assert.Equal(2, t.ReadLong("b.count"));
        Assert.True(t.Write("s.switch", "-1"));
        Assert.Equal("-1", t.Read("s.switch"));
    }

    [Fact]
    public void RoundRobinSwitchSpreadsEvenly()
    {
        using var t = Run("InfiniteSource(LIMIT 9, STOP true, BURST 4) -> r :: RoundRobinSwitch; r[0] -> a :: Counter -> Discard; r[1] -> b :: Counter -> Discard; r[2] -> c :: Counter -> Discard;");
        Assert.Equal([3L, 3, 3], new[] { "a", "b", "c" }.Select(x => t.ReadLong(x + ".count")));
    }

    [Fact]
    public void StripUnstripTruncatePadChangeLengths()
    {
        using var t = Run("InfiniteSource(LENGTH 100, LIMIT 1, STOP true) -> Strip(14) -> a :: Counter -> Unstrip(14) -> b :: Counter -> Truncate(50) -> c :: Counter -> Strip(40) -> Pad(60) -> d :: Counter -> Discard;");
        Assert.Equal(86, t.ReadLong("a.byte_count"));
        Assert.Equal(100, t.ReadLong("b.byte_count"));
        Assert.Equal(50, t.ReadLong("c.byte_count"));
        Assert.Equal(60, t.ReadLong("d.byte_count"));
    }

    [Fact]
    public void PrintFormatsHexAsciiNoneAndTimestamp()
    {
        using var t = Run("InfiniteSource(DATA \"ABCDEFGHIJ\", LIMIT 1, STOP true) -> SetTimestamp(12.5) -> Print(h, 6) -> Print(CONTENTS ASCII) -> Print(n, CONTENTS NONE) -> Print(t, 0, TIMESTAMP true) -> Print(all, -1) -> Discard;");
        Assert.Equal("h:   10 | 41424344 4546\n  10 |  ABCDEFGH IJ\nn:   10\nt: 12.500000:   10\nall:   10 | 41424344 45464748 494a\n", t.Err.ToString());
    }

    [Fact]
    public void SchedulersPullInTheirOrder()
    {
        using var t = Run("""
            a :: InfiniteSource(DATA \<01>, LIMIT 3, STOP true) -> qa :: Queue;
            b :: InfiniteSource(DATA \<02>, LIMIT 3) -> qb :: Queue;
            qa -> [0]p :: PrioSched; qb -> [1]p;
            p -> u :: Unqueue(ACTIVE false) -> Discard;
            """);
        Assert.Equal(3, t.ReadLong("qa.length"));
        Assert.True(t.Write("u.active", "true"));
        for (int i = 0; i < 10; i++) t.Router!.Scheduler.RunBatch(1);
        // Priority: the three packets of input 0 leave first.
        Assert.Equal(0, t.ReadLong("qa.length"));
        Assert.Equal(3, t.ReadLong("qb.length") + t.ReadLong("u.count") - 3);
    }

    [Fact]
    public void RoundRobinSchedAlternates()
    {
        using var t = Run("""
            a :: InfiniteSource(DATA \<01>, LIMIT 2, STOP true) -> qa :: Queue;
            b :: InfiniteSource(DATA \<02>, LIMIT 2) -> qb :: Queue;
            qa -> [0]r :: RoundRobinSched; qb -> [1]r;
            r -> u :: Unqueue(ACTIVE false) -> Print(x) -> Discard;
            """);
        t.Write("u.active", "true");
        for (int i = 0; i < 10; i++) t.Router!.Scheduler.RunBatch(1);
        Assert.Equal("x:    1 | 01\nx:    1 | 02\nx:    1 | 01\nx:    1 | 02\n", t.Err.ToString());
    }

    [Fact]
    public void ScriptArithmeticAndControlFlow()
    {
        using var t = Run("""
            s :: Script(set x 0, label top, set x $(add $x 2), goto top $(lt $x 6),
                        print "x=$x div=$(div 7 2) idiv=$(idiv 7 2) mod=$(mod 7 2) mul=$(mul 3 4) neg=$(neg 5)",
                        print "$(eq 1 1) $(ne 1 1) $(not false) $(and true false) $(or false true) $(if true yes no) $(sprintf %04x 255) $(in b a b)",
                        stop);
            """);
        Assert.Equal("x=6 div=3.5 idiv=3 mod=1 mul=12 neg=-5\ntrue false true false true yes 00ff true\n", t.Out.ToString());
    }

    [Fact]
    public void PassiveScriptRunHandlerReturnsValue()
    {
        using var t = TestRouter.Start("f :: Script(TYPE PASSIVE, return $(mul $1 $2)); Idle -> Discard;");
        var h = t.Router!.FindHandler("f.run", null, out _, t.Errors)!;
        Assert.Equal("42", h.CallRead("6 7", t.Errors));
    }

    [Fact]
    public void ProxyScriptAnswersAnyHandler()
    {
        using var t = TestRouter.Start("p :: Script(TYPE PROXY, return \"$0 $args $write\"); Idle -> Discard;");
        var h = t.Router!.FindHandler("p.anything", null, out _, t.Errors)!;
        Assert.Equal("\"anything 1 2 false\"", h.CallRead("1 2", t.Errors));
        Assert.True(h.CallWrite("x", t.Errors));
    }

    [Fact]
    public void DriverManagerWaitsForStopRequestsThenStops()
    {
        using var t = Run("""
            a :: InfiniteSource(LIMIT 2, STOP true) -> c :: Counter -> Discard;
            b :: InfiniteSource(LIMIT 3, STOP true, ACTIVE false) -> c;
            DriverManager(pause, print "first $(c.count)", write b.active true, pause, print "second $(c.count)");
            """);
        Assert.Equal("first 2\nsecond 5\n", t.Out.ToString());
    }

    [Fact]
    public void ScriptReadPrintsNameAndValueOnStderr()
    {
        using var t = Run("InfiniteSource(LIMIT 2, STOP true) -> c :: Counter -> Discard; DriverManager(pause, read c.count, stop);");
        Assert.Equal("c.count:\n2\n", t.Err.ToString());
    }

    [Fact]
    public void TooManyJumpsGivesUp()
    {
        using var t = TestRouter.Start("s :: Script(label a, goto a); DriverManager(wait 1ms, stop);", simtime: true);
        t.Run();
        Assert.Equal("s :: Script: too many jumps, giving up\n", t.Err.ToString());
    }

    [Fact]
    public void TimedSourceFiresAtIntervalsInSimulatedTime()
    {
        using var t = Run("TimedSource(1s, LIMIT 5, STOP true) -> c :: Counter -> Discard; s :: Script(wait 2500ms, print $(c.count));", simtime: true);
        Assert.Equal("2\n", t.Out.ToString());
        Assert.Equal(5, t.ReadLong("c.count"));
    }

    [Fact]
    public void RatedSourceRespectsRateInSimulatedTime()
    {
        using var t = Run("RatedSource(RATE 10, LIMIT 100) -> c :: Counter -> Discard; DriverManager(wait 2s, stop);", simtime: true);
        long n = t.ReadLong("c.count");
        Assert.InRange(n, 19, 23);
    }

    [Fact]
    public void DelayUnqueueHoldsPackets()
    {
        using var t = Run("InfiniteSource(LIMIT 1) -> Queue -> DelayUnqueue(1s) -> c :: Counter -> Discard; s :: Script(wait 500ms, print $(c.count), wait 1s, print $(c.count), stop);", simtime: true);
        Assert.Equal("0\n1\n", t.Out.ToString());
    }

    [Fact]
    public void PingSourceTimesRepliesInSimulatedTime()
    {
        using var t = Run("ps :: ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 0.5, LIMIT 3, STOP true, VERBOSE false) -> ICMPPingResponder -> Queue -> DelayUnqueue(0.01) -> ps;", simtime: true);
        Assert.Equal("3 packets transmitted, 3 received, 0% packet loss\nrtt min/avg/max/mdev = 10.000/10.000/10.000/0.000 ms\n", t.Read("ps.summary"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void StoreDataWithMaskAndGrow()
    {
        using var t = Run("InfiniteSource(DATA \\<f0f0>, LIMIT 1, STOP true) -> StoreData(0, \\<0f0f>, MASK \\<0fff>) -> StoreData(3, \\<aa>, GROW true) -> Print(x) -> Discard;");
        Assert.Equal("x:    4 | ff0f00aa\n", t.Err.ToString());
    }
}
