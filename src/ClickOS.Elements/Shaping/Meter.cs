namespace ClickOS.Elements;

/// <summary>
/// Meter(RATE1, ..., RATEn): classifies packets by the measured arrival rate in packets per
/// second (an exponentially weighted moving average, time constant 100 ms). Rates must
/// increase; there are n+1 outputs: below RATE1 packets go to output 0, at least RATE1 but
/// below RATE2 to output 1, and so on; at least RATEn to output n. The whole stream goes to
/// one output at a time (see RatedSplitter to split it). Handlers: rate (the measured rate,
/// read-only), meters (the thresholds).
/// </summary>
/// <example>InfiniteSource(LIMIT 100, STOP true) -> m :: Meter(10000) -> Discard; m[1] -> Discard;</example>
public sealed class Meter() : MeterBase(bandwidth: false)
{
}
