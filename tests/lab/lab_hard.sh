#!/bin/bash
# lab_hard.sh NATSIM MODE [RUNS] - hard NATs through real Linux NATs (issue 17;
# docs/lab.md, section "Hard NATs").
#
#   ports       how Linux assigns public ports: one inside socket sends to
#               eight remotes through each rule set of docs/lab.md (and a
#               second inside host clashes with it); the ports each gave must
#               be what nf_nat_core.c says: kept, random, or (nft's numgen
#               counter) sequential
#   prediction  alice behind the sequential NAT, bob behind a port-restricted
#               cone; `natsim peer --techniques prediction`: alice's NAT is
#               measured as sequential, and the pair ends direct
#   birthday    alice behind `masquerade fully-random`, bob behind a
#               port-restricted cone; `natsim peer --techniques birthday`
#               with small budgets, RUNS times (default 10); prints the
#               success rate for docs/lab.md, beside the simulator's
#
# Without root it prints SKIP and exits 77, as every lab script does.
set -euo pipefail
NATSIM=$1
MODE=$2
RUNS=${3:-10}
. "$(dirname "$0")/lib.sh"
command -v conntrack >/dev/null || { echo "SKIP: needs conntrack"; exit "$LAB_SKIP"; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit "$LAB_SKIP"; }
lab_init

# The budgets of the birthday runs: small enough for tens of seconds a run
# (probes / rate = 5 s of probing after K sockets' first sends).
HARD_SOCKETS=${HARD_SOCKETS:-256}
HARD_PROBES=${HARD_PROBES:-1024}
HARD_RATE=${HARD_RATE:-200}

# The sequential NAT's ports: SEQ_BASE, SEQ_BASE + 1, ... then again.
SEQ_BASE=20000
SEQ_PORTS=1024
seq_map() {
	local i
	for ((i = 0; i < SEQ_PORTS; i++)); do
		printf '%d : %d, ' "$i" $((SEQ_BASE + i))
	done
}

# hard_nat_rule NAME PUB: the postrouting rule of each NAT docs/lab.md
# describes (UDP; everything else is masqueraded as usual).
hard_nat_rule() {
	local pub=$2
	case "$1" in
	masquerade) echo "masquerade" ;;
	random) echo "masquerade random" ;;
	fully-random) echo "masquerade fully-random" ;;
	snat-range) echo "meta l4proto udp snat to $pub:1024-65535" ;;
	snat-range-persistent) echo "meta l4proto udp snat to $pub:1024-65535 persistent" ;;
	# No NAT flag of Linux 6.1 assigns in sequence (docs/lab.md); nft's
	# numgen does: a counter of the rule, advanced once per new flow (a nat
	# chain sees only a flow's first packet), mapped to the flow's public
	# port. Through a map, not `numgen inc offset 20000` itself: numgen
	# writes a host-order number where snat reads a port in network order
	# (on x86 1024, 1025 became ports 4, 260).
	sequential) echo "meta l4proto udp snat to $pub : numgen inc mod $SEQ_PORTS map { $(seq_map) }" ;;
	*) echo "no rule set $1" >&2; return 2 ;;
	esac
}

# hard_nat_side I RULESET: side I behind a NAT whose postrouting chain is
# RULESET's rule (lib.sh's port-restricted cone with its masquerade
# replaced): the filter part, the input drop and the logging stay lib.sh's.
hard_nat_side() {
	local i=$1 rules=$2
	lab_side "$i" port-restricted-cone
	in_ns "nat$i" nft flush chain ip lab postrouting
	in_ns "nat$i" nft add rule ip lab postrouting oifname wan0 \
		$(hard_nat_rule "$rules" "10.99.0.1$i")
	[ "$rules" != sequential ] ||
		in_ns "nat$i" nft add rule ip lab postrouting oifname wan0 masquerade
}

# ---- ports: what each rule set does with one socket's flows ----

