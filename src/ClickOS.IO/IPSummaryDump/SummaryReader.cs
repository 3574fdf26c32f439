using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// A packet under construction: a zero-filled buffer with a data window and link, network and
/// transport header positions (absolute indexes; -1 = unset). Writes past the data end land in
/// the buffer without lengthening the packet, and growing the packet does not clear what is
/// already in the buffer, so the bytes a record produces match the original's.
/// </summary>
internal sealed class PacketBuilder
{
    public const int InitialHeadroom = 16;
    public byte[] Buf = new byte[InitialHeadroom + 1024];
    public int Data, Len, Mac, Nh, Th;

    // annotations
    public long TsSec;
    public long TsUsec;
    public int FirstSec;
    public uint FirstUsec;
    public uint ExtraPackets, Aggregate;
    public byte Paint;

    public PacketBuilder() => Reset();

    public void Reset()
    {
        Array.Clear(Buf);
        Data = InitialHeadroom;
        Len = 0;
        Mac = Nh = Th = -1;
        TsSec = TsUsec = 0;
        FirstSec = 0;
        FirstUsec = 0;
        ExtraPackets = Aggregate = 0;
        Paint = 0;
    }

    public int End => Data + Len;
    public int NetLen => End - Nh;
    /// <summary>Transport length; "large" when no transport header was ever set.</summary>
    public int TrLen => Th < 0 ? int.MaxValue : End - Th;
    public int NhOff => Nh - Data;
    public int ThOff => Th - Data;

    private void Ensure(int size)
    {
        if (size > Buf.Length) Array.Resize(ref Buf, Math.Max(size, Buf.Length * 2));
    }

    public int this[int i]
    {
        get => (uint)i < (uint)Buf.Length ? Buf[i] : 0;
        set
        {
            if (i < 0) return;
            Ensure(i + 1);
            Buf[i] = (byte)value;
        }
    }

    public uint BE16(int i) => (uint)(this[i] << 8 | this[i + 1]);
    public uint BE32(int i) => (uint)(this[i] << 24 | this[i + 1] << 16 | this[i + 2] << 8 | this[i + 3]);
    public void SetBE16(int i, uint v) { this[i] = (byte)(v >> 8); this[i + 1] = (byte)v; }
    public void SetBE32(int i, uint v) { SetBE16(i, v >> 16); SetBE16(i + 2, v); }

    public void Fill(int start, int count, byte value)
    {
        if (count <= 0 || start < 0) return;
        Ensure(start + count);
        Buf.AsSpan(start, count).Fill(value);
    }

    public void Copy(int start, ReadOnlySpan<byte> bytes)
    {
        if (start < 0) return;
        Ensure(start + bytes.Length);
        bytes.CopyTo(Buf.AsSpan(start));
    }

    /// <summary>Lengthens the data by <paramref name="n"/> bytes (whatever the buffer holds there).</summary>
    public void Put(int n)
    {
        if (n <= 0) return;
        Ensure(End + n);
        Len += n;
    }

    public void Take(int n) => Len -= Math.Clamp(n, 0, Len);

    /// <summary>Prepends a link header; the network header follows it.</summary>
    public void PushMac(int n)
    {
        if (Data < n)
        {
            var nb = new byte[Buf.Length + n];
            Buf.AsSpan().CopyTo(nb.AsSpan(n));
            Buf = nb;
            Data += n;
            if (Nh >= 0) Nh += n;
            if (Th >= 0) Th += n;
        }
        Data -= n;
        Len += n;
        Mac = Data;
        Nh = Data + n;
    }

    public void SetNetworkHeader(int nh, int length)
    {
        Nh = nh;
        Th = nh + length;
    }

    public void MoveWithin(int from, int to, int count)
    {
        if (count <= 0) return;
        Ensure(Math.Max(from, to) + count);
        Buf.AsSpan(from, count).CopyTo(Buf.AsSpan(to, count));
    }
}

/// <summary>
/// Builds packets from IP summary dump records (text lines or binary records) for one
/// "!data" field list: each field is parsed, then applied in protocol order (annotations,
/// link, IP, transport, payload), creating the headers it needs with Click's defaults
/// (IPv4, TTL 100, the default protocol). Then the IP and UDP lengths are filled in and,
/// when asked, the packet is padded to its IP length and its checksums set.
/// </summary>
internal sealed class SummaryReader
{
    private const int ProtoIcmp = 1, ProtoTcp = 6, ProtoUdp = 17, ProtoDccp = 33, ProtoUdpLite = 136;
    private const uint IcmpHaveFlow = (1u << 8) | (1u << 0) | (1u << 15) | (1u << 16) | (1u << 13) | (1u << 14);

