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
        AllocationProbe.AssertNoAllocation(sched, () => counter.Count, 1_000_000);
    }
}
