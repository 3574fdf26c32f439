using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// FTPPortMapper(CONTROL_REWRITER, DATA_REWRITER, PATTERN FOUTPUT ROUTPUT): makes active FTP work
/// through a NAT. Watches FTP control packets (upstream of CONTROL_REWRITER) for a PORT command
/// at the start of the payload; for 'PORT h1,h2,h3,h4,p1,p2' it applies PATTERN ('SADDR SPORT
/// DADDR DPORT' or a name from IPRewriterPatterns) to the data flow (h, p, server, control port
/// - 1) and installs that mapping in DATA_REWRITER (FOUTPUT for the client's direction, ROUTPUT
/// for the server's), rewrites the command to the new address and port, fixes the IP length and
/// checksums, and tells CONTROL_REWRITER to shift later sequence numbers by the change in
/// length (and acknowledgments back). The control packet's own addresses are left alone.
/// Handlers: port_commands, mappings_failed.
/// </summary>
/// <example>IPRewriterPatterns(ftp_data 198.51.100.1 50000-50999# - -); ctl :: TCPRewriter(pattern 198.51.100.1 40000-40999# - - 0 1); InfiniteSource(DATA \&lt;4500003b 00000000 40060000 0a000002 cb007102 c0000015 00000001 00000000 50182000 00000000 504f5254 2031302c 302c302c 322c332c 390d0a&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> FTPPortMapper(ctl, ctl, ftp_data 0 1) -> ctl -> Discard; ctl[1] -> Discard;</example>
public sealed class FTPPortMapper : SimpleElement
{
    private string _controlName = "", _dataName = "";
    private RewriterBase _control = null!, _data = null!;
    private RewriterPattern _pattern = null!;
    private string _patternName = "";
    private int _fout, _rout;
    private long _ports, _failed;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var c = a.ReadMP("CONTROL_REWRITER", Args.Word);
        var d = a.ReadMP("DATA_REWRITER", Args.Word);
        var pat = a.ReadMP("PATTERN", Args.Any);
        if (!a.Complete()) return false;
        _controlName = c;
        _dataName = d;
        var w = ConfigText.SplitSpace(pat.Value);
        if (w.Count == 6)
        {
            var p = RewriterPattern.Parse(w, 0, out string err);
            if (p == null) return errh.Error($"PATTERN: {err}");
            _pattern = p;
        }
        else if (w.Count == 3)
        {
            var p = IPRewriterPatterns.Find(Host, w[0]);
            if (p == null) return errh.Error($"PATTERN: no pattern named '{w[0]}'");
            _pattern = p;
            _patternName = w[0];
        }
        else return errh.Error("PATTERN: expected 'SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT' or 'NAME FOUTPUT ROUTPUT'");
        if (!int.TryParse(w[^2], NumberStyles.None, CultureInfo.InvariantCulture, out _fout) || !int.TryParse(w[^1], NumberStyles.None, CultureInfo.InvariantCulture, out _rout))
            return errh.Error("PATTERN: bad FOUTPUT or ROUTPUT");
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        bool ok = true;
        if (Host.FindElement(_controlName, this) is RewriterBase c) _control = c;
        else ok = errh.Error($"CONTROL_REWRITER: '{_controlName}' is not a TCPRewriter-like element");
        if (Host.FindElement(_dataName, this) is RewriterBase d) _data = d;
        else ok = errh.Error($"DATA_REWRITER: '{_dataName}' is not an IPRewriter-like element");
        return ok;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            var d = p.Data;
            if (!p.HasNetworkHeader) continue;
            int ip = p.NetworkHeaderOffset;
            if (d.Length < ip + 20 || d[ip + 9] != 6) continue;
            int t = ip + (d[ip] & 0x0F) * 4;
            if (d.Length < t + 20) continue;
            int payload = t + (d[t + 12] >> 4) * 4;
            int end = Math.Min(ip + BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]), d.Length);
            // Cheap test first: almost no control packet is a PORT command.
            if (end - payload < 16 || (d[payload] | 0x20) != 'p' || (d[payload + 1] | 0x20) != 'o' || (d[payload + 2] | 0x20) != 'r' || (d[payload + 3] | 0x20) != 't' || d[payload + 4] != ' ')
                continue;
            HandlePort(p, ip, t, payload, end);
        }
    }

    private void HandlePort(Packet p, int ip, int t, int payload, int end)
    {
        var d = p.Data;
        int argStart = payload + 5, argEnd = argStart;
        while (argEnd < end && (char.IsAsciiDigit((char)d[argEnd]) || d[argEnd] == ',')) argEnd++;
        var parts = Encoding.ASCII.GetString(d[argStart..argEnd]).Split(',');
        if (parts.Length != 6) return;
        var n = new int[6];
        for (int i = 0; i < 6; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out n[i]) || n[i] > 255) return;
        _ports++;
        uint sa = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]), da = BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]);
        ushort sp = BinaryPrimitives.ReadUInt16BigEndian(d[t..]), dp = BinaryPrimitives.ReadUInt16BigEndian(d[(t + 2)..]);
        uint seq = BinaryPrimitives.ReadUInt32BigEndian(d[(t + 4)..]);
        var dataIn = new FlowId((uint)(n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3]), (ushort)(n[4] << 8 | n[5]), da, (ushort)(dp - 1));
        if (!_pattern.TryApply(dataIn, 6, _data.Table, out var dataOut) || !_data.AddMapping(dataIn, dataOut, 6, _fout, _rout, _pattern))
        {
            _failed++;
            return;
        }
        uint a = dataOut.Saddr;
        string text = $"{a >> 24},{(a >> 16) & 255},{(a >> 8) & 255},{a & 255},{dataOut.Sport >> 8},{dataOut.Sport & 255}";
        int delta = text.Length - (argEnd - argStart);
        int tailLen = p.Length - argEnd;
        if (delta > 0) p.Put(delta);
        var w = p.WritableData();
        w.Slice(argEnd, tailLen).CopyTo(w[(argEnd + delta)..]);
        if (delta < 0) p.Take(-delta);
        w = p.WritableData();
        Encoding.ASCII.GetBytes(text, w[argStart..]);
        int totLen = end - ip + delta; // a claimed length beyond the data is truncated to it
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 2)..], (ushort)totLen);
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], InternetChecksum.Compute(w.Slice(ip, t - ip)));
        int tcpLen = totLen - (t - ip);
        BinaryPrimitives.WriteUInt16BigEndian(w[(t + 16)..], 0);
        BinaryPrimitives.WriteUInt16BigEndian(w[(t + 16)..], InternetChecksum.Fold(InternetChecksum.Sum(w.Slice(t, tcpLen), InternetChecksum.PseudoHeaderSum(sa, da, 6, tcpLen))));
        if (delta != 0) _control.AddSequenceDelta(new FlowId(sa, sp, da, dp), seq, delta);
    }

    public override void AddHandlers()
    {
        AddReadHandler("port_commands", () => _ports.ToString(ElementUtil.Inv));
        AddReadHandler("mappings_failed", () => _failed.ToString(ElementUtil.Inv));
    }
}
