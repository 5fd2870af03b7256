#!/usr/bin/env bash
# TCP over IPv6 through the natsim binary (issue 18, docs/ipv6.md "TCP"):
# a dual-stack home with its IPv6 firewall off and a dual-stack server. A
# `tcp` to a name both ends have IPv6 for goes over IPv6 (as ping picks),
# one to an IPv4 literal over IPv4; a closed IPv6 port answers an RST;
# `serve` listens on both families; the sockets show in RFC 5952 form in
# the timeline, the tables (ss -tan), the JSON lines and `natsim why`; and
# through an RFC 6092 home: out passes, an unsolicited SYN in is dropped.
# Usage: tcp6.sh NATSIM_BINARY
set -u
natsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

cat >"$tmp/tcp6.nsim" <<'NSIM'
internet latency 10ms
nat home preset full-cone public 203.0.113.7 ipv6 2001:db8:1::/64 firewall6 off
host alice at 192.168.1.5 and 2001:db8:1::5 behind home
host web at 198.51.100.80 and 2001:db8:ff::80 public
serve web tcp 80 echo
at 1s tcp alice to web:80 send 3000 bytes close
at 2s tcp alice to [2001:db8:ff::80]:81
at 3s tcp alice to 198.51.100.80:80 send 10 bytes close
expect tcp connected alice to web:80 by 2s
expect tcp refused alice to [2001:db8:ff::80]:81 by 3s
expect socket alice time-wait by 20s
NSIM
expect_exit 0 "TCP over IPv6 and IPv4 from one host" -- "$natsim" run -v "$tmp/tcp6.nsim"
contains "$out" "web       nc: Listening on :: 80" "serve listens on IPv6 too"
contains "$out" "web       nc: Listening on 0.0.0.0 80" "and on IPv4"
contains "$out" "alice opens a TCP connection to web:80 over IPv6" "a name goes over IPv6"
contains "$out" "[SYN] seq=3636225253 win=64800 len=0 hlim=64" "the SYN's window is 45 x 1440"
contains "$out" "alice     TCP [2001:db8:1::5]:49863 → [2001:db8:ff::80]:80: SYN-SENT → ESTABLISHED (SYN+ACK #2)" \
	"the socket in RFC 5952 form"
contains "$out" "nc: Connection to web (2001:db8:ff::80) 80 port [tcp/http] succeeded!" "nc's words"
contains "$out" "nc: Connection received on 2001:db8:1::5 49863" "the server's words"
contains "$out" "len=1428 hlim=64" "a full IPv6 segment carries 1428 bytes"
contains "$out" "nc: connect to 2001:db8:ff::80 port 81 (tcp) failed: Connection refused" \
	"a closed IPv6 port refuses"
contains "$out" "web       ✗ #20 dropped [2001:db8:1::5]:49864 → [2001:db8:ff::80]:81: nothing on web listens on TCP port 81; answered with a TCP RST" \
	"the SYN to the closed port dropped, named"
contains "$out" "web       #21 sent TCP [2001:db8:ff::80]:81 → [2001:db8:1::5]:49864 [RST, ACK] seq=0 ack=3549427200 win=0 len=0 hlim=64" \
	"the RST as tcp_v6_send_reset sends it"
contains "$out" "alice     TCP 192.168.1.5:49865 → 198.51.100.80:80: CLOSED → SYN-SENT" \
	"an IPv4 literal goes over IPv4"
contains "$out" "alice is refused by [2001:db8:ff::80]:81 over TCP" "the expectation in RFC 5952 form"

expect_exit 0 "tables at 1.5 s" -- "$natsim" run -q --at 1.5s "$tmp/tcp6.nsim"
contains "$out" "TIME-WAIT   [2001:db8:1::5]:49863 [2001:db8:ff::80]:80" "ss -tan: an IPv6 connection"
contains "$out" "LISTEN      [::]:80               [::]:*" "ss -tan: the IPv6 listener"
contains "$out" "LISTEN      0.0.0.0:80            0.0.0.0:*" "ss -tan: the IPv4 listener"

expect_exit 0 "JSON lines" -- "$natsim" run -q --trace "$tmp/t.jsonl" "$tmp/tcp6.nsim"
jsonl=$(cat "$tmp/t.jsonl")
contains "$jsonl" '"kind":"socket","node":"alice","proto":6,"family":6,"local":"[2001:db8:1::5]:49863","remote":"[2001:db8:ff::80]:80"' \
	"a socket record names its family and RFC 5952 ends"
contains "$jsonl" '"kind":"socket","node":"web","proto":6,"local":"0.0.0.0:80"' \
	"an IPv4 socket record as it always was"

