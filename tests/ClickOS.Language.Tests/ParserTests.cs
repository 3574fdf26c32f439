using ClickOS.Core;
using static ClickOS.Language.Tests.TestUtil;

namespace ClickOS.Language.Tests;

public class ParserDeclarationTests
{
    [Fact]
    public void Declaration_records_class_config_and_landmark()
    {
        var p = ParseOk("\n q :: Queue(10, /* c */ 20);", "cfg.click");
        var d = Decl(p.Top, "q");
        Assert.IsType<PrimitiveClass>(d.Class);
        Assert.Equal("Queue", d.Class!.Name);
        Assert.Equal("10, /* c */ 20", d.Config);
        Assert.Equal("cfg.click:2", d.Landmark);
        Assert.Equal(DeclKind.Element, d.Kind);
        Assert.Equal("cfg.click", p.File);
    }

    [Fact]
    public void Declaration_without_config_has_empty_config()
    {
        var p = ParseOk("c :: Counter;");
        Assert.Equal("", Decl(p.Top, "c").Config);
    }

    [Fact]
    public void Multiple_names_share_class_and_config_in_source_order()
    {
        var p = ParseOk("a, b, c :: Queue(5);");
        Assert.Equal(["a", "b", "c"], ElementNames(p.Top));
        foreach (var n in new[] { "a", "b", "c" })
        {
            Assert.Equal("Queue", Decl(p.Top, n).Class!.Name);
            Assert.Equal("5", Decl(p.Top, n).Config);
        }
    }

    [Fact]
    public void Multiple_name_declaration_after_other_elements_keeps_references()
    {
        var p = ParseOk("x :: Idle; a, b :: Counter; y :: Discard; x -> a -> y; x -> b -> y;");
        Assert.Equal(["x", "a", "b", "y"], ElementNames(p.Top));
        Assert.Equal(["x[0]->[0]a", "a[0]->[0]y", "x[0]->[0]b", "b[0]->[0]y"], Conns(p.Top));
        Assert.Equal(2, p.Top.Names["b"]);
    }

    [Fact]
    public void Inline_declarations_in_a_connection()
    {
        var p = ParseOk("Idle -> c :: Counter -> d :: Discard;");
        Assert.Equal(["Idle@1", "c", "d"], ElementNames(p.Top));
        Assert.Equal(["Idle@1[0]->[0]c", "c[0]->[0]d"], Conns(p.Top));
    }

    [Fact]
    public void Anonymous_elements_are_numbered_by_position_in_scope()
    {
        var p = ParseOk("Idle -> Discard;\nx :: Counter;\nIdle -> Paint(3) -> Discard;");
        Assert.Equal(["Idle@1", "Discard@2", "x", "Idle@4", "Paint@5", "Discard@6"], ElementNames(p.Top));
        Assert.Equal("3", p.Top.Decls[4].Config);
        Assert.False(p.Top.Names.ContainsKey("Paint@5")); // anonymous names cannot be referred to
    }

    [Fact]
    public void Anonymous_numbering_inside_compound_skips_input_and_output()
    {
        var p = ParseOk("elementclass A { input -> Counter -> Paint(1) -> output } a :: A;");
        var cls = Assert.IsType<CompoundClass>(Decl(p.Top, "a").Class);
        var body = Assert.Single(cls.Overloads).Body;
        Assert.Equal(["input", "output", "Counter@1", "Paint@2"], body.Decls.Select(d => d.Name));
        Assert.Equal([DeclKind.Input, DeclKind.Output], body.Decls.Take(2).Select(d => d.Kind));
        Assert.True(body.IsCompound);
        Assert.Single(p.Top.Decls);
    }

    [Fact]
    public void Anonymous_numbering_counts_group_pseudo_elements()
    {
        // Same numbering as Click for tests/conformance/cases/lang-flatten-anon.
        var p = ParseOk("a :: Idle;\na [0,1,2] => ( -> c :: Counter ), ( -> Paint(1) -> b :: Counter ), d :: Counter;\n" +
                        "c, b, d -> Discard;");
        Assert.Contains("Paint@9", ElementNames(p.Top));
        Assert.Contains("Discard@12", ElementNames(p.Top));
    }

