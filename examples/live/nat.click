// The CG-NAT of examples/nat.click on real interfaces: subscribers 100.64.0.2-9 on $INSIDE
// each get their own block of 1024 public ports (and ICMP echo identifiers) on the public
// address 198.51.100.1 on $OUTSIDE. Click answers ARP for its two addresses and finds the
// subscribers and the next hop outside by ARP. Replies of known flows and ICMP errors about
// them are translated back; pings to either address of the NAT are answered; unsolicited
// traffic from the outside is dropped. TTLs are decremented as in a router.
//
// The interfaces need no IP addresses (and the host must not route between them); their
// MACs should be the ones below. Destinations in $OUTNET are reached directly, others
// through the upstream router $GW. The subscribers' default gateway is 100.64.0.1.
//
//   sudo clickos run examples/live/nat.click INSIDE=eth1 OUTSIDE=eth2 GW=198.51.100.254
//   inside:  100.64.0.1/24     02:00:00:00:01:01   on $INSIDE
//   outside: 198.51.100.1/24   02:00:00:00:01:02   on $OUTSIDE
define($INSIDE veth0, $OUTSIDE veth1, $OUTNET 198.51.100.0/24, $GW 198.51.100.254);

AddressInfo(inside 100.64.0.1/24 02:00:00:00:01:01, outside 198.51.100.1/24 02:00:00:00:01:02);

rw :: IPRewriter(pattern outside 1024-2047# - - 0 1,
                 pattern outside 2048-3071# - - 0 1,
                 pattern outside 3072-4095# - - 0 1,
                 pattern outside 4096-5119# - - 0 1,
                 pattern outside 5120-6143# - - 0 1,
                 pattern outside 6144-7167# - - 0 1,
                 pattern outside 7168-8191# - - 0 1,
                 pattern outside 8192-9215# - - 0 1,
                 drop);
pingrw :: ICMPPingRewriter(pattern outside 1024-2047# - - 0 1,
                           pattern outside 2048-3071# - - 0 1,
                           pattern outside 3072-4095# - - 0 1,
                           pattern outside 4096-5119# - - 0 1,
                           pattern outside 5120-6143# - - 0 1,
                           pattern outside 6144-7167# - - 0 1,
                           pattern outside 7168-8191# - - 0 1,
                           pattern outside 8192-9215# - - 0 1,
                           drop);
icmprw :: ICMPRewriter(rw pingrw);
toworld :: Counter;   // translated, towards the internet
tosubs :: Counter;    // translated back, towards the subscribers

toin :: Queue(1024) -> ToDevice($INSIDE);
toout :: Queue(1024) -> ToDevice($OUTSIDE);
arpin :: ARPQuerier(inside);
arpout :: ARPQuerier(outside);
arpin -> toin;
arpin[1] -> toin;
arpout -> toout;
arpout[1] -> toout;

// ---- inside
FromDevice($INSIDE) -> HostEtherFilter(inside)
  -> ic :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
ic[0] -> ARPResponder(inside) -> toin;
ic[1] -> [1]arpin;
ic[3] -> Discard;
ic[2] -> Strip(14) -> CheckIPHeader
  -> me :: IPClassifier(dst host inside and icmp type echo, dst host inside, -);
me[0] -> ICMPPingResponder -> tosubs;
me[1] -> Discard;
me[2] -> sub :: IPClassifier(src host 100.64.0.2, src host 100.64.0.3, src host 100.64.0.4,
                             src host 100.64.0.5, src host 100.64.0.6, src host 100.64.0.7,
                             src host 100.64.0.8, src host 100.64.0.9, -);
sub[8] -> unprovisioned :: Counter -> Discard;
sub[0] -> s0 :: Counter -> p0 :: IPClassifier(tcp or udp, icmp type echo); p0[0] -> [0]rw; p0[1] -> [0]pingrw;
sub[1] -> s1 :: Counter -> p1 :: IPClassifier(tcp or udp, icmp type echo); p1[0] -> [1]rw; p1[1] -> [1]pingrw;
sub[2] -> s2 :: Counter -> p2 :: IPClassifier(tcp or udp, icmp type echo); p2[0] -> [2]rw; p2[1] -> [2]pingrw;
sub[3] -> s3 :: Counter -> p3 :: IPClassifier(tcp or udp, icmp type echo); p3[0] -> [3]rw; p3[1] -> [3]pingrw;
sub[4] -> s4 :: Counter -> p4 :: IPClassifier(tcp or udp, icmp type echo); p4[0] -> [4]rw; p4[1] -> [4]pingrw;
sub[5] -> s5 :: Counter -> p5 :: IPClassifier(tcp or udp, icmp type echo); p5[0] -> [5]rw; p5[1] -> [5]pingrw;
sub[6] -> s6 :: Counter -> p6 :: IPClassifier(tcp or udp, icmp type echo); p6[0] -> [6]rw; p6[1] -> [6]pingrw;
sub[7] -> s7 :: Counter -> p7 :: IPClassifier(tcp or udp, icmp type echo); p7[0] -> [7]rw; p7[1] -> [7]pingrw;

// ---- outside
FromDevice($OUTSIDE) -> HostEtherFilter(outside)
  -> oc :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
oc[0] -> ARPResponder(outside) -> toout;
oc[1] -> [1]arpout;
oc[3] -> Discard;
oc[2] -> Strip(14) -> CheckIPHeader
  -> op :: IPClassifier(tcp or udp, icmp type echo-reply, icmp type echo and dst host outside,
                        icmp type unreachable or icmp type timeexceeded or icmp type parameterproblem
                          or icmp type sourcequench,
                        -);
op[0] -> [8]rw;
op[1] -> [8]pingrw;
op[2] -> ICMPPingResponder -> toworld;
op[3] -> [0]icmprw;
op[4] -> Discard;
icmprw[1] -> Discard;

// ---- forwarding, both ways
toworld -> DecIPTTL -> GetIPAddress(16) -> StaticIPLookup($OUTNET 0, 0.0.0.0/0 $GW 0) -> [0]arpout;
rw[0] -> toworld;
pingrw[0] -> toworld;
tosubs -> DecIPTTL -> GetIPAddress(16) -> [0]arpin;
rw[1] -> tosubs;
pingrw[1] -> tosubs;
icmprw[0] -> tosubs;

Script(print "ready");
