using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;

namespace ClickOS.Tests;

/// <summary>
/// Runs code on a thread that has its own, empty network namespace (only a loopback device),
/// so tests of interface elements touch nothing of the machine's. Needs root.
/// </summary>
public static partial class PrivateNetwork
{
    private const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    public static bool IsRoot =>
        OperatingSystem.IsLinux() && File.ReadAllLines("/proc/self/status")
            .Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");

    /// <summary>True for configurations that open interfaces (and so need root and a namespace).</summary>
    public static bool NeedsDevices(string config) =>
        config.Contains("FromDevice", StringComparison.Ordinal) || config.Contains("ToDevice", StringComparison.Ordinal)
        || config.Contains("KernelTun", StringComparison.Ordinal) || config.Contains("KernelTap", StringComparison.Ordinal);

    public static void Run(Action action)
    {
        ExceptionDispatchInfo? failure = null;
        // The thread is not reused afterwards, so its namespace dies with it.
        var t = new Thread(() =>
        {
            try
            {
                if (unshare(CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"unshare(CLONE_NEWNET): {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
                action();
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        });
        t.Start();
        t.Join();
        failure?.Throw();
    }
}
