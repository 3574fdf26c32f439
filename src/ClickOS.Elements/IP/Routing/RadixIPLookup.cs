using System.Runtime.CompilerServices;

namespace ClickOS.Elements;

/// <summary>
/// RadixIPLookup(ADDR/MASK [GW] OUT, ...): IP routing by longest-prefix match in a binary trie
/// (memory proportional to the routes; lookups visit at most 32 nodes). Non-contiguous masks
/// fall back to a linear list. Handlers: table, lookup (read); add, set, remove, ctrl (write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> rt :: RadixIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1); rt[0] -> Discard; rt[1] -> Discard;</example>
public sealed class RadixIPLookup : IPRouteTable
{
    // Node arrays: children and the route stored at the node (index into _hops, or -1).
    private int[] _child0 = new int[64], _child1 = new int[64], _hop = new int[64];
    private int _nodes = 1;
    private readonly List<(uint Gw, int Port)> _hops = [];
    private readonly Dictionary<(uint, int), int> _hopIndex = [];
    private readonly List<IPRoute> _odd = []; // non-contiguous masks

    public RadixIPLookup()
    {
        _hop[0] = -1;
    }

    private int Hop(uint gw, int port)
    {
        if (!_hopIndex.TryGetValue((gw, port), out int h))
        {
            h = _hops.Count;
            _hops.Add((gw, port));
            _hopIndex[(gw, port)] = h;
        }
        return h;
    }

    private int NewNode()
    {
        if (_nodes == _hop.Length)
        {
            Array.Resize(ref _child0, _nodes * 2);
            Array.Resize(ref _child1, _nodes * 2);
            Array.Resize(ref _hop, _nodes * 2);
        }
        _child0[_nodes] = _child1[_nodes] = 0;
        _hop[_nodes] = -1;
        return _nodes++;
    }

    protected override void OnAdd(IPRoute r)
    {
        int len = r.PrefixLength;
        if (len < 0) { _odd.Add(r); return; }
        int n = 0;
        for (int b = 0; b < len; b++)
        {
            bool one = (r.Addr >> (31 - b) & 1) != 0;
            int next = one ? _child1[n] : _child0[n];
            if (next == 0)
            {
                next = NewNode(); // may reallocate the arrays, so store after
                if (one) _child1[n] = next; else _child0[n] = next;
            }
            n = next;
        }
        _hop[n] = Hop(r.Gw, r.Port);
    }

    protected override void OnRemove(IPRoute r)
    {
        int len = r.PrefixLength;
        if (len < 0) { _odd.Remove(r); return; }
        int n = 0;
        for (int b = 0; b < len && n >= 0; b++)
            n = (r.Addr >> (31 - b) & 1) != 0 ? _child1[n] : _child0[n];
        if (n > 0 || len == 0) _hop[n] = -1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Lookup(uint dst, out uint gw)
    {
        int n = 0, best = _hop[0];
        var c0 = _child0;
        var c1 = _child1;
        var hop = _hop;
        for (int b = 31; b >= 0; b--)
        {
            n = ((dst >> b) & 1) != 0 ? c1[n] : c0[n];
            if (n == 0) break;
            if (hop[n] >= 0) best = hop[n];
        }
        if (_odd.Count > 0) return LookupOdd(dst, best, out gw);
        if (best < 0) { gw = 0; return -1; }
        var h = _hops[best];
        gw = h.Gw;
        return h.Port;
    }

    private int LookupOdd(uint dst, int best, out uint gw)
    {
        int bestLen = -1;
        if (best >= 0)
        {
            // Length of the trie match, for comparison with odd masks.
            var routes = Routes.Where(r => r.PrefixLength >= 0 && r.Contains(dst)).ToList();
            bestLen = routes.Count > 0 ? routes.Max(r => r.PrefixLength) : -1;
        }
        IPRoute? oddBest = null;
        foreach (var r in _odd)
            if (r.Contains(dst) && System.Numerics.BitOperations.PopCount(r.Mask) > bestLen && (oddBest == null || System.Numerics.BitOperations.PopCount(r.Mask) > System.Numerics.BitOperations.PopCount(oddBest.Value.Mask)))
                oddBest = r;
        if (oddBest != null) { gw = oddBest.Value.Gw; return oddBest.Value.Port; }
        if (best < 0) { gw = 0; return -1; }
        gw = _hops[best].Gw;
        return _hops[best].Port;
    }
}
