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
contains "$err" "--seed expects a whole number" "bad seed message"
expect_exit 2 "bad --until" -- "$natsim" run --until 5
contains "$err" "--until expects a duration with a unit" "bad until message"
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
contains "$out" "1 of 1 expectations failed." "failure summary"
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

finish
