using ClickOS.Core;

namespace ClickOS.IO;

/// <summary>
/// Turns packets into IP summary dump records (one text line, or one binary record) for a
/// fixed list of fields. Before IP fields are read the packet's headers are checked; with
/// bad-packet reporting on, the first problem found becomes a "!bad ..." line. Fields that do
/// not apply print as '-'. Like the original, the check trims link padding past the IP length
/// from the lengths it reports and folds the extra-length annotation into the IP length.
/// </summary>
internal sealed class SummaryWriter(IReadOnlyList<SummaryFieldDef> fields, bool binary, bool carefulTrunc, bool useExtraLength)
{
    private const int MissingIP = 0, MissingEthernet = 260, ProtoTcpOrUdp = 257;
    private const int ProtoIcmp = 1, ProtoTcp = 6, ProtoUdp = 17, ProtoDccp = 33, ProtoUdpLite = 136;
    private const uint IcmpHaveFlow = (1u << 8) | (1u << 0) | (1u << 15) | (1u << 16) | (1u << 13) | (1u << 14);

    private readonly SummaryFieldDef[] _fields = [.. fields];
    private readonly bool _needsIP = fields.Any(f => f.NeedsIP);

    // The packet being summarized, and what the header check found (offsets from the data start).
    private Packet _p = null!;
    private bool _iph, _tcph, _udph, _icmph;
    private int _nh, _th, _tailpad;
    private ByteSink _sa = null!;
    private ByteSink? _bad;

    // One field's extracted value: a number (two words for 64-bit values) or a byte range.
    private uint _v, _u1;
    private int _p0, _p1;
    private const int NoPtr = int.MinValue;

    /// <summary>Appends <paramref name="p"/>'s record to <paramref name="sa"/> and any "!bad" line to <paramref name="bad"/>.</summary>
    public void Summarize(Packet p, ByteSink sa, ByteSink? bad)
    {
        _p = p;
        _sa = sa;
        _bad = bad;
        _iph = _tcph = _udph = _icmph = false;
        _tailpad = 0;
        _nh = _th = 0;
        if (_needsIP) CheckHeaders();
        if (binary)
        {
            int start = sa.Length;
            sa.Extend(4);
            foreach (var f in _fields)
            {
                Clear();
                bool ok = Extract(f);
                WriteBinary(f, ok);
            }
            sa.SetBE32(start, (uint)(sa.Length - start));
        }
        else
        {
            for (int i = 0; i < _fields.Length; i++)
            {
                if (i > 0) sa.Append(' ');
                Clear();
                if (Extract(_fields[i])) WriteText(_fields[i]);
                else sa.Append('-');
            }
            sa.Append('\n');
        }
        _p = null!;
    }

    private void Clear()
    {
        _v = _u1 = 0;
        _p0 = _p1 = NoPtr;
    }

    // ---------------------------------------------------------------- packet access

    private int B(int off)
    {
        var buf = _p.BufferSpan;
        int i = _p.Headroom + off;
        return (uint)i < (uint)buf.Length ? buf[i] : 0;
    }

    private uint BE16(int off) => (uint)(B(off) << 8 | B(off + 1));
    private uint BE32(int off) => (uint)(B(off) << 24 | B(off + 1) << 16 | B(off + 2) << 8 | B(off + 3));

    private uint Extra
    {
        get => _p.GetAnnoU32(AnnoOffsets.ExtraLength);
        set => _p.SetAnnoU32(AnnoOffsets.ExtraLength, value);
    }

    private int Length => _p.Length - _tailpad;
    private int NetLen => _p.Length - _nh - _tailpad;
    private int TrLen => _p.Length - _th - _tailpad;
    private int IPHl => B(_nh) & 0xF;
    private int IPProto => B(_nh + 9);
    private uint IPLenField => BE16(_nh + 2);
    private uint IPOff => BE16(_nh + 6);
    private bool FirstFrag => (IPOff & 0x1FFF) == 0;

    private void Bad(string message)
    {
        if (_bad != null && _bad.Length == 0)
        {
            _bad.Append("!bad ");
            _bad.Append(message);
            _bad.Append('\n');
        }
    }

