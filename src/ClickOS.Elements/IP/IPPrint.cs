using System.Buffers.Binary;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPPrint([LABEL, keywords]): prints a tcpdump-like line on standard error for each IP packet
/// (one with an IP header annotation, e.g. from CheckIPHeader), preceded by LABEL, and passes
/// it on: "LABEL: TIMESTAMP: SRC.SPORT > DST.DPORT: S 1:2(1,40,40) win 65535".
/// Keywords: CONTENTS (NONE, HEX or ASCII: also dump the packet data), PAYLOAD (like CONTENTS,
/// but only the transport payload), MAXLENGTH (bytes dumped, default 1500, -1 = all), ID, TTL,
/// TOS, LENGTH (bool: print those IP fields), TIMESTAMP (bool, default true), AGGREGATE, PAINT
/// (bool: print those annotations), SWAP (bool, default true: ICMP echo identifier and
/// sequence in network byte order), OUTFILE (write to this file instead), ACTIVE (bool),
/// CHANNEL (accepted, ignored). Handler: active (read/write).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 28 00 00 00 00 40 06 00 00 0a 00 00 01 0a 00 00 02 04 d2 00 50 00 00 00 01 00 00 00 00 50 02 ff ff 00 00 00 00&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> IPPrint(syn, TTL true, CONTENTS HEX) -> Discard;</example>
public sealed class IPPrint : SimpleElement
{
    private string _label = "";
    private int _bytes = 1500;
    private int _contents;          // 0 none, 1 hex, 2 ascii
    private bool _payload;
    private bool _swap = true;
    private bool _active = true;
    private bool _printId, _printTimestamp = true, _printPaint, _printTos, _printTtl, _printLength, _printAggregate;
    private string _outFileName = "";
    private TextWriter? _outFile;
    private readonly StringBuilder _sb = new(256);

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var label = a.ReadP("LABEL", Args.String, "");
        var contents = a.Read("CONTENTS", Args.Word, "no");
        var payload = a.Read("PAYLOAD", Args.Word, "no");
        var maxlength = a.Read("MAXLENGTH", Args.Int, 1500);
        var nbytes = a.Read("NBYTES", Args.Int, 1500);
        var id = a.Read("ID", Args.Bool, false);
        var timestamp = a.Read("TIMESTAMP", Args.Bool, true);
        var paint = a.Read("PAINT", Args.Bool, false);
        var tos = a.Read("TOS", Args.Bool, false);
        var ttl = a.Read("TTL", Args.Bool, false);
        var swap = a.Read("SWAP", Args.Bool, true);
        var length = a.Read("LENGTH", Args.Bool, false);
        var aggregate = a.Read("AGGREGATE", Args.Bool, false);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var outfile = a.Read("OUTFILE", Args.String, "");
        a.Read("CHANNEL", Args.Word, "");
        if (!a.Complete()) return false;

        int contentsV;
        if (Values.ParseBool(contents, out bool b)) contentsV = b ? 1 : 0;
        else
        {
            contentsV = contents.Value.ToUpperInvariant() switch { "NONE" => 0, "HEX" => 1, "ASCII" => 2, _ => -1 };
            if (contentsV < 0)
                return errh.Error($"bad contents value '{contents.Value.ToUpperInvariant()}'; should be 'NONE', 'HEX', or 'ASCII'");
        }
        int payloadV = payload.Value.ToUpperInvariant() switch
        {
            "NO" or "FALSE" => 0,
            "YES" or "TRUE" or "HEX" => 1,
            "ASCII" => 2,
            _ => -1,
        };
        if (payloadV < 0)
            return errh.Error($"bad payload value '{contents.Value}'; should be 'false', 'hex', or 'ascii'");
        if (payloadV > 0 && contentsV > 0)
            return errh.Error("specify at most one of PAYLOAD and CONTENTS");

        _label = label;
        _contents = payloadV > 0 ? payloadV : contentsV;
        _payload = payloadV > 0;
        _bytes = nbytes.Present ? nbytes.Value : maxlength.Value; // NBYTES (deprecated) is read last, as in Click
        _printId = id;
        _printTimestamp = timestamp;
        _printPaint = paint;
        _printTos = tos;
        _printTtl = ttl;
        _swap = swap;
        _printLength = length;
        _printAggregate = aggregate;
        _active = active;
        _outFileName = outfile;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (_outFileName.Length == 0) return true;
        try
        {
            _outFile = new StreamWriter(new FileStream(_outFileName, FileMode.Create, FileAccess.Write), Encoding.Latin1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return errh.Error($"{_outFileName}: {IOErrorText.Of(e)}");
        }
        return true;
    }

