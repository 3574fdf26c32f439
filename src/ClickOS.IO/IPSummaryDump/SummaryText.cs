using System.Text;

using ClickOS.Elements;

namespace ClickOS.IO;

/// <summary>
/// Text conventions of IP summary dumps: Click's always-quoting string form, its integer and
/// time syntaxes, and the ICMP and IP protocol names Click knows.
/// </summary>
internal static class SummaryText
{
    /// <summary>Appends <paramref name="data"/> as a double-quoted string with C-style escapes (Click's cp_quote).</summary>
    public static void AppendQuoted(ByteSink sa, ReadOnlySpan<byte> data)
    {
        sa.Append((byte)'"');
        foreach (byte c in data)
        {
            switch (c)
            {
                case (byte)'\\': case (byte)'"': case (byte)'$':
                    sa.Append((byte)'\\'); sa.Append(c); break;
                case (byte)'\t': sa.Append("\\t"); break;
                case (byte)'\r': sa.Append("\\r"); break;
                case (byte)'\n': sa.Append("\\n"); break;
                default:
                    if (c < 32 || c >= 127)
                    {
                        sa.Append((byte)'\\');
                        sa.Append((byte)('0' + (c >> 6)));
                        sa.Append((byte)('0' + ((c >> 3) & 7)));
                        sa.Append((byte)('0' + (c & 7)));
                    }
                    else sa.Append(c);
                    break;
            }
        }
        sa.Append((byte)'"');
    }

    public static string Quote(string s)
    {
        var sink = new ByteSink();
        AppendQuoted(sink, Encoding.Latin1.GetBytes(s));
        return Encoding.Latin1.GetString(sink.Span);
    }

    /// <summary>
    /// Index just past the double-quoted string that starts at <paramref name="i"/> (a '"'),
    /// or the end of the text when it is unterminated.
    /// </summary>
    public static int SkipDoubleQuote(ReadOnlySpan<byte> s, int i)
    {
        for (i++; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            else if (s[i] == '"') return i + 1;
        }
        return s.Length;
    }

    /// <summary>
    /// Parses one string token (Click's cp_string): a bare word, a "double-quoted" string with
    /// backslash escapes, or a 'single-quoted' one, possibly concatenated. Whitespace is not allowed.
    /// </summary>
    public static bool TryParseString(ReadOnlySpan<byte> s, out byte[] value)
    {
        var o = new List<byte>(s.Length);
        value = [];
        int i = 0;
        if (s.Length == 0) return false;
        while (i < s.Length)
        {
            byte c = s[i];
            if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f' or (byte)'\v') return false;
            if (c == '"')
            {
                i++;
                bool closed = false;
                while (i < s.Length)
                {
                    byte d = s[i];
                    if (d == '"') { closed = true; i++; break; }
                    if (d == '\\' && i + 1 < s.Length) { i = Escape(s, i, o); continue; }
                    o.Add(d);
                    i++;
                }
                if (!closed) return false;
            }
            else if (c == '\'')
            {
                int e = s[(i + 1)..].IndexOf((byte)'\'');
                if (e < 0) return false;
                o.AddRange(s.Slice(i + 1, e));
                i += e + 2;
            }
            else if (c == '\\' && i + 1 < s.Length && s[i + 1] == '<')
            {
                int e = s[i..].IndexOf((byte)'>');
                if (e < 0) return false;
                if (!HexBlock(s.Slice(i + 2, e - 2), o)) return false;
                i += e + 1;
            }
            else
            {
                o.Add(c);
                i++;
            }
        }
        value = [.. o];
        return true;
    }

    private static bool HexBlock(ReadOnlySpan<byte> s, List<byte> o)
    {
        int nibble = -1;
        foreach (byte c in s)
        {
            int v = HexVal(c);
            if (v < 0)
            {
                if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r') continue;
                return false;
            }
            if (nibble < 0) nibble = v;
            else { o.Add((byte)((nibble << 4) | v)); nibble = -1; }
        }
        return nibble < 0;
    }

