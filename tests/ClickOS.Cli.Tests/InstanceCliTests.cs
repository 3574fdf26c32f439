using System.Diagnostics;
using System.Text.Json;
using ClickOS.Cli.Tests.Network;

namespace ClickOS.Cli.Tests;

/// <summary>
/// `clickos host` and `clickos instance VERB` as separate processes, as operators run them: every
/// verb, its table or JSON output, and the exit statuses (0 done, 1 refused by the host, 2 usage
/// or no host).
/// </summary>
public sealed class InstanceCliTests
{
    private const string Firewall = """
        src :: RatedSource(\<45000028000000004006f97cc0a80001c0a800020400005000000000000000005002200000000000>, RATE 200)
        -> EtherEncap(0x0800, 00:00:00:00:00:01, 00:00:00:00:00:02)
        -> cl :: Classifier(12/0800, -)
        -> Strip(14) -> CheckIPHeader -> IPFilter(allow tcp dst port 80, deny all)
        -> DecIPTTL -> Unstrip(14) -> c :: Counter -> Discard;
        cl[1] -> Discard;
        """;

    private sealed class Host : IDisposable
    {
        public string Dir { get; } = Directory.CreateTempSubdirectory("clickos-cli-host-").FullName;
        public string Socket => Path.Combine(Dir, "api.sock");
        private readonly Process _p;

        public Host()
        {
            var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            string exe = ClickRunner.Executable;
            if (exe.EndsWith(".dll", StringComparison.Ordinal)) { psi.FileName = "dotnet"; psi.ArgumentList.Add(exe); }
            else psi.FileName = exe;
            foreach (var a in new[] { "host", "--dir", Dir, "--no-cgroups", "--shared-lanes", "1" }) psi.ArgumentList.Add(a);
            _p = Process.Start(psi)!;
            var until = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(Socket))
            {
                if (_p.HasExited) Assert.Fail("clickos host exited: " + _p.StandardError.ReadToEnd());
                Assert.True(DateTime.UtcNow < until, "the host's API socket did not appear");
                Thread.Sleep(20);
            }
        }

        public ClickRunner.Result Cli(params string[] args) => ClickRunner.Run(["instance", "--socket", Socket, .. args], Dir, 60_000);

