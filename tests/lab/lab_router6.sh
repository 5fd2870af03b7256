#!/bin/bash
# lab_router6.sh - the ICMPv6 errors real Linux routers and hosts send, for
# the cases tests/test_router6.c and tests/test_host6.c give natsim's
# (docs/ipv6.md step 2). router6_expected.txt holds the answers both
# agree on, one line a case: what the sender's IPV6_RECVERR socket read
# (type, code, the ee_info word, and who reported it, as a role).
#
#   a (2001:db8:1::5) -- r1 (lan 2001:db8:1::1, wan 2001:db8:ff::1)
#     == 2001:db8:ff::/64, MTU 1280 ==
#   r2 (wan 2001:db8:ff::2, lan 2001:db8:2::1) -- b (2001:db8:2::5)
#
# r1 routes 2001:db8:2::/48 via r2 and 2001:db8:3::/48 via
# 2001:db8:ff::99, which nobody holds; it has no default route. r2's
# default is r1. No firewall. The cases, each from a fresh socket of a:
#   hop-limit     hop limit 2 to b: r2 may not forward it
#   no-route      to 2001:db9::1: r1 has no route
#   addr-unreach  to 2001:db8:3::1: r1's neighbour discovery fails
#   host-addr-unreach  to 2001:db8:1::99, on a's own link, which nobody
#                 holds: a's own neighbour discovery fails and a's stack
#                 reports address unreachable from a itself; a TCP
#                 connect there ends with EHOSTUNREACH (tcp_v6_err)
#   port-unreach  to b's closed port 9
#   too-big       1300 bytes to b over r1's 1280-byte wan
#   burst         ten datagrams at once to 2001:db9::1, r1 answering no
#                 route over its connected /64: six answered; one more
#                 150 ms later answered too (net.ipv6.icmp.ratelimit is
#                 100 ms, with no shift by the route's prefix since Linux
#                 commit 0201eedb69b2, 2026; before it, 1000 ms >> 2 = 250
#                 ms over a /64 would have refused it)
#   zero-csum     UDP with checksum 0 (RFC 8200 8.1 forbids it), sent raw
#                 to b's open port 7000, b's closed port 9 and r2's own
#                 2001:db8:2::1 port 9: both routers forward it, b and
#                 r2's stack drop it (Udp6InCsumErrors, __udp6_lib_rcv
#                 udp6_csum_zero_error), b's socket reads nothing and no
#                 error comes back (tests/test_router6.c
#                 test_zero_checksum_forwarded_then_dropped)
# And real `traceroute -6 -n` (2.1.2) from a, one probe a hop, its lines
# with the times as T, against the same routers: b (port unreachable, no
# mark), 2001:db9::1 (no route, !N), 2001:db8:3::1 (address unreachable
# after r1's neighbour discovery fails, !H), 2001:db8:1::99 (a's own
# neighbour discovery fails: hop 1 is a itself, !H), then r2 rejecting forwarded
# probes with each ICMPv6 code nft offers (no-route !N, admin-prohibited
# !X, addr-unreachable !H, port-unreachable: no mark, the trace ends,
# policy-fail !<5>, reject-route !<6>): traceroute.c parse_icmp_res, which
# app/world/icmpapp.c traceroute_icmp_res follows
# (tests/test_runner_trace6.c).
# Usage: lab_router6.sh (needs root, python3 and traceroute).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_need_root
for tool in python3 traceroute; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit "$LAB_SKIP"; }
done
EXPECTED="$(dirname "$0")/router6_expected.txt"
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
ns r1 ip link set wan mtu 1280
ns r2 ip link set wan mtu 1280
ns a ip -6 addr add 2001:db8:1::5/64 dev eth0 nodad
ns b ip -6 addr add 2001:db8:2::5/64 dev eth0 nodad
ns r1 ip -6 addr add 2001:db8:1::1/64 dev lan nodad
ns r1 ip -6 addr add 2001:db8:ff::1/64 dev wan nodad
ns r2 ip -6 addr add 2001:db8:2::1/64 dev lan nodad
ns r2 ip -6 addr add 2001:db8:ff::2/64 dev wan nodad
ns a ip -6 route add default via 2001:db8:1::1
ns b ip -6 route add default via 2001:db8:2::1
ns r1 ip -6 route add 2001:db8:2::/48 via 2001:db8:ff::2
ns r1 ip -6 route add 2001:db8:3::/48 via 2001:db8:ff::99
ns r2 ip -6 route add default via 2001:db8:ff::1
for r in r1 r2; do ns "$r" sysctl -qw net.ipv6.conf.all.forwarding=1; done
# Neighbours resolved first, so the timed cases time nothing but themselves.
ns a ping -6 -c1 -W2 2001:db8:2::5 >/dev/null

