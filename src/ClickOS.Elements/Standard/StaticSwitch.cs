using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>StaticSwitch(OUTPUT): sends every packet to output OUTPUT (-1 drops); fixed at configuration time.</summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> s :: StaticSwitch(1); s[0] -> Discard; s[1] -> Discard;</example>
public sealed class StaticSwitch : Element
{
    private int _output;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var o = a.ReadMP("OUTPUT", Args.Int);
        if (!a.Complete()) return false;
        _output = o.Value;
        return true;
    }

    public override void Push(int port, PacketBatch batch) => CheckedOutput(_output, batch);
}