    public readonly PacketBuilder P = new();
    private SummaryFieldDef[] _fields = [];
    private int[] _order = [];

    public int DefaultProto = ProtoTcp;
    public bool HaveFlowId;
    public int MinorVersion = 3;
    public bool Checksum;
    public bool Zero = true;

    // per record (Click's PacketOdesc)
    private bool _isIp, _haveIcmpType, _haveIcmpCode, _haveIPHl, _haveTcpHl;
    public uint WantLen;
    private uint _v, _u1;
    private byte[]? _bytes;
    private readonly byte[] _u8 = new byte[6];

    public int FieldCount => _fields.Length;

    public void SetFields(List<SummaryFieldDef> fields)
    {
        _fields = [.. fields];
        _order = [.. Enumerable.Range(0, _fields.Length).OrderBy(i => _fields[i].Order).ThenBy(i => i)];
    }

    /// <summary>Fills <see cref="P"/> from one record; false when no field could be used.</summary>
    public bool Build(ReadOnlySpan<byte> record, bool binary)
    {
        P.Reset();
        _isIp = true;
        _haveIcmpType = _haveIcmpCode = _haveIPHl = _haveTcpHl = false;
        WantLen = 0;
        int used = 0;

        if (binary)
        {
            var starts = new int[_fields.Length];
            int pos = 0;
            for (int i = 0; i < _fields.Length; i++)
            {
                var f = _fields[i];
                int n = f.BinarySize;
                if (f.Bin == BinKind.Special && f.BinaryInput)
                {
                    starts[i] = pos;
                    pos = SpecialEnd(record, pos);
                }
                else if (n >= 0 && f.BinaryInput && f.Bin != BinKind.B16 && pos + n <= record.Length)
                {
                    starts[i] = pos;
                    pos += n;
                }
                else
                {
                    starts[i] = -1;
                    pos = record.Length;
                }
            }
            foreach (int i in _order)
            {
                if (starts[i] < 0 || _fields[i].Id == SumField.None) continue;
                Clear();
                ReadBinaryValue(_fields[i], record, starts[i]);
                Inject(_fields[i]);
                used++;
            }
        }
        else
        {
            var args = new string[_fields.Length];
            int pos = 0;
            for (int i = 0; i < _fields.Length; i++)
            {
                int start = pos;
                while (pos < record.Length && !IsSpace(record[pos]))
                    pos = record[pos] == '"' ? SummaryText.SkipDoubleQuote(record, pos) : pos + 1;
                args[i] = Encoding.Latin1.GetString(record[start..pos]);
                while (pos < record.Length && IsSpace(record[pos])) pos++;
            }
            foreach (int i in _order)
            {
                string a = args[i];
                if (a.Length == 0 || a == "-" || _fields[i].Id == SumField.None) continue;
                Clear();
                if (ParseText(_fields[i], a))
                {
                    Inject(_fields[i]);
                    used++;
                }
            }
        }
        if (used == 0) return false;

        // With a flow ID, every packet gets an IP header.
        if (HaveFlowId) MakeIP(0);
        if (_isIp && P.Nh >= 0) MakeTransp();
        if (_isIp && P.Nh >= 0) FinishIP();
        return true;
    }

    public static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private void Clear()
    {
        _v = _u1 = 0;
        _bytes = null;
        Array.Clear(_u8);
    }

    // ---------------------------------------------------------------- parsing values

    private static bool Num(string s, BinKind bin, out uint v)
    {
        if (!SummaryText.TryParseUInt(s, out v)) return false;
        return bin switch { BinKind.B1 => v <= 255, BinKind.B2 => v <= 65535, _ => true };
    }

