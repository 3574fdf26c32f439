using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>PushNull: passes packets through unchanged (push only).</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> PushNull -> Discard;</example>
public sealed class PushNull : Element
{
    public override string Processing => "h/h";
    public override void Push(int port, PacketBatch batch) => Output(0, batch);
}
