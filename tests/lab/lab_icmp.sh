#!/bin/bash
# lab_icmp.sh NATSIM - ICMP through real Linux NATs (issue 15's real-network
# check): ping out and in, reject rules, a port unreachable through each NAT
# kind, a burst against the rate limit, traceroute through two NATs.
#
# Each case runs in a fresh lab (lib.sh: the same nftables NATs as the other
# lab scripts), so that no rate-limit bucket or conntrack entry of one case
# changes the next. A capture on the host that receives the ICMP (the inside
# host, or bob for the cases that go in) is read by icmp_pcap.py, which prints
# one normalised line per message,
#     CASE TYPE CODE OUTER-SRC OUTER-DST INNER-SRC:PORT INNER-DST:PORT
# with addresses replaced by roles, and checks that the packet quoted inside
# every error is the host's own datagram as it sent it (each NAT translated
# the inner header back, RFC 5508 REQ-3/4). The NATs' `conntrack -L -p icmp`
# lines follow, addresses as roles, timeouts as T. docs/lab.md (section ICMP)
# says what the lines showed.
#
# The simulator's half (the same cases in `natsim run`, compared line by
# line) comes when natsim has ping, traceroute and ICMP errors (issue 15);
# until then the script checks the real half's own invariants and prints
# its lines.
set -euo pipefail
NATSIM=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for tool in conntrack python3 tcpdump ping traceroute ethtool; do
	command -v "$tool" >/dev/null || { echo "SKIP: lab_icmp needs $tool"; exit "$LAB_SKIP"; }
done
lab_init
: "$NATSIM" # the simulator's half will run it
LINES=$LAB_LOGS/lines.txt
: >"$LINES"
ALICE=172.31.1.2
BOB=10.99.0.12
BOB_ROUTED=10.99.1.2 # bob one router away (icmp_world_double)
PUB=10.99.0.11
ECHO_ID=4242

# Removes every namespace of this run (and what runs in them) for the next
# case's fresh lab.
icmp_teardown() {
	local ns pid
	# What this run started ends first, so that bash has nothing killed
	# under it to report; lab_del_ns then finds the namespaces empty.
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	LAB_PIDS=()
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		lab_del_ns "$ns"
	done
}

# bob's own firewall: the reject rules (iptables REJECT's default answer is
# port unreachable; `with` picks another) and a drop, for comparison.
icmp_bob_rules() {
	in_ns h2 nft -f - <<-NFT
	table ip bob {
		chain input { type filter hook input priority filter; policy accept;
			udp dport 5001 reject
			udp dport 5002 reject with icmp type admin-prohibited
			udp dport 5004 drop
		}
	}
	NFT
}

# A fresh lab: alice behind a NAT of KIND (input INPUT, default the kind's),
# bob an open public host with icmp_bob_rules. Sets ROLES.
icmp_world() {
	icmp_teardown
	lab_make_wan
	lab_side 1 "$1" "${2:-}"
	lab_side 2 open
	icmp_bob_rules
	icmp_no_offload
	ROLES=(alice=$ALICE alice-nat=$PUB alice-nat-lan=172.31.1.1 bob=$BOB)
}

# A fresh lab with two NATs: alice behind `home` (a port-restricted cone,
# public 100.64.1.2), itself behind `carrier` (another one, inside 100.64.1.1,
# public 10.99.0.11), the shape of the simulator's `nat home ... behind
# carrier`. bob is one router away, as in the simulator, whose internet is a
# router: the wan namespace forwards here, and bob (10.99.1.2) has a link of
# his own to it.
icmp_world_double() {
	icmp_teardown
	lab_make_wan
	lab_make_ns carrier
	lab_plug_wan carrier "$PUB"
	lab_make_ns nat1
	lab_make_ns lan1
	icmp_link carrier lan0 100.64.1.1 nat1 wan0 100.64.1.2
	in_ns nat1 ip route add default via 100.64.1.1
	icmp_link nat1 lan0 172.31.1.1 lan1 eth0 "$ALICE"
	in_ns lan1 ip route add default via 172.31.1.1
	in_ns carrier sysctl -qw net.ipv4.ip_forward=1
	in_ns nat1 sysctl -qw net.ipv4.ip_forward=1
	lab_nat_rules port-restricted-cone "$PUB" 100.64.1.2 drop | in_ns carrier nft -f -
	lab_nat_rules port-restricted-cone 100.64.1.2 "$ALICE" drop | in_ns nat1 nft -f -
	lab_make_ns h2
	icmp_link wan wbob 10.99.1.1 h2 wan0 "$BOB_ROUTED"
	in_ns h2 ip route add default via 10.99.1.1
	in_ns wan sysctl -qw net.ipv4.ip_forward=1
	icmp_no_offload
	ROLES=(alice=$ALICE home-lan=172.31.1.1 home=100.64.1.2 carrier-lan=100.64.1.1
		carrier=$PUB internet=$COORD1 bob=$BOB_ROUTED)
}

