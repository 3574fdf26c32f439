using System.Text;

namespace ClickOS.Cli;

/// <summary>The clickos executable: subcommands.</summary>
public static class ClickOsMain
{
    public const string Usage = """
        Usage: clickos COMMAND [ARGS]...

        Commands:
          run [OPTION]... [ROUTERFILE] [NAME=VALUE]...
                      Run a Click router configuration (options as Click's userlevel driver;
                      'clickos run --help' lists them).
          control [TARGET] COMMAND [ARGS]...
                      Read and write handlers of a running router over its ControlSocket,
                      list elements and handlers, hot-swap a configuration, watch a handler
                      ('clickos control --help' lists them).
          host [OPTION]...
                      Run the ClickOS host daemon: isolated middlebox instances, an HTTP/JSON
                      API, durable state ('clickos host --help').
          instance VERB [ARGS]...
                      Create, list, stop, pause, reconfigure... instances through the host's
                      API ('clickos instance --help').
          switch VERB [ARGS]...
                      The host's switch: ports, counters, service chains, NIC and TAP ports
                      ('clickos switch --help').
          version     Print the version.

        """;

    public static int Run(string[] args)
    {
        var stdout = new StreamWriter(Console.OpenStandardOutput(), Encoding.Latin1, 1 << 16) { AutoFlush = false };
        var stderr = new StreamWriter(Console.OpenStandardError(), Encoding.Latin1, 1 << 16) { AutoFlush = false };
        try
        {
            if (args.Length == 0)
            {
                stderr.Write(Usage);
                return 1;
            }
            switch (args[0])
            {
                case "run":
                    return RunCommand.Run(args[1..], stdout, stderr);
                case "control":
                {
                    using var cts = new CancellationTokenSource();
                    using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                        System.Runtime.InteropServices.PosixSignal.SIGINT, ctx => { ctx.Cancel = true; cts.Cancel(); });
                    return ControlCommand.Run(args[1..], stdout, stderr, cts.Token);
                }
                case "host":
                    return HostCommand.Run(args[1..], stdout, stderr);
                case "worker":
                    return HostCommand.Worker(args[1..], stderr);
                case "instance":
                {
                    // Tables draw with box characters: this output is UTF-8, not Click's Latin-1 bytes.
                    var utf8 = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
                    try { return InstanceCommand.Run(args[1..], utf8, stderr); }
                    finally { utf8.Flush(); }
                }
                case "switch":
                {
                    var utf8 = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = false };
                    try { return SwitchCommand.Run(args[1..], utf8, stderr); }
                    finally { utf8.Flush(); }
                }
                case "version":
                case "--version":
                    stdout.Write(RunCommand.VersionText);
                    return 0;
                case "help":
                case "--help":
                    stdout.Write(Usage);
                    return 0;
                default:
                    stderr.Write($"clickos: unknown command '{args[0]}'\n{Usage}");
                    return 1;
            }
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }
}
