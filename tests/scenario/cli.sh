#!/usr/bin/env bash
# The natsim command as a user and a script see it: output, exit codes,
# error messages, determinism. Usage: cli.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# The default job: no arguments tells the classic story and all holds.
expect_exit 0 "natsim with no arguments" -- "$natsim"
contains "$out" "Two laptops behind home NATs" "default run title"
contains "$out" "dropped" "default run shows a drop"
contains "$out" "All 3 expectations held." "default run verdicts"

expect_exit 0 "--help" -- "$natsim" --help
contains "$out" "Usage: natsim" "--help usage"
contains "$out" "matrix" "--help lists commands"
expect_exit 0 "run --help" -- "$natsim" run --help
contains "$out" "--until TIME" "run --help options"
expect_exit 0 "matrix --help" -- "$natsim" matrix --help
expect_exit 0 "list --help" -- "$natsim" list --help
expect_exit 0 "--version" -- "$natsim" --version
contains "$out" "natsim " "--version text"

# Usage errors: exit 2 and name the flag or argument.
expect_exit 2 "unknown command" -- "$natsim" frobnicate
contains "$err" "unknown command 'frobnicate'" "unknown command message"
expect_exit 2 "unknown flag" -- "$natsim" run --frobnicate
contains "$err" "unknown option '--frobnicate'" "unknown flag message"
expect_exit 2 "bad --seed" -- "$natsim" run --seed banana
contains "$err" "--seed: expected a seed (a whole number), found 'banana'" "bad seed message"
expect_exit 2 "bad --until" -- "$natsim" run --until 5
contains "$err" "--until: expected a duration with a unit (ms, s, min), found '5'" "bad until message"
expect_exit 2 "missing value" -- "$natsim" run --seed
contains "$err" "needs a value" "missing value message"
expect_exit 2 "bad --format" -- "$natsim" matrix --format xml
contains "$err" "--format expects text, csv or json" "bad format message"
expect_exit 2 "two scenarios" -- "$natsim" run classic cgnat
contains "$err" "one scenario at a time: unexpected 'cgnat'" "second positional argument"
expect_exit 2 "missing file" -- "$natsim" run "$tmp/nope.nsim"
contains "$err" "cannot read" "missing file message"
expect_exit 2 "bad --set" -- "$natsim" run --set home.preset=banana
contains "$err" "home.preset=banana" "bad --set names the flag"

# A scenario with mistakes: every error, file:line:col, caret, suggestion.
cat >"$tmp/bad.nsim" <<'NSIM'
title "broken"
cordinator coord at 192.0.2.10
host alice at 192.168.1.5 behind hom
at 1s conect alice to bob
NSIM
expect_exit 2 "bad scenario" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "bad.nsim:2:1: error:" "error location"
contains "$err" "did you mean 'coordinator'?" "keyword suggestion"
contains "$err" "^~~~" "caret under the fault"
contains "$err" "bad.nsim:4:" "second error reported in the same pass"
contains "$err" "bad.nsim:3:" "third error reported in the same pass"

# An empty scenario runs (exit 0) but says that nothing happens in it.
printf 'title "empty"\n' >"$tmp/empty.nsim"
expect_exit 0 "empty scenario" -- "$natsim" run "$tmp/empty.nsim"
contains "$err" "nothing happens in it" "empty scenario warning"

# IPv6 text: an IPv6 address where only IPv4 means something (a NAT's
# public side) is named as IPv6; text that is no address of either family
# is told why, with the column of the fault (issue 18).
cat >"$tmp/v6.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home preset symmetric public 2001:db8::1
host bob at 2001:db8::1::2 public
host carol at fe80::1%eth0 public
host dave at ::: public
NSIM
expect_exit 2 "IPv6 addresses refused" -- "$natsim" run "$tmp/v6.nsim"
contains "$err" "v6.nsim:2:34: error: '2001:db8::1' is an IPv6 address, and only an IPv4 address like 192.0.2.1 has a meaning here" "IPv6 where IPv4 only"
contains "$err" "v6.nsim:3:24: error: '2001:db8::1::2' is not an IPv6 address: '::' appears more than once" "two double colons"
contains "$err" "v6.nsim:4:22: error: 'fe80::1%eth0' is not an IPv6 address: zone ids" "zone id"
contains "$err" "v6.nsim:5:" "triple colon"

