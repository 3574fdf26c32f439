using ClickOS.IO.ShmRing;

namespace ClickOS.Host.Switch;

/// <summary>Counters of one switch port, as the switch sees it (rx: into the switch).</summary>
public sealed class PortCounters
{
    public long RxPackets, RxBytes, TxPackets, TxBytes, Drops, Errors;
}

/// <summary>
/// A port of the <see cref="VSwitch"/>. Only the switch's forwarding thread calls
/// <see cref="Poll"/>, <see cref="TrySend"/> and <see cref="Flush"/>; a port never blocks.
/// </summary>
public abstract class SwitchPort : IDisposable
{
    public string Name { get; }
    public abstract string Kind { get; }
    public PortCounters Counters { get; } = new();
    /// <summary>Set when the port stopped being trusted (a corrupt ring) or its peer went away; the switch skips it.</summary>
    public string? ShutReason { get; internal set; }
    /// <summary>The other end of a static chain: everything received goes there, and nothing else comes in.</summary>
    public SwitchPort? ChainedTo { get; internal set; }
    /// <summary>The port's own MAC address, if it has one: the switch knows it from the start (a static entry, never aged out or moved by learning).</summary>
    public virtual string? Mac => null;
    internal bool Dirty, Untold;   // flags of the switch's per-round lists

    protected SwitchPort(string name) => Name = name;

    /// <summary>Hands up to <paramref name="max"/> received frames to <see cref="VSwitch.Forward"/>; returns how many.</summary>
    public abstract int Poll(VSwitch sw, int max);
    /// <summary>Queues a frame for output (copied); false when the port's queue is full.</summary>
    public abstract bool TrySend(ReadOnlySpan<byte> frame);
    /// <summary>How many more frames <see cref="TrySend"/> would take now (switch thread only); a source that must not overrun its destination asks first.</summary>
    public virtual int Room => int.MaxValue;
    /// <summary>Publishes frames queued since the last flush (one publication per batch); returns whether the peer still has to be told (see <see cref="Notify"/>).</summary>
    public virtual bool Flush() => false;
    /// <summary>
    /// Tells the peer about frames published quietly by <see cref="Flush"/> (rings its bell if it
    /// sleeps) once it is worth a wake-up, or at once with <paramref name="force"/>; returns
    /// whether it did (false: ask again next round). <paramref name="now"/> is a Stopwatch timestamp.
    /// </summary>
    public virtual bool Notify(long now, bool force) => true;
    /// <summary>The switch is going to sleep: asks the peer to ring the switch's bell; false if frames are already waiting.</summary>
    public virtual bool PrepareSleep() => true;
    public virtual void CancelSleep() { }
    /// <summary>A descriptor to poll while the switch sleeps (-1: the switch's bell covers it).</summary>
    public virtual int PollFd => -1;
    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>A sink: counts what it is sent (the consolidation experiment's output port).</summary>
public sealed class NullPort(string name, string? mac = null) : SwitchPort(name)
{
    public override string Kind => "null";
    public override string? Mac => mac;
    public override int Poll(VSwitch sw, int max) => 0;
    public override bool TrySend(ReadOnlySpan<byte> frame) => true;
}

/// <summary>
/// The host's end of an instance's virtual port: frames from the instance's ToSwitch ring are
/// forwarded straight from its slots (then released); frames for it are copied into its
/// ToInstance ring, published once per batch. Any bad index or length shuts the port.
/// </summary>
public sealed class VifPortEnd : SwitchPort
{
    private readonly VifRegion _r;
    public override string Kind => "vif";
    public override string Mac { get; }
    /// <summary>Set by the host while the instance sleeps; a frame for it calls <see cref="Wake"/> once.</summary>
    public volatile bool Asleep;
    public Action? Wake;

    public VifPortEnd(string name, VifRegion region, string mac) : base(name)
    {
        _r = region;
        Mac = mac;
    }

    public VifRegion Region => _r;

    public override int Poll(VSwitch sw, int max)
    {
        var ring = _r.ToSwitch;
        int n = Math.Min(ring.Available(), max);
        int done = 0;
        for (; done < n; done++)
        {
            var f = ring.Peek(done);
            if (ring.Corrupt) break;
            sw.Forward(this, f);
        }
        if (done > 0) ring.Release(done);
        if (ring.Corrupt) Shut(ring.CorruptReason!);
        return done;
    }

    public override bool TrySend(ReadOnlySpan<byte> frame)
    {
        var ring = _r.ToInstance;
        if (ring.Free() == 0 || frame.Length > ring.MaxFrame)
        {
            if (ring.Corrupt) Shut(ring.CorruptReason!);
            return false;
        }
        ring.Put(frame);
        if (Asleep) WakeOnce();
        return true;
    }

    private void WakeOnce()
    {
        Asleep = false;
        if (Wake is { } w) ThreadPool.UnsafeQueueUserWorkItem(static a => a(), w, preferLocal: false);
    }

    /// <summary>Frames published since the instance was last told, and since when.</summary>
    private int UntoldFrames;
    private long UntoldSince;

    public override bool Flush()
    {
        var ring = _r.ToInstance;
        int n = ring.Unpublished;
        if (n == 0) return UntoldFrames > 0;
        // Publish now, ring later: a sleeping instance is woken once per few dozen frames (or
        // after a short delay), not once per round, when the switch spreads traffic thinly over
        // many instances.
        ring.PublishQuiet();
        if (UntoldFrames == 0) UntoldSince = System.Diagnostics.Stopwatch.GetTimestamp();
        UntoldFrames += n;
        return true;
    }

    // Interrupt coalescing toward the instance: it is told (its bell rung, if it sleeps) once
    // this many frames or this long have gathered, or when the switch has nothing else to do.
    // Frames are never held back: they are published every round; only the wake-up waits.
    public const int CoalesceFrames = 32, CoalesceMicros = 50;
    private static readonly long CoalesceTicks = System.Diagnostics.Stopwatch.Frequency * CoalesceMicros / 1_000_000;

    public override bool Notify(long now, bool force)
    {
        if (!force && UntoldFrames < CoalesceFrames && now - UntoldSince < CoalesceTicks) return false;
        UntoldFrames = 0;
        _r.ToInstance.RingIfWaiting();
        return true;
    }

    public override int Room => _r.ToInstance.Free();

    public override bool PrepareSleep() => _r.ToSwitch.PrepareSleep();
    public override void CancelSleep() => _r.ToSwitch.CancelSleep();

    private void Shut(string why)
    {
        if (ShutReason != null) return;
        ShutReason = $"corrupt ring: {why}";
        _r.Shut = true;
    }

    public override void Dispose()
    {
        _r.Dispose();
        base.Dispose();
    }
}
