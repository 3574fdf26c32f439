using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>RoundRobinSched: on each pull, tries inputs in round-robin order, one packet from each turn.</summary>
/// <example>InfiniteSource(LIMIT 3, STOP true) -> q0 :: Queue -> r :: RoundRobinSched -> Unqueue -> Discard; Idle -> q1 :: Queue -> [1]r;</example>
public sealed class RoundRobinSched : Element
{
    private int _next;

    public override string PortCount => "-/1";
    public override string Processing => "l/l";

    public override PacketBatch? Pull(int port, int max)
    {
        int n = NInputs;
        for (int k = 0; k < n; k++)
        {
            int i = _next;
            if (++_next >= n) _next = 0;
            var b = Input(i, 1);
            if (b != null) return b;
        }
        return null;
    }
}
