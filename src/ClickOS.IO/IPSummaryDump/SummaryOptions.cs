namespace ClickOS.IO;

/// <summary>
/// IP and TCP options in IP summary dumps: the text forms ("rr{1.0.0.1}+2", "ts{1,!45}",
/// "mss1400;sackok;ts1:2", "99=0:5"), the binary forms, and parsing text back into option bytes.
/// Reads past an option list's end (for a truncated option) see the following packet bytes,
/// or zero past the packet, as the original does.
/// </summary>
internal static class SummaryOptions
{
    // What an option list may contain (masks select kinds of options).
    public const uint IPPadding = 1, IPRoute = 2, IPTs = 4, IPUnknown = 32, IPAll = 0xFFFFFFFF, IPAllNoPad = 0xFFFFFFFE;
    public const uint TcpPadding = 1, TcpMss = 2, TcpWscale = 4, TcpSack = 8, TcpTimestamp = 16, TcpUnknown = 32,
        TcpAll = 0xFFFFFFFF, TcpAllNoPad = 0xFFFFFFFE, TcpNonTimestamp = 0xFFFFFFEE;

    private const int IPOptEol = 0, IPOptNop = 1, IPOptRR = 7, IPOptTS = 68, IPOptLSRR = 131, IPOptSSRR = 137;
    private const int TcpOptEol = 0, TcpOptNop = 1, TcpOptMss = 2, TcpOptWscale = 3, TcpOptSackOk = 4, TcpOptSack = 5, TcpOptTs = 8;

    private static int At(ReadOnlySpan<byte> b, int i) => (uint)i < (uint)b.Length ? b[i] : 0;
    private static uint BE32(ReadOnlySpan<byte> b, int i) => (uint)(At(b, i) << 24 | At(b, i + 1) << 16 | At(b, i + 2) << 8 | At(b, i + 3));

    private static void Dotted(ByteSink sa, ReadOnlySpan<byte> b, int i)
    {
        sa.Append((uint)At(b, i)); sa.Append('.'); sa.Append((uint)At(b, i + 1)); sa.Append('.');
        sa.Append((uint)At(b, i + 2)); sa.Append('.'); sa.Append((uint)At(b, i + 3));
    }

    // ---------------------------------------------------------------- IP, text

    /// <summary>Appends the options in <paramref name="b"/>[start, end) as text; '.' if none, '?' if malformed.</summary>
    public static void IPText(ByteSink sa, ReadOnlySpan<byte> b, int start, int end, uint mask)
    {
        int initial = sa.Length;
        string sep = "";
        int o = start;
        while (o < end)
        {
            int type = At(b, o);
            int len = At(b, o + 1);
            if (type == IPOptEol)
            {
                if ((mask & IPPadding) != 0) { sa.Append(sep); sa.Append("eol"); }
                break;
            }
            if (type == IPOptNop)
            {
                if ((mask & IPPadding) != 0) { sa.Append(sep); sa.Append("nop"); sep = ";"; }
                o++;
                continue;
            }
            if (type is IPOptRR or IPOptLSRR or IPOptSSRR)
            {
                if (o + len > end || len < 3 || At(b, o + 2) < 4) goto Bad;
                if ((mask & IPRoute) == 0) { o += len >= 2 ? len : 128; continue; }
                sa.Append(sep);
                sa.Append(type == IPOptRR ? "rr" : type == IPOptLSRR ? "lsrr" : "ssrr");
                AppendRoute(sa, b, o, type == IPOptRR);
                o += len;
                sep = ";";
                continue;
            }
            if (type == IPOptTS)
            {
                if (o + len > end || len < 4 || At(b, o + 2) < 5) goto Bad;
                sa.Append(sep);
                AppendTimestamps(sa, b, o);
                o += len;
                sep = ";";
                continue;
            }
            if (o + len > end || len < 2) goto Bad;
            if ((mask & IPUnknown) == 0) { o += len; continue; }
            sa.Append(sep);
            AppendGeneric(sa, b, o, len);
            o += len;
            sep = ";";
        }
        if (sa.Length == initial) sa.Append('.');
        return;
    Bad:
        sa.SetLength(initial);
        sa.Append('?');
    }

