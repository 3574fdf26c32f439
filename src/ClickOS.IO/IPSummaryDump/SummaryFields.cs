namespace ClickOS.IO;

/// <summary>Every field an IP summary dump can carry.</summary>
internal enum SumField
{
    /// <summary>An unknown field in "!data": skipped.</summary>
    None,
    // annotations
    Timestamp, NTimestamp, TsSec, TsUsec, TsUsec1, FirstTimestamp, FirstNTimestamp, Count, Link, Direction,
    Aggregate, WireLen,
    // link layer
    EthSrc, EthDst, EthType,
    // IP
    IPSrc, IPDst, IPTos, IPDscp, IPEcn, IPTtl, IPFrag, IPFragOff, IPId, IPSum, IPProto, IPHl, IPLen,
    IPCaptureLen, IPOpt, SPort, DPort,
    // TCP
    TcpSeq, TcpAck, TcpOff, TcpFlags, TcpWindow, TcpUrp, TcpOpt, TcpNtOpt, TcpSack,
    // UDP
    UdpLen,
    // ICMP
    IcmpType, IcmpCode, IcmpTypeName, IcmpCodeName, IcmpFlowId, IcmpSeq, IcmpNextMtu,
    // payload
    PayloadLen, Payload, PayloadMd5, PayloadMd5Hex,
}

/// <summary>How a field is stored in a binary dump record.</summary>
internal enum BinKind
{
    B0, B1, B2, B4, B6, B8, B16,
    /// <summary>4 bytes kept in network order (addresses).</summary>
    B4Net,
    /// <summary>A length byte followed by that many bytes (options).</summary>
    Special,
    /// <summary>Not representable in binary dumps.</summary>
    NotAllowed,
}

/// <summary>One field's description: its canonical name, binary form, and reading order.</summary>
internal sealed class SummaryFieldDef(string name, SumField id, BinKind bin, int order = 0, bool needsIP = false, bool binaryInput = true)
{
    public string Name { get; } = name;
    public SumField Id { get; } = id;
    public BinKind Bin { get; } = bin;
    /// <summary>Input fields are applied in this order (annotations, link, network, transport, payload).</summary>
    public int Order { get; } = order;
    /// <summary>Output needs the IP/transport header check (Click's ip_prepare).</summary>
    public bool NeedsIP { get; } = needsIP;
    /// <summary>Whether the field can be read from a binary record.</summary>
    public bool BinaryInput { get; } = binaryInput;

    public int BinarySize => Bin switch
    {
        BinKind.B0 => 0, BinKind.B1 => 1, BinKind.B2 => 2, BinKind.B4 or BinKind.B4Net => 4, BinKind.B6 => 6,
        BinKind.B8 => 8, BinKind.B16 => 16, _ => -1,
    };
}

/// <summary>The tables of output and input fields, with Click's synonyms and name rewriting.</summary>
internal static class SummaryFields
{
    private const int Anno = 100, LinkOrder = 200, Net = 300, Transp = 400, PayloadOrder = 500;

