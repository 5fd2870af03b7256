#!/usr/bin/env python3
"""tcp_pcap.py - the TCP segments one host of the TCP lab (lab_tcp.sh) saw.

Reads a capture made on that host (tcpdump -w, Ethernet; or the host's
interface in `natsim run --pcap`, raw IPv4 or IPv6) and prints one normalised line
for every TCP segment, in the order they crossed the wire:

    CASE N FLAGS SRC:PORT DST:PORT [len=L] [OPTIONS]

N counts the case's segments from 1 (so that sorted lines keep the order),
FLAGS as tcpdump writes them (S, S., ., P., F., R, R.: F S R P, then '.' for
ACK), addresses replaced by their roles (ROLE=ADDRESS arguments) and ports
that are not one of the lab's fixed ports (--ports, default 80, 3478, 4000,
5000, 7000, 8080) written P: a symmetric NAT's random ones. len is the
payload's length when there is one. A segment with SYN also lists its options
as tcpdump does (mss 1460,sackOK,TS,nop,wscale 7; the timestamp values left
out): they are what Linux puts on a SYN, and what natsim must too.

IPv6 segments (no extension headers, as the lab's hosts send them) read the
same, their addresses as inet_ntop writes them (RFC 5952: 2001:db8:1::2).

It checks that every segment's TCP checksum is right (with the pseudo-header,
RFC 9293 section 3.1; RFC 8200 section 8.1 for IPv6): the lab turns checksum offload off, so a wrong one is a
NAT's rewrite gone wrong. A bad one is printed with "FAIL:" on stderr, and the
exit status is 1. No segment at all prints "CASE none".

With --window FROM:TO (seconds of the capture's clock), only the packets of
that time: one simulator run holds several cases. With --skip-port P, not
the segments from or to port P (a rendezvous that is not what is tested).

Usage: tcp_pcap.py [--window FROM:TO] [--ports P,P,...] [--skip-port P] PCAP CASE ROLE=ADDRESS...
"""
import socket
import struct
import sys

FIXED_PORTS = {80, 3478, 4000, 5000, 7000, 8080}
OPTION_NAMES = {1: "nop", 4: "sackOK", 8: "TS"}


def packets(path, window):
    """Yields the IPv4 and IPv6 packets of a pcap file whose time is in the window."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype not in (1, 101, 228):
        raise SystemExit("tcp_pcap: link type %d, want Ethernet (1) or raw IPv4 (101, 228)" % linktype)
    frac = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    off = 24
    while off + 16 <= len(data):
        sec, sub, incl = struct.unpack(endian + "III", data[off:off + 12])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if not window[0] <= sec + sub / frac < window[1]:
            continue
        if linktype != 1:  # natsim run --pcap: IPv4 (or IPv6) without a link header
            if frame and frame[0] >> 4 in (4, 6):
                yield frame
        elif len(frame) > 14 and frame[12:14] in (b"\x08\x00", b"\x86\xdd"):
            yield frame[14:]


def checksum(buf):
    if len(buf) % 2:
        buf += b"\0"
    s = sum(struct.unpack("!%dH" % (len(buf) // 2), buf))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s ^ 0xFFFF


def flags_word(bits):
    """tcpdump's spelling: F S R P (U E W), then '.' for ACK."""
    out = "".join(c for c, b in (("F", 0x01), ("S", 0x02), ("R", 0x04), ("P", 0x08),
                                 ("U", 0x20), ("E", 0x40), ("W", 0x80)) if bits & b)
    return out + ("." if bits & 0x10 else "")


def options_word(opts):
    """The SYN's options as tcpdump lists them, without timestamp values."""
    out, i = [], 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            out.append("nop")
            i += 1
            continue
        size = opts[i + 1] if i + 1 < len(opts) else 0
        if size < 2:
            out.append("bad")
            break
        body = opts[i + 2:i + size]
        if kind == 2 and len(body) == 2:
            out.append("mss %d" % struct.unpack("!H", body)[0])
        elif kind == 3 and len(body) == 1:
            out.append("wscale %d" % body[0])
        else:
            out.append(OPTION_NAMES.get(kind, "opt%d" % kind))
        i += size
    return ",".join(out)


def l4_of(ip):
    """The packet's protocol, addresses (text) and TCP bytes, and the
    checksum's pseudo-header (RFC 9293 3.1; RFC 8200 8.1 for IPv6)."""
    if ip[0] >> 4 == 6:
        total = 40 + struct.unpack("!H", ip[4:6])[0]
        tcp = ip[40:total]
        pseudo = ip[8:40] + struct.pack("!IxxxB", len(tcp), 6)
        return (ip[6], socket.inet_ntop(socket.AF_INET6, ip[8:24]),
                socket.inet_ntop(socket.AF_INET6, ip[24:40]), tcp, pseudo)
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    tcp = ip[ihl:total]
    pseudo = ip[12:20] + struct.pack("!BBH", 0, 6, len(tcp))
    return (ip[9], ".".join(map(str, ip[12:16])), ".".join(map(str, ip[16:20])), tcp, pseudo)


def segment(ip, roles, ports):
    """One normalised line (without CASE and N), and a problem or None."""
    _, src, dst, tcp, pseudo = l4_of(ip)
    sport, dport = struct.unpack("!HH", tcp[:4])
    off = (tcp[12] >> 4) * 4
    bits = tcp[13]
    problem = None if checksum(pseudo + tcp) == 0 else "bad TCP checksum"

    def end(addr, port):
        name = roles.get(addr, "?" + addr)
        return "%s:%s" % (name, port if port in ports else "P")

    line = "%s %s %s" % (flags_word(bits), end(src, sport), end(dst, dport))
    if len(tcp) > off:
        line += " len=%d" % (len(tcp) - off)
    if bits & 0x02:
        line += " [%s]" % options_word(tcp[20:off])
    return line, problem


def main(argv):
    window, ports, skip = (float("-inf"), float("inf")), FIXED_PORTS, None
    while argv and argv[0].startswith("--"):
        if argv[0] == "--window":
            window, argv = tuple(map(float, argv[1].split(":"))), argv[2:]
        elif argv[0] == "--skip-port":
            skip, argv = int(argv[1]), argv[2:]
        elif argv[0] == "--ports":
            ports, argv = {int(p) for p in argv[1].split(",")}, argv[2:]
        else:
            raise SystemExit("tcp_pcap: unknown option " + argv[0])
    path, case = argv[:2]
    roles = {}
    for arg in argv[2:]:
        name, _, addr = arg.partition("=")
        roles[addr] = name
    n, failed = 0, False
    for ip in packets(path, window):
        proto, _, _, tcp, _ = l4_of(ip)
        if proto != 6:
            continue
        if skip is not None and skip in struct.unpack("!HH", tcp[:4]):
            continue
        n += 1
        line, problem = segment(ip, roles, ports)
        line = "%s %d %s" % (case, n, line)
        if problem:
            print("FAIL: %s: %s" % (line, problem), file=sys.stderr)
            failed = True
        print(line)
    if n == 0:
        print(case + " none")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
