using System.Net;
using System.Text.Json;

namespace ClickOS.Host.Tests;

public sealed class ApiTests
{
    [Theory]
    [InlineData("process")]
    [InlineData("shared")]
    public void EveryVerbWorks(string isolation)
    {
        using var h = new TestHost();
        var r = h.Create("fw", TestHost.Firewall, isolation);
        Assert.True(r.Status == 201, r.Body);
        var created = JsonDocument.Parse(r.Body).RootElement;
        Assert.Equal("running", created.GetProperty("state").GetString());
        Assert.True(created.GetProperty("start_latency_ms").GetDouble() > 0);

        var list = JsonDocument.Parse(h.Call(HttpMethod.Get, "v1/instances").Body).RootElement.GetProperty("instances");
        Assert.Equal("fw", Assert.Single(list.EnumerateArray()).GetProperty("name").GetString());
        TestHost.WaitFor(() => h.Count("fw") > 2, "packets through the firewall");

        // Handlers: write, then read back.
        Assert.Equal(204, h.Call(HttpMethod.Put, "v1/instances/fw/handlers/src.rate", "1000", "text/plain").Status);
        Assert.Equal("1000", h.Call(HttpMethod.Get, "v1/instances/fw/handlers/src.rate").Body.Trim());

        // Stats and metrics count the traffic.
        var stats = JsonDocument.Parse(h.Call(HttpMethod.Get, "v1/instances/fw/stats").Body).RootElement;
        Assert.True(stats.GetProperty("packets_in").GetDouble() > 0);
        Assert.True(stats.GetProperty("drops").GetDouble() > 0);   // the Discard at the end
        var metrics = h.Call(HttpMethod.Get, "metrics");
        Assert.Equal(200, metrics.Status);
        Assert.Matches("clickos_instance_packets_in_total\\{instance=\"fw\"\\} [1-9]", metrics.Body);
        Assert.Contains("clickos_instance_state{instance=\"fw\",state=\"running\"} 1", metrics.Body);

        // Pause keeps state; resume continues from it.
        Assert.Equal(200, h.Call(HttpMethod.Post, "v1/instances/fw/pause").Status);
        Assert.Equal("paused", h.State("fw"));
        Assert.Equal(200, h.Call(HttpMethod.Post, "v1/instances/fw/resume").Status);
        long before = h.Count("fw");
        TestHost.WaitFor(() => h.Count("fw") > before, "forwarding after resume");

        // Reconfigure (hot-swap) keeps the counter.
        string next = TestHost.Firewall.Replace("RATE 200", "RATE 300");
        long atSwap = h.Count("fw");
        r = h.Call(HttpMethod.Post, "v1/instances/fw/reconfigure", next, "text/plain");
        Assert.True(r.Status == 200, r.Body);
        Assert.True(h.Count("fw") >= atSwap);
        Assert.Contains("RATE 300", h.Status("fw").GetProperty("config").GetString());

        // Stop, start (counters start again: a new router), logs, destroy.
        Assert.Equal(200, h.Call(HttpMethod.Post, "v1/instances/fw/stop").Status);
        Assert.Equal("stopped", h.State("fw"));
        Assert.Equal(409, h.Call(HttpMethod.Get, "v1/instances/fw/handlers/c.count").Status);
        Assert.Equal(200, h.Call(HttpMethod.Post, "v1/instances/fw/start").Status);
        Assert.Equal("running", h.State("fw"));
        Assert.Equal(200, h.Call(HttpMethod.Get, "v1/instances/fw/logs?tail=10").Status);
        Assert.Equal(204, h.Call(HttpMethod.Delete, "v1/instances/fw").Status);
        Assert.Equal(404, h.Call(HttpMethod.Get, "v1/instances/fw").Status);
        Assert.False(Directory.Exists(Path.Combine(h.Dir, "instances", "fw")));
    }

