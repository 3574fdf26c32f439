namespace ClickOS.Elements;

/// <summary>
/// RatedSplitter(RATE): sends at most RATE packets per second to output 0 and the rest to
/// output 1 (dropped if unconnected). Unlike Meter, RATE packets/s still go to output 0 when
/// the input rate is higher. A token bucket; keywords BURST_DURATION (time, default 20 ms of
/// RATE) or BURST_SIZE (packets) set its capacity. Handlers: rate (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> rs :: RatedSplitter(2000) -> Discard; rs[1] -> Discard;</example>
public sealed class RatedSplitter() : RatedSplitterBase(bandwidth: false)
{
}
