using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using ClickOS.Tests;

namespace ClickOS.Elements.Tests;

/// <summary>
/// Shaping, metering and policing: measured rates in simulated time, Meter bands,
/// TimeSortedSched's merge order, SubscriberPolicer's per-subscriber buckets and table.
/// </summary>
public sealed class ShapingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-shaping-" + Guid.NewGuid().ToString("N")[..8]);
    public ShapingTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    private static TestRouter Run(string config, bool simtime = true)
    {
        var t = TestRouter.Start(config, simtime);
        t.Run();
        return t;
    }

    private static void AssertNear(double expected, double actual, double relTolerance, string what)
    {
        double tol = Math.Abs(expected) * relTolerance;
        Assert.True(Math.Abs(actual - expected) <= tol, $"{what}: expected {expected} ± {tol}, got {actual}");
    }

    // An IPv4 header (20 bytes, total length 100, UDP) from SRC to 10.0.0.254, as Click data.
    private static string IPData(int lastSrcByte) =>
        $"\\<45000064 00000000 40110000 0a0000{lastSrcByte:x2} 0a0000fe>";

    // ---------------- RatedSplitter / BandwidthRatedSplitter ----------------

    [Fact]
    public void RatedSplitterPassesRateOnOutputZero()
    {
        using var t = Run("""
            src :: RatedSource(RATE 5000) -> rs :: RatedSplitter(1000) -> c0 :: Counter -> Discard;
            rs[1] -> c1 :: Counter -> Discard;
            DriverManager(wait 5s, stop);
            """);
        long c0 = t.ReadLong("c0.count"), c1 = t.ReadLong("c1.count");
        // 5 s at 1000/s, plus the initial 20 ms bucket.
        AssertNear(5020, c0, 0.01, "output 0");
        Assert.Equal(t.ReadLong("src.count"), c0 + c1);
        AssertNear(25000, c0 + c1, 0.01, "offered");
        Assert.Equal("1000", t.Read("rs.rate").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void RatedSplitterRateIsWritableAtRunTime()
    {
        using var t = Run("""
            RatedSource(RATE 5000) -> rs :: RatedSplitter(1000) -> c0 :: Counter -> Discard;
            rs[1] -> Discard;
            Script(wait 2s, write rs.rate 3000, wait 2s, stop);
            """);
        AssertNear(2 * 1000 + 2 * 3000, t.ReadLong("c0.count"), 0.01, "output 0");
        Assert.Equal("3000", t.Read("rs.rate").Trim());
        Assert.False(t.Write("rs.rate", "fast"));
    }

    [Fact]
    public void RatedSplitterBurstSizeBoundsTheFirstBurst()
    {
        // A burst of 100 back-to-back packets: only the bucket's 10 tokens pass.
        using var t = Run("InfiniteSource(LIMIT 100, BURST 100, STOP true) -> rs :: RatedSplitter(1, BURST_SIZE 10) -> c0 :: Counter -> Discard; rs[1] -> c1 :: Counter -> Discard;");
        Assert.Equal(10, t.ReadLong("c0.count"));
        Assert.Equal(90, t.ReadLong("c1.count"));
    }

    [Fact]
    public void RatedSplitterWithoutSecondOutputDrops()
    {
        using var t = Run("InfiniteSource(LIMIT 50, BURST 50, STOP true) -> RatedSplitter(1, BURST_SIZE 5) -> c0 :: Counter -> Discard;");
        Assert.Equal(5, t.ReadLong("c0.count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void BandwidthRatedSplitterPassesBytesPerSecond()
    {
        using var t = Run("""
            RatedSource(LENGTH 100, RATE 5000) -> rs :: BandwidthRatedSplitter(100kBps) -> c0 :: Counter -> Discard;
            rs[1] -> c1 :: Counter -> Discard;
            DriverManager(wait 5s, stop);
            """);
        // 500 kB in 5 s plus the 2 kB (20 ms) bucket.
        AssertNear(502_000, t.ReadLong("c0.byte_count"), 0.01, "bytes on output 0");
        AssertNear(2_500_000, t.ReadLong("c0.byte_count") + t.ReadLong("c1.byte_count"), 0.01, "offered");
        Assert.Equal("800kbps", t.Read("rs.rate").Trim());
        Assert.True(t.Write("rs.rate", "2Mbps"));
        Assert.Equal("2Mbps", t.Read("rs.rate").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void BandwidthRatedSplitterPassesPacketsBiggerThanItsBucket()
    {
        // 1500-byte packets through a 100-byte bucket at 15 kB/s: about 10 packets a second still pass.
        using var t = Run("""
            RatedSource(LENGTH 1500, RATE 100) -> rs :: BandwidthRatedSplitter(15kBps, BURST_BYTES 100) -> c0 :: Counter -> Discard;
            rs[1] -> Discard;
            DriverManager(wait 10s, stop);
            """);
        AssertNear(100, t.ReadLong("c0.count"), 0.05, "packets on output 0");
    }

    // ---------------- Shaper / BandwidthShaper / BandwidthRatedUnqueue ----------------

    [Fact]
    public void ShaperShapesPullsAndLetsThePullerSleep()
    {
        // In simulated time a spinning puller would hang the clock; the run must end on its own.
        using var t = Run("""
            RatedSource(RATE 3000) -> q :: Queue(100000) -> s :: Shaper(1000) -> Unqueue -> c :: Counter -> Discard;
            DriverManager(wait 4s, stop);
            """);
        AssertNear(4000, t.ReadLong("c.count"), 0.01, "shaped packets");
        AssertNear(8000, t.ReadLong("q.length"), 0.01, "queued");
        Assert.Equal("1000", t.Read("s.rate").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void ShaperSleepsOnItsEmptyInput()
    {
        using var t = TestRouter.Start("InfiniteSource(LIMIT 5) -> Queue -> Shaper(1000000) -> Unqueue -> c :: Counter -> Discard;");
        for (int i = 0; i < 1000; i++) t.Router!.Scheduler.RunBatch(129);
        Assert.Equal(5, t.ReadLong("c.count"));
        Assert.Equal(0, t.Router!.Scheduler.ScheduledCount);
    }

    [Fact]
    public void ShaperRateWriteWakesThePuller()
    {
        using var t = Run("""
            RatedSource(RATE 3000) -> Queue(100000) -> s :: Shaper(0) -> Unqueue -> c :: Counter -> Discard;
            Script(wait 1s, write s.rate 500, wait 2s, stop);
            """);
        AssertNear(1000, t.ReadLong("c.count"), 0.02, "shaped packets");
    }

    [Fact]
    public void BandwidthShaperShapesBytes()
    {
        using var t = Run("""
            RatedSource(LENGTH 1000, RATE 500) -> Queue(100000) -> s :: BandwidthShaper(1Mbps) -> Unqueue -> c :: Counter -> Discard;
            DriverManager(wait 4s, stop);
            """);
        AssertNear(500_000, t.ReadLong("c.byte_count"), 0.01, "shaped bytes");
        Assert.Equal("1Mbps", t.Read("s.rate").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void BandwidthRatedUnqueueSendsBytesPerSecond()
    {
        using var t = Run("""
            RatedSource(LENGTH 1000, RATE 500) -> Queue(100000) -> u :: BandwidthRatedUnqueue(1Mbps) -> c :: Counter -> Discard;
            Script(wait 4s, write u.rate 250kBps, wait 2s, stop);
            """);
        // 4 s at 125 kB/s, 2 s at 250 kB/s, plus the first 20 ms bucket.
        AssertNear(1_002_500, t.ReadLong("c.byte_count"), 0.01, "sent bytes");
        Assert.Equal(t.ReadLong("c.count"), t.ReadLong("u.count"));
        Assert.Equal(t.ReadLong("c.byte_count"), t.ReadLong("u.byte_count"));
        Assert.Equal("2Mbps", t.Read("u.rate").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void BandwidthRatedUnqueueActiveHandlerPauses()
    {
        using var t = Run("""
            RatedSource(LENGTH 100, RATE 1000) -> Queue(100000) -> u :: BandwidthRatedUnqueue(1MBps, ACTIVE false) -> c :: Counter -> Discard;
            Script(wait 1s, write u.active true, wait 1s, stop);
            """);
        // Inactive for a second (1000 packets queue up), then far faster than the input: all 2000 go.
        AssertNear(2000, t.ReadLong("c.count"), 0.01, "sent");
    }

    // ---------------- Meter / BandwidthMeter ----------------

    [Fact]
    public void MeterRoutesByMeasuredRate()
    {
        using var t = Run("""
            src :: RatedSource(RATE 2000) -> m :: Meter(1000, 5000);
            m[0] -> c0 :: Counter -> Discard; m[1] -> c1 :: Counter -> Discard; m[2] -> c2 :: Counter -> Discard;
            Script(wait 2s, set r1 $(m.rate), write src.rate 8000, wait 2s, set r2 $(m.rate), print $r1 $r2, stop);
            """);
        var rates = t.Out.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        AssertNear(2000, rates[0], 0.03, "measured rate at 2000/s");
        AssertNear(8000, rates[1], 0.03, "measured rate at 8000/s");
        long c0 = t.ReadLong("c0.count"), c1 = t.ReadLong("c1.count"), c2 = t.ReadLong("c2.count");
        // The average reaches 1000/s after ~70 ms (about 140 packets) and 5000/s ~50 ms after the switch.
        Assert.InRange(c0, 100, 200);
        Assert.InRange(c1, 4200, 4700);
        Assert.InRange(c2, 15200, 15700);
        AssertNear(20000, c0 + c1 + c2, 0.01, "offered");
        Assert.Equal("1000 5000", t.Read("m.meters").Trim());
        t.AssertNoLeaks();
    }

    [Fact]
    public void MeterRateDecaysWhenTrafficStops()
    {
        using var t = Run("""
            src :: RatedSource(RATE 2000, LIMIT 2000) -> m :: Meter(1000) -> Discard; m[1] -> Discard;
            Script(wait 1s, print $(m.rate), wait 1s, print $(m.rate), stop);
            """);
        var rates = t.Out.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        AssertNear(2000, rates[0], 0.03, "rate while sending");
        Assert.True(rates[1] < 1, $"rate 1 s after the end: {rates[1]}");
    }

    [Fact]
    public void BandwidthMeterMeasuresBytesPerSecond()
    {
        using var t = Run("""
            RatedSource(LENGTH 100, RATE 1000) -> m :: BandwidthMeter(50kBps, 200kBps);
            m[0] -> c0 :: Counter -> Discard; m[1] -> c1 :: Counter -> Discard; m[2] -> c2 :: Counter -> Discard;
            Script(wait 2s, print $(m.rate), stop);
            """);
        AssertNear(100_000, double.Parse(t.Out.ToString().Trim(), CultureInfo.InvariantCulture), 0.03, "measured bytes/s");
        Assert.Equal(0, t.ReadLong("c2.count"));
        Assert.True(t.ReadLong("c1.count") > 1900, "most packets in band 1");
        Assert.Equal("400kbps 1.6Mbps", t.Read("m.meters").Trim());
    }

    [Theory]
    [InlineData("m :: Meter(5000, 1000)", "increasing")]
    [InlineData("m :: Meter(1000)", "need 2 output ports")]
    [InlineData("m :: BandwidthMeter(1Mfoo)", "expected bandwidth")]
    public void MeterRejectsBadConfigurations(string decl, string message)
    {
        var t = new TestRouter($"Idle -> {decl} -> Discard; m[1] -> Discard; m[2] -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }

    // ---------------- TimeSortedSched ----------------

    /// <summary>A pcap of 20-byte frames whose first byte is the id, stamped 1.000000 + us microseconds.</summary>
    private void WritePcap(string name, params (int Us, byte Id)[] packets)
    {
        using var f = File.Create(P(name));
        var h = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(h, 0xA1B2C3D4);
        h[4] = 2;
        h[6] = 4;
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), 1);
        f.Write(h);
        foreach (var (us, id) in packets)
        {
            var r = new byte[16 + 20];
            BinaryPrimitives.WriteUInt32LittleEndian(r, 1);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(4), (uint)us);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(8), 20);
            BinaryPrimitives.WriteUInt32LittleEndian(r.AsSpan(12), 20);
            r[16] = id;
            f.Write(r);
        }
    }

    /// <summary>Fills both queues first (the puller is off), then merges them; returns the ids in output order.</summary>
    private List<int> Merge(string tssArgs, int burst, int expected, out TestRouter router)
    {
        var t = TestRouter.Start($"""
            FromDump({P("a.pcap")}) -> qa :: Queue -> [0]tss :: TimeSortedSched({tssArgs}) -> u :: Unqueue(BURST {burst}, ACTIVE false) -> Print(x, 1) -> Discard;
            FromDump({P("b.pcap")}) -> qb :: Queue -> [1]tss;
            """);
        for (int i = 0; i < 1000 && t.ReadLong("qa.length") + t.ReadLong("qb.length") < expected; i++) t.Router!.Scheduler.RunBatch(129);
        Assert.Equal(expected, t.ReadLong("qa.length") + t.ReadLong("qb.length"));
        Assert.True(t.Write("u.active", "true"));
        t.Run();
        router = t;
        return Regex.Matches(t.Err.ToString(), @"\| ([0-9a-f]{2})").Select(m => Convert.ToInt32(m.Groups[1].Value, 16)).ToList();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void TimeSortedSchedMergesByTimestampAndStops(int burst)
    {
        WritePcap("a.pcap", (1, 1), (3, 3), (5, 5), (7, 7), (9, 9));
        WritePcap("b.pcap", (2, 2), (4, 4), (6, 6));
        var order = Merge("STOP true", burst, 8, out var t);
        using (t)
        {
            Assert.Equal([1, 2, 3, 4, 5, 6, 7, 9], order);
            Assert.Equal("true", t.Read("tss.well_ordered").Trim());
            t.AssertNoLeaks();
        }
    }

    [Fact]
    public void TimeSortedSchedBufferCopesWithReordering()
    {
        WritePcap("a.pcap", (1, 1), (4, 4), (3, 3), (6, 6));
        WritePcap("b.pcap", (2, 2), (5, 5));
        var one = Merge("STOP true", 1, 6, out var t1);
        using (t1)
        {
            Assert.Equal([1, 2, 4, 3, 5, 6], one);
            Assert.Equal("false", t1.Read("tss.well_ordered").Trim());
        }
        var two = Merge("STOP true, BUFFER 2", 1, 6, out var t2);
        using (t2)
        {
            Assert.Equal([1, 2, 3, 4, 5, 6], two);
            Assert.Equal("true", t2.Read("tss.well_ordered").Trim());
            t2.AssertNoLeaks();
        }
    }

    [Fact]
    public void TimeSortedSchedRejectsBadBuffer()
    {
        var t = new TestRouter("Idle -> q :: Queue -> TimeSortedSched(BUFFER 0) -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains("BUFFER", t.Errors.Text);
    }

    // ---------------- SubscriberPolicer ----------------

    private static Dictionary<string, (string Rate, long Packets, long Bytes, long DroppedPackets, long DroppedBytes)> Subscribers(TestRouter t)
    {
        var d = new Dictionary<string, (string, long, long, long, long)>();
        foreach (var line in t.Read("p.subscribers").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split(' ');
            Assert.Equal(6, f.Length);
            d[f[0]] = (f[1], long.Parse(f[2], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture),
                long.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[5], CultureInfo.InvariantCulture));
        }
        return d;
    }

    [Fact]
    public void SubscriberPolicerPolicesEachSubscriberAtItsOwnRate()
    {
        using var t = Run($"""
            a :: RatedSource(DATA {IPData(1)}, LENGTH 100, RATE 1000) -> p :: SubscriberPolicer(RATE 40kBps);
            b :: RatedSource(DATA {IPData(2)}, LENGTH 100, RATE 1000) -> p;
            p -> ok :: Counter -> Discard;
            p[1] -> no :: Counter -> Discard;
            Script(wait 1s, write p.set_rate 10.0.0.2 20kBps, wait 3s, stop);
            """);
        var subs = Subscribers(t);
        Assert.Equal(2, subs.Count);
        var s1 = subs["10.0.0.1"];
        var s2 = subs["10.0.0.2"];
        // 10.0.0.1: 4 s at 400 packets/s; 10.0.0.2: 1 s at 400/s, then 3 s at 200/s; each plus a 1500-byte bucket.
        AssertNear(1615, s1.Packets, 0.02, "10.0.0.1 conforming");
        AssertNear(1015, s2.Packets, 0.02, "10.0.0.2 conforming");
        Assert.Equal("320kbps", s1.Rate);
        Assert.Equal("160kbps", s2.Rate);
        // Counters are exact: every packet is accounted for once, with its length.
        Assert.Equal(t.ReadLong("a.count"), s1.Packets + s1.DroppedPackets);
        Assert.Equal(t.ReadLong("b.count"), s2.Packets + s2.DroppedPackets);
        foreach (var s in subs.Values)
        {
            Assert.Equal(100 * s.Packets, s.Bytes);
            Assert.Equal(100 * s.DroppedPackets, s.DroppedBytes);
        }
        Assert.Equal(s1.Packets + s2.Packets, t.ReadLong("ok.count"));
        Assert.Equal(s1.DroppedPackets + s2.DroppedPackets, t.ReadLong("no.count"));
        Assert.Equal(t.ReadLong("ok.count"), t.ReadLong("p.count"));
        Assert.Equal(t.ReadLong("no.count"), t.ReadLong("p.drops"));
        Assert.Equal(0, t.ReadLong("p.table_full"));
        Assert.Equal("320kbps", t.Read("p.rate").Trim());

        Assert.True(t.Write("p.reset"));
        Assert.Equal(0, t.ReadLong("p.count"));
        Assert.All(Subscribers(t).Values, s => Assert.Equal(0, s.Packets + s.DroppedPackets));
        Assert.Equal(2, t.ReadLong("p.subscriber_count"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void SubscriberPolicerDefaultRateWriteSparesOwnRates()
    {
        using var t = Run($"""
            a :: RatedSource(DATA {IPData(1)}, LENGTH 100, RATE 1000) -> p :: SubscriberPolicer(RATE 40kBps, BURST 1000) -> ok :: Counter -> Discard;
            b :: RatedSource(DATA {IPData(2)}, LENGTH 100, RATE 1000) -> p;
            p[1] -> Discard;
            Script(write p.set_rate 10.0.0.2 30kBps, wait 1s, write p.rate 10kBps, wait 1s, stop);
            """);
        var subs = Subscribers(t);
        // Each plus the first 1000-byte bucket.
        AssertNear(10 + 400 + 100, subs["10.0.0.1"].Packets, 0.02, "10.0.0.1 follows the default");
        AssertNear(10 + 600, subs["10.0.0.2"].Packets, 0.02, "10.0.0.2 keeps its own rate");
        Assert.Equal("80kbps", subs["10.0.0.1"].Rate);
        Assert.Equal("240kbps", subs["10.0.0.2"].Rate);
        Assert.Equal("1000", t.Read("p.burst").Trim());
        // Back to the default rate.
        Assert.True(t.Write("p.set_rate", "10.0.0.2 default"));
        Assert.Equal("80kbps", Subscribers(t)["10.0.0.2"].Rate);
    }

    [Theory]
    [InlineData("drop")]
    [InlineData("pass")]
    [InlineData("shared")]
    public void SubscriberPolicerCountsTableFull(string policy)
    {
        using var t = Run($"""
            a :: RatedSource(DATA {IPData(1)}, LENGTH 100, RATE 1000) -> p :: SubscriberPolicer(RATE 40kBps, CAPACITY 1, POLICY {policy});
            b :: RatedSource(DATA {IPData(2)}, LENGTH 100, RATE 1000) -> p;
            p -> ok :: Counter -> Discard;
            p[1] -> no :: Counter -> Discard;
            DriverManager(wait 2s, stop);
            """);
        var subs = Subscribers(t);
        Assert.Equal(new[] { "10.0.0.1" }, subs.Keys);
        long a = t.ReadLong("a.count"), b = t.ReadLong("b.count");
        var s1 = subs["10.0.0.1"];
        Assert.Equal(a, s1.Packets + s1.DroppedPackets);
        Assert.Equal(b, t.ReadLong("p.table_full"));
        long fromB = t.ReadLong("ok.count") - s1.Packets;
        switch (policy)
        {
            case "drop": Assert.Equal(0, fromB); break;
            case "pass": Assert.Equal(b, fromB); break;
            default: AssertNear(2 * 400 + 15, fromB, 0.03, "shared bucket"); break;
        }
        Assert.Equal(a + b, t.ReadLong("ok.count") + t.ReadLong("no.count"));
        Assert.False(t.Write("p.set_rate", "10.0.0.3 1Mbps"));
        Assert.Contains("table full", t.Errors.Text);
        t.AssertNoLeaks();
    }

    [Fact]
    public void SubscriberPolicerFieldKeysFillTheTableExactly()
    {
        using var t = Run("""
            RandomSource(60, LIMIT 5000, BURST 32, STOP true, SEED 7) -> p :: SubscriberPolicer(RATE 1Mbps, KEY_OFFSET 0, KEY_LENGTH 2, CAPACITY 100) -> ok :: Counter -> Discard;
            p[1] -> no :: Counter -> Discard;
            """, simtime: false);
        var subs = Subscribers(t);
        Assert.Equal(100, subs.Count);
        Assert.Equal(100, t.ReadLong("p.subscriber_count"));
        Assert.All(subs.Keys, k => Assert.Matches("^0x[0-9a-f]{4}$", k));
        var keys = t.Read("p.subscribers").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]).ToList();
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        long sumP = subs.Values.Sum(s => s.Packets), sumD = subs.Values.Sum(s => s.DroppedPackets);
        long full = t.ReadLong("p.table_full");
        Assert.True(full > 4000, $"table_full {full}");
        Assert.Equal(5000, sumP + sumD + full);
        Assert.Equal(sumP, t.ReadLong("ok.count"));
        Assert.Equal(sumD + full, t.ReadLong("no.count"));
        Assert.Equal(t.ReadLong("no.count"), t.ReadLong("p.drops"));

        // Removing keys (backward shift) keeps every other one findable.
        foreach (var k in keys.Take(50)) Assert.True(t.Write("p.remove", k), t.Errors.Text);
        Assert.Equal(50, t.ReadLong("p.subscriber_count"));
        Assert.Equal(keys.Skip(50), Subscribers(t).Keys.Order(StringComparer.Ordinal));
        foreach (var k in keys.Skip(50)) Assert.True(t.Write("p.set_rate", k + " 2Mbps"));
        Assert.Equal(50, t.ReadLong("p.subscriber_count"));
        Assert.False(t.Write("p.remove", keys[0]));
        Assert.True(t.Write("p.clear"));
        Assert.Equal(0, t.ReadLong("p.subscriber_count"));
        Assert.Equal("", t.Read("p.subscribers"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void SubscriberPolicerOneByteKeysNeverOverflow()
    {
        using var t = Run("RandomSource(60, LIMIT 5000, BURST 32, STOP true, SEED 3) -> p :: SubscriberPolicer(RATE 1Mbps, KEY_OFFSET 5, KEY_LENGTH 1, CAPACITY 300) -> Discard; p[1] -> Discard;", simtime: false);
        Assert.Equal(256, t.ReadLong("p.subscriber_count"));
        Assert.Equal(0, t.ReadLong("p.table_full"));
        Assert.Equal(5000, Subscribers(t).Values.Sum(s => s.Packets + s.DroppedPackets));
    }

    [Fact]
    public void SubscriberPolicerKeysOnDestinationAndSkipsShortPackets()
    {
        using var t = Run($"""
            a :: RatedSource(DATA {IPData(1)}, LENGTH 100, RATE 100, LIMIT 10) -> p :: SubscriberPolicer(RATE 1Mbps, KEY dst) -> ok :: Counter -> Discard;
            b :: RatedSource(DATA {IPData(2)}, LENGTH 100, RATE 100, LIMIT 10) -> p;
            InfiniteSource(DATA \<0102>, LIMIT 3, STOP false) -> p;
            p[1] -> no :: Counter -> Discard;
            DriverManager(wait 1s, stop);
            """);
        var subs = Subscribers(t);
        Assert.Equal(new[] { "10.0.0.254" }, subs.Keys);
        Assert.Equal(20, subs["10.0.0.254"].Packets);
        Assert.Equal(3, t.ReadLong("p.bad"));
        Assert.Equal(3, t.ReadLong("no.count"));
    }

    [Fact]
    public void SubscriberPolicerUsesTheNetworkHeaderAnnotation()
    {
        // With an Ethernet header in front, MarkIPHeader(14) points the key at the IP source.
        using var t = Run("""
            InfiniteSource(DATA \<00000000000a 00000000000b 0800 45000014 00000000 40110000 0a000007 0a000008>, LIMIT 4, STOP true)
              -> MarkIPHeader(14) -> p :: SubscriberPolicer(RATE 1Mbps) -> Discard; p[1] -> Discard;
            """);
        Assert.Equal(new[] { "10.0.0.7" }, Subscribers(t).Keys);
    }

    [Fact]
    public void SubscriberPolicerForgetsIdleSubscribersButKeepsOwnRates()
    {
        using var t = Run($"""
            a :: RatedSource(DATA {IPData(1)}, LENGTH 100, RATE 100) -> p :: SubscriberPolicer(RATE 1Mbps, TIMEOUT 1) -> Discard;
            b :: RatedSource(DATA {IPData(2)}, LENGTH 100, RATE 100, LIMIT 10) -> p;
            p[1] -> Discard;
            Script(write p.set_rate 10.9.9.9 2Mbps, wait 3s, stop);
            """);
        var subs = Subscribers(t);
        Assert.Equal(new[] { "10.0.0.1", "10.9.9.9" }, subs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("2Mbps", subs["10.9.9.9"].Rate);
    }

    [Fact]
    public void SubscriberPolicerFormatsEthernetKeysAndRejectsBadWrites()
    {
        using var t = TestRouter.Start("Idle -> p :: SubscriberPolicer(RATE 1Mbps, KEY_OFFSET -8, KEY_LENGTH 6) -> Discard;");
        Assert.True(t.Write("p.set_rate", "00-11-22-33-44-55 2Mbps"));
        Assert.Equal("00-11-22-33-44-55 2Mbps 0 0 0 0\n", t.Read("p.subscribers"));
        Assert.False(t.Write("p.set_rate", "00-11-22-33-44-55"));
        Assert.False(t.Write("p.set_rate", "00-11-22-33-44-55 fast"));
        Assert.False(t.Write("p.set_rate", "nonsense 1Mbps"));
        Assert.False(t.Write("p.rate", "-1"));
        t.AssertNoLeaks();
    }

    [Theory]
    [InlineData("SubscriberPolicer(RATE 5Xbps)", "RATE")]
    [InlineData("SubscriberPolicer(RATE 1Mbps, KEY src, KEY_OFFSET 2)", "mutually exclusive")]
    [InlineData("SubscriberPolicer(RATE 1Mbps, KEY_LENGTH 9)", "KEY_LENGTH")]
    [InlineData("SubscriberPolicer(RATE 1Mbps, KEY mac)", "KEY")]
    [InlineData("SubscriberPolicer(RATE 1Mbps, POLICY maybe)", "POLICY")]
    [InlineData("SubscriberPolicer(RATE 1Mbps, CAPACITY 0)", "CAPACITY")]
    public void SubscriberPolicerRejectsBadConfigurations(string decl, string message)
    {
        var t = new TestRouter($"Idle -> {decl} -> Discard;");
        Assert.Null(t.Router);
        Assert.Contains(message, t.Errors.Text);
    }

    // ---------------- allocation ----------------

    [Theory]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> rs :: RatedSplitter(100000000) -> m :: Meter(1000, 1000000000) -> Discard; rs[1] -> Discard; m[1] -> Discard; m[2] -> Discard;")]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> rs :: BandwidthRatedSplitter(1Gbps) -> m :: BandwidthMeter(1kBps) -> Discard; rs[1] -> Discard; m[1] -> Discard;")]
    [InlineData("InfiniteSource(DATA \\<45000040 00000000 40110000 0a000001 0a0000fe>, LENGTH 64, BURST 32) -> c :: Counter -> p :: SubscriberPolicer(RATE 1Gbps) -> Discard; p[1] -> Discard;")]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> Queue(1024) -> Shaper(1000000000) -> BandwidthShaper(100GBps) -> BandwidthRatedUnqueue(100GBps) -> Discard;")]
    [InlineData("InfiniteSource(LENGTH 64, BURST 32) -> c :: Counter -> Queue(1024) -> tss :: TimeSortedSched(BUFFER 4) -> Unqueue(BURST 32) -> Discard; InfiniteSource(LENGTH 64, BURST 32) -> Queue(1024) -> [1]tss;")]
    public void SteadyStateAllocatesNothingPerPacket(string config)
    {
        using var t = TestRouter.Start(config);
        var sched = t.Router!.Scheduler;
        for (int i = 0; i < 5_000; i++) sched.RunBatch(129);
        var counter = t.Router.Elements.OfType<Counter>().First();
        AllocationProbe.AssertNoAllocation(sched, () => counter.Count, 1_000_000);
    }
}
