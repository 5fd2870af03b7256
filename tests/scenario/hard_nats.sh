#!/usr/bin/env bash
# Issue 17's language as a student and a script see it, through the natsim
# binary: background traffic is two timeline lines (not one per packet) and
# moves a sequential NAT's counter by rate x time; the hard-NAT host options
# work from --set; their mistakes are refused with file:line:col (exit 2).
# Usage: hard_nats.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
s=$src/scenarios

# Background traffic without -v: the start and the end, no line per flow.
expect_exit 0 "prediction-background" -- "$natsim" run --no-color "$s/prediction-background.nsim"
contains "$out" "scenario  carol starts background traffic: 20 new flows a second to 198.51.100.53:53 for 3 s" \
	"the start"
contains "$out" "carol     background: ends after 60 new flows to 198.51.100.53:53, the first from port" \
	"the end"
checks=$((checks + 1))
n=$(printf '%s\n' "$out" | grep -cE '^ +[0-9.]+s  .*(background traffic|background:)')
[ "$n" = 2 ] || fail "background traffic is two timeline lines, got $n"

# The NAT's counter: 10 flows a second for 5 s from 1024 on, the last at 1073.
cat >"$tmp/counter.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home preset symmetric ports sequential public 203.0.113.7
host carol at 192.168.1.6 behind home
host dns at 198.51.100.53 public
at 1s background carol to dns:53 rate 10/s for 5s
expect mapping at home for carol external-port 1073 by 6s
expect no mapping at home for carol external-port 1074 by 6s
NSIM
expect_exit 0 "the counter moved by rate x time" -- "$natsim" run --quiet "$tmp/counter.nsim"
# -v shows every datagram: 50 sends from carol, and nothing dropped.
expect_exit 0 "the counter, -v" -- "$natsim" run -v --no-color "$tmp/counter.nsim"
checks=$((checks + 1))
n=$(printf '%s\n' "$out" | grep -cE '^ +[0-9.]+s  carol +#[0-9]+ sent UDP .* → 198\.51\.100\.53:53')
[ "$n" = 50 ] || fail "-v shows each of the 50 datagrams, got $n"
lacks "$out" "✗" "the far end takes them in: no drop"
expect_exit 1 "a random NAT has no counter" -- "$natsim" run --quiet "$tmp/counter.nsim" \
	--set home.ports=random

# The host options from the command line reach the agent.
expect_exit 1 "prediction off" -- "$natsim" run --quiet --no-color "$s/prediction.nsim" \
	--set alice.techniques=none --set bob.techniques=none
contains "$out" "✗ prediction.nsim:30  bob and alice direct by 3.000 s" "relayed without it"
expect_exit 2 "a protocol is not a technique" -- "$natsim" run "$s/prediction.nsim" \
	--set bob.techniques=pcp
contains "$err" "--set 'bob.techniques=pcp': 'pcp' is a protocol, not a technique" "the refusal"

# A mistake in the file: where, and what was expected.
printf 'coordinator coord at 192.0.2.10\nhost a at 198.51.100.6 public probe-rate 5\n' \
	>"$tmp/bad.nsim"
expect_exit 2 "a rate without /s" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "bad.nsim:2:42: error: expected a probe rate like 100/s (a whole number, then /s), found '5'" \
	"file:line:col and what was expected"
printf 'coordinator coord at 192.0.2.10\nhost a at 198.51.100.6 public\nat 1s background a to 203.0.113.99:53 rate 5/s\n' \
	>"$tmp/nowhere.nsim"
expect_exit 2 "background to nobody" -- "$natsim" run "$tmp/nowhere.nsim"
contains "$err" "no public host or coordinator has the address 203.0.113.99" "the refusal"

# A coordinator with one address: nothing to measure the NAT against. The
# agent says so, registers without a mapping, and the connection goes on.
cat >"$tmp/onecoord.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home preset symmetric ports sequential public 203.0.113.7
host alice at 192.168.1.5 behind home techniques prediction
host bob at 198.51.100.20 public techniques prediction
at 0s register alice
at 0s register bob
at 1s connect alice to bob
expect alice and bob direct by 3s
NSIM
expect_exit 0 "prediction without a second coordinator address" -- "$natsim" run "$tmp/onecoord.nsim"
contains "$out" "cannot tell how our NAT assigns ports (the coordinator has no second address to compare with)" \
	"the measurement says why it cannot"
lacks "$out" "port prediction:" "nothing predicted"

finish
