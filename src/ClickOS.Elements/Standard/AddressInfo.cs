using ClickOS.Core;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>
/// AddressInfo(NAME ADDRESS [ADDRESS...], ...): defines names for addresses, usable in every
/// address argument of the configuration: NAME (the IP address, or the address with its prefix
/// where a prefix is expected), NAME:ip, NAME:ipnet, NAME:bcast, NAME:eth. Addresses are IPv4
/// addresses or prefixes (10.0.0.1/24), Ethernet addresses, and IPv6 addresses.
/// </summary>
/// <example>AddressInfo(eth0 10.0.0.1/24 02:00:00:00:00:01); InfiniteSource(LIMIT 1, STOP true) -> EtherEncap(0x0800, eth0, eth0) -> Discard;</example>
public sealed class AddressInfo : Element
{
    public override string PortCount => "0/0";
    public override int ConfigurePhaseValue => ConfigurePhase.First;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (Host is not Router router) return true;
        bool ok = true;
        foreach (var arg in conf)
        {
            var words = ConfigText.SplitSpace(arg);
            if (words.Count < 2)
            {
                ok = errh.Error($"expected 'NAME ADDRESS' in '{arg}'");
                continue;
            }
            var e = router.Names.Define(words[0]);
            foreach (var w in words.Skip(1))
            {
                if (w.Contains('/') && Values.ParseIPPrefix(w, out uint a, out uint m)) { e.IP = a; e.PrefixMask = m; }
                else if (w.Split('.').Length == 4 && Values.ParseIPv4(w, out uint ip)) e.IP = ip;
                else if (Values.ParseEther(w, out var eth)) e.Ether = eth;
                else if (Values.ParseIPv6(w, out var ip6)) e.IP6 = ip6;
                else ok = errh.Error($"'{w}' is not an IP, IPv6 or Ethernet address");
            }
        }
        return ok;
    }
}
