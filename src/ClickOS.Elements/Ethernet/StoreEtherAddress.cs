using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// StoreEtherAddress(ADDR, OFFSET): writes Ethernet address ADDR into each packet at OFFSET
/// ("src" = 6, "dst" = 0, or a byte offset). Packets too short are dropped (or sent to output 1).
/// Handlers: addr (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> StoreEtherAddress(02:12:34:56:78:9a, src) -> Discard;</example>
public sealed class StoreEtherAddress : FilterElement
{
    private byte[] _addr = new byte[6];
    private int _offset;

    private static bool ParseOffset(string s, out int v, out string err)
    {
        err = "expected 'src', 'dst' or offset";
        v = s switch { "src" => 6, "dst" => 0, _ => -1 };
        if (v >= 0) return true;
        return Values.ParseInt64(s, out long l) & (v = (int)l) == l && l >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var addr = a.ReadMP("ADDR", Args.EtherAddress);
        var off = a.ReadMP<int>("OFFSET", ParseOffset);
        if (!a.Complete()) return false;
        _addr = addr;
        _offset = off;
        return true;
    }

    protected override int Classify(Packet p)
    {
        if (p.Length < _offset + 6) return 1;
        _addr.CopyTo(p.WritableData()[_offset..]);
        return 0;
    }

    public override void AddHandlers() =>
        SetHandler("addr", (_, _) => Values.UnparseEther(_addr), ElementUtil.Writer(Args.EtherAddress, v => _addr = v, "addr"), HandlerFlags.None);
}