# A scenario that loads with a warning runs, and the warning is shown with
# its place (docs/scenario.md "Checks and error messages").
cat >"$tmp/warns.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home preset full-cone public 203.0.113.7
host alice at 192.168.1.5 behind home probes 16
at 0s register alice
NSIM
expect_exit 0 "a warning does not stop the run" -- "$natsim" run "$tmp/warns.nsim"
contains "$err" "warns.nsim:3:6: warning: host 'alice' sets budgets" "load warning shown"
"$natsim" why "$tmp/warns.nsim" --packet 1 >/dev/null 2>"$tmp/why.err" || true
contains "$(cat "$tmp/why.err")" "warns.nsim:3:6: warning: host 'alice' sets budgets" "why shows it too"

# A failing expectation exits 1 and says why.
cat >"$tmp/fails.nsim" <<'NSIM'
coordinator coord at 192.0.2.10 alternate 192.0.2.11
nat home   preset symmetric public 203.0.113.7
nat office preset symmetric public 198.51.100.9
host alice at 192.168.1.5 behind home
host bob   at 10.0.0.7 behind office
at 0s register alice
at 0s register bob
at 1s connect alice to bob
expect alice and bob direct by 4s
NSIM
expect_exit 1 "failing expectation" -- "$natsim" run --quiet "$tmp/fails.nsim"
contains "$out" "fails.nsim:9" "failure names the line"
contains "$out" "The 1 expectation failed." "failure summary"
# ... and --set can change the world so that it holds.
expect_exit 0 "--set fixes it" -- "$natsim" run -q --set home.preset=full-cone "$tmp/fails.nsim"

# Bundled scenarios by name, and natsim list.
expect_exit 0 "run by name" -- "$natsim" run -q cgnat
expect_exit 0 "list" -- "$natsim" list
contains "$out" "classic" "list shows classic"
contains "$out" "Double NAT" "list shows titles"

# Determinism: same scenario and seed, byte-identical trace; another seed differs.
expect_exit 0 "trace 1" -- "$natsim" run -q --seed 7 --trace "$tmp/a.jsonl" classic
expect_exit 0 "trace 2" -- "$natsim" run -q --seed 7 --trace "$tmp/b.jsonl" classic
expect_exit 0 "trace 3" -- "$natsim" run -q --seed 8 --trace "$tmp/c.jsonl" classic
checks=$((checks + 3))
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "same seed gave different traces"
cmp -s "$tmp/a.jsonl" "$tmp/c.jsonl" && fail "different seeds gave identical traces"
[ "$(wc -l <"$tmp/a.jsonl")" -gt 100 ] || fail "trace too short"
expect_exit 2 "unwritable --trace" -- "$natsim" run -q --trace /nonexistent/dir/t.jsonl
contains "$err" "cannot write --trace /nonexistent/dir/t.jsonl" "unwritable trace message"

# --until stops early: the 5 s data expectation cannot hold at 2 s.
expect_exit 1 "--until" -- "$natsim" run -q --until 2s
contains "$out" "bob received nothing" "--until: the data never arrived"


# Outcomes say what happened (issue 12 items 1 and 3). A coordinator without
# a relay: punching fails, the relay is refused, the pair has failed and
# `relayed by 7s` does not hold.
sed 's/^coordinator .*/& relay off/' "$src/scenarios/symmetric-pair.nsim" >"$tmp/relay-off.nsim"
expect_exit 1 "relay off" -- "$natsim" run -q "$tmp/relay-off.nsim"
contains "$out" "alice ↔ bob: failed at the end" "relay off: the outcome is failed"
contains "$out" "coordinator refuses to relay (403 Relay off)" "relay off: why"
contains "$out" "alice and bob relayed by 7.000 s" "relay off: the expectation is listed"
contains "$out" "but alice's path to bob is failed" "relay off: the expectation fails"
lacks "$out" "relayed at" "relay off: never relayed"
# keepalive: the end state and the history, and `end` expectations.
expect_exit 0 "keepalive outcome" -- "$natsim" run -q keepalive
contains "$out" "alice ↔ bob: relayed at the end" "keepalive: how alice and bob end"
contains "$out" "direct at 1.145 s (0.145 s after asking), lost at 31.145 s, relayed at" \
	"keepalive: the history"
contains "$out" "carol ↔ dave: direct at the end" "keepalive: carol and dave stay direct"
contains "$out" "✓ keepalive.nsim:40  bob and alice end unconnected" "keepalive: end expectation"