    /// <summary>Checks the IP and transport headers (Click's ip_prepare).</summary>
    private void CheckHeaders()
    {
        var p = _p;
        _iph = p.HasNetworkHeader;
        _nh = _iph ? p.NetworkHeaderOffset : 0;
        _tcph = _udph = _icmph = p.HasTransportHeader;
        _th = p.HasTransportHeader ? p.TransportHeaderOffset : 0;

        if (_iph)
        {
            int netLen = p.Length - _nh;
            int version = B(_nh) >> 4;
            uint ipLen = IPLenField;
            if (netLen < 4) { Bad("truncated IP header"); _iph = false; }
            else if (version != 4) { Bad($"IP version {version}"); _iph = false; }
            else if (IPHl < 5) { Bad($"IP header length {IPHl}"); _iph = false; }
            else if (ipLen < IPHl << 2) { Bad($"IP length {ipLen}"); _iph = false; }
            else if (netLen > ipLen)
            {
                // link-level padding past the IP packet
                Extra += (uint)(netLen - ipLen);
                _tailpad = netLen - (int)ipLen;
            }
            else if (carefulTrunc && (uint)netLen + Extra < ipLen)
                Bad($"truncated IP missing {ipLen - (uint)netLen - Extra}");
        }

        if (!_iph || !_tcph || (uint)NetLen <= (uint)(IPHl << 2) || IPProto != ProtoTcp || !FirstFrag)
            _tcph = false;
        else if (TrLen > 12 && (B(_th + 12) >> 4) < 5)
        {
            Bad($"TCP header length {B(_th + 12) >> 4}");
            _tcph = false;
        }

        if (!_iph || !_udph || (uint)NetLen <= (uint)(IPHl << 2) || IPProto != ProtoUdp || !FirstFrag)
            _udph = false;

        if (!_iph || !_icmph || (uint)NetLen <= (uint)(IPHl << 2) || IPProto != ProtoIcmp || !FirstFrag)
            _icmph = false;

        // Lengths are computed from the IP length from here on.
        if (_iph && Extra > 0)
        {
            uint full = (uint)NetLen + Extra;
            Extra = IPLenField != 0xFFFF || full <= 0xFFFF ? 0 : full - 0xFFFF;
        }
    }

    private static string ProtoName(int proto) => proto switch
    {
        ProtoTcp => "TCP", ProtoUdp => "UDP", ProtoIcmp => "ICMP", ProtoTcpOrUdp => "TCP/UDP", _ => "?",
    };

    /// <summary>A field that does not apply; explains why on the "!bad" line when it is a real problem.</summary>
    private bool Missing(int proto, int need)
    {
        if (_bad == null || _bad.Length != 0) return false;
        if (proto == MissingEthernet) Bad("Ethernet header");
        else if (!_iph) Bad("no IP header");
        else if (proto == MissingIP) Bad("truncated IP header capture");
        else if (NetLen > 9
                 && ((proto is > MissingIP and < 256 && IPProto != proto)
                     || (proto == ProtoTcpOrUdp && IPProto != ProtoTcp && IPProto != ProtoUdp)))
            return false; // another protocol's field: not an error
        else if (!FirstFrag) Bad($"fragmented {ProtoName(proto)} header");
        else if ((int)((uint)TrLen + Extra) >= need) Bad($"truncated {ProtoName(proto)} header capture");
        else Bad($"truncated {ProtoName(proto)} header");
        return false;
    }

    // ---------------------------------------------------------------- extraction

