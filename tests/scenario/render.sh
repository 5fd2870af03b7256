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
contains "$err" "flow entries have been shown." "--tables conntrack footer (stderr)"
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
expect_exit 0 "why --packet 13" -- "$natsim" why "$classic" --packet 13
contains "$out" "home translated source 192.168.1.5:5000 → 203.0.113.7:5000" "why rewrite"
contains "$out" "Fate: dropped at office (nat-filter)" "why fate"
expect_exit 0 "why --packet '#40'" -- "$natsim" why "$classic" --packet '#40'
contains "$out" "delivered to the socket on bob" "why delivered"
expect_exit 0 "why --packet 12 (an ICMP error)" -- "$natsim" why "$classic" --packet 12
contains "$out" "sent by internet: network unreachable 203.0.113.1 → 203.0.113.7 about UDP 203.0.113.7:5000 → 10.0.0.7:5000" \
	"why words an ICMP error by what it is about"
expect_exit 2 "why unknown id" -- "$natsim" why "$classic" --packet 99999
contains "$err" "no packet #99999 in this run; packet ids go from 1 to" "why range message"
expect_exit 2 "why bad id" -- "$natsim" why "$classic" --packet twelve
contains "$err" "--packet: expected a packet id like 42 or #42" "why bad id message"
expect_exit 2 "why without --packet" -- "$natsim" why "$classic"
contains "$err" "--packet ID is required" "why missing id message"

# --tables as conntrack -L: a NAT's empty table is shown ("0 flow entries"),
# and each closing count goes to stderr, the entries alone to stdout.
expect_exit 0 "--at 0s" -- "$natsim" run "$classic" --at 0s --quiet
contains "$out" "── home: conntrack ──" "--at 0s shows home's empty table"
lacks "$out" "flow entries have been shown." "conntrack counts are not on stdout"
contains "$err" "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown." \
	"empty table's count on stderr"

# RFC 4787's names everywhere: a drop at a NAT names its filtering as the
# tables do; classify says "symmetric" is RFC 3489's name for any non-EIM NAT.
expect_exit 0 "classic drop wording" -- "$natsim" run "$classic"
contains "$out" "the one endpoint it has sent to (address-and-port-dependent filtering)" \
	"drop names RFC 4787 filtering"
lacks "$out" "port-restricted filtering" "no classic name for filtering in drops"
expect_exit 0 "classify an ADM NAT" -- "$natsim" run discovery --set n-sym.mapping=ADM
contains "$out" "NAT: symmetric (as RFC 3489 calls every mapping that is not endpoint-independent; mapping address-dependent" \
	"classify says what symmetric means"

# Expectation verdicts: the count agrees with its noun, a failure restates
# the whole expectation and shows what was there, and `expect no mapping`.
cat >"$tmp/dorm.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat dorm preset symmetric public 203.0.113.7
host alice at 192.168.1.5 behind dorm keepalive off
at 0s register alice
expect mapping at dorm for alice:6000 by 2s
expect no mapping at dorm for alice by 2s
expect no mapping at dorm for alice:6000 external-port 7 by 2s
expect no mapping at dorm by 40s
NSIM
expect_exit 1 "mapping verdicts" -- "$natsim" run -q "$tmp/dorm.nsim"
contains "$out" "dorm.nsim:5  a mapping at dorm for alice:6000 by 2.000 s" \
	"a failure restates the port it asked for"
contains "$out" "but dorm has 1 mapping, none of them as asked: 192.168.1.5:5000 ↔ 203.0.113.7:" \
	"a failed mapping expectation lists what was there"
contains "$out" "dorm.nsim:6  no mapping at dorm for alice by 2.000 s" "expect no mapping restated"
contains "$out" "but dorm has 1 mapping, 1 of them as asked: 192.168.1.5:5000 ↔ 203.0.113.7:" \
	"a failed no-mapping expectation lists the offending mapping"
contains "$out" "✓ dorm.nsim:7  no mapping at dorm for alice:6000 external-port 7 by 2.000 s" \
	"expect no mapping holds when none matches"
contains "$out" "✓ dorm.nsim:8  no mapping at dorm by 40.000 s" "no mapping once it timed out"
contains "$out" "2 of 4 expectations failed." "plural summary"
sed -n '1,4p;8p' "$tmp/dorm.nsim" >"$tmp/one.nsim"
expect_exit 0 "one expectation" -- "$natsim" run -q "$tmp/one.nsim"
contains "$out" "The 1 expectation held." "singular summary"
printf 'coordinator c at 192.0.2.10\nnat n preset symmetric public 203.0.113.7\nexpect no mappin at n\n' \
	>"$tmp/nomap.nsim"
expect_exit 2 "expect no with a typo" -- "$natsim" run -q "$tmp/nomap.nsim"
contains "$err" "expected 'drop' or 'mapping' after 'no'" "expect no grammar message"

