using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ConnTrack([keywords]): a stateful firewall's connection tracker. Input 0 takes packets from
/// the trusted (inside) side: each TCP, UDP or ICMP echo flow is recorded and the packet leaves
/// on output 0. Input 1 takes packets from the outside: a reply of a tracked flow leaves on
/// output 1, and so does an ICMP error quoting a tracked flow ("related"); everything else is
/// denied: sent to output 2 if it exists, else dropped, and counted. Other IP protocols and
/// non-first fragments from inside pass on output 0 untracked; from outside they are denied.
/// TCP flows are "new" until the outside answers, "established" after, and "closing" after a FIN
/// or RST; each state has its own timeout, and expiry is spread over REAP_INTERVAL. The table
/// holds at most CAPACITY flows: when full, the flow idle longest in a bounded sample is evicted
/// if it is not established or is past its timeout; otherwise the new flow is refused (its packet
/// is dropped and counted in table_full), so a flood can neither grow memory nor push out live
/// connections.
/// Keywords: CAPACITY (default 262144), STRICT (bool, default false: a TCP flow may start only
/// with a SYN), TCP_TIMEOUT (established, 1 day), TCP_NEW_TIMEOUT (30 s), TCP_DONE_TIMEOUT (10 s),
/// UDP_TIMEOUT (60 s), UDP_STREAMING_TIMEOUT (180 s, once both sides have sent), ICMP_TIMEOUT
/// (30 s), REAP_INTERVAL (10 s).
/// Handlers: table, count (flows), capacity (read/write), inside, allowed, related, denied,
/// table_full, evictions, clear.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 401160bd 0a000001 08080808 9c400035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> ct :: ConnTrack -> Discard; Idle -> [1]ct[1] -> Discard;</example>
public sealed class ConnTrack : Element
{
    // Flow state bits (FlowTable.Flow.State): the same meaning as the rewriters' bits 0-2.
    private const byte Done = 1, DataIn = 2, Answered = 4;

    private FlowTable _table = new(262144);
    private bool _strict;
    private uint _tcpTimeout, _tcpNewTimeout, _tcpDoneTimeout, _udpTimeout, _udpStreamingTimeout, _icmpTimeout;
    private long _reapIntervalNs;
    private FlowTable.FlowTest _expired = null!, _evictable = null!;
    private Action<int> _remove = null!;
    private long _inside, _allowed, _related, _denied, _tableFull, _evictions;
    private readonly int[] _outs = new int[PacketBatch.MaxSize];

    public override string PortCount => "2/2-3";
    public override string Processing => "h/h";

