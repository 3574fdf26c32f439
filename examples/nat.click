// A carrier-grade NAT (CG-NAT, NAT444) with a block of public ports per subscriber.
//
//   inside:  subscribers 100.64.0.2 - 100.64.0.9 (RFC 6598 shared space), gateway 100.64.0.1
//   outside: one public address, 198.51.100.1
//
// Each subscriber has its own input on the TCP/UDP rewriter and on the ping rewriter, and
// each input's pattern hands out ports (ICMP echo identifiers) from the subscriber's own
// block of 1024, sequentially:
//
//   100.64.0.2  1024-2047    100.64.0.4  3072-4095    100.64.0.6  5120-6143    100.64.0.8  7168-8191
//   100.64.0.3  2048-3071    100.64.0.5  4096-5119    100.64.0.7  6144-7167    100.64.0.9  8192-9215
//
// so a public address and port identify the subscriber without per-flow logging, and no
// subscriber can exhaust another's ports (a full block counts in rw.mapping_failures).
// Unprovisioned inside addresses are dropped. From the outside, replies of known flows are
// translated back, ICMP errors about them are translated by ICMPRewriter, pings to the
// public address are answered, and everything else (unsolicited traffic) is dropped.
//
// Bundled traffic: $IN holds the subscribers' side (TCP connections, DNS, pings, a probe to
// an unreachable host, ARP for the gateway); $OUTSIDE holds unsolicited traffic from the
// internet, read after $IN. The internet itself is simulated: it echoes every translated
// TCP/UDP packet back (IPMirror), answers pings, and sends "host unreachable" for
// 192.0.2.99, after a queue, as real replies would come later. What leaves towards the
// internet goes to $OUT, what goes back to subscribers (translated replies, ARP replies)
// to $BACK, both Ethernet pcaps.
//
//   clickos run examples/nat.click [IN=in.pcap OUTSIDE=out.pcap OUT=x.pcap BACK=y.pcap]
//
// On real interfaces: examples/live/nat.click.
define($IN examples/traffic/nat-inside.pcap, $OUTSIDE examples/traffic/nat-outside.pcap,
       $OUT /tmp/clickos-nat-out.pcap, $BACK /tmp/clickos-nat-back.pcap);

AddressInfo(inside 100.64.0.1 02:00:00:00:01:01, outside 198.51.100.1 02:00:00:00:01:02);

in :: FromDump($IN, STOP true);
world :: FromDump($OUTSIDE, STOP true, ACTIVE false);
out :: ToDump($OUT);
back :: ToDump($BACK);

// TCP and UDP: inputs 0-7 are the subscribers, input 8 the outside (replies only).
rw :: IPRewriter(pattern outside 1024-2047# - - 0 1,
                 pattern outside 2048-3071# - - 0 1,
                 pattern outside 3072-4095# - - 0 1,
                 pattern outside 4096-5119# - - 0 1,
                 pattern outside 5120-6143# - - 0 1,
                 pattern outside 6144-7167# - - 0 1,
                 pattern outside 7168-8191# - - 0 1,
                 pattern outside 8192-9215# - - 0 1,
                 drop);
// ICMP echo: the identifier is translated like a port, from the same blocks.
pingrw :: ICMPPingRewriter(pattern outside 1024-2047# - - 0 1,
                           pattern outside 2048-3071# - - 0 1,
                           pattern outside 3072-4095# - - 0 1,
                           pattern outside 4096-5119# - - 0 1,
                           pattern outside 5120-6143# - - 0 1,
                           pattern outside 6144-7167# - - 0 1,
                           pattern outside 7168-8191# - - 0 1,
                           pattern outside 8192-9215# - - 0 1,
                           drop);
// ICMP errors from the outside that quote a translated packet.
icmprw :: ICMPRewriter(rw pingrw);

// ---- inside
in -> ic :: Classifier(12/0806 20/0001, 12/0800, -);
ic[0] -> ARPResponder(inside) -> back;
ic[2] -> Discard;
ic[1] -> Strip(14) -> CheckIPHeader
  -> sub :: IPClassifier(src host 100.64.0.2, src host 100.64.0.3, src host 100.64.0.4,
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
world -> oc :: Classifier(12/0800, -);
oc[1] -> Discard;
fromworld :: Strip(14) -> CheckIPHeader -> outsideip :: Counter
  -> op :: IPClassifier(tcp or udp, icmp type echo-reply, icmp type echo and dst host outside,
                        icmp type unreachable or icmp type timeexceeded or icmp type parameterproblem
                          or icmp type sourcequench or icmp type redirect,
                        -);
oc[0] -> fromworld;
op[0] -> [8]rw;
op[1] -> [8]pingrw;
op[2] -> ICMPPingResponder -> answered :: Counter -> EtherEncap(0x0800, outside, 02:00:00:cb:00:01) -> out;
op[3] -> [0]icmprw;
op[4] -> Discard;
icmprw[1] -> Discard;

// ---- towards the internet, and back to the subscribers
toworld :: Counter -> t :: Tee -> EtherEncap(0x0800, outside, 02:00:00:cb:00:01) -> out;
rw[0] -> toworld;
pingrw[0] -> toworld;
tosubs :: Counter -> EtherEncap(0x0800, inside, 02:00:00:64:00:00) -> back;
rw[1] -> tosubs;
pingrw[1] -> tosubs;
icmprw[0] -> icmpback :: Counter -> tosubs;

// ---- the simulated internet (offline only)
t[1] -> delay :: Queue(4096) -> Unqueue(BURST 64)
  -> net :: IPClassifier(dst host 192.0.2.99, icmp type echo, tcp or udp, -);
net[0] -> ICMPError(192.0.2.254, unreachable, host) -> EtherEncap(0x0800, 02:00:00:cb:00:01, outside) -> oc;
net[1] -> ICMPPingResponder -> EtherEncap(0x0800, 02:00:00:cb:00:01, outside) -> oc;
net[2] -> IPMirror -> EtherEncap(0x0800, 02:00:00:cb:00:01, outside) -> oc;
net[3] -> Discard;

DriverManager(pause, write world.active true, pause,
  label drain, wait 10ms, goto drain $(gt $(delay.length) 0),   // until every reply is back
  print "to internet $(toworld.count), to subscribers $(tosubs.count) (ICMP errors $(icmpback.count)), pings answered $(answered.count)",
  print "dropped: unprovisioned $(unprovisioned.count), unsolicited $(sub $(outsideip.count) $(tosubs.count) $(answered.count))",
  print "per subscriber: $(s0.count) $(s1.count) $(s2.count) $(s3.count) $(s4.count) $(s5.count) $(s6.count) $(s7.count)",
  print "mappings: tcp/udp $(rw.nmappings), ping $(pingrw.nmappings), failures $(rw.mapping_failures)",
  stop);
