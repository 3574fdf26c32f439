using ClickOS.Runtime;

namespace ClickOS.Elements;

public static partial class IPRegistration
{
    static partial void RegisterHeaderChecks(ElementRegistry r)
    {
        r.Add("CheckIPHeader", () => new CheckIPHeader());
        r.Add("CheckIPHeader2", () => new CheckIPHeader2());
        r.Add("MarkIPHeader", () => new MarkIPHeader());
        r.Add("StripToNetworkHeader", () => new StripToNetworkHeader());
        r.Add("CheckTCPHeader", () => new CheckTCPHeader());
        r.Add("CheckUDPHeader", () => new CheckUDPHeader());
        r.Add("CheckICMPHeader", () => new CheckICMPHeader());
        r.Add("SetIPChecksum", () => new SetIPChecksum());
        r.Add("SetTCPChecksum", () => new SetTCPChecksum());
        r.Add("SetUDPChecksum", () => new SetUDPChecksum());
        r.Add("SetIPDSCP", () => new SetIPDSCP());
        r.Add("SetIPECN", () => new SetIPECN());
        r.Add("DecIPTTL", () => new DecIPTTL());
        r.Add("IPPrint", () => new IPPrint());
    }
}
