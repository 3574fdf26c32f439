using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ClickOS.IO.ShmRing;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Host.Switch;

/// <summary>
/// The host's software switch (VALE-like): a learning Ethernet switch between instances'
/// virtual ports, NIC ports and sinks, run by one forwarding thread.
/// <list type="bullet">
/// <item>Batched and copying: frames go from a source ring's slots straight into the
/// destination's ring; each destination is published once per round. An instance never sees
/// another's memory.</item>
/// <item>Fair: each round takes at most <see cref="Quota"/> frames from each port, starting at
/// a rotating port, so a port that floods gets its share and no more.</item>
/// <item>Learning: source MACs map to ports; unknown unicast, multicast and broadcast go to every
/// other learning port (never back out of the port they came in on: one switch has no loops).</item>
/// <item>Static chains: two ports joined as a wire (A:vif1 ↔ B:vif0) take no part in learning or
/// flooding: everything one receives goes to the other, and only as much as the other end has
/// room for (a lossless wire: a slow instance backpressures the one before it).</item>
/// <item>Bounded: a full destination ring drops the frame and counts it on that port.</item>
/// <item>Adaptive: busy-polls while frames flow; after an idle spell (200 us) every port is asked
/// to ring the switch's bell and the thread sleeps in poll(), so an idle switch costs no CPU.</item>
/// </list>
/// </summary>
public sealed class VSwitch : IDisposable
{
    public const int Quota = 64;
    private const int MaxMacs = 1 << 16;

    private readonly object _gate = new();
    private SwitchPort[] _ports = [];
    private readonly Dictionary<ulong, SwitchPort> _macs = [];
    // Ports' own addresses: learning never moves them, and a full table keeps them.
    private readonly Dictionary<ulong, SwitchPort> _static = [];
    private readonly List<SwitchPort> _dirty = [];
    private readonly Thread _thread;
    private readonly int _wakeFd;
    private volatile bool _stopping;
    private int _start;
    public Doorbell Bell { get; }
    public long Rounds, Sleeps;

    /// <param name="bellPath">The FIFO that instances ring to wake the switch (on tmpfs, next to the ports).</param>
    public VSwitch(string bellPath)
    {
        Bell = Doorbell.Create(bellPath, out string? error) ?? throw new IOException(error);
        _wakeFd = Posix.CreateEventFd();
        _thread = new Thread(Run) { IsBackground = true, Name = "clickos-switch" };
    }

    public void Start() => _thread.Start();

    /// <summary>The forwarding thread's nice value (when permitted).</summary>
    public const int SwitchNice = -10;

    public IReadOnlyList<SwitchPort> Ports
    {
        get { lock (_gate) return [.. _ports]; }
    }

    public SwitchPort? Find(string name)
    {
        lock (_gate) return Array.Find(_ports, p => p.Name == name);
    }

    public void Add(SwitchPort port)
    {
        lock (_gate)
        {
            if (Array.Exists(_ports, p => p.Name == port.Name)) throw new InvalidOperationException($"a port named '{port.Name}' exists");
            ulong mac = 0;
            if (port.Mac is { } text && !TryParseMac(text, out mac)) throw new ArgumentException($"'{text}' is not a MAC address");
            if (port.Mac != null && _static.TryGetValue(mac, out var owner)) throw new InvalidOperationException($"MAC {port.Mac} belongs to port '{owner.Name}'");
            _ports = [.. _ports, port];
            if (port.Mac != null) _static[mac] = _macs[mac] = port;
        }
        Kick();
    }

    /// <summary>Takes a port out (its chain is undone, its MACs forgotten) and disposes it; the switch keeps running.</summary>
    public bool Remove(string name)
    {
        SwitchPort? port;
        lock (_gate)
        {
            port = Array.Find(_ports, p => p.Name == name);
            if (port == null) return false;
            if (port.ChainedTo is { } other) other.ChainedTo = null;
            port.ChainedTo = null;
            _ports = Array.FindAll(_ports, p => p != port);
            foreach (var k in _macs.Where(kv => kv.Value == port).Select(kv => kv.Key).ToList()) _macs.Remove(k);
            foreach (var k in _static.Where(kv => kv.Value == port).Select(kv => kv.Key).ToList()) _static.Remove(k);
            _dirty.Remove(port);
            _untold.Remove(port);
        }
        port.Dispose();
        return true;
    }