# survey_send HOST: from HOST:4000, one datagram to each of eight remotes
# (ports 7001-7008 of the wan; nothing listens, a flow is made all the same).
survey_send() {
	in_ns lan1 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 4000))
for port in range(7001, 7009):
    s.sendto(b"which port?", ("10.99.0.1", port))
    time.sleep(0.01)
' "$1"
}

# survey_ports HOST: the public ports the NAT gave HOST:4000's flows, in
# the order of their remotes (7001..7008): each reply tuple's dport.
survey_ports() {
	in_ns nat1 conntrack -L -p udp 2>/dev/null |
		awk -v src="src=$1" '$4 == src && $6 == "sport=4000" {
			split($7, d, "="); pub = ""
			for (i = NF; i > 0; i--) if ($i ~ /^dport=/) { pub = $i; break }
			sub("dport=", "", pub); print d[2], pub }' | sort -n | awk '{ print $2 }' | xargs
}

# survey_kind PORTS: kept (all 4000), same (one other port for all: the
# first flow's, reused), sequential (each one more than the last), or
# random.
survey_kind() {
	echo "$1" | awk '{
		kept = 1; same = 1; seq = 1
		for (i = 1; i <= NF; i++) {
			if ($i != 4000) kept = 0
			if ($i != $1) same = 0
			if (i > 1 && $i != $(i-1) + 1) seq = 0
		}
		print NF != 8 ? "missing" : kept ? "kept" : same ? "same" : seq ? "sequential" : "random" }'
}

mode_ports() {
	local rules first second k1 k2 fail=0
	lab_make_wan
	lab_side 1 port-restricted-cone
	# A second inside host, so that its flows clash with the first's.
	in_ns lan1 ip addr add 172.31.1.3/24 dev eth0
	printf '%-22s %-10s %-10s %s\n' "rule set" "first" "clashing" "ports (first; clashing)"
	for rules in masquerade random fully-random snat-range snat-range-persistent sequential; do
		in_ns nat1 conntrack -F 2>/dev/null || true
		in_ns nat1 nft flush chain ip lab postrouting
		in_ns nat1 nft add rule ip lab postrouting oifname wan0 $(hard_nat_rule "$rules" 10.99.0.11)
		survey_send 172.31.1.2
		survey_send 172.31.1.3
		sleep 0.2
		first=$(survey_ports 172.31.1.2)
		second=$(survey_ports 172.31.1.3)
		k1=$(survey_kind "$first")
		k2=$(survey_kind "$second")
		printf '%-22s %-10s %-10s %s; %s\n' "$rules" "$k1" "$k2" "$first" "$second"
		echo "$rules $k1 $k2 $first ; $second" >>"$LAB_LOGS/ports.txt"
		# What docs/lab.md says, from nf_nat_core.c (get_unique_tuple,
		# nf_nat_l4proto_unique_tuple).
		case "$rules" in
		masquerade | snat-range | snat-range-persistent) [ "$k1 $k2" = "kept same" ] || fail=1 ;;
		random | fully-random) [ "$k1 $k2" = "random random" ] || fail=1 ;;
		sequential) [ "$k1 $k2" = "sequential sequential" ] || fail=1 ;;
		esac
	done
	[ "$fail" = 0 ] || { echo "FAIL: Linux assigned ports otherwise than docs/lab.md says" >&2; exit 1; }
	echo "PASS: every rule set assigned ports as docs/lab.md says"
}

# ---- the pairs ----

# hard_coord: the coordinator with its alternate address (the agent measures
# its NAT against OTHER-ADDRESS: agent.h "Hard NATs").
hard_coord() {
	lab_coord
}