# probe CASE DST PORT HOPLIMIT SIZE COUNT WAIT: send COUNT datagrams, read
# the error queue for WAIT seconds, one line per error.
probe() {
	ns a python3 - "$@" <<'PY'
import socket, struct, sys, time
case, dst, port, hlim, size, count, wait = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
    int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
IPV6_RECVERR, IPV6_DONTFRAG = 25, 62
roles = {"2001:db8:1::1": "r1-lan", "2001:db8:ff::1": "r1-wan", "2001:db8:ff::2": "r2-wan",
         "2001:db8:2::1": "r2-lan", "2001:db8:2::5": "b", "2001:db8:1::5": "a"}
# A socket a datagram: a queued error fails the socket's next send
# (ECONNREFUSED), which would hold a burst back at the sender.
socks = []
for _ in range(count):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_DONTFRAG, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, hlim)
    s.bind(("2001:db8:1::5", 0))
    s.sendto(b"x" * size, (dst, port))
    socks.append(s)
# burst: a late datagram 150 ms after the ten, on a socket of its own whose
# errors are counted apart.
late = []
for delay in ((0.15,) if case == "burst" else ()):
    time.sleep(delay)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    s.bind(("2001:db8:1::5", 0))
    s.sendto(b"x", (dst, port))
    late.append(s)
socks += late
lines, end = [], time.time() + wait
late_errors = [0]
while time.time() < end:
    got = False
    for s in socks:
        try:
            _, anc, _, _ = s.recvmsg(2048, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        except BlockingIOError:
            continue
        got = True
        if s in late:
            late_errors[late.index(s)] += 1
            anc = []
        break
    if not got:
        time.sleep(0.05)
        continue
    for level, kind, data in anc:
        if level != socket.IPPROTO_IPV6 or kind != IPV6_RECVERR:
            continue
        errno_, origin, typ, code, _, info, _ = struct.unpack("=IBBBBII", data[:16])
        who = socket.inet_ntop(socket.AF_INET6, data[16 + 8:16 + 24])
        lines.append("%s type=%d code=%d info=%d from=%s" % (case, typ, code, info,
                                                             roles.get(who, who)))
if case == "burst":
    print("burst errors=%d late150ms=%d" % (len(lines), late_errors[0]))
else:
    print("\n".join(lines) if lines else "%s none" % case)
PY
}

# snmp6 NS COUNTER: the namespace's /proc/net/snmp6 counter.
snmp6() { ns "$1" awk -v c="$2" '$1 == c { print $2 }' /proc/net/snmp6; }

