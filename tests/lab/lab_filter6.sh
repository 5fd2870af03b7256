#!/bin/bash
# lab_filter6.sh - what a real RFC 6092-style IPv6 firewall (an nftables
# `ip6` table on a Linux router, no NAT) lets through, and what its
# conntrack holds, for the sequence tests/test_filter6.c replays through
# two filter6s (filter6_expected.txt holds both: the test checks its
# outcomes and its `conntrack -L -f ipv6` lines are these).
#
#   a (2001:db8:1::5) -- r1 (lan 2001:db8:1::1, wan 2001:db8:ff::1)
#     == 2001:db8:ff::/64 ==
#   r2 (wan 2001:db8:ff::2, lan 2001:db8:2::1) -- b (2001:db8:2::5)
#
# r1 and r2 forward with: ct state established,related accept; ct state
# invalid drop; iifname "lan" accept; policy drop. The sequence:
#   1. b:7000 -> a:5000, nobody asked: dropped at r1
#   2. b:6000 -> a:5000 (b's probe first): dropped at r1, but opens r2
#   3. a:5000 -> b:6000 (a's probe): crosses both (a reply at r2)
#   4. b:6000 -> a:5000 again: crosses both (a reply at r1)
#   5. a:5001 -> r2's wan address port 9: r2 answers ICMPv6 port
#      unreachable, RELATED at r1: reaches a
#   6. b:7100 -> a:8000, a TCP SYN nobody asked for: dropped at r1
#   7. a:8001 -> r2's wan address port 8002 (r2's own server: its INPUT is
#      not filtered), a TCP connection out: a byte, closed both ways
#   8. a:8003 <-> b:8004, a TCP simultaneous open: a's SYN first (r1 lets
#      it out, r2 drops it), then b's, which r1 lets in as the reply to
#      a's; both connect, send a byte each way and close
# then r1's conntrack -L -f ipv6, timeouts and ordering normalised.
# Usage: lab_filter6.sh (needs root, nft, conntrack, python3).
# (Simultaneous open's "b/a" outcome is b's then a's.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_need_root
for tool in conntrack python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit "$LAB_SKIP"; }
done
EXPECTED="$(dirname "$0")/filter6_expected.txt"
trap 'for n in a r1 r2 b; do lab_del_ns "$LAB-$n"; done' EXIT

ns() { ip netns exec "$LAB-$1" "${@:2}"; }

link() { # link NS1 IF1 NS2 IF2
	ip link add "$2" netns "$LAB-$1" type veth peer name "$4" netns "$LAB-$3"
	ns "$1" ip link set "$2" up
	ns "$3" ip link set "$4" up
}

for n in a r1 r2 b; do
	ip netns add "$LAB-$n"
	ns "$n" ip link set lo up
	ns "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
link a eth0 r1 lan
link r1 wan r2 wan
link b eth0 r2 lan
ns a ip -6 addr add 2001:db8:1::5/64 dev eth0 nodad
ns b ip -6 addr add 2001:db8:2::5/64 dev eth0 nodad
ns r1 ip -6 addr add 2001:db8:1::1/64 dev lan nodad
ns r1 ip -6 addr add 2001:db8:ff::1/64 dev wan nodad
ns r2 ip -6 addr add 2001:db8:2::1/64 dev lan nodad
ns r2 ip -6 addr add 2001:db8:ff::2/64 dev wan nodad
ns a ip -6 route add default via 2001:db8:1::1
ns b ip -6 route add default via 2001:db8:2::1
ns r1 ip -6 route add 2001:db8:2::/64 via 2001:db8:ff::2
ns r2 ip -6 route add 2001:db8:1::/64 via 2001:db8:ff::1
for r in r1 r2; do
	ns "$r" sysctl -qw net.ipv6.conf.all.forwarding=1
	ns "$r" nft -f - <<'NFT'
table ip6 fw {
	chain forward {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lan" accept
	}
}
NFT
done

# One datagram from NS's SRC port to DST, and whether a listener on the
# other side got it (or, for an unreachable port, whether the sender's
# connected socket heard the error).
send() { # send NS SRC-ADDR SRC-PORT DST-ADDR DST-PORT
	ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(b"probe", (sys.argv[3], int(sys.argv[4])))' "${@:2}"
}

received() { # received NS ADDR PORT READY: a datagram within 2.5 s? (The
	# first packet of each path waits for neighbour discovery at each hop.)
	ns "$1" timeout 5 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(2.5)
open(sys.argv[3], "w").close()
try:
    s.recvfrom(100)
    print("passed")
except socket.timeout:
    print("dropped")' "$2" "$3" "$4"
}

# A listener started in the background, ready when its file appears.
expect_at() { # expect_at NS ADDR PORT OUT
	local ready
	ready=$(mktemp -u)
	received "$1" "$2" "$3" "$ready" >"$4" &
	for _ in $(seq 50); do [ -e "$ready" ] && break; sleep 0.05; done
	rm -f "$ready"
}

