// A two-interface IP router in the style of Click's make-ip-conf.pl output.
//
//   eth0: 10.0.0.1/8      02:00:00:00:00:01   (traffic from IN0)
//   eth1: 192.168.0.1/16  02:00:00:00:00:02   (traffic from IN1, read after IN0)
//
// Each interface has ARP (responder and querier), a header check, a routing table with
// local delivery (pings are answered), and per-interface output paths with broadcast
// drops, redirects, IP options, TTL decrement and fragmentation, all with ICMP errors.
// The neighbours on each link are simulated by ARPResponders that answer our queries.
//
//   clickos run examples/router.click [IN0=a.pcap IN1=b.pcap OUT0=x.pcap OUT1=y.pcap]
define($IN0 examples/traffic/router-in0.pcap, $IN1 examples/traffic/router-in1.pcap,
       $OUT0 /tmp/clickos-router-eth0.pcap, $OUT1 /tmp/clickos-router-eth1.pcap);

AddressInfo(eth0 10.0.0.1/8 02:00:00:00:00:01,
            eth1 192.168.0.1/16 02:00:00:00:00:02);

in0 :: FromDump($IN0, STOP true);
in1 :: FromDump($IN1, STOP true, ACTIVE false);
out0 :: ToDump($OUT0);
out1 :: ToDump($OUT1);

c0 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
in0 -> HostEtherFilter(eth0) -> c0;
in1 -> HostEtherFilter(eth1) -> c1;
c0[3] -> nonip0 :: Counter -> Discard;
c1[3] -> nonip1 :: Counter -> Discard;

// ARP
arpq0 :: ARPQuerier(eth0);
arpq1 :: ARPQuerier(eth1);
c0[0] -> ARPResponder(eth0) -> out0;
c1[0] -> ARPResponder(eth1) -> out1;
c0[1] -> [1]arpq0;
c1[1] -> [1]arpq1;
arpq0 -> tx0 :: Counter -> out0;
arpq1 -> tx1 :: Counter -> out1;
arpq0[1] -> t0 :: Tee -> out0;
arpq1[1] -> t1 :: Tee -> out1;
t0[1] -> ARPResponder(10.0.0.0/8 02:00:00:00:0a:0a) -> [1]arpq0;
t1[1] -> ARPResponder(192.168.0.0/16 02:00:00:00:0b:0b) -> [1]arpq1;

// Routing: local addresses, the two connected networks, and a default route.
rt :: StaticIPLookup(10.0.0.1/32 0, 10.255.255.255/32 0, 10.0.0.0/32 0,
                     192.168.0.1/32 0, 192.168.255.255/32 0, 192.168.0.0/32 0,
                     10.0.0.0/8 1,
                     192.168.0.0/16 2, 0.0.0.0/0 192.168.255.254 2);

ip :: Strip(14)
   -> chk :: CheckIPHeader(INTERFACES 10.0.0.1/8 192.168.0.1/16, DETAILS true)
   -> GetIPAddress(16) -> [0]rt;
c0[2] -> Paint(1) -> ip;
c1[2] -> Paint(2) -> ip;

// Local delivery: answer pings, count the rest.
rt[0] -> lc :: IPClassifier(icmp type echo, -);
lc[0] -> pings :: Counter -> ICMPPingResponder -> [0]rt;
lc[1] -> local :: Counter -> Discard;

// Output paths.
rt[1] -> DropBroadcasts
      -> cp1 :: PaintTee(1)
      -> gio1 :: IPGWOptions(eth0)
      -> FixIPSrc(eth0)
      -> dt1 :: DecIPTTL
      -> fr1 :: IPFragmenter(1500)
      -> [0]arpq0;
dt1[1] -> ICMPError(eth0, timeexceeded) -> [0]rt;
fr1[1] -> ICMPError(eth0, unreachable, needfrag) -> [0]rt;
gio1[1] -> ICMPError(eth0, parameterproblem) -> [0]rt;
cp1[1] -> ICMPError(eth0, redirect, host) -> [0]rt;

rt[2] -> DropBroadcasts
      -> cp2 :: PaintTee(2)
      -> gio2 :: IPGWOptions(eth1)
      -> FixIPSrc(eth1)
      -> dt2 :: DecIPTTL
      -> fr2 :: IPFragmenter(1500)
      -> [0]arpq1;
dt2[1] -> ICMPError(eth1, timeexceeded) -> [0]rt;
fr2[1] -> ICMPError(eth1, unreachable, needfrag) -> [0]rt;
gio2[1] -> ICMPError(eth1, parameterproblem) -> [0]rt;
cp2[1] -> ICMPError(eth1, redirect, host) -> [0]rt;

DriverManager(pause, write in1.active true, pause,
  print "eth0 sent $(tx0.count), eth1 sent $(tx1.count), pings answered $(pings.count), local $(local.count), bad IP $(chk.drops), non-IP $(add $(nonip0.count) $(nonip1.count))",
  stop);
