using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// ToIPSummaryDump(FILENAME [, keywords]): writes one line per packet to FILENAME ("-" is
/// standard output) describing the fields named by FIELDS, in Click's IP summary dump format
/// ("!IPSummaryDump 1.3" and "!data ..." header lines, '-' for fields that do not apply), and
/// passes packets on if output 0 is connected. Fields: timestamp ntimestamp ts_sec ts_usec
/// ts_usec1 first_timestamp count link paint direction aggregate wire_len eth_src eth_dst
/// eth_type ip_src ip_dst ip_len ip_proto ip_hl ip_id ip_tos ip_dscp ip_ecn ip_ttl ip_sum
/// ip_frag ip_fragoff ip_opt ip_capture_len sport dport tcp_seq tcp_ack tcp_flags tcp_off
/// tcp_window tcp_urp tcp_opt tcp_ntopt tcp_sack udp_len icmp_type icmp_code icmp_type_name
/// icmp_code_name icmp_flowid icmp_seq icmp_nextmtu payload payload_len payload_md5
/// payload_md5_hex (plus Click's old names: "src", "tcp seq", "length", ...). Reads the IP
/// header the network-header annotation points at (MarkIPHeader/CheckIPHeader set it).
/// Keywords: FIELDS (alias CONTENTS; default "timestamp ip_src"), BINARY (packed records
/// after a "!binary" line), BAD_PACKETS (print "!bad ..." lines before bad packets),
/// CAREFUL_TRUNC (true: report IP packets cut short), EXTRA_LENGTH (true: add the
/// extra-length annotation to lengths), MULTIPACKET (one line per packet the extra-packets
/// annotation stands for), HEADER (true), VERBOSE (host and start-time lines), BANNER
/// (a "!creator" line). Handlers: flush (write).
/// </summary>
/// <example>InfiniteSource(LIMIT 2, STOP true) -> UDPIPEncap(10.0.0.1, 1234, 10.0.0.2, 53) -> SetTimestamp(1) -> ToIPSummaryDump(-, FIELDS timestamp ip_src sport ip_dst dport ip_proto ip_len);</example>
public sealed class ToIPSummaryDump : Element, ITaskCallback
{
    private string _filename = "";
    private string _banner = "";
    private bool _hasBanner, _verbose, _badPackets, _carefulTrunc = true, _multipacket, _binary, _header = true, _extraLength = true;
    private readonly List<SummaryFieldDef> _fields = [];
    private SummaryWriter _writer = null!;
    private Stream? _out;
    private bool _isStdout;
    private long _outputCount;
    private Task? _task;
    private NotifierSignal _signal;
    private readonly ByteSink _sa = new();
    private readonly ByteSink _badSa = new();

    public override string PortCount => "1/0-1";
    public override string Processing => "a/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var file = a.ReadMP("FILENAME", Args.String);
        var fields = a.Read("FIELDS", Args.Any, "");
        var contents = a.Read("CONTENTS", Args.Any, "");
        var data = a.Read("DATA", Args.Any, "");
        var verbose = a.Read("VERBOSE", Args.Bool, false);
        var header = a.Read("HEADER", Args.Bool, true);
        var banner = a.Read("BANNER", Args.String, "");
        var multipacket = a.Read("MULTIPACKET", Args.Bool, false);
        var bad = a.Read("BAD_PACKETS", Args.Bool, false);
        var careful = a.Read("CAREFUL_TRUNC", Args.Bool, true);
        var extra = a.Read("EXTRA_LENGTH", Args.Bool, true);
        var binary = a.Read("BINARY", Args.Bool, false);
        if (!a.Complete()) return false;

        // The last of FIELDS, CONTENTS and DATA given wins, as in Click (each read overwrites).
        string spec = "timestamp ip_src";
        if (fields.Present) spec = fields.Value;
        if (contents.Present) spec = contents.Value;
        if (data.Present) spec = data.Value;

        bool ok = true;
        _fields.Clear();
        foreach (var w in ConfigText.SplitSpace(spec))
        {
            string word = ConfigText.Unquote(w);
            var f = SummaryFields.FindWriter(word);
            if (f == null)
            {
                ok = errh.Error($"unknown content type '{word}'");
                continue;
            }
            _fields.Add(f);
            if (binary.Value && f.BinarySize < 0 && f.Bin != BinKind.Special)
                ok = errh.Error($"cannot use field {word} with BINARY");
        }
        if (_fields.Count == 0)
            ok = errh.Error("no contents specified");

