using System.Diagnostics;

namespace ClickOS.Host.Tests;

/// <summary>Faulty instances are contained: the others keep forwarding (checked by their counters).</summary>
public sealed class FaultTests
{
    private static string Faulty(string action, int after = 20) =>
        $"RatedSource(\\<00>, RATE 500) -> f :: FaultInjector({action}, AFTER {after}) -> c :: Counter -> Discard;";

    private static void NeighbourKeepsForwarding(TestHost h, string name)
    {
        long before = h.Count(name);
        TestHost.WaitFor(() => h.Count(name) > before + 5, $"{name} forwarding after the fault");
        Assert.Equal("running", h.State(name));
    }

    [Theory]
    [InlineData("throw", "shared", "injected fault")]
    [InlineData("throw", "process", "exited with status")]
    [InlineData("crash", "process", "killed by signal 6 (SIGABRT)")]
    [InlineData("loop", "shared", "hung")]
    public void AFaultStopsOnlyItsInstance(string action, string isolation, string reason)
    {
        using var h = new TestHost(hang: TimeSpan.FromSeconds(1));
        Assert.Equal(201, h.Create("good", TestHost.Firewall, isolation).Status);
        var r = h.Create("bad", Faulty(action), isolation);
        Assert.True(r.Status == 201, r.Body);
        TestHost.WaitFor(() => h.State("bad") == "failed", "the faulty instance to fail");
        Assert.Contains(reason, h.Status("bad").GetProperty("last_error").GetString());
        NeighbourKeepsForwarding(h, "good");
    }

    [Theory]
    [InlineData(true)]    // the cgroup memory limit (v2 memory.max or v1 memory.limit_in_bytes)
    [InlineData(false)]   // without cgroups: the runtime's heap limit
    public void AnInstanceOverItsMemoryLimitIsKilledAndReported(bool cgroups)
    {
        using var h = new TestHost(cgroups: cgroups);
        Assert.Equal(201, h.Create("good", TestHost.Firewall).Status);
        var r = h.Create("hog", Faulty("allocate", 5), extra: "\"memory_max\": \"48M\"");
        Assert.True(r.Status == 201, r.Body);
        TestHost.WaitFor(() => h.State("hog") == "failed", "the instance to hit its limit");
        Assert.Contains("out of memory", h.Status("hog").GetProperty("last_error").GetString());
        NeighbourKeepsForwarding(h, "good");
    }

    [Fact]
    public void OnFailureRestartsWithBackoff()
    {
        using var h = new TestHost();
        var r = h.Create("flaky", Faulty("throw", 50), "shared", "\"restart\": \"on-failure\"");
        Assert.True(r.Status == 201, r.Body);
        TestHost.WaitFor(() => h.Status("flaky").GetProperty("restarts").GetInt32() >= 2, "two restarts");
        Assert.Contains("injected fault", h.Status("flaky").GetProperty("last_error").GetString());
    }

    [Fact]
    public void AHostKilledWithSigkillComesBackWithEveryInstance()
    {
        string dir = Directory.CreateTempSubdirectory("clickos-host-kill-").FullName;
        Process Start() => Process.Start(new ProcessStartInfo(TestHost.Clickos, ["host", "--dir", dir, "--no-cgroups"]) { RedirectStandardError = true })!;
        var host = Start();
        try
        {
            TestHost.WaitFor(() => File.Exists(Path.Combine(dir, "api.sock")), "the host's API socket");
            using var http = Client(dir);
            Post(http, TestHost.Spec("p1", TestHost.Firewall));
            Post(http, TestHost.Spec("s1", TestHost.Firewall, "shared"));
            host.Kill();   // SIGKILL
            host.WaitForExit();
            host = Start();
            TestHost.WaitFor(() => File.Exists(Path.Combine(dir, "api.sock")) && Get(http, "v1/instances").Contains("\"running\""), "the restarted host");
            foreach (var n in new[] { "p1", "s1" })
                TestHost.WaitFor(() => Get(http, $"v1/instances/{n}").Contains("\"state\": \"running\""), $"{n} restored");
        }
        finally
        {
            Process.Start("kill", ["-TERM", host.Id.ToString()])!.WaitForExit();
            host.WaitForExit(20000);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static HttpClient Client(string dir) => HostHttpClient.ForUnixSocket(Path.Combine(dir, "api.sock"), TimeSpan.FromSeconds(60));

    private static void Post(HttpClient http, string json)
    {
        var r = http.PostAsync("v1/instances", new StringContent(json)).Result;
        Assert.True((int)r.StatusCode == 201, r.Content.ReadAsStringAsync().Result);
    }

    private static string Get(HttpClient http, string path)
    {
        try { return http.GetStringAsync(path).Result; }
        catch (AggregateException) { return ""; }
    }
}
