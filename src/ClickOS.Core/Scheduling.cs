using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ClickOS.Core;

/// <summary>Something a task runs: returns whether it did useful work.</summary>
public interface ITaskCallback
{
    bool RunTask(Task task);
}

/// <summary>
/// A schedulable unit of work (Click's Task). Stride-scheduled: each run advances the task's
/// pass by STRIDE1 / tickets, and the task with the smallest pass runs next. A task leaves the
/// run queue when it runs and stays off unless it calls <see cref="FastReschedule"/>.
/// </summary>
public sealed class Task
{
    public const int DefaultTickets = 1 << 10;
    public const int MaxTickets = 1 << 15;
    public const uint Stride1 = 1u << 16;

    internal readonly ITaskCallback Callback;
    internal TaskScheduler? Scheduler;
    internal uint Pass;
    internal uint StrideValue;
    internal int HeapIndex = -1;
    internal ulong Seq;
    internal bool Running;
    internal bool RescheduleRequested;
    private int _tickets;

    public Task(ITaskCallback callback, Element? owner = null)
    {
        Callback = callback;
        Owner = owner;
        Tickets = DefaultTickets;
    }

    public Element? Owner { get; }
    public long Calls { get; internal set; }
    public long WorkDone { get; internal set; }

    public int Tickets
    {
        get => _tickets;
        set
        {
            _tickets = Math.Clamp(value, 1, MaxTickets);
            StrideValue = Stride1 / (uint)_tickets;
        }
    }

    public bool Scheduled => Running ? RescheduleRequested : HeapIndex >= 0;

    internal void Attach(TaskScheduler s) => Scheduler = s;

    /// <summary>Puts the task on its scheduler's run queue (no-op if already there).</summary>
    public void Reschedule()
    {
        if (Running) { RescheduleRequested = true; return; }
        if (HeapIndex < 0)
            Scheduler?.Enqueue(this);
    }

    /// <summary>Called from the task's own RunTask to keep running.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void FastReschedule() => RescheduleRequested = true;

    public void Unschedule()
    {
        RescheduleRequested = false;
        if (HeapIndex >= 0)
            Scheduler?.Remove(this);
    }
}

/// <summary>
/// The stride scheduler's run queue, ordered by pass with FIFO order among equal passes.
/// A task joining the queue gets the head's pass plus its stride; after running it advances
/// by its stride, and a task that did no work is not allowed to stay ahead of the next one.
/// </summary>
public sealed class TaskScheduler
{
    private Task[] _heap = new Task[16];
    private int _count;
    private ulong _seq;
    // The pass of the task being run (tracked as values: no reference stores on the hot path).
    private uint _runningPass;
    private bool _isRunning;

    public int ScheduledCount => _count;
    /// <summary>Task runs since the scheduler was made: an activity count for idle detection.</summary>
    public long Runs { get; private set; }
    public bool HasWork => _count > 0;

    internal void Enqueue(Task t)
    {
        // A running task has left the heap; if it was alone there, a task it wakes joins at its
        // pass (as in Click, where the runner holds the head until it finishes), not at zero.
        // Like Click, where the running task is still the head of the list while it runs.
        t.Pass = (_isRunning ? _runningPass : _count > 0 ? _heap[0].Pass : 0) + t.StrideValue;
        Insert(t);
    }

    private void Insert(Task t)
    {
        t.Seq = _seq++;
        if (_count == 0)
        {
            _heap[0] = t;
            t.HeapIndex = 0;
            _count = 1;
            return;
        }
        if (_count == _heap.Length)
            Array.Resize(ref _heap, _count * 2);
        _heap[_count] = t;
        t.HeapIndex = _count;
        SiftUp(_count++);
    }

