using System.Runtime.InteropServices;

namespace ClickOS.Host;

/// <summary>
/// Process control the host needs beyond System.Diagnostics.Process: posix_spawn (with the
/// child's output going straight to its log file and a session of its own, so it outlives a
/// host killed with -9), signals, and pidfds to watch processes that are not our children
/// (instances adopted after a host restart).
/// </summary>
internal static unsafe partial class Native
{
    public const int SIGKILL = 9, SIGTERM = 15, SIGCONT = 18, SIGSTOP = 19;
    private const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400;
    private const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08, POSIX_SPAWN_SETSID = 0x80;
    private const int WNOHANG = 1;
    private const int SYS_pidfd_open = 434;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int posix_spawn(out int pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);
    [LibraryImport("libc")] private static partial int gettid();
    [LibraryImport("libc", SetLastError = true)] private static partial int setpriority(int which, int who, int prio);

    /// <summary>Sets the calling thread's nice value; false when not permitted (raising priority needs CAP_SYS_NICE).</summary>
    public static bool SetThreadNice(int nice) => setpriority(0 /* PRIO_PROCESS: on Linux, one thread */, gettid(), nice) == 0;

    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_init(void* fa);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_destroy(void* fa);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_addopen(void* fa, int fd, byte* path, int flags, uint mode);
    [LibraryImport("libc")] private static partial int posix_spawn_file_actions_adddup2(void* fa, int fd, int newfd);
    [LibraryImport("libc")] private static partial int posix_spawnattr_init(void* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_destroy(void* attr);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setflags(void* attr, short flags);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigmask(void* attr, void* mask);
    [LibraryImport("libc")] private static partial int posix_spawnattr_setsigdefault(void* attr, void* mask);
    [LibraryImport("libc")] private static partial int sigemptyset(void* set);
    [LibraryImport("libc")] private static partial int sigfillset(void* set);
    [LibraryImport("libc", SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport("libc", SetLastError = true)] private static partial int waitpid(int pid, out int status, int options);
    [LibraryImport("libc", SetLastError = true)] private static partial long syscall(long number, long a, long b);
    [LibraryImport("libc", SetLastError = true)] public static partial int close(int fd);

    /// <summary>Starts <paramref name="argv"/>[0] with stdin from /dev/null and stdout and stderr appended to <paramref name="logPath"/>.</summary>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, string logPath)
    {
        // glibc's opaque types are 80 (file actions), 336 (attr) and 128 (sigset) bytes; be generous.
        byte* fa = (byte*)NativeMemory.AllocZeroed(512), attr = (byte*)NativeMemory.AllocZeroed(1024);
        byte* mask = (byte*)NativeMemory.AllocZeroed(256), defaults = (byte*)NativeMemory.AllocZeroed(256);
        var strings = new List<nint>();
        byte* Str(string s)
        {
            int n = System.Text.Encoding.UTF8.GetByteCount(s);
            byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
            System.Text.Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
            p[n] = 0;
            strings.Add((nint)p);
            return p;
        }
        byte** Vec(IReadOnlyList<string> items)
        {
            byte** v = (byte**)NativeMemory.AllocZeroed((nuint)(items.Count + 1) * (nuint)sizeof(nint));
            strings.Add((nint)v);
            for (int i = 0; i < items.Count; i++) v[i] = Str(items[i]);
            return v;
        }
        try
        {
            posix_spawn_file_actions_init(fa);
            posix_spawn_file_actions_addopen(fa, 0, Str("/dev/null"), O_RDONLY, 0);
            posix_spawn_file_actions_addopen(fa, 1, Str(logPath), O_WRONLY | O_CREAT | O_APPEND, 0x1a4 /* 0644 */);
            posix_spawn_file_actions_adddup2(fa, 1, 2);
            posix_spawnattr_init(attr);
            sigemptyset(mask);
            sigfillset(defaults);
            posix_spawnattr_setsigmask(attr, mask);
            posix_spawnattr_setsigdefault(attr, defaults);
            posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
            int rc = posix_spawn(out int pid, Str(path), fa, attr, Vec(argv), Vec(env));
            posix_spawn_file_actions_destroy(fa);
            posix_spawnattr_destroy(attr);
            if (rc != 0) throw new IOException($"{path}: cannot start: {Marshal.GetPInvokeErrorMessage(rc)}");
            return pid;
        }
        finally
        {
            foreach (var p in strings) NativeMemory.Free((void*)p);
            NativeMemory.Free(fa);
            NativeMemory.Free(attr);
            NativeMemory.Free(mask);
            NativeMemory.Free(defaults);
        }
    }

    /// <summary>Reaps a child that has exited; null while it runs (or when it is not our child).</summary>
    public static int? TryReap(int pid)
    {
        int r = waitpid(pid, out int status, WNOHANG);
        return r == pid ? status : null;
    }

    /// <summary>True once <paramref name="pid"/> is reaped, or when it is not our child (nothing to reap).</summary>
    public static bool ReapedOrNotChild(int pid) => waitpid(pid, out _, WNOHANG) is var r && (r == pid || r < 0);

    /// <summary>A descriptor that becomes readable when the process exits (-1 where pidfds are missing).</summary>
    public static int PidFdOpen(int pid) => (int)syscall(SYS_pidfd_open, pid, 0);

    public static bool Alive(int pid) => pid > 0 && (kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() == 1 /* EPERM */);

    /// <summary>How a wait status reads in a crash report.</summary>
    public static string DescribeStatus(int status)
    {
        int sig = status & 0x7f;
        if (sig == 0) return $"exited with status {(status >> 8) & 0xff}";
        return $"killed by signal {sig} ({SignalName(sig)})";
    }

    public static bool IsCleanExit(int status) => (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0;
    public static bool WasSignaled(int status) => (status & 0x7f) != 0 && (status & 0x7f) != 0x7f;

    public static string SignalName(int sig) => sig switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE",
        9 => "SIGKILL", 11 => "SIGSEGV", 13 => "SIGPIPE", 15 => "SIGTERM", 24 => "SIGXCPU", _ => $"signal {sig}",
    };

    /// <summary>The process's start time in clock ticks since boot (field 22 of /proc/PID/stat): tells a reused pid from ours.</summary>
    public static long StartTime(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            var fields = stat[(close + 2)..].Split(' ');
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }
}
