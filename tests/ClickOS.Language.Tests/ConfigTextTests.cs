namespace ClickOS.Language.Tests;

public class ConfigTextTests
{
    [Fact]
    public void SplitArgs_splits_at_top_level_commas()
    {
        Assert.Equal(["a", "b", "c"], ConfigText.SplitArgs("a, b, c"));
    }

    [Fact]
    public void SplitArgs_of_empty_or_blank_configuration_is_empty()
    {
        Assert.Empty(ConfigText.SplitArgs(""));
        Assert.Empty(ConfigText.SplitArgs("  /* nothing */ "));
    }

    [Fact]
    public void SplitArgs_ignores_commas_in_quotes_comments_and_hex_blocks()
    {
        Assert.Equal(
            ["\"x, y\"", "'p,q'", "\\<01, 02>", "z"],
            ConfigText.SplitArgs("\"x, y\", 'p,q', \\<01, 02> /* a, b */, z // c, d"));
    }

    [Fact]
    public void SplitArgs_examples_from_click_documentation()
    {
        // cp_argvec: the final argument is ignored when empty; comments become one space.
        Assert.Equal(["a b", "c"], ConfigText.SplitArgs("  a /*?*/ b,  c, "));
        Assert.Equal(["\"x, y\""], ConfigText.SplitArgs("\"x, y\" // ?"));
    }

    [Fact]
    public void SplitArgs_keeps_empty_arguments_in_the_middle()
    {
        Assert.Equal(["a", "", "b"], ConfigText.SplitArgs("a, , b"));
        Assert.Equal(["", "a"], ConfigText.SplitArgs(", a"));
    }

    [Fact]
    public void SplitArgs_keeps_internal_whitespace()
    {
        Assert.Equal(["KEY  value", "x"], ConfigText.SplitArgs("\n  KEY  value ,\n\tx\n"));
    }

    [Theory]
    [InlineData("  a   b  ", "a   b")]
    [InlineData("  a /* Comment */       b  ", "a b")]
    [InlineData("a// line comment\nb", "a b")]
    [InlineData("  \" /*???  */ \"  ", "\" /*???  */ \"")]
    [InlineData("/* lead */ x /* trail */", "x")]
    [InlineData("'//not a comment'", "'//not a comment'")]
    public void Uncomment_matches_cp_uncomment(string input, string expected)
    {
        Assert.Equal(expected, ConfigText.Uncomment(input));
    }

    [Theory]
    [InlineData("\"a b\"", "a b")]
    [InlineData("'a \\n b'", "a \\n b")]
    [InlineData("ab\"cd\"'ef'", "abcdef")]
    [InlineData("\"\\n\" abc /* 123 */ '/* def */'", "\n abc /* def */")]
    [InlineData("\"tab\\there\"", "tab\there")]
    [InlineData("\"q\\\"q\"", "q\"q")]
    [InlineData("\"back\\\\slash\"", "back\\slash")]
    [InlineData("\"\\$x \\, y\"", "$x , y")]
    [InlineData("\"\\101\\x42\"", "AB")]
    [InlineData("\"line\\\ncontinued\"", "linecontinued")]
    [InlineData("plain\\n", "plain\\n")]
    public void Unquote_handles_quotes_and_escapes(string input, string expected)
    {
        Assert.Equal(expected, ConfigText.Unquote(input));
    }

    [Fact]
    public void Unquote_hex_blocks_with_spaces_and_comments()
    {
        Assert.Equal("Hello!", ConfigText.Unquote("\\<48656c6C 6f 2 /* And finally */ 1>"));
        Assert.Equal("\x01\x02\xff", ConfigText.Unquote("\\<01 02\n // comment > still comment\n FF>"));
    }

    [Fact]
    public void Unquote_hex_block_inside_double_quotes()
    {
        Assert.Equal("AB", ConfigText.Unquote("\"A\\<42>\""));
    }

    [Fact]
    public void Unquote_hex_block_inside_single_quotes_is_literal()
    {
        Assert.Equal("\\<41>", ConfigText.Unquote("'\\<41>'"));
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("with space")]
    [InlineData("quote\" and \\ backslash")]
    [InlineData("tab\tnewline\n")]
    [InlineData("\x01\x7f\xe9")]
    [InlineData("$var")]
    [InlineData("")]
    public void Quote_round_trips_through_Unquote(string s)
    {
        Assert.Equal(s, ConfigText.Unquote(ConfigText.Quote(s)));
    }

    [Fact]
    public void Quote_quotes_only_when_needed_and_escapes_specials()
    {
        Assert.Equal("abc_1.2/x", ConfigText.Quote("abc_1.2/x"));
        Assert.Equal("\"a b\"", ConfigText.Quote("a b"));
        Assert.Equal("\"\"", ConfigText.Quote(""));
        Assert.Equal("\"a\\\"b\\\\c\\n\\001\"", ConfigText.Quote("a\"b\\c\n\x01"));
    }

    [Fact]
    public void Quoted_dollar_survives_variable_expansion()
    {
        string quoted = ConfigText.Quote("$x");
        string expanded = ConfigText.Expand(quoted, _ => "EXPANDED");
        Assert.Equal("$x", ConfigText.Unquote(expanded));
    }

    [Fact]
    public void Expand_plain_braced_and_default_forms()
    {
        var vars = new Dictionary<string, string> { ["a"] = "1", ["b_2"] = "two" };
        string? Look(string n) => vars.GetValueOrDefault(n);
        Assert.Equal("1 two 1x dflt 1", ConfigText.Expand("$a $b_2 ${a}x ${zz-dflt} ${a-dflt}", Look));
    }

    [Fact]
    public void Expand_leaves_unknown_single_quoted_and_escaped_variables()
    {
        string? Look(string n) => n == "a" ? "1" : null;
        Assert.Equal("$zz '$a' \\$a \"1\"", ConfigText.Expand("$zz '$a' \\$a \"$a\"", Look));
    }

    [Fact]
    public void Expand_single_quote_inside_double_quotes_does_not_stop_expansion()
    {
        string? Look(string n) => n == "a" ? "1" : null;
        Assert.Equal("\"it's 1\"", ConfigText.Expand("\"it's $a\"", Look));
    }

    [Fact]
    public void Expand_without_dollar_returns_input()
    {
        const string s = "no variables here";
        Assert.Same(s, ConfigText.Expand(s, _ => throw new InvalidOperationException()));
    }

    [Fact]
    public void SplitSpace_respects_quotes_and_drops_comments()
    {
        Assert.Equal(["a", "b,", "c"], ConfigText.SplitSpace("a  b, c"));
        Assert.Equal(["'a /*?*/ b'c"], ConfigText.SplitSpace("  'a /*?*/ b'c"));
        Assert.Equal(["x", "\"y z\"", "w"], ConfigText.SplitSpace("x \"y z\" /* c */ w // end"));
        Assert.Empty(ConfigText.SplitSpace("   "));
    }

    [Fact]
    public void ShiftWord_splits_first_word()
    {
        Assert.Equal(("KEY", "some value"), ConfigText.ShiftWord("  KEY   some value"));
        Assert.Equal(("\"a b\"", "c"), ConfigText.ShiftWord("\"a b\" c"));
        Assert.Equal(("only", ""), ConfigText.ShiftWord("only"));
        Assert.Equal(("", ""), ConfigText.ShiftWord(""));
    }

    [Fact]
    public void JoinArgs_uses_comma_space()
    {
        Assert.Equal("a, b, c", ConfigText.JoinArgs(["a", "b", "c"]));
        Assert.Equal("", ConfigText.JoinArgs([]));
    }
}
