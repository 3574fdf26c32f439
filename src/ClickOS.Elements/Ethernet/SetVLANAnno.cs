using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>SetVLANAnno([VLAN_TCI, VLAN_PCP], VLAN_ID): sets the VLAN_TCI annotation (network order).</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> SetVLANAnno(VLAN_ID 7) -> VLANEncap(ANNO) -> Discard;</example>
public sealed class SetVLANAnno : SimpleElement
{
    private ushort _tci;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var tci = a.ReadP("VLAN_TCI", Args.Unsigned, 0);
        var pcp = a.ReadP("VLAN_PCP", Args.Unsigned, 0);
        var id = a.Read("VLAN_ID", Args.Unsigned, 0);
        if (!a.Complete()) return false;
        if (tci.Present == id.Present) return errh.Error("exactly one of VLAN_ID and VLAN_TCI must be set");
        if (id.Value > 0xFFF || pcp.Value > 7 || tci.Value > 0xFFFF) return errh.Error("VLAN value out of range");
        _tci = tci.Present ? (ushort)tci.Value : (ushort)((pcp.Value << 13) | id.Value);
        if (tci.Present && pcp.Present) _tci = (ushort)((_tci & 0x1FFF) | (pcp.Value << 13));
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        ushort net = BinaryPrimitives.ReverseEndianness(_tci);
        foreach (var p in batch.Packets) p.SetAnnoU16(AnnoOffsets.VlanTci, net);
    }
}
