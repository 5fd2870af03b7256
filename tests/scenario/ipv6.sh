#!/usr/bin/env bash
# IPv6 worlds through the natsim binary (issue 18 step 5, docs/scenario.md
# "IPv6"): a ping across two homes whose RFC 6092 firewalls are on by
# default. The unsolicited echo request is dropped at the far home with its
# reason in the timeline; a ping out to a public server passes both ways,
# its reply let in as part of the flow the inside started. And the
# language's IPv6 refusals as a script sees them (exit 2, file:line:col).
# Usage: ipv6.sh NATSIM_BINARY
set -u
natsim=$1
src_nat64=$(cd "$(dirname "$0")/../.." && pwd)/scenarios/nat64.nsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

cat >"$tmp/homes.nsim" <<'NSIM'
router home1 ipv6 2001:db8:1::/64
router home2 ipv6 2001:db8:2::/64
host alice at 2001:db8:1::5 behind home1
host bob at 2001:db8:2::5 behind home2
host web at 2001:db8:ff::80 public
at 1s ping alice to bob count 1
at 3s ping alice to web count 1
expect drop at home2 reason firewall by 2s
expect no drop at home1
NSIM
expect_exit 0 "ping across RFC 6092 homes" -- "$natsim" run -v "$tmp/homes.nsim"
contains "$out" "alice pings bob over IPv6 (1 echo request)" "the ping goes over IPv6"
# The unsolicited request: dropped at bob's home, said so in the timeline.
contains "$out" "home2     ✗ #1 firewall dropped ICMPv6 echo request 2001:db8:1::5 → 2001:db8:2::5: no rule in FORWARD matched a new forwarded flow" \
	"unsolicited request dropped at home2, with its reason"
lacks "$out" "home1     ✗" "nothing dropped at alice's home"
# The ping out: the reply comes back through home1 to alice.
contains "$out" "home1     #3 out lan: ping reply 2001:db8:ff::80 → 2001:db8:1::5" "the reply passes alice's home"
contains "$out" "alice     #3 delivered ping reply 2001:db8:ff::80 → 2001:db8:1::5" "the reply reaches alice"
lacks "$out" "internet  conntrack:" "the internet router, which filters nothing, tracks nothing"
# Alice's home tracks the ping by its id, in IPv6 words (not the empty
# IPv4 tuple of the record), in the timeline and in why.
contains "$out" "home1     conntrack: new flow ping 2001:db8:1::5 → 2001:db8:ff::80 id=" \
	"the IPv6 conntrack entry in the timeline"
expect_exit 0 "why the reply passed" -- "$natsim" why "$tmp/homes.nsim" --packet 3
contains "$out" "home1's conntrack entry 2001:db8:1::5 → 2001:db8:ff::80 id=" \
	"the IPv6 conntrack entry in why"
lacks "$out" "0.0.0.0:0 → 0.0.0.0:0" "no IPv6 entry read as IPv4"
# Same scenario, same seed: the same trace.
"$natsim" run "$tmp/homes.nsim" --quiet --trace "$tmp/a.jsonl" >/dev/null 2>&1
"$natsim" run "$tmp/homes.nsim" --quiet --trace "$tmp/b.jsonl" >/dev/null 2>&1
checks=$((checks + 1))
cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || fail "an IPv6 run repeats byte for byte"

# NAT64 (docs/ipv6.md step 8): a ping from an IPv6-only home to an IPv4
# server at 64:ff9b::c633:6450 leaves as IPv4 from the pool address, and
# its reply comes back as IPv6 past the home's RFC 6092 firewall (the
# translation skips ip6 FORWARD, as Jool's does).
cat >"$tmp/nat64.nsim" <<'NSIM'
router home ipv6 2001:db8:1::/64 nat64 public 203.0.113.7
host alice at 2001:db8:1::5 behind home
host web at 198.51.100.80 public
at 1s ping alice to 64:ff9b::c633:6450 count 1
NSIM
expect_exit 0 "ping through a NAT64" -- "$natsim" run -v "$tmp/nat64.nsim"
contains "$out" "home      #1 in lan: ping 2001:db8:1::5 → 64:ff9b::c633:6450" "the request arrives as IPv6"
contains "$out" "home      #1 translated: ping 203.0.113.7 → 198.51.100.80" "and leaves as IPv4 from the pool"
contains "$out" "home      new NAT64 binding 2001:db8:1::5 id=" "the binding names its IPv6 inside"
contains "$out" "home      #2 translated: ping reply 64:ff9b::c633:6450 → 2001:db8:1::5" "the reply becomes IPv6"
contains "$out" "alice     #2 delivered ping reply 64:ff9b::c633:6450 → 2001:db8:1::5" "and reaches alice"
lacks "$out" "home      ✗" "nothing dropped at the NAT64 home"

