// The load balancer of examples/loadbalancer.click on real interfaces: TCP connections to
// the VIP $VIP:$PORT arriving on $FRONT are spread over backends 10.1.0.11-13:8080 on $BACK,
// round robin (MAPPER=hash: by client address, with SourceIPHashMapper). The backends must
// route their replies through the balancer (default route via 10.1.0.1); the replies leave
// with the VIP as their source. Click answers ARP for the VIP, the front address 192.0.2.1
// and the back address 10.1.0.1, and answers pings to them.
//
// The interfaces need no IP addresses (and the host must not route between them); their
// MACs should be the ones below. Clients outside $FRONTNET are reached through $GW.
//
//   sudo clickos run examples/live/loadbalancer.click FRONT=eth1 BACK=eth2
//   front: 192.0.2.1/24 and the VIP   02:00:00:00:02:01   on $FRONT
//   back:  10.1.0.1/24                02:00:00:00:02:02   on $BACK
define($FRONT veth0, $BACK veth1, $VIP 192.0.2.100, $PORT 80, $MAPPER rr,
       $FRONTNET 192.0.2.0/24, $GW 192.0.2.254);

AddressInfo(front 192.0.2.1/24 02:00:00:00:02:01, back 10.1.0.1/24 02:00:00:00:02:02);

rr :: RoundRobinIPMapper(- - 10.1.0.11 8080 0 1,
                         - - 10.1.0.12 8080 0 1,
                         - - 10.1.0.13 8080 0 1);
hash :: SourceIPHashMapper(64 0x5eed,
                           - - 10.1.0.11 8080 0 1 1,
                           - - 10.1.0.12 8080 0 1 2,
                           - - 10.1.0.13 8080 0 1 3);
rw :: IPRewriter($MAPPER, drop);

tofront :: Queue(1024) -> ToDevice($FRONT);
toback :: Queue(1024) -> ToDevice($BACK);
arpf :: ARPQuerier(front);
arpb :: ARPQuerier(back);
arpf -> tofront;
arpf[1] -> tofront;
arpb -> toback;
arpb[1] -> toback;
// Towards clients: directly on $FRONTNET, else through $GW.
tofrontrt :: GetIPAddress(16) -> StaticIPLookup($FRONTNET 0, 0.0.0.0/0 $GW 0) -> [0]arpf;
// Pings to the balancer's addresses are answered on the side they came from.
pong :: ICMPPingResponder -> pongs :: IPClassifier(dst net back, -);
pongs[0] -> GetIPAddress(16) -> [0]arpb;
pongs[1] -> tofrontrt;

// ---- front: clients
FromDevice($FRONT) -> HostEtherFilter(front)
  -> fc :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
fc[0] -> ARPResponder(front, $VIP 02:00:00:00:02:01) -> tofront;
fc[1] -> [1]arpf;
fc[3] -> Discard;
fc[2] -> Strip(14) -> CheckIPHeader
  -> svc :: IPClassifier(dst host $VIP and tcp dst port $PORT,
                         icmp type echo and (dst host $VIP or dst host front), -);
svc[0] -> conns :: Counter -> [0]rw;
svc[1] -> pong;
svc[2] -> other :: Counter -> Discard;
rw[0] -> tobackends :: Counter -> GetIPAddress(16) -> [0]arpb;

// ---- back: backends
FromDevice($BACK) -> HostEtherFilter(back)
  -> bc :: Classifier(12/0806 20/0001, 12/0806 20/0002, 12/0800, -);
bc[0] -> ARPResponder(back) -> toback;
bc[1] -> [1]arpb;
bc[3] -> Discard;
bc[2] -> Strip(14) -> CheckIPHeader
  -> be :: IPClassifier(tcp src port 8080, icmp type echo and dst host back, -);
be[0] -> [1]rw;
be[1] -> pong;
be[2] -> Discard;
rw[1] -> toclients :: Counter -> tofrontrt;

Script(print "ready");
