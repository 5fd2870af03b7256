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
#               cone; `natsim peer --techniques prediction`, RUNS times
#               (default 10): alice's NAT is measured as sequential, and
#               every run ends direct, found by prediction, as natsim says
#   birthday    alice behind `masquerade fully-random`, bob behind a
#               port-restricted cone; `natsim peer --techniques birthday`
#               with small budgets (HARD_SOCKETS, HARD_PROBES, HARD_RATE),
#               RUNS times (default 10); prints the success rate for
#               docs/lab.md, and fails if it is implausibly low for the
#               analytic chance 1 - (1 - K/R)^n; natsim sweep's rate for
#               the same pair and budgets is printed beside it
#   background  prediction again, while carol, behind alice's NAT, opens
#               20 flows a second (scenarios/prediction-background.nsim):
#               with bob's window of 8 predicted ports every run must end
#               relayed, with 64 direct, as natsim says for the same story
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

# hard_peers TECHNIQUES LIMIT: bob (echo) and alice (connects, sends,
# expects the echo) with TECHNIQUES and the budgets above, both lingering:
# a path through the relay comes at the punch deadline (5 s), and the search
# goes on behind it (agent.h: UPGRADED when it finds one). Stops both as
# soon as alice has a direct path, or after LIMIT seconds. Alice's output in
# $LAB_LOGS/alice.log, bob's in bob.log; how long alice took to a direct
# path (from her start) in DIRECT_AFTER, or "-".
hard_peers() {
	local tech=$1 limit=$2 start i
	local flags=(--coord "$COORD1:$COORD_PORT" --port "$LAB_PORT" --techniques "$tech"
		--sockets "$HARD_SOCKETS" --probes "$HARD_PROBES" --probe-rate "$HARD_RATE"
		--expect-data --linger "${limit}s" --timeout "$((limit + 5))s")
	lab_spawn "$PEER_NS_2" bob "$NATSIM" peer --name bob --echo "${flags[@]}"
	lab_wait_log bob "registered:" 10
	start=$(date +%s.%N)
	lab_spawn "$PEER_NS_1" alice "$NATSIM" peer --name alice --connect bob \
		--send "hard $tech $$" "${flags[@]}"
	DIRECT_AFTER=-
	for ((i = 0; i < limit * 10; i++)); do
		if grep -qE '^[^ ]+ (direct|upgraded) bob:' "$LAB_LOGS/alice.log"; then
			DIRECT_AFTER=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
			break
		fi
		kill -0 "$PID_alice" 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM "$PID_alice" "$PID_bob" 2>/dev/null || true
	wait "$PID_alice" "$PID_bob" 2>/dev/null || true
}

# The path alice ended with: "direct" if a direct path came (at once or as
# an upgrade from the relay), else "relayed", else "none".
alice_path() {
	if grep -qE '^[^ ]+ (direct|upgraded) bob:' "$LAB_LOGS/alice.log"; then
		echo direct
	elif grep -qE '^[^ ]+ relayed bob:' "$LAB_LOGS/alice.log"; then
		echo relayed
	else
		echo none
	fi
}

# found_by TECHNIQUE: true if either side's direct path was found by it
# (the DIRECT/UPGRADED event says which: agent.h).
found_by() {
	grep -qE "^[^ ]+ (direct|upgraded) (alice|bob):.*found by [a-z ]*$1" \
		"$LAB_LOGS/alice.log" "$LAB_LOGS/bob.log"
}

# min_successes N P: the fewest successes out of N trials of chance P that
# are not suspicious: below it, the binomial tail holds less than 0.1 %.
min_successes() {
	awk -v n="$1" -v p="$2" 'BEGIN {
		c = 0; term = (1 - p) ^ n
		for (k = 0; k <= n; k++) {
			c += term
			if (c >= 0.001) { print k; exit }
			term *= (n - k) / (k + 1) * p / (1 - p)
		}
		print n }'
}

