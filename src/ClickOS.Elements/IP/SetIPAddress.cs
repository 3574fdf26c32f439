using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>SetIPAddress(ADDR [, ANNO]): sets each packet's destination IP annotation to ADDR.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> SetIPAddress(10.0.0.1) -> Discard;</example>
public sealed class SetIPAddress : SimpleElement
{
    private uint _addr;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var addr = a.ReadMP("ADDR", Args.IPAddress);
        a.ReadP("ANNO", Args.Any, "DST_IP");
        if (!a.Complete()) return false;
        _addr = addr;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets) p.DstIPAnno = _addr;
    }
}
