// A stateless perimeter firewall for the 10.0.0.0/8 site: anti-spoofing, no fragments,
// established TCP both ways, outbound web/mail/ssh to the server network, DNS and NTP to
// the resolvers, high UDP ports except a blocked range, and ICMP echo out.
// Denied packets are logged in IP summary dump format.
//
//   clickos run examples/firewall.click [IN=trace.pcap PASS=out.pcap LOG=denied.ipsum]
define($IN examples/traffic/firewall.pcap, $PASS /tmp/clickos-firewall-pass.pcap, $LOG /tmp/clickos-firewall-denied.ipsum);

AddressInfo(lan 10.0.0.0/8, resolvers 192.168.0.0/22, servers 172.16.0.0/12);

in :: FromDump($IN, STOP true);
pass :: ToDump($PASS);
log :: ToIPSummaryDump($LOG, FIELDS timestamp ip_src sport ip_dst dport ip_proto tcp_flags);

in -> cl :: Classifier(12/0800, 12/0806, -);
cl[1] -> arp :: Counter -> pass;
cl[2] -> nonip :: Counter -> Discard;

cl[0] -> Strip(14)
  -> chk :: CheckIPHeader(INTERFACES 10.0.0.1/8)
  -> fw :: IPFilter(
       1 src net lan and dst net lan and not icmp,         // should never cross the perimeter
       1 ip frag,
       0 tcp and ack,                                  // established connections
       0 tcp syn and not ack and src net lan and dst net servers
             and (dst port 22 or 25 or 80 or 443 or 8080),
       0 udp and src net lan and dst net resolvers and (dst port 53 or dst port 123),
       0 udp and dst port >= 5000 and not (dst port >= 5100 and dst port < 5200),
       0 icmp type echo and src net lan,
       0 icmp type echo-reply or icmp type timeexceeded,
       1 all)
  -> ok :: Counter -> Unstrip(14) -> pass;
fw[1] -> denied :: Counter -> log -> Discard;

DriverManager(pause,
  print "passed $(ok.count) IP + $(arp.count) ARP, denied $(denied.count), bad IP $(chk.drops), non-IP $(nonip.count)",
  stop);
