#!/usr/bin/env bash
# One-way forwarding benchmark between two veth pairs (needs root): receive on an AF_PACKET
# TPACKET_V3 ring, send on an AF_XDP ring (METHOD XDP, the default) or with sendmmsg (--method LINUX).
#
#   gen:  clickos  InfiniteSource(64 B) -> ToDevice(va, METHOD XDP)         pinned to CPU 0
#   gen2: clickos  InfiniteSource(64 B) -> ToDevice(va, METHOD XDP, QUEUE 1)   on CPU 1 at SCHED_IDLE
#   va ==veth== vb   fwd: clickos  FromDevice(vb) -> Queue -> ToDevice(vc)   pinned to CPU 1
#   vc ==veth== vd   (nobody listens: the kernel counts and drops)
#
# One generator on one core cannot offer what the forwarder can take (its send also pays for
# vb's receive, including the copy into the forwarder's ring), so a second one fills the time
# the forwarder leaves idle on its core; SCHED_IDLE never takes CPU the forwarder wants.
# --single-generator leaves it out.
#
# The forwarding rate is vd's rx_packets over the measuring interval; the forwarder's CPU
# per packet is its user+system time (from /proc) divided by the packets it forwarded.
# Then the generator stops and the forwarder's CPU use on idle interfaces is measured.
#
#   sudo bench/veth.sh [--clickos PATH] [--seconds N] [--rx-only] [--method XDP|LINUX] [--single-generator]
#
# --rx-only replaces the forwarder with FromDevice(vb) -> Counter -> Discard and reports the
# receive rate (from vb's rx_packets) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
CLICKOS=""
SECS=5
RXONLY=
IDLEGEN=1
METHOD=XDP
while [ $# -gt 0 ]; do
    case "$1" in
        --clickos) CLICKOS=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --rx-only) RXONLY=1; shift ;;
        --method) METHOD=$2; shift 2 ;;
        --single-generator) IDLEGEN=; shift ;;
        *) echo "usage: $0 [--clickos PATH] [--seconds N] [--rx-only] [--method XDP|LINUX] [--single-generator]" >&2; exit 2 ;;
    esac
done
if [ -z "$CLICKOS" ]; then
    dotnet publish src/ClickOS.Cli -c Release -o bench/.dist >/dev/null
    CLICKOS=$PWD/bench/.dist/clickos
fi
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, AF_PACKET)" >&2; exit 1; }

NS=clickos-veth-bench-$$
cleanup() { kill $GEN $GEN2 $FWD 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $NS 2>/dev/null || true; }
GEN=""; GEN2=""; FWD=""
trap cleanup EXIT
ip netns add $NS
ip -n $NS link add va numtxqueues 2 numrxqueues 2 type veth peer name vb
ip -n $NS link add vc type veth peer name vd
for i in lo va vb vc vd; do
    ip netns exec $NS sysctl -qw net.ipv6.conf.$i.disable_ipv6=1 2>/dev/null || true
    ip -n $NS link set $i up
done

FRAME='\<02000000000202000000000108004500003200010000401166c30a0000010a0000029c400050001e0000000000000000000000000000000000000000000000000000>'
if [ -n "$RXONLY" ]; then
    # Receive only: the forwarder's place is taken by a counter (vd's counts then stay 0).
    ip netns exec $NS taskset -c 1 "$CLICKOS" run -e "f :: FromDevice(vb, BURST 64) -> c :: Counter -> Discard; Script(wait $((SECS + 1)), print \"received \$(c.count) packets, \$(f.drops) dropped\")" &
else
    ip netns exec $NS taskset -c 1 "$CLICKOS" run -e "FromDevice(vb, BURST 64) -> Queue(4096) -> ToDevice(vc, BURST 64, METHOD $METHOD);" &
fi
FWD=$!
sleep 0.5
ip netns exec $NS taskset -c 0 "$CLICKOS" run -e "InfiniteSource(DATA $FRAME, LENGTH 64, BURST 64) -> ToDevice(va, BURST 64, QUIET true, METHOD $METHOD);" &
GEN=$!
if [ -n "$IDLEGEN" ]; then
    # A second generator on the forwarder's core at SCHED_IDLE: it runs only in the time the
    # forwarder leaves idle, so it never takes CPU from it. It sends on va's second queue.
    Q2=""; [ "${METHOD^^}" = XDP ] && Q2=", QUEUE 1"
    ip netns exec $NS taskset -c 1 chrt --idle 0 "$CLICKOS" run -e "InfiniteSource(DATA $FRAME, LENGTH 64, BURST 64) -> ToDevice(va, BURST 64, QUIET true, METHOD $METHOD$Q2);" &
    GEN2=$!
fi
sleep 1 # warm up
[ -n "${PERF:-}" ] && perf record -g -p $FWD -o /tmp/veth.perf -- sleep 3 >/dev/null 2>&1
[ -n "${PERFGEN:-}" ] && perf record -g -p $GEN -o /tmp/veth-gen.perf -- sleep 3 >/dev/null 2>&1

stat() { cat /sys/class/net/vd/statistics/rx_packets; }
ticks() { awk '{ print $14 + $15 }' /proc/$FWD/stat; }
SINK=vd; [ -n "$RXONLY" ] && SINK=vb
rx0=$(ip netns exec $NS cat /sys/class/net/$SINK/statistics/rx_packets)
gen0=$(ip netns exec $NS cat /sys/class/net/va/statistics/tx_packets)
t0=$(ticks); s0=$(date +%s.%N)
sleep "$SECS"
rx1=$(ip netns exec $NS cat /sys/class/net/$SINK/statistics/rx_packets)
gen1=$(ip netns exec $NS cat /sys/class/net/va/statistics/tx_packets)
t1=$(ticks); s1=$(date +%s.%N)
kill $GEN $GEN2; wait $GEN $GEN2 2>/dev/null || true; GEN=""; GEN2=""
sleep 1
i0=$(ticks); sleep 3; i1=$(ticks)

hz=$(getconf CLK_TCK)
python3 - "$rx0" "$rx1" "$gen0" "$gen1" "$t0" "$t1" "$s0" "$s1" "$i0" "$i1" "$hz" $RXONLY <<'PY'
import sys
rx0, rx1, g0, g1, t0, t1 = map(int, sys.argv[1:7]); s0, s1 = map(float, sys.argv[7:9]); i0, i1, hz = map(int, sys.argv[9:12])
dt = s1 - s0
fwd = rx1 - rx0
cpu = (t1 - t0) / hz
print(f"offered (va tx):        {(g1 - g0) / dt / 1e6:.2f} Mpps")
print(f"{'received (vb rx)' if len(sys.argv) > 12 else 'forwarded (vd rx)'}:      {fwd / dt / 1e6:.2f} Mpps of 64-byte frames")
print(f"{'receiver' if len(sys.argv) > 12 else 'forwarder'} CPU:          {cpu / dt * 100:.0f}% of a core, {cpu / max(fwd, 1) * 1e9:.0f} ns per packet")
print(f"{'receiver' if len(sys.argv) > 12 else 'forwarder'} CPU when idle: {(i1 - i0) / hz * 1000:.0f} ms in 3 s")
PY
