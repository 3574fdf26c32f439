namespace ClickOS.Host.Tests;

/// <summary>Idle instances are paused automatically (no CPU), wake on demand and keep their counters.</summary>
public sealed class SleepTests
{
    private const string Burst = "InfiniteSource(LIMIT 7) -> c :: Counter -> Discard;";

    [Theory]
    [InlineData("process")]
    [InlineData("shared")]
    public void IdleInstancesSleepAndWakeOnDemand(string isolation)
    {
        using var h = new TestHost();
        var r = h.Create("idle", Burst, isolation, "\"idle_sleep_ms\": 500");
        Assert.True(r.Status == 201, r.Body);
        TestHost.WaitFor(() => h.State("idle") == "sleeping", "the instance to fall asleep");
        if (isolation == "process")
        {
            int pid = h.Status("idle").GetProperty("pid").GetInt32();
            double? cpu0 = ProcStats.CpuSeconds(pid);
            Thread.Sleep(1000);
            Assert.Equal(cpu0, ProcStats.CpuSeconds(pid));
            Assert.Contains("State:\tT", File.ReadAllText($"/proc/{pid}/status"));
        }
        // A handler call wakes it; the state survived.
        Assert.Equal(7, h.Count("idle"));
        Assert.Equal("running", h.State("idle"));
        // And it goes back to sleep after another idle period.
        TestHost.WaitFor(() => h.State("idle") == "sleeping", "the instance to sleep again");
    }

    [Fact]
    public void BusyInstancesStayAwake()
    {
        using var h = new TestHost();
        Assert.Equal(201, h.Create("busy", TestHost.Firewall, "shared", "\"idle_sleep_ms\": 300").Status);
        Thread.Sleep(1500);
        Assert.Equal("running", h.State("busy"));
    }
}