    private bool ParseText(SummaryFieldDef f, string s)
    {
        switch (f.Id)
        {
            case SumField.Timestamp:
            case SumField.NTimestamp:
            case SumField.FirstTimestamp:
            case SumField.FirstNTimestamp:
                return SummaryText.TryParseTime(s, out _v, out _u1);
            case SumField.Link:
            case SumField.Direction:
                if (s == ">") { _v = 0; return true; }
                if (s == "<") { _v = 1; return true; }
                return SummaryText.TryParseUInt(s, out _v);
            case SumField.TsUsec1:
            {
                if (!SummaryText.TryParseUInt64(s, out ulong v)) return false;
                _v = (uint)v;
                _u1 = (uint)(v >> 32);
                return true;
            }
            case SumField.EthSrc:
            case SumField.EthDst:
                if (!Values.ParseEther(s, out var mac)) return false;
                mac.CopyTo(_u8, 0);
                return true;
            case SumField.EthType:
            {
                if (s.Length == 0 || s.Length > 8 || !uint.TryParse(s, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out _v))
                    return false;
                return _v < 65536;
            }
            case SumField.IPSrc:
            case SumField.IPDst:
                return Values.ParseIPv4(s, out _v);
            case SumField.IPFrag:
            case SumField.IPFragOff:
                return ParseFragment(s);
            case SumField.IPProto:
                if (s == "T") { _v = ProtoTcp; return true; }
                if (s == "U") { _v = ProtoUdp; return true; }
                if (s == "I") { _v = ProtoIcmp; return true; }
                return SummaryText.TryParseUInt(s, out _v) && _v < 256;
            case SumField.IPEcn:
                switch (s)
                {
                    case "0" or "1" or "2" or "3": _v = (uint)(s[0] - '0'); return true;
                    case "no" or "-": _v = 0; return true;
                    case "ect1" or "ECT(1)": _v = 1; return true;
                    case "ect2" or "ECT(0)": _v = 2; return true;
                    case "ce" or "CE": _v = 3; return true;
                }
                return false;
            case SumField.IPOpt:
                return SummaryOptions.ParseIP(s, out _bytes);
            case SumField.TcpFlags:
                return ParseTcpFlags(s);
            case SumField.TcpOpt:
                return SummaryOptions.ParseTcp(s, SummaryOptions.TcpAll, out _bytes);
            case SumField.TcpNtOpt:
                return SummaryOptions.ParseTcp(s, SummaryOptions.TcpNonTimestamp, out _bytes);
            case SumField.TcpSack:
                return SummaryOptions.ParseTcp(s, SummaryOptions.TcpSack, out _bytes);
            case SumField.IcmpType:
            case SumField.IcmpTypeName:
                return SummaryText.ParseIcmpType(s, out _v) && _v < 256;
            case SumField.IcmpCode:
            case SumField.IcmpCodeName:
                if (_haveIcmpType)
                    return SummaryText.ParseIcmpCode(P[P.Th], s, out _v) && _v < 256;
                return SummaryText.TryParseUInt(s, out _v) && _v < 256;
            case SumField.Payload:
                if (!SummaryText.TryParseString(Encoding.Latin1.GetBytes(s), out var data)) return false;
                _bytes = data;
                return true;
            default:
                return Num(s, f.Bin, out _v);
        }
    }

    /// <summary>'.', '!', 'F', 'f', or an offset (bytes; 8-byte units in 1.0 dumps) with '+' (MF) and '!' (DF).</summary>
    private bool ParseFragment(string s)
    {
        if (s.Length == 1)
        {
            switch (s[0])
            {
                case '.': _v = 0; return true;
                case '!': _v = 0x4000; return true;
                case 'F': _v = 0x2000; return true;
                case 'f': _v = 100; return true;
            }
        }
        var b = Encoding.Latin1.GetBytes(s).AsSpan();
        int i = SummaryText.ScanUInt(b, 0, 0, out uint v);
        _v = i == 0 ? 0 : v;
        if (MinorVersion > 0) _v >>= 3;
        for (; i < b.Length; i++)
        {
            if (b[i] == '!') _v |= 0x4000;
            else if (b[i] == '+') _v |= 0x2000;
            else break;
        }
        return i == b.Length && b.Length > 0;
    }

