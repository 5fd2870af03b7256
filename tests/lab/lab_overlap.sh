#!/bin/bash
# lab_overlap.sh NATSIM - where Linux and natsim knowingly differ: port
# overlapping (RFC 7857 section 3).
#
# Linux's NAT keeps only each flow's 5-tuple unique (nf_nat_core.c
# get_unique_tuple -> nf_nat_used_tuple): a symmetric NAT (`masquerade
# fully-random`) may give two flows from one inside endpoint the same public
# port when their remotes differ. natsim keeps every public endpoint unique
# per NAT (each new destination of a symmetric NAT really gets a port of its
# own). With a two-port range and three destinations this is certain, not a
# chance: Linux gives the third flow a port already in use (for another
# remote); natsim has no port left and drops it ("ports exhausted"). With the
# full range the same thing happens in Linux by chance (about 1 in 64 512 per
# new flow), which is how a symmetric x port-restricted pair can, rarely, end
# direct in the lab (docs/lab.md). If either side changes, this test says so.
set -euo pipefail
NATSIM=$1
. "$(dirname "$0")/lib.sh"
command -v conntrack >/dev/null || { echo "SKIP: needs conntrack"; exit "$LAB_SKIP"; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit "$LAB_SKIP"; }
lab_init

lab_make_wan
lab_side 1 symmetric
# The symmetric rule, narrowed to two public ports.
in_ns nat1 nft flush chain ip lab postrouting
in_ns nat1 nft add rule ip lab postrouting oifname wan0 meta l4proto udp masquerade to :20000-20001 fully-random

# alice sends from port 4000 to three remotes (ports of the wan's address;
# nothing listens there, which does not matter: each send makes a flow).
in_ns lan1 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("172.31.1.2", 4000))
for port in (7001, 7002, 7003):
    s.sendto(b"hello", ("10.99.0.1", port))
'
sleep 0.2
in_ns nat1 conntrack -L -p udp 2>/dev/null >"$LAB_LOGS/lab-conntrack.txt"
# The public port of each flow from 172.31.1.2:4000 is its reply tuple's dport.
lab_ports=$(awk '/src=172.31.1.2 .*sport=4000 / { for (i = NF; i > 0; i--) if ($i ~ /^dport=/) { sub("dport=", "", $i); print $i; break } }' \
	"$LAB_LOGS/lab-conntrack.txt" | sort)
lab_flows=$(echo "$lab_ports" | grep -c . || true)
lab_distinct=$(echo "$lab_ports" | sort -u | grep -c . || true)

cat >"$LAB_LOGS/overlap.nsim" <<NSIM
title "port overlapping"
internet latency 20ms
coordinator coord at 192.0.2.10
nat alice-nat preset symmetric range 20000-20001 public 203.0.113.10
host alice at 192.168.1.5 behind alice-nat
host bob at 198.51.100.10 public
at 1s raw alice from 4000 to bob:7001 "hello"
at 1.1s raw alice from 4000 to bob:7002 "hello"
at 1.2s raw alice from 4000 to bob:7003 "hello"
NSIM
"$NATSIM" run --quiet --tables --until 2s "$LAB_LOGS/overlap.nsim" >"$LAB_LOGS/sim.txt"
"$NATSIM" run -v --until 2s "$LAB_LOGS/overlap.nsim" >"$LAB_LOGS/sim-v.txt" 2>&1 || true
sim_mappings=$(grep -c '^192.168.1.5:4000 ' "$LAB_LOGS/sim.txt" || true)
sim_exhausted=no
grep -q "no external port left" "$LAB_LOGS/sim-v.txt" && sim_exhausted=yes

echo "lab: $lab_flows flows on $lab_distinct public ports ($(echo $lab_ports));" \
	"simulator: $sim_mappings mappings, third flow dropped for want of a port: $sim_exhausted"
# lab_pair.sh recognises this cause of a divergence with the same helper.
lab_ports_overlap nat1 172.31.1.2 4000 ||
	{ echo "FAIL: lab_ports_overlap does not see the overlap" >&2; cat "$LAB_LOGS/lab-conntrack.txt"; exit 1; }
[ "$lab_flows" = 3 ] && [ "$lab_distinct" -le 2 ] ||
	{ echo "FAIL: Linux no longer overlaps ports (docs/lab.md says it does)" >&2; cat "$LAB_LOGS/lab-conntrack.txt"; exit 1; }
[ "$sim_mappings" = 2 ] && [ "$sim_exhausted" = yes ] ||
	{ echo "FAIL: natsim's symmetric NAT no longer keeps public ports unique (docs/lab.md says it does)" >&2; cat "$LAB_LOGS/sim.txt"; exit 1; }
echo "PASS: the known difference holds: Linux overlaps ports, natsim keeps them unique"
