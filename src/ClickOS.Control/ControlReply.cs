using System.Text;

namespace ClickOS.Control;

/// <summary>The ControlSocket protocol's reply codes (Click's CSERR_* values).</summary>
public static class ControlCode
{
    public const int Ok = 200;
    public const int OkWithWarnings = 220;
    public const int Syntax = 500;
    public const int Unimplemented = 501;
    public const int NoSuchElement = 510;
    public const int NoSuchHandler = 511;
    public const int HandlerError = 520;
    public const int DataTooBig = 521;
    public const int LlrpcError = 522;
    public const int Permission = 530;
    public const int NoRouter = 540;
    public const int Unspecified = 590;
}

/// <summary>
/// One reply: message lines (all but the last sent as "CODE-text"), then, for reads, the
/// "DATA n" block. A reply may instead name a handler to call on the control thread
/// (<see cref="ClickOS.Core.HandlerFlags.ControlThread"/>).
/// </summary>
public sealed class ControlReply
{
    public List<(int Code, string Text)> Lines { get; } = [];
    public byte[]? Data { get; set; }
    internal ClickOS.Core.Handler? Deferred { get; init; }
    internal string DeferredName { get; init; } = "";

    public static ControlReply Message(int code, string text)
    {
        var r = new ControlReply();
        r.Lines.Add((code, text));
        return r;
    }

    public static ControlReply NoRouter() => Message(ControlCode.NoRouter, "No router installed");

    /// <summary>Appends the reply in wire format: CRLF-terminated lines, text made printable as Click does.</summary>
    public void WriteTo(OutputBuffer output)
    {
        for (int i = 0; i < Lines.Count; i++)
        {
            var (code, text) = Lines[i];
            output.Append($"{code}{(i < Lines.Count - 1 ? '-' : ' ')}{Printable(text)}\r\n");
        }
        if (Data != null)
        {
            output.Append($"DATA {Data.Length}\r\n");
            output.Append(Data);
        }
    }

    /// <summary>
    /// Click's String::printable: control characters 0-31 become "^@".."^_", and 127-255
    /// become octal escapes such as "\377", so a reply line never breaks the framing.
    /// </summary>
    public static string Printable(string s)
    {
        int i = 0;
        while (i < s.Length && s[i] >= 32 && s[i] < 127) i++;
        if (i == s.Length) return s;
        var sb = new StringBuilder(s.Length + 8).Append(s, 0, i);
        for (; i < s.Length; i++)
        {
            int c = s[i] & 0xFF;
            if (c >= 32 && c < 127) sb.Append((char)c);
            else if (c < 32) sb.Append('^').Append((char)(c + 64));
            else sb.Append('\\').Append((char)('0' + (c >> 6))).Append((char)('0' + ((c >> 3) & 7))).Append((char)('0' + (c & 7)));
        }
        return sb.ToString();
    }
}

/// <summary>A byte queue for a connection's pending output (appended at the end, sent from the front).</summary>
public sealed class OutputBuffer
{
    private byte[] _buf = new byte[256];
    private int _start, _end;

    public int Length => _end - _start;
    public ReadOnlySpan<byte> Pending => _buf.AsSpan(_start, _end - _start);

    public void Append(string s)
    {
        int n = s.Length;
        Reserve(n);
        Encoding.Latin1.GetBytes(s, _buf.AsSpan(_end, n));
        _end += n;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        Reserve(data.Length);
        data.CopyTo(_buf.AsSpan(_end));
        _end += data.Length;
    }

    public void Consume(int n)
    {
        _start += n;
        if (_start == _end) _start = _end = 0;
    }

    private void Reserve(int n)
    {
        if (_buf.Length - _end >= n) return;
        int live = _end - _start;
        if (_buf.Length - live >= n && _start > 0)
        {
            Buffer.BlockCopy(_buf, _start, _buf, 0, live);
        }
        else
        {
            var nb = new byte[Math.Max(_buf.Length * 2, live + n)];
            Buffer.BlockCopy(_buf, _start, nb, 0, live);
            _buf = nb;
        }
        _start = 0;
        _end = live;
    }

    /// <summary>Drops a large idle buffer so an idle connection holds little memory.</summary>
    public void Trim()
    {
        if (Length == 0 && _buf.Length > 64 * 1024) _buf = new byte[256];
    }
}
