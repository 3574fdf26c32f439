using ClickOS.Core;
using static ClickOS.Language.Tests.TestUtil;

namespace ClickOS.Language.Tests;

public class FlattenerTests
{
    private static string[] Sorted(string[] a) => a.Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public void Primitive_configuration_flattens_to_itself()
    {
        var flat = FlattenOk("a :: Idle -> c :: Counter -> Discard;");
        Assert.Equal(["a", "c", "Discard@3"], Names(flat));
        Assert.Equal(["Idle", "Counter", "Discard"], flat.Elements.Select(e => e.ClassName));
        Assert.Equal(["a[0]->[0]c", "c[0]->[0]Discard@3"], Conns(flat));
        Assert.Equal(1, flat.IndexOf("c"));
        Assert.Equal(-1, flat.IndexOf("nope"));
    }

    [Fact]
    public void Compound_elements_are_named_compound_slash_inner()
    {
        var flat = FlattenOk("elementclass W { input -> x :: Counter -> Queue -> output }\nIdle -> w :: W -> Discard;");
        Assert.Equal(["Idle@1", "Discard@3", "w/x", "w/Queue@2"], Names(flat));
        Assert.Equal(Sorted(["Idle@1[0]->[0]w/x", "w/x[0]->[0]w/Queue@2", "w/Queue@2[0]->[0]Discard@3"]), Sorted(Conns(flat)));
    }

    [Fact]
    public void Nested_compounds_are_expanded_breadth_first()
    {
        var flat = FlattenOk(
            "elementclass In { input -> i :: Counter -> output }\n" +
            "elementclass Out { input -> n :: In -> o :: Counter -> output }\n" +
            "Idle -> a :: Out -> b :: Counter -> Discard;");
        Assert.Equal(["Idle@1", "b", "Discard@4", "a/o", "a/n/i"], Names(flat));
        Assert.Equal(
            Sorted(["Idle@1[0]->[0]a/n/i", "a/n/i[0]->[0]a/o", "a/o[0]->[0]b", "b[0]->[0]Discard@4"]),
            Sorted(Conns(flat)));
    }

    [Fact]
    public void Anonymous_compound_element_uses_its_anonymous_name_as_prefix()
    {
        var flat = FlattenOk("Idle -> { input -> Counter -> output } -> Discard;");
        var inner = flat.Elements.Single(e => e.ClassName == "Counter");
        Assert.Matches("^@[0-9]+@2/Counter@1$", inner.Name);
    }

    [Fact]
    public void Compound_ports_are_spliced_per_port()
    {
        var flat = FlattenOk(
            "elementclass Two { input [0] -> a :: Counter -> [0] output; input [1] -> b :: Counter -> [1] output }\n" +
            "s :: Idle; t :: Idle; x :: Discard; y :: Discard;\n" +
            "s -> [0] two :: Two [0] -> x; t -> [1] two [1] -> y;");
        Assert.Equal(
            Sorted(["s[0]->[0]two/a", "two/a[0]->[0]x", "t[0]->[0]two/b", "two/b[0]->[0]y"]),
            Sorted(Conns(flat)));
    }

    [Fact]
    public void Input_connected_straight_to_output_passes_through()
    {
        var flat = FlattenOk("elementclass P { input -> output }\nIdle -> P -> Discard;");
        Assert.Equal(["Idle@1", "Discard@3"], Names(flat));
        Assert.Equal(["Idle@1[0]->[0]Discard@3"], Conns(flat));
    }

    [Fact]
    public void Groups_are_spliced_away()
    {
        var flat = FlattenOk("a :: Idle; d :: Discard;\na -> ( -> c :: Counter -> ) -> d;");
        Assert.Equal(["a", "d", "c"], Names(flat));
        Assert.Equal(Sorted(["a[0]->[0]c", "c[0]->[0]d"]), Sorted(Conns(flat)));
    }

    [Fact]
    public void Group_with_several_ports_connects_with_many_arrow()
    {
        var flat = FlattenOk(
            "t :: Tee; x :: Discard; y :: Discard;\n" +
            "t => ( [0] -> a :: Counter -> [0]; [1] -> [1] ) => x, y;");
        Assert.Equal(Sorted(["t[0]->[0]a", "a[0]->[0]x", "t[1]->[0]y"]), Sorted(Conns(flat)));
    }

