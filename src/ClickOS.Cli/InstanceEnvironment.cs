using System.Globalization;
using System.Net.Sockets;
using System.Text;
using ClickOS.Runtime;

namespace ClickOS.Cli;

/// <summary>
/// How `clickos run` learns it is a host-managed instance: NOTIFY_SOCKET (systemd's sd_notify
/// datagram socket: READY=1 once forwarding, IDLE=1 after CLICKOS_INSTANCE_IDLE_MS without
/// activity), CLICKOS_INSTANCE (adds the stats handler, small initial pools) and
/// CLICKOS_INSTANCE_MAX_PACKETS (the pool's limit).
/// </summary>
internal sealed class InstanceEnvironment
{
    public string? NotifySocket { get; private init; }
    public bool Managed { get; private init; }
    public long MaxPackets { get; private init; } = 1 << 22;
    public TimeSpan IdleAfter { get; private init; }

    public static InstanceEnvironment Read()
    {
        long max = 1 << 22, idle = 0;
        if (Environment.GetEnvironmentVariable("CLICKOS_INSTANCE_MAX_PACKETS") is { } m && long.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out long mp) && mp > 0) max = mp;
        if (Environment.GetEnvironmentVariable("CLICKOS_INSTANCE_IDLE_MS") is { } i && long.TryParse(i, NumberStyles.None, CultureInfo.InvariantCulture, out long ms)) idle = ms;
        return new InstanceEnvironment
        {
            NotifySocket = Environment.GetEnvironmentVariable("NOTIFY_SOCKET") is { Length: > 0 } n ? n : null,
            Managed = Environment.GetEnvironmentVariable("CLICKOS_INSTANCE") is { Length: > 0 },
            MaxPackets = max,
            IdleAfter = TimeSpan.FromMilliseconds(idle),
        };
    }

    public DriverHooks? Hooks()
    {
        if (NotifySocket == null) return null;
        int pid = Environment.ProcessId;
        return new DriverHooks
        {
            Ready = () => Notify($"READY=1\nMAINPID={pid}\n"),
            IdleAfter = IdleAfter,
            Idle = IdleAfter > TimeSpan.Zero ? () => Notify($"IDLE=1\nMAINPID={pid}\n") : null,
        };
    }

    private void Notify(string message)
    {
        try
        {
            using var s = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            string path = NotifySocket!.StartsWith('@') ? "\0" + NotifySocket[1..] : NotifySocket;
            s.SendTo(Encoding.UTF8.GetBytes(message), new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException) { }
    }
}
