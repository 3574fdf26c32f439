using System.Runtime.InteropServices;

namespace ClickOS.Runtime;

/// <summary>The few libc calls the driver needs (NativeAOT-friendly LibraryImport, no runtime marshalling code).</summary>
public static partial class Posix
{
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short REvents;
    }

    public const short POLLIN = 1;

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial int ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint read(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static unsafe partial nint write(int fd, byte* buf, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    private const int EFD_NONBLOCK = 0x800, EFD_CLOEXEC = 0x80000;

    /// <summary>A non-blocking eventfd for waking a thread asleep in poll(); -1 if none could be made.</summary>
    public static int CreateEventFd() => eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

    public static unsafe void SignalEventFd(int fd)
    {
        ulong one = 1;
        write(fd, (byte*)&one, 8);
    }

    public static unsafe void DrainEventFd(int fd)
    {
        ulong value;
        read(fd, (byte*)&value, 8);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Sec;
        public long Nsec;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int ppoll(PollFd* fds, nuint nfds, Timespec* timeout, nint sigmask);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    private const int PR_SET_TIMERSLACK = 29;

    /// <summary>How late the kernel may end this thread's sleeps, so it can serve several timers with one interrupt (default 50 us).</summary>
    public static void SetTimerSlack(long ns) => prctl(PR_SET_TIMERSLACK, (nuint)ns, 0, 0, 0);

    /// <summary>poll() with a nanosecond timeout (negative: none), so one sleep lands on a timer's expiry.</summary>
    public static unsafe int PollNs(PollFd* fds, nuint nfds, long timeoutNs)
    {
        if (timeoutNs < 0) return ppoll(fds, nfds, null, 0);
        var ts = new Timespec { Sec = timeoutNs / 1_000_000_000, Nsec = timeoutNs % 1_000_000_000 };
        return ppoll(fds, nfds, &ts, 0);
    }

    public const short POLLOUT = 4, POLLERR = 8, POLLHUP = 16;
    public const int O_RDWR = 2, O_NONBLOCK = 0x800;
    public const int EAGAIN = 11;

    // ---------------- epoll (the shared driver's descriptor watcher) ----------------

    public const uint EPOLLIN = 0x001, EPOLLET = 1u << 31;
    public const int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CLOEXEC = 0x80000;

    /// <summary>struct epoll_event: packed on x86-64 (12 bytes), naturally aligned (16) elsewhere.</summary>
    public static readonly int EpollEventSize = System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? 12 : 16;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    public static unsafe int EpollAdd(int epfd, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = events;
        System.Runtime.CompilerServices.Unsafe.WriteUnaligned(ev + (EpollEventSize == 12 ? 4 : 8), data);
        return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, ev);
    }

    public static unsafe int EpollDel(int epfd, int fd)
    {
        byte* ev = stackalloc byte[16];
        return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, ev);
    }

    /// <summary>Waits for events; writes each one's data word into <paramref name="data"/>; returns how many (0 on timeout or EINTR).</summary>
    public static unsafe int EpollWait(int epfd, Span<ulong> data, int timeoutMs)
    {
        int max = Math.Min(data.Length, 64);
        byte* evs = stackalloc byte[64 * 16];
        int r = epoll_wait(epfd, evs, max, timeoutMs);
        for (int i = 0; i < r; i++)
            data[i] = System.Runtime.CompilerServices.Unsafe.ReadUnaligned<ulong>(evs + i * EpollEventSize + (EpollEventSize == 12 ? 4 : 8));
        return Math.Max(r, 0);
    }
}
