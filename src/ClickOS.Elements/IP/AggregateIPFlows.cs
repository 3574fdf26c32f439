using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// AggregateIPFlows([keywords TCP_TIMEOUT, UDP_TIMEOUT, REAP, ICMP]): numbers the TCP and UDP
/// flows it sees (both directions of a connection share a number, starting at 1) and stores the
/// number in the AGGREGATE annotation and the direction (0 = first seen, 1 = reverse) in PAINT.
/// Flows idle longer than their timeout (TCP 24 h, UDP 1 min) are forgotten. Non-TCP/UDP
/// packets go to output 1 if it exists, else are dropped. Handlers: count (flows known), clear.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;4500001c 00000000 4011 66cf 0a000001 0a000002 04d2 0035 0008 0000&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> a :: AggregateIPFlows -> Discard; a[1] -> Discard;</example>
public sealed class AggregateIPFlows : FilterElement
{
    private long _tcpTimeoutNs = 86400L * 1_000_000_000, _udpTimeoutNs = 60L * 1_000_000_000;
    private bool _icmp;
    private uint _next = 1;
    private readonly Dictionary<(uint, uint, ushort, ushort, byte), (uint Agg, long LastNs)> _flows = [];
    private long _lastReapNs;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var tcp = a.Read("TCP_TIMEOUT", Args.Seconds, 86400.0);
        var udp = a.Read("UDP_TIMEOUT", Args.Seconds, 60.0);
        a.Read("TCP_DONE_TIMEOUT", Args.Seconds, 30.0);
        a.Read("REAP", Args.Seconds, 1200.0);
        a.Read("FRAGMENTS", Args.Bool, true);
        var icmp = a.Read("ICMP", Args.Bool, false);
        if (!a.Complete()) return false;
        _tcpTimeoutNs = (long)(tcp.Value * 1e9);
        _udpTimeoutNs = (long)(udp.Value * 1e9);
        _icmp = icmp;
        return true;
    }

    protected override int Classify(Packet p)
    {
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        var d = p.Data;
        if (ip < 0 || d.Length < ip + 20) return 1;
        byte proto = d[ip + 9];
        int hl = (d[ip] & 0x0F) * 4;
        if (proto is not (6 or 17) || d.Length < ip + hl + 4 || (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) != 0)
            return proto == 1 && _icmp ? 0 : 1;
        uint src = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), dst = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        ushort sp = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + hl)..]), dp = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + hl + 2)..]);
        long now = Host.Clock.NowNs;
        long timeout = proto == 6 ? _tcpTimeoutNs : _udpTimeoutNs;
        var fwd = (src, dst, sp, dp, proto);
        var rev = (dst, src, dp, sp, proto);
        byte dir;
        uint agg;
        if (_flows.TryGetValue(fwd, out var f) && now - f.LastNs <= timeout) { agg = f.Agg; dir = 0; _flows[fwd] = (agg, now); }
        else if (_flows.TryGetValue(rev, out var r) && now - r.LastNs <= timeout) { agg = r.Agg; dir = 1; _flows[rev] = (agg, now); }
        else { agg = _next++; dir = 0; _flows[fwd] = (agg, now); }
        p.SetAnnoU32(AnnoOffsets.Aggregate, agg);
        p.PaintAnno = dir;
        if (now - _lastReapNs > _udpTimeoutNs) Reap(now);
        return 0;
    }

    private void Reap(long now)
    {
        _lastReapNs = now;
        foreach (var (k, v) in _flows.ToList())
            if (now - v.LastNs > (k.Item5 == 6 ? _tcpTimeoutNs : _udpTimeoutNs)) _flows.Remove(k);
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _flows.Count.ToString(ElementUtil.Inv));
        AddButton("clear", _flows.Clear);
    }
}
