using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// VLANDecap([ANNO, ETHERTYPE]): strips an 802.1Q shim header if present. With ANNO true
/// (default) the VLAN_TCI annotation is set to the TCI in network order, or 0 if untagged.
/// ETHERTYPE selects the tag type (default 0x8100).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;020000000001 020000000002 8100 0064 0800&gt;, LIMIT 1, STOP true) -> VLANDecap -> Discard;</example>
public sealed class VLANDecap : SimpleElement
{
    private bool _anno = true;
    private ushort _ethertype = 0x8100;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var anno = a.ReadP("ANNO", Args.Bool, true);
        var et = a.Read("ETHERTYPE", EtherType.Parse, (ushort)0x8100);
        if (!a.Complete()) return false;
        _anno = anno;
        _ethertype = et;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            ushort tci = 0;
            var d = p.Data;
            if (d.Length >= 18 && BinaryPrimitives.ReadUInt16BigEndian(d[12..]) == _ethertype)
            {
                tci = BinaryPrimitives.ReadUInt16BigEndian(d[14..]);
                var w = p.WritableData();
                w[..12].CopyTo(w[4..]);
                p.Pull(4);
                p.SetMacHeader(0);
            }
            if (_anno) p.SetAnnoU16(AnnoOffsets.VlanTci, BinaryPrimitives.ReverseEndianness(tci));
        }
    }
}
