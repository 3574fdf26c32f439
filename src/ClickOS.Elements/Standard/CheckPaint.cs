using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// CheckPaint(COLOR [, ANNO]): packets painted COLOR leave on output 0; others leave on
/// output 1 if it exists, or are dropped.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Paint(3) -> c :: CheckPaint(3) -> Discard; c[1] -> Discard;</example>
public sealed class CheckPaint : Element
{
    private byte _color;
    private int _anno = AnnoOffsets.Paint;

    public override string PortCount => "1/1-2";
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

    public override void Push(int port, PacketBatch batch)
    {
        var other = Split(batch);
        if (other != null) CheckedOutput(1, other);
        if (batch.Count > 0) Output(0, batch);
        else Host.Batches.Return(batch);
    }

    /// <summary>Keeps matching packets in <paramref name="batch"/>; returns the others (or null).</summary>
    private PacketBatch? Split(PacketBatch batch)
    {
        PacketBatch? other = null;
        var ps = batch.Packets;
        int keep = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            if (p.Anno[_anno] == _color) ps[keep++] = p;
            else (other ??= Host.Batches.Rent()).Add(p);
        }
        batch.SetCount(keep);
        return other;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        var other = Split(b);
        if (other != null) CheckedOutput(1, other);
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }
}
