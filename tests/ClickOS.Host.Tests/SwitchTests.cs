using ClickOS.Host.Switch;
using ClickOS.IO.ShmRing;

namespace ClickOS.Host.Tests;

/// <summary>The host's switch with its ports' instance ends driven from the test: learning, flooding, chains, fairness, distrust.</summary>
public sealed class SwitchTests : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"clickos-sw-{Guid.NewGuid():N}")).FullName;
    private readonly VSwitch _sw;
    private readonly List<VifRegion> _inst = [];

    public SwitchTests()
    {
        _sw = new VSwitch(Path.Combine(_dir, "switch.bell"));
        _sw.Start();
    }

    public void Dispose()
    {
        _sw.Dispose();
        foreach (var r in _inst) r.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Adds a vif port; returns the instance's end.</summary>
    private VifRegion Port(string name, int slots = 256)
    {
        string path = Path.Combine(_dir, name);
        var host = VifRegion.Create(path, slots, 2048, _sw.Bell, out var e) ?? throw new IOException(e);
        // Each port's own address (a static entry), distinct from the addresses the test frames carry.
        _sw.Add(new VifPortEnd(name, host, $"02:00:00:00:01:{_inst.Count:x2}"));
        var inst = VifRegion.Open(path, out e) ?? throw new IOException(e);
        _inst.Add(inst);
        return inst;
    }

    private static byte[] Frame(byte dst, byte src, int len = 64, int tag = 0)
    {
        var f = new byte[len];
        f[0] = 0x02; f[5] = dst;
        f[6] = 0x02; f[11] = src;
        f[12] = 0x08; f[13] = 0x00;
        BitConverter.TryWriteBytes(f.AsSpan(16), tag);
        if (dst == 0xff) f.AsSpan(0, 6).Fill(0xff);
        return f;
    }

    private static void Send(VifRegion from, params byte[][] frames)
    {
        foreach (var f in frames) from.ToSwitch.Put(f);
        from.ToSwitch.Publish();
    }

    private static List<byte[]> Receive(VifRegion at, int expect, int timeoutMs = 5000)
    {
        var got = new List<byte[]>();
        var until = Environment.TickCount64 + timeoutMs;
        while (got.Count < expect && Environment.TickCount64 < until)
        {
            int n = at.ToInstance.Available();
            for (int i = 0; i < n; i++) got.Add(at.ToInstance.Peek(i).ToArray());
            if (n > 0) at.ToInstance.Release(n);
            else Thread.Sleep(1);
        }
        return got;
    }

    [Fact]
    public void LearnsFloodsUnknownAndNeverSendsBack()
    {
        var a = Port("a:vif0");
        var b = Port("b:vif0");
        var c = Port("c:vif0");
        // Unknown destination: flooded to b and c, not back to a.
        Send(a, Frame(dst: 2, src: 1));
        Assert.Single(Receive(b, 1));
        Assert.Single(Receive(c, 1));
        Thread.Sleep(50);
        Assert.Empty(Receive(a, 1, 100));
        // b answers a: a was learned, so only a gets it.
        Send(b, Frame(dst: 1, src: 2));
        Assert.Single(Receive(a, 1));
        Thread.Sleep(50);
        Assert.Empty(Receive(c, 1, 100));
        // Now both are known: a -> b goes to b only.
        Send(a, Frame(dst: 2, src: 1, tag: 7));
        var got = Receive(b, 1);
        Assert.Equal(7, BitConverter.ToInt32(got[0], 16));
        Assert.Empty(Receive(c, 1, 100));
        // Broadcast reaches everyone else.
        Send(c, Frame(dst: 0xff, src: 3));
        Assert.Single(Receive(a, 1));
        Assert.Single(Receive(b, 1));
        Assert.Equal(3, _sw.MacCount);
        var pa = _sw.Find("a:vif0")!;
        Assert.Equal(2, pa.Counters.RxPackets);
        Assert.Equal(2, pa.Counters.TxPackets);
    }

    [Fact]
    public void ChainedPortsAreAWireOutsideLearning()
    {
        var a = Port("fw:vif1");
        var b = Port("nat:vif0");
        var c = Port("other:vif0");
        _sw.Chain("fw:vif1", "nat:vif0");
        Send(a, Frame(dst: 0xff, src: 1), Frame(dst: 9, src: 1));
        Assert.Equal(2, Receive(b, 2).Count);
        Send(b, Frame(dst: 1, src: 2));
        Assert.Single(Receive(a, 1));
        // Nothing leaks into the learning domain, and c's broadcast does not enter the chain.
        Send(c, Frame(dst: 0xff, src: 3));
        Thread.Sleep(100);
        Assert.Empty(Receive(a, 1, 50));
        Assert.Empty(Receive(b, 1, 50));
        Assert.Equal(1, _sw.MacCount);
        Assert.Throws<InvalidOperationException>(() => _sw.Chain("fw:vif1", "other:vif0"));
        Assert.True(_sw.Unchain("nat:vif0"));
        Assert.Null(_sw.Find("fw:vif1")!.ChainedTo);
    }

    [Fact]
    public void AFloodingPortDoesNotStarveTheOthers()
    {
        _sw.Add(new NullPort("sink"));
        var flood = Port("flood:vif0", slots: 1024);
        var quiet = new[] { Port("q1:vif0", 64), Port("q2:vif0", 64) };
        var stop = false;
        // The flooder refills its ring as fast as it can, to a MAC the sink learned.
        var flooder = new Thread(() =>
        {
            var f = Frame(dst: 0xee, src: 0x10);
            while (!Volatile.Read(ref stop))
            {
                int free = flood.ToSwitch.Free();
                for (int i = 0; i < free; i++) flood.ToSwitch.Put(f);
                if (free > 0) flood.ToSwitch.Publish();
            }
        });
        flooder.Start();
        try
        {
            // Each quiet port sends 20,000 frames in bursts of its ring size; all get through.
            const int N = 20_000;
            var senders = quiet.Select((q, k) => new Thread(() =>
            {
                var f = Frame(dst: 0xee, src: (byte)(0x20 + k));
                for (int sent = 0; sent < N;)
                {
                    int free = Math.Min(q.ToSwitch.Free(), N - sent);
                    for (int i = 0; i < free; i++) q.ToSwitch.Put(f);
                    if (free > 0) q.ToSwitch.Publish();
                    else Thread.Yield();
                    sent += free;
                }
            })).ToList();
            senders.ForEach(t => t.Start());
            foreach (var t in senders) Assert.True(t.Join(30_000), "a quiet port was starved");
            // Each quiet port's frames were all taken by the switch.
            var until = Environment.TickCount64 + 5000;
            while (Environment.TickCount64 < until && quiet.Any(q => q.ToSwitch.Free() < q.ToSwitch.Slots)) Thread.Sleep(1);
            foreach (var name in new[] { "q1:vif0", "q2:vif0" })
                Assert.Equal(N, _sw.Find(name)!.Counters.RxPackets);
            // The flooder was flooding all along (it moved more than either quiet port), so the
            // quiet ports got through beside it, not after it.
            Assert.True(_sw.Find("flood:vif0")!.Counters.RxPackets > N, $"the flooder moved only {_sw.Find("flood:vif0")!.Counters.RxPackets}");
        }
        finally
        {
            Volatile.Write(ref stop, true);
            flooder.Join();
        }
    }

    [Fact]
    public void ACorruptRingShutsThatPortOnly()
    {
        var a = Port("a:vif0");
        var b = Port("b:vif0");
        var bad = Port("bad:vif0");
        bad.ToSwitch.PokeIndices(tail: ulong.MaxValue / 2, head: null);
        var until = Environment.TickCount64 + 5000;
        while (_sw.Find("bad:vif0")!.ShutReason == null && Environment.TickCount64 < until) Thread.Sleep(1);
        Assert.Contains("corrupt ring", _sw.Find("bad:vif0")!.ShutReason);
        Assert.True(bad.Shut);   // the instance sees its port go dead
        Send(a, Frame(dst: 0xff, src: 1));
        Assert.Single(Receive(b, 1));
        Assert.Equal(0, _sw.Find("bad:vif0")!.Counters.TxPackets);
    }

    [Fact]
    public void RemovingAPortLeavesTheSwitchRunning()
    {
        var a = Port("a:vif0");
        var b = Port("b:vif0");
        _ = Port("gone:vif0");
        Send(a, Frame(dst: 0xff, src: 1));
        Assert.Single(Receive(b, 1));
        Assert.True(_sw.Remove("gone:vif0"));
        Assert.Null(_sw.Find("gone:vif0"));
        Send(b, Frame(dst: 1, src: 2));
        Assert.Single(Receive(a, 1));
    }

    [Fact]
    public void IdleSwitchSleepsAndWakesOnTheBell()
    {
        var a = Port("a:vif0");
        var b = Port("b:vif0");
        var until = Environment.TickCount64 + 5000;
        while (_sw.Sleeps == 0 && Environment.TickCount64 < until) Thread.Sleep(5);
        Assert.True(_sw.Sleeps > 0);
        // Adding the ports kicked the switch; let the spin spell that follows a wake-up end.
        Thread.Sleep(100);
        long rounds = _sw.Rounds;
        Thread.Sleep(300);
        Assert.True(_sw.Rounds - rounds < 100, $"{_sw.Rounds - rounds} rounds while idle");   // asleep, not spinning
        var t0 = Environment.TickCount64;
        Send(a, Frame(dst: 0xff, src: 1));
        Assert.Single(Receive(b, 1, 1000));
        Assert.True(Environment.TickCount64 - t0 < 90, "woken by the bell, not by the 100 ms timeout");
    }

    private static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        var pfd = new ClickOS.Runtime.Posix.PollFd { Fd = fd, Events = ClickOS.Runtime.Posix.POLLIN };
        return ClickOS.Runtime.Posix.poll(&pfd, 1, timeoutMs) == 1;
    }

    /// <summary>Wake-ups toward instances are coalesced, never lost: a lone frame for a sleeping instance rings its bell once the switch has nothing else to do.</summary>
    [Fact]
    public void ASleepingInstanceIsAlwaysToldOfAFrame()
    {
        var a = Port("a:vif0");
        var b = Port("b:vif0");
        for (int k = 0; k < 20; k++)
        {
            b.InstanceBell.Drain();
            Assert.True(b.ToInstance.PrepareSleep());
            Send(a, Frame(dst: 0xff, src: 1, tag: k));
            Assert.True(WaitReadable(b.InstanceBell.Fd, 2000), $"frame {k}: the sleeping instance was not rung");
            var got = Receive(b, 1);
            Assert.Equal(k, BitConverter.ToInt32(got.Single(), 16));
        }
    }
}
