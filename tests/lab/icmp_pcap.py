#!/usr/bin/env python3
"""icmp_pcap.py - what one host of the ICMP lab (lab_icmp.sh) received.

Reads a capture made on that host (tcpdump -w, Ethernet; or the host's
interface in `natsim run --pcap`, raw IPv4) and prints one
normalised line for every ICMP message the host received:

    CASE TYPE CODE OUTER-SRC OUTER-DST INNER-SRC:PORT INNER-DST:PORT

addresses replaced by their roles (ROLE=ADDRESS arguments), so that a lab
run and a simulator run with other addresses give the same lines. An echo
reply has '-' for the two inner parts. Identical lines are printed once, with
" xN" when N of them arrived (a burst). No ICMP at all prints "CASE none".

It also checks what a NAT on the way must keep (RFC 5508 REQ-3/4, and what
Linux's nf_nat_icmp_reply_translation does): every message's ICMP checksum
is right; the packet quoted inside an error is one this host sent, as it
sent it (addresses, ports, IP id, UDP checksum, payload); an echo reply
answers a request this host sent (same identifier and sequence number).
A message that breaks one is printed with "FAIL:" on stderr, and the exit
status is 1.

With --by-ttl, for traceroute, which sends probes of rising TTL, each from
a port of its own to a port of its own: an error's CASE gets the TTL of the
probe it quotes ("traceroute-ttl2"), its ports are written S and D (checked
all the same), and a first line counts the probes sent at each TTL.

With --window FROM:TO (seconds of the capture's clock), only the packets of
that time: one simulator run holds several cases, a second or two apart.

Usage: icmp_pcap.py [--by-ttl] [--window FROM:TO] PCAP CASE HOST ROLE=ADDRESS...
"""
import struct
import sys

ECHO_REPLY, UNREACH, TIME_EXCEEDED, PARAM_PROBLEM = 0, 3, 11, 12
ERRORS = (UNREACH, TIME_EXCEEDED, PARAM_PROBLEM)


