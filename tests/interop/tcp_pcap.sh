#!/bin/bash
# tcp_pcap.sh NATSIM SRCDIR - tshark reads natsim's TCP as it reads a real
# capture (issue 16): scenarios/tcp-port-forward.nsim, captured on both sides
# of its NAT (alice-eth0 outside, web-eth0 inside, the router's wan and lan),
# gives for the connection to port 80 good IP and TCP checksums after every
# rewrite, no TCP analysis flag (no retransmission, out-of-order, lost
# segment, bad ACK, ...), no expert item worse than a note, and the same 1000
# bytes when tshark follows the stream on either side.
# Exit 77 (SKIP) without tshark.
set -uo pipefail
NATSIM=$1
SRC=$2
command -v tshark >/dev/null || { echo "SKIP: tshark is not installed"; exit 77; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

"$NATSIM" run "$SRC/scenarios/tcp-port-forward.nsim" --pcap "$TMP/pc" -q >"$TMP/run.txt" 2>&1 ||
	fail "the scenario failed: $(cat "$TMP/run.txt")"

# WARN in Wireshark's expert severities (epan/proto.h PI_WARN = 0x00600000).
WARN=6291456
for cap in alice-eth0 web-eth0 office-wan office-lan; do
	f=$TMP/pc/$cap.pcap
	[ -s "$f" ] || { fail "no capture $cap.pcap"; continue; }
	tshark -r "$f" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -Y "tcp.port == 80" \
		-T fields -E separator=';' -e frame.number -e ip.checksum.status \
		-e tcp.checksum.status -e tcp.analysis.flags -e _ws.expert.severity \
		>"$TMP/$cap.fields" 2>/dev/null
	n=$(wc -l <"$TMP/$cap.fields")
	# the handshake, the data, both FINs and their ACKs: 9 segments
	[ "$n" -eq 9 ] || fail "$cap: $n segments of the port-80 connection, 9 expected"
	# checksum status 1 is "Good" (epan/proto.h PROTO_CHECKSUM_E_GOOD)
	awk -F';' -v cap="$cap" -v warn="$WARN" '
		$2 != 1 { print cap ": frame " $1 ": bad IP checksum" }
		$3 != 1 { print cap ": frame " $1 ": bad TCP checksum" }
		$4 != "" { print cap ": frame " $1 ": TCP analysis flags " $4 }
		{ n = split($5, s, ","); for (i = 1; i <= n; i++) if (s[i] + 0 >= warn)
			print cap ": frame " $1 ": an expert warning" }
	' "$TMP/$cap.fields" >"$TMP/$cap.bad"
	[ -s "$TMP/$cap.bad" ] && fail "$(cat "$TMP/$cap.bad")"
	tshark -r "$f" -q -z follow,tcp,raw,0 2>/dev/null |
		awk '/^Node 1:/ { on = 1; next } /^=+$/ { on = 0 } on && !/^\t/ { printf "%s", $0 }' \
			>"$TMP/$cap.stream"
done

# The stream's bytes: 1000 of them, alike outside and inside the NAT.
out=$(cat "$TMP/alice-eth0.stream")
in=$(cat "$TMP/web-eth0.stream")
[ "${#out}" -eq 2000 ] || fail "alice-eth0: tshark follows ${#out} hex digits, 2000 expected"
[ "$out" = "$in" ] || fail "the stream differs inside and outside the NAT"
case "$out" in
6e617473696d2073656e6473*) ;; # "natsim sends"
*) fail "the stream does not start with the bytes alice sent" ;;
esac
# The NAT's work is visible: outside the server is the router's address,
# inside it is web's.
tshark -r "$TMP/pc/alice-eth0.pcap" -Y "tcp.port == 80" -T fields -e ip.src 2>/dev/null |
	grep -qx 198.51.100.9 || fail "outside, the server is not 198.51.100.9"
tshark -r "$TMP/pc/web-eth0.pcap" -Y "tcp.port == 80" -T fields -e ip.dst 2>/dev/null |
	grep -qx 10.0.0.80 || fail "inside, the server is not 10.0.0.80"

[ "$FAILS" -eq 0 ] && echo "ok: tshark follows the TCP stream through the NAT, no checksum or sequence errors"
exit $((FAILS > 0))
