#!/usr/bin/env bash
# The NAT as the renderers show it, end to end through the natsim binary:
# port forwards appear in the trace, the tables and the dot picture (issue 12
# item 9); the mapping table and conntrack -L never contradict each other
# (item 2); pooling and the router's INPUT setting (items 13 and 6).
# Usage: nat_model.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
pf=$src/scenarios/port-forward.nsim

# A forward is a static mapping from the first instant: in the JSON lines...
expect_exit 0 "port-forward --trace" -- "$natsim" run "$pf" --quiet --trace "$tmp/pf.jsonl"
static=$(grep '"kind":"mapping"' "$tmp/pf.jsonl" | grep '"static":true' || true)
contains "$static" '"t_ns":0,' "the forward's record is at world start"
contains "$static" '"node":"office"' "the forward's record names office"
contains "$static" '"internal":"10.0.0.7:5000","external":"198.51.100.9:5000"' \
	"the forward's record has both endpoints"
# ... in the mapping table, at any instant ...
expect_exit 0 "port-forward --at 0s" -- "$natsim" run "$pf" --quiet --at 0s
fwd_row=$(printf '%s\n' "$out" | grep -A3 '── office: mappings' | grep '198.51.100.9:5000' || true)
contains "$fwd_row" "10.0.0.7:5000" "--tables: office's forward row"
contains "$fwd_row" "static" "--tables: the forward is static"
# ... and in the dot picture.
expect_exit 0 "port-forward dot" -- "$natsim" dot "$pf" -o "$tmp/pf.dot"
node=$(grep -A1 '^	office	' "$tmp/pf.dot" | tr -d '\n')
contains "$node" "<TD>10.0.0.7:5000</TD><TD>198.51.100.9:5000</TD>" "dot: office's forward"

# The mapping view and the conntrack view agree at every instant. With a
# 20 s NAT timeout, office's flows (one replied and assured) are its
# mapping's: alive with it at 15 s, gone with it at 25 s. Keepalives are off
# for Alice and Bob: otherwise their consent checks (RFC 7675, every ~5 s)
# would keep the path's mappings alive, as they are meant to.
classic=$src/scenarios/classic.nsim
block() { # block TEXT HEADER: the lines of one table, header to blank line
	printf '%s\n' "$1" | sed -n "/── $2 ──/,/^\$/p"
}
expect_exit 0 "classic office.timeout=20s --at 15s" -- "$natsim" run "$classic" \
	--set office.timeout=20s --set alice.keepalive=off --set bob.keepalive=off --until 40s --quiet --at 15s
ct=$(block "$out" "office: conntrack")
maps=$(block "$out" "office: mappings (EIM + APDF, port-restricted-cone)")
# (lines counted, not the footer: conntrack prints that to stderr)
contains "$(printf '%s\n' "$ct" | grep -c '^udp ')" "3" "15 s: office's three flows"
contains "$ct" "[ASSURED]" "15 s: the replied flow is assured"
lacks "$ct" "udp      17 1" "15 s: no flow has a stream timeout beyond its mapping's"
contains "$maps" "10.0.0.7:5000  198.51.100.9:5000" "15 s: office's mapping"
contains "$maps" "active  7s" "15 s: the mapping has 7 s left"
for left in $(printf '%s\n' "$ct" | awk '/^udp/ {print $3}'); do
	checks=$((checks + 1))
	[ "$left" -le 7 ] || fail "15 s: a flow outlives its mapping ($left s > 7 s)"
done
expect_exit 0 "classic office.timeout=20s --at 25s" -- "$natsim" run "$classic" \
	--set office.timeout=20s --set alice.keepalive=off --set bob.keepalive=off --until 40s --quiet --at 25s
ct=$(block "$out" "office: conntrack")
maps=$(block "$out" "office: mappings (EIM + APDF, port-restricted-cone)")
contains "$ct" "── office: conntrack ──" "25 s: office's conntrack table"
lacks "$ct" "udp " "25 s: office has no flow"
contains "$maps" "(no mappings)" "25 s: office has no mapping"

