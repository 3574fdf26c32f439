using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SetIPDSCP(DSCP): sets the Differentiated Services Code Point (the upper 6 bits of the TOS
/// byte) of IP packets (which need an IP header annotation) to DSCP (0-63) and updates the IP
/// checksum incrementally. Packets without an IP header annotation pass unchanged.
/// Handler: dscp (read/write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 66 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 1, STOP true) -> CheckIPHeader -> SetIPDSCP(46) -> CheckIPHeader -> Discard;</example>
public sealed class SetIPDSCP : SimpleElement
{
    private byte _tosBits;
    private string _text = "0";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var dscp = a.ReadMP("DSCP", Args.Unsigned);
        if (!a.Complete()) return false;
        return Apply(dscp, dscp.Value.ToString(ElementUtil.Inv), errh);
    }

    private bool Apply(int dscp, string text, ErrorHandler errh)
    {
        if (dscp > 0x3F) return errh.Error("diffserv code point out of range");
        _tosBits = (byte)(dscp << 2);
        _text = text;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        byte bits = _tosBits;
        foreach (var p in batch.Packets)
        {
            if (!p.HasNetworkHeader) continue;
            int nh = p.NetworkHeaderOffset;
            if (!IPHeaderAccess.InBuffer(p, nh) || p.Length - nh < 12) continue;
            var ip = IPHeaderAccess.WritableFrom(p, nh);
            ushort old = BinaryPrimitives.ReadUInt16BigEndian(ip);
            ip[1] = (byte)((ip[1] & 0x3) | bits);
            ushort now = BinaryPrimitives.ReadUInt16BigEndian(ip);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..],
                IPHeaderAccess.UpdateChecksum(BinaryPrimitives.ReadUInt16BigEndian(ip[10..]), old, now));
        }
    }

    public override void AddHandlers() =>
        SetHandler("dscp", (_, _) => _text, (value, errh) =>
        {
            string v = ConfigText.Uncomment(value).Trim();
            if (!Args.ParseUnsigned(v, out int d, out _)) return errh.Error("DSCP: parse error");
            return Apply(d, v, errh);
        }, HandlerFlags.None);
}
