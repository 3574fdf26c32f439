using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SubscriberPolicer(RATE [, keywords]): polices each subscriber to its own rate with one token
/// bucket per subscriber key, for per-user limits on a BRAS (no Click equivalent). Conforming
/// packets go to output 0; exceeding ones to output 1, or are dropped when it is unconnected.
/// The key is a field of each packet: KEY src (default) or KEY dst, the IPv4 source or
/// destination address, or KEY_OFFSET n with KEY_LENGTH m (1 to 8 bytes, default 4), a field
/// at n (may be negative) from the network header; for all of them, from the data start when
/// the packet has no network header annotation. Packets too short for the key go to output 1
/// and are counted in bad.
/// Keywords: RATE (bandwidth, e.g. "2Mbps"; each subscriber's default rate), BURST (bytes; the
/// bucket depth; default 20 ms of the subscriber's rate, at least 1500), CAPACITY (most
/// subscribers, default 16384; the table is fixed at twice that many slots), POLICY (for a new
/// key's packets while the table is full: drop (default) sends them to output 1, pass to
/// output 0 unpoliced, shared polices them all together in one bucket at RATE; each such
/// packet counts in table_full), TIMEOUT (seconds; a subscriber idle this long without its own
/// rate is forgotten; 0, the default, keeps subscribers until removed).
/// Handlers: rate (read/write: the default rate), burst (read: the bucket depth at the default
/// rate), set_rate (write "KEY RATE" to give one subscriber its own rate, adding it if new;
/// "KEY default" to go back to RATE), remove (write KEY), clear (forget every subscriber), subscribers (read: one line per
/// subscriber, by key: "KEY RATE PACKETS BYTES DROPPED_PACKETS DROPPED_BYTES", where packets
/// and bytes conformed and dropped ones exceeded), count (packets to output 0), drops (packets
/// to output 1 or dropped), table_full, bad, subscriber_count (read), reset (zero the counters).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 40110000 0a000001 0a000002&gt;, LIMIT 10, STOP true) -> p :: SubscriberPolicer(RATE 1Mbps, CAPACITY 1024) -> Discard; p[1] -> Discard;</example>
public sealed class SubscriberPolicer : Element
{
    private enum FullPolicy { Drop, Pass, Shared }

    private struct Subscriber
    {
        public ulong Key;
        public double Tokens;
        public long LastNs;
        public double OwnRate;
        public long Packets, Bytes, DroppedPackets, DroppedBytes;
        public bool Used;
        public bool HasOwnRate;
    }

    private const double MinBurst = 1500;
    private const double BurstSeconds = 0.02;

    private double _rate;
    private double _burst;           // 0: 20 ms of each subscriber's rate
    private int _keyOffset = 12, _keyLength = 4;
    private int _capacity = 16384;
    private FullPolicy _policy;
    private long _timeoutNs;

    private Subscriber[] _table = [];
    private int _mask, _shift, _subscribers;
    private Subscriber _shared;
    private long _count, _drops, _tableFull, _bad;
    private Timer? _sweep;

    public override string PortCount => "1/1-2";
    public override string Processing => "h/h";

    private static bool ParsePolicy(string s, out FullPolicy v, out string err)
    {
        err = "expected drop, pass or shared";
        v = s switch { "drop" => FullPolicy.Drop, "pass" => FullPolicy.Pass, "shared" => FullPolicy.Shared, _ => (FullPolicy)(-1) };
        return v >= 0;
    }

    private static bool ParseKeyKind(string s, out int v, out string err)
    {
        err = "expected src or dst";
        v = s switch { "src" => 12, "dst" => 16, _ => -1 };
        return v >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var rate = a.ReadMP("RATE", Args.Bandwidth);
        var burst = a.Read("BURST", Args.Real, 0.0);
        var key = a.Read<int>("KEY", ParseKeyKind, 12);
        var keyOffset = a.Read("KEY_OFFSET", Args.Int, 0);
        var keyLength = a.Read("KEY_LENGTH", Args.Unsigned, 4);
        var capacity = a.Read("CAPACITY", Args.Unsigned, 16384);
        var policy = a.Read<FullPolicy>("POLICY", ParsePolicy, FullPolicy.Drop);
        var timeout = a.Read("TIMEOUT", Args.Seconds, 0.0);
        if (!a.Complete()) return false;
        if (!(rate.Value >= 0) || double.IsInfinity(rate.Value)) return errh.Error("RATE: out of range");
        if (burst.Present && !(burst.Value > 0)) return errh.Error("BURST: out of range");
        if (key.Present && (keyOffset.Present || keyLength.Present)) return errh.Error("KEY and KEY_OFFSET/KEY_LENGTH are mutually exclusive");
        if (keyLength.Value is < 1 or > 8) return errh.Error("KEY_LENGTH must be between 1 and 8");
        if (capacity.Value < 1 || capacity.Value > (1 << 24)) return errh.Error("CAPACITY: out of range");
        _rate = rate;
        _burst = burst.Present ? burst.Value : 0;
        _keyOffset = keyOffset.Present ? keyOffset.Value : key.Value;
        _keyLength = keyOffset.Present || keyLength.Present ? keyLength.Value : 4;
        _capacity = capacity;
        _policy = policy;
        _timeoutNs = (long)(timeout.Value * 1e9);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        // At most half full, so probes stay short and there is always an empty slot.
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(_capacity * 2, 16));
        _table = new Subscriber[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        _shared = new Subscriber { Used = true };
        StartBucket(ref _shared, Host.Clock.NowNs);
        if (_timeoutNs > 0) _sweep = CreateTimer(_ => Sweep());
        return true;
    }

