using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// RoundRobinIPMapper(PATTERN1, ..., PATTERNn): an IPRewriter mapper that gives each new flow the
/// next pattern in turn (a load balancer over backends). Each PATTERN is 'SADDR SPORT DADDR DPORT
/// FOUTPUT ROUTPUT' as in IPRewriter; the flow keeps its backend for its lifetime. Name it as an
/// IPRewriter input specification.
/// </summary>
/// <example>map :: RoundRobinIPMapper(- - 10.10.0.1 - 0 1, - - 10.10.0.2 - 0 1); InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: IPRewriter(map) -> Discard; rw[1] -> Discard;</example>
public sealed class RoundRobinIPMapper : Element, IIPMapper
{
    private readonly List<(RewriterPattern Pattern, int FOut, int ROut)> _patterns = [];
    private int _next;

    public override string PortCount => "0/0";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count == 0) return errh.Error("expected at least one pattern");
        bool ok = true;
        foreach (var c in conf)
        {
            var w = ConfigText.SplitSpace(c);
            var p = w.Count == 6 ? RewriterPattern.Parse(w, 0, out string err) : null;
            if (p == null || !int.TryParse(w[4], out int fo) || !int.TryParse(w[5], out int ro))
            {
                ok = errh.Error($"bad pattern '{c}': expected 'SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT'");
                continue;
            }
            _patterns.Add((p, fo, ro));
        }
        return ok;
    }

    public bool MapFlow(RewriterBase rewriter, in FlowId inId, byte proto, out FlowId outId, out int foutput, out int routput)
    {
        for (int k = 0; k < _patterns.Count; k++)
        {
            var (p, fo, ro) = _patterns[_next];
            _next = (_next + 1) % _patterns.Count;
            if (p.TryApply(inId, proto, rewriter.Table, out outId))
            {
                foutput = fo;
                routput = ro;
                return true;
            }
        }
        outId = default;
        foutput = routput = -1;
        return false;
    }
}