    [Fact]
    public void ErrorsAreStructuredWithHttpCodes()
    {
        using var h = new TestHost(maxInstances: 2);
        string ok = "InfiniteSource(LIMIT 1) -> Discard;";
        Assert.Equal(201, h.Create("a", ok, "shared").Status);

        var dup = h.Create("a", ok, "shared");
        Assert.Equal(409, dup.Status);
        Assert.Equal("exists", Code(dup.Body));

        var bad = h.Create("b", "x :: Counter(1, 2, 3);\ny :: NoSuchClass;\n", "shared");
        Assert.Equal(422, bad.Status);
        Assert.Equal("bad_config", Code(bad.Body));
        var details = JsonDocument.Parse(bad.Body).RootElement.GetProperty("error").GetProperty("details").EnumerateArray().Select(d => d.GetString()).ToList();
        Assert.Contains(details, d => d!.StartsWith("config:2: ", StringComparison.Ordinal) && d.Contains("NoSuchClass"));
        Assert.Equal(404, h.Call(HttpMethod.Get, "v1/instances/b").Status);   // nothing was created

        Assert.Equal(404, h.Call(HttpMethod.Get, "v1/instances/nope").Status);
        Assert.Equal("not_found", Code(h.Call(HttpMethod.Post, "v1/instances/nope/stop").Body));
        Assert.Equal(404, h.Call(HttpMethod.Get, "v1/instances/nope/handlers/c.count").Status);
        Assert.Equal(404, h.Call(HttpMethod.Get, "v1/instances/a/handlers/nothere.count").Status);
        Assert.Equal(400, h.Call(HttpMethod.Post, "v1/instances", "{not json").Status);
        Assert.Equal(400, h.Create("bad name!", ok).Status);
        Assert.Equal(400, h.Call(HttpMethod.Post, "v1/instances", """{"name": "c", "config": "Idle;", "isolation": "vm"}""").Status);
        Assert.Equal(405, h.Call(HttpMethod.Put, "v1/instances").Status);
        Assert.Equal(404, h.Call(HttpMethod.Get, "v2/whatever").Status);

        Assert.Equal(201, h.Create("c", ok, "shared").Status);
        var over = h.Create("d", ok, "shared");
        Assert.Equal(403, over.Status);
        Assert.Equal("limit_exceeded", Code(over.Body));
    }

    [Fact]
    public async System.Threading.Tasks.Task TcpNeedsTheBearerToken()
    {
        using var h = new TestHost();
        const string token = "0123456789abcdef-test-token";
        using var tcp = HttpServer.ListenTcp(new IPEndPoint(IPAddress.Loopback, 0), token, new HostApi(h.Daemon).Handle);
        tcp.Start();
        using var c = new HttpClient { BaseAddress = new Uri($"http://{tcp.LocalEndPoint}/") };
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("v1/instances")).StatusCode);
        c.DefaultRequestHeaders.Authorization = new("Bearer", "wrong-token-wrong-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await c.GetAsync("v1/instances")).StatusCode);
        c.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await c.GetAsync("v1/instances")).StatusCode);
        Assert.Throws<ArgumentException>(() => HttpServer.ListenTcp(new IPEndPoint(IPAddress.Any, 0), token, _ => null!));
    }

    [Fact]
    public void DesiredStateSurvivesAHostCrash()
    {
        using var h = new TestHost();
        Assert.Equal(201, h.Create("p", TestHost.Firewall).Status);
        Assert.Equal(201, h.Create("s", TestHost.Firewall, "shared").Status);
        TestHost.WaitFor(() => h.Count("p") > 2 && h.Count("s") > 2, "traffic");
        int pid = h.Status("p").GetProperty("pid").GetInt32();
        long p0 = h.Count("p"), s0 = h.Count("s");
        h.CrashAndRestart();
        // Adopted, not restarted: same process, counters carry on.
        Assert.Equal("running", h.State("p"));
        Assert.Equal(pid, h.Status("p").GetProperty("pid").GetInt32());
        Assert.True(h.Count("p") >= p0);
        Assert.True(h.Count("s") >= s0);
    }

    [Fact]
    public void ControlSocketPassThroughServesClickTools()
    {
        using var h = new TestHost();
        Assert.Equal(201, h.Create("s", TestHost.Firewall, "shared").Status);
        Assert.Equal(201, h.Create("p", TestHost.Firewall).Status);
        foreach (var name in new[] { "s", "p" })
        {
            string path = h.Status(name).GetProperty("control_socket").GetString()!;
            using var c = ClickOS.Control.ControlClient.ConnectUnix(path, TimeSpan.FromSeconds(10));
            Assert.Equal("1.3", c.Version);
            var r = c.Read("c.count");
            Assert.True(r.Ok, r.ToString());
            Assert.True(long.Parse(r.DataText.Trim()) >= 0);
            Assert.Equal(511, c.Read("c.nosuch").Code);
        }
    }

    private static string Code(string body) => JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("code").GetString()!;
}