    private static readonly SummaryFieldDef[] Writers =
    [
        new("timestamp", SumField.Timestamp, BinKind.B8),
        new("ntimestamp", SumField.NTimestamp, BinKind.B8),
        new("ts_sec", SumField.TsSec, BinKind.B4),
        new("ts_usec", SumField.TsUsec, BinKind.B4),
        new("ts_usec1", SumField.TsUsec1, BinKind.B8),
        new("first_timestamp", SumField.FirstTimestamp, BinKind.B8),
        new("first_ntimestamp", SumField.FirstNTimestamp, BinKind.B8),
        new("count", SumField.Count, BinKind.B4),
        new("link", SumField.Link, BinKind.B1),
        new("paint", SumField.Link, BinKind.B1),
        new("direction", SumField.Direction, BinKind.B1),
        new("aggregate", SumField.Aggregate, BinKind.B4),
        new("wire_len", SumField.WireLen, BinKind.B4),
        new("eth_src", SumField.EthSrc, BinKind.B6),
        new("eth_dst", SumField.EthDst, BinKind.B6),
        new("eth_type", SumField.EthType, BinKind.B2),
        new("ip_src", SumField.IPSrc, BinKind.B4Net, needsIP: true),
        new("ip_dst", SumField.IPDst, BinKind.B4Net, needsIP: true),
        new("ip_tos", SumField.IPTos, BinKind.B1, needsIP: true),
        new("ip_dscp", SumField.IPDscp, BinKind.B1, needsIP: true),
        new("ip_ecn", SumField.IPEcn, BinKind.B1, needsIP: true),
        new("ip_ttl", SumField.IPTtl, BinKind.B1, needsIP: true),
        new("ip_frag", SumField.IPFrag, BinKind.B1, needsIP: true),
        new("ip_fragoff", SumField.IPFragOff, BinKind.B2, needsIP: true),
        new("ip_id", SumField.IPId, BinKind.B2, needsIP: true),
        new("ip_sum", SumField.IPSum, BinKind.B2, needsIP: true),
        new("ip_proto", SumField.IPProto, BinKind.B1, needsIP: true),
        new("ip_hl", SumField.IPHl, BinKind.B1, needsIP: true),
        new("ip_len", SumField.IPLen, BinKind.B4, needsIP: true),
        new("ip_capture_len", SumField.IPCaptureLen, BinKind.B4, needsIP: true),
        new("ip_opt", SumField.IPOpt, BinKind.Special, needsIP: true),
        new("sport", SumField.SPort, BinKind.B2, needsIP: true),
        new("dport", SumField.DPort, BinKind.B2, needsIP: true),
        new("tcp_seq", SumField.TcpSeq, BinKind.B4, needsIP: true),
        new("tcp_ack", SumField.TcpAck, BinKind.B4, needsIP: true),
        new("tcp_off", SumField.TcpOff, BinKind.B1, needsIP: true),
        new("tcp_flags", SumField.TcpFlags, BinKind.B1, needsIP: true),
        new("tcp_window", SumField.TcpWindow, BinKind.B2, needsIP: true),
        new("tcp_urp", SumField.TcpUrp, BinKind.B2, needsIP: true),
        new("tcp_opt", SumField.TcpOpt, BinKind.Special, needsIP: true),
        new("tcp_ntopt", SumField.TcpNtOpt, BinKind.Special, needsIP: true),
        new("tcp_sack", SumField.TcpSack, BinKind.Special, needsIP: true),
        new("udp_len", SumField.UdpLen, BinKind.B4, needsIP: true),
        new("icmp_type", SumField.IcmpType, BinKind.B1, needsIP: true),
        new("icmp_code", SumField.IcmpCode, BinKind.B1, needsIP: true),
        new("icmp_type_name", SumField.IcmpTypeName, BinKind.B1, needsIP: true),
        new("icmp_code_name", SumField.IcmpCodeName, BinKind.B1, needsIP: true),
        new("icmp_flowid", SumField.IcmpFlowId, BinKind.B2, needsIP: true),
        new("icmp_seq", SumField.IcmpSeq, BinKind.B2, needsIP: true),
        new("icmp_nextmtu", SumField.IcmpNextMtu, BinKind.B2, needsIP: true),
        new("payload_len", SumField.PayloadLen, BinKind.B4, needsIP: true),
        new("payload", SumField.Payload, BinKind.NotAllowed, needsIP: true),
        new("payload_md5", SumField.PayloadMd5, BinKind.B16, needsIP: true),
        new("payload_md5_hex", SumField.PayloadMd5Hex, BinKind.B16, needsIP: true),
    ];

