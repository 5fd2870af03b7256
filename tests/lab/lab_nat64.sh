#!/bin/bash
# lab_nat64.sh XLAT_TOOL - natsim's RFC 7915 translation (model/xlat.h)
# writes the bytes tayga (a real stateless NAT64 on a TUN device) writes for
# the same packets. In a fresh network namespace, tayga translates between
# 2001:db8:1::5 and the IPv4 server 1.2.3.4 behind 64:ff9b::/96: a UDP
# exchange, a datagram to a closed port (the kernel's ICMP port unreachable
# comes back as ICMPv6), and ping -6 (echo request and reply). tshark
# captures the TUN device, where both each packet going into tayga and what
# tayga makes of it pass; every packet tayga made must equal, byte for
# byte, what `xlat_tool 6to4|4to6` makes of the packet that went in: every
# header field, the checksums (recomputed, the pseudo-headers differ), the
# quoted packet of the error and its UDP checksum.
#
# Choices that are tayga's, and which xlat_tool selects to compare:
#   - DF set and Identification 0 on IPv4 (RFC 6145 5.1; RFC 7915 5.1, which
#     natsim follows by default, sets DF only above 1260 bytes and an
#     Identification of the translator's);
#   - the hop limit / TTL decremented, as a router does (natsim's router
#     decrements before it translates).
# Why 1.2.3.4 and not a documentation address: RFC 6052 3.1 forbids the
# well-known prefix for non-global IPv4 addresses, and tayga drops them
# (the documentation ranges are not global). Nothing leaves the namespace.
# Usage: lab_nat64.sh XLAT_TOOL (needs root, tayga, tshark, python3, ping).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_need_root
TOOL=$1
for tool in tayga tshark python3 ping; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit "$LAB_SKIP"; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat >"$TMP/tayga.conf" <<CONF
tun-device nat64
ipv4-addr 192.168.255.1
ipv6-addr 2001:db8:64::1
prefix 64:ff9b::/96
dynamic-pool 192.168.255.0/24
data-dir $TMP
CONF

run() {
	set -e
	ip link set lo up
	tayga -c "$TMP/tayga.conf" --mktun >/dev/null
	ip link set nat64 up
	ip -6 addr add 2001:db8:1::5/128 dev lo nodad
	ip addr add 1.2.3.4/32 dev lo
	ip -6 route add 64:ff9b::/96 dev nat64
	ip route add 192.168.255.0/24 dev nat64
	tayga -c "$TMP/tayga.conf" --nodetach >"$TMP/tayga.log" 2>&1 &
	local tg=$!
	tshark -i nat64 -F pcap -w "$TMP/cap.pcap" >"$TMP/tshark.log" 2>&1 &
	local cap=$!
	for _ in $(seq 100); do grep -q Capturing "$TMP/tshark.log" && break; sleep 0.05; done
	python3 - <<'PY'
import socket
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("1.2.3.4", 3478))
srv.settimeout(3)
c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
c.bind(("2001:db8:1::5", 5000))
c.settimeout(3)
c.sendto(b"hello", ("64:ff9b::102:304", 3478))
_, a = srv.recvfrom(100)
srv.sendto(b"yo", a)
c.recvfrom(100)
c.sendto(b"closed", ("64:ff9b::102:304", 9))
try:
    c.recvfrom(100)
except OSError:
    pass  # the port unreachable, as ECONNREFUSED
PY
	ping -6 -c1 -W3 -q 64:ff9b::102:304 >/dev/null
	sleep 0.3
	kill "$cap" "$tg"
	wait "$cap" "$tg" || true
}
export -f run
export TMP
timeout 60 unshare -n bash -c run

# Pairs (what went into tayga, what came out), as hex, one pair a line.
python3 - "$TMP/cap.pcap" >"$TMP/pairs.txt" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off, pkts = 24, []
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    pkts.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
WKP = bytes.fromhex("0064ff9b0000000000000000")
def kind(p):
    if p[0] >> 4 == 6:
        return "in6" if p[24:36] == WKP else "out6" if p[8:20] == WKP else None
    if p[0] >> 4 == 4:
        return "in4" if p[16:19] == bytes([192, 168, 255]) else "out4" if p[12:15] == bytes([192, 168, 255]) else None
waiting = []
for p in pkts:
    k = kind(p)
    if k in ("in6", "in4"):
        waiting.append((k, p))
    elif k and waiting:
        want = "in6" if k == "out4" else "in4"
        for i, (wk, wp) in enumerate(waiting):
            if wk == want:
                print(wk, wp.hex(), p.hex())
                del waiting[i]
                break
PY

pool=$(awk '$2 == "2001:db8:1::5" {print $1}' "$TMP/dynamic.map")
FAILS=0
n=0
while read -r dir in out; do
	n=$((n + 1))
	if [ "$dir" = in6 ]; then mode=6to4; else mode=4to6; fi
	ours=$("$TOOL" "$mode" "$pool" 2001:db8:1::5 "$in" 2>&1) || true
	if [ "$ours" = "$out" ]; then
		echo "ok   $mode: $((${#out} / 2)) bytes identical"
	else
		echo "FAIL: $mode differs from tayga"
		echo "  in:     $in"
		echo "  tayga:  $out"
		echo "  natsim: $ours"
		FAILS=$((FAILS + 1))
	fi
done <"$TMP/pairs.txt"
[ "$n" -eq 6 ] || { echo "FAIL: $n translations captured, 6 expected"; FAILS=$((FAILS + 1)); }
[ "$FAILS" -eq 0 ] && echo "PASS: natsim translates as tayga does, byte for byte ($n packets)"
exit $((FAILS > 0))
