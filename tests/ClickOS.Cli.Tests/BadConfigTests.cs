namespace ClickOS.Cli.Tests;

/// <summary>Malformed configurations: each must fail with exit status 1 and exactly Click's messages, no stack trace.</summary>
public sealed class BadConfigTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "src :: Idle;\nsrc -> c :: Counter -> nosuch;\nnosuch2 -> Discard;", "<expr>:2: undeclared element 'nosuch'\n<expr>:3: undeclared element 'nosuch2'\n" },
        { "x :: Frobnicate(1, 2);\nIdle -> x;", "<expr>:1: unknown element class 'Frobnicate'\n" },
        { "c :: Counter;\nc :: Counter;", "<expr>:2: redeclaration of element 'c'\n<expr>:1: element 'c' previously declared here\n" },
        { "Counter :: Counter;", "<expr>:1: class 'Counter' used as element name\n" },
        { "a :: Counter -> b :: Counter", "<expr>:1: 'a :: Counter' input 0 unused\n<expr>:1: 'b :: Counter' output 0 unused\nRouter could not be initialized!\n" },
        { "Idle -> [1]Discard", "<expr>:1: 'Discard@2 :: Discard' has no input 1\nRouter could not be initialized!\n" },
        { "cl :: Classifier(12/0800, -);\nIdle -> cl;\ncl[1] -> Discard;", "<expr>:1: 'cl :: Classifier' output 0 unused\nRouter could not be initialized!\n" },
        { "q :: Queue -> t :: Tee -> Discard;\nIdle -> q;", "'q :: Queue' pull output 0 connected to 't :: Tee' push input 0\nRouter could not be initialized!\n" },
        { "Idle -> Tee -> Discard; t :: Tee; Idle -> t; t -> Discard; t -> Discard", "<expr>:1: illegal reuse of 't :: Tee' push output 0\nRouter could not be initialized!\n" },
        { "Idle -> Counter(5) -> Discard", "<expr>:1: While configuring 'Counter@2 :: Counter':\n  too many arguments\nRouter could not be initialized!\n" },
        { "InfiniteSource(LIMIT x) -> Discard", "<expr>:1: While configuring 'InfiniteSource@1 :: InfiniteSource':\n  LIMIT: parse error\nRouter could not be initialized!\n" },
        { "Idle -> Paint() -> Discard", "<expr>:1: While configuring 'Paint@2 :: Paint':\n  COLOR: required argument missing\nRouter could not be initialized!\n" },
        { "Idle -> Queue(CAPACITY 5, BOGUS 3) -> Discard", "<expr>:1: While configuring 'Queue@2 :: Queue':\n  BOGUS: unknown argument\nRouter could not be initialized!\n" },
        { "Idle -> ->", "<expr>:1: syntax error near '->'\n" },
        { "x :: Idle( -> Discard", "<expr>:1: expected ')'\n" },
        { "require(package foo);\nIdle -> Discard;", "requirement 'foo' not available\n" },
        { "a :: Idle; a [0,1] => b :: Discard, c :: Discard, d :: Discard", "<expr>:1: connection mismatch: 2 outputs connected to 3 inputs\n" },
        { "Idle -> Classifier(12/08x0) -> Discard", "<expr>:1: While configuring 'Classifier@2 :: Classifier':\n  pattern 0: bad value '08x0' (expected an even number of hex digits)\nRouter could not be initialized!\n" },
        { "elementclass F { $a | input -> Paint($a) -> output }\nIdle -> F(1, 2) -> Discard;", "<expr>:2: no match for 'F(1, 2)'\n" },
        {
            "// two errors in two elements are both reported\nIdle -> Counter(1) -> Paint(300) -> Discard",
            "<expr>:2: While configuring 'Counter@2 :: Counter':\n  too many arguments\n<expr>:2: While configuring 'Paint@3 :: Paint':\n  COLOR: parse error\nRouter could not be initialized!\n"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadConfigFailsWithClickMessages(string config, string expectedStderr)
    {
        var r = ClickRunner.Run(["run", "-e", config], Path.GetTempPath());
        Assert.Equal(1, r.Exit);
        Assert.Equal(expectedStderr, r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void MissingFileIsReported()
    {
        var r = ClickRunner.Run(["run", "no-such-file.click"], Path.GetTempPath());
        Assert.Equal(1, r.Exit);
        Assert.Equal("no-such-file.click: No such file or directory\n", r.Stderr);
    }

    [Fact]
    public void ErrorsInFileCarryFileAndLine()
    {
        string dir = ClickRunner.TempDir("badfile");
        try
        {
            File.WriteAllText(Path.Combine(dir, "bad.click"), "// comment\n\nIdle -> nosuch;\n");
            var r = ClickRunner.Run(["run", "bad.click"], dir);
            Assert.Equal(1, r.Exit);
            Assert.Equal("bad.click:3: undeclared element 'nosuch'\n", r.Stderr);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void UnknownOptionPrintsUsage()
    {
        var r = ClickRunner.Run(["run", "--bogus"], Path.GetTempPath());
        Assert.Equal(1, r.Exit);
        Assert.StartsWith("clickos: unrecognized option '--bogus'\nUsage: clickos run", r.Stderr);
    }
}