    public FlowTable Table => _table;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cap = a.Read("CAPACITY", Args.Unsigned, 262144);
        var strict = a.Read("STRICT", Args.Bool, false);
        var tcp = a.Read("TCP_TIMEOUT", Args.Seconds, 86400.0);
        var tcpNew = a.Read("TCP_NEW_TIMEOUT", Args.Seconds, 30.0);
        var tcpDone = a.Read("TCP_DONE_TIMEOUT", Args.Seconds, 10.0);
        var udp = a.Read("UDP_TIMEOUT", Args.Seconds, 60.0);
        var udpStream = a.Read("UDP_STREAMING_TIMEOUT", Args.Seconds, 180.0);
        var icmp = a.Read("ICMP_TIMEOUT", Args.Seconds, 30.0);
        var reap = a.Read("REAP_INTERVAL", Args.Seconds, 10.0);
        if (!a.Complete()) return false;
        static uint Ms(double s) => (uint)Math.Min(s * 1000, int.MaxValue);
        _table = new FlowTable(cap);
        if (cap.Value <= 1 << 24) _table.Reserve(cap);
        _strict = strict;
        _tcpTimeout = Ms(tcp);
        _tcpNewTimeout = Ms(tcpNew);
        _tcpDoneTimeout = Ms(tcpDone);
        _udpTimeout = Ms(udp);
        _udpStreamingTimeout = Ms(udpStream);
        _icmpTimeout = Ms(icmp);
        _reapIntervalNs = Math.Max((long)(reap.Value * 1e9), 1_000_000);
        return true;
    }

    /// <summary>
    /// Hot-swap: the old connection table becomes this one's (established connections stay
    /// allowed), under this configuration's CAPACITY and timeouts; the counters carry over.
    /// </summary>
    public override void TakeState(Element old, ErrorHandler errh)
    {
        var o = (ConnTrack)old;
        int capacity = _table.Capacity;
        _table = o._table;
        _table.Limit.Capacity = capacity;
        o._table = new FlowTable(1);
        _inside += o._inside; _allowed += o._allowed; _related += o._related;
        _denied += o._denied; _tableFull += o._tableFull; _evictions += o._evictions;
        if (_table.Count > capacity)
            errh.Warning($"{_table.Count} connections exceed the new CAPACITY {capacity}; new ones wait until old ones expire");
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _expired = (in FlowTable.Flow f, uint idle) => idle > Timeout(f);
        // Established TCP connections are never pushed out by new flows; the rest may be once
        // idle a second (or past their timeout).
        _evictable = (in FlowTable.Flow f, uint idle) =>
            idle > Timeout(f) || (f.Proto == 6 ? (f.State & Answered) == 0 || (f.State & Done) != 0 : idle > 1000);
        _remove = _table.Remove;
        var timer = CreateTimer(Reap);
        timer.ScheduleAfter(FlowTable.SliceNs(_reapIntervalNs));
        return true;
    }

    private uint NowMs => (uint)(Host.Clock.NowNs / 1_000_000);

    private void Reap(Timer t)
    {
        _table.ExpireSlice(NowMs, _reapIntervalNs, _expired, _remove);
        t.Reschedule(FlowTable.SliceNs(_reapIntervalNs));
    }

    private uint Timeout(in FlowTable.Flow f)
    {
        if (f.Proto == 6)
            return (f.State & Done) != 0 ? _tcpDoneTimeout : (f.State & Answered) != 0 ? _tcpTimeout : _tcpNewTimeout;
        if (f.Proto == 17)
            return (f.State & Answered) != 0 ? _udpStreamingTimeout : _udpTimeout;
        return _icmpTimeout;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        uint now = NowMs;
        int deny = NOutputs > 2 ? 2 : -1;
        for (int i = 0; i < ps.Length; i++)
            _outs[i] = port == 0 ? Inside(ps[i], now) : Outside(ps[i], now) ? 1 : deny;
        Dispatch(batch, _outs.AsSpan(0, ps.Length));
    }

    /// <summary>The flow key of a TCP, UDP or ICMP echo packet (echo: the identifier plays a port, as in ICMPPingRewriter).</summary>
    private static bool Key(ReadOnlySpan<byte> d, int ip, out FlowId id, out byte proto, out int t)
    {
        id = default;
        proto = 0;
        t = 0;
        if (ip < 0 || d.Length < ip + 20 || (d[ip] >> 4) != 4) return false;
        proto = d[ip + 9];
        t = ip + (d[ip] & 0x0F) * 4;
        if ((BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) != 0) return false;
        uint sa = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), da = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        if (proto is 6 or 17)
        {
            if (d.Length < t + (proto == 6 ? 14 : 4)) return false;
            id = new FlowId(sa, BinaryPrimitives.ReadUInt16BigEndian(d[t..]), da, BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]));
            return true;
        }
        if (proto == 1 && d.Length >= t + 8 && d[t] is 8 or 0)
        {
            ushort ident = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 4)..]);
            id = d[t] == 8 ? new FlowId(sa, ident, da, 0) : new FlowId(sa, 0, da, ident);
            return true;
        }
        return false;
    }

    private int Inside(Packet p, uint now)
    {
        var d = p.Data;
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : -1;
        if (!Key(d, ip, out var id, out byte proto, out int t))
        {
            _inside++;
            return 0; // untracked protocols and fragments go out as they are
        }
        int fi = _table.Find(id, proto, out bool reply);
        if (fi >= 0 && reply)
        {
            // The inside answering a flow the outside started can only happen for a flow the
            // outside was let in for: never, since ConnTrack admits no outside-initiated flows.
            fi = -1;
        }
        if (fi < 0)
        {
            if (proto == 6 && _strict && (d[t + 13] & 0x12) != 0x02) { _denied++; return -1; }
            fi = NewFlow(id, proto, now);
            if (fi < 0) return -1;
        }
        ref var f = ref _table[fi];
        f.LastMs = now;
        f.State |= DataIn;
        if (proto == 6 && (d[t + 13] & 0x05) != 0) f.State |= Done;
        _inside++;
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int NewFlow(in FlowId id, byte proto, uint now)
    {
        if (_table.Full && !EvictOne(now)) { _tableFull++; return -1; }
        int fi = _table.Add(id, id, proto, 0, 1, -1, now);
        if (fi < 0) _tableFull++;
        return fi;
    }

    private bool EvictOne(uint now)
    {
        int victim = _table.PickVictim(now, 64, _evictable);
        if (victim < 0) return false;
        _table.Remove(victim);
        _evictions++;
        return true;
    }

    private bool Outside(Packet p, uint now)
    {
        var d = p.Data;
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : -1;
        if (!Key(d, ip, out var id, out byte proto, out int t))
        {
            if (proto == 1 && Related(d, t)) { _related++; return true; }
            _denied++;
            return false;
        }
        int fi = _table.Find(id, proto, out bool reply);
        if (fi < 0 || !reply) { _denied++; return false; }
        ref var f = ref _table[fi];
        f.LastMs = now;
        f.State |= Answered;
        if (proto == 6 && (d[t + 13] & 0x05) != 0) f.State |= Done;
        _allowed++;
        return true;
    }

    /// <summary>An ICMP error from outside that quotes a packet of a tracked flow, sent from inside.</summary>
    private bool Related(ReadOnlySpan<byte> d, int t)
    {
        if (t <= 0 || d.Length < t + 8 + 20 || d[t] is not (3 or 4 or 5 or 11 or 12)) return false;
        int inner = t + 8;
        if (!Key(d, inner, out var x, out byte proto, out _)) return false;
        int fi = _table.Find(x, proto, out bool reply);
        return fi >= 0 && !reply;
    }

    public override void AddHandlers()
    {
        var inv = CultureInfo.InvariantCulture;
        AddReadHandler("table", TableText);
        AddReadHandler("count", () => _table.Count.ToString(inv));
        SetHandler("capacity", (_, _) => _table.Limit.Capacity.ToString(inv),
            ElementUtil.Writer(Args.Unsigned, v => _table.Limit.Capacity = v, "capacity"), HandlerFlags.None);
        AddReadHandler("inside", () => _inside.ToString(inv));
        AddReadHandler("allowed", () => _allowed.ToString(inv));
        AddReadHandler("related", () => _related.ToString(inv));
        AddReadHandler("denied", () => _denied.ToString(inv));
        AddReadHandler("table_full", () => _tableFull.ToString(inv));
        AddReadHandler("evictions", () => _evictions.ToString(inv));
        AddButton("clear", () =>
        {
            for (int i = 0; i < _table.HighWater; i++) if (_table[i].Live) _table.Remove(i);
        });
    }

    private string TableText()
    {
        var sb = new StringBuilder();
        uint now = NowMs;
        for (int i = 0; i < _table.HighWater; i++)
        {
            ref var f = ref _table[i];
            if (!f.Live) continue;
            string state = f.Proto == 6
                ? (f.State & Done) != 0 ? "closing" : (f.State & Answered) != 0 ? "established" : "new"
                : (f.State & Answered) != 0 ? "answered" : "new";
            sb.Append(f.Proto switch { 6 => "TCP", 17 => "UDP", _ => "ICMP" }).Append(' ').Append(f.In)
              .Append(' ').Append(state).Append(" idle ")
              .Append(((now - f.LastMs) / 1e3).ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
