using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.IO.AfPacket;
using ClickOS.IO.Linux;
using ClickOS.IO.ShmRing;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// FromDevice(DEVNAME [, keywords]): reads packets received on a Linux network interface and
/// pushes them out in batches. Packets arrive through an AF_PACKET socket's TPACKET_V3 receive
/// ring: while the ring has packets, a batch costs no system call; when it is empty the task
/// sleeps in poll(), so an idle interface costs no CPU. Needs CAP_NET_RAW.
/// Keywords: SNIFFER (bool, must be true: the kernel also sees the packets), PROMISC (bool),
/// SNAPLEN (default 2046), FORCE_IP (bool: emit only IPv4 packets, link header kept),
/// METHOD (LINUX; CAPTURE is a synonym), BPF_FILTER (ignored with a warning, as Click does
/// for LINUX capture), OUTBOUND (bool: also emit packets the host sends), HEADROOM, BURST
/// (packets per task run, default 32), QUIET (bool), TIMESTAMP (bool, default true),
/// RING_BLOCKS, RING_BLOCK_SIZE (receive ring geometry, default 64 × 128 KiB).
/// Sets the packet-type, timestamp and extra-length annotations, and the IP header for IPv4.
/// Under a ClickOS host, a DEVNAME that names one of the instance's virtual ports (vif0, …)
/// reads from that switch port's shared-memory ring instead: polled while frames flow, asleep on
/// the port's doorbell after a short idle spell. FromNetFront(N or MAC) is ClickOS's name for it.
/// Handlers: count, kernel_drops, drops (kernel and buffer-pool drops), encap, reset_counts.
/// </summary>
/// <example>FromDevice(lo, SNAPLEN 96) -> c :: Counter -> Discard; Script(wait 0.1, stop);</example>
public sealed class FromDevice : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Input;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _bytes;

    private string _dev = "";
    private RxOptions _opts;
    private int _burst = 32;
    private bool _timestamp = true;
    private RxRing? _ring;
    private VifPort? _vif;
    private int _idlePolls;
    private Task? _task;
    private long _count, _bytes;

    public override string PortCount => "0/1";
    public override string Processing => "h/h";
    public override int ConfigurePhaseValue => ConfigurePhase.PrivilegedFirst - 1;
    public string DeviceName => _dev;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var dev = a.ReadMP("DEVNAME", Args.String);
        var sniffer = a.Read("SNIFFER", Args.Bool, true);
        var promisc = a.Read("PROMISC", Args.Bool, false);
        var snaplen = a.Read("SNAPLEN", Args.Unsigned, 2046);
        var forceIp = a.Read("FORCE_IP", Args.Bool, false);
        var method = a.Read("METHOD", Args.Word, "LINUX");
        var capture = a.Read("CAPTURE", Args.Word, "");
        var bpf = a.Read("BPF_FILTER", Args.String, "");
        var outbound = a.Read("OUTBOUND", Args.Bool, false);
        var headroom = a.Read("HEADROOM", Args.Unsigned, PacketPool.DefaultHeadroom);
        var burst = a.Read("BURST", Args.Unsigned, 32);
        a.Read("QUIET", Args.Bool, false);
        var timestamp = a.Read("TIMESTAMP", Args.Bool, true);
        a.Read("ENCAP", Args.Word, "");
        var blocks = a.Read("RING_BLOCKS", Args.Unsigned, 64);
        var blockSize = a.Read("RING_BLOCK_SIZE", Args.Unsigned, 1 << 17);
        if (!a.Complete()) return false;
        string m = (capture.Present ? capture.Value : method.Value).ToUpperInvariant();
        bool ok = true;
        if (m != "LINUX")
            ok = errh.Error($"METHOD {m} is not supported (this build reads interfaces with LINUX packet sockets)");
        if (!sniffer)
            ok = errh.Error("SNIFFER false is not supported: the kernel always sees the packets too");
        if (snaplen.Value < 14 || snaplen.Value > 65535) ok = errh.Error("SNAPLEN out of range");
        if (burst.Value < 1 || burst.Value > PacketBatch.MaxSize) ok = errh.Error($"BURST must be between 1 and {PacketBatch.MaxSize}");
        if (blockSize.Value < 4096 || (blockSize.Value & (blockSize.Value - 1)) != 0) ok = errh.Error("RING_BLOCK_SIZE must be a power of two, at least 4096");
        if (blocks.Value < 2) ok = errh.Error("RING_BLOCKS must be at least 2");
        if (!ok) return false;
        if (bpf.Value.Length > 0) errh.Warning("BPF_FILTER ignored: filtering happens in the configuration with LINUX capture");
        _dev = dev;
        _burst = burst;
        _timestamp = timestamp;
        _opts = new RxOptions(snaplen, promisc, outbound, headroom, forceIp, blockSize, blocks);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (VifPort.Locate(Host, _dev) is { } vifPath)
        {
            _vif = VifPort.Open(vifPath, errh);
            if (_vif == null) return false;
            _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
            Host.AddSelect(_vif.FramesFd, Wake);
            return true;
        }
        if (ClassName == "FromNetFront") return errh.Error($"no virtual port '{_dev}' (FromNetFront needs a ClickOS host's switch port)");
        _ring = RxRing.Open(_dev, _opts, errh);
        if (_ring == null) return false;
        _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
        Host.AddSelect(_ring.Fd, Wake);
        return true;
    }

    private void Wake() => _task?.Reschedule();

    public bool RunTask(Task task)
    {
        if (_vif != null) return RunVif(task, _vif);
        var ring = _ring;
        if (ring == null) return false;
        var b = Host.Batches.Rent();
        int n = ring.Receive(Host.Pool, b, _burst);
        if (n == 0)
        {
            // Empty ring: sleep until poll() reports a block.
            Host.Batches.Return(b);
            return false;
        }
        _count += n;
        _bytes += TrafficBytes.Sum(b.Packets);
        if (!_timestamp)
            foreach (var p in b.Packets) p.TimestampNs = 0;
        Output(0, b);
        task.FastReschedule();
        return true;
    }

    // Busy-poll while frames flow; after this many empty polls, sleep on the doorbell.
    private const int SpinPolls = 64;

    private bool RunVif(Task task, VifPort vif)
    {
        var b = Host.Batches.Rent();
        int n = vif.Receive(Host.Pool, b, _burst, _opts.Headroom, _timestamp ? Host.Clock.NowNs : 0);
        if (n == 0)
        {
            Host.Batches.Return(b);
            if (++_idlePolls < SpinPolls || !vif.PrepareSleep()) task.FastReschedule();
            return false;
        }
        _idlePolls = 0;
        _count += n;
        _bytes += TrafficBytes.Sum(b.Packets);
        Output(0, b);
        task.FastReschedule();
        return true;
    }

    public override void Cleanup()
    {
        if (_vif != null)
        {
            Host.RemoveSelect(_vif.FramesFd);
            _vif.Dispose();
            _vif = null;
        }
        if (_ring != null)
        {
            Host.RemoveSelect(_ring.Fd);
            _ring.Dispose();
            _ring = null;
        }
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddReadHandler("kernel_drops", () => (_ring?.KernelDrops ?? 0).ToString(ElementUtil.Inv));
        AddReadHandler("drops", () => ((_ring?.KernelDrops ?? 0) + (_ring?.PoolDrops ?? 0) + (_vif?.PoolDrops ?? 0)).ToString(ElementUtil.Inv));
        AddReadHandler("encap", () => _vif != null ? "ETHER" : InterfaceInfo.EncapName(_ring?.HardwareType ?? 0));
        AddButton("reset_counts", () => _count = 0);
    }
}
