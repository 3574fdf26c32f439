using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// EnsureEther([ETHERTYPE, SRC, DST]): makes sure IP packets carry an Ethernet header: a packet
/// that starts at its IP header gets one prepended; a packet that already has room for one
/// before its IP header has it restored.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> EnsureEther -> Discard;</example>
public sealed class EnsureEther : SimpleElement
{
    private readonly byte[] _hdr = new byte[14];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var type = a.ReadP("ETHERTYPE", EtherType.Parse, (ushort)0x0800);
        var src = a.ReadP("SRC", Args.EtherAddress, new byte[6]);
        var dst = a.ReadP("DST", Args.EtherAddress, new byte[6]);
        if (!a.Complete()) return false;
        dst.Value.CopyTo(_hdr, 0);
        src.Value.CopyTo(_hdr, 6);
        BinaryPrimitives.WriteUInt16BigEndian(_hdr.AsSpan(12), type);
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            if (p.HasNetworkHeader && p.NetworkHeaderOffset >= 14) continue;
            if (!p.HasNetworkHeader && p.Length >= 14 && BinaryPrimitives.ReadUInt16BigEndian(p.Data[12..]) is 0x0800 or 0x86DD or 0x0806) continue;
            p.Push(14);
            _hdr.CopyTo(p.WritableData());
            p.SetMacHeader(0);
        }
    }
}
