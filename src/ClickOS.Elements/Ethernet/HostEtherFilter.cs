using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// HostEtherFilter(ETHER [, DROP_OWN, DROP_OTHER, OFFSET]): acts like the Ethernet input of a
/// host with address ETHER: sets the packet-type annotation (HOST, BROADCAST, MULTICAST,
/// OTHERHOST), drops packets from ETHER if DROP_OWN, and packets for other hosts if DROP_OTHER
/// (default true). Filtered packets go to output 1 if it exists.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> h :: HostEtherFilter(02:00:00:00:00:01) -> Discard; h[1] -> Discard;</example>
public sealed class HostEtherFilter : FilterElement
{
    private byte[] _addr = new byte[6];
    private bool _dropOwn, _dropOther = true;
    private int _offset;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var addr = a.ReadMP("ETHER", Args.EtherAddress);
        var own = a.ReadP("DROP_OWN", Args.Bool, false);
        var other = a.ReadP("DROP_OTHER", Args.Bool, true);
        var off = a.Read("OFFSET", Args.Unsigned, 0);
        if (!a.Complete()) return false;
        _addr = addr;
        _dropOwn = own;
        _dropOther = other;
        _offset = off;
        return true;
    }

    protected override int Classify(Packet p)
    {
        if (p.Length < _offset + 12) return 1;
        var d = p.Data[_offset..];
        var dst = d[..6];
        if (_dropOwn && d.Slice(6, 6).SequenceEqual(_addr)) return 1;
        if (dst.SequenceEqual(_addr)) { p.PacketType = PacketType.Host; return 0; }
        if ((dst[0] & 1) != 0)
        {
            p.PacketType = dst[0] == 0xFF && dst[1] == 0xFF && dst[2] == 0xFF && dst[3] == 0xFF && dst[4] == 0xFF && dst[5] == 0xFF
                ? PacketType.Broadcast : PacketType.Multicast;
            return 0;
        }
        p.PacketType = PacketType.OtherHost;
        return _dropOther ? 1 : 0;
    }
}