# input drop|accept (item 6): classic with both NATs accepting unsolicited
# packets into their own stack. Alice's early probe becomes office's own
# flow, and Bob's packet to her then clashes with it and takes another port:
# relayed, where the home routers of the bundled scenario connect directly.
sed -e 's/^nat home   preset port-restricted-cone public 203.0.113.7/& input accept/' \
	-e 's/^nat office preset port-restricted-cone public 198.51.100.9/& input accept/' \
	"$classic" >"$tmp/bare.nsim"
expect_exit 1 "classic with input accept" -- "$natsim" run "$tmp/bare.nsim" --quiet --at 3s
contains "$out" "alice ↔ bob: relayed" "input accept: relayed"
maps=$(block "$out" "office: mappings (EIM + APDF, port-restricted-cone)")
contains "$maps" "10.0.0.7:5000  198.51.100.9:5000" "input accept: bob's first mapping"
contains "$maps" "10.0.0.7:5000  198.51.100.9:1024  accepts 203.0.113.7:5000" \
	"input accept: the clash gives bob another port for alice"
ct=$(block "$out" "office: conntrack")
contains "$ct" "src=203.0.113.7 dst=198.51.100.9 sport=5000 dport=5000 [UNREPLIED] src=198.51.100.9 dst=203.0.113.7 sport=5000 dport=5000" \
	"input accept: office's own flow for alice's probe"
expect_exit 1 "classic with input accept -v" -- "$natsim" run "$tmp/bare.nsim" -v --until 3s
contains "$out" "into its own stack (input accept, as a bare Linux box does) and conntrack now tracks it, but nothing listens on port 5000" \
	"input accept: the drop is a verdict"
sed 's/ input accept/ input drop/' "$tmp/bare.nsim" >"$tmp/home.nsim"
expect_exit 0 "classic with input drop" -- "$natsim" run "$tmp/home.nsim" --quiet
contains "$out" "alice ↔ bob: direct" "input drop: direct"
printf 'nat n preset full-cone input maybe public 203.0.113.1\n' >"$tmp/bad.nsim"
expect_exit 2 "input maybe" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "'drop' or 'accept'" "input maybe: the error names the values"

# pooling paired|arbitrary (item 13): two public addresses on a symmetric
# NAT. Paired keeps all of alice's mappings on one address; arbitrary spreads
# them (seed 3), and the same seed gives the same choices.
sym=$src/scenarios/symmetric-pair.nsim
for pool in paired arbitrary; do
	sed "s/^nat home   preset symmetric public 203.0.113.7/nat home preset symmetric public 203.0.113.7, 203.0.113.8 pooling $pool/" \
		"$sym" >"$tmp/pool-$pool.nsim"
	expect_exit 0 "pooling $pool" -- "$natsim" run "$tmp/pool-$pool.nsim" -s 3 --quiet --tables
	maps=$(block "$out" "home: mappings (APDM + APDF, symmetric)")
	# the external column's addresses, each once
	addrs=$(printf '%s\n' "$maps" | awk '{print $2}' | grep -o '^203\.0\.113\.[78]:' | sort -u | tr -d '\n')
	if [ "$pool" = paired ]; then
		contains "$maps" "192.168.1.5:5000" "pooling paired: alice's mappings"
		lacks "$addrs" "203.0.113.7:203.0.113.8:" "pooling paired: one address for alice"
	else
		contains "$addrs" "203.0.113.7:203.0.113.8:" "pooling arbitrary: both addresses"
	fi
done
expect_exit 0 "pooling arbitrary again" -- "$natsim" run "$tmp/pool-arbitrary.nsim" -s 3 --quiet --tables
again=$out
expect_exit 0 "pooling arbitrary once more" -- "$natsim" run "$tmp/pool-arbitrary.nsim" -s 3 --quiet --tables
checks=$((checks + 1))
[ "$again" = "$out" ] || fail "pooling arbitrary: the same seed chose differently"
printf 'nat n preset full-cone pooling sometimes public 203.0.113.1\n' >"$tmp/bad.nsim"
expect_exit 2 "pooling sometimes" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "'paired' or 'arbitrary'" "pooling sometimes: the error names the values"

finish
