using System.Diagnostics;
using ClickOS.Core;

namespace ClickOS.Runtime;

/// <summary>What one hot-swap did: how long forwarding paused, and what state moved.</summary>
public sealed record HotSwapReport(long PauseNs, int ElementsTakenOver, IReadOnlyList<string> Messages);

// Calls from other threads (control sockets, the host) and hot-swap. A router belongs to the
// thread that drives it: other threads never touch its elements, they post calls that the
// driver runs between task batches. A hot-swap is one such call, so it happens at a batch
// boundary, and everything slow (parsing, configuring, initializing the new router) happens
// before it, on the caller's thread, while the old router keeps forwarding.
public sealed partial class Router
{
    private readonly object _callLock = new();
    private List<Action<Router>>? _calls;
    private Router? _swapTo;
    private Action<HotSwapReport?, string?>? _swapDone;
    private volatile bool _controlWork;
    private Router? _successor;
    private Router? _predecessor;
    private bool _driverExited;
    private volatile int _driverThread = -1;

    /// <summary>True when other threads have posted calls or a hot-swap (one volatile read per driver iteration).</summary>
    public bool HasControlWork => _controlWork;

    /// <summary>True on the thread that drives this router.</summary>
    public bool OnDriverThread => _driverThread == Environment.CurrentManagedThreadId;

    /// <summary>The router that replaced this one in a hot-swap, if any.</summary>
    public Router? Successor => Volatile.Read(ref _successor);

    /// <summary>The last hot-swap that installed this router (null if it was not swapped in).</summary>
    public HotSwapReport? LastHotSwap { get; private set; }

    public override Element? HotSwapPredecessor(Element e) =>
        _predecessor?[e.Name] is { } old && e.CanTakeStateFrom(old) ? old : null;

    /// <summary>
    /// Queues <paramref name="call"/> to run on the driver's thread between task batches (on the
    /// router that replaced this one, after a hot-swap). False once the driver has exited.
    /// </summary>
    public bool Post(Action<Router> call)
    {
        Router? next;
        lock (_callLock)
        {
            next = _successor;
            if (next == null)
            {
                if (_driverExited) return false;
                (_calls ??= []).Add(call);
                _controlWork = true;
            }
        }
        if (next != null) return next.Post(call);
        Wake();
        return true;
    }

    /// <summary>
    /// Runs <paramref name="fn"/> on the driver's thread and returns its result; inline when
    /// called on that thread. Returns <paramref name="noRouter"/> when the driver has exited or
    /// does not answer within <paramref name="timeout"/>.
    /// </summary>
    public T Invoke<T>(Func<Router, T> fn, Func<T> noRouter, TimeSpan timeout)
    {
        if (OnDriverThread) return fn(this);
        var box = new CallBox<T>(fn);
        if (!Post(box.Run)) return noRouter();
        if (!box.Done.Wait(timeout)) return noRouter();
        box.Done.Dispose();
        if (box.Failure != null) throw new InvalidOperationException(box.Failure.Message, box.Failure);
        return box.Result!;
    }

    private sealed class CallBox<T>(Func<Router, T> fn)
    {
        public readonly ManualResetEventSlim Done = new(false);
        public T? Result;
        public Exception? Failure;

        public void Run(Router r)
        {
            try { Result = fn(r); }
            catch (Exception ex) when (ex is not OutOfMemoryException) { Failure = ex; }
            finally { Done.Set(); }
        }
    }

    /// <summary>
    /// Asks the driver to replace this router with <paramref name="next"/> (built and initialized
    /// with this router as its predecessor) at the next batch boundary. <paramref name="done"/>
    /// is called on the driver's thread with the report, or with an error if the swap did not happen.
    /// </summary>
    public bool RequestSwap(Router next, Action<HotSwapReport?, string?>? done)
    {
        Router? successor;
        lock (_callLock)
        {
            successor = _successor;
            if (successor == null)
            {
                if (_driverExited || _swapTo != null) return false;
                _swapTo = next;
                _swapDone = done;
                _controlWork = true;
            }
        }
        if (successor != null) return successor.RequestSwap(next, done);
        Wake();
        return true;
    }

    internal void DriverStarted()
    {
        _driverThread = Environment.CurrentManagedThreadId;
        lock (_callLock) _driverExited = false;
    }

