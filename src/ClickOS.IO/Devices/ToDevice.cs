using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.IO.AfPacket;
using ClickOS.IO.Linux;
using ClickOS.IO.ShmRing;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// ToDevice(DEVNAME [, keywords]): sends packets (with their link-level header) out of a Linux
/// network interface. Each batch goes to the kernel in one sendmmsg() call on an AF_PACKET
/// socket, straight from the packets' buffers (METHOD LINUX, the default), or is copied onto
/// the TX ring of an AF_XDP socket in copy mode (METHOD XDP: about 30% less CPU per packet on veth,
/// but the frames skip the qdisc and the sending interface's packet taps, and one AF_XDP
/// socket per interface queue may exist). Works push or pull; when pulling, it sleeps on
/// its upstream notifier while the queue is empty, so an idle interface costs no CPU.
/// Packets the kernel refuses go out the optional output 0 (with SEND_ERR set when
/// SET_ERROR_ANNO is true) or are dropped and counted. Needs CAP_NET_RAW.
/// Keywords: BURST (packets per pull, default 32), QUIET (bool: no error messages),
/// SET_ERROR_ANNO (bool), IGNORE_QUEUE_OVERFLOWS (bool: report a full queue once), METHOD (LINUX or XDP),
/// QUEUE (the interface's transmit queue for METHOD XDP, default 0).
/// Handlers: count, drops, reset_counts.
/// Under a ClickOS host, a DEVNAME that names one of the instance's virtual ports (vif0, …)
/// copies each batch into that switch port's shared-memory ring and publishes it once; a full
/// ring is a full device queue (pull: the rest waits, and the task sleeps until the switch makes
/// room). ToNetFront(N or MAC) is ClickOS's name for it.
/// </summary>
/// <example>FromDevice(lo) -> Queue -> ToDevice(lo, BURST 64); Script(wait 0.1, stop);</example>
public sealed class ToDevice : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Output;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _bytes;

    private string _dev = "";
    private int _burst = 32;
    private bool _quiet, _setErrorAnno, _ignoreOverflows, _reportedOverflow;
    private IDeviceSender? _tx;
    private bool _xdp;
    private int _queue;
    private VifPort? _vif;
    private Task? _task;
    private NotifierSignal _signal;
    private PacketBatch? _pending;
    private long _count, _drops, _bytes;
    private int _lastErrno;
    private ulong _drainedSeen;
    private int _stalls;
    private const int SpaceStallPolls = 64;

    public override string PortCount => "1/0-1";
    public override string Processing => "a/h";
    public override int ConfigurePhaseValue => ConfigurePhase.PrivilegedFirst;
    public string DeviceName => _dev;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var dev = a.ReadMP("DEVNAME", Args.String);
        var burst = a.Read("BURST", Args.Unsigned, 32);
        var quiet = a.Read("QUIET", Args.Bool, false);
        var sea = a.Read("SET_ERROR_ANNO", Args.Bool, false);
        var iqo = a.Read("IGNORE_QUEUE_OVERFLOWS", Args.Bool, false);
        var method = a.Read("METHOD", Args.Word, "LINUX");
        var queue = a.Read("QUEUE", Args.Unsigned, 0);
        a.Read("DEBUG", Args.Bool, false);
        if (!a.Complete()) return false;
        var m = method.Value.ToUpperInvariant();
        if (m is not ("LINUX" or "XDP"))
            return errh.Error($"METHOD {m} is not supported (this build sends with LINUX packet sockets or XDP sockets)");
        if (queue.Present && m != "XDP") return errh.Error("QUEUE needs METHOD XDP (LINUX sockets let the kernel pick the queue)");
        if (burst.Value < 1 || burst.Value > PacketBatch.MaxSize) return errh.Error($"BURST must be between 1 and {PacketBatch.MaxSize}");
        _dev = dev;
        _burst = burst;
        _quiet = quiet;
        _setErrorAnno = sea;
        _ignoreOverflows = iqo;
        _xdp = m == "XDP";
        _queue = queue;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (VifPort.Locate(Host, _dev) is { } vifPath)
        {
            _vif = VifPort.Open(vifPath, errh);
            if (_vif == null) return false;
        }
        else if (ClassName == "ToNetFront") return errh.Error($"no virtual port '{_dev}' (ToNetFront needs a ClickOS host's switch port)");
        else
        {
            _tx = _xdp ? XdpTx.Open(_dev, _queue, errh) : TxSocket.Open(_dev, errh);
            if (_tx == null) return false;
        }
        if (InputIsPull(0))
        {
            _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
            _signal = Host.UpstreamEmptySignal(this, 0, _task);
            if (_vif != null) Host.AddSelect(_vif.SpaceFd, () => { _vif?.DrainSpace(); _task?.Reschedule(); });
        }
        return true;
    }

    public override void Push(int port, PacketBatch batch) => Send(batch, holdOnOverflow: false);

    public bool RunTask(Task task)
    {
        bool worked = false;
        if (_pending != null)
        {
            var p = _pending;
            _pending = null;
            Send(p, holdOnOverflow: true);
            if (_pending != null)
            {
                // A full switch ring. While the switch is visibly draining it (its index moved
                // since the last look), keep going: the room comes within microseconds, and a
                // sleep would cost a wake-up per half ring. Once it stops moving for a while
                // (the switch is busy with other ports), sleep until it rings.
                if (_vif != null && _vif.DrainedSeen != _drainedSeen)
                {
                    _drainedSeen = _vif.DrainedSeen;
                    _stalls = 0;
                }
                if (_vif == null || ++_stalls < SpaceStallPolls || !_vif.PrepareWaitForSpace()) task.FastReschedule();
                return false;
            }
            _stalls = 0;
            worked = true;
        }
        var b = Input(0, _burst);
        if (b != null)
        {
            Send(b, holdOnOverflow: true);
            worked = true;
        }
        if (_pending != null || b != null || _signal.Active) task.FastReschedule();
        return worked;
    }

    /// <summary>Sends the whole batch. With <paramref name="holdOnOverflow"/>, packets refused for a full device queue wait in <c>_pending</c>.</summary>
    private void Send(PacketBatch batch, bool holdOnOverflow)
    {
        var tx = _tx;
        var vif = _vif;
        if (tx == null && vif == null) { Drop(batch); return; }
        var pk = batch.Packets;
        int i = 0;
        while (i < pk.Length)
        {
            int errno;
            int n = vif != null ? vif.Send(pk[i..], out errno) : tx!.Send(pk[i..], out errno);
            for (int k = i; k < i + n; k++)
            {
                _bytes += pk[k].Length;
                pk[k].Kill();
            }
            _count += n;
            i += n;
            if (i >= pk.Length || errno == 0) continue;
            bool overflow = errno is Native.EAGAIN or Native.ENOBUFS;
            if (overflow && holdOnOverflow)
            {
                // Keep the rest in order for the next run; the device queue drains meanwhile.
                int rest = 0;
                for (int k = i; k < pk.Length; k++) pk[rest++] = pk[k];
                batch.SetCount(rest);
                _pending = batch;
                return;
            }
            int failEnd = overflow ? pk.Length : i + 1; // a full queue refuses the rest too
            for (int k = i; k < failEnd; k++) Refuse(pk[k], errno, overflow);
            i = failEnd;
        }
        batch.Clear();
        Host.Batches.Return(batch);
    }

    private void Refuse(Packet p, int errno, bool overflow)
    {
        _drops++;
        if (!_quiet && (errno != _lastErrno || !overflow) && !(overflow && _ignoreOverflows && _reportedOverflow))
        {
            Host.RuntimeErrors.Error($"{Declaration}: {Native.StrError(errno)}");
            if (overflow) _reportedOverflow = true;
        }
        _lastErrno = errno;
        if (_setErrorAnno) p.SetAnnoU8(AnnoOffsets.SendErr, (byte)Math.Min(errno, 255));
        if (NOutputs > 0) OutputOne(0, p);
        else p.Kill();
    }

    public override void Cleanup()
    {
        _pending?.KillAll();
        _pending = null;
        _tx?.Dispose();
        _tx = null;
        if (_vif != null)
        {
            if (_task != null) Host.RemoveSelect(_vif.SpaceFd);
            _vif.Dispose();
            _vif = null;
        }
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
        AddButton("reset_counts", () => { _count = 0; _drops = 0; });
    }
}
