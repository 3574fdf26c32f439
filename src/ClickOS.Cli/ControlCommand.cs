using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ClickOS.Control;

namespace ClickOS.Cli;

/// <summary>
/// "clickos control": a ControlSocket client for this driver and for the reference Click alike.
/// Human-readable output by default; --json prints one JSON object per reply.
/// </summary>
public static class ControlCommand
{
    public const string Usage = """
        Usage: clickos control [TARGET] [--json] [--timeout SEC] COMMAND [ARGS]...

        Talks to a running router's ControlSocket (clickos run -p/-u, or Click's own).

        Target (default: -p 7777):
          -p, --port PORT       TCP port on --host (default host 127.0.0.1)
              --host HOST       host for --port; HOST:PORT also accepted
          -u, --unix PATH       UNIX-domain socket

        Commands:
          read HANDLER [PARAM]...   call a read handler and print its value
          write HANDLER [VALUE]...  call a write handler
          check HANDLER             say whether HANDLER is readable and writable
          list                      list the router's elements
          handlers [ELEMENT]        list ELEMENT's handlers (or the global ones)
          hotswap FILE              replace the configuration, keeping state ('-': stdin;
                                    needs a router started with -R)
          watch HANDLER [--interval SEC] [--count N]
                                    read HANDLER repeatedly (Ctrl-C stops)

        Exit status: 0 on success, 1 when the router reports an error, 2 when it cannot be reached.

        """;

