using ClickOS.IO.ShmRing;

namespace ClickOS.IO.Tests;

/// <summary>The shared-memory rings behind virtual ports: order, batching, sleeping, and distrust of the peer.</summary>
public sealed class ShmRingTests : IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"clickos-ring-{Guid.NewGuid():N}")).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (VifRegion Host, VifRegion Inst, Doorbell Bell) Pair(int slots = 64, int slotSize = 2048)
    {
        var bell = Doorbell.Create(Path.Combine(_dir, "switch.bell"), out var e1) ?? throw new IOException(e1);
        var host = VifRegion.Create(Path.Combine(_dir, "vif0"), slots, slotSize, bell, out var e2) ?? throw new IOException(e2);
        var inst = VifRegion.Open(Path.Combine(_dir, "vif0"), out var e3) ?? throw new IOException(e3);
        return (host, inst, bell);
    }

    [Fact]
    public void FramesCrossInOrderBetweenTwoMappingsOnTwoThreads()
    {
        var (host, inst, bell) = Pair(slots: 256);
        using var _h = host;
        using var _i = inst;
        using var _b = bell;
        const int N = 200_000;
        var producer = new Thread(() =>
        {
            var ring = inst.ToSwitch;
            Span<byte> f = stackalloc byte[64 + 8];
            for (int i = 0; i < N;)
            {
                int free = ring.Free();
                if (free == 0) { Thread.Yield(); continue; }
                int batch = Math.Min(free, Math.Min(32, N - i));
                for (int k = 0; k < batch; k++, i++)
                {
                    int len = 60 + i % 8;
                    BitConverter.TryWriteBytes(f, i);
                    f[4] = (byte)len;
                    ring.Put(f[..len]);
                }
                ring.Publish();
            }
        });
        producer.Start();
        var cons = host.ToSwitch;
        int next = 0;
        var until = DateTime.UtcNow.AddSeconds(30);
        while (next < N && DateTime.UtcNow < until)
        {
            int n = cons.Available();
            for (int k = 0; k < n; k++)
            {
                var f = cons.Peek(k);
                Assert.Equal(next, BitConverter.ToInt32(f));
                Assert.Equal(60 + next % 8, f.Length);
                Assert.Equal(f.Length, f[4]);
                next++;
            }
            if (n > 0) cons.Release(n);
        }
        producer.Join();
        Assert.Equal(N, next);
        Assert.False(cons.Corrupt);
    }

    [Fact]
    public void FullRingRefusesAndSleepingConsumerIsRung()
    {
        var (host, inst, bell) = Pair(slots: 8);
        using var _h = host;
        using var _i = inst;
        using var _b = bell;
        var prod = inst.ToSwitch;
        var cons = host.ToSwitch;
        // The switch sleeps: it asks to be rung, and nothing is pending.
        Assert.True(cons.PrepareSleep());
        Assert.False(Readable(bell.Fd));
        byte[] frame = new byte[60];
        Assert.Equal(8, prod.Free());
        for (int i = 0; i < 8; i++) prod.Put(frame);
        Assert.Equal(0, prod.Free());
        Assert.False(Readable(bell.Fd));   // not published yet: no ring
        prod.Publish();
        Assert.True(Readable(bell.Fd));    // one ring for the whole batch
        bell.Drain();
        Assert.False(Readable(bell.Fd));
        // The producer waits for space; the consumer rings the space bell once half the ring
        // is free, not on the first freed slot (hysteresis: no wake per slot).
        Assert.True(prod.PrepareWaitForSpace());
        Assert.Equal(8, cons.Available());
        cons.Release(3);
        Assert.False(Readable(inst.SpaceBell.Fd));
        Assert.True(prod.PrepareWaitForSpace());   // 3 of 8 free: still worth sleeping
        cons.Release(1);
        Assert.True(Readable(inst.SpaceBell.Fd));
        inst.SpaceBell.Drain();
        Assert.False(prod.PrepareWaitForSpace());  // half free: do not sleep
        Assert.Equal(4, prod.Free());
        cons.Release(4);
        Assert.False(Readable(inst.SpaceBell.Fd)); // nobody waits: no ring
        for (int i = 0; i < 4; i++) prod.Put(frame);
        Assert.Equal(4, prod.Free());              // the cached view said full: refreshed, all 8 were released
        prod.Publish();
        bell.Drain();
        Assert.Equal(4, cons.Available());
        cons.Release(4);
        // While traffic flows nobody rings.
        inst.SpaceBell.Drain();
        prod.Put(frame);
        prod.Publish();
        Assert.False(Readable(bell.Fd));
    }

    [Fact]
    public void CorruptIndicesAndLengthsAreDetectedNotFollowed()
    {
        var (host, inst, bell) = Pair(slots: 8);
        using var _h = host;
        using var _i = inst;
        using var _b = bell;
        // A producer index more than a ring ahead.
        inst.ToSwitch.PokeIndices(tail: 1_000_000, head: null);
        Assert.Equal(0, host.ToSwitch.Available());
        Assert.True(host.ToSwitch.Corrupt);
        Assert.Contains("producer index 1000000", host.ToSwitch.CorruptReason);

        // A consumer index behind what it already released, or past the producer.
        var r2 = host.ToInstance;
        byte[] frame = new byte[60];
        for (int i = 0; i < 8; i++) r2.Put(frame);
        r2.Publish();
        inst.ToInstance.PokeIndices(tail: null, head: 99);
        Assert.Equal(0, r2.Free());
        Assert.True(r2.Corrupt);
        Assert.Contains("consumer index 99", r2.CorruptReason);
    }

    [Fact]
    public void OversizedSlotLengthIsCorrupt()
    {
        var (host, inst, bell) = Pair(slots: 8, slotSize: 128);
        using var _h = host;
        using var _i = inst;
        using var _b = bell;
        var prod = inst.ToSwitch;
        prod.Put(new byte[100]);
        prod.Publish();
        // Rewrite the slot's length word behind the ring's back.
        using (var f = new FileStream(host.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite))
        {
            f.Position = 4096 + SpscRing.ControlBytes;
            f.Write(BitConverter.GetBytes(5000));
        }
        Assert.Equal(1, host.ToSwitch.Available());
        Assert.True(host.ToSwitch.Peek(0).IsEmpty);
        Assert.True(host.ToSwitch.Corrupt);
        Assert.Contains("frame length 5000", host.ToSwitch.CorruptReason);
    }

    [Fact]
    public void OpenRefusesFilesThatAreNotPorts()
    {
        string p = Path.Combine(_dir, "junk");
        File.WriteAllBytes(p, new byte[8192]);
        Assert.Null(VifRegion.Open(p, out string? error));
        Assert.Contains("not a virtual port", error);
        Assert.Null(VifRegion.Open(Path.Combine(_dir, "missing"), out error));
        Assert.NotNull(error);
    }

    private static unsafe bool Readable(int fd)
    {
        var pfd = new ClickOS.Runtime.Posix.PollFd { Fd = fd, Events = ClickOS.Runtime.Posix.POLLIN };
        return ClickOS.Runtime.Posix.poll(&pfd, 1, 0) == 1;
    }
}
