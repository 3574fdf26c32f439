using ClickOS.Core;
namespace ClickOS.Elements.Tests;
public sealed class ZzScratch(Xunit.Abstractions.ITestOutputHelper o)
{
    [Fact]
    public void Debug()
    {
        var lines = File.ReadAllLines("/tmp/scratch/rules.txt").Where(l => l.Length > 0).ToArray();
        var errh = new CollectingErrorHandler();
        var tree = IPFilterCompiler.Compile(lines, lines.Length, true, null, errh);
        o.WriteLine(errh.Text);
        o.WriteLine(tree!.Describe());
    }
}
