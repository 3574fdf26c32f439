using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>Parses Click annotation names ("PAINT", "DST_IP") or byte offsets for ANNO keywords.</summary>
public static class AnnoArg
{
    public static bool ByteAnno(string s, out int offset, out string err)
    {
        err = "expected annotation name or offset";
        if (AnnoOffsets.TryParse(s, out offset, out _)) return true;
        return Values.ParseInt64(s, out long l) & (offset = (int)l) == l && l >= 0 && l < AnnoOffsets.Size;
    }
}
