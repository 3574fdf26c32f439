using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// Print([LABEL, MAXLENGTH]): prints a line per packet on standard error:
/// "LABEL: [TIMESTAMP: ]  LEN | 01020304 05060708 ..." and passes the packet on.
/// Keywords: MAXLENGTH (bytes shown, default 24, -1 = all), CONTENTS (HEX, ASCII, NONE),
/// TIMESTAMP (bool), PRINTANNO (bool), HEADROOM (bool), ACTIVE (bool). Handler: active.
/// </summary>
/// <example>InfiniteSource(LIMIT 2, STOP true) -> Print(pkt, 16) -> Discard;</example>
public sealed class Print : SimpleElement
{
    private enum Contents { None, Hex, Ascii }

    private string _label = "";
    private int _maxLength = 24;
    private Contents _contents = Contents.Hex;
    private bool _timestamp, _printAnno, _headroom, _active = true;
    private readonly StringBuilder _sb = new(256);

    private static bool ParseContents(string s, out Contents c, out string err)
    {
        err = "expected NONE, HEX or ASCII";
        c = s.ToUpperInvariant() switch
        {
            "NONE" or "FALSE" => Contents.None,
            "HEX" or "TRUE" => Contents.Hex,
            "ASCII" => Contents.Ascii,
            _ => (Contents)(-1),
        };
        return (int)c >= 0;
    }

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var label = a.ReadP("LABEL", Args.String, "");
        var maxlen = a.ReadP("MAXLENGTH", Args.Int, 24);
        var contents = a.Read("CONTENTS", ParseContents, Contents.Hex);
        var ts = a.Read("TIMESTAMP", Args.Bool, false);
        var anno = a.Read("PRINTANNO", Args.Bool, false);
        var headroom = a.Read("HEADROOM", Args.Bool, false);
        var active = a.Read("ACTIVE", Args.Bool, true);
        a.Read("CPU", Args.Bool, false);
        a.Read("BUFFER", Args.Unsigned, 0);
        a.Read("OUTFILE", Args.String, "");
        if (!a.Complete()) return false;
        _label = label;
        _maxLength = maxlen;
        _contents = contents;
        _timestamp = ts;
        _printAnno = anno;
        _headroom = headroom;
        _active = active;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        if (!_active) return;
        foreach (var p in batch.Packets) PrintOne(p);
    }

    private void PrintOne(Packet p)
    {
        var sb = _sb;
        sb.Clear();
        if (_label.Length > 0) sb.Append(_label).Append(": ");
        if (_timestamp) sb.Append(ElementUtil.FormatTimestamp(p.TimestampNs)).Append(": ");
        if (_headroom) sb.Append("(h").Append(p.Headroom).Append(" t").Append(p.Tailroom).Append(") ");
        if (_printAnno)
        {
            sb.Append('(');
            for (int i = 0; i < AnnoOffsets.Size; i++) sb.Append(p.Anno[i].ToString("x2", ElementUtil.Inv));
            sb.Append(") ");
        }
        string len = p.Length.ToString(ElementUtil.Inv);
        sb.Append(' ', Math.Max(0, 4 - len.Length)).Append(len);
        int n = _maxLength < 0 ? p.Length : Math.Min(_maxLength, p.Length);
        if (_contents != Contents.None && n > 0)
        {
            sb.Append(" |");
            var d = p.Data[..n];
            if (_contents == Contents.Hex)
            {
                sb.Append(' ');
                for (int i = 0; i < d.Length; i++)
                {
                    if (i > 0 && (i & 3) == 0) sb.Append(' ');
                    sb.Append(HexDigits[d[i] >> 4]).Append(HexDigits[d[i] & 15]);
                }
            }
            else
            {
                sb.Append(' ');
                for (int i = 0; i < d.Length; i++)
                {
                    if ((i & 7) == 0) sb.Append(' ');
                    byte b = d[i];
                    sb.Append(b is >= 32 and < 127 ? (char)b : '.');
                }
            }
        }
        sb.Append('\n');
        Host.ErrorOutput.Write(sb);
    }

    private const string HexDigits = "0123456789abcdef";

    public override void AddHandlers() =>
        SetHandler("active", (_, _) => ElementUtil.Bool(_active), ElementUtil.Writer(Args.Bool, v => _active = v, "active"), HandlerFlags.None);
}
