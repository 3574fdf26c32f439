using ClickOS.Core;

namespace ClickOS.Language;

/// <summary>
/// Parses Click configuration text (click.5) into scopes of declarations and connections.
/// Classes are resolved lexically as they are used, so later redefinitions do not affect
/// earlier declarations. Errors are reported with landmarks and parsing continues, so every
/// error in a file is reported.
/// </summary>
public sealed class Parser
{
    private readonly Func<string, bool> _isPrimitive;
    private readonly ErrorHandler _errh;
    private readonly Func<string, string?> _readFile;
    private readonly ParsedConfig _result = new();
    private readonly List<Dictionary<string, ClassRef>> _classScopes = [new(StringComparer.Ordinal)];
    private Lexer _lx = null!;
    private Body _body = null!;
    private int _inputIdx = -1, _outputIdx = -1;
    private int _anonClassCounter;

    public Parser(Func<string, bool> isPrimitive, ErrorHandler errh, Func<string, string?>? readFile = null)
    {
        _isPrimitive = isPrimitive;
        _errh = errh;
        _readFile = readFile ?? (p => System.IO.File.Exists(p) ? System.IO.File.ReadAllText(p) : null);
    }

    public ParsedConfig Parse(string text, string file)
    {
        _result.File = file;
        _body = _result.Top;
        ParseFile(text, file);
        return _result;
    }

    private void ParseFile(string text, string file)
    {
        var saved = _lx;
        _lx = new Lexer(text, file);
        ParseStatements(topLevel: true);
        foreach (var (lm, msg) in _lx.Errors) _errh.Error(lm, msg);
        _lx = saved;
    }

    private bool Error(string landmark, string msg) => _errh.Error(landmark, msg);

    // ---- statements ----

    private static bool EndsBody(Tok k) => k is Tok.Eof or Tok.RBrace or Tok.Bar2 or Tok.RParen;

    private void ParseStatements(bool topLevel)
    {
        while (true)
        {
            var t = _lx.Peek();
            if (t.Kind == Tok.Eof) return;
            if (!topLevel && EndsBody(t.Kind)) return;
            if (t.Kind == Tok.Semicolon) { _lx.Next(); continue; }
            if (t.Kind == Tok.Ident && t.Text == "elementclass") { _lx.Next(); ParseElementClass(t); continue; }
            if (t.Kind == Tok.Ident && (t.Text == "require" || t.Text == "define") && PeekIsParenAfterKeyword())
            {
                continue;
            }
            if (topLevel && EndsBody(t.Kind))
            {
                _lx.Next();
                Error(t.Landmark, $"syntax error near '{t.Text}'");
                continue;
            }
            if (!ParseConnection())
                SkipToStatementEnd();
        }
    }

    // require(...) and define(...) look like anonymous elements of classes "require"/"define".
    private bool PeekIsParenAfterKeyword()
    {
        var kw = _lx.Next();
        var t = _lx.Peek();
        if (t.Kind != Tok.LParen)
        {
            Error(kw.Landmark, $"syntax error near '{kw.Text}'");
            return true;
        }
        _lx.Next();
        string? conf = _lx.ReadConfig();
        if (conf == null) return true;
        if (kw.Text == "require") DoRequire(conf, kw.Landmark);
        else DoDefine(conf, kw.Landmark);
        return true;
    }

    private void DoDefine(string conf, string landmark)
    {
        foreach (var arg in ConfigText.SplitArgs(conf))
        {
            var (name, value) = ConfigText.ShiftWord(arg);
            if (name.Length < 2 || name[0] != '$')
            {
                Error(landmark, $"bad define '{arg}': expected '$VARIABLE VALUE'");
                continue;
            }
            _body.Defines.Add((name[1..], value));
        }
    }

