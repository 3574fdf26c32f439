using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>An element that chooses rewritten flow IDs for new flows (RoundRobinIPMapper, …).</summary>
public interface IIPMapper
{
    /// <summary>Chooses the new flow's rewritten ID and outputs; false refuses the flow.</summary>
    bool MapFlow(RewriterBase rewriter, in FlowId inId, byte proto, out FlowId outId, out int foutput, out int routput);
}

/// <summary>
/// The IPRewriter family's engine: input specifications (drop, discard, pass, keep, pattern,
/// mapper elements), the flow table with both directions indexed, incremental checksum
/// updates, TCP- and UDP-aware timeouts with amortized expiry, and the common handlers.
/// </summary>
public abstract class RewriterBase : Element, ITaskCallback
{
    private enum SpecKind { Drop, Pass, Keep, Pattern, Mapper }

    private sealed class InputSpec
    {
        public SpecKind Kind;
        public int FOut, ROut;
        public short Pattern = -1;
        public string MapperName = "";
        public IIPMapper? Mapper;
        public string Text = "";
    }

    private readonly List<InputSpec> _specs = [];
    private readonly List<RewriterPattern> _patterns = [];
    private FlowTable _table = new(1 << 30);
    private long _mappingFailures;
    private bool _dstAnno = true;
    private long _tcpTimeout, _tcpDoneTimeout, _tcpNodataTimeout, _udpTimeout, _udpStreamingTimeout, _guarantee;
    private long _reapIntervalNs;
    private Timer? _reapTimer;
    private int _reapCursor;
    private int[] _outs = new int[PacketBatch.MaxSize];

    public override string PortCount => "1-/1-";
    public override string Processing => "h/h";

    /// <summary>Whether this rewriter handles protocol <paramref name="proto"/> (6 TCP, 17 UDP).</summary>
    protected abstract bool Handles(byte proto);

