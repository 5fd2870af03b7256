#!/usr/bin/env python3
"""test_tcp_lines.py - the TCP lab's readers (tcp_pcap.py, tcp_lines.py) on
captures, tables and traces made here: they must print the lines lab_tcp.sh
compares and fail on a segment a NAT rewrote wrong. Needs no root, so it runs
with the unit tests."""
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ALICE, NAT, BOB = "172.31.1.2", "10.99.0.11", "10.99.0.12"
ROLES = ["alice=" + ALICE, "alice-nat=" + NAT, "bob=" + BOB]
LINUX_SYN_OPTIONS = (struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" +
                     struct.pack("!BBII", 8, 10, 12345, 0) + b"\x01" + b"\x03\x03\x07")


def csum(buf):
    if len(buf) % 2:
        buf += b"\0"
    s = sum(struct.unpack("!%dH" % (len(buf) // 2), buf))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s ^ 0xFFFF


def addr(a):
    return bytes(map(int, a.split(".")))


def tcp(src, sport, dst, dport, flags, payload=b"", options=b"", good_sum=True):
    off = (20 + len(options)) // 4
    t = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, off << 4, flags, 64240, 0, 0)
    t += options + payload
    pseudo = addr(src) + addr(dst) + struct.pack("!BBH", 0, 6, len(t))
    s = csum(pseudo + t) ^ (0 if good_sum else 0x0101)
    t = t[:16] + struct.pack("!H", s) + t[18:]
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(t), 1, 0, 64, 6, 0, addr(src), addr(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + t


def pcap(path, packets, raw=False):
    """Ethernet as tcpdump writes it, or raw IPv4 as natsim run --pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 101 if raw else 1))
        for i, p in enumerate(packets):
            frame = p if raw else b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + p
            f.write(struct.pack("<IIII", i, 0, len(frame), len(frame)) + frame)


def run(script, args, stdin=""):
    r = subprocess.run([sys.executable, os.path.join(HERE, script), *args], input=stdin,
                       capture_output=True, text=True)
    return r.returncode, r.stdout.strip().split("\n"), r.stderr


def read_pcap(packets, raw=False, *opts):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.pcap")
        pcap(path, packets, raw)
        return run("tcp_pcap.py", [*opts, path, "case", *ROLES])


def check(cond, what):
    if not cond:
        print("FAIL: " + what)
        sys.exit(1)


def test_pcap():
    handshake = [tcp(ALICE, 4000, BOB, 5000, 0x02, options=LINUX_SYN_OPTIONS),
                 tcp(BOB, 5000, ALICE, 4000, 0x12, options=LINUX_SYN_OPTIONS),
                 tcp(ALICE, 4000, BOB, 5000, 0x10),
                 tcp(ALICE, 4000, BOB, 5000, 0x18, payload=bytes(22)),
                 tcp(NAT, 61234, BOB, 5000, 0x11),
                 tcp(BOB, 5000, NAT, 61234, 0x14)]
    want = ["case 1 S alice:4000 bob:5000 [mss 1460,sackOK,TS,nop,wscale 7]",
            "case 2 S. bob:5000 alice:4000 [mss 1460,sackOK,TS,nop,wscale 7]",
            "case 3 . alice:4000 bob:5000",
            "case 4 P. alice:4000 bob:5000 len=22",
            "case 5 F. alice-nat:P bob:5000",
            "case 6 R. bob:5000 alice-nat:P"]
    for raw in (False, True):
        rc, out, err = read_pcap(handshake, raw)
        check(rc == 0 and out == want, "tcp_pcap.py read %s as %s (%s)" % (raw, out, err))
    rc, out, err = read_pcap(handshake[:1] + [tcp(NAT, 4000, BOB, 5000, 0x10, good_sum=False)])
    check(rc == 1 and "bad TCP checksum" in err, "a bad checksum passed: %s %s" % (out, err))
    rc, out, _ = read_pcap(handshake, False, "--window", "2:4")
    check(out == [w.replace("case %d " % n, "case %d " % (n - 2)) for n, w in
                  ((3, want[2]), (4, want[3]))], "the window kept %s" % out)
    rc, out, _ = read_pcap([tcp(ALICE, 4000, "10.99.0.1", 3478, 0x02)] + handshake[2:3], False,
                           "--skip-port", "3478")
    check(out == ["case 1 . alice:4000 bob:5000"], "--skip-port kept %s" % out)
    rc, out, _ = read_pcap([])
    check(rc == 0 and out == ["case none"], "an empty capture gave %s" % out)


def test_norm():
    linux = ("tcp      6 431999 ESTABLISHED src=172.31.1.2 dst=10.99.0.12 sport=4000 dport=5000 "
             "src=10.99.0.12 dst=10.99.0.11 sport=5000 dport=61234 [ASSURED] mark=0 use=1\n")
    rc, out, _ = run("tcp_lines.py", ["norm", "t", *ROLES], linux)
    check(out == ["t tcp 6 T ESTABLISHED src=alice dst=bob sport=4000 dport=5000 src=bob "
                  "dst=alice-nat sport=5000 dport=P [ASSURED] mark=0 use=1"], "-L gave %s" % out)
    events = ("[1733.5]\t [NEW] tcp      6 120 SYN_SENT src=172.31.1.2 dst=10.99.0.12 sport=4000 "
              "dport=5000 [UNREPLIED] src=10.99.0.12 dst=10.99.0.11 sport=5000 dport=4000\n"
              "[1734.5]\t [DESTROY] tcp      6 CLOSE src=172.31.1.2 dst=10.99.0.12 sport=4000\n")
    rc, out, _ = run("tcp_lines.py", ["norm", "t-events", *ROLES], events)
    check(out[0] == "t-events 1 [NEW] tcp 6 T SYN_SENT src=alice dst=bob sport=4000 dport=5000 "
          "[UNREPLIED] src=bob dst=alice-nat sport=5000 dport=4000" and out[1].startswith(
              "t-events 2 [DESTROY] tcp 6 T src=alice"), "-E gave %s" % out)
    ss = "LISTEN 0 4 0.0.0.0:5000 0.0.0.0:*\nTIME-WAIT 0 0 172.31.1.2:4000 10.99.0.12:5000\n"
    rc, out, _ = run("tcp_lines.py", ["norm", "t-ss", *ROLES], ss)
    check(out == ["t-ss LISTEN *:5000 *:*", "t-ss TIME-WAIT alice:4000 bob:5000"], "ss gave %s" % out)
    rc, out, _ = run("tcp_lines.py", ["norm", "t", *ROLES], "")
    check(out == ["t none"], "nothing gave %s" % out)


def ct(t, event, cid, line, seen=True, assured=False):
    return {"t_ns": int(t * 1e9), "kind": "conntrack", "event": event, "node": "nat", "id": cid,
            "proto": 6, "line": line, "seen_reply": seen, "assured": assured}


def sock(t, state, error=0, remote="10.99.0.12:5000"):
    return {"t_ns": int(t * 1e9), "kind": "socket", "node": "alice", "proto": 6,
            "local": "172.31.1.2:4000", "remote": remote, "to": state, "error": error}


def test_trace():
    entry = "tcp      6 %d %s src=172.31.1.2 dst=10.99.0.12 sport=4000 dport=5000 %s mark=0 use=1"
    recs = [sock(1.0, "SYN-SENT"),
            ct(1.0, "new", 1, entry % (120, "SYN_SENT", "[UNREPLIED]"), seen=False),
            ct(1.04, "update", 1, entry % (60, "SYN_RECV", "")),
            sock(1.04, "ESTABLISHED"),
            ct(1.05, "update", 1, entry % (431999, "ESTABLISHED", "[ASSURED]"), assured=True),
            ct(1.06, "update", 1, entry % (431998, "ESTABLISHED", "[ASSURED]"), assured=True),
            ct(1.07, "update", 1, entry % (120, "FIN_WAIT", "[ASSURED]"), assured=True),
            sock(1.1, "TIME-WAIT"),
            ct(3.0, "destroy", 1, entry % (0, "TIME_WAIT", "[ASSURED]"), assured=True)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.jsonl")
        with open(path, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in recs))
        rc, out, _ = run("tcp_lines.py", ["trace", path, "events", "nat"])
        check([o.split()[0] + " " + o.split()[4] for o in out] ==
              ["[NEW] SYN_SENT", "[UPDATE] SYN_RECV", "[UPDATE] ESTABLISHED", "[UPDATE] FIN_WAIT",
               "[DESTROY] TIME_WAIT"], "events (a refresh is no event) gave %s" % out)
        rc, out, _ = run("tcp_lines.py", ["trace", path, "table", "nat", "established:0"])
        check(len(out) == 1 and " ESTABLISHED " in out[0], "established:0 gave %s" % out)
        rc, out, _ = run("tcp_lines.py", ["trace", path, "table", "nat", "2"])
        check(len(out) == 1 and " FIN_WAIT " in out[0], "the table at 2 s gave %s" % out)
        rc, out, _ = run("tcp_lines.py", ["trace", path, "table", "nat", "4"])
        check(out == [""], "a destroyed entry stayed: %s" % out)
        rc, out, _ = run("tcp_lines.py", ["trace", path, "sockets", "alice", "2"])
        check(out == ["TIME-WAIT 0 0 172.31.1.2:4000 10.99.0.12:5000"], "sockets gave %s" % out)
        rc, out, _ = run("tcp_lines.py", ["trace", path, "outcome", "alice", "4000", "2"])
        check(out == ["connected"], "the outcome gave %s" % out)
        with open(path, "w") as f:
            f.write(json.dumps(sock(1.0, "SYN-SENT")) + "\n" +
                    json.dumps(sock(1.1, "CLOSED", error=111)) + "\n")
        rc, out, _ = run("tcp_lines.py", ["trace", path, "outcome", "alice", "4000", "2"])
        check(out == ["refused"], "a refused connect gave %s" % out)


if __name__ == "__main__":
    test_pcap()
    test_norm()
    test_trace()
    print("PASS: tcp_pcap.py and tcp_lines.py read captures, tables and traces as lab_tcp.sh needs")
