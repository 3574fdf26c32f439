using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ClickOS.Host;

public sealed record HttpRequest(string Method, string Path, IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => Encoding.UTF8.GetString(Body);
}

public sealed record HttpResponse(int Status, string ContentType, byte[] Body)
{
    public static HttpResponse Text(int status, string text, string type = "text/plain; charset=utf-8") => new(status, type, Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// A small HTTP/1.1 server for the host's control API: Content-Length bodies, keep-alive, on a
/// Unix socket or loopback TCP. Bounded: 16 KiB of headers, 32 MiB of body, 256 connections,
/// 60 s idle per connection; anything else gets a 4xx and the connection closes. The API is
/// small and local, so this avoids pulling ASP.NET into the host.
/// </summary>
public sealed class HttpServer : IDisposable
{
    private const int MaxHeader = 16 * 1024;
    private const int MaxBody = 32 * 1024 * 1024;
    private const int MaxConnections = 256;
    private readonly Socket _listener;
    private readonly Func<HttpRequest, HttpResponse> _handler;
    private readonly string? _token;
    private readonly CancellationTokenSource _cts = new();
    private readonly string? _unixPath;
    private int _connections;

    public EndPoint LocalEndPoint => _listener.LocalEndPoint!;

    private HttpServer(Socket listener, Func<HttpRequest, HttpResponse> handler, string? token, string? unixPath)
    {
        _listener = listener;
        _handler = handler;
        _token = token;
        _unixPath = unixPath;
    }

    public static HttpServer ListenUnix(string path, Func<HttpRequest, HttpResponse> handler)
    {
        if (File.Exists(path)) File.Delete(path);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        // Owner only: the socket is the host's root of trust.
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        s.Listen(128);
        return new HttpServer(s, handler, null, path);
    }

    /// <summary>Loopback TCP; every request must carry "Authorization: Bearer TOKEN".</summary>
    public static HttpServer ListenTcp(IPEndPoint ep, string token, Func<HttpRequest, HttpResponse> handler)
    {
        if (!IPAddress.IsLoopback(ep.Address)) throw new ArgumentException("the API listens on loopback addresses only", nameof(ep));
        if (string.IsNullOrEmpty(token)) throw new ArgumentException("a bearer token is required on TCP", nameof(token));
        var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(ep);
        s.Listen(128);
        return new HttpServer(s, handler, token, null);
    }

    public void Start() => _ = AcceptLoop();

    private async System.Threading.Tasks.Task AcceptLoop()
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket c;
            try { c = await _listener.AcceptAsync(_cts.Token).ConfigureAwait(false); }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException) { return; }
            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                c.Dispose();
                continue;
            }
            _ = System.Threading.Tasks.Task.Run(() => Serve(c));
        }
    }

    private async System.Threading.Tasks.Task Serve(Socket socket)
    {
        using var _ = socket;
        using var stream = new NetworkStream(socket, ownsSocket: false);
        var buf = new byte[8192];
        int have = 0;
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(_cts.Token);
                idle.CancelAfter(TimeSpan.FromSeconds(60));
                int headerEnd;
                while ((headerEnd = IndexOfHeaderEnd(buf.AsSpan(0, have))) < 0)
                {
                    if (have >= MaxHeader)
                    {
                        await Write(stream, Error(431, "headers_too_large", "request headers exceed 16 KiB"), close: true).ConfigureAwait(false);
                        return;
                    }
                    if (have == buf.Length) Array.Resize(ref buf, Math.Min(buf.Length * 2, MaxHeader + 4));
                    int n = await stream.ReadAsync(buf.AsMemory(have), idle.Token).ConfigureAwait(false);
                    if (n == 0) return;
                    have += n;
                }
                string head = Encoding.Latin1.GetString(buf, 0, headerEnd);
                var lines = head.Split("\r\n");
                var start = lines[0].Split(' ');
                if (start.Length != 3 || !start[2].StartsWith("HTTP/1.", StringComparison.Ordinal))
                {
                    await Write(stream, Error(400, "bad_request", "malformed request line"), close: true).ConfigureAwait(false);
                    return;
                }
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var l in lines.Skip(1))
                {
                    int c = l.IndexOf(':');
                    if (c <= 0) { await Write(stream, Error(400, "bad_request", "malformed header"), close: true).ConfigureAwait(false); return; }
                    headers[l[..c].Trim()] = l[(c + 1)..].Trim();
                }
                if (headers.TryGetValue("Transfer-Encoding", out var te) && !te.Equals("identity", StringComparison.OrdinalIgnoreCase))
                {
                    await Write(stream, Error(411, "length_required", "send the body with Content-Length"), close: true).ConfigureAwait(false);
                    return;
                }
                long length = 0;
                if (headers.TryGetValue("Content-Length", out var cl) && (!long.TryParse(cl, out length) || length < 0))
                {
                    await Write(stream, Error(400, "bad_request", "bad Content-Length"), close: true).ConfigureAwait(false);
                    return;
                }
                if (length > MaxBody)
                {
                    await Write(stream, Error(413, "too_large", "request body exceeds 32 MiB"), close: true).ConfigureAwait(false);
                    return;
                }
                int bodyStart = headerEnd + 4;
                var body = new byte[length];
                int fromBuf = (int)Math.Min(length, have - bodyStart);
                Array.Copy(buf, bodyStart, body, 0, fromBuf);
                int got = fromBuf;
                while (got < length)
                {
                    int n = await stream.ReadAsync(body.AsMemory(got), idle.Token).ConfigureAwait(false);
                    if (n == 0) return;
                    got += n;
                }
                int rest = have - bodyStart - fromBuf;
                Array.Copy(buf, bodyStart + fromBuf, buf, 0, rest);
                have = rest;

                HttpResponse response;
                if (_token != null && !Authorized(headers))
                    response = Error(401, "unauthorized", "a valid 'Authorization: Bearer TOKEN' header is required");
                else
                {
                    var (path, query) = SplitTarget(start[1]);
                    try { response = _handler(new HttpRequest(start[0], path, query, headers, body)); }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        response = Error(500, "internal", ex.Message);
                    }
                }
                bool close = headers.TryGetValue("Connection", out var conn) && conn.Equals("close", StringComparison.OrdinalIgnoreCase)
                    || start[2] == "HTTP/1.0";
                await Write(stream, response, close).ConfigureAwait(false);
                if (close) return;
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
        finally
        {
            Interlocked.Decrement(ref _connections);
        }
    }

    private bool Authorized(Dictionary<string, string> headers)
    {
        if (!headers.TryGetValue("Authorization", out var auth) || !auth.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        var given = Encoding.UTF8.GetBytes(auth[7..].Trim());
        var want = Encoding.UTF8.GetBytes(_token!);
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(given, want);
    }

    private static (string, Dictionary<string, string>) SplitTarget(string target)
    {
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        int q = target.IndexOf('?');
        string path = q < 0 ? target : target[..q];
        if (q >= 0)
            foreach (var pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=');
                string k = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
                query[k] = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            }
        return (path, query);
    }

    private static int IndexOfHeaderEnd(ReadOnlySpan<byte> b) => b.IndexOf("\r\n\r\n"u8);

    public static HttpResponse Error(int status, string code, string message, IReadOnlyList<string>? details = null)
    {
        var buf = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new System.Text.Json.Utf8JsonWriter(buf))
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteNumber("status", status);
            w.WriteString("code", code);
            w.WriteString("message", message);
            w.WriteStartArray("details");
            foreach (var d in details ?? []) w.WriteStringValue(d);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return new HttpResponse(status, "application/json", buf.WrittenSpan.ToArray());
    }

    private static async System.Threading.Tasks.Task Write(NetworkStream s, HttpResponse r, bool close)
    {
        string reason = r.Status switch
        {
            200 => "OK", 201 => "Created", 204 => "No Content", 400 => "Bad Request", 401 => "Unauthorized", 403 => "Forbidden",
            404 => "Not Found", 405 => "Method Not Allowed", 409 => "Conflict", 411 => "Length Required", 413 => "Content Too Large",
            422 => "Unprocessable Content", 431 => "Request Header Fields Too Large", 500 => "Internal Server Error", 502 => "Bad Gateway",
            _ => "Status",
        };
        string head = $"HTTP/1.1 {r.Status} {reason}\r\nContent-Type: {r.ContentType}\r\nContent-Length: {r.Body.Length}\r\n" +
            (r.Status == 401 ? "WWW-Authenticate: Bearer\r\n" : "") + (close ? "Connection: close\r\n" : "") + "\r\n";
        await s.WriteAsync(Encoding.Latin1.GetBytes(head)).ConfigureAwait(false);
        await s.WriteAsync(r.Body).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener.Dispose();
        if (_unixPath != null) try { File.Delete(_unixPath); } catch (IOException) { }
    }
}
