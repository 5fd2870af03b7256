# lib6.sh - IPv6 in the lab (issue 18, docs/lab.md "IPv6"). Sourced after
# lib.sh, whose namespaces it extends; nothing here is NAT: IPv6 is routed
# end to end, and a home router filters it.
#
#   wan namespace ("the internet"): routes IPv6 (forwarding on). br0 holds
#   2001:db8:ff::1 (the routers' default gateway) and the coordinator's two
#   addresses 2001:db8:ff::10 and ::11 (RFC 5780); a route to each home's
#   prefix 2001:db8:i::/64 via that home's router.
#   home i (1 = alice, 2 = bob): a router namespace (wan0 2001:db8:ff::1:i,
#   lan0 2001:db8:i::1) with an nftables `ip6` firewall in its forward hook,
#   and a LAN namespace (eth0 2001:db8:i::2, default route via the router).
#   A dual-stack home is lab.sh's NAT side (nat$i, lan$i) with this added:
#   IPv4 NATed by the NAT kind's rules, IPv6 routed and filtered.
# Addresses come from the documentation prefix 2001:db8::/32 (RFC 3849) and
# are given with `nodad`: a new namespace would otherwise hold each address
# tentative for a second or two (duplicate address detection, RFC 4862 5.4)
# and refuse to send from it, and no other node here could hold it anyway.

COORD6_1=2001:db8:ff::10
COORD6_2=2001:db8:ff::11
WAN6_GW=2001:db8:ff::1

# Adds IPv6 to the wan namespace (lab_make_wan first).
lab_make_wan6() {
	in_ns wan sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns wan ip -6 addr add "$WAN6_GW/64" dev br0 nodad
	in_ns wan ip -6 addr add "$COORD6_1/64" dev br0 nodad
	in_ns wan ip -6 addr add "$COORD6_2/64" dev br0 nodad
}

# The nftables rules of a home router's IPv6 firewall. $1:
#   rfc6092  the stateful filter RFC 6092 asks of a home router
#            (docs/lab.md, "IPv6"): what the LAN sends goes out, what
#            answers it comes back, nothing else comes in (the drops
#            counted, for the record);
#   none     no filter: every packet is forwarded both ways.
lab_fw6_rules() {
	case "$1" in
	rfc6092)
		cat <<-NFT
		table ip6 fw6 {
			chain forward { type filter hook forward priority filter; policy accept;
				ct state established,related accept
				ct state invalid drop
				iifname "lan0" accept
				counter drop
			}
		}
		NFT
		;;
	none) ;;
	*) echo "no IPv6 firewall kind $1" >&2; return 2 ;;
	esac
}

# Builds home I with IPv6 firewall FW6 (lab_fw6_rules); with KIND4 (a NAT
# kind of lab_side) the home is dual stack: lab_side builds its IPv4 NAT and
# this adds IPv6 to the same namespaces. Sets PEER_NS_I, ROUTER_NS_I and
# ADDR6_I (the LAN host's IPv6 address).
lab_home6() {
	local i=$1 fw6=$2 kind4=${3:-} rtr
	if [ -n "$kind4" ]; then
		lab_side "$i" "$kind4"
		rtr=nat$i
	else
		rtr=rtr$i
		lab_make_ns "$rtr"
		lab_make_ns "lan$i"
		local port=wp$RANDOM
		ip link add wan0 netns "$LAB-$rtr" type veth peer name "$port" netns "$LAB-wan"
		in_ns wan ip link set "$port" master br0 up
		in_ns "$rtr" ip link set wan0 up
		ip link add lan0 netns "$LAB-$rtr" type veth peer name eth0 netns "$LAB-lan$i"
		in_ns "$rtr" ip link set lan0 up
		in_ns "lan$i" ip link set eth0 up
	fi
	in_ns "$rtr" sysctl -qw net.ipv6.conf.all.forwarding=1
	in_ns "$rtr" ip -6 addr add "2001:db8:ff::1:$i/64" dev wan0 nodad
	in_ns "$rtr" ip -6 route add default via "$WAN6_GW" dev wan0
	in_ns "$rtr" ip -6 addr add "2001:db8:$i::1/64" dev lan0 nodad
	in_ns "lan$i" ip -6 addr add "2001:db8:$i::2/64" dev eth0 nodad
	in_ns "lan$i" ip -6 route add default via "2001:db8:$i::1" dev eth0
	in_ns wan ip -6 route add "2001:db8:$i::/64" via "2001:db8:ff::1:$i" dev br0
	lab_fw6_rules "$fw6" | in_ns "$rtr" nft -f -
	eval "PEER_NS_$i=lan$i ROUTER_NS_$i=$rtr ADDR6_$i=2001:db8:$i::2"
}

