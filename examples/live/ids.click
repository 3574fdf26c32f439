// The intrusion detector of examples/ids.click as a transparent bump in the wire between
// two interfaces: every frame from one is sent out of the other; IPv4 in both directions
// is inspected by one FlowIDS (flows are directional, so each direction is its own stream).
// Alerting packets are printed on standard error (IPPrint, with their payload), captured
// in $ALERTS, and forwarded; packets that match a drop rule are dropped.
//
//   sudo clickos run examples/live/ids.click A=eth1 B=eth2 [RULES=my.rules ALERTS=alerts.pcap]
define($A veth0, $B veth1, $RULES examples/ids.rules, $ALERTS /tmp/clickos-ids-alerts.pcap);

toA :: Queue(1024) -> ToDevice($A);
toB :: Queue(1024) -> ToDevice($B);
ids :: FlowIDS(RULES $RULES);
ip :: Strip(14) -> CheckIPHeader -> ids;
// Paint 0: from A (goes to B); paint 1: from B (goes to A).
back :: Unstrip(14) -> ps :: PaintSwitch;
ps[0] -> toB;
ps[1] -> toA;

FromDevice($A, PROMISC true) -> Paint(0) -> ca :: Classifier(12/0800, -);
FromDevice($B, PROMISC true) -> Paint(1) -> cb :: Classifier(12/0800, -);
ca[0] -> ip;
cb[0] -> ip;
ca[1] -> toB;
cb[1] -> toA;

ids[0] -> back;
ids[1] -> IPPrint(ALERT, PAYLOAD ASCII) -> alerts :: Counter -> ToDump($ALERTS, ENCAP IP) -> back;

Script(print "ready");
