using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPRewriterPatterns(NAME PATTERN, ...): names rewriter patterns so that several inputs and
/// rewriters can share them, as 'pattern NAME FOUTPUT ROUTPUT'. Each argument is a name and
/// either a port pattern 'SADDR SPORT DADDR DPORT' (IPRewriter, TCPRewriter, UDPRewriter,
/// ICMPPingRewriter, FTPPortMapper) or an address pattern 'SADDR DADDR' (IPAddrRewriter,
/// IPAddrPairRewriter). Names must be distinct across all IPRewriterPatterns elements.
/// A shared pattern shares its sequential-allocation state.
/// </summary>
/// <example>IPRewriterPatterns(to_world 198.51.100.1 1024-65535# - -); InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: IPRewriter(pattern to_world 0 1) -> Discard; rw[1] -> Discard;</example>
public sealed class IPRewriterPatterns : Element
{
    private readonly Dictionary<string, RewriterPattern> _patterns = new(StringComparer.Ordinal);

    public override string PortCount => "0/0";

    // Configured before the rewriters, which look patterns up while they configure.
    public override int ConfigurePhaseValue => ConfigurePhase.Info;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        bool ok = true;
        foreach (var c in conf)
        {
            var w = ConfigText.SplitSpace(c);
            if (w.Count != 5 && w.Count != 3)
            {
                ok = errh.Error($"bad pattern '{c}': expected 'NAME SADDR SPORT DADDR DPORT' or 'NAME SADDR DADDR'");
                continue;
            }
            var p = w.Count == 5 ? RewriterPattern.Parse(w, 1, out string err) : RewriterPattern.ParseAddresses(w, 1, out err);
            if (p == null) { ok = errh.Error($"pattern '{w[0]}': {err}"); continue; }
            if (_patterns.ContainsKey(w[0]) || Find(Host, w[0]) != null) { ok = errh.Error($"pattern name '{w[0]}' is already defined"); continue; }
            p.Name = w[0];
            _patterns[w[0]] = p;
        }
        return ok;
    }

    /// <summary>The pattern called <paramref name="name"/> in any IPRewriterPatterns element of the router, or null.</summary>
    public static RewriterPattern? Find(ElementHost host, string name)
    {
        foreach (var e in host.Elements)
            if (e is IPRewriterPatterns ps && ps._patterns.TryGetValue(name, out var p))
                return p;
        return null;
    }

    public override void AddHandlers() =>
        AddReadHandler("patterns", () => string.Concat(_patterns.Select(kv => $"{kv.Key} {kv.Value}\n")));
}
