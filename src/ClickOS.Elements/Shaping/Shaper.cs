namespace ClickOS.Elements;

/// <summary>
/// Shaper(RATE): a pull element that lets at most RATE packets per second through; traffic
/// is shaped to RATE with little burstiness (a token bucket of 1 ms, at least one packet).
/// While it has no tokens, or its input is empty, it is an inactive empty notifier, so the
/// puller downstream sleeps until it can go on. Handlers: rate (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 5, STOP true) -> Queue -> Shaper(1000) -> Unqueue -> Discard;</example>
public sealed class Shaper() : ShaperBase(bandwidth: false)
{
}
