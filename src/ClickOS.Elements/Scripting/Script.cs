using System.Globalization;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;
using ClickOS.Runtime;

namespace ClickOS.Elements;

/// <summary>
/// Script(TYPE T, INSTRUCTION, ...): Click's scripting element. Instructions: set, setq, init,
/// initq, export, exportq, print, printq, printn, printnq, read, readq, write, writeq, pause,
/// wait TIME, wait_stop, wait_time, label, goto LABEL [COND], loop, end, exit, stop, return,
/// returnq, error, errorq, save, append. Text is expanded at run time: $var, ${var}, $(handler
/// args) and $(function args) with functions add sub mul div idiv mod rem neg abs min max eq
/// ne lt gt le ge not and or nand nor if in first length unquote sprintf random now get shift.
/// TYPE: ACTIVE (default; runs at start), PASSIVE (run by the "run" handler), PACKET (runs per
/// packet; return value picks the output), PROXY, DRIVER (see DriverManager).
/// Handlers: run, step, goto, set, now, and the functions above.
/// </summary>
/// <example>s :: Script(set x 1, print "x is $x", stop);</example>
public class Script : Element, ITaskCallback
{
    protected enum ScriptType { Active, Passive, Packet, Proxy, Driver }

    private enum Op
    {
        Initial, Set, SetQ, Init, InitQ, Export, ExportQ, Print, PrintQ, PrintN, PrintNQ, Read, ReadQ,
        Write, WriteQ, Pause, WaitTime, Label, Goto, Loop, End, Exit, Stop, Return, ReturnQ, Error, ErrorQ,
        Save, Append,
    }

    private sealed record Insn(Op Op, string Arg, string Word);

    protected ScriptType Type = ScriptType.Active;
    private readonly List<Insn> _insns = [];
    private int[] _pauseCount = [];
    private readonly Dictionary<string, string> _vars = new(StringComparer.Ordinal);
    private int _ip;
    private bool _running, _dead;
    private int _status;
    private string _args = "", _handlerName = "", _input = "0";
    private Timer? _timer;
    private bool _stepFromRouter;
    private int _queuedSteps;

    public override string PortCount => Type == ScriptType.Packet ? "-/-" : "0/0";
    public override string Processing => "a/a";

