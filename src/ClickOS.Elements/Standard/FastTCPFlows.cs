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
public sealed class FastTCPFlows : Element
{
    private int _rate, _length, _flowCount, _flowSize;
    private long _limit, _count, _firstNs;
    private bool _active = true;
    private byte[] _srcEth = [], _dstEth = [];
    private uint _srcIP, _dstIP;
    private Random _rng = new(0);
    private (ushort Sport, ushort Dport, uint Seq, int Sent)[] _flows = [];

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
        var active = a.ReadP("ACTIVE", Args.Bool, true);
        var seed = a.Read("SEED", Args.Int, 0);
        if (!a.Complete()) return false;
        _rate = rate;
        _limit = limit;
        _length = Math.Max(length.Value, 54);
        _srcEth = srcEth;
        _dstEth = dstEth;
        _srcIP = srcIP;
        _dstIP = dstIP;
        _flowCount = Math.Max(1, flows.Value);
        _flowSize = Math.Max(2, flowSize.Value);
        _active = active;
        _rng = new Random(seed);
        _flows = new (ushort, ushort, uint, int)[_flowCount];
        for (int i = 0; i < _flowCount; i++) NewFlow(i);
        return true;
    }

    private void NewFlow(int i) => _flows[i] = ((ushort)_rng.Next(1024, 65535), (ushort)_rng.Next(1, 65535), (uint)_rng.Next(), 0);

    private Packet? Build(int f)
    {
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, _length, 0);
        if (p == null) return null;
        ref var flow = ref _flows[f];
        var d = p.WritableData();
        d.Clear();
        _dstEth.CopyTo(d);
        _srcEth.CopyTo(d[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[12..], 0x0800);
        var ip = d[14..];
        int ipLen = _length - 14;
        ip[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)ipLen);
        ip[8] = 64;
        ip[9] = 6;
        BinaryPrimitives.WriteUInt32BigEndian(ip[12..], _srcIP);
        BinaryPrimitives.WriteUInt32BigEndian(ip[16..], _dstIP);
        BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
        var tcp = ip[20..ipLen];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, flow.Sport);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], flow.Dport);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], flow.Seq);
        tcp[12] = 5 << 4;
        byte flags = flow.Sent == 0 ? (byte)0x02 : flow.Sent == _flowSize - 1 ? (byte)0x11 : (byte)0x18;
        tcp[13] = flags;
        BinaryPrimitives.WriteUInt16BigEndian(tcp[14..], 65535);
        int dataLen = tcp.Length - 20;
        flow.Seq += flags == 0x02 ? 1u : (uint)dataLen + (flags == 0x11 ? 1u : 0u);
        uint sum = InternetChecksum.Sum(tcp, InternetChecksum.PseudoHeaderSum(_srcIP, _dstIP, 6, tcp.Length));
        BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], InternetChecksum.Fold(sum));
        if (++flow.Sent == _flowSize) NewFlow(f);
        p.SetMacHeader(0);
        p.SetNetworkHeader(14, 20);
        p.DstIPAnno = _dstIP;
        p.TimestampNs = Host.Clock.NowNs;
        return p;
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
            var p = Build(_rng.Next(_flowCount));
            if (p == null) break;
            b.Add(p);
        }
        _count += b.Count;
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        SetHandler("rate", (_, _) => _rate.ToString(inv), ElementUtil.Writer(Args.Unsigned, v => _rate = v, "rate"), HandlerFlags.None);
        AddButton("reset", () => _count = 0);
        AddWriteHandler("active", ElementUtil.Writer(Args.Bool, v => { _active = v; if (v) _count = 0; }, "active"));
        AddWriteHandler("limit", ElementUtil.Writer(Args.Int64, v => _limit = v, "limit"));
    }
}
