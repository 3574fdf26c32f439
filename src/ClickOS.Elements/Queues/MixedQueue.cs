using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// MixedQueue(CAPACITY): packets on input 0 join the tail (FIFO); packets on input 1 go to
/// the head (LIFO). When full, input 0 drops the new packet and input 1 drops from the tail.
/// </summary>
/// <example>a :: InfiniteSource(LIMIT 3, STOP true) -> m :: MixedQueue(5) -> Unqueue -> Discard; Idle -> [1]m;</example>
public sealed class MixedQueue : SimpleQueue
{
    public override string PortCount => "2/1";

    public override void Push(int port, PacketBatch batch)
    {
        if (port == 0) { base.Push(0, batch); return; }
        foreach (var p in batch.Packets)
        {
            if (Count >= Capacity)
            {
                // Drop the tail to make room at the head.
                int tail = (HeadIdx + Count - 1) % Ring.Length;
                Ring[tail].Kill();
                Drops++;
                Count--;
            }
            HeadIdx = (HeadIdx - 1 + Ring.Length) % Ring.Length;
            Ring[HeadIdx] = p;
            Count++;
        }
        if (Count > Highwater) Highwater = Count;
        Host.Batches.Return(batch);
        if (Count > 0) Empty.SetActive(true);
    }
}
