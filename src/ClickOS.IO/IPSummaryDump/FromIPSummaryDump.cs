using System.Text;
using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// FromIPSummaryDump(FILENAME [, keywords]): reads an IP summary dump (as ToIPSummaryDump
/// writes it, text or binary; "-" is standard input) and emits one IPv4 packet per record, built
/// from the record's fields: headers get Click's defaults (TTL 100, protocol PROTO), then the
/// IP length, UDP length and destination-address annotation are set. "!data"/"!contents"
/// lines (re)define the fields, "!proto" the default protocol, "!binary" switches to binary
/// records; '#' lines are comments. Lines that cannot be parsed are skipped and counted; the
/// first one is reported. Keywords: STOP (bool: stop the driver at end of file), ACTIVE (bool),
/// CHECKSUM (bool: pad packets to their IP length and set IP/TCP/UDP/ICMP checksums), ZERO
/// (bool, true), PROTO (default protocol, 6), FIELDS/CONTENTS (fields when the file has no
/// "!data" line), FLOWID, MULTIPACKET (bool: one packet per count), SAMPLE (probability),
/// TIMING (bool: replay at the dump's pace), ALLOW_NONEXISTENT (bool), DATA (dump text
/// instead of a file). Handlers: active (read/write), stop (write), sampling_prob, encap,
/// filename, filesize, filepos, bad_lines.
/// </summary>
/// <example>FromIPSummaryDump(DATA "!data ip_src ip_dst ip_proto\n10.0.0.1 10.0.0.2 U\n", STOP true, CHECKSUM true) -> c :: Counter -> Discard;</example>
public sealed class FromIPSummaryDump : Element, ITaskCallback
{
    private const int SamplingShift = 28;

    private string _filename = "";
    private string? _data;
    private bool _stop, _active = true, _zero = true, _checksum, _multipacket, _timing, _allowNonexistent;
    private uint _samplingProb = 1u << SamplingShift;
    private int _defaultProto = 6;
    private bool _haveFlowId, _binary, _formatComplaint;
    private readonly SummaryReader _reader = new();
    private int _minorVersion = 3;

    private Stream? _stream;
    private byte[] _buf = new byte[1 << 16];
    private int _pos, _len;
    private long _fileOffset, _fileSize = -1;
    private bool _eof;
    private long _lineno;
    private long _badLines;

    private Packet? _work;
    private uint _multipacketLength;
    private long _multipacketEnd, _multipacketDelta;
    private bool _haveTiming;
    private long _timingOffset;

    private Task? _task;
    private Timer? _timer;
    private readonly Notifier _notifier = new(true);
    private readonly Random _rng = new();

    public override string PortCount => "0/1";
    public override string Processing => "a/a";

    private string PrintFilename => _filename.Length == 0 || _filename == "-" ? "<stdin>" : _filename;
    private string FileLandmark => _binary ? $"{PrintFilename}:record {_lineno}" : $"{PrintFilename}:{_lineno}";

    private static bool ParseSample(string s, out uint v, out string err)
    {
        err = "expected real number";
        v = 0;
        if (!Values.ParseDouble(s, out double d) || d < 0) return false;
        double scaled = Math.Round(d * (1u << SamplingShift));
        if (scaled > uint.MaxValue) return false;
        v = (uint)scaled;
        return true;
    }

