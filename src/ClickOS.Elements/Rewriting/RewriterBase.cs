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

/// <summary>A mapping limit that several rewriters can share (MAPPING_CAPACITY naming another rewriter).</summary>
public sealed class MappingLimit
{
    public int Capacity = int.MaxValue;
    public int Used;
}

/// <summary>
/// The IPRewriter family's engine: input specifications (drop, discard, pass, keep, pattern,
/// named patterns, mapper elements), the flow table with both directions indexed, incremental
/// checksum updates, TCP- and UDP-aware timeouts with amortized expiry, GUARANTEE-aware
/// eviction when full, and the common handlers. Subclasses pick the protocols and the flow key:
/// address and port (IPRewriter), address pair (IPAddrPairRewriter) or source address alone
/// (IPAddrRewriter).
/// </summary>
public abstract class RewriterBase : Element
{
    private enum SpecKind { Drop, Pass, Keep, Pattern, Mapper }

    /// <summary>What identifies a flow.</summary>
    protected enum FlowKey { AddressAndPort, AddressPair, SourceAddress }

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
    private FlowTable _table = new(int.MaxValue);
    private long _mappingFailures, _evictions;
    private bool _dstAnno = true;
    private uint _tcpTimeout, _tcpDoneTimeout, _tcpNodataTimeout, _udpTimeout, _udpStreamingTimeout, _guarantee;
    private long _reapIntervalNs;
    private Timer? _reapTimer;
    private FlowTable.FlowTest _expired = null!, _evictable = null!;
    private Action<int> _remove = null!;
    private string _capacityOf = "";
    private readonly int[] _outs = new int[PacketBatch.MaxSize];
    private readonly FlowId[] _ids = new FlowId[PacketBatch.MaxSize];
    private readonly uint[] _hashes = new uint[PacketBatch.MaxSize];
    private readonly byte[] _protos = new byte[PacketBatch.MaxSize];
    private const int NeedsLookup = int.MinValue;
    private readonly bool[] _handles = new bool[256];
    private FlowKey _key;

    public override string PortCount => "1-/1-";
    public override string Processing => "h/h";

    /// <summary>Whether this rewriter handles protocol <paramref name="proto"/> (6 TCP, 17 UDP).</summary>
    protected abstract bool Handles(byte proto);

    /// <summary>What identifies a flow; address and port unless overridden.</summary>
    protected virtual FlowKey Key => FlowKey.AddressAndPort;

    public FlowTable Table => _table;

