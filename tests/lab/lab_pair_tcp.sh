#!/bin/bash
# lab_pair_tcp.sh NATSIM KIND_A KIND_B [INPUT] - lab_pair.sh over TCP (issue 16's
# real-network check): alice (KIND_A) and bob (KIND_B) run `natsim peer
# --tcp` through the same nftables NATs, register with `natsim coord` over
# TCP and punch by simultaneous open (RFC 5128 3.4); alice connects to bob.
# The path (direct or relayed) must be what `natsim matrix --transport tcp
# --tcp-unsolicited X` says for the pair, where X is what the lab's Linux
# NAT does with a SYN no mapping admits: each NAT is built with INPUT
# (drop or accept; default its kind's, lab_input_of), and a router whose
# INPUT drops new flows says nothing (`drop`); one that accepts them answers
# from its own stack, where nothing listens, with an RST (`rst`:
# tcp_v4_rcv finds no socket and calls tcp_v4_send_reset; lab_tcp.sh's
# cases syn-in-drop and syn-in-accept show both). One pair, whose outcome
# the timing decides, is held to the simulator at the lab's timing instead
# (below; docs/lab.md, "TCP pairs" says why). On the first try, as
# lab_pair.sh; and bob's echo of alice's text must come back intact.
set -euo pipefail
NATSIM=$1
A=$2
B=$3
INPUT=${4:-}
. "$(dirname "$0")/lib.sh"
lab_init

# The cones' port-for-port rules hold for TCP as for UDP: a full cone
# forwards TCP too (RFC 5382 REQ-1 and its filtering), as in lab_tcp.sh.
LAB_NAT_TCP=1
lab_make_wan
lab_side 1 "$A" "$INPUT"
lab_side 2 "$B" "$INPUT"
lab_coord

# What the NATs of this pair do with an unsolicited SYN, from their input
# setting (one per pair: INPUT, or lab_input_of's, the same for every kind).
unsolicited=drop
for kind in "$A" "$B"; do
	case "$kind" in
	open | firewall) ;;
	*) [ "${INPUT:-$(lab_input_of "$kind")}" = drop ] || unsolicited=rst ;;
	esac
done
matrix_says=$("$NATSIM" matrix --transport tcp --tcp-unsolicited "$unsolicited" --format csv |
	awk -F, -v a="$A" -v b="$B" '$1 == a && $2 == b { print $3 }')
[ "$matrix_says" = direct ] || [ "$matrix_says" = relayed ] ||
	{ echo "natsim matrix --transport tcp has no outcome for $A,$B: '$matrix_says'" >&2; exit 1; }

# The simulator at the lab's timing. On veths a segment crosses in
# microseconds, and the two peers, pinned to one CPU (lab_init), send their
# SYNs a fraction of a millisecond apart: one always reaches the far NAT
# before the other leaves. The matrix's world (20 ms a hop, bob's link 60 ms
# slower) gives the agents' retries (every 250 ms after a refusal) periods
# that differ, and a later try may find the other's SYN in flight; the
# lab's retries keep step. Where the two timings give different outcomes,
# the lab can only be held to the simulator at its own timing: an internet
# of no latency, bob's link 1 ms slower (this kernel has no netem to slow
# the lab instead; docs/lab.md, section "TCP pairs").
lab_timing_expected() {
	local f=$LAB_LOGS/lab-timing.nsim
	{
		echo "title \"$A x $B over tcp at the lab's timing\""
		echo "internet latency 0ms"
		echo "coordinator coord at 192.0.2.10 alternate 192.0.2.11"
		lab_scenario_side alice "$A" 203.0.113 1 "$INPUT"
		lab_scenario_side bob "$B" 198.51.100 2 "$INPUT"
		echo "link bob latency 1ms"
		echo "at 0s register alice"
		echo "at 0s register bob"
		echo "at 1s connect alice to bob over tcp"
	} >"$f"
	lab_path_of "$f"
}
at_lab_timing=$(lab_timing_expected)

