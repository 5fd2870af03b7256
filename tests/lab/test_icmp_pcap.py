#!/usr/bin/env python3
"""test_icmp_pcap.py - icmp_pcap.py, the lab's ICMP reader, on captures made
here: it must print the line of a well translated error and fail on each way
a NAT can get one wrong. Needs no root, so it runs with the unit tests."""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ALICE, BOB = "172.31.1.2", "10.99.0.12"
ROLES = ["alice=" + ALICE, "bob=" + BOB]


def csum(buf):
    if len(buf) % 2:
        buf += b"\0"
    s = sum(struct.unpack("!%dH" % (len(buf) // 2), buf))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s ^ 0xFFFF


def addr(a):
    return bytes(map(int, a.split(".")))


def ip(src, dst, proto, body, ident=7, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, 0, ttl, proto, 0,
                    addr(src), addr(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + body


def udp(src, sport, dst, dport, payload=b"natsim lab 0"):
    u = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    pseudo = addr(src) + addr(dst) + struct.pack("!BBH", 0, 17, len(u))
    return ip(src, dst, 17, u[:6] + struct.pack("!H", csum(pseudo + u)) + u[8:])


def icmp(src, dst, typ, code, rest, good_sum=True):
    m = struct.pack("!BBH", typ, code, 0) + rest
    s = csum(m) if good_sum else csum(m) ^ 0x0101
    return ip(src, dst, 1, m[:2] + struct.pack("!H", s) + m[4:])


def pcap(path, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for p in packets:
            frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + p
            f.write(struct.pack("<IIII", 0, 0, len(frame), len(frame)) + frame)


def run(packets, *opts):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.pcap")
        pcap(path, packets)
        r = subprocess.run([sys.executable, os.path.join(HERE, "icmp_pcap.py"), *opts, path, "case",
                            ALICE, *ROLES], capture_output=True, text=True)
        return r.returncode, r.stdout.strip(), r.stderr


def main():
    sent = udp(ALICE, 4000, BOB, 6000)
    second = udp(ALICE, 4000, BOB, 6000, b"natsim lab 1")
    other = udp(ALICE, 4001, BOB, 6000)  # as a NAT that forgot the inner port would quote it
    unreach = lambda quoted, **kw: icmp(BOB, ALICE, 3, 3, b"\0" * 4 + quoted, **kw)
    cases = [
        ("a translated error", [sent, unreach(sent)], 0, "case 3 3 bob alice alice:4000 bob:6000"),
        ("two of them", [sent, unreach(sent), unreach(sent)], 0,
         "case 3 3 bob alice alice:4000 bob:6000 x2"),
        ("nothing", [sent], 0, "case none"),
        ("the second of a flow, same IP id (natsim's 0)", [sent, second, unreach(second)], 0,
         "case 3 3 bob alice alice:4000 bob:6000"),
        ("an inner port not sent", [sent, unreach(other)], 1, None),
        ("a bad ICMP checksum", [sent, unreach(sent, good_sum=False)], 1, None),
        ("a bad inner IP checksum", [sent, unreach(sent[:10] + b"\0\0" + sent[12:])], 1, None),
        ("a changed inner payload", [sent, unreach(sent[:-1] + b"X")], 1, None),
        ("an echo reply nobody asked for", [icmp(BOB, ALICE, 0, 0, struct.pack("!HH", 9, 1))], 1, None),
        ("an echo reply", [icmp(ALICE, BOB, 8, 0, struct.pack("!HH", 9, 1)),
                           icmp(BOB, ALICE, 0, 0, struct.pack("!HH", 9, 1))], 0, "case 0 0 bob alice - -"),
    ]
    failed = 0
    for name, packets, want_rc, want_out in cases:
        rc, out, err = run(packets)
        if rc != want_rc or (want_out is not None and out != want_out):
            print("FAIL: %s: exit %d, printed %r %r" % (name, rc, out, err))
            failed += 1
    probe = udp(ALICE, 4000, BOB, 33434)
    rc, out, _ = run([ip(ALICE, BOB, 17, probe[20:], ttl=2),
                      icmp(BOB, ALICE, 11, 0, b"\0" * 4 + probe)], "--by-ttl")
    if rc != 0 or out.splitlines() != ["case-probes ttl2:1", "case-ttl2 11 0 bob alice alice:S bob:D"]:
        print("FAIL: --by-ttl: exit %d, printed %r" % (rc, out))
        failed += 1
    print("%d passed, %d failed" % (len(cases) + 1 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
