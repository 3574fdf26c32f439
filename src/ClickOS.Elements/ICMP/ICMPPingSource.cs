using System.Buffers.Binary;
using System.Globalization;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ICMPPingSource(SRC, DST, keywords): sends ICMP echo requests from SRC to DST every INTERVAL
/// (default 1 s), up to LIMIT (-1 = forever), then stops the driver if STOP. Echo replies
/// arriving on its optional input are matched by sequence number and timed. Keywords:
/// INTERVAL, IDENTIFIER, LIMIT, DATA, STOP, ACTIVE, VERBOSE. Handlers: active (read/write),
/// count, received, summary (read), reset (write).
/// </summary>
/// <example>ICMPPingSource(10.0.0.1, 10.0.0.2, INTERVAL 0.001, LIMIT 3, STOP true) -> ICMPPingResponder -> Discard;</example>
public sealed class ICMPPingSource : Element
{
    private uint _src, _dst;
    private ushort _ident, _seq;
    private long _intervalNs = 1_000_000_000, _limit = -1, _sent, _received;
    private bool _stop, _active = true, _verbose;
    private byte[] _data = [];
    private Timer _timer = null!;
    private readonly Dictionary<ushort, long> _sentAt = [];
    private double _rttMin = double.MaxValue, _rttMax, _rttSum, _rttSq;

    public override string PortCount => "0-1/1";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var src = a.ReadMP("SRC", Args.IPAddress);
        var dst = a.ReadMP("DST", Args.IPAddress);
        var interval = a.Read("INTERVAL", Args.Seconds, 1.0);
        var ident = a.Read("IDENTIFIER", Args.Unsigned, 0);
        var limit = a.Read("LIMIT", Args.Int64, -1L);
        var data = a.Read("DATA", Args.String, "");
        var stop = a.Read("STOP", Args.Bool, false);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var verbose = a.Read("VERBOSE", Args.Bool, true);
        if (!a.Complete()) return false;
        _src = src;
        _dst = dst;
        _intervalNs = Math.Max(1, (long)(interval.Value * 1e9));
        _ident = (ushort)ident.Value;
        _limit = limit;
        _data = System.Text.Encoding.Latin1.GetBytes(data.Value);
        _stop = stop;
        _active = active;
        _verbose = verbose;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _timer = CreateTimer(Fire);
        if (_active) _timer.ScheduleNow();
        return true;
    }

    private void Fire(Timer t)
    {
        if (!_active) return;
        if (_limit >= 0 && _sent >= _limit)
        {
            if (_stop) Host.PleaseStop();
            return;
        }
        int len = 28 + Math.Max(_data.Length, 8);
        var p = Host.Pool.Make(PacketPool.DefaultHeadroom, len, 0);
        if (p != null)
        {
            var w = p.WritableData();
            w.Clear();
            w[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(w[2..], (ushort)len);
            w[8] = 255;
            w[9] = 1;
            BinaryPrimitives.WriteUInt32BigEndian(w[12..], _src);
            BinaryPrimitives.WriteUInt32BigEndian(w[16..], _dst);
            BinaryPrimitives.WriteUInt16BigEndian(w[10..], InternetChecksum.Compute(w[..20]));
            var icmp = w[20..];
            icmp[0] = 8;
            BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], _ident);
            BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], _seq);
            if (_data.Length > 0) _data.CopyTo(icmp[8..]);
            else BinaryPrimitives.WriteInt64BigEndian(icmp[8..], Host.Clock.NowNs);
            BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Compute(icmp));
            p.SetNetworkHeader(0, 20);
            p.DstIPAnno = _dst;
            p.TimestampNs = Host.Clock.NowNs;
            _sentAt[_seq] = p.TimestampNs;
            _seq++;
            _sent++;
            OutputOne(0, p);
        }
        t.Reschedule(_intervalNs);
    }

    public override void Push(int port, PacketBatch batch)
    {
        long now = Host.Clock.NowNs;
        foreach (var p in batch.Packets)
        {
            int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
            var d = p.Data;
            if (ip >= 0 && d.Length >= ip + 28 && d[ip + 9] == 1)
            {
                int hl = (d[ip] & 0x0F) * 4;
                if (d.Length >= ip + hl + 8 && d[ip + hl] == 0 && BinaryPrimitives.ReadUInt16BigEndian(d[(ip + hl + 4)..]) == _ident)
                {
                    ushort seq = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + hl + 6)..]);
                    if (_sentAt.Remove(seq, out long at))
                    {
                        double rtt = (now - at) / 1e6;
                        _received++;
                        _rttMin = Math.Min(_rttMin, rtt);
                        _rttMax = Math.Max(_rttMax, rtt);
                        _rttSum += rtt;
                        _rttSq += rtt * rtt;
                        if (_verbose)
                            Host.ErrorOutput.Write(string.Create(CultureInfo.InvariantCulture,
                                $"{Name}: {d.Length - ip} bytes from {Values.UnparseIPv4(BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]))}: icmp_seq={seq} ttl={d[ip + 8]} time={rtt:0.###} ms\n"));
                    }
                }
            }
            p.Kill();
        }
        Host.Batches.Return(batch);
    }

    private string Summary()
    {
        var inv = CultureInfo.InvariantCulture;
        string s = $"{_sent} packets transmitted, {_received} received, {(_sent == 0 ? 0 : 100 * (_sent - _received) / _sent)}% packet loss\n";
        if (_received > 0)
        {
            double avg = _rttSum / _received;
            double mdev = Math.Sqrt(Math.Max(0, _rttSq / _received - avg * avg));
            s += string.Create(inv, $"rtt min/avg/max/mdev = {_rttMin:0.000}/{avg:0.000}/{_rttMax:0.000}/{mdev:0.000} ms\n");
        }
        return s;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _sent.ToString(inv));
        AddReadHandler("received", () => _received.ToString(inv));
        AddReadHandler("summary", Summary);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v =>
        {
            _active = v;
            if (v && !_timer.Scheduled) _timer.ScheduleNow();
        }, "active"), HandlerFlags.None);
        AddButton("reset", () =>
        {
            _sent = _received = 0;
            _sentAt.Clear();
            _rttMin = double.MaxValue;
            _rttMax = _rttSum = _rttSq = 0;
        });
    }
}
