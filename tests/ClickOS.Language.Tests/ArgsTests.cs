using ClickOS.Core;
using static ClickOS.Language.Tests.TestUtil;

namespace ClickOS.Language.Tests;

public class ArgsTests
{
    private static (Args Args, CollectingErrorHandler Errh) Make(string conf)
    {
        var errh = new CollectingErrorHandler();
        return (new Args(ConfigText.SplitArgs(conf), errh), errh);
    }

    [Fact]
    public void Positional_and_keyword_arguments()
    {
        var (a, errh) = Make("500, STOP true, LABEL \"a b\"");
        var cap = a.ReadMP("CAPACITY", Args.Unsigned);
        var stop = a.Read("STOP", Args.Bool, false);
        var label = a.Read("LABEL", Args.String, "none");
        var burst = a.Read("BURST", Args.Int, 8);
        Assert.True(a.Complete());
        Assert.Equal(0, errh.ErrorCount);
        Assert.Equal(500, cap.Value);
        Assert.True(stop.Value);
        Assert.Equal("a b", label.Value);
        Assert.True(label.Present);
        Assert.False(burst.Present);
        Assert.Equal(8, burst.Value);
        Assert.Equal(99, burst.Or(99));
        Assert.Equal(500, cap.Or(1));
        int implicitValue = cap;
        Assert.Equal(500, implicitValue);
    }

    [Fact]
    public void Positional_argument_may_be_given_by_keyword()
    {
        var (a, _) = Make("LIMIT 3, CAPACITY 7");
        var cap = a.ReadMP("CAPACITY", Args.Unsigned);
        var limit = a.ReadP("LIMIT", Args.Int, -1);
        Assert.True(a.Complete());
        Assert.Equal(7, cap.Value);
        Assert.Equal(3, limit.Value);
    }

    [Fact]
    public void Positional_slots_taken_by_keywords_are_skipped()
    {
        var (a, _) = Make("FIRST 1, 2");
        var first = a.ReadP("FIRST", Args.Int, 0);
        var second = a.ReadP("SECOND", Args.Int, 0);
        Assert.True(a.Complete());
        Assert.Equal(1, first.Value);
        Assert.Equal(2, second.Value);
    }

    [Fact]
    public void Values_are_assigned_only_when_everything_parses()
    {
        var (a, errh) = Make("abc, STOP true");
        var cap = a.ReadMP("CAPACITY", Args.Unsigned);
        var stop = a.Read("STOP", Args.Bool, false);
        Assert.False(a.Complete());
        Assert.Equal(["CAPACITY: parse error"], Errors(errh));
        Assert.False(stop.Present);
        Assert.False(stop.Value);
        Assert.False(cap.Present);
    }

    [Fact]
    public void Missing_mandatory_arguments()
    {
        var (a, errh) = Make("");
        a.ReadMP("CAPACITY", Args.Unsigned);
        a.ReadM("RATE", Args.Bandwidth);
        a.ReadP("OPTIONAL", Args.Int, 0);
        Assert.False(a.Complete());
        Assert.Equal(["CAPACITY: required argument missing", "RATE: required argument missing"], Errors(errh));
    }

    [Fact]
    public void Unknown_keyword()
    {
        var (a, errh) = Make("FOO 1");
        var stop = a.Read("STOP", Args.Bool, false);
        Assert.False(a.Complete());
        Assert.Equal(["FOO: unknown argument"], Errors(errh));
        Assert.False(stop.Present);
    }

    [Fact]
    public void Too_many_arguments()
    {
        var (a, errh) = Make("1, 2");
        var x = a.ReadP("X", Args.Int, 0);
        Assert.False(a.Complete());
        Assert.Equal(["too many arguments"], Errors(errh));
        Assert.Equal(0, x.Value);
        Assert.False(x.Present);
    }

    [Fact]
    public void All_problems_are_reported_together()
    {
        var (a, errh) = Make("zz, BOGUS 1, STOP maybe, extra");
        a.ReadMP("CAPACITY", Args.Unsigned);
        a.Read("STOP", Args.Bool, false);
        a.ReadM("RATE", Args.Bandwidth);
        Assert.False(a.Complete());
        var errors = Errors(errh);
        Assert.Contains("BOGUS: unknown argument", errors);
        Assert.Contains("too many arguments", errors);
        Assert.Contains("CAPACITY: parse error", errors);
        Assert.Contains("STOP: parse error", errors);
        Assert.Contains("RATE: required argument missing", errors);
        Assert.Equal(5, errh.ErrorCount);
    }

