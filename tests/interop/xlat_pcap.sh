#!/bin/bash
# xlat_pcap.sh XLAT_TOOL - tshark reads natsim's NAT64 translations
# (model/xlat.h, issue 18 step 8) as it reads real packets: UDP both ways,
# an IPv4 port unreachable become ICMPv6, ICMP echo both ways, an ICMPv6
# time exceeded and packet too big become ICMP: every checksum tshark
# verifies is Good (the outer ones, and the quoted UDP checksums, which the
# translator adjusted for the new pseudo-header), nothing is malformed, and
# types, codes and the MTU (1280 - 20) are as RFC 7915 says. IPv4 header
# checksums are checked too (tshark leaves them unverified by default).
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

"$BIN" pcap "$TMP/x.pcap" || fail "xlat_tool pcap failed"
tshark -r "$TMP/x.pcap" -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE -V \
	>"$TMP/x.txt" 2>&1 || fail "tshark could not read the capture"
frames=$(grep -c '^Frame [0-9]*:' "$TMP/x.txt")
[ "$frames" -eq 7 ] || fail "$frames frames, 7 expected"
# 7 outer transport sums, 2 quoted UDP sums (the packet too big quote is
# cut: unverifiable), 4 outer and 2 quoted IPv4 header sums
good=$(grep -ci 'checksum status: Good' "$TMP/x.txt")
[ "$good" -eq 15 ] || fail "$good checksums Good, 15 expected"
grep -Ei 'Checksum Status: Bad|\[incorrect|Malformed|Expert Info \(Error' "$TMP/x.txt" &&
	fail "tshark found something wrong (above)"
for want in 'Type: Destination Unreachable (1)' 'Code: 4 (Port unreachable)' \
	'Type: 8 (Echo (ping) request)' 'Type: Echo (ping) reply (129)' \
	'Code: 0 (Time to live exceeded in transit)' 'Code: 4 (Fragmentation needed)' \
	'MTU of next hop: 1260' 'Source Address: 64:ff9b::cb00:710a' \
	'Source Address: 198.51.100.1'; do
	grep -qF "$want" "$TMP/x.txt" || fail "tshark does not show '$want'"
done
[ "$FAILS" -eq 0 ] && echo "PASS: tshark reads natsim's NAT64 translations with good checksums"
exit $((FAILS > 0))