    private static void AppendGeneric(ByteSink sa, ReadOnlySpan<byte> b, int o, int len)
    {
        sa.Append((uint)At(b, o));
        for (int k = 2; k < len; k++)
        {
            sa.Append(k == 2 ? '=' : ':');
            sa.Append((uint)At(b, o + k));
        }
    }

    private static void AppendRoute(ByteSink sa, ReadOnlySpan<byte> b, int o, bool recordRoute)
    {
        int q = o + 3, last = o + At(b, o + 1), pointer = o + At(b, o + 2) - 1;
        string sep = "";
        sa.Append('{');
        for (; q + 4 <= last; q += 4)
        {
            if (q == pointer)
            {
                if (recordRoute) break;
                sep = "^";
            }
            sa.Append(sep);
            Dotted(sa, b, q);
            sep = ",";
        }
        if (q == last && q == pointer && !recordRoute) sa.Append('^');
        sa.Append('}');
        if (q + 4 <= last && q == pointer && recordRoute)
        {
            sa.Append('+');
            sa.Append((uint)((last - q) / 4));
        }
    }

    private static void AppendTimestamps(ByteSink sa, ReadOnlySpan<byte> b, int o)
    {
        int q = o + 4, last = o + At(b, o + 1), pointer = o + At(b, o + 2) - 1;
        int flag = At(b, o + 3) & 0xF;
        int size = flag is >= 1 and <= 3 ? 8 : 4;
        sa.Append("ts");
        if (flag == 1) sa.Append(".ip");
        else if (flag == 3) sa.Append(".preip");
        else if (flag != 0) { sa.Append('.'); sa.Append((uint)flag); }
        sa.Append('{');
        string sep = "";
        for (; q + size <= last; q += 4)
        {
            if (q == pointer)
            {
                if (flag != 3) break;
                sep = "^";
            }
            sa.Append(sep);
            if (flag != 0)
            {
                Dotted(sa, b, q);
                sa.Append('=');
                q += 4;
            }
            if (flag == 3 && q > pointer)
                sa.SetLength(sa.Length - 1); // a prespecified address not yet stamped: no value
            else
            {
                uint v = BE32(b, q);
                if ((v & 0x80000000U) != 0) sa.Append('!');
                sa.Append(v & 0x7FFFFFFFU);
            }
            sep = ",";
        }
        if (q == last && q == pointer) sa.Append('^');
        sa.Append('}');
        if (q + size <= last && q == pointer)
        {
            sa.Append('+');
            sa.Append((uint)((last - q) / size));
        }
        int overflow = At(b, o + 3) >> 4;
        if (overflow != 0)
        {
            sa.Append("++");
            sa.Append((uint)overflow);
        }
    }

    // ---------------------------------------------------------------- binary

    private static uint IPKind(int type) => type switch
    {
        IPOptEol or IPOptNop => IPPadding,
        IPOptRR or IPOptLSRR or IPOptSSRR => IPRoute,
        IPOptTS => IPTs,
        _ => IPUnknown,
    };

    private static uint TcpKind(int type) => type switch
    {
        TcpOptEol or TcpOptNop => TcpPadding,
        TcpOptMss => TcpMss,
        TcpOptWscale => TcpWscale,
        TcpOptSackOk or TcpOptSack => TcpSack,
        TcpOptTs => TcpTimestamp,
        _ => TcpUnknown,
    };

    public static void IPBinary(ByteSink sa, ReadOnlySpan<byte> b, int start, int end, uint mask) =>
        Binary(sa, b, start, end, mask, mask == IPAll, IPKind, IPPadding);

    public static void TcpBinary(ByteSink sa, ReadOnlySpan<byte> b, int start, int end, uint mask) =>
        Binary(sa, b, start, end, mask, mask == TcpAll, TcpKind, TcpPadding);

