using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using ClickOS.Core;

namespace ClickOS.Elements;

/// <summary>
/// Bounds-checked access to a packet's IP and transport headers through its header
/// annotations (offsets may point before the data start, into the headroom). Spans never
/// reach past the end of the packet data, so malformed packets can't cause reads out of range.
/// </summary>
public static class IPHeaderAccess
{
    public const int IPHeaderMin = 20;
    public const byte ProtoICMP = 1;
    public const byte ProtoTCP = 6;
    public const byte ProtoUDP = 17;

    /// <summary>The bytes from <paramref name="offset"/> (relative to the data start; may be negative) to the end of the data; empty when out of range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> From(Packet p, int offset)
    {
        if (offset > p.Length || offset < -p.Headroom) return default;
        return p.At(offset, p.Length - offset);
    }

    /// <summary>Whether <paramref name="offset"/> (relative to the data start) lies inside the packet's buffer.</summary>
    public static bool InBuffer(Packet p, int offset) => offset >= -p.Headroom && offset <= p.Length;

    /// <summary>
    /// The packet's bytes from <paramref name="offset"/> to the end of the data, made private
    /// first if a clone shares them (copy-on-write). The offset may be negative (a header in
    /// the headroom); the caller checks it with <see cref="InBuffer"/>.
    /// </summary>
    public static Span<byte> WritableFrom(Packet p, int offset)
    {
        if (offset >= 0) return p.WritableData()[offset..];
        int back = -offset;
        p.TryUnpull(back);
        var s = p.WritableData();
        p.Pull(back);
        return s;
    }

    /// <summary>The network header to the end of the data (empty if there is none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> Network(Packet p) => p.HasNetworkHeader ? From(p, p.NetworkHeaderOffset) : default;

    /// <summary>The transport header's offset from the data start: its annotation, else right after the IP header.</summary>
    public static int TransportOffset(Packet p, ReadOnlySpan<byte> ip) =>
        p.HasTransportHeader ? p.TransportHeaderOffset : p.NetworkHeaderOffset + ((ip[0] & 0xF) << 2);

    /// <summary>Click's IP_ISFRAG: MF set or a nonzero fragment offset.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFragment(ReadOnlySpan<byte> ip) => (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x3FFF) != 0;

    /// <summary>Click's IP_FIRSTFRAG: fragment offset zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsFirstFragment(ReadOnlySpan<byte> ip) => (BinaryPrimitives.ReadUInt16BigEndian(ip[6..]) & 0x1FFF) == 0;

    /// <summary>
    /// RFC 1624 incremental update of a checksum when one 16-bit word changes
    /// (new = ~(~old_sum + ~old_word + new_word)), as Click's click_update_in_cksum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort UpdateChecksum(ushort sum, ushort oldWord, ushort newWord)
    {
        uint s = (~(uint)sum & 0xFFFF) + (~(uint)oldWord & 0xFFFF) + newWord;
        s = (s & 0xFFFF) + (s >> 16);
        return (ushort)~(s + (s >> 16));
    }

    /// <summary>The incremental update for a changed 32-bit field (an address): both its 16-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort UpdateChecksum32(ushort sum, uint oldValue, uint newValue) =>
        oldValue == newValue ? sum : UpdateChecksum(UpdateChecksum(sum, (ushort)(oldValue >> 16), (ushort)(newValue >> 16)), (ushort)oldValue, (ushort)newValue);

    /// <summary>The TCP/UDP checksum to store for <paramref name="segment"/> (checksum field already zeroed).</summary>
    public static ushort TransportChecksum(ReadOnlySpan<byte> segment, uint src, uint dst, byte proto) =>
        InternetChecksum.Fold(InternetChecksum.Sum(segment, InternetChecksum.PseudoHeaderSum(src, dst, proto, segment.Length)));

    /// <summary>Whether <paramref name="segment"/> (with its checksum field) checks out against the pseudo-header.</summary>
    public static bool TransportChecksumValid(ReadOnlySpan<byte> segment, uint src, uint dst, byte proto) =>
        TransportChecksum(segment, src, dst, proto) == 0;

    /// <summary>Appends an IPv4 address (host order) in dotted-quad form without allocating.</summary>
    public static System.Text.StringBuilder AppendIP(System.Text.StringBuilder sb, uint a) =>
        sb.Append(a >> 24).Append('.').Append((a >> 16) & 255).Append('.').Append((a >> 8) & 255).Append('.').Append(a & 255);

    /// <summary>Parses a space-separated list of IP addresses (Click's Vector&lt;IPAddress&gt; argument).</summary>
    public static bool ParseAddressList(string s, out uint[] list, out string err)
    {
        err = "expected list of IP addresses";
        var words = ClickOS.Language.ConfigText.SplitSpace(ClickOS.Language.ConfigText.Unquote(s));
        list = new uint[words.Count];
        for (int i = 0; i < words.Count; i++)
            if (!ClickOS.Language.Values.ParseIPv4(words[i], out list[i]))
                return false;
        return true;
    }
}