# NPTv6: RFC 6296 3.6's example address leaves with the outside prefix.
cat >"$tmp/npt.nsim" <<'NSIM'
router home ipv6 fd01:203:405::/48 nptv6 2001:db8:1::/48
host alice at fd01:203:405:1::1234 behind home
host web at 2001:db8:ff::80 public
at 1s ping alice to web count 1
NSIM
expect_exit 0 "ping through NPTv6" -- "$natsim" run -v "$tmp/npt.nsim"
contains "$out" "home      #1 translated: ping 2001:db8:1:d550::1234 → 2001:db8:ff::80" "SNPT as RFC 6296 3.6"
contains "$out" "alice     #2 delivered ping reply 2001:db8:ff::80 → fd01:203:405:1::1234" "DNPT back"

# The bundled NAT64 lesson: the agent behind the NAT64 registers from the
# pool address, and a run repeats byte for byte.
expect_exit 0 "the NAT64 lesson" -- "$natsim" run -v "$src_nat64"
contains "$out" "coordinator: alice registered from 203.0.113.7:5000" "the coordinator sees the pool"
contains "$out" "→ [64:ff9b::c000:20a]:3478" "alice sends to the coordinator's synthesized address"
"$natsim" run "$src_nat64" --quiet --trace "$tmp/n1.jsonl" >/dev/null 2>&1
"$natsim" run "$src_nat64" --quiet --trace "$tmp/n2.jsonl" >/dev/null 2>&1
checks=$((checks + 1))
cmp -s "$tmp/n1.jsonl" "$tmp/n2.jsonl" || fail "the NAT64 lesson repeats byte for byte"

# The refusals, at the character at fault.
cat >"$tmp/bad.nsim" <<'NSIM'
host a at 2001:db8::1::2 public
router r ipv6 2001:db8:7::/129
rule a input drop from 10.0.0.0/8 to 2001:db8::/32
NSIM
expect_exit 2 "IPv6 refusals" -- "$natsim" run "$tmp/bad.nsim"
contains "$err" "bad.nsim:1:22: error: '2001:db8::1::2' is not an IPv6 address: '::' appears more than once" "two ::"
contains "$err" "bad.nsim:2:28: error: '2001:db8:7::/129' is not an IPv6 prefix" "/129"
contains "$err" "bad.nsim:3:35: error: a rule is IPv4 or IPv6, not both" "mixed families"

# traceroute over IPv6: Linux `traceroute -6 -n`'s lines (80-byte packets),
# the hop-limit-exceeded answers of home1 and the internet router, web's
# port unreachable ending it; and the same run repeats byte for byte.
cat >"$tmp/trace6.nsim" <<'NSIM'
router home1 ipv6 2001:db8:1::/64
host alice at 2001:db8:1::5 behind home1
host web at 2001:db8:ff::80 public
at 1s traceroute alice to web
NSIM
expect_exit 0 "traceroute over IPv6" -- "$natsim" run "$tmp/trace6.nsim"
contains "$out" "alice     traceroute: traceroute to web (2001:db8:ff::80), 30 hops max, 80 byte packets" \
	"traceroute -6's header"
contains "$out" "alice     traceroute:  2  3fff:0:1::1  21.000 ms  21.000 ms  21.000 ms" "the internet router's hop"
contains "$out" "alice     traceroute:  3  2001:db8:ff::80  41.000 ms  41.000 ms  41.000 ms" "web ends it"
"$natsim" run "$tmp/trace6.nsim" --quiet --trace "$tmp/t1.jsonl" >/dev/null 2>&1
"$natsim" run "$tmp/trace6.nsim" --quiet --trace "$tmp/t2.jsonl" >/dev/null 2>&1
checks=$((checks + 1))
cmp -s "$tmp/t1.jsonl" "$tmp/t2.jsonl" || fail "an IPv6 traceroute repeats byte for byte"

