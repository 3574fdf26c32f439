using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SimpleQueue(CAPACITY): stores pushed packets (tail drop when full) for downstream pulls.
/// Base of the Queue family; provides an empty notifier so pullers sleep while it is empty
/// and a full notifier for pushers.
/// Handlers: length, highwater_length, capacity (read/write), drops, reset_counts, reset.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> q :: SimpleQueue(10) -> Unqueue -> Discard;</example>
public class SimpleQueue : Element, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Drop;
    long ITrafficCounter.TrafficPackets => Drops;
    long ITrafficCounter.TrafficBytes => 0;

    protected Packet[] Ring = [];
    protected int HeadIdx, Count;
    protected int Capacity = 1000;
    protected long Drops;
    protected int Highwater;
    private bool _warned;
    protected readonly Notifier Empty = new(false);
    protected readonly Notifier Full = new(true);

    public override string PortCount => "1/1";
    public override string Processing => "h/l";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cap = a.ReadP("CAPACITY", Args.Unsigned, 1000);
        if (!a.Complete()) return false;
        Capacity = cap;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        Ring = new Packet[Math.Max(Capacity, 1)];
        return true;
    }

    public override bool CanLiveReconfigure => true;

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var cap = a.ReadP("CAPACITY", Args.Unsigned, 1000);
        if (!a.Complete()) return false;
        SetCapacity(cap);
        return true;
    }

    protected void SetCapacity(int cap)
    {
        var nr = new Packet[Math.Max(cap, 1)];
        int keep = Math.Min(Count, cap);
        for (int i = 0; i < Count; i++)
        {
            var p = Ring[(HeadIdx + i) % Ring.Length];
            if (i < keep) nr[i] = p;
            else { p.Kill(); Drops++; }
        }
        Ring = nr;
        HeadIdx = 0;
        Count = keep;
        Capacity = cap;
        Full.SetActive(Count < Capacity);
    }

    public override Notifier? EmptyNotifier(int outputPort) => Empty;
    public override Notifier? FullNotifier(int inputPort) => Full;

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        int cap = Capacity;
        var ring = Ring;
        for (int i = 0; i < ps.Length; i++)
        {
            if (Count < cap)
            {
                int idx = HeadIdx + Count;
                if (idx >= ring.Length) idx -= ring.Length;
                ring[idx] = ps[i];
                Count++;
            }
            else
            {
                OnFull(ps[i]);
            }
        }
        if (Count > Highwater) Highwater = Count;
        Host.Batches.Return(batch);
        if (Count > 0 && !Empty.Active) Empty.SetActive(true);
        if (Count >= cap && Full.Active) Full.SetActive(false);
    }

    /// <summary>A packet arrived at a full queue: tail drop by default.</summary>
    protected virtual void OnFull(Packet p)
    {
        Drops++;
        p.Kill();
        if (!_warned)
        {
            _warned = true;
            Host.ErrorOutput.Write($"{Declaration}: overflow\n");
        }
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (Count == 0)
        {
            if (Empty.Active) Empty.SetActive(false);
            return null;
        }
        var b = Host.Batches.Rent();
        int n = Math.Min(Math.Min(max, Count), PacketBatch.MaxSize);
        var ring = Ring;
        for (int i = 0; i < n; i++)
        {
            b.Add(ring[HeadIdx]);
            ring[HeadIdx] = null!;
            if (++HeadIdx == ring.Length) HeadIdx = 0;
        }
        Count -= n;
        if (!Full.Active && Count < Capacity) Full.SetActive(true);
        return b;
    }

    public override void Cleanup()
    {
        for (int i = 0; i < Count; i++)
            Ring[(HeadIdx + i) % Ring.Length].Kill();
        Count = 0;
    }

    public int Length => Count;

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("length", () => Count.ToString(inv));
        AddReadHandler("highwater_length", () => Highwater.ToString(inv));
        AddReadHandler("drops", () => Drops.ToString(inv));
        SetHandler("capacity", (_, _) => Capacity.ToString(inv), ElementUtil.Writer(Args.Unsigned, SetCapacity, "capacity"), HandlerFlags.None);
        AddButton("reset_counts", () => { Drops = 0; Highwater = Count; });
        AddButton("reset", () =>
        {
            for (int i = 0; i < Count; i++) Ring[(HeadIdx + i) % Ring.Length].Kill();
            HeadIdx = Count = 0;
            Empty.SetActive(false);
            Full.SetActive(true);
        });
    }

    /// <summary>Any queue takes the packets of a queue it replaces (Queue for SimpleQueue and back).</summary>
    public override bool CanTakeStateFrom(Element old) => old is SimpleQueue;

    public override void TakeState(Element old, ErrorHandler errh)
    {
        if (old is not SimpleQueue q) return;
        while (q.Count > 0 && Count < Capacity)
        {
            var p = q.Ring[q.HeadIdx];
            q.Ring[q.HeadIdx] = null!;
            q.HeadIdx = (q.HeadIdx + 1) % q.Ring.Length;
            q.Count--;
            Ring[(HeadIdx + Count) % Ring.Length] = p;
            Count++;
        }
        Drops = q.Drops;
        if (q.Count > 0)
        {
            // What no longer fits is dropped, and counted, as an overflowing queue would.
            errh.Warning($"{q.Count} packets dropped: the new capacity is {Capacity}");
            Drops += q.Count;
            while (q.Count > 0)
            {
                q.Ring[q.HeadIdx].Kill();
                q.Ring[q.HeadIdx] = null!;
                q.HeadIdx = (q.HeadIdx + 1) % q.Ring.Length;
                q.Count--;
            }
        }
        Highwater = Math.Max(Highwater, Count);
        Empty.SetActive(Count > 0);
        Full.SetActive(Count < Capacity);
    }
}
