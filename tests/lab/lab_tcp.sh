#!/bin/bash
# lab_tcp.sh NATSIM - TCP through real Linux NATs (issue 16's real-network
# check): a connection out through each NAT kind (data both ways, close,
# TIME_WAIT), a port forward to an inside server, an unsolicited SYN to a
# NAT that drops it and to one that accepts it on INPUT, and simultaneous
# open between two inside hosts behind two NATs for every pair of kinds.
#
# Each case runs in a fresh lab (lib.sh: the same nftables NATs as the other
# lab scripts, with LAB_NAT_TCP=1 so that the cones' port-for-port rules hold
# for TCP too). tcp_lab.py plays every application of a case in one process,
# in a fixed order, and takes each NAT's `conntrack -L -p tcp` and the
# hosts' `ss -Htan` at the same points (after the SYN when no handshake
# came, after the handshake, after the close: TIME_WAIT). Between those
# points Linux moves faster than a shell: the NATs' `conntrack -E` events
# give every state the entry passed through, the SYN's first. tcpdump on the
# hosts gives the segments, which tcp_pcap.py normalises to
#     CASE N FLAGS SRC:PORT DST:PORT [len=L] [SYN options]
# with addresses as roles. Every line must equal tcp_expected.txt, what
# Linux did (docs/lab.md, section TCP).
#
# Then the simulator's half: the same cases as scenarios, `natsim run --pcap`
# capturing the same hosts, the same readers, the same lines; each
# difference from Linux must be one that tcp_sim_differences.txt explains,
# and each one it explains must still show (as lab_icmp.sh does).
#
# lab_tcp.sh NATSIM --sim-only runs the simulator's half alone, against
# tcp_expected.txt (no root, no namespaces): a unit test of natsim.
set -euo pipefail
NATSIM=$1
SIM_ONLY=
[ "${2:-}" != --sim-only ] || SIM_ONLY=yes
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
. "$HERE/lib6.sh"
if [ -n "$SIM_ONLY" ]; then
	command -v python3 >/dev/null || { echo "SKIP: lab_tcp needs python3"; exit "$LAB_SKIP"; }
	LAB_LOGS=$(mktemp -d /tmp/natsim-lab.XXXXXX)
	trap 'rm -rf "$LAB_LOGS"' EXIT
else
	for tool in conntrack python3 tcpdump ethtool ss; do
		command -v "$tool" >/dev/null || { echo "SKIP: lab_tcp needs $tool"; exit "$LAB_SKIP"; }
	done
	lab_init
fi
LAB_NAT_TCP=1
LINES=$LAB_LOGS/lines.txt
: >"$LINES"
ALICE=172.31.1.2
BOB_LAN=172.31.2.2
PUB1=10.99.0.11
PUB2=10.99.0.12
RDV=$COORD1
KINDS=(full-cone restricted-cone port-restricted-cone symmetric)

# Ends this case's processes and namespaces for the next case's fresh lab.
tcp_teardown() {
	lab_teardown_run
	CAPS=()
}

# Checksums computed by the sender's kernel, as on a real wire (lab_icmp.sh
# says why: a veth passes them on half made).
tcp_no_offload() {
	local ns dev
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		for dev in $(ip -n "$ns" -o link show type veth | awk -F': ' '{print $2}' | cut -d@ -f1); do
			ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
		done
	done
}

# Linux 6.1's defaults, which natsim follows, where a newer kernel's differ
# (both are per namespace): SYN retransmissions back off 1 s, 2 s, 4 s, ...
# (6.1 has no tcp_syn_linear_timeouts; 6.18's default 4 retransmits the first
# four after 1 s each), and tcp_rmem's maximum of 6 MiB, which makes a SYN's
# window scale 7 (tcp_select_initial_window; 6.18's 32 MiB gives 10).
tcp_linux_6_1() {
	local ns
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		if [ -e /proc/sys/net/ipv4/tcp_syn_linear_timeouts ]; then
			ip netns exec "$ns" sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0
		fi
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_rmem="4096 131072 6291456"
	done
}