    private int Home(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);

    private double RateOf(in Subscriber s) => s.HasOwnRate ? s.OwnRate : _rate;

    private double BurstFor(double rate) => _burst > 0 ? _burst : Math.Max(rate * BurstSeconds, MinBurst);

    private void StartBucket(ref Subscriber s, long nowNs)
    {
        s.Tokens = BurstFor(RateOf(s));
        s.LastNs = nowNs;
    }

    /// <summary>The slot holding <paramref name="key"/>, or the complement of the empty slot where it would go.</summary>
    private int Find(ulong key)
    {
        int i = Home(key);
        var t = _table;
        while (true)
        {
            if (!t[i].Used) return ~i;
            if (t[i].Key == key) return i;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>The subscriber's slot, added if new; -1 when the table is full.</summary>
    private int FindOrAdd(ulong key, long nowNs)
    {
        int i = Find(key);
        if (i >= 0) return i;
        if (_subscribers >= _capacity) return -1;
        i = ~i;
        ref var s = ref _table[i];
        s = new Subscriber { Key = key, Used = true };
        StartBucket(ref s, nowNs);
        _subscribers++;
        if (_sweep != null && !_sweep.Scheduled) _sweep.ScheduleAt(nowNs + _timeoutNs);
        return i;
    }

    /// <summary>Deletes slot <paramref name="hole"/> by shifting later entries of its probe run back (no tombstones).</summary>
    private void RemoveAt(int hole)
    {
        var t = _table;
        int j = hole;
        while (true)
        {
            j = (j + 1) & _mask;
            if (!t[j].Used) break;
            int home = Home(t[j].Key);
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (stays) continue;
            t[hole] = t[j];
            hole = j;
        }
        t[hole] = default;
        _subscribers--;
    }

    private bool TryKey(Packet p, out ulong key)
    {
        key = 0;
        int at = (p.HasNetworkHeader ? p.NetworkHeaderOffset : 0) + _keyOffset;
        int len = _keyLength;
        if (at < -p.Headroom || at + len > p.Length) return false;
        var b = p.At(at, len);
        if (len == 4)
        {
            key = BinaryPrimitives.ReadUInt32BigEndian(b);
            return true;
        }
        for (int i = 0; i < b.Length; i++) key = key << 8 | b[i];
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        long now = Host.Clock.NowNs;
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        var table = _table;
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            if (!TryKey(p, out ulong key))
            {
                _bad++;
                _drops++;
                outs[i] = 1;
                continue;
            }
            int slot = FindOrAdd(key, now);
            if (slot < 0)
            {
                _tableFull++;
                if (_policy == FullPolicy.Pass) { _count++; outs[i] = 0; continue; }
                if (_policy == FullPolicy.Drop) { _drops++; outs[i] = 1; continue; }
                outs[i] = Police(ref _shared, p.Length, now);
                continue;
            }
            outs[i] = Police(ref table[slot], p.Length, now);
        }
        Dispatch(batch, outs);
    }

    private static void Refill(ref Subscriber s, double rate, double burst, long now)
    {
        long dt = now - s.LastNs;
        if (dt <= 0) return;
        double t = s.Tokens + dt * 1e-9 * rate;
        s.Tokens = t < burst ? t : burst;
        s.LastNs = now;
    }

    private int Police(ref Subscriber s, int length, long now)
    {
        double rate = RateOf(s);
        double burst = BurstFor(rate);
        Refill(ref s, rate, burst, now);
        // A packet longer than the whole bucket passes once the bucket is full, leaving it in debt.
        double need = length < burst ? length : burst;
        if (rate > 0 && s.Tokens + 1e-6 >= need)
        {
            s.Tokens -= length;
            s.Packets++;
            s.Bytes += length;
            _count++;
            return 0;
        }
        s.DroppedPackets++;
        s.DroppedBytes += length;
        _drops++;
        return 1;
    }

    private void Sweep()
    {
        long now = Host.Clock.NowNs;
        var t = _table;
        int dynamic = 0;
        for (int i = 0; i < t.Length;)
        {
            if (t[i].Used && !t[i].HasOwnRate)
            {
                if (now - t[i].LastNs >= _timeoutNs)
                {
                    // The backward shift may move a later entry into slot i: look at it again.
                    RemoveAt(i);
                    continue;
                }
                dynamic++;
            }
            i++;
        }
        if (dynamic > 0) _sweep!.ScheduleAt(now + Math.Max(_timeoutNs / 2, 1));
    }

    // ---- handlers ----

    private bool ParseKey(string s, out ulong key)
    {
        key = 0;
        if (_keyLength == 4 && Values.ParseIPv4(s, out uint a)) { key = a; return true; }
        if (_keyLength == 6 && Values.ParseEther(s, out var mac))
        {
            foreach (var b in mac) key = key << 8 | b;
            return true;
        }
        if (!Values.ParseUInt64(s, out ulong v)) return false;
        if (_keyLength < 8 && v >> (8 * _keyLength) != 0) return false;
        key = v;
        return true;
    }

    private string FormatKey(ulong key)
    {
        if (_keyLength == 4) return Values.UnparseIPv4((uint)key);
        if (_keyLength == 6)
        {
            Span<byte> mac = stackalloc byte[6];
            for (int i = 5; i >= 0; i--, key >>= 8) mac[i] = (byte)key;
            return Values.UnparseEther(mac);
        }
        return "0x" + key.ToString("x" + (2 * _keyLength).ToString(ElementUtil.Inv), ElementUtil.Inv);
    }

    private bool SetRate(string value, ErrorHandler errh)
    {
        var (word, rest) = ConfigText.ShiftWord(ConfigText.Uncomment(value).Trim());
        rest = rest.Trim();
        if (word.Length == 0 || rest.Length == 0 || rest.Contains(' ')) return errh.Error("set_rate: expected 'KEY RATE'");
        if (!ParseKey(word, out ulong key)) return errh.Error($"set_rate: bad key '{word}'");
        bool fallback = rest == "default";
        double rate = 0;
        if (!fallback && !(Values.ParseBandwidth(rest, out rate) && rate >= 0 && !double.IsInfinity(rate)))
            return errh.Error("set_rate: expected bandwidth or 'default'");
        long now = Host.Clock.NowNs;
        int slot = FindOrAdd(key, now);
        if (slot < 0) return errh.Error("set_rate: subscriber table full");
        ref var s = ref _table[slot];
        // Settle the bucket at the old rate before the new one applies.
        Refill(ref s, RateOf(s), BurstFor(RateOf(s)), now);
        s.HasOwnRate = !fallback;
        s.OwnRate = rate;
        double burst = BurstFor(RateOf(s));
        if (s.Tokens > burst) s.Tokens = burst;
        if (fallback && _sweep != null && !_sweep.Scheduled) _sweep.ScheduleAt(now + _timeoutNs);
        return true;
    }

    private string ListSubscribers()
    {
        var slots = new List<int>();
        for (int i = 0; i < _table.Length; i++)
            if (_table[i].Used) slots.Add(i);
        slots.Sort((x, y) => _table[x].Key.CompareTo(_table[y].Key));
        var sb = new StringBuilder();
        var inv = ElementUtil.Inv;
        foreach (int i in slots)
        {
            ref var s = ref _table[i];
            sb.Append(FormatKey(s.Key)).Append(' ').Append(Values.UnparseBandwidth(RateOf(s))).Append(' ')
              .Append(s.Packets.ToString(inv)).Append(' ').Append(s.Bytes.ToString(inv)).Append(' ')
              .Append(s.DroppedPackets.ToString(inv)).Append(' ').Append(s.DroppedBytes.ToString(inv)).Append('\n');
        }
        return sb.ToString();
    }

    private void ResetCounters()
    {
        _count = _drops = _tableFull = _bad = 0;
        for (int i = 0; i < _table.Length; i++)
        {
            ref var s = ref _table[i];
            s.Packets = s.Bytes = s.DroppedPackets = s.DroppedBytes = 0;
        }
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        SetHandler("rate", (_, _) => Values.UnparseBandwidth(_rate), (v, errh) =>
        {
            if (!RateArgs.Parse(v, true, out double rate, errh)) return false;
            _rate = rate;
            return true;
        }, HandlerFlags.None);
        AddReadHandler("burst", () => BurstFor(_rate).ToString("0.###", inv));
        AddWriteHandler("set_rate", SetRate);
        AddWriteHandler("remove", (v, errh) =>
        {
            string w = ConfigText.Uncomment(v).Trim();
            if (!ParseKey(w, out ulong key)) return errh.Error($"remove: bad key '{w}'");
            int slot = Find(key);
            if (slot < 0) return errh.Error($"remove: no subscriber {w}");
            RemoveAt(slot);
            return true;
        });
        AddButton("clear", () => { Array.Clear(_table); _subscribers = 0; });
        AddReadHandler("subscribers", ListSubscribers);
        AddReadHandler("subscriber_count", () => _subscribers.ToString(inv));
        AddReadHandler("count", () => _count.ToString(inv));
        AddReadHandler("drops", () => _drops.ToString(inv));
        AddReadHandler("table_full", () => _tableFull.ToString(inv));
        AddReadHandler("bad", () => _bad.ToString(inv));
        AddButton("reset", ResetCounters);
    }
}
