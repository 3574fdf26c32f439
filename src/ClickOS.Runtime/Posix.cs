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

    public const int O_RDWR = 2, O_NONBLOCK = 0x800;
    public const int EAGAIN = 11;
}