# Checksums computed by the sender's kernel, as on a real wire. A veth passes
# a datagram on with its UDP checksum still to be filled in (CHECKSUM_PARTIAL:
# "offloaded" to a card that does not exist), forwarding keeps it so, and an
# ICMP error then quotes that half-made checksum: neither the packet sent nor
# one a real network would carry (docs/lab.md, section ICMP).
icmp_no_offload() {
	local ns dev
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		for dev in $(ip -n "$ns" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
			ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
		done
	done
}

# icmp_link NS1 IF1 IP1 NS2 IF2 IP2: a veth pair between two namespaces, /24.
icmp_link() {
	ip link add "$2" netns "$LAB-$1" type veth peer name "$5" netns "$LAB-$4"
	in_ns "$1" ip addr add "$3/24" dev "$2"
	in_ns "$1" ip link set "$2" up
	in_ns "$4" ip addr add "$6/24" dev "$5"
	in_ns "$4" ip link set "$5" up
}

# cap_start NS IF: captures UDP and ICMP on one host until cap_stop.
cap_start() {
	CAP_NS=$1
	lab_spawn "$1" "cap_$1" tcpdump -i "$2" -n -U --immediate-mode -Z root -w "$LAB_LOGS/$1.pcap" udp or icmp
	lab_wait_log "cap_$1" "listening on"
}

# cap_stop CASE [--by-ttl]: ends the capture and adds its lines to $LINES.
cap_stop() {
	local case=$1 host pid
	shift
	sleep 0.3 # the last answers cross sub-millisecond veths; this is ample
	eval "pid=\$PID_cap_$CAP_NS"
	kill -INT "$pid"
	wait "$pid" || true
	host=$ALICE
	[ "$CAP_NS" = h2 ] && host=$BOB
	python3 "$HERE/icmp_pcap.py" "$@" "$LAB_LOGS/$CAP_NS.pcap" "$case" "$host" "${ROLES[@]}" |
		tee -a "$LINES"
}

# udp_send NS FROM_IP SPORT TO_IP DPORT [COUNT]: COUNT datagrams (default 1),
# back to back, from one socket. Nothing reads the errors: the capture does.
udp_send() {
	in_ns "$1" python3 -c '
import socket, sys
src, sport, dst, dport, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, sport))
for i in range(count):
    s.sendto(b"natsim lab %d" % i, (dst, dport))
' "$2" "$3" "$4" "$5" "${6:-1}"
}

# ct_lines NS NAME [PROTO]: the NAT's conntrack entries of PROTO (default
# icmp), addresses as roles, the timeout as T; the original tuple's ports and
# echo id as they are, and a reply tuple's P (ID' for an id) where the NAT
# chose another (a symmetric NAT's random port). The raw lines, spacing and
# all, stay in conntrack-NAME.txt for docs/lab.md.
ct_lines() {
	local proto=${3:-icmp} name=conntrack-$2 raw
	[ "$proto" = icmp ] || name=conntrack-$proto-$2
	raw=$LAB_LOGS/$name.txt
	in_ns "$1" conntrack -L -p "$proto" 2>/dev/null >"$raw" || true
	[ -s "$raw" ] || { echo "$name none" | tee -a "$LINES"; return; }
	python3 -c '
import sys
roles = dict(reversed(a.split("=", 1)) for a in sys.argv[2:])
for line in sys.stdin:
    w = line.split()
    w[2] = "T"
    tuples, original = 0, set()  # the original tuple ports and id
    for i, x in enumerate(w):
        k, _, v = x.partition("=")
        if k == "src":
            tuples += 1
        if k in ("src", "dst"):
            w[i] = k + "=" + roles.get(v, "?" + v)
        elif k in ("sport", "dport", "id"):
            if tuples == 1:
                original.add(v)
            kept = tuples == 1 or v in original
            if k == "id":
                w[i] = "id=ID" if kept else "id=ID\x27"
            elif not kept:
                w[i] = k + "=P"
    print(sys.argv[1] + " " + " ".join(w))
' "$name" "${ROLES[@]}" <"$raw" | sort | tee -a "$LINES"
}

# Each NAT kind: ping out, then a datagram to a port where nothing listens.
case_kind() {
	local kind=$1
	icmp_world "$kind"
	cap_start lan1 eth0
	in_ns lan1 ping -n -q -c 1 -W 2 -e "$ECHO_ID" "$BOB" >/dev/null
	cap_stop "ping-out-$kind"
	cap_start lan1 eth0
	udp_send lan1 "$ALICE" 4000 "$BOB" 6000
	cap_stop "unreach-$kind"
	ct_lines nat1 "$kind"
	ct_lines nat1 "$kind" udp
}

