using ClickOS.Tests;

namespace ClickOS.Elements.Tests;

/// <summary>The data path allocates nothing per packet once warmed up.</summary>
public sealed class AllocationTests
{
    [Theory]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> Discard;")]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> Strip(14) -> Unstrip(14) -> Paint(3) -> CheckPaint(3) -> cl :: Classifier(12/0800, -) -> Null -> Discard; cl[1] -> Discard;")]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> q :: Queue(1024) -> Unqueue(BURST 32) -> t :: Tee(2) -> Discard; t[1] -> RoundRobinSwitch -> Discard;")]
    public void SteadyStateAllocatesNothingPerPacket(string config)
    {
        using var t = TestRouter.Start(config);
        var sched = t.Router!.Scheduler;
        for (int i = 0; i < 5_000; i++) sched.RunBatch(129); // warm up: JIT, pool growth, batch pool
        var counter = t.Router.Elements.OfType<Counter>().First();
        long count0 = counter.Count;
        long before = GC.GetAllocatedBytesForCurrentThread();
        long packets = 0;
        while (packets < 1_000_000)
        {
            sched.RunBatch(129);
            packets = counter.Count - count0;
        }
        long after = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(packets >= 1_000_000);
        Assert.Equal(0, after - before);
    }
}
