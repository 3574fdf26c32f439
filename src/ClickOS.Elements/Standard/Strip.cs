using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>Strip(LENGTH): removes LENGTH bytes from the front of each packet.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Strip(14) -> Unstrip(14) -> Discard;</example>
public sealed class Strip : SimpleElement
{
    private int _n;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var n = a.ReadMP("LENGTH", Args.Unsigned);
        if (!a.Complete()) return false;
        _n = n;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        int n = _n;
        foreach (var p in batch.Packets) p.Pull(n);
    }
}
