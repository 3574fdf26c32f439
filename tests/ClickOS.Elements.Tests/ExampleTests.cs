using System.Text.RegularExpressions;
using ClickOS.Tests;
using Xunit.Abstractions;

namespace ClickOS.Elements.Tests;

/// <summary>
/// Runs the runnable example in every element's doc comment: it must configure, run to
/// completion by itself, and return every packet to the pool.
/// </summary>
public sealed class ExampleTests(ITestOutputHelper output)
{
    /// <summary>Examples of the elements below the control layer (ControlSocket's runs in ClickOS.Control.Tests).</summary>
    public static TheoryData<string, string> Examples()
    {
        var data = new TheoryData<string, string>();
        var registry = ClickOS.IO.IOElements.CreateFullRegistry();
        string root = Path.Combine(FindRoot(), "src");
        foreach (var file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories).Order())
        {
            string text = File.ReadAllText(file);
            foreach (Match m in Regex.Matches(text, @"/// <example>(.*)</example>\s*\n(?:\s*\[.*\]\s*\n)*\s*public (?:sealed |abstract )?(?:partial )?class (\w+)"))
                if (registry.Contains(m.Groups[2].Value))
                    data.Add(m.Groups[2].Value, System.Net.WebUtility.HtmlDecode(m.Groups[1].Value));
        }
        return data;
    }

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "ClickOS.slnx"))) d = d.Parent;
        return d!.FullName;
    }

    [Fact]
    public void EveryRegisteredElementHasAnExample()
    {
        var documented = Examples().Select(r => (string)r[0]).ToHashSet();
        var registry = ClickOS.IO.IOElements.CreateFullRegistry();
        var missing = registry.ClassNames.Where(c => registry.AliasOf(c) == null && !documented.Contains(c)).ToList();
        Assert.True(missing.Count == 0, "elements without a runnable <example>: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryRegisteredElementHasAReferencePage()
    {
        string docs = Path.Combine(FindRoot(), "docs", "elements");
        var registry = ClickOS.IO.IOElements.CreateFullRegistry();
        var missing = registry.ClassNames.Where(c => registry.AliasOf(c) == null && !File.Exists(Path.Combine(docs, c + ".md"))).ToList();
        Assert.True(missing.Count == 0, "run tools/gen-element-docs.py; missing pages: " + string.Join(", ", missing));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void ExampleRunsToCompletionWithoutLeaks(string element, string config)
    {
        if (!PrivateNetwork.NeedsDevices(config)) { RunExample(element, config); return; }
        // Interface elements run in a private network namespace, where only root may go.
        if (!PrivateNetwork.IsRoot) { output.WriteLine($"{element}: example not run: it needs root for a private network namespace"); return; }
        PrivateNetwork.Run(() => RunExample(element, config));
    }

    private static void RunExample(string element, string config)
    {
        string dir = Path.Combine(Path.GetTempPath(), "clickos-examples", element + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        try
        {
            string inPcap = Path.Combine(dir, "in.pcap");
            TestRouter.WritePcap(inPcap, [TestRouter.Frame(60), TestRouter.Frame(70, 0x0806)]);
            config = config.Replace("in.pcap", inPcap, StringComparison.Ordinal).Replace("out.pcap", Path.Combine(dir, "out.pcap"), StringComparison.Ordinal);
            using var t = TestRouter.Start(config);
            t.Run();
            Assert.Equal(0, t.Errors.ErrorCount);
            t.AssertNoLeaks();
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
