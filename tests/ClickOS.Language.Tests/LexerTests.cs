namespace ClickOS.Language.Tests;

public class LexerTests
{
    private static List<Token> All(Lexer lx)
    {
        var list = new List<Token>();
        while (true)
        {
            var t = lx.Next();
            list.Add(t);
            if (t.Kind == Tok.Eof) return list;
        }
    }

    [Fact]
    public void Tokenizes_punctuation_and_operators()
    {
        var toks = All(new Lexer("a :: B; c -> d => [ ] { } , | || ... $v ( ) ?", "f"));
        Assert.Equal(
            [Tok.Ident, Tok.Colon2, Tok.Ident, Tok.Semicolon, Tok.Ident, Tok.Arrow, Tok.Ident, Tok.ManyArrow,
             Tok.LBracket, Tok.RBracket, Tok.LBrace, Tok.RBrace, Tok.Comma, Tok.Bar, Tok.Bar2, Tok.Ellipsis,
             Tok.Variable, Tok.LParen, Tok.RParen, Tok.Other, Tok.Eof],
            toks.Select(t => t.Kind));
        Assert.Equal("$v", toks[16].Text);
        Assert.Equal("?", toks[19].Text);
    }

    [Fact]
    public void Identifiers_include_at_digits_underscore_and_slash_paths()
    {
        var toks = All(new Lexer("Idle@3 comp/inner/x _a9", "f"));
        Assert.Equal(["Idle@3", "comp/inner/x", "_a9", ""], toks.Select(t => t.Text));
    }

    [Fact]
    public void Slash_slash_after_identifier_starts_a_comment()
    {
        var toks = All(new Lexer("a// comment b\nc/* x */d", "f"));
        Assert.Equal(["a", "c", "d", ""], toks.Select(t => t.Text));
    }

    [Fact]
    public void Arrows_need_no_surrounding_space()
    {
        var toks = All(new Lexer("a->b=>c", "f"));
        Assert.Equal([Tok.Ident, Tok.Arrow, Tok.Ident, Tok.ManyArrow, Tok.Ident, Tok.Eof], toks.Select(t => t.Kind));
    }

    [Fact]
    public void Landmarks_track_lines_across_comments()
    {
        var toks = All(new Lexer("a\n// one\n/* two\nthree */ b\n\n c", "x.click"));
        Assert.Equal(["x.click:1", "x.click:4", "x.click:6"], toks.Take(3).Select(t => t.Landmark));
    }

    [Fact]
    public void Line_directive_sets_file_and_line()
    {
        var toks = All(new Lexer("a\n#line 10 \"other.click\"\nb\nc", "x.click"));
        Assert.Equal("x.click:1", toks[0].Landmark);
        Assert.Equal("other.click:10", toks[1].Landmark);
        Assert.Equal("other.click:11", toks[2].Landmark);
    }

    [Fact]
    public void Short_line_directive_at_file_start_without_file_name()
    {
        var toks = All(new Lexer("# 42\na\n# 7 \"y.click\"\nb", "x.click"));
        Assert.Equal("x.click:42", toks[0].Landmark);
        Assert.Equal("y.click:7", toks[1].Landmark);
    }

    [Fact]
    public void Other_hash_lines_are_ignored_like_comments()
    {
        var toks = All(new Lexer("#!/usr/bin/click\na", "x.click"));
        Assert.Equal("a", toks[0].Text);
        Assert.Equal("x.click:2", toks[0].Landmark);
    }

    [Fact]
    public void Unterminated_comment_is_reported()
    {
        var lx = new Lexer("a\n/* never closed", "x.click");
        All(lx);
        var (lm, msg) = Assert.Single(lx.Errors);
        Assert.Equal("x.click:2", lm);
        Assert.Equal("unterminated comment", msg);
    }

    [Fact]
    public void ReadConfig_keeps_quotes_comments_and_nested_parens()
    {
        var lx = new Lexer("C(1, \"a)b\", (2) /* ) */, 'x)') d", "f");
        Assert.Equal(Tok.Ident, lx.Next().Kind);
        Assert.Equal(Tok.LParen, lx.Next().Kind);
        Assert.Equal("1, \"a)b\", (2) /* ) */, 'x)'", lx.ReadConfig());
        var d = lx.Next();
        Assert.Equal("d", d.Text);
    }

    [Fact]
    public void ReadConfig_counts_newlines_for_later_landmarks()
    {
        var lx = new Lexer("C(1,\n2,\n\"x\ny\") d", "f");
        lx.Next();
        lx.Next();
        Assert.NotNull(lx.ReadConfig());
        Assert.Equal("f:4", lx.Next().Landmark);
    }

    [Fact]
    public void ReadConfig_at_end_of_file_reports_missing_paren()
    {
        var lx = new Lexer("C(1, 2", "f");
        lx.Next();
        lx.Next();
        Assert.Null(lx.ReadConfig());
        Assert.Contains(lx.Errors, e => e.Message == "expected ')'");
    }

    [Fact]
    public void ReadPorts_parses_lists_and_ranges()
    {
        var lx = new Lexer("[0-2, 5] x", "f");
        lx.Next();
        Assert.Equal([0, 1, 2, 5], lx.ReadPorts(out var err));
        Assert.Equal("", err);
        Assert.Equal("x", lx.Next().Text);
    }

    [Fact]
    public void ReadPorts_empty_list_is_empty()
    {
        var lx = new Lexer("[ ]", "f");
        lx.Next();
        Assert.Empty(lx.ReadPorts(out _)!);
    }

    [Theory]
    [InlineData("[x]", "bad port number 'x'")]
    [InlineData("[3-1]", "bad port range '3-1'")]
    [InlineData("[1,,2]", "syntax error in port list")]
    [InlineData("[1", "missing ']'")]
    public void ReadPorts_reports_syntax_errors(string text, string expected)
    {
        var lx = new Lexer(text, "f");
        lx.Next();
        Assert.Null(lx.ReadPorts(out var err));
        Assert.Equal(expected, err);
    }
}
