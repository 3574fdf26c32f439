using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPFragmenter(MTU [, HONOR_DF, VERBOSE, HEADROOM]): fragments IP packets longer than MTU
/// (fragment data in multiples of 8 bytes; only copied options go into later fragments).
/// Packets with DF set that are too long go to output 1 if it exists (else are dropped), and
/// the first five (all with VERBOSE) are reported. Handlers: fragments, drops (read).
/// </summary>
/// <example>InfiniteSource(LENGTH 100, LIMIT 1, STOP true) -> StoreData(0, \&lt;45000064&gt;) -> MarkIPHeader -> f :: IPFragmenter(60) -> Discard; f[1] -> Discard;</example>
public sealed class IPFragmenter : Element
{
    private int _mtu;
    private bool _honorDF = true, _verbose;
    private int _headroom = PacketPool.DefaultHeadroom;
    private long _fragments, _drops;
    private readonly List<Packet> _scratch = []; // reused: no allocation per fragmented packet

    public override string PortCount => "1/1-2";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var mtu = a.ReadMP("MTU", Args.Unsigned);
        var df = a.ReadP("HONOR_DF", Args.Bool, true);
        var verbose = a.ReadP("VERBOSE", Args.Bool, false);
        var headroom = a.Read("HEADROOM", Args.Unsigned, PacketPool.DefaultHeadroom);
        if (!a.Complete()) return false;
        if (mtu.Value < 28) return errh.Error("MTU must be at least 28");
        _mtu = mtu;
        _honorDF = df;
        _verbose = verbose;
        _headroom = headroom;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        PacketBatch output = Host.Batches.Rent();
        foreach (var p in batch.Packets)
        {
            int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
            var d = p.Data;
            if (ip < 0 || p.Length < ip + 20)
            {
                Emit(ref output, p);
                continue;
            }
            int totalLen = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 2)..]);
            int len = Math.Min(totalLen, p.Length - ip);
            if (len <= _mtu)
            {
                Emit(ref output, p);
                continue;
            }
            ushort off = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]);
            if ((off & 0x4000) != 0 && _honorDF)
            {
                if (_verbose || _drops < 5)
                    Host.ErrorOutput.Write($"IPFragmenter({_mtu}) DF {Values.UnparseIPv4(BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 12)..]))} {Values.UnparseIPv4(BinaryPrimitives.ReadUInt32BigEndian(d[(ip + 16)..]))} len={len}\n");
                _drops++;
                // Send what we have so far first, to keep order on output 0.
                if (output.Count > 0) { Output(0, output); output = Host.Batches.Rent(); }
                if (NOutputs > 1) OutputOne(1, p); else p.Kill();
                continue;
            }
            Fragment(ref output, p, ip, len);
        }
        Host.Batches.Return(batch);
        if (output.Count > 0) Output(0, output);
        else Host.Batches.Return(output);
    }

    private void Emit(ref PacketBatch output, Packet p)
    {
        if (output.IsFull) { Output(0, output); output = Host.Batches.Rent(); }
        output.Add(p);
    }

    private void Fragment(ref PacketBatch output, Packet p, int ip, int len)
    {
        var frags = _scratch;
        Split(Host.Pool, p, ip, len, _mtu, _headroom, frags);
        foreach (var f in frags) Emit(ref output, f);
        _fragments += frags.Count;
        frags.Clear();
    }

    /// <summary>
    /// Splits IP packet <paramref name="p"/> (header at <paramref name="ip"/>, <paramref name="len"/>
    /// bytes) into fragments of at most <paramref name="mtu"/> bytes, appended to
    /// <paramref name="frags"/> in order; the first fragment is <paramref name="p"/> itself, cut down.
    /// </summary>
    internal static void Split(PacketPool pool, Packet p, int ip, int len, int mtu, int headroom, List<Packet> frags)
    {
        var d = p.Data;
        int hl = (d[ip] & 0x0F) * 4;
        int dataLen = len - hl;
        int chunk = (mtu - hl) & ~7;
        ushort off0 = BinaryPrimitives.ReadUInt16BigEndian(d[(ip + 6)..]);
        int baseOff = (off0 & 0x1FFF) * 8;
        bool moreAfter = (off0 & 0x2000) != 0;
        // Options copied into later fragments: only those with the copied bit.
        Span<byte> laterOpts = stackalloc byte[40];
        int laterOptLen = CopiedOptions(d.Slice(ip + 20, hl - 20), laterOpts);
        int laterHl = 20 + ((laterOptLen + 3) & ~3);
        int laterChunk = (mtu - laterHl) & ~7;
        frags.Add(p);

        // Later fragments are built from the original bytes first; the first fragment keeps them.
        for (int pos = chunk; pos < dataLen; pos += laterChunk)
        {
            int n = Math.Min(laterChunk, dataLen - pos);
            var f = pool.Make(headroom, laterHl + n, 0);
            if (f == null) break;
            var w = f.WritableData();
            d.Slice(ip, 20).CopyTo(w);
            w[20..laterHl].Clear();
            laterOpts[..laterOptLen].CopyTo(w[20..]);
            w[0] = (byte)(0x40 | (laterHl / 4));
            d.Slice(ip + hl + pos, n).CopyTo(w[laterHl..]);
            bool more = pos + n < dataLen || moreAfter;
            BinaryPrimitives.WriteUInt16BigEndian(w[2..], (ushort)(laterHl + n));
            BinaryPrimitives.WriteUInt16BigEndian(w[6..], (ushort)((off0 & 0x4000) | (more ? 0x2000 : 0) | ((baseOff + pos) >> 3)));
            w[10] = w[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(w[10..], InternetChecksum.Compute(w[..laterHl]));
            f.CopyAnnotationsFrom(p);
            f.SetNetworkHeader(0, laterHl);
            frags.Add(f);
        }
        p.Take(p.Length - (ip + hl + chunk));
        var fw = p.WritableData();
        BinaryPrimitives.WriteUInt16BigEndian(fw[(ip + 2)..], (ushort)(hl + chunk));
        BinaryPrimitives.WriteUInt16BigEndian(fw[(ip + 6)..], (ushort)(off0 | 0x2000));
        fw[ip + 10] = fw[ip + 11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(fw[(ip + 10)..], InternetChecksum.Compute(fw.Slice(ip, hl)));
    }

    private static int CopiedOptions(ReadOnlySpan<byte> opts, Span<byte> dst)
    {
        int n = 0;
        for (int i = 0; i < opts.Length;)
        {
            byte type = opts[i];
            if (type == 0) break;
            if (type == 1) { i++; continue; }
            if (i + 1 >= opts.Length) break;
            int olen = opts[i + 1];
            if (olen < 2 || i + olen > opts.Length) break;
            if ((type & 0x80) != 0 && n + olen <= dst.Length)
            {
                opts.Slice(i, olen).CopyTo(dst[n..]);
                n += olen;
            }
            i += olen;
        }
        return n;
    }

    public override void AddHandlers()
    {
        AddReadHandler("fragments", () => _fragments.ToString(ElementUtil.Inv));
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
    }
}