# hard_peers TECHNIQUES TIMEOUT [EXTRA...]: bob (echo, waiting) and alice
# (connects, sends, expects the echo) with TECHNIQUES; alice's output in
# $LAB_LOGS/alice.log, her exit status in ALICE_RC.
hard_peers() {
	local tech=$1 timeout=$2
	shift 2
	local budget=(--techniques "$tech" --sockets "$HARD_SOCKETS" --probes "$HARD_PROBES"
		--probe-rate "$HARD_RATE" "$@")
	lab_spawn "$PEER_NS_2" bob "$NATSIM" peer --name bob --coord "$COORD1:$COORD_PORT" \
		--port "$LAB_PORT" --echo --expect-data --linger 1s --timeout "$timeout" "${budget[@]}"
	lab_wait_log bob "registered:" 10
	set +e
	in_ns "$PEER_NS_1" "$NATSIM" peer --name alice --coord "$COORD1:$COORD_PORT" \
		--port "$LAB_PORT" --connect bob --send "hard $tech $$" --expect-data \
		--linger 1s --timeout "$timeout" "${budget[@]}" >"$LAB_LOGS/alice.log" 2>&1
	ALICE_RC=$?
	set -e
	kill -TERM "$PID_bob" 2>/dev/null || true
	wait "$PID_bob" 2>/dev/null || true
}

# The path alice ended with: "direct" if a direct path came (at once or as
# an upgrade from the relay), else "relayed", else "none".
alice_path() {
	if grep -qE '^[^ ]+ (direct|upgraded) bob:' "$LAB_LOGS/alice.log"; then
		echo direct
	else
		sed -n 's/^path: \([a-z]*\).*/\1/p' "$LAB_LOGS/alice.log" | grep . || echo none
	fi
}

mode_prediction() {
	lab_make_wan
	hard_nat_side 1 sequential
	lab_side 2 port-restricted-cone
	hard_coord
	hard_peers prediction 30s
	echo "prediction: alice exit $ALICE_RC, path $(alice_path)"
	grep -E 'registered|direct|upgraded|relayed|path:' "$LAB_LOGS/alice.log" || true
	[ "$ALICE_RC" = 0 ] || { echo "FAIL: alice did not complete" >&2; exit 1; }
	[ "$(alice_path)" = direct ] ||
		{ echo "FAIL: prediction through a sequential NAT did not end direct" >&2; exit 1; }
	echo "PASS: prediction through a sequential Linux NAT ended direct"
}

# One birthday run on a fresh lab; its path (alice_path) in RUN_PATH. Not
# in a subshell: lab_spawn's LAB_PIDS must reach the teardown.
birthday_once() {
	lab_make_wan
	hard_nat_side 1 fully-random
	lab_side 2 port-restricted-cone
	hard_coord
	hard_peers birthday 60s
	RUN_PATH=$(alice_path)
}

mode_birthday() {
	local n direct=0 path
	for ((n = 1; n <= RUNS; n++)); do
		birthday_once
		path=$RUN_PATH
		cp "$LAB_LOGS/alice.log" "$LAB_LOGS/alice-$n.log"
		echo "birthday run $n: $path"
		[ "$path" != direct ] || direct=$((direct + 1))
		lab_teardown_run
	done
	echo "birthday: $direct of $RUNS direct (K=$HARD_SOCKETS, probes $HARD_PROBES at $HARD_RATE/s)"
	[ "$direct" -gt 0 ] || { echo "FAIL: no birthday run found a path" >&2; exit 1; }
	echo "PASS: the birthday search through masquerade fully-random found a path $direct of $RUNS times"
}

# Ends a run's processes and namespaces (lab_cleanup's job at the end),
# so the next run starts from empty tables.
lab_teardown_run() {
	local pid ns
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	LAB_PIDS=()
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		lab_del_ns "$ns"
	done
}

case "$MODE" in
ports) mode_ports ;;
prediction) mode_prediction ;;
birthday) mode_birthday ;;
*) echo "usage: lab_hard.sh NATSIM ports|prediction|birthday [RUNS]" >&2; exit 2 ;;
esac