    /// <summary>
    /// A length byte and the selected options. For "all options" the raw option bytes come
    /// first (with their own length byte), then the selected list, as the original writes them.
    /// </summary>
    private static void Binary(ByteSink sa, ReadOnlySpan<byte> b, int start, int end, uint mask, bool all, Func<int, uint> kind, uint padding)
    {
        if (all)
        {
            sa.Append((byte)(end - start));
            for (int i = start; i < end; i++) sa.Append((byte)At(b, i));
        }
        int lenAt = sa.Length;
        sa.Append((byte)0);
        int o = start;
        while (o < end)
        {
            int type = At(b, o);
            if (type == 0)
            {
                if ((mask & padding) != 0) sa.Append((byte)0);
                break;
            }
            if (type == 1)
            {
                if ((mask & padding) != 0) sa.Append((byte)1);
                o++;
                continue;
            }
            int len = At(b, o + 1);
            if (len < 2 || o + len > end) break;
            if ((mask & kind(type)) != 0)
                for (int i = 0; i < len; i++) sa.Append((byte)At(b, o + i));
            o += len;
        }
        sa[lenAt] = (byte)(sa.Length - lenAt - 1);
    }

    // ---------------------------------------------------------------- TCP, text

    public static void TcpText(ByteSink sa, ReadOnlySpan<byte> b, int start, int end, uint mask)
    {
        int initial = sa.Length;
        string sep = "";
        int o = start;
        while (o < end)
        {
            int type = At(b, o);
            int len = At(b, o + 1);
            switch (type)
            {
                case TcpOptEol:
                    if ((mask & TcpPadding) != 0) { sa.Append(sep); sa.Append("eol"); }
                    goto Done;
                case TcpOptNop:
                    if ((mask & TcpPadding) != 0) { sa.Append(sep); sa.Append("nop"); sep = ";"; }
                    o++;
                    continue;
                case TcpOptMss:
                    if (o + len > end || len != 4) goto Bad;
                    if ((mask & TcpMss) == 0) break;
                    sa.Append(sep); sa.Append("mss"); sa.Append((uint)(At(b, o + 2) << 8 | At(b, o + 3)));
                    o += 4; sep = ";";
                    continue;
                case TcpOptWscale:
                    if (o + len > end || len != 3) goto Bad;
                    if ((mask & TcpWscale) == 0) break;
                    sa.Append(sep); sa.Append("wscale"); sa.Append((uint)At(b, o + 2));
                    o += 3; sep = ";";
                    continue;
                case TcpOptSackOk:
                    if (o + len > end || len != 2) goto Bad;
                    if ((mask & TcpSack) == 0) break;
                    sa.Append(sep); sa.Append("sackok");
                    o += 2; sep = ";";
                    continue;
                case TcpOptSack:
                {
                    if (o + len > end || len % 8 != 2) goto Bad;
                    if ((mask & TcpSack) == 0) break;
                    int stop = o + len;
                    for (o += 2; o < stop; o += 8)
                    {
                        sa.Append(sep); sa.Append("sack"); sa.Append(BE32(b, o)); sa.Append('-'); sa.Append(BE32(b, o + 4));
                        sep = ";";
                    }
                    continue;
                }
                case TcpOptTs:
                    if (o + len > end || len != 10) goto Bad;
                    if ((mask & TcpTimestamp) == 0) break;
                    sa.Append(sep); sa.Append("ts"); sa.Append(BE32(b, o + 2)); sa.Append(':'); sa.Append(BE32(b, o + 6));
                    o += 10; sep = ";";
                    continue;
                default:
                    if (o + len > end || len < 2) goto Bad;
                    if ((mask & TcpUnknown) == 0) break;
                    sa.Append(sep);
                    AppendGeneric(sa, b, o, len);
                    o += len; sep = ";";
                    continue;
            }
            // an option the mask leaves out
            o += len >= 2 ? len : 128;
        }
    Done:
        if (sa.Length == initial) sa.Append('.');
        return;
    Bad:
        sa.SetLength(initial);
        sa.Append('?');
    }

    // ---------------------------------------------------------------- parsing

    private static bool Digit(ReadOnlySpan<byte> s, int i) => i < s.Length && s[i] >= '0' && s[i] <= '9';
    private static bool At(ReadOnlySpan<byte> s, int i, string word)
    {
        if (i + word.Length > s.Length) return false;
        for (int k = 0; k < word.Length; k++)
            if (s[i + k] != word[k]) return false;
        return true;
    }

