using System.Runtime.InteropServices;

namespace ClickOS.IO.Linux;

/// <summary>
/// The Linux calls behind FromDevice, ToDevice and KernelTun: AF_PACKET sockets with mmap'd
/// rings, sendmmsg, and the TUN/TAP and interface ioctls. LibraryImport only, so NativeAOT
/// needs no marshalling stubs and no native library of our own.
/// </summary>
internal static unsafe partial class Native
{
    public const int AF_INET = 2, AF_PACKET = 17, AF_XDP = 44;
    public const int SOCK_RAW = 3, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000, SOCK_NONBLOCK = 0x800;
    public const int SOL_SOCKET = 1, SOL_PACKET = 263;
    public const int SO_ATTACH_FILTER = 26;
    public const int PACKET_ADD_MEMBERSHIP = 1, PACKET_MR_PROMISC = 1;
    public const int PACKET_RX_RING = 5, PACKET_STATISTICS = 6, PACKET_VERSION = 10;
    public const int PACKET_QDISC_BYPASS = 20, PACKET_IGNORE_OUTGOING = 23;
    public const int TPACKET_V3 = 2;
    public const ushort ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL)
    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_POPULATE = 0x8000;
    public const int MSG_DONTWAIT = 0x40;
    public const int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int EINTR = 4, EAGAIN = 11, ENOBUFS = 105, EPERM = 1, EACCES = 13, EBUSY = 16, EMSGSIZE = 90;
    public const ushort ARPHRD_ETHER = 1, ARPHRD_LOOPBACK = 772, ARPHRD_NONE = 0xFFFE;

    // Block and frame layout of TPACKET_V3 (linux/if_packet.h).
    public const int BlockStatus = 8, BlockNumPkts = 12, BlockFirstPkt = 16;
    public const uint TP_STATUS_KERNEL = 0, TP_STATUS_USER = 1, TP_STATUS_CSUMNOTREADY = 8, TP_STATUS_VLAN_VALID = 0x10, TP_STATUS_VLAN_TPID_VALID = 0x40;
    public const int HdrNextOffset = 0, HdrSec = 4, HdrNsec = 8, HdrSnaplen = 12, HdrLen = 16, HdrStatus = 20,
        HdrMac = 24, HdrVlanTci = 32, HdrVlanTpid = 36, HdrSockaddr = 48;
    public const int SllHatype = 8, SllPkttype = 10;

    // TUN/TAP and interface ioctls (linux/if_tun.h, linux/sockios.h).
    public const uint TUNSETIFF = 0x400454ca;
    public const short IFF_TUN = 1, IFF_TAP = 2, IFF_NO_PI = 0x1000, IFF_UP = 1, IFF_RUNNING = 0x40;
    public const uint SIOCGIFFLAGS = 0x8913, SIOCSIFFLAGS = 0x8914, SIOCSIFADDR = 0x8916, SIOCSIFNETMASK = 0x891c,
        SIOCSIFMTU = 0x8922, SIOCSIFHWADDR = 0x8924;
    public const int IfReqSize = 40, IfNameSize = 16;

    // AF_XDP (linux/if_xdp.h): socket options, mmap offsets of the rings, bind flags.
    public const int SOL_XDP = 283;
    public const int XDP_MMAP_OFFSETS = 1, XDP_TX_RING = 3, XDP_UMEM_REG = 4, XDP_UMEM_FILL_RING = 5, XDP_UMEM_COMPLETION_RING = 6;
    public static readonly nint XDP_PGOFF_TX_RING = unchecked((nint)0x80000000L), XDP_UMEM_PGOFF_COMPLETION_RING = unchecked((nint)0x180000000L); // 64-bit only, like the rest
    public const ushort XDP_COPY = 1 << 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct XdpUmemReg
    {
        public ulong Addr, Len;
        public uint ChunkSize, Headroom, Flags, TxMetadataLen;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct XdpRingOffset
    {
        public ulong Producer, Consumer, Desc, Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct XdpMmapOffsets
    {
        public XdpRingOffset Rx, Tx, Fr, Cr;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct XdpDesc
    {
        public ulong Addr;
        public uint Len, Options;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrXdp
    {
        public ushort Family, Flags;
        public uint IfIndex, QueueId, SharedUmemFd;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct TPacketReq3
    {
        public uint BlockSize, BlockNr, FrameSize, FrameNr, RetireBlkTov, SizeofPriv, FeatureReqWord;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockaddrLL
    {
        public ushort Family;
        public ushort Protocol;
        public int IfIndex;
        public ushort HaType;
        public byte PktType;
        public byte HaLen;
        public fixed byte Addr[8];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PacketMreq
    {
        public int IfIndex;
        public ushort Type;
        public ushort ALen;
        public ulong Address;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockFilter
    {
        public ushort Code;
        public byte Jt, Jf;
        public uint K;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockFprog
    {
        public ushort Len;
        public SockFilter* Filter;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Len;
    }

    /// <summary>struct mmsghdr: a msghdr (56 bytes on 64-bit Linux) and the kernel's byte count.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public void* Name;
        public uint NameLen;
        public IoVec* Iov;
        public nuint IovLen;
        public void* Control;
        public nuint ControlLen;
        public int Flags;
        private readonly int _pad;
        public uint Len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct PacketStats
    {
        public uint Packets, Drops, FreezeQCount;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setsockopt(int fd, int level, int name, void* value, uint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, uint* len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, void* addr, uint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial void* mmap(void* addr, nuint len, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(void* addr, nuint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int madvise(void* addr, nuint len, int advice);

    public const int MADV_SEQUENTIAL = 2, MADV_WILLNEED = 3;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial uint if_nametoindex(string name);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int fd, MMsgHdr* msgs, uint vlen, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint send(int fd, void* buf, nuint len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendto(int fd, void* buf, nuint len, int flags, void* addr, uint addrLen);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    public static string LastError() => StrError(Errno);

    /// <summary>Extra words for permission failures: which capability is missing.</summary>
    public static string PermissionHint(int errno, string capability) =>
        errno is EPERM or EACCES ? $" (needs {capability}; run as root or grant it with setcap)" : "";

    public static int SetInt(int fd, int level, int name, int value) =>
        setsockopt(fd, level, name, &value, sizeof(int));

    /// <summary>Writes an interface name into the first 16 bytes of an ifreq.</summary>
    public static bool PutIfName(Span<byte> ifreq, string name)
    {
        ifreq[..IfReqSize].Clear();
        if (name.Length >= IfNameSize) return false;
        for (int i = 0; i < name.Length; i++)
        {
            if (name[i] > 0x7E || name[i] <= ' ' || name[i] == '/') return false;
            ifreq[i] = (byte)name[i];
        }
        return true;
    }

    public static string GetIfName(ReadOnlySpan<byte> ifreq)
    {
        int n = ifreq[..IfNameSize].IndexOf((byte)0);
        return System.Text.Encoding.ASCII.GetString(ifreq[..(n < 0 ? IfNameSize : n)]);
    }
}
