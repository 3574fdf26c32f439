using ClickOS.Core;
using ClickOS.Tests;

namespace ClickOS.Elements.Tests;

/// <summary>
/// An element whose output leads back into itself gets pushed again while it is still
/// dispatching a batch: the per-element scratch arrays that batch-native elements reuse must
/// not decide where the rest of the first batch goes.
/// </summary>
public sealed class ReentrancyTests : IDisposable
{
    private readonly string _pcap = Path.Combine(Path.GetTempPath(), "clickos-reent-" + Guid.NewGuid().ToString("N")[..8] + ".pcap");
    public void Dispose() => File.Delete(_pcap);

    /// <summary>Forwards each batch on output 0; the first time, also pushes 200 new non-IP frames out of output 1.</summary>
    private sealed class Bouncer : Element
    {
        private bool _done;
        public override string PortCount => "1/2";
        public override string Processing => "h/h";

        public override void Push(int port, PacketBatch batch)
        {
            if (!_done)
            {
                _done = true;
                var extra = Host.Batches.Rent();
                for (int i = 0; i < 200; i++)
                {
                    var p = Host.Pool.Make(64)!;
                    p.WritableData().Clear(); // EtherType 0: not IP
                    extra.Add(p);
                }
                Output(1, extra);
            }
            Output(0, batch);
        }
    }

    private static byte[] IPFrame(byte proto, int i)
    {
        var f = new byte[14 + 28];
        f[12] = 0x08;
        var ip = f.AsSpan(14);
        ip[0] = 0x45;
        ip[3] = 28;
        ip[8] = 64;
        ip[9] = proto;
        ip[12] = 10; ip[15] = (byte)(i + 1);
        ip[16] = 192; ip[17] = 0; ip[18] = 2; ip[19] = 9;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        if (proto == 17) { ip[20] = 0x13; ip[21] = (byte)i; ip[23] = 53; ip[25] = 8; }
        else ip[20] = 13; // ICMP timestamp request: not something IPRewriter maps
        return f;
    }

    [Fact]
    public void ASplittingElementPushedAgainMidDispatchStillRoutesTheFirstBatchRight()
    {
        // Eight packets in one batch, alternating UDP (mapped: output 0) and ICMP (dropped).
        // Output 0 leads to an element that pushes 200 packets back into the rewriter, which
        // refills the rewriter's per-batch arrays while its first batch is half dispatched.
        TestRouter.WritePcap(_pcap, Enumerable.Range(0, 8).Select(i => IPFrame(i % 2 == 0 ? (byte)17 : (byte)1, i)).ToList());
        using var t = new TestRouter($"""
            FromDump({_pcap}, STOP true, BURST 8) -> Strip(14) -> CheckIPHeader -> rw :: IPRewriter(pattern 198.51.100.1 50000-50099# - - 0 1, pass 1);
            rw[0] -> b :: Bouncer -> ip :: Counter -> Discard;
            b[1] -> [1]rw;
            rw[1] -> other :: Counter -> Discard;
            """, extraElements: r => r.Add("Bouncer", () => new Bouncer()));
        Assert.True(t.Router != null, t.Errors.Text);
        t.Run();
        Assert.Equal(4, t.ReadLong("ip.count"));
        Assert.Equal(200, t.ReadLong("other.count"));
        t.AssertNoLeaks();
    }
}
