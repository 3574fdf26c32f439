namespace ClickOS.Cli.Tests;

/// <summary>The clickos run command line: options, handler output formats, exit values.</summary>
public sealed class DriverTests
{
    private static ClickRunner.Result Run(params string[] args) => ClickRunner.Run(["run", .. args], Path.GetTempPath());

    [Fact]
    public void SingleHandlerPrintsJustTheValue()
    {
        var r = Run("-e", "InfiniteSource(LIMIT 7, STOP true) -> c :: Counter -> Discard", "-h", "c.count");
        Assert.Equal(0, r.Exit);
        Assert.Equal("7\n", r.Stdout);
    }

    [Fact]
    public void SeveralHandlersPrintNamesAndBlankLines()
    {
        var r = Run("-e", "InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Discard", "-h", "c.count", "-h", "c.byte_count", "-h", "c.config");
        Assert.Equal("c.count:\n3\n\nc.byte_count:\n207\n\nc.config:\n\n", r.Stdout);
    }

    [Fact]
    public void MissingHandlerSetsExitStatus()
    {
        var r = Run("-e", "InfiniteSource(LIMIT 1, STOP true) -> c :: Counter -> Discard", "-h", "c.nosuch");
        Assert.Equal(1, r.Exit);
        Assert.Equal("no 'c.nosuch' handler\n", r.Stderr);
    }

    [Fact]
    public void ClassNameHandlerReadsEveryElementOfThatClass()
    {
        var r = Run("-e", "InfiniteSource(LIMIT 2, STOP true) -> a :: Counter -> b :: Counter -> Discard", "-h", "Counter.count");
        Assert.Equal("a.count:\n2\n\nb.count:\n2\n\n", r.Stdout);
    }

    [Fact]
    public void QuitFlattensWithoutRunning()
    {
        var r = Run("-qo-", "-e", "elementclass P { input -> Paint(1) -> output }\nIdle -> p :: P -> Discard;");
        Assert.Equal(0, r.Exit);
        Assert.Equal("Idle@1 :: Idle;\nDiscard@3 :: Discard;\np/Paint@1 :: Paint(1);\n\nIdle@1 -> p/Paint@1\n    -> Discard@3;\n", r.Stdout);
    }

    [Fact]
    public void DefinitionsOnTheCommandLineOverrideDefine()
    {
        var r = Run("-e", "define($N 2); InfiniteSource(LIMIT $N, STOP true) -> c :: Counter -> Discard", "-h", "c.count", "N=5");
        Assert.Equal("5\n", r.Stdout);
    }

    [Fact]
    public void ExitHandlerSetsStatus()
    {
        var r = Run("-e", "InfiniteSource(LIMIT 3, STOP true) -> c :: Counter -> Discard", "-x", "c.count");
        Assert.Equal(3, r.Exit);
    }

    [Fact]
    public void TimeOptionPrintsClickTimingLine()
    {
        var r = Run("-t", "-e", "InfiniteSource(LIMIT 1, STOP true) -> Discard");
        Assert.Matches(@"^\d+\.\d{3}u \d+\.\d{3}s \d+:\d\d\.\d\d\n$", r.Stdout);
    }

    [Fact]
    public void VersionAndHelp()
    {
        Assert.StartsWith("click (Click) 2.1", Run("--version").Stdout);
        var help = Run("--help");
        Assert.Equal(0, help.Exit);
        Assert.Contains("-h, --handler ELEMENT.H", help.Stdout);
    }

    [Fact]
    public void NoArgumentsPrintsUsage()
    {
        var r = ClickRunner.Run([], Path.GetTempPath());
        Assert.Equal(1, r.Exit);
        Assert.StartsWith("Usage: clickos COMMAND", r.Stderr);
    }

    [Fact]
    public void ConfigFromStandardInput()
    {
        var r = ClickRunner.Run(["run", "-h", "c.count"], Path.GetTempPath(), stdin: "InfiniteSource(LIMIT 4, STOP true) -> c :: Counter -> Discard;");
        Assert.Equal("4\n", r.Stdout);
    }

    [Fact]
    public void SimulatedTimeJumpsToTimers()
    {
        // A 10-minute wait finishes at once in simulated time.
        var r = Run("--simtime", "-e", "DriverManager(wait 600s, print \"done\", stop)");
        Assert.Equal(0, r.Exit);
        Assert.Equal("done\n", r.Stdout);
    }
}