    protected virtual ScriptType DefaultType => ScriptType.Active;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        Type = DefaultType;
        var args = new List<string>();
        bool ok = true;
        foreach (var c in conf)
        {
            var (w, rest) = ConfigText.ShiftWord(c);
            if (w == "TYPE")
            {
                switch (rest.Trim())
                {
                    case "ACTIVE": Type = ScriptType.Active; break;
                    case "PASSIVE": Type = ScriptType.Passive; break;
                    case "PACKET": case "PUSH": Type = ScriptType.Packet; break;
                    case "PROXY": Type = ScriptType.Proxy; break;
                    case "DRIVER": Type = ScriptType.Driver; break;
                    default: ok = errh.Error("bad TYPE"); break;
                }
                continue;
            }
            args.Add(c);
        }
        if (NInputs > 0 || NOutputs > 0) Type = ScriptType.Packet;
        foreach (var a in args)
        {
            if (a.Length == 0) continue;
            var (w, rest) = ConfigText.ShiftWord(a);
            Op? op = w switch
            {
                "set" => Op.Set, "setq" => Op.SetQ, "init" => Op.Init, "initq" => Op.InitQ,
                "export" => Op.Export, "exportq" => Op.ExportQ, "print" => Op.Print, "printq" => Op.PrintQ,
                "printn" => Op.PrintN, "printnq" => Op.PrintNQ, "read" => Op.Read, "readq" => Op.ReadQ,
                "write" => Op.Write, "writeq" => Op.WriteQ, "pause" or "wait_stop" or "wait_step" => Op.Pause,
                "wait" => rest.Trim().Length == 0 ? Op.Pause : Op.WaitTime, "wait_time" or "wait_for" => Op.WaitTime,
                "label" => Op.Label, "goto" => Op.Goto, "loop" => Op.Loop, "end" => Op.End, "exit" => Op.Exit,
                "stop" => Op.Stop, "return" => Op.Return, "returnq" => Op.ReturnQ, "error" => Op.Error,
                "errorq" => Op.ErrorQ, "save" => Op.Save, "append" => Op.Append,
                _ => null,
            };
            if (op == null) { ok = errh.Error($"syntax error at '{w}'"); continue; }
            string word = ConfigText.ShiftWord(rest).First;
            switch (op)
            {
                case Op.Set or Op.SetQ when ConfigText.ShiftWord(rest).Others.Length == 0 && !rest.Contains(' '):
                    ok = errh.Error($"syntax error at '{w}'"); continue;
                case Op.Init or Op.InitQ or Op.Export or Op.ExportQ when word.Length == 0:
                case Op.Label when word.Length == 0:
                case Op.Goto when word.Length == 0:
                    ok = errh.Error($"syntax error at '{w}'"); continue;
                case Op.Loop or Op.End or Op.Exit or Op.Stop when rest.Trim().Length > 0:
                    ok = errh.Error($"syntax error at '{w}'"); continue;
            }
            _insns.Add(new Insn(op.Value, rest, word));
        }
        if (_insns.Count == 0 && Type == ScriptType.Driver)
            _insns.Add(new Insn(Op.Pause, "", ""));
        if (_insns.Count == 0 || (_insns[0].Op != Op.Pause && _insns[0].Op != Op.WaitTime))
            _insns.Insert(0, new Insn(Op.Initial, "", ""));
        _insns.Add(new Insn(Type == ScriptType.Driver ? Op.Stop : Op.End, "", ""));
        foreach (var i in _insns)
            if (i.Op == Op.Goto && FindLabel(i.Word) == int.MinValue)
                ok = errh.Error($"no such label '{i.Word}'");
        _pauseCount = new int[_insns.Count];
        return ok;
    }

    private int FindLabel(string label)
    {
        for (int i = 0; i < _insns.Count; i++)
            if (_insns[i].Op == Op.Label && _insns[i].Word == label) return i;
        return label switch
        {
            "exit" => -1, "end" => -2, "stop" => -3, "error" => -4, "errorq" => -5,
            "begin" or "loop" => 0,
            _ => int.MinValue,
        };
    }

    public override bool Initialize(ErrorHandler errh)
    {
        _timer = CreateTimer(_ => Run(1, fromRouter: false));
        foreach (var i in _insns)
        {
            if (i.Op is Op.Init or Op.InitQ or Op.Export or Op.ExportQ)
            {
                var (name, rest) = ConfigText.ShiftWord(i.Arg);
                string v = Expand(rest, errh);
                if (i.Op is Op.InitQ or Op.ExportQ) v = ConfigText.Unquote(v);
                _vars[name] = v;
            }
        }
        if (Type == ScriptType.Driver && Host is Router r)
        {
            if (r.DriverHook != null) return errh.Error("router has more than one driver script");
            r.DriverHook = () => Run(1, fromRouter: true);
            if (_insns[0].Op == Op.Initial) r.AdjustRunCount(-1);
        }
        if (Type is ScriptType.Active or ScriptType.Driver)
        {
            if (_insns[0].Op == Op.WaitTime)
            {
                // Blocked at the initial wait: schedule its timer.
                if (ParseWait(_insns[0], errh, out long ns)) { _timer.ScheduleAfter(ns); _pendingWaitIp = 0; }
            }
            else if (_insns[0].Op == Op.Initial && Type == ScriptType.Active)
                _timer.ScheduleNow();
        }
        return true;
    }

    private int _pendingWaitIp = -1;

    public bool RunTask(Task task) => false;

    private ErrorHandler RunErrh => new ContextErrorHandler(Host.RuntimeErrors, null, $"While executing '{Declaration}':");

    /// <summary>Delivers steps to the script and runs it until it blocks or ends.</summary>
    private void Run(int steps, bool fromRouter)
    {
        if (_dead) return;
        if (_running) { _queuedSteps += steps; return; }
        _running = true;
        _stepFromRouter = fromRouter;
        try
        {
            Execute(steps, RunErrh);
            while (_queuedSteps > 0 && !_dead)
            {
                int q = _queuedSteps;
                _queuedSteps = 0;
                Execute(q, RunErrh);
            }
        }
        finally
        {
            _running = false;
        }
    }

    /// <summary>Runs from the current instruction; returns the script's end state.</summary>
    private void Execute(int steps, ErrorHandler errh)
    {
        int jumps = 0;
        while (true)
        {
            if (_ip < 0 || _ip >= _insns.Count) { _ip = _insns.Count - 1; return; }
            var insn = _insns[_ip];
            switch (insn.Op)
            {
                case Op.Initial:
                    if (steps > 0) steps--;
                    _ip++;
                    continue;
                case Op.Pause:
                {
                    int want = 1;
                    if (insn.Arg.Trim().Length > 0 && (!int.TryParse(Expand(insn.Arg, errh).Trim(), out want) || want < 0)) want = 1;
                    if (_pauseCount[_ip] < want && steps > 0)
                    {
                        int take = Math.Min(steps, want - _pauseCount[_ip]);
                        _pauseCount[_ip] += take;
                        steps -= take;
                    }
                    if (_pauseCount[_ip] >= want) { _ip++; continue; }
                    Block();
                    return;
                }
                case Op.WaitTime:
                    if (_pendingWaitIp == _ip)
                    {
                        // Already waiting here: a step (timer or stop) ends the wait.
                        if (steps > 0)
                        {
                            steps--;
                            _timer!.Unschedule();
                            _pendingWaitIp = -1;
                            _ip++;
                            continue;
                        }
                        Block();
                        return;
                    }
                    if (!ParseWait(insn, errh, out long ns)) { _ip++; return; }
                    _pendingWaitIp = _ip;
                    _timer!.ScheduleAfter(ns);
                    Block();
                    return;
                case Op.Label:
                    _ip++;
                    continue;
                case Op.Goto:
                case Op.Loop:
                {
                    int target;
                    if (insn.Op == Op.Loop) target = 0;
                    else
                    {
                        var (_, cond) = ConfigText.ShiftWord(insn.Arg);
                        string c = Expand(cond, errh).Trim();
                        if (c.Length > 0)
                        {
                            if (!Values.ParseBool(ConfigText.Unquote(c), out bool yes)) { errh.Error($"bad condition '{c}'"); _ip++; continue; }
                            if (!yes) { _ip++; continue; }
                        }
                        target = FindLabel(insn.Word);
                    }
                    if (target < 0) { EndSpecial(target, errh); return; }
                    if (++jumps > 1000)
                    {
                        Host.ErrorOutput.Write($"{Declaration}: too many jumps, giving up\n");
                        _dead = true;
                        _timer?.Unschedule();
                        return;
                    }
                    if (target <= _ip)
                        for (int k = target; k <= _ip; k++) _pauseCount[k] = 0;
                    _ip = target;
                    continue;
                }
                case Op.End:
                    return;
                case Op.Exit:
                    return;
                case Op.Stop:
                    if (Type == ScriptType.Driver && _stepFromRouter) return; // router stops
                    Host.PleaseStop();
                    return;
                case Op.Return:
                case Op.ReturnQ:
                {
                    string v = Expand(insn.Arg, errh);
                    _vars["_"] = insn.Op == Op.ReturnQ ? ConfigText.Unquote(v) : v;
                    _ip = _insns.Count - 1;
                    return;
                }
                case Op.Error:
                case Op.ErrorQ:
                {
                    string v = Expand(insn.Arg, errh);
                    if (insn.Op == Op.ErrorQ) v = ConfigText.Unquote(v);
                    if (v.Trim().Length > 0) errh.Error(v);
                    _failed = true;
                    return;
                }
                default:
                    DoSimple(insn, errh);
                    _ip++;
                    continue;
            }
        }
    }

    private bool _failed;

    private void EndSpecial(int target, ErrorHandler errh)
    {
        switch (target)
        {
            case -3:
                if (!(Type == ScriptType.Driver && _stepFromRouter)) Host.PleaseStop();
                break;
            case -4:
            case -5:
                _failed = true;
                break;
        }
        _ip = _insns.Count - 1;
    }

    private void Block()
    {
        if (Type == ScriptType.Driver && _stepFromRouter && Host is Router r)
            r.AdjustRunCount(1);
    }

    private bool ParseWait(Insn insn, ErrorHandler errh, out long ns)
    {
        ns = 0;
        string t = ConfigText.Unquote(Expand(insn.Arg, errh));
        if (!Values.ParseSeconds(t.Trim(), out double s) || s < 0)
            return errh.Error("syntax error at 'wait'");
        ns = (long)Math.Round(s * 1e9);
        return true;
    }

    private void DoSimple(Insn insn, ErrorHandler errh)
    {
        switch (insn.Op)
        {
            case Op.Set:
            case Op.SetQ:
            {
                var (name, rest) = ConfigText.ShiftWord(insn.Arg);
                string v = Expand(rest, errh);
                _vars[name] = insn.Op == Op.SetQ ? ConfigText.Unquote(v) : v;
                break;
            }
            case Op.Init: case Op.InitQ: case Op.Export: case Op.ExportQ:
                break; // done once at initialization
            case Op.Print: case Op.PrintQ: case Op.PrintN: case Op.PrintNQ:
                DoPrint(insn.Arg, insn.Op is Op.PrintQ or Op.PrintNQ, insn.Op is Op.Print or Op.PrintQ, null, false, errh);
                break;
            case Op.Save: case Op.Append:
            {
                var words = ConfigText.SplitSpace(insn.Arg);
                string file = words.Count > 1 ? words[^1] : "-";
                string what = words.Count > 1 ? string.Join(" ", words.Take(words.Count - 1)) : insn.Arg;
                DoPrint(what, false, true, file, insn.Op == Op.Append, errh);
                break;
            }
            case Op.Read: case Op.ReadQ:
            {
                string text = Expand(insn.Arg, errh);
                var (hname, param) = ConfigText.ShiftWord(text);
                if (insn.Op == Op.ReadQ) param = ConfigText.Unquote(param);
                var v = CallRead(hname, param, errh, out string full);
                if (v != null)
                {
                    var sb = new StringBuilder().Append(full).Append(":\n").Append(v);
                    if (v.Length == 0 || v[^1] != '\n') sb.Append('\n');
                    else sb.Append('\n');
                    Host.ErrorOutput.Write(sb.ToString());
                }
                break;
            }
            case Op.Write: case Op.WriteQ:
            {
                string text = Expand(insn.Arg, errh);
                var (hname, value) = ConfigText.ShiftWord(text);
                if (insn.Op == Op.WriteQ) value = ConfigText.Unquote(value);
                var h = FindHandlerFor(hname, errh, out _);
                if (h == null) break;
                if (!h.CanWrite) { errh.Error($"no '{hname}' write handler"); break; }
                var eh = new CollectingErrorHandler();
                bool ok = h.CallWrite(value, eh);
                foreach (var (sev, msg) in eh.Messages) errh.Report(sev, null, msg);
                _status = ok ? 0 : -22;
                break;
            }
        }
    }

    private void DoPrint(string raw, bool q, bool newline, string? file, bool append, ErrorHandler errh)
    {
        string text = raw.TrimStart();
        if (file == null && text.StartsWith('>'))
        {
            append = text.StartsWith(">>", StringComparison.Ordinal);
            text = text[(append ? 2 : 1)..].TrimStart();
            var (f, rest) = ConfigText.ShiftWord(text);
            file = f;
            text = rest;
        }
        string output;
        if (text.Length > 0 && (char.IsAsciiLetter(text[0]) || text[0] == '@' || text[0] == '_'))
        {
            string exp = Expand(text, errh);
            var (hname, param) = ConfigText.ShiftWord(exp);
            if (q) param = ConfigText.Unquote(param);
            var v = CallRead(hname, param, errh, out _);
            if (v == null) return;
            output = v;
        }
        else
        {
            output = ConfigText.Unquote(Expand(text, errh, quoteMode: true));
        }
        if (newline && (output.Length == 0 || output[^1] != '\n')) output += "\n";
        if (file == null || file == "-")
        {
            Host.StandardOutput.Write(output);
            Host.StandardOutput.Flush();
        }
        else
        {
            try
            {
                if (append) File.AppendAllText(file, output, Encoding.Latin1);
                else File.WriteAllText(file, output, Encoding.Latin1);
            }
            catch (IOException ex) { errh.Error($"{file}: {IOErrorText.Of(ex)}"); }
            catch (UnauthorizedAccessException ex) { errh.Error($"{file}: {IOErrorText.Of(ex)}"); }
        }
    }

    // ---------------- handler calls ----------------

    private Handler? FindHandlerFor(string name, ErrorHandler errh, out string fullName)
    {
        fullName = name;
        if (!name.Contains('.'))
        {
            var own = FindLocalHandler(name);
            if (own != null) { fullName = Name + "." + name; return own; }
        }
        if (name.StartsWith('.')) name = name[1..];
        var h = Host.FindHandler(name, this, out var elem, errh);
        if (h != null && elem != null) fullName = elem.Name + "." + h.Name;
        return h;
    }

    private string? CallRead(string name, string param, ErrorHandler errh, out string fullName)
    {
        var h = FindHandlerFor(name, errh, out fullName);
        if (h == null) return null;
        if (!h.CanRead) { errh.Error($"no '{name}' read handler"); return null; }
        if (param.Length > 0 && (h.Flags & HandlerFlags.ReadParam) == 0)
        {
            errh.Error($"read handler '{name}' does not take parameters");
            return null;
        }
        return h.CallRead(param, errh);
    }

    // ---------------- expansion ----------------

    private string? LookupVar(string name)
    {
        if (_vars.TryGetValue(name, out var v)) return v;
        switch (name)
        {
            case "?": return _status.ToString(CultureInfo.InvariantCulture);
            case "args": return _args;
            case "$": return Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            case "0": return _handlerName;
            case "#": return ConfigText.SplitSpace(_args).Count.ToString(CultureInfo.InvariantCulture);
            case "write": return _isWrite ? "true" : "false";
            case "input": return _input;
        }
        if (name.Length > 0 && name[0] is >= '1' and <= '9' && name.All(char.IsAsciiDigit))
        {
            var words = ConfigText.SplitSpace(_args);
            int n = int.Parse(name, CultureInfo.InvariantCulture);
            return n <= words.Count ? words[n - 1] : "";
        }
        return null;
    }

    /// <summary>Expands $var, ${var}, $(call) in <paramref name="s"/> (Script's run-time expansion).</summary>
    private string Expand(string s, ErrorHandler errh, bool quoteMode = false, int depth = 0)
    {
        if (s.IndexOf('$') < 0 || depth > 10) return s;
        var sb = new StringBuilder(s.Length + 16);
        bool inDouble = false;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            if (!inDouble && c == '\'')
            {
                int e = s.IndexOf('\'', i + 1);
                e = e < 0 ? s.Length : e + 1;
                sb.Append(s, i, e - i);
                i = e;
                continue;
            }
            if (c == '"') { inDouble = !inDouble; sb.Append(c); i++; continue; }
            if (c == '\\' && inDouble && i + 1 < s.Length) { sb.Append(c).Append(s[i + 1]); i += 2; continue; }
            if (c != '$' || i + 1 >= s.Length) { sb.Append(c); i++; continue; }
            char n = s[i + 1];
            string? value = null;
            int end;
            if (n == '(')
            {
                end = MatchParen(s, i + 1);
                string inner = Expand(s[(i + 2)..end], errh, false, depth + 1);
                value = LookupVar(inner.Trim()) ?? CallExpr(inner, errh);
                end++;
                if (value == null) { sb.Append(s, i, end - i); i = end; continue; }
            }
            else if (n == '{')
            {
                end = s.IndexOf('}', i + 2);
                if (end < 0) { sb.Append(c); i++; continue; }
                value = LookupVar(Expand(s[(i + 2)..end], errh, false, depth + 1));
                end++;
            }
            else if (n is '?' or '#' or '$')
            {
                value = LookupVar(n.ToString());
                end = i + 2;
            }
            else if (ConfigText.IsVarChar(n))
            {
                end = i + 1;
                while (end < s.Length && ConfigText.IsVarChar(s[end])) end++;
                value = LookupVar(s[(i + 1)..end]);
            }
            else { sb.Append(c); i++; continue; }
            if (value == null) { sb.Append(s, i, end - i); i = end; continue; }
            if (inDouble) sb.Append(ConfigText.EscapeForDoubleQuotes(value));
            else if (quoteMode) sb.Append('"').Append(ConfigText.EscapeForDoubleQuotes(value)).Append('"');
            else sb.Append(value);
            i = end;
        }
        return sb.ToString();
    }

    private static int MatchParen(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '"' || c == '\'')
            {
                int e = s.IndexOf(c, i + 1);
                if (e < 0) return s.Length - 1;
                i = e;
                continue;
            }
            if (c == '(') depth++;
            else if (c == ')' && --depth == 0) return i;
        }
        return s.Length - 1;
    }

    private string? CallExpr(string expr, ErrorHandler errh)
    {
        var (name, param) = ConfigText.ShiftWord(expr.Trim());
        if (name.Length == 0) return null;
        return CallRead(name, param, errh, out _);
    }

    // ---------------- handlers ----------------

    public override void AddHandlers()
    {
        SetHandler("run", (p, eh) => { _isWrite = false; return RunHandler(p, eh, "run"); }, (v, eh) => { _isWrite = true; return RunHandler(v, eh, "run") != null; }, HandlerFlags.ReadParam | HandlerFlags.Raw);
        AddWriteHandler("step", (v, eh) =>
        {
            string t = v.Trim();
            if (t == "router") { Run(1, true); return true; }
            int n = 1;
            if (t.Length > 0 && !int.TryParse(t, out n)) return eh.Error("syntax error");
            Run(n, false);
            return true;
        });
        AddWriteHandler("goto", (v, eh) =>
        {
            int t = FindLabel(v.Trim());
            if (t < 0) return eh.Error("jump to nonexistent label");
            for (int k = t; k < _pauseCount.Length; k++) _pauseCount[k] = 0;
            _ip = t;
            Run(0, false);
            return true;
        });
        AddWriteHandler("set", (v, eh) =>
        {
            var (name, rest) = ConfigText.ShiftWord(v);
            if (name == "args") _args = rest; else _vars[name] = rest;
            return true;
        });
        AddReadHandler("now", () => ElementUtil.FormatTimestamp(Host.Clock.NowNs));
        foreach (var i in _insns)
            if (i.Op is Op.Export or Op.ExportQ)
            {
                string name = ConfigText.ShiftWord(i.Arg).First;
                AddReadHandler(name, () => _vars.GetValueOrDefault(name, ""));
            }
        ScriptFunctions.Register(this);
    }

    /// <summary>PROXY scripts answer any handler name by running the script with $0 = that name.</summary>
    public override Handler? FindLocalHandler(string name)
    {
        var h = base.FindLocalHandler(name);
        if (h != null || Type != ScriptType.Proxy || name.Length == 0) return h;
        SetHandler(name, (p, eh) => { _isWrite = false; return RunHandler(p, eh, name); },
            (v, eh) => { _isWrite = true; return RunHandler(v, eh, name) != null; }, HandlerFlags.ReadParam | HandlerFlags.Raw);
        return base.FindLocalHandler(name);
    }

    private bool _isWrite;

    private string? RunHandler(string args, ErrorHandler errh, string handler)
    {
        if (Type == ScriptType.Driver) return "";
        if (_running)
        {
            _ip = 0;
            return "";
        }
        _args = args;
        _handlerName = handler;
        _ip = 0;
        _failed = false;
        _vars.Remove("_");
        Array.Clear(_pauseCount);
        _running = true;
        _stepFromRouter = false;
        try { Execute(1, errh); }
        finally { _running = false; }
        if (_failed) { errh.Error("script failed"); return null; }
        return _vars.GetValueOrDefault("_", "");
    }

    // ---------------- PACKET scripts ----------------

    public override void Push(int port, PacketBatch batch)
    {
        var ps = batch.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        for (int i = 0; i < ps.Length; i++) outs[i] = RunForPacket(port);
        Dispatch(batch, outs);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        var ps = b.Packets;
        Span<int> outs = stackalloc int[ps.Length];
        bool allZero = true;
        for (int i = 0; i < ps.Length; i++) { outs[i] = RunForPacket(0); allZero &= outs[i] == 0; }
        if (allZero) return b;
        var keep = Host.Batches.Rent();
        for (int i = 0; i < ps.Length; i++)
        {
            if (outs[i] == 0) keep.Add(ps[i]);
            else if (outs[i] > 0 && outs[i] < NOutputs && OutputIsPush(outs[i])) OutputOne(outs[i], ps[i]);
            else ps[i].Kill();
        }
        Host.Batches.Return(b);
        if (keep.Count > 0) return keep;
        Host.Batches.Return(keep);
        return null;
    }

    private int RunForPacket(int port)
    {
        _input = port.ToString(CultureInfo.InvariantCulture);
        _ip = 0;
        _failed = false;
        _vars.Remove("_");
        _running = true;
        try { Execute(1, RunErrh); }
        finally { _running = false; }
        if (_failed) return -1;
        var end = _insns[Math.Clamp(_ip, 0, _insns.Count - 1)];
        if (_vars.TryGetValue("_", out var r))
            return int.TryParse(r.Trim(), out int o) ? o : -1;
        return end.Op == Op.Exit ? -1 : 0;
    }
}
