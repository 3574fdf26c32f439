using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPInputCombo(COLOR [, BADSRC, INTERFACES]): the input half of an IP router interface in one
/// element: Paint(COLOR) -> Strip(14) -> CheckIPHeader(...) -> GetIPAddress(16). Bad packets go
/// to output 1 if it exists. Keywords as CheckIPHeader. Handlers: drops, drop_details.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;020000000002020000000001 0800 45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> i :: IPInputCombo(1) -> Discard; i[1] -> Discard;</example>
public sealed class IPInputCombo : CheckIPHeader
{
    private byte _color;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count == 0) return errh.Error("COLOR: required argument missing");
        if (!Args.ParseByte(conf[0], out int color, out _)) return errh.Error("COLOR: parse error");
        _color = (byte)color;
        // Positional BADSRC and INTERFACES become CheckIPHeader's keywords.
        var rest = new List<string>();
        string[] positional = ["BADSRC", "INTERFACES"];
        int pos = 0;
        foreach (var arg in conf.Skip(1))
        {
            var (w, _) = ConfigText.ShiftWord(arg);
            bool keyword = w.Length > 0 && w.All(c => char.IsAsciiLetterUpper(c) || c == '_') && arg.Trim() != w;
            rest.Add(!keyword && pos < positional.Length ? positional[pos++] + " " + arg : arg);
        }
        return base.Configure(rest, errh);
    }

    protected override int Check(Packet p)
    {
        p.PaintAnno = _color;
        p.Pull(14);
        return base.Check(p);
    }
}