    [Fact]
    public void Repeated_keyword_uses_last_value()
    {
        var (a, _) = Make("N 1, N 2");
        var n = a.Read("N", Args.Int, 0);
        Assert.True(a.Complete());
        Assert.Equal(2, n.Value);
    }

    [Fact]
    public void ReadAll_collects_every_occurrence_only_on_success()
    {
        var (a, _) = Make("TAG x, TAG y, TAG z");
        var tags = a.ReadAll("TAG", Args.Word);
        Assert.Empty(tags);
        Assert.True(a.Complete());
        Assert.Equal(["x", "y", "z"], tags);

        var (b, _) = Make("TAG x, TAG y, BAD 1");
        var tags2 = b.ReadAll("TAG", Args.Word);
        Assert.False(b.Complete());
        Assert.Empty(tags2);
    }

    [Fact]
    public void Rest_keeps_unmatched_positional_arguments()
    {
        var (a, errh) = Make("1, two, three");
        var first = a.ReadP("FIRST", Args.Int, 0);
        var rest = a.Rest();
        Assert.True(a.Complete());
        Assert.Equal(0, errh.ErrorCount);
        Assert.Equal(1, first.Value);
        Assert.Equal(["two", "three"], rest);
    }

    [Fact]
    public void Lowercase_first_word_is_not_a_keyword()
    {
        var (a, errh) = Make("hello world");
        var s = a.ReadMP("TEXT", Args.Any);
        Assert.True(a.Complete(), errh.Text);
        Assert.Equal("hello world", s.Value);
    }

    [Fact]
    public void Keyword_alone_is_a_positional_value_for_positional_args()
    {
        // "DATA" with no value: it is the positional value, not an empty keyword argument.
        var (a, _) = Make("DATA");
        var s = a.ReadMP("DATA", Args.Any);
        Assert.True(a.Complete());
        Assert.Equal("DATA", s.Value);
    }

    [Theory]
    [InlineData("12", 12)]
    [InlineData("0x10", 16)]
    [InlineData("-3", -3)]
    public void Int_parser(string s, int expected)
    {
        Assert.True(Args.ParseInt(s, out int v, out _));
        Assert.Equal(expected, v);
    }

    [Fact]
    public void Type_parsers_reject_and_describe_bad_values()
    {
        Assert.False(Args.ParseUnsigned("-1", out _, out var e1));
        Assert.Equal("expected unsigned integer", e1);
        Assert.False(Args.ParseInt("4294967296", out _, out var e2));
        Assert.Equal("out of range, bound 2147483647", e2);
        Assert.False(Args.ParseByte("256", out _, out _));
        Assert.True(Args.ParseByte("255", out int b, out _));
        Assert.Equal(255, b);
        Assert.False(Args.ParseWord("\"two words\"", out _, out _));
        Assert.True(Args.ParseWord("\"one\"", out var w, out _));
        Assert.Equal("one", w);
        Assert.False(Args.ParseSeconds("-1", out _, out _));
        Assert.True(Args.ParseSeconds("20ms", out double sec, out _));
        Assert.Equal(0.02, sec, 12);
        Assert.False(Args.ParseUInt64("-5", out _, out _));
    }

    [Fact]
    public void Address_parsers()
    {
        Assert.True(Args.ParseIPAddress("1.2.3.4", out uint ip, out _));
        Assert.Equal(0x01020304u, ip);
        Assert.True(Args.ParseIPPrefix("1.2.3.0/24", out var pfx, out _));
        Assert.Equal((0x01020300u, 0xFFFFFF00u), pfx);
        Assert.False(Args.ParseIPPrefix("1.2.3.0/40", out _, out var perr));
        Assert.Equal("expected IP address prefix", perr);
        Assert.True(Args.ParseEtherAddress("00:01:02:03:04:05", out var mac, out _));
        Assert.Equal(5, mac[5]);
        Assert.True(Args.ParseIP6Address("::2", out var ip6, out _));
        Assert.Equal(2, ip6[15]);
    }

    [Fact]
    public void Parse_error_in_keyword_argument_leaves_all_values_untouched()
    {
        var (a, errh) = Make("5, RATE 10Mbps, BURST x");
        var cap = a.ReadMP("CAPACITY", Args.Unsigned);
        var rate = a.Read("RATE", Args.Bandwidth, 0.0);
        var burst = a.Read("BURST", Args.Int, 1);
        Assert.False(a.Complete());
        Assert.Equal(["BURST: parse error"], Errors(errh));
        Assert.Equal(0, cap.Value);
        Assert.Equal(0.0, rate.Value);
        Assert.Equal(1, burst.Value);
    }
}
