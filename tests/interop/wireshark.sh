#!/bin/bash
# wireshark.sh NATSIM SRCDIR - Wireshark names natsim's messages (issue 12,
# item 10): with docs/wireshark/natsim.lua, tshark decodes every natsim method
# and attribute, in the bundled capture docs/wireshark/natsim-sample.pcap and in
# a capture natsim makes now (so the dissector and p2p/stun.h cannot drift
# apart); without it, no natsim attribute is shown under another vendor's name.
# The bundled capture is scenarios/classic.nsim (alice-eth0: REGISTER,
# CONNECT, INTRODUCE, checks, DATA) followed by scenarios/symmetric-pair.nsim
# (coord-eth0: RELAY), seed 1; to make it again:
#   natsim run scenarios/classic.nsim --pcap a -q
#   natsim run scenarios/symmetric-pair.nsim --pcap b -q
#   mergecap -a -w docs/wireshark/natsim-sample.pcap a/alice-eth0.pcap b/coord-eth0.pcap
# Exit 77 (SKIP) without tshark or without Lua in it.
set -uo pipefail
NATSIM=$1
SRC=$2
LUA=$SRC/docs/wireshark/natsim.lua
PCAP=$SRC/docs/wireshark/natsim-sample.pcap
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }
tshark -v 2>/dev/null | grep -qi "with Lua" || { echo "SKIP: this tshark has no Lua"; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# has FILE TEXT...: every TEXT appears in FILE.
has() {
	local file=$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$file" || fail "$(basename "$file"): no '$t'"
	done
}

# 1. The bundled capture, every field by name.
tshark -X lua_script:"$LUA" -r "$PCAP" -V >"$TMP/sample.txt" 2>"$TMP/sample.err"
[ -s "$TMP/sample.err" ] && grep -iv "running as user" "$TMP/sample.err" | grep . &&
	fail "tshark complained about the dissector"
has "$TMP/sample.txt" \
	"natsim rendezvous and relay (STUN methods): natsim REGISTER Request name=alice" \
	"Method: REGISTER (0x00c1)" "Method: CONNECT (0x00c2)" "Method: INTRODUCE (0x00c3)" \
	"Method: RELAY (0x00c4)" "Method: DATA (0x00c5)" \
	"Class: Request (0)" "Class: Indication (1)" "Class: Success Response (2)" \
	"NATSIM-NAME: alice" "Name: alice" "Attribute name: NATSIM-SIGN-KEY" \
	"Ed25519 public key: " "X25519 public key: " "Ed25519 signature: " \
	"NATSIM-CANDIDATE: host 192.168.1.5:5000" "NATSIM-CANDIDATE: srflx 198.51.100.9:5000" \
	"Candidate address: 198.51.100.9" "Candidate port: 5000" "Candidate type: srflx (1)" \
	"Timestamp (ns): " "NATSIM-PEER: bob" "Peer: bob" "NATSIM-SESSION: " "Session id: 0x" \
	"Payload counter: " "Sealed payload (crypto_box): "
# Display-filter fields, as a script would read them.
tshark -X lua_script:"$LUA" -r "$PCAP" -Y 'natsim.method == 0x0c1 && natsim.class == 0' \
	-T fields -e natsim.name -e natsim.candidate.ip -e natsim.candidate.type \
	>"$TMP/fields.txt" 2>/dev/null
has "$TMP/fields.txt" "alice	192.168.1.5	0"
# The Info column says what each message is.
tshark -X lua_script:"$LUA" -r "$PCAP" >"$TMP/summary.txt" 2>/dev/null
has "$TMP/summary.txt" "natsim REGISTER Request name=alice" "natsim CONNECT Request peer=bob" \
	"natsim INTRODUCE Indication peer=bob" "natsim RELAY Indication peer=" \
	"natsim DATA Indication peer=alice"

# 1b. An INTRODUCE over IPv6 with an IPv6 NATSIM-CANDIDATE (21 bytes: family
# 0x02, the address XORed with the cookie and the transaction ID 01..0c),
# written by coord_put_candidate for srflx [2001:db8:2::5]:5000 and wrapped
# in UDP over IPv6 by text2pcap.
INTRO6=029300242112a4420102030405060708090a0b0ce0080003626f6200e00400150002329a0113a9fa0100030405060708090a0b0901000000
if command -v text2pcap >/dev/null; then
	echo "$INTRO6" | sed 's/../& /g; s/^/000000 /' >"$TMP/intro6.txt"
	text2pcap -q -6 2001:db8:ff::10,2001:db8:1::5 -u 3478,5000 "$TMP/intro6.txt" \
		"$TMP/intro6.pcap" || fail "text2pcap failed"
	tshark -X lua_script:"$LUA" -r "$TMP/intro6.pcap" -V >"$TMP/intro6.out" 2>&1
	has "$TMP/intro6.out" "NATSIM-CANDIDATE: srflx [2001:db8:2::5]:5000" \
		"Candidate address: 2001:db8:2::5" "Candidate port: 5000"
	tshark -X lua_script:"$LUA" -r "$TMP/intro6.pcap" -T fields -e natsim.candidate.ipv6 \
		>"$TMP/intro6.fields" 2>/dev/null
	has "$TMP/intro6.fields" "2001:db8:2::5"
fi

# 2. Without the dissector: natsim's attributes are unknown to Wireshark, not
# another vendor's (0xC001 was ENF-FLOW-DESCRIPTION, 0xC002 ENF-NETWORK-STATUS).
tshark -r "$PCAP" -V >"$TMP/plain.txt" 2>/dev/null
has "$TMP/plain.txt" "Unknown attribute 0xe001" "Unknown attribute 0xe009"
grep -E "ENF-|CISCO-|GOOG-|CITRIX-|MS-" "$TMP/plain.txt" | sort -u | head -n 5 | grep . &&
	fail "Wireshark names a natsim attribute after a vendor's"

# 3. A capture natsim makes now is decoded the same way.
"$NATSIM" run "$SRC/scenarios/classic.nsim" --pcap "$TMP/cap" --quiet >/dev/null 2>&1 ||
	fail "natsim run classic --pcap failed"
tshark -X lua_script:"$LUA" -r "$TMP/cap/alice-eth0.pcap" -V >"$TMP/fresh.txt" 2>/dev/null
has "$TMP/fresh.txt" "Method: REGISTER (0x00c1)" "NATSIM-NAME: alice" \
	"Method: INTRODUCE (0x00c3)" "NATSIM-CANDIDATE: srflx" "Method: DATA (0x00c5)"
tshark -r "$TMP/cap/alice-eth0.pcap" -V 2>/dev/null |
	grep -E "ENF-|CISCO-|GOOG-|CITRIX-|MS-" | sort -u | head -n 5 | grep . &&
	fail "Wireshark names an attribute natsim sends now after a vendor's"

if [ "$FAILS" -gt 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "PASS: tshark with natsim.lua names every natsim method and attribute"
