using System.Globalization;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// SourceIPHashMapper(NNODES SEED, PATTERN1, ..., PATTERNn): an IPRewriter mapper that sends
/// every flow from one source address to the same backend, by consistent hashing. Each
/// PATTERN is 'SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT ID'; ID names the backend on the hash
/// ring, which holds NNODES points per backend placed by SEED and ID alone, so adding or
/// removing a backend moves only the sources that hashed to it. Name it as an IPRewriter
/// input specification.
/// </summary>
/// <example>map :: SourceIPHashMapper(16 0xbadbeef, - - 10.10.0.1 - 0 1 1, - - 10.10.0.2 - 0 1 2); InfiniteSource(DATA \&lt;45000020 00000000 40110000 0a000001 08080808 1f900035 000c0000 00000000&gt;, LIMIT 2, STOP true) -> MarkIPHeader -> rw :: IPRewriter(map) -> Discard; rw[1] -> Discard;</example>
public sealed class SourceIPHashMapper : Element, IIPMapper
{
    private readonly List<(RewriterPattern Pattern, int FOut, int ROut, uint Id)> _servers = [];
    private uint[] _ringKeys = [];
    private int[] _ringServer = [];

    public override string PortCount => "0/0";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        if (conf.Count < 2) return errh.Error("expected 'NNODES SEED' and at least one pattern");
        var head = ConfigText.SplitSpace(conf[0]);
        if (head.Count != 2 || !int.TryParse(head[0], NumberStyles.None, CultureInfo.InvariantCulture, out int nnodes) || nnodes < 1 || !ParseUInt(head[1], out uint seed))
            return errh.Error($"bad first argument '{conf[0]}': expected 'NNODES SEED'");
        bool ok = true;
        for (int i = 1; i < conf.Count; i++)
        {
            var w = ConfigText.SplitSpace(conf[i]);
            var p = w.Count == 7 ? RewriterPattern.Parse(w, 0, out _) : null;
            if (p == null || !int.TryParse(w[4], out int fo) || !int.TryParse(w[5], out int ro) || !ParseUInt(w[6], out uint id))
            {
                ok = errh.Error($"bad pattern '{conf[i]}': expected 'SADDR SPORT DADDR DPORT FOUTPUT ROUTPUT ID'");
                continue;
            }
            _servers.Add((p, fo, ro, id));
        }
        if (!ok) return false;
        var points = new List<(uint Key, int Server)>();
        for (int s = 0; s < _servers.Count; s++)
            for (int j = 0; j < nnodes; j++)
                points.Add((Mix(seed, _servers[s].Id, (uint)j), s));
        points.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Server.CompareTo(b.Server));
        _ringKeys = points.Select(x => x.Key).ToArray();
        _ringServer = points.Select(x => x.Server).ToArray();
        return true;
    }

    private static bool ParseUInt(string s, out uint v) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.TryParse(s.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v)
            : uint.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);

    private static uint Mix(uint a, uint b, uint c)
    {
        ulong h = ((ulong)a << 32 | b) * 0x9E3779B97F4A7C15UL ^ (c + 1) * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (uint)h;
    }

    /// <summary>The backend (pattern index) that source address <paramref name="saddr"/> maps to.</summary>
    public int ServerFor(uint saddr)
    {
        uint k = Mix(saddr, 0x5151, 0);
        int i = Array.BinarySearch(_ringKeys, k);
        if (i < 0) i = ~i;
        if (i == _ringKeys.Length) i = 0;
        return _ringServer[i];
    }

    public bool MapFlow(RewriterBase rewriter, in FlowId inId, byte proto, out FlowId outId, out int foutput, out int routput)
    {
        var (p, fo, ro, _) = _servers[ServerFor(inId.Saddr)];
        foutput = fo;
        routput = ro;
        return p.TryApply(inId, proto, rewriter.Table, out outId);
    }
}
