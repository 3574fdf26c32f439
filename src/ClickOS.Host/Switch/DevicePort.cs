using ClickOS.IO.Frames;

namespace ClickOS.Host.Switch;

/// <summary>
/// A switch port on a kernel interface: a real NIC or veth through AF_PACKET
/// (<see cref="NicPort"/>), or a TAP interface the host creates (<see cref="TapPort"/>).
/// Received frames go to <see cref="VSwitch.Forward"/> straight from the kernel's ring;
/// frames to send are copied into the device's queue and sent together when the round ends.
/// </summary>
public abstract class DevicePort : SwitchPort
{
    private readonly FrameDevice _dev;
    private readonly string? _mac;

    protected DevicePort(string name, FrameDevice dev, string? mac) : base(name)
    {
        _dev = dev;
        _mac = mac;
    }

    /// <summary>The kernel interface's name.</summary>
    public string Device => _dev.Name;
    public override string? Mac => _mac;
    public long KernelDrops => _dev.KernelDrops;
    public override int PollFd => _dev.Fd;

    private struct Sink(VSwitch sw, SwitchPort port) : IFrameSink
    {
        public readonly void Frame(ReadOnlySpan<byte> frame) => sw.Forward(port, frame);
    }

    public override int Poll(VSwitch sw, int max)
    {
        var sink = new Sink(sw, this);
        return _dev.Receive(ref sink, max);
    }

    public override bool TrySend(ReadOnlySpan<byte> frame) => _dev.Queue(frame);

    public override int Room => FrameDevice.QueueSlots - _dev.Queued;

    public override bool Flush()
    {
        // The kernel refusing a frame (its queue full) is a drop on this port, after the fact.
        int refused = _dev.Flush(out long bytes);
        if (refused > 0)
        {
            Counters.Drops += refused;
            Counters.TxPackets -= refused;
            Counters.TxBytes -= bytes;
        }
        return false;
    }

    public override void Dispose()
    {
        _dev.Dispose();
        base.Dispose();
    }
}

/// <summary>A NIC (or veth) port: AF_PACKET in promiscuous mode. Needs CAP_NET_RAW.</summary>
public sealed class NicPort : DevicePort
{
    public override string Kind => "nic";

    public NicPort(string name, string device, string? mac = null)
        : base(name, NicFrames.Open(device, out string? error) ?? throw new IOException($"NIC port {name}: {error}"), mac) { }
}

/// <summary>A TAP port: a new TAP interface on the host, so the host's own stack is on the switch. Needs CAP_NET_ADMIN.</summary>
public sealed class TapPort : DevicePort
{
    public override string Kind => "tap";

    public TapPort(string name, string device, string? mac = null)
        : base(name, TapFrames.Open(device, 1500, out string? error) ?? throw new IOException($"TAP port {name}: {error}"), mac) { }
}