    /// <summary>Joins two ports as a wire (service chaining); both leave the learning domain.</summary>
    public void Chain(string a, string b)
    {
        lock (_gate)
        {
            var pa = Array.Find(_ports, p => p.Name == a) ?? throw new KeyNotFoundException($"no port '{a}'");
            var pb = Array.Find(_ports, p => p.Name == b) ?? throw new KeyNotFoundException($"no port '{b}'");
            if (pa == pb) throw new InvalidOperationException("a port cannot be chained to itself");
            if (pa.ChainedTo != null || pb.ChainedTo != null) throw new InvalidOperationException($"'{(pa.ChainedTo != null ? a : b)}' is already chained");
            pa.ChainedTo = pb;
            pb.ChainedTo = pa;
            foreach (var k in _macs.Where(kv => (kv.Value == pa || kv.Value == pb) && !_static.ContainsKey(kv.Key)).Select(kv => kv.Key).ToList()) _macs.Remove(k);
        }
    }

    public bool Unchain(string a)
    {
        lock (_gate)
        {
            var pa = Array.Find(_ports, p => p.Name == a);
            if (pa?.ChainedTo is not { } pb) return false;
            pa.ChainedTo = null;
            pb.ChainedTo = null;
            return true;
        }
    }

    /// <summary>Addresses learned from traffic (ports' own addresses not included).</summary>
    public int MacCount
    {
        get { lock (_gate) return _macs.Count - _static.Count; }
    }

    /// <summary>Ports' own addresses, known from the start.</summary>
    public int StaticMacCount
    {
        get { lock (_gate) return _static.Count; }
    }

    private void Kick() => Posix.SignalEventFd(_wakeFd);

    // How long the switch keeps polling after the last frame before it sleeps: longer than the
    // time a producer that waits for room takes to be woken and refill its ring, so a busy
    // port's refill does not find the switch asleep (which costs a second wake-up per cycle).
    private static readonly long IdleSpinTicks = System.Diagnostics.Stopwatch.Frequency / 5_000; // 200 us

    private void Run()
    {
        // Every instance's traffic waits on this one thread: when cores are short it should win
        // over the instances' own threads, or producers refill rings the switch cannot drain.
        // Best effort: it needs CAP_SYS_NICE (root has it).
        Native.SetThreadNice(SwitchNice);
        long idleSince = 0;
        while (!_stopping)
        {
            int moved;
            lock (_gate) moved = Round();
            if (moved > 0)
            {
                idleSince = 0;
                continue;
            }
            long now = System.Diagnostics.Stopwatch.GetTimestamp();
            if (idleSince == 0) idleSince = now;
            // No sched_yield here: on a busy machine it hands the core to a spinning thread for
            // a whole slice, and the frames that arrive meanwhile wait.
            if (now - idleSince < IdleSpinTicks)
            {
                Thread.SpinWait(16);
                continue;
            }
            // Woken by a bell: poll a while for the traffic that follows. Woken by the
            // housekeeping timeout with nothing to do: straight back to sleep.
            idleSince = Sleep() ? 0 : now - IdleSpinTicks;
        }
    }

    /// <summary>One pass over every port, at most <see cref="Quota"/> frames each; then one publication per destination.</summary>
    private int Round()
    {
        var ports = _ports;
        int n = ports.Length, moved = 0;
        if (n == 0) return 0;
        int start = _start = (_start + 1) % n;
        for (int k = 0; k < n; k++)
        {
            var p = ports[(start + k) % n];
            if (p.ShutReason != null) continue;
            // A chain is a lossless wire: take no more than the other end has room for; the
            // rest waits in the source's ring, and the upstream instance feels the backpressure.
            int max = p.ChainedTo is { } wire ? Math.Min(Quota, wire.Room) : Quota;
            if (max > 0) moved += p.Poll(this, max);
        }
        foreach (var d in _dirty)
        {
            d.Dirty = false;
            if (d.Flush() && !d.Untold)
            {
                d.Untold = true;
                _untold.Add(d);
            }
        }
        _dirty.Clear();
        if (_untold.Count > 0) NotifyDue(moved == 0);
        Rounds++;
        return moved;
    }

    // Ports that published frames their peer has not been told of yet (see SwitchPort.Notify).
    private readonly List<SwitchPort> _untold = [];

    private void NotifyDue(bool idle)
    {
        long now = idle ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
        for (int i = _untold.Count - 1; i >= 0; i--)
        {
            var p = _untold[i];
            if (!p.Notify(now, force: idle)) continue;
            p.Untold = false;
            _untold.RemoveAt(i);
        }
    }

