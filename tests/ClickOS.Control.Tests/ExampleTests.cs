using System.Text.RegularExpressions;
using ClickOS.Runtime;

namespace ClickOS.Control.Tests;

/// <summary>
/// Runs the <c>&lt;example&gt;</c> of every element in src/ClickOS.Control, read from its doc
/// comment (the Elements project's example runner has no control layer).
/// </summary>
public sealed class ExampleTests
{
    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>();
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "ClickOS.slnx"))) d = d.Parent;
        foreach (var file in Directory.GetFiles(Path.Combine(d!.FullName, "src", "ClickOS.Control"), "*.cs").Order())
            foreach (Match m in Regex.Matches(File.ReadAllText(file), @"/// <example>(.*)</example>\s*\n\s*public (?:sealed )?class (\w+)"))
                data.Add(m.Groups[2].Value, System.Net.WebUtility.HtmlDecode(m.Groups[1].Value));
        return data;
    }

    [Fact]
    public void EveryControlElementHasAnExample()
    {
        var documented = Examples().Select(r => (string)r[0]).ToHashSet();
        var full = ControlElements.CreateFullRegistry();
        var below = ClickOS.IO.IOElements.CreateFullRegistry();
        Assert.All(full.ClassNames.Where(c => !below.Contains(c)), c => Assert.Contains(c, documented));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleRunsToCompletionWithoutLeaks(string element, string config)
    {
        var eh = new ClickOS.Core.CollectingErrorHandler();
        var r = ConfigLoader.CreateRouter(config, element + ".click", ControlElements.CreateFullRegistry(), eh);
        Assert.True(r != null, eh.Text);
        using var cts = new CancellationTokenSource(10_000);
        var final = Driver.Run(r!, cts.Token);
        Assert.False(cts.IsCancellationRequested, "the example did not stop by itself");
        final.Cleanup();
        Assert.Equal(0, eh.ErrorCount);
        Assert.Equal(0, final.Pool.Outstanding);
    }
}
