using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPEncap(PROTOCOL, SRC, DST, keywords): wraps each packet in an IPv4 header (IP-in-IP and
/// the like) and sets its destination annotation to DST. Keywords: TTL (default 250), TOS,
/// DSCP, ECT, CE, DF. The IP ID counts up from 0. Handlers: src, dst (read/write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> IPEncap(ipip, 18.26.4.24, 140.247.60.147) -> Discard;</example>
public sealed class IPEncap : SimpleElement
{
    private int _proto, _ttl = 250, _tos;
    private uint _src, _dst;
    private bool _df;
    private ushort _id;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var proto = a.ReadMP("PROTOCOL", IPProtocols.Parse);
        var src = a.ReadMP("SRC", Args.IPAddress);
        var dst = a.ReadMP("DST", Args.IPAddress);
        var ttl = a.Read("TTL", Args.Byte, 250);
        var tos = a.Read("TOS", Args.Byte, 0);
        var dscp = a.Read("DSCP", Args.Unsigned, 0);
        var ect = a.Read("ECT", Args.Any, "false");
        var ce = a.Read("CE", Args.Bool, false);
        var df = a.Read("DF", Args.Bool, false);
        if (!a.Complete()) return false;
        int ecn = 0;
        if (ect.Present)
        {
            if (ect.Value == "2") ecn = 2;
            else if (Values.ParseBool(ect.Value, out bool e)) ecn = e ? 1 : 0;
            else return errh.Error("ECT: parse error");
        }
        if (ce.Value) ecn = 3;
        if (dscp.Value > 63) return errh.Error("DSCP: out of range");
        if (tos.Present && (dscp.Present || ect.Present || ce.Present)) return errh.Error("TOS cannot be combined with DSCP, ECT or CE");
        _proto = proto;
        _src = src;
        _dst = dst;
        _ttl = ttl;
        _tos = tos.Present ? tos.Value : (dscp.Value << 2) | ecn;
        _df = df;
        return true;
    }

    public override bool CanLiveReconfigure => true;
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Configure(conf, errh);

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            p.Push(20);
            var ip = p.WritableData();
            ip[0] = 0x45;
            ip[1] = (byte)_tos;
            BinaryPrimitives.WriteUInt16BigEndian(ip[2..], (ushort)Math.Min(p.Length, 0xFFFF));
            BinaryPrimitives.WriteUInt16BigEndian(ip[4..], _id++);
            BinaryPrimitives.WriteUInt16BigEndian(ip[6..], (ushort)(_df ? 0x4000 : 0));
            ip[8] = (byte)_ttl;
            ip[9] = (byte)_proto;
            ip[10] = ip[11] = 0;
            BinaryPrimitives.WriteUInt32BigEndian(ip[12..], _src);
            BinaryPrimitives.WriteUInt32BigEndian(ip[16..], _dst);
            BinaryPrimitives.WriteUInt16BigEndian(ip[10..], InternetChecksum.Compute(ip[..20]));
            p.SetNetworkHeader(0, 20);
            p.DstIPAnno = _dst;
        }
    }

    public override void AddHandlers()
    {
        SetHandler("src", (_, _) => Values.UnparseIPv4(_src), ElementUtil.Writer(Args.IPAddress, v => _src = v, "src"), HandlerFlags.None);
        SetHandler("dst", (_, _) => Values.UnparseIPv4(_dst), ElementUtil.Writer(Args.IPAddress, v => _dst = v, "dst"), HandlerFlags.None);
    }
}
