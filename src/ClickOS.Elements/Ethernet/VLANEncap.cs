using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// VLANEncap([VLAN_TCI, VLAN_PCP], keywords): adds an 802.1Q shim header to Ethernet packets.
/// Keywords: VLAN_ID (0-0xFFF), VLAN_TCI (or "ANNO": from the VLAN_TCI annotation), VLAN_PCP (0-7),
/// NATIVE_VLAN (-1 or an ID sent untagged; default 0), ETHERTYPE (default 0x8100).
/// Handlers: vlan_tci, vlan_id, vlan_pcp (read).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> VLANEncap(VLAN_ID 100, VLAN_PCP 5) -> Discard;</example>
public sealed class VLANEncap : SimpleElement
{
    private ushort _tci;
    private bool _anno;
    private int _native;
    private ushort _ethertype = 0x8100;

    private static bool ParseTci(string s, out int v, out string err)
    {
        err = "expected VLAN TCI or ANNO";
        if (s == "ANNO") { v = -1; return true; }
        v = 0;
        return Values.ParseInt64(s, out long l) && l is >= 0 and <= 0xFFFF && (v = (int)l) >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var tci = a.ReadP<int>("VLAN_TCI", ParseTci, 0);
        var pcp = a.ReadP("VLAN_PCP", Args.Unsigned, 0);
        var id = a.Read("VLAN_ID", Args.Unsigned, 0);
        var native = a.Read("NATIVE_VLAN", Args.Int, 0);
        var et = a.Read("ETHERTYPE", EtherType.Parse, (ushort)0x8100);
        if (!a.Complete()) return false;
        if (tci.Present == id.Present) return errh.Error("exactly one of VLAN_ID and VLAN_TCI must be set");
        if (id.Value > 0xFFF) return errh.Error("VLAN_ID: out of range");
        if (pcp.Value > 7) return errh.Error("VLAN_PCP: out of range");
        if (native.Value is < -1 or > 0xFFF) return errh.Error("NATIVE_VLAN: out of range");
        _anno = tci.Present && tci.Value < 0;
        if (tci.Present)
        {
            _tci = (ushort)Math.Max(tci.Value, 0);
            if (pcp.Present) _tci = (ushort)((_tci & 0x1FFF) | (pcp.Value << 13));
        }
        else _tci = (ushort)(id.Value | (pcp.Value << 13));
        _native = native;
        _ethertype = et;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            ushort tci = _anno ? BinaryPrimitives.ReverseEndianness(p.GetAnnoU16(AnnoOffsets.VlanTci)) : _tci;
            if ((tci & 0x0FFF) == _native) continue;
            if (p.Length < 12) continue;
            p.Push(4);
            var d = p.WritableData();
            d.Slice(4, 12).CopyTo(d);
            BinaryPrimitives.WriteUInt16BigEndian(d[12..], _ethertype);
            BinaryPrimitives.WriteUInt16BigEndian(d[14..], tci);
            p.SetMacHeader(0);
        }
    }

    public override void AddHandlers()
    {
        AddReadHandler("vlan_tci", () => _anno ? "ANNO" : _tci.ToString(ElementUtil.Inv));
        AddReadHandler("vlan_id", () => (_tci & 0xFFF).ToString(ElementUtil.Inv));
        AddReadHandler("vlan_pcp", () => (_tci >> 13).ToString(ElementUtil.Inv));
    }
}
