namespace ClickOS.Core.Tests;

public sealed class TimerTests
{
    private readonly RouterClock _clock = new(simulated: true, simStartNs: 1_000);
    private readonly TimerSet _set;
    private readonly List<string> _log = [];

    public TimerTests() => _set = new TimerSet(_clock);

    private Timer Make(string name, Action<Timer>? then = null)
    {
        var t = new Timer(t => { _log.Add(name); then?.Invoke(t); });
        t.Attach(_set);
        return t;
    }

    [Fact]
    public void Timers_FireInExpiryOrder()
    {
        Make("c").ScheduleAt(3_000);
        Make("a").ScheduleAt(1_500);
        Make("b").ScheduleAt(2_000);
        Assert.Equal(3, _set.Count);
        Assert.Equal(1_500, _set.NextExpiryNs);
        _clock.WarpTo(10_000);
        Assert.Equal(3, _set.RunDue());
        Assert.Equal(["a", "b", "c"], _log);
        Assert.Equal(0, _set.Count);
        Assert.Equal(long.MaxValue, _set.NextExpiryNs);
    }

    [Fact]
    public void SameExpiry_FiresInScheduleOrder()
    {
        var names = new[] { "q", "w", "e", "r", "t", "y", "u", "i" };
        foreach (var n in names) Make(n).ScheduleAt(2_000);
        _clock.WarpTo(2_000);
        Assert.Equal(names.Length, _set.RunDue());
        Assert.Equal(names, _log);
    }

    [Fact]
    public void RunDue_FiresOnlyDueTimers()
    {
        var early = Make("early");
        var exact = Make("exact");
        var late = Make("late");
        early.ScheduleAt(1_200);
        exact.ScheduleAt(1_500);
        late.ScheduleAt(1_501);
        Assert.Equal(0, _set.RunDue()); // clock at 1000: nothing due
        _clock.WarpTo(1_500);
        Assert.Equal(2, _set.RunDue());
        Assert.Equal(["early", "exact"], _log);
        Assert.True(late.Scheduled);
        Assert.False(early.Scheduled);
        Assert.Equal(1_501, _set.NextExpiryNs);
    }

    [Fact]
    public void Unschedule_RemovesTheTimer()
    {
        var a = Make("a");
        var b = Make("b");
        var c = Make("c");
        a.ScheduleAt(1_100);
        b.ScheduleAt(1_200);
        c.ScheduleAt(1_300);
        b.Unschedule();
        a.Unschedule();
        Assert.False(b.Scheduled);
        Assert.Equal(1, _set.Count);
        Assert.Equal(1_300, _set.NextExpiryNs);
        b.Unschedule(); // idempotent
        _clock.WarpTo(5_000);
        Assert.Equal(1, _set.RunDue());
        Assert.Equal(["c"], _log);
    }

    [Fact]
    public void Unschedule_FromTheMiddleOfTheHeap_KeepsExpiryOrder()
    {
        var rng = new Random(99);
        var timers = new List<(Timer Timer, long Expiry, int Id)>();
        for (int i = 0; i < 300; i++)
        {
            long e = 1_000 + rng.Next(0, 100_000);
            var t = Make(i.ToString());
            t.ScheduleAt(e);
            timers.Add((t, e, i));
        }
        var kept = new List<(Timer Timer, long Expiry, int Id)>();
        foreach (var x in timers)
        {
            if (rng.Next(3) == 0) x.Timer.Unschedule();
            else kept.Add(x);
        }
        _clock.WarpTo(long.MaxValue);
        Assert.Equal(kept.Count, _set.RunDue());
        Assert.Equal(kept.OrderBy(x => x.Expiry).ThenBy(x => x.Id).Select(x => x.Id.ToString()), _log);
    }

    [Fact]
    public void ScheduleAt_OnAScheduledTimer_MovesIt()
    {
        var a = Make("a");
        var b = Make("b");
        a.ScheduleAt(1_100);
        b.ScheduleAt(1_200);
        a.ScheduleAt(1_300);
        Assert.Equal(2, _set.Count);
        _clock.WarpTo(5_000);
        _set.RunDue();
        Assert.Equal(["b", "a"], _log);
    }