# zero_csum: the zero-csum case (above), one line of counters' deltas.
zero_csum() {
	local f1 f2 c2 cb out
	out=$(mktemp)
	# b's socket on port 7000 counts what it reads until 2 s pass quietly;
	# it says when it is bound (a file), and the sends wait for that.
	ns b timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:2::5", 7000)); s.settimeout(2); n = 0
open(sys.argv[1], "w").close()
try:
    while True:
        s.recv(100); n += 1
except OSError:
    pass
print(n)' "$out.bound" >"$out" &
	for _ in $(seq 100); do [ -e "$out.bound" ] && break; sleep 0.1; done
	f1=$(snmp6 r1 Ip6OutForwDatagrams) f2=$(snmp6 r2 Ip6OutForwDatagrams)
	c2=$(snmp6 r2 Udp6InCsumErrors) cb=$(snmp6 b Udp6InCsumErrors)
	ns a python3 - <<'PY'
import socket, struct, time
IPV6_RECVERR = 25
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
s.bind(("2001:db8:1::5", 0))
for dst, port in (("2001:db8:2::5", 7000), ("2001:db8:2::5", 9), ("2001:db8:2::1", 9)):
    # a raw IPv6 socket writes no checksum unless IPV6_CHECKSUM asks: 0 stays
    s.sendto(struct.pack("!HHHH", 5000, port, 12, 0) + b"ping", (dst, 0))
time.sleep(0.5)
errors = 0
while True:
    try:
        s.recvmsg(2048, 512, socket.MSG_ERRQUEUE | socket.MSG_DONTWAIT)
        errors += 1
    except BlockingIOError:
        break
print("zero-csum errors-at-a=%d" % errors)
PY
	wait
	echo "zero-csum r1-forwarded=$(($(snmp6 r1 Ip6OutForwDatagrams) - f1))" \
		"r2-forwarded=$(($(snmp6 r2 Ip6OutForwDatagrams) - f2))" \
		"r2-csum-errors=$(($(snmp6 r2 Udp6InCsumErrors) - c2))" \
		"b-csum-errors=$(($(snmp6 b Udp6InCsumErrors) - cb)) b-read=$(cat "$out")"
	rm -f "$out" "$out.bound"
}

# tcp_connect CASE DST: a TCP connect() from a to DST port 80, the errno
# it ended with, by name.
tcp_connect() {
	ns a python3 - "$@" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(10)
try:
    s.connect((sys.argv[2], 80))
    print("tcp-%s connected" % sys.argv[1])
except socket.timeout:
    print("tcp-%s timeout" % sys.argv[1])
except OSError as e:
    print("tcp-%s %s" % (sys.argv[1], errno.errorcode.get(e.errno, e.errno)))
PY
}

# trace CASE DST: traceroute -6 -n from a, one probe a hop; its hop lines
# with each time as T, after "CASE".
trace() {
	sleep 1 # r2's ICMPv6 bucket full again (6 at once, one per 100 ms)
	ns a traceroute -6 -n -q 1 -N 1 -w 5 -m 5 "$2" 2>&1 | tail -n +2 |
		sed -E "s/[0-9]+\.[0-9]+ ms/T/g; s/^/trace-$1 /"
}

# traces: the traceroute cases (above); r2's forward chain rejects each
# ICMPv6 code in turn, then is emptied.
traces() {
	trace port 2001:db8:2::5
	trace no-route 2001:db9::1
	trace addr-unreach 2001:db8:3::1
	trace host-addr-unreach 2001:db8:1::99
	ns r2 nft add table ip6 lab
	ns r2 nft 'add chain ip6 lab fw { type filter hook forward priority 0; }'
	for code in no-route admin-prohibited addr-unreachable port-unreachable policy-fail \
		reject-route; do
		ns r2 nft flush chain ip6 lab fw
		ns r2 nft add rule ip6 lab fw udp dport 33434-33534 reject with icmpv6 type "$code"
		trace "reject-$code" 2001:db8:2::5
	done
	ns r2 nft delete table ip6 lab
}

got=$(
	probe hop-limit 2001:db8:2::5 7000 2 1 1 1
	probe no-route 2001:db9::1 9 64 1 1 1
	probe addr-unreach 2001:db8:3::1 9 64 1 1 6
	probe host-addr-unreach 2001:db8:1::99 9 64 1 1 6
	tcp_connect host-addr-unreach 2001:db8:1::99
	probe port-unreach 2001:db8:2::5 9 64 1 1 1
	probe too-big 2001:db8:2::5 7000 64 1252 1 1
	sleep 2 # r1's bucket for a full again
	probe burst 2001:db9::1 9 64 1 10 1
	zero_csum
	traces
	ns r1 sysctl net.ipv6.icmp.ratelimit
)
want=$(grep -v '^#' "$EXPECTED")
if [ "$got" != "$want" ]; then
	echo "FAIL: Linux answered otherwise than router6_expected.txt (and natsim) say"
	diff <(echo "$want") <(echo "$got") || true
	exit 1
fi
echo "PASS: Linux routers and hosts answer with the ICMPv6 errors natsim sends"
