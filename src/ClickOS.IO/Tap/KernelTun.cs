using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.IO.Tap;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// KernelTun(ADDR/MASK [, GATEWAY, HEADROOM] [, keywords]): creates a Linux TUN interface whose
/// kernel-side address is ADDR/MASK and exchanges IP packets with the host's network stack.
/// Packets pushed or pulled into input 0 go to the kernel; packets the kernel routes to the
/// interface come out of output 0 with their IP header annotation set (non-IPv4 packets go to
/// output 1 if it exists, else are dropped). The interface is removed when the router stops.
/// Needs CAP_NET_ADMIN.
/// Keywords: DEVNAME (interface name, default chosen by the kernel), MTU (default 2048),
/// HEADROOM (default 28), BURST (packets per task run, default 32), IGNORE_QUEUE_OVERFLOWS (bool),
/// TAP (bool: behave as KernelTap).
/// Handlers: dev_name, count (packets from the kernel), drops.
/// </summary>
/// <example>tun :: KernelTun(192.0.2.1/24) -> ICMPPingResponder -> tun; Script(wait 0.1, stop);</example>
public class KernelTun : Element, ITaskCallback
{
    private bool _tap;
    private string _requestedName = "";
    private uint _addr, _mask, _gateway;
    private int _mtu = 2048, _headroom = PacketPool.DefaultHeadroom, _burst = 32;
    private byte[]? _ether;
    private bool _ignoreOverflows, _reported;
    private TunDevice? _dev;
    private Task? _task, _pullTask;
    private NotifierSignal _signal;
    private byte[] _scratch = [];
    private long _count, _drops;

    protected virtual bool IsTap => false;
    public override string PortCount => "0-1/1-2";
    public override string Processing => "a/h";
    public string DeviceName => _dev?.Name ?? _requestedName;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var prefix = a.ReadMP("ADDR", Args.IPPrefix);
        var gw = a.ReadP("GATEWAY", Args.IPAddress, 0u);
        var headroom = a.ReadP("HEADROOM", Args.Unsigned, PacketPool.DefaultHeadroom);
        var ether = a.Read("ETHER", Args.EtherAddress, null!);
        var mtu = a.Read("MTU", Args.Unsigned, 2048);
        var dev = a.Read("DEVNAME", Args.String, "");
        var dev2 = a.Read("DEV_NAME", Args.String, "");
        var iqo = a.Read("IGNORE_QUEUE_OVERFLOWS", Args.Bool, false);
        var burst = a.Read("BURST", Args.Unsigned, 32);
        var tap = a.Read("TAP", Args.Bool, IsTap);
        if (!a.Complete()) return false;
        if (mtu.Value < 68 || mtu.Value > 65535) return errh.Error("MTU out of range");
        if (burst.Value < 1 || burst.Value > PacketBatch.MaxSize) return errh.Error($"BURST must be between 1 and {PacketBatch.MaxSize}");
        if (ether.Present && !tap) return errh.Error("ETHER is only meaningful for TAP devices");
        _addr = prefix.Value.Addr;
        _mask = prefix.Value.Mask;
        _gateway = gw;
        _headroom = headroom;
        _ether = ether.Present ? ether.Value : null;
        _mtu = mtu;
        _requestedName = dev2.Present ? dev2.Value : dev.Value;
        _ignoreOverflows = iqo;
        _burst = burst;
        _tap = tap;
        if (_gateway != 0 && (_gateway & _mask) != (_addr & _mask))
            return errh.Error("GATEWAY must be on the interface's network");
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _dev = TunDevice.Open(_tap, _requestedName, _addr, _mask, _mtu, _ether, _gateway, errh);
        if (_dev == null) return false;
        _scratch = new byte[_mtu + 64];
        _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
        Host.AddSelect(_dev.Fd, () => _task?.Reschedule());
        if (NInputs > 0 && InputIsPull(0))
        {
            _pullTask = CreateTask(new PullTask(this), true, ScheduleInfo.TicketsFor(Host, this));
            _signal = Host.UpstreamEmptySignal(this, 0, _pullTask);
        }
        return true;
    }

    // Reading from the kernel: one read() per packet (TUN has no batched read), up to BURST per run.
    public bool RunTask(Task task)
    {
        var dev = _dev;
        if (dev == null) return false;
        PacketBatch? good = null, bad = null;
        int n;
        for (n = 0; n < _burst; n++)
        {
            int len = dev.Read(_scratch);
            if (len <= 0)
            {
                if (len < 0) ReportError("read", -len);
                break;
            }
            var p = Host.Pool.Make(_scratch.AsSpan(0, len), _headroom);
            if (p == null) { _drops++; continue; }
            p.TimestampNs = Host.Clock.NowNs;
            _count++;
            if (Classify(p)) (good ??= Host.Batches.Rent()).Add(p);
            else if (NOutputs > 1) (bad ??= Host.Batches.Rent()).Add(p);
            else { _drops++; p.Kill(); }
        }
        if (good != null) Output(0, good);
        if (bad != null) Output(1, bad);
        if (n == _burst) task.FastReschedule();
        return n > 0;
    }

    private bool Classify(Packet p)
    {
        var d = p.Data;
        int ip = 0;
        if (_tap)
        {
            p.SetMacHeader(0);
            if (d.Length < 14) return false;
            if (BinaryPrimitives.ReadUInt16BigEndian(d[12..]) != 0x0800) return true; // ARP etc.: the config handles them
            ip = 14;
        }
        if (d.Length < ip + 20 || (d[ip] >> 4) != 4) return _tap;
        p.SetNetworkHeader(ip, Math.Max((d[ip] & 0x0F) * 4, 20));
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        Write(batch);
        batch.KillAll();
        Host.Batches.Return(batch);
    }

    private void Write(PacketBatch batch)
    {
        var dev = _dev;
        if (dev == null) return;
        foreach (var p in batch.Packets)
        {
            int e = dev.Write(p.Data);
            if (e != 0) { _drops++; ReportError("write", e); }
        }
    }

    private sealed class PullTask(KernelTun owner) : ITaskCallback
    {
        public bool RunTask(Task task)
        {
            var b = owner.Input(0, owner._burst);
            if (b != null) owner.Push(0, b);
            if (b != null || owner._signal.Active) task.FastReschedule();
            return b != null;
        }
    }

    private void ReportError(string what, int errno)
    {
        bool overflow = errno is Linux.Native.ENOBUFS or Linux.Native.EAGAIN;
        if (overflow && _ignoreOverflows && _reported) return;
        if (overflow) _reported = true;
        Host.RuntimeErrors.Error($"{Declaration}: {what}: {Linux.Native.StrError(errno)}");
    }

    public override void Cleanup()
    {
        if (_dev != null)
        {
            Host.RemoveSelect(_dev.Fd);
            _dev.Dispose();
            _dev = null;
        }
    }

    public override void AddHandlers()
    {
        AddReadHandler("dev_name", () => DeviceName);
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
    }
}

/// <summary>
/// KernelTap(ADDR/MASK [, GATEWAY, HEADROOM] [, keywords]): like KernelTun, but a TAP interface
/// that exchanges Ethernet frames. The kernel sends ARP queries to it; answer them (for example
/// with ARPResponder) to receive IP packets. Keywords as KernelTun, plus ETHER (the interface's
/// Ethernet address).
/// Handlers: dev_name, count, drops.
/// </summary>
/// <example>tap :: KernelTap(192.0.2.1/24, ETHER 02:00:00:00:00:01) -> Discard; Idle -> tap; Script(wait 0.1, stop);</example>
public sealed class KernelTap : KernelTun
{
    protected override bool IsTap => true;
}