    private bool ParseTcpFlags(string s)
    {
        if (s == ".") { _v = 0; return true; }
        if (s.Length == 0) return false;
        if (char.IsAsciiDigit(s[0]))
            return SummaryText.TryParseUInt(s, out _v) && _v < 0x1000;
        _v = 0;
        foreach (char c in s)
        {
            int bit = c switch
            {
                'F' => 0, 'S' => 1, 'R' => 2, 'P' => 3, 'A' => 4, 'U' => 5, 'E' or 'X' => 6, 'C' or 'W' or 'Y' => 7, 'N' => 8,
                _ => -1,
            };
            if (bit < 0) return false;
            _v |= 1u << bit;
        }
        return true;
    }

    private static int SpecialEnd(ReadOnlySpan<byte> rec, int pos) =>
        pos < rec.Length && pos + rec[pos] + 1 <= rec.Length ? pos + rec[pos] + 1 : rec.Length;

    private static uint Get32(ReadOnlySpan<byte> r, int i) => (uint)(r[i] << 24 | r[i + 1] << 16 | r[i + 2] << 8 | r[i + 3]);

    private void ReadBinaryValue(SummaryFieldDef f, ReadOnlySpan<byte> r, int s)
    {
        int left = r.Length - s;
        if (f.Bin == BinKind.Special)
        {
            if (left > 0 && s + r[s] + 1 <= r.Length)
                _bytes = r.Slice(s + 1, r[s]).ToArray();
            return;
        }
        if (f.Id is SumField.Timestamp or SumField.FirstTimestamp)
        {
            // seconds, then microseconds
            if (left < 8) return;
            _v = Get32(r, s);
            _u1 = unchecked(Get32(r, s + 4) * 1000);
            return;
        }
        switch (f.Bin)
        {
            case BinKind.B1: if (left >= 1) _v = r[s]; break;
            case BinKind.B2: if (left >= 2) _v = (uint)(r[s] << 8 | r[s + 1]); break;
            case BinKind.B4:
            case BinKind.B4Net: if (left >= 4) _v = Get32(r, s); break;
            case BinKind.B6: if (left >= 6) r.Slice(s, 6).CopyTo(_u8); break;
            case BinKind.B8:
                if (left >= 8) { _u1 = Get32(r, s); _v = Get32(r, s + 4); }
                break;
        }
    }

    // ---------------------------------------------------------------- header creation

    private int IPProto => P[P.Nh + 9];
    private bool FirstFrag => (P.BE16(P.Nh + 6) & 0x1FFF) == 0;

    /// <summary>Ensures an IP header exists; false if this is not IP or the header names another protocol.</summary>
    private bool MakeIP(int proto)
    {
        if ((!_isIp || P.Nh < 0 || P.NetLen < 20) && !HardMakeIP()) return false;
        int cur = IPProto;
        return proto == 0 || cur == 0 || cur == proto;
    }

    private bool HardMakeIP()
    {
        if (!_isIp) return false;
        if (P.Nh < 0) P.SetNetworkHeader(P.Data, 0);
        if (P.NetLen < 20)
        {
            P.Put(20 - P.NetLen);
            P.SetNetworkHeader(P.Nh, 20);
            int nh = P.Nh;
            P[nh] = 0x45;
            P[nh + 9] = DefaultProto;
            P.SetBE16(nh + 2, 0);
            P.SetBE16(nh + 6, 0);
            P[nh + 8] = 100;
            if (HaveFlowId)
            {
                // The original's flow ID default is never filled in from !flowid: zeros.
                P.SetBE32(nh + 12, 0);
                P.SetBE32(nh + 16, 0);
            }
        }
        return true;
    }

    /// <summary>Ensures a transport header for the protocol (assumes an IP header); false for later fragments.</summary>
    private bool MakeTransp()
    {
        if (!FirstFrag) return false;
        return P.TrLen >= 8 || HardMakeTransp();
    }

    private bool HardMakeTransp()
    {
        if (!FirstFrag) return true;
        int len;
        switch (IPProto)
        {
            case ProtoTcp: len = 20; break;
            case ProtoUdp:
            case ProtoUdpLite: len = 8; break;
            case ProtoDccp: len = 12; break;
            case ProtoIcmp: len = 8; break;
            default: return true;
        }
        if (WantLen > 0 && WantLen < (uint)(P.ThOff + len))
            len = (int)WantLen - P.ThOff;
        if (P.TrLen < len)
        {
            int xlen = Math.Max(len, 4);
            P.Put(xlen - P.TrLen);
            if (IPProto == ProtoTcp && len >= 13)
                P[P.Th + 12] = (P[P.Th + 12] & 0x0F) | 0x50;
            if (HaveFlowId)
            {
                P.SetBE16(P.Th, 0);
                P.SetBE16(P.Th + 2, 0);
            }
            if (xlen > len) P.Take(xlen - len);
        }
        return true;
    }

