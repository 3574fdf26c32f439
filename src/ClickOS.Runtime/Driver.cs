using System.Diagnostics;
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
    public static Router Run(Router router, CancellationToken cancel = default) => Run(router, null, cancel);

    /// <summary>Runs <paramref name="router"/>, telling a supervisor when it is ready and when it goes idle.</summary>
    public static Router Run(Router router, DriverHooks? hooks, CancellationToken cancel = default)
    {
        router.DriverStarted();
        router.PrepareToSleep();
        try
        {
            Loop(ref router, hooks, cancel);
        }
        finally
        {
            router.DriverExited();
        }
        return router;
    }

    private static void Loop(ref Router router, DriverHooks? hooks, CancellationToken cancel)
    {
        var idle = hooks is { IdleAfter.Ticks: > 0, Idle: not null } ? new IdleWatch(hooks.IdleAfter, hooks.Idle) : null;
        var ready = hooks?.Ready;
        var sched = router.Scheduler;
        var timers = router.Timers;
        var clock = router.Clock;
        using var reg = cancel.Register(router.StopNow);
        var names = ClickOS.Language.NameDatabase.Enter(router.Names);
        try
        {
            int iteration = 0;
            long slack = 0;
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
                // Ready once the router is initialized and its driver runs: from here on a packet
                // that arrives is forwarded. (Not after the first step: that may be a long sleep.)
                if (ready != null)
                {
                    ready();
                    ready = null;
                }
                if (!Step(router, sched, timers, clock, idle, hooks, ref iteration, ref slack)) break;
            }
        }
        finally
        {
            names.Dispose();
        }
    }

    /// <summary>One driver iteration; false when the router should stop.</summary>
    private static bool Step(Router router, TaskScheduler sched, TimerSet timers, RouterClock clock, IdleWatch? idle, DriverHooks? hooks, ref int iteration, ref long slack)
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
        long maxWaitNs = -1;
        if (idle != null && !clock.Simulated)
        {
            if (hooks!.TakeResetIdle()) idle.Reset();
            idle.Check(router);
            maxWaitNs = idle.CheckIntervalMs * 1_000_000L;
        }
        if (clock.Simulated)
        {
            if (next == long.MaxValue)
            {
                // Nothing will ever happen: wait for an external event (handler write, stop).
                Sleep(router, -1);
                return true;
            }
            clock.WarpTo(next);
            return true;
        }
        if (next == long.MaxValue)
        {
            Sleep(router, maxWaitNs);
            return true;
        }
        long waitNs = next - clock.NowNs;
        if (waitNs > 0)
        {
            // Sparse timers (a 10 pps source, a heartbeat): one sleep to the expiry, which the
            // kernel ends within its timer slack (about 50 us): one wake-up per tick, so a
            // thousand idle instances cost little. Closely spaced timers (a 500 pps source):
            // sleep most of the way, then spin briefly, for microsecond accuracy.
            if (waitNs >= 10_000_000)
            {
                SetSlack(ref slack, SparseSlackNs);
                Sleep(router, maxWaitNs < 0 ? waitNs : Math.Min(waitNs, maxWaitNs));
            }
            else if (waitNs > 200_000)
            {
                SetSlack(ref slack, 0);
                Sleep(router, waitNs - 120_000);
            }
            else
                Thread.SpinWait(50);
        }
        return true;
    }

    // Sparse timers may fire up to 1 ms late (10% of their period at most), which lets the
    // kernel serve many instances' ticks with one timer interrupt. Dense timers keep the
    // default 50 us. Switched only when the pattern changes: no system call per sleep.
    private const long SparseSlackNs = 1_000_000;

    private static void SetSlack(ref long current, long ns)
    {
        if (current == ns) return;
        current = ns;
        Posix.SetTimerSlack(ns == 0 ? 50_000 : ns);
    }

    private static void Sleep(Router router, long ns)
    {
        // About to sleep: let buffered output (Print, scripts) reach its reader.
        router.StandardOutput.Flush();
        router.ErrorOutput.Flush();
        router.PollSelects(ns);
    }
}

/// <summary>What a supervisor (the ClickOS host) wants to hear from a driver.</summary>
public sealed class DriverHooks
{
    /// <summary>Called once, when the driver starts running the initialized router: it is forwarding.</summary>
    public Action? Ready { get; init; }
    /// <summary>How long the router must do nothing (no task runs, no packets made) before <see cref="Idle"/>; zero: never.</summary>
    public TimeSpan IdleAfter { get; init; }
    /// <summary>Called once per idle period, on the driver thread.</summary>
    public Action? Idle { get; init; }

    private volatile bool _resetIdle;
    /// <summary>Starts a new idle period (the host resumed a paused instance); safe from any thread or a signal handler.</summary>
    public void ResetIdle() => _resetIdle = true;
    internal bool TakeResetIdle()
    {
        if (!_resetIdle) return false;
        _resetIdle = false;
        return true;
    }
}

/// <summary>
/// Idle detection for one router: idle means no task ran and no packet was made for a whole
/// period. Housekeeping timers (flow-table expiry, ARP) may still fire: they do not count as
/// activity, so an instance that only keeps state ages out and can be paused. Checked only
/// when the driver has nothing runnable, so a busy router pays nothing.
/// </summary>
public sealed class IdleWatch(TimeSpan idleAfter, Action onIdle)
{
    private readonly long _idleAfterTicks = (long)(idleAfter.TotalSeconds * Stopwatch.Frequency);
    private long _lastCheck, _lastActive, _made = -1, _runs = -1;
    private bool _reported;
    public int CheckIntervalMs { get; } = (int)Math.Clamp(idleAfter.TotalMilliseconds / 4, 5, 1000);
    private long IntervalTicks => CheckIntervalMs * Stopwatch.Frequency / 1000;

    public void Check(Router r) => Check(r.Pool.Made, r.Scheduler.Runs);

    public void Check(long made, long runs)
    {
        long now = Stopwatch.GetTimestamp();
        if (now - _lastCheck < IntervalTicks) return;
        _lastCheck = now;
        if (_lastActive == 0 || made != _made || runs != _runs)
        {
            _made = made;
            _runs = runs;
            _lastActive = now;
            _reported = false;
            return;
        }
        if (!_reported && now - _lastActive >= _idleAfterTicks)
        {
            _reported = true;
            onIdle();
        }
    }

    /// <summary>Starts a new idle period (the instance was just woken): it may be reported idle again.</summary>
    public void Reset()
    {
        _lastActive = Stopwatch.GetTimestamp();
        _reported = false;
    }
}
