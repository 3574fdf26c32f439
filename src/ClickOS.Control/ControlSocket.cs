using System.Globalization;
using System.Net.Sockets;
using ClickOS.Core;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Control;

/// <summary>
/// ControlSocket(TCP, PORT [, keywords]) or ControlSocket(UNIX, FILENAME [, keywords]): opens a
/// control socket over which other programs call read and write handlers, speaking Click's
/// ControlSocket protocol, version 1.3. PORT "N+" takes the first free port from N up; 0 takes
/// any free port.
/// Keywords: READONLY (bool, default false: writes answered 530), PROXY (element whose handlers
/// answer for every name), VERBOSE (bool: report connections on standard error), LOCALHOST (bool,
/// default true here, unlike Click: TCP accepts loopback connections only unless set false),
/// RETRIES (integer: retry a busy address once a second this many times, then stop the router),
/// RETRY_WARNINGS (bool, default true).
/// Commands: READ/GET, READDATA, READUNTIL, WRITE/SET, WRITEDATA/SETDATA, WRITEUNTIL, CHECKREAD,
/// CHECKWRITE, LLRPC, QUIT/CLOSE, HELP, on handlers named ELEMENT.H, N.H (the Nth element) or H
/// (global). Commands run on the router's thread between task batches and the sockets on a
/// control thread, so a slow or hostile client never holds up forwarding. A hot-swap keeps the
/// socket and its connections when the new configuration has a ControlSocket of the same name
/// and address. See docs/control.md.
/// Handlers: port, address, connections, accepted.
/// </summary>
/// <example>ControlSocket(TCP, 0); InfiniteSource(LIMIT 5, STOP true) -> c :: Counter -> Discard;</example>
public sealed class ControlSocket : Element
{
    private bool _tcp, _localhost, _readOnly, _verbose, _retryWarnings, _tryNext;
    private int _port, _retries;
    private string _path = "", _proxy = "";
    private ControlServer? _server;
    private Timer? _retryTimer;

    public override string PortCount => "0/0";
    public override string Processing => "a/a";

    /// <summary>The bound TCP port (after initialization), for tests and tools.</summary>
    public int BoundPort => _server?.Port ?? 0;
    internal ControlServer? Server => _server;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var type = a.ReadMP("TYPE", Args.Word);
        var where = a.ReadP("PORT", Args.String, "");
        var file = a.Read("FILENAME", Args.String, "");
        var readOnly = a.Read("READONLY", Args.Bool, false);
        var proxy = a.Read("PROXY", Args.Word, "");
        var verbose = a.Read("VERBOSE", Args.Bool, false);
        var localhost = a.Read("LOCALHOST", Args.Bool, true);
        var retries = a.Read("RETRIES", Args.Int, 0);
        var retryWarnings = a.Read("RETRY_WARNINGS", Args.Bool, true);
        if (!a.Complete()) return false;
        _readOnly = readOnly;
        _proxy = proxy;
        _verbose = verbose;
        _localhost = localhost;
        _retries = retries;
        _retryWarnings = retryWarnings;
        string t = type.Value.ToUpperInvariant();
        string addr = file.Present ? file.Value : where.Value;
        if (t == "TCP")
        {
            _tcp = true;
            string p = addr.Trim();
            _tryNext = p.EndsWith('+');
            if (_tryNext) p = p[..^1];
            if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out _port) || _port > 65535)
                return errh.Error($"PORT: expected TCP port number, not '{addr}'");
        }
        else if (t == "UNIX")
        {
            _tcp = false;
            if (addr.Length == 0) return errh.Error("missing FILENAME");
            if (System.Text.Encoding.UTF8.GetByteCount(addr) >= 108) return errh.Error("filename too long");
            _path = addr;
        }
        else return errh.Error($"unknown socket type '{type.Value}'");
        return true;
    }

    public override bool Initialize(ErrorHandler errh)
    {
        if (_proxy.Length > 0 && Host.FindElement(_proxy, this) == null)
            return errh.Error($"PROXY: no element named '{_proxy}'");
        // In a hot-swap the old socket is still bound: take it over instead of binding again.
        if (Host.HotSwapPredecessor(this) is ControlSocket old && old.SameAddress(this) && old._server != null)
            return true;
        if (TryOpen(errh, final: _retries <= 0)) return true;
        if (_retries <= 0) return false;
        _retryTimer = CreateTimer(Retry);
        _retryTimer.ScheduleAfterMs(1000);
        return true;
    }

    private bool SameAddress(ControlSocket other) => _tcp == other._tcp && _port == other._port && _path == other._path;

    private void Retry(Timer t)
    {
        _retries--;
        if (TryOpen(Host.RuntimeErrors, final: _retries <= 0)) return;
        if (_retries > 0) t.ScheduleAfterMs(1000);
        else Host.PleaseStop();
    }

    private bool TryOpen(ErrorHandler errh, bool final)
    {
        try
        {
            _server = _tcp
                ? ControlServer.ListenTcp(_port, _localhost, _tryNext, (Router)Host)
                : ControlServer.ListenUnix(_path, (Router)Host);
        }
        catch (SocketException ex)
        {
            string text = SocketErrorText(ex);
            if (final) errh.Error($"bind: {text}");
            else if (_retryWarnings) errh.Warning($"bind: {text} ({_retries} {(_retries == 1 ? "try" : "tries")} left)");
            return false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (final) errh.Error($"{_path}: {IOErrorText.Of(ex)}");
            return false;
        }
        ApplySettings(_server);
        _server.Start();
        return true;
    }

    private void ApplySettings(ControlServer server)
    {
        server.ReadOnly = _readOnly;
        server.Proxy = _proxy.Length > 0 ? _proxy : null;
        server.Declaration = Declaration;
        var host = (Router)Host;
        void Report(string msg) => host.Post(r => { r.ErrorOutput.Write(msg + "\n"); r.ErrorOutput.Flush(); });
        server.Log = _verbose ? Report : null;
        server.ErrorReport = Report;
    }

    /// <summary>strerror-like text (the AOT build has no .NET message resources).</summary>
    private static string SocketErrorText(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "Address already in use",
        SocketError.AccessDenied => "Permission denied",
        SocketError.AddressNotAvailable => "Cannot assign requested address",
        _ => ex.SocketErrorCode.ToString(),
    };

    /// <summary>Takes over the old ControlSocket's listening socket and live connections (same name, type and address).</summary>
    public override void TakeState(Element old, ErrorHandler errh)
    {
        var o = (ControlSocket)old;
        if (o._server == null) return;
        if (_server != null)
        {
            errh.Error("already initialized, can't take state");
            return;
        }
        if (!o.SameAddress(this))
        {
            errh.Error("incompatible ControlSockets");
            return;
        }
        _server = o._server;
        o._server = null;
        ApplySettings(_server);
        _server.Router = (Router)Host;
    }

    public override void Cleanup()
    {
        _retryTimer?.Unschedule();
        _server?.Dispose();
        _server = null;
    }

    public override void AddHandlers()
    {
        AddReadHandler("port", () => (_server?.Port ?? 0).ToString(CultureInfo.InvariantCulture));
        AddReadHandler("address", () => _server?.Address ?? "");
        AddReadHandler("connections", () => (_server?.ConnectionCount ?? 0).ToString(CultureInfo.InvariantCulture));
        AddReadHandler("accepted", () => (_server?.Accepted ?? 0).ToString(CultureInfo.InvariantCulture));
    }
}
