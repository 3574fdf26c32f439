using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ClickOS.Control;

/// <summary>One reply from a ControlSocket: its status code, message lines and, for reads, the data.</summary>
public sealed record ControlResponse(int Code, IReadOnlyList<string> Messages, byte[]? Data)
{
    public bool Ok => Code is >= 200 and < 300;
    public string DataText => Data == null ? "" : Encoding.Latin1.GetString(Data);
    /// <summary>The message lines after the first (a handler's own errors or warnings).</summary>
    public IEnumerable<string> Details => Messages.Skip(1);
    public override string ToString() => $"{Code} {string.Join(" / ", Messages)}";
}

/// <summary>A broken connection or a reply that does not follow the protocol.</summary>
public sealed class ControlProtocolException(string message) : Exception(message);

/// <summary>
/// A client for Click's ControlSocket protocol (1.x), usable against this implementation and
/// against the reference Click alike. Parameters with line breaks go as READDATA/WRITEDATA.
/// </summary>
public sealed class ControlClient : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buf = new byte[16 * 1024];
    private int _start, _end;

    /// <summary>The server's protocol version, from its greeting ("1.3").</summary>
    public string Version { get; }

    private ControlClient(Socket socket, TimeSpan timeout)
    {
        _socket = socket;
        _socket.ReceiveTimeout = _socket.SendTimeout = (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue);
        string greeting = ReadLine();
        const string prefix = "Click::ControlSocket/";
        if (!greeting.StartsWith(prefix, StringComparison.Ordinal))
            throw new ControlProtocolException($"not a Click control socket (it said '{ControlReply.Printable(greeting)}')");
        Version = greeting[prefix.Length..];
    }

    public static ControlClient ConnectTcp(string host, int port, TimeSpan timeout)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            var connect = s.ConnectAsync(host, port);
            if (!connect.Wait(timeout)) throw new ControlProtocolException($"{host}:{port}: connection timed out");
            return new ControlClient(s, timeout);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    public static ControlClient ConnectUnix(string path, TimeSpan timeout)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Connect(new UnixDomainSocketEndPoint(path));
            return new ControlClient(s, timeout);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    private bool AtLeast(int major, int minor)
    {
        var parts = Version.Split('.');
        return parts.Length >= 2 && int.TryParse(parts[0], out int a) && int.TryParse(parts[1], out int b)
            && (a > major || (a == major && b >= minor));
    }

    public ControlResponse Read(string handler, string param = "")
    {
        if (param.Length == 0) return Send($"READ {handler}\r\n", null, expectData: true);
        bool plain = param.IndexOfAny(['\r', '\n']) < 0;
        if (plain || !AtLeast(1, 2)) return Send($"READ {handler} {param}\r\n", null, expectData: true);
        return Send($"READDATA {handler} {Encoding.Latin1.GetByteCount(param)}\r\n", param, expectData: true);
    }

    public ControlResponse Write(string handler, string value = "") =>
        Send($"WRITEDATA {handler} {Encoding.Latin1.GetByteCount(value)}\r\n", value, expectData: false);

    public ControlResponse Check(string handler, bool write) =>
        Send($"{(write ? "CHECKWRITE" : "CHECKREAD")} {handler}\r\n", null, expectData: false);

    /// <summary>Sends QUIT and waits for the goodbye.</summary>
    /// <summary>Picks one router on a socket that serves many (a ClickOS shared worker).</summary>
    public ControlResponse SelectInstance(string name) => Send($"INSTANCE {name}\r\n", null, expectData: false);

    public ControlResponse Quit() => Send("QUIT\r\n", null, expectData: false);

    private ControlResponse Send(string command, string? data, bool expectData)
    {
        var bytes = Encoding.Latin1.GetBytes(data == null ? command : command + data);
        int sent = 0;
        while (sent < bytes.Length) sent += _socket.Send(bytes, sent, bytes.Length - sent, SocketFlags.None);
        var messages = new List<string>();
        int code;
        while (true)
        {
            string line = ReadLine();
            if (line.Length < 4 || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out code)
                || (line[3] != ' ' && line[3] != '-'))
                throw new ControlProtocolException($"unexpected reply line '{ControlReply.Printable(line)}'");
            messages.Add(line[4..]);
            if (line[3] == ' ') break;
        }
        byte[]? payload = null;
        if (expectData && code is >= 200 and < 300)
        {
            string dataLine = ReadLine();
            if (!dataLine.StartsWith("DATA ", StringComparison.Ordinal) || !int.TryParse(dataLine.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
                throw new ControlProtocolException($"expected 'DATA n', got '{ControlReply.Printable(dataLine)}'");
            payload = ReadExactly(n);
        }
        return new ControlResponse(code, messages, payload);
    }

    private int Fill()
    {
        if (_start > 0 && _start == _end) _start = _end = 0;
        if (_end == _buf.Length)
        {
            if (_start == 0) throw new ControlProtocolException("reply line too long");
            Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int got = _socket.Receive(_buf, _end, _buf.Length - _end, SocketFlags.None);
        if (got == 0) throw new ControlProtocolException("connection closed by the server");
        _end += got;
        return got;
    }

    private string ReadLine()
    {
        while (true)
        {
            int nl = _buf.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (nl >= 0)
            {
                int len = nl > 0 && _buf[_start + nl - 1] == '\r' ? nl - 1 : nl;
                string line = Encoding.Latin1.GetString(_buf, _start, len);
                _start += nl + 1;
                return line;
            }
            Fill();
        }
    }

    private byte[] ReadExactly(int n)
    {
        var result = new byte[n];
        int have = 0;
        while (have < n)
        {
            if (_start == _end) Fill();
            int take = Math.Min(n - have, _end - _start);
            Buffer.BlockCopy(_buf, _start, result, have, take);
            _start += take;
            have += take;
        }
        return result;
    }

    public void Dispose() => _socket.Dispose();
}
