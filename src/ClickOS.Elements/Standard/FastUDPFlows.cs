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
public sealed class FastUDPFlows : Element
{
    private int _rate, _length, _flowCount, _flowSize;
    private long _limit, _count;
    private bool _checksum = true, _active = true;
    private byte[] _srcEth = [], _dstEth = [];
    private uint _srcIP, _dstIP;
    private Packet[] _flows = [];
    private int[] _flowSent = [];
    private readonly Random _rng = new(0x5eed);
    private long _firstNs, _lastNs;

    public override string PortCount => "0/1";
    public override string Processing => "l/l";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var rate = a.ReadMP("RATE", Args.Unsigned);
        var limit = a.ReadMP("LIMIT", Args.Int64);
        var length = a.ReadMP("LENGTH", Args.Unsigned);
        var srcEth = a.ReadMP("SRCETH", Args.EtherAddress);
        var srcIP = a.ReadMP("SRCIP", Args.IPAddress);
        var dstEth = a.ReadMP("DSTETH", Args.EtherAddress);
        var dstIP = a.ReadMP("DSTIP", Args.IPAddress);
        var flows = a.ReadMP("FLOWS", Args.Unsigned);
        var flowSize = a.ReadMP("FLOWSIZE", Args.Unsigned);
        var cs = a.ReadP("CHECKSUM", Args.Bool, true);
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        if (!a.Complete()) return false;
        _rate = rate;
        _limit = limit;
        _length = length.Value;
        if (_length < 60)
        {
            errh.Warning("warning: packet length < 60, defaulting to 60");
            _length = 60;
        }
        _srcEth = srcEth;
        _dstEth = dstEth;
        _srcIP = srcIP;
        _dstIP = dstIP;
        _flowCount = Math.Max(1, flows.Value);
        _flowSize = Math.Max(1, flowSize.Value);
        _checksum = cs;
        _active = active;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _flows = new Packet[_flowCount];
        _flowSent = new int[_flowCount];
        for (int i = 0; i < _flowCount; i++) _flows[i] = Build();
        return true;
    }

    private Packet Build()
    {
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, _length, 0)!;
        var d = p.WritableData();
        d.Clear();
        _dstEth.CopyTo(d);
        _srcEth.CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x0800);
        var ip = d[14..];
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)(_length - 14));
        ip[8] = 250;
        ip[9] = 17;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], _srcIP);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], _dstIP);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        SetPorts(p);
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        p.DstIPAnno = _dstIP;
        return p;
    }

    private void SetPorts(Packet p)
    {
        var d = p.WritableData();
        var udp = d[34..];
        BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)_rng.Next(65535));
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)_rng.Next(65535));
        int ulen = _length - 34;
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)ulen);
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
        if (_checksum)
        {
            uint sum = InternetChecksum.Sum(udp[..ulen], InternetChecksum.PseudoHeaderSum(_srcIP, _dstIP, 17, ulen));
            ushort c = InternetChecksum.Fold(sum);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], c == 0 ? (ushort)0xFFFF : c);
        }
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (!_active || (_limit >= 0 && _count >= _limit)) return null;
        long now = Host.Clock.NowNs;
        if (_count == 0) _firstNs = now;
        int n = max;
        if (_limit >= 0) n = (int)Math.Min(n, _limit - _count);
        if (_rate > 0)
        {
            long allowed = (long)((now - _firstNs) / 1e9 * _rate) + 1 - _count;
            n = (int)Math.Min(n, Math.Max(allowed, 0));
            if (n == 0) return null;
        }
        var b = Host.Batches.Rent();
        for (int i = 0; i < n; i++)
        {
            int f = _rng.Next(_flowCount);
            if (++_flowSent[f] > _flowSize)
            {
                // Change the flow's ports; the old template may still be shared by clones in flight.
                var fresh = _flows[f].Clone()!;
                _flows[f].Kill();
                _flows[f] = fresh;
                SetPorts(fresh);
                _flowSent[f] = 1;
            }
            var c = _flows[f].Clone();
            if (c == null) break;
            b.Add(c);
        }
        _count += b.Count;
        _lastNs = now;
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    public override void Cleanup()
    {
        foreach (var p in _flows) p?.Kill();
        _flows = [];
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        SetHandler("rate", (_, _) => _lastNs > _firstNs && _limit >= 0 && _count >= _limit ? ((long)(_count / ((_lastNs - _firstNs) / 1e9))).ToString(inv) : "0",
            ElementUtil.Writer(Args.Unsigned, v => _rate = v, "rate"), HandlerFlags.None);
        AddButton("reset", () => _count = 0);
        AddWriteHandler("active", ElementUtil.Writer(Args.Bool, v => { _active = v; if (v) _count = 0; }, "active"));
        AddWriteHandler("limit", ElementUtil.Writer(Args.Int64, v => _limit = v, "limit"));
    }
}
