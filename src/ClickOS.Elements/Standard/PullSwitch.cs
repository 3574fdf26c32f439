using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>PullSwitch([INPUT]): pulls only from input INPUT (-1: none). Handler: switch (read/write).</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> q :: Queue -> p :: PullSwitch(0) -> Unqueue -> Discard; Idle -> [1]p;</example>
public sealed class PullSwitch : Element
{
    private int _input;

    public override string PortCount => "-/1";
    public override string Processing => "l/l";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var i = a.ReadP("INPUT", Args.Int, 0);
        if (!a.Complete()) return false;
        _input = i.Value;
        return true;
    }

    public override PacketBatch? Pull(int port, int max) =>
        (uint)_input < (uint)NInputs ? Input(_input, max) : null;

    public override void AddHandlers() =>
        SetHandler("switch", (_, _) => _input.ToString(ElementUtil.Inv), ElementUtil.Writer(Args.Int, v => _input = v < 0 || v >= NInputs ? -1 : v, "switch"), HandlerFlags.None);
}
