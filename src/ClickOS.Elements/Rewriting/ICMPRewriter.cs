using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ICMPRewriter(MAPS [, DST_ANNO]): rewrites ICMP error messages (destination unreachable,
/// source quench, redirect, time exceeded, parameter problem) that quote a packet rewritten by
/// one of MAPS, a space-separated list of IPRewriter-like elements (IPRewriter, TCPRewriter,
/// UDPRewriter, ICMPPingRewriter, IPAddrRewriter, IPAddrPairRewriter). The quoted header is
/// translated back so the error looks like a reply to the original packet, the outer addresses
/// follow it, and the quoted IP, UDP, TCP or ICMP checksums, the outer IP checksum and the ICMP
/// checksum are updated. Rewritten errors leave on output 0; other packets on output 1, or are
/// dropped when there is only one output. Handlers: rewritten, unmapped.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000020 00000000 401160bd 0a000001 08080808 9c400035 000c0000 00000000&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> rw :: IPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1); rw[0] -> ICMPError(8.8.8.8, unreachable, port) -> icmp :: ICMPRewriter(rw) -> Discard; rw[1] -> Discard;</example>
public sealed class ICMPRewriter : Element
{
    private string[] _mapNames = [];
    private RewriterBase[] _maps = [];
    private bool _dstAnno = true;
    private long _rewritten, _unmapped;
    private readonly int[] _outs = new int[PacketBatch.MaxSize];

    public override string PortCount => "1/1-2";
    public override string Processing => "a/ah";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var maps = a.ReadMP("MAPS", Args.Any);
        var dst = a.Read("DST_ANNO", Args.Bool, true);
        if (!a.Complete()) return false;
        _mapNames = ConfigText.SplitSpace(maps.Value).ToArray();
        _dstAnno = dst;
        if (_mapNames.Length == 0) return errh.Error("MAPS: expected at least one rewriter");
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        bool ok = true;
        var list = new List<RewriterBase>();
        foreach (var n in _mapNames)
        {
            if (Host.FindElement(n, this) is RewriterBase r) list.Add(r);
            else ok = errh.Error($"MAPS: '{n}' is not an IPRewriter-like element");
        }
        _maps = [.. list];
        return ok;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        int other = NOutputs > 1 ? 1 : -1;
        for (int i = 0; i < ps.Length; i++)
        {
            if (Rewrite(ps[i])) { _outs[i] = 0; _rewritten++; }
            else { _outs[i] = other; _unmapped++; }
        }
        Dispatch(batch, _outs.AsSpan(0, ps.Length));
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        var ps = b.Packets;
        for (int i = 0; i < ps.Length; i++)
        {
            if (Rewrite(ps[i])) { _outs[i] = 0; _rewritten++; }
            else { _outs[i] = 1; _unmapped++; }
        }
        return KeepFirstOutput(b, _outs.AsSpan(0, ps.Length));
    }

    private static bool IsError(byte type) => type is 3 or 4 or 5 or 11 or 12;

    private bool Rewrite(Packet p)
    {
        if (!p.HasNetworkHeader) return false;
        int ip = p.NetworkHeaderOffset;
        var d = p.Data;
        if (d.Length < ip + 20 || d[ip + 9] != 1 || (BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) != 0) return false;
        int t = ip + (d[ip] & 0x0F) * 4;
        int inner = t + 8;
        if (d.Length < inner + 20 || !IsError(d[t])) return false;
        int ihl = (d[inner] & 0x0F) * 4;
        if ((d[inner] >> 4) != 4 || ihl < 20 || d.Length < inner + ihl + 8) return false;
        byte iproto = d[inner + 9];
        int it = inner + ihl;
        uint isa = BinaryPrimitives.ReadUInt32BigEndian(d[(inner + 12)..]), ida = BinaryPrimitives.ReadUInt32BigEndian(d[(inner + 16)..]);
        // The quoted packet's flow key, as a rewriter would key it.
        FlowId x;
        bool ports = iproto is 6 or 17;
        bool echo = false;
        if (ports) x = new FlowId(isa, BinaryPrimitives.ReadUInt16BigEndian(d[it..]), ida, BinaryPrimitives.ReadUInt16BigEndian(d[(it + 2)..]));
        else if (iproto == 1 && d[it] is 8 or 0)
        {
            echo = true;
            ushort ident = BinaryPrimitives.ReadUInt16BigEndian(d[(it + 4)..]);
            x = d[it] == 8 ? new FlowId(isa, ident, ida, 0) : new FlowId(isa, 0, ida, ident);
        }
        else x = new FlowId(isa, 0, ida, 0);
        // The quoted packet went out rewritten; a packet of the opposite direction would be
        // translated back to the original, and the quote must show that original reversed.
        FlowId t2 = default;
        bool found = false;
        foreach (var m in _maps)
            if (m.Lookup(x.Reverse(), iproto, out t2)) { found = true; break; }
        if (!found) return false;
        var y = t2.Reverse();
        var w = p.WritableData();
        // The quoted IP header and its checksum.
        ushort isum = BinaryPrimitives.ReadUInt16BigEndian(w[(inner + 10)..]);
        ushort l4sum = 0;
        int l4At = iproto == 17 ? it + 6 : iproto == 6 ? it + 16 : echo ? it + 2 : -1;
        bool l4 = l4At >= 0 && w.Length >= l4At + 2 && !(iproto == 17 && BinaryPrimitives.ReadUInt16BigEndian(w[l4At..]) == 0);
        if (l4) l4sum = BinaryPrimitives.ReadUInt16BigEndian(w[l4At..]);
        Set32(w, inner + 12, y.Saddr, ref isum, ref l4sum, ports && l4);
        Set32(w, inner + 16, y.Daddr, ref isum, ref l4sum, ports && l4);
        BinaryPrimitives.WriteUInt16BigEndian(w[(inner + 10)..], isum);
        if (ports)
        {
            Set16(w, it, y.Sport, ref l4sum);
            Set16(w, it + 2, y.Dport, ref l4sum);
        }
        else if (echo)
        {
            ushort nid = w[it] == 8 ? y.Sport : y.Dport;
            Set16(w, it + 4, nid, ref l4sum);
        }
        if (l4)
        {
            if (iproto == 17 && l4sum == 0) l4sum = 0xFFFF;
            BinaryPrimitives.WriteUInt16BigEndian(w[l4At..], l4sum);
        }
        // Outer addresses: the error was sent to the quoted packet's (rewritten) source, and
        // maybe from its (rewritten) destination.
        ushort osum = BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 10)..]);
        ushort dummy = 0;
        if (BinaryPrimitives.ReadUInt32BigEndian(w[(ip + 16)..]) == x.Saddr) Set32(w, ip + 16, y.Saddr, ref osum, ref dummy, false);
        if (BinaryPrimitives.ReadUInt32BigEndian(w[(ip + 12)..]) == x.Daddr) Set32(w, ip + 12, y.Daddr, ref osum, ref dummy, false);
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], osum);
        // The ICMP checksum covers the whole quote: recompute it.
        int icmpLen = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 2)..]) - (t - ip), w.Length - t);
        if (icmpLen >= 8)
        {
            BinaryPrimitives.WriteUInt16BigEndian(w[(t + 2)..], 0);
            BinaryPrimitives.WriteUInt16BigEndian(w[(t + 2)..], InternetChecksum.Compute(w.Slice(t, icmpLen)));
        }
        if (_dstAnno) p.DstIPAnno = BinaryPrimitives.ReadUInt32BigEndian(w[(ip + 16)..]);
        return true;
    }

    private static void Set32(Span<byte> w, int at, uint v, ref ushort ipsum, ref ushort l4sum, bool l4)
    {
        uint old = BinaryPrimitives.ReadUInt32BigEndian(w[at..]);
        BinaryPrimitives.WriteUInt32BigEndian(w[at..], v);
        ipsum = IPHeaderAccess.UpdateChecksum32(ipsum, old, v);
        if (l4) l4sum = IPHeaderAccess.UpdateChecksum32(l4sum, old, v);
    }

    private static void Set16(Span<byte> w, int at, ushort v, ref ushort l4sum)
    {
        ushort old = BinaryPrimitives.ReadUInt16BigEndian(w[at..]);
        if (old == v) return;
        BinaryPrimitives.WriteUInt16BigEndian(w[at..], v);
        l4sum = IPHeaderAccess.UpdateChecksum(l4sum, old, v);
    }

    public override void AddHandlers()
    {
        AddReadHandler("rewritten", () => _rewritten.ToString(ElementUtil.Inv));
        AddReadHandler("unmapped", () => _unmapped.ToString(ElementUtil.Inv));
    }
}