    private void DoRequire(string conf, string landmark)
    {
        foreach (var arg in ConfigText.SplitArgs(conf))
        {
            var (word, rest) = ConfigText.ShiftWord(arg);
            if (word == "library")
            {
                string file = ConfigText.Unquote(rest);
                string path = file;
                if (!Path.IsPathRooted(path))
                {
                    var dir = Path.GetDirectoryName(_lx.File);
                    if (!string.IsNullOrEmpty(dir) && _lx.File != "<expr>") path = Path.Combine(dir, file);
                }
                var text = _readFile(path);
                if (text == null)
                {
                    Error(landmark, $"library '{file}' not found in CLICKPATH/conf");
                    continue;
                }
                _result.Requirements.Add("library " + file);
                // The library's own landmarks and nested requires are relative to its path.
                ParseFile(text, path);
            }
            else if (word == "package")
            {
                string pkg = ConfigText.Unquote(rest);
                _errh.Error($"requirement '{pkg}' not available");
            }
            else
            {
                string req = ConfigText.Unquote(arg);
                _result.Requirements.Add(req);
                if (!KnownRequirements.Contains(req))
                    _errh.Error($"requirement '{req}' not available");
            }
        }
    }

    /// <summary>Features this implementation provides, for require(NAME).</summary>
    public static readonly HashSet<string> KnownRequirements = new(StringComparer.Ordinal)
    {
        "userlevel", "int64", "linux", "clickos", "ip6", "batch",
    };

    private void SkipToStatementEnd()
    {
        int depth = 0;
        while (true)
        {
            var t = _lx.Peek();
            if (t.Kind == Tok.Eof) return;
            if (t.Kind == Tok.LBrace || t.Kind == Tok.LParen) depth++;
            if ((t.Kind == Tok.RBrace || t.Kind == Tok.RParen))
            {
                if (depth == 0) return;
                depth--;
            }
            if (t.Kind == Tok.Semicolon && depth == 0) { _lx.Next(); return; }
            _lx.Next();
        }
    }

    // ---- element classes ----

    private void ParseElementClass(Token kw)
    {
        var nameTok = _lx.Next();
        if (nameTok.Kind != Tok.Ident)
        {
            Error(nameTok.Landmark, "expected element class name after 'elementclass'");
            return;
        }
        var t = _lx.Peek();
        if (t.Kind == Tok.Ident)
        {
            // synonym: elementclass A B;
            _lx.Next();
            var target = LookupClass(t.Text);
            if (target == null) { Error(t.Landmark, $"unknown element class '{t.Text}'"); return; }
            _classScopes[^1][nameTok.Text] = target;
            return;
        }
        if (t.Kind != Tok.LBrace)
        {
            Error(t.Landmark, $"syntax error near '{t.Text}'");
            return;
        }
        _lx.Next();
        var prev = LookupClass(nameTok.Text);
        var cls = ParseCompoundBody(nameTok.Text, kw.Landmark, prev);
        if (cls != null)
            _classScopes[^1][nameTok.Text] = cls;
    }

    /// <summary>Parses "{ [formals |] body [|| ...]* }" after the '{'.</summary>
    private CompoundClass? ParseCompoundBody(string name, string landmark, ClassRef? previous)
    {
        var cls = new CompoundClass(name, landmark);
        while (true)
        {
            var t = _lx.Peek();
            if (t.Kind == Tok.Ellipsis)
            {
                _lx.Next();
                if (previous == null) Error(t.Landmark, $"'...' extends nonexistent class '{name}'");
                cls.Fallback = previous;
                t = _lx.Next();
                if (t.Kind != Tok.RBrace) { Error(t.Landmark, $"syntax error near '{t.Text}'"); SkipToStatementEnd(); }
                break;
            }
            var formals = TryParseFormals();
            var body = ParseBodyScope();
            cls.Overloads.Add(new Overload(formals, body));
            t = _lx.Next();
            if (t.Kind == Tok.Bar2) continue;
            if (t.Kind == Tok.RBrace) break;
            Error(t.Landmark, t.Kind == Tok.Eof ? "unterminated elementclass" : $"syntax error near '{t.Text}'");
            if (t.Kind != Tok.Eof) SkipToStatementEnd();
            break;
        }
        return cls;
    }

    private List<Formal> TryParseFormals()
    {
        var formals = new List<Formal>();
        var t = _lx.Peek();
        if (t.Kind == Tok.Bar) { _lx.Next(); return formals; }
        if (t.Kind != Tok.Variable && !(t.Kind == Tok.Ident && IsFormalKeyword(t.Text)))
            return formals;
        while (true)
        {
            t = _lx.Next();
            string? kw = null;
            if (t.Kind == Tok.Ident)
            {
                kw = t.Text;
                t = _lx.Next();
            }
            if (t.Kind != Tok.Variable || t.Text.Length < 2)
            {
                Error(t.Landmark, "bad formal parameter list");
                SkipUntil(Tok.Bar);
                return formals;
            }
            bool rest = kw == "__REST__";
            formals.Add(new Formal(t.Text[1..], rest ? null : kw, rest));
            t = _lx.Next();
            if (t.Kind == Tok.Comma) continue;
            if (t.Kind == Tok.Bar) return formals;
            Error(t.Landmark, $"syntax error near '{t.Text}' in formal parameters");
            return formals;
        }
    }

