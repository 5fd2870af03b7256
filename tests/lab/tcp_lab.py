#!/usr/bin/env python3
"""tcp_lab.py - the applications of the TCP lab (lab_tcp.sh), one process.

One process holds every socket of a case, each made in its host's network
namespace (setns(2) before socket(2): a socket stays in the namespace it was
made in), so the order of the steps is the script's and not a scheduler's:
alice's SYN leaves before bob's, the server answers before the client
closes. The programs are natsim's (app/world/tcpapp.h): a client as
`nc -N [-p PORT] HOST PORT` with N bytes on its standard input (connect,
send, FIN, read until the server's FIN), a server as `serve ... echo` (send
back what comes, close after the client). Between steps it takes the NATs'
`conntrack -L -p tcp` into OUT/CASE.POINT.NS.txt and the hosts' sockets
(`ss -Htan`) into OUT/CASE.POINT.ss-NS.txt, and it prints one line for each
outcome:

    CASE outcome ROLE connected|refused|timed-out|reset
    CASE outcome data ...bytes each side got, and whether its peer's FIN came

Usage (NS are namespace names; ADDR:PORT numeric, [ADDR]:PORT for IPv6,
whose sockets are IPV6_V6ONLY):
  tcp_lab.py talk OUT CASE NATS CLIENT_NS CLIENT_ADDR:PORT SERVER_NS
                  LISTEN_ADDR:PORT TO_ADDR:PORT BYTES
      `serve S tcp PORT echo` and `tcp C to TO from port P send BYTES bytes close`.
  tcp_lab.py syn OUT CASE NATS CLIENT_NS CLIENT_ADDR:PORT TO_ADDR:PORT SECONDS
      a connect nobody asked for, given up after SECONDS.
  tcp_lab.py simopen OUT CASE NATS RDV_NS RDV_ADDR:PORT A_NS A_ADDR B_NS B_ADDR PORT
      each of A and B binds PORT (SO_REUSEADDR), connects to the rendezvous
      server and closes (the server saw its mapping), then A and B connect
      to each other's mapping, A first; if both connect, each sends its
      bytes and closes (bob 15, alice 17).
NATS is a comma-separated list of namespaces whose conntrack tables are
taken ("-" for none). Namespace names get $LAB_NS_PREFIX in front.
"""
import ctypes
import os
import select
import socket
import subprocess
import sys
import time

CLONE_NEWNET = 0x40000000
LIBC = ctypes.CDLL(None, use_errno=True)
HOME_NS = os.open("/proc/self/ns/net", os.O_RDONLY)
PREFIX = os.environ.get("LAB_NS_PREFIX", "")  # lib.sh's "nslab-PID-"
CONNECT_LIMIT = 2.5  # seconds a connect may take: the SYN and its retransmission at 1 s (the next is at 3 s)


def endpoint(text):
    """ "10.0.0.1:80", or an IPv6 one as "[2001:db8::2]:80" (RFC 5952 6)."""
    addr, _, port = text.rpartition(":")
    return addr.strip("[]"), int(port)


def enter(ns):
    fd = os.open("/run/netns/" + PREFIX + ns, os.O_RDONLY) if ns else HOME_NS
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + (ns or "home"))
    if ns:
        os.close(fd)


def tcp_socket(ns, reuse=True, v6=False):
    """A TCP socket made in namespace NS; V6: an IPv6 one, IPV6_V6ONLY as
    natsim's IPv6 sockets are."""
    enter(ns)
    try:
        s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    finally:
        enter(None)
    if v6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    if reuse:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s


class Case:
    def __init__(self, out, name, nats):
        self.out, self.name = out, name
        self.nats = [] if nats == "-" else nats.split(",")

    def snapshot(self, point, hosts=()):
        """The NATs' TCP conntrack entries and the hosts' sockets, now."""
        time.sleep(0.1)  # what is in flight on sub-millisecond veths lands
        for ns in self.nats:
            self.save("%s.%s.txt" % (point, ns), ["conntrack", "-L", "-p", "tcp"], ns)
        for ns in hosts:
            self.save("%s.ss-%s.txt" % (point, ns), ["ss", "-Htan"], ns)

    def save(self, name, cmd, ns):
        with open(os.path.join(self.out, "%s.%s" % (self.name, name)), "w") as f:
            subprocess.run(["ip", "netns", "exec", PREFIX + ns] + cmd, stdout=f,
                           stderr=subprocess.DEVNULL, check=False)

    def outcome(self, role, what, extra=""):
        print("%s outcome %s %s%s" % (self.name, role, what, extra), flush=True)


def error_word(err):
    return {0: "connected", 111: "refused", 104: "reset", 110: "timed-out",
            115: "timed-out", 113: "unreachable"}.get(err, "error-%d" % err)


def connect_nowait(sock, to):
    sock.setblocking(False)
    err = sock.connect_ex(to)
    return err in (0, 115)  # EINPROGRESS


def wait_connected(socks, limit):
    """Waits until each socket's connect ends; its errno (0 = connected)."""
    result, deadline = {}, time.monotonic() + limit
    while len(result) < len(socks) and time.monotonic() < deadline:
        pending = [s for s in socks if s not in result]
        _, w, _ = select.select([], pending, [], deadline - time.monotonic())
        for s in w:
            result[s] = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return [result.get(s, 110) for s in socks]


