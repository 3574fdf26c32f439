using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPOutputCombo(COLOR, IPADDR, MTU): the output half of an IP router interface in one element:
/// DropBroadcasts -> PaintTee(COLOR) -> IPGWOptions(IPADDR) -> FixIPSrc(IPADDR) -> DecIPTTL ->
/// IPFragmenter(MTU). Output 0: packets to send; 1: copies of packets painted COLOR (for
/// redirects); 2: bad IP options; 3: TTL expired; 4: too big with DF set. Input packets need
/// their IP header annotation. Handlers: drops (read).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;45000014 00000000 400066e8 0a000001 0a000002&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> o :: IPOutputCombo(2, 10.0.0.1, 1500) -> Discard; o[1], o[2], o[3], o[4] -> Discard;</example>
public sealed class IPOutputCombo : Element
{
    private byte _color;
    private uint _ip;
    private int _mtu;
    private long _drops;
    private readonly List<Packet> _frags = [];

    public override string PortCount => "1/5";
    public override string Processing => "h/h";

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var color = a.ReadMP("COLOR", Args.Byte);
        var ip = a.ReadMP("IPADDR", Args.IPAddress);
        var mtu = a.ReadMP("MTU", Args.Unsigned);
        if (!a.Complete()) return false;
        if (mtu.Value < 28) return errh.Error("MTU must be at least 28");
        _color = (byte)color.Value;
        _ip = ip;
        _mtu = mtu;
        return true;
    }

    public override void Push(int port, PacketBatch batch)
    {
        var ready = Host.Batches.Rent();
        foreach (var p in batch.Packets)
        {
            if (p.PacketType is PacketType.Broadcast or PacketType.Multicast) { _drops++; p.Kill(); continue; }
            if (p.PaintAnno == _color && p.Clone() is { } copy) Flush(ref ready, 1, copy);
            if (IPGWOptions.Process(p, _ip) != 0) { Flush(ref ready, 2, p); continue; }
            int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
            if (ip < 0 || p.Length < ip + 20) { Add(ref ready, p); continue; }
            var w = p.WritableData();
            int hl = (w[ip] & 0x0F) * 4;
            if (p.GetAnnoU8(AnnoOffsets.FixIPSrc) != 0)
            {
                p.SetAnnoU8(AnnoOffsets.FixIPSrc, 0);
                BinaryPrimitives.WriteUInt32BigEndian(w[(ip + 12)..], _ip);
                w[ip + 10] = w[ip + 11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], InternetChecksum.Compute(w.Slice(ip, Math.Max(hl, 20))));
            }
            if (w[ip + 8] <= 1) { Flush(ref ready, 3, p); continue; }
            w[ip + 8]--;
            uint sum = (~(uint)BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 10)..]) & 0xFFFF) + 0xFEFF;
            BinaryPrimitives.WriteUInt16BigEndian(w[(ip + 10)..], (ushort)~(sum + (sum >> 16)));
            int len = Math.Min(BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 2)..]), p.Length - ip);
            if (len <= _mtu) { Add(ref ready, p); continue; }
            if ((BinaryPrimitives.ReadUInt16BigEndian(w[(ip + 6)..]) & 0x4000) != 0) { Flush(ref ready, 4, p); continue; }
            IPFragmenter.Split(Host.Pool, p, ip, len, _mtu, PacketPool.DefaultHeadroom, _frags);
            foreach (var f in _frags) Add(ref ready, f);
            _frags.Clear();
        }
        Host.Batches.Return(batch);
        if (ready.Count > 0) Output(0, ready); else Host.Batches.Return(ready);
    }

    private void Add(ref PacketBatch ready, Packet p)
    {
        if (ready.IsFull) { Output(0, ready); ready = Host.Batches.Rent(); }
        ready.Add(p);
    }

    /// <summary>Sends a packet to a side output, after what is ready for output 0 (keeps order).</summary>
    private void Flush(ref PacketBatch ready, int port, Packet p)
    {
        if (ready.Count > 0) { Output(0, ready); ready = Host.Batches.Rent(); }
        OutputOne(port, p);
    }

    public override void AddHandlers() => AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
}