    /// <summary>Runs posted calls and a pending hot-swap; returns the router to drive from now on.</summary>
    internal Router ServiceControl()
    {
        var (calls, swap, done) = TakeControlWork(exiting: false);
        RunCalls(calls);
        return swap == null ? this : CompleteSwap(swap, done);
    }

    private (List<Action<Router>>? Calls, Router? Swap, Action<HotSwapReport?, string?>? Done) TakeControlWork(bool exiting)
    {
        lock (_callLock)
        {
            if (exiting) _driverExited = true;
            var work = (_calls, _swapTo, _swapDone);
            _calls = null;
            _swapTo = null;
            _swapDone = null;
            _controlWork = false;
            return work;
        }
    }

    private void RunCalls(List<Action<Router>>? calls)
    {
        if (calls == null) return;
        foreach (var call in calls)
        {
            try { call(this); }
            catch (Exception ex) when (ex is not OutOfMemoryException) { _runtimeErrors.Error($"control call failed: {ex.Message}"); }
        }
    }

    private Router CompleteSwap(Router next, Action<HotSwapReport?, string?>? done)
    {
        long t0 = Stopwatch.GetTimestamp();
        var errh = new CollectingErrorHandler();
        int taken = 0;
        foreach (var e in next._elements)
        {
            if (this[e.Name] is not { } old || !e.CanTakeStateFrom(old)) continue;
            var ctx = new ContextErrorHandler(errh, e.Landmark, $"While hot-swapping state into {Ctx(e)}:");
            try
            {
                e.TakeState(old, ctx);
                taken++;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ctx.Error($"internal error: {ex.Message}");
            }
        }
        next._driverThread = _driverThread;
        next._predecessor = null;
        List<Action<Router>>? pending;
        lock (_callLock)
        {
            Volatile.Write(ref _successor, next);
            pending = _calls;
            _calls = null;
        }
        if (pending != null)
            foreach (var call in pending) next.Post(call);
        if (_stopNow) next.StopNow();
        var messages = errh.Messages.Select(m => m.Text).ToList();
        // Answer the requester before cleaning up: cleanup may stop the control thread it runs on.
        done?.Invoke(new HotSwapReport(0, taken, messages), null);
        Cleanup();
        // The pause counts everything done between the old router's last batch and the new one's first.
        next.LastHotSwap = new HotSwapReport((long)((Stopwatch.GetTimestamp() - t0) * (1e9 / Stopwatch.Frequency)), taken, messages);
        return next;
    }

    /// <summary>Called by the driver as it returns: later posts fail, and calls still queued run now.</summary>
    internal void DriverExited()
    {
        var (calls, swap, done) = TakeControlWork(exiting: true);
        RunCalls(calls);
        if (swap != null)
        {
            swap.Cleanup();
            done?.Invoke(null, "the router stopped before the hot-swap");
        }
    }

    /// <summary>
    /// The <c>hotconfig</c> write handler: builds the new configuration on the calling thread,
    /// then swaps it in at a batch boundary. From a control thread it returns once the swap is
    /// done; from the driver's own thread (a Script) the swap happens after the handler returns.
    /// </summary>
    private bool HotConfig(string text, ErrorHandler errh)
    {
        var next = Options.HotConfig!(text, this, errh);
        if (next == null) return false;
        if (OnDriverThread)
        {
            if (!RequestSwap(next, null))
            {
                next.Cleanup();
                return errh.Error("another hot-swap is in progress");
            }
            return true;
        }
        // Not disposed: after a timeout the driver may still signal it.
        var finished = new ManualResetEventSlim(false);
        HotSwapReport? report = null;
        string? failure = null;
        if (!RequestSwap(next, (r, f) => { report = r; failure = f; finished.Set(); }))
        {
            next.Cleanup();
            return errh.Error(_driverExited ? "the router is not running" : "another hot-swap is in progress");
        }
        if (!finished.Wait(TimeSpan.FromSeconds(30)))
            return errh.Warning("hot-swap requested; the router has not reached a batch boundary yet");
        if (failure != null) return errh.Error(failure);
        foreach (var m in report!.Messages) errh.Warning(m);
        return true;
    }
}
