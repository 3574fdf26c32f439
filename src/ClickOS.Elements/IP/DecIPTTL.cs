using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// DecIPTTL([keywords ACTIVE, MULTICAST]): decrements the time-to-live of IP packets (which
/// need an IP header annotation) and updates the checksum incrementally, sending them to
/// output 0. Packets whose TTL is already 1 or 0 go to output 1 if it is connected (usually to
/// an ICMPError), else are dropped. ACTIVE false passes every packet unchanged; MULTICAST false
/// passes multicast packets unchanged. Handlers: drops (read), active (read/write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 01 11 a5 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 2, STOP true) -> CheckIPHeader -> dt :: DecIPTTL -> Discard; dt[1] -> Discard;</example>
public sealed class DecIPTTL : HeaderCheckElement
{
    private bool _active = true, _multicast = true;
    private long _drops;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var multicast = a.Read("MULTICAST", Args.Bool, true);
        if (!a.Complete()) return false;
        _active = active;
        _multicast = multicast;
        return true;
    }

    protected override int Check(Packet p)
    {
        if (!_active || !p.HasNetworkHeader) return -1;
        int nh = p.NetworkHeaderOffset;
        var ip = IPHeaderAccess.From(p, nh);
        if (ip.Length < IPHeaderAccess.IPHeaderMin) return -1;
        if (!_multicast && (ip[16] & 0xF0) == 0xE0) return -1;
        if (ip[8] <= 1) return 0;
        var w = IPHeaderAccess.WritableFrom(p, nh);
        w[8]--;
        // RFC 1624: the TTL/protocol word dropped by 0x0100, so new = ~(~old + 0xFEFF).
        uint sum = (~(uint)BinaryPrimitives.ReadUInt16BigEndian(w[10..]) & 0xFFFF) + 0xFEFF;
        BinaryPrimitives.WriteUInt16BigEndian(w[10..], (ushort)~(sum + (sum >> 16)));
        return -1;
    }

    protected override void Reject(int reason) => _drops++;

    public override void AddHandlers()
    {
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => _active = v, "active"), HandlerFlags.None);
    }
}