    /// <summary>Milliseconds on the flow table's clock.</summary>
    protected uint NowMs => (uint)(Host.Clock.NowNs / 1_000_000);

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cap = a.Read("MAPPING_CAPACITY", Args.Word, "");
        var cap2 = a.Read("CAPACITY", Args.Word, "");
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
        static uint Ms(double s) => (uint)Math.Min(s * 1000, int.MaxValue);
        bool ok = true;
        _key = Key;
        for (int i = 0; i < 256; i++) _handles[i] = Handles((byte)i);
        if (NOutputs > FlowTable.MaxPorts)
            ok = errh.Error($"too many outputs (at most {FlowTable.MaxPorts})");
        string capText = cap2.Present ? cap2.Value : cap.Value;
        int capacity = -1;
        if (capText.Length > 0)
        {
            if (int.TryParse(capText, NumberStyles.None, CultureInfo.InvariantCulture, out int c)) capacity = c;
            else if (char.IsAsciiDigit(capText[0])) ok = errh.Error($"MAPPING_CAPACITY: expected integer or element name, not '{capText}'");
        }
        if (specs.Count != NInputs)
            ok = errh.Error($"need {NInputs} arguments, one per input port");
        var parsed = new List<InputSpec>();
        for (int i = 0; i < specs.Count; i++)
            if (!ParseSpec(specs[i], i, parsed, errh)) ok = false;
        // All or nothing: nothing changes unless every argument parsed (a live reconfiguration
        // that fails leaves the rewriter as it was).
        if (!ok) return false;
        _dstAnno = dstAnno;
        _tcpTimeout = Ms(tcpTimeout);
        _tcpDoneTimeout = Ms(tcpDone);
        _tcpNodataTimeout = Ms(tcpNodata);
        _udpTimeout = Ms(timeout.Value >= 0 ? timeout.Value : udpTimeout.Value);
        _udpStreamingTimeout = streaming.Value >= 0 ? Ms(streaming.Value) : udpStreaming.Value >= 0 ? Ms(udpStreaming.Value) : _udpTimeout;
        _guarantee = Ms(guarantee.Value >= 0 ? guarantee.Value : Math.Max(tcpGuarantee.Value, udpGuarantee.Value));
        _reapIntervalNs = (long)((reapTime.Value >= 0 ? reapTime.Value : reap.Value) * 1e9);
        if (capacity >= 0)
        {
            _table.Limit.Capacity = capacity;
            // Up to 16M mappings, build the index at its final size now (only the index: flows still come in pages).
            if (capacity <= 1 << 24 && _table.Count == 0) _table.Reserve(capacity);
        }
        else if (capText.Length > 0) _capacityOf = capText;
        _specs.Clear();
        _specs.AddRange(parsed);
        return true;
    }

    /// <summary>
    /// The <c>config</c> write handler: new input specifications, timeouts and capacity apply at
    /// once; existing mappings stay (each keeps the pattern it was made by).
    /// </summary>
    public override bool CanLiveReconfigure => true;

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var before = _specs.ToList();
        if (!Configure(conf, errh)) return false;
        if (ResolveMappers(errh)) return true;
        _specs.Clear();
        _specs.AddRange(before);
        return false;
    }

    private bool ResolveMappers(ErrorHandler errh)
    {
        bool ok = true;
        foreach (var s in _specs)
        {
            if (s.Kind != SpecKind.Mapper) continue;
            var e = Host.FindElement(s.MapperName, this);
            if (e is IIPMapper m) s.Mapper = m;
            else ok = errh.Error(e == null ? $"'{s.MapperName}' is not an element" : $"'{s.MapperName}' is not an IPMapper");
        }
        return ok;
    }

    /// <summary>
    /// Hot-swap: takes the old rewriter's whole flow table, so every established mapping keeps
    /// its rewritten addresses and ports. Flows whose outputs no longer exist are dropped.
    /// </summary>
    public override void TakeState(Element old, ErrorHandler errh)
    {
        var o = (RewriterBase)old;
        var table = o._table;
        var limit = _table.Limit;
        var patternMap = new short[o._patterns.Count];
        for (int i = 0; i < patternMap.Length; i++)
        {
            string text = o._patterns[i].ToString();
            int j = _patterns.FindIndex(p => p.ToString() == text);
            // A pattern the new configuration no longer names still owns its flows.
            patternMap[i] = j >= 0 ? (short)j : AddPattern(o._patterns[i]);
        }
        int dropped = 0;
        for (int fi = 0; fi < table.HighWater; fi++)
        {
            ref var f = ref table[fi];
            if (!f.Live) continue;
            if (f.FOut >= NOutputs || f.ROut >= NOutputs)
            {
                o.RemoveFlow(fi);
                dropped++;
                continue;
            }
            if (f.Pattern < 0) continue;
            var from = o._patterns[f.Pattern];
            f.Pattern = patternMap[f.Pattern];
            var to = _patterns[f.Pattern];
            if (!ReferenceEquals(from, to))
            {
                from.LiveFlows--;
                to.LiveFlows++;
            }
        }
        table.Limit.Used -= table.Count;
        table.Limit = limit;
        limit.Used += table.Count;
        _table = table;
        foreach (var (k, v) in o._seqDeltas) _seqDeltas[k] = v;
        _mappingFailures += o._mappingFailures;
        _evictions += o._evictions;
        if (dropped > 0) errh.Warning($"{dropped} mappings dropped: their outputs no longer exist");
    }

    private bool ParseSpec(string text, int input, List<InputSpec> specs, ErrorHandler errh)
    {
        var w = ConfigText.SplitSpace(text);
        var s = new InputSpec { Text = text };
        string kw = w.Count > 0 ? w[0] : "";
        bool addrOnly = Key != FlowKey.AddressAndPort;
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
            case "pattern" when w.Count == 4:
            {
                // A pattern named by an IPRewriterPatterns element (configured before rewriters).
                var pat = IPRewriterPatterns.Find(Host, w[1]);
                if (pat == null) return errh.Error($"input spec {input}: no pattern named '{w[1]}'");
                if (addrOnly && !pat.AddressOnly)
                    return errh.Error($"input spec {input}: pattern '{w[1]}' has ports; {ClassName} needs an address pattern");
                s.Kind = SpecKind.Pattern;
                if (!Out(w[2], out s.FOut) || !Out(w[3], out s.ROut)) return false;
                s.Pattern = AddPattern(pat);
                break;
            }
            case "pattern" when !addrOnly && w.Count == 7:
            case "pattern" when addrOnly && w.Count == 5:
            {
                var pat = addrOnly ? RewriterPattern.ParseAddresses(w, 1, out string err) : RewriterPattern.Parse(w, 1, out err);
                if (pat == null) return errh.Error($"input spec {input}: {err}");
                if (Key == FlowKey.SourceAddress && !pat.KeepDaddr)
                    return errh.Error($"input spec {input}: {ClassName} rewrites only source addresses; DADDR must be '-'");
                s.Kind = SpecKind.Pattern;
                if (!Out(w[^2], out s.FOut) || !Out(w[^1], out s.ROut)) return false;
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
                return errh.Error($"input spec {input}: bad input specification '{text}'" +
                    (kw == "pattern" ? addrOnly ? " (expected 'pattern SADDR DADDR FOUTPUT ROUTPUT')" : " (expected 'pattern SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT')" : ""));
        }
        specs.Add(s);
        return true;
    }

    /// <summary>Registers a pattern whose live flows this rewriter counts; mappers call it for their own patterns.</summary>
    public short AddPattern(RewriterPattern p)
    {
        int i = _patterns.IndexOf(p);
        if (i >= 0) return (short)i;
        _patterns.Add(p);
        return (short)(_patterns.Count - 1);
    }

    public override bool Initialize(ErrorHandler errh)
    {
        bool ok = ResolveMappers(errh);
        if (_capacityOf.Length > 0)
        {
            if (Host.FindElement(_capacityOf, this) is RewriterBase other) _table.Limit = other._table.Limit;
            else ok = errh.Error($"MAPPING_CAPACITY: '{_capacityOf}' is not a rewriter element");
        }
        _expired = (in FlowTable.Flow f, uint idle) => idle > Timeout(f);
        _evictable = (in FlowTable.Flow f, uint idle) => idle > _guarantee;
        _remove = RemoveFlow;
        _reapTimer = CreateTimer(Reap);
        _reapTimer.ScheduleAfter(FlowTable.SliceNs(_reapIntervalNs));
        return ok;
    }

    // Expiry is amortized: every second a slice of the table is checked, so the whole table is
    // swept once per REAP_INTERVAL and no single sweep holds up packets.
    private void Reap(Timer t)
    {
        _table.ExpireSlice(NowMs, _reapIntervalNs, _expired, _remove);
        t.Reschedule(FlowTable.SliceNs(_reapIntervalNs));
    }

    private uint Timeout(in FlowTable.Flow f)
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
        if ((_table[fi].State & 8) != 0) _seqDeltas.Remove(fi);
        _table.Remove(fi);
    }

    // Sequence-number shifts of TCP flows whose payload changed length (FTP PORT rewriting).
    // Rare, so they live beside the table; flow state bit 3 says a flow has one.
    private struct SeqDelta
    {
        public uint Trigger;      // forward sequence number of the packet that changed length
        public int Delta;         // total shift for data after it
        public int OldDelta;      // shift for data up to it
    }

    private readonly Dictionary<int, SeqDelta> _seqDeltas = [];

    /// <summary>
    /// Records that the forward packet at sequence <paramref name="triggerSeq"/> of the TCP flow
    /// <paramref name="inId"/> (as it reaches this rewriter) grew by <paramref name="delta"/> bytes:
    /// later forward data is shifted and the peer's acknowledgments are shifted back.
    /// </summary>
    public bool AddSequenceDelta(in FlowId inId, uint triggerSeq, int delta)
    {
        int fi = _table.Find(inId, 6, out bool reply);
        if (fi < 0 || reply) return false;
        ref var f = ref _table[fi];
        if ((f.State & 8) != 0 && _seqDeltas.TryGetValue(fi, out var old))
        {
            if (old.Trigger == triggerSeq) return true; // a retransmission: already counted
            _seqDeltas[fi] = new SeqDelta { Trigger = triggerSeq, OldDelta = old.Delta, Delta = old.Delta + delta };
        }
        else _seqDeltas[fi] = new SeqDelta { Trigger = triggerSeq, Delta = delta };
        f.State |= 8;
        return true;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AdjustSequence(Packet p, int ip, int t, int fi, bool reply)
    {
        var d0 = p.Data;
        if (d0[ip + 9] != 6 || d0.Length < t + 18 || !_seqDeltas.TryGetValue(fi, out var sd)) return;
        var d = p.WritableData();
        int at = reply ? t + 8 : t + 4;
        uint v = BinaryPrimitives.ReadUInt32BigEndian(d[at..]);
        uint nv;
        if (!reply) nv = (uint)(v + ((int)(v - sd.Trigger) > 0 ? sd.Delta : sd.OldDelta));
        else
        {
            if ((d[t + 13] & 0x10) == 0) return; // no ACK
            nv = (uint)(v - ((int)(v - (sd.Trigger + (uint)sd.OldDelta)) > 0 ? sd.Delta : sd.OldDelta));
        }
        if (nv == v) return;
        BinaryPrimitives.WriteUInt32BigEndian(d[at..], nv);
        ushort c = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 16)..]);
        c = IPHeaderAccess.UpdateChecksum32(c, v, nv);
        BinaryPrimitives.WriteUInt16BigEndian(d[(t + 16)..], c);
    }

    /// <summary>
    /// Makes room for a new flow in a full table: of a bounded sample of flows, evicts the one
    /// idle longest, provided it is past its GUARANTEE; a table full of guaranteed flows refuses
    /// new ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool EvictOne(uint now)
    {
        int victim = _table.PickVictim(now, 64, _evictable);
        if (victim < 0) return false;
        RemoveFlow(victim);
        _evictions++;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var outs = _outs;
        var ps = batch.Packets;
        uint now = NowMs;
        var spec = _specs[port];
        // Three passes: parse every packet and prefetch its index slot; prefetch the flows those
        // slots point to; then look them up. The cache misses of a big table overlap instead of
        // queuing one after another.
        for (int i = 0; i < ps.Length; i++)
        {
            int o = Parse(ps[i], spec, out _ids[i], out _protos[i]);
            if (o == NeedsLookup)
            {
                uint h = _table.HashOf(_ids[i], _protos[i]);
                _hashes[i] = h;
                _table.Prefetch(h);
            }
            outs[i] = o;
        }
        for (int i = 0; i < ps.Length; i++)
            if (outs[i] == NeedsLookup)
                _table.PrefetchFlow(_hashes[i]);
        for (int i = 0; i < ps.Length; i++)
            if (outs[i] == NeedsLookup)
                outs[i] = Process(ps[i], spec, _ids[i], _protos[i], _hashes[i], now);
        Dispatch(batch, outs.AsSpan(0, ps.Length));
    }

    /// <summary>Finds the packet's flow key; returns NeedsLookup, or the output for a packet this rewriter does not map.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Parse(Packet p, InputSpec spec, out FlowId id, out byte proto)
    {
        id = default;
        proto = 0;
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : -1;
        var d = p.Data;
        if (ip < 0 || d.Length < ip + 20) return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
        proto = d[ip + 9];
        if (!_handles[proto]) return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
        uint sa = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), da = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        if (_key != FlowKey.AddressAndPort)
        {
            // Address rewriters map every protocol and every fragment alike.
            proto = 0xFF;
            id = _key == FlowKey.AddressPair ? new FlowId(sa, 0, da, 0) : new FlowId(sa, 0, 0, 0);
            return NeedsLookup;
        }
        int hl = (d[ip] & 0x0F) * 4;
        bool first = (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) == 0;
        int t = ip + hl;
        if (!first || d.Length < t + (proto == 1 ? 8 : 4))
            return spec.Kind == SpecKind.Pass ? spec.FOut : -1;
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
        return NeedsLookup;
    }

    /// <summary>Rewrites one packet; returns its output port, or -1 to drop it.</summary>
    private int Process(Packet p, InputSpec spec, FlowId id, byte proto, uint h, uint now)
    {
        int fi = _table.Find(id, proto, h, out bool reply);
        if (fi < 0 && _key == FlowKey.SourceAddress)
        {
            // Not from a mapped source: maybe to a mapped address (a reply).
            var d0 = p.Data;
            int ip0 = p.NetworkHeaderOffset;
            var rid = new FlowId(0, 0, BinaryPrimitives.ReadUInt32BigEndian(d0[(ip0 + 16)..]), 0);
            fi = _table.Find(rid, proto, out reply);
            if (fi >= 0 && reply) id = rid;
            else fi = -1;
        }
        if (fi < 0)
        {
            fi = NewFlow(spec, id, proto, now, out int passTo);
            if (fi < 0) return passTo;
            reply = false;
        }
        ref var f = ref _table[fi];
        f.LastMs = now;
        int ip = p.NetworkHeaderOffset;
        var d = p.Data;
        int t = ip + (d[ip] & 0x0F) * 4;
        byte realProto = d[ip + 9];
        UpdateState(ref f, p, ip, t, realProto, reply);
        var target = reply ? f.In.Reverse() : f.Out;
        if (_key == FlowKey.SourceAddress)
        {
            // Only one address of the key is real: the source going out, the destination coming back.
            if (reply) RewriteAddresses(p, ip, t, realProto, d.Length, BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), f.In.Saddr);
            else RewriteAddresses(p, ip, t, realProto, d.Length, f.Out.Saddr, BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]));
        }
        else if (target != id)
        {
            if (_key == FlowKey.AddressPair) RewriteAddresses(p, ip, t, realProto, d.Length, target.Saddr, target.Daddr);
            else Rewrite(p, ip, t, proto, id, target);
        }
        if ((f.State & 8) != 0) AdjustSequence(p, ip, t, fi, reply);
        if (_dstAnno) p.DstIPAnno = BinaryPrimitives.ReadUInt32BigEndian(p.Data[(ip + 16)..]);
        return reply ? f.ROut : f.FOut;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int NewFlow(InputSpec spec, in FlowId id, byte proto, uint now, out int passTo)
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
                if (fout >= NOutputs || rout >= NOutputs || fout < 0 || rout < 0) { _mappingFailures++; return -1; }
                break;
        }
        return InstallFlow(id, outId, proto, fout, rout, pat, now);
    }

    private int InstallFlow(in FlowId id, in FlowId outId, byte proto, int fout, int rout, short pat, uint now)
    {
        if (_table.Full && !EvictOne(now)) { _mappingFailures++; return -1; }
        int fi = _table.Add(id, outId, proto, (byte)fout, (byte)rout, pat, now);
        if (fi < 0) { _mappingFailures++; return -1; }
        if (pat >= 0) _patterns[pat].LiveFlows++;
        return fi;
    }

    /// <summary>
    /// Installs a mapping from outside the data path (FTPPortMapper): <paramref name="inId"/>
    /// becomes <paramref name="outId"/> on <paramref name="fout"/>, replies go to <paramref name="rout"/>.
    /// Returns false if the table refuses it or the rewritten ID is taken.
    /// </summary>
    public bool AddMapping(in FlowId inId, in FlowId outId, byte proto, int fout, int rout, RewriterPattern? pattern)
    {
        if (fout < 0 || rout < 0 || fout >= NOutputs || rout >= NOutputs) return false;
        if (_table.Find(inId, proto, out _) >= 0 || _table.Find(outId.Reverse(), proto, out _) >= 0) return false;
        short pat = pattern == null ? (short)-1 : AddPattern(pattern);
        return InstallFlow(inId, outId, proto, fout, rout, pat, NowMs) >= 0;
    }

    /// <summary>
    /// How a packet whose flow key is <paramref name="id"/> would be rewritten (ICMPRewriter uses
    /// it for the headers quoted in ICMP errors): the rewritten key, or false if unmapped.
    /// </summary>
    public bool Lookup(in FlowId id, byte proto, out FlowId rewritten)
    {
        if (Key != FlowKey.AddressAndPort)
        {
            var k = Key == FlowKey.AddressPair ? new FlowId(id.Saddr, 0, id.Daddr, 0) : new FlowId(id.Saddr, 0, 0, 0);
            int fa = _table.Find(k, 0xFF, out bool ra);
            if (fa < 0 && Key == FlowKey.SourceAddress)
            {
                fa = _table.Find(new FlowId(0, 0, id.Daddr, 0), 0xFF, out ra);
                if (fa >= 0 && !ra) fa = -1;
            }
            if (fa < 0) { rewritten = default; return false; }
            ref var g = ref _table[fa];
            uint s = id.Saddr, dd = id.Daddr;
            if (Key == FlowKey.SourceAddress) { if (ra) dd = g.In.Saddr; else s = g.Out.Saddr; }
            else { var tg = ra ? g.In.Reverse() : g.Out; s = tg.Saddr; dd = tg.Daddr; }
            rewritten = new FlowId(s, id.Sport, dd, id.Dport);
            return true;
        }
        if (!Handles(proto)) { rewritten = default; return false; }
        int fi = _table.Find(id, proto, out bool reply);
        if (fi < 0) { rewritten = default; return false; }
        ref var f = ref _table[fi];
        rewritten = reply ? f.In.Reverse() : f.Out;
        return true;
    }

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

    /// <summary>
    /// Sets the source and destination addresses (address rewriters), updating the IP checksum
    /// and, in a first fragment with the header present, the TCP or UDP checksum's pseudo-header part.
    /// </summary>
    private static void RewriteAddresses(Packet p, int ip, int t, byte proto, int len, uint newS, uint newD)
    {
        var d = p.WritableData();
        uint oldS = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), oldD = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        if (oldS == newS && oldD == newD) return;
        bool first = (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) == 0;
        int csumAt = proto == 6 ? t + 16 : proto == 17 ? t + 6 : -1;
        bool l4 = first && csumAt >= 0 && len >= csumAt + 2 && !(proto == 17 && BinaryPrimitives.ReadUInt16BigEndian(d[csumAt..]) == 0);
        ushort ipsum = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 10)..]);
        ushort l4sum = l4 ? BinaryPrimitives.ReadUInt16BigEndian(d[csumAt..]) : (ushort)0;
        ipsum = IPHeaderAccess.UpdateChecksum32(IPHeaderAccess.UpdateChecksum32(ipsum, oldS, newS), oldD, newD);
        if (l4)
        {
            l4sum = IPHeaderAccess.UpdateChecksum32(IPHeaderAccess.UpdateChecksum32(l4sum, oldS, newS), oldD, newD);
            if (proto == 17 && l4sum == 0) l4sum = 0xFFFF;
            BinaryPrimitives.WriteUInt16BigEndian(d[csumAt..], l4sum);
        }
        BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 12)..], newS);
        BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 16)..], newD);
        BinaryPrimitives.WriteUInt16BigEndian(d[(ip + 10)..], ipsum);
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
        if (from.Saddr != to.Saddr)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 12)..], to.Saddr);
            ipsum = IPHeaderAccess.UpdateChecksum32(ipsum, from.Saddr, to.Saddr);
            l4 = IPHeaderAccess.UpdateChecksum32(l4, from.Saddr, to.Saddr);
        }
        if (from.Daddr != to.Daddr)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 16)..], to.Daddr);
            ipsum = IPHeaderAccess.UpdateChecksum32(ipsum, from.Daddr, to.Daddr);
            l4 = IPHeaderAccess.UpdateChecksum32(l4, from.Daddr, to.Daddr);
        }
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
        BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 12)..], to.Saddr);
        BinaryPrimitives.WriteUInt32BigEndian(d[(ip + 16)..], to.Daddr);
        ipsum = IPHeaderAccess.UpdateChecksum32(IPHeaderAccess.UpdateChecksum32(ipsum, from.Saddr, to.Saddr), from.Daddr, to.Daddr);
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

    public override void AddHandlers()
    {
        var inv = CultureInfo.InvariantCulture;
        AddReadHandler("table_size", () => _table.Count.ToString(inv));
        AddReadHandler("nmappings", () => _table.Count.ToString(inv));
        AddReadHandler("size", () => _table.Count.ToString(inv));
        AddReadHandler("mapping_failures", () => _mappingFailures.ToString(inv));
        AddReadHandler("evictions", () => _evictions.ToString(inv));
        AddReadHandler("memory", () => _table.BytesAllocated.ToString(inv));
        SetHandler("capacity", (_, _) => _table.Limit.Capacity == int.MaxValue ? "0" : _table.Limit.Capacity.ToString(inv),
            ElementUtil.Writer(Args.Unsigned, v => _table.Limit.Capacity = v == 0 ? int.MaxValue : v, "capacity"), HandlerFlags.None);
        AddReadHandler("patterns", PatternsText);
        AddReadHandler("table", () => TableText(null));
        AddReadHandler("mappings", () => TableText(null));
        AddReadHandler("tcp_table", () => TableText(6));
        AddReadHandler("udp_table", () => TableText(17));
        AddReadHandler("tcp_mappings", () => TableText(6));
        AddReadHandler("udp_mappings", () => TableText(17));
        SetHandler("tcp_lookup", (param, eh) => LookupText(param, 6, eh), null, HandlerFlags.ReadParam);
        SetHandler("udp_lookup", (param, eh) => LookupText(param, 17, eh), null, HandlerFlags.ReadParam);
        AddButton("clear", () =>
        {
            for (int i = 0; i < _table.HighWater; i++) if (_table[i].Live) RemoveFlow(i);
            _seqDeltas.Clear();
        });
    }

    /// <summary>The tcp_lookup/udp_lookup handlers: "SADDR SPORT DADDR DPORT" rewritten by its mapping, or nothing.</summary>
    private string? LookupText(string param, byte proto, ErrorHandler eh)
    {
        var w = ConfigText.SplitSpace(param);
        if (w.Count != 4 || !Values.ParseIPv4(w[0], out uint sa) || !ushort.TryParse(w[1], NumberStyles.None, CultureInfo.InvariantCulture, out ushort sp)
            || !Values.ParseIPv4(w[2], out uint da) || !ushort.TryParse(w[3], NumberStyles.None, CultureInfo.InvariantCulture, out ushort dp))
        {
            eh.Error("expected 'SADDR SPORT DADDR DPORT'");
            return null;
        }
        if (!Lookup(new FlowId(sa, sp, da, dp), proto, out var r)) return "";
        return $"{FlowId.IP(r.Saddr)} {r.Sport} {FlowId.IP(r.Daddr)} {r.Dport}\n";
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
        uint now = NowMs;
        for (int i = 0; i < _table.HighWater; i++)
        {
            ref var f = ref _table[i];
            if (!f.Live || (proto != null && f.Proto != proto)) continue;
            sb.Append(f.In).Append(" => ").Append(f.Out).Append(" [").Append(f.FOut).Append("] ")
              .Append(f.Proto switch { 6 => "TCP", 17 => "UDP", 1 => "ICMP", _ => "IP" }).Append(" idle ")
              .Append(((now - f.LastMs) / 1e3).ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        }
        return sb.ToString();
    }
}
