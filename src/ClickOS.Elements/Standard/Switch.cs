using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Switch([OUTPUT]): sends every packet to output OUTPUT (default 0; -1 drops). The "switch"
/// handler changes it at run time.
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> s :: Switch(1); s[0] -> Discard; s[1] -> Discard;</example>
public sealed class Switch : Element
{
    private int _output;

    public override string PortCount => "1/-";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var o = a.ReadP("OUTPUT", Args.Int, 0);
        if (!a.Complete()) return false;
        _output = o.Value;
        return true;
    }

    public override void Push(int port, PacketBatch batch) => CheckedOutput(_output, batch);

    public override void AddHandlers() =>
        SetHandler("switch", (_, _) => _output.ToString(ElementUtil.Inv), (v, eh) =>
        {
            // Click's own message, which control clients see in the 520 reply.
            if (!Args.ParseInt(v.Trim(), out int o, out _)) return eh.Error("Switch output must be integer");
            _output = o < 0 || o >= NOutputs ? -1 : o;
            return true;
        }, HandlerFlags.None);
}