# The NATs' `conntrack -E` (lab_side starts it) subscribes while the script
# goes on; the first SYN must find it listening.
tcp_settle() {
	tcp_no_offload
	tcp_linux_6_1
	sleep 0.3
}

# A fresh lab: alice behind a NAT of KIND (input INPUT, default the kind's),
# bob an open public host. Sets ROLES and NS_ROLES.
tcp_world() {
	tcp_teardown
	lab_make_wan
	lab_side 1 "$1" "${2:-}"
	lab_side 2 open
	tcp_settle
	ROLES=(alice=$ALICE alice-nat=$PUB1 bob=$PUB2)
	NS_ROLES=(lan1=alice h2=bob nat1=alice-nat)
}

# A fresh lab for simultaneous open: alice behind a NAT of kind A, bob
# behind one of kind B, the rendezvous server on the wan.
tcp_world_pair() {
	tcp_teardown
	lab_make_wan
	lab_side 1 "$1"
	lab_side 2 "$2"
	tcp_settle
	ROLES=(alice=$ALICE alice-nat=$PUB1 bob=$BOB_LAN bob-nat=$PUB2 rdv=$RDV)
	NS_ROLES=(lan1=alice lan2=bob nat1=alice-nat nat2=bob-nat)
}

# cap_start NS IF: captures TCP on one host until cap_stop_all.
CAPS=()
cap_start() {
	lab_spawn "$1" "cap_$1" tcpdump -i "$2" -n -U --immediate-mode -Z root -w "$LAB_LOGS/$1.pcap" tcp
	lab_wait_log "cap_$1" "listening on"
	CAPS+=("$1")
}

role_of_ns() {
	local pair
	for pair in "${NS_ROLES[@]}"; do
		[ "${pair%%=*}" != "$1" ] || { echo "${pair#*=}"; return; }
	done
	echo "$1"
}

# cap_stop_all CASE: ends the captures and adds their lines to $LINES.
cap_stop_all() {
	local case=$1 ns pid
	sleep 0.2 # the last segments cross sub-millisecond veths; this is ample
	for ns in "${CAPS[@]}"; do
		eval "pid=\$PID_cap_$ns"
		kill -INT "$pid"
		wait "$pid" || true
		python3 "$HERE/tcp_pcap.py" --skip-port 3478 "$LAB_LOGS/$ns.pcap" "$case@$(role_of_ns "$ns")" \
			"${ROLES[@]}" | tee -a "$LINES"
	done
	CAPS=()
}

# tcp_norm NAME: conntrack -L/-E or ss -Htan lines on stdin as lines of
# NAME (tcp_lines.py norm says how).
tcp_norm() {
	python3 "$HERE/tcp_lines.py" norm "$@"
}

# The programs react to a segment (an echo, a close after the peer's FIN)
# long before Linux's delayed ACK (40 ms) would go alone, on any machine
# that is not overloaded; a real-time priority keeps it so on one that is,
# so that the lab's lines do not depend on the load.
TCP_LAB_PRIORITY=
if command -v chrt >/dev/null && chrt -f 1 true 2>/dev/null; then
	TCP_LAB_PRIORITY="chrt -f 1"
fi