# natsim matrix --family dual runs the dual-stack agents: symmetric x
# symmetric, relayed over IPv4 alone, goes direct over IPv6 through the
# RFC 6092 firewalls; --family 4 is the IPv4 matrix as before.
expect_exit 0 "matrix --family dual" -- "$natsim" matrix --family dual --format csv
contains "$out" "a,b,outcome,connect_ms,family" "the family column"
contains "$out" "symmetric,symmetric,direct," "symmetric pair direct with IPv6"
contains "$out" "symmetric,symmetric,direct,104.000,6" "over IPv6"
expect_exit 0 "matrix --family 4" -- "$natsim" matrix --family 4 --format csv
contains "$out" "symmetric,symmetric,relayed," "symmetric pair relayed over IPv4"
lacks "$out" ",family" "no family column for IPv4 alone"
# expect ... direct over ipv4|ipv6: the family of the direct path.
cat >"$tmp/over.nsim" <<'NSIM'
coordinator coord at 192.0.2.10 and 2001:db8:ff::10
nat home   preset symmetric public 203.0.113.7  ipv6 2001:db8:1::/64
nat office preset full-cone public 198.51.100.9 ipv6 2001:db8:2::/64
host alice at 192.168.1.5 and 2001:db8:1::5 behind home
host bob   at 10.0.0.7    and 2001:db8:2::7 behind office
at 0s register alice
at 0s register bob
at 1s connect alice to bob
expect alice and bob direct over ipv6 by 3s
expect alice and bob end direct over ipv6
expect alice and bob direct over ipv4 by 3s
NSIM
expect_exit 1 "direct over ipv4 fails where IPv6 won" -- "$natsim" run "$tmp/over.nsim"
contains "$out" "✓ over.nsim:9  alice and bob direct over IPv6 by 3.000 s" "direct over ipv6 holds"
contains "$out" "✓ over.nsim:10  alice and bob end direct over IPv6" "end direct over ipv6 holds"
contains "$out" "but alice's path to bob is direct, last over IPv6" "over ipv4 fails, saying why"
printf 'coordinator c at 192.0.2.10\nhost a at 192.0.2.20 public\nhost b at 192.0.2.21 public\nexpect a and b relayed over ipv6\n' >"$tmp/over-bad.nsim"
expect_exit 2 "over on a relayed path" -- "$natsim" run "$tmp/over-bad.nsim"
contains "$err" "over-bad.nsim:4:24: error: 'over ipv4' or 'over ipv6' names the family of a direct path" \
	"over refused after relayed, at its column"
# A background flow over IPv6 carries at most 1452 bytes a datagram (it
# was clamped to empty datagrams silently).
printf 'router home ipv6 2001:db8:1::/64\nhost a at 2001:db8:1::5 behind home\nhost w at 2001:db8:ff::80 public\nat 1s background a to [2001:db8:ff::80]:9000 rate 5/s for 1s size 1460\n' >"$tmp/bg6.nsim"
expect_exit 2 "background over IPv6 too big" -- "$natsim" run "$tmp/bg6.nsim"
contains "$err" "bg6.nsim:4:23: error: a background datagram over IPv6 holds at most 1452 bytes" \
	"background size over IPv6 refused at its column"
# --set reaches a home's IPv6 side: firewall6=off routes the stranger's ping
# in (the lesson's drop expectation then fails, exit 1); a NAT line without
# `ipv6 PREFIX` has no IPv6 side to change.
src=$(cd "$(dirname "$0")/../.." && pwd)
expect_exit 1 "--set office.firewall6=off" -- "$natsim" run "$src/scenarios/ipv6-firewall.nsim" \
	--set office.firewall6=off
contains "$out" "✗ ipv6-firewall.nsim:29" "the firewall's drop expectation fails without the firewall"
expect_exit 2 "--set on a NAT without IPv6" -- "$natsim" run "$src/scenarios/classic.nsim" \
	--set home.reject6=on
