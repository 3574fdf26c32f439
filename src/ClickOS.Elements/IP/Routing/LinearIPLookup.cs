using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// LinearIPLookup(ADDR/MASK [GW] OUT, ...): IP routing by longest-prefix match over a list of
/// routes; sends packets to the route's output and sets the destination annotation to GW.
/// Handlers: table, lookup (read); add, set, remove, ctrl (write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> rt :: LinearIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1); rt[0] -> Discard; rt[1] -> Discard;</example>
public class LinearIPLookup : IPRouteTable
{
    // Routes sorted by prefix length, longest first, so the first match is the best.
    private IPRoute[] _sorted = [];
    private bool _dirty;

    protected override void OnAdd(IPRoute r) => _dirty = true;
    protected override void OnRemove(IPRoute r) => _dirty = true;

    private void Resort()
    {
        _sorted = [.. Routes.Select((r, i) => (r, i)).OrderByDescending(x => System.Numerics.BitOperations.PopCount(x.r.Mask)).ThenBy(x => x.i).Select(x => x.r)];
        _dirty = false;
    }

    public override int Lookup(uint dst, out uint gw)
    {
        if (_dirty) Resort();
        foreach (ref readonly var r in _sorted.AsSpan())
        {
            if ((dst & r.Mask) == r.Addr)
            {
                gw = r.Gw;
                return r.Port;
            }
        }
        gw = 0;
        return -1;
    }
}
