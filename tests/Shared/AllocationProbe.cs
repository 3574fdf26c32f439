using ClickOS.Core;

namespace ClickOS.Tests;

/// <summary>Zero-allocation checks for a running router's data path.</summary>
public static class AllocationProbe
{
    /// <summary>
    /// Runs the router's scheduler until <paramref name="counted"/> has seen
    /// <paramref name="packets"/> more packets, and asserts that this thread allocated nothing
    /// meanwhile. Up to three windows are tried: a one-off allocation (a late tier-1 JIT rewrite
    /// on a loaded machine) can land in one, but anything allocated per packet or per batch
    /// shows in all of them.
    /// </summary>
    public static void AssertNoAllocation(TaskScheduler scheduler, Func<long> counted, long packets)
    {
        var windows = new List<long>();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long count0 = counted();
            long before = GC.GetAllocatedBytesForCurrentThread();
            while (counted() - count0 < packets) scheduler.RunBatch(129);
            long after = GC.GetAllocatedBytesForCurrentThread();
            windows.Add(after - before);
            if (after == before) return;
        }
        Xunit.Assert.Fail($"bytes allocated per {packets}-packet window: {string.Join(", ", windows)}");
    }
}