    private bool Extract(SummaryFieldDef f)
    {
        var p = _p;
        switch (f.Id)
        {
            case SumField.Timestamp:
            case SumField.NTimestamp:
            {
                SplitTime(p.TimestampNs, out uint sec, out uint usec);
                _v = sec;
                _u1 = usec * 1000;
                return true;
            }
            case SumField.TsSec:
            {
                SplitTime(p.TimestampNs, out uint sec, out _);
                _v = sec;
                return true;
            }
            case SumField.TsUsec:
            {
                SplitTime(p.TimestampNs, out _, out uint usec);
                _v = usec;
                return true;
            }
            case SumField.TsUsec1:
            {
                SplitTime(p.TimestampNs, out uint sec, out uint usec);
                ulong all = (ulong)sec * 1_000_000 + usec;
                // kept as the original keeps it: low word second, high word first
                _u1 = (uint)all;
                _v = (uint)(all >> 32);
                return true;
            }
            case SumField.FirstTimestamp:
            case SumField.FirstNTimestamp:
                _v = p.GetAnnoU32(AnnoOffsets.FirstTimestamp);
                _u1 = unchecked(p.GetAnnoU32(AnnoOffsets.FirstTimestamp + 4) * 1000);
                return true;
            case SumField.Count:
                _v = 1 + p.GetAnnoU32(AnnoOffsets.ExtraPackets);
                return true;
            case SumField.Link:
            case SumField.Direction:
                _v = p.PaintAnno;
                return true;
            case SumField.Aggregate:
                _v = p.GetAnnoU32(AnnoOffsets.Aggregate);
                return true;
            case SumField.WireLen:
                _v = (uint)p.Length;
                return true;

            case SumField.EthSrc:
            case SumField.EthDst:
            case SumField.EthType:
            {
                int mac;
                if (p.HasMacHeader) mac = p.MacHeaderOffset;
                else if (!p.HasNetworkHeader || p.NetworkHeaderOffset > 0) mac = 0;
                else mac = int.MinValue;
                int network = p.HasNetworkHeader ? p.NetworkHeaderOffset : p.Length;
                if (mac == int.MinValue || mac + 14 != network) return Missing(MissingEthernet, 0);
                if (f.Id == SumField.EthType) _v = BE16(mac + 12);
                else _p0 = f.Id == SumField.EthSrc ? mac + 6 : mac;
                return true;
            }

            case SumField.IPSrc: return CheckIP(16) && Set(BE32(_nh + 12));
            case SumField.IPDst: return CheckIP(20) && Set(BE32(_nh + 16));
            case SumField.IPTos: return CheckIP(2) && Set((uint)B(_nh + 1));
            case SumField.IPDscp: return CheckIP(2) && Set((uint)B(_nh + 1) >> 2);
            case SumField.IPEcn: return CheckIP(2) && Set((uint)B(_nh + 1) & 3);
            case SumField.IPTtl: return CheckIP(9) && Set((uint)B(_nh + 8));
            case SumField.IPFrag:
                if (!CheckIP(8)) return false;
                if ((IPOff & 0x3FFF) != 0) _v = FirstFrag ? 'F' : 'f';
                else _v = (IPOff & 0x4000) != 0 ? '!' : '.';
                return true;
            case SumField.IPFragOff: return CheckIP(8) && Set(IPOff);
            case SumField.IPId: return CheckIP(6) && Set(BE16(_nh + 4));
            case SumField.IPSum: return CheckIP(12) && Set(BE16(_nh + 10));
            case SumField.IPProto: return CheckIP(10) && Set((uint)IPProto);
            case SumField.IPHl: return CheckIP(1) && Set((uint)IPHl << 2);
            case SumField.IPOpt:
                if (!_iph || (IPHl > 5 && NetLen < IPHl << 2))
                    return Missing(MissingIP, _iph ? IPHl << 2 : 20);
                if (IPHl > 5)
                {
                    _p0 = _nh + 20;
                    _p1 = _nh + (IPHl << 2);
                }
                return true;
            case SumField.IPLen:
                _v = _iph ? IPLenField : (uint)Length;
                if (useExtraLength) _v += Extra;
                return true;
            case SumField.IPCaptureLen:
            {
                uint allow = (uint)(_iph ? NetLen : Length);
                uint len = _iph ? IPLenField : allow;
                _v = Math.Min(len, allow);
                return true;
            }
            case SumField.SPort:
            case SumField.DPort:
            {
                bool dport = f.Id == SumField.DPort;
                if (_iph && (uint)NetLen > (uint)(IPHl << 2) && FirstFrag
                    && IPProto is ProtoTcp or ProtoUdp or ProtoDccp or ProtoUdpLite
                    && (uint)(p.Length - p.TransportHeaderOffset - _tailpad) >= (dport ? 4u : 2u))
                {
                    _v = BE16(p.TransportHeaderOffset + (dport ? 2 : 0));
                    return true;
                }
                return Missing(ProtoTcpOrUdp, dport ? 4 : 2);
            }

            case SumField.TcpSeq: return CheckTcp(8) && Set(BE32(_th + 4));
            case SumField.TcpAck: return CheckTcp(12) && Set(BE32(_th + 8));
            case SumField.TcpFlags: return CheckTcp(14) && Set((uint)(B(_th + 13) | (B(_th + 12) & 0xF) << 8));
            case SumField.TcpOff: return CheckTcp(13) && Set((uint)(B(_th + 12) >> 4) << 2);
            case SumField.TcpWindow: return CheckTcp(16) && Set(BE16(_th + 14));
            case SumField.TcpUrp: return CheckTcp(20) && Set(BE16(_th + 18));
            case SumField.TcpOpt:
            {
                int off = B(_th + 12) >> 4;
                if (!_tcph || TrLen < 13 || (off > 5 && TrLen < off << 2))
                    return Missing(ProtoTcp, TrLen + 1);
                if (off > 5)
                {
                    _p0 = _th + 20;
                    _p1 = _th + (off << 2);
                }
                return true;
            }
            case SumField.TcpNtOpt:
            case SumField.TcpSack:
            {
                int off = B(_th + 12) >> 4;
                if (!_tcph || TrLen < 13)
                    return Missing(ProtoTcp, TrLen + 1);
                if (off <= 5 || (off == 8 && TrLen >= 24 && BE32(_th + 20) == 0x0101080A))
                    return true; // none, or only the usual timestamp
                if (TrLen < off << 2)
                    return Missing(ProtoTcp, TrLen + 1);
                _p0 = _th + 20;
                _p1 = _th + (off << 2);
                return true;
            }

            case SumField.UdpLen:
                if (!_udph || TrLen < 6) return Missing(ProtoUdp, 6);
                _v = BE16(_th + 4);
                return true;

            case SumField.IcmpType:
            case SumField.IcmpTypeName:
                return CheckIcmp(1) && Set((uint)B(_th));
            case SumField.IcmpCode:
            case SumField.IcmpCodeName:
                return CheckIcmp(2) && Set((uint)B(_th + 1));
            case SumField.IcmpFlowId:
            case SumField.IcmpSeq:
            {
                if (!CheckIcmp(1)) return false;
                int type = B(_th);
                if (type >= 32 || (IcmpHaveFlow & (1u << type)) == 0) return false;
                bool seq = f.Id == SumField.IcmpSeq;
                if (!CheckIcmp(seq ? 8 : 6)) return false;
                _v = BE16(_th + (seq ? 6 : 4));
                return true;
            }
            case SumField.IcmpNextMtu:
                if (!CheckIcmp(2)) return false;
                if (B(_th) != SummaryText.IcmpUnreach || B(_th + 1) != 4) return false;
                return CheckIcmp(8) && Set(BE16(_th + 6));

            case SumField.PayloadLen:
            case SumField.Payload:
            case SumField.PayloadMd5:
            case SumField.PayloadMd5Hex:
            {
                PayloadRange(out int off, out uint len);
                _u1 = (uint)off;
                _v = len;
                if (f.Id == SumField.PayloadLen)
                {
                    if (!_iph || useExtraLength) _v += Extra;
                    return true;
                }
                return _v == 0 || (uint)off < (uint)p.Length;
            }
        }
        return false;
    }