    private static readonly SummaryFieldDef[] Readers =
    [
        new("timestamp", SumField.Timestamp, BinKind.B8, Anno),
        new("ntimestamp", SumField.NTimestamp, BinKind.B8, Anno),
        new("ts_sec", SumField.TsSec, BinKind.B4, Anno),
        new("ts_usec", SumField.TsUsec, BinKind.B4, Anno),
        new("ts_usec1", SumField.TsUsec1, BinKind.B8, Anno),
        new("first_timestamp", SumField.FirstTimestamp, BinKind.B8, Anno),
        new("first_ntimestamp", SumField.FirstNTimestamp, BinKind.B8, Anno),
        new("count", SumField.Count, BinKind.B4, Anno),
        new("link", SumField.Link, BinKind.B1, Anno),
        new("paint", SumField.Link, BinKind.B1, Anno),
        new("direction", SumField.Direction, BinKind.B1, Anno),
        new("aggregate", SumField.Aggregate, BinKind.B4, Anno),
        new("wire_len", SumField.WireLen, BinKind.B4, Anno),
        new("eth_src", SumField.EthSrc, BinKind.B6, LinkOrder),
        new("eth_dst", SumField.EthDst, BinKind.B6, LinkOrder),
        new("eth_type", SumField.EthType, BinKind.B2, LinkOrder),
        new("ip_src", SumField.IPSrc, BinKind.B4Net, Net),
        new("ip_dst", SumField.IPDst, BinKind.B4Net, Net),
        new("ip_tos", SumField.IPTos, BinKind.B1, Net),
        new("ip_dscp", SumField.IPDscp, BinKind.B1, Net),
        new("ip_ecn", SumField.IPEcn, BinKind.B1, Net),
        new("ip_ttl", SumField.IPTtl, BinKind.B1, Net),
        new("ip_frag", SumField.IPFrag, BinKind.B1, Net - 2),
        new("ip_fragoff", SumField.IPFragOff, BinKind.B2, Net - 1),
        new("ip_id", SumField.IPId, BinKind.B2, Net),
        new("ip_sum", SumField.IPSum, BinKind.B2, Net + 2),
        new("ip_proto", SumField.IPProto, BinKind.B1, Net),
        new("ip_hl", SumField.IPHl, BinKind.B1, Net - 1),
        new("ip_len", SumField.IPLen, BinKind.B4, Net + 1),
        new("ip_capture_len", SumField.IPCaptureLen, BinKind.B4, PayloadOrder + 2),
        new("ip_opt", SumField.IPOpt, BinKind.Special, Net),
        new("sport", SumField.SPort, BinKind.B2, Transp),
        new("dport", SumField.DPort, BinKind.B2, Transp),
        new("tcp_seq", SumField.TcpSeq, BinKind.B4, Transp),
        new("tcp_ack", SumField.TcpAck, BinKind.B4, Transp),
        new("tcp_off", SumField.TcpOff, BinKind.B1, Transp - 1),
        new("tcp_flags", SumField.TcpFlags, BinKind.B1, Transp),
        new("tcp_window", SumField.TcpWindow, BinKind.B2, Transp),
        new("tcp_urp", SumField.TcpUrp, BinKind.B2, Transp),
        new("tcp_opt", SumField.TcpOpt, BinKind.Special, Transp + 3),
        new("tcp_ntopt", SumField.TcpNtOpt, BinKind.Special, Transp + 2),
        new("tcp_sack", SumField.TcpSack, BinKind.Special, Transp + 1),
        new("udp_len", SumField.UdpLen, BinKind.B4, Transp),
        new("icmp_type", SumField.IcmpType, BinKind.B1, Transp),
        new("icmp_code", SumField.IcmpCode, BinKind.B1, Transp + 1),
        new("icmp_type_name", SumField.IcmpTypeName, BinKind.B1, Transp),
        new("icmp_code_name", SumField.IcmpCodeName, BinKind.B1, Transp + 1),
        new("icmp_flowid", SumField.IcmpFlowId, BinKind.B2, Transp + 2),
        new("icmp_seq", SumField.IcmpSeq, BinKind.B2, Transp + 2),
        new("icmp_nextmtu", SumField.IcmpNextMtu, BinKind.B2, Transp + 2),
        new("payload_len", SumField.PayloadLen, BinKind.B4, PayloadOrder + 1),
        new("payload", SumField.Payload, BinKind.NotAllowed, PayloadOrder, binaryInput: false),
    ];

    private static readonly (string Name, string Synonym)[] Synonyms =
    [
        ("utimestamp", "timestamp"), ("ts", "utimestamp"), ("sec", "ts_sec"), ("usec", "ts_usec"),
        ("usec1", "ts_usec1"), ("first_utimestamp", "first_timestamp"), ("first_ts", "first_utimestamp"),
        ("pkt_count", "count"), ("packet_count", "count"), ("agg", "aggregate"), ("wire_length", "wire_len"),
        ("ether_src", "eth_src"), ("ether_dst", "eth_dst"), ("ether_type", "eth_type"),
        ("length", "ip_len"), ("ip_p", "ip_proto"),
        ("tcp_seqno", "tcp_seq"), ("tcp_ackno", "tcp_ack"), ("tcp_win", "tcp_window"),
        ("payload_length", "payload_len"),
    ];

    public static SummaryFieldDef? FindWriter(string name) => Find(Writers, name, 0);
    public static SummaryFieldDef? FindReader(string name) => Find(Readers, name, 0);

    private static SummaryFieldDef? Find(SummaryFieldDef[] table, string name, int depth)
    {
        if (depth > 8) return null;
        foreach (var (n, s) in Synonyms)
            if (n == name) return Find(table, s, depth + 1);
        foreach (var f in table)
            if (f.Name == name) return f;
        // Old dumps: "tcp seq" means tcp_seq (first space only); a bare "src" means ip_src.
        int sp = name.IndexOf(' ');
        if (sp >= 0) return Find(table, name[..sp] + "_" + name[(sp + 1)..], depth + 1);
        if (name.IndexOf('_') < 0) return Find(table, "ip_" + name, depth + 1);
        return null;
    }
}