def packets(path, window):
    """Yields the IPv4 packets of a pcap file whose time is in the window."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype not in (1, 101, 228):
        raise SystemExit("icmp_pcap: link type %d, want Ethernet (1) or raw IPv4 (101, 228)" % linktype)
    frac = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    off = 24
    while off + 16 <= len(data):
        sec, sub, incl = struct.unpack(endian + "III", data[off:off + 12])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if not window[0] <= sec + sub / frac < window[1]:
            continue
        if linktype != 1:  # natsim run --pcap: IPv4 without a link header
            if frame and frame[0] >> 4 == 4:
                yield frame
        elif len(frame) > 14 and frame[12:14] == b"\x08\x00":
            yield frame[14:]


def checksum(buf):
    if len(buf) % 2:
        buf += b"\0"
    s = sum(struct.unpack("!%dH" % (len(buf) // 2), buf))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s ^ 0xFFFF


def ipv4(buf):
    """The fields of an IPv4 header and what follows it (maybe cut short)."""
    ihl = (buf[0] & 0x0F) * 4
    total = struct.unpack("!H", buf[2:4])[0]
    return {
        "id": struct.unpack("!H", buf[4:6])[0],
        "ttl": buf[8],
        "proto": buf[9],
        "src": ".".join(map(str, buf[12:16])),
        "dst": ".".join(map(str, buf[16:20])),
        "body": buf[ihl:total],
    }


def udp_key(ip):
    """The flow a datagram belongs to, and its checksum."""
    sport, dport, _, csum = struct.unpack("!HHHH", ip["body"][:8])
    return (ip["src"], sport, ip["dst"], dport), csum


class Capture:
    """What the host sent (UDP datagrams, echo requests) and received (ICMP)."""

    def __init__(self, path, host, window):
        self.sent_udp = {}  # (src, sport, dst, dport) -> datagrams sent
        self.sent_echo = set()  # (id, seq)
        self.received = []  # (outer ip, icmp bytes)
        for buf in packets(path, window):
            ip = ipv4(buf)
            if ip["src"] == host and ip["proto"] == 17:
                self.sent_udp.setdefault(udp_key(ip)[0], []).append(ip)
            elif ip["src"] == host and ip["proto"] == 1 and ip["body"][0] == 8:
                self.sent_echo.add(struct.unpack("!HH", ip["body"][4:8]))
            elif ip["dst"] == host and ip["proto"] == 1:
                self.received.append((ip, ip["body"]))


def role(roles, addr):
    return roles.get(addr, "?" + addr)


def check_error(cap, icmp, problems):
    """The quoted packet, checked against what the host sent; None if bad."""
    inner = ipv4(icmp[8:])
    ihl = (icmp[8] & 0x0F) * 4
    if checksum(icmp[8:8 + ihl]) != 0:
        problems.append("inner IPv4 header checksum is wrong")
    if inner["proto"] != 17 or len(inner["body"]) < 8:
        problems.append("quotes a non-UDP packet or less than 8 bytes")
        return None
    key, csum = udp_key(inner)
    flow = cap.sent_udp.get(key)
    if not flow:
        problems.append("quotes %s:%d -> %s:%d, a flow this host never sent" % key)
        return None
    # The datagram quoted, of those sent on that flow: same IP id (Linux
    # gives each its own; natsim 0 to all), checksum and payload.
    body = inner["body"][8:]
    for sent in flow:
        if (sent["id"], udp_key(sent)[1], sent["body"][8:8 + len(body)]) == (inner["id"], csum, body):
            return inner, key, sent
    problems.append("quotes %s:%d -> %s:%d id %d checksum %#06x, not a datagram this host sent"
                    " (of %d on that flow, the first: id %d checksum %#06x)"
                    % (key + (inner["id"], csum, len(flow), flow[0]["id"], udp_key(flow[0])[1])))
    return None


def describe(cap, ip, icmp, roles, case, by_ttl, problems):
    """One normalised line for a received ICMP message."""
    typ, code = icmp[0], icmp[1]
    if checksum(icmp) != 0:
        problems.append("bad ICMP checksum")
    outer = "%s %s" % (role(roles, ip["src"]), role(roles, ip["dst"]))
    if typ == ECHO_REPLY:
        if struct.unpack("!HH", icmp[4:8]) not in cap.sent_echo:
            problems.append("echo reply id/seq %d/%d was never asked" % struct.unpack("!HH", icmp[4:8]))
        return "%s %d %d %s - -" % (case, typ, code, outer)
    if typ not in ERRORS:
        return "%s %d %d %s ? ?" % (case, typ, code, outer)
    found = check_error(cap, icmp, problems)
    if found is None:
        return "%s %d %d %s ? ?" % (case, typ, code, outer)
    inner, key, sent = found
    sport, dport = str(key[1]), str(key[3])
    if by_ttl:
        # Each probe has a socket (a port) and a destination port of its
        # own; they are checked above, the hop is what is compared.
        case = "%s-ttl%d" % (case, sent["ttl"])
        sport, dport = "S", "D"
    return "%s %d %d %s %s:%s %s:%s" % (case, typ, code, outer,
                                        role(roles, key[0]), sport, role(roles, key[2]), dport)


def probes_line(cap, case):
    """How many probes of each TTL the host sent (traceroute)."""
    ttls = sorted(ip["ttl"] for flow in cap.sent_udp.values() for ip in flow)
    return "%s-probes %s" % (case, " ".join("ttl%d:%d" % (t, ttls.count(t)) for t in sorted(set(ttls))))


def main(argv):
    by_ttl, window = False, (float("-inf"), float("inf"))
    while argv and argv[0].startswith("--"):
        if argv[0] == "--by-ttl":
            by_ttl, argv = True, argv[1:]
        elif argv[0] == "--window":
            window, argv = tuple(map(float, argv[1].split(":"))), argv[2:]
        else:
            raise SystemExit("icmp_pcap: unknown option " + argv[0])
    path, case, host = argv[:3]
    roles = {}
    for arg in argv[3:]:
        name, _, addr = arg.partition("=")
        roles[addr] = name
    cap = Capture(path, host, window)
    lines, failed = [], False
    for ip, icmp in cap.received:
        problems = []
        line = describe(cap, ip, icmp, roles, case, by_ttl, problems)
        for p in problems:
            print("FAIL: %s: %s" % (line, p), file=sys.stderr)
            failed = True
        lines.append(line)
    if by_ttl:
        print(probes_line(cap, case))
    if not lines:
        print(case + " none")
    for line in sorted(set(lines), key=lines.index):
        n = lines.count(line)
        print(line + (" x%d" % n if n > 1 else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
