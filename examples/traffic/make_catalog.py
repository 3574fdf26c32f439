#!/usr/bin/env python3
"""Makes the bundled traffic of the middlebox catalog (examples/nat.click, loadbalancer.click,
ids.click, bras.click). Standard library only, and deterministic: the same bytes every run.

usage: python3 examples/traffic/make_catalog.py [OUTDIR]     (default: this script's folder)

  nat-inside.pcap   subscribers 100.64.0.2-9 (and one unprovisioned) behind the CG-NAT
  nat-outside.pcap  unsolicited traffic from the internet to the NAT's public address
  lb-clients.pcap   30 HTTP connections from 10 clients to the VIP 192.0.2.100:80
  ids.pcap          web, DNS and telnet flows, some carrying the patterns of examples/ids.rules
  bras.pcap         1 s of subscriber traffic at fixed rates, up- and downstream
"""
import os, random, struct, sys

T0 = 1_700_000_000  # capture start (seconds)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def mac(s):
    return bytes(int(x, 16) for x in s.split(":"))


def ipv4(src, dst, proto, payload, ttl=64, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0, ip4(src), ip4(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:] + payload


def l4sum(src, dst, proto, seg):
    return csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    return h[:16] + struct.pack("!H", l4sum(src, dst, 6, h)) + h[18:]


def udp(src, dst, sport, dport, data):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    return h[:6] + struct.pack("!H", l4sum(src, dst, 17, h) or 0xFFFF) + h[8:]


def icmp_echo(ident, seq, data, typ=8):
    h = struct.pack("!BBHHH", typ, 0, 0, ident, seq) + data
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


def eth(dst, src, etype, payload):
    frame = mac(dst) + mac(src) + struct.pack("!H", etype) + payload
    return frame + b"\0" * max(0, 60 - len(frame))


def arp_request(sha, spa, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac(sha) + ip4(spa) + b"\0" * 6 + ip4(tpa)


def dns_query(ident, name):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0) + q


def write_pcap(path, records):
    """records: (time in seconds, frame); written in time order (stable)."""
    records = sorted(records, key=lambda r: r[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, frame in records:
            us = round(t * 1_000_000)
            f.write(struct.pack("<IIII", T0 + us // 1_000_000, us % 1_000_000, len(frame), len(frame)))
            f.write(frame)
    print(f"{path}: {len(records)} packets, {os.path.getsize(path)} bytes")


class Conn:
    """A TCP connection's packets from one side: SYN, ACK, one data segment, FIN."""

    def __init__(self, src, sport, dst, dport, isn):
        self.src, self.sport, self.dst, self.dport, self.seq = src, sport, dst, dport, isn

    def packets(self, data):
        s = self.seq
        out = [tcp(self.src, self.dst, self.sport, self.dport, s, 0, 0x02),
               tcp(self.src, self.dst, self.sport, self.dport, s + 1, 1001, 0x10),
               tcp(self.src, self.dst, self.sport, self.dport, s + 1, 1001, 0x18, data),
               tcp(self.src, self.dst, self.sport, self.dport, s + 1 + len(data), 1001, 0x11)]
        return [ipv4(self.src, self.dst, 6, p) for p in out]


def spread(r, flows, start, span):
    """Interleaves several flows' packet lists in time, keeping each flow's order."""
    recs = []
    for pkts in flows:
        t = start + r.random() * span
        for p in pkts:
            recs.append((t, p))
            t += 0.001 + r.random() * 0.01
    return recs


# ---------------------------------------------------------------- CG-NAT
NAT_IN_MAC, NAT_OUT_MAC = "02:00:00:00:01:01", "02:00:00:00:01:02"
SUBSCRIBERS = [f"100.64.0.{i}" for i in range(2, 10)]
SERVERS = [("93.184.216.34", 80), ("151.101.1.69", 443), ("140.82.112.3", 443), ("104.16.132.229", 80)]


def nat_inside(r):
    flows = []
    for n, sub in enumerate(SUBSCRIBERS):
        smac = f"02:00:00:64:00:{n + 2:02x}"
        E = lambda p, smac=smac: eth(NAT_IN_MAC, smac, 0x0800, p)
        for k in range(3):
            # Subscribers 0 and 1 both use source port 40000 to the same server: the NAT must
            # still tell their flows apart (different public ports).
            sport = 40000 if k == 0 and n < 2 else r.randrange(32768, 61000)
            host, port = SERVERS[(n + k) % len(SERVERS)]
            c = Conn(sub, sport, host, port, r.randrange(1 << 32))
            flows.append([E(p) for p in c.packets(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")])
        for k in range(2):
            q = dns_query(r.randrange(65536), ["example.com", "example.org"][k])
            flows.append([E(ipv4(sub, "8.8.8.8", 17, udp(sub, "8.8.8.8", r.randrange(32768, 61000), 53, q)))])
        ident = r.randrange(1, 65536)
        flows.append([E(ipv4(sub, "9.9.9.9", 1, icmp_echo(ident, s, b"ping" * 8))) for s in (1, 2)])
        # 192.0.2.99 is unreachable: the simulated internet answers with an ICMP error.
        flows.append([E(ipv4(sub, "192.0.2.99", 17, udp(sub, "192.0.2.99", r.randrange(32768, 61000), 33434, b"probe")))])
    # A subscriber asks for its gateway's MAC (twice).
    flows.append([eth("ff:ff:ff:ff:ff:ff", "02:00:00:64:00:02", 0x0806, arp_request("02:00:00:64:00:02", "100.64.0.2", "100.64.0.1"))])
    flows.append([eth("ff:ff:ff:ff:ff:ff", "02:00:00:64:00:05", 0x0806, arp_request("02:00:00:64:00:05", "100.64.0.5", "100.64.0.1"))])
    # An address that is not provisioned: dropped.
    c = Conn("100.64.0.77", 45000, "93.184.216.34", 80, 1)
    flows.append([eth(NAT_IN_MAC, "02:00:00:64:00:4d", 0x0800, p) for p in c.packets(b"x")[:2]])
    flows.append([eth(NAT_IN_MAC, "02:00:00:64:00:4d", 0x0800, ipv4("100.64.0.77", "9.9.9.9", 1, icmp_echo(7, 1, b"")))])
    return spread(r, flows, 0.0, 0.5)


def nat_outside(r):
    E = lambda p: eth(NAT_OUT_MAC, "02:00:00:cb:00:01", 0x0800, p)
    scanner, pub = "203.0.113.66", "198.51.100.1"
    recs = []
    t = 0.0
    # Port scan of the public address, also inside the subscribers' port blocks.
    for port in (22, 80, 1024, 1030, 2048, 5000, 9215, 40000):
        recs.append((t, E(ipv4(scanner, pub, 6, tcp(scanner, pub, 51000 + port % 1000, port, 7777, 0, 0x02)))))
        t += 0.01
    for port in (53, 1025, 3000):
        recs.append((t, E(ipv4(scanner, pub, 17, udp(scanner, pub, 5353, port, b"hello")))))
        t += 0.01
    # An echo reply nobody asked for (dropped), and a ping to the NAT itself (answered).
    recs.append((t, E(ipv4(scanner, pub, 1, icmp_echo(4242, 1, b"", typ=0)))))
    recs.append((t + 0.01, E(ipv4(scanner, pub, 1, icmp_echo(4243, 1, b"are you there?")))))
    # An ICMP error about a packet the NAT never sent (dropped).
    quoted = ipv4(pub, "192.0.2.50", 17, udp(pub, "192.0.2.50", 4000, 53, b"q"))[:28]
    err = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    err = err[:2] + struct.pack("!H", csum(err)) + err[4:]
    recs.append((t + 0.02, E(ipv4("192.0.2.50", pub, 1, err))))
    return recs


# ---------------------------------------------------------------- load balancer
LB_MAC, VIP = "02:00:00:00:02:01", "192.0.2.100"


def lb_clients(r):
    flows = []
    for c in range(10):
        client = f"203.0.113.{10 + c}"
        cmac = f"02:00:00:cb:71:{10 + c:02x}"
        for k in range(3):
            conn = Conn(client, r.randrange(32768, 61000), VIP, 80, r.randrange(1 << 32))
            req = f"GET /item/{c}/{k} HTTP/1.1\r\nHost: shop.example\r\n\r\n".encode()
            flows.append([eth(LB_MAC, cmac, 0x0800, p) for p in conn.packets(req)])
    # Not for the service: ssh and DNS to the VIP, HTTP to another address. Dropped.
    flows.append([eth(LB_MAC, "02:00:00:cb:71:0a", 0x0800, ipv4("203.0.113.10", VIP, 6, tcp("203.0.113.10", VIP, 50000, 22, 1, 0, 0x02)))])
    flows.append([eth(LB_MAC, "02:00:00:cb:71:0b", 0x0800, ipv4("203.0.113.11", VIP, 17, udp("203.0.113.11", VIP, 50001, 53, b"q")))])
    flows.append([eth(LB_MAC, "02:00:00:cb:71:0c", 0x0800, ipv4("203.0.113.12", "192.0.2.101", 6, tcp("203.0.113.12", "192.0.2.101", 50002, 80, 1, 0, 0x02)))])
    # A client asks who has the VIP.
    flows.append([eth("ff:ff:ff:ff:ff:ff", "02:00:00:cb:71:0d", 0x0806, arp_request("02:00:00:cb:71:0d", "192.0.2.254", VIP))])
    # Connections start in order (so round robin is predictable) but overlap in time.
    recs = []
    for i, pkts in enumerate(flows):
        t = i * 0.01
        for p in pkts:
            recs.append((t, p))
            t += 0.015 + r.random() * 0.01
    return recs


# ---------------------------------------------------------------- IDS
IDS_MAC_A, IDS_MAC_B = "02:00:00:00:03:01", "02:00:00:00:03:02"


def ids_traffic(r):
    flows = []

    def conn(client, sport, server, dport, segments, from_server=None):
        """A TCP flow: SYN, then each data segment in order, then FIN (client to server);
        from_server: data segments sent back (server to client) after the client's first."""
        seq = r.randrange(1 << 32)
        E = lambda p: eth(IDS_MAC_B, IDS_MAC_A, 0x0800, p)
        F = lambda p: eth(IDS_MAC_A, IDS_MAC_B, 0x0800, p)
        pk = [E(ipv4(client, server, 6, tcp(client, server, sport, dport, seq, 0, 0x02)))]
        s = seq + 1
        sseq = r.randrange(1 << 32)
        for i, d in enumerate(segments):
            pk.append(E(ipv4(client, server, 6, tcp(client, server, sport, dport, s, sseq, 0x18, d))))
            s += len(d)
            if i == 0 and from_server:
                for d2 in from_server:
                    pk.append(F(ipv4(server, client, 6, tcp(server, client, dport, sport, sseq, s, 0x18, d2))))
                    sseq += len(d2)
        pk.append(E(ipv4(client, server, 6, tcp(client, server, sport, dport, s, sseq, 0x11))))
        return pk

    web = "10.20.0.80"
    get = lambda path: f"GET {path} HTTP/1.1\r\nHost: intranet\r\nUser-Agent: curl/8\r\n\r\n".encode()
    # Clean web traffic.
    for i in range(6):
        flows.append(conn(f"10.10.0.{10 + i}", 40000 + i, web, 80, [get(f"/index{i}.html")],
                          [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"]))
    # sid 1000001, nocase: cmd.exe in a request (two flows, one in capitals).
    flows.append(conn("10.10.0.20", 41000, web, 80, [get("/scripts/..%c0%af../winnt/system32/cmd.exe?/c+dir")]))
    flows.append(conn("10.10.0.21", 41001, web, 80, [get("/scripts/CMD.EXE?/c+dir")]))
    # sid 1000002: directory traversal, to port 80 (alert) and to port 8080 (the rule does not apply).
    flows.append(conn("10.10.0.22", 41002, web, 80, [get("/download?file=../../../etc/passwd")]))
    flows.append(conn("10.10.0.23", 41003, web, 8080, [get("/download?file=../../../etc/passwd")]))
    # sid 1000003: the EICAR test string in a download, split across two TCP segments of the
    # server's reply. Only the second segment completes the match.
    eicar = b"Content-Type: text/plain\r\n\r\nsignature test: EICAR-STANDARD-ANTIVIRUS-TEST-FILE\r\n"
    cut = eicar.index(b"ANTIVIRUS")
    flows.append(conn("10.10.0.24", 41004, web, 80, [get("/files/sample.com")],
                      [b"HTTP/1.1 200 OK\r\n" + eicar[:cut], eicar[cut:]]))
    # The two halves of cmd.exe in two different flows: no match (state is per flow).
    flows.append(conn("10.10.0.25", 41005, web, 80, [b"GET /a/cmd."]))
    flows.append(conn("10.10.0.26", 41006, web, 80, [b"exe HTTP/1.0\r\n\r\n"]))
    # sid 1000005 (drop): a telnet login as root; the segment is dropped, the rest passes.
    flows.append(conn("10.10.0.27", 41007, "10.20.0.23", 23, [b"\xff\xfd\x18user ", b"root\r\n", b"ls\r\n"]))
    # DNS: one query for the bad domain (sid 1000004, alert), two clean ones.
    E = lambda p: eth(IDS_MAC_B, IDS_MAC_A, 0x0800, p)
    for i, name in enumerate(["www.example.com", "www.BADNESS.com", "badness.example.org"]):
        q = dns_query(0x1000 + i, name)
        flows.append([E(ipv4(f"10.10.0.{30 + i}", "10.20.0.53", 17, udp(f"10.10.0.{30 + i}", "10.20.0.53", 53000 + i, 53, q)))])
    # ARP passes uninspected.
    flows.append([eth("ff:ff:ff:ff:ff:ff", IDS_MAC_A, 0x0806, arp_request(IDS_MAC_A, "10.10.0.10", "10.20.0.80"))])
    return spread(r, flows, 0.0, 0.5)


# ---------------------------------------------------------------- BRAS
BRAS_MAC, BRAS_SUB_MAC = "02:00:00:00:04:01", "02:00:00:00:04:02"


def bras_traffic(r):
    """Each stream sends 100-byte IP packets (UDP) at a fixed pace for 1 s, starting at
    its own offset. Upstream: subscribers 100.64.1.2-5, 100 packets/s each (80 kbit/s).
    Downstream: to 100.64.1.2 and 100.64.1.3, 100 packets/s each."""
    recs = []
    payload = bytes(range(72))  # 20 IP + 8 UDP + 72 = 100 bytes
    streams = [("100.64.1.2", "198.18.0.10", 0.0000), ("100.64.1.3", "198.18.0.10", 0.0011),
               ("100.64.1.4", "198.18.0.10", 0.0023), ("100.64.1.5", "198.18.0.10", 0.0037),
               ("198.18.0.10", "100.64.1.2", 0.0049), ("198.18.0.10", "100.64.1.3", 0.0061)]
    for src, dst, off in streams:
        up = src.startswith("100.64.")
        for i in range(100):
            p = ipv4(src, dst, 17, udp(src, dst, 5000, 6000, payload))
            frame = eth(BRAS_MAC, BRAS_SUB_MAC, 0x0800, p) if up else eth(BRAS_SUB_MAC, BRAS_MAC, 0x0800, p)
            recs.append((off + i * 0.01, frame))
    return recs


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    write_pcap(os.path.join(out, "nat-inside.pcap"), nat_inside(random.Random(101)))
    write_pcap(os.path.join(out, "nat-outside.pcap"), nat_outside(random.Random(102)))
    write_pcap(os.path.join(out, "lb-clients.pcap"), lb_clients(random.Random(103)))
    write_pcap(os.path.join(out, "ids.pcap"), ids_traffic(random.Random(104)))
    write_pcap(os.path.join(out, "bras.pcap"), bras_traffic(random.Random(105)))


if __name__ == "__main__":
    main()
