using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>EtherMirror: swaps the Ethernet source and destination addresses.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> EtherMirror -> Discard;</example>
public sealed class EtherMirror : SimpleElement
{
    protected override void Process(PacketBatch batch)
    {
        Span<byte> tmp = stackalloc byte[6];
        foreach (var p in batch.Packets)
        {
            if (p.Length < 12) continue;
            var d = p.WritableData();
            d[..6].CopyTo(tmp);
            d.Slice(6, 6).CopyTo(d);
            tmp.CopyTo(d[6..]);
        }
    }
}
