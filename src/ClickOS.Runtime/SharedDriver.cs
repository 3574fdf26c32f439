using System.Collections.Concurrent;
using System.Diagnostics;

namespace ClickOS.Runtime;

/// <summary>
/// Drives many routers on a few threads ("lanes"): ClickOS's shared isolation, where thousands
/// of small instances live in one process. Each lane keeps a run queue of routers with work and
/// a deadline heap of routers waiting for a timer, so an idle router costs nothing per round and
/// a lane sleeps until the earliest timer or a wake. A router gets a few task batches per turn,
/// then the next one runs.
/// <para>Faults stay inside one router: an exception from an element ends that router only
/// (reported through <see cref="Exited"/>). A router that does not return for
/// <see cref="HangTimeout"/> (an element looping) is declared hung; its lane is abandoned to it
/// and the lane's other routers move to a fresh lane. .NET cannot stop the looping thread, so it
/// keeps its core: use process isolation for configurations that are not trusted.</para>
/// </summary>
public sealed class SharedDriver : IDisposable
{
    private const int TasksPerBatch = 129;
    private const int BatchesPerTurn = 4;

    /// <summary>One router's place in the driver.</summary>
    public sealed class Slot
    {
        internal Slot(Router router, object? tag, TimeSpan idleAfter, SharedDriver owner)
        {
            Router = router;
            Tag = tag;
            if (idleAfter > TimeSpan.Zero) Idle = new IdleWatch(idleAfter, () => owner.IdleReported?.Invoke(this));
        }

        internal Router Router;
        internal Lane Lane = null!;
        internal long Deadline = long.MaxValue;
        internal bool InReady, ThreadBound;
        internal int WakePending;
        internal volatile bool Paused, Exited;
        internal readonly IdleWatch? Idle;

        /// <summary>The router now driven (a later one after hot-swaps).</summary>
        public Router Current => Volatile.Read(ref Router);
        public object? Tag { get; }
        public bool IsPaused => Paused;
        public bool HasExited => Exited;
        public string? ExitReason { get; internal set; }
    }

    private readonly List<Lane> _lanes = [];
    private readonly Thread _watchdog;
    private volatile bool _stopping;
    private int _nextLane;

    /// <summary>Called once per router, on its lane, after its first turn: it is forwarding.</summary>
    public Action<Slot>? Ready { get; set; }
    /// <summary>Called when a router ends: reason null for a normal stop, else what went wrong.</summary>
    public Action<Slot, string?>? Exited { get; set; }
    /// <summary>Called when a router with an idle period has done nothing for that long.</summary>
    public Action<Slot>? IdleReported { get; set; }
    public TimeSpan HangTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public SharedDriver(int lanes)
    {
        for (int i = 0; i < Math.Max(1, lanes); i++) _lanes.Add(new Lane(this));
        _watchdog = new Thread(Watch) { IsBackground = true, Name = "SharedDriver watchdog" };
        _watchdog.Start();
    }

    public int LaneCount { get { lock (_lanes) return _lanes.Count; } }

    /// <summary>Starts driving <paramref name="router"/> (already initialized).</summary>
    public Slot Add(Router router, object? tag = null, TimeSpan idleAfter = default)
    {
        if (router.Clock.Simulated) throw new ArgumentException("a shared driver runs real-time routers only", nameof(router));
        var slot = new Slot(router, tag, idleAfter, this);
        Lane lane;
        lock (_lanes) lane = _lanes[_nextLane++ % _lanes.Count];
        lane.Adopt(slot);
        return slot;
    }

    /// <summary>Stops running the router's tasks and timers; handler calls are still served.</summary>
    public static void Pause(Slot slot) => slot.Paused = true;

    public static void Resume(Slot slot)
    {
        if (!slot.Paused) return;
        slot.Paused = false;
        slot.Idle?.Reset();
        slot.Lane.Wake(slot);
    }

    /// <summary>Asks the router to stop; <see cref="Exited"/> follows on its lane.</summary>
    public static void Stop(Slot slot) => slot.Current.StopNow();

    public void Dispose()
    {
        _stopping = true;
        List<Lane> lanes;
        lock (_lanes) lanes = [.. _lanes];
        foreach (var l in lanes) l.Shutdown();
        _watchdog.Join(TimeSpan.FromSeconds(2));
        _fdThread?.Join(TimeSpan.FromSeconds(2));
        lock (_fdSlots)
        {
            if (_epoll >= 0) Posix.close(_epoll);
            _epoll = -1;
        }
    }

    // ---------------- descriptors ----------------
    // One epoll set for every router's descriptors (a virtual port's bells, a device's socket),
    // edge-triggered: a descriptor becoming readable wakes its router's slot, and the router's
    // turn runs the callback (which drains it). No router polls, so a thousand idle instances
    // with ports cost nothing, and a frame for one wakes it within microseconds.