# lab6_path LOG: how peer LOG's --connect ended: direct6 or direct4 (direct,
# over IPv6 or IPv4: the agent's path line says "over IPv6" and names the
# endpoints), relayed, or none.
lab6_path() {
	local line
	line=$(sed -n 's/^path: //p' "$1")
	case "$line" in
	direct*"over IPv6 via ["*) echo direct6 ;;
	direct*) echo direct4 ;;
	relayed*) echo relayed ;;
	*) echo none ;;
	esac
}

# lab6_scenario CASE: the simulator's version of lab_pair6.sh's world for
# CASE, as the scenario language says it (docs/scenario.md, "IPv6"): the
# homes' IPv6 prefixes and firewalls as lib6.sh builds them, each IPv4 NAT
# with its lab input setting, the coordinator on both families (the
# language gives it IPv4 always) unless the case's peers know only its
# IPv4 endpoint.
lab6_scenario() {
	local fw1 fw2 dual=
	case "$1" in
	a-fw-fw) fw1=rfc6092 fw2=rfc6092 ;;
	b-dual | b-dual-v4) fw1=rfc6092 fw2=rfc6092 dual=symmetric ;;
	c-fw-open) fw1=rfc6092 fw2=off ;;
	c-open-fw) fw1=off fw2=rfc6092 ;;
	esac
	echo "title \"lab6 $1\""
	echo "internet latency 20ms"
	# b-dual-v4's peers know the coordinator's IPv4 endpoint alone, so
	# the simulator's agents get none of IPv6 either.
	if [ "$1" = b-dual-v4 ]; then
		echo "coordinator coord at 192.0.2.10 alternate 192.0.2.11"
	else
		echo "coordinator coord at 192.0.2.10 and $COORD6_1 alternate 192.0.2.11 and $COORD6_2"
	fi
	local i name fw pub
	for i in 1 2; do
		name=alice pub=203.0.113.10 fw=$fw1
		[ "$i" = 1 ] || name=bob pub=198.51.100.10 fw=$fw2
		if [ -n "$dual" ]; then
			echo "nat $name-home preset $dual input $(lab_input_of "$dual") public $pub" \
				"ipv6 2001:db8:$i::/64 firewall6 $fw"
			echo "host $name at 192.168.$i.5 and 2001:db8:$i::2 behind $name-home"
		else
			echo "router $name-home ipv6 2001:db8:$i::/64 firewall6 $fw"
			echo "host $name at 2001:db8:$i::2 behind $name-home"
		fi
	done
	echo "at 0s register alice"
	echo "at 0s register bob"
	echo "at 1s connect alice to bob"
}

# lab6_sim_path CASE: direct or relayed, as the simulator ends CASE's world
# (lab_path_of); "not-compared" if natsim refuses the scenario (a language
# without IPv6, or an agent without it), with its reason in the log.
lab6_sim_path() {
	local f=$LAB_LOGS/sim6.nsim
	lab6_scenario "$1" >"$f"
	if ! "$NATSIM" run --quiet --until 1ms "$f" >"$f.check.log" 2>&1; then
		echo not-compared
		return 0
	fi
	lab_path_of "$f"
}

# lab6_expected CASE: the outcome ipv6_expected.txt records for CASE (what
# Linux did when the case was written, and the simulator says for the same
# world where the language can say it: docs/lab.md "IPv6").
lab6_expected() {
	local want
	want=$(awk -v c="$1" '$1 == c { print $2 }' "$HERE/ipv6_expected.txt")
	[ -n "$want" ] || { echo "ipv6_expected.txt has no case $1" >&2; return 1; }
	echo "$want"
}