# The matrix, computed by running: the three relayed pairs and no others.
expect_exit 0 "matrix csv" -- "$natsim" matrix --format csv
checks=$((checks + 3))
[ "$(printf '%s\n' "$out" | head -1)" = "a,b,outcome,connect_ms" ] || fail "csv header"
[ "$(printf '%s\n' "$out" | tail -n +2 | wc -l)" = 36 ] || fail "csv has 36 pairs"
relayed=$(printf '%s\n' "$out" | awk -F, '$3 == "relayed" { print $1 "," $2 }' | sort | tr '\n' ' ')
want="firewall,symmetric port-restricted-cone,symmetric symmetric,firewall symmetric,port-restricted-cone symmetric,symmetric "
[ "$relayed" = "$want" ] || fail "relayed pairs: got '$relayed'"
expect_exit 0 "matrix json" -- "$natsim" matrix --format json
contains "$out" '"outcome": "direct"' "json outcome"
expect_exit 0 "matrix text" -- "$natsim" matrix
contains "$out" "symmetric" "text grid"

# ---- Issue 12 items 15-19: inputs that used to break natsim ----
# keygen --force replaces a regular file only (item 16): it once renamed its
# file over /dev/full. A fifo and a device node made here stand in for /dev.
mkfifo "$tmp/fifo"
expect_exit 2 "keygen --force over a fifo" -- "$natsim" keygen -o "$tmp/fifo" --force
contains "$err" "$tmp/fifo is a fifo, not a regular file" "keygen names what is there"
checks=$((checks + 1))
[ -p "$tmp/fifo" ] || fail "keygen --force replaced the fifo"
if mknod "$tmp/null" c 1 3 2>/dev/null; then
	expect_exit 2 "keygen --force over a device" -- "$natsim" keygen -o "$tmp/null" --force
	contains "$err" "is a character device, not a regular file" "keygen refuses a device"
	checks=$((checks + 1))
	[ -c "$tmp/null" ] || fail "keygen --force replaced the device node"
fi
checks=$((checks + 1))
[ -z "$(ls "$tmp" | grep "\.tmp")" ] || fail "keygen left a temporary file: $(ls "$tmp")"
printf 'old\n' >"$tmp/old.key"
expect_exit 0 "keygen --force over a key file" -- "$natsim" keygen -o "$tmp/old.key" --force
contains "$(cat "$tmp/old.key")" "seed " "keygen replaced the regular file"

# One duration and number reader for every flag (item 17): NaN, bare numbers,
# hex floats and overflow are refused with the flag named, exit status 2.
expect_exit 2 "peer --timeout nan" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --timeout nan
contains "$err" "natsim peer: --timeout: expected a duration like 25s or '0', found 'nan'" "peer nan"
expect_exit 2 "coord --peer-timeout nan" -- "$natsim" coord --listen 127.0.0.1:3478 --peer-timeout nan
contains "$err" "natsim coord: --peer-timeout: expected a duration like 20ms, 1.5s or 2min, found 'nan'" "coord nan"
expect_exit 2 "peer --timeout 5" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --timeout 5
contains "$err" "--timeout: expected a duration with a unit (ms, s, min), found '5'" "bare number"
expect_exit 2 "peer --keepalive 0x1p3" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --keepalive 0x1p3
contains "$err" "--keepalive: expected a duration like 20ms, 1.5s or 2min, found '0x1p3'" "hex float"
expect_exit 2 "peer --keepalive 1ns" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --keepalive 1ns
contains "$err" "'1ns' is out of range: a keepalive interval is from 100ms to 1h, or '0' for no keepalives" "peer keepalive range"
expect_exit 2 "peer --linger 2m" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --linger 2m
contains "$err" "unknown unit 'm' in '2m'; the units are ns, us, ms, s, min and h (minutes are 'min')" "2m"
expect_exit 2 "peer --port 65536" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --port 65536
contains "$err" "--port: a port '65536' is out of range (0-65535)" "peer port range"
expect_exit 2 "coord --max-peers huge" -- "$natsim" coord --listen 127.0.0.1:3478 --max-peers 99999999999999999999
contains "$err" "--max-peers: a number of peers '99999999999999999999' is out of range (1-16777216)" "max-peers not clamped"
expect_exit 2 "run --seed 0x10" -- "$natsim" run --seed 0x10
contains "$err" "--seed: expected a seed (a whole number), found '0x10'" "seed is decimal"
expect_exit 2 "run --until 25h" -- "$natsim" run --until 25h
contains "$err" "--until: '25h' is out of range: a time is from 0s to 24h" "until range"
expect_exit 2 "run --until 0.5ns" -- "$natsim" run --until 0.5ns
contains "$err" "--until: duration '0.5ns' is not a whole number of nanoseconds" "until too fine"
expect_exit 2 "run --at inf" -- "$natsim" run --tables --at inf
contains "$err" "natsim run: --at: expected a duration like 20ms, 1.5s or 2min, found 'inf'" "at inf"
expect_exit 2 "run --width 1e3" -- "$natsim" run --ladder --width 1e3
contains "$err" "--width: expected a width in columns (a whole number), found '1e3'" "width"
expect_exit 2 "why --packet -1" -- "$natsim" why --packet -1
contains "$err" "--packet: expected a packet id like 42 or #42 (a whole number), found '-1'" "why packet"
expect_exit 2 "flow --to nan" -- "$natsim" flow -o "$tmp/f.svg" --to nan
contains "$err" "natsim flow: --to: expected a duration" "flow to"
expect_exit 2 "tui --until -1s" -- "$natsim" tui --until -1s
contains "$err" "natsim tui: --until: expected a duration" "tui until"
expect_exit 2 "matrix --seed 1.5" -- "$natsim" matrix --seed 1.5
contains "$err" "natsim matrix: --seed: expected a seed" "matrix seed"

