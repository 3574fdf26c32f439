using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ClickOS.Core;
using ClickOS.IO.Frames;
using ClickOS.IO.Linux;

namespace ClickOS.IO.AfPacket;

/// <summary>What FromDevice asks of its receive ring.</summary>
internal readonly record struct RxOptions(int Snaplen, bool Promisc, bool Outbound, int Headroom, bool ForceIP, int BlockSize, int BlockCount);

/// <summary>
/// An AF_PACKET socket bound to one interface with a TPACKET_V3 receive ring. The kernel
/// fills blocks of packets and hands each whole block over by flipping its status word; we
/// copy the packets out into pool buffers and hand the block straight back. Reading a batch
/// from a ready ring costs no system call; poll() on the socket says when a block is ready.
/// </summary>
internal sealed unsafe class RxRing : IDisposable
{
    public int Fd { get; private set; } = -1;
    public ushort HardwareType { get; private set; }
    private byte* _map;
    private nuint _mapLen;
    private int _blockSize, _blockCount, _cur;
    private uint _left;
    private byte* _next;
    private RxOptions _o;
    private long _kernelDrops, _poolDrops;

    public long KernelDrops { get { PollStatistics(); return _kernelDrops; } }
    public long PoolDrops => _poolDrops;

    /// <summary>Opens the ring; on failure writes Click-style errors and returns null.</summary>
    public static RxRing? Open(string dev, RxOptions o, ErrorHandler errh)
    {
        var r = new RxRing { _o = o };
        if (!r.Setup(dev, errh)) { r.Dispose(); return null; }
        return r;
    }

    private bool Setup(string dev, ErrorHandler errh)
    {
        int ifindex = (int)Native.if_nametoindex(dev);
        if (ifindex == 0) return errh.Error($"{dev}: no such network device");
        // Protocol 0 until bind, so no packets of other interfaces land in the ring meanwhile.
        Fd = Native.socket(Native.AF_PACKET, Native.SOCK_RAW | Native.SOCK_CLOEXEC, 0);
        if (Fd < 0) return SysError(errh, "socket", "CAP_NET_RAW");
        HardwareType = InterfaceInfo.HardwareType(Fd, dev);
        if (Native.SetInt(Fd, Native.SOL_PACKET, Native.PACKET_VERSION, Native.TPACKET_V3) < 0)
            return SysError(errh, "PACKET_VERSION", "");
        // A one-instruction classic BPF program ("ret #snaplen") makes the kernel copy only SNAPLEN bytes.
        var filter = new Native.SockFilter { Code = 0x06, K = (uint)_o.Snaplen };
        var prog = new Native.SockFprog { Len = 1, Filter = &filter };
        if (Native.setsockopt(Fd, Native.SOL_SOCKET, Native.SO_ATTACH_FILTER, &prog, (uint)sizeof(Native.SockFprog)) < 0)
            return SysError(errh, "SO_ATTACH_FILTER", "");
        _blockSize = _o.BlockSize;
        _blockCount = _o.BlockCount;
        var req = new Native.TPacketReq3
        {
            BlockSize = (uint)_blockSize,
            BlockNr = (uint)_blockCount,
            FrameSize = 2048,
            FrameNr = (uint)(_blockSize / 2048 * _blockCount),
            RetireBlkTov = 1, // ms: a partly filled block reaches us within a millisecond
        };
        if (Native.setsockopt(Fd, Native.SOL_PACKET, Native.PACKET_RX_RING, &req, (uint)sizeof(Native.TPacketReq3)) < 0)
            return SysError(errh, "PACKET_RX_RING", "");
        _mapLen = (nuint)_blockSize * (nuint)_blockCount;
        void* m = Native.mmap(null, _mapLen, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, Fd, 0);
        if (m == (void*)-1) return SysError(errh, "mmap", "");
        _map = (byte*)m;
        if (!_o.Outbound)
            Native.SetInt(Fd, Native.SOL_PACKET, Native.PACKET_IGNORE_OUTGOING, 1); // old kernels: filtered by type below
        if (_o.Promisc)
        {
            var mr = new Native.PacketMreq { IfIndex = ifindex, Type = Native.PACKET_MR_PROMISC };
            if (Native.setsockopt(Fd, Native.SOL_PACKET, Native.PACKET_ADD_MEMBERSHIP, &mr, (uint)sizeof(Native.PacketMreq)) < 0)
                return SysError(errh, "PROMISC", "CAP_NET_RAW");
        }
        var sll = new Native.SockaddrLL { Family = Native.AF_PACKET, Protocol = Native.ETH_P_ALL_BE, IfIndex = ifindex };
        if (Native.bind(Fd, &sll, 20) < 0) return SysError(errh, $"{dev}: bind", "");
        return true;
    }

