using System.Runtime.CompilerServices;
using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// FromDump(FILENAME [, keywords]): reads packets from a pcap file (either byte order, µs or ns
/// timestamps) or a pcapng file (section, interface, enhanced and simple packet blocks), plain
/// or gzip/bzip2-compressed (recognized by magic bytes), and emits them with their timestamps,
/// one per task run (BURST to change).
/// Keywords: STOP (bool: stop the driver at end of file), ACTIVE (bool), SAMPLE (probability),
/// FORCE_IP (bool: emit only IPv4 packets, link header stripped, from Ethernet, raw IP, Linux SLL or 802.11 data frames with LLC/SNAP; others go to output 1 if present, else are dropped), START/END (timestamps), START_AFTER/END_AFTER (seconds
/// after the file's first packet), INTERVAL (seconds after the first packet emitted), END_CALL (handler), BURST (int),
/// TIMING (bool: replay at the original pace), EXTRA_LENGTH (bool).
/// Handlers: count, filename, filesize, filepos, encap, active (read/write), stop (write), reset_counts.
/// </summary>
/// <example>FromDump(in.pcap, STOP true) -> c :: Counter -> Discard;</example>
public sealed class FromDump : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Input;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _bytes;

    private string _filename = "";
    private bool _mmap = true;
    private string? _readError;
    private bool _stop, _active = true, _forceIP, _timing, _extraLength = true;
    private double _sample = 1;
    private long _start = long.MinValue, _end = long.MaxValue;
    private string? _endCall;
    private int _burst = 1;
    private Stream? _stream;
    private byte[] _buf = new byte[1 << 16];
    private int _bufPos, _bufLen;
    private long _fileSize, _consumed;
    private PcapFormat.Header _hdr;
    private PcapNg? _ng;
    // Times relative to the first packet in the file (START_AFTER, END_AFTER) or the first one emitted (INTERVAL).
    private long _startAfterNs = -1, _endAfterNs = -1, _intervalNs = -1;
    private bool _sawFirst, _emittedFirst;
    private int _linkType;
    private long _count, _bytes;
    private bool _eof;
    private Task? _task;
    private Timer? _timer;
    private long _timingBaseFile = long.MinValue, _timingBaseNow;
    private Random _rng = new(0);
    private PacketPool _pool = null!;
    private BatchPool _batches = null!;

    public override string PortCount => "0/1-2";
    public override string Processing => "a/ah";

    private static bool Ts(string s, out long v, out string err)
    {
        err = "expected timestamp";
        return ElementUtil.ParseTimestamp(s, out v);
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var file = a.ReadMP("FILENAME", Args.String);
        var stop = a.Read("STOP", Args.Bool, false);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var sample = a.Read("SAMPLE", Args.Real, 1.0);
        var forceIp = a.Read("FORCE_IP", Args.Bool, false);
        var start = a.Read("START", Ts, long.MinValue);
        var end = a.Read("END", Ts, long.MaxValue);
        var startAfter = a.Read("START_AFTER", Args.Seconds, 0.0);
        var endAfter = a.Read("END_AFTER", Args.Seconds, 0.0);
        var interval = a.Read("INTERVAL", Args.Seconds, 0.0);
        var endCall = a.Read("END_CALL", Args.Any, "");
        var burst = a.Read("BURST", Args.Unsigned, 1);
        var timing = a.Read("TIMING", Args.Bool, false);
        var extra = a.Read("EXTRA_LENGTH", Args.Bool, true);
        var mmap = a.Read("MMAP", Args.Bool, true);
        a.Read("FILEPOS", Args.Int64, 0L);
        if (!a.Complete()) return false;
        if (sample.Value is < 0 or > 1) return errh.Error("SAMPLE: out of range");
        _filename = file;
        _stop = stop;
        _active = active;
        _sample = sample;
        _forceIP = forceIp;
        if (start.Present && startAfter.Present) return errh.Error("START and START_AFTER are mutually exclusive");
        if ((end.Present ? 1 : 0) + (endAfter.Present ? 1 : 0) + (interval.Present ? 1 : 0) > 1)
            return errh.Error("END, END_AFTER and INTERVAL are mutually exclusive");
        if (stop.Value && endCall.Value.Length > 0) return errh.Error("END_CALL and STOP are mutually exclusive");
        _start = start;
        _end = end;
        _startAfterNs = startAfter.Present ? (long)(startAfter.Value * 1e9) : -1;
        _endAfterNs = endAfter.Present ? (long)(endAfter.Value * 1e9) : -1;
        _intervalNs = interval.Present ? (long)(interval.Value * 1e9) : -1;
        _endCall = endCall.Value.Length > 0 ? endCall.Value : null;
        _burst = Math.Clamp(burst.Value, 1, PacketBatch.MaxSize);
        _mmap = mmap;
        _timing = timing;
        _extraLength = extra;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _pool = Host.Pool;
        _batches = Host.Batches;
        try
        {
            _stream = _filename == "-" ? Console.OpenStandardInput() : new FileStream(_filename, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            _fileSize = _stream.CanSeek ? _stream.Length : -1;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return errh.Error($"{_filename}: {(ex is FileNotFoundException or DirectoryNotFoundException ? "No such file or directory" : ex.Message)}");
        }
        Fill(4);
        if (_bufLen < 4) return errh.Error($"{_filename}: not a tcpdump file (too short)");
        // Compressed dumps are recognized by their magic bytes, as Click does.
        if (_buf[0] == 0x1f && _buf[1] == 0x8b)
            Reopen(new System.IO.Compression.GZipStream(new PrefixedStream(_buf.AsSpan(_bufPos, _bufLen - _bufPos).ToArray(), _stream!), System.IO.Compression.CompressionMode.Decompress));
        else if (_buf[0] == (byte)'B' && _buf[1] == (byte)'Z' && _buf[2] == (byte)'h')
        {
            if (_filename == "-") return errh.Error($"{_filename}: bzip2 input from standard input is not supported");
            var bz = StartBunzip2(_filename, errh);
            if (bz == null) return false;
            Reopen(bz);
        }
        Fill(PcapFormat.FileHeaderSize);
        if (_readError != null) return errh.Error($"{_filename}: {_readError}");
        if (_bufLen < 4) return errh.Error($"{_filename}: not a tcpdump file (too short)");
        var head = _buf.AsSpan(0, Math.Min(_bufLen, PcapFormat.FileHeaderSize));
        if (PcapNg.IsSectionHeader(head))
        {
            _ng = new PcapNg();
            _linkType = -1;
        }
        else
        {
            if (!PcapFormat.TryParseHeader(head, out _hdr))
                return errh.Error($"{_filename}: not a tcpdump file (bad magic number)");
            _bufPos = PcapFormat.FileHeaderSize;
            _consumed = PcapFormat.FileHeaderSize;
            _linkType = _hdr.LinkType;
            if (_linkType is not (PcapFormat.LinkEthernet or PcapFormat.LinkRaw or PcapFormat.LinkRawBsd or PcapFormat.LinkRawOpenBsd or PcapFormat.LinkSll or PcapFormat.Link80211))
                errh.Warning($"{_filename}: unknown link type {_linkType}");
        }
        // Still within the first buffer of an uncompressed regular file: switch to the mapping.
        if (_mmap && _stream is FileStream && _fileSize > 0 && _bufLen == Math.Min(_fileSize, _buf.Length) && OperatingSystem.IsLinux())
            _mmap = Remap(_bufPos);
        if (OutputIsPush(0))
        {
            _task = CreateTask(this, _active, ScheduleInfo.TicketsFor(Host, this));
            _timer = CreateTimer(_ => _task.Reschedule());
        }
        return true;
    }

    // MMAP: the file is read through a read-only mapping of 64 MiB at a time, so records
    // are copied once (into packets) instead of twice (by read(), then into packets).
    private unsafe byte* _map;
    private long _mapFileOffset;
    // tcpdump's largest snapshot length; a bigger record means a corrupt file.
    private const int MaxRecord = 262144;
    private const long MapWindow = 64L << 20; // bounds the resident mapping

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private unsafe ReadOnlySpan<byte> Buf(int at, int length) =>
        _map != null ? new ReadOnlySpan<byte>(_map + at, length) : _buf.AsSpan(at, length);

    /// <summary>Maps the window of the file that starts at (the page holding) <paramref name="fileOffset"/>.</summary>
    private unsafe bool Remap(long fileOffset)
    {
        Unmap();
        long aligned = fileOffset & ~4095L;
        long len = Math.Min(MapWindow, _fileSize - aligned);
        if (len <= 0) return false;
        int fd = (int)((FileStream)_stream!).SafeFileHandle.DangerousGetHandle();
        void* m = Linux.Native.mmap(null, (nuint)len, Linux.Native.PROT_READ, Linux.Native.MAP_SHARED, fd, (nint)aligned);
        if (m == (void*)-1) return false;
        Linux.Native.madvise(m, (nuint)len, Linux.Native.MADV_SEQUENTIAL);
        _map = (byte*)m;
        _mapFileOffset = aligned;
        _bufPos = (int)(fileOffset - aligned);
        _bufLen = (int)len;
        return true;
    }

    private unsafe void Unmap()
    {
        if (_map != null) Linux.Native.munmap(_map, (nuint)_bufLen);
        _map = null;
    }

    /// <summary>Ensures at least <paramref name="need"/> unread bytes are buffered if the file has them.</summary>
    private unsafe bool Fill(int need)
    {
        if (_bufLen - _bufPos >= need) return true;
        if (_map != null)
            return _mapFileOffset + _bufLen < _fileSize && Remap(_mapFileOffset + _bufPos) && _bufLen - _bufPos >= need;
        if (_bufPos > 0)
        {
            Buffer.BlockCopy(_buf, _bufPos, _buf, 0, _bufLen - _bufPos);
            _bufLen -= _bufPos;
            _bufPos = 0;
        }
        if (need > _buf.Length) Array.Resize(ref _buf, Math.Max(need, _buf.Length * 2));
        while (_bufLen < need && _stream != null)
        {
            int n;
            try
            {
                n = _stream.Read(_buf, _bufLen, _buf.Length - _bufLen);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                // A corrupt compressed stream or a failing disk: report it and end the file here.
                _readError = ex.Message;
                Host.RuntimeErrors.Error($"{_filename}: {IOErrorText.Of(ex)}; giving up");
                _stream.Dispose();
                _stream = null;
                break;
            }
            if (n <= 0) break;
            _bufLen += n;
        }
        return _bufLen - _bufPos >= need;
    }

    private void Reopen(Stream decompressed)
    {
        _stream = decompressed;
        _bufPos = _bufLen = 0;
        _fileSize = -1;
    }

    private System.Diagnostics.Process? _bunzip2;

    private Stream? StartBunzip2(string file, ErrorHandler errh)
    {
        try
        {
            var psi = new System.Diagnostics.ProcessStartInfo("bzip2", ["-dc", file]) { RedirectStandardOutput = true, UseShellExecute = false };
            _bunzip2 = System.Diagnostics.Process.Start(psi);
            _stream?.Dispose();
            return _bunzip2?.StandardOutput.BaseStream;
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            errh.Error($"{file}: bzip2-compressed, but bzip2 could not be run ({ex.Message})");
            return null;
        }
    }

    /// <summary>
    /// Reads the next capture record: its timestamp, where its bytes are in the buffer, and its
    /// captured and original lengths. False at end of file.
    /// </summary>
    private bool NextRecord(out long ts, out int dataAt, out int caplen, out int len)
    {
        ts = 0;
        dataAt = caplen = len = 0;
        if (_ng != null) return NextNgRecord(out ts, out dataAt, out caplen, out len);
        if (!Fill(PcapFormat.RecordHeaderSize)) return false;
        var rh = Buf(_bufPos, PcapFormat.RecordHeaderSize);
        bool sw = _hdr.Swapped;
        long sec = PcapFormat.Read32(rh, sw);
        long sub = PcapFormat.Read32(rh[4..], sw);
        caplen = (int)PcapFormat.Read32(rh[8..], sw);
        len = (int)PcapFormat.Read32(rh[12..], sw);
        if (caplen < 0 || caplen > MaxRecord) { Host.RuntimeErrors.Error($"{_filename}: bad packet header (captured length {(uint)caplen}) at offset {_consumed}; giving up"); return false; }
        if (!Fill(PcapFormat.RecordHeaderSize + caplen)) return false;
        dataAt = _bufPos + PcapFormat.RecordHeaderSize;
        _bufPos = dataAt + caplen;
        _consumed += PcapFormat.RecordHeaderSize + caplen;
        ts = sec * 1_000_000_000 + (_hdr.Nano ? sub : sub * 1000);
        return true;
    }

    /// <summary>pcapng: skips non-packet blocks (keeping section and interface state) until a packet block.</summary>
    private bool NextNgRecord(out long ts, out int dataAt, out int caplen, out int len)
    {
        ts = 0;
        dataAt = caplen = len = 0;
        while (true)
        {
            if (!Fill(12)) return false;
            var head = Buf(_bufPos, 12);
            if (PcapNg.IsSectionHeader(head)) _ng!.StartSection(head);
            int total = (int)_ng!.Read32(head[4..]);
            if (total < 12 || total > 1 << 26 || (total & 3) != 0) { Host.RuntimeErrors.Error($"{_filename}: bad pcapng block; giving up"); return false; }
            if (!Fill(total)) return false;
            var block = Buf(_bufPos, total);
            int at = _bufPos;
            _bufPos += total;
            _consumed += total;
            if (_ng.Packet(block, out ts, out int bodyOff, out caplen, out len, out int link))
            {
                dataAt = at + bodyOff;
                _linkType = link;
                return true;
            }
        }
    }

    /// <summary>Reads the next packet that passes the filters, or null at end of file.</summary>
    private Packet? ReadPacket()
    {
        while (!_eof)
        {
            if (!NextRecord(out long ts, out int dataAt, out int caplen, out int len)) { _eof = true; return null; }
            if (!_sawFirst)
            {
                _sawFirst = true;
                if (_startAfterNs >= 0) _start = ts + _startAfterNs;
                if (_endAfterNs >= 0) _end = ts + _endAfterNs;
            }
            if (ts < _start) continue;
            if (!_emittedFirst)
            {
                _emittedFirst = true;
                if (_intervalNs >= 0) _end = ts + _intervalNs;
            }
            if (ts > _end) { _eof = true; return null; }
            if (_sample < 1 && _rng.NextDouble() >= _sample) continue;
            var data = Buf(dataAt, caplen);
            int ipOff = IPOffset(data);
            if (_forceIP && ipOff < 0)
            {
                // As in Click: with a second output, non-IP packets leave there; else they vanish.
                if (NOutputs > 1) EmitNonIP(data, ts, caplen, len);
                continue;
            }
            var p = _pool.Make(data);
            if (p == null) return null;
            p.TimestampNs = ts;
            if (_extraLength && len > caplen) p.SetAnnoU32(AnnoOffsets.ExtraLength, (uint)(len - caplen));
            if (_linkType == PcapFormat.LinkEthernet) p.SetMacHeader(0);
            if (ipOff >= 0 && ipOff < caplen)
            {
                int hl = (data[ipOff] & 0x0F) * 4;
                p.SetNetworkHeader(ipOff, Math.Max(hl, 20));
                if (_forceIP && ipOff > 0) p.Pull(ipOff);
            }
            return p;
        }
        return null;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void EmitNonIP(ReadOnlySpan<byte> data, long ts, int caplen, int len)
    {
        var p = _pool.Make(data);
        if (p == null) return;
        p.TimestampNs = ts;
        if (_extraLength && len > caplen) p.SetAnnoU32(AnnoOffsets.ExtraLength, (uint)(len - caplen));
        if (_linkType == PcapFormat.LinkEthernet) p.SetMacHeader(0);
        OutputOne(1, p);
    }

    private int IPOffset(ReadOnlySpan<byte> d)
    {
        switch (_linkType)
        {
            case PcapFormat.LinkEthernet:
                if (d.Length >= 34 && BinaryPrimitives.ReadUInt16BigEndian(d[12..]) == 0x0800 && (d[14] >> 4) == 4) return 14;
                return -1;
            case PcapFormat.LinkRaw or PcapFormat.LinkRawBsd or PcapFormat.LinkRawOpenBsd:
                return d.Length >= 20 && (d[0] >> 4) == 4 ? 0 : -1;
            case PcapFormat.LinkSll:
                return d.Length >= 36 && BinaryPrimitives.ReadUInt16BigEndian(d[14..]) == 0x0800 ? 16 : -1;
            case PcapFormat.Link80211:
            {
                // A data frame: a 24-byte header, 30 with a fourth address (to and from DS),
                // 2 more for QoS data; then LLC/SNAP (AA AA 03 00 00 00) and the EtherType.
                if (d.Length < 24 || ((d[0] >> 2) & 3) != 2) return -1;
                int h = (d[1] & 3) == 3 ? 30 : 24;
                if ((d[0] & 0x80) != 0) h += 2;
                if (d.Length < h + 8 + 20 || d[h] != 0xAA || d[h + 1] != 0xAA || d[h + 2] != 0x03
                    || d[h + 3] != 0 || d[h + 4] != 0 || d[h + 5] != 0 || BinaryPrimitives.ReadUInt16BigEndian(d[(h + 6)..]) != 0x0800)
                    return -1;
                return (d[h + 8] >> 4) == 4 ? h + 8 : -1;
            }
            default:
                return -1;
        }
    }

    public bool RunTask(Task task)
    {
        if (!_active) return false;
        var b = _batches.Rent();
        for (int i = 0; i < _burst; i++)
        {
            var p = _timing ? NextTimed() : ReadPacket();
            if (p == null) break;
            b.Add(p);
        }
        int n = b.Count;
        _count += n;
        _bytes += TrafficBytes.Sum(b.Packets);
        if (n > 0) Output(0, b);
        else _batches.Return(b);
        if (_eof && _held == null) { AtEnd(); return n > 0; }
        if (_timing && n == 0) return false;
        task.FastReschedule();
        return n > 0;
    }

    private Packet? _held; // TIMING: the next packet, waiting for its time

    /// <summary>With TIMING, the next packet once its moment (relative to the first) has come; else null and a timer is set.</summary>
    private Packet? NextTimed()
    {
        _held ??= ReadPacket();
        if (_held == null) return null;
        long now = Host.Clock.NowNs;
        if (_timingBaseFile == long.MinValue) { _timingBaseFile = _held.TimestampNs; _timingBaseNow = now; }
        long due = _timingBaseNow + (_held.TimestampNs - _timingBaseFile);
        if (due > now)
        {
            _timer!.ScheduleAt(due);
            return null;
        }
        var p = _held;
        _held = null;
        return p;
    }

    private bool _ended;

    private void AtEnd()
    {
        if (_ended) return;
        _ended = true;
        if (_endCall != null) ElementUtil.CallWrite(Host, this, _endCall, Host.RuntimeErrors);
        else if (_stop) Host.PleaseStop();
    }

    public override PacketBatch? Pull(int port, int max)
    {
        if (!_active) return null;
        var b = Host.Batches.Rent();
        int n = Math.Min(max, _burst);
        for (int i = 0; i < n; i++)
        {
            var p = ReadPacket();
            if (p == null) break;
            b.Add(p);
        }
        _count += b.Count;
        _bytes += TrafficBytes.Sum(b.Packets);
        if (_eof) AtEnd();
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    public override void Cleanup()
    {
        Unmap();
        _stream?.Dispose();
        _stream = null;
        _held?.Kill();
        _held = null;
        if (_bunzip2 is { HasExited: false }) _bunzip2.Kill();
        _bunzip2?.Dispose();
        _bunzip2 = null;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddButton("reset_counts", () => _count = 0);
        AddReadHandler("filename", () => _filename);
        AddReadHandler("filesize", () => _fileSize < 0 ? "-" : _fileSize.ToString(inv));
        AddReadHandler("filepos", () => _consumed.ToString(inv));
        AddReadHandler("encap", () => PcapFormat.EncapName(_linkType));
        AddReadHandler("sampling_prob", () => _sample.ToString("0.#########", inv));
        // pcapng packet blocks that could not be used (bad interface number or lengths): counted, skipped.
        AddReadHandler("skipped", () => (_ng?.Malformed ?? 0).ToString(inv));
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v =>
        {
            _active = v;
            if (v && !_eof) _task?.Reschedule();
        }, "active"), HandlerFlags.None);
        AddButton("stop", () => { _active = false; Host.PleaseStop(); });
    }
}
