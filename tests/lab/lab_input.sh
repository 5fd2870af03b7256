#!/bin/bash
# lab_input.sh NATSIM drop|accept - the router's own INPUT path (the scenario
# language's `nat ... input drop|accept`), in a Linux NAT and in the
# simulator, after the same three datagrams:
#   1. bob (a public host) sends from port 4000 to the NAT's public port 4000,
#      before alice has sent anything (unsolicited);
#   2. alice, behind the NAT (port-restricted cone: masquerade), sends from
#      port 4000 to bob's port 4000;
#   3. bob reads which public port alice's datagram came from.
# A home router (drop) keeps alice's port: 4000. A bare Linux box (accept)
# took the first datagram into its own stack and conntrack confirmed a flow
# for it, so alice's translation clashes with it and she gets another port
# (nf_nat_core.c get_unique_tuple). The lab and the simulator must agree on
# both: the port kept or not, and the router's own flow in conntrack -L.
set -euo pipefail
NATSIM=$1
INPUT=$2
KIND=port-restricted-cone
. "$(dirname "$0")/lib.sh"
command -v conntrack >/dev/null || { echo "SKIP: needs conntrack"; exit "$LAB_SKIP"; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit "$LAB_SKIP"; }
lab_init

lab_make_wan
lab_side 1 "$KIND" "$INPUT"
lab_side 2 open

# bob: one socket on port 4000 sends the probe, then reports where the first
# datagram that reaches it came from.
lab_spawn h2 bob python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.12", 4000))
s.sendto(b"probe", ("10.99.0.11", 4000))
print("probe sent", flush=True)
s.settimeout(10)
data, src = s.recvfrom(2048)
print("from %s:%d %s" % (src[0], src[1], data.decode()), flush=True)
'
lab_wait_log bob "probe sent"
sleep 0.2 # the probe has long crossed the NAT: the veths are sub-millisecond
in_ns lan1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("172.31.1.2", 4000))
s.sendto(b"hello", ("10.99.0.12", 4000))
'
lab_wait_log bob "from "
lab_line=$(sed -n 's/^from \(.*\) hello$/\1/p' "$LAB_LOGS/bob.log")
lab_port=${lab_line##*:}
in_ns nat1 conntrack -L -p udp 2>/dev/null >"$LAB_LOGS/lab-conntrack.txt"
lab_own=no
grep -q "src=10.99.0.12 dst=10.99.0.11 sport=4000 dport=4000 \[UNREPLIED\] src=10.99.0.11 dst=10.99.0.12 sport=4000 dport=4000" \
	"$LAB_LOGS/lab-conntrack.txt" && lab_own=yes

# The same three datagrams in the simulator, with the same input setting.
cat >"$LAB_LOGS/input.nsim" <<NSIM
title "input $INPUT"
internet latency 20ms
coordinator coord at 192.0.2.10
nat alice-nat preset $KIND input $INPUT public 203.0.113.10
host alice at 192.168.1.5 behind alice-nat
host bob at 198.51.100.10 public
at 1s raw bob from 4000 to alice-nat:4000 "probe"
at 2s raw alice from 4000 to bob:4000 "hello"
NSIM
"$NATSIM" run --quiet --tables --until 3s "$LAB_LOGS/input.nsim" >"$LAB_LOGS/sim.txt"
sim_port=$(awk '$1 == "192.168.1.5:4000" { sub(/.*:/, "", $2); print $2 }' "$LAB_LOGS/sim.txt")
sim_own=no
grep -q "src=198.51.100.10 dst=203.0.113.10 sport=4000 dport=4000 \[UNREPLIED\] src=203.0.113.10 dst=198.51.100.10 sport=4000 dport=4000" \
	"$LAB_LOGS/sim.txt" && sim_own=yes

kept() { [ "$1" = 4000 ] && echo kept || echo "changed to $1"; }
echo "input $INPUT: lab: alice's port $(kept "$lab_port"), router's own flow: $lab_own;" \
	"simulator: $(kept "$sim_port"), router's own flow: $sim_own"
[ -n "$lab_port" ] && [ -n "$sim_port" ] || { echo "FAIL: a port is missing" >&2; exit 1; }
[ "$(kept "$lab_port" | cut -c1-4)" = "$(kept "$sim_port" | cut -c1-4)" ] ||
	{ echo "FAIL: the lab and the simulator differ on alice's port" >&2; exit 1; }
[ "$lab_own" = "$sim_own" ] ||
	{ echo "FAIL: the lab and the simulator differ on the router's own flow" >&2; exit 1; }
want=kept
[ "$INPUT" = drop ] || want=changed
[ "$(kept "$lab_port" | cut -c1-4)" = "$(echo "$want" | cut -c1-4)" ] ||
	{ echo "FAIL: with input $INPUT alice's port should be $want" >&2; exit 1; }
echo "PASS: input $INPUT: lab and simulator agree"