    private static bool ParseProto(string s, out int v, out string err)
    {
        err = "expected integer between 0 and 255";
        v = 0;
        return SummaryText.TryParseUInt(s, out uint u) && u <= 255 && (v = (int)u) >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var file = a.ReadP("FILENAME", Args.String, "");
        var stop = a.Read("STOP", Args.Bool, false);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var zero = a.Read("ZERO", Args.Bool, true);
        var timing = a.Read("TIMING", Args.Bool, false);
        var checksum = a.Read("CHECKSUM", Args.Bool, false);
        var sample = a.Read<uint>("SAMPLE", ParseSample, 1u << SamplingShift);
        var proto = a.Read<int>("PROTO", ParseProto, 6);
        var multipacket = a.Read("MULTIPACKET", Args.Bool, false);
        var defContents = a.Read("DEFAULT_CONTENTS", Args.Any, "");
        var defFields = a.Read("DEFAULT_FIELDS", Args.Any, "");
        var defFlowid = a.Read("DEFAULT_FLOWID", Args.Any, "");
        var contents = a.Read("CONTENTS", Args.Any, "");
        var fields = a.Read("FIELDS", Args.Any, "");
        var flowid = a.Read("FLOWID", Args.Any, "");
        var allow = a.Read("ALLOW_NONEXISTENT", Args.Bool, false);
        var data = a.Read("DATA", Args.String, "");
        if (!a.Complete()) return false;

        _samplingProb = sample;
        if (_samplingProb > 1u << SamplingShift)
        {
            errh.Warning("warning: SAMPLE probability reduced to 1");
            _samplingProb = 1u << SamplingShift;
        }
        else if (_samplingProb == 0)
            errh.Warning("warning: SAMPLE probability is 0; emitting no packets");

        _filename = file;
        _defaultProto = proto;
        _stop = stop;
        _active = active;
        _zero = zero;
        _checksum = checksum;
        _timing = timing;
        _allowNonexistent = allow;
        _multipacket = multipacket;
        _haveFlowId = _binary = false;

        string contentSpec = "";
        foreach (var c in new[] { defContents, defFields, contents, fields })
            if (c.Present) contentSpec = c.Value;
        string flowSpec = "";
        foreach (var c in new[] { defFlowid, flowid })
            if (c.Present) flowSpec = c.Value;
        if (contentSpec.Length > 0) BangData(contentSpec, errh);
        if (flowSpec.Length > 0) BangFlowId(flowSpec, errh);

        if (data.Present && data.Value.Length > 0 && _filename.Length > 0)
            return errh.Error("FILENAME and DATA conflict");
        if (data.Present && data.Value.Length > 0)
            _data = data.Value;
        else if (_filename.Length == 0)
            return errh.Error("FILENAME: required argument missing");
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _formatComplaint = false;
        if (OutputIsPush(0))
            _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
        _timer = CreateTimer(_ => OnTimer());
        _notifier.SetActive(_active, false);

        try
        {
            if (_data != null)
                _stream = new MemoryStream(Encoding.Latin1.GetBytes(_data), false);
            else if (_filename == "-")
                _stream = Console.OpenStandardInput();
            else
            {
                _stream = new FileStream(_filename, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                _fileSize = _stream.Length;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            bool missing = ex is FileNotFoundException or DirectoryNotFoundException;
            if (missing && _allowNonexistent)
            {
                _eof = true;
                return true;
            }
            return errh.Error($"{PrintFilename}: {(missing ? "No such file or directory" : ex is UnauthorizedAccessException ? "Permission denied" : ex.Message)}");
        }

        if (!Fill(1))
        {
            CloseStream();
            _eof = true;
            if (_allowNonexistent) return true;
            return errh.Error(FileLandmark, "empty file");
        }
        if (_buf[0] == 0x1f && _len > 1 && _buf[1] == 0x8b)
            return errh.Error($"{PrintFilename}: compressed (gzip) dumps are not supported");

        _minorVersion = 3;
        var first = PeekLine();
        if (first != null && StartsWith(first, "!IPSummaryDump"))
        {
            if (TryParseVersion(first.AsSpan(14), out int major, out int minor))
            {
                _minorVersion = minor;
                if (major != 1 || minor > 3)
                {
                    errh.Warning(FileLandmark, $"warning: unexpected IPSummaryDump version {major}.{minor}");
                    _minorVersion = 3;
                }
            }
            ReadLine();
        }
        else if (first != null && !StartsWith(first, "!creator") && !StartsWith(first, "!data") && !StartsWith(first, "!contents")
                 && !StartsWith(first, "!proto") && !StartsWith(first, "!flowid") && _reader.FieldCount == 0)
            errh.Warning(FileLandmark, "warning: missing banner line; is this an IP summary dump?");
        _reader.MinorVersion = _minorVersion;
        return true;
    }

    private static bool StartsWith(byte[] line, string prefix)
    {
        if (line.Length < prefix.Length) return false;
        for (int i = 0; i < prefix.Length; i++)
            if (line[i] != prefix[i]) return false;
        return true;
    }

    /// <summary>" %d.%d" as sscanf reads it.</summary>
    private static bool TryParseVersion(ReadOnlySpan<byte> s, out int major, out int minor)
    {
        major = minor = 0;
        int i = 0;
        while (i < s.Length && SummaryReader.IsSpace(s[i])) i++;
        if (!ScanInt(s, ref i, out major)) return false;
        if (i >= s.Length || s[i] != '.') return false;
        i++;
        return ScanInt(s, ref i, out minor);
    }

    private static bool ScanInt(ReadOnlySpan<byte> s, ref int i, out int v)
    {
        v = 0;
        while (i < s.Length && SummaryReader.IsSpace(s[i])) i++;
        bool neg = false;
        if (i < s.Length && (s[i] == '-' || s[i] == '+')) { neg = s[i] == '-'; i++; }
        int start = i;
        long acc = 0;
        while (i < s.Length && s[i] >= '0' && s[i] <= '9') { acc = Math.Min(acc * 10 + (s[i] - '0'), int.MaxValue); i++; }
        v = (int)(neg ? -acc : acc);
        return i > start;
    }

    // ---------------------------------------------------------------- file reading

    private bool Fill(int need)
    {
        if (_len - _pos >= need) return true;
        if (_stream == null) return false;
        if (_pos > 0)
        {
            Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
            _len -= _pos;
            _fileOffset += _pos;
            _pos = 0;
        }
        if (need > _buf.Length) Array.Resize(ref _buf, Math.Max(need, _buf.Length * 2));
        while (_len < need)
        {
            int n = _stream.Read(_buf, _len, _buf.Length - _len);
            if (n <= 0) break;
            _len += n;
        }
        return _len - _pos >= need;
    }

    /// <summary>The next line with its terminator ("\n", "\r\n" or "\r"), or null at end of file.</summary>
    private byte[]? ReadLine(bool peek = false)
    {
        int scanned = 0; // bytes after _pos known to hold no line end
        while (true)
        {
            int i = _pos + scanned;
            while (i < _len && _buf[i] != '\n' && _buf[i] != '\r') i++;
            if (i < _len)
            {
                if (_buf[i] == '\n') return Take(i + 1, peek);
                int rel = i - _pos;
                if (i + 1 >= _len && !Fill(rel + 2))
                    return Take(_pos + rel + 1, peek); // "\r" at end of file
                i = _pos + rel;
                return Take(i + (_buf[i + 1] == '\n' ? 2 : 1), peek);
            }
            scanned = _len - _pos;
            if (!Fill(scanned + 1))
                return scanned == 0 ? null : Take(_len, peek);
        }
    }

    private byte[]? PeekLine() => ReadLine(peek: true);

    private byte[] Take(int end, bool peek)
    {
        var line = _buf.AsSpan(_pos, end - _pos).ToArray();
        if (!peek)
        {
            _pos = end;
            _lineno++;
        }
        return line;
    }

    private byte[]? ReadBytes(int n)
    {
        if (!Fill(n)) return null;
        var b = _buf.AsSpan(_pos, n).ToArray();
        _pos += n;
        return b;
    }

    /// <summary>One binary record: 1 = packet, 2 = text line, 0 = end of file or error.</summary>
    private int ReadBinaryRecord(out byte[] record)
    {
        record = [];
        var head = ReadBytes(4);
        if (head == null) return 0;
        uint word = (uint)(head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]);
        int length = (int)(word & 0x7FFFFFFF);
        if (length < 4)
        {
            Host.RuntimeErrors.Error(FileLandmark, "binary record too short");
            return 0;
        }
        bool textual = (head[0] & 0x80) != 0;
        var body = length > 4 ? ReadBytes(length - 4) : null;
        if (body == null) return 0;
        if (textual)
        {
            int e = body.Length;
            while (e > 0 && body[e - 1] == 0) e--;
            if (e != body.Length) body = body[..e];
        }
        record = body;
        _lineno++;
        return textual ? 2 : 1;
    }

    private void CloseStream()
    {
        if (_stream != null && _filename != "-") _stream.Dispose();
        _stream = null;
    }

    // ---------------------------------------------------------------- "!" lines

    private void BangData(string line, ErrorHandler errh)
    {
        var words = ConfigText.SplitSpace(line);
        var fields = new List<SummaryFieldDef>();
        for (int i = 0; i < words.Count; i++)
        {
            string word = ConfigText.Unquote(words[i]);
            if (i == 0 && (word == "!data" || word == "!contents")) continue;
            var f = SummaryFields.FindReader(word);
            if (f == null)
            {
                errh.Warning(FileLandmark, $"warning: unknown content type '{word}'");
                f = NullField;
            }
            fields.Add(f);
        }
        if (fields.Count == 0)
            errh.Error(FileLandmark, "no contents specified");
        _reader.SetFields(fields);
    }

    /// <summary>A field that is skipped (an unknown name in "!data").</summary>
    private static readonly SummaryFieldDef NullField = new("none", SumField.None, BinKind.B0, 100);

    private void BangProto(string line, string type, ErrorHandler errh)
    {
        var words = ConfigText.SplitSpace(line);
        if (words.Count != 2)
            errh.Error(FileLandmark, $"bad {type}");
        else if (SummaryText.ParseIPProtoName(words[1], out uint p) && p < 256)
            _defaultProto = (int)p;
        else if (words[1] == "T") _defaultProto = 6;
        else if (words[1] == "U") _defaultProto = 17;
        else if (words[1] == "I") _defaultProto = 1;
        else
            errh.Error(FileLandmark, $"bad protocol in {type}");
    }

    private void BangFlowId(string line, ErrorHandler errh)
    {
        // Like Click, the first word is skipped (it is "!flowid" in a dump).
        var words = ConfigText.SplitSpace(line);
        uint sport = 0, dport = 0;
        if (words.Count < 5
            || (!Values.ParseIPv4(words[1], out _) && words[1] != "-")
            || (!SummaryText.TryParseUInt(words[2], out sport) && words[2] != "-")
            || (!Values.ParseIPv4(words[3], out _) && words[3] != "-")
            || (!SummaryText.TryParseUInt(words[4], out dport) && words[4] != "-")
            || sport > 65535 || dport > 65535)
        {
            errh.Error(FileLandmark, "bad !flowid specification");
            _haveFlowId = false;
        }
        else
        {
            if (words.Count >= 6)
                BangProto("! " + words[5], "!flowid", errh);
            // As in Click 2.1, the flow ID only forces an IP header; its addresses and ports
            // are not applied (they stay zero).
            _haveFlowId = true;
        }
    }

    // ---------------------------------------------------------------- records

    private static bool IsBang(byte[] line, string word)
    {
        int n = word.Length;
        return line.Length >= n + 1 && StartsWith(line, word) && SummaryReader.IsSpace(line[n]);
    }

    /// <summary>Reads records until one yields a packet or a line yields none; null with _eof at end.</summary>
    private Packet? ReadPacket()
    {
        if (_eof) return null;
        var errh = Host.RuntimeErrors;
        byte[] line;
        bool binaryRecord;
        while (true)
        {
            if (_binary)
            {
                int r = ReadBinaryRecord(out line);
                if (r <= 0) { AtEof(); return null; }
                binaryRecord = r == 1;
            }
            else
            {
                var l = ReadLine();
                if (l == null) { AtEof(); return null; }
                line = l;
                binaryRecord = false;
            }
            if (line.Length == 0) continue;
            if (binaryRecord || (line[0] != '!' && line[0] != '#')) break;
            if (line[0] != '!') continue;
            string text = Encoding.Latin1.GetString(line);
            if (IsBang(line, "!data")) BangData(text, errh);
            else if (IsBang(line, "!flowid")) BangFlowId(text, errh);
            else if (IsBang(line, "!proto")) BangProto(text, "!proto", errh);
            else if (IsBang(line, "!aggregate")) BangAggregate(text, errh);
            else if (IsBang(line, "!binary")) BangBinary(text, errh);
            else if (IsBang(line, "!contents")) BangData(text, errh);
        }

        _reader.DefaultProto = _defaultProto;
        _reader.HaveFlowId = _haveFlowId;
        _reader.Checksum = _checksum;
        _reader.Zero = _zero;
        _reader.MinorVersion = _minorVersion;
        if (!_reader.Build(line, binaryRecord))
        {
            bool blank = !binaryRecord && line.All(SummaryReader.IsSpace);
            if (!blank)
            {
                _badLines++;
                if (!_formatComplaint)
                {
                    errh.Error(FileLandmark, _reader.FieldCount == 0 ? "no '!data' provided" : "packet parse error");
                    _formatComplaint = true;
                }
            }
            return null;
        }
        return _reader.ToPacket(Host.Pool);
    }

    private void BangAggregate(string line, ErrorHandler errh)
    {
        var words = ConfigText.SplitSpace(line);
        if (words.Count != 2 || !SummaryText.TryParseUInt(words[1], out _))
            errh.Error(FileLandmark, "bad !aggregate specification");
    }

    private void BangBinary(string line, ErrorHandler errh)
    {
        var words = ConfigText.SplitSpace(line);
        if (words.Count != 1)
            errh.Error(FileLandmark, "bad !binary specification");
        _binary = true;
        _lineno = 1;
    }

    private void AtEof()
    {
        _eof = true;
        CloseStream();
    }

    // ---------------------------------------------------------------- MULTIPACKET, TIMING

    private static long FirstTimestampNs(Packet p) =>
        unchecked((int)p.GetAnnoU32(AnnoOffsets.FirstTimestamp)) * 1_000_000_000L + p.GetAnnoU32(AnnoOffsets.FirstTimestamp + 4) * 1000L;

    /// <summary>Makes the packet's IP (and UDP) length say length + <paramref name="extra"/>.</summary>
    private static void SetPacketLengths(Packet p, uint extra)
    {
        if (!p.HasNetworkHeader) return;
        uint length = (uint)p.Length + extra;
        int nh = p.NetworkHeaderOffset;
        if (nh < 0 || nh + 4 > p.Length) return;
        var d = p.Data;
        if (((uint)(d[nh + 2] << 8 | d[nh + 3])) == (length & 0xFFFF)) return;
        var w = p.WritableData();
        w[nh + 2] = (byte)(length >> 8);
        w[nh + 3] = (byte)length;
        int hl = (w[nh] & 0xF) << 2;
        if (w[nh + 9] == 17 && nh + hl + 6 <= w.Length)
        {
            uint ulen = length - (uint)hl;
            w[nh + hl + 4] = (byte)(ulen >> 8);
            w[nh + hl + 5] = (byte)ulen;
        }
    }

    /// <summary>Splits a record with a count into that many packets, spreading length and time.</summary>
    private Packet? HandleMultipacket(Packet? p)
    {
        if (p == null || p.GetAnnoU32(AnnoOffsets.ExtraPackets) == 0)
        {
            _work = null;
            return p;
        }
        uint count = 1 + p.GetAnnoU32(AnnoOffsets.ExtraPackets);
        if (_work == null)
        {
            _multipacketLength = ((uint)p.Length + p.GetAnnoU32(AnnoOffsets.ExtraLength)) / count;
            if (_multipacketLength < (uint)p.Length)
            {
                _multipacketLength = (uint)p.Length;
                p.SetAnnoU32(AnnoOffsets.ExtraLength, _multipacketLength * (count - 1));
            }
            _multipacketEnd = p.TimestampNs;
            long first = FirstTimestampNs(p);
            if (first != 0)
            {
                _multipacketDelta = (p.TimestampNs - first) / (count - 1) / 1000 * 1000;
                p.TimestampNs = first;
            }
            else
                _multipacketDelta = 0;
            SetPacketLengths(p, _multipacketLength - (uint)p.Length);
            _work = p;
        }

        var q = p.Clone();
        if (q != null)
        {
            q.SetAnnoU32(AnnoOffsets.ExtraPackets, 0);
            q.SetAnnoU32(AnnoOffsets.ExtraLength, _multipacketLength - (uint)q.Length);
        }
        var w = _work;
        w.SetAnnoU32(AnnoOffsets.ExtraPackets, count - 2);
        w.SetAnnoU32(AnnoOffsets.ExtraLength, w.GetAnnoU32(AnnoOffsets.ExtraLength) - _multipacketLength);
        if (count == 2)
        {
            w.TimestampNs = _multipacketEnd;
            SetPacketLengths(w, w.GetAnnoU32(AnnoOffsets.ExtraLength));
        }
        else
            w.TimestampNs += _multipacketDelta;
        return q;
    }

    /// <summary>With TIMING, whether <paramref name="p"/> is due; if not it is kept and a timer set.</summary>
    private bool CheckTiming(Packet p)
    {
        long now = Host.Clock.NowNs;
        if (!_haveTiming)
        {
            _timingOffset = now - p.TimestampNs;
            _haveTiming = true;
        }
        long due = p.TimestampNs + _timingOffset;
        if (now < due)
        {
            _timer!.ScheduleAt(due);
            if (OutputIsPull(0)) _notifier.SetActive(false, false);
            _work = p;
            return false;
        }
        _work = null;
        return true;
    }

    private void OnTimer()
    {
        if (!_active) return;
        if (OutputIsPull(0)) _notifier.SetActive(true);
        else _task?.Reschedule();
    }

    private bool Sampled() =>
        _samplingProb >= 1u << SamplingShift || (uint)(_rng.Next() & ((1 << SamplingShift) - 1)) < _samplingProb;

    /// <summary>The next packet to emit, or null (nothing now; <paramref name="done"/> at end of input).</summary>
    private Packet? Next(out bool done, out bool wait)
    {
        done = wait = false;
        while (true)
        {
            var p = _work ?? ReadPacket();
            if (p == null && _eof && _work == null)
            {
                done = true;
                return null;
            }
            if (p == null) return null;
            if (_timing && !CheckTiming(p))
            {
                wait = true;
                return null;
            }
            if (_multipacket) p = HandleMultipacket(p);
            if (Sampled()) return p;
            p?.Kill();
        }
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        var p = Next(out bool done, out bool wait);
        if (done)
        {
            if (_stop) Host.PleaseStop();
            return false;
        }
        if (wait) return false;
        if (p != null) OutputOne(0, p);
        task.FastReschedule();
        return p != null;
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (!_active) return null;
        var p = Next(out bool done, out bool wait);
        if (done)
        {
            if (_stop) Host.PleaseStop();
            _notifier.SetActive(false, false);
            return null;
        }
        if (wait || p == null) return null;
        _notifier.SetActive(true, false);
        var b = Host.Batches.Rent();
        b.Add(p);
        return b;
    }

    public override Notifier? EmptyNotifier(int outputPort) => OutputIsPull(0) ? _notifier : null;

    public override void Cleanup()
    {
        CloseStream();
        _work?.Kill();
        _work = null;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("sampling_prob", () => ((double)_samplingProb / (1u << SamplingShift)).ToString("0.#########", inv));
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), (value, errh) =>
        {
            if (!Values.ParseBool(ConfigText.Uncomment(value).Trim(), out bool v))
                return errh.Error("type mismatch");
            _active = v;
            if (OutputIsPush(0))
            {
                if (v && _task != null && !_task.Scheduled) _task.Reschedule();
            }
            else
                _notifier.SetActive(v, true);
            return true;
        }, HandlerFlags.None);
        AddReadHandler("encap", () => "IP");
        AddButton("stop", () =>
        {
            _active = false;
            Host.PleaseStop();
        });
        AddReadHandler("filename", () => PrintFilename);
        AddReadHandler("filesize", () => _fileSize < 0 ? "-" : _fileSize.ToString(inv));
        AddReadHandler("filepos", () => (_fileOffset + _pos).ToString(inv));
        AddReadHandler("bad_lines", () => _badLines.ToString(inv));
    }
}