        _filename = file;
        _verbose = verbose;
        _header = header;
        _banner = banner;
        _hasBanner = banner.Present && banner.Value.Length > 0;
        _multipacket = multipacket;
        _badPackets = bad;
        _carefulTrunc = careful;
        _extraLength = extra;
        _binary = binary;
        return ok;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        try
        {
            if (_filename == "-")
            {
                _out = Console.OpenStandardOutput();
                _isStdout = true;
            }
            else
                _out = new FileStream(_filename, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return errh.Error($"{_filename}: {IOErrorText.Of(ex)}");
        }
        _writer = new SummaryWriter(_fields, _binary, _carefulTrunc, _extraLength);
        if (InputIsPull(0))
        {
            _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
            _signal = Host.UpstreamEmptySignal(this, 0, _task);
        }

        var sa = new ByteSink();
        sa.Append("!IPSummaryDump 1.3\n");
        if (_hasBanner)
        {
            sa.Append("!creator ");
            sa.Append(SummaryText.Quote(_banner));
            sa.Append('\n');
        }
        if (_verbose)
        {
            sa.Append("!host ");
            sa.Append(Environment.MachineName);
            sa.Append('\n');
            var now = DateTime.Now;
            sa.Append("!runtime ");
            sa.Append(ElementUtil.FormatTimestamp(Host.Clock.NowNs / 1000 * 1000));
            sa.Append(" (");
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            // ctime(3) layout: "Tue Jul  4 17:53:30 2001"
            sa.Append(now.ToString("ddd MMM ", inv) + now.Day.ToString(inv).PadLeft(2) + now.ToString(" HH:mm:ss yyyy", inv));
            sa.Append(")\n");
        }
        sa.Append("!data ");
        for (int i = 0; i < _fields.Count; i++)
        {
            if (i > 0) sa.Append(' ');
            sa.Append(_fields[i].Name == "ntimestamp" && !_binary ? "timestamp" : _fields[i].Name);
        }
        sa.Append('\n');
        if (_binary) sa.Append("!binary\n");
        if (_header)
        {
            sa.WriteTo(_out);
            if (_isStdout) _out.Flush();
        }
        return true;
    }

    private void WritePacket(Packet p, bool multipacket)
    {
        uint extraPackets = p.GetAnnoU32(AnnoOffsets.ExtraPackets);
        if (multipacket && extraPackets > 0)
        {
            uint count = 1 + extraPackets;
            uint len = (uint)p.Length;
            uint total = len;
            if (_extraLength) total += p.GetAnnoU32(AnnoOffsets.ExtraLength);
            if (total < count * len) total = count * len;

            // Spread the lines' timestamps from the first-timestamp annotation to the packet's own.
            long end = p.TimestampNs;
            long delta = 0;
            long first = FirstTimestampNs(p);
            if (first != 0)
            {
                delta = (end - first) / (count - 1) / 1000 * 1000;
                p.TimestampNs = first;
            }
            p.SetAnnoU32(AnnoOffsets.ExtraPackets, 0);
            for (uint i = count; i > 0; i--)
            {
                uint l = total / i;
                p.SetAnnoU32(AnnoOffsets.ExtraLength, l - len);
                total -= l;
                WritePacket(p, false);
                p.TimestampNs = i == 1 ? end : p.TimestampNs + delta;
            }
            return;
        }

        _sa.Clear();
        _badSa.Clear();
        _writer.Summarize(p, _sa, _badPackets ? _badSa : null);
        if (_badPackets && _badSa.Length > 0)
        {
            if (_binary)
            {
                // a metadata record; its length word does not count itself, as in Click
                var marker = new ByteSink();
                marker.AppendBE32((uint)_badSa.Length | 0x80000000U);
                marker.WriteTo(_out!);
            }
            _badSa.WriteTo(_out!);
        }
        _sa.WriteTo(_out!);
        _outputCount++;
    }

    private static long FirstTimestampNs(Packet p)
    {
        int sec = unchecked((int)p.GetAnnoU32(AnnoOffsets.FirstTimestamp));
        uint usec = p.GetAnnoU32(AnnoOffsets.FirstTimestamp + 4);
        return sec * 1_000_000_000L + usec * 1000L;
    }

    private void Write(PacketBatch batch)
    {
        if (_out == null) return;
        foreach (var p in batch.Packets)
            WritePacket(p, _multipacket);
        if (_isStdout) _out.Flush();
    }

    public override void Push(int port, PacketBatch batch)
    {
        Write(batch);
        if (NOutputs > 0) Output(0, batch);
        else Drop(batch);
    }

    public bool RunTask(Task task)
    {
        var b = Input(0, 1);
        if (b != null)
        {
            Write(b);
            if (NOutputs > 0) Output(0, b); else Drop(b);
            task.FastReschedule();
            return true;
        }
        if (_signal.Active) task.FastReschedule();
        return false;
    }

    public override void Cleanup()
    {
        _out?.Flush();
        if (!_isStdout) _out?.Dispose();
        _out = null;
    }

    public override void AddHandlers()
    {
        AddWriteHandler("flush", (_, _) =>
        {
            _out?.Flush();
            return true;
        });
    }

    /// <summary>Packets written so far (Click's output_count).</summary>
    internal long OutputCount => _outputCount;
}
