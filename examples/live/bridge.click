// A two-port Ethernet bridge (a "bump in the wire") between two real interfaces.
// Every frame received on one port is sent out of the other; FromDevice does not see the
// frames ToDevice sends on the same port, so nothing loops.
//
//   sudo clickos run examples/live/bridge.click A=eth1 B=eth2 [METHOD=XDP]
//
// METHOD=XDP sends through AF_XDP sockets (cheaper per packet; see docs/io.md).
define($A veth0, $B veth1, $METHOD LINUX);

FromDevice($A, PROMISC true) -> ab :: Counter -> Queue(1024) -> ToDevice($B, METHOD $METHOD);
FromDevice($B, PROMISC true) -> ba :: Counter -> Queue(1024) -> ToDevice($A, METHOD $METHOD);
Script(print "ready");