    public override void Cleanup()
    {
        _outFile?.Dispose();
        _outFile = null;
    }

    protected override void Process(PacketBatch batch)
    {
        if (!_active) return;
        foreach (var p in batch.Packets)
            if (p.HasNetworkHeader) PrintOne(p);
    }

    private void PrintOne(Packet p)
    {
        var sb = _sb;
        sb.Clear();
        if (_label.Length > 0) sb.Append(_label).Append(": ");
        if (_printTimestamp) AppendTimestamp(sb, p.TimestampNs).Append(": ");
        if (_printAggregate) sb.Append('#').Append(p.GetAnnoU32(AnnoOffsets.Aggregate));
        if (_printPaint) sb.Append(_printAggregate ? "." : "paint ").Append((int)p.PaintAnno);
        if (_printAggregate || _printPaint) sb.Append(": ");

        int nh = p.NetworkHeaderOffset;
        var ip = IPHeaderAccess.From(p, nh);
        if (p.Length - nh < IPHeaderAccess.IPHeaderMin || ip.Length < IPHeaderAccess.IPHeaderMin)
            sb.Append("truncated-ip");
        else
            AppendIP(sb, p, ip);

        sb.Append('\n');
        if (_outFile != null) _outFile.Write(sb);
        else Host.ErrorOutput.Write(sb);
    }

    private void AppendIP(StringBuilder sb, Packet p, ReadOnlySpan<byte> ip)
    {
        int ipLen = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        int payloadLen = ipLen - ((ip[0] & 0xF) << 2);
        int toff = IPHeaderAccess.TransportOffset(p, ip);
        var transport = IPHeaderAccess.From(p, toff);
        int tlen = Math.Min(p.Length - toff, payloadLen);
        if (tlen > transport.Length) tlen = transport.Length; // only when the header lies outside the buffer

        if (_printId) sb.Append("id ").Append(BinaryPrimitives.ReadUInt16BigEndian(ip[4..])).Append(' ');
        if (_printTtl) sb.Append("ttl ").Append(ip[8]).Append(' ');
        if (_printTos) sb.Append("tos ").Append(ip[1]).Append(' ');
        if (_printLength) sb.Append("length ").Append(ipLen).Append(' ');

        switch (ip[9])
        {
            case IPHeaderAccess.ProtoTCP: TcpLine(sb, p, ip, transport, tlen); break;
            case IPHeaderAccess.ProtoUDP: UdpLine(sb, ip, transport, tlen); break;
            case IPHeaderAccess.ProtoICMP: IcmpLine(sb, ip, transport, tlen); break;
            default: AddressPair(sb, ip).Append(": ip-proto-").Append(ip[9]); break;
        }

        if (IPHeaderAccess.IsFragment(ip))
        {
            ushort fragOff = BinaryPrimitives.ReadUInt16BigEndian(ip[6..]);
            sb.Append(" (frag ").Append(BinaryPrimitives.ReadUInt16BigEndian(ip[4..])).Append(':').Append(payloadLen)
              .Append('@').Append((fragOff & 0x1FFF) << 3).Append((fragOff & 0x2000) != 0 ? "+" : "").Append(')');
        }

        if (_contents > 0) AppendContents(sb, p, ip, toff, transport);
    }

