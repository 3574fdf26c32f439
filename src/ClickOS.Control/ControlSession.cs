using System.Text;
using ClickOS.Runtime;

namespace ClickOS.Control;

/// <summary>Where a connection's commands run: on the router's thread, or inline in tests.</summary>
public interface IControlTarget
{
    /// <summary>Runs <paramref name="command"/> against the current router; a 540 reply when there is none.</summary>
    ControlReply Run(Func<Router, ControlReply> command);
}

/// <summary>Limits that keep one connection's memory bounded whatever its peer sends.</summary>
public sealed record ControlLimits
{
    /// <summary>Longest command line; a longer one is answered with 500 and the connection closed.</summary>
    public int MaxLine { get; init; } = 64 * 1024;
    /// <summary>Largest READDATA/WRITEDATA/…UNTIL argument (a hot-swapped configuration must fit).</summary>
    public int MaxData { get; init; } = 16 * 1024 * 1024;
    /// <summary>Stop reading from a peer while this much output waits for it.</summary>
    public int OutputHighWater { get; init; } = 256 * 1024;
}

/// <summary>
/// One ControlSocket connection, protocol version 1.3, without the socket: bytes in, commands
/// run through an <see cref="IControlTarget"/>, replies out. Lines end in CR, LF or CRLF;
/// replies end in CRLF. Memory stays bounded: input is buffered only up to the line and data
/// limits, and the owner stops feeding input while <see cref="WantsInput"/> is false.
/// </summary>
public sealed class ControlSession(IControlTarget target, ControlLimits? limits = null, bool readOnly = false, string? proxy = null)
{
    public const string ProtocolVersion = "1.3";
    public const string Greeting = "Click::ControlSocket/" + ProtocolVersion;

    private readonly ControlLimits _limits = limits ?? new ControlLimits();

    /// <summary>
    /// Set where one socket serves many routers (a ClickOS shared worker): the extension command
    /// <c>INSTANCE name</c> picks the router the connection's later commands go to.
    /// </summary>
    public Func<string, IControlTarget?>? Selector { get; init; }
    private byte[] _in = new byte[512];
    private int _inStart, _inEnd;
    private long _discard;          // bytes still to skip after a DATA block that was too large
    private int _need;              // input the pending command needs before it can run (0: a line)
    private bool _readClosed, _quit, _fatal;

    public OutputBuffer Output { get; } = new();

    /// <summary>Queues the greeting line.</summary>
    public void Start() => Output.Append(Greeting + "\r\n");

    private int Buffered => _inEnd - _inStart;

    /// <summary>How many more input bytes this session will take now.</summary>
    public int InputRoom
    {
        get
        {
            if (_readClosed || _quit || _fatal || Output.Length >= _limits.OutputHighWater) return 0;
            if (_discard > 0) return (int)Math.Min(_discard, 1 << 16);
            int cap = Math.Max(_limits.MaxLine, _need);
            return Math.Max(0, cap - Buffered);
        }
    }

    public bool WantsInput => InputRoom > 0;

    /// <summary>True once the peer has quit or closed and every reply has been handed out.</summary>
    public bool Finished => (_quit || _fatal || (_readClosed && !HasWork)) && Output.Length == 0;

    /// <summary>Whether buffered input may hold a command that can run now.</summary>
    public bool HasWork => !_quit && !_fatal && (_discard > 0 ? Buffered > 0 : Buffered > 0 && (_readClosed || _need == 0 || Buffered >= _need));

    public void Feed(ReadOnlySpan<byte> data)
    {
        if (_quit || _fatal) return;
        if (_discard > 0)
        {
            int skip = (int)Math.Min(_discard, data.Length);
            _discard -= skip;
            data = data[skip..];
        }
        if (data.IsEmpty) return;
        if (_in.Length - _inEnd < data.Length)
        {
            int live = Buffered;
            if (_in.Length - live < data.Length)
                Array.Resize(ref _in, Math.Max(_in.Length * 2, live + data.Length));
            Buffer.BlockCopy(_in, _inStart, _in, 0, live);
            _inStart = 0;
            _inEnd = live;
        }
        data.CopyTo(_in.AsSpan(_inEnd));
        _inEnd += data.Length;
    }

    /// <summary>The peer closed its side: a final unterminated line still runs, as in Click.</summary>
    public void EndOfInput() => _readClosed = true;

