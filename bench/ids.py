#!/usr/bin/env python3
"""FlowIDS throughput: 1,000 Snort-style rules against 1500-byte TCP packets, one core.

usage: bench/ids.py [--clickos PATH] [--packets N] [--runs N] [--rules N] [--keep]

Publishes src/ClickOS.Cli with NativeAOT into bench/.dist (unless --clickos is given), writes
a deterministic rules file (seed 1: N rules, contents 8-24 random bytes of text, every fifth
nocase, a tenth of them udp or with port ranges) and a deterministic 1514-byte Ethernet/IPv4/TCP
packet (1460 bytes of random lowercase text and spaces, seed 2, with one rule's content
in the middle, so every packet raises one alert), then runs

    InfiniteSource(DATA <packet>, LIMIT n, STOP true, BURST 32) -> Strip(14) -> CheckIPHeader
      -> ids :: FlowIDS(RULES file) -> c :: Counter -> Discard

for n = --packets and n = --packets / 10. Throughput is the difference in packets over the
difference in median time, so process start-up and rule compilation cancel out; Gb/s counts
the 1500 bytes of each IP packet. Both wall time and the process's CPU time (user + system,
from wait4) are reported: on a shared machine the CPU time is the steadier measure of one
core's work. The same pipeline without FlowIDS is measured the same way, and the IDS's own cost
per packet is the difference. Exits non-zero if the whole pipeline, by CPU time, is below 5 Gb/s.
"""
import argparse, os, random, statistics, struct, subprocess, sys, tempfile, time

from benchlib import ROOT, publish, run
TARGET_GBPS = 5.0
IP_BYTES = 1500

def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def make_rules(n, seed=1):
    rnd = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-_/.=?&%"
    lines, contents = [], []
    for i in range(n):
        content = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(8, 24)))
        contents.append(content)
        r = rnd.random()
        if r < 0.05:
            head = "alert udp any any -> any 53"
        elif r < 0.10:
            head = "alert tcp any 1024: -> any 8000:8999"
        else:
            head = "alert tcp any any -> any 80"
        nocase = " nocase;" if i % 5 == 0 else ""
        lines.append(f'{head} (msg:"bench rule {i + 1}"; content:"{content}";{nocase} sid:{1000001 + i};)')
    return "\n".join(lines) + "\n", contents

def make_packet(needle, seed=2):
    rnd = random.Random(seed)
    text = "abcdefghijklmnopqrstuvwxyz     "
    payload = bytearray("".join(rnd.choice(text) for _ in range(IP_BYTES - 40)).encode())
    mid = len(payload) // 2
    payload[mid:mid + len(needle)] = needle.encode()
    src, dst = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 0x50, 0x18, 0xFFFF, 0, 0)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp + bytes(payload))) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    frame = eth + ip + tcp + bytes(payload)
    assert len(frame) == IP_BYTES + 14
    return frame.hex()

def handlers(out, names):
    """Parses `clickos run -h A -h B` output ("A:\nvalue\n\n" per handler)."""
    if len(names) == 1:
        return {names[0]: out}
    vals = {}
    for name in names:
        vals[name] = out.split(name + ":\n", 1)[1].split("\n\n", 1)[0] + "\n"
    return vals

def measure(exe, config_for, packets, runs, names):
    """Median wall and CPU times for `packets` and `packets // 10`; returns packets per second
    by wall time and by CPU time, and the handler values of a full-size run."""
    small = packets // 10
    times = {packets: ([], []), small: ([], [])}
    vals = {}
    for _ in range(runs):
        for n in (packets, small):
            cmd = [exe, "run", "-e", config_for(n)]
            for h in names:
                cmd += ["-h", h]
            wall, cpu, _, out = run(cmd)
            v = handlers(out, names)
            if int(v["c.count"]) != n:
                sys.exit(f"counted {v['c.count'].strip()} packets, expected {n}")
            times[n][0].append(wall)
            times[n][1].append(cpu)
            if n == packets:
                vals = v
    rate = lambda k: (packets - small) / (statistics.median(times[packets][k]) - statistics.median(times[small][k]))
    return rate(0), rate(1), vals

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clickos")
    ap.add_argument("--packets", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rules", type=int, default=1000)
    ap.add_argument("--keep", action="store_true", help="keep the generated rules file")
    a = ap.parse_args()
    exe = a.clickos or publish()

    rules_text, contents = make_rules(a.rules)
    fd, rules_path = tempfile.mkstemp(prefix="clickos-ids-bench-", suffix=".rules")
    with os.fdopen(fd, "w") as f:
        f.write(rules_text)
    # A tcp/80 rule's content, so the packet raises exactly one alert.
    needle = next(c for c, line in zip(contents, rules_text.splitlines()) if "-> any 80 " in line)
    hexdata = make_packet(needle)
    src = f"InfiniteSource(DATA \\<{hexdata}>, LIMIT %d, STOP true, BURST 32) -> Strip(14) -> CheckIPHeader"
    with_ids = lambda n: (src % n) + f" -> ids :: FlowIDS(RULES {rules_path}) -> c :: Counter -> Discard"
    without = lambda n: (src % n) + " -> c :: Counter -> Discard"
    try:
        pps, cpu_pps, vals = measure(exe, with_ids, a.packets, a.runs, ["c.count", "ids.automaton", "ids.alerts"])
        base_pps, base_cpu_pps, _ = measure(exe, without, a.packets, a.runs, ["c.count"])
    finally:
        if not a.keep:
            os.remove(rules_path)
        else:
            print(f"rules: {rules_path}")
    info = dict(l.split() for l in vals["ids.automaton"].splitlines())
    alerts = int(vals["ids.alerts"])
    gbps = lambda r: r * IP_BYTES * 8 / 1e9
    print(f"rules {info['rules']}, DFA {info['states']} states x {info['classes']} classes "
          f"({int(info['bytes']) / 2**20:.1f} MiB), {alerts} alerts in {a.packets} packets, load average {os.getloadavg()[0]:.1f}")
    print("| measurement | by wall time | by CPU time |")
    print("|---|---|---|")
    print(f"| FlowIDS, {info['rules']} rules, 1500 B IPv4/TCP (`InfiniteSource -> Strip(14) -> CheckIPHeader -> FlowIDS(RULES ...) -> Counter -> Discard`) "
          f"| {pps / 1e6:.2f} Mpps, {gbps(pps):.2f} Gb/s | {cpu_pps / 1e6:.2f} Mpps, {gbps(cpu_pps):.2f} Gb/s |")
    print(f"| same without FlowIDS | {base_pps / 1e6:.2f} Mpps | {base_cpu_pps / 1e6:.2f} Mpps |")
    alone = lambda r, b: 1e9 / r - 1e9 / b
    print(f"| FlowIDS alone (difference) | {alone(pps, base_pps):.0f} ns/packet, {IP_BYTES * 8 / alone(pps, base_pps):.2f} Gb/s "
          f"| {alone(cpu_pps, base_cpu_pps):.0f} ns/packet, {IP_BYTES * 8 / alone(cpu_pps, base_cpu_pps):.2f} Gb/s |")
    ok = gbps(cpu_pps) >= TARGET_GBPS
    print(f"target >= {TARGET_GBPS:.0f} Gb/s (CPU time, whole pipeline): {'met' if ok else 'MISSED'}")
    sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