    // ---------------------------------------------------------------- applying values

    private void Inject(SummaryFieldDef f)
    {
        switch (f.Id)
        {
            case SumField.Timestamp:
            case SumField.NTimestamp:
                P.TsSec = _v;
                P.TsUsec = _u1 / 1000;
                return;
            case SumField.TsSec: P.TsSec = _v; return;
            case SumField.TsUsec: P.TsUsec = _v; return;
            case SumField.TsUsec1:
            {
                ulong all = (ulong)_u1 << 32 | _v;
                P.TsSec = (long)(all / 1_000_000);
                P.TsUsec = (long)(all % 1_000_000);
                return;
            }
            case SumField.FirstTimestamp:
            case SumField.FirstNTimestamp:
                P.FirstSec = unchecked((int)_v);
                P.FirstUsec = _u1 / 1000;
                return;
            case SumField.Count: P.ExtraPackets = _v != 0 ? _v - 1 : 0; return;
            case SumField.Link:
            case SumField.Direction: P.Paint = (byte)_v; return;
            case SumField.Aggregate: P.Aggregate = _v; return;
            case SumField.WireLen: WantLen = _v; return;

            case SumField.EthSrc:
            case SumField.EthDst:
            case SumField.EthType:
                if (P.Mac < 0)
                {
                    P.PushMac(14);
                    P.SetBE16(P.Mac + 12, 0x0800);
                }
                if (f.Id == SumField.EthSrc) P.Copy(P.Mac + 6, _u8);
                else if (f.Id == SumField.EthDst) P.Copy(P.Mac, _u8);
                else
                {
                    P.SetBE16(P.Mac + 12, _v);
                    if (_v != 0x0800 && _v != 0x86DD) _isIp = false;
                }
                return;

            case SumField.SPort:
            case SumField.DPort:
                if (!MakeIP(0) || !MakeTransp()) return;
                if (IPProto != 0 && IPProto is not (ProtoTcp or ProtoUdp or ProtoDccp or ProtoUdpLite)) return;
                P.SetBE16(P.Th + (f.Id == SumField.DPort ? 2 : 0), _v);
                return;

            case SumField.TcpSeq:
            case SumField.TcpAck:
            case SumField.TcpOff:
            case SumField.TcpFlags:
            case SumField.TcpWindow:
            case SumField.TcpUrp:
            case SumField.TcpOpt:
            case SumField.TcpNtOpt:
            case SumField.TcpSack:
                InjectTcp(f.Id);
                return;

            case SumField.UdpLen:
                if (!MakeIP(0) || !MakeTransp()) return;
                if (IPProto != 0 && IPProto != ProtoUdp && IPProto != ProtoUdpLite) return;
                if (P.TrLen < 8) P.Put(8 - P.TrLen);
                P.SetBE16(P.Th + 4, _v);
                return;

            case SumField.IcmpType:
            case SumField.IcmpTypeName:
            case SumField.IcmpCode:
            case SumField.IcmpCodeName:
            case SumField.IcmpFlowId:
            case SumField.IcmpSeq:
            case SumField.IcmpNextMtu:
                InjectIcmp(f.Id);
                return;

            case SumField.Payload:
            case SumField.PayloadLen:
                InjectPayload(f.Id);
                return;

            default:
                InjectIP(f.Id);
                return;
        }
    }

