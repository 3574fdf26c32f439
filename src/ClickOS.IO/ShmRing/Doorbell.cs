using System.Runtime.InteropServices;

namespace ClickOS.IO.ShmRing;

/// <summary>
/// A wake-up line between processes that share a ring: a named FIFO, opened read-write and
/// non-blocking by both sides, so either can open it by path (no descriptor passing), poll it
/// with everything else, and never block on it. Ringing writes one byte; a full FIFO means a
/// ring is pending anyway. Rung only when the other side said it sleeps, never per packet.
/// </summary>
public sealed unsafe partial class Doorbell : IDisposable
{
    public int Fd { get; private set; }
    public string Path { get; }

    private Doorbell(int fd, string path)
    {
        Fd = fd;
        Path = path;
    }

    /// <summary>Makes the FIFO (mode 0600) if it is not there, and opens it.</summary>
    public static Doorbell? Create(string path, out string? error)
    {
        if (mkfifo(path, 0x180) != 0 && Marshal.GetLastPInvokeError() != EEXIST)
        {
            error = $"{path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return null;
        }
        return Open(path, out error);
    }

    public static Doorbell? Open(string path, out string? error)
    {
        int fd = Linux.Native.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
        {
            error = $"{path}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return null;
        }
        error = null;
        return new Doorbell(fd, path);
    }

    public void Ring()
    {
        byte b = 1;
        Linux.Native.write(Fd, &b, 1);
    }

    /// <summary>Empties the FIFO after a wake-up, so the next poll sleeps.</summary>
    public void Drain()
    {
        byte* buf = stackalloc byte[64];
        while (Linux.Native.read(Fd, buf, 64) == 64) { }
    }

    public void Dispose()
    {
        if (Fd >= 0) Linux.Native.close(Fd);
        Fd = -1;
    }

    private const int O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, EEXIST = 17;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mkfifo(string path, uint mode);
}