    /// <summary>
    /// Parses a dotted address at <paramref name="s"/>[i]; appends its 4 bytes. False if malformed.
    /// </summary>
    private static bool ParseDotted(ReadOnlySpan<byte> s, ref int i, List<byte> o)
    {
        for (int k = 0; k < 4; k++)
        {
            int j = SummaryText.ScanUInt(s, i, 10, out uint v);
            if (j == i) v = 256;
            i = j + (k < 3 ? 1 : 0);
            if (v > 255 || (k < 3 && (i > s.Length || s[i - 1] != '.'))) return false;
            o.Add((byte)v);
        }
        return true;
    }

    private static void Put32(List<byte> o, uint v)
    {
        o.Add((byte)(v >> 24)); o.Add((byte)(v >> 16)); o.Add((byte)(v >> 8)); o.Add((byte)v);
    }

    /// <summary>
    /// Parses IP options text into option bytes. "." (or empty) means none (<paramref name="bytes"/> null).
    /// </summary>
    public static bool ParseIP(string text, out byte[]? bytes)
    {
        bytes = null;
        if (text.Length == 0 || text == ".") return true;
        if (text == "-") return false;
        var s = System.Text.Encoding.Latin1.GetBytes(text).AsSpan();
        var o = new List<byte>();
        int i = 0;
        while (true)
        {
            if (i + 3 < s.Length && At(s, i, "rr{"))
            {
                o.Add(IPOptRR);
                i += 3;
                if (!ParseRoute(s, ref i, o)) return false;
            }
            else if (i + 5 < s.Length && At(s, i, "ssrr{"))
            {
                o.Add(IPOptSSRR);
                i += 5;
                if (!ParseRoute(s, ref i, o)) return false;
            }
            else if (i + 5 < s.Length && At(s, i, "lsrr{"))
            {
                o.Add(IPOptLSRR);
                i += 5;
                if (!ParseRoute(s, ref i, o)) return false;
            }
            else if (i + 3 < s.Length && (At(s, i, "ts{") || At(s, i, "ts.")))
            {
                if (!ParseTimestampOption(s, ref i, o)) return false;
            }
            else if (Digit(s, i))
            {
                if (!ParseGeneric(s, ref i, o)) return false;
            }
            else if (At(s, i, "nop"))
            {
                o.Add(IPOptNop);
                i += 3;
            }
            else if (At(s, i, "eol") && (i + 3 == s.Length || s[i + 3] != ','))
            {
                o.Add(IPOptEol);
                i += 3;
            }
            else
                return false;

            if (i >= s.Length)
                return Finish(o, out bytes);
            if (s[i] != ',' && s[i] != ';') return false;
            i++;
        }
    }

    /// <summary>Too-long lists lose leading NOPs; still too long (over 40 bytes) is an error.</summary>
    private static bool Finish(List<byte> o, out byte[]? bytes)
    {
        while (o.Count > 40 && o[0] == 1) o.RemoveAt(0);
        bytes = null;
        if (o.Count > 40) return false;
        bytes = [.. o];
        return true;
    }

    private static bool ParseRoute(ReadOnlySpan<byte> s, ref int i, List<byte> o)
    {
        int typeAt = o.Count - 1;
        int pointer = -1;
        o.Add(0);
        o.Add(0);
        while (true)
        {
            if (i < s.Length && s[i] == '^' && pointer < 0)
            {
                pointer = o.Count - typeAt + 1;
                i++;
            }
            if (!Digit(s, i)) break;
            if (!ParseDotted(s, ref i, o)) return false;
            if (i < s.Length && s[i] == ',') i++;
        }
        if (i >= s.Length || s[i] != '}') return false;
        o[typeAt + 2] = (byte)(pointer >= 0 ? pointer : o.Count - typeAt + 1);
        if (i + 2 < s.Length && s[i + 1] == '+' && Digit(s, i + 2))
        {
            i = SummaryText.ScanUInt(s, i + 2, 10, out uint room);
            if (room < 64) for (int k = 0; k < room * 4; k++) o.Add(0);
        }
        else
            i++;
        if (o.Count - typeAt > 255) return false;
        o[typeAt + 1] = (byte)(o.Count - typeAt);
        return true;
    }

