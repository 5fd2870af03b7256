#!/usr/bin/env bash
# ping and traceroute as a student sees them, end to end through the natsim
# binary (issue 15): iputils ping's lines and statistics, Linux traceroute's
# hop lines, what a NAT that drops errors does to both, and the ICMP
# language's refusals as a script sees them (exit 2, file:line:col).
# Usage: icmp.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
s=$src/scenarios

# ping: one line per reply, RTT in iputils' rounding (20 ms each way plus
# the LAN's millisecond: 41.0 ms), TTL 64 less the two routers on the way.
expect_exit 0 "icmp-ping" -- "$natsim" run "$s/icmp-ping.nsim"
contains "$out" "ping: PING bob (198.51.100.20) 56(84) bytes of data." "ping's header"
contains "$out" "ping: 64 bytes from 198.51.100.20: icmp_seq=1 ttl=62 time=41.0 ms" "first reply"
contains "$out" "ping: 64 bytes from 198.51.100.20: icmp_seq=3 ttl=62 time=41.0 ms" "third reply"
# iputils finish(): the time from the first request to the last, then the
# round-trip summary (microseconds; mdev by its integer llsqrt).
contains "$out" "3 packets transmitted, 3 received, 0% packet loss, time 2000ms" \
	"alice's statistics"
contains "$out" "ping: rtt min/avg/max/mdev = 41.000/41.000/41.000/0.000 ms" "alice's round trips"
contains "$out" "From 198.51.100.1 icmp_seq=1 Destination Net Unreachable" \
	"a private address is unreachable from the internet"
# iputils' finish() prints ", +%ld errors", plural even for one.
contains "$out" "1 packets transmitted, 0 received, +1 errors, 100% packet loss" \
	"an error counts as an error, not a reply"
# The same ping with the router answering for itself (input accept).
expect_exit 1 "icmp-ping home.input=accept" -- "$natsim" run "$s/icmp-ping.nsim" \
	--set home.input=accept
contains "$out" "ping: 64 bytes from 203.0.113.7: icmp_seq=1" "a bare Linux router answers ping"

# traceroute: a hop per router, each answering from its own address, and the
# coordinator's port unreachable ends it. Times as Linux traceroute prints
# them (print_probe: "  %.3f ms"), not in ping's rounding.
expect_exit 0 "icmp-traceroute" -- "$natsim" run "$s/icmp-traceroute.nsim"
contains "$out" "traceroute to coord (192.0.2.10), 8 hops max, 60 byte packets" "its header"
contains "$out" " 1  192.168.1.1  1.000 ms  1.000 ms  1.000 ms" "hop 1: the home router"
contains "$out" " 2  100.64.0.1  2.000 ms" "hop 2: the carrier's NAT, inside"
contains "$out" " 3  198.51.100.1  22.000 ms" "hop 3: the internet router"
contains "$out" " 4  192.0.2.10  42.000 ms" "hop 4: the coordinator"
lacks "$out" " 5  " "traceroute stops at the target"
# A home router that drops ICMP errors: hop 1 is its own answer, the rest
# are stars until max-hops.
expect_exit 1 "icmp-traceroute home.icmp-errors=off" -- "$natsim" run \
	"$s/icmp-traceroute.nsim" --set home.icmp-errors=off
contains "$out" " 1  192.168.1.1" "hop 1 still answers"
contains "$out" " 2  * * *" "hop 2 is lost at the home router"
contains "$out" " 8  * * *" "stars until max-hops"

# Deterministic: the same scenario and seed give the same trace.
"$natsim" run "$s/icmp-traceroute.nsim" --quiet --trace "$tmp/a.jsonl" >/dev/null
"$natsim" run "$s/icmp-traceroute.nsim" --quiet --trace "$tmp/b.jsonl" >/dev/null
checks=$((checks + 1))
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "two runs of icmp-traceroute differ"

# Refusals name the file, line and column.
printf 'host a at 1.1.1.1 public\nat 1s ping a to b:80\n' >"$tmp/bad.nsim"
expect_exit 2 "ping with a port" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "bad.nsim:2:17: error: ICMP has no ports" "ping refuses a port"
printf 'host a at 1.1.1.1 public\nrule a input drop icmp dport 9\n' >"$tmp/bad2.nsim"
expect_exit 2 "icmp rule with a port" -- "$natsim" run "$tmp/bad2.nsim"
contains "$err" "bad2.nsim:2:24: error: ICMP has no ports; match its 'type' and 'code' instead" \
	"rule refuses a port for icmp"
# A laptop can ping its gateway: a NAT router's inside reaches its own stack
# (a home router's LAN zone accepts input), whatever `input` says of the
# outside; UDP to a port nothing serves there gets port unreachable.
printf 'nat home preset port-restricted-cone public 203.0.113.7\nhost alice at 192.168.1.5 behind home\nat 1s ping alice to 192.168.1.1 count 1\nat 2s raw alice from 6000 to 192.168.1.1:53 "dns?"\nexpect icmp echo-reply at alice from 192.168.1.1\nexpect icmp port-unreachable at alice from 192.168.1.1\n' >"$tmp/gw.nsim"
expect_exit 0 "ping the gateway" -- "$natsim" run "$tmp/gw.nsim"
contains "$out" "64 bytes from 192.168.1.1: icmp_seq=1 ttl=64" "the gateway answers ping"
contains "$out" "into its own stack (from its inside, as a home router's LAN zone does)" \
	"why the router's stack took it"

# A failed `expect drop` names an ICMP drop by its message, not by ports.
printf 'nat home preset full-cone public 203.0.113.7\nhost alice at 192.168.1.5 behind home\nhost bob at 192.0.2.20 public\nat 1s raw icmp bob to home type port-unreachable about home:40000 to bob:9\nexpect drop at home reason nat-filter\n' >"$tmp/stray.nsim"
expect_exit 1 "a stray error" -- "$natsim" run -q "$tmp/stray.nsim"
contains "$out" "ICMP port unreachable 192.0.2.20 → 203.0.113.7 (icmp-no-flow)" \
	"expect drop's failure words an ICMP drop"
finish
