using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// PaintSwitch([ANNO]): sends each packet to the output numbered by its paint annotation
/// (or byte annotation ANNO); packets whose output does not exist are dropped.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Paint(1) -> s :: PaintSwitch; s[0] -> Discard; s[1] -> Discard;</example>
public sealed class PaintSwitch : Element
{
    private int _anno = AnnoOffsets.Paint;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var anno = a.ReadP("ANNO", AnnoArg.ByteAnno, AnnoOffsets.Paint);
        if (!a.Complete()) return false;
        _anno = anno;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        Span<int> outs = stackalloc int[batch.Count];
        var ps = batch.Packets;
        for (int i = 0; i < ps.Length; i++) outs[i] = ps[i].Anno[_anno];
        Dispatch(batch, outs);
    }
}