    private static bool ParseTimestampOption(ReadOnlySpan<byte> s, ref int i, List<byte> o)
    {
        int at = o.Count;
        o.Add(IPOptTS); o.Add(0); o.Add(0); o.Add(0);
        int flag = -1; // -1: not yet known; -2: addresses seen, prespecified or not
        if (s[i + 2] == '.')
        {
            if (i + 6 < s.Length && At(s, i + 3, "ip{")) { flag = 1; i += 6; }
            else if (i + 9 < s.Length && At(s, i + 3, "preip{")) { flag = 3; i += 9; }
            else if (Digit(s, i + 3))
            {
                int t = SummaryText.ScanUInt(s, i + 3, 0, out uint f);
                if (f > 15 || t >= s.Length || s[t] != '{') return false;
                flag = (int)f;
                i = t + 1;
            }
            else return false;
        }
        else
            i += 3;

        int pointer = -1;
        while (true)
        {
            if (i < s.Length && s[i] == '^' && pointer < 0)
            {
                pointer = o.Count - at + 1;
                i++;
            }
            if (i >= s.Length || (!Digit(s, i) && s[i] != '!')) break;
            int entry = i;
            bool stamped = true;
        Retry:
            if (flag is 1 or 3 or -2)
            {
                if (!ParseDotted(s, ref i, o)) return false;
                if (pointer >= 0 && flag == -2) flag = 3;
                if (i + 1 < s.Length && s[i] == '=')
                {
                    if (Digit(s, i + 1) || s[i + 1] == '!') i++;
                    else if (s[i + 1] == '?' && pointer >= 0) { Put32(o, 0); i += 2; stamped = false; }
                    else return false;
                }
                else if (pointer >= 0) { Put32(o, 0); stamped = false; }
                else return false;
            }
            if (stamped)
            {
                uint top = 0;
                if (i < s.Length && s[i] == '!') { top = 0x80000000U; i++; }
                if (!Digit(s, i)) return false;
                i = SummaryText.ScanUInt(s, i, 0, out uint v);
                if (i < s.Length && s[i] == '.' && flag == -1)
                {
                    // "1.0.0.1=..." : addresses after all
                    flag = -2;
                    i = entry;
                    goto Retry;
                }
                if (flag == -1) flag = 0;
                Put32(o, v | top);
            }
            if (i < s.Length && s[i] == ',') i++;
        }
        if (i < s.Length && s[i++] != '}') return false;
        if (flag == -2) flag = 1;
        o[at + 2] = (byte)(pointer >= 0 ? pointer : o.Count - at + 1);
        if (i + 1 < s.Length && s[i] == '+' && Digit(s, i + 1))
        {
            i = SummaryText.ScanUInt(s, i + 1, 0, out uint room);
            if (room < 64) for (int k = 0; k < room * (flag is 1 or 3 ? 8 : 4); k++) o.Add(0);
        }
        int overflow = 0;
        if (i + 2 < s.Length && s[i] == '+' && s[i + 1] == '+' && Digit(s, i + 2))
        {
            i = SummaryText.ScanUInt(s, i + 2, 0, out uint ov);
            if (ov < 16) overflow = (int)ov;
        }
        o[at + 3] = (byte)(((overflow << 4) | flag) & 0xFF);
        if (o.Count - at > 255) return false;
        o[at + 1] = (byte)(o.Count - at);
        return true;
    }

