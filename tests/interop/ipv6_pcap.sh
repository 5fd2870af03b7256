#!/bin/bash
# ipv6_pcap.sh IPV6_PACKETS - tshark reads the IPv6 packets model/packet6.h
# builds (issue 18) as it reads real ones: UDP (one whose sum is sent as
# ffff), ICMPv6 echo request and reply, destination unreachable (port,
# administratively prohibited, address), time exceeded, packet too big
# quoting 1232 bytes of a 1500-byte packet, a TCP SYN: every checksum tshark
# verifies is Good (the outer ones and those of the quoted packets it can
# verify), nothing is malformed, and the types, codes and MTU are as meant.
# Exit 77 (SKIP) without tshark.
set -uo pipefail
BIN=$1
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

"$BIN" "$TMP/v6.pcap" || fail "ipv6_packets failed"
tshark -r "$TMP/v6.pcap" -o udp.check_checksum:TRUE -o tcp.check_checksum:TRUE -V \
	>"$TMP/v6.txt" 2>&1 || fail "tshark could not read the capture"
frames=$(grep -c '^Frame [0-9]*:' "$TMP/v6.txt")
[ "$frames" -eq 11 ] || fail "$frames frames, 11 expected"
# one outer checksum per frame, and the UDP one in each of the four short
# errors' quotes (the packet too big quote is cut: tshark leaves it unverified)
good=$(grep -c 'Checksum Status: Good' "$TMP/v6.txt")
[ "$good" -eq 15 ] || fail "$good checksums Good, 15 expected"
grep -E 'Checksum Status: Bad|\[incorrect|Malformed|Expert Info \((Warning|Error)' "$TMP/v6.txt" &&
	fail "tshark found something wrong (above)"
for want in 'Type: Echo (ping) request (128)' 'Type: Echo (ping) reply (129)' \
	'Code: 4 (Port unreachable)' 'Code: 1 (Administratively prohibited)' \
	'Code: 3 (Address unreachable)' 'Code: 0 (hop limit exceeded in transit)' \
	'MTU: 1280' 'Checksum: 0xffff \[correct\]' 'Flow Label: 0x12345'; do
	grep -q "$want" "$TMP/v6.txt" || fail "tshark does not show '$want'"
done
[ "$FAILS" -eq 0 ] && echo "PASS: tshark reads natsim's IPv6 packets with good checksums"
exit $((FAILS > 0))
