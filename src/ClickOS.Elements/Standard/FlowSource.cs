using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// The shared part of FastUDPFlows and FastTCPFlows: their nine positional arguments
/// (RATE, LIMIT, LENGTH, SRCETH, SRCIP, DSTETH, DSTIP, FLOWS, FLOWSIZE), pull-side rate
/// limiting, and the count, rate, reset, active and limit handlers.
/// </summary>
public abstract class FlowSource : Element
{
    protected int Rate, Length, FlowCount, FlowSize;
    protected long Limit, Count;
    protected bool Active = true;
    protected byte[] SrcEth = [], DstEth = [];
    protected uint SrcIP, DstIP;
    private long _firstNs, _lastNs;

    public override string PortCount => "0/1";
    public override string Processing => "l/l";

    private Arg<int> _rate = null!, _length = null!, _flows = null!, _flowSize = null!;
    private Arg<long> _limit = null!;
    private Arg<byte[]> _srcEth = null!, _dstEth = null!;
    private Arg<uint> _srcIP = null!, _dstIP = null!;

    /// <summary>Declares the nine shared positional arguments on <paramref name="a"/>; call <see cref="ApplyFlowArgs"/> after Complete().</summary>
    protected void ReadFlowArgs(Args a)
    {
        _rate = a.ReadMP("RATE", Args.Unsigned);
        _limit = a.ReadMP("LIMIT", Args.Int64);
        _length = a.ReadMP("LENGTH", Args.Unsigned);
        _srcEth = a.ReadMP("SRCETH", Args.EtherAddress);
        _srcIP = a.ReadMP("SRCIP", Args.IPAddress);
        _dstEth = a.ReadMP("DSTETH", Args.EtherAddress);
        _dstIP = a.ReadMP("DSTIP", Args.IPAddress);
        _flows = a.ReadMP("FLOWS", Args.Unsigned);
        _flowSize = a.ReadMP("FLOWSIZE", Args.Unsigned);
    }

    protected int RequestedLength => _length.Value;

    protected void ApplyFlowArgs(int minLength, int minFlowSize)
    {
        Rate = _rate;
        Limit = _limit;
        Length = Math.Max(_length.Value, minLength);
        SrcEth = _srcEth;
        DstEth = _dstEth;
        SrcIP = _srcIP;
        DstIP = _dstIP;
        FlowCount = Math.Max(1, _flows.Value);
        FlowSize = Math.Max(minFlowSize, _flowSize.Value);
    }

    /// <summary>The next packet of some flow, or null if the pool is empty.</summary>
    protected abstract Packet? NextPacket();

    public override PacketBatch? Pull(int port, int max)
    {
        if (!Active || (Limit >= 0 && Count >= Limit)) return null;
        long now = Host.Clock.NowNs;
        if (Count == 0) _firstNs = now;
        int n = max;
        if (Limit >= 0) n = (int)Math.Min(n, Limit - Count);
        if (Rate > 0)
        {
            long allowed = (long)((now - _firstNs) / 1e9 * Rate) + 1 - Count;
            n = (int)Math.Min(n, Math.Max(allowed, 0));
            if (n == 0) return null;
        }
        var b = Host.Batches.Rent();
        for (int i = 0; i < n; i++)
        {
            var p = NextPacket();
            if (p == null) break;
            b.Add(p);
        }
        Count += b.Count;
        _lastNs = now;
        if (b.Count > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    public override void AddHandlers()
    {
        var inv = ElementUtil.Inv;
        AddReadHandler("count", () => Count.ToString(inv));
        // Like Click: the achieved rate once LIMIT is reached, otherwise 0.
        SetHandler("rate", (_, _) => _lastNs > _firstNs && Limit >= 0 && Count >= Limit ? ((long)(Count / ((_lastNs - _firstNs) / 1e9))).ToString(inv) : "0",
            ElementUtil.Writer(Args.Unsigned, v => Rate = v, "rate"), HandlerFlags.None);
        AddButton("reset", () => Count = 0);
        AddWriteHandler("active", ElementUtil.Writer(Args.Bool, v => { Active = v; if (v) Count = 0; }, "active"));
        AddWriteHandler("limit", ElementUtil.Writer(Args.Int64, v => Limit = v, "limit"));
    }
}
