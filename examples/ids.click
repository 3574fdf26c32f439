// A network intrusion detector: FlowIDS matches TCP and UDP payloads against the Snort-style
// content rules in $RULES, keeping the matcher's state per flow, so a signature split across
// two TCP segments is still found. Alerting packets leave on FlowIDS output 1: each is
// logged as one line (IPPrint, with the payload) in $LOG and captured in $ALERTS; clean
// traffic (and non-IP frames) passes on output 0 to $CLEAN. Packets that match a "drop" rule
// are dropped. The per-rule counts are printed at the end.
//
// Bundled traffic: web flows (clean, cmd.exe, directory traversal to ports 80 and 8080, a
// signature split across two segments, the halves of a signature in two different flows),
// DNS queries and a telnet login as root.
//
//   clickos run examples/ids.click [IN=trace.pcap RULES=file.rules CLEAN=x.pcap ALERTS=y.pcap LOG=alerts.txt]
//
// On real interfaces, as a bump in the wire: examples/live/ids.click.
define($IN examples/traffic/ids.pcap, $RULES examples/ids.rules,
       $CLEAN /tmp/clickos-ids-clean.pcap, $ALERTS /tmp/clickos-ids-alerts.pcap,
       $LOG /tmp/clickos-ids-alerts.txt);

in :: FromDump($IN, STOP true);
clean :: ToDump($CLEAN);

in -> c :: Classifier(12/0800, -);
c[1] -> nonip :: Counter -> clean;
c[0] -> Strip(14) -> chk :: CheckIPHeader
  -> ids :: FlowIDS(RULES $RULES, CAPACITY 65536, TIMEOUT 300)
  -> Unstrip(14) -> clean;
ids[1] -> IPPrint(ALERT, PAYLOAD ASCII, OUTFILE $LOG) -> Unstrip(14) -> ToDump($ALERTS);

DriverManager(pause,
  print "inspected $(ids.count) packets, alerts $(ids.alerts), dropped $(ids.drops), out of order $(ids.out_of_order), bad IP $(chk.drops), non-IP $(nonip.count)",
  print "$(ids.matches)",
  stop);