def read_all(sock, limit=2.0):
    """What arrives until the peer's FIN (or LIMIT seconds of silence)."""
    sock.setblocking(True)
    sock.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                return data, True
            data += chunk
    except OSError:
        return data, False


def read_some(sock, n, limit=2.0):
    sock.setblocking(True)
    sock.settimeout(limit)
    data = b""
    try:
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    return data


def nc_send(sock, data):
    """nc -N with DATA on its standard input: the bytes, then its FIN."""
    sock.setblocking(True)
    sock.sendall(data)
    sock.shutdown(socket.SHUT_WR)


def echo_until_eof(conn, expect):
    """natsim's `serve ... echo` (nc -lk as RFC 862's service): send back
    what came, close when the client closed."""
    got = read_some(conn, expect)
    conn.sendall(got)
    rest, eof = read_all(conn)
    conn.close()
    return len(got) + len(rest), eof


def talk(case, client_ns, client, server_ns, listen, to, size):
    """`serve S tcp PORT echo` and `tcp C to TO from port P send SIZE bytes close`."""
    srv = tcp_socket(server_ns, v6=":" in listen[0])
    srv.bind(listen)
    srv.listen(4)
    cli = tcp_socket(client_ns, v6=":" in client[0])
    cli.bind(client)
    connect_nowait(cli, to)
    err = wait_connected([cli], CONNECT_LIMIT)[0]
    case.outcome("client", error_word(err))
    if err:
        case.snapshot("after-syn", (client_ns, server_ns))
        return
    srv.settimeout(2.0)
    conn, _ = srv.accept()
    # conntrack only: natsim's client sends the moment it connects, so its
    # sockets have no quiet moment here (lab_tcp.sh)
    case.snapshot("after-handshake")
    nc_send(cli, bytes(size))
    echoed, server_eof = echo_until_eof(conn, size)
    back, client_eof = read_all(cli)
    cli.close()
    case.outcome("data", "server-got %d eof %s client-got %d eof %s"
                 % (echoed, server_eof, len(back), client_eof))
    case.snapshot("after-close", (client_ns, server_ns))
    srv.close()  # the server listens on (nc -lk) while the table is taken


def syn(case, client_ns, client, to, seconds):
    cli = tcp_socket(client_ns, v6=":" in client[0])
    cli.bind(client)
    connect_nowait(cli, to)
    case.outcome("client", error_word(wait_connected([cli], seconds)[0]))
    case.snapshot("after-syn")
    cli.close()  # a SYN_SENT socket closes without a word (tcp_disconnect)


def learn_mapping(rdv, rdv_to, ns, addr, port):
    """The host's public endpoint as the rendezvous server saw it: the host
    connects from PORT and closes at once (`tcp H to rdv:3478 from port 4000
    close`), the server (`serve rdv tcp 3478 discard`) closes after it."""
    s = tcp_socket(ns)
    s.bind((addr, port))
    s.settimeout(2.0)
    s.connect(rdv_to)
    conn, seen = rdv.accept()
    nc_send(s, b"")
    read_all(conn)
    conn.close()
    read_all(s)
    s.close()
    return seen


def simopen(case, rdv_ns, rdv_at, a_ns, a_addr, b_ns, b_addr, port):
    rdv = tcp_socket(rdv_ns)
    rdv.bind(rdv_at)
    rdv.listen(4)
    rdv.settimeout(2.0)
    a_map = learn_mapping(rdv, rdv_at, a_ns, a_addr, port)
    b_map = learn_mapping(rdv, rdv_at, b_ns, b_addr, port)
    case.snapshot("after-rendezvous", (a_ns, b_ns))
    a, b = tcp_socket(a_ns), tcp_socket(b_ns)
    a.bind((a_addr, port))
    b.bind((b_addr, port))
    connect_nowait(a, b_map)  # alice's SYN goes (and lands) first
    connect_nowait(b, a_map)
    errs = wait_connected([a, b], CONNECT_LIMIT)
    case.outcome("alice", error_word(errs[0]))
    case.outcome("bob", error_word(errs[1]))
    case.snapshot("after-punch", () if errs == [0, 0] else (a_ns, b_ns))
    if errs == [0, 0]:
        # Both are `tcp ... send N bytes close`: bob's handshake ended
        # first (alice's SYN-ACK), so bob's bytes and FIN go first.
        nc_send(b, bytes(15))
        nc_send(a, bytes(17))
        a_got, a_eof = read_all(a)
        b_got, b_eof = read_all(b)
        a.close()
        b.close()
        case.outcome("data", "alice-got %d eof %s bob-got %d eof %s"
                     % (len(a_got), a_eof, len(b_got), b_eof))
        case.snapshot("after-close", (a_ns, b_ns))
    else:
        a.close()
        b.close()
    rdv.close()


def main(argv):
    cmd, out, name, nats = argv[:4]
    case, rest = Case(out, name, nats), argv[4:]
    if cmd == "talk":
        talk(case, rest[0], endpoint(rest[1]), rest[2], endpoint(rest[3]), endpoint(rest[4]), int(rest[5]))
    elif cmd == "syn":
        syn(case, rest[0], endpoint(rest[1]), endpoint(rest[2]), float(rest[3]))
    elif cmd == "simopen":
        simopen(case, rest[0], endpoint(rest[1]), rest[2], rest[3], rest[4], rest[5], int(rest[6]))
    else:
        raise SystemExit("tcp_lab: no command " + cmd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
