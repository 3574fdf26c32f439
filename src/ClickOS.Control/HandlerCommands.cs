using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Runtime;

namespace ClickOS.Control;

/// <summary>
/// The ControlSocket commands that touch handlers, with Click's reply texts. These run on the
/// router's thread (posted there by the connection), except handlers flagged
/// <see cref="HandlerFlags.ControlThread"/>, which the connection calls itself.
/// </summary>
public static class HandlerCommands
{
    /// <summary>"N.h" and ".h" and "0.h": Click's canonical names (a leading "." or "0." means a global handler).</summary>
    public static string Canonical(string name)
    {
        int dot = name.IndexOf('.');
        if (dot == 0 || (dot == 1 && name[0] == '0')) return name[(dot + 1)..];
        return name;
    }

    /// <summary>Finds a handler as Click's ControlSocket does; on failure the reply holds the 510/511 message.</summary>
    public static Handler? Resolve(Router router, string fullName, string? proxy, out ControlReply? failure)
    {
        failure = null;
        string name = Canonical(fullName);
        if (proxy != null)
        {
            // The proxy element answers for every handler, under the full dotted name.
            var pe = router.FindElement(proxy, null);
            var ph = pe?.FindLocalHandler(name);
            if (ph == null) failure = ControlReply.Message(ControlCode.NoSuchHandler, $"No proxied handler named '{fullName}'");
            return ph;
        }
        int dot = name.IndexOf('.');
        Handler? h;
        if (dot >= 0)
        {
            string ename = name[..dot];
            var e = router.FindElement(ename, null);
            if (e == null)
            {
                failure = ControlReply.Message(ControlCode.NoSuchElement, $"No element named '{ename}'");
                return null;
            }
            h = e.FindLocalHandler(name[(dot + 1)..]);
        }
        else
        {
            h = null;
            foreach (var g in router.GlobalHandlers)
                if (g.Name == name) { h = g; break; }
        }
        if (h == null) failure = ControlReply.Message(ControlCode.NoSuchHandler, $"No handler named '{fullName}'");
        return h;
    }

    public static ControlReply Read(Router router, string name, string param, string? proxy)
    {
        var h = Resolve(router, name, proxy, out var failure);
        if (h == null) return failure!;
        if (!h.CanRead) return ControlReply.Message(ControlCode.Permission, $"Handler '{name}' write-only");
        var errh = new CollectingErrorHandler();
        string? value;
        try { value = h.CallRead(param, errh); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errh.Error($"internal error: {ex.Message}");
            value = null;
        }
        if (errh.ErrorCount > 0 || value == null)
            return Transfer(ControlCode.Unspecified, $"Read handler '{name}' error", errh);
        var r = ControlReply.Message(ControlCode.Ok, $"Read handler '{name}' OK");
        r.Data = Encoding.Latin1.GetBytes(value);
        return r;
    }

    /// <summary>Resolves and checks a write; calls the handler here unless it runs on the control thread.</summary>
    public static ControlReply Write(Router router, string name, string data, bool readOnly, string? proxy)
    {
        var h = Resolve(router, name, proxy, out var failure);
        if (h == null) return failure!;
        if (!h.CanWrite) return ControlReply.Message(ControlCode.Permission, $"Handler '{name}' read-only");
        if (readOnly) return ControlReply.Message(ControlCode.Permission, $"Permission denied for '{name}'");
        if ((h.Flags & HandlerFlags.ControlThread) != 0) return new ControlReply { Deferred = h, DeferredName = name };
        return CallWrite(h, name, data);
    }

    public static ControlReply CallWrite(Handler h, string name, string data)
    {
        var errh = new CollectingErrorHandler();
        bool ok;
        try { ok = h.CallWrite(data, errh); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ok = errh.Error($"internal error: {ex.Message}");
        }
        if (!ok || errh.ErrorCount > 0) return Transfer(ControlCode.HandlerError, $"Write handler '{name}' error", errh);
        if (errh.WarningCount > 0) return Transfer(ControlCode.OkWithWarnings, $"Write handler '{name}' OK with warnings", errh);
        return Transfer(ControlCode.Ok, $"Write handler '{name}' OK", errh);
    }

    public static ControlReply Check(Router router, string name, bool write, bool readOnly, string? proxy)
    {
        var h = Resolve(router, name, proxy, out var failure);
        if (h == null) return failure!;
        bool ok = write ? h.CanWrite : h.CanRead;
        if (write && readOnly && ok) return ControlReply.Message(ControlCode.Permission, $"Permission denied for '{name}'");
        if (ok) return ControlReply.Message(ControlCode.Ok, $"{(write ? "Write" : "Read")} handler '{name}' OK");
        return ControlReply.Message(ControlCode.NoSuchHandler, $"Handler '{name}'{(write ? " not writable" : " not readable")}");
    }

    /// <summary>
    /// LLRPC ELEMENT#HEX: the name is checked and the element found, as in Click; no element
    /// here has a low-level RPC that can be called remotely, so the answer is Click's 501.
    /// </summary>
    public static ControlReply Llrpc(Router router, string llrpc, string? proxy)
    {
        int hash = llrpc.IndexOf('#');
        string number = hash < 0 ? "" : llrpc[(hash + 1)..];
        if (number.Length == 0 || !uint.TryParse(number, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out _))
            return ControlReply.Message(ControlCode.Syntax, $"Syntax error in LLRPC name '{llrpc}'");
        if (Resolve(router, llrpc[..hash] + ".name", proxy, out var failure) == null) return failure!;
        return ControlReply.Message(ControlCode.Unimplemented, $"Cannot call LLRPC '{llrpc}' remotely");
    }

    /// <summary>Click's transfer_messages: "CODE-first:" then one line per message line, or just the first line.</summary>
    private static ControlReply Transfer(int code, string first, CollectingErrorHandler errh)
    {
        var lines = new List<string>();
        foreach (var (_, text) in errh.Messages)
            lines.AddRange(text.Split('\n'));
        var r = new ControlReply();
        r.Lines.Add((code, lines.Count > 0 ? first + ":" : first));
        foreach (var l in lines) r.Lines.Add((code, l));
        return r;
    }
}
