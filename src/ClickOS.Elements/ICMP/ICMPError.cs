using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ICMPError(SRC, TYPE [, CODE], keywords): turns each IP packet into an ICMP error about it,
/// from address SRC to the packet's source: TTL 200, the original packet quoted up to 576
/// bytes in all, and the destination annotation set. TYPE and CODE are numbers or Click's names
/// (unreachable/needfrag, timeexceeded/transit, parameterproblem, redirect...). Keywords:
/// MTU (largest error packet, 576), PMTU (the next-hop MTU reported by needfrag errors),
/// BADADDRS (addresses never answered), USE_FIX_ANNO (bool, true). Rate-limit errors with a
/// following RatedSplitter, as in Click. No error is sent about an ICMP error,
/// a later fragment, a packet from SRC itself, or a broadcast, multicast or zero source; such packets are dropped (or
/// go to output 1 if it exists). Parameter problems point at the ICMP_PARAMPROB annotation;
/// redirects name the gateway in the destination annotation.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;4500001c 00000000 0111 0000 0a000002 0a000001 0000 0000 0008 0000&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> ICMPError(10.0.0.254, timeexceeded) -> Discard;</example>
public sealed class ICMPError : FilterElement
{
    private uint _src;
    private int _type, _code, _maxSize = 576, _pmtu;
    private uint[] _badAddrs = [];
    private bool _setFix = true;
    private IdCounter _ids = null!;

    /// <summary>All ICMPErrors of a router number their packets from one counter, as in Click.</summary>
    private sealed class IdCounter { public ushort Next; }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var src = a.ReadMP("SRC", Args.IPAddress);
        var type = a.ReadMP("TYPE", Args.Word);
        var code = a.ReadP("CODE", Args.Word, "0");
        var mtu = a.Read("MTU", Args.Unsigned, 576);
        var pmtu = a.Read("PMTU", Args.Unsigned, 0);
        var fix = a.Read("USE_FIX_ANNO", Args.Bool, true);
        var fix2 = a.Read("SET_FIX_ANNO", Args.Bool, true);
        var bad = a.Read("BADADDRS", Args.Any, "");
        if (!a.Complete()) return false;
        _type = ICMPNames.ParseType(type);
        if (_type < 0) return errh.Error($"TYPE: unknown ICMP type '{type.Value}'");
        _code = ICMPNames.ParseCode(_type, code);
        if (_code < 0) return errh.Error($"CODE: unknown ICMP code '{code.Value}'");
        if (!ICMPNames.IsError(_type)) return errh.Error($"ICMP type {_type} is not an error type");
        if (mtu.Value < 68) return errh.Error("MTU: out of range");
        var badAddrs = new List<uint>();
        foreach (var w in ConfigText.SplitSpace(bad.Value))
        {
            if (!Values.ParseIPv4(w, out uint ba)) return errh.Error($"BADADDRS: '{w}' is not an IP address");
            badAddrs.Add(ba);
        }
        _src = src;
        _maxSize = mtu;
        _pmtu = pmtu;
        _setFix = fix.Value && fix2.Value;
        _badAddrs = [.. badAddrs];
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _ids = Host.Shared<IdCounter>("ICMPError.ip_id");
        return true;
    }

    private static bool BadSource(uint a) => a == 0 || a == 0xFFFFFFFF || (a >> 28) == 14 || (a >> 24) == 127;

    protected override int Classify(Packet p)
    {
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        if (ip < 0 || p.Length < ip + 20) return 1;
        var d = p.Data;
        int hl = (d[ip] & 0x0F) * 4;
        if (hl < 20 || p.Length < ip + hl) return 1;
        uint origSrc = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]);
        uint origDst = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        if (BadSource(origSrc) || (origDst >> 28) == 14 || origDst == 0xFFFFFFFF) return 1;
        // Never send an error to ourselves (e.g. about our own ping replies), nor about BADADDRS.
        if (origSrc == _src) return 1;
        if (_badAddrs.Length > 0 && (Array.IndexOf(_badAddrs, origSrc) >= 0 || Array.IndexOf(_badAddrs, origDst) >= 0)) return 1;
        if ((BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]) & 0x1FFF) != 0) return 1;
        if (d[ip + 9] == 1 && p.Length >= ip + hl + 1 && ICMPNames.IsError(d[ip + hl])) return 1;
        if (p.PacketType is PacketType.Broadcast or PacketType.Multicast) return 1;

        int origLen = Math.Min(p.Length - ip, BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]));
        int quote = Math.Min(Math.Max(origLen, hl), _maxSize - 28);
        // Build in place: drop anything before the IP header, keep the quoted bytes, prepend 28.
        p.Pull(ip);
        p.Take(Math.Max(0, p.Length - quote));
        p.Push(28);
        var w = p.WritableData();
        int total = p.Length;
        w[0] = 0x45;
        w[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(w[2..], (ushort)total);
        BinaryPrimitives.WriteUInt16BigEndian(w[4..], ++_ids.Next);
        BinaryPrimitives.WriteUInt16BigEndian(w[6..], 0);
        w[8] = 200;
        w[9] = 1;
        w[10] = w[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(w[12..], _src);
        BinaryPrimitives.WriteUInt32BigEndian(w[16..], origSrc);
        BinaryPrimitives.WriteUInt16BigEndian(w[10..], InternetChecksum.Compute(w[..20]));
        var icmp = w[20..];
        icmp[0] = (byte)_type;
        icmp[1] = (byte)_code;
        icmp[2] = icmp[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(icmp[4..], 0);
        if (_type == 3 && _code == 4) BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], (ushort)_pmtu);
        else if (_type == 12 && _code == 0) icmp[4] = p.GetAnnoU8(AnnoOffsets.IcmpParamProb);
        else if (_type == 5) BinaryPrimitives.WriteUInt32BigEndian(icmp[4..], p.DstIPAnno);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp[..(total - 20)]));
        p.SetNetworkHeader(0, 20);
        p.DstIPAnno = origSrc;
        if (_setFix) p.SetAnnoU8(AnnoOffsets.FixIPSrc, 1);
        p.TimestampNs = 0;
        return 0;
    }
}
