namespace ClickOS.Elements;

/// <summary>
/// BandwidthShaper(RATE): a pull element that lets at most RATE bytes per second through
/// (RATE is a bandwidth: "1Mbps", "125kBps"; a bare number is bytes/s). A token bucket of
/// 1 ms of RATE is charged each packet's length after the pull, so big packets may leave it in
/// debt; the long-run rate is exact. Like Shaper, it is an empty notifier so the puller sleeps
/// while it waits. Handlers: rate (read/write, printed as Click prints bandwidths).
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> Queue -> BandwidthShaper(1Mbps) -> Unqueue -> Discard;</example>
public sealed class BandwidthShaper() : ShaperBase(bandwidth: true)
{
}