/// <summary>
/// Base of the header checkers and other one-input elements with an optional second output
/// for rejected packets (Click's PORTS_1_1X2, PROCESSING_A_AH): <see cref="Check"/> decides each
/// packet; rejected packets are counted by <see cref="Reject"/> and leave on output 1, or are
/// dropped if output 1 is not connected. Packet order is kept: each run of accepted or rejected
/// packets travels as one batch, and a rejection is reported just before its run leaves.
/// </summary>
public abstract class HeaderCheckElement : Element
{
    public override string PortCount => "1/1-2";
    public override string Processing => "a/ah";

    /// <summary>Checks (and may adjust) one packet: -1 accepts it; a reason (0..127) rejects it.</summary>
    protected abstract int Check(Packet p);

    /// <summary>Counts and reports one rejected packet; called in packet order just before it leaves.</summary>
    protected abstract void Reject(int reason);

    /// <summary>Whether each rejected packet leaves as its own batch (verbose per-packet messages interleave as in Click).</summary>
    protected virtual bool RejectSingly => false;

    public override void Push(int port, PacketBatch batch)
    {
        int n = batch.Count;
        if (n == 0)
        {
            Host.Batches.Return(batch);
            return;
        }
        Span<sbyte> reasons = stackalloc sbyte[n];
        if (Classify(batch, reasons))
            Output(0, batch);
        else
            Split(batch, reasons);
    }

    public override PacketBatch? Pull(int port, int max)
    {
        var b = Input(0, max);
        if (b == null) return null;
        int n = b.Count;
        if (n == 0)
        {
            Host.Batches.Return(b);
            return null;
        }
        Span<sbyte> reasons = stackalloc sbyte[n];
        if (Classify(b, reasons)) return b;
        var ps = b.Packets;
        PacketBatch? rejected = null;
        int keep = 0;
        for (int i = 0; i < n; i++)
        {
            if (reasons[i] < 0)
            {
                ps[keep++] = ps[i];
                continue;
            }
            Reject(reasons[i]);
            (rejected ??= Host.Batches.Rent()).Add(ps[i]);
        }
        b.SetCount(keep);
        if (rejected != null) CheckedOutput(1, rejected);
        if (keep > 0) return b;
        Host.Batches.Return(b);
        return null;
    }

    /// <summary>Checks every packet; true if all were accepted.</summary>
    private bool Classify(PacketBatch batch, Span<sbyte> reasons)
    {
        var ps = batch.Packets;
        bool all = true;
        for (int i = 0; i < ps.Length; i++)
        {
            int r = Check(ps[i]);
            reasons[i] = (sbyte)r;
            if (r >= 0) all = false;
        }
        return all;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Split(PacketBatch batch, ReadOnlySpan<sbyte> reasons)
    {
        var items = batch.Packets;
        int n = items.Length;
        bool singly = RejectSingly;
        var run = Host.Batches.Rent();
        bool runBad = reasons[0] >= 0;
        for (int i = 0; i < n; i++)
        {
            bool bad = reasons[i] >= 0;
            if (run.Count > 0 && (bad != runBad || (bad && singly)))
            {
                Flush(run, runBad);
                run = Host.Batches.Rent();
            }
            runBad = bad;
            if (bad) Reject(reasons[i]);
            run.Add(items[i]);
        }
        batch.Clear();
        Host.Batches.Return(batch);
        Flush(run, runBad);
    }

    private void Flush(PacketBatch run, bool bad)
    {
        if (bad) CheckedOutput(1, run);
        else Output(0, run);
    }

    /// <summary>Click's drop_details text: "COUNT\tREASON" per line.</summary>
    protected static string DropDetails(long[] counts, string[] texts)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < texts.Length; i++)
            sb.Append(counts[i]).Append('\t').Append(texts[i]).Append('\n');
        return sb.ToString();
    }
}

/// <summary>
/// A header checker that reports rejections as Click does: the first failure (every failure
/// with VERBOSE) prints "PREFIX REASON", and the drops / drop_details (with DETAILS) handlers
/// count them.
/// </summary>
public abstract class ReasonCheckElement : HeaderCheckElement
{
    private bool _verbose;
    private long _drops;
    private long[]? _reasonDrops;

    /// <summary>The reason texts, indexed by the codes <see cref="HeaderCheckElement.Check"/> returns.</summary>
    protected abstract string[] ReasonTexts { get; }

    /// <summary>What precedes the reason in the failure message, e.g. "x :: CheckTCPHeader: TCP header check failed: ".</summary>
    protected abstract string FailurePrefix { get; }

    protected void SetReporting(bool verbose, bool details)
    {
        _verbose = verbose;
        _reasonDrops = details ? new long[ReasonTexts.Length] : null;
    }

    protected override bool RejectSingly => _verbose;

    protected override void Reject(int reason)
    {
        if (_drops == 0 || _verbose)
            Host.ErrorOutput.Write(FailurePrefix + ReasonTexts[reason] + "\n");
        _drops++;
        if (_reasonDrops != null) _reasonDrops[reason]++;
    }

    public override void AddHandlers()
    {
        AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
        if (_reasonDrops != null)
            AddReadHandler("drop_details", () => DropDetails(_reasonDrops, ReasonTexts));
    }
}
