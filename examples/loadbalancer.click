// A layer-4 load balancer (NAT mode, as LVS-NAT): TCP connections to the virtual service
// 192.0.2.100:80 are spread over a pool of backends 10.1.0.11-13:8080. The destination of
// each new connection is rewritten to the next backend in turn (RoundRobinIPMapper); every
// later packet of the connection goes to the same backend, and the backend's replies get
// the VIP back as their source. The backends route their replies through the balancer.
//
//   front: clients reach the VIP 192.0.2.100 (the balancer answers ARP for it)
//   back:  backends 10.1.0.11, 10.1.0.12, 10.1.0.13, port 8080
//
// MAPPER=hash uses SourceIPHashMapper instead: every connection of one client address goes
// to the same backend (stickiness for sessions kept on the server), chosen by consistent
// hashing, so adding or removing a backend moves only the clients that hashed to it.
//
// Bundled traffic: $IN holds 30 HTTP connections from 10 clients (SYN, ACK, request, FIN),
// an ARP query for the VIP, and traffic that is not for the service (dropped). The backends
// are simulated: each echoes what it receives (IPMirror), after a queue. What goes to the
// backends is written to $OUT, the replies to the clients (and ARP) to $REPLIES.
//
//   clickos run examples/loadbalancer.click [IN=in.pcap OUT=x.pcap REPLIES=y.pcap MAPPER=hash]
//
// On real interfaces: examples/live/loadbalancer.click.
define($IN examples/traffic/lb-clients.pcap, $OUT /tmp/clickos-lb-backends.pcap,
       $REPLIES /tmp/clickos-lb-replies.pcap, $MAPPER rr);

AddressInfo(vip 192.0.2.100 02:00:00:00:02:01, back 10.1.0.1 02:00:00:00:02:02);

rr :: RoundRobinIPMapper(- - 10.1.0.11 8080 0 1,
                         - - 10.1.0.12 8080 0 1,
                         - - 10.1.0.13 8080 0 1);
hash :: SourceIPHashMapper(64 0x5eed,
                           - - 10.1.0.11 8080 0 1 1,
                           - - 10.1.0.12 8080 0 1 2,
                           - - 10.1.0.13 8080 0 1 3);
// Input 0: new connections from clients, mapped by $MAPPER. Input 1: the backends' side,
// where only replies of known connections are accepted.
rw :: IPRewriter($MAPPER, drop);

in :: FromDump($IN, STOP true);
out :: ToDump($OUT);
replies :: ToDump($REPLIES);

// ---- front
in -> fc :: Classifier(12/0806 20/0001, 12/0800, -);
fc[0] -> ARPResponder(vip) -> replies;
fc[2] -> Discard;
fc[1] -> Strip(14) -> CheckIPHeader
  -> svc :: IPClassifier(dst host vip and tcp dst port 80, -);
svc[0] -> conns :: Counter -> [0]rw;
svc[1] -> other :: Counter -> Discard;

rw[0] -> tobackends :: Counter -> tb :: Tee -> EtherEncap(0x0800, back, 02:00:00:0a:01:00) -> out;
rw[1] -> toclients :: Counter -> EtherEncap(0x0800, vip, 02:00:00:cb:71:00) -> replies;

// ---- the simulated backends (offline only)
tb[1] -> delay :: Queue(4096) -> Unqueue(BURST 64) -> IPMirror -> [1]rw;

DriverManager(pause,
  label drain, wait 10ms, goto drain $(gt $(delay.length) 0),   // until every reply is back
  print "service packets $(conns.count), to backends $(tobackends.count), replies $(toclients.count), not for the service $(other.count)",
  print "connections $(rw.nmappings), failures $(rw.mapping_failures)",
  stop);