# TCP: a server that takes one connection, reads a byte and closes first;
# a client that connects from its port (2.5 s: the SYN and one
# retransmission), sends a byte and closes after the server's FIN. The
# client prints passed, dropped (no answer) or refused (an RST).
tcp_server() { # tcp_server NS ADDR PORT
	ns "$1" timeout 8 python3 -c '
import socket, sys
l = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((sys.argv[1], int(sys.argv[2])))
l.listen()
c, _ = l.accept()
c.recv(1)
c.close()' "$2" "$3" || true
}
tcp_client() { # tcp_client NS SRC-ADDR SRC-PORT DST-ADDR DST-PORT
	ns "$1" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.settimeout(2.5)
try:
    s.connect((sys.argv[3], int(sys.argv[4])))
except socket.timeout:
    print("dropped")
    sys.exit()
except ConnectionRefusedError:
    print("refused")
    sys.exit()
s.send(b"x")
s.settimeout(3)
try:
    s.recv(1)
except (socket.timeout, ConnectionResetError):
    pass
s.close()
print("passed")' "${@:2}"
}

out=$(mktemp -d)
step() { # step N WHAT RECEIVER-NS ADDR PORT SENDER-NS SRC SPORT DST DPORT
	expect_at "$3" "$4" "$5" "$out/$1"
	send "$6" "$7" "$8" "$9" "${10}"
	wait
	echo "$1. $2: $(cat "$out/$1")"
}

# a and b keep the probe ports bound only while listening; each send binds
# the same port, as a hole-punching peer sends from its one socket.
result=$(
	step 1 "b:7000 -> a:5000 unsolicited" a 2001:db8:1::5 5000 b 2001:db8:2::5 7000 2001:db8:1::5 5000
	step 2 "b:6000 -> a:5000 first probe" a 2001:db8:1::5 5000 b 2001:db8:2::5 6000 2001:db8:1::5 5000
	step 3 "a:5000 -> b:6000 probe" b 2001:db8:2::5 6000 a 2001:db8:1::5 5000 2001:db8:2::5 6000
	step 4 "b:6000 -> a:5000 probe" a 2001:db8:1::5 5000 b 2001:db8:2::5 6000 2001:db8:1::5 5000
	unreach=$(ns a python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:1::5", 5001))
s.connect(("2001:db8:ff::2", 9))
s.send(b"probe")
s.settimeout(2.5)
try:
    s.recv(100)
    print("no error")
except ConnectionRefusedError:
    print("passed")
except socket.timeout:
    print("dropped")')
	echo "5. port unreachable from r2 about a:5001 -> [2001:db8:ff::2]:9: $unreach"
	tcp_server r2 2001:db8:ff::2 8002 &
	tcp_server a 2001:db8:1::5 8000 &
	sleep 0.5
	echo "6. b:7100 -> a:8000 TCP SYN unsolicited: $(tcp_client b 2001:db8:2::5 7100 2001:db8:1::5 8000)"
	echo "7. a:8001 -> [2001:db8:ff::2]:8002 TCP connection: $(tcp_client a 2001:db8:1::5 8001 2001:db8:ff::2 8002)"
	wait # (a's server gives up after 8 s)
	tcp_client a 2001:db8:1::5 8003 2001:db8:2::5 8004 >"$out/8a" &
	sleep 0.3 # a's SYN has left (and been dropped at r2) before b's
	b8=$(tcp_client b 2001:db8:2::5 8004 2001:db8:1::5 8003)
	wait
	echo "8. a:8003 <-> b:8004 TCP simultaneous open: $b8/$(cat "$out/8a")"
	sleep 0.5 # the last ACK of the closes
)
# "udp      17 29 " -> "udp      17 T "
table=$(ns r1 conntrack -L -f ipv6 2>/dev/null | sed -E 's/^([a-z0-9]+ +[0-9]+) [0-9]+ /\1 T /' | sort)
rm -rf "$out"
got=$(printf '%s\n%s\n' "$result" "$table")
want=$(sed -E 's/^([a-z0-9]+ +[0-9]+) [0-9]+ /\1 T /' "$EXPECTED" | sed -n '/^[0-9]\. /p; /^[a-z]/p')
want_sorted=$(printf '%s\n' "$want" | grep '^[0-9]\. '; printf '%s\n' "$want" | grep -v '^[0-9]\. ' | sort)
if [ "$got" != "$want_sorted" ]; then
	echo "FAIL: the nftables ip6 firewall did other than filter6_expected.txt says"
	diff <(echo "$want_sorted") <(echo "$got") || true
	exit 1
fi
echo "PASS: an nftables ip6 stateful firewall does what filter6_expected.txt (and test_filter6) say"
