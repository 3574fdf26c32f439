namespace ClickOS.Core;

/// <summary>Where an element's counted packets go: into the router, out of it, or dropped on purpose.</summary>
public enum TrafficRole
{
    Input,
    Output,
    Drop,
}

/// <summary>
/// Elements at a router's edges (sources, devices, dump readers and writers) and those that
/// drop packets (Discard, full queues) report their counts, so a host can show one instance's
/// packets and bytes in and out and its drops without knowing the configuration. Reading the
/// counts is not synchronized with the driver: values are at most a batch stale.
/// </summary>
public interface ITrafficCounter
{
    TrafficRole Role { get; }
    long TrafficPackets { get; }
    long TrafficBytes { get; }
}

public static class TrafficBytes
{
    public static long Sum(ReadOnlySpan<Packet> packets)
    {
        long n = 0;
        foreach (var p in packets) n += p.Length;
        return n;
    }
}
