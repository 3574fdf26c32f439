// A stateful firewall for the 10.0.0.0/8 site: anything the site starts may go out, and only
// replies to those connections (and ICMP errors about them) may come back in. Connection
// tracking is ConnTrack's: TCP must start with a SYN (STRICT), every flow times out, and the
// table is bounded (CAPACITY) so a flood or scan cannot grow it. Denied packets are logged.
//
//   clickos run examples/stateful-firewall.click [IN=trace.pcap PASS=out.pcap LOG=denied.ipsum]
//
// On real interfaces, replace the FromDump/ToDump pair with FromDevice/ToDevice on the inside
// and outside NICs (see examples/live/ and docs/io.md) and feed each side to its own input.
define($IN examples/traffic/stateful-firewall.pcap, $PASS /tmp/clickos-stateful-pass.pcap,
       $LOG /tmp/clickos-stateful-denied.ipsum, $CAPACITY 100000);

AddressInfo(lan 10.0.0.0/8);

in :: FromDump($IN, STOP true);
pass :: ToDump($PASS);
log :: ToIPSummaryDump($LOG, FIELDS timestamp ip_src sport ip_dst dport ip_proto tcp_flags);
ct :: ConnTrack(CAPACITY $CAPACITY, STRICT true, TCP_NEW_TIMEOUT 30, UDP_TIMEOUT 60);

in -> cl :: Classifier(12/0800, -);
cl[1] -> nonip :: Counter -> Discard;
cl[0] -> Strip(14) -> chk :: CheckIPHeader -> side :: IPClassifier(src net lan, -);
side[0] -> [0]ct;               // from the site
side[1] -> [1]ct;               // from the outside
ct[0] -> outbound :: Counter -> Unstrip(14) -> pass;
ct[1] -> inbound :: Counter -> Unstrip(14) -> pass;
ct[2] -> denied :: Counter -> log -> Discard;

DriverManager(pause,
  print "outbound $(outbound.count), inbound $(inbound.count), denied $(denied.count), bad IP $(chk.drops), non-IP $(nonip.count), tracked $(ct.count)",
  stop);
