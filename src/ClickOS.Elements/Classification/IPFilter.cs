using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPFilter(ACTION_1 PATTERN_1, ..., ACTION_N PATTERN_N): filters IP packets by contents. Each
/// argument is an ACTION ('allow' = output 0, 'drop', 'deny' = drop, or an output number)
/// followed by an IPClassifier pattern ("-", "any", "all" or nothing match everything); a packet
/// takes the action of the first pattern it matches and is dropped if none matches. Input
/// packets should have their IP header annotation set (CheckIPHeader, MarkIPHeader); without
/// one, the data start is taken as the IP header. No keyword arguments. The patterns compile
/// into one decision tree (handler "program"); "config" is writable (live reconfiguration).
/// </summary>
/// <example>InfiniteSource(DATA \<45 00 00 1c 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02 04 00 00 35 00 08 00 00>, LIMIT 1, STOP true) -> f :: IPFilter(deny src port 53, allow udp dst port domain, drop all) -> Discard;</example>
public class IPFilter : Element
{
    private DecisionTree _tree = null!;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";
    public override bool CanLiveReconfigure => true;

    /// <summary>The compiled program.</summary>
    public DecisionTree Program => _tree;

    /// <summary>Whether the arguments are IPClassifier patterns (pattern i goes to output i).</summary>
    protected virtual bool ClassifierSyntax => false;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh) => Reconfigure(conf, errh, initial: true);

    public override bool LiveReconfigure(IReadOnlyList<string> conf, ErrorHandler errh) => Reconfigure(conf, errh, initial: false);

    /// <summary>Compiles <paramref name="conf"/>; the program changes only if it has no errors.</summary>
    protected virtual bool Reconfigure(IReadOnlyList<string> conf, ErrorHandler errh, bool initial)
    {
        var tree = IPFilterCompiler.Compile(conf, NOutputs, ClassifierSyntax, this, errh);
        if (tree == null) return false;
        _tree = tree;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        var tree = _tree;
        for (int i = 0; i < ps.Length; i++) outs[i] = IPFilterCompiler.Match(tree, ps[i]);
        Dispatch(batch, outs);
    }

    public override void AddHandlers() => AddReadHandler("program", () => _tree.Describe());
}
