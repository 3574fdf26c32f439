// A BRAS (broadband remote access server) edge: per-subscriber rate limits and accounting.
// Subscribers are the addresses of 100.64.1.0/24 on the access side. Each has an upstream
// token bucket (SubscriberPolicer keyed on the source address) and a downstream one (keyed
// on the destination address); traffic over the subscriber's rate is dropped and counted.
// Every subscriber gets the default plan (RATE) when first seen; the Script below gives
// some their own plan with the set_rate handler, as a provisioning system would, also while
// the router runs:
//
//   100.64.1.2  gold       128 kbit/s up, 128 kbit/s down
//   100.64.1.3  (default)   40 kbit/s up,  64 kbit/s down
//   100.64.1.4  bronze      16 kbit/s up
//   100.64.1.5  suspended    0 (everything dropped)
//
// Accounting: the policers' "subscribers" handlers list, per subscriber, the rate and the
// packets and bytes that conformed and that were dropped; Counters total each direction.
//
// Bundled traffic: 1 s of 100-byte packets at 100 packets/s (80 kbit/s) from each of the
// four subscribers, and to 100.64.1.2 and 100.64.1.3. It is replayed at its recorded pace
// (TIMING true), so a run takes a second; with --simtime it runs at once and the result is
// exactly reproducible:
//
//   clickos run --simtime examples/bras.click [IN=trace.pcap OUT=passed.pcap]
//
// Change a plan at run time with a write to set_rate (here from a Script; any handler
// interface works): write up.set_rate 100.64.1.3 1Mbps
//
// On real interfaces, as a bridge between the access side and the core: examples/live/bras.click.
define($IN examples/traffic/bras.pcap, $OUT /tmp/clickos-bras-out.pcap, $TIMING true);

AddressInfo(access 100.64.1.0/24);

in :: FromDump($IN, STOP true, TIMING $TIMING);
out :: ToDump($OUT);

up :: SubscriberPolicer(RATE 40kbps, KEY src, CAPACITY 65536);
down :: SubscriberPolicer(RATE 64kbps, KEY dst, CAPACITY 65536);

in -> c :: Classifier(12/0800, -);
c[1] -> Discard;
c[0] -> Strip(14) -> CheckIPHeader
  -> dir :: IPClassifier(src net access, dst net access, -);
dir[0] -> upin :: Counter -> up -> upok :: Counter -> Unstrip(14) -> out;
dir[1] -> downin :: Counter -> down -> downok :: Counter -> Unstrip(14) -> out;
dir[2] -> transit :: Counter -> Discard;
up[1] -> updrop :: Counter -> Discard;
down[1] -> downdrop :: Counter -> Discard;

// Provisioning: plans for the subscribers that do not have the default one.
Script(write up.set_rate 100.64.1.2 128kbps,
       write down.set_rate 100.64.1.2 128kbps,
       write up.set_rate 100.64.1.4 16kbps,
       write up.set_rate 100.64.1.5 0);

DriverManager(pause,
  print "upstream $(upin.count) packets, $(upok.count) passed, $(updrop.count) dropped",
  print "downstream $(downin.count) packets, $(downok.count) passed, $(downdrop.count) dropped",
  print "upstream per subscriber (address rate packets bytes dropped_packets dropped_bytes):",
  print "$(up.subscribers)",
  print "downstream per subscriber:",
  print "$(down.subscribers)",
  stop);