    [Fact]
    public void Element_groups_in_many_arrow_example_from_click()
    {
        var flat = FlattenOk(
            "a :: Idle;\na [0,1,2] => ( -> c :: Counter ), ( -> Paint(1) -> b :: Counter ), d :: Counter;\nc, b, d -> Discard;");
        Assert.Equal(["a", "c", "Paint@9", "b", "d", "Discard@12"], Names(flat));
        Assert.Equal(
            Sorted(["a[0]->[0]c", "a[1]->[0]Paint@9", "Paint@9[0]->[0]b", "a[2]->[0]d",
                    "c[0]->[0]Discard@12", "b[0]->[0]Discard@12", "d[0]->[0]Discard@12"]),
            Sorted(Conns(flat)));
    }

    [Fact]
    public void Duplicate_connections_are_merged()
    {
        var flat = FlattenOk("a :: Idle; b :: Discard; a -> b; a -> b;");
        Assert.Single(flat.Connections);
    }

    [Fact]
    public void Connections_are_sorted_by_destination_then_source()
    {
        var flat = FlattenOk("a :: Idle; b :: Idle; c :: Counter; d :: Discard;\nc -> d; b -> [1] c; a -> [1] c; a -> c;");
        Assert.Equal(["a[0]->[0]c", "a[0]->[1]c", "b[0]->[1]c", "c[0]->[0]d"], Conns(flat));
    }

    [Fact]
    public void Positional_and_keyword_formals_are_substituted()
    {
        var flat = FlattenOk(
            "elementclass Tagger { $tag, COLOR $c | input -> Paint($c) -> Print($tag, MAXLENGTH 16) -> output }\n" +
            "Idle -> t :: Tagger(arp, COLOR 3) -> Discard;");
        Assert.Equal("3", flat.Elements[flat.IndexOf("t/Paint@1")].Config);
        Assert.Equal("arp, MAXLENGTH 16", flat.Elements[flat.IndexOf("t/Print@2")].Config);
    }

    [Fact]
    public void Keyword_formal_may_come_first_and_missing_keyword_is_empty()
    {
        var flat = FlattenOk(
            "elementclass K { $a, COLOR $c | input -> Print(\"[$a][$c]\") -> output }\n" +
            "x :: K(COLOR 9, A); y :: K(B);");
        Assert.Equal("\"[A][9]\"", flat.Elements[flat.IndexOf("x/Print@1")].Config);
        Assert.Equal("\"[B][]\"", flat.Elements[flat.IndexOf("y/Print@1")].Config);
    }

    [Fact]
    public void Overloads_are_chosen_by_argument_count_and_extension_falls_back()
    {
        // tests/conformance/cases/lang-compound-overload
        var flat = FlattenOk(
            "elementclass Foo {\n   $a, $b | input -> Print(\"ONE $a $b\", 20) -> output\n" +
            "|| $a, __REST__ $b | input -> Print(\"TWO $a [$b]\", 20) -> output\n" +
            "|| $a, TWO $b, __REST__ $c | input -> Print(\"THREE $a $b [$c]\", 20) -> output\n}\n" +
            "src :: Idle;\nsrc -> Foo(A) -> f :: Foo(A, TWO B);\n" +
            "elementclass Foo {\n   $a, $b | input -> Print(\"FOUR $a $b\", 20) -> output\n|| ...\n}\n" +
            "f -> Foo(X, Y) -> Foo(P, Q, R, S) -> Foo(Z) -> c :: Counter -> Discard;");
        var prints = flat.Elements.Where(e => e.ClassName == "Print").Select(e => e.Config).ToList();
        Assert.Equal(
            ["\"TWO A []\", 20", "\"ONE A TWO B\", 20", "\"FOUR X Y\", 20", "\"TWO P [Q, R, S]\", 20", "\"TWO Z []\", 20"],
            prints);
    }

    [Fact]
    public void Extension_of_primitive_falls_back_to_primitive()
    {
        var flat = FlattenOk("elementclass Queue { $a, $b | input -> Counter -> output || ... }\nq :: Queue(5); r :: Queue(1, 2);");
        var q = flat.Elements[flat.IndexOf("q")];
        Assert.Equal("Queue", q.ClassName);
        Assert.Equal("5", q.Config);
        Assert.Contains("r/Counter@1", Names(flat));
    }

