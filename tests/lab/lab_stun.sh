#!/bin/bash
# lab_stun.sh NATSIM KIND - interoperability with the Debian STUN tools.
#  1. the classic `stun` client (package stun-client, RFC 3489) against
#     `natsim coord --classic --alternate` reports the same NAT type as
#     natsim's own discovery (`natsim peer --classify`) behind the same NAT;
#  2. the same client against `stund` (package stun-server) reports the same
#     type as against natsim coord: the two servers agree.
# (natsim's discovery against stund is not compared: stund 0.97 drops requests
# carrying PADDING, which natsim's client always sends - see docs/lab.md.)
set -euo pipefail
NATSIM=$1
KIND=$2
. "$(dirname "$0")/lib.sh"
command -v stun >/dev/null && command -v stund >/dev/null ||
	{ echo "SKIP: needs the stun-client and stun-server packages"; exit "$LAB_SKIP"; }
lab_init

# The classic client's one-line verdict as a classic NAT name.
classic_type() {
	case "$1" in
	*Open*) echo open ;;
	*"Independent Mapping, Independent Filter"*) echo full-cone ;;
	*"Independent Mapping, Address Dependent Filter"*) echo restricted-cone ;;
	*"Independent Mapping, Port Dependent Filter"*) echo port-restricted-cone ;;
	*"Dependent Mapping"*) echo symmetric ;;
	*) echo "unknown($1)" ;;
	esac
}

stun_client() {
	in_ns "$PEER_NS_1" stun "$1" -p "$2" 2>&1 | grep '^Primary:' || true
}

lab_make_wan
lab_side 1 "$KIND"
lab_coord --classic
lab_spawn wan stund stund -h "$COORD1" -a "$COORD2" -p 3480 -o 3481
for ((i = 0; i < 100; i++)); do # stund prints nothing: wait for its socket
	in_ns wan ss -Hlun "sport = :3480" | grep -q . && break
	sleep 0.05
done

verdict_natsim=$(stun_client "$COORD1:$COORD_PORT" "$LAB_PORT")
verdict_stund=$(stun_client "$COORD1:3480" 4002)
in_ns "$PEER_NS_1" "$NATSIM" peer --name probe --coord "$COORD1:$COORD_PORT" \
	--port 4004 --classify --json --timeout 15s >"$LAB_LOGS/probe.log" 2>&1
own=$(grep '"event":"nat-classified"' "$LAB_LOGS/probe.log" | head -n 1 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["nat"])')
# natsim's own discovery against stund (an RFC 3489 server: no PADDING,
# CHANGED-ADDRESS instead of OTHER-ADDRESS) must agree with itself against
# natsim coord.
in_ns "$PEER_NS_1" "$NATSIM" peer --name probe2 --coord "$COORD1:3480" --no-register \
	--port 4006 --classify --json --timeout 15s >"$LAB_LOGS/probe-stund.log" 2>&1 || true
own_stund=$(grep '"event":"nat-classified"' "$LAB_LOGS/probe-stund.log" | head -n 1 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["nat"])' 2>/dev/null || echo none)
t_natsim=$(classic_type "$verdict_natsim")
t_stund=$(classic_type "$verdict_stund")
echo "$KIND: stun client vs natsim coord: $verdict_natsim -> $t_natsim"
echo "$KIND: stun client vs stund:        $verdict_stund -> $t_stund"
echo "$KIND: natsim peer --classify:      $own"
echo "$KIND: natsim discovery vs stund:   $own_stund"
[ "$t_natsim" = "$own" ] || { echo "FAIL: stun client and natsim disagree" >&2; exit 1; }
[ "$t_natsim" = "$t_stund" ] || { echo "FAIL: stund and natsim coord disagree" >&2; exit 1; }
[ "$own" = "$KIND" ] || { echo "FAIL: $KIND classified as $own" >&2; exit 1; }
[ "$own_stund" = "$own" ] ||
	{ echo "FAIL: natsim discovery says $own_stund against stund, $own against natsim coord" >&2; exit 1; }
echo "PASS: $KIND: stun client and natsim discovery, each against natsim coord and stund, agree"