    internal void Remove(Task t)
    {
        int i = t.HeapIndex;
        t.HeapIndex = -1;
        _count--;
        if (i != _count)
        {
            _heap[i] = _heap[_count];
            _heap[i].HeapIndex = i;
            SiftDown(i);
            SiftUp(i);
        }
        // The vacated slot keeps a stale reference (tasks live as long as their router).
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Less(Task a, Task b)
    {
        int d = (int)(a.Pass - b.Pass);
        return d < 0 || (d == 0 && a.Seq < b.Seq);
    }

    private void SiftUp(int i)
    {
        var t = _heap[i];
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Less(t, _heap[p])) break;
            _heap[i] = _heap[p];
            _heap[i].HeapIndex = i;
            i = p;
        }
        _heap[i] = t;
        t.HeapIndex = i;
    }

    private void SiftDown(int i)
    {
        var t = _heap[i];
        while (true)
        {
            int l = 2 * i + 1;
            if (l >= _count) break;
            int r = l + 1;
            int m = r < _count && Less(_heap[r], _heap[l]) ? r : l;
            if (!Less(_heap[m], t)) break;
            _heap[i] = _heap[m];
            _heap[i].HeapIndex = i;
            i = m;
        }
        _heap[i] = t;
        t.HeapIndex = i;
    }

    /// <summary>
    /// Runs up to <paramref name="max"/> tasks in pass order. Stops early when
    /// <paramref name="stop"/> returns true, or when the only scheduled task did no work.
    /// Returns how many ran.
    /// </summary>
    public int RunBatch(int max, Func<bool>? stop = null)
    {
        int ran = 0;
        while (ran < max && _count > 0)
        {
            // The task stays at the head of the queue while it runs (as in Click); its key is
            // updated in place afterwards. Tasks woken meanwhile get later passes, so it stays
            // the head, and (pass, sequence) is a total order, so the run order is the same as
            // removing and reinserting it.
            var t = _heap[0];
            if (t.Running) break; // a nested run from inside this task: nothing to do
            t.Running = true;
            t.RescheduleRequested = false;
            t.Calls++;
            ran++;
            bool worked;
            uint outerPass = _runningPass;
            bool outerRunning = _isRunning;
            _runningPass = t.Pass;
            _isRunning = true;
            try
            {
                worked = t.Callback.RunTask(t);
            }
            catch
            {
                // A task that throws is left unscheduled, as if it had run and slept.
                t.RescheduleRequested = false;
                if (t.HeapIndex >= 0) Remove(t);
                throw;
            }
            finally
            {
                t.Running = false;
                _runningPass = outerPass;
                _isRunning = outerRunning;
            }
            if (worked) t.WorkDone++;
            if (!t.RescheduleRequested)
            {
                if (t.HeapIndex >= 0) Remove(t);
            }
            else
            {
                t.RescheduleRequested = false;
                bool inHeap = t.HeapIndex >= 0; // false if it unscheduled itself, then asked again
                bool alone = _count == (inHeap ? 1 : 0);
                t.Pass += t.StrideValue;
                if (!worked && !alone)
                {
                    uint next = inHeap ? MinOtherPass(t) : _heap[0].Pass;
                    if ((int)(next - t.Pass) > 0) t.Pass = next;
                }
                if (inHeap)
                {
                    t.Seq = _seq++;
                    SiftDown(t.HeapIndex);
                }
                else Insert(t);
                if (!worked && alone) break;
            }
            if (stop != null && stop()) break;
        }
        Runs += ran;
        return ran;
    }

    /// <summary>The smallest pass among the tasks other than <paramref name="head"/>, which is at the root.</summary>
    private uint MinOtherPass(Task head)
    {
        var a = _heap[1];
        if (_count < 3) return a.Pass;
        var b = _heap[2];
        return Less(a, b) ? a.Pass : b.Pass;
    }

    /// <summary>Runs one task (tests).</summary>
    public bool RunOne() => RunBatch(1) > 0;
}

/// <summary>A one-shot timer (Click's Timer); reschedule it from its callback to repeat.</summary>
public sealed class Timer(Action<Timer> callback)
{
    internal readonly Action<Timer> Callback = callback;
    internal TimerSet? Set;
    internal int HeapIndex = -1;
    internal long Seq;
    public long ExpiryNs { get; internal set; }
    public bool Scheduled => HeapIndex >= 0;

    internal void Attach(TimerSet s) => Set = s;

    public void ScheduleAt(long expiryNs)
    {
        Unschedule();
        ExpiryNs = expiryNs;
        Set?.Add(this);
    }

