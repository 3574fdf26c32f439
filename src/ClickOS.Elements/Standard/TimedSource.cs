using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// TimedSource([INTERVAL, DATA]): pushes a copy of a packet every INTERVAL (default 0.5 s).
/// Keywords: LIMIT (int), ACTIVE (bool), STOP (bool), HEADROOM (int, 28).
/// Handlers: data, limit, interval, active, headroom (read/write), count, reset.
/// </summary>
/// <example>TimedSource(0.01, LIMIT 3, STOP true) -> c :: Counter -> Discard;</example>
public sealed class TimedSource : Element
{
    private long _intervalNs = 500_000_000;
    private byte[] _data = [];
    private long _limit = -1, _count;
    private bool _active = true, _stop;
    private int _headroom = PacketPool.DefaultHeadroom;
    private Timer _timer = null!;

    public override string PortCount => "0/1";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var interval = a.ReadP("INTERVAL", Args.Seconds, 0.5);
        var data = a.ReadP("DATA", Args.String, InfiniteSource.DefaultData);
        var limit = a.Read("LIMIT", Args.Int64, -1L);
        var active = a.Read("ACTIVE", Args.Bool, true);
        var stop = a.Read("STOP", Args.Bool, false);
        var headroom = a.Read("HEADROOM", Args.Unsigned, PacketPool.DefaultHeadroom);
        if (!a.Complete()) return false;
        if (interval.Value <= 0) return errh.Error("INTERVAL: bad interval");
        _intervalNs = (long)(interval.Value * 1e9);
        _data = System.Text.Encoding.Latin1.GetBytes(data.Value);
        _limit = limit;
        _active = active;
        _stop = stop;
        _headroom = headroom;
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _timer = CreateTimer(Fire);
        if (_active) _timer.ScheduleAfter(_intervalNs);
        return true;
    }

    private void Fire(Timer t)
    {
        if (_active && (_limit < 0 || _count < _limit))
        {
            var p = Host.Pool.Make(_data, _headroom);
            if (p != null)
            {
                p.TimestampNs = Host.Clock.NowNs;
                _count++;
                OutputOne(0, p);
            }
            t.Reschedule(_intervalNs);
        }
        else if (_stop)
            Host.PleaseStop();
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => _count.ToString(inv));
        AddButton("reset", () => { _count = 0; if (_active) _timer.ScheduleNow(); });
        SetHandler("data", (_, _) => System.Text.Encoding.Latin1.GetString(_data), (v, _) => { _data = System.Text.Encoding.Latin1.GetBytes(ConfigText.Unquote(v)); return true; }, HandlerFlags.Raw);
        SetHandler("limit", (_, _) => _limit.ToString(inv), ElementUtil.Writer(Args.Int64, v => _limit = v, "limit"), HandlerFlags.None);
        SetHandler("interval", (_, _) => Values.UnparseSeconds(_intervalNs / 1e9), (v, eh) =>
        {
            if (!Values.ParseSeconds(v.Trim(), out double s) || s <= 0) return eh.Error("bad interval");
            _intervalNs = (long)(s * 1e9);
            return true;
        }, HandlerFlags.None);
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => { _active = v; if (v && !_timer.Scheduled) _timer.ScheduleNow(); }, "active"), HandlerFlags.None);
        SetHandler("headroom", (_, _) => _headroom.ToString(inv), ElementUtil.Writer(Args.Unsigned, v => _headroom = v, "headroom"), HandlerFlags.None);
    }
}
