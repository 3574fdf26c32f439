namespace ClickOS.Cli.Tests.Network;

/// <summary>
/// The pcap files ToDump writes read back identically in tcpdump, and FromDump reads what
/// tcpdump captures on a live (namespaced) interface.
/// </summary>
[Collection("network")]
public sealed class TcpdumpInteropTests
{
    private static string Mixed => Path.Combine(ClickRunner.RepoRoot, "examples", "traffic", "mixed.pcap");

    private static string[] Tcpdump(string file, string options = "", string filter = "")
    {
        var (exit, output) = NetworkLab.Sh($"tcpdump -nn -tt {options} -r {file} {filter} 2>/dev/null");
        Assert.True(exit == 0, $"tcpdump -r {file} failed: {output}");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private static void Click(string dir, string config)
    {
        var r = ClickRunner.Run(["run", "-e", config], dir);
        Assert.True(r.Exit == 0, r.Stderr);
    }

    [ToolTheory("tcpdump")]
    [InlineData("")]                 // nanosecond timestamps (the default)
    [InlineData(", NANO false")]     // microsecond timestamps
    [InlineData(", UNBUFFERED true")]
    public void TcpdumpReadsToDumpOutputWithTheSamePacketsAndFields(string keywords)
    {
        string dir = ClickRunner.TempDir("tcpdump-rw");
        string outFile = Path.Combine(dir, "out.pcap");
        Click(dir, $"FromDump({Mixed}, STOP true) -> ToDump({outFile}{keywords});");
        var expected = Tcpdump(Mixed, "-v");
        var actual = Tcpdump(outFile, "-v");
        Assert.True(expected.Length > 1000);
        Assert.Equal(expected, actual);
    }

    [ToolFact("tcpdump")]
    public void TcpdumpReadsSnaplenAndRawIPEncapsulation()
    {
        string dir = ClickRunner.TempDir("tcpdump-encap");
        string raw = Path.Combine(dir, "raw.pcap"), snap = Path.Combine(dir, "snap.pcap");
        Click(dir, $"""
            FromDump({Mixed}, STOP true) -> c :: Classifier(12/0800 14/40%f0, -);
            c[0] -> Strip(14) -> ToDump({raw}, ENCAP IP);
            c[1] -> Discard;
            FromDump({Mixed}, STOP true) -> ToDump({snap}, SNAPLEN 54);
            """);
        // Raw IP: the same packet lines as the Ethernet original's IPv4 packets. (tcpdump's hex
        // dumps of unknown payloads differ: after Ethernet it also shows the frame's padding.)
        static string[] Summary(string[] lines) => lines.Where(l => !char.IsWhiteSpace(l[0])).ToArray();
        Assert.Equal(Summary(Tcpdump(Mixed, "", "'ip and ether[14] & 0xf0 = 0x40'")), Summary(Tcpdump(raw)));
        var snapped = Summary(Tcpdump(snap, "-e"));
        var original = Summary(Tcpdump(Mixed, "-e"));
        Assert.Equal(1000, original.Length); // every packet of the trace
        Assert.Equal(original.Length, snapped.Length);
        // Timestamps and Ethernet headers survive; tcpdump knows the original lengths.
        for (int i = 0; i < original.Length; i++)
            Assert.Equal(original[i].Split(',')[0], snapped[i].Split(',')[0]);
        var (_, header) = NetworkLab.Sh($"tcpdump -r {snap} -c 1 2>&1 >/dev/null");
        Assert.Contains("snapshot length 54", header);
    }

    [NetworkFact("tcpdump")]
    public void FromDumpReadsWhatTcpdumpCapturesOnAVeth()
    {
        using var lab = new NetworkLab();
        string ns = lab.Namespace("cap");
        lab.Veth(ns, "va", ns, "vb");
        string dir = ClickRunner.TempDir("tcpdump-capture");
        foreach (var precision in new[] { "micro", "nano" })
        {
            string cap = Path.Combine(dir, $"cap-{precision}.pcap");
            var dump = lab.Start(ns, ["tcpdump", "-i", "vb", "-U", "-c", "40", "--time-stamp-precision", precision, "-w", cap, "udp"]);
            Assert.True(dump.WaitForErrorLine("tcpdump: listening on", 15_000), dump.Errors);
            // 40 UDP packets from the other end of the pair, in four flows.
            var sender = lab.Start(ns, NetworkLab.ClickArgv(["run", "-e",
                "FastUDPFlows(0, 40, 200, 2:0:0:0:0:a, 10.1.0.1, 2:0:0:0:0:b, 10.1.0.2, 4, 10) -> ToDevice(va); DriverManager(wait 0.5s, stop);"]));
            Assert.True(sender.WaitForExit(20_000) == 0, sender.Errors);
            Assert.True(dump.WaitForExit(20_000) == 0, dump.Errors);
            var r = ClickRunner.Run(["run", "-e", $"FromDump({cap}, STOP true) -> c :: Counter -> ToDump({cap}.copy, NANO {(precision == "nano" ? "true" : "false")});", "-h", "c.count", "-h", "c.byte_count"], dir);
            Assert.True(r.Exit == 0, r.Stderr);
            Assert.Equal($"c.count:\n40\n\nc.byte_count:\n{40 * 200}\n\n", r.Stdout.Replace("\r", ""));
            Assert.Equal(Tcpdump(cap, "-v"), Tcpdump(cap + ".copy", "-v"));
        }
    }
}
