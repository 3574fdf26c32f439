using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ClickOS.Host;

/// <summary>
/// The host's HTTP/JSON API (docs/host.md has the reference):
/// <code>
/// GET    /v1/host                                host stats
/// GET    /v1/instances                           list
/// POST   /v1/instances[?wait=false]              create (JSON spec); 201 once it forwards
/// GET    /v1/instances/NAME                      status
/// DELETE /v1/instances/NAME                      destroy
/// POST   /v1/instances/NAME/start|stop|pause|resume
/// POST   /v1/instances/NAME/reconfigure          body: the new configuration (hot-swap)
/// GET    /v1/instances/NAME/logs[?tail=N]        text
/// GET    /v1/instances/NAME/stats                JSON counters
/// GET    /v1/instances/NAME/handlers/H[?param=]  read a handler (text)
/// PUT    /v1/instances/NAME/handlers/H           write a handler (body: the value)
/// GET    /metrics                                Prometheus text format
/// </code>
/// Errors are JSON: {"error": {"status", "code", "message", "details": [file:line errors]}}.
/// </summary>
public sealed class HostApi(HostDaemon host)
{
    public HttpResponse Handle(HttpRequest req)
    {
        try
        {
            return Route(req);
        }
        catch (HostException ex)
        {
            return HttpServer.Error(ex.Status, ex.Code, ex.Message, ex.Details);
        }
        catch (JsonException ex)
        {
            return HttpServer.Error(400, "bad_request", $"request body is not valid JSON: {ex.Message}");
        }
    }

