using System.Net.Sockets;

namespace ClickOS.Host;

/// <summary>An HttpClient for the host's API on its Unix socket (the CLI's, and the tests').</summary>
public static class HostHttpClient
{
    public static HttpClient ForUnixSocket(string path, TimeSpan timeout)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await s.ConnectAsync(new UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                    return new NetworkStream(s, ownsSocket: true);
                }
                catch (SocketException ex)
                {
                    s.Dispose();
                    throw new HttpRequestException($"{path}: {ex.Message}", ex);
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://clickos-host/"), Timeout = timeout };
    }
}