expect_exit 0 "why the SYN" -- "$natsim" why "$tmp/tcp6.nsim" --packet 1
contains "$out" "web's TCP [2001:db8:ff::80]:80 → [2001:db8:1::5]:49863: LISTEN → SYN-RECEIVED (SYN #1)" \
	"why tells the listener's child in RFC 5952 form"

# Through RFC 6092 homes (firewall6 on by default, the IPv6 conntrack
# tracking TCP): alice's connection out passes, web's unsolicited SYN to
# alice is dropped at her home, SYN after SYN, until web's connect times out.
cat >"$tmp/fw.nsim" <<'NSIM'
internet latency 10ms
router home ipv6 2001:db8:1::/64
host alice at 2001:db8:1::5 behind home
host web at 2001:db8:ff::80 public
serve web tcp 80 echo
serve alice tcp 22
at 1s tcp alice to web:80 send 100 bytes close
at 2s tcp web to alice:22
expect tcp connected alice to web:80 by 2s
expect drop at home reason firewall by 3s
expect tcp timeout web to alice:22 by 140s
NSIM
expect_exit 0 "TCP over IPv6 through an RFC 6092 firewall" -- "$natsim" run "$tmp/fw.nsim"
contains "$out" "nc: Connection to web (2001:db8:ff::80) 80 port [tcp/http] succeeded!" \
	"the connection out passes the firewall"
contains "$out" "home      ✗ firewall dropped [2001:db8:ff::80]:41815 → [2001:db8:1::5]:22: no rule in FORWARD matched a new forwarded flow" \
	"the unsolicited SYN is dropped at alice's home"
contains "$out" "nc: connect to alice (2001:db8:1::5) port 22 (tcp) failed: Connection timed out" \
	"web's connect times out"
lacks "$out" "home      ✗ firewall dropped [2001:db8:1::5]" "nothing of alice's flow is dropped"

# ip6 rules that reject TCP, on a router and on a host, each with the
# answer ip6tables' REJECT --reject-with gives (nf_send_reset6,
# nf_send_unreach6), and the errno tcp_v6_err makes of it
# (icmpv6_err_convert: admin prohibited EACCES, no route ENETUNREACH).
cat >"$tmp/rej.nsim" <<'NSIM'
internet latency 10ms
nat home preset full-cone public 203.0.113.7 ipv6 2001:db8:1::/64 firewall6 off
host alice at 192.168.1.5 and 2001:db8:1::5 behind home
host web at 198.51.100.80 and 2001:db8:ff::80 public
rule home forward reject ip6 tcp dport 82 with tcp-reset
rule web input reject tcp dport 83 from 2001:db8:1::/64 with admin-prohibited
rule web input reject ip6 tcp dport 84 with no-route
at 1s tcp alice to [2001:db8:ff::80]:82
at 2s tcp alice to [2001:db8:ff::80]:83
at 3s tcp alice to [2001:db8:ff::80]:84
expect tcp refused alice to [2001:db8:ff::80]:82 by 2s
NSIM
expect_exit 0 "ip6 REJECT of TCP" -- "$natsim" run -v "$tmp/rej.nsim"
contains "$out" "(-p tcp -m tcp --dport 82 -j REJECT --reject-with tcp-reset) rejected it: line 5, and told the sender: a TCP RST" \
	"the router's ip6 tcp-reset rule, as ip6tables-save writes it"
contains "$out" "home      #2 sent TCP [2001:db8:ff::80]:82 → [2001:db8:1::5]:49863 [RST, ACK] seq=0" \
	"the router sends the RST as from the segment's destination"
contains "$out" "nc: connect to 2001:db8:ff::80 port 82 (tcp) failed: Connection refused" \
	"the RST refuses the connect"
contains "$out" "--reject-with icmp6-adm-prohibited) rejected it: line 6, and told the sender: ICMPv6 administratively prohibited (icmp6-adm-prohibited)" \
	"the host's REJECT in ICMPv6 words"
contains "$out" "nc: connect to 2001:db8:ff::80 port 83 (tcp) failed: Permission denied" \
	"admin prohibited is EACCES to the socket"
contains "$out" "nc: connect to 2001:db8:ff::80 port 84 (tcp) failed: Network is unreachable" \
	"no route is ENETUNREACH"

# The agent over TCP stays IPv4: its refusal stands.
cat >"$tmp/agent.nsim" <<'NSIM'
coordinator coord at 2001:db8:ff::10
router home ipv6 2001:db8:1::/64
host alice at 2001:db8:1::5 behind home
host bob at 2001:db8:ff::7 public
at 1s connect alice to bob over tcp
NSIM
expect_exit 2 "the agent over TCP on IPv6-only hosts" -- "$natsim" run -q "$tmp/agent.nsim"
contains "$err" "the agent over TCP speaks" "its refusal says why"
finish