    /// <summary>Runs up to <paramref name="max"/> complete commands; returns how many ran.</summary>
    public int Process(int max = int.MaxValue)
    {
        int ran = 0;
        while (ran < max && !_quit && !_fatal)
        {
            if (_discard > 0)
            {
                int skip = (int)Math.Min(_discard, Buffered);
                _discard -= skip;
                _inStart += skip;
                if (_discard > 0) break;
            }
            var buf = _in.AsSpan(_inStart, Buffered);
            if (buf.IsEmpty) break;
            int eol = buf.IndexOfAny((byte)'\r', (byte)'\n');
            int lineEnd;
            if (eol < 0)
            {
                if (buf.Length >= _limits.MaxLine)
                {
                    Fail(ControlCode.Syntax, "Line too long");
                    break;
                }
                if (!_readClosed) { _need = 0; break; }
                lineEnd = buf.Length;
            }
            else
            {
                lineEnd = eol + 1;
                // A CR that ends the buffer may be half of a CRLF. A plain command runs now (its LF
                // then reads as an empty line, which is ignored); a command that takes data after
                // the line waits for more input and is parsed again, LF included.
                if (buf[eol] == '\r' && eol + 1 < buf.Length && buf[eol + 1] == '\n') lineEnd++;
            }
            string line = Encoding.Latin1.GetString(buf[..lineEnd]);
            var rest = buf[lineEnd..];
            int used = RunCommand(line, rest, out var reply);
            if (used < 0) break;   // needs more input
            _inStart += lineEnd + used;
            if (_inStart == _inEnd) _inStart = _inEnd = 0;
            _need = 0;
            reply?.WriteTo(Output);
            ran++;
        }
        if (Buffered == 0 && _in.Length > 64 * 1024) { _in = new byte[512]; _inStart = _inEnd = 0; }
        return ran;
    }

    private void Fail(int code, string text)
    {
        ControlReply.Message(code, text).WriteTo(Output);
        _fatal = true;
        _inStart = _inEnd = 0;
    }

    private static List<(int Start, int End)> Words(string line)
    {
        var words = new List<(int, int)>();
        int pos = 0;
        while (pos < line.Length)
        {
            while (pos < line.Length && IsSpace(line[pos])) pos++;
            int first = pos;
            while (pos < line.Length && !IsSpace(line[pos])) pos++;
            if (first < pos) words.Add((first, pos));
        }
        return words;
    }

    // Click's String::upper: ASCII letters only (bytes 128-255 stay as they are).
    private static string AsciiUpper(string s) => string.Create(s.Length, s, static (span, src) =>
    {
        for (int i = 0; i < src.Length; i++) span[i] = char.IsAsciiLetterLower(src[i]) ? (char)(src[i] - 32) : src[i];
    });

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>
    /// Runs one command line. Returns how many bytes after the line it consumed (a DATA block,
    /// an UNTIL block), or -1 when it must wait for more input (nothing is consumed then).
    /// </summary>
    private int RunCommand(string line, ReadOnlySpan<byte> rest, out ControlReply? reply)
    {
        reply = null;
        var words = Words(line);
        if (words.Count == 0) return 0;
        string W(int i) => line[words[i].Start..words[i].End];
        string Tail(int from) => from < words.Count ? line[words[from].Start..words[^1].End] : "";
        string command = AsciiUpper(W(0));
        switch (command)
        {
            case "READ" or "GET" or "WRITE" or "SET":
                if (words.Count < 2) { reply = Syntax("Wrong number of arguments"); return 0; }
                reply = command[0] is 'R' or 'G' ? DoRead(W(1), Tail(2)) : DoWrite(W(1), Tail(2));
                return 0;

            case "READDATA" or "WRITEDATA" or "SETDATA":
            {
                if (words.Count != 3) { reply = Syntax("Wrong number of arguments"); return 0; }
                if (!ParseLength(W(2), out long n)) { reply = Syntax($"Syntax error in '{command}'"); return 0; }
                int ready = DataBlock(n, line, rest, $"{(command[0] == 'R' ? "read" : "write")} handler '{W(1)}'", ref reply);
                if (ready != 0 || reply != null) return ready;
                string data = Encoding.Latin1.GetString(rest[..(int)n]);
                reply = command[0] == 'R' ? DoRead(W(1), data) : DoWrite(W(1), data);
                return (int)n;
            }

            case "READUNTIL" or "WRITEUNTIL":
            {
                if (words.Count < 2) { reply = Syntax("Wrong number of arguments"); return 0; }
                string until = Tail(2);
                int used = FindTerminator(rest, until, out int dataLength);
                if (used < 0)
                {
                    if (_readClosed) { reply = Syntax("Connection closed"); return 0; }
                    if (rest.Length > _limits.MaxData)
                    {
                        Fail(ControlCode.DataTooBig, $"Data too large for {(command[0] == 'R' ? "read" : "write")} handler '{W(1)}'");
                        return 0;
                    }
                    _need = line.Length + rest.Length + 1;
                    return -1;
                }
                string data = Encoding.Latin1.GetString(rest[..dataLength]);
                reply = command[0] == 'R' ? DoRead(W(1), data) : DoWrite(W(1), data);
                return used;
            }

            case "CHECKREAD" or "CHECKWRITE":
            {
                if (words.Count != 2) { reply = Syntax("Wrong number of arguments"); return 0; }
                string name = W(1);
                bool write = command[5] == 'W';
                reply = target.Run(r => HandlerCommands.Check(r, name, write, readOnly, proxy));
                return 0;
            }

            case "LLRPC":
            {
                if (words.Count != 2 && words.Count != 3) { reply = Syntax("Wrong number of arguments"); return 0; }
                long n = 0;
                if (words.Count == 3 && !ParseLength(W(2), out n)) { reply = Syntax("Syntax error in 'llrpc'"); return 0; }
                int ready = DataBlock(n, line, rest, $"LLRPC '{W(1)}'", ref reply);
                if (ready != 0 || reply != null) return ready;
                string name = W(1);
                reply = target.Run(r => HandlerCommands.Llrpc(r, name, proxy));
                return (int)n;
            }

            case "CLOSE" or "QUIT":
                reply = new ControlReply();
                if (words.Count != 1) reply.Lines.Add((ControlCode.Syntax, "Bad command syntax"));
                // Separate messages, not a continued reply: each ends with "CODE ".
                reply.WriteTo(Output);
                reply = ControlReply.Message(ControlCode.Ok, "Goodbye!");
                _quit = true;
                return rest.Length;

            case "INSTANCE" when Selector != null:
            {
                if (words.Count != 2) { reply = Syntax("Wrong number of arguments"); return 0; }
                var chosen = Selector(W(1));
                if (chosen == null) reply = ControlReply.Message(ControlCode.NoSuchElement, $"No instance '{W(1)}'");
                else
                {
                    target = chosen;
                    reply = ControlReply.Message(ControlCode.Ok, "OK");
                }
                return 0;
            }

            case "HELP":
                reply = new ControlReply();
                foreach (var l in HelpLines) reply.Lines.Add((ControlCode.Ok, l));
                return 0;

            default:
                reply = ControlReply.Message(ControlCode.Unimplemented, $"Command '{command}' unimplemented");
                return 0;
        }
    }

