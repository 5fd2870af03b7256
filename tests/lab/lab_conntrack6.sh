#!/bin/bash
# lab_conntrack6.sh - the lines tests/test_explain_ipv6.c expects from
# conntrack_format_record6 are the lines the real `conntrack -L -f ipv6`
# prints for the same flows (conntrack6_expected.txt). In a fresh network
# namespace, with an ip6 nftables chain so that conntrack tracks: UDP over
# ::1 unanswered, UDP from 2001:db8:0:1::10 to ::1 answered, UDP between
# 2001:db8::1:0:0:1 and 2001:0:0:1::abcd (zero runs that tie, and that
# differ), ping -6 ::1, and a TCP connection over ::1 with data. Timeouts
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
	sleep 2 # duplicate address detection
	ping -6 -c1 -q ::1 >/dev/null
	# conntrack runs while the TCP connection is open (ESTABLISHED).
	python3 - <<'PY'
import socket, subprocess
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
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.bind(("::1", 8080))
l.listen()
c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c.bind(("::1", 40002))
c.connect(("::1", 8080))
p, _ = l.accept()
c.send(b"x")
p.recv(1)
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