# natsim flow: a drop is a red cross (two strokes), not a circle.
expect_exit 0 "flow -o .dot" -- "$natsim" flow "$classic" -o "$tmp/cross.dot" --pair alice,bob --to 1.3s
lacks "$(cat "$tmp/cross.dot")" "Mcircle" "no circle marks a drop"
contains "$(cat "$tmp/cross.dot")" "cross" "a drop is drawn as a cross"
# A tall PNG is split into pages ImageMagick's default policy accepts
# (16 000 px): link-cut's ladder was one 27 775 px picture.
png_height() { # the height in an IHDR chunk: bytes 20-23, big-endian
	od -An -tu1 -j20 -N4 "$1" | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }'
}
expect_exit 0 "flow tall png" -- "$natsim" flow link-cut -o "$tmp/lc.png"
contains "$err" "pages of at most 8000 px, $tmp/lc-1.png to $tmp/lc-" "flow says it split"
checks=$((checks + 1))
[ ! -e "$tmp/lc.png" ] || fail "a split picture leaves no lc.png"
pages=0
for f in "$tmp"/lc-*.png; do
	[ -e "$f" ] || continue
	pages=$((pages + 1))
	h=$(png_height "$f")
	checks=$((checks + 1))
	[ "$h" -gt 100 ] && [ "$h" -le 8000 ] || fail "$f is $h px tall, want at most 8000"
	# With ImageMagick installed (Debian's, under its default policy), it
	# reads and converts every page; it refused the one tall picture.
	if [ -x /usr/bin/identify ] && [ -x /usr/bin/convert ]; then
		checks=$((checks + 2))
		/usr/bin/identify "$f" >/dev/null 2>&1 || fail "identify refuses $f"
		/usr/bin/convert "$f" "$tmp/converted.png" 2>/dev/null || fail "convert refuses $f"
	fi
done
checks=$((checks + 1))
[ "$pages" -ge 2 ] || fail "link-cut's flow picture: $pages pages, want 2 or more"
expect_exit 0 "flow short png" -- "$natsim" flow "$classic" -o "$tmp/short.png" --to 1.3s
file_ok "$tmp/short.png" "a short flow picture stays one file"

# docs/trace.md's "rule" values are what natsim emits (it showed "input #2").
expect_exit 0 "trace with rules" -- "$natsim" run firewall-rules -q --trace "$tmp/fw.jsonl"
n_rules=0
while IFS= read -r want; do
	n_rules=$((n_rules + 1))
	contains "$(cat "$tmp/fw.jsonl")" "$want" "docs/trace.md example $want"
done < <(grep -o '"rule":"[^"]*"' "$src/docs/trace.md" | sort -u)
checks=$((checks + 1))
[ "$n_rules" -ge 1 ] || fail "docs/trace.md shows no \"rule\" value"

# A failed drop expectation shows the drops that were there.
cat >"$tmp/drops.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home preset port-restricted-cone public 203.0.113.7
nat office preset symmetric public 198.51.100.9
host alice at 192.168.1.5 behind home
host bob at 10.0.0.7 behind office
at 0s register alice
at 0s register bob
at 1s connect alice to bob
expect drop at office reason firewall by 3s
expect no drop at office reason nat-filter by 3s
expect drop at coord by 3s
NSIM
expect_exit 1 "drop verdicts" -- "$natsim" run -q "$tmp/drops.nsim"
contains "$out" "but no matching drop at office; it dropped 5 other packets, the first at 1.081 s: 203.0.113.7:5000 → 198.51.100.9:59628 (nat-filter)" \
	"expect drop failure names the drops there"
contains "$out" "but 5 matching drops at office, the first at 1.081 s: 203.0.113.7:5000 → 198.51.100.9:" \
	"expect no drop failure names the offending drop"
contains "$out" "but no matching drop at coord; it dropped nothing" "nothing dropped at all"
contains "$out" "3 of 3 expectations failed." "summary counts the failures"

# ... and a failed data expectation the message that did arrive.
cat >"$tmp/data.nsim" <<'NSIM'
coordinator coord at 192.0.2.10
nat home   preset port-restricted-cone public 203.0.113.7
nat office preset port-restricted-cone public 198.51.100.9
host alice at 192.168.1.5 behind home
host bob   at 10.0.0.7    behind office
at 0s register alice
at 0s register bob
at 1s connect alice to bob
at 3s send alice to bob "hello"
expect data at bob from alice "hullo" by 4s
NSIM
expect_exit 1 "data verdict" -- "$natsim" run -q "$tmp/data.nsim"
contains "$out" "but bob received 1 message, none of them this one; the first: \"hello\" from alice" \
	"expect data failure shows what arrived"
contains "$out" "The 1 expectation failed." "singular failure summary"

# A NAT with no mappings at all says so plainly.
printf 'coordinator coord at 192.0.2.10\nnat dorm preset symmetric public 203.0.113.7\nhost alice at 192.168.1.5 behind dorm\nexpect mapping at dorm by 1s\n' \
	>"$tmp/nomaps.nsim"
expect_exit 1 "no mappings at all" -- "$natsim" run -q "$tmp/nomaps.nsim"
contains "$out" "but dorm has no mappings" "empty NAT verdict"

finish