contains "$err" "NAT 'home' has no IPv6 side to change" "no IPv6 side to set"
# --family 6: IPv6-only homes, no NAT, RFC 6092 firewalls filtering as each
# kind's NAT would: every pair direct, symmetric x symmetric too.
expect_exit 0 "matrix --family 6" -- "$natsim" matrix --family 6 --format csv
contains "$out" "symmetric,symmetric,direct," "symmetric kinds direct over IPv6 alone"
lacks "$out" "relayed" "no pair relayed over IPv6 alone"
expect_exit 0 "matrix --family 6 text" -- "$natsim" matrix --family 6 --ascii
contains "$out" "IPv6 only: no NAT anywhere" "the text says what the kinds mean without NAT"
# The IPv6-only agent has no techniques and no TCP: refused (exit 2), as
# other usage errors are.
expect_exit 2 "matrix --family 6 --techniques" -- "$natsim" matrix --family 6 --techniques all
contains "$err" "--family 6 runs the agent over UDP" "matrix --family 6 --techniques refused"
expect_exit 2 "matrix --family bad" -- "$natsim" matrix --family 5
contains "$err" "--family expects 4, 6 or dual, not '5'" "matrix --family 5"
# raw icmp over IPv6: an echo request of alice's making is answered; a
# stray port unreachable (RFC 7915's 1/4 for ICMP's 3/3) quoting an IPv6
# datagram nobody sent is INVALID to alice's RFC 6092 home; a wrong
# checksum is malformed at the first router.
cat >"$tmp/rawicmp6.nsim" <<'NSIM'
router home ipv6 2001:db8:1::/64
host alice at 2001:db8:1::5 behind home
host web at 2001:db8:ff::80 public
at 1s raw icmp alice to web type echo-request id 9 seq 1
at 2s raw icmp web to 2001:db8:1::5 type port-unreachable about [2001:db8:1::5]:4000 to web:53
at 3s raw icmp alice to web type echo-request checksum bad
NSIM
expect_exit 0 "raw icmp over IPv6" -- "$natsim" run -v "$tmp/rawicmp6.nsim"
contains "$out" "alice sends a raw ICMPv6 echo request to web" "raw icmp to a name goes over IPv6"
contains "$out" "alice     #2 delivered ping reply 2001:db8:ff::80 → 2001:db8:1::5 (echo reply id=9 seq=1)" \
	"web answers alice's raw echo request"
contains "$out" "web sends a raw ICMPv6 port unreachable to 2001:db8:1::5" "port-unreachable as ICMPv6's"
contains "$out" "about alice's UDP [2001:db8:1::5]:4000 → [2001:db8:ff::80]:53" "it quotes an IPv6 datagram"
contains "$out" "home      ✗ #3 firewall dropped ICMPv6 port unreachable" "the stray error is dropped at home"
contains "$out" "home      #4 in lan: malformed: bad ICMPv6 checksum" "checksum bad spoils the ICMPv6 sum"
# raw tcp over IPv6: a SYN between two public hosts arrives as an IPv6 TCP
# segment; a stray SYN+ACK to alice is INVALID to her home's firewall.
cat >"$tmp/rawtcp6.nsim" <<'NSIM'
router home ipv6 2001:db8:1::/64
host alice at 2001:db8:1::5 behind home
host web at 2001:db8:ff::80 public
host web2 at 2001:db8:ff::81 public
at 1s raw tcp web to web2:80 flags syn from port 4000 seq 7
at 2s raw tcp web to [2001:db8:1::5]:4000 flags syn,ack seq 9 ack 8
NSIM
expect_exit 0 "raw tcp over IPv6" -- "$natsim" run -v "$tmp/rawtcp6.nsim"
contains "$out" "web sends a raw TCP segment [SYN] from port 4000 to [2001:db8:ff::81]:80" \
	"raw tcp to a name goes over IPv6"
contains "$out" "web2      #1 in eth0: TCP [2001:db8:ff::80]:4000 → [2001:db8:ff::81]:80 [SYN] seq=7 win=64240 len=0 hlim=63" \
	"the SYN arrives as IPv6 TCP"
contains "$out" "web2      #2 sent TCP [2001:db8:ff::81]:80 → [2001:db8:ff::80]:4000 [RST, ACK] seq=0 ack=8" \
	"web2 answers the SYN to its closed port with an RST (tcp_v6_send_reset)"
contains "$out" "home      ✗ #3 firewall dropped [2001:db8:ff::80]:32768 → [2001:db8:1::5]:4000: rule FORWARD #2 (-m state --state INVALID -j DROP)" \
	"the stray SYN+ACK is INVALID at alice's home"
finish
