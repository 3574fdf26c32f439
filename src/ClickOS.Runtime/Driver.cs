using ClickOS.Core;

namespace ClickOS.Runtime;

/// <summary>
/// Runs a router on the calling thread: fires due timers, runs scheduled tasks by stride,
/// and sleeps (or, in simulated time, jumps the clock) when nothing is runnable. Returns
/// when the router is asked to stop, or when <paramref name="cancel"/> fires.
/// </summary>
public static class Driver
{
    private const int TasksPerBatch = 129;

    public static void Run(Router router, CancellationToken cancel = default)
    {
        var sched = router.Scheduler;
        var timers = router.Timers;
        var clock = router.Clock;
        using var reg = cancel.Register(router.StopNow);
        using var names = ClickOS.Language.NameDatabase.Enter(router.Names);
        int iteration = 0;
        while (true)
        {
            if (router.StopRequested && !router.CheckDriver()) break;
            timers.RunDue();
            // Like Click's driver: look at file descriptors every other iteration even when busy.
            if (router.HasSelects && (++iteration & 1) == 0) router.PollSelects(0);
            if (sched.HasWork)
            {
                sched.RunBatch(TasksPerBatch, router.StopRequestedFn);
                continue;
            }
            if (router.StopRequested) continue;
            long next = timers.NextExpiryNs;
            if (clock.Simulated)
            {
                if (next == long.MaxValue)
                {
                    // Nothing will ever happen: wait for an external event (handler write, stop).
                    WaitForWake(router, Timeout.Infinite);
                    continue;
                }
                clock.WarpTo(next);
                continue;
            }
            if (next == long.MaxValue)
            {
                WaitForWake(router, Timeout.Infinite);
                continue;
            }
            long waitNs = next - clock.NowNs;
            if (waitNs > 0)
            {
                // Sleep most of the way, then spin briefly: timers stay accurate to microseconds.
                if (waitNs > 2_000_000)
                    WaitForWake(router, (int)Math.Min((waitNs - 1_000_000) / 1_000_000, int.MaxValue));
                else
                    Thread.SpinWait(50);
            }
        }
    }

    private static void WaitForWake(Router router, int ms)
    {
        // About to sleep: let buffered output (Print, scripts) reach its reader.
        router.StandardOutput.Flush();
        router.ErrorOutput.Flush();
        if (router.HasSelects)
        {
            // Sleep in poll() on the descriptors, in short slices so stop requests are seen.
            router.PollSelects(ms < 0 ? 50 : Math.Min(ms, 50));
            return;
        }
        router.WakeEvent.Wait(ms);
        router.WakeEvent.Reset();
    }
}
