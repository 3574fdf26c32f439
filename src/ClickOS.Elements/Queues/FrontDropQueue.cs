using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// FrontDropQueue(CAPACITY): a queue that drops the oldest packet (at the head) when a new
/// one arrives while full. Handlers as Queue.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> q :: FrontDropQueue(2) -> Unqueue -> Discard;</example>
public sealed class FrontDropQueue : SimpleQueue
{
    protected override void OnFull(Packet p)
    {
        Ring[HeadIdx].Kill();
        Drops++;
        Ring[HeadIdx] = p;
        if (++HeadIdx == Ring.Length) HeadIdx = 0;
    }
}
