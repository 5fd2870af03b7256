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
# lines follow, addresses as roles, timeouts as T. They must equal
# icmp_expected.txt, what Linux did (docs/lab.md, section ICMP).
#
# Then the simulator's half: the same cases as scenarios, `natsim run --pcap`
# capturing the same host, the same reader, the same lines. Each difference
# from Linux must be one that icmp_sim_differences.txt explains (as
# lab_pair.sh explains port overlapping), and each one it explains must
# still show.
set -euo pipefail
NATSIM=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
for tool in conntrack python3 tcpdump ping traceroute ethtool; do
	command -v "$tool" >/dev/null || { echo "SKIP: lab_icmp needs $tool"; exit "$LAB_SKIP"; }
done
lab_init
LINES=$LAB_LOGS/lines.txt
: >"$LINES"
ALICE=172.31.1.2
BOB=10.99.0.12
BOB_ROUTED=10.99.1.2 # bob one router away (icmp_world_double)
PUB=10.99.0.11
ECHO_ID=4242

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
	lab_teardown_run
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
	lab_teardown_run
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
# icmp) as ct_normalise writes them. The raw lines, spacing and all, stay in
# conntrack-NAME.txt.
ct_lines() {
	local proto=${3:-icmp} name=conntrack-$2
	[ "$proto" = icmp ] || name=conntrack-$proto-$2
	in_ns "$1" conntrack -L -p "$proto" 2>/dev/null >"$LAB_LOGS/$name.txt" || true
	ct_normalise "$name" "${ROLES[@]}" <"$LAB_LOGS/$name.txt" | tee -a "$LINES"
}

# ct_normalise NAME ROLE=ADDRESS...: conntrack -L lines on stdin, each
# prefixed with NAME, addresses as roles, the timeout as T; the original
# tuple's ports as they are and its echo id as ID, and in the reply tuple P
# (ID') where the NAT chose another (a symmetric NAT's random port). Sorted;
# "NAME none" when there are none.
ct_normalise() {
	python3 -c '
import sys
roles = dict(reversed(a.split("=", 1)) for a in sys.argv[2:])
out = []
for line in sys.stdin:
    w = line.split()
    if not w or w[0] not in ("icmp", "udp"):
        continue
    w[2] = "T"
    tuples, original = 0, set()
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
    out.append(sys.argv[1] + " " + " ".join(w))
print("\n".join(sorted(out)) if out else sys.argv[1] + " none")
' "$@"
}