    internal static bool SysError(ErrorHandler errh, string what, string capability)
    {
        int e = Native.Errno;
        return errh.Error($"{what}: {Native.StrError(e)}{(capability.Length > 0 ? Native.PermissionHint(e, capability) : "")}");
    }

    /// <summary>Copies up to <paramref name="max"/> ready packets into <paramref name="batch"/>; returns how many.</summary>
    public int Receive(PacketPool pool, PacketBatch batch, int max)
    {
        int got = 0;
        while (got < max)
        {
            if (_left == 0 && !NextBlock()) break;
            byte* h = _next;
            if (--_left == 0) ReleaseBlock();
            else _next = h + *(uint*)(h + Native.HdrNextOffset);
            var p = Copy(pool, h);
            if (p != null) { batch.Add(p); got++; }
        }
        return got;
    }

    /// <summary>
    /// Hands up to <paramref name="max"/> ready frames to <paramref name="sink"/> straight from
    /// the ring (no packet buffers: the switch's path). A VLAN tag the kernel took out is put
    /// back through <paramref name="scratch"/>, so the frame is as the wire had it.
    /// </summary>
    public int ReceiveFrames<T>(ref T sink, int max, Span<byte> scratch) where T : struct, IFrameSink
    {
        int got = 0;
        while (got < max)
        {
            if (_left == 0 && !NextBlock()) break;
            byte* h = _next;
            byte pkttype = h[Native.HdrSockaddr + Native.SllPkttype];
            int snap = (int)*(uint*)(h + Native.HdrSnaplen);
            uint status = *(uint*)(h + Native.HdrStatus);
            var src = new ReadOnlySpan<byte>(h + *(ushort*)(h + Native.HdrMac), snap);
            if (pkttype != (byte)PacketType.Outgoing)
            {
                if ((status & Native.TP_STATUS_VLAN_VALID) != 0 && snap >= 12 && snap + 4 <= scratch.Length)
                {
                    src[..12].CopyTo(scratch);
                    ushort tpid = (status & Native.TP_STATUS_VLAN_TPID_VALID) != 0 ? *(ushort*)(h + Native.HdrVlanTpid) : (ushort)0x8100;
                    BinaryPrimitives.WriteUInt16BigEndian(scratch[12..], tpid);
                    BinaryPrimitives.WriteUInt16BigEndian(scratch[14..], (ushort)*(uint*)(h + Native.HdrVlanTci));
                    src[12..].CopyTo(scratch[16..]);
                    sink.Frame(scratch[..(snap + 4)]);
                }
                else
                {
                    // The host's own sends (a veth from a local namespace) reach the ring before
                    // their TCP/UDP checksum is filled in; complete it in place (the ring is ours
                    // until released) so the frame leaves the switch correct.
                    if ((status & Native.TP_STATUS_CSUMNOTREADY) != 0 && IPOffset(src) is int ip and >= 0)
                        CompleteChecksum(new Span<byte>(h + *(ushort*)(h + Native.HdrMac), snap), ip);
                    sink.Frame(src);
                }
                got++;
            }
            // Released only after the sink copied the frame out of the block.
            if (--_left == 0) ReleaseBlock();
            else _next = h + *(uint*)(h + Native.HdrNextOffset);
        }
        return got;
    }

