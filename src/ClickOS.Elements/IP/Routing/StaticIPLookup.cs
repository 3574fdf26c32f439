namespace ClickOS.Elements;

/// <summary>StaticIPLookup(ADDR/MASK [GW] OUT, ...): LinearIPLookup whose routes cannot change at run time.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> rt :: StaticIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1); rt[0] -> Discard; rt[1] -> Discard;</example>
public sealed class StaticIPLookup : LinearIPLookup
{
    protected override bool Dynamic => false;
}
