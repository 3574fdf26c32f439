using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterEthernet(ElementRegistry r)
    {
        r.Add("EtherEncap", () => new EtherEncap());
        r.Add("EtherMirror", () => new EtherMirror());
        r.Add("EtherRewrite", () => new EtherRewrite());
        r.Add("StoreEtherAddress", () => new StoreEtherAddress());
        r.Add("HostEtherFilter", () => new HostEtherFilter());
        r.Add("VLANEncap", () => new VLANEncap());
        r.Add("VLANDecap", () => new VLANDecap());
        r.Add("SetVLANAnno", () => new SetVLANAnno());
        r.Add("EnsureEther", () => new EnsureEther());
        r.Add("ARPResponder", () => new ARPResponder());
        r.Add("ARPQuerier", () => new ARPQuerier());
    }
}