    private void InjectIP(SumField id)
    {
        if (!MakeIP(0)) return;
        int nh = P.Nh;
        switch (id)
        {
            case SumField.IPSrc: P.SetBE32(nh + 12, _v); break;
            case SumField.IPDst: P.SetBE32(nh + 16, _v); break;
            case SumField.IPTos: P[nh + 1] = (byte)_v; break;
            case SumField.IPDscp: P[nh + 1] = (P[nh + 1] & 0x03) | (int)((_v << 2) & 0xFC); break;
            case SumField.IPEcn: P[nh + 1] = (P[nh + 1] & 0xFC) | (int)(_v & 0x03); break;
            case SumField.IPTtl: P[nh + 8] = (byte)_v; break;
            case SumField.IPFrag:
            case SumField.IPFragOff: P.SetBE16(nh + 6, _v & 0xFFFF); break;
            case SumField.IPId: P.SetBE16(nh + 4, _v & 0xFFFF); break;
            case SumField.IPSum: P.SetBE16(nh + 10, _v & 0xFFFF); break;
            case SumField.IPProto: P[nh + 9] = (byte)_v; break;
            case SumField.IPOpt:
            {
                _haveIPHl = true;
                if (_bytes == null) return;
                int olen = _bytes.Length;
                int hl = (20 + olen + 3) & ~3;
                if (P.NetLen < hl) P.Put(hl - P.NetLen);
                if (hl > (P[nh] & 0xF) << 2)
                {
                    P.SetNetworkHeader(nh, hl);
                    P[nh] = (P[nh] & 0xF0) | ((hl >> 2) & 0xF);
                }
                P.Copy(nh + 20, _bytes);
                // the original pads hl - olen bytes, reaching past the header
                P.Fill(nh + 20 + olen, hl - olen, 0);
                break;
            }
            case SumField.IPHl:
            {
                _haveIPHl = true;
                uint v = (_v + 3) & ~3u;
                int cur = (P[nh] & 0xF) << 2;
                if ((int)v > cur)
                {
                    int more = (int)v - cur;
                    P.Put(more);
                    P.SetNetworkHeader(nh, (int)v);
                    P.Fill(P.Th - more, more, 0);
                }
                P[nh] = (P[nh] & 0xF0) | (int)((v >> 2) & 0xF);
                break;
            }
            case SumField.IPLen:
                WantLen = unchecked((uint)P.NhOff + _v);
                break;
            case SumField.IPCaptureLen:
                break; // capture length is ignored on input
        }
    }

    private void InjectTcp(SumField id)
    {
        if (!MakeIP(ProtoTcp) || !MakeTransp()) return;
        int th = P.Th;
        switch (id)
        {
            case SumField.TcpSeq: P.SetBE32(th + 4, _v); break;
            case SumField.TcpAck: P.SetBE32(th + 8, _v); break;
            case SumField.TcpFlags:
                P[th + 13] = (byte)_v;
                P[th + 12] = (P[th + 12] & 0xF0) | (int)((_v >> 8) & 0xF);
                break;
            case SumField.TcpOff:
            {
                uint v = (_v + 3) & ~3u;
                int cur = (P[th + 12] >> 4) << 2;
                if ((int)v > cur)
                {
                    int more = (int)v - cur;
                    P.Put(more);
                    P.Fill(th + (int)v - more, more, 0);
                }
                P[th + 12] = (P[th + 12] & 0x0F) | (int)(((v >> 2) & 0xF) << 4);
                break;
            }
            case SumField.TcpWindow: P.SetBE16(th + 14, _v); break;
            case SumField.TcpUrp: P.SetBE16(th + 18, _v); break;
            default:
            {
                _haveTcpHl = true;
                if (_bytes == null || _bytes.Length == 0) return;
                int olen = _bytes.Length;
                int off = (20 + olen + 3) & ~3;
                if (P.TrLen < off) P.Put(off - P.TrLen);
                if (off > (P[th + 12] >> 4) << 2)
                    P[th + 12] = (P[th + 12] & 0x0F) | ((off >> 2) << 4 & 0xF0);
                P.Copy(th + 20, _bytes);
                P.Fill(th + 20 + olen, off - olen, 0);
                break;
            }
        }
    }

