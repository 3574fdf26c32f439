using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPClassifier(PATTERN_1, ..., PATTERN_N): classifies IP packets by contents with tcpdump-like
/// patterns; a packet goes to the output of the first pattern it matches and is dropped if none
/// matches. Primitives: [src|dst|src or dst|src and dst] host ADDR, net ADDR/LEN (or ADDR mask
/// MASK), [tcp|udp] port PORT (names, relations, A-B ranges); ip proto, vers, hl, id, tos, dscp,
/// ecn, ttl, len, frag, unfrag, ect, ce; tcp opt syn/ack/fin/rst/psh/urg; tcp win; icmp type
/// NAME; ip[POS:LEN], transp[POS:LEN], tcp[...]; [src|dst] ether host ETH; true, false. Values
/// take ==, !=, &lt;, &gt;, &lt;=, &gt;= and '&amp; MASK'; primitives combine with and/&amp;&amp;,
/// or/||, not/!, parentheses and '?:'; omitted keywords carry over ("src port 80 or 81").
/// Transport-layer directives match only first fragments. No keyword arguments. Handlers:
/// program, patternN (read/write); "config" is writable.
/// </summary>
/// <example>InfiniteSource(DATA \<45 00 00 28 00 00 00 00 40 06 00 00 0a 00 00 01 0a 00 00 02 30 39 00 50 00 00 00 00 00 00 00 00 50 02 20 00 00 00 00 00>, LIMIT 1, STOP true) -> c :: IPClassifier(tcp syn and not ack, dst tcp port www or 8080, -); c[0] -> Discard; c[1] -> Discard; c[2] -> Discard;</example>
public sealed class IPClassifier : IPFilter
{
    private List<string> _conf = [];

    protected override bool ClassifierSyntax => true;

    protected override bool Reconfigure(IReadOnlyList<string> conf, ErrorHandler errh, bool initial)
    {
        if (conf.Count != NOutputs)
            return errh.Error($"need {NOutputs} arguments, one per output port");
        if (!base.Reconfigure(conf, errh, initial)) return false;
        _conf = [.. conf];
        if (initial)
            for (int i = 0; i < NOutputs; i++)
                if (!Program.CanReach(i))
                    errh.Warning($"warning: output {i} matches no packets");
        return true;
    }

    public override void AddHandlers()
    {
        base.AddHandlers();
        for (int i = 0; i < NOutputs; i++)
        {
            int k = i;
            SetHandler("pattern" + k, (_, _) => k < _conf.Count ? _conf[k] : "", (value, errh) =>
            {
                var conf = new List<string>(_conf);
                if (k >= conf.Count) return errh.Error("no such pattern");
                conf[k] = value;
                if (!Reconfigure(conf, errh, initial: false)) return false;
                Configuration = ConfigText.JoinArgs(conf);
                return true;
            }, HandlerFlags.None);
        }
    }
}
