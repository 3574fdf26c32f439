using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>A route: packets for ADDR/MASK go to output PORT with next hop GW (0 = none).</summary>
public readonly record struct IPRoute(uint Addr, uint Mask, uint Gw, int Port)
{
    public int PrefixLength => Mask == 0 ? 0 : (BitOperations.PopCount(Mask) is var n && Mask == (uint)(0xFFFFFFFFUL << (32 - n)) ? n : -1);

    public bool Contains(uint a) => (a & Mask) == Addr;

    public string AddrText => PrefixLength >= 0
        ? $"{Values.UnparseIPv4(Addr)}/{PrefixLength}"
        : $"{Values.UnparseIPv4(Addr)}/{Values.UnparseIPv4(Mask)}";

    /// <summary>Click's route unparse: "ADDR/LEN  GW  PORT", padded with tabs in tables.</summary>
    public string Unparse(bool tabs)
    {
        char tab = tabs ? '\t' : ' ';
        var sb = new StringBuilder();
        sb.Append(AddrText).Append(tab);
        if (tabs && sb.Length < 17) sb.Append('\t');
        int l = sb.Length;
        sb.Append(Gw != 0 ? Values.UnparseIPv4(Gw) : "-").Append(tab);
        if (tabs && sb.Length < l + 9) sb.Append('\t');
        sb.Append(Port);
        return sb.ToString();
    }

    /// <summary>Parses "ADDR/MASK [GW|-] PORT" (PORT optional when removing).</summary>
    public static bool TryParse(string s, bool forRemove, out IPRoute route)
    {
        route = default;
        var words = ConfigText.SplitSpace(s);
        if (words.Count == 0 || !Values.ParseIPPrefix(words[0], out uint addr, out uint mask)) return false;
        uint gw = 0;
        int port = -1;
        int i = 1;
        if (i < words.Count && (words[i] == "-" || Values.ParseIPv4(words[i], out gw)))
        {
            if (words[i] == "-") gw = 0;
            i++;
        }
        if (i < words.Count)
        {
            if (!Values.ParseInt64(words[i], out long p) || p < 0 || p > int.MaxValue) return false;
            port = (int)p;
            i++;
        }
        else if (!forRemove) return false;
        if (i != words.Count) return false;
        route = new IPRoute(addr & mask, mask, gw, port);
        return true;
    }
}

/// <summary>
/// The shared base of Click's IP lookup elements: configuration "ADDR/MASK [GW] OUT, ...",
/// longest-prefix-match forwarding on the destination annotation (set to GW when the route has
/// one), and the add/set/remove/ctrl/table/lookup handlers.
/// </summary>
public abstract class IPRouteTable : Element
{
    // Routes by prefix, plus insertion order for the "table" handler (stale entries skipped).
    private readonly Dictionary<(uint Addr, uint Mask), (IPRoute Route, long Seq)> _map = [];
    private readonly List<(uint Addr, uint Mask, long Seq)> _order = [];
    private long _seq;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    /// <summary>Whether the add/remove/set/ctrl handlers exist (StaticIPLookup has none).</summary>
    protected virtual bool Dynamic => true;

    public int RouteCount => _map.Count;

    /// <summary>The routes in the order they were added.</summary>
    public IEnumerable<IPRoute> Routes
    {
        get
        {
            foreach (var (a, m, seq) in _order)
                if (_map.TryGetValue((a, m), out var v) && v.Seq == seq) yield return v.Route;
        }
    }

