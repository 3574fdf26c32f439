using System.Buffers.Binary;
using System.Text;
using ClickOS.Core;
using ClickOS.Language;

namespace ClickOS.Elements;

/// <summary>
/// ARPPrint([LABEL], keywords TIMESTAMP, ETHER): prints ARP packets tcpdump-style on standard
/// error ("LABEL: arp who-has 10.0.0.1 tell 10.0.0.2", "arp reply 10.0.0.1 is-at ..."). Packets
/// start at the Ethernet header (or at the ARP header if ETHER is false).
/// </summary>
/// <example>InfiniteSource(DATA \&lt;ffffffffffff 020000000064 0806 0001 0800 06 04 0001 020000000064 0a000064 000000000000 0a000001&gt;, LIMIT 1, STOP true) -> ARPPrint(arp) -> Discard;</example>
public sealed class ARPPrint : SimpleElement
{
    private string _label = "";
    private bool _timestamp = true, _ether = true;
    private readonly StringBuilder _sb = new();

    public override bool Configure(IReadOnlyList<string> conf, ErrorHandler errh)
    {
        var a = new Args(conf, errh);
        var label = a.ReadP("LABEL", Args.String, "");
        var ts = a.Read("TIMESTAMP", Args.Bool, true);
        var eth = a.Read("ETHER", Args.Bool, true);
        if (!a.Complete()) return false;
        _label = label;
        _timestamp = ts;
        _ether = eth;
        return true;
    }

    protected override void Process(PacketBatch batch)
    {
        foreach (var p in batch.Packets)
        {
            var sb = _sb.Clear();
            if (_label.Length > 0) sb.Append(_label).Append(": ");
            if (_timestamp) sb.Append(ElementUtil.FormatTimestamp(p.TimestampNs)).Append(": ");
            var d = p.Data;
            int off = _ether ? 14 : 0;
            if (d.Length < off + 28)
            {
                sb.Append("truncated-arp (").Append(d.Length).Append(')');
            }
            else
            {
                var arp = d[off..];
                int op = BinaryPrimitives.ReadUInt16BigEndian(arp[6..]);
                string spa = Values.UnparseIPv4(BinaryPrimitives.ReadUInt32BigEndian(arp[14..]));
                string tpa = Values.UnparseIPv4(BinaryPrimitives.ReadUInt32BigEndian(arp[24..]));
                sb.Append(op switch
                {
                    1 => $"arp who-has {tpa} tell {spa}",
                    2 => $"arp reply {spa} is-at {Values.UnparseEther(arp.Slice(8, 6))}",
                    _ => $"arp op {op}",
                });
            }
            sb.Append('\n');
            Host.ErrorOutput.Write(sb);
        }
    }
}
