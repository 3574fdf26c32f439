using static ClickOS.Language.Tests.TestUtil;

namespace ClickOS.Language.Tests;

public class UnparserTests
{
    private static string Unparse(string config, Func<string, bool>? isPrimitive = null) =>
        Unparser.Unparse(FlattenOk(config, isPrimitive: isPrimitive));

    [Fact]
    public void Matches_click_output_for_lang_flatten_anon()
    {
        // tests/conformance/cases/lang-flatten-anon: config.click and expected/stdout of click -qo-.
        const string config =
            "a :: Idle;\n" +
            "a [0,1,2] => ( -> c :: Counter ), ( -> Paint(1) -> b :: Counter ), d :: Counter;\n" +
            "c, b, d -> q :: { input -> x :: Queue(5) -> output } -> u :: Unqueue -> Discard;\n";
        const string expected =
            "a :: Idle;\n" +
            "c :: Counter;\n" +
            "Paint@9 :: Paint(1);\n" +
            "b :: Counter;\n" +
            "d :: Counter;\n" +
            "u :: Unqueue;\n" +
            "Discard@14 :: Discard;\n" +
            "q/x :: Queue(5);\n" +
            "\n" +
            "a -> c\n" +
            "    -> q/x\n" +
            "    -> u\n" +
            "    -> Discard@14;\n" +
            "a [1] -> Paint@9\n" +
            "    -> b\n" +
            "    -> q/x;\n" +
            "a [2] -> d\n" +
            "    -> q/x;\n";
        Assert.Equal(expected, Unparse(config, n => n == "Unqueue" || IsPrimitive(n)));
    }

    [Fact]
    public void Simple_chain()
    {
        Assert.Equal(
            "Idle@1 :: Idle;\nc :: Counter;\nDiscard@3 :: Discard;\n\nIdle@1 -> c\n    -> Discard@3;\n",
            Unparse("Idle -> c :: Counter -> Discard;"));
    }

    [Fact]
    public void Elements_without_connections_have_no_blank_line()
    {
        Assert.Equal("a :: Idle;\nq :: Queue(10, 20);\n", Unparse("a :: Idle; q :: Queue(10, 20);"));
    }

    [Fact]
    public void Input_ports_are_printed_before_the_target()
    {
        Assert.Equal(
            "t :: Tee;\nc :: Counter;\n\nt [1] -> [2] c;\n",
            Unparse("t :: Tee; c :: Counter; t[1] -> [2]c;"));
    }

    [Fact]
    public void Each_output_port_starts_its_own_line()
    {
        Assert.Equal(
            "t :: Tee;\na :: Counter;\nb :: Counter;\n\nt -> a;\nt [1] -> b;\n",
            Unparse("t :: Tee; a :: Counter; b :: Counter; t -> a; t [1] -> b;"));
    }
}
