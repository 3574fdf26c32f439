using System.Buffers.Binary;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ARPResponder(IP/MASK [IP/MASK...] ETH, ...): answers ARP requests for the listed addresses
/// (or prefixes) with ARP replies from Ethernet address ETH on output 0. Requests it does not
/// answer, and other packets, go to output 1 if it exists. Handlers: table (read), add, remove (write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;ffffffffffff 020000000064 0806 0001 0800 06 04 0001 020000000064 0a000064 000000000000 0a000001&gt;, LIMIT 1, STOP true) -> a :: ARPResponder(10.0.0.1 02:00:00:00:00:01) -> Discard; a[1] -> Discard;</example>
public sealed class ARPResponder : FilterElement
{
    private readonly List<(uint Addr, uint Mask, byte[] Eth)> _entries = [];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        _entries.Clear();
        bool ok = true;
        foreach (var arg in conf) ok &= AddEntry(arg, errh);
        return ok;
    }

    private bool AddEntry(string arg, ErrorHandler errh)
    {
        var words = ConfigText.SplitSpace(arg);
        var prefixes = new List<(uint, uint)>();
        byte[]? eth = null;
        foreach (var w in words)
        {
            // An AddressInfo name stands for its IP address (and its Ethernet address).
            if (NameDatabase.TryIP(w, out uint nip))
            {
                prefixes.Add((nip, 0xFFFFFFFF));
                if (NameDatabase.TryEther(w, out var neth)) eth ??= neth;
                continue;
            }
            if (Values.ParseEther(w, out var e)) { if (eth != null) return errh.Error($"argument '{arg}' has more than one Ethernet address"); eth = e; }
            else if (Values.ParseIPPrefix(w, out uint a, out uint m)) prefixes.Add((a & m, m));
            else return errh.Error($"argument '{arg}' should be 'IP/MASK ETHADDR'");
        }
        if (eth == null || prefixes.Count == 0) return errh.Error($"argument '{arg}' should be 'IP/MASK ETHADDR'");
        foreach (var (a, m) in prefixes) _entries.Add((a, m, eth));
        return true;
    }

    private byte[]? Find(uint ip)
    {
        foreach (var e in _entries)
            if ((ip & e.Mask) == e.Addr) return e.Eth;
        return null;
    }

    /// <summary>Turns a request into a reply in place; returns 0 if answered, 1 otherwise.</summary>
    protected override int Classify(Packet p)
    {
        var d = p.Data;
        if (d.Length < 42 || BinaryPrimitives.ReadUInt16BigEndian(d[12..]) != 0x0806
            || BinaryPrimitives.ReadUInt16BigEndian(d[14..]) != 1 || BinaryPrimitives.ReadUInt16BigEndian(d[16..]) != 0x0800
            || d[18] != 6 || d[19] != 4 || BinaryPrimitives.ReadUInt16BigEndian(d[20..]) != 1)
            return 1;
        uint tpa = BinaryPrimitives.ReadUInt32BigEndian(d[38..]);
        var eth = Find(tpa);
        if (eth == null) return 1;
        Span<byte> sha = stackalloc byte[6];
        d.Slice(22, 6).CopyTo(sha);
        uint spa = BinaryPrimitives.ReadUInt32BigEndian(d[28..]);
        p.Take(p.Length - 42);
        var w = p.WritableData();
        sha.CopyTo(w);
        eth.CopyTo(w[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(w[20..], 2);
        eth.CopyTo(w[22..]);
        BinaryPrimitives.WriteUInt32BigEndian(w[28..], tpa);
        sha.CopyTo(w[32..]);
        BinaryPrimitives.WriteUInt32BigEndian(w[38..], spa);
        p.SetMacHeader(0);
        return 0;
    }

    public override void AddHandlers()
    {
        AddReadHandler("table", () =>
        {
            var sb = new StringBuilder();
            foreach (var e in _entries)
                sb.Append(new IPRoute(e.Addr, e.Mask, 0, 0).AddrText).Append(' ').Append(Values.UnparseEther(e.Eth)).Append('\n');
            return sb.ToString();
        });
        AddWriteHandler("add", (v, eh) => AddEntry(v, eh));
        AddWriteHandler("remove", (v, eh) =>
        {
            if (!Values.ParseIPPrefix(v.Trim(), out uint a, out uint m)) return eh.Error("expected IP/MASK");
            int n = _entries.RemoveAll(e => e.Addr == (a & m) && e.Mask == m);
            return n > 0 || eh.Error($"'{v.Trim()}' not found");
        });
    }
}
