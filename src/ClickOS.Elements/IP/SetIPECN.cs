using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SetIPECN(ECN): sets the ECN bits (the lower 2 bits of the TOS byte) of IP packets (which
/// need an IP header annotation) to ECN and updates the IP checksum incrementally. ECN is 0-3
/// or a name: "no" or "-" (0), "ect1" or "ECT(1)" (1), "ect2" or "ECT(0)" (2), "ce" or "CE" (3).
/// Packets without an IP header annotation pass unchanged. Handler: ecn (read/write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 66 c6 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 1, STOP true) -> CheckIPHeader -> SetIPECN(ce) -> CheckIPHeader -> Discard;</example>
public sealed class SetIPECN : SimpleElement
{
    private byte _ecn;
    private string _text = "0";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var ecn = a.ReadMP("ECN", Args.Any);
        if (!a.Complete()) return false;
        return Apply(ecn, errh);
    }

    private bool Apply(string text, ErrorHandler errh)
    {
        int v = text switch
        {
            "0" or "1" or "2" or "3" => text[0] - '0',
            "no" or "-" => 0,
            "ect1" or "ECT(1)" => 1,
            "ect2" or "ECT(0)" => 2,
            "ce" or "CE" => 3,
            _ => -1,
        };
        if (v < 0) return errh.Error("bad ECN argument");
        _ecn = (byte)v;
        _text = text;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        byte ecn = _ecn;
        foreach (var p in batch.Packets)
        {
            if (!p.HasNetworkHeader) continue;
            int nh = p.NetworkHeaderOffset;
            if (!IPHeaderAccess.InBuffer(p, nh) || p.Length - nh < 12) continue;
            var ip = IPHeaderAccess.WritableFrom(p, nh);
            ushort old = BinaryPrimitives.ReadUInt16BigEndian(ip);
            ip[1] = (byte)((ip[1] & 0xFC) | ecn);
            ushort now = BinaryPrimitives.ReadUInt16BigEndian(ip);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..],
                IPHeaderAccess.UpdateChecksum(BinaryPrimitives.ReadUInt16BigEndian(ip[10..]), old, now));
        }
    }

    public override void AddHandlers() =>
        SetHandler("ecn", (_, _) => _text, (value, errh) => Apply(ConfigText.Uncomment(value).Trim(), errh), HandlerFlags.None);
}
