namespace ClickOS.Core.Tests;

/// <summary>A task callback driven by a delegate, for scheduler tests.</summary>
public sealed class CallbackTask(Func<Task, bool> run) : ITaskCallback
{
    public bool RunTask(Task task) => run(task);

    /// <summary>A task on <paramref name="scheduler"/> that runs <paramref name="run"/>; not yet scheduled.</summary>
    public static Task Create(TaskScheduler scheduler, Func<Task, bool> run, int tickets = Task.DefaultTickets)
    {
        var t = new Task(new CallbackTask(run)) { Tickets = tickets };
        t.Attach(scheduler);
        return t;
    }

    /// <summary>A task that always does work and keeps itself scheduled, logging its name.</summary>
    public static Task Busy(TaskScheduler scheduler, List<string> log, string name, int tickets = Task.DefaultTickets) =>
        Create(scheduler, t => { log.Add(name); t.FastReschedule(); return true; }, tickets);
}

public static class Bytes
{
    public static byte[] Seq(int n, int start = 0)
    {
        var b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte)(start + i);
        return b;
    }
}
