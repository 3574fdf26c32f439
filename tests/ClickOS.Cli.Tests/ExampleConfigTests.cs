namespace ClickOS.Cli.Tests;

/// <summary>The bundled example middleboxes run on their bundled traffic and give the expected results.</summary>
public sealed class ExampleConfigTests
{
    private static ClickRunner.Result Run(params string[] args) => ClickRunner.Run(["run", .. args], ClickRunner.RepoRoot);

    private static string Tmp(string name) => Path.Combine(Path.GetTempPath(), $"clickos-example-{Guid.NewGuid():N}-{name}");

    [Fact]
    public void L2ClassifierCountsEveryClass()
    {
        string syns = Tmp("syns.pcap");
        var r = Run("examples/l2-classifier/l2-classifier.click", $"SYNS={syns}");
        File.Delete(syns);
        Assert.Equal(0, r.Exit);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("packets  1000 (64418 bytes)", lines[0]);
        // Every packet is counted in exactly one class.
        long sum = lines.Skip(1).Sum(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1]));
        Assert.Equal(1000, sum);
    }

    [Fact]
    public void RouterForwardsAnswersPingsAndDropsBadPackets()
    {
        string o0 = Tmp("eth0.pcap"), o1 = Tmp("eth1.pcap");
        var r = Run("examples/router.click", $"OUT0={o0}", $"OUT1={o1}", "-h", "chk.drop_details");
        try
        {
            Assert.Equal(0, r.Exit);
            Assert.StartsWith("eth0 sent 98, eth1 sent 311, pings answered 10, local 0, bad IP 14, non-IP 4\n", r.Stdout);
            Assert.True(new FileInfo(o0).Length > 24 && new FileInfo(o1).Length > 24);
        }
        finally
        {
            File.Delete(o0);
            File.Delete(o1);
        }
    }

    /// <summary>Every kind of packet genpcap.py's "malformed" mix makes is counted on the right drop handler.</summary>
    [Fact]
    public void RouterSurvivesMalformedTrafficAndCountsEachKind()
    {
        string o0 = Tmp("eth0.pcap"), o1 = Tmp("eth1.pcap");
        var r = Run("examples/router.click", "IN0=examples/traffic/malformed.pcap", $"OUT0={o0}", $"OUT1={o1}",
            "-h", "chk.drop_details", "-h", "dt1.drops", "-h", "nonip0.count");
        File.Delete(o0);
        File.Delete(o1);
        Assert.Equal(0, r.Exit);
        // 60 packets cycle through 17 kinds; the bad-IP kinds each land on their own reason.
        Assert.Contains("4\tbad IP version\n", r.Stdout);        // ver6
        Assert.Contains("4\tbad IP header length\n", r.Stdout);  // ihl3
        Assert.Contains("12\tbad IP length\n", r.Stdout);        // shortlen, longlen, truncated
        Assert.Contains("4\tbad IP checksum\n", r.Stdout);       // badcsum
        Assert.Contains("3\tbad source address\n", r.Stdout);    // broadcast source
        Assert.Contains("dt1.drops:\n8\n", r.Stdout);             // TTL 0 and TTL 1
        Assert.Contains("nonip0.count:\n9\n", r.Stdout);          // VLAN, IPv6, unknown EtherType
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    /// <summary>Thousands of random, mostly IPv4-looking frames (fixed seed) through the router and the firewall: no crash, nothing lost.</summary>
    [Fact]
    public void RandomFramesNeverCrashTheExamples()
    {
        var rng = new Random(2026);
        var frames = new List<byte[]>();
        for (int i = 0; i < 3000; i++)
        {
            var f = new byte[rng.Next(0, 160)];
            rng.NextBytes(f);
            if (f.Length >= 34 && rng.Next(4) > 0)
            {
                f[12] = 0x08; f[13] = 0x00;                         // IPv4 EtherType
                f[14] = (byte)(0x40 | rng.Next(3, 16));             // version 4, random header length
                if (rng.Next(2) == 0) { f[0] = 0x02; f[1] = f[2] = f[3] = f[4] = 0; f[5] = 0x01; } // for the router
            }
            frames.Add(f);
        }
        string pcap = Tmp("random.pcap"), o0 = Tmp("o0.pcap"), o1 = Tmp("o1.pcap"), pass = Tmp("pass.pcap"), log = Tmp("log.ipsum");
        try
        {
            CatalogTests.WritePcap(pcap, frames);
            var r = Run("examples/router.click", $"IN0={pcap}", $"OUT0={o0}", $"OUT1={o1}");
            Assert.Equal(0, r.Exit);
            Assert.DoesNotContain("internal error", r.Stderr);
            var f2 = Run("examples/firewall.click", $"IN={pcap}", $"PASS={pass}", $"LOG={log}", "-h", "in.count");
            Assert.Equal(0, f2.Exit);
            Assert.EndsWith("3000\n", f2.Stdout);
        }
        finally
        {
            foreach (var f in new[] { pcap, o0, o1, pass, log }) File.Delete(f);
        }
    }

    [Fact]
    public void FirewallPassesAllowedAndLogsDenied()
    {
        string pass = Tmp("pass.pcap"), log = Tmp("denied.ipsum");
        var r = Run("examples/firewall.click", $"PASS={pass}", $"LOG={log}");
        try
        {
            Assert.Equal(0, r.Exit);
            Assert.Equal("passed 402 IP + 47 ARP, denied 122, bad IP 21, non-IP 8\n", r.Stdout);
            var logged = File.ReadAllLines(log);
            Assert.Equal("!IPSummaryDump 1.3", logged[0]);
            Assert.Equal(122, logged.Count(l => !l.StartsWith('!')));
        }
        finally
        {
            File.Delete(pass);
            File.Delete(log);
        }
    }

    [Fact]
    public void StatefulFirewallAdmitsRepliesOnlyAndLogsTheScan()
    {
        string pass = Tmp("pass.pcap"), log = Tmp("denied.ipsum");
        var r = Run("examples/stateful-firewall.click", $"PASS={pass}", $"LOG={log}");
        try
        {
            Assert.Equal(0, r.Exit);
            // 50 conversations (5 packets out, 3 back each) pass; the 100 unsolicited packets don't.
            Assert.Equal("outbound 250, inbound 150, denied 100, bad IP 0, non-IP 0, tracked 50\n", r.Stdout);
            var denied = File.ReadAllLines(log).Where(l => !l.StartsWith('!')).ToList();
            Assert.Equal(100, denied.Count);
            Assert.All(denied, l => Assert.StartsWith("203.0.113.", l.Split(' ')[1]));
            Assert.Equal(400, CatalogTests.ReadPcap(pass).Count);
        }
        finally
        {
            File.Delete(pass);
            File.Delete(log);
        }
    }

    [Fact]
    public void StatefulFirewallWithATinyTableEvictsClosedFlowsAndNeverGrows()
    {
        string pass = Tmp("pass.pcap"), log = Tmp("denied.ipsum");
        var r = Run("examples/stateful-firewall.click", $"PASS={pass}", $"LOG={log}", "CAPACITY=1", "-h", "ct.table_full", "-h", "ct.evictions");
        try
        {
            Assert.Equal(0, r.Exit);
            // Conversations follow one another: each new one evicts the last, already closing.
            Assert.Equal("outbound 250, inbound 150, denied 100, bad IP 0, non-IP 0, tracked 1\nct.table_full:\n0\n\nct.evictions:\n49\n\n", r.Stdout);
        }
        finally
        {
            File.Delete(pass);
            File.Delete(log);
        }
    }
}
