using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Paint(COLOR [, ANNO]): sets each packet's paint annotation (or the byte annotation ANNO) to COLOR.
/// Handlers: color (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> Paint(3) -> CheckPaint(3) -> Discard;</example>
public sealed class Paint : SimpleElement
{
    private byte _color;
    private int _anno = AnnoOffsets.Paint;

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

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        byte c = _color;
        int off = _anno;
        foreach (var p in batch.Packets) p.Anno[off] = c;
    }

    public override void AddHandlers() =>
        SetHandler("color", (_, _) => _color.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Byte, v => _color = (byte)v, "color"), HandlerFlags.None);
}