# tcp_run CASE NATS CMD...: runs tcp_lab.py CMD for CASE, then adds the
# captures, each NAT's conntrack events and the snapshots it took to $LINES.
tcp_run() {
	local case=$1 nats=$2 f ns point
	shift 2
	LAB_NS_PREFIX=$LAB- $TCP_LAB_PRIORITY python3 "$HERE/tcp_lab.py" "$1" "$LAB_LOGS" "$case" "$nats" "${@:2}" | tee -a "$LINES"
	cap_stop_all "$case"
	for ns in ${nats//,/ }; do
		[ "$ns" != - ] || continue
		# The rendezvous flows' events are the same as case_out's; their
		# entries still show in the snapshots.
		{ grep ' tcp ' "$LAB_LOGS/conntrack_$ns.log" | grep -v 'dport=3478 ' || true; } |
			tcp_norm "$case@$(role_of_ns "$ns")-events" "${ROLES[@]}" | tee -a "$LINES"
	done
	for point in after-syn after-rendezvous after-handshake after-punch after-close; do
		for f in "$LAB_LOGS/$case.$point".*.txt; do
			[ -e "$f" ] || continue
			ns=${f#"$LAB_LOGS/$case.$point."}
			ns=${ns%.txt}
			if [[ $ns == ss-* ]]; then
				ns=${ns#ss-}
				tcp_norm "$case@$(role_of_ns "$ns")-$point-ss" "${ROLES[@]}" <"$f"
			else
				tcp_norm "$case@$(role_of_ns "$ns")-$point" "${ROLES[@]}" <"$f"
			fi
		done
	done | tee -a "$LINES"
}

# A connection from alice (port 4000) out to bob's echo server (port 5000)
# through a NAT of KIND: 22 bytes there and back, alice closes first
# (TIME_WAIT is hers).
case_out() {
	local kind=$1
	tcp_world "$kind"
	cap_start lan1 eth0
	cap_start h2 wan0
	tcp_run "out-$kind" nat1 talk lan1 "$ALICE:4000" h2 0.0.0.0:5000 "$PUB2:5000" 22
}

# A port forward: alice's NAT (a port-restricted cone, masquerade) forwards
# TCP 8080 to alice's echo server on port 80; bob connects from port 4000,
# sends 22 bytes and closes first.
case_forward() {
	tcp_world port-restricted-cone
	in_ns nat1 nft -f - <<-NFT
	table ip lab {
		chain forward_in { type nat hook prerouting priority dstnat;
			iifname wan0 tcp dport 8080 dnat to $ALICE:80
		}
	}
	NFT
	cap_start lan1 eth0
	cap_start h2 wan0
	tcp_run forward nat1 talk h2 "$PUB2:4000" lan1 0.0.0.0:80 "$PUB1:8080" 22
}

# bob connects to alice's NAT's port 7000, where nothing listens: a home
# router (input drop) says nothing, bob's SYN goes again after 1 s, and he
# gives up at 1.5 s; a bare Linux box (input accept) answers RST.
case_syn() {
	local input
	for input in drop accept; do
		tcp_world port-restricted-cone "$input"
		cap_start h2 wan0
		tcp_run "syn-in-$input" nat1 syn h2 "$PUB2:4000" "$PUB1:7000" 1.5
	done
}

# Simultaneous open, alice behind A, bob behind B: each learns its mapping
# from port 4000 (the rendezvous server on the wan tells it), then alice
# connects to bob's mapping and, a moment later, bob to alice's.
case_simopen() {
	local a=$1 b=$2
	tcp_world_pair "$a" "$b"
	cap_start lan1 eth0
	cap_start lan2 eth0
	tcp_run "simopen-$a-$b" nat1,nat2 simopen wan "$RDV:3478" lan1 "$ALICE" lan2 "$BOB_LAN" 4000
}

# ---- TCP over IPv6 (issue 18) -------------------------------------------
# Two homes routing IPv6 with no firewall (lib6.sh's lab_home6 ... none):
# alice 2001:db8:1::2, bob 2001:db8:2::2, nothing translated, no NAT to
# track. The sockets are IPv6 ones (IPV6_V6ONLY, as natsim's).
ALICE6=2001:db8:1::2
BOB6=2001:db8:2::2
tcp_world6() {
	tcp_teardown
	lab_make_wan
	lab_make_wan6
	lab_home6 1 none
	lab_home6 2 none
	tcp_settle
	ROLES=(alice=$ALICE6 bob=$BOB6)
	NS_ROLES=(lan1=alice lan2=bob)
}

# The handshake, 22 bytes there and back, alice closes first: the SYN's
# MSS 1440 (40 bytes of IPv6 header), her TIME_WAIT.
case_out6() {
	tcp_world6
	cap_start lan1 eth0
	cap_start lan2 eth0
	tcp_run out6 - talk lan1 "[$ALICE6]:4000" lan2 "[::]:5000" "[$BOB6]:5000" 22
}

# A closed port: bob's stack answers alice's SYN with an RST
# (tcp_v6_send_reset), her connect is refused.
case_rst6() {
	tcp_world6
	cap_start lan1 eth0
	cap_start lan2 eth0
	tcp_run rst6 - syn lan1 "[$ALICE6]:4000" "[$BOB6]:7000" 1.5
}

# ---- The simulator's half: the same cases as scenarios -------------------
# Each case is a scenario of its own with the lab's roles (addresses of
# natsim's choosing) and natsim's programs (`serve ... echo`, `tcp ... send
# N bytes close`, which tcp_lab.py plays in the lab). `natsim run --pcap`
# writes the hosts' interfaces, which tcp_pcap.py reads as it reads the
# lab's captures; `--trace` gives the NATs' conntrack records and the
# sockets' states, which tcp_lines.py turns into what conntrack -E,
# conntrack -L and ss would print, at the lab's points. The lines the lab
# alone has (what each program read: "outcome data") are left out.
SIM_LINES=$LAB_LOGS/sim-lines.txt
: >"$SIM_LINES"
SIM_ALICE=192.168.1.5
SIM_BOB_LAN=192.168.2.5
SIM_PUB1=203.0.113.10
SIM_PUB2=198.51.100.10
SIM_RDV=192.0.2.10

# sim_world NAME: starts scenario NAME (SIM_FILE) with the lab's internet.
sim_world() {
	SIM_CASE=$1
	SIM_FILE=$LAB_LOGS/sim-$1.nsim
	printf 'title "lab_tcp %s"\ninternet latency 20ms\n' "$1" >"$SIM_FILE"
}

# sim_run UNTIL: runs the scenario; captures in $SIM_FILE.pcap/, the trace
# in $SIM_FILE.jsonl.
sim_run() {
	rm -rf "$SIM_FILE.pcap"
	"$NATSIM" run "$SIM_FILE" --quiet --no-color --until "$1" --trace "$SIM_FILE.jsonl" \
		--pcap "$SIM_FILE.pcap" >"$SIM_FILE.out" 2>"$SIM_FILE.err" ||
		{ echo "FAIL: natsim run $SIM_FILE:" >&2; cat "$SIM_FILE.err" >&2; exit 1; }
}

# sim_pcap HOST [FROM:TO]: what HOST's interface saw, as tcp_pcap.py says.
sim_pcap() {
	python3 "$HERE/tcp_pcap.py" --skip-port 3478 ${2:+--window "$2"} "$SIM_FILE.pcap/$1-eth0.pcap" \
		"$SIM_CASE@$1" "${SIM_ROLES[@]}" >>"$SIM_LINES"
}

# sim_trace VIEW NODE [WHEN] NAME: a view of the trace (tcp_lines.py trace)
# normalised as the lab's lines NAME.
sim_trace() {
	local view=$1 node=$2 name=${*: -1}
	# As in the lab, the rendezvous flows' events are left out.
	python3 "$HERE/tcp_lines.py" trace "$SIM_FILE.jsonl" "$view" "$node" "${@:3:$#-3}" |
		{ if [ "$view" = events ]; then grep -v 'dport=3478 ' || true; else cat; fi; } |
		python3 "$HERE/tcp_lines.py" norm "$SIM_CASE@$name" "${SIM_ROLES[@]}" >>"$SIM_LINES"
}

# sim_outcome ROLE NODE PORT WHEN: tcp_lab.py's outcome line for the
# connection NODE made from PORT.
sim_outcome() {
	echo "$SIM_CASE outcome $1 $(python3 "$HERE/tcp_lines.py" trace "$SIM_FILE.jsonl" \
		outcome "$2" "$3" "$4")" >>"$SIM_LINES"
}

sim_out() {
	local kind=$1
	sim_world "out-$kind"
	cat >>"$SIM_FILE" <<-NSIM
	nat alice-nat preset $kind public $SIM_PUB1
	host alice at $SIM_ALICE behind alice-nat
	host bob at $SIM_PUB2 public
	serve bob tcp 5000 echo
	at 1s tcp alice to $SIM_PUB2:5000 from port 4000 send 22 bytes close
	NSIM
	SIM_ROLES=(alice=$SIM_ALICE alice-nat=$SIM_PUB1 bob=$SIM_PUB2)
	sim_run 5s
	sim_outcome client alice 4000 5
	sim_pcap alice
	sim_pcap bob
	sim_trace events alice-nat alice-nat-events
	sim_trace table alice-nat established:0 alice-nat-after-handshake
	sim_trace table alice-nat 5 alice-nat-after-close
	sim_trace sockets alice 5 alice-after-close-ss
	sim_trace sockets bob 5 bob-after-close-ss
}

sim_forward() {
	sim_world forward
	cat >>"$SIM_FILE" <<-NSIM
	nat alice-nat preset port-restricted-cone public $SIM_PUB1
	host alice at $SIM_ALICE behind alice-nat
	host bob at $SIM_PUB2 public
	forward alice-nat tcp 8080 to alice:80
	serve alice tcp 80 echo
	at 1s tcp bob to $SIM_PUB1:8080 from port 4000 send 22 bytes close
	NSIM
	SIM_ROLES=(alice=$SIM_ALICE alice-nat=$SIM_PUB1 bob=$SIM_PUB2)
	sim_run 5s
	sim_outcome client bob 4000 5
	sim_pcap alice
	sim_pcap bob
	sim_trace events alice-nat alice-nat-events
	sim_trace table alice-nat established:0 alice-nat-after-handshake
	sim_trace table alice-nat 5 alice-nat-after-close
	sim_trace sockets alice 5 alice-after-close-ss
	sim_trace sockets bob 5 bob-after-close-ss
}

# bob's connect, seen until tcp_lab.py gives up (1.5 s after it began).
sim_syn() {
	local input
	for input in drop accept; do
		sim_world "syn-in-$input"
		cat >>"$SIM_FILE" <<-NSIM
		nat alice-nat preset port-restricted-cone input $input public $SIM_PUB1
		host alice at $SIM_ALICE behind alice-nat
		host bob at $SIM_PUB2 public
		at 1s tcp bob to $SIM_PUB1:7000 from port 4000
		NSIM
		SIM_ROLES=(alice=$SIM_ALICE alice-nat=$SIM_PUB1 bob=$SIM_PUB2)
		sim_run 2.5s
		sim_outcome client bob 4000 2.5
		sim_pcap bob
		sim_trace events alice-nat alice-nat-events
		sim_trace table alice-nat 2.5 alice-nat-after-syn
	done
}

# The IPv6 world of tcp_world6 as a scenario: routers with their IPv6
# firewall off, the lab's addresses.
sim_world6() {
	sim_world "$1"
	cat >>"$SIM_FILE" <<-NSIM
	router alice-home ipv6 2001:db8:1::/64 firewall6 off
	host alice at $ALICE6 behind alice-home
	router bob-home ipv6 2001:db8:2::/64 firewall6 off
	host bob at $BOB6 behind bob-home
	NSIM
	SIM_ROLES=(alice=$ALICE6 bob=$BOB6)
}

sim_out6() {
	sim_world6 out6
	cat >>"$SIM_FILE" <<-NSIM
	serve bob tcp 5000 echo
	at 1s tcp alice to [$BOB6]:5000 from port 4000 send 22 bytes close
	NSIM
	sim_run 5s
	sim_outcome client alice 4000 5
	sim_pcap alice
	sim_pcap bob
	sim_trace sockets alice 5 alice-after-close-ss
	sim_trace sockets bob 5 bob-after-close-ss
}

sim_rst6() {
	sim_world6 rst6
	echo "at 1s tcp alice to [$BOB6]:7000 from port 4000" >>"$SIM_FILE"
	sim_run 2.5s
	sim_outcome client alice 4000 2.5
	sim_pcap alice
	sim_pcap bob
}

# sim_mapping NAT: the public port NAT gave the flow to the rendezvous
# server (its conntrack entry's reply tuple), after the scenario's first
# part ran.
sim_mapping() {
	python3 "$HERE/tcp_lines.py" trace "$SIM_FILE.jsonl" table "$1" 1.9 |
		awk '/dport=3478/ { for (i = NF; i > 0; i--) if ($i ~ /^dport=/) { sub("dport=", "", $i); print $i; exit } }'
}

# Simultaneous open: the rendezvous at 0.5 s and 0.7 s, then alice's
# connect at 2 s and bob's at 2.1 s (alice's SYN has died at bob's NAT or
# reached bob by then, as in the lab, where it lands before bob's leaves).
# The lab's script gives up 2.5 s after the connects began (4.5 s here).
sim_simopen() {
	local a=$1 b=$2 amap bmap
	sim_world "simopen-$a-$b"
	cat >>"$SIM_FILE" <<-NSIM
	nat alice-nat preset $a public $SIM_PUB1
	host alice at $SIM_ALICE behind alice-nat
	nat bob-nat preset $b public $SIM_PUB2
	host bob at $SIM_BOB_LAN behind bob-nat
	host rdv at $SIM_RDV public
	serve rdv tcp 3478 discard
	at 0.5s tcp alice to $SIM_RDV:3478 from port 4000 close
	at 0.7s tcp bob to $SIM_RDV:3478 from port 4000 close
	NSIM
	SIM_ROLES=(alice=$SIM_ALICE alice-nat=$SIM_PUB1 bob=$SIM_BOB_LAN bob-nat=$SIM_PUB2 rdv=$SIM_RDV)
	sim_run 1.9s
	amap=$(sim_mapping alice-nat)
	bmap=$(sim_mapping bob-nat)
	cat >>"$SIM_FILE" <<-NSIM
	at 2s tcp alice to $SIM_PUB2:${bmap:-4000} from port 4000 send 17 bytes close
	at 2.1s tcp bob to $SIM_PUB1:${amap:-4000} from port 4000 send 15 bytes close
	NSIM
	sim_run 6s
	sim_outcome alice alice 4000 4.5
	sim_outcome bob bob 4000 4.5
	sim_pcap alice 0:4.5
	sim_pcap bob 0:4.5
	sim_trace events alice-nat alice-nat-events
	sim_trace events bob-nat bob-nat-events
	local nat host
	for nat in alice-nat bob-nat; do
		sim_trace table "$nat" 1.9 "$nat-after-rendezvous"
	done
	for host in alice bob; do
		sim_trace sockets "$host" 1.9 "$host-after-rendezvous-ss"
	done
	if grep -q "^$SIM_CASE outcome .* \(refused\|timed-out\|reset\)" "$SIM_LINES"; then
		for nat in alice-nat bob-nat; do
			sim_trace table "$nat" 4.5 "$nat-after-punch"
		done
		for host in alice bob; do
			sim_trace sockets "$host" 4.5 "$host-after-punch-ss"
		done
	else
		for nat in alice-nat bob-nat; do
			sim_trace table "$nat" established:2 "$nat-after-punch"
			sim_trace table "$nat" 6 "$nat-after-close"
		done
		for host in alice bob; do
			sim_trace sockets "$host" 6 "$host-after-close-ss"
		done
	fi
}

# natsim_knows_tcp: natsim has the scenario words this half needs (issue
# 16's stack, NATs and words); until then the half is skipped, and said so.
natsim_knows_tcp() {
	printf 'title "probe"\nhost bob at 198.51.100.10 public\nserve bob tcp 80 echo\nat 1s tcp bob to 198.51.100.10:80 send 1 bytes close\n' \
		>"$LAB_LOGS/probe.nsim"
	"$NATSIM" run "$LAB_LOGS/probe.nsim" --quiet --until 2s >/dev/null 2>&1
}

if [ -z "$SIM_ONLY" ]; then
	for kind in "${KINDS[@]}"; do
		case_out "$kind"
	done
	case_forward
	case_syn
	for a in "${KINDS[@]}"; do
		for b in "${KINDS[@]}"; do
			case_simopen "$a" "$b"
		done
	done
	case_out6
	case_rst6
	tcp_teardown
fi

SIM_HALF=yes
if natsim_knows_tcp; then
	for kind in "${KINDS[@]}"; do
		sim_out "$kind"
	done
	sim_forward
	sim_syn
	for a in "${KINDS[@]}"; do
		for b in "${KINDS[@]}"; do
			sim_simopen "$a" "$b"
		done
	done
	sim_out6
	sim_rst6
	echo "---- the simulator (natsim run --pcap --trace, same cases):"
	cat "$SIM_LINES"
else
	SIM_HALF=
	echo "natsim does not run TCP scenarios yet (serve, tcp): the simulator's half is skipped"
	[ -z "$SIM_ONLY" ] || exit "$LAB_SKIP"
fi

# What Linux did when this was written (docs/lab.md, section TCP): a change
# in the kernel or in the lab shows here first.
if [ -n "${LAB_TCP_WRITE_EXPECTED:-}" ]; then
	cp "$LINES" "$LAB_TCP_WRITE_EXPECTED"
fi
if [ -z "$SIM_ONLY" ] && ! diff -u <(grep -v '^#' "$HERE/tcp_expected.txt" | sort) <(sort "$LINES") >"$LAB_LOGS/diff.txt"; then
	echo "FAIL: Linux's TCP differs from tests/lab/tcp_expected.txt:" >&2
	cat "$LAB_LOGS/diff.txt" >&2
	exit 1
fi
[ -n "$SIM_HALF" ] || { echo "PASS (Linux half only): Linux did what tests/lab/tcp_expected.txt says"; exit 0; }
# The simulator's lines against Linux's: each difference must be one
# tcp_sim_differences.txt explains, and each one it lists must show. Lines
# of the lab alone (what the programs read) are not compared.
grep -v '^#' "$HERE/tcp_expected.txt" | { grep -v ' outcome data ' || true; } | sort >"$LAB_LOGS/expected.sorted"
sort "$SIM_LINES" >"$LAB_LOGS/sim.sorted"
{ comm -23 "$LAB_LOGS/expected.sorted" "$LAB_LOGS/sim.sorted" | sed 's/^/-/'
  comm -13 "$LAB_LOGS/expected.sorted" "$LAB_LOGS/sim.sorted" | sed 's/^/+/'; } |
	sort >"$LAB_LOGS/sim-diff.txt"
# LAB_TCP_WRITE_DIFFERENCES=FILE keeps them, to be explained there.
[ -z "${LAB_TCP_WRITE_DIFFERENCES:-}" ] || cp "$LAB_LOGS/sim-diff.txt" "$LAB_TCP_WRITE_DIFFERENCES"
{ grep -v '^#' "$HERE/tcp_sim_differences.txt" || true; } | sort >"$LAB_LOGS/known.txt"
if ! cmp -s "$LAB_LOGS/sim-diff.txt" "$LAB_LOGS/known.txt"; then
	echo "FAIL: natsim and Linux differ other than tcp_sim_differences.txt says" \
		"(> natsim differs so, not explained; < explained, no longer seen):" >&2
	diff "$LAB_LOGS/known.txt" "$LAB_LOGS/sim-diff.txt" >&2 || true
	exit 1
fi
if [ -n "$SIM_ONLY" ]; then
	echo "PASS: natsim did what tests/lab/tcp_expected.txt says Linux did, but for the" \
		"differences tcp_sim_differences.txt explains"
else
	echo "PASS: Linux did what tests/lab/tcp_expected.txt says, and natsim the same but for" \
		"the differences tcp_sim_differences.txt explains"
fi
