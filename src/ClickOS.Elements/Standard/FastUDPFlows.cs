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
    // Per flow only its ports (source << 16 | destination) and packets sent: a million flows
    // cost 8 MB, not a million pool packets. Each packet is a copy of one template.
    private uint[] _ports = [];
    private int[] _flowSent = [];
    private byte[] _template = [];
    private ushort _templateSum;
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
        _ports = new uint[FlowCount];
        _flowSent = new int[FlowCount];
        for (int i = 0; i < FlowCount; i++) _ports[i] = NewPorts();
        _template = new byte[Length];
        var d = _template.AsSpan();
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
        int ulen = Length - 34;
        BinaryPrimitives.WriteUInt16BigEndian(d[38..], (ushort)ulen);
        // The checksum of the template with zero ports; each packet adds its ports to it.
        _templateSum = InternetChecksum.Fold(InternetChecksum.Sum(d.Slice(34, ulen), InternetChecksum.PseudoHeaderSum(SrcIP, DstIP, 17, ulen)));
        return true;
    }

    private uint NewPorts() => (uint)_rng.Next(65535) << 16 | (uint)_rng.Next(65535);

    protected override Packet? NextPacket()
    {
        int f = _rng.Next(FlowCount);
        if (++_flowSent[f] > FlowSize)
        {
            _ports[f] = NewPorts();
            _flowSent[f] = 1;
        }
        var p = Host.Pool.Make(_template);
        if (p == null) return null;
        var d = p.WritableData();
        uint ports = _ports[f];
        BinaryPrimitives.WriteUInt32BigEndian(d[34..], ports);
        if (_checksum)
        {
            // One's-complement: adding the two port words to the folded sum of the rest.
            uint sum = (uint)(ushort)~_templateSum + (ports >> 16) + (ports & 0xFFFF);
            sum = (sum & 0xFFFF) + (sum >> 16);
            sum = (sum & 0xFFFF) + (sum >> 16);
            ushort c = (ushort)~sum;
            BinaryPrimitives.WriteUInt16BigEndian(d[40..], c == 0 ? (ushort)0xFFFF : c);
        }
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        p.DstIPAnno = DstIP;
        return p;
    }

    public override void Cleanup()
    {
        _ports = [];
        _flowSent = [];
    }
}
