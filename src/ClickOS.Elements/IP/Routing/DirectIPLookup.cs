using ClickOS.Core;
using System.Runtime.CompilerServices;

namespace ClickOS.Elements;

/// <summary>
/// DirectIPLookup(ADDR/MASK [GW] OUT, ...): IP routing with the DIR-24-8 scheme: one table
/// indexed by the top 24 address bits, plus 256-entry second-level tables for longer prefixes,
/// so a lookup is one or two memory reads. Uses about 80 MB once the first route is added.
/// Handlers: table, lookup (read); add, set, remove, ctrl (write).
/// </summary>
/// <example>InfiniteSource(LIMIT 1, STOP true) -> rt :: DirectIPLookup(10.0.0.0/8 0, 0.0.0.0/0 1); rt[0] -> Discard; rt[1] -> Discard;</example>
public sealed class DirectIPLookup : IPRouteTable
{
    private const int ChunkFlag = 1 << 31;
    // Entry: hop index + 1 (0 = none), or ChunkFlag | chunk index.
    private int[]? _t24;
    private byte[]? _len24;
    private readonly List<int[]> _chunks = [];
    private readonly List<byte[]> _chunkLens = [];
    private readonly List<(uint Gw, int Port)> _hops = [];
    private readonly Dictionary<(uint, int), int> _hopIndex = [];

    private int Hop(uint gw, int port)
    {
        if (!_hopIndex.TryGetValue((gw, port), out int h))
        {
            h = _hops.Count;
            _hops.Add((gw, port));
            _hopIndex[(gw, port)] = h;
        }
        return h + 1;
    }

    protected override void OnAdd(IPRoute r)
    {
        int len = r.PrefixLength;
        if (len < 0) return; // DIR-24-8 needs contiguous masks; Configure reports these
        Fill(r.Addr, len, Hop(r.Gw, r.Port), len, onlyLen: -1);
    }

    protected override void OnRemove(IPRoute r)
    {
        int len = r.PrefixLength;
        if (len < 0 || _t24 == null) return;
        var cover = BestCovering(r);
        int hop = cover == null ? 0 : Hop(cover.Value.Gw, cover.Value.Port);
        int clen = cover == null ? 0 : cover.Value.PrefixLength;
        Fill(r.Addr, len, hop, clen, onlyLen: len);
    }

    /// <summary>Writes (hop, newLen) into every slot of prefix addr/len whose current length is
    /// at most len (adding) or exactly onlyLen (removing).</summary>
    private void Fill(uint addr, int len, int hop, int newLen, int onlyLen)
    {
        _t24 ??= new int[1 << 24];
        _len24 ??= new byte[1 << 24];
        bool Want(byte cur) => onlyLen >= 0 ? cur == onlyLen : cur <= len;
        if (len <= 24)
        {
            int first = (int)(addr >> 8), count = 1 << (24 - len);
            for (int i = first; i < first + count; i++)
            {
                int e = _t24[i];
                if ((e & ChunkFlag) != 0)
                {
                    int c = e & ~ChunkFlag;
                    var t = _chunks[c];
                    var l = _chunkLens[c];
                    for (int j = 0; j < 256; j++)
                        if (Want(l[j])) { t[j] = hop; l[j] = (byte)newLen; }
                }
                else if (Want(_len24[i]))
                {
                    _t24[i] = hop;
                    _len24[i] = (byte)newLen;
                }
            }
        }
        else
        {
            int i = (int)(addr >> 8);
            int e = _t24[i];
            int c;
            if ((e & ChunkFlag) == 0)
            {
                c = _chunks.Count;
                var t = new int[256];
                var l = new byte[256];
                Array.Fill(t, e);
                Array.Fill(l, _len24[i]);
                _chunks.Add(t);
                _chunkLens.Add(l);
                _t24[i] = ChunkFlag | c;
            }
            else c = e & ~ChunkFlag;
            var tt = _chunks[c];
            var ll = _chunkLens[c];
            int first = (int)(addr & 0xFF), count = 1 << (32 - len);
            for (int j = first; j < first + count; j++)
                if (Want(ll[j])) { tt[j] = hop; ll[j] = (byte)newLen; }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public override int Lookup(uint dst, out uint gw)
    {
        var t24 = _t24;
        int e = t24 == null ? 0 : t24[dst >> 8];
        if ((e & ChunkFlag) != 0) e = _chunks[e & ~ChunkFlag][dst & 0xFF];
        if (e == 0) { gw = 0; return -1; }
        var h = _hops[e - 1];
        gw = h.Gw;
        return h.Port;
    }

    // Checked for the configuration, the config handler and routes taken over in a hot-swap.
    protected override string? RouteProblem(IPRoute r) =>
        r.PrefixLength < 0 ? "DirectIPLookup needs a prefix length (contiguous mask)" : null;
}