    private bool Set(uint v)
    {
        _v = v;
        return true;
    }

    private bool CheckIP(int need) => (_iph && NetLen >= need) || Missing(MissingIP, need);
    private bool CheckTcp(int need) => (_tcph && TrLen >= need) || Missing(ProtoTcp, need);
    private bool CheckIcmp(int need) => (_icmph && TrLen >= need) || Missing(ProtoIcmp, need);

    /// <summary>Where the payload most likely starts and how long the IP length says it is.</summary>
    private void PayloadRange(out int off, out uint len)
    {
        var p = _p;
        if (_iph)
        {
            len = IPLenField;
            off = p.TransportHeaderOffset;
            if (FirstFrag)
            {
                switch (IPProto)
                {
                    case ProtoTcp:
                        int thOff = B(off + 12) >> 4;
                        off += p.Length - p.TransportHeaderOffset - _tailpad >= 13 && thOff << 2 >= 20 ? thOff << 2 : 20;
                        break;
                    case ProtoUdp:
                    case ProtoUdpLite:
                        off += 8;
                        break;
                }
            }
            len = unchecked(len - (uint)(off - _nh));
        }
        else
        {
            off = 0;
            len = (uint)(p.Length - _tailpad);
        }
    }

    /// <summary>The payload bytes the packet actually holds (never past its end).</summary>
    private ReadOnlySpan<byte> PayloadBytes()
    {
        int off = (int)_u1;
        uint len = _v;
        if (unchecked((uint)off + len) > (uint)Length) len = unchecked((uint)(Length - off));
        if (off < 0 || off > _p.Length) return default;
        long n = Math.Min(len, (long)_p.Length - off);
        return _p.Data.Slice(off, (int)Math.Max(0, n));
    }