    private void AppendContents(StringBuilder sb, Packet p, ReadOnlySpan<byte> ip, int toff, ReadOnlySpan<byte> transport)
    {
        int start = 0;
        if (_payload)
        {
            bool first = IPHeaderAccess.IsFirstFragment(ip);
            if (first && ip[9] == IPHeaderAccess.ProtoTCP)
                start = transport.Length > 12 ? toff + ((transport[12] >> 4) << 2) : p.Length;
            else if (first && ip[9] == IPHeaderAccess.ProtoUDP)
                start = toff + 8;
            else
                start = toff;
        }
        int bytes = _bytes;
        if (start >= p.Length) bytes = 0;
        else if (bytes < 0 || p.Length - start < bytes) bytes = p.Length - start;
        var data = bytes > 0 ? IPHeaderAccess.From(p, start) : default;
        if (data.Length < bytes) bytes = data.Length;

        if (_contents == 1)
        {
            for (int i = 0; i < bytes; i++)
            {
                if (i % 24 == 0) sb.Append("\n  ");
                else if (i % 4 == 0) sb.Append(' ');
                sb.Append(Hex[data[i] >> 4]).Append(Hex[data[i] & 15]);
            }
        }
        else
        {
            for (int i = 0; i < bytes; i++)
            {
                if (i % 48 == 0) sb.Append("\n  ");
                else if (i % 8 == 0) sb.Append(' ');
                byte c = data[i];
                sb.Append(c is < 32 or > 126 ? '.' : (char)c);
            }
        }
    }

    private const string Hex = "0123456789abcdef";

    private static StringBuilder AddressPair(StringBuilder sb, ReadOnlySpan<byte> ip)
    {
        IPHeaderAccess.AppendIP(sb, BinaryPrimitives.ReadUInt32BigEndian(ip[12..])).Append(" > ");
        return IPHeaderAccess.AppendIP(sb, BinaryPrimitives.ReadUInt32BigEndian(ip[16..]));
    }

    private static void Ports(StringBuilder sb, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> t)
    {
        IPHeaderAccess.AppendIP(sb, BinaryPrimitives.ReadUInt32BigEndian(ip[12..])).Append('.')
            .Append(BinaryPrimitives.ReadUInt16BigEndian(t)).Append(" > ");
        IPHeaderAccess.AppendIP(sb, BinaryPrimitives.ReadUInt32BigEndian(ip[16..])).Append('.')
            .Append(BinaryPrimitives.ReadUInt16BigEndian(t[2..])).Append(": ");
    }

