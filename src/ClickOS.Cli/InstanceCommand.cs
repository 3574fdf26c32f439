using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using ClickOS.Host;
using Spectre.Console;

namespace ClickOS.Cli;

/// <summary>`clickos instance VERB`: the host's API from the command line.</summary>
internal static class InstanceCommand
{
    public const string Usage = """
        Usage: clickos instance [--socket PATH | --url URL --token-file FILE] [--json] VERB ARGS...

        Verbs:
          create NAME FILE [--isolation process|shared] [--memory 8M] [--cpu 0.2]
                 [--idle-sleep 30s] [--restart never|on-failure] [--netns NS] [--vifs N] [--no-wait]
          list
          status NAME
          start|stop|pause|resume|destroy NAME
          logs NAME [--tail N]
          stats NAME
          reconfigure NAME FILE       hot-swap a new configuration, keeping state
          read NAME HANDLER [PARAM]
          write NAME HANDLER [VALUE...]

        The host's API socket is --socket, else $CLICKOS_HOST_SOCKET, else api.sock in the
        host's directory. Exit status: 0 done, 1 the host refused (the error is printed),
        2 usage errors or no host.

        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? socket = Environment.GetEnvironmentVariable("CLICKOS_HOST_SOCKET"), url = null, tokenFile = null;
        bool json = false;
        var rest = new List<string>();
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] valued = ["--isolation", "--memory", "--cpu", "--idle-sleep", "--restart", "--netns", "--vifs", "--tail"];
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--socket" or "--url" or "--token-file" || valued.Contains(a))
            {
                if (i + 1 >= args.Length) return UsageError(stderr, $"'{a}' requires an argument");
                string v = args[++i];
                if (a == "--socket") socket = v;
                else if (a == "--url") url = v;
                else if (a == "--token-file") tokenFile = v;
                else opts[a] = v;
            }
            else if (a == "--json") json = true;
            else if (a == "--no-wait") opts[a] = "";
            else if (a is "--help" or "-h") { stdout.Write(Usage); return 0; }
            else if (a.StartsWith("--", StringComparison.Ordinal) && rest.Count < 3) return UsageError(stderr, $"unrecognized option '{a}'");
            else rest.Add(a);
        }
        if (rest.Count == 0) return UsageError(stderr, "a verb is required");
        string verb = rest[0];
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout), Ansi = AnsiSupport.Detect, ColorSystem = ColorSystemSupport.Detect });

        HttpClient http;
        try
        {
            http = MakeClient(socket, url, tokenFile);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or UriFormatException)
        {
            stderr.Write($"clickos instance: {ex.Message}\n");
            return 2;
        }
        using var _ = http;
        return Guarded("clickos instance", stderr, () => verb switch
            {
                "create" => Create(http, rest, opts, json, console, stdout, stderr),
                "list" => Need(rest, 1, stderr) ?? List(http, json, console, stdout, stderr),
                "status" => Need(rest, 2, stderr) ?? Show(Send(http, HttpMethod.Get, $"v1/instances/{Esc(rest[1])}"), json, console, stdout, stderr),
                "start" or "stop" or "pause" or "resume" => Need(rest, 2, stderr)
                    ?? Show(Send(http, HttpMethod.Post, $"v1/instances/{Esc(rest[1])}/{verb}"), json, console, stdout, stderr),
                "destroy" => Need(rest, 2, stderr) ?? Done(Send(http, HttpMethod.Delete, $"v1/instances/{Esc(rest[1])}"), json, $"destroyed {rest[1]}", stdout, stderr),
                "logs" => Need(rest, 2, stderr) ?? Text(Send(http, HttpMethod.Get, $"v1/instances/{Esc(rest[1])}/logs?tail={opts.GetValueOrDefault("--tail", "200")}"), json, stdout, stderr),
                "stats" => Need(rest, 2, stderr) ?? Stats(Send(http, HttpMethod.Get, $"v1/instances/{Esc(rest[1])}/stats"), json, console, stdout, stderr),
                "reconfigure" => Need(rest, 3, stderr) ?? Reconfigure(http, rest, json, console, stdout, stderr),
                "read" => rest.Count is < 3 or > 4 ? UsageError(stderr, "read NAME HANDLER [PARAM]")
                    : Text(Send(http, HttpMethod.Get, $"v1/instances/{Esc(rest[1])}/handlers/{Esc(rest[2])}" + (rest.Count == 4 ? $"?param={Uri.EscapeDataString(rest[3])}" : "")), json, stdout, stderr),
                "write" => rest.Count < 3 ? UsageError(stderr, "write NAME HANDLER [VALUE...]")
                    : Done(Send(http, HttpMethod.Put, $"v1/instances/{Esc(rest[1])}/handlers/{Esc(rest[2])}", new StringContent(string.Join(' ', rest.Skip(3)))), json, "", stdout, stderr),
                _ => UsageError(stderr, $"unknown verb '{verb}'"),
            });
    }

    /// <summary>Runs an API call; a host that cannot be reached or does not answer is exit status 2.</summary>
    internal static int Guarded(string prog, TextWriter stderr, Func<int> call)
    {
        try { return call(); }
        catch (HttpRequestException ex)
        {
            stderr.Write($"{prog}: cannot reach the host ({ex.Message}); is 'clickos host' running?\n");
            return 2;
        }
        catch (System.Threading.Tasks.TaskCanceledException)
        {
            stderr.Write($"{prog}: the host did not answer in time\n");
            return 2;
        }
    }

    private static string Esc(string s) => Uri.EscapeDataString(s);

    private static int? Need(List<string> rest, int n, TextWriter stderr) =>
        rest.Count == n ? null : UsageError(stderr, $"'{rest[0]}' takes {(n == 1 ? "no arguments" : n == 2 ? "NAME" : "NAME FILE")}");

    private static int UsageError(TextWriter stderr, string msg)
    {
        stderr.Write($"clickos instance: {msg}\nTry 'clickos instance --help' for more information.\n");
        return 2;
    }

    internal static HttpClient MakeClient(string? socket, string? url, string? tokenFile)
    {
        if (url != null)
        {
            var c = new HttpClient { BaseAddress = new Uri(url.EndsWith('/') ? url : url + "/"), Timeout = TimeSpan.FromSeconds(120) };
            if (tokenFile != null)
                c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", File.ReadLines(tokenFile).FirstOrDefault()?.Trim() ?? "");
            return c;
        }
        return HostHttpClient.ForUnixSocket(socket ?? Path.Combine(HostCommand.DefaultDirectory(), "api.sock"), TimeSpan.FromSeconds(120));
    }

    internal static (int Status, string Body) Send(HttpClient http, HttpMethod method, string path, HttpContent? content = null)
    {
        using var req = new HttpRequestMessage(method, path) { Content = content };
        using var resp = http.Send(req);
        using var reader = new StreamReader(resp.Content.ReadAsStream(), Encoding.UTF8);
        return ((int)resp.StatusCode, reader.ReadToEnd());
    }

    /// <summary>An API error (printed; exit 1) or, with --json, the API's answer as is (exit 0); null: the caller renders the answer.</summary>
    internal static int? ErrorOrJson((int Status, string Body) r, bool json, TextWriter stdout, TextWriter stderr, string prog = "clickos instance")
    {
        if (r.Status >= 300) return Fail(r, json, stdout, stderr, prog);
        if (!json) return null;
        stdout.Write(r.Body.EndsWith('\n') ? r.Body : r.Body + "\n");
        return 0;
    }

    /// <summary>A JSON value as a table cell: strings unquoted, anything else as written.</summary>
    internal static string Scalar(JsonElement v) => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText();

    /// <summary>Prints an API error (message, then details such as file:line errors); exit 1.</summary>
    internal static int Fail((int Status, string Body) r, bool json, TextWriter stdout, TextWriter stderr, string prog = "clickos instance")
    {
        if (json)
        {
            stdout.Write(r.Body.EndsWith('\n') ? r.Body : r.Body + "\n");
            return 1;
        }
        try
        {
            using var doc = JsonDocument.Parse(r.Body);
            var e = doc.RootElement.GetProperty("error");
            stderr.Write($"{prog}: {e.GetProperty("message").GetString()}\n");
            foreach (var d in e.GetProperty("details").EnumerateArray()) stderr.Write($"  {d.GetString()}\n");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            stderr.Write($"{prog}: the host answered {r.Status}\n");
        }
        return 1;
    }

    private static int Create(HttpClient http, List<string> rest, Dictionary<string, string> opts, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        if (rest.Count != 3) return UsageError(stderr, "create NAME FILE [options]");
        string name = rest[1], file = rest[2];
        string config;
        try { config = file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file, Encoding.Latin1); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.Write($"clickos instance: {file}: {ClickOS.Core.IOErrorText.Of(ex)}\n");
            return 2;
        }
        var buf = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("config", config);
            w.WriteString("config_name", file == "-" ? "<stdin>" : file);
            w.WriteString("isolation", opts.GetValueOrDefault("--isolation", "process"));
            if (opts.TryGetValue("--memory", out var mem))
            {
                if (!InstanceSpec.TryParseSize(mem, out long bytes)) return UsageError(stderr, $"--memory wants a size like 8M, not '{mem}'");
                w.WriteNumber("memory_max", bytes);
            }
            if (opts.TryGetValue("--cpu", out var cpu))
            {
                if (!double.TryParse(cpu, NumberStyles.Float, CultureInfo.InvariantCulture, out double cores) || cores < 0) return UsageError(stderr, $"--cpu wants a number of cores like 0.2, not '{cpu}'");
                w.WriteNumber("cpus", cores);
            }
            if (opts.TryGetValue("--idle-sleep", out var idle))
            {
                if (!InstanceSpec.TryParseDuration(idle, out var t)) return UsageError(stderr, $"--idle-sleep wants a duration like 30s, not '{idle}'");
                w.WriteNumber("idle_sleep_ms", (long)t.TotalMilliseconds);
            }
            w.WriteString("restart", opts.GetValueOrDefault("--restart", "never"));
            if (opts.TryGetValue("--netns", out var ns)) w.WriteString("netns", ns);
            if (opts.TryGetValue("--vifs", out var vifs))
            {
                if (!int.TryParse(vifs, NumberStyles.None, CultureInfo.InvariantCulture, out int nv) || nv > 64) return UsageError(stderr, $"--vifs wants a number of switch ports from 0 to 64, not '{vifs}'");
                w.WriteNumber("vifs", nv);
            }
            w.WriteEndObject();
        }
        string query = opts.ContainsKey("--no-wait") ? "?wait=false" : "";
        var content = new ByteArrayContent(buf.WrittenSpan.ToArray());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        (int Status, string Body) r = default;
        if (!json && !Console.IsOutputRedirected)
            console.Status().Start($"creating {name}…", _ => r = Send(http, HttpMethod.Post, "v1/instances" + query, content));
        else r = Send(http, HttpMethod.Post, "v1/instances" + query, content);
        return Show(r, json, console, stdout, stderr);
    }

    private static int Reconfigure(HttpClient http, List<string> rest, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        string config;
        try { config = rest[2] == "-" ? Console.In.ReadToEnd() : File.ReadAllText(rest[2], Encoding.Latin1); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            stderr.Write($"clickos instance: {rest[2]}: {ClickOS.Core.IOErrorText.Of(ex)}\n");
            return 2;
        }
        return Show(Send(http, HttpMethod.Post, $"v1/instances/{Esc(rest[1])}/reconfigure", new StringContent(config, Encoding.Latin1)), json, console, stdout, stderr);
    }

    private static int Show((int Status, string Body) r, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        if (ErrorOrJson(r, json, stdout, stderr) is int done) return done;
        using var doc = JsonDocument.Parse(r.Body);
        var e = doc.RootElement;
        var grid = new Grid().AddColumn().AddColumn();
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name == "config") continue;
            grid.AddRow(new Text(p.Name), new Text(Scalar(p.Value)));
        }
        console.Write(grid);
        return 0;
    }

    private static int List(HttpClient http, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        var r = Send(http, HttpMethod.Get, "v1/instances");
        if (ErrorOrJson(r, json, stdout, stderr) is int done) return done;
        using var doc = JsonDocument.Parse(r.Body);
        var table = new Table().AddColumns("NAME", "STATE", "ISOLATION", "PID", "RESTARTS", "START", "LAST ERROR");
        foreach (var i in doc.RootElement.GetProperty("instances").EnumerateArray())
        {
            string S(string k) => i.TryGetProperty(k, out var v) ? Scalar(v) : "";
            string lat = i.TryGetProperty("start_latency_ms", out var l) ? $"{l.GetDouble():0.0} ms" : "";
            table.AddRow(Markup.Escape(S("name")), Markup.Escape(S("state")), S("isolation"), S("pid"), S("restarts"), lat, Markup.Escape(S("last_error")));
        }
        console.Write(table);
        return 0;
    }

    private static int Stats((int Status, string Body) r, bool json, IAnsiConsole console, TextWriter stdout, TextWriter stderr)
    {
        if (ErrorOrJson(r, json, stdout, stderr) is int done) return done;
        using var doc = JsonDocument.Parse(r.Body);
        var table = new Table().AddColumns("METRIC", "VALUE");
        foreach (var p in doc.RootElement.EnumerateObject())
            table.AddRow(p.Name, Markup.Escape(Scalar(p.Value)));
        console.Write(table);
        return 0;
    }

    private static int Text((int Status, string Body) r, bool json, TextWriter stdout, TextWriter stderr)
    {
        if (r.Status >= 300) return Fail(r, json, stdout, stderr);
        if (json)
        {
            using var ms = new MemoryStream();
            using (var w = new Utf8JsonWriter(ms)) { w.WriteStartObject(); w.WriteString("value", r.Body); w.WriteEndObject(); }
            stdout.Write(Encoding.UTF8.GetString(ms.ToArray()) + "\n");
            return 0;
        }
        stdout.Write(r.Body.Length == 0 || r.Body.EndsWith('\n') ? r.Body : r.Body + "\n");
        return 0;
    }

    private static int Done((int Status, string Body) r, bool json, string message, TextWriter stdout, TextWriter stderr)
    {
        if (r.Status >= 300) return Fail(r, json, stdout, stderr);
        if (json) stdout.Write("{\"ok\": true}\n");
        else if (message.Length > 0) stdout.Write(message + "\n");
        return 0;
    }
}