# Each NAT kind: ping out, then a datagram to a port where nothing listens.
case_kind() {
	local kind=$1
	icmp_world "$kind"
	cap_start lan1 eth0
	in_ns lan1 ping -n -q -c 1 -W 2 -e "$ECHO_ID" "$BOB" >/dev/null || true # no reply: the lines say so
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

# ---- The simulator's half: the same cases as scenarios -------------------
# Each world is a scenario with the lab's roles (addresses of natsim's own
# choosing); its cases are actions a few seconds apart, and `natsim run
# --pcap` writes the receiving host's interface, which icmp_pcap.py reads as
# it reads the lab's capture (one window of time a case). --tables gives the
# conntrack lines, as `conntrack -L` prints them.
SIM_LINES=$LAB_LOGS/sim-lines.txt
: >"$SIM_LINES"
SIM_ALICE=192.168.1.5
SIM_PUB=203.0.113.10
SIM_BOB=198.51.100.10

# sim_world NAME KIND [INPUT]: starts scenario NAME: alice behind alice-nat
# (KIND, input INPUT), bob public with icmp_bob_rules' rules (natsim puts
# rules only in a firewall that is on, whose policy then must be accept, as
# the lab's bob's is). Sets SIM_FILE and SIM_ROLES.
sim_world() {
	SIM_FILE=$LAB_LOGS/sim-$1.nsim
	cat >"$SIM_FILE" <<-NSIM
	title "lab_icmp $1"
	internet latency 20ms
	nat alice-nat preset $2 ${3:+input $3 }public $SIM_PUB
	host alice at $SIM_ALICE behind alice-nat
	host bob at $SIM_BOB public firewall on
	rule bob input reject udp dport 5001
	rule bob input reject with admin-prohibited udp dport 5002
	rule bob input drop udp dport 5004
	policy bob input accept
	NSIM
	SIM_ROLES=(alice=$SIM_ALICE alice-nat=$SIM_PUB alice-nat-lan=192.168.1.1 bob=$SIM_BOB)
}

# sim_run UNTIL: runs the scenario; captures in $SIM_FILE.pcap/, tables in
# $SIM_FILE.tables.
sim_run() {
	"$NATSIM" run "$SIM_FILE" --quiet --no-color --until "$1" --tables \
		--pcap "$SIM_FILE.pcap" >"$SIM_FILE.tables" 2>"$SIM_FILE.err" ||
		{ echo "FAIL: natsim run $SIM_FILE:" >&2; cat "$SIM_FILE.err" >&2; exit 1; }
}

# sim_lines CASE HOST FROM:TO [--by-ttl]: what HOST (alice or bob) received in
# that window, as icmp_pcap.py says it.
sim_lines() {
	local case=$1 host=$2 window=$3 addr=$SIM_ALICE
	shift 3
	[ "$host" = bob ] && addr=$SIM_BOB
	python3 "$HERE/icmp_pcap.py" "$@" --window "$window" "$SIM_FILE.pcap/$host-eth0.pcap" \
		"$case" "$addr" "${SIM_ROLES[@]}" >>"$SIM_LINES"
}

# sim_ct NODE NAME [PROTO]: NODE's conntrack table after the run, as ct_lines.
sim_ct() {
	local proto=${3:-icmp} name=conntrack-$2
	[ "$proto" = icmp ] || name=conntrack-$proto-$2
	awk -v head="── $1: conntrack ──" -v p="$proto" '
		$0 == head { on = 1; next }
		on && /^$/ { on = 0 }
		on && $1 == p' "$SIM_FILE.tables" |
		ct_normalise "$name" "${SIM_ROLES[@]}" >>"$SIM_LINES"
}

sim_kind() {
	sim_world "$1" "$1"
	echo "at 1s ping alice to bob count 1" >>"$SIM_FILE"
	echo "at 3s raw alice from 4000 to bob:6000 \"natsim lab 0\"" >>"$SIM_FILE"
	sim_run 5s
	sim_lines "ping-out-$1" alice 1:3
	sim_lines "unreach-$1" alice 3:5
	sim_ct alice-nat "$1"
	sim_ct alice-nat "$1" udp
}

sim_reject() {
	sim_world reject port-restricted-cone
	local port n=1
	echo "rule alice-nat forward reject udp dport 5003" >>"$SIM_FILE"
	for port in 5001 5002 5003 5004; do
		echo "at ${n}s raw alice from 4000 to bob:$port \"natsim lab 0\"" >>"$SIM_FILE"
		n=$((n + 1))
	done
	sim_run 6s
	sim_lines reject alice 1:2
	sim_lines reject-admin alice 2:3
	sim_lines reject-forward alice 3:4
	sim_lines drop alice 4:5
}

sim_burst() {
	sim_world burst port-restricted-cone
	local i
	for i in 0 1 2 3 4 5 6 7 8 9; do
		echo "at 1s raw alice from 4000 to bob:6001 \"natsim lab $i\"" >>"$SIM_FILE"
		echo "at 2.2s raw alice from 4000 to bob:6002 \"natsim lab $i\"" >>"$SIM_FILE"
	done
	sim_run 4s
	sim_lines burst-10 alice 1:4
}

sim_no_flow() {
	sim_world no-flow port-restricted-cone
	echo "at 1s raw icmp bob to alice-nat type port-unreachable about alice-nat:4999 to bob:6000" >>"$SIM_FILE"
	sim_run 3s
	sim_lines error-no-flow alice 1:3
}

sim_in() {
	local input
	for input in drop accept; do
		sim_world "in-$input" port-restricted-cone "$input"
		echo "at 1s ping bob to alice-nat count 1" >>"$SIM_FILE"
		echo "at 3s raw bob from 4000 to alice-nat:7000 \"natsim lab 0\"" >>"$SIM_FILE"
		sim_run 5s
		sim_lines "ping-in-$input" bob 1:3
		sim_lines "unreach-nat-$input" bob 3:5
		sim_ct alice-nat "in-$input"
		sim_ct alice-nat "in-$input" udp
	done
}

sim_traceroute() {
	SIM_FILE=$LAB_LOGS/sim-traceroute.nsim
	cat >"$SIM_FILE" <<-NSIM
	title "lab_icmp traceroute"
	internet latency 20ms
	nat carrier preset port-restricted-cone public $SIM_PUB
	nat home preset port-restricted-cone public 100.64.1.2 behind carrier
	host alice at $SIM_ALICE behind home
	host bob at $SIM_BOB public
	at 1s traceroute alice to bob
	NSIM
	# natsim's internet answers from the .1 of the network it sends into.
	SIM_ROLES=(alice=$SIM_ALICE home-lan=192.168.1.1 home=100.64.1.2 carrier-lan=100.64.1.1
		carrier=$SIM_PUB internet=203.0.113.1 bob=$SIM_BOB)
	sim_run 30s
	sim_lines traceroute alice 0:30 --by-ttl
	sim_ct home home
	sim_ct carrier carrier
}

for kind in full-cone restricted-cone port-restricted-cone symmetric; do
	case_kind "$kind"
done
case_reject
case_burst
case_no_flow
case_in
case_traceroute

for kind in full-cone restricted-cone port-restricted-cone symmetric; do
	sim_kind "$kind"
done
sim_reject
sim_burst
sim_no_flow
sim_in
sim_traceroute
echo "---- the simulator (natsim run --pcap, same cases):"
cat "$SIM_LINES"

# What Linux did when this was written (docs/lab.md, section ICMP): a change
# in the kernel or in the lab shows here first.
if ! diff -u <(grep -v '^#' "$HERE/icmp_expected.txt" | sort) <(sort "$LINES") >"$LAB_LOGS/diff.txt"; then
	echo "FAIL: Linux's ICMP differs from tests/lab/icmp_expected.txt:" >&2
	cat "$LAB_LOGS/diff.txt" >&2
	exit 1
fi
# The simulator's lines against Linux's: each difference must be one
# icmp_sim_differences.txt explains, and each one it lists must show.
grep -v '^#' "$HERE/icmp_expected.txt" | sort >"$LAB_LOGS/expected.sorted"
sort "$SIM_LINES" >"$LAB_LOGS/sim.sorted"
{ comm -23 "$LAB_LOGS/expected.sorted" "$LAB_LOGS/sim.sorted" | sed 's/^/-/'
  comm -13 "$LAB_LOGS/expected.sorted" "$LAB_LOGS/sim.sorted" | sed 's/^/+/'; } |
	sort >"$LAB_LOGS/sim-diff.txt"
grep -v '^#' "$HERE/icmp_sim_differences.txt" | sort >"$LAB_LOGS/known.txt"
if ! cmp -s "$LAB_LOGS/sim-diff.txt" "$LAB_LOGS/known.txt"; then
	echo "FAIL: natsim and Linux differ other than icmp_sim_differences.txt says" \
		"(> natsim differs so, not explained; < explained, no longer seen):" >&2
	diff "$LAB_LOGS/known.txt" "$LAB_LOGS/sim-diff.txt" >&2 || true
	exit 1
fi
echo "known differences (tests/lab/icmp_sim_differences.txt says why):"
sed 's/^/  /' "$LAB_LOGS/known.txt"
echo "PASS: every error the hosts received quotes their own datagram, translated" \
	"back, in Linux and in natsim; Linux did what tests/lab/icmp_expected.txt says," \
	"and natsim the same but for the differences icmp_sim_differences.txt explains"
