using System.Diagnostics;
using System.Text.Json;

namespace ClickOS.Cli.Tests;

/// <summary>"clickos run -u/-p -R" and "clickos control", as separate processes, as users run them.</summary>
public sealed class ControlCliTests
{
    private static ClickRunner.Result Control(params string[] args) => ClickRunner.Run(["control", .. args], Path.GetTempPath());

    /// <summary>Starts "clickos run" in the background; the caller stops it with the 'stop' handler.</summary>
    private static Process StartRouter(params string[] args)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string exe = ClickRunner.Executable;
        if (exe.EndsWith(".dll", StringComparison.Ordinal)) { psi.FileName = "dotnet"; psi.ArgumentList.Add(exe); }
        else psi.FileName = exe;
        psi.ArgumentList.Add("run");
        foreach (var a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static void WaitForSocket(string path, Process p)
    {
        var until = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(path))
        {
            if (p.HasExited) Assert.Fail("router exited: " + p.StandardError.ReadToEnd());
            Assert.True(DateTime.UtcNow < until, "the control socket did not appear");
            Thread.Sleep(20);
        }
    }

    [Fact]
    public void ReadWriteListHandlersHotswapWatch()
    {
        string dir = Directory.CreateTempSubdirectory("clickos-ctl").FullName;
        string sock = Path.Combine(dir, "ctl");
        string newConfig = Path.Combine(dir, "new.click");
        File.WriteAllText(newConfig, "RatedSource(RATE 100) -> c :: Counter -> c2 :: Counter -> Discard;\n");
        using var router = StartRouter("-R", "-u", sock, "-e", "RatedSource(RATE 100) -> c :: Counter -> s :: Switch(0) -> Discard; s[1] -> Discard;", "-h", "c.count", "-h", "c2.count");
        try
        {
            WaitForSocket(sock, router);
            var r = Control("-u", sock, "read", "s.switch");
            Assert.Equal((0, "0\n"), (r.Exit, r.Stdout));
            r = Control("-u", sock, "write", "s.switch", "1");
            Assert.Equal(0, r.Exit);
            Assert.Equal("1\n", Control("-u", sock, "read", "s.switch").Stdout);
            r = Control("-u", sock, "write", "s.switch", "banana");
            Assert.Equal(1, r.Exit);
            Assert.Equal("clickos control: Write handler 's.switch' error:\n  Switch output must be integer\n", r.Stderr);
            r = Control("-u", sock, "--json", "read", "nosuch.count");
            Assert.Equal(1, r.Exit);
            using (var j = JsonDocument.Parse(r.Stdout))
            {
                Assert.Equal(510, j.RootElement.GetProperty("code").GetInt32());
                Assert.Equal("No element named 'nosuch'", j.RootElement.GetProperty("messages")[0].GetString());
                Assert.Contains("'nosuch'", r.Stdout);   // relaxed escaping
            }
            r = Control("-u", sock, "list");
            Assert.Equal("RatedSource@1\nc\ns\nDiscard@4\nDiscard@5\nclick_driver@@ControlSocket\n", r.Stdout);
            r = Control("-u", sock, "--json", "handlers", "c");
            using (var j = JsonDocument.Parse(r.Stdout))
            {
                var reset = j.RootElement.GetProperty("handlers").EnumerateArray().Single(h => h.GetProperty("name").GetString() == "reset");
                Assert.False(reset.GetProperty("read").GetBoolean());
                Assert.True(reset.GetProperty("write").GetBoolean());
            }
            r = Control("-u", sock, "watch", "c.count", "--interval", "0.05", "--count", "3", "--json");
            var values = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => long.Parse(JsonDocument.Parse(l).RootElement.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Equal(3, values.Count);
            Assert.True(values[2] >= values[0]);
            // A bad configuration is refused with file:line errors; a good one swaps in.
            File.WriteAllText(Path.Combine(dir, "bad.click"), "Idle -> Nope() -> Discard;\n");
            r = Control("-u", sock, "hotswap", Path.Combine(dir, "bad.click"));
            Assert.Equal(1, r.Exit);
            Assert.Contains("<hotconfig>:1: unknown element class 'Nope'", r.Stderr);
            long before = long.Parse(Control("-u", sock, "read", "c.count").Stdout, System.Globalization.CultureInfo.InvariantCulture);
            r = Control("-u", sock, "hotswap", newConfig);
            Assert.Equal((0, $"hot-swapped {newConfig}\n"), (r.Exit, r.Stdout));
            Assert.Equal(0, Control("-u", sock, "write", "stop").Exit);
            Assert.True(router.WaitForExit(20_000), "router did not stop");
            Assert.Equal(0, router.ExitCode);
            // -h prints from the router that was running at the end; the counter kept its count.
            var lines = router.StandardOutput.ReadToEnd().Split('\n');
            Assert.Equal("c.count:", lines[0]);
            Assert.True(long.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) >= before);
            Assert.Equal("c2.count:", lines[3]);
            Assert.False(File.Exists(sock), "the socket file is removed on exit");
        }
        finally
        {
            if (!router.HasExited) router.Kill(entireProcessTree: true);
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void UnreachableTargetIsExit2()
    {
        var r = Control("-u", Path.Combine(Path.GetTempPath(), "no-such-clickos-socket"), "read", "c.count");
        Assert.Equal(2, r.Exit);
        Assert.StartsWith("clickos control: ", r.Stderr);
        r = Control("-p", "1", "read", "c.count");   // nothing listens on port 1
        Assert.Equal((2, "clickos control: 127.0.0.1:1: Connection refused\n"), (r.Exit, r.Stderr));
        r = Control("--bogus");
        Assert.Equal(2, r.Exit);
        Assert.Contains("unrecognized option '--bogus'", r.Stderr);
    }

    [Fact]
    public void RunRejectsBadPort()
    {
        var r = ClickRunner.Run(["run", "-p", "banana", "-e", "Idle -> Discard;"], Path.GetTempPath());
        Assert.Equal(1, r.Exit);
        Assert.StartsWith("clickos: '--port' expects a TCP port number, not 'banana'", r.Stderr);
    }
}
