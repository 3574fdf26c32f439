// A transparent (bridging) firewall between a client side and a server side: ARP and
// other non-IP frames pass both ways, IP from the client side goes through IPFilter,
// which sends TCP to port $BLOCKED to output 1 (counted and dropped) and passes
// everything else. Replies pass unfiltered.
//
//   sudo clickos run examples/live/firewall.click CLIENT=eth1 SERVER=eth2 BLOCKED=23
define($CLIENT veth0, $SERVER veth1, $BLOCKED 9090);

toserver :: Queue(1024) -> ToDevice($SERVER);
FromDevice($CLIENT, PROMISC true) -> cl :: Classifier(12/0800, -);
cl[1] -> toserver;
cl[0] -> Strip(14)
      -> CheckIPHeader
      -> fw :: IPFilter(1 tcp dst port $BLOCKED, 0 all)
      -> passed :: Counter
      -> Unstrip(14)
      -> toserver;
fw[1] -> denied :: Counter -> Discard;

FromDevice($SERVER, PROMISC true) -> Queue(1024) -> ToDevice($CLIENT);
Script(print "ready");
