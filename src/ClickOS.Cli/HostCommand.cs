using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using ClickOS.Host;

namespace ClickOS.Cli;

/// <summary>`clickos host` (the daemon) and `clickos worker` (a shared-isolation worker it starts).</summary>
internal static class HostCommand
{
    public const string Usage = """
        Usage: clickos host [OPTION]...
        Runs the ClickOS host: creates, supervises and persists middlebox instances, and serves
        the HTTP/JSON API ('clickos instance' talks to it).

          --dir DIR            state directory (default $CLICKOS_HOST_DIR, /var/lib/clickos as
                               root, else ~/.local/state/clickos)
          --socket PATH        API Unix socket (default DIR/api.sock)
          --listen ADDR:PORT   also serve the API on loopback TCP (needs --token-file)
          --token-file FILE    bearer token for TCP clients (first line of FILE)
          --max-instances N    limit on instances (default 10000; 2000 of them process-isolated)
          --no-cgroups         do not use cgroups (limits via the runtime's heap limit; pause via SIGSTOP)
          --shared-lanes N     threads of the shared worker (default: the number of cores)
          --vif-slots N        2 KB slots per virtual-port ring and direction (a power of two,
                               64 to 16384; default 2048). More slots mean fewer wake-ups under
                               load and more memory: 2048 use up to 8 MB of /dev/shm per port.

        SIGINT/SIGTERM stop the host and its instances (they are restored on the next start).
        A host killed with -9 leaves instances running; the next start adopts them.

        """;

    public static string DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable("CLICKOS_HOST_DIR") is { Length: > 0 } d) return d;
        if (Environment.UserName == "root") return "/var/lib/clickos";
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "clickos");
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string dir = DefaultDirectory();
        string? socket = null, listen = null, tokenFile = null;
        int max = 10_000, lanes = Environment.ProcessorCount, vifSlots = 2048;
        bool cgroups = true;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next()
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"'{a}' requires an argument");
                return args[++i];
            }
            try
            {
                switch (a)
                {
                    case "--dir": dir = Next(); break;
                    case "--socket": socket = Next(); break;
                    case "--listen": listen = Next(); break;
                    case "--token-file": tokenFile = Next(); break;
                    case "--max-instances": max = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--shared-lanes": lanes = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--vif-slots":
                        vifSlots = int.Parse(Next(), CultureInfo.InvariantCulture);
                        if (vifSlots < 64 || vifSlots > 16384 || (vifSlots & (vifSlots - 1)) != 0)
                            throw new ArgumentException($"--vif-slots wants a power of two from 64 to 16384, not {vifSlots}");
                        break;
                    case "--no-cgroups": cgroups = false; break;
                    case "--help" or "-h": stdout.Write(Usage); return 0;
                    default: throw new ArgumentException($"unrecognized option '{a}'");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
            {
                stderr.Write($"clickos host: {ex.Message}\n{Usage}");
                return 1;
            }
        }
        string? token = null;
        IPEndPoint? tcp = null;
        if (listen != null)
        {
            if (!IPEndPoint.TryParse(listen, out tcp) || !IPAddress.IsLoopback(tcp.Address) || tcp.Port == 0)
            {
                stderr.Write($"clickos host: --listen wants a loopback ADDR:PORT (like 127.0.0.1:7777), not '{listen}'\n");
                return 1;
            }
            if (tokenFile == null)
            {
                stderr.Write("clickos host: --listen needs --token-file: TCP clients must send a bearer token\n");
                return 1;
            }
            try { token = File.ReadLines(tokenFile).FirstOrDefault()?.Trim(); }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { stderr.Write($"clickos host: {tokenFile}: {ex.Message}\n"); return 1; }
            if (string.IsNullOrEmpty(token) || token.Length < 16)
            {
                stderr.Write($"clickos host: {tokenFile}: the token must be at least 16 characters\n");
                return 1;
            }
        }
        socket ??= Path.Combine(dir, "api.sock");

        HostDaemon daemon;
        try
        {
            daemon = new HostDaemon(new HostOptions { Directory = dir, MaxInstances = max, UseCgroups = cgroups, SharedLanes = lanes, VifSlots = vifSlots });
            daemon.Start();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException or InvalidDataException or System.Text.Json.JsonException)
        {
            stderr.Write($"clickos host: {ex.Message}\n");
            return 1;
        }
        var api = new HostApi(daemon);
        using var unix = HttpServer.ListenUnix(socket, api.Handle);
        unix.Start();
        using var tcpServer = tcp != null ? HttpServer.ListenTcp(tcp, token!, api.Handle) : null;
        tcpServer?.Start();
        stderr.Write($"clickos host: {daemon.List().Count} instances; API on {socket}{(tcpServer != null ? $" and http://{tcpServer.LocalEndPoint}" : "")}; cgroups: {daemon.Cgroups.Describe}\n");
        stderr.Flush();

        using var stop = new ManualResetEventSlim(false);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; stop.Set(); });
        stop.Wait();
        stderr.Write("clickos host: stopping instances\n");
        stderr.Flush();
        daemon.Shutdown(stopInstances: true);
        return 0;
    }

    /// <summary>`clickos worker --socket PATH [--lanes N] [--hang-timeout-ms MS]`: started by the host.</summary>
    public static int Worker(string[] args, TextWriter stderr)
    {
        string? socket = null;
        int lanes = Environment.ProcessorCount, hangMs = 5000;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--socket": socket = args[i + 1]; break;
                case "--lanes": lanes = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--hang-timeout-ms": hangMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: stderr.Write($"clickos worker: unrecognized option '{args[i]}'\n"); return 1;
            }
        }
        if (socket == null)
        {
            stderr.Write("clickos worker: --socket PATH is required (the host starts workers)\n");
            return 1;
        }
        using var worker = new SharedWorker(socket, lanes, TimeSpan.FromMilliseconds(hangMs));
        return worker.Run();
    }
}
