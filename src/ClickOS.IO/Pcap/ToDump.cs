using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Elements;
using ClickOS.Language;

namespace ClickOS.IO;

/// <summary>
/// ToDump(FILENAME [, keywords]): writes packets to a pcap file (little-endian, nanosecond
/// timestamps) that tcpdump and Wireshark read, then passes them on if output 0 is connected.
/// Keywords: SNAPLEN (default 2000), ENCAP (ETHER, IP, SLL, 802_11), EXTRA_LENGTH (bool, true),
/// UNBUFFERED (bool), NANO (bool, true). Handlers: count, filename, reset_counts.
/// </summary>
/// <example>InfiniteSource(LIMIT 3, STOP true) -> SetTimestamp(1) -> ToDump(out.pcap);</example>
public sealed class ToDump : Element, ITaskCallback, ITrafficCounter
{
    TrafficRole ITrafficCounter.Role => TrafficRole.Output;
    long ITrafficCounter.TrafficPackets => _count;
    long ITrafficCounter.TrafficBytes => _bytes;

    private string _filename = "";
    private int _snaplen = 2000, _linkType = PcapFormat.LinkEthernet;
    private bool _extraLength = true, _unbuffered, _nano = true;
    private Stream? _out;
    private long _count, _bytes;
    private Task? _task;
    private NotifierSignal _signal;
    private readonly byte[] _rec = new byte[PcapFormat.RecordHeaderSize];

    public override string PortCount => "1/0-1";
    public override string Processing => "a/a";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var file = a.ReadMP("FILENAME", Args.String);
        var snap = a.ReadP("SNAPLEN", Args.Unsigned, 2000);
        var encap = a.ReadP("ENCAP", Args.Word, "ETHER");
        var extra = a.Read("EXTRA_LENGTH", Args.Bool, true);
        var unbuf = a.Read("UNBUFFERED", Args.Bool, false);
        var nano = a.Read("NANO", Args.Bool, true);
        a.Read("USE_ENCAP_FROM", Args.Any, "");
        if (!a.Complete()) return false;
        int lt = PcapFormat.LinkTypeFromEncap(encap);
        if (lt < 0) return errh.Error($"ENCAP: bad encapsulation type '{encap.Value}'");
        _filename = file;
        _snaplen = snap.Value == 0 ? 65535 : snap.Value;
        _linkType = lt;
        _extraLength = extra;
        _unbuffered = unbuf;
        _nano = nano;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        try
        {
            _out = _filename == "-" ? Console.OpenStandardOutput() : new FileStream(_filename, FileMode.Create, FileAccess.Write, FileShare.Read, _unbuffered ? 1 : 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return errh.Error($"{_filename}: {IOErrorText.Of(ex)}");
        }
        Span<byte> h = stackalloc byte[PcapFormat.FileHeaderSize];
        PcapFormat.WriteFileHeader(h, _nano, _snaplen, _linkType);
        _out.Write(h);
        _out.Flush();
        if (InputIsPull(0))
        {
            _task = CreateTask(this, true, ScheduleInfo.TicketsFor(Host, this));
            _signal = Host.UpstreamEmptySignal(this, 0, _task);
        }
        return true;
    }

    private void Write(PacketBatch batch)
    {
        var o = _out;
        if (o == null) return;
        foreach (var p in batch.Packets)
        {
            long ts = p.TimestampNs != 0 ? p.TimestampNs : Host.Clock.NowNs;
            long sec = Math.DivRem(ts, 1_000_000_000, out long sub);
            if (!_nano) sub /= 1000;
            int caplen = Math.Min(p.Length, _snaplen);
            long len = p.Length + (_extraLength ? p.GetAnnoU32(AnnoOffsets.ExtraLength) : 0);
            BinaryPrimitives.WriteUInt32LittleEndian(_rec, (uint)sec);
            BinaryPrimitives.WriteUInt32LittleEndian(_rec.AsSpan(4), (uint)sub);
            BinaryPrimitives.WriteUInt32LittleEndian(_rec.AsSpan(8), (uint)caplen);
            BinaryPrimitives.WriteUInt32LittleEndian(_rec.AsSpan(12), (uint)len);
            o.Write(_rec);
            o.Write(p.Data[..caplen]);
        }
        _count += batch.Count;
        _bytes += TrafficBytes.Sum(batch.Packets);
        if (_unbuffered) o.Flush();
    }

    public override void Push(int port, PacketBatch batch)
    {
        Write(batch);
        if (NOutputs > 0) Output(0, batch);
        else Drop(batch);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b != null) Write(b);
        return b;
    }

    public bool RunTask(Task task)
    {
        var b = Input(0, 32);
        if (b != null)
        {
            Write(b);
            if (NOutputs > 0) Output(0, b); else Drop(b);
        }
        if (b != null || _signal.Active) task.FastReschedule();
        return b != null;
    }

    public override void Cleanup()
    {
        _out?.Flush();
        if (_filename != "-") _out?.Dispose();
        _out = null;
    }

    public override void AddHandlers()
    {
        AddReadHandler("count", () => _count.ToString(ElementUtil.Inv));
        AddReadHandler("filename", () => _filename);
        AddButton("reset_counts", () => _count = 0);
    }
}
