using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FlowIDS(keywords PATTERN, RULE, RULES, NOCASE, ACTION, CAPACITY, TIMEOUT, UDP_STREAM): a
/// per-flow intrusion detector. The payloads of IPv4 TCP and UDP packets are matched against
/// every rule's content at once (Aho–Corasick compiled to a dense DFA), and the automaton state
/// is kept per flow, so a content split across segments of one flow is found. Input packets
/// should have their IP header annotation set (CheckIPHeader, MarkIPHeader); without one, the
/// data start is taken as the IP header.
/// Rules: PATTERN "content" (repeatable; Snort content syntax, e.g. "evil|00 01|bytes"; its sid
/// is its position, 1, 2, ...; NOCASE (false) and ACTION (alert) apply to PATTERNs), RULE 'a
/// Snort rule' (repeatable) and RULES file (repeatable): Snort rules of the subset documented in
/// docs/ids.md (alert/drop; tcp/udp/ip; any, addresses, ports and port ranges; msg, content
/// with |hex|, nocase, sid; one content per rule).
/// Output: a packet that matches a drop rule is dropped; one that matches an alert rule goes to
/// output 1 if it exists, else to output 0; every other packet goes to output 0. Non-TCP/UDP
/// packets and fragments pass uninspected; truncated or malformed packets are dropped.
/// Flows: a table of CAPACITY (65536) directional 5-tuples, each holding the DFA state, the
/// next expected TCP sequence number and the last-seen time. A TCP segment continues its flow's
/// state only if its sequence number is the one expected (else the state restarts at the root
/// and out_of_order counts it); a dropped segment does not advance its flow, so its
/// retransmission is inspected in the same context; FIN and RST end the flow. With UDP_STREAM
/// (true) the datagrams of a flow are one stream in arrival order; false matches each alone.
/// Flows idle over TIMEOUT (300 s; 0 never) are forgotten; a new flow whose 8-slot neighbourhood
/// is full evicts the least recently seen there (flow_evictions).
/// Handlers: count, bytes, alerts, drops, matches (sid, count, action, msg or content per rule),
/// flows, capacity, flow_evictions, out_of_order, malformed, uninspected, automaton, patterns
/// (read: the rules; write: replace them all with rules in Snort syntax, one per line, or with
/// those of a file, "RULES file"; flows are kept but restart at the root), reset (counters and flows).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000035 00000000 400666c1 0a000001 0a000002 9c400050 00000001 00000000 5018ffff 87c50000 65766900 6c205041 594c4f41 44&gt;, LIMIT 3, STOP true) -> MarkIPHeader -> ids :: FlowIDS(PATTERN "evi|00|l", PATTERN "payload", NOCASE true) -> Discard; ids[1] -> Discard;</example>
public sealed class FlowIDS : Element
{
    private const int Window = 8;

    /// <summary>A compiled rule set; replaced as a whole when the rules change.</summary>
    private sealed class RuleSet(IdsRule[] rules, AhoCorasick ac)
    {
        public readonly IdsRule[] Rules = rules;
        public readonly AhoCorasick Ac = ac;
        public readonly long[] Counts = new long[rules.Length];
        // The packet number that last counted each rule, so a rule counts once per packet.
        public readonly long[] Stamp = new long[rules.Length];
    }

    private struct FlowSlot
    {
        public uint Saddr, Daddr, Ports;
        public uint Tag;        // 0: empty; else hash bits above the protocol in the low byte
        public int State;       // DFA state (row offset) after the flow's last inspected byte
        public uint NextSeq;    // TCP: the sequence number of the next in-order byte
        public long LastNs;
    }

    private struct Sink : IAcMatchSink
    {
        public RuleSet Set;
        public long Stamp;
        public uint Saddr, Daddr;
        public ushort Sport, Dport;
        public byte Proto;
        public int Hits;        // bit 0: an alert rule matched; bit 1: a drop rule matched

