#!/bin/bash
# wireshark6.sh STUN6_PCAP SRCDIR - Wireshark names natsim's messages over
# UDP/IPv6 (issue 18 step 7): with docs/wireshark/natsim.lua, tshark decodes
# the REGISTER and INTRODUCE stun6_pcap writes, each NATSIM-CANDIDATE of
# either family (the IPv6 one of length 21, family 0x02, its address XORed
# with the cookie and the transaction ID), and the UDP checksums over the
# IPv6 pseudo-header are Good. Exit 77 (SKIP) without tshark or its Lua.
set -uo pipefail
BIN=$1
SRC=$2
LUA=$SRC/docs/wireshark/natsim.lua
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
tshark -v 2>/dev/null | grep -qi "with Lua" || { echo "SKIP: this tshark has no Lua"; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
has() {
	local file=$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$file" || fail "$(basename "$file"): no '$t'"
	done
}

"$BIN" "$TMP/v6.pcap" || fail "stun6_pcap failed"
tshark -X lua_script:"$LUA" -r "$TMP/v6.pcap" -o udp.check_checksum:TRUE -V \
	>"$TMP/v6.txt" 2>"$TMP/v6.err"
grep -iv "running as user" "$TMP/v6.err" | grep . && fail "tshark complained (above)"
has "$TMP/v6.txt" \
	"Internet Protocol Version 6, Src: 2001:db8:1::5, Dst: 2001:db8:2::1" \
	"natsim rendezvous and relay (STUN methods): natsim REGISTER Request name=alice" \
	"NATSIM-CANDIDATE: host [2001:db8:1::5]:5000" "NATSIM-CANDIDATE: host 192.168.1.5:5000" \
	"Candidate address: 2001:db8:1::5" "Candidate address: 192.168.1.5" \
	"natsim INTRODUCE Indication peer=bob" "NATSIM-CANDIDATE: srflx [2001:db8:3::9]:6000" \
	"Candidate port: 6000" "Candidate type: srflx (1)"
good=$(grep -c '\[Checksum Status: Good\]' "$TMP/v6.txt")
[ "$good" -eq 2 ] || fail "$good UDP checksums Good, 2 expected"
grep -E 'Checksum Status: Bad|Malformed|Expert Info \(Error' "$TMP/v6.txt" &&
	fail "tshark found something wrong (above)"
# The display filter's field, as a script would read it.
tshark -X lua_script:"$LUA" -r "$TMP/v6.pcap" -Y 'natsim.candidate.ipv6 == 2001:db8:3::9' \
	-T fields -e natsim.peer -e natsim.candidate.type >"$TMP/fields.txt" 2>/dev/null
has "$TMP/fields.txt" "bob	1"

if [ "$FAILS" -gt 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "PASS: tshark with natsim.lua names natsim's messages and candidates over IPv6"
