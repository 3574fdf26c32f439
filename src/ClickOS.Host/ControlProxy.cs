using System.Net.Sockets;
using System.Text;

namespace ClickOS.Host;

/// <summary>
/// The ControlSocket the host serves for one instance (instances/NAME/control.sock), so Click
/// tools reach any instance at a stable path whatever its isolation. A connection wakes a
/// sleeping instance, then bytes pass through unchanged to the instance's own ControlSocket
/// (for a shared instance, the worker's socket after selecting the instance).
/// </summary>
internal sealed class ControlProxy(Instance inst, HostDaemon host) : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private Socket? _listener;

    public void Start()
    {
        string path = inst.ControlSocketPath;
        if (File.Exists(path)) File.Delete(path);
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        s.Bind(new UnixDomainSocketEndPoint(path));
        s.Listen(16);
        _listener = s;
        _ = AcceptLoop(s);
    }

    private async System.Threading.Tasks.Task AcceptLoop(Socket listener)
    {
        while (!_cts.IsCancellationRequested)
        {
            Socket client;
            try { client = await listener.AcceptAsync(_cts.Token).ConfigureAwait(false); }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException) { return; }
            _ = Serve(client);
        }
    }

    private async System.Threading.Tasks.Task Serve(Socket client)
    {
        using (client)
        {
            Socket? backend = null;
            try
            {
                host.EnsureAwake(inst);
                backend = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                if (inst.Spec.Isolation == Isolation.Process)
                {
                    await backend.ConnectAsync(new UnixDomainSocketEndPoint(host.InternalControlPath(inst)), _cts.Token).ConfigureAwait(false);
                }
                else
                {
                    var worker = inst.Worker ?? throw new IOException("not running");
                    await backend.ConnectAsync(new UnixDomainSocketEndPoint(worker.ControlPath), _cts.Token).ConfigureAwait(false);
                    // Pass the worker's greeting on, select the instance, swallow the selection's reply.
                    string greeting = await ReadLine(backend).ConfigureAwait(false);
                    await client.SendAsync(Encoding.Latin1.GetBytes(greeting + "\r\n"), _cts.Token).ConfigureAwait(false);
                    await backend.SendAsync(Encoding.Latin1.GetBytes($"INSTANCE {inst.Name}\r\n"), _cts.Token).ConfigureAwait(false);
                    string answer = await ReadLine(backend).ConfigureAwait(false);
                    if (!answer.StartsWith("200", StringComparison.Ordinal)) throw new IOException(answer);
                }
                using var a = new NetworkStream(client, ownsSocket: false);
                using var b = new NetworkStream(backend, ownsSocket: false);
                var up = Pump(a, b, backend);
                var down = Pump(b, a, client);
                await System.Threading.Tasks.Task.WhenAny(up, down).ConfigureAwait(false);
                await System.Threading.Tasks.Task.WhenAll(up, down).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or IOException or ObjectDisposedException or OperationCanceledException or TimeoutException or HostException) { }
            finally
            {
                backend?.Dispose();
            }
        }
    }

    private async System.Threading.Tasks.Task Pump(NetworkStream from, NetworkStream to, Socket toSocket)
    {
        try
        {
            await from.CopyToAsync(to, _cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException) { }
        try { toSocket.Shutdown(SocketShutdown.Send); }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
    }

    private async System.Threading.Tasks.Task<string> ReadLine(Socket s)
    {
        var sb = new StringBuilder();
        var one = new byte[1];
        while (sb.Length < 4096)
        {
            int n = await s.ReceiveAsync(one, _cts.Token).ConfigureAwait(false);
            if (n == 0) throw new IOException("closed");
            if (one[0] == '\n') return sb.ToString().TrimEnd('\r');
            sb.Append((char)one[0]);
        }
        throw new IOException("line too long");
    }

    public void Dispose()
    {
        _cts.Cancel();
        _listener?.Dispose();
        try { File.Delete(inst.ControlSocketPath); } catch (IOException) { }
    }
}