# The one pair whose outcome the timing decides (docs/lab.md, "TCP pairs"):
# two port-restricted cones that answer stray SYNs with RSTs. Each SYN is
# refused at the far NAT, and the RST kills the sender's fresh entry at
# once ("If only reply is a RST", nf_conntrack_tcp_packet), so a SYN gets
# through only while the other's is in flight: in the matrix's world a later
# try finds it so, on veths never. It is held to the simulator at the lab's
# timing, and only while the two timings disagree (else it is no exception).
expected=$matrix_says
compared_with="natsim matrix"
if [ "$A $B ${INPUT:-}" = "port-restricted-cone port-restricted-cone accept" ]; then
	[ "$at_lab_timing" != "$expected" ] ||
		{ echo "FAIL: $A x $B ($INPUT) is listed as decided by timing, but the matrix and the" \
			"simulator at the lab's timing both say $expected: take it off the list" >&2; exit 1; }
	echo "$A x $B with input accept: the matrix's timing ($expected) cannot be made on veths;" \
		"compared with the simulator at the lab's timing ($at_lab_timing)"
	expected=$at_lab_timing
	compared_with="natsim at the lab's timing"
fi

# The pairs where the simulator at the lab's timing knowingly differs from
# Linux (docs/lab.md, "TCP pairs", D; tcp_sim_differences.txt D): with
# input accept, alice's SYN is refused at bob's NAT and the RST ends her
# flow; the lab's restricted cone (an nftables set with its own timeout)
# still admits bob's SYN from that address, natsim's forgets the address
# with the flow (nat_flow_closed). In the matrix's timing the SYNs meet in
# flight and the worlds agree. Every other pair must also agree with the
# simulator at the lab's timing, which is what makes it a fair judge for
# the pair above.
lab_timing_differs_by_d() {
	[ "${INPUT:-}" = accept ] || return 1
	case "$A $B" in
	"restricted-cone restricted-cone" | "restricted-cone port-restricted-cone" | \
		"restricted-cone symmetric" | "port-restricted-cone restricted-cone" | \
		"symmetric restricted-cone") return 0 ;;
	esac
	return 1
}

text="lab tcp $A x $B $$ $RANDOM"
start=$(date +%s.%N)
lab_spawn "$PEER_NS_2" bob "$NATSIM" peer --tcp --name bob --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --echo --expect-data --linger 1s --timeout 20s
lab_wait_log bob "registered:"
set +e
in_ns "$PEER_NS_1" "$NATSIM" peer --tcp --name alice --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --connect bob --send "$text" --expect-data --timeout 15s \
	>"$LAB_LOGS/alice.log" 2>&1
rc=$?
set -e
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
path=$(sed -n 's/^path: \([a-z]*\).*/\1/p' "$LAB_LOGS/alice.log")
echo "$A x $B over TCP: alice exit $rc, path '$path' (natsim matrix --transport tcp" \
	"--tcp-unsolicited $unsolicited: $matrix_says; at the lab's timing: $at_lab_timing), ${took}s"
grep '^path:' "$LAB_LOGS/alice.log" || true
[ "$rc" = 0 ] || { echo "FAIL: alice did not complete" >&2; exit 1; }
grep -qxF "data from bob: $text" "$LAB_LOGS/alice.log" ||
	{ echo "FAIL: the echo did not come back intact" >&2; exit 1; }
if [ "$path" != "$expected" ]; then
	echo "FAIL: $A x $B over TCP ended $path, $compared_with says $expected" >&2
	exit 1
fi
if lab_timing_differs_by_d; then
	[ "$path" != "$at_lab_timing" ] ||
		{ echo "FAIL: $A x $B ($INPUT) is listed under D, but natsim at the lab's timing now" \
			"agrees with Linux ($path): take it off the list (and docs/lab.md)" >&2; exit 1; }
	echo "natsim at the lab's timing says $at_lab_timing: difference D (docs/lab.md, \"TCP pairs\")"
elif [ "$path" != "$at_lab_timing" ]; then
	echo "FAIL: $A x $B over TCP ended $path, natsim at the lab's timing says $at_lab_timing" >&2
	exit 1
fi
echo "PASS: $A x $B over TCP $path as $compared_with predicts, data intact"