    /// <summary>"98" (a bare option byte) or "99=0:5:10" (type, computed length, data).</summary>
    private static bool ParseGeneric(ReadOnlySpan<byte> s, ref int i, List<byte> o)
    {
        i = SummaryText.ScanUInt(s, i, 0, out uint type);
        if (type >= 256) return false;
        o.Add((byte)type);
        if (i + 1 < s.Length && s[i] == '=' && Digit(s, i + 1))
        {
            int lenAt = o.Count;
            o.Add(0);
            do
            {
                i = SummaryText.ScanUInt(s, i + 1, 0, out uint v);
                if (v >= 256) return false;
                o.Add((byte)v);
            } while (i + 1 < s.Length && s[i] == ':' && Digit(s, i + 1));
            if (o.Count > lenAt + 254) return false;
            o[lenAt] = (byte)(o.Count - lenAt + 1);
        }
        return true;
    }

    /// <summary>
    /// Parses TCP options text (only the kinds in <paramref name="contents"/>) into option bytes.
    /// "." (or empty) means none (<paramref name="bytes"/> null).
    /// </summary>
    public static bool ParseTcp(string text, uint contents, out byte[]? bytes)
    {
        bytes = null;
        if (text.Length == 0 || text == ".") return true;
        if (text == "-") return false;
        var s = System.Text.Encoding.Latin1.GetBytes(text).AsSpan();
        var o = new List<byte>();
        int i = 0;
        while (true)
        {
            if (i + 3 < s.Length && At(s, i, "mss") && (contents & TcpMss) != 0)
            {
                int j = SummaryText.ScanUInt(s, i + 3, 0, out uint v);
                if (j == i + 3 || v > 0xFFFF) return false;
                i = j;
                o.Add(TcpOptMss); o.Add(4); o.Add((byte)(v >> 8)); o.Add((byte)v);
            }
            else if (i + 6 < s.Length && At(s, i, "wscale") && (contents & TcpWscale) != 0)
            {
                int j = SummaryText.ScanUInt(s, i + 6, 0, out uint v);
                if (j == i + 6 || v > 255) return false;
                i = j;
                o.Add(TcpOptWscale); o.Add(3); o.Add((byte)v);
            }
            else if (At(s, i, "sackok") && (contents & TcpSack) != 0)
            {
                o.Add(TcpOptSackOk); o.Add(2);
                i += 6;
            }
            else if (i + 4 < s.Length && At(s, i, "sack") && (contents & TcpSack) != 0)
            {
                // adjacent "sackA-B,sackC-D" blocks share one option
                int at = o.Count;
                o.Add(TcpOptSack); o.Add(0);
                i += 4;
                while (true)
                {
                    int t = SummaryText.ScanUInt(s, i, 0, out uint left);
                    if (t >= s.Length || (s[t] != ':' && s[t] != '-')) return false;
                    t = SummaryText.ScanUInt(s, t + 1, 0, out uint right);
                    Put32(o, left);
                    Put32(o, right);
                    if (t < i + 3) return false;
                    i = t;
                    if (i + 5 >= s.Length || !At(s, i, ",sack")) break;
                    i += 5;
                }
                o[at + 1] = (byte)(o.Count - at);
            }
            else if (i + 2 < s.Length && At(s, i, "ts") && (contents & TcpTimestamp) != 0)
            {
                int t = SummaryText.ScanUInt(s, i + 2, 0, out uint tsval);
                if (t >= s.Length || s[t] != ':') return false;
                t = SummaryText.ScanUInt(s, t + 1, 0, out uint tsecr);
                if (o.Count == 0) { o.Add(TcpOptNop); o.Add(TcpOptNop); }
                o.Add(TcpOptTs); o.Add(10);
                Put32(o, tsval);
                Put32(o, tsecr);
                if (t < i + 5) return false;
                i = t;
            }
            else if (Digit(s, i) && (contents & TcpUnknown) != 0)
            {
                if (!ParseGeneric(s, ref i, o)) return false;
            }
            else if (At(s, i, "nop") && (contents & TcpPadding) != 0)
            {
                o.Add(TcpOptNop);
                i += 3;
            }
            else if (At(s, i, "eol") && (contents & TcpPadding) != 0 && (i + 3 == s.Length || s[i + 3] != ','))
            {
                o.Add(TcpOptEol);
                i += 3;
            }
            else
                return false;

            if (i >= s.Length || s[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
                return Finish(o, out bytes);
            if (s[i] != ',' && s[i] != ';') return false;
            i++;
        }
    }
}