    private int _epoll = -2;   // -2: not made yet; -1: unavailable
    private readonly Dictionary<int, Slot> _fdSlots = [];
    private Thread? _fdThread;

    internal void WatchSelects(Router router, Slot slot)
    {
        router.SelectsChanged = (_, fd, added) => WatchFd(fd, added ? slot : null);
        foreach (int fd in router.SelectFds) WatchFd(fd, slot);
    }

    private void WatchFd(int fd, Slot? slot)
    {
        lock (_fdSlots)
        {
            if (_epoll == -2)
            {
                _epoll = Posix.epoll_create1(Posix.EPOLL_CLOEXEC);
                if (_epoll >= 0)
                {
                    _fdThread = new Thread(WatchDescriptors) { IsBackground = true, Name = "SharedDriver descriptors" };
                    _fdThread.Start();
                }
            }
            if (_epoll < 0) return;
            if (slot == null)
            {
                if (_fdSlots.Remove(fd)) Posix.EpollDel(_epoll, fd);
                return;
            }
            if (_fdSlots.ContainsKey(fd)) Posix.EpollDel(_epoll, fd);
            _fdSlots[fd] = slot;
            Posix.EpollAdd(_epoll, fd, Posix.EPOLLIN | Posix.EPOLLET, (ulong)fd);
        }
        // Readable already: no edge will come for it.
        if (slot != null) slot.Lane.Wake(slot);
    }

    private void WatchDescriptors()
    {
        Span<ulong> ready = stackalloc ulong[64];
        while (!_stopping)
        {
            int n = Posix.EpollWait(_epoll, ready, 100);
            for (int i = 0; i < n; i++)
            {
                Slot? s;
                lock (_fdSlots) _fdSlots.TryGetValue((int)ready[i], out s);
                if (s != null && !s.Exited) s.Lane.Wake(s);
            }
        }
    }

    private void Watch()
    {
        while (!_stopping)
        {
            Thread.Sleep(100);
            List<Lane> lanes;
            lock (_lanes) lanes = [.. _lanes];
            long now = Stopwatch.GetTimestamp();
            foreach (var lane in lanes)
            {
                var current = lane.Current;
                long since = Volatile.Read(ref lane.CurrentSince);
                if (current == null || since == 0 || Stopwatch.GetElapsedTime(since, now) < HangTimeout) continue;
                Abandon(lane, current);
            }
        }
    }

    /// <summary>The lane's thread is stuck in <paramref name="hung"/>: give its other routers a fresh lane.</summary>
    private void Abandon(Lane lane, Slot hung)
    {
        List<Slot> others;
        lock (lane.Gate)
        {
            if (lane.Abandoned || lane.Current != hung) return;
            lane.Abandoned = true;
            others = lane.Slots.Where(s => s != hung && !s.Exited).ToList();
        }
        var fresh = new Lane(this);
        lock (_lanes)
        {
            _lanes.Remove(lane);
            _lanes.Add(fresh);
        }
        hung.Exited = true;
        hung.ExitReason = $"hung: an element did not return for {HangTimeout.TotalSeconds:0.#} s (its thread was abandoned)";
        Exited?.Invoke(hung, hung.ExitReason);
        foreach (var s in others)
        {
            s.ThreadBound = false;
            fresh.Adopt(s);
        }
    }

    internal sealed class Lane
    {
        private readonly SharedDriver _owner;
        private readonly Thread _thread;
        private readonly ConcurrentQueue<Slot> _woken = new();
        private readonly Queue<Slot> _ready = new();
        private readonly PriorityQueue<Slot, long> _timers = new();
        private readonly ManualResetEventSlim _event = new(false);
        private volatile bool _shutdown;
        private long _lastSweep;

        public readonly object Gate = new();
        public readonly List<Slot> Slots = [];
        public volatile bool Abandoned;
        public volatile Slot? Current;
        public long CurrentSince;

        public Lane(SharedDriver owner)
        {
            _owner = owner;
            _thread = new Thread(Loop) { IsBackground = true, Name = "SharedDriver lane" };
            _thread.Start();
        }

        public void Adopt(Slot slot)
        {
            slot.Lane = this;
            var router = slot.Current;
            router.WakeHook = () => Wake(slot);
            _owner.WatchSelects(router, slot);
            lock (Gate) Slots.Add(slot);
            Wake(slot);
        }

        public void Wake(Slot slot)
        {
            if (Interlocked.Exchange(ref slot.WakePending, 1) == 0) _woken.Enqueue(slot);
            _event.Set();
        }

        public void Shutdown()
        {
            _shutdown = true;
            _event.Set();
            if (!Abandoned) _thread.Join(TimeSpan.FromSeconds(2));
        }

