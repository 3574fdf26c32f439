using System.Text;
using System.Text.Json;
using ClickOS.Host;

namespace ClickOS.Host.Tests;

/// <summary>A host in a temporary directory with its API on a Unix socket, and an HTTP client for it.</summary>
public sealed class TestHost : IDisposable
{
    public static string Clickos => Path.Combine(AppContext.BaseDirectory, "clickos");

    public const string Firewall = """
        src :: RatedSource(\<45000028000000004006f97cc0a80001c0a800020400005000000000000000005002200000000000>, RATE 200)
        -> EtherEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02)
        -> cl :: Classifier(12/0800, -)
        -> Strip(14)
        -> CheckIPHeader
        -> IPFilter(allow tcp dst port 80, deny all)
        -> DecIPTTL
        -> Unstrip(14)
        -> c :: Counter
        -> Discard;
        cl[1] -> Discard;
        """;

    public string Dir { get; }
    public HostDaemon Daemon { get; private set; }
    public HttpClient Http { get; }
    private HttpServer _api;
    private bool _disposed;
    private readonly bool _cgroups;

    public TestHost(int maxInstances = 100, TimeSpan? hang = null, string? dir = null, bool cgroups = true)
    {
        Dir = dir ?? Directory.CreateTempSubdirectory("clickos-host-").FullName;
        _cgroups = cgroups;
        (Daemon, _api) = Open(maxInstances, hang);
        Http = HostHttpClient.ForUnixSocket(Path.Combine(Dir, "api.sock"), TimeSpan.FromSeconds(60));
    }

    private (HostDaemon, HttpServer) Open(int maxInstances, TimeSpan? hang)
    {
        var d = new HostDaemon(new HostOptions
        {
            Directory = Dir, ClickosPath = Clickos, MaxInstances = maxInstances, SharedLanes = 2,
            HangTimeout = hang ?? TimeSpan.FromSeconds(2), StopTimeout = TimeSpan.FromSeconds(3), UseCgroups = _cgroups,
        });
        d.Start();
        var api = HttpServer.ListenUnix(Path.Combine(Dir, "api.sock"), new HostApi(d).Handle);
        api.Start();
        return (d, api);
    }

    /// <summary>Drops the host as a crash would (instances keep running), then starts a new one on the same directory.</summary>
    public void CrashAndRestart()
    {
        _api.Dispose();
        Daemon.Dispose();
        (Daemon, _api) = Open(100, null);
    }

    public static string Spec(string name, string config, string isolation = "process", string extra = "")
    {
        var sb = new StringBuilder();
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("config", config);
            w.WriteString("isolation", isolation);
            w.WriteEndObject();
        }
        string json = Encoding.UTF8.GetString(ms.ToArray());
        return extra.Length == 0 ? json : json[..^1] + "," + extra + "}";
    }

    public (int Status, string Body) Call(HttpMethod m, string path, string? body = null, string type = "application/json")
    {
        using var req = new HttpRequestMessage(m, path);
        if (body != null) req.Content = new StringContent(body, Encoding.UTF8, type);
        using var resp = Http.Send(req);
        return ((int)resp.StatusCode, resp.Content.ReadAsStringAsync().Result);
    }

    public (int Status, string Body) Create(string name, string config, string isolation = "process", string extra = "") =>
        Call(HttpMethod.Post, "v1/instances", Spec(name, config, isolation, extra));

    public JsonElement Status(string name)
    {
        var r = Call(HttpMethod.Get, $"v1/instances/{name}");
        Assert.Equal(200, r.Status);
        return JsonDocument.Parse(r.Body).RootElement.Clone();
    }

    public string State(string name) => Status(name).GetProperty("state").GetString()!;

    public long Count(string name, string handler = "c.count")
    {
        var r = Call(HttpMethod.Get, $"v1/instances/{name}/handlers/{handler}");
        Assert.True(r.Status == 200, $"read {name} {handler}: {r.Status} {r.Body}");
        return long.Parse(r.Body.Trim());
    }

    public static void WaitFor(Func<bool> cond, string what, int ms = 15000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(ms);
        while (!cond())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _api.Dispose();
        Daemon.Shutdown(stopInstances: true);
        Http.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}
