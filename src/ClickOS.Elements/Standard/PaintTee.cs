using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// PaintTee(COLOR [, ANNO]): every packet leaves on output 0; packets painted COLOR are also
/// cloned to output 1.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Paint(2) -> t :: PaintTee(2) -> Discard; t[1] -> Discard;</example>
public sealed class PaintTee : Element
{
    private byte _color;
    private int _anno = AnnoOffsets.Paint;

    public override string PortCount => "1/2";
    public override string Processing => "a/ah";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var color = a.ReadMP("COLOR", Args.Byte);
        var anno = a.ReadP("ANNO", AnnoArg.ByteAnno, AnnoOffsets.Paint);
        if (!a.Complete()) return false;
        _color = (byte)color.Value;
        _anno = anno;
        return true;
    }

    private void Copy(PacketBatch batch)
    {
        PacketBatch? copies = null;
        foreach (var p in batch.Packets)
        {
            if (p.Anno[_anno] != _color) continue;
            var c = p.Clone();
            if (c != null) (copies ??= Host.Batches.Rent()).Add(c);
        }
        if (copies != null) Output(1, copies);
    }

    public override void Push(int port, PacketBatch batch)
    {
        Copy(batch);
        Output(0, batch);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b != null) Copy(b);
        return b;
    }
}
