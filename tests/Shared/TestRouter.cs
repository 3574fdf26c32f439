using System.Text;
using ClickOS.Core;
using ClickOS.IO;
using ClickOS.Runtime;

namespace ClickOS.Tests;

/// <summary>Builds and runs routers in-process with captured output, for element and runtime tests.</summary>
public sealed class TestRouter : IDisposable
{
    public StringWriter Out { get; } = new();
    public StringWriter Err { get; } = new();
    public CollectingErrorHandler Errors { get; } = new();
    public Router? Router { get; }

    public TestRouter(string config, bool simtime = false, string file = "test.click", Action<ElementRegistry>? extraElements = null)
    {
        var registry = IOElements.CreateFullRegistry();
        extraElements?.Invoke(registry);
        var flat = ConfigLoader.Load(config, file, registry, Errors);
        if (flat != null)
            Router = Router.Create(flat, registry, Errors, new RouterOptions { SimulatedTime = simtime, StandardOutput = Out, ErrorOutput = Err, InitialPackets = 64 });
    }

    public static TestRouter Start(string config, bool simtime = false)
    {
        var t = new TestRouter(config, simtime);
        Assert.True(t.Router != null, "router failed: " + t.Errors.Text);
        return t;
    }

    /// <summary>Runs the driver until the router stops by itself (fails after <paramref name="timeoutMs"/>).</summary>
    public TestRouter Run(int timeoutMs = 10_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        Driver.Run(Router!, cts.Token);
        Assert.False(cts.IsCancellationRequested, "router did not stop by itself");
        return this;
    }

    public string Read(string handler)
    {
        var h = Router!.FindHandler(handler, null, out _, Errors);
        Assert.True(h != null, $"no handler {handler}: {Errors.Text}");
        return h!.CallRead("", Errors) ?? throw new InvalidOperationException(Errors.Text);
    }

    public long ReadLong(string handler) => long.Parse(Read(handler).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    public bool Write(string handler, string value = "")
    {
        var h = Router!.FindHandler(handler, null, out _, Errors);
        Assert.True(h != null, $"no handler {handler}: {Errors.Text}");
        return h!.CallWrite(value, Errors);
    }

    /// <summary>Cleans up and checks that every packet went back to the pool.</summary>
    public void AssertNoLeaks()
    {
        Router!.Cleanup();
        Assert.Equal(0, Router.Pool.Outstanding);
    }

    public void Dispose() => Router?.Cleanup();

    /// <summary>Writes a little-endian microsecond pcap of Ethernet frames.</summary>
    public static void WritePcap(string path, IEnumerable<byte[]> frames, bool bigEndian = false, bool nano = false, int linkType = 1)
    {
        using var f = File.Create(path);
        var h = new byte[24];
        uint magic = nano ? 0xA1B23C4D : 0xA1B2C3D4;
        void W32(byte[] b, int off, uint v)
        {
            if (bigEndian) System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(off), v);
            else System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(off), v);
        }
        W32(h, 0, magic);
        h[bigEndian ? 5 : 4] = 2;
        h[bigEndian ? 7 : 6] = 4;
        W32(h, 16, 65535);
        W32(h, 20, (uint)linkType);
        f.Write(h);
        uint t = 1;
        foreach (var fr in frames)
        {
            var r = new byte[16];
            W32(r, 0, 1_700_000_000 + t);
            W32(r, 4, nano ? t * 1000 : t);
            W32(r, 8, (uint)fr.Length);
            W32(r, 12, (uint)fr.Length);
            f.Write(r);
            f.Write(fr);
            t++;
        }
    }

    public static byte[] Frame(int length, ushort etherType = 0x0800, byte fill = 0)
    {
        var b = new byte[length];
        Array.Fill(b, fill);
        b[12] = (byte)(etherType >> 8);
        b[13] = (byte)etherType;
        return b;
    }

    public static string Latin1(byte[] b) => Encoding.Latin1.GetString(b);
}
