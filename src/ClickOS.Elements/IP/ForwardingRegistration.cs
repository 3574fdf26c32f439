using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterForwarding(ElementRegistry r)
    {
        r.Add("IPEncap", () => new IPEncap());
        r.Add("UDPIPEncap", () => new UDPIPEncap());
        r.Add("StoreIPAddress", () => new StoreIPAddress());
        r.Add("GetIPAddress", () => new GetIPAddress());
        r.Add("SetIPAddress", () => new SetIPAddress());
        r.Add("IPMirror", () => new IPMirror());
        r.Add("ICMPPingResponder", () => new ICMPPingResponder());
        r.Add("ICMPError", () => new ICMPError());
        r.Add("IPFragmenter", () => new IPFragmenter());
        r.Add("DropBroadcasts", () => new DropBroadcasts());
        r.Add("FixIPSrc", () => new FixIPSrc());
        r.Add("IPGWOptions", () => new IPGWOptions());
        r.Add("AddressInfo", () => new AddressInfo());
        r.Add("RandomSample", () => new RandomSample());
        r.Add("RandomSource", () => new RandomSource());
        r.Add("ICMPPingEncap", () => new ICMPPingEncap());
        r.Add("ARPPrint", () => new ARPPrint());
        r.Add("IPInputCombo", () => new IPInputCombo());
        r.Add("IPOutputCombo", () => new IPOutputCombo());
        r.Add("AggregateIPFlows", () => new AggregateIPFlows());
        r.Add("IPReassembler", () => new IPReassembler());
        r.Add("ICMPPingSource", () => new ICMPPingSource());
        RoutingRegistration.Register(r);
    }
}
