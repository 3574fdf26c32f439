// The BRAS policing of examples/bras.click as a transparent bridge between the access side
// ($ACCESS, subscribers in 100.64.1.0/24) and the core ($CORE). Upstream IPv4 from a
// subscriber is policed to its plan by source address, downstream to it by destination
// address; ARP and other traffic pass. Plans are set with the policers' set_rate handler,
// here at start-up (the Script), or at any time through a handler interface.
//
//   sudo clickos run examples/live/bras.click ACCESS=eth1 CORE=eth2
define($ACCESS veth0, $CORE veth1);

AddressInfo(access 100.64.1.0/24);

tocore :: Queue(1024) -> ToDevice($CORE);
toaccess :: Queue(1024) -> ToDevice($ACCESS);
up :: SubscriberPolicer(RATE 40kbps, KEY src, CAPACITY 65536);
down :: SubscriberPolicer(RATE 64kbps, KEY dst, CAPACITY 65536);

FromDevice($ACCESS, PROMISC true) -> ca :: Classifier(12/0800, -);
ca[1] -> tocore;
ca[0] -> Strip(14) -> CheckIPHeader -> uc :: IPClassifier(src net access, -);
uc[0] -> up -> upok :: Counter -> Unstrip(14) -> tocore;
uc[1] -> Unstrip(14) -> tocore;
up[1] -> updrop :: Counter -> Discard;

FromDevice($CORE, PROMISC true) -> cc :: Classifier(12/0800, -);
cc[1] -> toaccess;
cc[0] -> Strip(14) -> CheckIPHeader -> dc :: IPClassifier(dst net access, -);
dc[0] -> down -> downok :: Counter -> Unstrip(14) -> toaccess;
dc[1] -> Unstrip(14) -> toaccess;
down[1] -> downdrop :: Counter -> Discard;

Script(write up.set_rate 100.64.1.2 128kbps,
       write down.set_rate 100.64.1.2 128kbps,
       write up.set_rate 100.64.1.4 16kbps,
       write up.set_rate 100.64.1.5 0,
       print "ready");
