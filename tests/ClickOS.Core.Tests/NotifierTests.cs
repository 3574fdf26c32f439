namespace ClickOS.Core.Tests;

public sealed class NotifierTests
{
    private readonly TaskScheduler _s = new();

    private Task Sleeper() => CallbackTask.Create(_s, _ => true);

    [Fact]
    public void TurningActive_WakesListeners()
    {
        var n = new Notifier(active: false);
        var t1 = Sleeper();
        var t2 = Sleeper();
        n.AddListener(t1);
        n.AddListener(t2);
        Assert.False(n.Active);
        n.SetActive(true);
        Assert.True(n.Active);
        Assert.True(t1.Scheduled);
        Assert.True(t2.Scheduled);
    }

    [Fact]
    public void StayingActive_OrTurningInactive_WakesNobody()
    {
        var n = new Notifier(active: true);
        var t = Sleeper();
        n.AddListener(t);
        n.SetActive(true);
        Assert.False(t.Scheduled);
        n.SetActive(false);
        Assert.False(n.Active);
        Assert.False(t.Scheduled);
    }

    [Fact]
    public void SetActive_WithoutWake_DoesNotReschedule()
    {
        var n = new Notifier(active: false);
        var t = Sleeper();
        n.AddListener(t);
        n.SetActive(true, wake: false);
        Assert.True(n.Active);
        Assert.False(t.Scheduled);
        n.Wake();
        Assert.True(t.Scheduled);
    }

    [Fact]
    public void RemovedListener_IsNotWoken()
    {
        var n = new Notifier(active: false);
        var keep = Sleeper();
        var gone = Sleeper();
        n.AddListener(keep);
        n.AddListener(gone);
        n.AddListener(gone); // duplicate adds are one listener
        n.RemoveListener(gone);
        n.SetActive(true);
        Assert.True(keep.Scheduled);
        Assert.False(gone.Scheduled);
    }

    [Fact]
    public void WokenTask_RunsAgainEachTimeTheNotifierTurnsActive()
    {
        var n = new Notifier(active: false);
        var t = Sleeper();
        n.AddListener(t);
        for (int i = 0; i < 3; i++)
        {
            n.SetActive(true);
            Assert.Equal(1, _s.RunBatch(10));
            n.SetActive(false);
        }
        Assert.Equal(3, t.Calls);
    }

    [Fact]
    public void Signal_IdleAndBusy()
    {
        Assert.True(NotifierSignal.Idle.IsIdle);
        Assert.False(NotifierSignal.Idle.Active);
        Assert.True(NotifierSignal.Busy.IsBusy);
        Assert.True(NotifierSignal.Busy.Active);
        Assert.True(default(NotifierSignal).IsIdle);
        Assert.Empty(NotifierSignal.Busy.Notifiers);
        Assert.Equal("idle", NotifierSignal.Idle.ToString());
        Assert.Equal("busy", NotifierSignal.Busy.ToString());
    }

    [Fact]
    public void Signal_Of_FollowsItsNotifier()
    {
        var n = new Notifier(active: false);
        var sig = NotifierSignal.Of(n);
        Assert.False(sig.IsIdle || sig.IsBusy);
        Assert.False(sig.Active);
        Assert.Equal("inactive", sig.ToString());
        n.SetActive(true);
        Assert.True(sig.Active);
        Assert.Equal("active", sig.ToString());
        Assert.Same(n, Assert.Single(sig.Notifiers));
    }

    [Fact]
    public void Plus_BusyWins()
    {
        var sig = NotifierSignal.Of(new Notifier(false));
        Assert.True((sig + NotifierSignal.Busy).IsBusy);
        Assert.True((NotifierSignal.Busy + sig).IsBusy);
        Assert.True((NotifierSignal.Idle + NotifierSignal.Busy).IsBusy);
    }

    [Fact]
    public void Plus_IdleIsTheIdentity()
    {
        var n = new Notifier(false);
        var sig = NotifierSignal.Of(n);
        var left = NotifierSignal.Idle + sig;
        var right = sig + NotifierSignal.Idle;
        Assert.Same(n, Assert.Single(left.Notifiers));
        Assert.Same(n, Assert.Single(right.Notifiers));
        Assert.True((NotifierSignal.Idle + NotifierSignal.Idle).IsIdle);
    }

    [Fact]
    public void Plus_OfTwoNotifiers_IsActiveWhenEitherIs()
    {
        var a = new Notifier(false);
        var b = new Notifier(false);
        var sig = NotifierSignal.Of(a) + NotifierSignal.Of(b);
        Assert.Equal(2, sig.Notifiers.Count);
        Assert.False(sig.Active);
        b.SetActive(true);
        Assert.True(sig.Active);
        b.SetActive(false);
        a.SetActive(true);
        Assert.True(sig.Active);
    }

    [Fact]
    public void Plus_DoesNotDuplicateNotifiers()
    {
        var a = new Notifier(false);
        var b = new Notifier(false);
        var ab = NotifierSignal.Of(a) + NotifierSignal.Of(b);
        var sig = ab + NotifierSignal.Of(a) + NotifierSignal.Of(b);
        Assert.Equal([a, b], sig.Notifiers);
        Assert.Same(a, Assert.Single((NotifierSignal.Of(a) + NotifierSignal.Of(a)).Notifiers));
    }
}