        public void Dispose()
        {
            // SIGTERM: the host stops its instances and exits; bounded, then killed.
            if (!_p.HasExited)
            {
                Process.Start("kill", ["-TERM", _p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                if (!_p.WaitForExit(20_000)) _p.Kill(entireProcessTree: true);
            }
            _p.WaitForExit();
            _p.Dispose();
            try { Directory.Delete(Dir, recursive: true); }
            catch (IOException) { }
        }
    }

    [Fact]
    public void EveryVerbThroughTheCli()
    {
        using var host = new Host();
        string fw = Path.Combine(host.Dir, "fw.click");
        File.WriteAllText(fw, Firewall);
        string bad = Path.Combine(host.Dir, "bad.click");
        File.WriteAllText(bad, "src :: InfiniteSource\n-> f :: Frobnicate\n-> Discard;\ng :: Gizmo -> Discard;\n");

        // A bad configuration: every file:line error, nothing created, exit 1.
        var r = host.Cli("create", "broken", bad);
        Assert.Equal(1, r.Exit);
        Assert.Contains("bad.click:2: unknown element class 'Frobnicate'", r.Stderr);
        Assert.Contains("bad.click:4: unknown element class 'Gizmo'", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);

        r = host.Cli("create", "fw1", fw, "--isolation", "shared");
        Assert.True(r.Exit == 0, r.Stderr);
        Assert.Equal(2, host.Cli("create", "fw2", fw, "--vifs", "banana").Exit);
        r = host.Cli("--json", "create", "fw2", fw, "--isolation", "process", "--restart", "on-failure", "--vifs", "2");
        Assert.True(r.Exit == 0, r.Stderr);
        using (var j = JsonDocument.Parse(r.Stdout))
        {
            Assert.Equal("fw2", j.RootElement.GetProperty("name").GetString());
            Assert.Equal("running", j.RootElement.GetProperty("state").GetString());
            Assert.Equal(2, j.RootElement.GetProperty("vifs").GetInt32());
        }
        r = host.Cli("create", "fw1", fw);
        Assert.Equal(1, r.Exit);
        Assert.Contains("already exists", r.Stderr);

        // list: a table with both, and the same as JSON.
        r = host.Cli("list");
        Assert.Equal(0, r.Exit);
        Assert.Contains("fw1", r.Stdout);
        Assert.Contains("fw2", r.Stdout);
        Assert.Contains("shared", r.Stdout);
        Assert.Contains("running", r.Stdout);
        r = host.Cli("list", "--json");
        using (var j = JsonDocument.Parse(r.Stdout))
        {
            var names = j.RootElement.GetProperty("instances").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
            Assert.Equal(["fw1", "fw2"], names);
        }

        // Handlers: the counter moves; writes reach the router.
        long Count(string name) => long.Parse(host.Cli("read", name, "c.count").Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        long c1 = Count("fw2");
        Thread.Sleep(300);
        Assert.True(Count("fw2") > c1);
        Assert.Equal(0, host.Cli("write", "fw1", "c.reset").Exit);
        r = host.Cli("read", "fw1", "nosuch.count");
        Assert.Equal(1, r.Exit);
        Assert.Contains("nosuch", r.Stderr);

        r = host.Cli("status", "fw2");
        Assert.Equal(0, r.Exit);
        Assert.Contains("fw2", r.Stdout);
        Assert.Contains("process", r.Stdout);
        r = host.Cli("--json", "stats", "fw1");
        Assert.Equal(0, r.Exit);
        using (JsonDocument.Parse(r.Stdout)) { }

        // pause / resume keep state; stop / start.
        Assert.Equal(0, host.Cli("pause", "fw2").Exit);
        Assert.Contains("paused", host.Cli("status", "fw2").Stdout);
        Assert.Equal(0, host.Cli("resume", "fw2").Exit);
        Assert.Contains("running", host.Cli("status", "fw2").Stdout);
        Assert.Equal(0, host.Cli("stop", "fw1").Exit);
        Assert.Contains("stopped", host.Cli("status", "fw1").Stdout);
        Assert.Equal(0, host.Cli("start", "fw1").Exit);
        Assert.Contains("running", host.Cli("status", "fw1").Stdout);

        // reconfigure: hot-swap keeps the counter's state; a bad one is refused with file:line.
        string fw3 = Path.Combine(host.Dir, "fw3.click");
        File.WriteAllText(fw3, Firewall.Replace("RATE 200", "RATE 100", StringComparison.Ordinal));
        long before = Count("fw2");
        Assert.Equal(0, host.Cli("reconfigure", "fw2", fw3).Exit);
        Assert.True(Count("fw2") >= before);
        r = host.Cli("reconfigure", "fw2", bad);
        Assert.Equal(1, r.Exit);
        Assert.Contains("Frobnicate", r.Stderr);

        r = host.Cli("logs", "fw2");
        Assert.Equal(0, r.Exit);

        // Unknown instance: 1; usage errors: 2.
        r = host.Cli("status", "ghost");
        Assert.Equal(1, r.Exit);
        Assert.Contains("ghost", r.Stderr);
        Assert.Equal(2, host.Cli("frobnicate").Exit);
        Assert.Equal(2, host.Cli("create", "onlyname").Exit);

        Assert.Equal(0, host.Cli("destroy", "fw1").Exit);
        Assert.Equal(0, host.Cli("destroy", "fw2").Exit);
        using (var j = JsonDocument.Parse(host.Cli("list", "--json").Stdout))
            Assert.Equal(0, j.RootElement.GetProperty("instances").GetArrayLength());
    }

    /// <summary>--netns: the instance runs inside the named network namespace and sees its interfaces.</summary>
    [NetworkFact]
    public void InstanceInItsOwnNetworkNamespace()
    {
        using var lab = new NetworkLab();
        string ns = lab.Namespace("inst");
        string other = lab.Namespace("peer");
        lab.Veth(ns, "v0", other, "v1");
        lab.Address(other, "v1", "10.99.0.1/24");
        using var host = new Host();
        string cfg = Path.Combine(host.Dir, "ns.click");
        // FromDevice(v0) only configures where v0 exists: inside the namespace.
        File.WriteAllText(cfg, "FromDevice(v0, QUIET true) -> c :: Counter -> Discard;\n");
        var r = host.Cli("--json", "create", "nsfw", cfg, "--netns", ns);
        Assert.True(r.Exit == 0, r.Stdout + r.Stderr);
        int pid;
        using (var j = JsonDocument.Parse(r.Stdout)) pid = j.RootElement.GetProperty("pid").GetInt32();
        Assert.Equal(NsInode($"/run/netns/{ns}"), NsInode($"/proc/{pid}/ns/net"));
        Assert.NotEqual(NsInode("/proc/self/ns/net"), NsInode($"/proc/{pid}/ns/net"));
        // Traffic sent from the peer namespace reaches the instance's counter.
        NetworkLab.Exec(other, "ping -c 3 -i 0.2 -W 1 -I v1 10.99.0.2");
        Assert.True(long.Parse(host.Cli("read", "nsfw", "c.count").Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        // Without the namespace the same configuration cannot find v0: refused, nothing left behind.
        r = host.Cli("create", "nons", cfg);
        Assert.Equal(1, r.Exit);
        Assert.Contains("v0", r.Stderr);
        Assert.Equal(0, host.Cli("destroy", "nsfw").Exit);
    }

    private static ulong NsInode(string path)
    {
        var st = new ProcessStartInfo("stat", ["-L", "-c", "%i", path]) { RedirectStandardOutput = true };
        using var p = Process.Start(st)!;
        string o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return ulong.Parse(o.Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory]
    [InlineData("1000")]
    [InlineData("32")]
    [InlineData("32768")]
    public void HostRefusesARingSizeThatIsNotAPowerOfTwoInRange(string slots)
    {
        var r = ClickRunner.Run(["host", "--dir", ClickRunner.TempDir("vifslots"), "--vif-slots", slots], ".", 30_000);
        Assert.Equal(1, r.Exit);
        Assert.StartsWith($"clickos host: --vif-slots wants a power of two from 64 to 16384, not {slots}\n", r.Stderr);
    }

    [Fact]
    public void NoHostIsExitTwo()
    {
        string dir = ClickRunner.TempDir("nohost");
        var r = ClickRunner.Run(["instance", "--socket", Path.Combine(dir, "api.sock"), "list"], dir);
        Assert.Equal(2, r.Exit);
        Assert.Contains("api.sock", r.Stderr);
        Directory.Delete(dir, recursive: true);
    }
}
