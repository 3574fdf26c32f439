// The two-interface IP router of examples/router.click, on real interfaces: ARP with the
// real neighbours, header checks, a routing table with local delivery (pings to the
// router's own addresses are answered), TTL decrement, fragmentation and ICMP errors.
// The interfaces themselves need no IP addresses (and the host should not route between
// them): Click answers ARP for its own, and the interfaces' MACs should be the ones below.
//
//   sudo clickos run examples/live/router.click DEV0=eth1 DEV1=eth2
//   eth0: 10.0.0.1/8      02:00:00:00:00:01   on $DEV0
//   eth1: 192.168.0.1/16  02:00:00:00:00:02   on $DEV1
define($DEV0 veth0, $DEV1 veth1);

AddressInfo(eth0 10.0.0.1/8 02:00:00:00:00:01, eth1 192.168.0.1/16 02:00:00:00:00:02);

out0 :: Queue(1024) -> ToDevice($DEV0);
out1 :: Queue(1024) -> ToDevice($DEV1);

c0 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
c1 :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
FromDevice($DEV0) -> HostEtherFilter(eth0) -> c0;
FromDevice($DEV1) -> HostEtherFilter(eth1) -> c1;
c0[3] -> Discard;
c1[3] -> Discard;

arpq0 :: ARPQuerier(eth0);
arpq1 :: ARPQuerier(eth1);
c0[0] -> ARPResponder(eth0) -> out0;
c1[0] -> ARPResponder(eth1) -> out1;
c0[1] -> [1]arpq0;
c1[1] -> [1]arpq1;
arpq0 -> tx0 :: Counter -> out0;
arpq1 -> tx1 :: Counter -> out1;

rt :: StaticIPLookup(10.0.0.1/32 0, 10.255.255.255/32 0, 10.0.0.0/32 0,
                     192.168.0.1/32 0, 192.168.255.255/32 0, 192.168.0.0/32 0,
                     10.0.0.0/8 1, 192.168.0.0/16 2);

ip :: Strip(14)
   -> chk :: CheckIPHeader(INTERFACES 10.0.0.1/8 192.168.0.1/16)
   -> GetIPAddress(16) -> [0]rt;
c0[2] -> Paint(1) -> ip;
c1[2] -> Paint(2) -> ip;

rt[0] -> lc :: IPClassifier(icmp type echo, -);
lc[0] -> pings :: Counter -> ICMPPingResponder -> [0]rt;
lc[1] -> local :: Counter -> Discard;

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

Script(print "ready");
