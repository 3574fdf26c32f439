using ClickOS.Core;

namespace ClickOS.Runtime;

/// <summary>
/// Runs a router on the calling thread: fires due timers, runs scheduled tasks by stride,
/// and sleeps (or, in simulated time, jumps the clock) when nothing is runnable. Returns
/// when the router is asked to stop, or when <paramref name="cancel"/> fires. Between task
/// batches it runs calls that other threads posted, including hot-swaps, after which it drives
/// the new router.
/// </summary>
public static class Driver
{
    private const int TasksPerBatch = 129;

    /// <returns>The router that was running at the end (a later one, after hot-swaps).</returns>
    public static Router Run(Router router, CancellationToken cancel = default)
    {
        router.DriverStarted();
        try
        {
            Loop(ref router, cancel);
        }
        finally
        {
            router.DriverExited();
        }
        return router;
    }

    private static void Loop(ref Router router, CancellationToken cancel)
    {
        var sched = router.Scheduler;
        var timers = router.Timers;
        var clock = router.Clock;
        using var reg = cancel.Register(router.StopNow);
        var names = ClickOS.Language.NameDatabase.Enter(router.Names);
        try
        {
            int iteration = 0;
            while (true)
            {
                if (router.HasControlWork)
                {
                    var next = router.ServiceControl();
                    if (next != router)
                    {
                        names.Dispose();
                        router = next;
                        names = ClickOS.Language.NameDatabase.Enter(router.Names);
                        sched = router.Scheduler;
                        timers = router.Timers;
                        clock = router.Clock;
                    }
                }
                if (!Step(router, sched, timers, clock, ref iteration)) break;
            }
        }
        finally
        {
            names.Dispose();
        }
    }

    /// <summary>One driver iteration; false when the router should stop.</summary>
    private static bool Step(Router router, TaskScheduler sched, TimerSet timers, RouterClock clock, ref int iteration)
    {
        if (router.StopRequested && !router.CheckDriver()) return false;
        timers.RunDue();
        // Like Click's driver: look at file descriptors every other iteration even when busy.
        if (router.HasSelects && (++iteration & 1) == 0) router.PollSelects(0);
        if (sched.HasWork)
        {
            sched.RunBatch(TasksPerBatch, router.StopRequestedFn);
            return true;
        }
        if (router.StopRequested) return true;
        long next = timers.NextExpiryNs;
        if (clock.Simulated)
        {
            if (next == long.MaxValue)
            {
                // Nothing will ever happen: wait for an external event (handler write, stop).
                WaitForWake(router, Timeout.Infinite);
                return true;
            }
            clock.WarpTo(next);
            return true;
        }
        if (next == long.MaxValue)
        {
            WaitForWake(router, Timeout.Infinite);
            return true;
        }
        long waitNs = next - clock.NowNs;
        if (waitNs > 0)
        {
            // Sleep most of the way, then spin briefly: timers stay accurate to microseconds
            // without a core spinning between closely spaced timers (a 500 pps source). The
            // short sleep is not woken by control calls; it lasts under 2 ms.
            if (waitNs > 2_000_000)
                WaitForWake(router, (int)Math.Min((waitNs - 1_000_000) / 1_000_000, int.MaxValue));
            else if (waitNs > 200_000 && !router.HasSelects)
                Posix.SleepNs(waitNs - 120_000);
            else
                Thread.SpinWait(50);
        }
        return true;
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
