namespace ClickOS.Elements;

/// <summary>
/// BandwidthRatedSplitter(RATE): sends at most RATE (a bandwidth, like "384kbps"; a bare
/// number is bytes/s) to output 0 and the rest to output 1 (dropped if unconnected). Unlike
/// BandwidthMeter, RATE still goes to output 0 when the input rate is higher. A token bucket;
/// keywords BURST_DURATION (time, default 20 ms of RATE) or BURST_BYTES set its capacity; a
/// packet longer than the capacity passes when the bucket is full. Handlers: rate (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> rs :: BandwidthRatedSplitter(384kbps) -> Discard; rs[1] -> Discard;</example>
public sealed class BandwidthRatedSplitter() : RatedSplitterBase(bandwidth: true)
{
}
