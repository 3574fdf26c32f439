using ClickOS.Tests;
using PacketDotNet;

namespace ClickOS.Elements.Tests;

/// <summary>Packets built by elements, checked with an independent parser (PacketDotNet).</summary>
public sealed class OracleTests
{

    [Fact]
    public void FastUDPFlowsBuildsValidUdpOverIPv4()
    {
        string dir = Path.Combine(Path.GetTempPath(), "clickos-oracle-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        try
        {
            string pcap = Path.Combine(dir, "flows.pcap");
            using (var t = TestRouter.Start($"FastUDPFlows(0, 50, 98, 02:00:00:00:00:01, 10.0.0.1, 02:00:00:00:00:02, 10.0.0.2, 5, 3) -> u :: Unqueue(BURST 8) -> ToDump({pcap}); DriverManager(label l, wait 1ms, goto l $(lt $(u.count) 50), stop);"))
            {
                t.Run();
                Assert.Equal("50", t.Read("FastUDPFlows@1.count"));
                Assert.Equal("50", t.Read("u.count"));
                t.AssertNoLeaks();
            }
            var frames = ReadFrames(pcap);
            Assert.Equal(50, frames.Count);
            var ports = new HashSet<(ushort, ushort)>();
            foreach (var f in frames)
            {
                var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, f);
                var ip = eth.Extract<IPv4Packet>();
                var udp = eth.Extract<UdpPacket>();
                Assert.NotNull(ip);
                Assert.NotNull(udp);
                Assert.Equal("10.0.0.1", ip.SourceAddress.ToString());
                Assert.Equal("10.0.0.2", ip.DestinationAddress.ToString());
                Assert.Equal(98 - 14, ip.TotalLength);
                Assert.True(ip.ValidIPChecksum);
                Assert.True(udp.ValidUdpChecksum);
                Assert.Equal(98 - 34, udp.Length);
                ports.Add((udp.SourcePort, udp.DestinationPort));
            }
            // 5 flows that change ports every 3 packets: many distinct port pairs over 50 packets.
            Assert.True(ports.Count > 5);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void FastTCPFlowsBuildsValidTcpFlows()
    {
        string dir = Path.Combine(Path.GetTempPath(), "clickos-oracle-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        try
        {
            string pcap = Path.Combine(dir, "flows.pcap");
            using (var t = TestRouter.Start($"FastTCPFlows(0, 60, 80, 02:00:00:00:00:01, 10.0.0.1, 02:00:00:00:00:02, 10.0.0.2, 1, 5) -> u :: Unqueue(BURST 8) -> ToDump({pcap}); DriverManager(label l, wait 1ms, goto l $(lt $(u.count) 60), stop);"))
            {
                t.Run();
                t.AssertNoLeaks();
            }
            var frames = ReadFrames(pcap);
            Assert.Equal(60, frames.Count);
            for (int i = 0; i < frames.Count; i++)
            {
                var eth = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, frames[i]);
                var ip = eth.Extract<IPv4Packet>();
                var tcp = eth.Extract<TcpPacket>();
                Assert.True(ip.ValidIPChecksum);
                Assert.True(tcp.ValidChecksum);
                // One flow of five packets at a time: SYN, three data packets, FIN.
                Assert.Equal(i % 5 == 0, tcp.Synchronize);
                Assert.Equal(i % 5 == 4, tcp.Finished);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static List<byte[]> ReadFrames(string path)
    {
        var b = File.ReadAllBytes(path);
        var list = new List<byte[]>();
        for (int pos = 24; pos + 16 <= b.Length;)
        {
            int cap = BitConverter.ToInt32(b, pos + 8);
            list.Add(b.AsSpan(pos + 16, cap).ToArray());
            pos += 16 + cap;
        }
        return list;
    }
}
