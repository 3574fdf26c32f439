using System.Diagnostics;
using System.Text;

namespace ClickOS.Cli.Tests;

/// <summary>Runs the built clickos executable as a separate process, as users and the golden runner do.</summary>
public static class ClickRunner
{
    public static string Executable
    {
        get
        {
            string dir = AppContext.BaseDirectory;
            string exe = Path.Combine(dir, "clickos");
            return File.Exists(exe) ? exe : Path.Combine(dir, "clickos.dll");
        }
    }

    public static string RepoRoot
    {
        get
        {
            var d = new DirectoryInfo(AppContext.BaseDirectory);
            while (d != null && !File.Exists(Path.Combine(d.FullName, "ClickOS.slnx"))) d = d.Parent;
            return d?.FullName ?? throw new InvalidOperationException("repository root not found");
        }
    }

    public sealed record Result(int Exit, string Stdout, string Stderr);

    public static Result Run(IEnumerable<string> args, string workDir, int timeoutMs = 30_000, string? stdin = null)
    {
        var psi = new ProcessStartInfo
        {
            WorkingDirectory = workDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.Latin1,
            StandardErrorEncoding = Encoding.Latin1,
        };
        string exe = Executable;
        if (exe.EndsWith(".dll", StringComparison.Ordinal))
        {
            psi.FileName = "dotnet";
            psi.ArgumentList.Add(exe);
        }
        else psi.FileName = exe;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (stdin != null) p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            throw new TimeoutException($"clickos {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        return new Result(p.ExitCode, so.Result, se.Result);
    }

    /// <summary>Splits a golden "args" line like a POSIX shell (quotes and backslashes).</summary>
    public static List<string> ShellSplit(string line)
    {
        var args = new List<string>();
        var cur = new StringBuilder();
        bool inWord = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '\'')
            {
                int e = line.IndexOf('\'', i + 1);
                cur.Append(line, i + 1, e - i - 1);
                i = e;
                inWord = true;
            }
            else if (c == '"')
            {
                i++;
                while (i < line.Length && line[i] != '"')
                {
                    if (line[i] == '\\' && i + 1 < line.Length && "\"\\$`".Contains(line[i + 1])) i++;
                    cur.Append(line[i++]);
                }
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length) { cur.Append(line[++i]); inWord = true; }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord) { args.Add(cur.ToString()); cur.Clear(); inWord = false; }
            }
            else { cur.Append(c); inWord = true; }
        }
        if (inWord) args.Add(cur.ToString());
        return args;
    }

    public static string TempDir(string name)
    {
        string d = Path.Combine(Path.GetTempPath(), "clickos-tests", name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(d);
        return d;
    }
}
