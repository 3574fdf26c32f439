using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// UDPIPEncap(SRC, SPORT, DST, DPORT [, CHECKSUM]): wraps each packet in UDP and IPv4 headers
/// (TTL 250, IP ID counting from 0) and sets the destination annotation. CHECKSUM (default
/// false) computes the UDP checksum. Handlers: src, sport, dst, dport (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 4789) -> Discard;</example>
public sealed class UDPIPEncap : SimpleElement
{
    private uint _src, _dst;
    private int _sport, _dport;
    private bool _checksum;
    private ushort _id;

    private static bool Port(string s, out int v, out string err)
    {
        err = "expected port";
        v = 0;
        return Values.ParseInt64(s, out long l) && l is >= 0 and <= 65535 && (v = (int)l) >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var src = a.ReadMP("SRC", Args.IPAddress);
        var sport = a.ReadMP<int>("SPORT", Port);
        var dst = a.ReadMP("DST", Args.IPAddress);
        var dport = a.ReadMP<int>("DPORT", Port);
        var cs = a.ReadP("CHECKSUM", Args.Bool, false);
        if (!a.Complete()) return false;
        _src = src;
        _sport = sport;
        _dst = dst;
        _dport = dport;
        _checksum = cs;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            p.Push(28);
            var d = p.WritableData();
            int len = Math.Min(p.Length, 0xFFFF);
            var ip = d[..20];
            ip[0] = 0x45;
            ip[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)len);
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], _id++);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], 0);
            ip[8] = 250;
            ip[9] = 17;
            ip[10] = ip[11] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(ip[12..], _src);
            BinaryPrimitives.WriteUInt32BigEndian(ip[16..], _dst);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip));
            var udp = d[20..];
            int ulen = len - 20;
            BinaryPrimitives.WriteUInt16BigEndian(udp, (ushort)_sport);
            BinaryPrimitives.WriteUInt16BigEndian(udp[2..], (ushort)_dport);
            BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)ulen);
            BinaryPrimitives.WriteUInt16BigEndian(udp[6..], 0);
            if (_checksum)
            {
                ushort c = InternetChecksum.Fold(InternetChecksum.Sum(udp[..ulen], InternetChecksum.PseudoHeaderSum(_src, _dst, 17, ulen)));
                BinaryPrimitives.WriteUInt16BigEndian(udp[6..], c == 0 ? (ushort)0xFFFF : c);
            }
            p.SetNetworkHeader(0, 20);
            p.DstIPAnno = _dst;
        }
    }

    public override void AddHandlers()
    {
        SetHandler("src", (_, _) => Values.UnparseIPv4(_src), ElementUtil.Writer(Args.IPAddress, v => _src = v, "src"), HandlerFlags.None);
        SetHandler("dst", (_, _) => Values.UnparseIPv4(_dst), ElementUtil.Writer(Args.IPAddress, v => _dst = v, "dst"), HandlerFlags.None);
        SetHandler("sport", (_, _) => _sport.ToString(ElementUtil.Inv), ElementUtil.Writer<int>(Port, v => _sport = v, "sport"), HandlerFlags.None);
        SetHandler("dport", (_, _) => _dport.ToString(ElementUtil.Inv), ElementUtil.Writer<int>(Port, v => _dport = v, "dport"), HandlerFlags.None);
    }
}
