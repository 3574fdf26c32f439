namespace ClickOS.Elements;

/// <summary>
/// CheckIPHeader2([OFFSET, keywords]): checks IP headers exactly like CheckIPHeader, except
/// that by default it does not check IP checksums (CHECKSUM defaults to false).
/// Handlers: drops, drop_details (with DETAILS).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45 00 00 1c 00 01 00 00 40 11 00 00 0a 00 00 02 0a 00 00 09 04 d2 00 35 00 08 00 00&gt;, LIMIT 2, STOP true) -> c :: CheckIPHeader2 -> Discard; c[1] -> Discard;</example>
public sealed class CheckIPHeader2 : CheckIPHeader
{
    protected override bool ChecksumByDefault => false;
}