        private void Loop()
        {
            while (!_shutdown)
            {
                _event.Reset();
                long now = Stopwatch.GetTimestamp();
                lock (Gate)
                {
                    if (Abandoned) return;
                    while (_woken.TryDequeue(out var s))
                    {
                        Volatile.Write(ref s.WakePending, 0);
                        MakeReady(s);
                    }
                    while (_timers.TryPeek(out var s, out long due) && due <= now)
                    {
                        _timers.Dequeue();
                        if (s.Deadline == due) MakeReady(s);
                    }
                }
                int n = _ready.Count;
                for (int i = 0; i < n; i++)
                {
                    var s = _ready.Dequeue();
                    s.InReady = false;
                    if (s.Exited || s.Lane != this) continue;
                    Turn(s);
                    if (Abandoned) return;   // the watchdog gave up on this thread while it ran
                }
                if (now - _lastSweep > Stopwatch.Frequency / 10) Sweep(now);
                if (_ready.Count > 0) continue;
                int waitMs = 100;
                if (_timers.TryPeek(out _, out long next))
                    waitMs = (int)Math.Clamp((next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency, 0, 100);
                if (waitMs > 0) _event.Wait(waitMs);
            }
        }

        private void MakeReady(Slot s)
        {
            if (s.InReady || s.Exited) return;
            s.InReady = true;
            s.Deadline = long.MaxValue;
            _ready.Enqueue(s);
        }

        private void Sweep(long now)
        {
            _lastSweep = now;
            lock (Gate)
            {
                for (int i = Slots.Count - 1; i >= 0; i--)
                {
                    var s = Slots[i];
                    if (s.Exited) { Slots.RemoveAt(i); continue; }
                    if (!s.Paused && s.Idle != null) s.Idle.Check(s.Router.Pool.Made, s.Router.Scheduler.Runs);
                }
            }
        }

        /// <summary>A few task batches of one router, then its next deadline.</summary>
        private void Turn(Slot s)
        {
            var r = s.Router;
            Current = s;
            Volatile.Write(ref CurrentSince, Stopwatch.GetTimestamp());
            var names = ClickOS.Language.NameDatabase.Enter(r.Names);
            try
            {
                if (!s.ThreadBound)
                {
                    r.DriverStarted();
                    s.ThreadBound = true;
                }
                bool first = !r.Started;
                for (int k = 0; k < BatchesPerTurn; k++)
                {
                    if (r.HasControlWork)
                    {
                        var next = r.ServiceControl();
                        if (next != r)
                        {
                            next.WakeHook = () => Wake(s);
                            _owner.WatchSelects(next, s);
                            Volatile.Write(ref s.Router, next);
                            r = next;
                            names.Dispose();
                            names = ClickOS.Language.NameDatabase.Enter(r.Names);
                        }
                    }
                    if (r.StopRequested && !r.CheckDriver())
                    {
                        Finish(s, null);
                        return;
                    }
                    if (s.Paused) return;
                    r.Timers.RunDue();
                    if (r.HasSelects) r.PollSelects(0);
                    if (!r.Scheduler.HasWork) break;
                    r.Scheduler.RunBatch(TasksPerBatch, r.StopRequestedFn);
                }
                if (first)
                {
                    r.Started = true;
                    _owner.Ready?.Invoke(s);
                }
                if (r.Scheduler.HasWork || r.HasControlWork || r.StopRequested)
                {
                    MakeReady(s);
                    return;
                }
                long nextNs = r.Timers.NextExpiryNs;
                // The descriptor watcher wakes routers whose descriptors become readable; without
                // it (no epoll) they are polled every millisecond.
                if (r.HasSelects && _owner._epoll < 0) nextNs = Math.Min(nextNs, r.Clock.NowNs + 1_000_000);
                if (nextNs == long.MaxValue) return;   // sleeps until woken
                long waitNs = Math.Max(0, nextNs - r.Clock.NowNs);
                long due = Stopwatch.GetTimestamp() + (long)(waitNs * (Stopwatch.Frequency / 1e9));
                s.Deadline = due;
                lock (Gate) _timers.Enqueue(s, due);
            }
            catch (Exception ex)
            {
                Finish(s, $"{ex.GetType().Name}: {ex.Message}");
            }
            finally
            {
                names.Dispose();
                Volatile.Write(ref CurrentSince, 0);
                Current = null;
            }
        }

        private void Finish(Slot s, string? reason)
        {
            if (s.Exited) return;
            s.Exited = true;
            s.ExitReason = reason;
            var r = s.Router;
            try
            {
                r.DriverExited();
                r.Cleanup();
            }
            catch (Exception ex)
            {
                // A router that already failed may fail again in cleanup; the first reason stands.
                s.ExitReason ??= $"cleanup failed: {ex.Message}";
            }
            _owner.Exited?.Invoke(s, s.ExitReason);
        }
    }
}