    public FlowTable Table => _table;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cap = a.Read("MAPPING_CAPACITY", Args.Unsigned, 0);
        var cap2 = a.Read("CAPACITY", Args.Unsigned, 0);
        var dstAnno = a.Read("DST_ANNO", Args.Bool, true);
        a.Read("REPLY_ANNO", Args.Any, "");
        var tcpTimeout = a.Read("TCP_TIMEOUT", Args.Seconds, 86400.0);
        var tcpDone = a.Read("TCP_DONE_TIMEOUT", Args.Seconds, 240.0);
        var tcpNodata = a.Read("TCP_NODATA_TIMEOUT", Args.Seconds, 300.0);
        var tcpGuarantee = a.Read("TCP_GUARANTEE", Args.Seconds, 5.0);
        var udpTimeout = a.Read("UDP_TIMEOUT", Args.Seconds, 300.0);
        var udpStreaming = a.Read("UDP_STREAMING_TIMEOUT", Args.Seconds, -1.0);
        var udpGuarantee = a.Read("UDP_GUARANTEE", Args.Seconds, 5.0);
        var timeout = a.Read("TIMEOUT", Args.Seconds, -1.0);
        var streaming = a.Read("STREAMING_TIMEOUT", Args.Seconds, -1.0);
        var guarantee = a.Read("GUARANTEE", Args.Seconds, -1.0);
        var reap = a.Read("REAP_INTERVAL", Args.Seconds, 900.0);
        var reapTime = a.Read("REAP_TIME", Args.Seconds, -1.0);
        var specs = a.Rest();
        if (!a.Complete()) return false;
        static long Ns(double s) => (long)(s * 1e9);
        _dstAnno = dstAnno;
        _tcpTimeout = Ns(tcpTimeout);
        _tcpDoneTimeout = Ns(tcpDone);
        _tcpNodataTimeout = Ns(tcpNodata);
        _udpTimeout = Ns(timeout.Value >= 0 ? timeout.Value : udpTimeout.Value);
        _udpStreamingTimeout = Ns(streaming.Value >= 0 ? streaming.Value : udpStreaming.Value >= 0 ? udpStreaming.Value : _udpTimeout / 1e9);
        _guarantee = Ns(guarantee.Value >= 0 ? guarantee.Value : Math.Max(tcpGuarantee.Value, udpGuarantee.Value));
        _reapIntervalNs = Ns(reapTime.Value >= 0 ? reapTime.Value : reap.Value);
        int capacity = cap2.Present ? cap2.Value : cap.Present ? cap.Value : int.MaxValue;
        _table = new FlowTable(capacity);
        bool ok = true;
        if (specs.Count != NInputs)
            ok = errh.Error($"need {NInputs} arguments, one per input port");
        for (int i = 0; i < specs.Count; i++)
            if (!ParseSpec(specs[i], i, errh)) ok = false;
        return ok;
    }

    private bool ParseSpec(string text, int input, ErrorHandler errh)
    {
        var w = ConfigText.SplitSpace(text);
        var s = new InputSpec { Text = text };
        string kw = w.Count > 0 ? w[0] : "";
        bool Out(string word, out int port)
        {
            if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port < NOutputs) return true;
            errh.Error($"input spec {input}: output port '{word}' out of range");
            return false;
        }
        switch (kw)
        {
            case "drop" or "discard" when w.Count == 1:
                s.Kind = SpecKind.Drop;
                break;
            case "pass" or "nochange" when w.Count == 2:
                s.Kind = SpecKind.Pass;
                if (!Out(w[1], out s.FOut)) return false;
                break;
            case "keep" when w.Count == 3:
                s.Kind = SpecKind.Keep;
                if (!Out(w[1], out s.FOut) || !Out(w[2], out s.ROut)) return false;
                break;
            case "pattern" when w.Count == 7 || w.Count == 5:
            {
                var pat = RewriterPattern.Parse(w, 1, out string err);
                if (pat == null) return errh.Error($"input spec {input}: {err}");
                s.Kind = SpecKind.Pattern;
                if (w.Count == 7)
                {
                    if (!Out(w[5], out s.FOut) || !Out(w[6], out s.ROut)) return false;
                }
                else if (!Out(w[5 - 1], out s.FOut)) return false; // "pattern ... FOUTPUT": replies to the same port
                s.Pattern = AddPattern(pat);
                break;
            }
            default:
                if (w.Count == 1 && w[0].Length > 0 && !char.IsAsciiDigit(w[0][0]))
                {
                    s.Kind = SpecKind.Mapper;
                    s.MapperName = w[0];
                    break;
                }
                return errh.Error($"input spec {input}: bad input specification '{text}'");
        }
        _specs.Add(s);
        return true;
    }

    /// <summary>Registers a pattern whose live flows this rewriter counts; mappers call it for their own patterns.</summary>
    public short AddPattern(RewriterPattern p)
    {
        _patterns.Add(p);
        return (short)(_patterns.Count - 1);
    }

    public int PatternIndex(RewriterPattern p) => _patterns.IndexOf(p);

    public override bool Initialize(ErrorHandler errh)
    {
        bool ok = true;
        foreach (var s in _specs)
        {
            if (s.Kind != SpecKind.Mapper) continue;
            var e = Host.FindElement(s.MapperName, this);
            if (e is IIPMapper m) s.Mapper = m;
            else ok = errh.Error(e == null ? $"'{s.MapperName}' is not an element" : $"'{s.MapperName}' is not an IPMapper");
        }
        _reapTimer = CreateTimer(Reap);
        _reapTimer.ScheduleAfter(ReapSliceNs);
        return ok;
    }

    // Expiry is amortized: every second a slice of the table is checked, so the whole table is
    // swept once per REAP_INTERVAL and no single sweep holds up packets.
    private long ReapSliceNs => Math.Min(_reapIntervalNs, 1_000_000_000L);

    private void Reap(Timer t)
    {
        long now = Host.Clock.NowNs;
        int n = _table.HighWater;
        if (n > 0)
        {
            long slices = Math.Max(1, _reapIntervalNs / ReapSliceNs);
            int chunk = (int)Math.Min(n, (n + slices - 1) / slices);
            for (int k = 0; k < chunk; k++)
            {
                if (_reapCursor >= n) _reapCursor = 0;
                int fi = _reapCursor++;
                ref var f = ref _table[fi];
                if (f.Live && now - f.LastNs > Timeout(f)) RemoveFlow(fi);
            }
        }
        t.Reschedule(ReapSliceNs);
    }

    private long Timeout(in FlowTable.Flow f)
    {
        if (f.Proto == 6)
        {
            if ((f.State & 1) != 0) return _tcpDoneTimeout;
            return (f.State & 6) == 6 ? _tcpTimeout : _tcpNodataTimeout;
        }
        return (f.State & 6) == 6 ? _udpStreamingTimeout : _udpTimeout;
    }

    private void RemoveFlow(int fi)
    {
        short pi = _table[fi].Pattern;
        if (pi >= 0) _patterns[pi].LiveFlows--;
        _table.Remove(fi);
    }

    public override void Push(int port, PacketBatch batch)
    {
        var outs = _outs;
        var ps = batch.Packets;
        long now = Host.Clock.NowNs;
        for (int i = 0; i < ps.Length; i++)
            outs[i] = Process(ps[i], port, now);
        Dispatch(batch, outs.AsSpan(0, ps.Length));
    }

    /// <summary>Rewrites one packet; returns its output port, or -1 to drop it.</summary>
    private int Process(Packet p, int port, long now)
    {
        var spec = _specs[port];
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : -1;
        var d = p.Data;
        if (ip < 0 || d.Length < ip + 20) return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
        int hl = (d[ip] & 0x0F) * 4;
        byte proto = d[ip + 9];
        bool first = (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) == 0;
        int t = ip + hl;
        if (!Handles(proto) || !first || d.Length < t + (proto == 1 ? 8 : 4))
            return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
        uint sa = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), da = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        FlowId id;
        if (proto == 1)
        {
            // ICMP echo: the identifier plays the port. A request is (src, id, dst, 0) and a
            // reply (src, 0, dst, id), so a reply's ID is the reverse of its request's.
            byte type = d[t];
            ushort ident = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 4)..]);
            if (type == 8) id = new FlowId(sa, ident, da, 0);
            else if (type == 0) id = new FlowId(sa, 0, da, ident);
            else return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
        }
        else id = new FlowId(sa, BinaryPrimitives.ReadUInt16BigEndian(d[t..]), da, BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]));
        int fi = _table.Find(id, proto, out bool reply);
        if (fi < 0)
        {
            fi = NewFlow(spec, id, proto, now, out int passTo);
            if (fi < 0) return passTo;
            reply = false;
        }
        ref var f = ref _table[fi];
        f.LastNs = now;
        UpdateState(ref f, p, ip, t, proto, reply);
        var target = reply ? f.In.Reverse() : f.Out;
        if (target != id) Rewrite(p, ip, t, proto, id, target);
        if (_dstAnno) p.DstIPAnno = target.Daddr;
        return reply ? f.ROut : f.FOut;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int NewFlow(InputSpec spec, in FlowId id, byte proto, long now, out int passTo)
    {
        passTo = -1;
        FlowId outId;
        int fout, rout;
        short pat = -1;
        switch (spec.Kind)
        {
            case SpecKind.Drop:
                return -1;
            case SpecKind.Pass:
                passTo = spec.FOut;
                return -1;
            case SpecKind.Keep:
                outId = id;
                fout = spec.FOut;
                rout = spec.ROut;
                if (_table.Find(outId.Reverse(), proto, out _) >= 0) { _mappingFailures++; return -1; }
                break;
            case SpecKind.Pattern:
                if (!_patterns[spec.Pattern].TryApply(id, proto, _table, out outId)) { _mappingFailures++; return -1; }
                fout = spec.FOut;
                rout = spec.ROut;
                pat = spec.Pattern;
                break;
            default:
                if (spec.Mapper == null || !spec.Mapper.MapFlow(this, id, proto, out outId, out fout, out rout)) { _mappingFailures++; return -1; }
                if (fout >= NOutputs || rout >= NOutputs) { _mappingFailures++; return -1; }
                break;
        }
        int fi = _table.Add(id, outId, proto, (ushort)fout, (ushort)rout, pat, now);
        if (fi < 0) { _mappingFailures++; return -1; }
        if (pat >= 0) _patterns[pat].LiveFlows++;
        return fi;
    }

    /// <summary>Lets a mapper credit a flow it created to one of its patterns (for the patterns handler).</summary>
    public void CreditPattern(RewriterPattern p) => p.LiveFlows++;

    private static void UpdateState(ref FlowTable.Flow f, Packet p, int ip, int t, byte proto, bool reply)
    {
        var d = p.Data;
        if (proto == 6 && d.Length >= t + 14)
        {
            byte flags = d[t + 13];
            if ((flags & 0x05) != 0) f.State |= 1; // FIN or RST: the connection is done
            int payload = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]) - (t - ip) - (d[t + 12] >> 4) * 4;
            if (payload > 0) f.State |= (byte)(reply ? 4 : 2);
        }
        else f.State |= (byte)(reply ? 4 : 2);
    }

    /// <summary>Rewrites addresses and ports from <paramref name="from"/> to <paramref name="to"/>, updating checksums incrementally.</summary>
    private static void Rewrite(Packet p, int ip, int t, byte proto, in FlowId from, in FlowId to)
    {
        if (proto == 1) { RewriteEcho(p, ip, t, from, to); return; }
        var d = p.WritableData();
        ushort ipsum = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 10)..]);
        int csumAt = proto == 6 ? t + 16 : t + 6;
        bool haveL4 = d.Length >= csumAt + 2;
        ushort l4 = haveL4 ? BinaryPrimitives.ReadUInt16BigEndian(d[csumAt..]) : (ushort)0;
        bool updL4 = haveL4 && !(proto == 17 && l4 == 0); // a zero UDP checksum means "none": keep it
        void Word32(Span<byte> at, uint oldV, uint newV, ref ushort ipc, ref ushort l4c, bool inIpHeader)
        {
            BinaryPrimitives.WriteUInt32BigEndian(at, newV);
            if (inIpHeader)
            {
                ipc = IPHeaderAccess.UpdateChecksum(ipc, (ushort)(oldV >> 16), (ushort)(newV >> 16));
                ipc = IPHeaderAccess.UpdateChecksum(ipc, (ushort)oldV, (ushort)newV);
            }
            l4c = IPHeaderAccess.UpdateChecksum(l4c, (ushort)(oldV >> 16), (ushort)(newV >> 16));
            l4c = IPHeaderAccess.UpdateChecksum(l4c, (ushort)oldV, (ushort)newV);
        }
        if (from.Saddr != to.Saddr) Word32(d[(ip + 12)..], from.Saddr, to.Saddr, ref ipsum, ref l4, true);
        if (from.Daddr != to.Daddr) Word32(d[(ip + 16)..], from.Daddr, to.Daddr, ref ipsum, ref l4, true);
        if (from.Sport != to.Sport)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[t..], to.Sport);
            l4 = IPHeaderAccess.UpdateChecksum(l4, from.Sport, to.Sport);
        }
        if (from.Dport != to.Dport)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[(t + 2)..], to.Dport);
            l4 = IPHeaderAccess.UpdateChecksum(l4, from.Dport, to.Dport);
        }
        BinaryPrimitives.WriteUInt16BigEndian(d[(ip + 10)..], ipsum);
        if (updL4)
        {
            if (proto == 17 && l4 == 0) l4 = 0xFFFF;
            BinaryPrimitives.WriteUInt16BigEndian(d[csumAt..], l4);
        }
    }

    private static void RewriteEcho(Packet p, int ip, int t, in FlowId from, in FlowId to)
    {
        var d = p.WritableData();
        ushort ipsum = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 10)..]);
        void Addr(Span<byte> at, uint oldV, uint newV, ref ushort c)
        {
            BinaryPrimitives.WriteUInt32BigEndian(at, newV);
            c = IPHeaderAccess.UpdateChecksum(c, (ushort)(oldV >> 16), (ushort)(newV >> 16));
            c = IPHeaderAccess.UpdateChecksum(c, (ushort)oldV, (ushort)newV);
        }
        if (from.Saddr != to.Saddr) Addr(d[(ip + 12)..], from.Saddr, to.Saddr, ref ipsum);
        if (from.Daddr != to.Daddr) Addr(d[(ip + 16)..], from.Daddr, to.Daddr, ref ipsum);
        BinaryPrimitives.WriteUInt16BigEndian(d[(ip + 10)..], ipsum);
        bool request = d[t] == 8;
        ushort oldId = request ? from.Sport : from.Dport, newId = request ? to.Sport : to.Dport;
        if (oldId != newId)
        {
            BinaryPrimitives.WriteUInt16BigEndian(d[(t + 4)..], newId);
            ushort c = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]);
            BinaryPrimitives.WriteUInt16BigEndian(d[(t + 2)..], IPHeaderAccess.UpdateChecksum(c, oldId, newId));
        }
    }

    public bool RunTask(ClickOS.Core.Task task) => false;

    public override void AddHandlers()
    {
        var inv = CultureInfo.InvariantCulture;
        AddReadHandler("table_size", () => _table.Count.ToString(inv));
        AddReadHandler("nmappings", () => _table.Count.ToString(inv));
        AddReadHandler("size", () => _table.Count.ToString(inv));
        AddReadHandler("mapping_failures", () => _mappingFailures.ToString(inv));
        AddReadHandler("capacity", () => (_table.Capacity == int.MaxValue ? "0" : _table.Capacity.ToString(inv)));
        AddReadHandler("patterns", PatternsText);
        AddReadHandler("table", () => TableText(null));
        AddReadHandler("mappings", () => TableText(null));
        AddReadHandler("tcp_table", () => TableText(6));
        AddReadHandler("udp_table", () => TableText(17));
        AddReadHandler("tcp_mappings", () => TableText(6));
        AddReadHandler("udp_mappings", () => TableText(17));
        AddButton("clear", () =>
        {
            for (int i = 0; i < _table.HighWater; i++) if (_table[i].Live) RemoveFlow(i);
        });
    }

    private string PatternsText()
    {
        var sb = new StringBuilder();
        foreach (var s in _specs)
        {
            switch (s.Kind)
            {
                case SpecKind.Drop: sb.Append("<drop>\n"); break;
                case SpecKind.Pass: sb.Append("<pass ").Append(s.FOut).Append(">\n"); break;
                case SpecKind.Keep: sb.Append("<keep>\n"); break;
                case SpecKind.Pattern:
                    var p = _patterns[s.Pattern];
                    sb.Append(p).Append(" [").Append(p.LiveFlows).Append("]\n");
                    break;
                default: sb.Append(s.MapperName).Append('\n'); break;
            }
        }
        return sb.ToString();
    }

    private string TableText(int? proto)
    {
        var sb = new StringBuilder();
        long now = Host.Clock.NowNs;
        for (int i = 0; i < _table.HighWater; i++)
        {
            ref var f = ref _table[i];
            if (!f.Live || (proto != null && f.Proto != proto)) continue;
            sb.Append(f.In).Append(" => ").Append(f.Out).Append(" [").Append(f.FOut).Append("] ")
              .Append(f.Proto switch { 6 => "TCP", 17 => "UDP", _ => "ICMP" }).Append(" idle ")
              .Append(((now - f.LastNs) / 1e9).ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
