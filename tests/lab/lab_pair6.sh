#!/bin/bash
# lab_pair6.sh NATSIM CASE - alice connects to bob over IPv6 through real
# natsim coord/peer processes across nftables `ip6` firewalls (lib6.sh); the
# outcome (direct or relayed, and over which family) must be the one
# ipv6_expected.txt records for CASE and, where the scenario language can
# say the same world, the simulator's for it (lab6_expected); and bob's echo
# of alice's text must come back intact. Cases (docs/lab.md, "IPv6"):
#   a-fw-fw     both homes IPv6 only, each behind an RFC 6092 firewall
#   b-dual      dual stack: IPv4 behind two symmetric NATs (masquerade
#               fully-random), IPv6 behind RFC 6092 firewalls
#   b-dual-v4   the same world, the peers given the coordinator's IPv4
#               endpoint alone: what IPv4 does there without IPv6
#   c-fw-open   IPv6 only: alice behind an RFC 6092 firewall (inbound new
#               flows dropped), bob's router filtering nothing
#   c-open-fw   the same, sides swapped
set -euo pipefail
NATSIM=$1
CASE=$2
HERE=$(dirname "$0")
. "$HERE/lib.sh"
. "$HERE/lib6.sh"
lab_init

lab_make_wan
lab_make_wan6
# Each case: alice's and bob's homes (IPv6 firewall, IPv4 NAT kind or none)
# and how the peers find the coordinator.
case "$CASE" in
a-fw-fw) fw=(rfc6092 rfc6092) kind4=("" "") ;;
b-dual | b-dual-v4) fw=(rfc6092 rfc6092) kind4=(symmetric symmetric) ;;
c-fw-open) fw=(rfc6092 none) kind4=("" "") ;;
c-open-fw) fw=(none rfc6092) kind4=("" "") ;;
*) echo "no case $CASE" >&2; exit 2 ;;
esac
lab_home6 1 "${fw[0]}" "${kind4[0]}"
lab_home6 2 "${fw[1]}" "${kind4[1]}"
if [ -n "${kind4[0]}" ]; then
	coord_args=(--coord "$COORD1:$COORD_PORT" --coord6 "[$COORD6_1]:$COORD_PORT")
	[ "$CASE" != b-dual-v4 ] || coord_args=(--coord "$COORD1:$COORD_PORT")
	lab_coord --listen "[$COORD6_1]:$COORD_PORT" --alternate "[$COORD6_2]:$COORD_ALT_PORT"
else
	coord_args=(--coord "[$COORD6_1]:$COORD_PORT")
	lab_spawn wan coord "$NATSIM" coord --listen "[$COORD6_1]:$COORD_PORT" \
		--alternate "[$COORD6_2]:$COORD_ALT_PORT"
	lab_wait_log coord "listening"
fi
expected=$(lab6_expected "$CASE")

text="lab6 $CASE $$ $RANDOM"
start=$(date +%s.%N)
lab_spawn "$PEER_NS_2" bob "$NATSIM" peer --name bob "${coord_args[@]}" \
	--port "$LAB_PORT" --echo --expect-data --linger 1s --timeout 20s
lab_wait_log bob "registered:"
set +e
in_ns "$PEER_NS_1" "$NATSIM" peer --name alice "${coord_args[@]}" \
	--port "$LAB_PORT" --connect bob --send "$text" --expect-data --timeout 15s \
	>"$LAB_LOGS/alice.log" 2>&1
rc=$?
set -e
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
path=$(lab6_path "$LAB_LOGS/alice.log")
echo "$CASE: alice exit $rc, path '$path' (expected: $expected), ${took}s"
grep '^path:' "$LAB_LOGS/alice.log" || true
[ "$rc" = 0 ] || { echo "FAIL: alice did not complete" >&2; exit 1; }
grep -qxF "data from bob: $text" "$LAB_LOGS/alice.log" ||
	{ echo "FAIL: the echo did not come back intact" >&2; exit 1; }
# What each router's firewall did, for the record (docs/lab.md).
for i in 1 2; do
	eval "rtr=\$ROUTER_NS_$i"
	echo "---- conntrack -L -f ipv6 -p udp in $rtr ----"
	in_ns "$rtr" conntrack -L -f ipv6 -p udp 2>/dev/null | sed 's/^/  /' || true
	in_ns "$rtr" nft list chain ip6 fw6 forward 2>/dev/null | grep -F "counter" |
		sed 's/^[[:space:]]*/  unsolicited: /' || true
	if [ -n "${kind4[0]}" ]; then
		echo "---- conntrack -L -f ipv4 -p udp in $rtr ----"
		in_ns "$rtr" conntrack -L -f ipv4 -p udp 2>/dev/null | sed 's/^/  /' || true
	fi
done
[ "$path" = "$expected" ] || { echo "FAIL: $CASE ended $path, expected $expected" >&2; exit 1; }
# The agreement rule: the simulator's outcome for the same world (direct or
# relayed; the family is the lab's to show until the simulator's events
# carry it).
sim=$(lab6_sim_path "$CASE")
if [ "$sim" = not-compared ]; then
	# Every case's world is one the language reads (IPv6-only agents run
	# since the NAT64 work): a refusal is a regression, not a skip.
	echo "FAIL: the simulator refused $CASE's world:" >&2
	sed 's/^/  /' "$LAB_LOGS/sim6.nsim.check.log" | head -5 >&2
	exit 1
elif [ "$sim" != "${path%[46]}" ]; then
	echo "FAIL: $CASE ended $path in the lab, the simulator says $sim" >&2
	exit 1
fi
echo "PASS: $CASE $path as expected (simulator: $sim), data intact"
