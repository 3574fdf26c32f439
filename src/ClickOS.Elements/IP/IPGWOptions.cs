using System.Buffers.Binary;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// IPGWOptions(MYADDR [, OTHERADDRS]): processes the IP options every router handles: Record
/// Route and Timestamp (filled with MYADDR and the time), fixing the checksum. Packets with
/// malformed options go to output 1 (if it exists; else dropped) with the ICMP_PARAMPROB
/// annotation pointing at the bad byte, ready for ICMPError(..., parameterproblem).
/// Handler: drops.
/// </summary>
/// <example>InfiniteSource(DATA \&lt;46000018 00000000 40000000 0a000001 0a000002 01010100&gt;, LIMIT 1, STOP true) -> MarkIPHeader -> g :: IPGWOptions(10.0.0.9) -> Discard; g[1] -> Discard;</example>
public sealed class IPGWOptions : FilterElement
{
    private uint _my;
    private long _drops;

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var my = a.ReadMP("MYADDR", Args.IPAddress);
        a.ReadP("OTHERADDRS", Args.Any, "");
        if (!a.Complete()) return false;
        _my = my;
        return true;
    }

    protected override int Classify(Packet p)
    {
        int r = Process(p, _my);
        if (r != 0) _drops++;
        return r;
    }

    /// <summary>Processes Record Route and Timestamp options for router address <paramref name="my"/>; 1 = bad options (ICMP_PARAMPROB set).</summary>
    internal static int Process(Packet p, uint my)
    {
        int ip = p.HasNetworkHeader ? p.NetworkHeaderOffset : 0;
        if (ip < 0 || p.Length < ip + 20) return 0;
        int hl = (p.Data[ip] & 0x0F) * 4;
        if (hl <= 20) return 0;
        if (p.Length < ip + hl) return Bad(p, 0);
        var d = p.WritableData().Slice(ip, hl);
        bool changed = false;
        for (int i = 20; i < hl;)
        {
            byte type = d[i];
            if (type == 0) break;
            if (type == 1) { i++; continue; }
            if (i + 1 >= hl) return Bad(p, i);
            int len = d[i + 1];
            if (len < 2 || i + len > hl) return Bad(p, i + 1);
            if (type == 7)
            {
                if (len < 3) return Bad(p, i + 1);
                int ptr = d[i + 2];
                if (ptr < 4) return Bad(p, i + 2);
                if (ptr + 3 <= len)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(d[(i + ptr - 1)..], my);
                    d[i + 2] = (byte)(ptr + 4);
                    changed = true;
                }
            }
            else if (type == 68)
            {
                if (len < 4) return Bad(p, i + 1);
                int ptr = d[i + 2];
                int flag = d[i + 3] & 0x0F;
                int step = flag == 0 ? 4 : 8;
                if (ptr < 5) return Bad(p, i + 2);
                uint ms = (uint)(p.TimestampNs / 1_000_000 % 86_400_000);
                if (ptr + step - 1 <= len)
                {
                    if (flag == 0) BinaryPrimitives.WriteUInt32BigEndian(d[(i + ptr - 1)..], ms);
                    else if (flag == 1)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(d[(i + ptr - 1)..], my);
                        BinaryPrimitives.WriteUInt32BigEndian(d[(i + ptr + 3)..], ms);
                    }
                    else if (flag == 3)
                    {
                        if (BinaryPrimitives.ReadUInt32BigEndian(d[(i + ptr - 1)..]) != my) { i += len; continue; }
                        BinaryPrimitives.WriteUInt32BigEndian(d[(i + ptr + 3)..], ms);
                    }
                    else return Bad(p, i + 3);
                    d[i + 2] = (byte)(ptr + step);
                    changed = true;
                }
                else
                {
                    int overflow = d[i + 3] >> 4;
                    if (overflow == 15) return Bad(p, i + 3);
                    d[i + 3] = (byte)(((overflow + 1) << 4) | flag);
                    changed = true;
                }
            }
            i += len;
        }
        if (changed)
        {
            d[10] = d[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[10..], InternetChecksum.Compute(d));
        }
        return 0;
    }

    private static int Bad(Packet p, int offset)
    {
        p.SetAnnoU8(AnnoOffsets.IcmpParamProb, (byte)offset);
        return 1;
    }

    public override void AddHandlers() => AddReadHandler("drops", () => _drops.ToString(ElementUtil.Inv));
}