        public void OnMatch(int state, int end)
        {
            var set = Set;
            foreach (int r in set.Ac.Outputs(state))
            {
                if (set.Stamp[r] == Stamp) continue;
                var rule = set.Rules[r];
                if (!rule.Admits(Proto, Saddr, Sport, Daddr, Dport)) continue;
                set.Stamp[r] = Stamp;
                set.Counts[r]++;
                Hits |= rule.Action == IdsAction.Drop ? 2 : 1;
            }
        }
    }

    private RuleSet _set = null!;
    private FlowSlot[] _flows = [];
    private int _window;
    private long _timeoutNs;
    private bool _udpStream = true;
    private long _count, _bytes, _alerts, _drops, _malformed, _uninspected, _outOfOrder, _evictions, _stamp;
    private readonly int[] _outs = new int[PacketBatch.MaxSize];

    public override string PortCount => "1/1-2";
    public override string Processing => "a/ah";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var patterns = a.ReadAll("PATTERN", Args.String);
        var inline = a.ReadAll("RULE", Args.String);
        var files = a.ReadAll("RULES", Args.String);
        var nocase = a.Read("NOCASE", Args.Bool, false);
        var action = a.Read("ACTION", Args.Word, "alert");
        var capacity = a.Read("CAPACITY", Args.Unsigned, 65536);
        var timeout = a.Read("TIMEOUT", Args.Seconds, 300.0);
        var udpStream = a.Read("UDP_STREAM", Args.Bool, true);
        if (!a.Complete()) return false;
        bool ok = true;
        if (action.Value is not ("alert" or "drop")) ok = errh.Error($"ACTION: expected alert or drop, not '{action.Value}'");
        if (capacity.Value < 1) ok = errh.Error("CAPACITY must be at least 1");
        var rules = new List<IdsRule>();
        for (int i = 0; i < patterns.Count; i++)
        {
            if (!SnortRules.ParseContent(patterns[i], out var bytes, out string err))
            {
                ok = errh.Error($"PATTERN {i + 1}: {err}");
                continue;
            }
            rules.Add(new IdsRule
            {
                Content = bytes, NoCase = nocase, Sid = i + 1,
                Action = action.Value == "drop" ? IdsAction.Drop : IdsAction.Alert,
            });
        }
        for (int i = 0; i < inline.Count; i++)
        {
            var r = SnortRules.ParseRule(inline[i], out string err);
            if (r == null) ok = errh.Error($"RULE {i + 1}: {err}");
            else rules.Add(r);
        }
        foreach (var f in files)
            if (!SnortRules.ParseFile(f, rules, errh)) ok = false;
        if (!ok) return false;
        var set = Compile(rules, errh);
        if (set == null) return false;
        _set = set;
        _flows = new FlowSlot[capacity.Value];
        _window = Math.Min(Window, capacity.Value);
        _timeoutNs = (long)(timeout.Value * 1e9);
        _udpStream = udpStream;
        return true;
    }

    private static RuleSet? Compile(List<IdsRule> rules, ErrorHandler errh)
    {
        var sids = new Dictionary<int, int>();
        bool ok = true;
        for (int i = 0; i < rules.Count; i++)
        {
            if (sids.TryAdd(rules[i].Sid, i)) continue;
            ok = errh.Error($"duplicate sid {rules[i].Sid} (rules {sids[rules[i].Sid] + 1} and {i + 1})");
        }
        if (!ok) return null;
        var ac = AhoCorasick.Build(rules.Select(r => new AcPattern(r.Content, r.NoCase)).ToList(), out string err);
        if (ac == null)
        {
            errh.Error(err);
            return null;
        }
        return new RuleSet([.. rules], ac);
    }

    public override void Push(int port, PacketBatch batch)
    {
        var outs = _outs.AsSpan(0, batch.Count);
        Inspect(batch, outs);
        Dispatch(batch, outs);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        var outs = _outs.AsSpan(0, b.Count);
        Inspect(b, outs);
        return KeepFirstOutput(b, outs);
    }

    private void Inspect(PacketBatch batch, Span<int> outs)
    {
        long now = Host.Clock.NowNs;
        int alertOut = NOutputs > 1 ? 1 : 0;
        var ps = batch.Packets;
        for (int i = 0; i < ps.Length; i++)
        {
            int r = InspectOne(ps[i], now);
            outs[i] = r == 1 ? alertOut : r;
        }
        _count += ps.Length;
    }

    /// <summary>Returns 0 (pass), 1 (alert) or -1 (drop) for one packet.</summary>
    private int InspectOne(Packet p, long now)
    {
        var d = p.Data;
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        if ((uint)ip > (uint)d.Length || d.Length - ip < 20) { _malformed++; return -1; }
        int hl = (d[ip] & 0x0F) << 2;
        int total = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]);
        if (d[ip] >> 4 != 4 || hl < 20 || total < hl || ip + total > d.Length) { _malformed++; return -1; }
        byte proto = d[ip + 9];
        if ((proto != 6 && proto != 17) || (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x3FFF) != 0)
        {
            _uninspected++;
            return 0;
        }
        int t = ip + hl, end = ip + total, payload;
        if (proto == 6)
        {
            if (end - t < 20) { _malformed++; return -1; }
            int off = (d[t + 12] >> 4) << 2;
            if (off < 20 || end - t < off) { _malformed++; return -1; }
            payload = t + off;
        }
        else
        {
            if (end - t < 8) { _malformed++; return -1; }
            payload = t + 8;
        }
        var sink = new Sink
        {
            Set = _set, Stamp = ++_stamp, Proto = proto,
            Saddr = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]),
            Daddr = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]),
            Sport = BinaryPrimitives.ReadUInt16BigEndian(d[t..]),
            Dport = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]),
        };
        var data = d[payload..end];
        _bytes += data.Length;
        var ac = sink.Set.Ac;
        if (proto == 17 && !_udpStream)
        {
            if (ac.PatternCount > 0) ac.Scan(data, AhoCorasick.Root, ref sink);
            return Verdict(sink.Hits);
        }
        uint ports = (uint)sink.Sport << 16 | sink.Dport;
        if (proto == 17)
        {
            if (data.Length == 0) return 0;
            ref var uf = ref Lookup(sink.Saddr, sink.Daddr, ports, proto, now, out _);
            int us = ac.PatternCount > 0 ? ac.Scan(data, uf.State, ref sink) : 0;
            if ((sink.Hits & 2) == 0) uf.State = us;
            return Verdict(sink.Hits);
        }
        byte flags = d[t + 13];
        bool syn = (flags & 0x02) != 0, fin = (flags & 0x05) != 0; // FIN or RST ends the stream
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(d[(t + 4)..]) + (syn ? 1u : 0u);
        if (data.Length == 0)
        {
            if (fin) Forget(sink.Saddr, sink.Daddr, ports, proto);
            return 0;
        }
        ref var f = ref Lookup(sink.Saddr, sink.Daddr, ports, proto, now, out bool fresh);
        int state = f.State;
        if (fresh || syn) state = AhoCorasick.Root;
        else if (f.NextSeq != seq)
        {
            state = AhoCorasick.Root;
            _outOfOrder++;
        }
        int after = ac.PatternCount > 0 ? ac.Scan(data, state, ref sink) : 0;
        if ((sink.Hits & 2) != 0)
        {
            // Dropped: the receiver never sees these bytes, so the flow stays where it was.
            f.State = state;
            f.NextSeq = seq;
        }
        else
        {
            f.State = after;
            f.NextSeq = seq + (uint)data.Length;
            if (fin) f.Tag = 0;
        }
        return Verdict(sink.Hits);
    }

    private int Verdict(int hits)
    {
        if ((hits & 2) != 0) { _drops++; return -1; }
        if (hits != 0) { _alerts++; return 1; }
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(uint saddr, uint daddr, uint ports, byte proto)
    {
        ulong a = ((ulong)saddr << 32 | daddr) * 0x9E3779B97F4A7C15UL;
        ulong b = ((ulong)ports << 8 | proto) * 0xC2B2AE3D27D4EB4FUL;
        ulong h = a ^ BitOperations.RotateLeft(b, 31);
        return (uint)(h >> 32) ^ (uint)h;
    }

    private bool Expired(in FlowSlot s, long now) => _timeoutNs > 0 && now - s.LastNs > _timeoutNs;

    /// <summary>
    /// The flow's slot, created if needed (<paramref name="fresh"/>: its state is new). A key
    /// lives within <see cref="Window"/> slots of its home, so lookups touch a few cache lines;
    /// when those are all live, the least recently seen one is evicted.
    /// </summary>
    private ref FlowSlot Lookup(uint saddr, uint daddr, uint ports, byte proto, long now, out bool fresh)
    {
        var flows = _flows;
        uint h = Hash(saddr, daddr, ports, proto);
        uint tag = h << 8 | proto;
        int cap = flows.Length;
        int i = (int)((ulong)h * (uint)cap >> 32);
        int free = -1, victim = -1;
        long victimNs = long.MaxValue;
        for (int k = 0; k < _window; k++, i = i + 1 == cap ? 0 : i + 1)
        {
            ref var s = ref flows[i];
            if (s.Tag == 0) { if (free < 0) free = i; continue; }
            if (s.Tag == tag && s.Saddr == saddr && s.Daddr == daddr && s.Ports == ports)
            {
                fresh = Expired(s, now);
                if (fresh) s.State = AhoCorasick.Root;
                s.LastNs = now;
                return ref s;
            }
            if (Expired(s, now)) { if (free < 0) free = i; continue; }
            if (s.LastNs < victimNs) { victimNs = s.LastNs; victim = i; }
        }
        if (free < 0)
        {
            free = victim;
            _evictions++;
        }
        ref var n = ref flows[free];
        n = new FlowSlot { Saddr = saddr, Daddr = daddr, Ports = ports, Tag = tag, LastNs = now };
        fresh = true;
        return ref n;
    }

    private void Forget(uint saddr, uint daddr, uint ports, byte proto)
    {
        var flows = _flows;
        uint h = Hash(saddr, daddr, ports, proto);
        uint tag = h << 8 | proto;
        int cap = flows.Length;
        int i = (int)((ulong)h * (uint)cap >> 32);
        for (int k = 0; k < _window; k++, i = i + 1 == cap ? 0 : i + 1)
        {
            ref var s = ref flows[i];
            if (s.Tag == tag && s.Saddr == saddr && s.Daddr == daddr && s.Ports == ports)
            {
                s.Tag = 0;
                return;
            }
        }
    }

    private int LiveFlows()
    {
        long now = Host.Clock.NowNs;
        int n = 0;
        foreach (ref readonly var s in _flows.AsSpan())
            if (s.Tag != 0 && !Expired(s, now)) n++;
        return n;
    }

    private bool ReplaceRules(string text, ErrorHandler errh)
    {
        var rules = new List<IdsRule>();
        // "RULES file" reloads from a file: scripts and control connections write one line.
        string trimmed = text.Trim();
        bool ok = trimmed.StartsWith("RULES ", StringComparison.Ordinal) && !trimmed.Contains('\n')
            ? SnortRules.ParseFile(ConfigText.Unquote(trimmed[6..].Trim()), rules, errh)
            : SnortRules.ParseText(text, "patterns", rules, errh);
        if (!ok) return false;
        var set = Compile(rules, errh);
        if (set == null) return false;
        _set = set;
        // States of the old automaton mean nothing to the new one; sequence tracking stays valid.
        foreach (ref var s in _flows.AsSpan()) s.State = AhoCorasick.Root;
        return true;
    }

    /// <summary>
    /// Hot-swap: per-flow state (stream position, automaton state) and the counters carry over.
    /// Automaton states stay meaningful only if the patterns are the same, in the same order;
    /// otherwise each flow restarts matching at the root. With a different CAPACITY the flow
    /// slots cannot be carried, and the swap says so.
    /// </summary>
    public override void TakeState(Element old, ErrorHandler errh)
    {
        var o = (FlowIDS)old;
        _count += o._count; _bytes += o._bytes; _alerts += o._alerts; _drops += o._drops;
        _malformed += o._malformed; _uninspected += o._uninspected; _outOfOrder += o._outOfOrder;
        _evictions += o._evictions;
        bool samePatterns = _set.Rules.Length == o._set.Rules.Length;
        for (int i = 0; samePatterns && i < _set.Rules.Length; i++)
        {
            IdsRule a = _set.Rules[i], b = o._set.Rules[i];
            samePatterns = a.NoCase == b.NoCase && a.Content.AsSpan().SequenceEqual(b.Content);
            if (samePatterns && a.Sid == b.Sid) _set.Counts[i] = o._set.Counts[i];
        }
        if (_flows.Length != o._flows.Length)
        {
            errh.Warning($"per-flow state not carried over: CAPACITY changed from {o._flows.Length} to {_flows.Length}");
            return;
        }
        _flows = o._flows;
        o._flows = [];
        if (!samePatterns)
            foreach (ref var f in _flows.AsSpan()) f.State = AhoCorasick.Root;
    }

    private string MatchesText()
    {
        var sb = new StringBuilder();
        var set = _set;
        for (int i = 0; i < set.Rules.Length; i++)
        {
            var r = set.Rules[i];
            sb.Append(r.Sid.ToString(CultureInfo.InvariantCulture)).Append(' ')
              .Append(set.Counts[i].ToString(CultureInfo.InvariantCulture)).Append(' ')
              .Append(r.Action == IdsAction.Drop ? "drop" : "alert").Append(" \"")
              .Append(r.Msg.Length > 0 ? SnortRules.Escape(r.Msg) : SnortRules.FormatContent(r.Content)).Append("\"\n");
        }
        return sb.ToString();
    }

    private void Reset()
    {
        _count = _bytes = _alerts = _drops = _malformed = _uninspected = _outOfOrder = _evictions = 0;
        Array.Clear(_set.Counts);
        Array.Clear(_flows);
    }

    public override void AddHandlers()
    {
        static string L(long v) => v.ToString(CultureInfo.InvariantCulture);
        AddReadHandler("count", () => L(_count));
        AddReadHandler("bytes", () => L(_bytes));
        AddReadHandler("alerts", () => L(_alerts));
        AddReadHandler("drops", () => L(_drops));
        AddReadHandler("malformed", () => L(_malformed));
        AddReadHandler("uninspected", () => L(_uninspected));
        AddReadHandler("out_of_order", () => L(_outOfOrder));
        AddReadHandler("flow_evictions", () => L(_evictions));
        AddReadHandler("flows", () => L(LiveFlows()));
        AddReadHandler("capacity", () => L(_flows.Length));
        AddReadHandler("matches", MatchesText);
        AddReadHandler("automaton", () =>
        {
            var ac = _set.Ac;
            return $"rules {_set.Rules.Length}\nstates {ac.StateCount}\nclasses {ac.ClassCount}\nmax_length {ac.MaxPatternLength}\nbytes {ac.TableBytes}\n";
        });
        SetHandler("patterns", (_, _) => string.Concat(_set.Rules.Select(r => r + "\n")), (v, errh) => ReplaceRules(v, errh), HandlerFlags.None);
        AddButton("reset", Reset);
    }
}
