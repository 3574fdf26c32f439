#!/usr/bin/env bash
# One-way forwarding benchmark between two veth pairs with AF_PACKET rings (needs root).
#
#   gen: clickos  InfiniteSource(64 B) -> ToDevice(va)      pinned to CPU 0
#   va ==veth== vb   fwd: clickos  FromDevice(vb) -> Queue -> ToDevice(vc)   pinned to CPU 1
#   vc ==veth== vd   (nobody listens: the kernel counts and drops)
#
# The forwarding rate is vd's rx_packets over the measuring interval; the forwarder's CPU
# per packet is its user+system time (from /proc) divided by the packets it forwarded.
# Then the generator stops and the forwarder's CPU use on idle interfaces is measured.
#
#   sudo bench/veth.sh [--clickos PATH] [--seconds N] [--rx-only]
#
# --rx-only replaces the forwarder with FromDevice(vb) -> Counter -> Discard and reports the
# receive rate (from vb's rx_packets) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
CLICKOS=""
SECS=5
RXONLY=
while [ $# -gt 0 ]; do
    case "$1" in
        --clickos) CLICKOS=$2; shift 2 ;;
        --seconds) SECS=$2; shift 2 ;;
        --rx-only) RXONLY=1; shift ;;
        *) echo "usage: $0 [--clickos PATH] [--seconds N]" >&2; exit 2 ;;
    esac
done
if [ -z "$CLICKOS" ]; then
    dotnet publish src/ClickOS.Cli -c Release -o bench/.dist >/dev/null
    CLICKOS=$PWD/bench/.dist/clickos
fi
[ "$(id -u)" = 0 ] || { echo "needs root (network namespaces, AF_PACKET)" >&2; exit 1; }

NS=clickos-veth-bench-$$
cleanup() { kill $GEN $FWD 2>/dev/null || true; wait 2>/dev/null || true; ip netns del $NS 2>/dev/null || true; }
GEN=""; FWD=""
trap cleanup EXIT
ip netns add $NS
ip -n $NS link add va type veth peer name vb
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
    ip netns exec $NS taskset -c 1 "$CLICKOS" run -e "FromDevice(vb, BURST 64) -> Queue(4096) -> ToDevice(vc, BURST 64);" &
fi
FWD=$!
sleep 0.5
ip netns exec $NS taskset -c 0 "$CLICKOS" run -e "InfiniteSource(DATA $FRAME, LENGTH 64, BURST 64) -> ToDevice(va, BURST 64, QUIET true);" &
GEN=$!
sleep 1 # warm up
[ -n "${PERF:-}" ] && perf record -g -p $FWD -o /tmp/veth.perf -- sleep 3 >/dev/null 2>&1

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
kill $GEN; wait $GEN 2>/dev/null || true; GEN=""
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