    private static void SplitTime(long ns, out uint sec, out uint usec)
    {
        long s = Math.DivRem(ns, 1_000_000_000, out long sub);
        if (sub < 0) { s--; sub += 1_000_000_000; }
        sec = unchecked((uint)s);
        usec = (uint)(sub / 1000);
    }

    // ---------------------------------------------------------------- output

    private void AppendTimestamp(uint sec, uint nsec)
    {
        long s = unchecked((int)sec) + nsec / 1_000_000_000;
        uint usec = nsec % 1_000_000_000 / 1000;
        if (s < 0) { _sa.Append('-'); s = -s; }
        _sa.Append((ulong)s);
        _sa.Append('.');
        for (uint div = 100_000; div > 0; div /= 10) _sa.Append((byte)('0' + usec / div % 10));
    }

    private void AppendDotted(uint a)
    {
        _sa.Append(a >> 24); _sa.Append('.'); _sa.Append((a >> 16) & 255); _sa.Append('.');
        _sa.Append((a >> 8) & 255); _sa.Append('.'); _sa.Append(a & 255);
    }

    private const string TcpFlagChars = "FSRPAUECN";

    private void AppendHex(int v, int digits, bool upper)
    {
        string d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4) _sa.Append(d[(v >> shift) & 0xF]);
    }

    private void WriteText(SummaryFieldDef f)
    {
        var sa = _sa;
        switch (f.Id)
        {
            case SumField.Timestamp:
            case SumField.NTimestamp:
            case SumField.FirstTimestamp:
            case SumField.FirstNTimestamp:
                AppendTimestamp(_v, _u1);
                break;
            case SumField.TsUsec1:
                sa.Append((ulong)_u1 << 32 | _v);
                break;
            case SumField.Direction:
                if (_v == 0) sa.Append('>');
                else if (_v == 1) sa.Append('<');
                else sa.Append(_v);
                break;
            case SumField.EthSrc:
            case SumField.EthDst:
                for (int i = 0; i < 6; i++)
                {
                    if (i > 0) sa.Append('-');
                    AppendHex(B(_p0 + i), 2, upper: true);
                }
                break;
            case SumField.EthType:
                AppendHex((int)_v, 4, upper: true);
                break;
            case SumField.IPSrc:
            case SumField.IPDst:
                AppendDotted(_v);
                break;
            case SumField.IPFrag:
                sa.Append((byte)_v);
                break;
            case SumField.IPFragOff:
                sa.Append((_v & 0x1FFF) << 3);
                if ((_v & 0x2000) != 0) sa.Append('+');
                if ((_v & 0x4000) != 0) sa.Append('!');
                break;
            case SumField.IPProto:
                if (_v == ProtoTcp) sa.Append('T');
                else if (_v == ProtoUdp) sa.Append('U');
                else if (_v == ProtoIcmp) sa.Append('I');
                else sa.Append(_v);
                break;
            case SumField.IPEcn:
                sa.Append(_v switch { 0 => "no", 1 => "ect1", 2 => "ect2", _ => "ce" });
                break;
            case SumField.IPOpt:
                if (_p0 == NoPtr) sa.Append('.');
                else SummaryOptions.IPText(sa, _p.BufferSpan, _p.Headroom + _p0, _p.Headroom + _p1, SummaryOptions.IPAllNoPad);
                break;
            case SumField.TcpFlags:
                if (_v == 0x18) sa.Append("PA");
                else if (_v == 0x10) sa.Append('A');
                else if (_v == 0) sa.Append('.');
                else
                    for (int bit = 0; bit < 9; bit++)
                        if ((_v & (1u << bit)) != 0) sa.Append(TcpFlagChars[bit]);
                break;
            case SumField.TcpOpt:
            case SumField.TcpNtOpt:
            case SumField.TcpSack:
                if (_p0 == NoPtr || _p0 == _p1) sa.Append('.');
                else SummaryOptions.TcpText(sa, _p.BufferSpan, _p.Headroom + _p0, _p.Headroom + _p1, TcpMask(f.Id));
                break;
            case SumField.IcmpTypeName:
                if (SummaryText.IcmpTypeName(_v) is { } tn) sa.Append(tn);
                else sa.Append(_v);
                break;
            case SumField.IcmpCodeName:
                if (SummaryText.IcmpCodeName(B(_th), _v) is { } cn) sa.Append(cn);
                else sa.Append(_v);
                break;
            case SumField.Payload:
                SummaryText.AppendQuoted(sa, PayloadBytes());
                break;
            case SumField.PayloadMd5:
            case SumField.PayloadMd5Hex:
            {
                Span<byte> digest = stackalloc byte[16];
                Md5.Hash(PayloadBytes(), digest);
                if (f.Id == SumField.PayloadMd5Hex)
                    foreach (byte b in digest) AppendHex(b, 2, upper: false);
                else
                    Md5.TextDigest(digest, sa);
                break;
            }
            default:
                sa.Append(_v);
                break;
        }
    }

    private static uint TcpMask(SumField id) => id switch
    {
        SumField.TcpOpt => SummaryOptions.TcpAllNoPad,
        SumField.TcpNtOpt => SummaryOptions.TcpNonTimestamp,
        _ => SummaryOptions.TcpSack,
    };

    private void WriteBinary(SummaryFieldDef f, bool ok)
    {
        var sa = _sa;
        switch (f.Id)
        {
            case SumField.Timestamp:
            case SumField.FirstTimestamp:
                sa.AppendBE32(_v);
                sa.AppendBE32(_u1 / 1000);
                return;
            case SumField.EthSrc:
            case SumField.EthDst:
                for (int i = 0; i < 6; i++) sa.Append((byte)(_p0 == NoPtr ? 0 : B(_p0 + i)));
                return;
            case SumField.IPOpt:
                if (!ok || _p0 == NoPtr) sa.Append((byte)0);
                else SummaryOptions.IPBinary(sa, _p.BufferSpan, _p.Headroom + _p0, _p.Headroom + _p1, SummaryOptions.IPAll);
                return;
            case SumField.TcpOpt:
            case SumField.TcpNtOpt:
            case SumField.TcpSack:
                if (!ok || _p0 == NoPtr || _p0 == _p1) sa.Append((byte)0);
                else SummaryOptions.TcpBinary(sa, _p.BufferSpan, _p.Headroom + _p0, _p.Headroom + _p1, f.Id == SumField.TcpOpt ? SummaryOptions.TcpAll : TcpMask(f.Id));
                return;
            case SumField.PayloadMd5:
            case SumField.PayloadMd5Hex:
            {
                Span<byte> digest = stackalloc byte[16];
                Md5.Hash(PayloadBytes(), digest);
                sa.Append(digest);
                return;
            }
        }
        switch (f.Bin)
        {
            case BinKind.B1: sa.Append((byte)_v); break;
            case BinKind.B2: sa.AppendBE16(_v & 0xFFFF); break;
            case BinKind.B4:
            case BinKind.B4Net: sa.AppendBE32(_v); break;
            case BinKind.B8: sa.AppendBE32(_u1); sa.AppendBE32(_v); break;
        }
    }
}
