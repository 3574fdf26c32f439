using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>EtherRewrite(SRC, DST): sets the Ethernet source and destination addresses. Handlers: src, dst (read/write).</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> EtherRewrite(1:1:1:1:1:1, 2:2:2:2:2:2) -> Discard;</example>
public sealed class EtherRewrite : SimpleElement
{
    private byte[] _src = new byte[6], _dst = new byte[6];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var src = a.ReadMP("SRC", Args.EtherAddress);
        var dst = a.ReadMP("DST", Args.EtherAddress);
        if (!a.Complete()) return false;
        _src = src;
        _dst = dst;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            if (p.Length < 12) continue;
            var d = p.WritableData();
            _dst.CopyTo(d);
            _src.CopyTo(d[6..]);
        }
    }

    public override void AddHandlers()
    {
        SetHandler("src", (_, _) => Values.UnparseEther(_src), ElementUtil.Writer(Args.EtherAddress, v => _src = v, "src"), HandlerFlags.None);
        SetHandler("dst", (_, _) => Values.UnparseEther(_dst), ElementUtil.Writer(Args.EtherAddress, v => _dst = v, "dst"), HandlerFlags.None);
    }
}
