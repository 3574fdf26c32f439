// A transparent (bridging) stateful firewall between a client side and a server side: the
// client side may open TCP, UDP and ping flows; from the server side only replies to those
// flows (and ICMP errors about them) get through. ARP and other non-IP frames pass both ways.
//
//   sudo clickos run examples/live/stateful-firewall.click CLIENT=eth1 SERVER=eth2
define($CLIENT veth0, $SERVER veth1, $CAPACITY 100000);

ct :: ConnTrack(CAPACITY $CAPACITY);
toserver :: Queue(1024) -> ToDevice($SERVER);
toclient :: Queue(1024) -> ToDevice($CLIENT);

FromDevice($CLIENT, PROMISC true) -> ccl :: Classifier(12/0800, -);
ccl[1] -> toserver;
ccl[0] -> Strip(14) -> CheckIPHeader -> [0]ct;
ct[0] -> outbound :: Counter -> Unstrip(14) -> toserver;

FromDevice($SERVER, PROMISC true) -> scl :: Classifier(12/0800, -);
scl[1] -> toclient;
scl[0] -> Strip(14) -> CheckIPHeader -> [1]ct;
ct[1] -> inbound :: Counter -> Unstrip(14) -> toclient;
ct[2] -> denied :: Counter -> Discard;

Script(print "ready");