    [Fact]
    public void Reschedule_IsRelativeToThePreviousExpiry()
    {
        var t = Make("tick", t => t.Reschedule(1_000));
        t.ScheduleAt(2_000);
        _clock.WarpTo(2_700); // fired late
        Assert.Equal(1, _set.RunDue());
        Assert.Equal(3_000, t.ExpiryNs); // not 3_700: no drift
        _clock.WarpTo(5_000);
        Assert.Equal(3, _set.RunDue()); // 3000, 4000 and 5000 are all due
        Assert.Equal(6_000, t.ExpiryNs);
        Assert.True(t.Scheduled);
    }

    [Fact]
    public void ScheduleAfter_IsRelativeToTheClock()
    {
        var t = Make("t");
        t.ScheduleAfter(250);
        Assert.Equal(1_250, t.ExpiryNs);
        t.ScheduleAfterMs(2);
        Assert.Equal(2_001_000, t.ExpiryNs);
        t.ScheduleNow();
        Assert.Equal(1_000, t.ExpiryNs);
        Assert.Equal(1, _set.Count);
        Assert.Equal(1, _set.RunDue());
    }

    [Fact]
    public void TimerCallback_CanScheduleOtherTimers()
    {
        var b = Make("b");
        var a = Make("a", _ => b.ScheduleAt(1_400));
        a.ScheduleAt(1_200);
        _clock.WarpTo(1_300);
        Assert.Equal(1, _set.RunDue());
        Assert.True(b.Scheduled);
        _clock.WarpTo(1_400);
        Assert.Equal(1, _set.RunDue());
        Assert.Equal(["a", "b"], _log);
    }

    [Fact]
    public void ManyTimers_FireSortedAndStable()
    {
        var rng = new Random(12345);
        var expected = new List<(long Expiry, int Id)>();
        for (int i = 0; i < 500; i++)
        {
            long e = 1_000 + rng.Next(0, 50) * 10;
            int id = i;
            var t = new Timer(_ => _log.Add(id.ToString()));
            t.Attach(_set);
            t.ScheduleAt(e);
            expected.Add((e, id));
        }
        _clock.WarpTo(long.MaxValue);
        Assert.Equal(500, _set.RunDue());
        var order = expected.OrderBy(x => x.Expiry).ThenBy(x => x.Id).Select(x => x.Id.ToString());
        Assert.Equal(order, _log);
    }

    [Fact]
    public void UnattachedTimer_RecordsExpiryButIsNotScheduled()
    {
        var t = new Timer(_ => { });
        t.ScheduleAt(42);
        Assert.Equal(42, t.ExpiryNs);
        Assert.False(t.Scheduled);
        t.ScheduleAfter(10);
        Assert.Equal(10, t.ExpiryNs);
    }
}

public sealed class RouterClockTests
{
    [Fact]
    public void SimulatedTime_StartsWhereAsked_AndOnlyMovesWithWarpTo()
    {
        var c = new RouterClock(simulated: true, simStartNs: 5_000);
        Assert.True(c.Simulated);
        Assert.Equal(5_000, c.NowNs);
        Thread.Sleep(5);
        Assert.Equal(5_000, c.NowNs);
        c.WarpTo(9_000);
        Assert.Equal(9_000, c.NowNs);
    }

    [Fact]
    public void SimulatedTime_NeverMovesBackward()
    {
        var c = new RouterClock(simulated: true, simStartNs: 5_000);
        c.WarpTo(4_000);
        Assert.Equal(5_000, c.NowNs);
        c.WarpTo(8_000);
        c.WarpTo(7_999);
        Assert.Equal(8_000, c.NowNs);
    }

    [Fact]
    public void SimulatedTime_DefaultsToNow()
    {
        long before = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        var c = new RouterClock(simulated: true);
        long after = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        Assert.InRange(c.NowNs, before, after);
    }

    [Fact]
    public void WallTime_TracksTheRealClock_AndIgnoresWarpTo()
    {
        var c = new RouterClock(simulated: false);
        Assert.False(c.Simulated);
        long wall = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        Assert.InRange(c.NowNs, wall - 1_000_000_000L, wall + 1_000_000_000L);
        long t1 = c.NowNs;
        c.WarpTo(t1 + 3_600_000_000_000L);
        long t2 = c.NowNs;
        Assert.True(t2 >= t1);
        Assert.True(t2 < t1 + 60_000_000_000L);
    }
}
