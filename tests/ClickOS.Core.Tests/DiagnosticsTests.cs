namespace ClickOS.Core.Tests;

public sealed class ErrorHandlerTests
{
    [Fact]
    public void Format_PrefixesEveryLineWithTheLandmark()
    {
        Assert.Equal("f.click:3: a\nf.click:3: b", ErrorHandler.Format("f.click:3", "a\nb"));
        Assert.Equal("plain", ErrorHandler.Format(null, "plain"));
        Assert.Equal("plain", ErrorHandler.Format("", "plain"));
    }

    [Fact]
    public void TextErrorHandler_WritesLandmarkAndNewline()
    {
        var w = new StringWriter();
        var errh = new TextErrorHandler(w);
        errh.Error("conf.click:7", "undeclared element 'x'");
        errh.Warning("no landmark");
        Assert.Equal("conf.click:7: undeclared element 'x'\nno landmark\n", w.ToString());
    }

    [Fact]
    public void TextErrorHandler_MultiLineMessage_RepeatsTheLandmark()
    {
        var w = new StringWriter();
        var errh = new TextErrorHandler(w);
        errh.Error("<expr>:2", "first line\nsecond line");
        Assert.Equal("<expr>:2: first line\n<expr>:2: second line\n", w.ToString());
        Assert.Equal(1, errh.ErrorCount);
    }

    [Fact]
    public void Report_CountsBySeverity_AndAlwaysReturnsFalse()
    {
        var errh = new CollectingErrorHandler();
        Assert.False(errh.Error("e1"));
        Assert.False(errh.Error("lm", "e2"));
        Assert.False(errh.Warning("w1"));
        Assert.False(errh.Message("m1"));
        Assert.False(errh.Message("lm", "m2"));
        Assert.Equal(2, errh.ErrorCount);
        Assert.Equal(1, errh.WarningCount);
        Assert.Equal(5, errh.Messages.Count);
    }

    [Fact]
    public void CollectingErrorHandler_KeepsFormattedMessagesWithSeverity()
    {
        var errh = new CollectingErrorHandler();
        errh.Warning("a:1", "careful");
        errh.Error("broken\nbadly");
        Assert.Equal((Severity.Warning, "a:1: careful"), errh.Messages[0]);
        Assert.Equal((Severity.Error, "broken\nbadly"), errh.Messages[1]);
        Assert.Equal("a:1: careful\nbroken\nbadly", errh.Text);
    }

    [Fact]
    public void ContextErrorHandler_PrintsContextOnce_ThenIndents()
    {
        var parent = new CollectingErrorHandler();
        var ctx = new ContextErrorHandler(parent, "<expr>:1", "While configuring 'c :: Counter':");
        Assert.Empty(parent.Messages); // nothing until the first message
        ctx.Error("too many arguments");
        ctx.Warning("second");
        Assert.Equal("<expr>:1: While configuring 'c :: Counter':\n  too many arguments\n  second", parent.Text);
        Assert.Equal(Severity.Message, parent.Messages[0].Severity);
        Assert.Equal(1, parent.ErrorCount);
        Assert.Equal(1, parent.WarningCount);
        Assert.Equal(1, ctx.ErrorCount);
        Assert.Equal(1, ctx.WarningCount);
    }

    [Fact]
    public void ContextErrorHandler_MultiLineMessage_IndentsEachLine_CountsOnce()
    {
        var parent = new CollectingErrorHandler();
        var ctx = new ContextErrorHandler(parent, null, "In x:");
        ctx.Error("line one\nline two");
        Assert.Equal("In x:\n  line one\n  line two", parent.Text);
        Assert.Equal(1, parent.ErrorCount);
    }

    [Fact]
    public void ContextErrorHandler_ShowsOnlyADifferentLandmark()
    {
        var parent = new CollectingErrorHandler();
        var ctx = new ContextErrorHandler(parent, "f:1", "ctx");
        ctx.Error("f:1", "same");
        ctx.Error("g:9", "other");
        Assert.Equal("f:1: ctx\n  same\n  g:9: other", parent.Text);
    }

    [Fact]
    public void ContextErrorHandler_CustomIndent_AndNesting()
    {
        var w = new StringWriter();
        var root = new TextErrorHandler(w);
        var outer = new ContextErrorHandler(root, null, "outer:");
        var inner = new ContextErrorHandler(outer, null, "inner:", indent: "    ");
        inner.Error("deep");
        Assert.Equal("outer:\n  inner:\n      deep\n", w.ToString());
        Assert.Equal(1, root.ErrorCount);
    }
}

public sealed class HandlerTests
{
    [Fact]
    public void CallRead_OnWriteOnlyHandler_ReportsAnError()
    {
        var h = new Handler("reset", null, (_, _) => true, HandlerFlags.Button);
        var errh = new CollectingErrorHandler();
        Assert.False(h.CanRead);
        Assert.True(h.CanWrite);
        Assert.Null(h.CallRead("", errh));
        Assert.Equal(1, errh.ErrorCount);
        Assert.Equal("'reset' is not a read handler", errh.Text);
    }

    [Fact]
    public void CallWrite_OnReadOnlyHandler_ReportsAnError()
    {
        var h = new Handler("count", (_, _) => "5", null, HandlerFlags.None);
        var errh = new CollectingErrorHandler();
        Assert.False(h.CanWrite);
        Assert.False(h.CallWrite("1", errh));
        Assert.Equal(1, errh.ErrorCount);
        Assert.Equal("'count' is not a write handler", errh.Text);
    }

    [Fact]
    public void CallReadAndWrite_PassArgumentsThrough()
    {
        string? written = null;
        var h = new Handler("x", (param, _) => "read:" + param, (v, errh) => { written = v; return v != "bad" || errh.Error("bad value"); }, HandlerFlags.ReadParam);
        var errh = new CollectingErrorHandler();
        Assert.Equal("read:p", h.CallRead("p", errh));
        Assert.True(h.CallWrite("42", errh));
        Assert.Equal("42", written);
        Assert.False(h.CallWrite("bad", errh));
        Assert.Equal(1, errh.ErrorCount);
    }

    [Theory]
    [InlineData(HandlerFlags.None, "5", "5\n")]
    [InlineData(HandlerFlags.None, "5\n", "5\n")]
    [InlineData(HandlerFlags.None, "a\nb", "a\nb\n")]
    [InlineData(HandlerFlags.None, "", "")]
    [InlineData(HandlerFlags.Raw, "5", "5")]
    [InlineData(HandlerFlags.Raw, "", "")]
    [InlineData(HandlerFlags.Raw | HandlerFlags.ReadParam, "\x01\x02", "\x01\x02")]
    [InlineData(HandlerFlags.ReadParam, "v", "v\n")]
    public void Terminated_NewlineRule(HandlerFlags flags, string value, string expected)
    {
        var h = new Handler("h", (_, _) => value, null, flags);
        Assert.Equal(expected, h.Terminated(value));
    }

    private sealed class TestElement : Element;

    [Fact]
    public void Element_SetHandler_MergesReadAndWriteUnderOneName()
    {
        var e = new TestElement();
        e.AddReadHandler("rate", () => "10");
        e.AddWriteHandler("rate", (_, _) => true, HandlerFlags.Raw);
        var h = Assert.Single(e.Handlers);
        Assert.True(h.CanRead && h.CanWrite);
        Assert.Equal(HandlerFlags.Raw, h.Flags);
        Assert.Same(h, e.FindLocalHandler("rate"));
        Assert.Null(e.FindLocalHandler("nope"));
        Assert.Equal("10", h.CallRead("", ErrorHandler.Silent));
    }
}