    private static bool IsFormalKeyword(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');

    private void SkipUntil(Tok k)
    {
        while (true)
        {
            var t = _lx.Next();
            if (t.Kind == k || t.Kind == Tok.Eof) return;
        }
    }

    private Body ParseBodyScope()
    {
        var body = new Body { IsCompound = true, AnonOffset = 2 };
        body.Decls.Add(new DeclT("input", null, "", _lx.Landmark, DeclKind.Input));
        body.Decls.Add(new DeclT("output", null, "", _lx.Landmark, DeclKind.Output));
        body.Names["input"] = 0;
        body.Names["output"] = 1;
        var (savedBody, savedIn, savedOut) = (_body, _inputIdx, _outputIdx);
        _body = body;
        _inputIdx = 0;
        _outputIdx = 1;
        _classScopes.Add(new Dictionary<string, ClassRef>(StringComparer.Ordinal));
        ParseStatements(topLevel: false);
        _classScopes.RemoveAt(_classScopes.Count - 1);
        (_body, _inputIdx, _outputIdx) = (savedBody, savedIn, savedOut);
        return body;
    }

    private ClassRef? LookupClass(string name)
    {
        for (int i = _classScopes.Count - 1; i >= 0; i--)
            if (_classScopes[i].TryGetValue(name, out var c)) return c;
        return _isPrimitive(name) ? new PrimitiveClass(name) : null;
    }

    // ---- connections ----

    /// <summary>One side's element: where connections into it and out of it attach.</summary>
    private sealed class Endpoint
    {
        public int InIdx = -1, OutIdx = -1;
        public List<int>? InPorts, OutPorts;
        public string? PendingName; // undeclared bare name, maybe part of "a, b :: C"
        public Token Tok;
        public bool IsGroup;
        public int GroupInputs, GroupOutputs;
    }

    private string AnonName(string cls) => $"{cls}@{_body.Decls.Count - _body.AnonOffset + 1}";

    private int Declare(string name, ClassRef? cls, string config, string landmark)
    {
        if (LookupClass(name) != null)
            Error(landmark, $"class '{name}' used as element name");
        if (_body.Names.TryGetValue(name, out int prev))
        {
            Error(landmark, $"redeclaration of element '{name}'");
            Error(_body.Decls[prev].Landmark, $"element '{name}' previously declared here");
            return prev;
        }
        int idx = _body.Decls.Count;
        _body.Decls.Add(new DeclT(name, cls, config, landmark, cls == null ? DeclKind.Error : DeclKind.Element));
        _body.Names[name] = idx;
        return idx;
    }

    private int DeclareAnon(ClassRef? cls, string config, string landmark)
    {
        string cname = cls?.Name ?? "Error";
        string name = AnonName(cname);
        int idx = _body.Decls.Count;
        _body.Decls.Add(new DeclT(name, cls, config, landmark, cls == null ? DeclKind.Error : DeclKind.Element));
        return idx;
    }

    private static bool StartsElement(Token t) => t.Kind is Tok.Ident or Tok.LBrace or Tok.LParen;

    /// <summary>Parses a connection or declaration statement. Returns false after a syntax error.</summary>
    private bool ParseConnection()
    {
        var sides = new List<List<Endpoint>>();
        var arrows = new List<Token>();
        var first = _lx.Peek();

        // Implicit "input" at the start: "-> x", "[1] -> x".
        if (first.Kind is Tok.Arrow or Tok.ManyArrow or Tok.LBracket)
        {
            List<int>? ports = null;
            if (first.Kind == Tok.LBracket)
            {
                _lx.Next();
                ports = _lx.ReadPorts(out var perr);
                if (ports == null) return Error(first.Landmark, perr);
                var after = _lx.Peek();
                if (after.Kind is not (Tok.Arrow or Tok.ManyArrow))
                {
                    // "[p] x ..." at statement start: input ports of x, nothing connects to them.
                    var side0 = ParseSide(ports);
                    if (side0 == null) return false;
                    sides.Add(side0);
                    goto arrowsLoop;
                }
            }
            if (_inputIdx < 0)
                return Error(first.Landmark, "syntax error near '" + first.Text + "'");
            sides.Add([new Endpoint { InIdx = _inputIdx, OutIdx = _inputIdx, OutPorts = ports, Tok = first }]);
        }
        else
        {
            var side = ParseSide(null);
            if (side == null) return false;
            sides.Add(side);
        }

    arrowsLoop:
        while (true)
        {
            var t = _lx.Peek();
            if (t.Kind is not (Tok.Arrow or Tok.ManyArrow)) break;
            _lx.Next();
            arrows.Add(t);
            var n = _lx.Peek();
            List<int>? pre = null;
            if (n.Kind == Tok.LBracket)
            {
                _lx.Next();
                pre = _lx.ReadPorts(out var perr);
                if (pre == null) return Error(n.Landmark, perr);
                n = _lx.Peek();
            }
            if (!StartsElement(n) || n.Kind == Tok.Ident && IsStatementKeyword(n.Text))
            {
                // Implicit "output" at the end: "x ->", "x -> [1]".
                if (_outputIdx < 0)
                    return Error(n.Landmark, $"syntax error near '{(n.Kind == Tok.Eof ? "end of file" : n.Text)}'");
                sides.Add([new Endpoint { InIdx = _outputIdx, OutIdx = _outputIdx, InPorts = pre, Tok = n }]);
                break;
            }
            var side = ParseSide(pre);
            if (side == null) return false;
            sides.Add(side);
        }

        ResolvePending(sides);
        for (int i = 0; i < arrows.Count; i++)
            Connect(sides[i], sides[i + 1], arrows[i]);
        var end = _lx.Peek();
        if (end.Kind == Tok.Semicolon) _lx.Next();
        else if (!EndsBody(end.Kind) && !StartsElement(end) && end.Kind != Tok.LBracket)
        {
            _lx.Next();
            return Error(end.Landmark, $"syntax error near '{end.Text}'");
        }
        return true;
    }

    private static bool IsStatementKeyword(string s) => s is "elementclass";

    /// <summary>Parses "endpoint (, endpoint)*". <paramref name="firstPre"/> are input ports read before the first.</summary>
    private List<Endpoint>? ParseSide(List<int>? firstPre)
    {
        var side = new List<Endpoint>();
        List<int>? pre = firstPre;
        while (true)
        {
            var ep = ParseEndpoint(pre);
            if (ep == null) return null;
            side.Add(ep);
            pre = null;
            if (_lx.Peek().Kind != Tok.Comma) break;
            _lx.Next();
            var n = _lx.Peek();
            if (n.Kind == Tok.LBracket)
            {
                _lx.Next();
                pre = _lx.ReadPorts(out var perr);
                if (pre == null) { Error(n.Landmark, perr); return null; }
            }
        }
        // "a, b :: C": bare undeclared names before a declaration share its class.
        if (side.Count > 1 && side[^1].PendingName == null && _lastDeclClass is { } lastCls && _lastDeclIdx == side[^1].InIdx)
        {
            // Click declares the names in the order written (a, then b): move the just-made
            // declaration of the last name after the others when nothing refers to it yet.
            var lastEp = side[^1];
            DeclT? moved = null;
            if (_lastDeclNew && lastEp.InIdx == _body.Decls.Count - 1 && side.Take(side.Count - 1).All(e => e.PendingName != null)
                && side.All(e => e.PendingName != _body.Decls[lastEp.InIdx].Name))
            {
                moved = _body.Decls[lastEp.InIdx];
                _body.Decls.RemoveAt(lastEp.InIdx);
                _body.Names.Remove(moved.Name);
            }
            foreach (var ep in side)
            {
                if (ep.PendingName != null)
                {
                    int idx = Declare(ep.PendingName, lastCls.Cls, lastCls.Config, ep.Tok.Landmark);
                    ep.InIdx = ep.OutIdx = idx;
                    ep.PendingName = null;
                }
            }
            if (moved != null)
            {
                int idx = _body.Decls.Count;
                _body.Decls.Add(moved);
                _body.Names[moved.Name] = idx;
                lastEp.InIdx = lastEp.OutIdx = _lastDeclIdx = idx;
            }
        }
        return side;
    }

    private (ClassRef? Cls, string Config)? _lastDeclClass;
    private int _lastDeclIdx = -1;
    private bool _lastDeclNew;

    private void ResolvePending(List<List<Endpoint>> sides)
    {
        foreach (var side in sides)
            foreach (var ep in side)
                if (ep.PendingName != null)
                {
                    Error(ep.Tok.Landmark, $"undeclared element '{ep.PendingName}'");
                    // Declare a placeholder so later uses do not repeat the error.
                    int idx = _body.Decls.Count;
                    _body.Decls.Add(new DeclT(ep.PendingName, null, "", ep.Tok.Landmark, DeclKind.Error));
                    _body.Names[ep.PendingName] = idx;
                    ep.InIdx = ep.OutIdx = idx;
                    ep.PendingName = null;
                }
    }

    private Endpoint? ParseEndpoint(List<int>? pre)
    {
        var t = _lx.Next();
        var ep = new Endpoint { InPorts = pre, Tok = t };
        _lastDeclClass = null;
        switch (t.Kind)
        {
            case Tok.Ident:
            {
                var n = _lx.Peek();
                if (n.Kind == Tok.Colon2)
                {
                    _lx.Next();
                    var spec = ParseClassSpec();
                    if (spec == null) return null;
                    int before = _body.Decls.Count;
                    int idx = Declare(t.Text, spec.Value.Cls, spec.Value.Config, t.Landmark);
                    ep.InIdx = ep.OutIdx = idx;
                    _lastDeclClass = spec;
                    _lastDeclIdx = idx;
                    _lastDeclNew = idx == before;
                }
                else if (n.Kind == Tok.LParen)
                {
                    _lx.Next();
                    string? conf = _lx.ReadConfig();
                    if (conf == null) return null;
                    var cls = LookupClass(t.Text);
                    if (cls == null) Error(t.Landmark, $"unknown element class '{t.Text}'");
                    ep.InIdx = ep.OutIdx = DeclareAnon(cls, conf, t.Landmark);
                }
                else if (_body.Names.TryGetValue(t.Text, out int idx))
                {
                    ep.InIdx = ep.OutIdx = idx;
                }
                else if (LookupClass(t.Text) is { } cls)
                {
                    ep.InIdx = ep.OutIdx = DeclareAnon(cls, "", t.Landmark);
                }
                else
                {
                    ep.PendingName = t.Text;
                }
                break;
            }
            case Tok.LBrace:
            {
                var cls = ParseCompoundBody($"@{++_anonClassCounter}", t.Landmark, null);
                string conf = "";
                if (_lx.Peek().Kind == Tok.LParen)
                {
                    _lx.Next();
                    conf = _lx.ReadConfig() ?? "";
                }
                ep.InIdx = ep.OutIdx = DeclareAnon(cls, conf, t.Landmark);
                break;
            }
            case Tok.LParen:
                if (!ParseGroup(ep)) return null;
                break;
            default:
                Error(t.Landmark, t.Kind == Tok.Eof ? "syntax error at end of file" : $"syntax error near '{t.Text}'");
                return null;
        }
        if (_lx.Peek().Kind == Tok.LBracket)
        {
            var b = _lx.Next();
            ep.OutPorts = _lx.ReadPorts(out var perr);
            if (ep.OutPorts == null) { Error(b.Landmark, perr); return null; }
        }
        return ep;
    }

    private (ClassRef? Cls, string Config)? ParseClassSpec()
    {
        var t = _lx.Next();
        ClassRef? cls;
        if (t.Kind == Tok.Ident)
        {
            cls = LookupClass(t.Text);
            if (cls == null) Error(t.Landmark, $"unknown element class '{t.Text}'");
        }
        else if (t.Kind == Tok.LBrace)
        {
            cls = ParseCompoundBody($"@{++_anonClassCounter}", t.Landmark, null);
        }
        else
        {
            Error(t.Landmark, $"syntax error near '{t.Text}'");
            return null;
        }
        string conf = "";
        if (_lx.Peek().Kind == Tok.LParen)
        {
            _lx.Next();
            var c = _lx.ReadConfig();
            if (c == null) return null;
            conf = c;
        }
        return (cls, conf);
    }

    /// <summary>
    /// "( ... )": statements in the enclosing scope, with their own input/output, which
    /// connections to the group attach to.
    /// </summary>
    private bool ParseGroup(Endpoint ep)
    {
        string lm = _lx.Landmark;
        int g = _body.Decls.Count;
        _body.Decls.Add(new DeclT("", null, "", lm, DeclKind.Group));
        int gin = _body.Decls.Count;
        _body.Decls.Add(new DeclT("", null, "", lm, DeclKind.Input));
        int gout = _body.Decls.Count;
        _body.Decls.Add(new DeclT("", null, "", lm, DeclKind.Output));
        _ = g;
        var (savedIn, savedOut) = (_inputIdx, _outputIdx);
        (_inputIdx, _outputIdx) = (gin, gout);
        int connStart = _body.Conns.Count;
        ParseStatements(topLevel: false);
        (_inputIdx, _outputIdx) = (savedIn, savedOut);
        var t = _lx.Next();
        if (t.Kind != Tok.RParen)
        {
            Error(t.Landmark, $"syntax error near '{t.Text}'");
            return false;
        }
        ep.InIdx = gin;
        ep.OutIdx = gout;
        ep.IsGroup = true;
        for (int i = connStart; i < _body.Conns.Count; i++)
        {
            var c = _body.Conns[i];
            if (c.From == gin) ep.GroupInputs = Math.Max(ep.GroupInputs, c.FromPort + 1);
            if (c.To == gout) ep.GroupOutputs = Math.Max(ep.GroupOutputs, c.ToPort + 1);
        }
        return true;
    }

    private void Connect(List<Endpoint> left, List<Endpoint> right, Token arrow)
    {
        if (arrow.Kind == Tok.Arrow)
        {
            bool multiPorts = left.Any(e => e.OutPorts is { Count: > 1 }) || right.Any(e => e.InPorts is { Count: > 1 });
            if (!multiPorts)
            {
                if (left.Count > 1 && right.Count > 1)
                {
                    Error(arrow.Landmark, "syntax error: many-to-many connections require '=>'");
                    return;
                }
                foreach (var l in left)
                    foreach (var r in right)
                        AddConn(l.OutIdx, l.OutPorts is { Count: 1 } ? l.OutPorts[0] : 0, r.InIdx, r.InPorts is { Count: 1 } ? r.InPorts[0] : 0, arrow.Landmark);
                return;
            }
        }
        var lports = SidePorts(left, output: true);
        var rports = SidePorts(right, output: false);
        if (lports == null && rports == null)
        {
            lports = [(left[0].OutIdx, 0)];
            rports = [(right[0].InIdx, 0)];
        }
        else if (lports == null) lports = Enumerable.Range(0, rports!.Count).Select(p => (left[0].OutIdx, p)).ToList();
        else if (rports == null) rports = Enumerable.Range(0, lports.Count).Select(p => (right[0].InIdx, p)).ToList();
        if (lports.Count != rports.Count)
        {
            Error(arrow.Landmark, $"connection mismatch: {lports.Count} outputs connected to {rports.Count} inputs");
            return;
        }
        for (int i = 0; i < lports.Count; i++)
            AddConn(lports[i].Elem, lports[i].Port, rports[i].Elem, rports[i].Port, arrow.Landmark);
    }

    /// <summary>Ports one side offers, or null if it is a single element with no port list (expandable).</summary>
    private static List<(int Elem, int Port)>? SidePorts(List<Endpoint> side, bool output)
    {
        if (side.Count == 1)
        {
            var e = side[0];
            var explicitPorts = output ? e.OutPorts : e.InPorts;
            if (explicitPorts == null && !e.IsGroup) return null;
        }
        var list = new List<(int, int)>();
        foreach (var e in side)
        {
            var ports = output ? e.OutPorts : e.InPorts;
            int idx = output ? e.OutIdx : e.InIdx;
            if (ports != null) list.AddRange(ports.Select(p => (idx, p)));
            else if (e.IsGroup)
            {
                int n = output ? e.GroupOutputs : e.GroupInputs;
                for (int p = 0; p < Math.Max(n, 1); p++) list.Add((idx, p));
            }
            else list.Add((idx, 0));
        }
        return list;
    }

    private void AddConn(int from, int fromPort, int to, int toPort, string landmark)
    {
        if (from < 0 || to < 0) return;
        _body.Conns.Add(new ConnT(from, fromPort, to, toPort, landmark));
    }
}
