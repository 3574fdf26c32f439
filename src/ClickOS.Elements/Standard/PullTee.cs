using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// PullTee([N]): output 0 is pulled; every packet pulled through it is also cloned to the
/// push outputs 1..N-1.
/// </summary>
/// <example>InfiniteSource(LIMIT 3, STOP true) -> q :: Queue -> t :: PullTee(2) -> Unqueue -> Discard; t[1] -> Discard;</example>
public sealed class PullTee : Element
{
    public override string PortCount => "1/1-";
    public override string Processing => "l/lh";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var n = a.ReadP("N", Args.Unsigned, -1);
        if (!a.Complete()) return false;
        if (n.Present && n.Value != NOutputs)
            return errh.Error($"N ({n.Value}) does not match the number of outputs ({NOutputs})");
        return true;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        for (int o = 1; o < NOutputs; o++)
            if (CloneBatch(b) is { } copy) Output(o, copy);
        return b;
    }
}
