using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>The explicit registration table for this assembly's elements (NativeAOT: no reflection).</summary>
public static class StandardElements
{
    public static void Register(ElementRegistry r)
    {
        r.Add("Idle", () => new Idle());
        r.Add("Discard", () => new Discard());
        r.Add("FaultInjector", () => new FaultInjector());
        r.Add("InfiniteSource", () => new InfiniteSource());
        r.Add("RatedSource", () => new RatedSource());
        r.Add("TimedSource", () => new TimedSource());
        r.Add("FastUDPFlows", () => new FastUDPFlows());
        r.Add("FastTCPFlows", () => new FastTCPFlows());
        r.Add("Counter", () => new Counter());
        r.Add("AverageCounter", () => new AverageCounter());
        r.Add("Tee", () => new Tee());
        r.Add("PullTee", () => new PullTee());
        r.Add("Queue", () => new Queue());
        r.Add("SimpleQueue", () => new SimpleQueue());
        r.Add("NotifierQueue", () => new NotifierQueue());
        r.Add("FrontDropQueue", () => new FrontDropQueue());
        r.Add("MixedQueue", () => new MixedQueue());
        r.Add("Unqueue", () => new Unqueue());
        r.Add("RatedUnqueue", () => new RatedUnqueue());
        r.Add("DelayUnqueue", () => new DelayUnqueue());
        r.Add("Null", () => new Null());
        r.Add("PushNull", () => new PushNull());
        r.Add("PullNull", () => new PullNull());
        r.Add("Paint", () => new Paint());
        r.Add("PaintSwitch", () => new PaintSwitch());
        r.Add("PaintTee", () => new PaintTee());
        r.Add("CheckPaint", () => new CheckPaint());
        r.Add("Classifier", () => new Classifier());
        r.Add("Print", () => new Print());
        r.Add("Message", () => new Message());
        r.Add("Switch", () => new Switch());
        r.Add("StaticSwitch", () => new StaticSwitch());
        r.Add("PullSwitch", () => new PullSwitch());
        r.Add("RoundRobinSwitch", () => new RoundRobinSwitch());
        r.Add("PrioSched", () => new PrioSched());
        r.Add("RoundRobinSched", () => new RoundRobinSched());
        r.Add("StrideSched", () => new StrideSched());
        r.Add("ScheduleInfo", () => new ScheduleInfo());
        r.Add("Strip", () => new Strip());
        r.Add("Unstrip", () => new Unstrip());
        r.Add("Truncate", () => new Truncate());
        r.Add("Pad", () => new Pad());
        r.Add("StoreData", () => new StoreData());
        r.Add("SetTimestamp", () => new SetTimestamp());
        r.Add("Script", () => new Script());
        r.Add("DriverManager", () => new DriverManager());
        IPRegistration.Register(r);
        ShapingRegistration.Register(r);
        IdsRegistration.Register(r);
        FirewallRegistration.Register(r);
    }
}