    public void ScheduleAfter(long delayNs) => ScheduleAt((Set?.Clock.NowNs ?? 0) + delayNs);
    public void ScheduleAfterMs(long ms) => ScheduleAfter(ms * 1_000_000);
    public void ScheduleNow() => ScheduleAfter(0);

    /// <summary>Schedules relative to the previous expiry, to keep a steady period without drift.</summary>
    public void Reschedule(long periodNs) => ScheduleAt(ExpiryNs + periodNs);

    public void Unschedule()
    {
        if (HeapIndex >= 0)
            Set?.Remove(this);
    }
}

/// <summary>The pending timers of one router thread, a min-heap on expiry.</summary>
public sealed class TimerSet(RouterClock clock)
{
    private Timer[] _heap = new Timer[16];
    private int _count;
    private long _seq;
    public RouterClock Clock { get; } = clock;
    public int Count => _count;

    public long NextExpiryNs => _count > 0 ? _heap[0].ExpiryNs : long.MaxValue;

    private static bool Less(Timer a, Timer b) => a.ExpiryNs < b.ExpiryNs || (a.ExpiryNs == b.ExpiryNs && a.Seq < b.Seq);

    internal void Add(Timer t)
    {
        t.Seq = _seq++;
        if (_count == _heap.Length)
            Array.Resize(ref _heap, _count * 2);
        _heap[_count] = t;
        t.HeapIndex = _count;
        Up(_count++);
    }

    internal void Remove(Timer t)
    {
        int i = t.HeapIndex;
        t.HeapIndex = -1;
        _count--;
        if (i != _count)
        {
            _heap[i] = _heap[_count];
            _heap[i].HeapIndex = i;
            Down(i);
            Up(i);
        }
        _heap[_count] = null!;
    }

    private void Up(int i)
    {
        var t = _heap[i];
        while (i > 0)
        {
            int p = (i - 1) >> 1;
            if (!Less(t, _heap[p])) break;
            _heap[i] = _heap[p]; _heap[i].HeapIndex = i; i = p;
        }
        _heap[i] = t; t.HeapIndex = i;
    }

    private void Down(int i)
    {
        var t = _heap[i];
        while (true)
        {
            int l = 2 * i + 1;
            if (l >= _count) break;
            int r = l + 1;
            int m = r < _count && Less(_heap[r], _heap[l]) ? r : l;
            if (!Less(_heap[m], t)) break;
            _heap[i] = _heap[m]; _heap[i].HeapIndex = i; i = m;
        }
        _heap[i] = t; t.HeapIndex = i;
    }

    /// <summary>
    /// Fires the timers due at or before now (a periodic timer that fell behind catches up);
    /// returns how many fired. Bounded, so a timer that keeps rescheduling itself for "now"
    /// cannot hold the driver here.
    /// </summary>
    public int RunDue()
    {
        int fired = 0;
        long now = Clock.NowNs;
        int limit = 4096 + _count;
        while (_count > 0 && _heap[0].ExpiryNs <= now && fired < limit)
        {
            var t = _heap[0];
            Remove(t);
            t.Callback(t);
            fired++;
        }
        return fired;
    }
}

/// <summary>
/// A router's clock: wall time, or simulated time (--simtime) that only moves when the
/// driver jumps it to the next timer.
/// </summary>
public sealed class RouterClock
{
    private readonly long _baseUnixNs;
    private readonly long _baseTicks;
    private long _simNs;

    public RouterClock(bool simulated, long? simStartNs = null)
    {
        Simulated = simulated;
        _baseUnixNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        _baseTicks = Stopwatch.GetTimestamp();
        _simNs = simStartNs ?? _baseUnixNs;
    }

    public bool Simulated { get; }

    public long NowNs
    {
        get
        {
            if (Simulated) return _simNs;
            long dt = Stopwatch.GetTimestamp() - _baseTicks;
            return _baseUnixNs + (long)(dt * (1_000_000_000.0 / Stopwatch.Frequency));
        }
    }

    /// <summary>Moves simulated time forward (never backward).</summary>
    public void WarpTo(long ns)
    {
        if (Simulated && ns > _simNs) _simNs = ns;
    }
}
