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
# mapping's: alive with it at 15 s, gone with it at 25 s.
classic=$src/scenarios/classic.nsim
block() { # block TEXT HEADER: the lines of one table, header to blank line
	printf '%s\n' "$1" | sed -n "/── $2 ──/,/^\$/p"
}
expect_exit 0 "classic office.timeout=20s --at 15s" -- "$natsim" run "$classic" \
	--set office.timeout=20s --until 40s --quiet --at 15s
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
	--set office.timeout=20s --until 40s --quiet --at 25s
ct=$(block "$out" "office: conntrack")
maps=$(block "$out" "office: mappings (EIM + APDF, port-restricted-cone)")
contains "$ct" "── office: conntrack ──" "25 s: office's conntrack table"
lacks "$ct" "udp " "25 s: office has no flow"
contains "$maps" "(no mappings)" "25 s: office has no mapping"

finish