    [Fact]
    public void Bare_class_name_makes_anonymous_element()
    {
        var p = ParseOk("Idle;");
        var d = Assert.Single(p.Top.Decls);
        Assert.Equal("Idle@1", d.Name);
        Assert.Equal("Idle", d.Class!.Name);
    }

    [Fact]
    public void Anonymous_compound_element_gets_anonymous_class()
    {
        var p = ParseOk("Idle -> { input -> Counter -> output } -> Discard;");
        var d = p.Top.Decls[1];
        var cls = Assert.IsType<CompoundClass>(d.Class);
        Assert.StartsWith("@", cls.Name);
        Assert.Equal($"{cls.Name}@2", d.Name);
    }

    [Fact]
    public void Compound_class_in_declaration()
    {
        var p = ParseOk("q :: { input -> Queue -> output }(7);");
        var d = Decl(p.Top, "q");
        Assert.IsType<CompoundClass>(d.Class);
        Assert.Equal("7", d.Config);
    }
}

public class ParserConnectionTests
{
    [Fact]
    public void Ports_on_both_sides()
    {
        var p = ParseOk("a :: Tee; b :: Counter; a [1] -> [2] b; a[3]->[0]b;");
        Assert.Equal(["a[1]->[2]b", "a[3]->[0]b"], Conns(p.Top));
    }

    [Fact]
    public void Connection_landmark_is_arrow_line()
    {
        var p = ParseOk("a :: Idle;\nb :: Discard;\na\n->\nb;", "l.click");
        Assert.Equal("l.click:4", Assert.Single(p.Top.Conns).Landmark);
    }

    [Fact]
    public void Arrow_one_to_many()
    {
        var p = ParseOk("t :: Tee; a :: Discard; b :: Discard; t -> a, b;");
        Assert.Equal(["t[0]->[0]a", "t[0]->[0]b"], Conns(p.Top));
    }

    [Fact]
    public void Arrow_many_to_one()
    {
        var p = ParseOk("a :: Idle; b :: Idle; c :: Counter; a, [1] b -> c;");
        // "[1] b" on the left is an input port of b, not an output port; b's output 0 is used.
        Assert.Equal(["a[0]->[0]c", "b[0]->[0]c"], Conns(p.Top));
    }

    [Fact]
    public void Arrow_many_to_one_with_output_ports()
    {
        var p = ParseOk("a :: Tee; b :: Tee; c :: Counter; a [1], b [2] -> c;");
        Assert.Equal(["a[1]->[0]c", "b[2]->[0]c"], Conns(p.Top));
    }

