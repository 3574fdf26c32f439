using System.Globalization;
using System.Text.Json;

namespace ClickOS.Host.Tests;

/// <summary>Instances on the host's switch: FromDevice(vif0)/ToDevice(vif0) in both isolation levels, chains and the switch API.</summary>
public sealed class SwitchHostTests
{
    private const string Sender = """
        InfiniteSource(\<0200000000ff02000000000108004500001c000000004011f9ccc0a80001c0a800020400005000080000>, LIMIT 500, BURST 25, STOP false)
        -> c :: Counter -> ToDevice(vif0);
        """;

    private const string Receiver = "FromDevice(vif0) -> c :: Counter -> Discard;";

    private static long Count(TestHost h, string inst, string handler = "c.count") =>
        long.Parse(h.Daemon.ReadHandler(inst, handler).Trim(), CultureInfo.InvariantCulture);

    private static void WaitFor(Func<bool> cond, string what, int ms = 15_000)
    {
        var until = Environment.TickCount64 + ms;
        while (!cond())
        {
            Assert.True(Environment.TickCount64 < until, $"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    [Theory]
    [InlineData("process")]
    [InlineData("shared")]
    public void InstancesTalkThroughTheSwitch(string isolation)
    {
        using var h = new TestHost(cgroups: false);
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("rx1", Receiver, isolation)).Status);
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("rx2", Receiver, isolation)).Status);
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("tx", Sender, isolation)).Status);
        // Unknown destination: flooded to both receivers, every frame.
        WaitFor(() => Count(h, "rx1") == 500 && Count(h, "rx2") == 500, "500 frames at each receiver");
        var (status, body) = h.Call(HttpMethod.Get, "/v1/switch");
        Assert.Equal(200, status);
        using var doc = JsonDocument.Parse(body);
        var ports = doc.RootElement.GetProperty("ports").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(500, ports["tx:vif0"].GetProperty("rx_packets").GetInt64());
        Assert.Equal(500, ports["rx1:vif0"].GetProperty("tx_packets").GetInt64());
        Assert.Equal(0, ports["rx1:vif0"].GetProperty("drops").GetInt64());
        Assert.StartsWith("02:c1:", ports["rx2:vif0"].GetProperty("mac").GetString());
        // Destroying an instance frees its ports; the others carry on.
        string? rx2Ports = h.Daemon.Get("rx2").VifDirectory;
        Assert.NotNull(rx2Ports);
        Assert.True(File.Exists(Path.Combine(rx2Ports, "vif0")));
        Assert.Equal(204, h.Call(HttpMethod.Delete, "/v1/instances/rx2").Status);
        using (var d2 = JsonDocument.Parse(h.Call(HttpMethod.Get, "/v1/switch").Body))
            Assert.DoesNotContain(d2.RootElement.GetProperty("ports").EnumerateArray(), p => p.GetProperty("name").GetString() == "rx2:vif0");
        Assert.False(Directory.Exists(rx2Ports));
    }

    [Fact]
    public void AReconfigurationThatNamesANewPortGetsIt()
    {
        using var h = new TestHost(cgroups: false);
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("grow", Receiver, "shared")).Status);
        Assert.Equal(1, h.Status("grow").GetProperty("vifs").GetInt32());
        var r = h.Call(HttpMethod.Post, "/v1/instances/grow/reconfigure", Receiver + "\nFromDevice(vif1) -> c1 :: Counter -> Discard;", "text/plain");
        Assert.True(r.Status == 200, r.Body);
        Assert.Equal(2, h.Status("grow").GetProperty("vifs").GetInt32());
        using var doc = JsonDocument.Parse(h.Call(HttpMethod.Get, "/v1/switch").Body);
        var names = doc.RootElement.GetProperty("ports").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Contains("grow:vif0", names);
        Assert.Contains("grow:vif1", names);
        Assert.Equal("0", h.Daemon.ReadHandler("grow", "c1.count").Trim());
    }

    [Fact]
    public void ChainsAndSinkPortsThroughTheApi()
    {
        using var h = new TestHost(cgroups: false);
        // fw has two ports; its vif1 is chained to sink's vif0, so what fw sends on vif1 reaches only sink.
        const string Fw = """
            InfiniteSource(\<0200000000ff02000000000108004500001c000000004011f9ccc0a80001c0a800020400005000080000>, LIMIT 300, BURST 30, STOP false)
            -> ToDevice(vif1);
            FromDevice(vif0) -> Discard;
            """;
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("sink", Receiver, "shared")).Status);
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("bystander", Receiver, "shared")).Status);
        var r = h.Call(HttpMethod.Post, "/v1/switch/chains", """{"from": "fw:vif1", "to": "sink:vif0"}""");
        Assert.Equal(404, r.Status);   // fw does not exist yet
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/instances", TestHost.Spec("fw", Fw.Replace("LIMIT 300", "LIMIT 0", StringComparison.Ordinal), "shared")).Status);
        r = h.Call(HttpMethod.Post, "/v1/switch/chains", """{"from": "fw:vif1", "to": "sink:vif0"}""");
        Assert.Equal(201, r.Status);
        Assert.Equal(409, h.Call(HttpMethod.Post, "/v1/switch/chains", """{"from": "fw:vif1", "to": "bystander:vif0"}""").Status);
        Assert.Equal(200, h.Call(HttpMethod.Post, "/v1/instances/fw/reconfigure", Fw, "text/plain").Status);
        WaitFor(() => Count(h, "sink") == 300, "300 frames at the chained sink");
        Thread.Sleep(100);
        Assert.Equal(0, Count(h, "bystander"));
        // A sink port: added, listed, refused twice, removed.
        Assert.Equal(201, h.Call(HttpMethod.Post, "/v1/switch/ports", """{"kind": "null", "name": "blackhole"}""").Status);
        Assert.Equal(409, h.Call(HttpMethod.Post, "/v1/switch/ports", """{"kind": "null", "name": "blackhole"}""").Status);
        Assert.Equal(400, h.Call(HttpMethod.Post, "/v1/switch/ports", """{"kind": "null", "name": "x:vif0"}""").Status);
        Assert.Equal(409, h.Call(HttpMethod.Delete, "/v1/switch/ports/sink:vif0").Status);
        Assert.Equal(204, h.Call(HttpMethod.Delete, "/v1/switch/ports/blackhole").Status);
        Assert.Equal(204, h.Call(HttpMethod.Delete, "/v1/switch/chains/sink:vif0").Status);
        Assert.Equal(404, h.Call(HttpMethod.Delete, "/v1/switch/chains/sink:vif0").Status);
    }
}
