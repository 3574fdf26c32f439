using ClickOS.Core;
namespace ClickOS.Elements.Tests;
public sealed class ZzScratch(Xunit.Abstractions.ITestOutputHelper o)
{
    [Fact]
    public void Debug()
    {
        var frame = Convert.FromHexString(File.ReadAllText("/tmp/scratch/frame.txt").Trim());
        var pool = new PacketPool(4);
        foreach (var line in File.ReadAllLines("/tmp/scratch/rules.txt"))
        {
            if (line.Length == 0) continue;
            var errh = new CollectingErrorHandler();
            var tree = IPFilterCompiler.Compile([line, "-"], 2, true, null, errh);
            if (tree == null) { o.WriteLine($"ERR {line}: {errh.Text}"); continue; }
            var p = pool.Make(frame)!;
            p.SetMacHeader(0);
            p.SetNetworkHeader(14, (frame[14] & 0xF) * 4);
            o.WriteLine($"{IPFilterCompiler.Match(tree, p)}  {line}");
            if (File.Exists("/tmp/scratch/program")) o.WriteLine(tree.Describe());
            p.Kill();
        }
    }
}