    [Fact]
    public void Arrow_many_to_many_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Idle; b :: Idle; c :: Counter; d :: Counter;\na, b -> c, d;", errh);
        Assert.Equal(["test.click:2: syntax error: many-to-many connections require '=>'"], Errors(errh));
    }

    [Fact]
    public void Chain_of_connections()
    {
        var p = ParseOk("a :: Idle; b :: Counter; c :: Counter; d :: Discard; a -> b -> [1] c [2] -> d;");
        Assert.Equal(["a[0]->[0]b", "b[0]->[1]c", "c[2]->[0]d"], Conns(p.Top));
    }

    [Fact]
    public void Many_arrow_pairs_port_list_with_elements()
    {
        var p = ParseOk("cl :: Classifier; x :: Counter; y :: Counter; z :: Counter; cl [0-1, 3] => x, y, z;");
        Assert.Equal(["cl[0]->[0]x", "cl[1]->[0]y", "cl[3]->[0]z"], Conns(p.Top));
    }

    [Fact]
    public void Many_arrow_expands_a_single_element_without_ports()
    {
        var p = ParseOk("cl :: Classifier; x :: Counter; y :: Counter; cl => x, y;");
        Assert.Equal(["cl[0]->[0]x", "cl[1]->[0]y"], Conns(p.Top));
        var p2 = ParseOk("a :: Idle; b :: Idle; c :: Counter; a, b => c;");
        Assert.Equal(["a[0]->[0]c", "b[0]->[1]c"], Conns(p2.Top));
    }

    [Fact]
    public void Many_arrow_port_lists_on_both_sides()
    {
        var p = ParseOk("a :: Tee; b :: Counter; a [0-2] => [4, 1, 0] b;");
        Assert.Equal(["a[0]->[4]b", "a[1]->[1]b", "a[2]->[0]b"], Conns(p.Top));
    }

    [Fact]
    public void Many_arrow_count_mismatch_is_reported()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Tee; x :: Counter; y :: Counter; z :: Counter;\na [0, 1] => x, y, z;", errh);
        Assert.Equal(["test.click:2: connection mismatch: 2 outputs connected to 3 inputs"], Errors(errh));
    }

    [Fact]
    public void Group_with_implicit_input_and_output()
    {
        var p = ParseOk("a :: Idle; d :: Discard; a -> ( -> c :: Counter -> ) -> d;");
        var gin = p.Top.Decls.FindIndex(x => x.Kind == DeclKind.Input);
        var gout = p.Top.Decls.FindIndex(x => x.Kind == DeclKind.Output);
        Assert.True(gin > 0 && gout > gin);
        Assert.Contains(p.Top.Decls, x => x.Kind == DeclKind.Group);
        var c = p.Top.Names["c"];
        var conns = p.Top.Conns.Select(x => (x.From, x.FromPort, x.To, x.ToPort)).ToList();
        Assert.Contains((p.Top.Names["a"], 0, gin, 0), conns);
        Assert.Contains((gin, 0, c, 0), conns);
        Assert.Contains((c, 0, gout, 0), conns);
        Assert.Contains((gout, 0, p.Top.Names["d"], 0), conns);
    }

    [Fact]
    public void Group_declarations_belong_to_the_enclosing_scope()
    {
        var p = ParseOk("( x :: Counter; y :: Counter ) ; x -> y;");
        Assert.Equal(["x", "y"], ElementNames(p.Top));
        Assert.Contains("x[0]->[0]y", Conns(p.Top));
    }

    [Fact]
    public void Implicit_input_outside_compound_or_group_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("-> c :: Counter;", errh);
        Assert.Equal(["test.click:1: syntax error near '->'"], Errors(errh));
    }

    [Fact]
    public void Semicolons_are_optional_between_statements()
    {
        var p = ParseOk("a :: Idle b :: Discard a -> b");
        Assert.Equal(["a[0]->[0]b"], Conns(p.Top));
    }
}

public class ParserClassTests
{
    private static Overload SingleOverload(ParsedConfig p, string elem) =>
        Assert.Single(Assert.IsType<CompoundClass>(Decl(p.Top, elem).Class).Overloads);

    [Fact]
    public void Formals_positional_keyword_and_rest()
    {
        var p = ParseOk("elementclass F { $a, KEY $k, __REST__ $r | input -> output } f :: F;");
        var ov = SingleOverload(p, "f");
        Assert.Equal(
            [new Formal("a", null, false), new Formal("k", "KEY", false), new Formal("r", null, true)],
            ov.Formals);
    }

    [Fact]
    public void Empty_formal_list_with_bar()
    {
        var p = ParseOk("elementclass F { | input -> output } f :: F;");
        Assert.Empty(SingleOverload(p, "f").Formals);
    }

    [Fact]
    public void Compound_body_records_elements_and_connections()
    {
        var p = ParseOk("elementclass F { input -> x :: Counter -> [1] output; x [1] -> Discard } f :: F;");
        var body = SingleOverload(p, "f").Body;
        Assert.Equal(["input[0]->[0]x", "x[0]->[1]output", "x[1]->[0]Discard@2"], Conns(body));
        Assert.Equal(0, body.Names["input"]);
        Assert.Equal(1, body.Names["output"]);
    }

    [Fact]
    public void Overloads_are_kept_in_order()
    {
        var p = ParseOk("elementclass F { $a | input -> output || $a, $b | input -> Counter -> output || input -> output } f :: F;");
        var cls = Assert.IsType<CompoundClass>(Decl(p.Top, "f").Class);
        Assert.Equal([1, 2, 0], cls.Overloads.Select(o => o.Formals.Count));
        Assert.Null(cls.Fallback);
    }

