using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Tee([N]): sends each packet to every output; outputs after the first get clones
/// (shared data, copy on write). N defaults to the number of connected outputs.
/// </summary>
/// <example>InfiniteSource(LIMIT 3, STOP true) -> t :: Tee(2); t[0] -> Discard; t[1] -> Discard;</example>
public sealed class Tee : Element
{
    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var n = a.ReadP("N", Args.Unsigned, -1);
        if (!a.Complete()) return false;
        if (n.Present && n.Value != NOutputs)
            return errh.Error($"N ({n.Value}) does not match the number of outputs ({NOutputs})");
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        // Like Click: clones go to outputs 0..n-2 in order, the original to the last output.
        int n = NOutputs;
        for (int o = 0; o < n - 1; o++)
            if (CloneBatch(batch) is { } copy) Output(o, copy);
        if (n > 0) Output(n - 1, batch);
        else Drop(batch);
    }
}