# run_pairs KIND TECHNIQUE LIMIT: RUNS fresh labs, alice behind KIND (a
# rule set of hard_nat_rule), bob behind a port-restricted cone; counts
# the runs that ended direct, found by TECHNIQUE (DIRECT_RUNS), and lists
# the times to a direct path (TIMES).
run_pairs() {
	local kind=$1 tech=$2 limit=$3 n path sends
	DIRECT_RUNS=0
	TIMES=
	for ((n = 1; n <= RUNS; n++)); do
		lab_make_wan
		hard_nat_side 1 "$kind"
		lab_side 2 port-restricted-cone
		lab_coord # with its alternate address: the agent measures against it
		hard_peers "$tech" "$limit"
		path=$(alice_path)
		if [ "$path" = direct ] && ! found_by "$tech"; then
			path="direct (not by $tech)"
		fi
		cp "$LAB_LOGS/alice.log" "$LAB_LOGS/$tech-$n-alice.log"
		cp "$LAB_LOGS/bob.log" "$LAB_LOGS/$tech-$n-bob.log"
		cp "$LAB_LOGS/conntrack_nat1.log" "$LAB_LOGS/$tech-$n-conntrack_nat1.log" 2>/dev/null || true
		cp "$LAB_LOGS/conntrack_nat2.log" "$LAB_LOGS/$tech-$n-conntrack_nat2.log" 2>/dev/null || true
		# The prober's sends until a probe landed (the birthday search says
		# so when it ends: agent_hard.c).
		sends=$(sed -n 's/.*birthday search with alice ended after \([0-9]*\) sends.*/\1/p' \
			"$LAB_LOGS/bob.log" | head -1)
		echo "$tech run $n: $path after ${DIRECT_AFTER}s${sends:+, bob sent $sends}"
		# A probe's answer is expected (agent_hard.c hard_probe_answered),
		# never logged as a message the agent does not understand.
		if grep -q 'not a message this agent understands' "$LAB_LOGS/bob.log"; then
			echo "FAIL: bob took a probe's answer for noise:" >&2
			grep 'not a message this agent understands' "$LAB_LOGS/bob.log" | head -3 >&2
			exit 1
		fi
		if [ "$path" = direct ]; then
			DIRECT_RUNS=$((DIRECT_RUNS + 1))
			TIMES="$TIMES $DIRECT_AFTER"
		fi
		lab_teardown_run
	done
}

# sim_pair PRESET TECHNIQUE: the lab's pair as a scenario for the
# simulator (alice behind PRESET, bob behind a port-restricted cone, both
# with TECHNIQUE and the budgets, alice connects); prints its file name.
sim_pair() {
	local preset=$1 tech=$2 f=$LAB_LOGS/sim-$2.nsim h
	{
		echo "title \"lab_hard: $tech\""
		echo "internet latency 20ms"
		echo "coordinator coord at 192.0.2.10 alternate 192.0.2.11"
		echo "nat home preset $preset public 203.0.113.7"
		echo "nat office preset port-restricted-cone public 198.51.100.9"
		for h in "alice at 192.168.1.5 behind home" "bob at 10.0.0.7 behind office"; do
			echo "host $h techniques $tech sockets $HARD_SOCKETS" \
				"probe-rate $HARD_RATE/s probes $HARD_PROBES"
		done
		echo "at 0s register alice"
		echo "at 0s register bob"
		echo "at 1s connect alice to bob"
	} >"$f"
	echo "$f"
}

# sim_birthday: natsim sweep's direct share of the birthday pair at the
# same budgets, 1000 trials: "61.6 % [58.5, 64.6]" (95 % Wilson interval).
sim_birthday() {
	local f
	f=$(sim_pair symmetric birthday)
	"$NATSIM" sweep "$f" --vary "bob.probes=$HARD_PROBES" --trials 1000 --format csv |
		awk -F, 'NR == 2 { printf "%.1f %% [%.1f, %.1f]", 100 * $6, 100 * $7, 100 * $8 }'
}

mode_prediction() {
	local sim
	sim=$(lab_path_of "$(sim_pair "symmetric ports sequential" prediction)")
	run_pairs sequential prediction 10
	echo "prediction: $DIRECT_RUNS of $RUNS direct by prediction (natsim: $sim);" \
		"seconds to direct:$TIMES"
	grep -h "port prediction" "$LAB_LOGS/prediction-1-bob.log" | head -2
	# Nothing else runs behind the lab's NAT: prediction must work each time.
	[ "$DIRECT_RUNS" = "$RUNS" ] ||
		{ echo "FAIL: prediction through a sequential NAT did not always end direct" >&2; exit 1; }
	[ "$sim" = direct ] || { echo "FAIL: the simulator says $sim for the same pair" >&2; exit 1; }
	echo "PASS: prediction through a sequential Linux NAT ended direct $RUNS of $RUNS times"
}

mode_birthday() {
	local limit p least
	# The opener's sends, then the probes, and a margin for the last answer.
	limit=$(((HARD_SOCKETS + HARD_PROBES) / HARD_RATE + 6))
	run_pairs fully-random birthday "$limit"
	# Each probe lands in one of K open mappings of R = 64512 (agent_hard.c).
	p=$(awk -v k="$HARD_SOCKETS" -v n="$HARD_PROBES" 'BEGIN { printf "%.4f", 1 - (1 - k / 64512) ^ n }')
	least=$(min_successes "$RUNS" "$p")
	echo "birthday: $DIRECT_RUNS of $RUNS direct (K=$HARD_SOCKETS, probes $HARD_PROBES at" \
		"$HARD_RATE/s; 1 - (1 - K/R)^n = $p; natsim: $(sim_birthday)); seconds to direct:$TIMES"
	[ "$DIRECT_RUNS" -ge "$least" ] ||
		{ echo "FAIL: fewer than $least of $RUNS direct: less than 0.1 % likely at $p" >&2; exit 1; }
	echo "PASS: the birthday search through masquerade fully-random: $DIRECT_RUNS of $RUNS direct"
}

