using System.Diagnostics;
using ClickOS.Tests;
using Xunit.Abstractions;

namespace ClickOS.IO.Tests;

/// <summary>
/// FromDevice and ToDevice on the loopback device of a private network namespace: bytes,
/// counts, handlers, SNAPLEN, OUTBOUND, FORCE_IP. (veth, bridges and real hosts are in the
/// Cli tests' network lab.) Needs root; without it the tests say so and do nothing else.
/// </summary>
public sealed class DeviceTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-dev-" + Guid.NewGuid().ToString("N")[..8]);
    private string P(string name) { Directory.CreateDirectory(_dir); return Path.Combine(_dir, name); }
    public void Dispose() { if (Directory.Exists(_dir)) Directory.Delete(_dir, true); }

    private bool InPrivateNetwork(Action test)
    {
        if (!PrivateNetwork.IsRoot) { output.WriteLine("not run: needs root for a private network namespace"); return false; }
        PrivateNetwork.Run(() =>
        {
            // Children inherit the calling thread's namespace: this brings up *our* loopback.
            using var ip = Process.Start("ip", "link set lo up")!;
            ip.WaitForExit();
            Assert.Equal(0, ip.ExitCode);
            test();
        });
        return true;
    }

    /// <summary>Distinct frames of an experimental EtherType, which the kernel ignores.</summary>
    private static List<byte[]> Frames(int count, int length, ushort etherType = 0x88B5)
    {
        var rng = new Random(7);
        var list = new List<byte[]>();
        for (int i = 0; i < count; i++)
        {
            var f = new byte[length];
            rng.NextBytes(f);
            f[0] = 0x02; // a unicast, locally administered destination
            f[12] = (byte)(etherType >> 8);
            f[13] = (byte)etherType;
            f[14] = (byte)i;
            list.Add(f);
        }
        return list;
    }

    [Fact]
    public void PacketsSentWithToDeviceArriveByteForByteAtFromDevice()
    {
        var frames = Frames(50, 200);
        InPrivateNetwork(() =>
        {
            TestRouter.WritePcap(P("in.pcap"), frames);
            using var t = TestRouter.Start($"""
                FromDump({P("in.pcap")}) -> td :: ToDevice(lo);
                fd :: FromDevice(lo) -> c :: Counter -> ToDump({P("out.pcap")});
                Script(wait 0.3, stop);
                """);
            t.Run();
            Assert.Equal(0, t.Errors.ErrorCount);
            Assert.Equal(50, t.ReadLong("td.count"));
            Assert.Equal(0, t.ReadLong("td.drops"));
            Assert.Equal(50, t.ReadLong("fd.count"));
            Assert.Equal(0, t.ReadLong("fd.drops"));
            Assert.Equal("ETHER", t.Read("fd.encap"));
            t.Write("fd.reset_counts");
            Assert.Equal(0, t.ReadLong("fd.count"));
            t.AssertNoLeaks();
            var got = PcapTests.ReadPcap(P("out.pcap"), out _, out _, out _);
            Assert.Equal(frames.Count, got.Count);
            for (int i = 0; i < frames.Count; i++) Assert.Equal(frames[i], got[i].Data);
            // Kernel receive timestamps: real time, in order.
            Assert.All(got, g => Assert.InRange(g.Sec, 1_700_000_000, 4_000_000_000));
        });
    }

    [Fact]
    public void SnaplenTruncatesAndOutboundAlsoShowsSentPackets()
    {
        var frames = Frames(20, 300);
        InPrivateNetwork(() =>
        {
            TestRouter.WritePcap(P("in.pcap"), frames);
            using var t = TestRouter.Start($"""
                FromDump({P("in.pcap")}) -> Queue -> ToDevice(lo, BURST 8);
                fd :: FromDevice(lo, SNAPLEN 64, OUTBOUND true) -> ToDump({P("out.pcap")});
                Script(wait 0.3, stop);
                """);
            t.Run();
            Assert.Equal(0, t.Errors.ErrorCount);
            t.AssertNoLeaks();
            var got = PcapTests.ReadPcap(P("out.pcap"), out _, out _, out _);
            // On loopback each packet is seen leaving and arriving.
            Assert.Equal(40, got.Count);
            Assert.All(got, g => Assert.Equal(64, g.Data.Length));
            Assert.All(got, g => Assert.Equal(300, g.Len)); // the extra-length annotation keeps the wire length
            for (int i = 0; i < got.Count; i++) Assert.Equal(frames[i / 2][..64], got[i].Data);
        });
    }

    [Fact]
    public void ForceIPKeepsOnlyIPv4AndSetsTheNetworkHeader()
    {
        var other = Frames(10, 100);
        var ip = Frames(10, 100, 0x0800);
        foreach (var f in ip)
        {
            f[14] = 0x45;                      // IPv4, 20-byte header
            f[16] = 0; f[17] = 86;             // total length
            f[22] = 64; f[23] = 253;           // TTL, an experimental protocol
            f[24] = 0xDE; f[25] = 0xAD;        // a wrong checksum: the kernel drops it quietly
        }
        InPrivateNetwork(() =>
        {
            TestRouter.WritePcap(P("in.pcap"), other.Concat(ip));
            using var t = TestRouter.Start($"""
                FromDump({P("in.pcap")}) -> td :: ToDevice(lo);
                FromDevice(lo, FORCE_IP true) -> c :: Counter -> MarkIPHeader(14) -> IPPrint(ip, TTL true) -> Discard;
                Script(wait 0.3, stop);
                """);
            t.Run();
            Assert.Equal(0, t.Errors.ErrorCount);
            Assert.Equal(20, t.ReadLong("td.count"));
            Assert.Equal(10, t.ReadLong("c.count"));
            Assert.Equal(10, t.Err.ToString().Split('\n').Count(l => l.Contains("ttl 64", StringComparison.Ordinal)));
            t.AssertNoLeaks();
        });
    }

    [Fact]
    public void MethodXdpSendsByteForByteAndRefusesWhatDoesNotFitASlot()
    {
        var frames = Frames(50, 200);
        var big = Frames(1, 3000)[0]; // loopback's MTU takes it, an AF_XDP slot (2048) does not
        InPrivateNetwork(() =>
        {
            TestRouter.WritePcap(P("in.pcap"), frames.Take(25).Append(big).Concat(frames.Skip(25)));
            using var t = TestRouter.Start($"""
                FromDump({P("in.pcap")}) -> td :: ToDevice(lo, METHOD XDP, SET_ERROR_ANNO true) -> refused :: Counter -> Discard;
                fd :: FromDevice(lo) -> ToDump({P("out.pcap")});
                Script(wait 0.3, stop);
                """);
            t.Run();
            Assert.Equal(50, t.ReadLong("td.count"));
            Assert.Equal(1, t.ReadLong("td.drops"));
            Assert.Equal(1, t.ReadLong("refused.count"));
            Assert.Contains("Message too long", t.Err.ToString());
            t.AssertNoLeaks();
            var got = PcapTests.ReadPcap(P("out.pcap"), out _, out _, out _);
            Assert.Equal(frames.Count, got.Count);
            for (int i = 0; i < frames.Count; i++) Assert.Equal(frames[i], got[i].Data);
        });
    }

    [Fact]
    public void MethodXdpReusesItsFrameSlotsAcrossManyBatchesWhenPulling()
    {
        // 20000 packets through 2048 slots: only works if completed slots come back.
        InPrivateNetwork(() =>
        {
            using var t = TestRouter.Start("""
                InfiniteSource(LENGTH 60, LIMIT 20000, BURST 64, STOP false) -> Queue(1000) -> td :: ToDevice(lo, METHOD XDP, BURST 64);
                fd :: FromDevice(lo, BURST 64) -> c :: Counter -> Discard;
                Script(wait 0.5, stop);
                """);
            t.Run();
            Assert.Equal(0, t.Errors.ErrorCount);
            Assert.Equal(20000, t.ReadLong("td.count"));
            Assert.Equal(0, t.ReadLong("td.drops"));
            Assert.Equal(20000, t.ReadLong("c.count") + t.ReadLong("fd.drops"));
            Assert.True(t.ReadLong("c.count") > 0);
            t.AssertNoLeaks();
        });
    }

    [Fact]
    public void ASecondXdpSenderOnTheSameQueueIsAClearError()
    {
        InPrivateNetwork(() =>
        {
            var t = new TestRouter("Idle -> a :: ToDevice(lo, METHOD XDP); Idle -> b :: ToDevice(lo, METHOD XDP);");
            Assert.Null(t.Router);
            Assert.Contains("METHOD XDP: lo: bind to queue 0 (another AF_XDP socket has it): Device or resource busy", t.Errors.Text);
            var q = new TestRouter("Idle -> ToDevice(lo, METHOD XDP, QUEUE 7);");
            Assert.Null(q.Router);
            Assert.Contains("METHOD XDP: lo: bind to queue 7 (does the interface have that many queues?)", q.Errors.Text);
        });
    }

    [Theory]
    [InlineData("FromDevice(lo, METHOD PCAP) -> Discard", "METHOD PCAP is not supported")]
    [InlineData("FromDevice(lo, SNIFFER false) -> Discard", "SNIFFER false is not supported")]
    [InlineData("FromDevice(lo, BURST 0) -> Discard", "BURST must be between 1 and 256")]
    [InlineData("FromDevice(lo, RING_BLOCK_SIZE 5000) -> Discard", "RING_BLOCK_SIZE must be a power of two")]
    [InlineData("Idle -> ToDevice(lo, METHOD PCAP)", "METHOD PCAP is not supported")]
    [InlineData("Idle -> ToDevice(lo, METHOD XDP, BURST 0)", "BURST must be between 1 and 256")]
    [InlineData("Idle -> ToDevice(lo, QUEUE 1)", "QUEUE needs METHOD XDP")]
    [InlineData("FromDevice(clickos-none0) -> Discard", "clickos-none0: no such network device")]
    [InlineData("Idle -> ToDevice(clickos-none0)", "clickos-none0: no such network device")]
    [InlineData("KernelTun(10.0.0.1/24, ETHER 1:2:3:4:5:6) -> Discard", "ETHER is only meaningful for TAP devices")]
    [InlineData("KernelTun(10.0.0.1/24, 192.168.0.1) -> Discard", "GATEWAY must be on the interface's network")]
    [InlineData("KernelTun(10.0.0.1/24, DEVNAME 'a very long name!') -> Discard", "is not a valid interface name")]
    public void BadArgumentsGiveClearErrors(string config, string message)
    {
        var t = new TestRouter(config);
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }
}
