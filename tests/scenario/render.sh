#!/usr/bin/env bash
# The rendering flags and commands end to end, as a user and a script see
# them: natsim run --tables/--at/--ladder/--pcap, natsim dot, flow and why;
# exit codes, files created, and errors that name the flag.
# Usage: render.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
classic=$src/scenarios/classic.nsim
keepalive=$src/scenarios/keepalive.nsim

file_ok() { # file_ok PATH DESCRIPTION
	checks=$((checks + 1))
	[ -s "$1" ] || fail "$2: $1 missing or empty"
}

# --tables: conntrack -L blocks and mapping tables after the run.
expect_exit 0 "--tables" -- "$natsim" run "$classic" --tables --quiet
contains "$out" "── office: conntrack ──" "--tables conntrack header"
contains "$out" "udp      17 " "--tables conntrack line"
contains "$out" "flow entries have been shown." "--tables conntrack footer"
contains "$out" "── home: mappings (EIM + APDF, port-restricted-cone) ──" "--tables mappings"
contains "$out" "All 3 expectations held." "--tables still checks expectations"

# --at: an entry before its expiry, and not after (keepalive: office forgets
# bob's idle flow to the coordinator 30 s after the last packet).
flow="src=10.0.0.7 dst=192.0.2.10 sport=5000 dport=3478"
expect_exit 0 "--at 10s" -- "$natsim" run "$keepalive" --at 10s --quiet
contains "$out" "Tables at 10.000s" "--at header"
contains "$out" "$flow" "--at 10s shows office's flow"
expect_exit 0 "--at 45s" -- "$natsim" run "$keepalive" --at 45s --quiet
lacks "$out" "$flow" "--at 45s: the flow has expired"
expect_exit 2 "bad --at" -- "$natsim" run "$classic" --at soon
contains "$err" "--at: expected a duration like 20ms, 1.5s or 2min, found 'soon'" "bad --at message"

# --ladder and its filters.
expect_exit 0 "--ladder" -- "$natsim" run "$classic" --ladder --width 120
contains "$out" "#12" "--ladder packet ids"
contains "$out" "home rewrites source 192.168.1.5:5000 → 203.0.113.7:5000" "--ladder rewrite"
contains "$out" "✗" "--ladder drop"
expect_exit 0 "--ladder --ascii" -- "$natsim" run "$classic" --ladder --ascii --to 1.2s
lacks "$out" "│" "--ascii has no box drawing"
contains "$out" "-->" "--ascii arrows"
expect_exit 0 "--ladder-pair" -- "$natsim" run "$classic" --ladder-pair alice,bob --from 1s --to 2s
lacks "$out" "carol" "--ladder-pair leaves carol out"
contains "$out" "office dropped" "--ladder-pair shows the drop at office"
expect_exit 0 "--ladder-node" -- "$natsim" run "$classic" --ladder-node office --to 1.2s
# the lane names: the lines between the run's header and the first row
lanes=$(printf '%s\n' "$out" | awk '/^  \(/ {h = 1; next} /^ +[0-9]+\.[0-9]+s / {exit} h')
contains "$lanes" "office" "--ladder-node office: office's lane"
lacks "$lanes" "alice" "--ladder-node office: alice's lane not shown"
expect_exit 0 "empty window" -- "$natsim" run "$classic" --ladder --from 9999s
contains "$out" "(no packets in this time window)" "empty ladder message"
expect_exit 2 "bad --ladder-pair" -- "$natsim" run "$classic" --ladder-pair alice
contains "$err" "--ladder-pair expects two host names separated by a comma" "bad pair message"
expect_exit 2 "unknown --ladder-node" -- "$natsim" run "$classic" --ladder-node nobody
contains "$err" "--ladder-node: no node called 'nobody'" "unknown node message"
expect_exit 2 "--from after --to" -- "$natsim" run "$classic" --from 3s --to 1s
contains "$err" "--from must not be later than --to" "window order message"
expect_exit 2 "bad --width" -- "$natsim" run "$classic" --ladder --width 5
contains "$err" "--width: a width in columns '5' is out of range (40-1000)" "bad width message"

# --pcap: one capture per interface, the folder created.
expect_exit 0 "--pcap" -- "$natsim" run "$classic" --quiet --pcap "$tmp/caps/run1"
file_ok "$tmp/caps/run1/home-wan.pcap" "--pcap home-wan"
file_ok "$tmp/caps/run1/alice-eth0.pcap" "--pcap alice-eth0"
contains "$err" "captures in $tmp/caps/run1" "--pcap says what it wrote"
touch "$tmp/notadir"
expect_exit 2 "--pcap onto a file" -- "$natsim" run "$classic" --quiet --pcap "$tmp/notadir"
contains "$err" "--pcap:" "--pcap error names the flag"

# natsim dot and flow.
for ext in svg png dot; do
	expect_exit 0 "dot -o .$ext" -- "$natsim" dot "$classic" -o "$tmp/topo.$ext"
	file_ok "$tmp/topo.$ext" "dot .$ext"
done
contains "$(head -c 300 "$tmp/topo.svg")" "<svg" "dot svg is svg"
contains "$(head -c 8 "$tmp/topo.png" | od -c | head -1)" "P   N   G" "dot png is png"
expect_exit 0 "flow -o .svg" -- "$natsim" flow "$classic" -o "$tmp/flow.svg" --pair alice,bob --to 1.3s
file_ok "$tmp/flow.svg" "flow svg"
expect_exit 2 "dot bad extension" -- "$natsim" dot "$classic" -o "$tmp/topo.jpeg"
contains "$err" "--output expects a file ending in .svg, .png, .dot or .gv" "bad extension message"
expect_exit 2 "dot unwritable" -- "$natsim" dot "$classic" -o "$tmp/no/such/dir/t.svg"
contains "$err" "cannot write" "unwritable output message"
expect_exit 2 "dot without -o" -- "$natsim" dot "$classic"
contains "$err" "-o/--output is required" "missing -o message"
expect_exit 2 "flow unknown node" -- "$natsim" flow "$classic" -o "$tmp/f.svg" --node nobody
contains "$err" "--node: no node called 'nobody'" "flow unknown node message"
expect_exit 0 "dot --help" -- "$natsim" dot --help
expect_exit 0 "flow --help" -- "$natsim" flow --help
expect_exit 0 "why --help" -- "$natsim" why --help

# natsim why.
expect_exit 0 "why --packet 12" -- "$natsim" why "$classic" --packet 12
contains "$out" "home translated source 192.168.1.5:5000 → 203.0.113.7:5000" "why rewrite"
contains "$out" "Fate: dropped at office (nat-filter)" "why fate"
expect_exit 0 "why --packet '#34'" -- "$natsim" why "$classic" --packet '#34'
contains "$out" "delivered to the socket on bob" "why delivered"
expect_exit 2 "why unknown id" -- "$natsim" why "$classic" --packet 99999
contains "$err" "no packet #99999 in this run; packet ids go from 1 to" "why range message"
expect_exit 2 "why bad id" -- "$natsim" why "$classic" --packet twelve
contains "$err" "--packet: expected a packet id like 42 or #42" "why bad id message"
expect_exit 2 "why without --packet" -- "$natsim" why "$classic"
contains "$err" "--packet ID is required" "why missing id message"

finish