    private static void TcpLine(StringBuilder sb, Packet p, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> tcp, int tlen)
    {
        bool first = IPHeaderAccess.IsFirstFragment(ip);
        if (tlen < 4 || !first)
        {
            AddressPair(sb, ip).Append(first ? ": truncated-tcp" : ": tcp");
            return;
        }
        Ports(sb, ip, tcp);
        if (tlen < 14)
        {
            sb.Append("truncated-tcp");
            return;
        }
        int ipLen = BinaryPrimitives.ReadUInt16BigEndian(ip[2..]);
        int seqlen = ipLen - ((ip[0] & 0xF) << 2) - ((tcp[12] >> 4) << 2);
        byte flags = tcp[13];
        if ((flags & 0x02) != 0) { sb.Append('S'); seqlen++; }
        if ((flags & 0x01) != 0) { sb.Append('F'); seqlen++; }
        if ((flags & 0x04) != 0) sb.Append('R');
        if ((flags & 0x08) != 0) sb.Append('P');
        if ((flags & 0x0F) == 0) sb.Append('.');
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]);
        sb.Append(' ').Append(seq).Append(':').Append(unchecked(seq + (uint)seqlen))
          .Append('(').Append(seqlen).Append(',').Append(p.Length).Append(',').Append(ipLen).Append(')');
        if ((flags & 0x10) != 0) sb.Append(" ack ").Append(BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]));
        if (tlen < 16)
        {
            sb.Append("truncated-tcp");
            return;
        }
        sb.Append(" win ").Append(BinaryPrimitives.ReadUInt16BigEndian(tcp[14..]));
    }

    private static void UdpLine(StringBuilder sb, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> udp, int tlen)
    {
        bool first = IPHeaderAccess.IsFirstFragment(ip);
        if (tlen < 4 || !first)
        {
            AddressPair(sb, ip).Append(first ? ": truncated-udp" : ": udp");
            return;
        }
        Ports(sb, ip, udp);
        if (tlen < 8)
        {
            sb.Append("truncated-udp");
            return;
        }
        sb.Append("udp ").Append(BinaryPrimitives.ReadUInt16BigEndian(udp[4..]));
    }

    private void IcmpLine(StringBuilder sb, ReadOnlySpan<byte> ip, ReadOnlySpan<byte> icmp, int tlen)
    {
        AddressPair(sb, ip).Append(": ");
        if (!IPHeaderAccess.IsFirstFragment(ip))
        {
            sb.Append("icmp");
            return;
        }
        if (tlen < 2)
        {
            sb.Append("truncated-icmp");
            return;
        }
        byte type = icmp[0], code = icmp[1];
        switch (type)
        {
            case 0:
            case 8:
                sb.Append(type == 0 ? "icmp echo-reply " : "icmp echo ");
                if (tlen < 8)
                {
                    sb.Append("truncated-icmp");
                    return;
                }
                ushort ident = _swap ? BinaryPrimitives.ReadUInt16BigEndian(icmp[4..]) : BinaryPrimitives.ReadUInt16LittleEndian(icmp[4..]);
                ushort seq = _swap ? BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]) : BinaryPrimitives.ReadUInt16LittleEndian(icmp[6..]);
                sb.Append('(').Append(ident).Append(", ").Append(seq).Append(')');
                return;
            case 3:
            {
                string? codeName = IcmpCodeName(type, code);
                int eipLen = tlen - 8;
                if (eipLen < IPHeaderAccess.IPHeaderMin)
                {
                    sb.Append("icmp unreachable ");
                    AppendCode(sb, codeName, code).Append(' ').Append("truncated-icmp");
                    return;
                }
                var eip = icmp[8..];
                int ehl = (eip[0] & 0xF) << 2;
                int eudpLen = eipLen - ehl;
                sb.Append("icmp ");
                IPHeaderAccess.AppendIP(sb, BinaryPrimitives.ReadUInt32BigEndian(eip[16..])).Append(" unreachable ");
                AppendCode(sb, codeName, code);
                if (code == 2)
                    AppendProto(sb.Append(' '), eip[9], false);
                else if (code == 3)
                {
                    AppendProto(sb.Append(' '), eip[9], true);
                    if (eudpLen < 4)
                    {
                        sb.Append("truncated-icmp");
                        return;
                    }
                    sb.Append('/').Append(BinaryPrimitives.ReadUInt16BigEndian(eip[(ehl + 2)..]));
                }
                else if (code == 4)
                {
                    ushort mtu = BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]);
                    if (mtu != 0) sb.Append(" (mtu ").Append(mtu).Append(')');
                }
                return;
            }
            default:
            {
                sb.Append("icmp ");
                string? typeName = IcmpTypeName(type);
                if (typeName != null) sb.Append(typeName);
                else sb.Append("type ").Append(type);
                string? codeName = IcmpCodeName(type, code);
                if (codeName != null) sb.Append(' ').Append(codeName);
                else if (code != 0) sb.Append(" code ").Append(code);
                return;
            }
        }
    }

    private static StringBuilder AppendCode(StringBuilder sb, string? name, byte code) =>
        name != null ? sb.Append(name) : sb.Append("code ").Append(code);

    private static void AppendProto(StringBuilder sb, byte proto, bool prepend)
    {
        string? name = proto switch
        {
            1 => "icmp", 2 => "igmp", 4 => "ipip", 6 => "tcp", 17 => "udp", 33 => "dccp", 47 => "gre", 132 => "sctp",
            _ => null,
        };
        if (name != null) sb.Append(name);
        else if (prepend) sb.Append("protocol ").Append(proto);
        else sb.Append(proto);
    }

    /// <summary>Click's ICMP type names (IPNameInfo).</summary>
    public static string? IcmpTypeName(byte type) => ICMPNames.TypeName(type);

    /// <summary>Click's ICMP code names for unreachable, redirect, time exceeded and parameter problem (IPNameInfo).</summary>
    public static string? IcmpCodeName(byte type, byte code) => ICMPNames.CodeName(type, code);

    /// <summary>Click's Timestamp format: "SEC.USEC", or nine fraction digits when the time has sub-microsecond precision.</summary>
    private static StringBuilder AppendTimestamp(StringBuilder sb, long ns)
    {
        long sec = Math.DivRem(ns, 1_000_000_000, out long sub);
        if (sub < 0) { sec--; sub += 1_000_000_000; }
        sb.Append(sec).Append('.');
        int digits = 9;
        if (sub % 1000 == 0) { sub /= 1000; digits = 6; }
        for (long d = digits == 6 ? 100_000 : 100_000_000; d > 0; d /= 10)
            sb.Append((char)('0' + (int)(sub / d % 10)));
        return sb;
    }

    public override void AddHandlers() =>
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => _active = v, "active"), HandlerFlags.None);
}
