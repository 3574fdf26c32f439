using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>Null: passes packets through unchanged, push or pull.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Null -> Discard;</example>
public sealed class Null : SimpleElement
{
    protected override void Process(PacketBatch batch) { }
}