    [Fact]
    public void No_matching_overload_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        var flat = Flatten("elementclass F { $a | input -> output }\nx :: F(1, 2);", errh);
        var e = Assert.Single(Errors(errh));
        Assert.StartsWith("test.click:2: ", e);
        Assert.Contains("F", e);
        Assert.Empty(flat.Elements);
    }

    [Fact]
    public void Define_variables_are_substituted()
    {
        var flat = FlattenOk("define($n 5, $cap 100);\nq :: Queue($cap); p :: Paint(${n});");
        Assert.Equal("100", flat.Elements[flat.IndexOf("q")].Config);
        Assert.Equal("5", flat.Elements[flat.IndexOf("p")].Config);
    }

    [Fact]
    public void Command_line_overrides_beat_define()
    {
        var flat = FlattenOk("define($cap 100);\nq :: Queue($cap); p :: Paint($extra);",
            new Dictionary<string, string> { ["cap"] = "7", ["extra"] = "2" });
        Assert.Equal("7", flat.Elements[flat.IndexOf("q")].Config);
        Assert.Equal("2", flat.Elements[flat.IndexOf("p")].Config);
    }

    [Fact]
    public void Default_value_syntax()
    {
        var flat = FlattenOk("define($set 1);\na :: Paint(${set-9}); b :: Paint(${unset-9});");
        Assert.Equal("1", flat.Elements[flat.IndexOf("a")].Config);
        Assert.Equal("9", flat.Elements[flat.IndexOf("b")].Config);
    }

    [Fact]
    public void Variables_expand_in_double_quotes_but_not_single_quotes()
    {
        var flat = FlattenOk("define($x V);\np :: Print(\"a $x\", '$x');");
        Assert.Equal("\"a V\", '$x'", flat.Elements[0].Config);
    }

    [Fact]
    public void Unknown_variables_stay_as_written()
    {
        var flat = FlattenOk("p :: Print($nope);");
        Assert.Equal("$nope", flat.Elements[0].Config);
    }

    [Fact]
    public void Formals_shadow_top_level_variables_and_outer_variables_are_visible()
    {
        var flat = FlattenOk(
            "define($x TOP, $y OUTER);\n" +
            "elementclass C { $x | input -> Print(\"$x $y\") -> output }\n" +
            "c :: C(ARG); p :: Print($x);");
        Assert.Equal("\"ARG OUTER\"", flat.Elements[flat.IndexOf("c/Print@1")].Config);
        Assert.Equal("TOP", flat.Elements[flat.IndexOf("p")].Config);
    }

    [Fact]
    public void Compound_arguments_are_expanded_in_the_callers_scope()
    {
        var flat = FlattenOk(
            "elementclass Inner { $v | input -> Paint($v) -> output }\n" +
            "elementclass Outer { $w | input -> Inner($w) -> output }\n" +
            "define($top 4);\no :: Outer($top);");
        Assert.Equal("4", flat.Elements.Single(e => e.ClassName == "Paint").Config);
    }

    [Fact]
    public void Rest_formal_collects_remaining_arguments()
    {
        var flat = FlattenOk("elementclass R { $a, __REST__ $r | input -> Print(\"$a|$r\") -> output }\nx :: R(1, 2, 3);");
        Assert.Equal("\"1|2, 3\"", flat.Elements[0].Config);
    }

    [Fact]
    public void Requirements_are_carried_through()
    {
        var flat = FlattenOk("require(userlevel); Idle -> Discard;");
        Assert.Equal(["userlevel"], flat.Requirements);
    }

    [Fact]
    public void Undeclared_and_unknown_elements_are_dropped_after_errors()
    {
        var errh = new CollectingErrorHandler();
        var flat = Flatten("a :: Idle; x :: Frob; a -> x -> y -> Discard;", errh);
        Assert.Equal(2, errh.ErrorCount);
        Assert.Equal(["Idle", "Discard"], flat.Elements.Select(e => e.ClassName));
        Assert.Empty(flat.Connections);
    }
}
