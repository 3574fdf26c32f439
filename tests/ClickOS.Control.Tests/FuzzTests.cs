using System.Text;
using ClickOS.Core;
using ClickOS.Runtime;

namespace ClickOS.Control.Tests;

/// <summary>Runs alone: its memory check reads the whole process's heap.</summary>
[CollectionDefinition(nameof(FuzzTests), DisableParallelization = true)]
public sealed class FuzzCollection;

/// <summary>
/// The protocol parser under a million random and mutated inputs, fed in random pieces:
/// no exception escapes, every session's buffers stay within its limits, and memory does not grow.
/// </summary>
[Collection(nameof(FuzzTests))]
public sealed class FuzzTests
{
    // Writes here only flip settings (no seed adds routes or grows a queue), so the router's own
    // state cannot grow and any memory growth would be the parser's.
    private static readonly string[] Seeds =
    [
        "READ c.count\r\n", "GET 1.name\r\n", "READ .version\r\n", "READ list\r\n",
        "WRITE s.switch 1\r\n", "SET s.switch banana\r\n", "WRITE c.count 5\r\n",
        "WRITEDATA s.switch 1\r\n1", "READDATA q.capacity 0\r\n", "SETDATA s.switch 1\r\n0", "READDATA rt.lookup 8\r\n10.0.0.1",
        "READUNTIL rt.lookup END\r\n10.0.0.1\r\nEND\r\n", "WRITEUNTIL s.switch\r\n1\r\n\r\n",
        "CHECKREAD c.count\r\n", "CHECKWRITE c.reset\r\n", "LLRPC c#1A\r\n", "LLRPC c#8004 4\r\nabcd",
        "HELP\r\n", "QUIT\r\n", "CLOSE x\r\n", "READ nosuch.x\r\n", "READ\r\n", "FOO bar\r\n",
        "WRITE q.reset\r\n", "READ rt.table\r\n", "WRITE rt.remove 12.0.0.0/8\r\n",
    ];

    [Fact]
    public void MillionInputs()
    {
        var registry = ControlElements.CreateFullRegistry();
        var eh = new CollectingErrorHandler();
        var router = ConfigLoader.CreateRouter("""
            Idle -> c :: Counter -> s :: Switch(0) -> q :: Queue(10) -> Discard; s[1] -> Discard;
            Idle -> rt :: RadixIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1) -> Discard; rt[1] -> Discard;
            """, "fuzz.click", registry, eh, new RouterOptions { StandardOutput = TextWriter.Null, ErrorOutput = TextWriter.Null });
        Assert.True(router != null, eh.Text);
        var target = new InlineTarget(router!);
        var limits = new ControlLimits { MaxLine = 4096, MaxData = 8192, OutputHighWater = 16 * 1024 };
        var rng = new Random(20261124);
        var input = new byte[12 * 1024];
        long commands = 0, maxOutput = 0;
        GC.Collect();
        long memBefore = GC.GetTotalMemory(forceFullCollection: true);
        const int Inputs = 1_000_000;
        for (int n = 0; n < Inputs; n++)
        {
            int len = Make(rng, input);
            var s = new ControlSession(target, limits, readOnly: (n & 15) == 0);
            s.Start();
            int pos = 0;
            while (pos < len)
            {
                int room = s.InputRoom;
                if (room == 0)
                {
                    // A peer that keeps sending while we do not read: the session must say so, not buffer.
                    s.Process(8);
                    s.Output.Consume(s.Output.Length);
                    if (s.InputRoom == 0) break;
                    continue;
                }
                int chunk = Math.Min(Math.Min(room, len - pos), 1 + rng.Next(64));
                s.Feed(input.AsSpan(pos, chunk));
                pos += chunk;
                commands += s.Process(rng.Next(1, 4));
                maxOutput = Math.Max(maxOutput, s.Output.Length);
                if ((rng.Next() & 1) == 0) s.Output.Consume(s.Output.Length);
            }
            if ((n & 1) == 0) s.EndOfInput();
            for (int k = 0; k < 100 && s.HasWork; k++)
            {
                commands += s.Process(8);
                maxOutput = Math.Max(maxOutput, s.Output.Length);
                s.Output.Consume(s.Output.Length);
            }
            Assert.False(s.HasWork && (n & 1) == 0, $"input {n} left work after end of input");
        }
        long memAfter = GC.GetTotalMemory(forceFullCollection: true);
        router!.Cleanup();
        Assert.True(commands > Inputs / 2, $"only {commands} commands ran");
        // One reply (at most a handler's value plus HELP) beyond the high-water mark.
        Assert.True(maxOutput < limits.OutputHighWater + 64 * 1024, $"output grew to {maxOutput}");
        Assert.True(memAfter - memBefore < 8 << 20, $"memory grew by {(memAfter - memBefore) >> 10} KB");
    }

    /// <summary>One input: random bytes, a seed, or a mutated concatenation of seeds.</summary>
    private static int Make(Random rng, byte[] buf)
    {
        int kind = rng.Next(4);
        if (kind == 0)
        {
            int len = rng.Next(0, 200);
            rng.NextBytes(buf.AsSpan(0, len));
            return len;
        }
        int n = 0;
        int pieces = 1 + rng.Next(4);
        for (int i = 0; i < pieces; i++)
        {
            var seed = Encoding.Latin1.GetBytes(Seeds[rng.Next(Seeds.Length)]);
            if (n + seed.Length > buf.Length) break;
            seed.CopyTo(buf, n);
            n += seed.Length;
        }
        if (kind == 1) return n;
        int mutations = 1 + rng.Next(6);
        for (int m = 0; m < mutations && n > 0; m++)
        {
            int at = rng.Next(n);
            switch (rng.Next(6))
            {
                case 0: buf[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: buf[at] = (byte)rng.Next(256); break;
                case 2:
                    if (n < buf.Length) { Buffer.BlockCopy(buf, at, buf, at + 1, n - at); buf[at] = (byte)"\r\n 0123456789#.-+"[rng.Next(17)]; n++; }
                    break;
                case 3: Buffer.BlockCopy(buf, at + 1, buf, at, n - at - 1); n--; break;
                case 4:
                {
                    // Huge lengths in DATA commands.
                    var big = Encoding.ASCII.GetBytes(rng.Next(3) switch { 0 => "99999999", 1 => "4096", _ => "-1" });
                    if (n + big.Length <= buf.Length) { Buffer.BlockCopy(buf, at, buf, at + big.Length, n - at); big.CopyTo(buf, at); n += big.Length; }
                    break;
                }
                default:
                {
                    // Duplicate a slice (long lines, repeated commands).
                    int len = Math.Min(rng.Next(1, 2000), Math.Min(n - at, buf.Length - n));
                    Buffer.BlockCopy(buf, at, buf, n, len);
                    n += len;
                    break;
                }
            }
        }
        return n;
    }
}
