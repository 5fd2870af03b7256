#!/bin/bash
# lab_conntrack6.sh - the lines tests/test_explain_ipv6.c expects from
# conntrack_format_record6 are the lines the real `conntrack -L -f ipv6`
# prints for the same flows (conntrack6_expected.txt). In a fresh network
# namespace, with an ip6 nftables chain so that conntrack tracks: UDP over
# ::1 unanswered, UDP from 2001:db8:0:1::10 to ::1 answered, UDP between
# 2001:db8::1:0:0:1 and 2001:0:0:1::abcd (zero runs that tie, and that
# differ), ping -6 ::1, and TCP over ::1: a connection with data
# (ESTABLISHED), one the client half-closed (CLOSE_WAIT), one closed both
# ways (TIME_WAIT), one the client reset (CLOSE), a SYN dropped before it
# arrived (SYN_SENT [UNREPLIED]), a SYN refused with an RST (no entry left:
# an RST the only reply kills it), and a simultaneous open. Timeouts
# and the ping id vary from run to run and are compared as placeholders.
# Usage: lab_conntrack6.sh (needs root, conntrack, nft, python3, ping).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_need_root
for tool in conntrack python3 ping; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit "$LAB_SKIP"; }
done
EXPECTED="$(dirname "$0")/conntrack6_expected.txt"

flows() {
	set -e
	ip link set lo up
	ip -6 addr add 2001:db8:0:1::10/128 dev lo
	ip -6 addr add 2001:db8::1:0:0:1/128 dev lo
	ip -6 addr add 2001:0:0:1::abcd/128 dev lo
	nft add table ip6 t
	nft add chain ip6 t c '{ type filter hook output priority 0; }'
	nft add rule ip6 t c ct state new counter
	# After conntrack saw them (output): a SYN nobody answers, and the
	# first SYN of the simultaneous open, so that the other crosses it.
	nft add chain ip6 t in '{ type filter hook input priority 0; }'
	nft add rule ip6 t in tcp dport 9999 drop
	nft add rule ip6 t in tcp sport 40010 tcp dport 40011 tcp flags syn / syn,ack drop
	sleep 2 # duplicate address detection
	ping -6 -c1 -q ::1 >/dev/null
	# conntrack runs while the TCP connection is open (ESTABLISHED).
	python3 - <<'PY'
import socket, struct, subprocess, time
U = socket.SOCK_DGRAM
def udp(bind):
    s = socket.socket(socket.AF_INET6, U)
    s.bind(bind)
    return s
udp(("::1", 40000)).sendto(b"hi", ("::1", 3478))
s, r = udp(("2001:db8:0:1::10", 40001)), udp(("::1", 5000))
s.sendto(b"hi", ("::1", 5000))
_, a = r.recvfrom(10)
r.sendto(b"yo", a)
udp(("2001:db8::1:0:0:1", 61000)).sendto(b"hi", ("2001:0:0:1::abcd", 3478))
T = socket.SOCK_STREAM
def listener(port):
    l = socket.socket(socket.AF_INET6, T)
    l.bind(("::1", port))
    l.listen()
    return l
def connected(sport, dport):
    """A connection from ::1 sport to a listener on dport, one byte sent
    and received: (client, server side)."""
    l = listener(dport)
    c = socket.socket(socket.AF_INET6, T)
    c.bind(("::1", sport))
    c.connect(("::1", dport))
    p, _ = l.accept()
    c.send(b"x")
    p.recv(1)
    return c, p
keep = [connected(40002, 8080)]           # ESTABLISHED
c, p = connected(40004, 8081)             # client's FIN acked: CLOSE_WAIT
c.shutdown(socket.SHUT_WR)
p.recv(1)
keep.append((c, p))
c, p = connected(40005, 8082)             # both FINs: TIME_WAIT
c.close()
p.recv(1)
p.close()
time.sleep(0.2)
c, p = connected(40006, 8083)             # an RST (SO_LINGER 0): CLOSE
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
keep.append(p)
s = socket.socket(socket.AF_INET6, T)     # its SYN dropped at input: SYN_SENT
s.bind(("::1", 40003))
s.setblocking(False)
s.connect_ex(("::1", 9999))
keep.append(s)
r = socket.socket(socket.AF_INET6, T)     # refused, an RST the only reply: no entry
r.bind(("::1", 40007))
assert r.connect_ex(("::1", 9998)) != 0
a = socket.socket(socket.AF_INET6, T)     # simultaneous open: a's SYN dropped at
a.bind(("::1", 40010))                    # input, b's SYN crosses it
a.setblocking(False)
a.connect_ex(("::1", 40011))
b = socket.socket(socket.AF_INET6, T)
b.bind(("::1", 40011))
b.connect(("::1", 40010))
keep += [a, b]
time.sleep(0.2)
print(subprocess.run(["conntrack", "-L", "-f", "ipv6"], capture_output=True,
                     text=True, check=True).stdout, end="")
PY
}
export -f flows

# "udp      17 29 " -> "udp      17 T "; "id=25778" -> "id=I"
normalise() {
	sed -E 's/^([a-z0-9]+ +[0-9]+) [0-9]+ /\1 T /; s/id=[0-9]+/id=I/g' | sort
}

got=$(timeout 60 unshare -n bash -c flows | normalise)
want=$(normalise <"$EXPECTED")
if [ "$got" != "$want" ]; then
	echo "FAIL: conntrack -L -f ipv6 printed lines other than conntrack6_expected.txt"
	diff <(echo "$want") <(echo "$got") || true
	exit 1
fi
echo "PASS: conntrack -L -f ipv6 prints the lines test_explain_ipv6 expects"