    private static int HexVal(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static int Escape(ReadOnlySpan<byte> s, int i, List<byte> o)
    {
        byte e = s[i + 1];
        switch (e)
        {
            case (byte)'a': o.Add(7); return i + 2;
            case (byte)'b': o.Add(8); return i + 2;
            case (byte)'t': o.Add(9); return i + 2;
            case (byte)'n': o.Add(10); return i + 2;
            case (byte)'v': o.Add(11); return i + 2;
            case (byte)'f': o.Add(12); return i + 2;
            case (byte)'r': o.Add(13); return i + 2;
            case (byte)'\n': return i + 2;
            case (byte)'x':
            {
                int j = i + 2, v = 0;
                while (j < s.Length && HexVal(s[j]) >= 0) { v = (v * 16 + HexVal(s[j])) & 0xFF; j++; }
                o.Add((byte)v);
                return j;
            }
            case >= (byte)'0' and <= (byte)'7':
            {
                int j = i + 1, v = 0, n = 0;
                while (j < s.Length && n < 3 && s[j] >= '0' && s[j] <= '7') { v = v * 8 + (s[j] - '0'); j++; n++; }
                o.Add((byte)v);
                return j;
            }
            default:
                o.Add(e);
                return i + 2;
        }
    }

    /// <summary>
    /// Reads an unsigned integer prefix (Click's cp_integer): base 0 accepts 0x hex and
    /// leading-zero octal. Returns the index after the digits (== <paramref name="i"/> when
    /// there are none); values past 32 bits saturate.
    /// </summary>
    public static int ScanUInt(ReadOnlySpan<byte> s, int i, int numberBase, out uint value)
    {
        value = 0;
        int start = i;
        if (numberBase == 0)
        {
            if (i + 1 < s.Length && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && i + 2 < s.Length && HexVal(s[i + 2]) >= 0)
            {
                numberBase = 16;
                i += 2;
            }
            else if (i < s.Length && s[i] == '0')
                numberBase = 8;
            else
                numberBase = 10;
        }
        ulong v = 0;
        bool any = false;
        for (; i < s.Length; i++)
        {
            int d = HexVal(s[i]);
            if (d < 0 || d >= numberBase) break;
            v = v * (ulong)numberBase + (ulong)d;
            if (v > uint.MaxValue) v = (ulong)uint.MaxValue + 1;
            any = true;
        }
        if (!any) return start;
        value = v > uint.MaxValue ? uint.MaxValue : (uint)v;
        return i;
    }

    /// <summary>A whole unsigned integer (Click's IntArg for unsigned types).</summary>
    public static bool TryParseUInt(string s, out uint value)
    {
        value = 0;
        if (!TryParseUInt64(s, out ulong v) || v > uint.MaxValue) return false;
        value = (uint)v;
        return true;
    }

    public static bool TryParseUInt64(string s, out ulong value)
    {
        value = 0;
        int i = 0;
        if (s.Length > 0 && s[0] == '+') i = 1;
        if (i >= s.Length) return false;
        int nb = 10;
        if (s.Length - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) { nb = 16; i += 2; }
        else if (s.Length - i > 1 && s[i] == '0') { nb = 8; i++; }
        ulong v = 0;
        for (; i < s.Length; i++)
        {
            int d = HexVal((byte)(s[i] < 128 ? s[i] : 0));
            if (s[i] >= 128 || d < 0 || d >= nb) return false;
            if (v > (ulong.MaxValue - (ulong)d) / (ulong)nb) return false;
            v = v * (ulong)nb + (ulong)d;
        }
        value = v;
        return true;
    }

    /// <summary>
    /// Parses a time "SEC[.FRAC]" with an optional unit (s, sec, ms, us, ns, m, min, h, hr, d, day)
    /// into seconds and nanoseconds (Click's cp_time; no sign).
    /// </summary>
    public static bool TryParseTime(string s, out uint sec, out uint nsec)
    {
        sec = nsec = 0;
        int end = s.Length;
        while (end > 0 && char.IsAsciiLetter(s[end - 1])) end--;
        string unit = s[end..];
        string num = s[..end];
        long factor = 1;
        int shift = 0; // decimal places to move the point left
        switch (unit)
        {
            case "": case "s": case "sec": break;
            case "ms": case "msec": shift = 3; break;
            case "us": case "usec": shift = 6; break;
            case "ns": case "nsec": shift = 9; break;
            case "m": case "min": factor = 60; break;
            case "h": case "hr": factor = 3600; break;
            case "d": case "day": factor = 86400; break;
            default: return false;
        }
        int dot = num.IndexOf('.');
        string ip = dot < 0 ? num : num[..dot];
        string fp = dot < 0 ? "" : num[(dot + 1)..];
        if (ip.Length == 0 && fp.Length == 0) return false;
        if (!ip.All(char.IsAsciiDigit) || !fp.All(char.IsAsciiDigit)) return false;
        // Move the decimal point for sub-second units.
        if (shift > 0)
        {
            string all = ip.PadLeft(shift + 1, '0');
            fp = all[^shift..] + fp;
            ip = all[..^shift];
        }
        ip = ip.TrimStart('0');
        if (ip.Length > 19) return false;
        ulong whole = ip.Length == 0 ? 0 : ulong.Parse(ip, System.Globalization.CultureInfo.InvariantCulture);
        string f9 = fp.Length >= 9 ? fp[..9] : fp.PadRight(9, '0');
        ulong frac = ulong.Parse(f9, System.Globalization.CultureInfo.InvariantCulture);
        if (fp.Length > 9 && fp[9] >= '5')
        {
            frac++;
            if (frac == 1_000_000_000) { frac = 0; whole++; }
        }
        if (factor != 1)
        {
            ulong totalNs = frac * (ulong)factor;
            whole = whole * (ulong)factor + totalNs / 1_000_000_000;
            frac = totalNs % 1_000_000_000;
        }
        if (whole > uint.MaxValue) return false;
        sec = (uint)whole;
        nsec = (uint)frac;
        return true;
    }

    // ---- names ----

    public const int IcmpEchoReply = 0, IcmpUnreach = 3, IcmpSourceQuench = 4, IcmpRedirect = 5, IcmpEcho = 8,
        IcmpRouterAdvert = 9, IcmpRouterSolicit = 10, IcmpTimeExceeded = 11, IcmpParamProb = 12, IcmpTstamp = 13,
        IcmpTstampReply = 14, IcmpIReq = 15, IcmpIReqReply = 16, IcmpMaskReq = 17, IcmpMaskReqReply = 18;

    private static readonly (string Name, int Value)[] IcmpTypes = ICMPNames.TypeTable;

    private static readonly (string Name, int Value)[] IPProtoNames =
        [("icmp", 1), ("igmp", 2), ("ipip", 4), ("tcp", 6), ("tcpudp", 257), ("transp", 258), ("udp", 17)];

    private static (string Name, int Value)[] CodeTable(int icmpType) => ICMPNames.CodeTable(icmpType);

    private static string? Rev((string Name, int Value)[] table, uint v)
    {
        foreach (var (n, x) in table)
            if (x == v) return n;
        return null;
    }

    private static bool Query((string Name, int Value)[] table, string s, out uint v)
    {
        foreach (var (n, x) in table)
            if (n == s) { v = (uint)x; return true; }
        return TryParseUInt(s, out v);
    }

    public static string? IcmpTypeName(uint type) => Rev(IcmpTypes, type);
    public static string? IcmpCodeName(int type, uint code) => Rev(CodeTable(type), code);
    public static bool ParseIcmpType(string s, out uint v) => Query(IcmpTypes, s, out v);
    public static bool ParseIcmpCode(int type, string s, out uint v) => Query(CodeTable(type), s, out v);
    public static bool ParseIPProtoName(string s, out uint v) => Query(IPProtoNames, s, out v);
}

/// <summary>A growable byte buffer (Click's StringAccum for dump output).</summary>
internal sealed class ByteSink
{
    private byte[] _buf = new byte[256];
    public int Length { get; private set; }
    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, Length);
    public byte this[int i] { get => _buf[i]; set => _buf[i] = value; }

