namespace ClickOS.Cli.Tests;

/// <summary>
/// Runs every case in tests/conformance/cases (recorded from the reference Click 2.1) and
/// compares stdout, stderr, exit status and output files byte for byte.
/// </summary>
public sealed class ConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var d in Directory.GetDirectories(Path.Combine(ClickRunner.RepoRoot, "tests", "conformance", "cases")).Order())
            data.Add(Path.GetFileName(d));
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CaseMatchesReferenceClick(string name)
    {
        string src = Path.Combine(ClickRunner.RepoRoot, "tests", "conformance", "cases", name);
        string work = ClickRunner.TempDir(name);
        try
        {
            foreach (var f in Directory.GetFiles(src))
                File.Copy(f, Path.Combine(work, Path.GetFileName(f)));
            var args = ClickRunner.ShellSplit(File.ReadAllLines(Path.Combine(src, "args"))[0]);
            var r = ClickRunner.Run(["run", .. args], work);
            var failures = new List<string>();
            foreach (var exp in Directory.GetFiles(Path.Combine(src, "expected")))
            {
                string fn = Path.GetFileName(exp);
                switch (fn)
                {
                    case "stdout":
                        if (File.ReadAllText(exp, System.Text.Encoding.Latin1) != r.Stdout) failures.Add($"stdout differs:\n--- expected\n{File.ReadAllText(exp)}\n--- actual\n{r.Stdout}");
                        break;
                    case "stderr":
                        if (File.ReadAllText(exp, System.Text.Encoding.Latin1) != r.Stderr) failures.Add($"stderr differs:\n--- expected\n{File.ReadAllText(exp)}\n--- actual\n{r.Stderr}");
                        break;
                    case "exit":
                        if (int.Parse(File.ReadAllText(exp).Trim()) != r.Exit) failures.Add($"exit status {r.Exit}, expected {File.ReadAllText(exp).Trim()}");
                        break;
                    default:
                        string act = Path.Combine(work, fn);
                        if (!File.Exists(act)) failures.Add($"{fn} not produced");
                        else if (!File.ReadAllBytes(exp).AsSpan().SequenceEqual(File.ReadAllBytes(act))) failures.Add($"{fn} differs");
                        break;
                }
            }
            Assert.True(failures.Count == 0, string.Join("\n", failures) + $"\n(stderr: {r.Stderr})");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
