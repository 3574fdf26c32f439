using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>PrioSched: on each pull, returns packets from the lowest-numbered input that has any.</summary>
/// <example>a :: InfiniteSource(LIMIT 3, STOP true) -> q0 :: Queue -> p :: PrioSched -> Unqueue -> Discard; Idle -> q1 :: Queue -> [1]p;</example>
public sealed class PrioSched : Element
{
    public override string PortCount => "-/1";
    public override string Processing => "l/l";

    public override PacketBatch? Pull(int port, int max)
    {
        for (int i = 0; i < NInputs; i++)
        {
            var b = Input(i, max);
            if (b != null) return b;
        }
        return null;
    }
}
