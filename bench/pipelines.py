#!/usr/bin/env python3
"""Whole-process benchmarks for clickos (NativeAOT build).

usage: bench/pipelines.py [--clickos PATH] [--runs N] [--quick]

Publishes src/ClickOS.Cli with NativeAOT (unless --clickos is given), then:
  * startup: median wall time and max RSS of `clickos run -e 'InfiniteSource(LIMIT 1, STOP true) -> Discard'`
  * pipelines: packets per second for each configuration below, median of N runs,
    computed as packets / (process wall time - median startup time).
Prints a Markdown table (paste into docs/performance.md) and exits non-zero if a target is missed.
"""
import argparse, os, statistics, subprocess, sys, time

# A 64-byte Ethernet/IPv4/TCP SYN from 10.0.0.1:40000 to 10.0.0.2:80 with valid checksums.
TCP80 = "02000000000202000000000108004500003200010000400666c30a0000010a0000029c40005000000001000000005002ffffff44000000000000000000000000"

from benchlib import ROOT, publish, run

def make_trace(path, n):
    """A deterministic trace of n 64-byte UDP packets (genpcap), or, for n of 20M, ten copies
    of the 2M trace's packets (generating 20M packets in Python takes minutes)."""
    if n == 20_000_000 and not os.path.exists(path):
        small = "/tmp/clickos-bench-2000000.pcap"
        if not make_trace(small, 2_000_000):
            return False
        with open(path + ".tmp", "wb") as o:
            with open(small, "rb") as f:
                o.write(f.read(24))
            for _ in range(10):
                with open(small, "rb") as f:
                    f.seek(24)
                    while chunk := f.read(1 << 24):
                        o.write(chunk)
        os.rename(path + ".tmp", path)
        return True
    if not os.path.exists(path):
        gen = os.path.join(ROOT, "..", "shared", "genpcap.py")
        if not os.path.exists(gen):
            return False
        subprocess.run([sys.executable, gen, "udpflows", str(n), path, "--seed", "1", "--size", "64"], check=True)
    return True

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clickos")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    exe = a.clickos or publish()
    scale = 10 if a.quick else 1

    starts, rss = [], []
    tiny = [exe, "run", "-e", "InfiniteSource(LIMIT 1, STOP true) -> Discard"]
    for _ in range(50 if not a.quick else 10):
        w, _, _, _ = run(tiny)
        starts.append(w)
        # ru_maxrss of a spawned child includes this Python process's pages, so use time(1).
        if os.path.exists("/usr/bin/time"):
            r = subprocess.run(["/usr/bin/time", "-f", "%M"] + tiny, capture_output=True, text=True)
            rss.append(int(r.stderr.strip().splitlines()[-1]))
    startup = statistics.median(starts)
    rss_text = f"{max(rss)/1024:.1f} MB max RSS" if rss else "RSS n/a (install 'time')"
    print(f"| startup and exit (`InfiniteSource(LIMIT 1, STOP true) -> Discard`) | {startup*1000:.1f} ms median, {rss_text} |")

    n = 30_000_000 // scale
    trace_n = 20_000_000 // scale
    trace = f"/tmp/clickos-bench-{trace_n}.pcap"
    pipelines = [
        ("`InfiniteSource(LENGTH 64, BURST 32) -> Counter -> Discard`", n,
         f"InfiniteSource(LENGTH 64, LIMIT {n}, STOP true, BURST 32) -> c :: Counter -> Discard", 35.0),
        ("same, `BURST 1` (one packet per task run, like Click)", n // 4,
         f"InfiniteSource(LENGTH 64, LIMIT {n // 4}, STOP true, BURST 1) -> c :: Counter -> Discard", None),
        ("`InfiniteSource -> Counter -> Strip(14) -> Classifier(12/0800, -) -> Unstrip(14) -> Paint -> Discard`", n,
         f"InfiniteSource(LENGTH 64, LIMIT {n}, STOP true, BURST 32) -> c :: Counter -> Strip(14) -> cl :: Classifier(12/0000, -) -> Unstrip(14) -> Paint(1) -> Discard; cl[1] -> Discard", None),
        ("`InfiniteSource -> Queue -> Unqueue(BURST 32) -> Counter -> Discard`", n,
         f"InfiniteSource(LENGTH 64, LIMIT {n}, STOP true, BURST 32) -> Queue(1024) -> Unqueue(BURST 32) -> c :: Counter -> Discard", None),
        ("`InfiniteSource(64 B IPv4/TCP to port 80) -> Classifier(12/0800, -) -> Strip(14) -> CheckIPHeader -> IPFilter(allow tcp dst port 80, deny all) -> DecIPTTL -> Unstrip(14) -> Counter -> Discard`", n // 2,
         "InfiniteSource(DATA \\<" + TCP80 + f">, LIMIT {n // 2}, STOP true, BURST 32) -> Classifier(12/0800, -) -> Strip(14) -> CheckIPHeader -> IPFilter(allow tcp dst port 80, deny all) -> DecIPTTL -> Unstrip(14) -> c :: Counter -> Discard", 14.0),
    ]
    if make_trace(trace, trace_n):
        subprocess.run(["cat", trace], stdout=subprocess.DEVNULL)  # into the page cache
        label = f"{trace_n // 1_000_000}M"
        pipelines.append((f"`FromDump({label} x 64 B, STOP true) -> Counter -> Discard` (defaults: one packet per task run, MMAP)", trace_n,
                          f"FromDump({trace}, STOP true) -> c :: Counter -> Discard", 17.0))
        pipelines.append(("same with `MMAP false` (read())", trace_n,
                          f"FromDump({trace}, STOP true, MMAP false) -> c :: Counter -> Discard", None))
        pipelines.append(("same with `BURST 32`", trace_n,
                          f"FromDump({trace}, STOP true, BURST 32) -> c :: Counter -> Discard", None))
    failed = False
    # Route-table load: a 500,000-route DirectIPLookup configuration, parsed and initialized (-q).
    routes_cfg = f"/tmp/clickos-bench-routes-{500_000 // scale}.click"
    if not os.path.exists(routes_cfg):
        import random
        rnd = random.Random(42)
        seen, rows = set(), []
        while len(rows) < 500_000 // scale:
            r = rnd.randrange(100)
            ln = 24 if r < 55 else rnd.randrange(16, 24) if r < 85 else rnd.randrange(8, 16) if r < 97 else rnd.randrange(25, 33)
            addr = rnd.randrange(0x01000000, 0xE0000000) & ((0xFFFFFFFF << (32 - ln)) & 0xFFFFFFFF)
            if (addr, ln) in seen:
                continue
            seen.add((addr, ln))
            rows.append("%d.%d.%d.%d/%d %d.0.0.1 %d" % (addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255, ln, rnd.randrange(1, 64), rnd.randrange(8)))
        with open(routes_cfg, "w") as f:
            f.write("rt :: DirectIPLookup(" + ",\n".join(rows) + ");\nIdle -> rt; rt[0],rt[1],rt[2],rt[3],rt[4],rt[5],rt[6],rt[7] -> Discard;\n")
    loads = [run([exe, "run", "-q", routes_cfg])[0] for _ in range(3)]
    ok = " (target < 2 s)" + ("" if statistics.median(loads) < 2 else " MISSED")
    failed |= statistics.median(loads) >= 2
    print(f"| load a {500_000 // scale}-route DirectIPLookup table (`clickos run -q`) | {statistics.median(loads):.2f} s{ok} |")
    # NAT: IPRewriter over FastUDPFlows traffic (64-byte UDP, each packet from a random one of
    # FLOWS flows). Steady-state Mpps is the marginal rate between a short and a long run, so
    # start-up and creating the mappings cancel out; memory is the rewriter's own (flows and
    # index, its `memory` handler) and the process's max RSS.
    def nat_cfg(flows, n, rewriter=True):
        rw = "rw :: IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, CAPACITY %d); rw[1] -> Discard; rw" % flows if rewriter else "Null"
        return (f"FastUDPFlows(0, {n}, 64, 0:0:0:0:0:1, 10.0.0.1, 0:0:0:0:0:2, 10.0.0.2, {flows}, 1000000000) -> Unqueue(BURST 32) -> "
                f"{rw} -> c :: Counter -> Discard; DriverManager(label l, wait 5ms, goto l $(lt $(c.count) {n}), stop)")
    for flows, target in ((100_000 // scale, 7.2), (1_000_000 // scale, 2.7)):
        short_n, long_n = 10_000_000 // scale, 30_000_000 // scale
        def timed(n):
            walls = []
            for _ in range(a.runs):
                w, _, _, out = run([exe, "run", "-e", nat_cfg(flows, n), "-h", "c.count", "-h", "rw.nmappings", "-h", "rw.memory"])
                walls.append(w)
            return statistics.median(walls), out
        t1, _ = timed(short_n)
        t2, out = timed(long_n)
        vals = dict(zip(out.split()[0::2], out.split()[1::2]))
        nmap, mem = int(vals["rw.nmappings:"]), int(vals["rw.memory:"])
        mpps = (long_n - short_n) / (t2 - t1) / 1e6
        rss_text = ""
        if os.path.exists("/usr/bin/time"):
            def rss(cfg):
                r = subprocess.run(["/usr/bin/time", "-f", "%M", exe, "run", "-e", cfg], capture_output=True, text=True)
                return int(r.stderr.strip().splitlines()[-1]) / 1024
            full, base = rss(nat_cfg(flows, short_n)), rss(nat_cfg(flows, short_n, rewriter=False))
            rss_text = f"; process max RSS {full:.1f} MB, {full - base:.1f} MB over the same traffic generator without the rewriter"
        ok = f" (target >= {target})"
        if mpps < target:
            failed = True
            ok += " MISSED"
        print(f"| NAT, `IPRewriter(pattern 198.51.100.1 1024-65535 - - 0 1, CAPACITY {flows})`, {nmap} mappings | {mpps:.1f} Mpps{ok}; "
              f"table {mem / 1e6:.1f} MB = {mem / nmap:.0f} B per mapping{rss_text} |")
    for name, packets, cfg, target in pipelines:
        walls = []
        for _ in range(a.runs):
            w, _, _, out = run([exe, "run", "-e", cfg, "-h", "c.count"])
            if int(out.strip()) != packets:
                sys.exit(f"{name}: counted {out.strip()} packets, expected {packets}")
            walls.append(w)
        mpps = packets / (statistics.median(walls) - startup) / 1e6
        ok = "" if target is None else (" (target >= %.1f)" % target)
        if target is not None and mpps < target:
            failed = True
            ok += " MISSED"
        print(f"| {name} | {mpps:.1f} Mpps{ok} |")
    sys.exit(1 if failed else 0)

if __name__ == "__main__":
    main()
