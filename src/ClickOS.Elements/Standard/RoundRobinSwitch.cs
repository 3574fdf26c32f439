using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>RoundRobinSwitch: sends successive packets to successive outputs, wrapping around.</summary>
/// <example>InfiniteSource(LIMIT 4, STOP true) -> r :: RoundRobinSwitch; r[0] -> Discard; r[1] -> Discard;</example>
public sealed class RoundRobinSwitch : Element
{
    private int _next;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override void Push(int port, PacketBatch batch)
    {
        int n = NOutputs;
        Span<int> outs = stackalloc int[batch.Count];
        for (int i = 0; i < outs.Length; i++)
        {
            outs[i] = _next;
            if (++_next >= n) _next = 0;
        }
        Dispatch(batch, outs);
    }
}
