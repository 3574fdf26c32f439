using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>DropBroadcasts: drops packets that arrived as link-level broadcast or multicast (packet-type annotation). Handler: drops.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> DropBroadcasts -> Discard;</example>
public sealed class DropBroadcasts : SimpleElement
{
    private long _drops;

    protected override void Process(PacketBatch batch)
    {
        var ps = batch.Packets;
        int keep = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            if (p.PacketType is PacketType.Broadcast or PacketType.Multicast) { p.Kill(); _drops++; }
            else ps[keep++] = p;
        }
        batch.SetCount(keep);
    }

    public override void AddHandlers() => AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
}