    [Fact]
    public void Ellipsis_extends_the_previous_definition()
    {
        var p = ParseOk("elementclass F { $a | input -> output }\nelementclass F { $a, $b | input -> output || ... }\nf :: F;");
        var cls = Assert.IsType<CompoundClass>(Decl(p.Top, "f").Class);
        var fallback = Assert.IsType<CompoundClass>(cls.Fallback);
        Assert.Equal("a", Assert.Single(Assert.Single(fallback.Overloads).Formals).Variable);
    }

    [Fact]
    public void Ellipsis_can_extend_a_primitive()
    {
        var p = ParseOk("elementclass Counter { $a, $b | input -> output || ... } c :: Counter;");
        var cls = Assert.IsType<CompoundClass>(Decl(p.Top, "c").Class);
        Assert.Equal("Counter", Assert.IsType<PrimitiveClass>(cls.Fallback).Name);
    }

    [Fact]
    public void Ellipsis_without_previous_class_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("elementclass Nope { $a | input -> output || ... }", errh);
        Assert.Equal(["test.click:1: '...' extends nonexistent class 'Nope'"], Errors(errh));
    }

    [Fact]
    public void Synonym_refers_to_the_target_class()
    {
        var p = ParseOk("elementclass MyCounter Counter; x :: MyCounter;");
        Assert.Equal("Counter", Assert.IsType<PrimitiveClass>(Decl(p.Top, "x").Class).Name);
    }

    [Fact]
    public void Synonym_of_unknown_class_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("elementclass A Frob;", errh);
        Assert.Equal(["test.click:1: unknown element class 'Frob'"], Errors(errh));
    }

    [Fact]
    public void Classes_resolve_lexically_so_redefinition_does_not_change_earlier_uses()
    {
        var p = ParseOk("elementclass F { input -> Counter -> output }\na :: F;\n" +
                        "elementclass F { input -> Paint(1) -> output }\nb :: F;");
        var ca = Assert.IsType<CompoundClass>(Decl(p.Top, "a").Class);
        var cb = Assert.IsType<CompoundClass>(Decl(p.Top, "b").Class);
        Assert.NotSame(ca, cb);
        Assert.Equal("Counter@1", ca.Overloads[0].Body.Decls[2].Name);
        Assert.Equal("Paint@1", cb.Overloads[0].Body.Decls[2].Name);
    }

    [Fact]
    public void Classes_defined_in_a_compound_are_local_to_it()
    {
        var errh = new CollectingErrorHandler();
        Parse("elementclass Outer { elementclass Inner Counter; input -> Inner -> output }\nx :: Outer;\ny :: Inner;", errh);
        Assert.Equal(["test.click:3: unknown element class 'Inner'"], Errors(errh));
    }

    [Fact]
    public void Define_adds_top_level_variables()
    {
        var p = ParseOk("define($x 5, $name \"a b\");");
        Assert.Equal([("x", "5"), ("name", "\"a b\"")], p.Top.Defines);
    }

    [Fact]
    public void Define_without_variable_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("define(x 5);", errh);
        Assert.Single(Errors(errh));
        Assert.StartsWith("test.click:1: bad define", Errors(errh)[0]);
    }

    [Fact]
    public void Require_known_feature_is_recorded()
    {
        var p = ParseOk("require(userlevel);");
        Assert.Equal(["userlevel"], p.Requirements);
    }

    [Fact]
    public void Require_package_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("require(package foo);", errh);
        Assert.Equal(["requirement 'foo' not available"], Errors(errh));
    }

    [Fact]
    public void Require_library_parses_file_through_callback()
    {
        var requested = new List<string>();
        string? Read(string path)
        {
            requested.Add(path);
            return path == "conf/lib.click" ? "elementclass Wrap { input -> Counter -> output }" : null;
        }
        var p = ParseOk("require(library lib.click);\nw :: Wrap;", "conf/main.click", Read);
        Assert.Equal(["conf/lib.click"], requested);
        Assert.IsType<CompoundClass>(Decl(p.Top, "w").Class);
        Assert.Contains("library lib.click", p.Requirements);
    }

    [Fact]
    public void Require_library_resolves_nested_libraries_relative_to_including_file()
    {
        var files = new Dictionary<string, string>
        {
            ["top/sub/a.click"] = "require(library b.click); elementclass A { input -> B -> output }",
            ["top/sub/b.click"] = "elementclass B { input -> Counter -> output }",
        };
        var p = ParseOk("require(library sub/a.click); x :: A;", "top/main.click", f => files.GetValueOrDefault(f));
        Assert.IsType<CompoundClass>(Decl(p.Top, "x").Class);
    }

    [Fact]
    public void Errors_in_a_library_carry_the_library_path()
    {
        var errh = new CollectingErrorHandler();
        Parse("require(library lib.click);", errh, "conf/main.click",
            f => f == "conf/lib.click" ? "\nx :: Nope;" : null);
        Assert.Equal(["conf/lib.click:2: unknown element class 'Nope'"], Errors(errh));
    }

    [Fact]
    public void Require_missing_library_is_an_error()
    {
        var errh = new CollectingErrorHandler();
        Parse("\nrequire(library nope.click);", errh);
        var e = Assert.Single(Errors(errh));
        Assert.StartsWith("test.click:2: ", e);
        Assert.Contains("nope.click", e);
    }
}

