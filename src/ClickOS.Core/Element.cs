using System.Runtime.CompilerServices;

namespace ClickOS.Core;

/// <summary>
/// Services a router gives its elements: pools, scheduling, time, handlers, output streams.
/// Implemented by ClickOS.Runtime's Router.
/// </summary>
public abstract class ElementHost
{
    public abstract PacketPool Pool { get; }
    public abstract BatchPool Batches { get; }
    public abstract TaskScheduler Scheduler { get; }
    public abstract TimerSet Timers { get; }
    public abstract RouterClock Clock { get; }
    /// <summary>Where Print, Message and scripts' diagnostics go (Click's stderr).</summary>
    public abstract TextWriter ErrorOutput { get; }
    /// <summary>Where scripts' print goes (Click's stdout).</summary>
    public abstract TextWriter StandardOutput { get; }
    public abstract ErrorHandler RuntimeErrors { get; }
    /// <summary>Asks the driver to stop (Click's please_stop_driver).</summary>
    public abstract void PleaseStop();
    /// <summary>Finds a handler named "elem.handler" or a global "handler", relative to <paramref name="context"/>'s compound.</summary>
    public abstract Handler? FindHandler(string name, Element? context, out Element? element, ErrorHandler errh);
    public abstract Element? FindElement(string name, Element? context);
    public abstract NotifierSignal UpstreamEmptySignal(Element e, int port, Task? listener);
    public abstract NotifierSignal DownstreamFullSignal(Element e, int port, Task? listener);
    public abstract IReadOnlyList<Element> Elements { get; }
    /// <summary>
    /// During a hot-swap, the element of the running configuration that <paramref name="e"/>
    /// will take state from (initialization may then skip work the old element already did,
    /// such as binding a socket); null otherwise.
    /// </summary>
    public virtual Element? HotSwapPredecessor(Element e) => null;

    /// <summary>Calls <paramref name="onReadable"/> on the router's thread whenever file descriptor <paramref name="fd"/> is readable.</summary>
    public abstract void AddSelect(int fd, Action onReadable);
    public abstract void RemoveSelect(int fd);
    /// <summary>Where a ClickOS host put this router's virtual ports (switch ports); null when it runs standalone.</summary>
    public virtual string? VifDirectory => null;
    private readonly Dictionary<string, object> _shared = new(StringComparer.Ordinal);

    /// <summary>State shared by all elements of a router under one key (e.g. ICMPError's IP ID counter).</summary>
    public T Shared<T>(string key) where T : class, new()
    {
        if (!_shared.TryGetValue(key, out var v)) _shared[key] = v = new T();
        return (T)v;
    }

    /// <summary>ScheduleInfo parameters by element name (1.0 = default share).</summary>
    public Dictionary<string, double> ScheduleParams { get; } = new(StringComparer.Ordinal);
}

/// <summary>When a handler-changing method should run relative to others (Click's configure_phase).</summary>
public static class ConfigurePhase
{
    public const int First = 0;
    public const int Info = 20;
    public const int PrivilegedFirst = 90;
    public const int Default = 100;
    public const int Last = 2000;
}

/// <summary>
/// The base of every element. Metadata (ports, processing, flow) is declared by overriding
/// the string properties, as Click's port_count/processing/flow_code do. Packets move only
/// in batches: push hands a batch downstream, pull asks upstream for one.
/// </summary>
public abstract class Element
{
    public const string Agnostic = "a";
    public const string PushProc = "h";
    public const string PullProc = "l";

    public string Name { get; set; } = "";
    public string ClassName { get; set; } = "";
    public string Landmark { get; set; } = "";
    public string Configuration { get; set; } = "";
    public int Index { get; set; }
    public ElementHost Host { get; private set; } = null!;

    // Wiring, filled by the router after processing is resolved.
    internal Element[] OutElem = [];
    internal int[] OutPort = [];
    internal Element[] InElem = [];
    internal int[] InPort = [];
    internal bool[] InPushFlags = [];
    internal bool[] OutPushFlags = [];
    private readonly List<Handler> _handlers = [];

