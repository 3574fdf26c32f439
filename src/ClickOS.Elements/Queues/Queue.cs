namespace ClickOS.Elements;

/// <summary>
/// Queue(CAPACITY): a FIFO packet queue (push input, pull output) with empty and full notifiers;
/// tail drop when full, reporting "NAME :: Queue: overflow" once.
/// Handlers: length, highwater_length, capacity, drops, reset_counts, reset.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> q :: Queue(10) -> Unqueue -> Discard;</example>
public sealed class Queue : SimpleQueue
{
}
