using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// GetIPAddress(OFFSET [, ANNO]): copies the 4 bytes at OFFSET (from the data start; "src" or
/// "dst" for the IP header's fields) into the destination IP annotation.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> GetIPAddress(16) -> Discard;</example>
public sealed class GetIPAddress : SimpleElement
{
    private int _offset;

    private static bool Off(string s, out int v, out string err)
    {
        err = "expected offset, 'src' or 'dst'";
        v = s switch { "src" => -1, "dst" => -2, _ => int.MinValue };
        if (v != int.MinValue) return true;
        return Values.ParseInt64(s, out long l) && l is >= 0 and < int.MaxValue && (v = (int)l) >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var off = a.ReadMP<int>("OFFSET", Off);
        a.ReadP("ANNO", Args.Any, "DST_IP");
        if (!a.Complete()) return false;
        _offset = off;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            int at = _offset >= 0 ? _offset : p.HasNetworkHeader ? p.NetworkHeaderOffset + (_offset == -1 ? 12 : 16) : -1;
            if (at >= 0 && p.Length >= at + 4) p.DstIPAnno = BinaryPrimitives.ReadUInt32BigEndian(p.Data[at..]);
        }
    }
}