    /// <summary>Switches one frame from <paramref name="src"/> (called by ports during a round).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Forward(SwitchPort src, ReadOnlySpan<byte> frame)
    {
        var c = src.Counters;
        if (frame.Length < 14)
        {
            c.Errors++;
            return;
        }
        c.RxPackets++;
        c.RxBytes += frame.Length;
        if (src.ChainedTo is { } wire)
        {
            Deliver(wire, frame);
            return;
        }
        ulong dst = Mac(frame), srcMac = Mac(frame[6..]);
        if ((srcMac & GroupBit) == 0) Learn(srcMac, src);
        if ((dst & GroupBit) == 0 && _macs.TryGetValue(dst, out var to))
        {
            if (to != src) Deliver(to, frame);
            return;
        }
        Flood(src, frame);
    }

    /// <summary>A MAC address as Click writes it (Values.ParseEther), as the switch's 48-bit key.</summary>
    public static bool TryParseMac(string text, out ulong mac)
    {
        mac = 0;
        if (!Values.ParseEther(text, out var b) || b.Length != 6) return false;
        foreach (byte x in b) mac = (mac << 8) | x;
        return true;
    }

    // The first octet's low bit (multicast/broadcast), in the big-endian 48-bit value.
    private const ulong GroupBit = 1UL << 40;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mac(ReadOnlySpan<byte> b) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(b) << 32) | BinaryPrimitives.ReadUInt32BigEndian(b[2..]);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Learn(ulong mac, SwitchPort port)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_macs, mac, out bool exists);
        if (exists && slot == port) return;
        if (exists && _static.ContainsKey(mac)) return; // a port's own address is not learned elsewhere
        slot = port;
        if (!exists && _macs.Count > MaxMacs) ForgetAll(mac, port);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ForgetAll(ulong keep, SwitchPort port)
    {
        _macs.Clear();
        foreach (var kv in _static) _macs[kv.Key] = kv.Value;
        _macs[keep] = port;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Flood(SwitchPort src, ReadOnlySpan<byte> frame)
    {
        foreach (var p in _ports)
            if (p != src && p.ChainedTo == null && p.ShutReason == null) Deliver(p, frame);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Deliver(SwitchPort to, ReadOnlySpan<byte> frame)
    {
        var c = to.Counters;
        if (to.TrySend(frame))
        {
            c.TxPackets++;
            c.TxBytes += frame.Length;
            if (!to.Dirty)
            {
                to.Dirty = true;
                _dirty.Add(to);
            }
        }
        else c.Drops++;
    }

    /// <returns>Whether something woke the switch before the timeout.</returns>
    private unsafe bool Sleep()
    {
        SwitchPort[] ports;
        lock (_gate)
        {
            ports = _ports;
            for (int i = 0; i < ports.Length; i++)
            {
                if (ports[i].ShutReason == null && !ports[i].PrepareSleep())
                {
                    for (int k = 0; k <= i; k++) ports[k].CancelSleep();
                    return true;
                }
            }
        }
        var fds = new List<Posix.PollFd>(ports.Length + 2)
        {
            new() { Fd = Bell.Fd, Events = Posix.POLLIN },
            new() { Fd = _wakeFd, Events = Posix.POLLIN },
        };
        foreach (var p in ports)
            if (p.PollFd >= 0) fds.Add(new Posix.PollFd { Fd = p.PollFd, Events = Posix.POLLIN });
        var arr = fds.ToArray();
        Sleeps++;
        int r;
        fixed (Posix.PollFd* f = arr) r = Posix.PollNs(f, (nuint)arr.Length, 100_000_000);
        Bell.Drain();
        Posix.DrainEventFd(_wakeFd);
        // The current ports: one removed meanwhile is already unmapped.
        lock (_gate)
            foreach (var p in _ports) p.CancelSleep();
        // Only a descriptor counts as a wake-up: an interrupted ppoll (EINTR: the runtime's
        // thread suspension for a GC) is not traffic and starts no spin spell.
        return r > 0;
    }

    /// <summary>Stops the forwarding thread (bounded: it sleeps at most 100 ms) and disposes every port.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        Kick();
        if (_thread.IsAlive && !_thread.Join(TimeSpan.FromSeconds(5)))
            throw new TimeoutException("the switch thread did not stop");
        lock (_gate)
        {
            foreach (var p in _ports) p.Dispose();
            _ports = [];
        }
        // The bell's FIFO stays: instances that outlive the host keep ringing it, and the next
        // host opens the same one.
        Bell.Dispose();
        Posix.close(_wakeFd);
    }
}