    /// <summary>True when a block is waiting (so a poll() would return at once).</summary>
    public bool Ready => _left != 0 || (Volatile.Read(ref *(uint*)(_map + (nuint)_cur * (nuint)_blockSize + Native.BlockStatus)) & Native.TP_STATUS_USER) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool NextBlock()
    {
        while (true)
        {
            byte* blk = _map + (nuint)_cur * (nuint)_blockSize;
            if ((Volatile.Read(ref *(uint*)(blk + Native.BlockStatus)) & Native.TP_STATUS_USER) == 0) return false;
            _left = *(uint*)(blk + Native.BlockNumPkts);
            _next = blk + *(uint*)(blk + Native.BlockFirstPkt);
            if (_left != 0) return true;
            ReleaseBlock();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ReleaseBlock()
    {
        byte* blk = _map + (nuint)_cur * (nuint)_blockSize;
        Volatile.Write(ref *(uint*)(blk + Native.BlockStatus), Native.TP_STATUS_KERNEL);
        if (++_cur == _blockCount) _cur = 0;
    }

    private Packet? Copy(PacketPool pool, byte* h)
    {
        byte pkttype = h[Native.HdrSockaddr + Native.SllPkttype];
        if (pkttype == (byte)PacketType.Outgoing && !_o.Outbound) return null;
        int snap = (int)*(uint*)(h + Native.HdrSnaplen);
        int wire = (int)*(uint*)(h + Native.HdrLen);
        uint status = *(uint*)(h + Native.HdrStatus);
        var src = new ReadOnlySpan<byte>(h + *(ushort*)(h + Native.HdrMac), snap);
        // The kernel strips VLAN tags into the header (offload); put them back, as the wire had them.
        bool vlan = (status & Native.TP_STATUS_VLAN_VALID) != 0 && HardwareType == Native.ARPHRD_ETHER && snap >= 12;
        int len = snap + (vlan ? 4 : 0);
        var p = pool.Make(_o.Headroom, len, 0);
        if (p == null) { _poolDrops++; return null; }
        var d = p.WritableData();
        if (vlan)
        {
            src[..12].CopyTo(d);
            ushort tpid = (status & Native.TP_STATUS_VLAN_TPID_VALID) != 0 ? *(ushort*)(h + Native.HdrVlanTpid) : (ushort)0x8100;
            BinaryPrimitives.WriteUInt16BigEndian(d[12..], tpid);
            BinaryPrimitives.WriteUInt16BigEndian(d[14..], (ushort)*(uint*)(h + Native.HdrVlanTci));
            src[12..].CopyTo(d[16..]);
            wire += 4;
        }
        else src.CopyTo(d);
        p.TimestampNs = *(uint*)(h + Native.HdrSec) * 1_000_000_000L + *(uint*)(h + Native.HdrNsec);
        p.PacketType = (PacketType)pkttype;
        if (wire > len) p.SetAnnoU32(AnnoOffsets.ExtraLength, (uint)(wire - len));
        int ip = IPOffset(d);
        if (HardwareType is Native.ARPHRD_ETHER or Native.ARPHRD_LOOPBACK) p.SetMacHeader(0);
        if (ip >= 0)
        {
            p.SetNetworkHeader(ip, Math.Max((d[ip] & 0x0F) * 4, 20));
            if ((status & Native.TP_STATUS_CSUMNOTREADY) != 0) CompleteChecksum(d, ip);
        }
        else if (_o.ForceIP) { p.Kill(); return null; }
        return p;
    }

    /// <summary>
    /// Packets the host itself sends with checksum offload reach packet sockets before the
    /// TCP/UDP checksum is filled in; complete it so that forwarding them works.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void CompleteChecksum(Span<byte> d, int ip)
    {
        int hl = (d[ip] & 0x0F) * 4;
        int total = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]);
        if (hl < 20 || total < hl || ip + total > d.Length) return;
        if ((BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x3FFF) != 0) return;
        byte proto = d[ip + 9];
        int off = proto == 6 ? 16 : proto == 17 ? 6 : -1;
        var l4 = d.Slice(ip + hl, total - hl);
        if (off < 0 || l4.Length < off + 2) return;
        l4[off] = 0;
        l4[off + 1] = 0;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), dst = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        ushort c = InternetChecksum.Fold(InternetChecksum.Sum(l4, InternetChecksum.PseudoHeaderSum(src, dst, proto, l4.Length)));
        if (proto == 17 && c == 0) c = 0xFFFF;
        BinaryPrimitives.WriteUInt16BigEndian(l4[off..], c);
    }

    private int IPOffset(ReadOnlySpan<byte> d)
    {
        if (HardwareType is Native.ARPHRD_ETHER or Native.ARPHRD_LOOPBACK)
        {
            if (d.Length < 34) return -1;
            ushort t = BinaryPrimitives.ReadUInt16BigEndian(d[12..]);
            if (t == 0x0800 && (d[14] >> 4) == 4) return 14;
            if (t == 0x8100 && d.Length >= 38 && BinaryPrimitives.ReadUInt16BigEndian(d[16..]) == 0x0800 && (d[18] >> 4) == 4) return 18;
            return -1;
        }
        return d.Length >= 20 && (d[0] >> 4) == 4 ? 0 : -1;
    }

    private void PollStatistics()
    {
        if (Fd < 0) return;
        Native.PacketStats st;
        uint len = (uint)sizeof(Native.PacketStats);
        // The kernel resets its counters on each read, so accumulate.
        if (Native.getsockopt(Fd, Native.SOL_PACKET, Native.PACKET_STATISTICS, &st, &len) == 0)
            _kernelDrops += st.Drops;
    }

    public void Dispose()
    {
        if (_map != null) { Native.munmap(_map, _mapLen); _map = null; }
        if (Fd >= 0) { Native.close(Fd); Fd = -1; }
    }
}