    private HttpResponse Route(HttpRequest req)
    {
        var seg = req.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.UnescapeDataString).ToArray();
        string m = req.Method;
        if (seg.Length == 1 && seg[0] == "metrics" && m == "GET") return HttpResponse.Text(200, Metrics(), "text/plain; version=0.0.4; charset=utf-8");
        if (seg.Length < 2 || seg[0] != "v1") return NotFound(req);
        if (seg[1] == "host" && seg.Length == 2) return m == "GET" ? Json(200, HostJson) : NotAllowed(m);
        if (seg[1] == "switch") return SwitchRoute(req, seg, m);
        if (seg[1] != "instances") return NotFound(req);
        if (seg.Length == 2)
        {
            if (m == "GET") return Json(200, w => { w.WriteStartArray("instances"); foreach (var i in host.List()) InstanceJson(w, i, false); w.WriteEndArray(); }, wrap: true);
            if (m != "POST") return NotAllowed(m);
            using var doc = JsonDocument.Parse(req.Body);
            var errors = new List<string>();
            var spec = InstanceSpec.Read(doc.RootElement, errors);
            if (errors.Count > 0) throw new HostException(400, "bad_request", "invalid instance specification", errors);
            bool wait = !req.Query.TryGetValue("wait", out var wv) || wv != "false";
            var inst = host.Create(spec, wait);
            return Json(201, w => InstanceJson(w, inst, true));
        }
        string name = seg[2];
        if (seg.Length == 3)
        {
            if (m == "GET") return Json(200, w => InstanceJson(w, host.Get(name), true));
            if (m == "DELETE")
            {
                host.Destroy(name);
                return new HttpResponse(204, "application/json", []);
            }
            return NotAllowed(m);
        }
        string action = seg[3];
        switch (action)
        {
            case "start" or "stop" or "pause" or "resume" when seg.Length == 4:
            {
                if (m != "POST") return NotAllowed(m);
                var inst = action switch
                {
                    "start" => host.StartInstance(name),
                    "stop" => host.Stop(name),
                    "pause" => host.Pause(name),
                    _ => host.Resume(name),
                };
                return Json(200, w => InstanceJson(w, inst, true));
            }
            case "reconfigure" when seg.Length == 4:
            {
                if (m != "POST") return NotAllowed(m);
                string text = req.BodyText;
                if (req.Headers.TryGetValue("Content-Type", out var ct) && ct.StartsWith("application/json", StringComparison.Ordinal))
                {
                    using var doc = JsonDocument.Parse(req.Body);
                    text = doc.RootElement.TryGetProperty("config", out var c) && c.ValueKind == JsonValueKind.String
                        ? c.GetString()! : throw new HostException(400, "bad_request", "'config' (the configuration text) is required");
                }
                var inst = host.Reconfigure(name, text);
                return Json(200, w => InstanceJson(w, inst, true));
            }
            case "logs" when seg.Length == 4:
            {
                if (m != "GET") return NotAllowed(m);
                int tail = 200;
                if (req.Query.TryGetValue("tail", out var t) && (!int.TryParse(t, out tail) || tail < 0))
                    throw new HostException(400, "bad_request", "'tail' must be a number of lines");
                return HttpResponse.Text(200, host.Logs(name, tail));
            }
            case "stats" when seg.Length == 4:
            {
                if (m != "GET") return NotAllowed(m);
                var inst = host.Get(name);
                var stats = host.Stats(inst);
                return Json(200, w =>
                {
                    w.WriteString("name", inst.Name);
                    w.WriteString("state", inst.StateText);
                    foreach (var kv in stats) w.WriteNumber(kv.Key, kv.Value);
                }, wrap: true);
            }
            case "handlers" when seg.Length == 5:
            {
                string handler = seg[4];
                if (m == "GET") return HttpResponse.Text(200, host.ReadHandler(name, handler, req.Query.GetValueOrDefault("param", "")));
                if (m is "PUT" or "POST")
                {
                    host.WriteHandler(name, handler, req.BodyText);
                    return new HttpResponse(204, "text/plain", []);
                }
                return NotAllowed(m);
            }
        }
        return NotFound(req);
    }

    // /v1/switch                      GET: ports, counters, learned MACs
    // /v1/switch/chains               POST {"from": "A:vif1", "to": "B:vif0"}: join two ports as a wire
    // /v1/switch/chains/PORT          DELETE: undo the chain PORT is in
    // /v1/switch/ports                POST {"kind": "null"|"nic"|"tap", "name": N, "device": D, "mac": M}: add a port
    // /v1/switch/ports/PORT           DELETE: remove a port that no instance owns
    private HttpResponse SwitchRoute(HttpRequest req, string[] seg, string m)
    {
        var sw = host.Switch ?? throw new HostException(404, "not_found", "this host runs without a switch");
        if (seg.Length == 2) return m == "GET" ? Json(200, w => SwitchJson(w, sw), wrap: true) : NotAllowed(m);
        if (seg[2] == "chains" && seg.Length == 3 && m == "POST")
        {
            using var doc = JsonDocument.Parse(req.Body);
            string? from = Str(doc, "from"), to = Str(doc, "to");
            if (from == null || to == null) throw new HostException(400, "bad_request", "a chain needs 'from' and 'to' port names");
            host.Chain(from, to);
            return Json(201, w => SwitchJson(w, sw), wrap: true);
        }
        if (seg[2] == "chains" && seg.Length == 4 && m == "DELETE")
        {
            host.Unchain(seg[3]);
            return HttpResponse.Text(204, "", "text/plain");
        }
        if (seg[2] == "ports" && seg.Length == 3 && m == "POST")
        {
            using var doc = JsonDocument.Parse(req.Body);
            host.AddPort(Str(doc, "kind") ?? "", Str(doc, "name") ?? "", Str(doc, "device"), Str(doc, "mac"));
            return Json(201, w => SwitchJson(w, sw), wrap: true);
        }
        if (seg[2] == "ports" && seg.Length == 4 && m == "DELETE")
        {
            host.RemovePort(seg[3]);
            return HttpResponse.Text(204, "", "text/plain");
        }
        return NotFound(req);
    }

    /// <summary>A string member of a JSON object body; null when absent or not a string (or the body is not an object).</summary>
    private static string? Str(JsonDocument doc, string key) =>
        doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private void SwitchJson(Utf8JsonWriter w, Switch.VSwitch sw)
    {
        w.WriteNumber("macs", sw.MacCount);
        w.WriteNumber("port_macs", sw.StaticMacCount);
        w.WriteNumber("rounds", sw.Rounds);
        w.WriteNumber("sleeps", sw.Sleeps);
        w.WriteStartArray("ports");
        foreach (var p in sw.Ports)
        {
            var c = p.Counters;
            w.WriteStartObject();
            w.WriteString("name", p.Name);
            w.WriteString("kind", p.Kind);
            if (p.Mac is { } mac) w.WriteString("mac", mac);
            if (p is Switch.DevicePort d)
            {
                w.WriteString("device", d.Device);
                w.WriteNumber("kernel_drops", d.KernelDrops);
            }
            if (p.ChainedTo is { } to) w.WriteString("chained_to", to.Name);
            w.WriteString("state", p.ShutReason == null ? "up" : "shut");
            if (p.ShutReason != null) w.WriteString("reason", p.ShutReason);
            w.WriteNumber("rx_packets", c.RxPackets);
            w.WriteNumber("rx_bytes", c.RxBytes);
            w.WriteNumber("tx_packets", c.TxPackets);
            w.WriteNumber("tx_bytes", c.TxBytes);
            w.WriteNumber("drops", c.Drops);
            w.WriteNumber("errors", c.Errors);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        // Chains asked for, including those waiting for a port to come back.
        w.WriteStartArray("chains");
        foreach (var (a, b) in host.Chains)
        {
            w.WriteStartObject();
            w.WriteString("a", a);
            w.WriteString("b", b);
            w.WriteBoolean("active", sw.Find(a)?.ChainedTo?.Name == b);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static HttpResponse NotFound(HttpRequest req) => HttpServer.Error(404, "not_found", $"no such resource: {req.Method} {req.Path}");
    private static HttpResponse NotAllowed(string m) => HttpServer.Error(405, "method_not_allowed", $"method {m} is not allowed here");

    private static HttpResponse Json(int status, Action<Utf8JsonWriter> body, bool wrap = false)
    {
        var buf = new System.Buffers.ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buf, new JsonWriterOptions { Indented = true }))
        {
            if (wrap) w.WriteStartObject();
            body(w);
            if (wrap) w.WriteEndObject();
        }
        return new HttpResponse(status, "application/json", buf.WrittenSpan.ToArray());
    }

    private void HostJson(Utf8JsonWriter w)
    {
        var s = host.HostStats();
        w.WriteStartObject();
        w.WriteNumber("instances", s.Instances);
        w.WriteNumber("running", s.Running);
        w.WriteNumber("host_pss_bytes", s.HostPss);
        if (host.WorkerPid is int wp)
        {
            w.WriteNumber("shared_worker_pid", wp);
            w.WriteNumber("shared_worker_pss_bytes", ProcStats.Pss(wp) ?? -1);
        }
        w.WriteString("started", s.Started.ToString("o", CultureInfo.InvariantCulture));
        w.WriteString("cgroups", s.Cgroups);
        w.WriteString("directory", host.Directory);
        w.WriteEndObject();
    }

    internal static void InstanceJson(Utf8JsonWriter w, Instance i, bool full)
    {
        var spec = i.Spec;
        w.WriteStartObject();
        w.WriteString("name", i.Name);
        w.WriteString("state", i.StateText);
        w.WriteString("isolation", spec.Isolation == Isolation.Process ? "process" : "shared");
        if (i.Pid > 0) w.WriteNumber("pid", i.Pid);
        w.WriteNumber("vifs", spec.VifCount);
        w.WriteNumber("restarts", i.Restarts);
        if (i.LastError != null) w.WriteString("last_error", i.LastError);
        if (i.StartLatency is { } lat) w.WriteNumber("start_latency_ms", Math.Round(lat.TotalMilliseconds, 3));
        w.WriteString("created", i.CreatedUtc.ToString("o", CultureInfo.InvariantCulture));
        if (i.StartedUtc is { } st) w.WriteString("started", st.ToString("o", CultureInfo.InvariantCulture));
        w.WriteNumber("memory_max", spec.MemoryMax);
        w.WriteNumber("cpus", spec.Cpus);
        w.WriteNumber("idle_sleep_ms", (long)spec.IdleSleep.TotalMilliseconds);
        w.WriteString("restart", spec.Restart == RestartPolicy.Never ? "never" : "on-failure");
        w.WriteString("control_socket", i.ControlSocketPath);
        if (full)
        {
            w.WriteString("config_name", spec.ConfigName);
            w.WriteString("config", spec.Config);
        }
        w.WriteEndObject();
    }

    /// <summary>Prometheus text exposition: one sample per instance per metric.</summary>
    public string Metrics()
    {
        var sb = new StringBuilder();
        var all = host.List();
        var stats = all.Select(i => (i, s: host.Stats(i))).ToList();
        void Metric(string name, string type, string help, Func<Instance, Dictionary<string, double>, double?> value)
        {
            sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
            sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (i, s) in stats)
                if (value(i, s) is double v)
                    sb.Append(name).Append("{instance=\"").Append(Escape(i.Name)).Append("\"} ").Append(v.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
        }
        double? Get(Dictionary<string, double> s, string k) => s.TryGetValue(k, out var v) ? v : null;
        Metric("clickos_instance_packets_in_total", "counter", "Packets that entered the instance (sources, devices, dump readers).", (_, s) => Get(s, "packets_in"));
        Metric("clickos_instance_bytes_in_total", "counter", "Bytes that entered the instance.", (_, s) => Get(s, "bytes_in"));
        Metric("clickos_instance_packets_out_total", "counter", "Packets the instance sent (devices, dump writers).", (_, s) => Get(s, "packets_out"));
        Metric("clickos_instance_bytes_out_total", "counter", "Bytes the instance sent.", (_, s) => Get(s, "bytes_out"));
        Metric("clickos_instance_drops_total", "counter", "Packets dropped (Discard, full queues).", (_, s) => Get(s, "drops"));
        Metric("clickos_instance_memory_bytes", "gauge", "Process PSS (process isolation) or packet-buffer bytes (shared).", (_, s) => Get(s, "memory_bytes"));
        Metric("clickos_instance_cpu_seconds_total", "counter", "CPU time (process isolation).", (_, s) => Get(s, "cpu_seconds"));
        Metric("clickos_instance_restarts_total", "counter", "Restarts after failures.", (i, _) => i.Restarts);
        sb.Append("# HELP clickos_instance_state Instance state (1 for the current state).\n# TYPE clickos_instance_state gauge\n");
        foreach (var i in all)
            sb.Append("clickos_instance_state{instance=\"").Append(Escape(i.Name)).Append("\",state=\"").Append(i.StateText).Append("\"} 1\n");
        var h = host.HostStats();
        sb.Append("# HELP clickos_host_instances Instances defined on the host.\n# TYPE clickos_host_instances gauge\nclickos_host_instances ")
          .Append(h.Instances).Append('\n');
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
