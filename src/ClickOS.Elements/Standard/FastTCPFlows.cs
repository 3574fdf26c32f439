using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FastTCPFlows(RATE, LIMIT, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS, FLOWSIZE [, ACTIVE, SEED]):
/// a pull source of LENGTH-byte Ethernet/IPv4/TCP packets in FLOWS concurrent flows; each flow
/// is a SYN, data packets and a FIN (FLOWSIZE packets in all), then starts again on new random
/// ports. RATE 0 means unlimited, LIMIT -1 unlimited. Handlers: count, rate (read/write), reset, active, limit.
/// </summary>
/// <example>FastTCPFlows(0, 100, 64, 0:0:0:0:0:1, 10.0.0.1, 0:0:0:0:0:2, 10.0.0.2, 4, 10) -> Unqueue -> c :: Counter -> Discard; DriverManager(wait 50ms, stop);</example>
public sealed class FastTCPFlows : FlowSource
{
    private Random _rng = new(0);
    private (ushort Sport, ushort Dport, uint Seq, int Sent)[] _flows = [];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        ReadFlowArgs(a);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        var seed = a.Read("SEED", Args.Int, 0);
        if (!a.Complete()) return false;
        ApplyFlowArgs(54, 2);
        Active = active;
        _rng = new Random(seed);
        _flows = new (ushort, ushort, uint, int)[FlowCount];
        for (int i = 0; i < FlowCount; i++) NewFlow(i);
        return true;
    }

    private void NewFlow(int i) => _flows[i] = ((ushort)_rng.Next(1024, 65535), (ushort)_rng.Next(1, 65535), (uint)_rng.Next(), 0);

    private Packet? Build(int f)
    {
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, Length, 0);
        if (p == null) return null;
        ref var flow = ref _flows[f];
        var d = p.WritableData();
        d.Clear();
        DstEth.CopyTo(d);
        SrcEth.CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x0800);
        var ip = d[14..];
        int ipLen = Length - 14;
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLen);
        ip[8] = 64;
        ip[9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], SrcIP);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], DstIP);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        var tcp = ip[20..ipLen];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, flow.Sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], flow.Dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], flow.Seq);
        tcp[12] = 5 << 4;
        byte flags = flow.Sent == 0 ? (byte)0x02 : flow.Sent == FlowSize - 1 ? (byte)0x11 : (byte)0x18;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
        int dataLen = tcp.Length - 20;
        flow.Seq += flags == 0x02 ? 1u : (uint)dataLen + (flags == 0x11 ? 1u : 0u);
        uint sum = InternetChecksum.Sum(tcp, InternetChecksum.PseudoHeaderSum(SrcIP, DstIP, 6, tcp.Length));
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Fold(sum));
        if (++flow.Sent == FlowSize) NewFlow(f);
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        p.DstIPAnno = DstIP;
        p.TimestampNs = Host.Clock.NowNs;
        return p;
    }

    protected override Packet? NextPacket() => Build(_rng.Next(FlowCount));
}
