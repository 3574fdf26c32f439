using System.Buffers.Binary;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ARPQuerier(IP, ETH, keywords): encapsulates IP packets (input 0, next hop in the destination
/// annotation) in Ethernet headers found by ARP. Packets for unknown next hops are held while
/// an ARP query goes out (output 1 if it exists, else output 0; at most one query per address
/// every POLL_TIMEOUT / 100 ms); ARP replies on input 1 fill the table and release them.
/// Broadcast destinations go to FF:FF:FF:FF:FF:FF; 0.0.0.0 is dropped. Keywords: CAPACITY
/// (held packets, 2048), ENTRY_PACKET_CAPACITY (per address, 0 = unlimited), TIMEOUT (entry
/// lifetime, 300 s), BROADCAST. Handlers: table, queries, responses, drops, count, length
/// (read); insert "IP ETH", delete IP, clear (write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> SetIPAddress(10.0.0.2) -> a :: ARPQuerier(10.0.0.1, 02:00:00:00:00:01) -> Discard; Idle -> [1]a; a[1] -> Discard;</example>
public sealed class ARPQuerier : Element
{
    private sealed class Entry
    {
        public byte[]? Mac;
        public long LastQueryNs = long.MinValue;
        public long ResolvedNs;
        public readonly Queue<Packet> Pending = new();
    }

    private uint _ip, _bcast = 0xFFFFFFFF;
    private byte[] _mac = new byte[6];
    private int _capacity = 2048, _entryCapacity;
    private long _timeoutNs = 300L * 1_000_000_000, _pollNs = 100_000_000;
    private readonly Dictionary<uint, Entry> _table = [];
    private readonly List<uint> _order = [];
    private int _held;
    private long _queries, _responses, _drops;

    public override string PortCount => "2/1-2";
    public override string Processing => "h/h";
    public override string FlowCode => "xy/x";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var ip = a.ReadMP("IP", Args.IPPrefix);
        // The one-argument form names an AddressInfo entry holding both addresses.
        bool named = conf.Count >= 1 && (conf.Count == 1 || ConfigText.ShiftWord(conf[1]).First is var w && w.Length > 0 && char.IsAsciiLetterUpper(w[0]))
            && NameDatabase.TryEther(conf[0].Trim(), out _);
        var eth = named ? a.ReadP("ETH", Args.EtherAddress, NameDatabase.TryEther(conf[0].Trim(), out var e0) ? e0 : new byte[6]) : a.ReadMP("ETH", Args.EtherAddress);
        var cap = a.Read("CAPACITY", Args.Unsigned, 2048);
        var ecap = a.Read("ENTRY_PACKET_CAPACITY", Args.Unsigned, 0);
        a.Read("ENTRY_CAPACITY", Args.Unsigned, 0);
        var timeout = a.Read("TIMEOUT", Args.Seconds, 300.0);
        var poll = a.Read("POLL_TIMEOUT", Args.Seconds, 0.1);
        var bcast = a.Read("BROADCAST", Args.IPAddress, 0u);
        a.Read("BROADCAST_POLL", Args.Bool, false);
        if (!a.Complete()) return false;
        _ip = ip.Value.Addr;
        _mac = eth;
        _capacity = cap;
        _entryCapacity = ecap;
        _timeoutNs = (long)(timeout.Value * 1e9);
        _pollNs = (long)(poll.Value * 1e9);
        _bcast = bcast.Present ? bcast.Value : ip.Value.Mask is not (0 or 0xFFFFFFFF) ? ip.Value.Addr | ~ip.Value.Mask : 0xFFFFFFFF;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    private void Encap(Packet p, ReadOnlySpan<byte> dstMac)
    {
        p.Push(14);
        var w = p.WritableData();
        dstMac.CopyTo(w);
        _mac.CopyTo(w[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(w[12..], 0x0800);
        p.SetMacHeader(0);
    }

    private static readonly byte[] Broadcast = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];

    public override void Push(int port, PacketBatch batch)
    {
        if (port == 1)
        {
            foreach (var p in batch.Packets) HandleResponse(p);
            Host.Batches.Return(batch);
            return;
        }
        var ready = Host.Batches.Rent();
        foreach (var p in batch.Packets)
        {
            uint dst = p.DstIPAnno;
            if (dst == 0) { _drops++; p.Kill(); continue; }
            if (dst == 0xFFFFFFFF || dst == _bcast) { Encap(p, Broadcast); ready.Add(p); continue; }
            if (_table.TryGetValue(dst, out var e) && e.Mac != null && Host.Clock.NowNs - e.ResolvedNs < _timeoutNs)
            {
                Encap(p, e.Mac);
                ready.Add(p);
                continue;
            }
            // Keep order: what is ready goes out before a query for this packet.
            if (ready.Count > 0) { Output(0, ready); ready = Host.Batches.Rent(); }
            Hold(dst, p, e);
        }
        Host.Batches.Return(batch);
        if (ready.Count > 0) Output(0, ready);
        else Host.Batches.Return(ready);
    }

    private void Hold(uint dst, Packet p, Entry? e)
    {
        if (e == null)
        {
            e = new Entry();
            _table[dst] = e;
            _order.Add(dst);
        }
        else if (e.Mac != null)
        {
            e.Mac = null; // expired
        }
        if (_held >= _capacity || (_entryCapacity > 0 && e.Pending.Count >= _entryCapacity))
        {
            // Drop the oldest held packet for this address (or this one if it has none).
            var victim = e.Pending.Count > 0 ? e.Pending.Dequeue() : p;
            if (victim != p) _held--;
            victim.Kill();
            _drops++;
            if (victim == p) return;
        }
        e.Pending.Enqueue(p);
        _held++;
        long now = Host.Clock.NowNs;
        if (e.LastQueryNs == long.MinValue || now - e.LastQueryNs >= _pollNs)
        {
            e.LastQueryNs = now;
            SendQuery(dst, p.TimestampNs);
        }
    }

    private void SendQuery(uint tpa, long timestamp)
    {
        var q = Host.Pool.Make(PacketPool.DefaultHeadroom, 42, 0);
        if (q == null) return;
        var w = q.WritableData();
        Broadcast.CopyTo(w);
        _mac.CopyTo(w[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(w[12..], 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(w[14..], 1);
        BinaryPrimitives.WriteUInt16BigEndian(w[16..], 0x0800);
        w[18] = 6;
        w[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(w[20..], 1);
        _mac.CopyTo(w[22..]);
        BinaryPrimitives.WriteUInt32BigEndian(w[28..], _ip);
        w.Slice(32, 6).Clear();
        BinaryPrimitives.WriteUInt32BigEndian(w[38..], tpa);
        q.TimestampNs = timestamp;
        q.SetMacHeader(0);
        _queries++;
        OutputOne(NOutputs > 1 ? 1 : 0, q);
    }

    private void HandleResponse(Packet p)
    {
        var d = p.Data;
        if (d.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(d[12..]) == 0x0806 && BinaryPrimitives.ReadUInt16BigEndian(d[14..]) == 1
            && BinaryPrimitives.ReadUInt16BigEndian(d[16..]) == 0x0800 && BinaryPrimitives.ReadUInt16BigEndian(d[20..]) == 2)
        {
            _responses++;
            uint spa = BinaryPrimitives.ReadUInt32BigEndian(d[28..]);
            if (_table.TryGetValue(spa, out var e))
            {
                e.Mac = d.Slice(22, 6).ToArray();
                e.ResolvedNs = Host.Clock.NowNs;
                Release(e);
            }
        }
        p.Kill();
    }

    private void Release(Entry e)
    {
        if (e.Pending.Count == 0 || e.Mac == null) return;
        var b = Host.Batches.Rent();
        while (e.Pending.Count > 0)
        {
            var q = e.Pending.Dequeue();
            _held--;
            Encap(q, e.Mac);
            if (b.IsFull) { Output(0, b); b = Host.Batches.Rent(); }
            b.Add(q);
        }
        Output(0, b);
    }

    public override void Cleanup()
    {
        foreach (var e in _table.Values)
            while (e.Pending.Count > 0) e.Pending.Dequeue().Kill();
        _held = 0;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("table", () =>
        {
            var sb = new StringBuilder();
            foreach (var ip in _order)
                if (_table.TryGetValue(ip, out var e))
                    sb.Append(Values.UnparseIPv4(ip)).Append(' ').Append(e.Mac != null ? "1 " + Values.UnparseEther(e.Mac) : "0 ?")
                      .Append(' ').Append(e.Pending.Count).Append('\n');
            return sb.ToString();
        });
        AddReadHandler("queries", () => _queries.ToString(inv));
        AddReadHandler("responses", () => _responses.ToString(inv));
        AddReadHandler("drops", () => _drops.ToString(inv));
        AddReadHandler("count", () => _table.Count.ToString(inv));
        AddReadHandler("length", () => _held.ToString(inv));
        AddReadHandler("stats", () => $"{_queries} queries sent\n{_drops} packets killed\n");
        AddWriteHandler("insert", (v, eh) =>
        {
            var w = ConfigText.SplitSpace(v);
            if (w.Count != 2 || !Values.ParseIPv4(w[0], out uint ip) || !Values.ParseEther(w[1], out var mac)) return eh.Error("expected 'IP ETH'");
            if (!_table.TryGetValue(ip, out var e)) { e = new Entry(); _table[ip] = e; _order.Add(ip); }
            e.Mac = mac;
            e.ResolvedNs = Host.Clock.NowNs;
            Release(e);
            return true;
        });
        AddWriteHandler("delete", (v, eh) =>
        {
            if (!Values.ParseIPv4(v.Trim(), out uint ip)) return eh.Error("expected IP address");
            if (_table.Remove(ip, out var e))
            {
                while (e.Pending.Count > 0) { e.Pending.Dequeue().Kill(); _held--; }
                _order.Remove(ip);
            }
            return true;
        });
        AddButton("clear", () =>
        {
            Cleanup();
            _table.Clear();
            _order.Clear();
        });
    }

    public override void TakeState(Element old, ErrorHandler errh)
    {
        if (old is not ARPQuerier q) return;
        foreach (var ip in q._order)
            if (q._table.TryGetValue(ip, out var e) && e.Mac != null)
            {
                _table[ip] = new Entry { Mac = e.Mac, ResolvedNs = e.ResolvedNs };
                _order.Add(ip);
            }
    }
}
