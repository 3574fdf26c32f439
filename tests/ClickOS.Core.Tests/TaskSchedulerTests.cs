namespace ClickOS.Core.Tests;

public sealed class TaskSchedulerTests
{
    [Fact]
    public void Stride_TaskWithFourTimesTheTickets_RunsFourTimesAsOften()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        var a = CallbackTask.Busy(s, log, "a", tickets: 1024);
        var b = CallbackTask.Busy(s, log, "b", tickets: 256);
        a.Reschedule();
        b.Reschedule();
        Assert.Equal(1000, s.RunBatch(1000));
        Assert.InRange(a.Calls, 798, 802);
        Assert.InRange(b.Calls, 198, 202);
        Assert.Equal(1000, a.Calls + b.Calls);
        Assert.Equal(a.Calls, a.WorkDone);
        // Interleaved, not in bursts: b runs in every window of 5 consecutive runs.
        for (int i = 0; i + 5 <= 500; i++)
            Assert.Contains("b", log.Skip(i).Take(5));
    }

    [Fact]
    public void EqualTickets_RoundRobin()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        var ts = new[] { "x", "y", "z" }.Select(n => CallbackTask.Busy(s, log, n)).ToList();
        foreach (var t in ts) t.Reschedule();
        s.RunBatch(9);
        Assert.Equal(["x", "y", "z", "x", "y", "z", "x", "y", "z"], log);
    }

    [Fact]
    public void EqualPass_RunsInFifoOrder()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        Task Once(string n) => CallbackTask.Create(s, _ => { log.Add(n); return true; });
        var head = Once("head");
        var t1 = Once("t1");
        var t2 = Once("t2");
        var t3 = Once("t3");
        head.Reschedule();
        // These three join behind the same head, so their passes are equal; they run as queued.
        t3.Reschedule();
        t1.Reschedule();
        t2.Reschedule();
        Assert.Equal(4, s.ScheduledCount);
        Assert.Equal(4, s.RunBatch(10));
        Assert.Equal(["head", "t3", "t1", "t2"], log);
    }

    [Fact]
    public void TaskThatDoesNotReschedule_LeavesTheQueue()
    {
        var s = new TaskScheduler();
        int runs = 0;
        var t = CallbackTask.Create(s, _ => { runs++; return true; });
        t.Reschedule();
        Assert.True(t.Scheduled);
        Assert.True(s.HasWork);
        Assert.True(s.RunOne());
        Assert.False(t.Scheduled);
        Assert.False(s.HasWork);
        Assert.Equal(0, s.RunBatch(10));
        Assert.Equal(1, runs);
        Assert.Equal(1, t.Calls);
    }

    [Fact]
    public void FastReschedule_KeepsTheTaskQueued()
    {
        var s = new TaskScheduler();
        int runs = 0;
        var t = CallbackTask.Create(s, task => { if (++runs < 5) task.FastReschedule(); return true; });
        t.Reschedule();
        Assert.Equal(5, s.RunBatch(100));
        Assert.Equal(5, runs);
        Assert.False(t.Scheduled);
    }

    [Fact]
    public void Reschedule_FromOutside_QueuesOnce()
    {
        var s = new TaskScheduler();
        int runs = 0;
        var t = CallbackTask.Create(s, _ => { runs++; return true; });
        Assert.False(t.Scheduled);
        t.Reschedule();
        t.Reschedule();
        Assert.Equal(1, s.ScheduledCount);
        Assert.Equal(1, s.RunBatch(10));
        t.Reschedule();
        Assert.Equal(1, s.RunBatch(10));
        Assert.Equal(2, runs);
    }

    [Fact]
    public void LateJoiner_StartsAtTheHeadsPass_AndDoesNotMonopolise()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        var a = CallbackTask.Busy(s, log, "a");
        var b = CallbackTask.Busy(s, log, "b");
        a.Reschedule();
        Assert.Equal(1000, s.RunBatch(1000));
        log.Clear();
        b.Reschedule();
        Assert.Equal(10, s.RunBatch(10));
        Assert.Equal(["a", "b", "a", "b", "a", "b", "a", "b", "a", "b"], log);
    }

    [Fact]
    public void TaskWokenByALoneRunningTask_JoinsAtTheRunnersPass()
    {
        // As in Click, whose running task stays at the heap's head while it runs: a task it
        // wakes is scheduled relative to the runner's pass, not from zero, so it cannot
        // monopolise the thread to "catch up" on the runner's history.
        var s = new TaskScheduler();
        var log = new List<string>();
        var b = CallbackTask.Busy(s, log, "b");
        int runs = 0;
        var a = CallbackTask.Create(s, t =>
        {
            log.Add("a");
            if (++runs == 1000) b.Reschedule();
            t.FastReschedule();
            return true;
        });
        a.Reschedule();
        Assert.Equal(1000, s.RunBatch(1000));
        log.Clear();
        Assert.Equal(10, s.RunBatch(10));
        Assert.Equal(5, log.Count(x => x == "a"));
        Assert.Equal(5, log.Count(x => x == "b"));
    }

    [Fact]
    public void Reschedule_FromWithinRunTask_KeepsTheTask()
    {
        var s = new TaskScheduler();
        bool scheduledDuringRun = false;
        var t = CallbackTask.Create(s, task => { task.Reschedule(); scheduledDuringRun = task.Scheduled; return true; });
        t.Reschedule();
        s.RunOne();
        Assert.True(scheduledDuringRun);
        Assert.True(t.Scheduled);
        Assert.Equal(1, s.ScheduledCount);
    }

    [Fact]
    public void TaskWakingAnotherTask_BothRun()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        var sleeper = CallbackTask.Create(s, _ => { log.Add("sleeper"); return true; });
        var waker = CallbackTask.Create(s, _ => { log.Add("waker"); sleeper.Reschedule(); return true; });
        waker.Reschedule();
        Assert.Equal(2, s.RunBatch(10));
        Assert.Equal(["waker", "sleeper"], log);
    }

    [Fact]
    public void Unschedule_RemovesAQueuedTask()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        var a = CallbackTask.Busy(s, log, "a");
        var b = CallbackTask.Busy(s, log, "b");
        var c = CallbackTask.Busy(s, log, "c");
        a.Reschedule(); b.Reschedule(); c.Reschedule();
        b.Unschedule();
        Assert.False(b.Scheduled);
        Assert.Equal(2, s.ScheduledCount);
        s.RunBatch(6);
        Assert.DoesNotContain("b", log);
        Assert.Equal(3, log.Count(x => x == "a"));
        Assert.Equal(3, log.Count(x => x == "c"));
        b.Unschedule(); // idempotent
        Assert.Equal(2, s.ScheduledCount);
    }

    [Fact]
    public void Unschedule_FromWithinRunTask_OverridesFastReschedule()
    {
        var s = new TaskScheduler();
        var t = CallbackTask.Create(s, task => { task.FastReschedule(); task.Unschedule(); return true; });
        t.Reschedule();
        Assert.Equal(1, s.RunBatch(10));
        Assert.False(t.Scheduled);
        Assert.False(s.HasWork);
    }

    [Fact]
    public void RunBatch_StopsWhenThePredicateSaysSo()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        CallbackTask.Busy(s, log, "a").Reschedule();
        CallbackTask.Busy(s, log, "b").Reschedule();
        Assert.Equal(3, s.RunBatch(100, () => log.Count >= 3));
        Assert.Equal(3, log.Count);
        Assert.Equal(2, s.ScheduledCount);
    }

    [Fact]
    public void RunBatch_StopsAtMax()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        CallbackTask.Busy(s, log, "a").Reschedule();
        Assert.Equal(7, s.RunBatch(7));
        Assert.Equal(7, log.Count);
    }

    [Fact]
    public void LoneTaskThatDidNoWork_EndsTheBatch_ButStaysScheduled()
    {
        var s = new TaskScheduler();
        var t = CallbackTask.Create(s, task => { task.FastReschedule(); return false; });
        t.Reschedule();
        Assert.Equal(1, s.RunBatch(100));
        Assert.True(t.Scheduled);
        Assert.Equal(1, t.Calls);
        Assert.Equal(0, t.WorkDone);
    }

    [Fact]
    public void IdleTask_WithCompany_DoesNotEndTheBatch_NorStarveTheOther()
    {
        var s = new TaskScheduler();
        var log = new List<string>();
        // The idle task has four times the tickets, but doing no work it may not stay ahead of the other.
        var idle = CallbackTask.Create(s, task => { log.Add("idle"); task.FastReschedule(); return false; }, tickets: 4096);
        var busy = CallbackTask.Busy(s, log, "busy");
        idle.Reschedule();
        busy.Reschedule();
        Assert.Equal(100, s.RunBatch(100));
        Assert.InRange(log.Count(x => x == "busy"), 45, 55);
        Assert.Equal(0, idle.WorkDone);
        Assert.Equal(2, s.ScheduledCount);
    }

    [Fact]
    public void Tickets_AreClamped()
    {
        var s = new TaskScheduler();
        var t = CallbackTask.Create(s, _ => true);
        Assert.Equal(Task.DefaultTickets, t.Tickets);
        t.Tickets = 0;
        Assert.Equal(1, t.Tickets);
        t.Tickets = 1 << 20;
        Assert.Equal(Task.MaxTickets, t.Tickets);
    }

    [Fact]
    public void UnattachedTask_RescheduleIsANoOp()
    {
        var t = new Task(new CallbackTask(_ => true));
        t.Reschedule();
        Assert.False(t.Scheduled);
        Assert.Null(t.Owner);
    }

    [Fact]
    public void ThrowingTask_IsNotLeftRunning()
    {
        var s = new TaskScheduler();
        bool fail = true;
        var t = CallbackTask.Create(s, task => fail ? throw new InvalidOperationException("boom") : true);
        t.Reschedule();
        Assert.Throws<InvalidOperationException>(() => s.RunBatch(10));
        Assert.False(t.Scheduled);
        fail = false;
        t.Reschedule(); // must queue again, not be taken for a running task's request
        Assert.True(t.Scheduled);
        Assert.Equal(1, s.RunBatch(10));
    }

    [Fact]
    public void ManyTasks_HeapKeepsStrideOrder()
    {
        var s = new TaskScheduler();
        var counts = new Dictionary<int, int>();
        var tasks = new List<Task>();
        for (int i = 0; i < 40; i++)
        {
            int id = i;
            counts[id] = 0;
            var t = CallbackTask.Create(s, task => { counts[id]++; task.FastReschedule(); return true; },
                tickets: id < 20 ? 512 : 1024);
            tasks.Add(t);
            t.Reschedule();
        }
        s.RunBatch(30_000);
        // 20 tasks with 512 tickets and 20 with 1024: the latter get twice the runs.
        double low = counts.Where(kv => kv.Key < 20).Average(kv => kv.Value);
        double high = counts.Where(kv => kv.Key >= 20).Average(kv => kv.Value);
        Assert.InRange(high / low, 1.95, 2.05);
        Assert.Equal(40, s.ScheduledCount);
    }

    [Fact]
    public void Unschedule_FromTheMiddleOfTheHeap_KeepsPassOrder()
    {
        var s = new TaskScheduler();
        var rng = new Random(7);
        var log = new List<int>();
        var tasks = new List<Task>();
        for (int i = 0; i < 300; i++)
        {
            int id = i;
            var t = CallbackTask.Create(s, _ => { log.Add(id); return true; }, tickets: 1 << rng.Next(0, 16));
            t.Reschedule();
            tasks.Add(t);
        }
        var removed = tasks.Where(_ => rng.Next(3) == 0).ToHashSet();
        foreach (var t in removed) t.Unschedule();
        Assert.Equal(300 - removed.Count, s.ScheduledCount);
        // Remaining tasks run once each, in (pass, queue order) order.
        var expected = tasks.Select((t, id) => (t, id)).Where(x => !removed.Contains(x.t))
            .OrderBy(x => x.t.Pass).ThenBy(x => x.t.Seq).Select(x => x.id).ToList();
        Assert.Equal(expected.Count, s.RunBatch(1000));
        Assert.Equal(expected, log);
    }
}
