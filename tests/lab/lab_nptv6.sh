#!/bin/bash
# lab_nptv6.sh XLAT_TOOL - natsim's NPTv6 (model/nptv6.h) maps addresses as
# Linux's ip6tables SNPT target (net/netfilter/xt_NPT.c) does. In a fresh
# network namespace, three SNPT rules (a /48 with RFC 6296 3.6's prefixes,
# a /56 and a /64) rewrite the sources of UDP datagrams sent from
# addresses on lo out of a veth; tshark reads the sources that
# leave, and each must be the address `xlat_tool npt` gives. Two addresses
# show where natsim and Linux part, and the test checks that they still do:
#   - fd01:203:405:ffff::1 (/48, subnet 0xffff): RFC 6296 3.4 makes it
#     untranslatable (it would collide with subnet 0); natsim drops it,
#     Linux translates it to the very address fd01:203:405::1 gets;
#   - fd00:1:2:3:ffff:ffff:ffff:ffff (/64, no IID word but 0xffff): both
#     refuse it; Linux drops it and answers ICMPv6 parameter problem, so
#     nothing leaves.
# Usage: lab_nptv6.sh XLAT_TOOL (needs root, ip6tables with SNPT, tshark).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
lab_need_root
TOOL=$1
for tool in ip6tables tshark python3; do
	command -v "$tool" >/dev/null || { echo "SKIP: needs $tool"; exit "$LAB_SKIP"; }
done
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# inside outside length, then its addresses (one UDP source port each)
CASES=(
	"fd01:203:405:: 2001:db8:1:: 48 fd01:203:405:1::1234 fd01:203:405:2ab0::1 fd01:203:405::1 fd01:203:405:ffff::1 fd01:203:405:beef:1:2:3:4"
	"fd02:203:405:100:: 2001:db8:1:200:: 56 fd02:203:405:1ab::1234 fd02:203:405:1ab:ffff:1:0:1"
	"fd00:1:2:3:: 2001:db8:9:8:: 64 fd00:1:2:3::5 fd00:1:2:3:ffff:ffff:ffff:ffff fd00:1:2:3:abcd::42"
)

run() {
	set -e
	ip link set lo up
	# a veth whose peer nobody reads; a permanent neighbour entry lets
	# packets leave without neighbour discovery
	ip link add d0 type veth peer name d1
	ip link set d1 up
	ip link set d0 up
	ip -6 addr add 2001:db8:ee::1/64 dev d0 nodad
	ip -6 neigh add 2001:db8:ee::99 lladdr 02:00:00:00:00:99 dev d0 nud permanent
	local c port=5000 args
	for c in "${CASES[@]}"; do
		read -r -a args <<<"$c"
		ip6tables -t mangle -A POSTROUTING -o d0 -s "${args[0]}/${args[2]}" -j SNPT \
			--src-pfx "${args[0]}/${args[2]}" --dst-pfx "${args[1]}/${args[2]}"
		for a in "${args[@]:3}"; do
			ip -6 addr add "$a/128" dev lo nodad
		done
	done
	tshark -i d0 -w "$TMP/npt.pcap" -f "udp" >"$TMP/tshark.log" 2>&1 &
	local cap=$!
	for _ in $(seq 100); do grep -q Capturing "$TMP/tshark.log" && break; sleep 0.05; done
	for c in "${CASES[@]}"; do
		read -r -a args <<<"$c"
		for a in "${args[@]:3}"; do
			port=$((port + 1))
			python3 -c "import socket,sys
s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)
s.bind((sys.argv[1],int(sys.argv[2])))
s.sendto(b'npt',('2001:db8:ee::99',9))" "$a" "$port" 2>/dev/null || true
		done
	done
	sleep 1
	kill "$cap"
	wait "$cap" || true
}
export -f run
export TMP
timeout 60 unshare -n bash -c "$(declare -p CASES); run"
# what left: "port address"
tshark -r "$TMP/npt.pcap" -T fields -e udp.srcport -e ipv6.src 2>/dev/null | sort -n >"$TMP/linux.txt"

FAILS=0
port=5000
for c in "${CASES[@]}"; do
	read -r -a args <<<"$c"
	mapfile -t ours < <("$TOOL" npt "${args[0]}" "${args[1]}" "${args[2]}" "${args[@]:3}")
	i=0
	for a in "${args[@]:3}"; do
		port=$((port + 1))
		linux=$(awk -v p="$port" '$1 == p {print $2}' "$TMP/linux.txt")
		natsim=${ours[$i]}
		i=$((i + 1))
		case "$a" in
		fd01:203:405:ffff::1)
			# the known difference: Linux translates it onto subnet 0's
			# address (0xffff and 0 are one number), natsim drops it
			zero=$(awk -v p="$((port - 1))" '$1 == p {print $2}' "$TMP/linux.txt")
			if [ "$natsim" = untranslatable ] && [ -n "$linux" ] && [ "$linux" = "$zero" ]; then
				echo "ok   $a -> natsim: untranslatable; Linux: $linux, as fd01:203:405::1 (RFC 6296 3.4's collision)"
			else
				echo "FAIL: $a: natsim $natsim, Linux ${linux:-nothing} (expected untranslatable, and $zero)"
				FAILS=$((FAILS + 1))
			fi
			;;
		*)
			want=${linux:-untranslatable}
			if [ "$natsim" = "$want" ]; then
				echo "ok   $a -> $natsim"
			else
				echo "FAIL: $a: natsim $natsim, Linux ${linux:-nothing left}"
				FAILS=$((FAILS + 1))
			fi
			;;
		esac
	done
done
[ "$FAILS" -eq 0 ] && echo "PASS: natsim's NPTv6 maps addresses as Linux's SNPT"
exit $((FAILS > 0))
