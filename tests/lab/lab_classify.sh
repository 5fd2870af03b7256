#!/bin/bash
# lab_classify.sh NATSIM KIND - `natsim peer --classify` behind an nftables NAT
# of KIND (or on an open host) must report the RFC 4787 behaviour the
# simulator assigns to KIND.
set -euo pipefail
NATSIM=$1
KIND=$2
. "$(dirname "$0")/lib.sh"
lab_init

case "$KIND" in
open) want="open endpoint-independent endpoint-independent" ;;
full-cone) want="full-cone endpoint-independent endpoint-independent" ;;
restricted-cone) want="restricted-cone endpoint-independent address-dependent" ;;
port-restricted-cone)
	want="port-restricted-cone endpoint-independent address-and-port-dependent" ;;
symmetric) want="symmetric address-and-port-dependent address-and-port-dependent" ;;
*) echo "usage: $0 NATSIM open|full-cone|restricted-cone|port-restricted-cone|symmetric" >&2
	exit 2 ;;
esac

lab_make_wan
lab_side 1 "$KIND"
lab_coord
in_ns "$PEER_NS_1" "$NATSIM" peer --name probe --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --classify --json --timeout 15s >"$LAB_LOGS/probe.log" 2>&1
got=$(grep '"event":"nat-classified"' "$LAB_LOGS/probe.log" | head -n 1 |
	python3 -c 'import json,sys; e=json.load(sys.stdin); print(e["nat"], e["mapping"], e["filtering"])')
echo "$KIND: natsim discovery says: $got"
[ "$got" = "$want" ] || { echo "FAIL: expected $want" >&2; exit 1; }
echo "PASS: $KIND classified as $want"
