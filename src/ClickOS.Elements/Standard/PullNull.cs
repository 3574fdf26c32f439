using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>PullNull: passes packets through unchanged (pull only).</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Queue -> PullNull -> Unqueue -> Discard;</example>
public sealed class PullNull : Element
{
    public override string Processing => "l/l";
    public override PacketBatch? Pull(int port, int max) => Input(0, max);
}