public class ParserErrorTests
{
    [Fact]
    public void Unknown_class_with_landmark()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Idle;\nx :: Frobnicate(1, 2);", errh);
        Assert.Equal(["test.click:2: unknown element class 'Frobnicate'"], Errors(errh));
    }

    [Fact]
    public void Undeclared_elements_are_all_reported()
    {
        var errh = new CollectingErrorHandler();
        Parse("// two undeclared names\nsrc :: Idle;\nsrc -> c :: Counter -> nosuch;\nnosuch2 -> Discard;", errh);
        Assert.Equal(["test.click:3: undeclared element 'nosuch'", "test.click:4: undeclared element 'nosuch2'"], Errors(errh));
    }

    [Fact]
    public void Undeclared_element_is_reported_once()
    {
        var errh = new CollectingErrorHandler();
        Parse("x -> Discard;\nx -> Discard;", errh);
        Assert.Equal(["test.click:1: undeclared element 'x'"], Errors(errh));
    }

    [Fact]
    public void Redeclaration_reports_both_landmarks()
    {
        var errh = new CollectingErrorHandler();
        Parse("src :: Idle;\nx :: Frobnicate(1, 2);\nsrc -> x -> c :: Counter -> Discard;\nc :: Counter;", errh);
        Assert.Equal([
            "test.click:2: unknown element class 'Frobnicate'",
            "test.click:4: redeclaration of element 'c'",
            "test.click:3: element 'c' previously declared here",
        ], Errors(errh));
    }

    [Fact]
    public void Class_name_used_as_element_name()
    {
        var errh = new CollectingErrorHandler();
        Parse("Counter :: Queue;", errh);
        Assert.Equal(["test.click:1: class 'Counter' used as element name"], Errors(errh));
    }

    [Fact]
    public void Errors_in_different_statements_are_all_reported()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Nope1;\nb :: Idle; b -> ;\nc :: Nope2;\n}\nd :: Nope3;", errh);
        var errors = Errors(errh);
        Assert.Contains("test.click:1: unknown element class 'Nope1'", errors);
        Assert.Contains("test.click:3: unknown element class 'Nope2'", errors);
        Assert.Contains("test.click:4: syntax error near '}'", errors);
        Assert.Contains("test.click:5: unknown element class 'Nope3'", errors);
        Assert.True(errors.Length >= 5, string.Join("\n", errors));
    }

    [Fact]
    public void Bad_port_number_is_reported()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Idle; b :: Discard;\na [x] -> b;", errh);
        Assert.Equal(["test.click:2: bad port number 'x'"], Errors(errh));
    }

    [Fact]
    public void Unterminated_elementclass_is_reported()
    {
        var errh = new CollectingErrorHandler();
        Parse("elementclass F { input -> output", errh);
        Assert.Equal(["test.click:1: unterminated elementclass"], Errors(errh));
    }

    [Fact]
    public void Lexer_errors_are_reported_through_the_handler()
    {
        var errh = new CollectingErrorHandler();
        Parse("a :: Idle;\n/* open", errh);
        Assert.Equal(["test.click:2: unterminated comment"], Errors(errh));
    }
}
