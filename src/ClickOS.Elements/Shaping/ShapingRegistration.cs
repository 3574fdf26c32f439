using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>Registration of the shaping, metering and policing elements.</summary>
public static class ShapingRegistration
{
    public static void Register(ElementRegistry r)
    {
        r.Add("Shaper", () => new Shaper());
        r.Add("BandwidthShaper", () => new BandwidthShaper());
        r.Add("RatedSplitter", () => new RatedSplitter());
        r.Add("BandwidthRatedSplitter", () => new BandwidthRatedSplitter());
        r.Add("Meter", () => new Meter());
        r.Add("BandwidthMeter", () => new BandwidthMeter());
        r.Add("BandwidthRatedUnqueue", () => new BandwidthRatedUnqueue());
        r.Add("TimeSortedSched", () => new TimeSortedSched());
        r.Add("SubscriberPolicer", () => new SubscriberPolicer());
    }
}
