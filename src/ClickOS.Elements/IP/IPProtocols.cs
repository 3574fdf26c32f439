using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>IP protocol names Click accepts in arguments (and in IPClassifier).</summary>
public static class IPProtocols
{
    public static int Lookup(string name) => name.ToLowerInvariant() switch
    {
        "icmp" => 1, "igmp" => 2, "ipip" => 4, "tcp" => 6, "udp" => 17, "ipv6" => 41, "gre" => 47,
        "esp" => 50, "ah" => 51, "icmp6" or "icmpv6" => 58, "ipv6-icmp" => 58, "pim" => 103, "sctp" => 132, "dccp" => 33, "udplite" => 136,
        _ => -1,
    };

    public static readonly Args.Parser<int> Parse = (string s, out int v, out string err) =>
    {
        err = "expected IP protocol";
        v = Lookup(s);
        if (v >= 0) return true;
        return Values.ParseInt64(s, out long l) && l is >= 0 and <= 255 && (v = (int)l) >= 0;
    };
}
