#!/bin/bash
# lab_pcp.sh NATSIM - the agent's PCP client against a real server: miniupnpd
# (Debian's miniupnpd-nftables) on alice's lab NAT.
#   alice: behind a port-restricted cone NAT (masquerade) running miniupnpd,
#          `natsim peer --port-mapping on`: she asks it for a mapping of
#          her port 4000 (PCP MAP) and registers it as a "mapped" candidate
#   bob:   behind a symmetric NAT (masquerade fully-random); against a
#          port-restricted cone that pair is relayed (lab_pair.sh, natsim
#          matrix), but bob's checks to alice's mapped endpoint get in
# Checks: before miniupnpd runs, the router's port unreachable ends the
# asking at once; then the mapping is in miniupnpd's nftables chains (nft list ruleset);
# bob's path to alice is direct, to her mapped candidate; a stranger on the
# wan reaches alice's socket through the mapping (she prints "ignored: a
# 12-byte datagram from ..."); alice's exit deletes the mapping (PCP
# lifetime 0) and the rule is gone. miniupnpd is started and stopped here,
# never as the package's service.
set -euo pipefail
NATSIM=$1
. "$(dirname "$0")/lib.sh"
command -v miniupnpd >/dev/null || [ -x /usr/sbin/miniupnpd ] ||
	{ echo "SKIP: needs miniupnpd (Debian package miniupnpd-nftables, .ci/packages)"; exit "$LAB_SKIP"; }
command -v python3 >/dev/null || { echo "SKIP: needs python3"; exit "$LAB_SKIP"; }
MINIUPNPD=$(command -v miniupnpd || echo /usr/sbin/miniupnpd)
lab_init

# miniupnpd refuses to map on a reserved external address (its
# addr_is_reserved: RFC 1918, RFC 5737 and the other special blocks), which
# every lab address is. Alice's NAT gets one public-looking address beside
# its 10.99.0.11 for miniupnpd to announce (ext_ip); it lives only on the
# lab's bridge, which has no link out of its namespaces.
EXT_IP=1.1.1.11

lab_make_wan
lab_side 1 port-restricted-cone
lab_side 2 symmetric
in_ns nat1 ip addr add "$EXT_IP/32" dev wan0
# The wan does not forward: who sends to the address needs a route to it.
in_ns wan ip route add "$EXT_IP/32" via "$PUB_1"
in_ns nat2 ip route add "$EXT_IP/32" via "$PUB_1"
lab_coord

# 0. Before miniupnpd runs: the router's own stack answers port unreachable
# (its input chain accepts from the LAN), and the peer stops asking at once.
in_ns "$PEER_NS_1" "$NATSIM" peer --name early --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --port-mapping on --timeout 5s >"$LAB_LOGS/early.log" 2>&1 ||
	{ cat "$LAB_LOGS/early.log"; echo "FAIL: the peer did not register" >&2; exit 1; }
grep -q "no port mapping: the router answered PCP with port unreachable" "$LAB_LOGS/early.log" ||
	{ cat "$LAB_LOGS/early.log"; echo "FAIL: no server, yet not told by the ICMP error" >&2; exit 1; }
echo "no server: $(grep -m1 'no port mapping' "$LAB_LOGS/early.log" | sed 's/^[^ ]* //')"

# miniupnpd's own tables, as its nft_init.sh makes them (the package's copy
# needs a helper it does not ship): a forward chain that jumps to its
# filter chain, and nat chains that jump to its DNAT and SNAT chains.
in_ns nat1 nft -f - <<'NFT'
table inet filter {
	chain forward { type filter hook forward priority 0; policy accept;
		jump miniupnpd
	}
	chain miniupnpd { }
	chain prerouting { type nat hook prerouting priority -100; policy accept;
		jump prerouting_miniupnpd
	}
	chain postrouting { type nat hook postrouting priority 100; policy accept;
		jump postrouting_miniupnpd
	}
	chain prerouting_miniupnpd { }
	chain postrouting_miniupnpd { }
}
NFT
cat >"$LAB_LOGS/miniupnpd.conf" <<CONF
ext_ifname=wan0
ext_ip=$EXT_IP
listening_ip=lan0
enable_natpmp=yes
enable_upnp=no
secure_mode=yes
min_lifetime=120
max_lifetime=86400
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1024-65535 172.31.1.0/24 1024-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
# -d: in the foreground, its log on stderr; the lab's cleanup stops it.
lab_spawn nat1 miniupnpd "$MINIUPNPD" -d -f "$LAB_LOGS/miniupnpd.conf" \
	-P "$LAB_LOGS/miniupnpd.pid"
