using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// EtherEncap(ETHERTYPE, SRC, DST): prepends an Ethernet header. Handlers: src, dst, ethertype (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> EtherEncap(0x0800, 02:00:00:00:00:01, 02:00:00:00:00:02) -> Discard;</example>
public sealed class EtherEncap : SimpleElement
{
    private readonly byte[] _hdr = new byte[14];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var type = a.ReadMP("ETHERTYPE", EtherType.Parse);
        var src = a.ReadMP("SRC", Args.EtherAddress);
        var dst = a.ReadMP("DST", Args.EtherAddress);
        if (!a.Complete()) return false;
        dst.Value.CopyTo(_hdr, 0);
        src.Value.CopyTo(_hdr, 6);
        BinaryPrimitives.WriteUInt16BigEndian(_hdr.AsSpan(12), type);
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            p.Push(14);
            _hdr.CopyTo(p.WritableData());
            p.SetMacHeader(0);
        }
    }

    public override void AddHandlers()
    {
        SetHandler("src", (_, _) => Values.UnparseEther(_hdr.AsSpan(6, 6)), ElementUtil.Writer(Args.EtherAddress, v => v.CopyTo(_hdr, 6), "src"), HandlerFlags.None);
        SetHandler("dst", (_, _) => Values.UnparseEther(_hdr.AsSpan(0, 6)), ElementUtil.Writer(Args.EtherAddress, v => v.CopyTo(_hdr, 0), "dst"), HandlerFlags.None);
        SetHandler("ethertype", (_, _) => "0x" + BinaryPrimitives.ReadUInt16BigEndian(_hdr.AsSpan(12)).ToString("x4", ElementUtil.Inv),
            ElementUtil.Writer(EtherType.Parse, v => BinaryPrimitives.WriteUInt16BigEndian(_hdr.AsSpan(12), v), "ethertype"), HandlerFlags.None);
    }
}

/// <summary>Parses Ethernet types (decimal or 0x hex, 16 bits).</summary>
public static class EtherType
{
    public static readonly Args.Parser<ushort> Parse = (string s, out ushort v, out string err) =>
    {
        err = "expected 16-bit Ethernet type";
        v = 0;
        if (!Values.ParseInt64(s, out long l) || l is < 0 or > 0xFFFF) return false;
        v = (ushort)l;
        return true;
    };
}