    private void InjectIcmp(SumField id)
    {
        if (!MakeIP(ProtoIcmp) || !MakeTransp()) return;
        if (P.TrLen < 8) P.Put(8 - P.TrLen);
        int th = P.Th;
        switch (id)
        {
            case SumField.IcmpType:
            case SumField.IcmpTypeName:
            {
                P[th] = (byte)_v;
                _haveIcmpType = true;
                int len = _v is SummaryText.IcmpTstamp or SummaryText.IcmpTstampReply ? 20 : 8;
                if (P.TrLen < len) P.Put(len - P.TrLen);
                break;
            }
            case SumField.IcmpCode:
            case SumField.IcmpCodeName:
                P[th + 1] = (byte)_v;
                _haveIcmpCode = true;
                break;
            case SumField.IcmpFlowId:
            case SumField.IcmpSeq:
            {
                int type = P[th];
                if (!_haveIcmpType || (type < 32 && (IcmpHaveFlow & (1u << type)) != 0))
                {
                    if (P.TrLen < 8) P.Put(8 - P.TrLen);
                    P.SetBE16(th + (id == SumField.IcmpSeq ? 6 : 4), _v);
                }
                break;
            }
            case SumField.IcmpNextMtu:
                if ((!_haveIcmpType || P[th] == SummaryText.IcmpUnreach) && (!_haveIcmpCode || P[th + 1] == 4))
                {
                    if (P.TrLen < 8) P.Put(8 - P.TrLen);
                    P.SetBE16(th + 6, _v);
                }
                break;
        }
    }

    /// <summary>Where payload starts (from the data start) given the headers built so far.</summary>
    private int PayloadOffset()
    {
        if (!_isIp || P.Nh < 0) return 0;
        int off = P.ThOff;
        if (FirstFrag)
        {
            switch (IPProto)
            {
                case ProtoTcp:
                    int thOff = P[P.Th + 12] >> 4;
                    off += P.TrLen >= 13 && thOff << 2 >= 20 ? thOff << 2 : 20;
                    break;
                case ProtoUdp:
                case ProtoUdpLite:
                    off += 8;
                    break;
            }
        }
        return off;
    }

    private void InjectPayload(SumField id)
    {
        if (MakeIP(0)) MakeTransp();
        int off = PayloadOffset();
        if (id == SumField.Payload)
        {
            if (_bytes == null || _bytes.Length == 0) return;
            uint plen = (uint)_bytes.Length;
            AccountPayload(off, plen);
            if (unchecked((uint)(P.Len - off)) < plen)
                P.Put((int)(plen - (uint)(P.Len - off)));
            P.Copy(P.Data + off, _bytes);
        }
        else
            AccountPayload(off, _v);
    }

    /// <summary>
    /// Reconciles a payload length with the IP length: sets the wanted length if none is known,
    /// otherwise treats a shortfall as TCP and then IP option space (filled with EOL).
    /// </summary>
    private void AccountPayload(int off, uint plen)
    {
        if (!_isIp || (P.BE16(P.Nh + 2) == 0 && WantLen == 0))
        {
            WantLen = unchecked((uint)off + plen);
            return;
        }
        uint fieldLen = P.BE16(P.Nh + 2);
        uint ipLen = unchecked((fieldLen != 0 ? fieldLen : WantLen) + (uint)P.NhOff);
        int delta = unchecked((int)(ipLen - ((uint)off + plen)));

        if (delta > 0 && FirstFrag && IPProto == ProtoTcp && !_haveTcpHl && P.Th >= 0 && (P[P.Th + 12] >> 4) == 5)
        {
            int thDelta = delta - (delta & 3);
            if (thDelta + 20 > 60) thDelta = 40;
            P.Put(thDelta);
            int tx = P.Th + 20;
            P.MoveWithin(tx, tx + thDelta, P.End - (tx + thDelta));
            P.Fill(tx, thDelta, 0);
            P[P.Th + 12] = (P[P.Th + 12] & 0x0F) | (((20 + thDelta) >> 2) << 4 & 0xF0);
            delta -= thDelta;
        }

        if (delta > 0 && !_haveIPHl && (P[P.Nh] & 0xF) == 5)
        {
            int ipDelta = delta - (delta & 3);
            if (ipDelta + 20 > 60) ipDelta = 40;
            P.Put(ipDelta);
            int nx = P.Nh + 20;
            P.MoveWithin(nx, nx + ipDelta, P.End - (nx + ipDelta));
            P.Fill(nx, ipDelta, 0);
            P[P.Nh] = (P[P.Nh] & 0xF0) | (((20 + ipDelta) >> 2) & 0xF);
            P.SetNetworkHeader(P.Nh, 20 + ipDelta);
        }
    }