lab_wait_log miniupnpd "Listening for NAT-PMP/PCP traffic on port 5351"

lab_spawn "$PEER_NS_1" alice "$NATSIM" peer --name alice --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --port-mapping on --echo --timeout 30s --linger 30s
lab_wait_log alice "the router mapped" 10
lab_wait_log alice "registered:"
mapped=$(sed -n 's/.*the router mapped \([0-9.]*:[0-9]*\) for us.*/\1/p' "$LAB_LOGS/alice.log" | head -n 1)
echo "alice: $(grep -m1 'the router mapped' "$LAB_LOGS/alice.log")"
[ "${mapped%:*}" = "$EXT_IP" ] || { echo "FAIL: mapped on '$mapped', not $EXT_IP" >&2; exit 1; }
mport=${mapped#*:}

# 1. The mapping is miniupnpd's rule in nftables.
in_ns nat1 nft list ruleset >"$LAB_LOGS/ruleset.txt"
if ! grep -A4 'chain prerouting_miniupnpd' "$LAB_LOGS/ruleset.txt" | grep -q "dport $mport .*dnat.*172.31.1.2:$LAB_PORT"; then
	cat "$LAB_LOGS/ruleset.txt"
	echo "FAIL: no DNAT rule for port $mport in miniupnpd's chain" >&2
	exit 1
fi
echo "nft: $(grep -A4 'chain prerouting_miniupnpd' "$LAB_LOGS/ruleset.txt" | grep dnat | sed 's/^[[:space:]]*//')"

# 2. Bob connects, and the path is alice's mapped candidate.
set +e
in_ns "$PEER_NS_2" "$NATSIM" peer --name bob --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --connect alice --send "through the mapping" --expect-data \
	--timeout 15s >"$LAB_LOGS/bob.log" 2>&1
rc=$?
set -e
grep '^path:' "$LAB_LOGS/bob.log" || true
[ "$rc" = 0 ] || { echo "FAIL: bob did not complete (exit $rc)" >&2; exit 1; }
grep -q "^path: direct: .*-> $mapped (mapped, found by port mapping)" "$LAB_LOGS/bob.log" ||
	{ echo "FAIL: bob's path is not alice's mapped candidate $mapped" >&2; exit 1; }

# 3. A stranger on the wan reaches alice's socket through the mapping.
in_ns wan python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.99.0.2", 4444))
s.sendto(b"anyone home?", (sys.argv[1], int(sys.argv[2])))
' "$EXT_IP" "$mport"
lab_wait_log alice "ignored: a 12-byte datagram from 10.99.0.2:4444"

# 4. Alice's exit deletes the mapping (PCP lifetime 0).
kill -TERM "$PID_alice"
wait "$PID_alice" 2>/dev/null || true
grep -q "asked the router to delete our mapping $mapped" "$LAB_LOGS/alice.log" ||
	{ echo "FAIL: alice did not ask to delete her mapping" >&2; exit 1; }
for _ in $(seq 1 40); do
	in_ns nat1 nft list chain inet filter prerouting_miniupnpd | grep -q "dport $mport" || break
	sleep 0.05
done
if in_ns nat1 nft list chain inet filter prerouting_miniupnpd | grep -q "dport $mport"; then
	echo "FAIL: the rule for port $mport is still there after the delete" >&2
	exit 1
fi
kill -TERM "$PID_miniupnpd" 2>/dev/null || true
echo "PASS: miniupnpd mapped $mapped by PCP (nft rule), bob went direct to it, a stranger got in, and the delete removed it"