    private sealed class Options
    {
        public string Host = "127.0.0.1";
        public int Port = 7777;
        public string? Unix;
        public bool Json;
        public double Timeout = 10, Interval = 1;
        public long Count = long.MaxValue;
        public readonly List<string> Words = [];
    }

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancel = default)
    {
        var o = new Options();
        string? error = Parse(args, o);
        if (error != null)
        {
            stderr.Write($"clickos control: {error}\n{Usage}");
            return 2;
        }
        if (o.Words.Count == 0 || o.Words[0] is "help" or "--help")
        {
            (o.Words.Count == 0 ? stderr : stdout).Write(Usage);
            return o.Words.Count == 0 ? 2 : 0;
        }
        ControlClient client;
        string target = o.Unix ?? $"{o.Host}:{o.Port}";
        try
        {
            var timeout = TimeSpan.FromSeconds(o.Timeout);
            client = o.Unix != null ? ControlClient.ConnectUnix(o.Unix, timeout) : ControlClient.ConnectTcp(o.Host, o.Port, timeout);
        }
        catch (Exception ex) when (ex is SocketException or ControlProtocolException or AggregateException or IOException)
        {
            return Unreachable(o, target, ex, stdout, stderr);
        }
        using (client)
        {
            try
            {
                return Execute(client, o, stdout, stderr, cancel);
            }
            catch (Exception ex) when (ex is SocketException or ControlProtocolException or IOException)
            {
                return Unreachable(o, target, ex, stdout, stderr);
            }
        }
    }

    private static int Unreachable(Options o, string target, Exception ex, TextWriter stdout, TextWriter stderr)
    {
        if (ex is AggregateException { InnerException: { } inner }) ex = inner;
        string why = ex switch
        {
            SocketException se => se.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "Connection refused",
                SocketError.TimedOut => "Connection timed out",
                SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported => "No such file or directory",
                SocketError.AccessDenied => "Permission denied",
                _ => se.SocketErrorCode.ToString(),
            },
            _ => ex.Message,
        };
        if (o.Json) WriteJson(stdout, w => { w.WriteString("target", target); w.WriteString("error", why); });
        else stderr.Write($"clickos control: {target}: {why}\n");
        return 2;
    }

    private static string? Parse(string[] args, Options o)
    {
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string? Value() => i + 1 < args.Length ? args[++i] : null;
            switch (a)
            {
                case "-p" or "--port":
                {
                    string? v = Value();
                    if (v == null || !int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out o.Port) || o.Port > 65535)
                        return $"'{a}' expects a TCP port number";
                    break;
                }
                case "--host":
                {
                    string? v = Value();
                    if (v == null) return "'--host' expects a host";
                    int colon = v.LastIndexOf(':');
                    if (colon > 0 && int.TryParse(v[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p))
                    {
                        o.Host = v[..colon];
                        o.Port = p;
                    }
                    else o.Host = v;
                    break;
                }
                case "-u" or "--unix":
                    o.Unix = Value() ?? "";
                    if (o.Unix.Length == 0) return $"'{a}' expects a socket path";
                    break;
                case "--json": o.Json = true; break;
                case "--timeout":
                    if (!double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out o.Timeout) || o.Timeout <= 0)
                        return "'--timeout' expects seconds";
                    break;
                case "--interval":
                    if (!double.TryParse(Value(), NumberStyles.Float, CultureInfo.InvariantCulture, out o.Interval) || o.Interval < 0)
                        return "'--interval' expects seconds";
                    break;
                case "--count":
                    if (!long.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out o.Count) || o.Count < 1)
                        return "'--count' expects a positive integer";
                    break;
                default:
                    if (a.StartsWith('-') && a.Length > 1 && o.Words.Count == 0) return $"unrecognized option '{a}'";
                    o.Words.Add(a);
                    break;
            }
        }
        return null;
    }

    private static int Execute(ControlClient c, Options o, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var w = o.Words;
        string verb = w[0];
        string Rest(int from) => string.Join(' ', w.Skip(from));
        switch (verb)
        {
            case "read" when w.Count >= 2:
                return Report(c.Read(w[1], Rest(2)), o, w[1], stdout, stderr, showValue: true);
            case "write" when w.Count >= 2:
                return Report(c.Write(w[1], Rest(2)), o, w[1], stdout, stderr, showValue: false);
            case "check" when w.Count == 2:
            {
                var r = c.Check(w[1], write: false);
                var rw = c.Check(w[1], write: true);
                if (r.Code is ControlCode.NoSuchElement || (!r.Ok && !rw.Ok && r.Messages[0].StartsWith("No ", StringComparison.Ordinal)))
                    return Report(r, o, w[1], stdout, stderr, showValue: false);
                if (o.Json) WriteJson(stdout, j => { j.WriteString("handler", w[1]); j.WriteBoolean("read", r.Ok); j.WriteBoolean("write", rw.Ok); });
                else stdout.Write($"{w[1]}\t{(r.Ok ? "r" : "")}{(rw.Ok ? "w" : "")}\n");
                return 0;
            }
            case "list" when w.Count == 1:
            {
                var r = c.Read("list");
                if (!r.Ok) return Report(r, o, "list", stdout, stderr, showValue: false);
                var names = r.DataText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
                if (o.Json) WriteJson(stdout, j => { j.WriteStartArray("elements"); foreach (var n in names) j.WriteStringValue(n); j.WriteEndArray(); });
                else foreach (var n in names) stdout.Write(n + "\n");
                return 0;
            }
            case "handlers" when w.Count <= 2:
            {
                string h = w.Count == 2 ? w[1] + ".handlers" : "handlers";
                var r = c.Read(h);
                if (!r.Ok) return Report(r, o, h, stdout, stderr, showValue: false);
                var rows = r.DataText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Select(l => l.Split('\t') is var p && p.Length == 2 ? (Name: p[0], Mode: p[1]) : (Name: l, Mode: "")).ToList();
                if (o.Json)
                    WriteJson(stdout, j =>
                    {
                        j.WriteString("element", w.Count == 2 ? w[1] : "");
                        j.WriteStartArray("handlers");
                        foreach (var (name, mode) in rows)
                        {
                            j.WriteStartObject();
                            j.WriteString("name", name);
                            j.WriteBoolean("read", mode.Contains('r'));
                            j.WriteBoolean("write", mode.Contains('w'));
                            j.WriteEndObject();
                        }
                        j.WriteEndArray();
                    });
                else
                {
                    int width = rows.Count == 0 ? 0 : rows.Max(x => x.Name.Length);
                    foreach (var (name, mode) in rows) stdout.Write($"{name.PadRight(width)}  {mode}\n");
                }
                return 0;
            }
            case "hotswap" when w.Count == 2:
            {
                string text;
                try { text = w[1] == "-" ? Console.In.ReadToEnd() : File.ReadAllText(w[1], Encoding.Latin1); }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    stderr.Write($"clickos control: {w[1]}: {ClickOS.Core.IOErrorText.Of(ex)}\n");
                    return 2;
                }
                var r = c.Write("hotconfig", text);
                if (r.Ok && !o.Json)
                {
                    stdout.Write($"hot-swapped {w[1]}\n");
                    foreach (var d in r.Details) stderr.Write($"warning: {d}\n");
                    return 0;
                }
                return Report(r, o, "hotconfig", stdout, stderr, showValue: false);
            }
            case "watch" when w.Count >= 2:
                return Watch(c, o, w[1], Rest(2), stdout, stderr, cancel);
            default:
                stderr.Write($"clickos control: bad command '{string.Join(' ', w)}'\n{Usage}");
                return 2;
        }
    }

    private static int Watch(ControlClient c, Options o, string handler, string param, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        for (long i = 0; i < o.Count && !cancel.IsCancellationRequested; i++)
        {
            if (i > 0 && cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(o.Interval))) break;
            var r = c.Read(handler, param);
            if (!r.Ok) return Report(r, o, handler, stdout, stderr, showValue: false);
            var now = DateTimeOffset.Now;
            if (o.Json)
                WriteJson(stdout, j => { j.WriteString("time", now.ToString("O", CultureInfo.InvariantCulture)); j.WriteString("handler", handler); j.WriteString("value", r.DataText); });
            else
                stdout.Write($"{now.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture)}  {r.DataText.TrimEnd('\n').Replace("\n", "\n              ", StringComparison.Ordinal)}\n");
            stdout.Flush();
        }
        return 0;
    }

    private static int Report(ControlResponse r, Options o, string handler, TextWriter stdout, TextWriter stderr, bool showValue)
    {
        if (o.Json)
        {
            WriteJson(stdout, j =>
            {
                j.WriteString("handler", handler);
                j.WriteNumber("code", r.Code);
                j.WriteBoolean("ok", r.Ok);
                if (showValue && r.Data != null) j.WriteString("value", r.DataText);
                j.WriteStartArray("messages");
                foreach (var m in r.Messages) j.WriteStringValue(m);
                j.WriteEndArray();
            });
            return r.Ok ? 0 : 1;
        }
        if (!r.Ok)
        {
            stderr.Write($"clickos control: {r.Messages[0]}\n");
            foreach (var d in r.Details) stderr.Write($"  {d}\n");
            return 1;
        }
        foreach (var d in r.Details) stderr.Write($"warning: {d}\n");
        if (showValue)
        {
            string v = r.DataText;
            stdout.Write(v.Length == 0 || v[^1] == '\n' ? v : v + "\n");
        }
        return 0;
    }

    private static void WriteJson(TextWriter stdout, Action<Utf8JsonWriter> body)
    {
        using var ms = new MemoryStream();
        // Relaxed escaping: quotes in handler messages stay readable ('x', not \u0027x\u0027).
        using (var j = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            j.WriteStartObject();
            body(j);
            j.WriteEndObject();
        }
        stdout.Write(Encoding.UTF8.GetString(ms.ToArray()) + "\n");
    }
}
