namespace ClickOS.Elements;

/// <summary>
/// BandwidthMeter(RATE1, ..., RATEn): classifies packets by the measured arrival rate in bytes
/// per second (an exponentially weighted moving average, time constant 100 ms). Each RATE is a
/// bandwidth ("384kbps", "20kBps"; a bare number is bytes/s) and rates must increase; there
/// are n+1 outputs: below RATE1 packets go to output 0, ..., at least RATEn to output n.
/// Handlers: rate (the measured rate in bytes/s, read-only), meters (the thresholds).
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> m :: BandwidthMeter(20kBps) -> Discard; m[1] -> Discard;</example>
public sealed class BandwidthMeter() : MeterBase(bandwidth: true)
{
}