# Durations in the language have ranges (item 15): keepalive 1ns used to run
# forever and eat memory; 100ms, the shortest allowed, ends promptly.
expect_exit 2 "--set keepalive=1ns" -- "$natsim" run -q keepalive --set alice.keepalive=1ns
contains "$err" "--set 'alice.keepalive=1ns': '1ns' is out of range: a keepalive interval is from 100ms to 1h" "set keepalive range"
printf 'host a at 192.0.2.5 public keepalive 1us\n' >"$tmp/ka.nsim"
expect_exit 2 "keepalive 1us in a file" -- "$natsim" run "$tmp/ka.nsim"
contains "$err" "ka.nsim:1:38: error: '1us' is out of range: a keepalive interval is from 100ms to 1h" "file keepalive range"
expect_exit 1 "keepalive 100ms ends" -- timeout 120 "$natsim" run -q keepalive --set alice.keepalive=100ms --set bob.keepalive=100ms

# Protocol limits and questionable input (items 18, 19), through the binary.
printf 'host %s at 192.0.2.5 public\n' "$(printf 'h%.0s' $(seq 64))" >"$tmp/long.nsim"
expect_exit 2 "64-byte host name" -- "$natsim" run "$tmp/long.nsim"
contains "$err" "is 64 bytes long; a name is at most 63 bytes" "name limit named"
printf 'host a at 192.168.001.005 public\n' >"$tmp/octal.nsim"
expect_exit 2 "leading zero" -- "$natsim" run "$tmp/octal.nsim"
contains "$err" "octal.nsim:1:11: error: '192.168.001.005' has a part with a leading zero" "leading zero"
printf 'host a at 255.255.255.255 public\n' >"$tmp/bcast.nsim"
expect_exit 2 "broadcast host" -- "$natsim" run "$tmp/bcast.nsim"
contains "$err" "bcast.nsim:1:11: error: 255.255.255.255 cannot be a node's address" "broadcast"
printf 'coordinator c at 192.0.2.1 port 0\n' >"$tmp/port0.nsim"
expect_exit 2 "coordinator port 0" -- "$natsim" run "$tmp/port0.nsim"
contains "$err" "port0.nsim:1:33: error: port 0 cannot be a coordinator's port" "port 0"
printf 'title "caf\xe9 \xc2\x9b31m"\n' >"$tmp/utf8.nsim"
expect_exit 2 "invalid UTF-8" -- "$natsim" run "$tmp/utf8.nsim"
contains "$err" "utf8.nsim:1:11: error: invalid UTF-8 (byte 0xe9)" "invalid UTF-8 refused"
checks=$((checks + 1))
LC_ALL=C grep -q $'\xe9\|\xc2\x9b' "$tmp/err" && fail "raw bytes reached the terminal"

# ... and the documented values still pass (the error is the last flag's).
expect_exit 2 "peer flags in range" -- "$natsim" peer --name a --coord 127.0.0.1:3478 --timeout 0 --keepalive off --linger 0 --keepalive 100ms --timeout 1.5min --port 99999
contains "$err" "natsim peer: --port: a port '99999' is out of range" "peer in-range values accepted"
expect_exit 2 "coord flags in range" -- "$natsim" coord --listen 127.0.0.1:3478 --max-peers 16777216 --peer-timeout 24h --bogus
contains "$err" "unknown option '--bogus'" "coord in-range values accepted"

# The Outcome gives the same instant as the timeline (both cut to the ms).
expect_exit 0 "classic: the outcome's time is the timeline's" -- "$natsim" run --no-color --width 200 classic
when=$(printf '%s\n' "$out" | awk '/alice     direct to bob via/ {print $1; exit}')
contains "$out" "direct at ${when%s} s (" "classic: the Outcome says direct at the timeline's $when"

finish