    public int NInputs => InPushFlags.Length;
    public int NOutputs => OutPushFlags.Length;
    public bool InputIsPush(int port) => InPushFlags[port];
    public bool OutputIsPush(int port) => OutPushFlags[port];
    public bool InputIsPull(int port) => !InPushFlags[port];
    public bool OutputIsPull(int port) => !OutPushFlags[port];
    public IReadOnlyList<Handler> Handlers => _handlers;

    /// <summary>Port counts, as Click's port_count: "1/1", "1/1-2", "-/=", "0/1"...</summary>
    public virtual string PortCount => "1/1";
    /// <summary>Processing codes per port, as Click's processing(): "a/a", "h/h", "l/h", "a/ah"...</summary>
    public virtual string Processing => "a/a";
    /// <summary>Which inputs flow to which outputs, as Click's flow_code: "x/x", "x/y", "#/#"...</summary>
    public virtual string FlowCode => "x/x";
    public virtual int ConfigurePhaseValue => ConfigurePhase.Default;

    public void AttachHost(ElementHost host) => Host = host;

    /// <summary>Parses the element's arguments. The default accepts none.</summary>
    public virtual bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count > 0)
            return errh.Error("too many arguments");
        return true;
    }

    /// <summary>Whether <see cref="LiveReconfigure"/> can apply a new configuration without losing state.</summary>
    public virtual bool CanLiveReconfigure => false;

    public virtual bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) =>
        errh.Error("configuration is not writable");

    public virtual bool Initialize(ErrorHandler errh) => true;

    /// <summary>Called once after every element initialized (the router is about to run).</summary>
    public virtual void Cleanup() { }

    /// <summary>Adds element-specific handlers (called after Initialize).</summary>
    public virtual void AddHandlers() { }

    public virtual void Push(int port, PacketBatch batch)
    {
        // An element that declares push inputs must override Push; reaching here is a bug.
        batch.KillAll();
        Host.Batches.Return(batch);
        ThrowHelper.ThrowInvalidOperation($"{ClassName}: push not implemented");
    }

    public virtual PacketBatch? Pull(int port, int max)
    {
        ThrowHelper.ThrowInvalidOperation($"{ClassName}: pull not implemented");
        return null;
    }

    /// <summary>Pushes a batch out of <paramref name="port"/>. Ownership passes downstream.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void Output(int port, PacketBatch batch) => OutElem[port].Push(OutPort[port], batch);

    /// <summary>Pulls up to <paramref name="max"/> packets from input <paramref name="port"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected PacketBatch? Input(int port, int max) => InElem[port].Pull(InPort[port], max);

    /// <summary>Pushes a single packet out (wraps it in a batch).</summary>
    protected void OutputOne(int port, Packet p)
    {
        var b = Host.Batches.Rent();
        b.Add(p);
        Output(port, b);
    }

    /// <summary>Kills every packet in the batch and returns the batch to the pool.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void Drop(PacketBatch batch)
    {
        batch.KillAll();
        Host.Batches.Return(batch);
    }

    /// <summary>Sends a batch out of <paramref name="port"/> if that port exists, else drops it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    protected void CheckedOutput(int port, PacketBatch batch)
    {
        if ((uint)port < (uint)OutElem.Length) Output(port, batch);
        else Drop(batch);
    }

    /// <summary>Creates a task for this element on its router's scheduler; schedules it unless told not to.</summary>
    protected Task CreateTask(ITaskCallback callback, bool schedule = true, int tickets = Task.DefaultTickets)
    {
        var t = new Task(callback, this) { Tickets = tickets };
        t.Attach(Host.Scheduler);
        if (schedule) t.Reschedule();
        return t;
    }

    /// <summary>Creates a timer on this element's router.</summary>
    protected Timer CreateTimer(Action<Timer> callback)
    {
        var t = new Timer(callback);
        t.Attach(Host.Timers);
        return t;
    }

    /// <summary>
    /// Sends each packet of <paramref name="batch"/> to the output in <paramref name="outs"/>
    /// (negative or out of range: dropped). Consecutive packets for the same output travel as
    /// one batch, so packet order is kept wherever outputs merge again downstream.
    /// </summary>
    protected void Dispatch(PacketBatch batch, ReadOnlySpan<int> outs)
    {
        int n = batch.Count;
        if (n == 0) { Host.Batches.Return(batch); return; }
        int first = outs[0];
        bool same = true;
        for (int i = 1; i < n; i++)
            if (outs[i] != first) { same = false; break; }
        if (same)
        {
            CheckedOutput(first, batch);
            return;
        }
        DispatchRuns(batch, outs);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void DispatchRuns(PacketBatch batch, ReadOnlySpan<int> callerOuts)
    {
        var items = batch.Packets;
        int n = items.Length;
        // Elements pass their own reusable outs array. Pushing a run can come back into the
        // same element (a loop through IPMirror, a queue-less feedback path) and overwrite it,
        // so work from a copy.
        Span<int> outs = stackalloc int[n];
        callerOuts[..n].CopyTo(outs);
        // Copy out first: pushing a run may recycle the batch object's storage downstream.
        var run = Host.Batches.Rent();
        int cur = outs[0];
        for (int i = 0; i < n; i++)
        {
            if (outs[i] != cur)
            {
                CheckedOutput(cur, run);
                run = Host.Batches.Rent();
                cur = outs[i];
            }
            run.Add(items[i]);
        }
        batch.Clear();
        Host.Batches.Return(batch);
        CheckedOutput(cur, run);
    }

    /// <summary>
    /// For "a/ah" elements in pull mode: keeps packets whose <paramref name="outs"/> entry is 0
    /// and returns them; others go to push output 1 if it exists, or are dropped.
    /// </summary>
    protected PacketBatch? KeepFirstOutput(PacketBatch batch, ReadOnlySpan<int> callerOuts)
    {
        var ps = batch.Packets;
        // A copy, as in DispatchRuns: pushing to output 1 may come back into this element.
        Span<int> outs = stackalloc int[ps.Length];
        callerOuts[..ps.Length].CopyTo(outs);
        int keep = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            if (outs[i] == 0) ps[keep++] = ps[i];
            else if (NOutputs > 1 && outs[i] == 1) OutputOne(1, ps[i]);
            else ps[i].Kill();
        }
        batch.SetCount(keep);
        if (keep > 0) return batch;
        Host.Batches.Return(batch);
        return null;
    }

    /// <summary>A new batch of clones (shared data, copy on write) of the packets in <paramref name="batch"/>; null if none could be made.</summary>
    protected PacketBatch? CloneBatch(PacketBatch batch)
    {
        var copy = Host.Batches.Rent();
        foreach (var p in batch.Packets)
            if (p.Clone() is { } c) copy.Add(c);
        if (copy.Count > 0) return copy;
        Host.Batches.Return(copy);
        return null;
    }

    public string Declaration => $"{Name} :: {ClassName}";

    /// <summary>The element's own name as Click prints it in diagnostics ("name :: Class").</summary>
    public override string ToString() => Declaration;

    // ---- handler registration ----
    public virtual Handler? FindLocalHandler(string name) => FindRegistered(name);

    private Handler? FindRegistered(string name)
    {
        foreach (var h in _handlers)
            if (h.Name == name) return h;
        return null;
    }

    public void AddReadHandler(string name, Func<string> read, HandlerFlags flags = HandlerFlags.None) =>
        SetHandler(name, (_, _) => read(), null, flags);

    public void AddReadHandler(string name, ReadHandlerFn read, HandlerFlags flags = HandlerFlags.None) =>
        SetHandler(name, read, null, flags);

    public void AddWriteHandler(string name, WriteHandlerFn write, HandlerFlags flags = HandlerFlags.None) =>
        SetHandler(name, null, write, flags);

    /// <summary>A write handler that ignores its value (Click's "button", e.g. reset).</summary>
    public void AddButton(string name, Action action) =>
        SetHandler(name, null, (_, _) => { action(); return true; }, HandlerFlags.Button);

    public void SetHandler(string name, ReadHandlerFn? read, WriteHandlerFn? write, HandlerFlags flags)
    {
        var h = FindRegistered(name);
        if (h == null)
        {
            _handlers.Add(new Handler(name, read, write, flags));
            return;
        }
        if (read != null) h.ReadFn = read;
        if (write != null) h.WriteFn = write;
        h.Flags |= flags;
    }

    /// <summary>Removes every handler (used when a router is rebuilt).</summary>
    internal void ClearHandlers() => _handlers.Clear();

    /// <summary>The ports string for the "ports" handler, as Click prints it.</summary>
    public virtual string PortsDescription()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append(NInputs).Append(NInputs == 1 ? " input\n" : " inputs\n");
        for (int i = 0; i < NInputs; i++)
            sb.Append(InPushFlags[i] ? "push" : "pull").Append('\n');
        sb.Append(NOutputs).Append(NOutputs == 1 ? " output\n" : " outputs\n");
        for (int i = 0; i < NOutputs; i++)
            sb.Append(OutPushFlags[i] ? "push" : "pull").Append('\n');
        return sb.ToString();
    }

    /// <summary>Sets up wiring; called by the router.</summary>
    public void SetPorts(bool[] inputPush, bool[] outputPush)
    {
        InPushFlags = inputPush;
        OutPushFlags = outputPush;
        OutElem = new Element[outputPush.Length];
        OutPort = new int[outputPush.Length];
        InElem = new Element[inputPush.Length];
        InPort = new int[inputPush.Length];
    }

    public void ConnectOutput(int port, Element to, int toPort) { OutElem[port] = to; OutPort[port] = toPort; }
    public void ConnectInput(int port, Element from, int fromPort) { InElem[port] = from; InPort[port] = fromPort; }
    public (Element Element, int Port)? OutputTarget(int port) => OutElem[port] is { } e ? (e, OutPort[port]) : null;
    public (Element Element, int Port)? InputSource(int port) => InElem[port] is { } e ? (e, InPort[port]) : null;

    // ---- hot-swap (state transfer) ----
    /// <summary>Takes over state from the element this one replaces in a hot-swap.</summary>
    public virtual void TakeState(Element old, ErrorHandler errh) { }

    /// <summary>
    /// Whether this element takes state from <paramref name="old"/> (same name in the replaced
    /// configuration). By default only an element of the same class does.
    /// </summary>
    public virtual bool CanTakeStateFrom(Element old) => old.GetType() == GetType();

    /// <summary>Notifier this element provides on an output (e.g. a Queue's empty notifier), if any.</summary>
    public virtual Notifier? EmptyNotifier(int outputPort) => null;
    public virtual Notifier? FullNotifier(int inputPort) => null;

    /// <summary>
    /// Whether a notifier search may pass through this element upstream (from the given output)
    /// or downstream. Sources with no inputs that aren't notifiers end the search as busy.
    /// </summary>
    public virtual bool NotifierSearchPassesThrough => true;

    /// <summary>If true, an upstream-empty search that reaches this element is always idle (like Idle).</summary>
    public virtual bool IsIdleSource => false;
}

