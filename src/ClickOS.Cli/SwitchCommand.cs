using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Spectre.Console;

namespace ClickOS.Cli;

/// <summary>`clickos switch VERB`: the host switch's ports, counters and chains through the host's API.</summary>
internal static class SwitchCommand
{
    public const string Usage = """
        Usage: clickos switch [--socket PATH | --url URL --token-file FILE] [--json] VERB ARGS...

        Verbs:
          ports                       every port: kind, state, MAC, device, chain
          stats                       packet and byte counters per port, drops, learned MACs
          chain PORT PORT             join two ports as a wire (service chaining), e.g.
                                      'clickos switch chain fw:vif1 nat:vif0'
          unchain PORT                undo the chain PORT is in
          add null|nic|tap NAME [--device DEV] [--mac MAC]
                                      add a port: a sink, an existing interface (AF_PACKET,
                                      needs --device), or a new TAP interface
          remove NAME                 remove a port that no instance owns

        Instance ports are named INSTANCE:vifN. Exit status: 0 done, 1 the host refused (the
        error is printed), 2 usage errors or no host.

        """;

    private const string Prog = "clickos switch";

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? socket = Environment.GetEnvironmentVariable("CLICKOS_HOST_SOCKET"), url = null, tokenFile = null, device = null, mac = null;
        bool json = false;
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--socket" or "--url" or "--token-file" or "--device" or "--mac")
            {
                if (i + 1 >= args.Length) return UsageError(stderr, $"'{a}' requires an argument");
                string v = args[++i];
                switch (a)
                {
                    case "--socket": socket = v; break;
                    case "--url": url = v; break;
                    case "--token-file": tokenFile = v; break;
                    case "--device": device = v; break;
                    default: mac = v; break;
                }
            }
            else if (a == "--json") json = true;
            else if (a is "--help" or "-h") { stdout.Write(Usage); return 0; }
            else if (a.StartsWith("--", StringComparison.Ordinal)) return UsageError(stderr, $"unrecognized option '{a}'");
            else rest.Add(a);
        }
        if (rest.Count == 0) return UsageError(stderr, "a verb is required");
        string verb = rest[0];
        int? usage = verb switch
        {
            "ports" or "stats" => rest.Count == 1 ? null : UsageError(stderr, $"'{verb}' takes no arguments"),
            "chain" => rest.Count == 3 ? null : UsageError(stderr, "chain PORT PORT"),
            "unchain" or "remove" => rest.Count == 2 ? null : UsageError(stderr, $"{verb} PORT"),
            "add" => rest.Count == 3 && rest[1] is "null" or "nic" or "tap" ? null : UsageError(stderr, "add null|nic|tap NAME [--device DEV] [--mac MAC]"),
            _ => UsageError(stderr, $"unknown verb '{verb}'"),
        };
        if (usage is int u) return u;
        if (verb == "add" && rest[1] == "nic" && device == null) return UsageError(stderr, "a nic port needs --device: the interface to attach");
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.Detect, ColorSystem = ColorSystemSupport.Detect });
        HttpClient http;
        try { http = InstanceCommand.MakeClient(socket, url, tokenFile); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or UriFormatException)
        {
            stderr.Write($"{Prog}: {ex.Message}\n");
            return 2;
        }
        using var _ = http;
        return InstanceCommand.Guarded(Prog, stderr, () => verb switch
            {
                "ports" => Ports(InstanceCommand.Send(http, HttpMethod.Get, "v1/switch"), json, console, stdout, stderr),
                "stats" => Stats(InstanceCommand.Send(http, HttpMethod.Get, "v1/switch"), json, console, stdout, stderr),
                "chain" => Done(InstanceCommand.Send(http, HttpMethod.Post, "v1/switch/chains", Body(w => { w.WriteString("from", rest[1]); w.WriteString("to", rest[2]); })),
                    json, $"chained {rest[1]} <-> {rest[2]}", stdout, stderr),
                "unchain" => Done(InstanceCommand.Send(http, HttpMethod.Delete, $"v1/switch/chains/{Uri.EscapeDataString(rest[1])}"), json, $"unchained {rest[1]}", stdout, stderr),
                "add" => Done(InstanceCommand.Send(http, HttpMethod.Post, "v1/switch/ports", Body(w =>
                {
                    w.WriteString("kind", rest[1]);
                    w.WriteString("name", rest[2]);
                    if (device != null) w.WriteString("device", device);
                    if (mac != null) w.WriteString("mac", mac);
                })), json, $"added {rest[1]} port {rest[2]}", stdout, stderr),
                _ => Done(InstanceCommand.Send(http, HttpMethod.Delete, $"v1/switch/ports/{Uri.EscapeDataString(rest[1])}"), json, $"removed {rest[1]}", stdout, stderr),
            });
    }

    private static ByteArrayContent Body(Action<Utf8JsonWriter> fill)
    {
        var buf = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            fill(w);
            w.WriteEndObject();
        }
        var c = new ByteArrayContent(buf.WrittenSpan.ToArray());
        c.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return c;
    }

    private static int UsageError(TextWriter stderr, string msg)
    {
        stderr.Write($"{Prog}: {msg}\nTry 'clickos switch --help' for more information.\n");
        return 2;
    }

    private static string S(JsonElement e, string k) => e.TryGetProperty(k, out var v) ? InstanceCommand.Scalar(v) : "";

    private static int Ports((int Status, string Body) r, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        if (InstanceCommand.ErrorOrJson(r, json, stdout, stderr, Prog) is int done) return done;
        using var doc = JsonDocument.Parse(r.Body);
        var table = new Table().AddColumns("PORT", "KIND", "STATE", "MAC", "DEVICE", "CHAINED TO");
        foreach (var p in doc.RootElement.GetProperty("ports").EnumerateArray())
        {
            string state = S(p, "state") == "shut" ? $"shut: {S(p, "reason")}" : S(p, "state");
            table.AddRow(Markup.Escape(S(p, "name")), S(p, "kind"), Markup.Escape(state), S(p, "mac"), Markup.Escape(S(p, "device")), Markup.Escape(S(p, "chained_to")));
        }
        console.Write(table);
        return 0;
    }

    private static int Stats((int Status, string Body) r, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        if (InstanceCommand.ErrorOrJson(r, json, stdout, stderr, Prog) is int done) return done;
        using var doc = JsonDocument.Parse(r.Body);
        var root = doc.RootElement;
        var table = new Table().AddColumns("PORT", "RX PACKETS", "RX BYTES", "TX PACKETS", "TX BYTES", "DROPS", "ERRORS");
        foreach (var c in table.Columns.Skip(1)) c.RightAligned();
        foreach (var p in root.GetProperty("ports").EnumerateArray())
            table.AddRow(Markup.Escape(S(p, "name")), S(p, "rx_packets"), S(p, "rx_bytes"), S(p, "tx_packets"), S(p, "tx_bytes"), S(p, "drops"), S(p, "errors"));
        console.Write(table);
        stdout.Write($"learned MACs {S(root, "macs")}, rounds {S(root, "rounds")}, sleeps {S(root, "sleeps")}\n");
        return 0;
    }

    private static int Done((int Status, string Body) r, bool json, string message, TextWriter stdout, TextWriter stderr)
    {
        if (r.Status >= 300) return InstanceCommand.Fail(r, json, stdout, stderr, Prog);
        if (json) stdout.Write(r.Body.Length > 0 ? (r.Body.EndsWith('\n') ? r.Body : r.Body + "\n") : "{\"ok\": true}\n");
        else stdout.Write(message + "\n");
        return 0;
    }
}
