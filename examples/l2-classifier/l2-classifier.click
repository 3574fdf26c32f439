// A stateless L2/L3 traffic splitter: classifies Ethernet frames by EtherType and IP
// protocol, counts each class, keeps a copy of TCP SYNs in a capture, and prints a
// summary when the trace ends.
//
//   clickos run examples/l2-classifier/l2-classifier.click [TRACE=file.pcap] [SYNS=out.pcap]
// (run from the repository root, or pass TRACE)
define($TRACE examples/traffic/mixed.pcap, $SYNS /tmp/clickos-syns.pcap);

src :: FromDump($TRACE, STOP true);
cl :: Classifier(12/0806,                 // ARP
                 12/0800 23/06 47/02%02,  // TCP with SYN set
                 12/0800 23/06,           // other TCP
                 12/0800 23/11,           // UDP
                 12/0800,                 // other IPv4
                 12/86dd,                 // IPv6
                 -);                      // everything else
src -> all :: Counter -> cl;
cl[0] -> arp :: Counter -> Discard;
cl[1] -> syn :: Counter -> ToDump($SYNS);
cl[2] -> tcp :: Counter -> Discard;
cl[3] -> udp :: Counter -> Discard;
cl[4] -> ipv4 :: Counter -> Discard;
cl[5] -> ipv6 :: Counter -> Discard;
cl[6] -> other :: Counter -> Discard;

DriverManager(pause,
  print "packets  $(all.count) ($(all.byte_count) bytes)",
  print "arp      $(arp.count)",
  print "tcp syn  $(syn.count)",
  print "tcp      $(tcp.count)",
  print "udp      $(udp.count)",
  print "ipv4     $(ipv4.count)",
  print "ipv6     $(ipv6.count)",
  print "other    $(other.count)",
  stop);