    /// <summary>
    /// Whether the n-byte block after a command line is here. Returns 0 with no reply when it
    /// is; otherwise the command's result: -1 to wait for more input, or a reply (too large: the
    /// block is skipped as it arrives; the peer closed first: not enough data).
    /// </summary>
    private int DataBlock(long n, string line, ReadOnlySpan<byte> rest, string what, ref ControlReply? reply)
    {
        if (n > _limits.MaxData)
        {
            reply = ControlReply.Message(ControlCode.DataTooBig, $"Data too large for {what}");
            long have = Math.Min(n, rest.Length);
            _discard = n - have;
            return (int)have;
        }
        if (rest.Length >= n) return 0;
        if (_readClosed)
        {
            reply = Syntax("Not enough data");
            return 0;
        }
        _need = line.Length + (int)n;
        return -1;
    }

    internal static readonly string[] HelpLines =
    [
        "Commands supported:",
        "READ handler [arg...]   call read handler, return DATA",
        "READDATA handler len    call read handler with len data bytes, return DATA",
        "READUNTIL handler term  call read handler, take data until term, return DATA",
        "WRITE handler [arg...]  call write handler",
        "WRITEDATA handler len   call write handler, pass len data bytes",
        "WRITEUNTIL handler term call write handler, take data until term",
        "CHECKREAD handler       check if read handler is valid",
        "CHECKWRITE handler      check if write handler is valid",
        "LLRPC elt#number [len]  call LLRPC, pass len data bytes, return DATA",
        "QUIT                    close connection",
    ];

    private static ControlReply Syntax(string text) => ControlReply.Message(ControlCode.Syntax, text);

    private static bool ParseLength(string s, out long n)
    {
        n = 0;
        int i = s.Length > 0 && s[0] == '+' ? 1 : 0;
        if (i == s.Length) return false;
        for (; i < s.Length; i++)
        {
            if (s[i] < '0' || s[i] > '9') return false;
            n = n * 10 + (s[i] - '0');
            if (n > int.MaxValue) return false;
        }
        return true;
    }

    /// <summary>
    /// Finds the first line equal to <paramref name="until"/> once trailing spaces are removed.
    /// Returns the bytes to consume (up to the terminator's last non-space character), with the
    /// data being everything before the terminator line; -1 if no terminator is buffered yet.
    /// </summary>
    private static int FindTerminator(ReadOnlySpan<byte> rest, string until, out int dataLength)
    {
        int s = 0;
        while (true)
        {
            int begin = s, end = s;
            while (s < rest.Length && rest[s] != '\n' && rest[s] != '\r')
            {
                if (!IsSpace((char)rest[s])) end = s + 1;
                s++;
            }
            if (s == rest.Length) { dataLength = 0; return -1; }
            if (rest[s] == '\r' && s + 1 < rest.Length && rest[s + 1] == '\n') s += 2;
            else s++;
            if (end - begin == until.Length && Matches(rest[begin..end], until))
            {
                dataLength = begin;
                return end;
            }
        }
    }

    private static bool Matches(ReadOnlySpan<byte> a, string b)
    {
        for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    private ControlReply DoRead(string name, string param) =>
        target.Run(r => HandlerCommands.Read(r, name, param, proxy));

    private ControlReply DoWrite(string name, string data)
    {
        var reply = target.Run(r => HandlerCommands.Write(r, name, data, readOnly, proxy));
        // Slow handlers (hotconfig) run here, on the connection's thread, not the router's.
        return reply.Deferred != null ? HandlerCommands.CallWrite(reply.Deferred, reply.DeferredName, data) : reply;
    }
}