    public void Clear() => Length = 0;

    public void SetLength(int n)
    {
        Ensure(n);
        Length = n;
    }

    private void Ensure(int n)
    {
        if (n > _buf.Length) Array.Resize(ref _buf, Math.Max(n, _buf.Length * 2));
    }

    public Span<byte> Extend(int n)
    {
        Ensure(Length + n);
        var s = _buf.AsSpan(Length, n);
        s.Clear();
        Length += n;
        return s;
    }

    public void Append(byte b)
    {
        Ensure(Length + 1);
        _buf[Length++] = b;
    }

    public void Append(char c) => Append((byte)c);

    public void Append(ReadOnlySpan<byte> data)
    {
        Ensure(Length + data.Length);
        data.CopyTo(_buf.AsSpan(Length));
        Length += data.Length;
    }

    public void Append(string ascii)
    {
        Ensure(Length + ascii.Length);
        foreach (char c in ascii) _buf[Length++] = (byte)c;
    }

    public void Append(uint v)
    {
        Span<char> tmp = stackalloc char[12];
        v.TryFormat(tmp, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        foreach (char c in tmp[..n]) Append((byte)c);
    }

    public void Append(ulong v)
    {
        Span<char> tmp = stackalloc char[24];
        v.TryFormat(tmp, out int n, default, System.Globalization.CultureInfo.InvariantCulture);
        foreach (char c in tmp[..n]) Append((byte)c);
    }

    public void Append(int v)
    {
        if (v < 0) { Append((byte)'-'); Append((uint)-(long)v); }
        else Append((uint)v);
    }

    public void AppendBE16(uint v) { Append((byte)(v >> 8)); Append((byte)v); }

    public void AppendBE32(uint v)
    {
        Append((byte)(v >> 24)); Append((byte)(v >> 16)); Append((byte)(v >> 8)); Append((byte)v);
    }

    public void SetBE32(int pos, uint v)
    {
        _buf[pos] = (byte)(v >> 24); _buf[pos + 1] = (byte)(v >> 16); _buf[pos + 2] = (byte)(v >> 8); _buf[pos + 3] = (byte)v;
    }

    public void WriteTo(Stream s) => s.Write(_buf, 0, Length);
}