# ---- background traffic breaks prediction ----

# carol_background RATE SECONDS: another inside host (172.31.1.3) opens
# RATE new flows a second for SECONDS, each from a new socket to
# 10.99.0.1:53, as the scenario language's `background` does: each takes
# the sequential NAT's next port.
carol_background() {
	lab_spawn lan1 carol python3 -c '
import socket, sys, time
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
start, n = time.monotonic(), 0
while n < rate * seconds:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("172.31.1.3", 0))
    s.sendto(b"background", ("10.99.0.1", 53))
    s.close()
    n += 1
    wait = start + n / rate - time.monotonic()
    if wait > 0:
        time.sleep(wait)
' "$1" "$2"
}

# sim_background WINDOW: the simulator's path for the same story
# (scenarios/prediction-background.nsim's world at the lab's timing).
sim_background() {
	local f=$LAB_LOGS/sim-background-$1.nsim
	cat >"$f" <<-NSIM
	title "lab_hard: background traffic breaks prediction"
	internet latency 20ms
	coordinator coord at 192.0.2.10 alternate 192.0.2.11
	nat home preset symmetric ports sequential public 203.0.113.7
	nat office preset port-restricted-cone public 198.51.100.9
	host alice at 192.168.1.5 behind home techniques prediction
	host bob at 10.0.0.7 behind office techniques prediction prediction-window $1
	host carol at 192.168.1.6 behind home
	host dns at 198.51.100.53 public
	at 0s register alice
	at 0s register bob
	at 0.5s background carol to dns:53 rate 20/s for 3s
	at 2s connect bob to alice
	NSIM
	lab_path_of "$f"
}

# One run: alice (behind the sequential NAT) registers and measures her
# NAT; carol, behind the same NAT, opens 20 flows a second for 3 s; 1.5 s
# into it bob connects to alice, probing a window of WINDOW predicted
# ports. Bob's path (direct, relayed or none) in RUN_PATH; not in a
# subshell, so that lab_spawn's LAB_PIDS reach the teardown.
background_once() {
	local window=$1
	lab_make_wan
	hard_nat_side 1 sequential
	in_ns lan1 ip addr add 172.31.1.3/24 dev eth0
	lab_side 2 port-restricted-cone
	lab_coord
	lab_spawn "$PEER_NS_1" alice "$NATSIM" peer --name alice --coord "$COORD1:$COORD_PORT" \
		--port "$LAB_PORT" --techniques prediction --echo --expect-data --linger 8s \
		--timeout 30s
	lab_wait_log alice "our NAT gives" 10
	carol_background 20 3
	sleep 1.5
	in_ns "$PEER_NS_2" "$NATSIM" peer --name bob --coord "$COORD1:$COORD_PORT" \
		--port "$LAB_PORT" --techniques prediction --prediction-window "$window" \
		--connect alice --send "background $$" --expect-data --timeout 15s \
		>"$LAB_LOGS/bob.log" 2>&1 || true
	RUN_PATH=$(sed -n 's/^path: \([a-z]*\).*/\1/p' "$LAB_LOGS/bob.log")
	RUN_PATH=${RUN_PATH:-none}
}

mode_background() {
	local window n path sim count fail=0
	for window in 8 64; do
		sim=$(sim_background "$window")
		count=0
		for ((n = 1; n <= RUNS; n++)); do
			background_once "$window"
			path=$RUN_PATH
			cp "$LAB_LOGS/bob.log" "$LAB_LOGS/background-$window-$n-bob.log"
			cp "$LAB_LOGS/alice.log" "$LAB_LOGS/background-$window-$n-alice.log"
			[ "$path" != "$sim" ] || count=$((count + 1))
			echo "window $window run $n: $path"
			lab_teardown_run
		done
		echo "background, window $window: $count of $RUNS as natsim says ($sim)"
		[ "$count" = "$RUNS" ] || fail=1
	done
	[ "$fail" = 0 ] || { echo "FAIL: Linux and natsim disagree (above)" >&2; exit 1; }
	echo "PASS: background traffic breaks prediction at window 8 and a window of 64 catches up, as in natsim"
}

case "$MODE" in
ports) mode_ports ;;
prediction) mode_prediction ;;
birthday) mode_birthday ;;
background) mode_background ;;
*) echo "usage: lab_hard.sh NATSIM ports|prediction|birthday|background [RUNS]" >&2; exit 2 ;;
esac