# bob's reject rules, a drop, and a reject in alice's NAT's forward chain.
case_reject() {
	icmp_world port-restricted-cone
	in_ns nat1 nft insert rule ip lab forward iifname lan0 udp dport 5003 reject
	local port name
	for port in 5001:reject 5002:reject-admin 5003:reject-forward 5004:drop; do
		name=${port#*:}
		cap_start lan1 eth0
		udp_send lan1 "$ALICE" 4000 "$BOB" "${port%%:*}"
		cap_stop "$name"
	done
}

# Ten datagrams at once to a closed port: how many errors come back; and ten
# more (to the next port) 1.2 s later, when the bucket has earned one token.
case_burst() {
	icmp_world port-restricted-cone
	cap_start lan1 eth0
	udp_send lan1 "$ALICE" 4000 "$BOB" 6001 10
	sleep 1.2
	udp_send lan1 "$ALICE" 4000 "$BOB" 6002 10
	cap_stop burst-10
}

# bob sends alice's NAT a port unreachable about a flow it never had (as
# natsim's raw ICMP action can): the NAT finds no entry for the quoted
# packet, so the error is not RELATED and nothing reaches alice.
case_no_flow() {
	icmp_world port-restricted-cone
	cap_start lan1 eth0
	in_ns h2 python3 -c '
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return struct.pack("!H", s ^ 0xFFFF)
pub, bob = socket.inet_aton(sys.argv[1]), socket.inet_aton(sys.argv[2])
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1, 0, 63, 17, 0, pub, bob)
inner = ip[:10] + csum(ip) + ip[12:] + struct.pack("!HHHH", 4999, 6000, 8, 0)
msg = struct.pack("!BBHI", 3, 3, 0, 0) + inner
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.sendto(msg[:2] + csum(msg) + msg[4:], (sys.argv[1], 0))
' "$PUB" "$BOB"
	cap_stop error-no-flow
	# It did reach the NAT: untracked, it went up the NAT's own stack.
	[ "$(icmp_in_unreach nat1)" = 1 ] ||
		{ echo "FAIL: alice's NAT did not receive the forged error" >&2; exit 1; }
}

# icmp_in_unreach NS: destination unreachables the namespace's own stack took
# in (Icmp InDestUnreachs in /proc/net/snmp).
icmp_in_unreach() {
	in_ns "$1" awk '$1 == "Icmp:" { if (!n) { for (i = 2; i <= NF; i++) col[$i] = i; n = 1 }
		else print $col["InDestUnreachs"] }' /proc/net/snmp
}

# bob pings alice's NAT's public address, and sends it a datagram: a home
# router (input drop), then a bare Linux NAT (input accept). bob's view.
case_in() {
	local input
	for input in drop accept; do
		icmp_world port-restricted-cone "$input"
		cap_start h2 wan0
		in_ns h2 ping -n -q -c 1 -W 1 -e "$ECHO_ID" "$PUB" >/dev/null || true
		cap_stop "ping-in-$input"
		cap_start h2 wan0
		udp_send h2 "$BOB" 4000 "$PUB" 7000
		cap_stop "unreach-nat-$input"
		ct_lines nat1 "in-$input"
		ct_lines nat1 "in-$input" udp
	done
}

# Default traceroute (UDP probes, three a hop, 16 in flight) through two NATs
# and the internet's router.
case_traceroute() {
	icmp_world_double
	cap_start lan1 eth0
	in_ns lan1 traceroute -n "$BOB_ROUTED" >"$LAB_LOGS/traceroute.txt" 2>&1 || true
	cap_stop traceroute --by-ttl
	sed 's/^/  | /' "$LAB_LOGS/traceroute.txt"
	# What the student sees: each router's inside address, then bob.
	local hops
	hops=$(awk '$1 ~ /^[0-9]+$/ { printf "%s ", $2 }' "$LAB_LOGS/traceroute.txt")
	[ "$hops" = "172.31.1.1 100.64.1.1 $COORD1 $BOB_ROUTED " ] ||
		{ echo "FAIL: traceroute's hops are '$hops'" >&2; exit 1; }
	ct_lines nat1 home
	ct_lines carrier carrier
}

for kind in full-cone restricted-cone port-restricted-cone symmetric; do
	case_kind "$kind"
done
case_reject
case_burst
case_no_flow
case_in
case_traceroute

# What Linux did when this was written (docs/lab.md, section ICMP): a change
# in the kernel or in the lab shows here first.
if ! diff -u <(grep -v '^#' "$HERE/icmp_expected.txt" | sort) <(sort "$LINES") >"$LAB_LOGS/diff.txt"; then
	echo "FAIL: Linux's ICMP differs from tests/lab/icmp_expected.txt:" >&2
	cat "$LAB_LOGS/diff.txt" >&2
	exit 1
fi
echo "PASS: every error the hosts received quotes their own datagram, translated" \
	"back; Linux did what tests/lab/icmp_expected.txt says"
