#!/bin/bash
# lab_nat64.sh XLAT_TOOL - natsim's RFC 7915 translation (model/xlat.h)
# writes the bytes tayga (a real stateless NAT64 on a TUN device) writes for
# the same packets. In a fresh network namespace, tayga translates between
# 2001:db8:1::5 and the IPv4 server 1.2.3.4 behind 64:ff9b::/96: a UDP
# exchange, a datagram to a closed port (the kernel's ICMP port unreachable
# comes back as ICMPv6), ping -6 (echo request and reply) and a TCP
# connection from the IPv6 side (handshake, bytes both ways, FINs). tshark
# captures the TUN device, where both each packet going into tayga and what
# tayga makes of it pass; every packet tayga made must equal, byte for
# byte, what `xlat_tool 6to4|4to6` makes of the packet that went in: every
# header field, the checksums (recomputed, the pseudo-headers differ), the
# quoted packet of the error and its UDP checksum. Then a parameter problem
# each way, which tayga 0.9.2 drops (param_problem_dropped says why) and
# natsim translates with RFC 7915's pointer.
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
open(__import__("os").environ["TMP"] + "/pool", "w").write(a[0])
srv.sendto(b"yo", a)
c.recvfrom(100)
c.sendto(b"closed", ("64:ff9b::102:304", 9))
try:
    c.recvfrom(100)
except OSError:
    pass  # the port unreachable, as ECONNREFUSED
PY
	ping -6 -c1 -W3 -q 64:ff9b::102:304 >/dev/null
	python3 - <<'PY'
# A TCP connection from the IPv6 side (tayga translates TCP statelessly:
# natsim's stateful NAT64 writes the same header through RFC 7915):
# the handshake, a few bytes each way, both FINs.
import socket, time
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.bind(("1.2.3.4", 8080))
srv.listen(1)
srv.settimeout(3)
c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
c.settimeout(3)
c.bind(("2001:db8:1::5", 5001))
c.connect(("64:ff9b::102:304", 8080))
conn, _ = srv.accept()
c.sendall(b"tcp hello")
conn.recv(100)
conn.sendall(b"tcp yo")
c.recv(100)
c.close()
conn.close()
time.sleep(0.3)
PY
	python3 - <<'PY'
# Parameter problems both ways (RFC 7915 4.2 and 5.2), last, so that the
# pairing below finds them whether or not tayga answers: an ICMPv4 one
# from the server (pointer 16, the destination address) about the datagram
# it got, and an ICMPv6 one from the client (pointer 7, the hop limit)
# about the reply it got.
import os, socket, struct
def csum(b):
    b += b"\0" * (len(b) % 2)
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
pool = open(os.environ["TMP"] + "/pool").read()
p4, srv4 = socket.inet_aton(pool), socket.inet_aton("1.2.3.4")
udp = struct.pack("!HHHH", 5000, 3478, 13, 0) + b"hello"
udp = udp[:6] + struct.pack("!H", csum(p4 + srv4 + struct.pack("!BBH", 0, 17, 13) + udp)) + udp[8:]
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 33, 0, 0x4000, 63, 17, 0, p4, srv4)
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
icmp = struct.pack("!BBHB3x", 12, 0, 0, 16) + ip + udp
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s4.bind(("1.2.3.4", 0))
s4.sendto(icmp, (pool, 0))
c6 = socket.inet_pton(socket.AF_INET6, "2001:db8:1::5")
srv6 = socket.inet_pton(socket.AF_INET6, "64:ff9b::102:304")
udp6 = struct.pack("!HHHH", 3478, 5000, 10, 0) + b"yo"
pseudo = srv6 + c6 + struct.pack("!IxxxB", 10, 17)
udp6 = udp6[:6] + struct.pack("!H", csum(pseudo + udp6)) + udp6[8:]
quote = struct.pack("!IHBB", 6 << 28, 10, 17, 1) + srv6 + c6 + udp6
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s6.bind(("2001:db8:1::5", 0))
s6.sendto(struct.pack("!BBHI", 4, 0, 0, 7) + quote, ("64:ff9b::102:304", 0))
PY
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
# What went into tayga and never came out: the parameter problems, if
# tayga drops them.
for k, p in waiting:
    print("dropped-" + k, p.hex(), "-")
PY

pool=$(awk '$2 == "2001:db8:1::5" {print $1}' "$TMP/dynamic.map")

# tayga 0.9.2 translates no parameter problem: its xlate_4to6_icmp_error and
# xlate_6to4_icmp_error stop at "XXX do this and remove return". natsim
# does, by RFC 7915's figures 3 and 6 (unit-tested row by row against them
# and Jool's tables, tests/test_xlat.c): here it must make of the one tayga
# dropped a parameter problem with the pointer the figure gives (IPv4's
# destination address, 16 -> 24; IPv6's hop limit, 7 -> 8).
param_problem_dropped() {
	local dir=$1 in=$2 ours
	if [ "$dir" = dropped-in4 ] && [ "${in:40:2}" = 0c ]; then
		ours=$("$TOOL" 4to6 "$pool" 2001:db8:1::5 "$in" 2>&1) || true
		[ "${ours:80:4}" = 0400 ] && [ "${ours:88:8}" = 00000018 ] &&
			{ echo "ok   4to6: tayga dropped the ICMPv4 parameter problem; natsim's pointer 16 -> 24"; return 0; }
	elif [ "$dir" = dropped-in6 ] && [ "${in:80:2}" = 04 ]; then
		ours=$("$TOOL" 6to4 "$pool" 2001:db8:1::5 "$in" 2>&1) || true
		[ "${ours:40:4}" = 0c00 ] && [ "${ours:48:8}" = 08000000 ] &&
			{ echo "ok   6to4: tayga dropped the ICMPv6 parameter problem; natsim's pointer 7 -> 8"; return 0; }
	fi
	echo "FAIL: tayga dropped $in; natsim made: ${ours:-nothing}"
	return 1
}
FAILS=0
n=0
TCP=0
DROPPED=0
while read -r dir in out; do
	case $dir in dropped-*)
		DROPPED=$((DROPPED + 1))
		param_problem_dropped "$dir" "$in" || FAILS=$((FAILS + 1))
		continue ;;
	esac
	n=$((n + 1))
	if [ "$dir" = in6 ]; then mode=6to4; else mode=4to6; fi
	if { [ "$dir" = in6 ] && [ "${in:12:2}" = 06 ]; } || { [ "$dir" = in4 ] && [ "${in:18:2}" = 06 ]; }; then
		TCP=$((TCP + 1))
	fi
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
[ "$n" -eq $((6 + TCP)) ] || { echo "FAIL: $n translations captured, 6 + $TCP TCP expected"; FAILS=$((FAILS + 1)); }
[ "$TCP" -ge 3 ] || { echo "FAIL: $TCP TCP segments compared, a handshake's 3 at least expected"; FAILS=$((FAILS + 1)); }
[ "$DROPPED" -eq 2 ] || { echo "FAIL: $DROPPED parameter problems dropped by tayga, 2 expected"; FAILS=$((FAILS + 1)); }
[ "$FAILS" -eq 0 ] && echo "PASS: natsim translates as tayga does, byte for byte ($n packets)"
exit $((FAILS > 0))