    // The routes the configuration string names, as opposed to routes added by handlers: a
    // live reconfiguration replaces these, and a hot-swap keeps the others.
    private readonly HashSet<IPRoute> _configured = [];

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (!ParseRoutes(conf, errh, out var routes)) return false;
        bool ok = true;
        foreach (var r in routes)
            if (AddRoute(r, replace: false, errh)) _configured.Add(r);
            else ok = false;
        return ok;
    }

    private bool ParseRoutes(IReadOnlyList<string> conf, ErrorHandler errh, out List<IPRoute> routes)
    {
        routes = [];
        bool ok = true;
        foreach (var arg in conf)
        {
            if (!IPRoute.TryParse(arg, false, out var r))
            {
                ok = errh.Error($"argument '{arg}' should be 'ADDR/MASK [GATEWAY] OUTPUT'");
                continue;
            }
            if (r.Port >= NOutputs) { ok = errh.Error($"route '{arg}' uses nonexistent output {r.Port}"); continue; }
            if (RouteProblem(r) is { } problem) { ok = errh.Error($"route '{arg}': {problem}"); continue; }
            routes.Add(r);
        }
        return ok;
    }

    /// <summary>Why this table cannot hold <paramref name="r"/> (null: it can).</summary>
    protected virtual string? RouteProblem(IPRoute r) => null;

    public override bool CanLiveReconfigure => true;

    /// <summary>
    /// A new route list: routes the old configuration named and the new one does not are removed,
    /// the new ones are added (replacing a route with the same prefix), and routes added by
    /// handlers stay. All or nothing: a bad route changes nothing.
    /// </summary>
    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (!ParseRoutes(conf, errh, out var routes)) return false;
        var seen = new HashSet<(uint, uint)>();
        foreach (var r in routes)
            if (!seen.Add((r.Addr, r.Mask)))
                return errh.Error($"conflict with existing route '{r.Unparse(false)}'");
        foreach (var old in _configured.ToList())
            if (!seen.Contains((old.Addr, old.Mask)) && _map.TryGetValue((old.Addr, old.Mask), out var cur) && cur.Route == old)
                RemoveRoute(old, errh);
        _configured.Clear();
        foreach (var r in routes)
        {
            AddRoute(r, replace: true, errh);
            _configured.Add(r);
        }
        return true;
    }

    /// <summary>Hot-swap: routes the old table got from handlers carry over, unless this configuration names the same prefix.</summary>
    public override bool CanTakeStateFrom(Element old) => old is IPRouteTable;

    public override void TakeState(Element old, ErrorHandler errh)
    {
        var table = (IPRouteTable)old;
        foreach (var r in table.Routes)
        {
            if (table._configured.Contains(r) || _map.ContainsKey((r.Addr, r.Mask))) continue;
            string? problem = r.Port >= NOutputs ? $"output {r.Port} no longer exists" : RouteProblem(r);
            if (problem != null)
            {
                errh.Warning($"route '{r.Unparse(false)}' dropped: {problem}");
                continue;
            }
            AddRoute(r, replace: false, errh);
        }
    }

    public bool AddRoute(IPRoute r, bool replace, ErrorHandler errh)
    {
        if (_map.TryGetValue((r.Addr, r.Mask), out var existing))
        {
            if (!replace) return errh.Error($"conflict with existing route '{existing.Route.Unparse(false)}'");
            _map[(r.Addr, r.Mask)] = (r, existing.Seq);
            OnRemove(existing.Route);
            OnAdd(r);
            return true;
        }
        long seq = _seq++;
        _map[(r.Addr, r.Mask)] = (r, seq);
        _order.Add((r.Addr, r.Mask, seq));
        OnAdd(r);
        return true;
    }

    public bool RemoveRoute(IPRoute r, ErrorHandler errh)
    {
        if (!_map.TryGetValue((r.Addr, r.Mask), out var existing) || (r.Port >= 0 && (existing.Route.Port != r.Port || existing.Route.Gw != r.Gw)))
            return errh.Error($"route '{r.AddrText}' not found");
        _map.Remove((r.Addr, r.Mask));
        if (_order.Count > 64 && _order.Count > 2 * _map.Count)
            _order.RemoveAll(o => !_map.TryGetValue((o.Addr, o.Mask), out var v) || v.Seq != o.Seq);
        OnRemove(existing.Route);
        return true;
    }

    /// <summary>The best remaining route containing <paramref name="r"/> with a shorter prefix (for removals).</summary>
    protected IPRoute? BestCovering(IPRoute r)
    {
        int len = r.PrefixLength;
        for (int l = len - 1; l >= 0; l--)
        {
            uint mask = l == 0 ? 0 : 0xFFFFFFFFu << (32 - l);
            if (_map.TryGetValue((r.Addr & mask, mask), out var v)) return v.Route;
        }
        return null;
    }

    protected abstract void OnAdd(IPRoute r);
    protected abstract void OnRemove(IPRoute r);

    /// <summary>Longest-prefix match: the output port (or -1) and the gateway.</summary>
    public abstract int Lookup(uint dst, out uint gw);

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            int o = Lookup(p.DstIPAnno, out uint gw);
            if (o >= 0 && gw != 0) p.DstIPAnno = gw;
            outs[i] = o;
        }
        Dispatch(batch, outs);
    }

    private bool RunCommand(string cmd, string args, ErrorHandler errh)
    {
        bool remove = cmd == "remove";
        if (!IPRoute.TryParse(args, remove, out var r))
            return errh.Error($"expected 'ADDR/MASK [GATEWAY]{(remove ? " [OUTPUT]" : " OUTPUT")}'");
        if (!remove && r.Port >= NOutputs) return errh.Error($"output {r.Port} out of range");
        if (!remove && RouteProblem(r) is { } problem) return errh.Error(problem);
        return cmd switch
        {
            "add" => AddRoute(r, false, errh),
            "set" => AddRoute(r, true, errh),
            _ => RemoveRoute(r, errh),
        };
    }

    public override void AddHandlers()
    {
        AddReadHandler("table", () =>
        {
            var sb = new StringBuilder();
            foreach (var r in Routes) sb.Append(r.Unparse(true)).Append('\n');
            return sb.ToString();
        });
        SetHandler("lookup", (p, eh) =>
        {
            if (!Values.ParseIPv4(p.Trim(), out uint a)) { eh.Error("expected IP address"); return null; }
            int o = Lookup(a, out uint gw);
            if (o < 0) return "-1";
            return gw != 0 ? $"{o} {Values.UnparseIPv4(gw)}" : o.ToString(ElementUtil.Inv);
        }, null, HandlerFlags.ReadParam);
        if (!Dynamic) return;
        AddWriteHandler("add", (v, eh) => RunCommand("add", v, eh));
        AddWriteHandler("set", (v, eh) => RunCommand("set", v, eh));
        AddWriteHandler("remove", (v, eh) => RunCommand("remove", v, eh));
        AddWriteHandler("ctrl", (v, eh) =>
        {
            bool ok = true;
            foreach (var line in v.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var (cmd, rest) = ConfigText.ShiftWord(line);
                if (cmd is not ("add" or "set" or "remove")) { ok = eh.Error($"bad command '{cmd}'"); continue; }
                ok &= RunCommand(cmd, rest, eh);
            }
            return ok;
        });
    }

    protected static uint ReadDst(Packet p) => p.DstIPAnno != 0 || !p.HasNetworkHeader
        ? p.DstIPAnno
        : BinaryPrimitives.ReadUInt32BigEndian(p.At(p.NetworkHeaderOffset + 16, 4));
}