/// <summary>
/// An AF_PACKET socket for sending on one interface. A batch goes to the kernel in one
/// sendmmsg() call, each message pointing straight at the packet's (pinned) pool buffer.
/// </summary>
internal sealed unsafe class TxSocket : IDeviceSender
{
    public int Fd { get; private set; } = -1;
    private Native.MMsgHdr* _msgs;
    private Native.IoVec* _iov;

    public static TxSocket? Open(string dev, ErrorHandler errh)
    {
        var t = new TxSocket();
        int ifindex = (int)Native.if_nametoindex(dev);
        if (ifindex == 0) { errh.Error($"{dev}: no such network device"); return null; }
        // Protocol 0: this socket never receives.
        t.Fd = Native.socket(Native.AF_PACKET, Native.SOCK_RAW | Native.SOCK_CLOEXEC, 0);
        if (t.Fd < 0) { RxRing.SysError(errh, "socket", "CAP_NET_RAW"); return null; }
        var sll = new Native.SockaddrLL { Family = Native.AF_PACKET, Protocol = 0, IfIndex = ifindex };
        if (Native.bind(t.Fd, &sll, 20) < 0) { RxRing.SysError(errh, $"{dev}: bind", ""); t.Dispose(); return null; }
        t._msgs = (Native.MMsgHdr*)NativeMemory.AllocZeroed((nuint)(PacketBatch.MaxSize * sizeof(Native.MMsgHdr)));
        t._iov = (Native.IoVec*)NativeMemory.AllocZeroed((nuint)(PacketBatch.MaxSize * sizeof(Native.IoVec)));
        for (int i = 0; i < PacketBatch.MaxSize; i++)
        {
            t._msgs[i].Iov = &t._iov[i];
            t._msgs[i].IovLen = 1;
        }
        return t;
    }

    /// <summary>
    /// Sends packets [start, start+count) of the batch without blocking. Returns how many the
    /// kernel took (counted from the start); sets <paramref name="errno"/> for the first one refused.
    /// </summary>
    public int Send(ReadOnlySpan<Packet> packets, out int errno)
    {
        errno = 0;
        int n = 0;
        for (; n < packets.Length; n++)
        {
            var p = packets[n];
            if (!p.DataIsPinned) break;
            _iov[n].Base = Unsafe.AsPointer(ref MemoryMarshal.GetReference(p.Data));
            _iov[n].Len = (nuint)p.Length;
        }
        if (n == 0)
            return packets.Length == 0 ? 0 : SendOne(packets[0], out errno);
        int r;
        do r = Native.sendmmsg(Fd, _msgs, (uint)n, Native.MSG_DONTWAIT);
        while (r < 0 && Native.Errno == Native.EINTR);
        if (r < 0) { errno = Native.Errno; return 0; }
        return r;
    }

    // Oversized packets live in ordinary (movable) arrays: pin one and send it alone.
    private int SendOne(Packet p, out int errno)
    {
        errno = 0;
        fixed (byte* d = p.Data)
        {
            nint r = Native.send(Fd, d, (nuint)p.Length, Native.MSG_DONTWAIT);
            if (r < 0) { errno = Native.Errno; return 0; }
        }
        return 1;
    }

    public void Dispose()
    {
        if (_msgs != null) { NativeMemory.Free(_msgs); _msgs = null; }
        if (_iov != null) { NativeMemory.Free(_iov); _iov = null; }
        if (Fd >= 0) { Native.close(Fd); Fd = -1; }
    }
}

/// <summary>A way of handing packets to an interface (ToDevice's METHOD).</summary>
internal interface IDeviceSender : IDisposable
{
    /// <summary>
    /// Sends packets from the start of <paramref name="packets"/> without blocking; returns how
    /// many the kernel took, and sets <paramref name="errno"/> for the first one refused.
    /// </summary>
    int Send(ReadOnlySpan<Packet> packets, out int errno);
}

/// <summary>Interface facts read through ioctls.</summary>
internal static unsafe class InterfaceInfo
{
    private const uint SIOCGIFHWADDR = 0x8927;

    public static ushort HardwareType(int fd, string dev)
    {
        byte* ifr = stackalloc byte[Native.IfReqSize];
        var s = new Span<byte>(ifr, Native.IfReqSize);
        if (!Native.PutIfName(s, dev)) return 0;
        return Native.ioctl(fd, SIOCGIFHWADDR, ifr) < 0 ? (ushort)0 : *(ushort*)(ifr + 16);
    }

    public static string EncapName(ushort hatype) => hatype switch
    {
        Native.ARPHRD_ETHER or Native.ARPHRD_LOOPBACK => "ETHER",
        Native.ARPHRD_NONE => "IP",
        _ => "UNKNOWN",
    };
}
