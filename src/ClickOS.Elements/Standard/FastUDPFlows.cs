using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FastUDPFlows(RATE, LIMIT, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS, FLOWSIZE [, CHECKSUM, ACTIVE]):
/// a pull source of LENGTH-byte Ethernet/IPv4/UDP packets in FLOWS flows with random ports;
/// each flow changes ports after FLOWSIZE packets. RATE 0 means unlimited, LIMIT -1 unlimited.
/// Handlers: count, rate (read/write), reset, active, limit.
/// </summary>
/// <example>FastUDPFlows(0, 100, 64, 0:0:0:0:0:1, 10.0.0.1, 0:0:0:0:0:2, 10.0.0.2, 4, 10) -> Unqueue -> c :: Counter -> Discard; DriverManager(wait 50ms, stop);</example>
public sealed class FastUDPFlows : FlowSource
{
    private bool _checksum = true;
    private Packet[] _flows = [];
    private int[] _flowSent = [];
    private readonly Random _rng = new(0x5eed);

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        ReadFlowArgs(a);
        var cs = a.ReadP("CHECKSUM", Args.Bool, true);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        if (!a.Complete()) return false;
        if (RequestedLength < 60) errh.Warning("warning: packet length < 60, defaulting to 60");
        ApplyFlowArgs(60, 1);
        _checksum = cs;
        Active = active;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _flows = new Packet[FlowCount];
        _flowSent = new int[FlowCount];
        for (int i = 0; i < FlowCount; i++) _flows[i] = Build();
        return true;
    }

    private Packet Build()
    {
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, Length, 0)!;
        var d = p.WritableData();
        d.Clear();
        DstEth.CopyTo(d);
        SrcEth.CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x0800);
        var ip = d[14..];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(Length - 14));
        ip[8] = 250;
        ip[9] = 17;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], SrcIP);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], DstIP);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        SetPorts(p);
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        p.DstIPAnno = DstIP;
        return p;
    }

    private void SetPorts(Packet p)
    {
        var d = p.WritableData();
        var udp = d[34..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)_rng.Next(65535));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)_rng.Next(65535));
        int ulen = Length - 34;
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)ulen);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        if (_checksum)
        {
            uint sum = InternetChecksum.Sum(udp[..ulen], InternetChecksum.PseudoHeaderSum(SrcIP, DstIP, 17, ulen));
            ushort c = InternetChecksum.Fold(sum);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], c == 0 ? (ushort)0xFFFF : c);
        }
    }

    protected override Packet? NextPacket()
    {
        int f = _rng.Next(FlowCount);
        if (++_flowSent[f] > FlowSize)
        {
            // Change the flow's ports; the old template may still be shared by clones in flight.
            var fresh = _flows[f].Clone()!;
            _flows[f].Kill();
            _flows[f] = fresh;
            SetPorts(fresh);
            _flowSent[f] = 1;
        }
        return _flows[f].Clone();
    }

    public override void Cleanup()
    {
        foreach (var p in _flows) p?.Kill();
        _flows = [];
    }
}
