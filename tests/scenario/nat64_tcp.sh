#!/usr/bin/env bash
# TCP through the stateful NAT64 (RFC 6146 3.5.2; docs/ipv6.md "NAT64")
# through the natsim binary: an IPv6-only alice behind a `nat64` router
# connects to an IPv4 server at 64:ff9b::198.51.100.80, 3000 bytes go out
# and the echo's 3000 come back, both ends close; the binding (family 6,
# TCP) shows in the timeline and the tables, with TCP_TRANS (4 minutes)
# left after both FINs; a SYN from the IPv4 side is dropped, named.
# Usage: nat64_tcp.sh NATSIM_BINARY
set -u
natsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

cat >"$tmp/n64.nsim" <<'NSIM'
router home ipv6 2001:db8:1::/64 nat64 public 203.0.113.64
host alice at 2001:db8:1::5 behind home
host web at 198.51.100.80 public
serve web tcp 80 echo
at 1s tcp alice to [64:ff9b::198.51.100.80]:80 send 3000 bytes close
at 5s tcp web to 203.0.113.64:49863
expect tcp connected alice to [64:ff9b::198.51.100.80]:80 by 2s
expect socket alice time-wait by 20s
NSIM
expect_exit 0 "TCP from IPv6 through the NAT64" -- "$natsim" run -v "$tmp/n64.nsim"
contains "$out" "home      mapping [2001:db8:1::5]:49863 → 203.0.113.64:49863" "the SYN makes the binding"
contains "$out" "home      #1 translated: TCP 203.0.113.64:49863 → 198.51.100.80:80 [SYN]" \
	"the SYN leaves as IPv4 from the pool address, its port kept"
contains "$out" "home      #2 translated: TCP [64:ff9b::c633:6450]:80 → [2001:db8:1::5]:49863 [SYN, ACK]" \
	"the SYN+ACK comes back as IPv6"
contains "$out" "nc: Connection to 64:ff9b::c633:6450 80 port [tcp/http] succeeded!" "alice connects"
contains "$out" "web       nc: Connection received on 203.0.113.64 49863" "web sees the pool address"
# 3000 bytes each way: web acks alice's 3000 (and her FIN), alice web's.
contains "$out" "web       TCP 198.51.100.80:80 → 203.0.113.64:49863: ESTABLISHED → CLOSE-WAIT" "alice's FIN reaches web"
contains "$out" "ack=2924422025 win=509 len=1428 ttl=64" "web acks 3000 bytes + FIN while echoing"
contains "$out" "[ACK] seq=2924422025 ack=4135672770" "alice acks the 3000 echoed bytes + FIN"
contains "$out" "alice     TCP [2001:db8:1::5]:49863 → [64:ff9b::c633:6450]:80: FIN-WAIT-2 → TIME-WAIT" \
	"alice closes in order"
contains "$out" "home      ✗ #20 dropped 198.51.100.80:41815 → 203.0.113.64:49863: its NAT64 has no TCP session for it" \
	"a SYN from the IPv4 side is dropped"
contains "$out" "silently dropping externally initiated" "with the RFC's policy named"

expect_exit 0 "tables at 3 s" -- "$natsim" run -q --at 3s "$tmp/n64.nsim"
contains "$out" "[2001:db8:1::5]:49863  203.0.113.64:49863" "the tables show the binding"
contains "$out" "active  239s" "TCP_TRANS after both FINs: 4 minutes from 1.082 s"

expect_exit 0 "JSON lines" -- "$natsim" run -q --trace "$tmp/t.jsonl" "$tmp/n64.nsim"
grep '"kind":"mapping"' "$tmp/t.jsonl" | head -1 >"$tmp/map"
contains "$(cat "$tmp/map")" '"proto":6' "the mapping record is TCP's"
contains "$(cat "$tmp/map")" '"family":6' "with its IPv6 inside"
finish