    /// <summary>IP length, UDP length and (optionally) padding and checksums.</summary>
    private void FinishIP()
    {
        int nh = P.Nh;
        uint ipLen;
        if (P.BE16(nh + 2) == 0)
        {
            ipLen = WantLen;
            if (ipLen >= (uint)P.NhOff) ipLen -= (uint)P.NhOff;
            if (ipLen > 0xFFFF) ipLen = 0xFFFF;
            else if (ipLen == 0) ipLen = (uint)P.NetLen;
            P.SetBE16(nh + 2, ipLen);
        }
        else
            ipLen = P.BE16(nh + 2);

        if (IPProto == ProtoUdp && FirstFrag && P.Th >= 0 && P.BE16(P.Th + 4) == 0)
            P.SetBE16(P.Th + 4, unchecked(ipLen - (uint)(P.Th - nh)) & 0xFFFF);

        if (Checksum)
        {
            if (ipLen > (uint)P.NetLen)
            {
                int xlen = (int)(ipLen - (uint)P.NetLen);
                P.Put(xlen);
                if (Zero) P.Fill(P.End - xlen, xlen, 0);
            }
            SetChecksums();
        }
    }

    private void SetChecksums()
    {
        int nh = P.Nh;
        int hl = (P[nh] & 0xF) << 2;
        P.SetBE16(nh + 10, 0);
        P.SetBE16(nh + 10, InternetChecksum.Compute(Span(nh, hl)));
        if ((P.BE16(nh + 6) & 0x3FFF) != 0 || P.Th < 0) return;
        int th = P.Th, tlen = P.End - th;
        if (tlen < 0) return;
        int proto = IPProto;
        int sumAt = proto switch { ProtoTcp => 16, ProtoUdp => 6, ProtoIcmp => 2, _ => -1 };
        if (sumAt < 0) return;
        P.SetBE16(th + sumAt, 0);
        if (proto == ProtoIcmp)
        {
            P.SetBE16(th + sumAt, InternetChecksum.Compute(Span(th, tlen)));
            return;
        }
        uint src = P.BE32(nh + 12), dst = FinalDestination(nh, hl);
        uint pseudo = InternetChecksum.PseudoHeaderSum(src, dst, (byte)proto, tlen);
        P.SetBE16(th + sumAt, InternetChecksum.Fold(InternetChecksum.Sum(Span(th, tlen), pseudo)));
    }

    private ReadOnlySpan<byte> Span(int start, int len)
    {
        if (start < 0 || len <= 0) return default;
        if (start + len > P.Buf.Length) P[start + len - 1] = P[start + len - 1];
        return P.Buf.AsSpan(start, len);
    }

    /// <summary>The destination for the pseudo-header: the last hop of a source route, if any.</summary>
    private uint FinalDestination(int nh, int hl)
    {
        uint dst = P.BE32(nh + 16);
        if (hl <= 20) return dst;
        int o = nh + 20, end = nh + hl;
        while (o < end)
        {
            int type = P[o];
            if (type == 1) { o++; continue; }
            if (type == 0) break;
            int len = P[o + 1];
            if (o + 1 >= end || len < 2 || o + len > end) break;
            if ((type == 137 || type == 131) && len >= 7) return P.BE32(o + len - 4);
            o += len;
        }
        return dst;
    }

    /// <summary>Copies the built packet into a pool packet with its headers and annotations.</summary>
    public Packet? ToPacket(PacketPool pool)
    {
        var q = pool.Make(P.Buf.AsSpan(P.Data, P.Len));
        if (q == null) return null;
        if (P.Mac >= 0) q.SetMacHeader(P.Mac - P.Data);
        if (P.Nh >= 0) q.SetNetworkHeader(P.Nh - P.Data, P.Th >= 0 ? P.Th - P.Nh : 0);
        q.TimestampNs = P.TsSec * 1_000_000_000L + P.TsUsec * 1000L;
        q.PaintAnno = P.Paint;
        q.SetAnnoU32(AnnoOffsets.ExtraPackets, P.ExtraPackets);
        q.SetAnnoU32(AnnoOffsets.Aggregate, P.Aggregate);
        q.SetAnnoU32(AnnoOffsets.FirstTimestamp, unchecked((uint)P.FirstSec));
        q.SetAnnoU32(AnnoOffsets.FirstTimestamp + 4, P.FirstUsec);
        if (_isIp && P.Nh >= 0) q.DstIPAnno = P.BE32(P.Nh + 16);
        if (WantLen > (uint)P.Len) q.SetAnnoU32(AnnoOffsets.ExtraLength, WantLen - (uint)P.Len);
        return q;
    }
}
