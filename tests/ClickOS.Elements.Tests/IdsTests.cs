using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using ClickOS.Core;
using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>FlowIDS: the automaton against a naive oracle, the rule parser, and the element's per-flow semantics.</summary>
public sealed class IdsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "clickos-ids-" + Guid.NewGuid().ToString("N")[..8]);
    public IdsTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, true);
    private string P(string n) => Path.Combine(_dir, n);

    // ---- the automaton ----

    private struct SetSink(AhoCorasick ac, HashSet<(int Pattern, int End)> hits, int offset) : IAcMatchSink
    {
        public int Offset = offset;
        public void OnMatch(int state, int end)
        {
            foreach (int p in ac.Outputs(state)) hits.Add((p, Offset + end));
        }
    }

    private static bool Fold(byte a, byte b, bool noCase)
    {
        if (a == b) return true;
        return noCase && (a | 0x20) == (b | 0x20) && (a | 0x20) is >= (byte)'a' and <= (byte)'z';
    }

    private static HashSet<(int, int)> Naive(byte[] data, IReadOnlyList<AcPattern> pats)
    {
        var set = new HashSet<(int, int)>();
        for (int p = 0; p < pats.Count; p++)
        {
            var pat = pats[p].Bytes;
            for (int end = pat.Length - 1; end < data.Length; end++)
            {
                int start = end - pat.Length + 1, k = 0;
                while (k < pat.Length && Fold(data[start + k], pat[k], pats[p].NoCase)) k++;
                if (k == pat.Length) set.Add((p, end));
            }
        }
        return set;
    }

    private static AhoCorasick Build(IReadOnlyList<AcPattern> pats)
    {
        var ac = AhoCorasick.Build(pats, out string err);
        Assert.True(ac != null, err);
        return ac!;
    }

    [Theory]
    [InlineData(1, "ab", false)]           // tiny alphabet: heavy overlap, patterns that are suffixes of others
    [InlineData(2, "abAB\0c", true)]       // mixed case-sensitive and nocase patterns
    [InlineData(3, "abcdefghij0123", true)]
    public void AutomatonAgreesWithNaiveSearchOnRandomData(int seed, string alphabet, bool mixedCase)
    {
        var rnd = new Random(seed);
        var abc = Encoding.Latin1.GetBytes(alphabet);
        for (int round = 0; round < 30; round++)
        {
            int npat = rnd.Next(1, 200);
            var pats = new List<AcPattern>();
            for (int i = 0; i < npat; i++)
            {
                var b = new byte[rnd.Next(1, round % 3 == 0 ? 4 : 12)];
                for (int j = 0; j < b.Length; j++) b[j] = abc[rnd.Next(abc.Length)];
                pats.Add(new AcPattern(b, mixedCase && rnd.Next(2) == 0));
                // Suffixes and duplicates of earlier patterns.
                if (rnd.Next(4) == 0 && b.Length > 1) pats.Add(new AcPattern(b[rnd.Next(1, b.Length)..], mixedCase && rnd.Next(2) == 0));
                if (rnd.Next(10) == 0) pats.Add(pats[rnd.Next(pats.Count)]);
            }
            var ac = Build(pats);
            // Lengths around the 1-, 2- and 4-piece thresholds.
            var data = new byte[rnd.Next(0, 3000)];
            for (int j = 0; j < data.Length; j++) data[j] = abc[rnd.Next(abc.Length)];
            var expect = Naive(data, pats);

            var hits = new HashSet<(int, int)>();
            var sink = new SetSink(ac, hits, 0);
            int final = ac.Scan(data, AhoCorasick.Root, ref sink);
            Assert.Equal(expect, hits);

            int stepped = AhoCorasick.Root;
            foreach (byte x in data) stepped = ac.Step(stepped, x);
            Assert.Equal(stepped, final);

            // Scanning in pieces and carrying the state finds the same matches (segments of a flow).
            var pieces = new HashSet<(int, int)>();
            int s = AhoCorasick.Root, pos = 0;
            while (pos < data.Length)
            {
                int len = Math.Min(data.Length - pos, rnd.Next(1, 700));
                var ps = new SetSink(ac, pieces, pos);
                s = ac.Scan(data.AsSpan(pos, len), s, ref ps);
                pos += len;
            }
            Assert.Equal(expect, pieces);
            Assert.Equal(final, s);
        }
    }

    [Fact]
    public void ClassicExampleReportsEveryOverlappingMatch()
    {
        var words = new[] { "he", "she", "his", "hers", "a", "aa", "aaa" };
        var pats = words.Select(w => new AcPattern(Encoding.ASCII.GetBytes(w), false)).ToList();
        var ac = Build(pats);
        var hits = new HashSet<(int, int)>();
        var sink = new SetSink(ac, hits, 0);
        ac.Scan("ushers aaaa"u8, AhoCorasick.Root, ref sink);
        Assert.Equal(Naive(Encoding.ASCII.GetBytes("ushers aaaa"), pats), hits);
        Assert.Contains((1, 3), hits); // she
        Assert.Contains((0, 3), hits); // he
        Assert.Contains((3, 5), hits); // hers
        Assert.Equal(4 + 3 + 2, hits.Count(h => h.Item1 >= 4));
        // Only case-sensitive patterns: one DFA state per trie node (root, h he, s sh she, hi his, her hers, a aa aaa).
        Assert.Equal(13, ac.StateCount);
    }

    [Fact]
    public void EmptyPatternIsRefused()
    {
        Assert.Null(AhoCorasick.Build([new AcPattern([1], false), new AcPattern([], false)], out string err));
        Assert.Equal("pattern 2 is empty", err);
        var none = Build([]);
        var sink = new SetSink(none, [], 0);
        Assert.Equal(AhoCorasick.Root, none.Scan(new byte[1000], AhoCorasick.Root, ref sink));
    }

    [Fact]
    public void AlphabetReductionKeepsClassesFewAndAllBytesWork()
    {
        var ac = Build([new AcPattern("abc"u8.ToArray(), false), new AcPattern("XyZ"u8.ToArray(), true)]);
        Assert.Equal(1 + 3 + 3, ac.ClassCount); // unused bytes, a b c, x y z in either case
        var all = Enumerable.Range(0, 256).Select(i => new AcPattern([(byte)i, (byte)(255 - i)], false)).ToList();
        var big = Build(all);
        Assert.Equal(256, big.ClassCount);
        var data = Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 + (i >> 8))).ToArray();
        var hits = new HashSet<(int, int)>();
        var sink = new SetSink(big, hits, 0);
        big.Scan(data, AhoCorasick.Root, ref sink);
        Assert.Equal(Naive(data, all), hits);
    }

    // ---- rules ----

    [Fact]
    public void RulesParseAndPrintBack()
    {
        var rules = new List<IdsRule>();
        var errh = new CollectingErrorHandler();
        Assert.True(SnortRules.ParseText("""
            # local rules
            alert tcp any any -> 10.0.0.0/8 80 (msg:"evil; \"quoted\""; content:"GET |2f 00|x\|y"; nocase; sid:1000001; rev:2; classtype:bad;)

            drop udp 192.0.2.1 1024: <> any :53 (content:"|de ad be ef|"; sid:1000002;)
            alert ip any any -> any any \
              (content:"abc"; sid:3;)
            """, "local.rules", rules, errh), errh.Text);
        Assert.Equal(3, rules.Count);
        var r = rules[0];
        Assert.Equal(IdsAction.Alert, r.Action);
        Assert.Equal(6, r.Proto);
        Assert.Equal("evil; \"quoted\"", r.Msg);
        Assert.Equal("GET /\0x|y"u8.ToArray(), r.Content);
        Assert.True(r.NoCase);
        Assert.Equal(1000001, r.Sid);
        Assert.True(r.Admits(6, 0xC0000201, 5555, 0x0A010203, 80));
        Assert.False(r.Admits(6, 0xC0000201, 5555, 0x0B010203, 80));
        Assert.False(r.Admits(6, 0xC0000201, 5555, 0x0A010203, 81));
        Assert.False(r.Admits(17, 0xC0000201, 5555, 0x0A010203, 80));
        var u = rules[1];
        Assert.Equal(IdsAction.Drop, u.Action);
        Assert.Equal(new byte[] { 0xde, 0xad, 0xbe, 0xef }, u.Content);
        Assert.True(u.Admits(17, 0xC0000201, 2000, 0x01020304, 53));
        Assert.True(u.Admits(17, 0x01020304, 53, 0xC0000201, 2000));  // <> : either direction
        Assert.False(u.Admits(17, 0xC0000201, 1000, 0x01020304, 53));
        Assert.Equal(0, rules[2].Proto);
        // The printed form reads back as the same rule.
        foreach (var x in rules)
        {
            var y = SnortRules.ParseRule(x.ToString(), out string err);
            Assert.True(y != null, err + ": " + x);
            Assert.Equal(x.ToString(), y!.ToString());
            Assert.Equal(x.Content, y.Content);
            Assert.Equal(x.Msg, y.Msg);
        }
    }

    [Fact]
    public void RulesFileErrorsCarryFileAndLine()
    {
        string path = P("bad.rules");
        File.WriteAllText(path, """
            # comment
            alert tcp any any -> any 80 (msg:"ok"; content:"abc"; sid:1;)

            alert tcp any any -> any 80 (content:"x"; pcre:"/x/"; sid:2;)
            alert icmp any any -> any any (content:"x"; sid:3;)
            alert tcp any any -> any 80 (content:"a"; content:"b"; sid:4;)
            alert tcp $HOME_NET any -> any 80 (content:"a"; sid:5;)
            alert tcp any any -> any 80 (content:"a|0|"; sid:6;)
            alert tcp any any -> any 80 (msg:"no content"; sid:7;)
            pass tcp any any -> any 80 (content:"a"; sid:8;)
            alert tcp any any -> any 99999 (content:"a"; sid:9;)
            alert tcp any any -> any 80 (content:"a"; sid:10)
            alert tcp any any -> any 80 (content:"a";)
            """);
        var t = new TestRouter($"Idle -> FlowIDS(RULES {path}) -> Discard;");
        Assert.Null(t.Router);
        string text = t.Errors.Text;
        Assert.Contains($"{path}:4: unsupported option 'pcre'", text);
        Assert.Contains($"{path}:5: unsupported protocol 'icmp'", text);
        Assert.Contains($"{path}:6: only one content per rule is supported", text);
        Assert.Contains($"{path}:7: variables ('$HOME_NET') are not supported", text);
        Assert.Contains($"{path}:8: content: odd number of hex digits", text);
        Assert.Contains($"{path}:9: rule has no content", text);
        Assert.Contains($"{path}:10: unsupported action 'pass'", text);
        Assert.Contains($"{path}:11: bad port '99999'", text);
        Assert.Contains($"{path}:12: option 'sid:10' is not terminated by ';'", text);
        Assert.Contains($"{path}:13: rule has no sid", text);
        Assert.DoesNotContain($"{path}:2:", text);

        var dup = new TestRouter("""Idle -> FlowIDS(PATTERN "a", RULE 'alert tcp any any -> any any (content:"b"; sid:1;)') -> Discard;""");
        Assert.Null(dup.Router);
        Assert.Contains("duplicate sid 1", dup.Errors.Text);
        var missing = new TestRouter($"Idle -> FlowIDS(RULES {P("nope.rules")}) -> Discard;");
        Assert.Null(missing.Router);
        Assert.Contains("nope.rules", missing.Errors.Text);
        var badKw = new TestRouter("""Idle -> FlowIDS(PATTERN "a|0", ACTION reject) -> Discard;""");
        Assert.Null(badKw.Router);
        Assert.Contains("PATTERN 1: unterminated |hex| block", badKw.Errors.Text);
        Assert.Contains("ACTION: expected alert or drop", badKw.Errors.Text);
    }

    // ---- the element ----

    private static byte[] Tcp(string src, ushort sp, string dst, ushort dp, uint seq, string payload, bool syn = false, bool fin = false, bool rst = false) =>
        Tcp(src, sp, dst, dp, seq, Encoding.Latin1.GetBytes(payload), syn, fin, rst);

    private static byte[] Tcp(string src, ushort sp, string dst, ushort dp, uint seq, byte[] payload, bool syn = false, bool fin = false, bool rst = false)
    {
        var t = new TcpPacket(sp, dp) { SequenceNumber = seq, Acknowledgment = !syn, Push = payload.Length > 0, Synchronize = syn, Finished = fin, Reset = rst, WindowSize = 5000, PayloadData = payload };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = t, TimeToLive = 64 };
        t.UpdateTcpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    private static byte[] Udp(string src, ushort sp, string dst, ushort dp, string payload)
    {
        var u = new UdpPacket(sp, dp) { PayloadData = Encoding.Latin1.GetBytes(payload) };
        var ip = new IPv4Packet(IPAddress.Parse(src), IPAddress.Parse(dst)) { PayloadPacket = u, TimeToLive = 64 };
        u.UpdateUdpChecksum();
        ip.UpdateIPChecksum();
        return ip.Bytes;
    }

    private static byte[] Eth(byte[] ip) =>
        new EthernetPacket(PhysicalAddress.Parse("020000000001"), PhysicalAddress.Parse("020000000002"), EthernetType.IPv4)
        { PayloadPacket = new IPv4Packet(new PacketDotNet.Utils.ByteArraySegment(ip)) }.Bytes;

    /// <summary>A router whose FlowIDS the test feeds directly, batch by batch, with handlers read in between.</summary>
    private sealed class Rig : IDisposable
    {
        public TestRouter T { get; }
        public FlowIDS Ids { get; }

        public Rig(string args, bool alertOutput = true)
        {
            T = TestRouter.Start($"Idle -> ids :: FlowIDS({args}) -> pass :: Counter -> Discard;" + (alertOutput ? " ids[1] -> alert :: Counter -> Discard;" : ""));
            Ids = T.Router!.Elements.OfType<FlowIDS>().Single();
        }

        /// <summary>Pushes IP packets as one batch (network header annotation at 0).</summary>
        public void Send(params byte[][] ips)
        {
            var b = T.Router!.Batches.Rent();
            foreach (var ip in ips)
            {
                var p = T.Router.Pool.Make(ip)!;
                p.SetNetworkHeader(0, Math.Min(ip.Length, 20));
                b.Add(p);
            }
            Ids.Push(0, b);
        }

        public long Alerts => T.ReadLong("ids.alerts");
        public long Passed => T.ReadLong("pass.count");
        public void Dispose() => T.Dispose();
    }

    [Fact]
    public void SinglePacketMatchGoesToAlertOutput()
    {
        TestRouter.WritePcap(P("in.pcap"), [
            Eth(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1, "GET /evil HTTP/1.0")),
            Eth(Tcp("10.0.0.1", 40001, "10.0.0.2", 80, 1, "GET /good HTTP/1.0")),
            Eth(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "xxevilxx"))]);
        using var t = TestRouter.Start($"""
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> ids :: FlowIDS(PATTERN "evil") -> pass :: Counter -> Discard;
            ids[1] -> alert :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(2, t.ReadLong("alert.count"));
        Assert.Equal(1, t.ReadLong("pass.count"));
        Assert.Equal(3, t.ReadLong("ids.count"));
        Assert.Equal(2, t.ReadLong("ids.alerts"));
        Assert.Equal("1 2 alert \"evil\"\n", t.Read("ids.matches"));
        t.AssertNoLeaks();

        // Without output 1, alerts go on through output 0.
        using var t2 = TestRouter.Start($"""FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> ids :: FlowIDS(PATTERN "evil") -> pass :: Counter -> Discard;""");
        t2.Run();
        Assert.Equal(3, t2.ReadLong("pass.count"));
        Assert.Equal(2, t2.ReadLong("ids.alerts"));
        t2.AssertNoLeaks();
    }

    [Fact]
    public void MatchSplitAcrossSegmentsOfOneFlowIsFoundButNotAcrossFlows()
    {
        using var r = new Rig("PATTERN \"attack-payload\"");
        // Same flow, in order: "...atta" then "ck-payload..." (seq 1000 + 10 = 1010).
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1000, "xxxxxxatta"));
        Assert.Equal(0, r.Alerts);
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1010, "ck-payload"));
        Assert.Equal(1, r.Alerts);
        // Two different flows (source port differs): no match.
        r.Send(Tcp("10.0.0.1", 40001, "10.0.0.2", 80, 1000, "xxxxxxatta"));
        r.Send(Tcp("10.0.0.1", 40002, "10.0.0.2", 80, 1010, "ck-payload"));
        // The reverse direction is a flow of its own too.
        r.Send(Tcp("10.0.0.2", 80, "10.0.0.1", 40001, 1010, "ck-payload"));
        Assert.Equal(1, r.Alerts);
        Assert.Equal(4, r.T.ReadLong("ids.flows"));
        // Both halves in one batch work the same as in two.
        r.Send(Tcp("10.0.0.1", 40003, "10.0.0.2", 80, 5, "attack-pay"), Tcp("10.0.0.1", 40003, "10.0.0.2", 80, 15, "load"));
        Assert.Equal(2, r.Alerts);
        Assert.Equal(0, r.T.ReadLong("ids.out_of_order"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void OutOfOrderSegmentRestartsTheFlowState()
    {
        using var r = new Rig("PATTERN \"attack-payload\"");
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1000, "xxxxxxatta"));
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1011, "ck-payload")); // one byte ahead: a gap
        Assert.Equal(0, r.Alerts);
        Assert.Equal(1, r.T.ReadLong("ids.out_of_order"));
        // Tracking resynchronizes on the segment it restarted with.
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1021, "...attack-"));
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1031, "payload"));
        Assert.Equal(1, r.Alerts);
        Assert.Equal(1, r.T.ReadLong("ids.out_of_order"));
        // A SYN starts a new stream: its data begins at seq + 1 and earlier state is dropped.
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 5000, "attack", syn: true));
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 5007, "-payload"));
        Assert.Equal(2, r.Alerts);
        // FIN ends the flow.
        r.Send(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 5015, "", fin: true));
        Assert.Equal(0, r.T.ReadLong("ids.flows"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void NocaseAndHexContent()
    {
        using var r = new Rig("""
            RULE 'alert tcp any any -> any any (msg:"cmd"; content:"cmd.exe"; nocase; sid:10;)',
            RULE 'alert tcp any any -> any any (msg:"exact"; content:"Exact"; sid:11;)',
            RULE 'alert tcp any any -> any any (msg:"bin"; content:"|00 01|zz|ff|"; sid:12;)'
            """);
        r.Send(Tcp("10.0.0.1", 1, "10.0.0.2", 80, 1, "run CMD.EXE now"));
        r.Send(Tcp("10.0.0.1", 2, "10.0.0.2", 80, 1, "EXACT exact"));
        r.Send(Tcp("10.0.0.1", 3, "10.0.0.2", 80, 1, "Exact"));
        r.Send(Tcp("10.0.0.1", 4, "10.0.0.2", 80, 1, [9, 0, 1, (byte)'z', (byte)'z', 0xff, 9]));
        r.Send(Tcp("10.0.0.1", 5, "10.0.0.2", 80, 1, [9, 0, 1, (byte)'Z', (byte)'z', 0xff, 9]));
        Assert.Equal("10 1 alert \"cmd\"\n11 1 alert \"exact\"\n12 1 alert \"bin\"\n", r.T.Read("ids.matches"));
        Assert.Equal(3, r.Alerts);
        Assert.Equal(2, r.Passed);

        using var inline = new Rig("PATTERN \"cmd.exe\", PATTERN \"a|3a 3b|b\", NOCASE true");
        inline.Send(Tcp("10.0.0.1", 1, "10.0.0.2", 80, 1, "CmD.ExE A:;B"));
        Assert.Equal("1 1 alert \"cmd.exe\"\n2 1 alert \"a|3a 3b|b\"\n", inline.T.Read("ids.matches"));
        r.T.AssertNoLeaks();
        inline.T.AssertNoLeaks();
    }

    [Fact]
    public void RulesFromFileWithPortsAndDropAction()
    {
        string path = P("local.rules");
        File.WriteAllText(path, """
            alert tcp any any -> any 80 (msg:"web"; content:"evil"; sid:1000001;)
            drop tcp any any -> any any (msg:"kill"; content:"rootkit"; sid:1000002;)
            alert udp any any -> any 53 (msg:"dns"; content:"evil"; sid:1000003;)
            """);
        using var r = new Rig($"RULES {path}");
        r.Send(Tcp("10.0.0.1", 1000, "10.0.0.2", 80, 1, "evil"));   // web
        r.Send(Tcp("10.0.0.1", 1000, "10.0.0.2", 81, 1, "evil"));   // wrong port: passes
        r.Send(Udp("10.0.0.1", 1000, "10.0.0.2", 53, "evil"));      // dns
        r.Send(Tcp("10.0.0.1", 2000, "10.0.0.2", 22, 1, "a rootkit and evil"));
        Assert.Equal(2, r.Alerts);
        Assert.Equal(1, r.T.ReadLong("ids.drops"));
        Assert.Equal(1, r.Passed);
        // The dropped segment did not advance its flow: its retransmission is caught again.
        r.Send(Tcp("10.0.0.1", 2000, "10.0.0.2", 22, 1, "a rootkit and evil"));
        Assert.Equal(2, r.T.ReadLong("ids.drops"));
        Assert.Equal(0, r.T.ReadLong("ids.out_of_order"));
        Assert.Equal("1000001 1 alert \"web\"\n1000002 2 drop \"kill\"\n1000003 1 alert \"dns\"\n", r.T.Read("ids.matches"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void EachRuleCountsOncePerPacket()
    {
        using var r = new Rig("PATTERN \"ab\", PATTERN \"b\"");
        r.Send(Tcp("10.0.0.1", 1, "10.0.0.2", 80, 1, new string('a', 100) + "ababababab" + new string('x', 900) + "ab"));
        Assert.Equal("1 1 alert \"ab\"\n2 1 alert \"b\"\n", r.T.Read("ids.matches"));
        Assert.Equal(1, r.Alerts);
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void UdpDatagramsFormAStreamUnlessTurnedOff()
    {
        using var r = new Rig("PATTERN \"split-me\"");
        r.Send(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "xxsplit"));
        r.Send(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "-mexx"));
        Assert.Equal(1, r.Alerts);
        using var off = new Rig("PATTERN \"split-me\", UDP_STREAM false");
        off.Send(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "xxsplit"));
        off.Send(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "-mexx"));
        off.Send(Udp("10.0.0.1", 5000, "10.0.0.2", 53, "split-me"));
        Assert.Equal(1, off.Alerts);
        Assert.Equal(0, off.T.ReadLong("ids.flows"));
        r.T.AssertNoLeaks();
        off.T.AssertNoLeaks();
    }

    [Fact]
    public void WritingPatternsReplacesTheRulesAndKeepsFlows()
    {
        using var r = new Rig("PATTERN \"old-thing\"");
        for (int i = 0; i < 5; i++) r.Send(Tcp("10.0.0.1", (ushort)(1000 + i), "10.0.0.2", 80, 1, "xx old-th"));
        Assert.Equal(5, r.T.ReadLong("ids.flows"));
        Assert.True(r.T.Write("ids.patterns", """
            alert tcp any any -> any 80 (msg:"new"; content:"new-thing"; sid:77;)
            # a comment
            drop tcp any any -> any 80 (content:"worse"; sid:78;)
            """), r.T.Errors.Text);
        Assert.Equal(5, r.T.ReadLong("ids.flows"));
        Assert.Equal("alert tcp any any -> any 80 (msg:\"new\"; content:\"new-thing\"; sid:77;)\ndrop tcp any any -> any 80 (content:\"worse\"; sid:78;)\n", r.T.Read("ids.patterns"));
        // The old pattern's second half no longer matches; flows go on in sequence from the root.
        r.Send(Tcp("10.0.0.1", 1000, "10.0.0.2", 80, 10, "ing"));
        Assert.Equal(0, r.Alerts);
        Assert.Equal(0, r.T.ReadLong("ids.out_of_order"));
        r.Send(Tcp("10.0.0.1", 1001, "10.0.0.2", 80, 10, "new-thing"));
        r.Send(Tcp("10.0.0.1", 1002, "10.0.0.2", 80, 10, "old-thing"));
        Assert.Equal(1, r.Alerts);
        Assert.Equal("77 1 alert \"new\"\n78 0 drop \"worse\"\n", r.T.Read("ids.matches"));
        // A bad write changes nothing and says where the error is.
        var errh = new CollectingErrorHandler();
        var h = r.T.Router!.FindHandler("ids.patterns", null, out _, errh)!;
        Assert.False(h.CallWrite("alert tcp any any -> any 80 (content:\"a\"; sid:1;)\nalert tcp any any -> any 80 (content:\"b\";)", errh));
        Assert.Contains("patterns:2: rule has no sid", errh.Text);
        Assert.Contains("sid:77", r.T.Read("ids.patterns"));
        // One line naming a file reloads from it.
        File.WriteAllText(P("reload.rules"), "alert tcp any any -> any any (content:\"reloaded\"; sid:5;)\n");
        Assert.True(r.T.Write("ids.patterns", $"RULES {P("reload.rules")}"), r.T.Errors.Text);
        Assert.Equal("alert tcp any any -> any any (content:\"reloaded\"; sid:5;)\n", r.T.Read("ids.patterns"));
        Assert.False(h.CallWrite($"RULES {P("missing.rules")}", errh));
        Assert.Equal(5, r.T.ReadLong("ids.flows"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void FlowTableStaysWithinCapacityAndCountsEvictions()
    {
        using var r = new Rig("PATTERN \"zzz\", CAPACITY 64");
        for (int i = 0; i < 500; i++)
            r.Send(Tcp($"10.0.{i >> 8}.{i & 255}", (ushort)(1024 + i), "10.1.0.1", 80, 1, "hello"));
        long flows = r.T.ReadLong("ids.flows");
        Assert.InRange(flows, 48, 64);
        Assert.Equal(64, r.T.ReadLong("ids.capacity"));
        Assert.Equal(500 - flows, r.T.ReadLong("ids.flow_evictions"));
        // The most recent flow is still tracked: its next segment continues in sequence.
        r.Send(Tcp("10.0.1.243", 1024 + 499, "10.1.0.1", 80, 6, "zz"), Tcp("10.0.1.243", 1024 + 499, "10.1.0.1", 80, 8, "z"));
        Assert.Equal(1, r.Alerts);
        Assert.Equal(0, r.T.ReadLong("ids.out_of_order"));
        Assert.True(r.T.Write("ids.reset"));
        Assert.Equal(0, r.T.ReadLong("ids.flows"));
        Assert.Equal(0, r.T.ReadLong("ids.flow_evictions"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void IdleFlowsExpire()
    {
        using var t = TestRouter.Start("Idle -> ids :: FlowIDS(PATTERN \"abcdef\", TIMEOUT 1) -> Discard;", simtime: true);
        var ids = t.Router!.Elements.OfType<FlowIDS>().Single();
        void Send(uint seq, string s)
        {
            var b = t.Router.Batches.Rent();
            var ip = Tcp("10.0.0.1", 1, "10.0.0.2", 80, seq, s);
            var p = t.Router.Pool.Make(ip)!;
            p.SetNetworkHeader(0, 20);
            b.Add(p);
            ids.Push(0, b);
        }
        Send(1, "abc");
        Assert.Equal(1, t.ReadLong("ids.flows"));
        t.Router.Clock.WarpTo(t.Router.Clock.NowNs + 2_000_000_000);
        Assert.Equal(0, t.ReadLong("ids.flows"));
        Send(4, "def"); // the old state is gone: a new flow starts at the root
        Assert.Equal(0, t.ReadLong("ids.alerts"));
        Assert.Equal(0, t.ReadLong("ids.out_of_order"));
        Assert.Equal(1, t.ReadLong("ids.flows"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void MalformedAndUninspectedPacketsAreCountedWithoutCrashing()
    {
        using var r = new Rig("PATTERN \"evil\"");
        var good = Tcp("10.0.0.1", 1, "10.0.0.2", 80, 1, "evil evil");
        var truncated = good[..30];                         // IP length says more than there is
        var badOffset = (byte[])good.Clone();
        badOffset[20 + 12] = 0xF0;                          // TCP header of 60 bytes in a 49-byte packet
        var tinyOffset = (byte[])good.Clone();
        tinyOffset[20 + 12] = 0x10;                         // TCP header of 4 bytes
        var badIhl = (byte[])good.Clone();
        badIhl[0] = 0x44;
        var tiny = good[..12];
        var shortUdp = Udp("10.0.0.1", 1, "10.0.0.2", 53, "")[..24];
        shortUdp[3] = 24;                                   // IP length 24: half a UDP header
        var icmp = (byte[])good.Clone();
        icmp[9] = 1;
        var fragment = (byte[])good.Clone();
        fragment[6] = 0x20;                                 // more fragments
        r.Send(truncated, badOffset, tinyOffset, badIhl, tiny, shortUdp, good, icmp, fragment, []);
        Assert.Equal(7, r.T.ReadLong("ids.malformed"));
        Assert.Equal(2, r.T.ReadLong("ids.uninspected"));
        Assert.Equal(1, r.Alerts);
        Assert.Equal(2, r.Passed);
        Assert.Equal(10, r.T.ReadLong("ids.count"));
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void PullModeAndNoAlertOutput()
    {
        TestRouter.WritePcap(P("in.pcap"), [
            Eth(Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1, "evil")),
            Eth(Tcp("10.0.0.1", 40001, "10.0.0.2", 80, 1, "fine")),
            Eth(Tcp("10.0.0.1", 40002, "10.0.0.2", 80, 1, "bad")) ]);
        using var t = TestRouter.Start($"""
            FromDump({P("in.pcap")}, STOP true) -> Strip(14) -> CheckIPHeader -> q :: Queue -> ids :: FlowIDS(PATTERN "evil", RULE 'drop tcp any any -> any any (content:"bad"; sid:9;)') -> Unqueue -> pass :: Counter -> Discard;
            ids[1] -> alert :: Counter -> Discard;
            """);
        t.Run();
        Assert.Equal(1, t.ReadLong("alert.count"));
        Assert.Equal(1, t.ReadLong("pass.count"));
        Assert.Equal(1, t.ReadLong("ids.drops"));
        t.AssertNoLeaks();
    }

    [Fact]
    public void AutomatonHandlerAndManyRules()
    {
        var rnd = new Random(7);
        var sb = new StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            var s = new string(Enumerable.Range(0, rnd.Next(6, 20)).Select(_ => (char)rnd.Next('a', 'z' + 1)).ToArray());
            sb.Append($"alert tcp any any -> any any (content:\"{s}\"; {(i % 5 == 0 ? "nocase; " : "")}sid:{i + 1};)\n");
        }
        File.WriteAllText(P("many.rules"), sb.ToString());
        using var r = new Rig($"RULES {P("many.rules")}");
        string info = r.T.Read("ids.automaton");
        Assert.Contains("rules 1000\n", info);
        Assert.Equal(1000, r.T.Read("ids.matches").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        r.T.AssertNoLeaks();
    }

    [Fact]
    public void SteadyStateAllocatesNothingPerPacket()
    {
        // 1500-byte IPv4/TCP packets whose payload holds one match.
        var payload = new byte[1460];
        var rnd = new Random(3);
        for (int i = 0; i < payload.Length; i++) payload[i] = (byte)rnd.Next('a', 'z' + 1);
        "sneaky-exploit"u8.CopyTo(payload.AsSpan(700));
        var ip = Tcp("10.0.0.1", 40000, "10.0.0.2", 80, 1, payload);
        string hex = Convert.ToHexString(ip);
        using var t = TestRouter.Start($"""
            InfiniteSource(DATA \<{hex}>, BURST 32) -> MarkIPHeader -> ids :: FlowIDS(PATTERN "sneaky-exploit", PATTERN "other") -> c :: Counter -> Discard;
            ids[1] -> a :: Counter -> Discard;
            """);
        var sched = t.Router!.Scheduler;
        for (int i = 0; i < 2_000; i++) sched.RunBatch(129);
        var counter = t.Router.Elements.OfType<Counter>().Single(c => c.Name == "a");
        AllocationProbe.AssertNoAllocation(sched, () => counter.Count, 100_000);
        Assert.Equal(0, t.ReadLong("c.count"));
    }
}