/// <summary>
/// A one-input, one-output agnostic element that acts on each batch in place (FastClick's
/// simple_action_batch). <see cref="Process"/> may drop packets by compacting the batch.
/// </summary>
public abstract class SimpleElement : Element
{
    public override string PortCount => "1/1";
    public override string Processing => "a/a";

    /// <summary>Acts on the batch in place. May kill packets and compact the batch.</summary>
    protected abstract void Process(PacketBatch batch);

    public sealed override void Push(int port, PacketBatch batch)
    {
        Process(batch);
        if (batch.Count > 0) Output(0, batch);
        else Host.Batches.Return(batch);
    }

    public sealed override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        Process(b);
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }
}

/// <summary>
/// An element that sends each packet to output 0 or 1 ("1/1-2", "a/ah"): 1 is the optional
/// reject output; without it, rejected packets are dropped. Subclasses implement
/// <see cref="Classify"/> (which may modify the packet); push and pull are handled once here.
/// </summary>
public abstract class FilterElement : Element
{
    public override string PortCount => "1/1-2";
    public override string Processing => "a/ah";

    /// <summary>Returns the output for the packet: 0 to pass it on, 1 to reject it.</summary>
    protected abstract int Classify(Packet p);

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        for (int i = 0; i < ps.Length; i++) outs[i] = Classify(ps[i]);
        Dispatch(batch, outs);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        var ps = b.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        for (int i = 0; i < ps.Length; i++) outs[i] = Classify(ps[i]);
        return KeepFirstOutput(b, outs);
    }
}
