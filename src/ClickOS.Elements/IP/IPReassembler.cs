using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPReassembler([MAX_MEMORY, TIMEOUT]): reassembles IP fragments (IP header annotation
/// required) and emits each datagram once it is complete; other packets pass through.
/// Incomplete datagrams are dropped after TIMEOUT (default 30 s), or sooner if more than
/// MAX_MEMORY bytes (default 256 KB) are held; dropped fragments go to output 1 if it exists.
/// Handlers: mem (bytes held), drops (read).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> r :: IPReassembler -> Discard; r[1] -> Discard;</example>
public sealed class IPReassembler : Element
{
    private sealed class Datagram
    {
        public Packet First = null!;                 // a fragment whose header we keep (offset 0)
        public readonly List<(int Offset, byte[] Data)> Pieces = [];
        public int TotalLength = -1;                 // payload length, known once the last fragment arrives
        public long DeadlineNs;
        public int Bytes;
        public readonly List<Packet> Held = [];
    }

    private long _maxMemory = 256 * 1024, _timeoutNs = 30_000_000_000, _mem, _drops;
    private readonly Dictionary<(uint, uint, ushort, byte), Datagram> _pending = [];
    private Timer _timer = null!;

    public override string PortCount => "1/1-2";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var mem = a.ReadP("MAX_MEMORY", Args.Unsigned, 256 * 1024);
        var timeout = a.ReadP("TIMEOUT", Args.Seconds, 30.0);
        if (!a.Complete()) return false;
        _maxMemory = mem;
        _timeoutNs = (long)(timeout.Value * 1e9);
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _timer = CreateTimer(_ => Expire(Host.Clock.NowNs));
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var outb = Host.Batches.Rent();
        foreach (var p in batch.Packets)
        {
            var r = Accept(p);
            if (r == null) continue;
            if (outb.IsFull) { Output(0, outb); outb = Host.Batches.Rent(); }
            outb.Add(r);
        }
        Host.Batches.Return(batch);
        if (outb.Count > 0) Output(0, outb); else Host.Batches.Return(outb);
    }

    /// <summary>Returns a packet to emit now (the packet itself, or a completed datagram), or null.</summary>
    private Packet? Accept(Packet p)
    {
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        var d = p.Data;
        if (ip < 0 || d.Length < ip + 20) return p;
        ushort off = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]);
        bool more = (off & 0x2000) != 0;
        int fragOff = (off & 0x1FFF) * 8;
        if (!more && fragOff == 0) return p;
        int hl = (d[ip] & 0x0F) * 4;
        int len = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]), d.Length - ip);
        if (hl < 20 || len < hl) return p;
        var key = (BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]),
                   BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 4)..]), d[ip + 9]);
        if (!_pending.TryGetValue(key, out var dg))
        {
            dg = new Datagram { DeadlineNs = Host.Clock.NowNs + _timeoutNs };
            _pending[key] = dg;
            if (!_timer.Scheduled) _timer.ScheduleAt(dg.DeadlineNs);
        }
        int dataLen = len - hl;
        dg.Pieces.Add((fragOff, d.Slice(ip + hl, dataLen).ToArray()));
        dg.Bytes += dataLen;
        _mem += dataLen;
        if (!more) dg.TotalLength = fragOff + dataLen;
        if (fragOff == 0 && dg.First == null) dg.First = p; else dg.Held.Add(p);
        if (_mem > _maxMemory) EvictOldest(key);
        return TryComplete(key, dg);
    }

    private Packet? TryComplete((uint, uint, ushort, byte) key, Datagram dg)
    {
        if (dg.TotalLength < 0 || dg.First == null) return null;
        var covered = new bool[dg.TotalLength];
        foreach (var (o, data) in dg.Pieces)
            for (int i = o; i < Math.Min(o + data.Length, dg.TotalLength); i++) covered[i] = true;
        if (Array.IndexOf(covered, false) >= 0) return null;
        var p = dg.First;
        int ip = p.NetworkHeaderOffset;
        int hl = (p.Data[ip] & 0x0F) * 4;
        int want = ip + hl + dg.TotalLength;
        if (p.Length < want) p.Put(want - p.Length); else if (p.Length > want) p.Take(p.Length - want);
        var w = p.WritableData();
        foreach (var (o, data) in dg.Pieces)
            data.AsSpan(0, Math.Min(data.Length, dg.TotalLength - o)).CopyTo(w[(ip + hl + o)..]);
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 2)..], (ushort)(hl + dg.TotalLength));
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 6)..], (ushort)(BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 6)..]) & 0x4000));
        w[ip + 10] = w[ip + 11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], InternetChecksum.Compute(w.Slice(ip, hl)));
        foreach (var h in dg.Held) h.Kill();
        _mem -= dg.Bytes;
        _pending.Remove(key);
        return p;
    }

    private void Discard(Datagram dg)
    {
        _mem -= dg.Bytes;
        if (dg.First != null) Reject(dg.First);
        foreach (var h in dg.Held) Reject(h);
    }

    private void Reject(Packet p)
    {
        _drops++;
        if (NOutputs > 1) OutputOne(1, p); else p.Kill();
    }

    private void EvictOldest((uint, uint, ushort, byte) keep)
    {
        while (_mem > _maxMemory && _pending.Count > 1)
        {
            var victim = _pending.Where(kv => !kv.Key.Equals(keep)).MinBy(kv => kv.Value.DeadlineNs);
            _pending.Remove(victim.Key);
            Discard(victim.Value);
        }
    }

    private void Expire(long now)
    {
        foreach (var kv in _pending.Where(kv => kv.Value.DeadlineNs <= now).ToList())
        {
            _pending.Remove(kv.Key);
            Discard(kv.Value);
        }
        if (_pending.Count > 0) _timer.ScheduleAt(_pending.Values.Min(d => d.DeadlineNs));
    }

    public override void Cleanup()
    {
        foreach (var dg in _pending.Values)
        {
            dg.First?.Kill();
            foreach (var h in dg.Held) h.Kill();
        }
        _pending.Clear();
    }

    public override void AddHandlers()
    {
        AddReadHandler("mem", () => _mem.ToString(ElementUtil.Inv));
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
    }
}
