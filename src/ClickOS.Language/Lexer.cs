using System.Text;

namespace ClickOS.Language;

public enum Tok
{
    Eof, Ident, Variable, Arrow, ManyArrow, Colon2, LParen, RParen, LBracket, RBracket,
    LBrace, RBrace, Comma, Semicolon, Bar, Bar2, Ellipsis, Other,
}

public readonly record struct Token(Tok Kind, string Text, string Landmark);

/// <summary>
/// Tokenizes Click configuration text. Tracks file:line landmarks (honouring #line
/// directives), skips comments, and reads raw configuration strings and port lists on request.
/// </summary>
public sealed class Lexer
{
    private readonly string _s;
    private int _pos;
    private int _line = 1;
    private string _file;
    private Token? _peeked;

    public Lexer(string text, string file)
    {
        _s = text;
        _file = file;
    }

    public string File => _file;
    public string Landmark => $"{_file}:{_line}";

    private void SkipSpace()
    {
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (c == '\n')
            {
                _line++;
                _pos++;
                if (_pos < _s.Length && _s[_pos] == '#') LineDirective();
            }
            else if (c == '#' && AtLineStart(_pos))
            {
                LineDirective();
            }
            else if (char.IsWhiteSpace(c))
            {
                _pos++;
            }
            else if (c == '/' && _pos + 1 < _s.Length && _s[_pos + 1] == '/')
            {
                while (_pos < _s.Length && _s[_pos] != '\n') _pos++;
            }
            else if (c == '/' && _pos + 1 < _s.Length && _s[_pos + 1] == '*')
            {
                int end = _s.IndexOf("*/", _pos + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    Errors.Add((Landmark, "unterminated comment"));
                    _pos = _s.Length;
                    break;
                }
                for (int i = _pos; i < end; i++) if (_s[i] == '\n') _line++;
                _pos = end + 2;
            }
            else break;
        }
    }

    public List<(string Landmark, string Message)> Errors { get; } = [];

    private bool AtLineStart(int p)
    {
        for (int i = p - 1; i >= 0; i--)
        {
            if (_s[i] == '\n') return true;
            if (_s[i] != ' ' && _s[i] != '\t') return false;
        }
        return true;
    }

    // "#line N "file"" or "# N "file"": the next line is line N of file.
    private void LineDirective()
    {
        int eol = _s.IndexOf('\n', _pos);
        if (eol < 0) eol = _s.Length;
        string d = _s[(_pos + 1)..eol].Trim();
        if (d.StartsWith("line", StringComparison.Ordinal)) d = d[4..].Trim();
        int k = 0;
        while (k < d.Length && char.IsAsciiDigit(d[k])) k++;
        if (k > 0 && int.TryParse(d[..k], out int n))
        {
            string rest = d[k..].Trim();
            if (rest.Length >= 2 && rest[0] == '"')
            {
                int q = rest.IndexOf('"', 1);
                if (q > 0) _file = rest[1..q];
            }
            _pos = eol;
            _line = n - 1;
            return;
        }
        _pos = eol; // other # lines are ignored like comments
    }

    public static bool IsIdentChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_' || c == '@';

    public Token Peek() => _peeked ??= Read();

    public Token Next()
    {
        var t = Peek();
        _peeked = null;
        return t;
    }

    private Token Read()
    {
        SkipSpace();
        string lm = Landmark;
        if (_pos >= _s.Length) return new Token(Tok.Eof, "", lm);
        char c = _s[_pos];
        if (IsIdentChar(c))
        {
            int start = _pos;
            while (_pos < _s.Length)
            {
                char d = _s[_pos];
                if (IsIdentChar(d)) { _pos++; continue; }
                // '/' joins identifiers (compound paths) unless it starts a comment
                if (d == '/' && _pos + 1 < _s.Length && IsIdentChar(_s[_pos + 1])) { _pos++; continue; }
                break;
            }
            return new Token(Tok.Ident, _s[start.._pos], lm);
        }
        if (c == '$')
        {
            int start = _pos++;
            while (_pos < _s.Length && ConfigText.IsVarChar(_s[_pos])) _pos++;
            return new Token(Tok.Variable, _s[start.._pos], lm);
        }
        _pos++;
        switch (c)
        {
            case '-' when _pos < _s.Length && _s[_pos] == '>': _pos++; return new Token(Tok.Arrow, "->", lm);
            case '=' when _pos < _s.Length && _s[_pos] == '>': _pos++; return new Token(Tok.ManyArrow, "=>", lm);
            case ':' when _pos < _s.Length && _s[_pos] == ':': _pos++; return new Token(Tok.Colon2, "::", lm);
            case '|' when _pos < _s.Length && _s[_pos] == '|': _pos++; return new Token(Tok.Bar2, "||", lm);
            case '.' when _pos + 1 < _s.Length && _s[_pos] == '.' && _s[_pos + 1] == '.': _pos += 2; return new Token(Tok.Ellipsis, "...", lm);
            case '|': return new Token(Tok.Bar, "|", lm);
            case '(': return new Token(Tok.LParen, "(", lm);
            case ')': return new Token(Tok.RParen, ")", lm);
            case '[': return new Token(Tok.LBracket, "[", lm);
            case ']': return new Token(Tok.RBracket, "]", lm);
            case '{': return new Token(Tok.LBrace, "{", lm);
            case '}': return new Token(Tok.RBrace, "}", lm);
            case ',': return new Token(Tok.Comma, ",", lm);
            case ';': return new Token(Tok.Semicolon, ";", lm);
            default: return new Token(Tok.Other, c.ToString(), lm);
        }
    }

    /// <summary>
    /// Reads a raw configuration string after '(' up to the matching ')', keeping quotes,
    /// comments and nested parentheses intact. Returns null at end of file.
    /// </summary>
    public string? ReadConfig()
    {
        if (_peeked != null) throw new InvalidOperationException("ReadConfig after Peek");
        var sb = new StringBuilder();
        int depth = 0;
        string startLm = Landmark;
        while (_pos < _s.Length)
        {
            char c = _s[_pos];
            if (c == '\n') _line++;
            if (c == '(') depth++;
            else if (c == ')')
            {
                if (depth == 0) { _pos++; return sb.ToString(); }
                depth--;
            }
            else if (c == '"' || c == '\'')
            {
                int i = _pos + 1;
                while (i < _s.Length && _s[i] != c)
                {
                    if (c == '"' && _s[i] == '\\') i++;
                    i++;
                }
                i = Math.Min(i + 1, _s.Length);
                AppendCounting(sb, _pos, i);
                continue;
            }
            else if (c == '\\' && _pos + 1 < _s.Length && _s[_pos + 1] == '<')
            {
                int e = _s.IndexOf('>', _pos);
                int i = e < 0 ? _s.Length : e + 1;
                AppendCounting(sb, _pos, i);
                continue;
            }
            else if (c == '/' && _pos + 1 < _s.Length && (_s[_pos + 1] == '/' || _s[_pos + 1] == '*'))
            {
                int i;
                if (_s[_pos + 1] == '/') { i = _s.IndexOf('\n', _pos); if (i < 0) i = _s.Length; }
                else { i = _s.IndexOf("*/", _pos + 2, StringComparison.Ordinal); i = i < 0 ? _s.Length : i + 2; }
                AppendCounting(sb, _pos, i);
                continue;
            }
            sb.Append(c);
            _pos++;
        }
        Errors.Add((Landmark, "expected ')'"));
        return null;
    }

    private void AppendCounting(StringBuilder sb, int from, int to)
    {
        for (int i = from; i < to; i++) if (_s[i] == '\n') _line++;
        sb.Append(_s, from, to - from);
        _pos = to;
    }

    /// <summary>Reads a port list after '[': "0", "0-2", "0, 2-3"; an empty list means port 0... Returns null on a syntax error.</summary>
    public List<int>? ReadPorts(out string error)
    {
        error = "";
        if (_peeked != null) throw new InvalidOperationException("ReadPorts after Peek");
        int end = _s.IndexOf(']', _pos);
        if (end < 0) { error = "missing ']'"; _pos = _s.Length; return null; }
        string body = _s[_pos..end];
        for (int i = _pos; i < end; i++) if (_s[i] == '\n') _line++;
        _pos = end + 1;
        var ports = new List<int>();
        foreach (var part0 in body.Split(','))
        {
            string part = part0.Trim();
            if (part.Length == 0) { if (body.Trim().Length == 0) break; error = "syntax error in port list"; return null; }
            int dash = part.IndexOf('-');
            if (dash > 0)
            {
                if (!int.TryParse(part[..dash].Trim(), out int a) || !int.TryParse(part[(dash + 1)..].Trim(), out int b) || a < 0 || b < a)
                { error = $"bad port range '{part}'"; return null; }
                for (int p = a; p <= b; p++) ports.Add(p);
            }
            else
            {
                if (!int.TryParse(part, out int p) || p < 0) { error = $"bad port number '{part}'"; return null; }
                ports.Add(p);
            }
        }
        return ports;
    }
}
