namespace ClickOS.Elements;

/// <summary>
/// NotifierQueue(CAPACITY): a FIFO packet queue (push input, pull output) with empty and full notifiers;
/// tail drop when full, reporting "NAME :: NotifierQueue: overflow" once.
/// Handlers: length, highwater_length, capacity, drops, reset_counts, reset.
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> q :: NotifierQueue(10) -> Unqueue -> Discard;</example>
public sealed class NotifierQueue : SimpleQueue
{
}
