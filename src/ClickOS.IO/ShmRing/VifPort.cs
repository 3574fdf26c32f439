using System.Globalization;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.IO.ShmRing;

/// <summary>
/// An instance's end of a virtual port on the host's switch. FromDevice and ToDevice use one
/// when the host gave the instance a port of that name (its virtual-port directory holds a
/// region file called, say, <c>vif0</c>), so one configuration runs standalone on a real
/// interface and hosted on the switch. ClickOS's FromNetFront/ToNetFront name a port by number
/// (<c>0</c> is <c>vif0</c>) or by its MAC address.
/// </summary>
internal sealed class VifPort : IDisposable
{
    private readonly VifRegion _r;
    public long PoolDrops { get; private set; }
    /// <summary>Readable when frames arrived while the instance slept.</summary>
    public int FramesFd => _r.InstanceBell.Fd;
    /// <summary>Readable when the switch freed room after the instance found its ring full.</summary>
    public int SpaceFd => _r.SpaceBell.Fd;
    public string Path => _r.Path;

    private VifPort(VifRegion r) => _r = r;

    /// <summary>The region file for device <paramref name="dev"/>, if the host gave this router one.</summary>
    public static string? Locate(ElementHost host, string dev)
    {
        string? dir = host.VifDirectory;
        if (dir == null || dev.Length == 0) return null;
        if (uint.TryParse(dev, NumberStyles.None, CultureInfo.InvariantCulture, out uint n)) dev = $"vif{n}";
        if (dev.IndexOfAny(['/', '\0']) < 0 && File.Exists(System.IO.Path.Combine(dir, dev))) return System.IO.Path.Combine(dir, dev);
        // A MAC address: the port whose .mac file says so.
        try
        {
            foreach (var macFile in Directory.EnumerateFiles(dir, "*.mac"))
                if (string.Equals(File.ReadAllText(macFile).Trim(), dev, StringComparison.OrdinalIgnoreCase))
                    return macFile[..^4];
        }
        catch (IOException) { }
        return null;
    }

    public static VifPort? Open(string path, ErrorHandler errh)
    {
        var r = VifRegion.Open(path, out string? error);
        if (r == null)
        {
            errh.Error($"virtual port {error}");
            return null;
        }
        return new VifPort(r);
    }

    /// <summary>Moves up to <paramref name="max"/> frames from the switch into packets (copies: the ring's slots go straight back).</summary>
    public int Receive(PacketPool pool, PacketBatch batch, int max, int headroom, long nowNs)
    {
        var ring = _r.ToInstance;
        int n = Math.Min(ring.Available(), max);
        int got = 0;
        for (int i = 0; i < n; i++)
        {
            var f = ring.Peek(i);
            if (ring.Corrupt) break;
            var p = pool.Make(headroom, f.Length, 0);
            if (p == null) { PoolDrops++; continue; }
            var d = p.WritableData();
            f.CopyTo(d);
            p.TimestampNs = nowNs;
            p.SetMacHeader(0);
            if (d.Length >= 34 && d[12] == 0x08 && d[13] == 0x00 && (d[14] >> 4) == 4)
                p.SetNetworkHeader(14, Math.Max((d[14] & 0x0F) * 4, 20));
            batch.Add(p);
            got++;
        }
        if (n > 0) ring.Release(n);
        return got;
    }

    /// <summary>Nothing to read: asks to be woken; false if frames arrived meanwhile.</summary>
    public bool PrepareSleep()
    {
        _r.InstanceBell.Drain();
        return _r.ToInstance.PrepareSleep();
    }

    public void DrainSpace() => _r.SpaceBell.Drain();

    /// <summary>Copies frames into the switch's ring and publishes them once. Stops at a full ring (EAGAIN) or an oversized frame (EMSGSIZE).</summary>
    public int Send(ReadOnlySpan<Packet> packets, out int errno)
    {
        var ring = _r.ToSwitch;
        errno = 0;
        if (_r.Shut) { errno = ENETDOWN; return 0; }
        int free = ring.Free();
        int n = 0;
        for (; n < packets.Length; n++)
        {
            var d = packets[n].Data;
            if (n == free) { errno = EAGAIN; break; }
            if (d.Length > ring.MaxFrame) { errno = EMSGSIZE; break; }
            ring.Put(d);
        }
        if (n > 0) ring.Publish();
        return n;
    }

    /// <summary>Where the switch's draining of the ring stood at the last look (changes while it drains).</summary>
    public ulong DrainedSeen => _r.ToSwitch.ConsumerIndexSeen;

    /// <summary>The ring to the switch is full: asks to be woken when it has room; false if it already has.</summary>
    public bool PrepareWaitForSpace()
    {
        _r.SpaceBell.Drain();
        return _r.ToSwitch.PrepareWaitForSpace();
    }

    public void Dispose() => _r.Dispose();

    public const int EAGAIN = 11, EMSGSIZE = 90, ENETDOWN = 100;
}
