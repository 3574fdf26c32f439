using System.Runtime.InteropServices;
using ClickOS.Core;
using ClickOS.IO.AfPacket;
using ClickOS.IO.Linux;
using ClickOS.IO.Tap;

namespace ClickOS.IO.Frames;

/// <summary>Takes frames from a receive path; the span is valid only during the call.</summary>
public interface IFrameSink
{
    void Frame(ReadOnlySpan<byte> frame);
}

/// <summary>
/// Raw Ethernet frames in and out of a kernel interface, for the host's switch (no packet
/// buffers, no Click elements). Frames to send are copied into a fixed native queue and go to
/// the kernel together on <see cref="Flush"/>; a full queue refuses more (the switch counts a drop).
/// </summary>
public abstract unsafe class FrameDevice : IDisposable
{
    public const int SlotSize = 2048, QueueSlots = 256;
    private byte* _buf;
    private protected int _queued;
    private protected Native.IoVec* _iov;
    public long KernelDrops { get; protected set; }
    /// <summary>Readable when frames are waiting (for poll()).</summary>
    public abstract int Fd { get; }
    public abstract string Name { get; }

    protected FrameDevice()
    {
        _buf = (byte*)NativeMemory.AlignedAlloc(SlotSize * QueueSlots, 64);
        _iov = (Native.IoVec*)NativeMemory.AllocZeroed((nuint)(QueueSlots * sizeof(Native.IoVec)));
        for (int i = 0; i < QueueSlots; i++) _iov[i].Base = _buf + i * SlotSize;
    }

    /// <summary>Hands up to <paramref name="max"/> received frames to <paramref name="sink"/>; returns how many.</summary>
    public abstract int Receive<T>(ref T sink, int max) where T : struct, IFrameSink;

    /// <summary>Copies a frame into the send queue; false if the queue is full or the frame too long.</summary>
    public bool Queue(ReadOnlySpan<byte> frame)
    {
        if (_queued == QueueSlots || frame.Length > SlotSize) return false;
        frame.CopyTo(new Span<byte>(_iov[_queued].Base, frame.Length));
        _iov[_queued].Len = (nuint)frame.Length;
        _queued++;
        return true;
    }

    public int Queued => _queued;

    /// <summary>Sends the queued frames without blocking; returns how many the kernel refused (they are dropped) and their bytes.</summary>
    public abstract int Flush(out long refusedBytes);

    public virtual void Dispose()
    {
        if (_buf != null) { NativeMemory.AlignedFree(_buf); _buf = null; }
        if (_iov != null) { NativeMemory.Free(_iov); _iov = null; }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A real interface through AF_PACKET: a TPACKET_V3 receive ring (promiscuous: the switch forwards for others) and sendmmsg.</summary>
public sealed unsafe class NicFrames : FrameDevice
{
    private RxRing? _rx;
    private TxSocket? _tx;
    private Native.MMsgHdr* _msgs;
    private readonly byte[] _scratch = new byte[SlotSize + 4];
    private readonly string _name;
    public override int Fd => _rx?.Fd ?? -1;
    public override string Name => _name;

    private NicFrames(string name)
    {
        _name = name;
        _msgs = (Native.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(QueueSlots * sizeof(Native.MMsgHdr)));
        for (int i = 0; i < QueueSlots; i++)
        {
            _msgs[i].Iov = &_iov[i];
            _msgs[i].IovLen = 1;
        }
    }

    /// <summary>Opens interface <paramref name="dev"/>; null (and why) if it cannot. Needs CAP_NET_RAW.</summary>
    public static NicFrames? Open(string dev, out string? error)
    {
        var errh = new CollectingErrorHandler();
        var n = new NicFrames(dev);
        n._rx = RxRing.Open(dev, new RxOptions(SlotSize, Promisc: true, Outbound: false, Headroom: 0, ForceIP: false, BlockSize: 1 << 20, BlockCount: 8), errh);
        if (n._rx != null) n._tx = TxSocket.Open(dev, errh);
        if (n._rx == null || n._tx == null)
        {
            error = errh.Text;
            n.Dispose();
            return null;
        }
        error = null;
        return n;
    }

    public override int Receive<T>(ref T sink, int max) => _rx!.ReceiveFrames(ref sink, max, _scratch);

    public override int Flush(out long refusedBytes)
    {
        int total = _queued, sent = 0;
        while (sent < total)
        {
            int r = Native.sendmmsg(_tx!.Fd, _msgs + sent, (uint)(total - sent), Native.MSG_DONTWAIT);
            if (r < 0 && Native.Errno == Native.EINTR) continue;
            if (r <= 0) break;
            sent += r;
        }
        refusedBytes = 0;
        for (int i = sent; i < total; i++) refusedBytes += (long)_iov[i].Len;
        _queued = 0;
        KernelDrops += total - sent;
        return total - sent;
    }

    public override void Dispose()
    {
        _rx?.Dispose();
        _tx?.Dispose();
        _rx = null;
        _tx = null;
        if (_msgs != null) { NativeMemory.Free(_msgs); _msgs = null; }
        base.Dispose();
    }
}

/// <summary>A TAP interface the switch creates (the host's kernel stack as a switch port): read() and write() per frame.</summary>
public sealed unsafe class TapFrames : FrameDevice
{
    private TunDevice? _dev;
    private readonly byte[] _buf = new byte[SlotSize];
    public override int Fd => _dev?.Fd ?? -1;
    public override string Name => _dev?.Name ?? "";

    /// <summary>Creates TAP interface <paramref name="name"/> (up, no address; "" lets the kernel choose). Needs CAP_NET_ADMIN.</summary>
    public static TapFrames? Open(string name, int mtu, out string? error)
    {
        var errh = new CollectingErrorHandler();
        var t = new TapFrames { _dev = TunDevice.Open(true, name, 0, 0, mtu, null, 0, errh) };
        if (t._dev == null)
        {
            error = errh.Text;
            t.Dispose();
            return null;
        }
        error = null;
        return t;
    }

    public override int Receive<T>(ref T sink, int max)
    {
        int got = 0;
        while (got < max)
        {
            int len = _dev!.Read(_buf);
            if (len <= 0) break;
            sink.Frame(_buf.AsSpan(0, len));
            got++;
        }
        return got;
    }

    public override int Flush(out long refusedBytes)
    {
        int refused = 0;
        refusedBytes = 0;
        for (int i = 0; i < _queued; i++)
            if (_dev!.Write(new ReadOnlySpan<byte>(_iov[i].Base, (int)_iov[i].Len)) != 0)
            {
                refused++;
                refusedBytes += (long)_iov[i].Len;
            }
        _queued = 0;
        KernelDrops += refused;
        return refused;
    }

    public override void Dispose()
    {
        _dev?.Dispose();
        _dev = null;
        base.Dispose();
    }
}
