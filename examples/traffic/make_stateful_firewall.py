#!/usr/bin/env python3
"""Makes stateful-firewall.pcap: 50 complete TCP conversations between the 10.0.0.0/8 site
and outside servers (the shared generator's `tcpflows 400 --seed 41`), followed by 100
unsolicited packets from outside: SYNs of a port scan, stray ACKs and UDP probes.

usage: make_stateful_firewall.py GENPCAP_PY OUT.pcap
"""
import importlib.util, random, struct, sys

spec = importlib.util.spec_from_file_location("genpcap", sys.argv[1])
g = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g)
r = random.Random(41)
frames = list(g.gen_tcpflows(r, 400, 0, 0))
s = random.Random(42)
for i in range(100):
    src = g.ip4("203.0.113.%d" % (1 + i % 7))
    dst = g.ip4("10.1.%d.%d" % (s.randrange(256), s.randrange(1, 250)))
    if i % 10 == 9:
        body = g.udp(src, dst, 40000 + i, 161, b"probe")
        proto = 17
    else:
        body = g.tcp(src, dst, 40000 + i, [22, 23, 80, 443, 3389, 445][i % 6], s.randrange(1 << 32), 0 if i % 5 else s.randrange(1 << 32), 0x02 if i % 5 else 0x10)
        proto = 6
    frames.append(g.pad(g.eth(g.GW, g.CLIENTS[i % 16], 0x0800, g.ipv4(src, dst, proto, body, ident=i))))
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for k, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1_700_000_000 + k // 100, (k % 100) * 10000, len(fr), len(fr)))
        f.write(fr)
