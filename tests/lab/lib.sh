# lib.sh - shared by the lab scripts: network namespaces joined by veth pairs,
# Linux netfilter (nftables) as the NAT, real natsim processes. Sourced, not run.
#
#   wan namespace: bridge br0, 10.99.0.1 and 10.99.0.2 (the coordinator's two
#   addresses, RFC 5780), every public side plugged into it.
#   side i (1 = alice, 2 = bob):
#     open / firewall: one namespace on the wan, 10.99.0.1i
#     a NAT kind:      NAT namespace (wan 10.99.0.1i, lan 172.31.i.1)
#                      + LAN namespace (172.31.i.2, default route via the NAT)
# Only these private ranges are used and nothing is routed out of them.

LAB_SKIP=77
LAB="nslab-$$"
LAB_PIDS=()
LAB_PORT=4000 # every peer's UDP port
# Full and restricted cone forward this range, port for port (the Debian
# stun client uses a second socket on port + 1).
LAB_CONE_PORTS=4000-4009
COORD1=10.99.0.1
COORD2=10.99.0.2
COORD_PORT=3478
COORD_ALT_PORT=3479
LAB_LOGS=

lab_need_root() {
	if [ "$(id -u)" != 0 ] || ! ip netns add "$LAB-probe" 2>/dev/null; then
		echo "SKIP: lab tests need root and network namespaces"
		exit "$LAB_SKIP"
	fi
	ip netns del "$LAB-probe"
	command -v nft >/dev/null || { echo "SKIP: lab tests need nft"; exit "$LAB_SKIP"; }
}

# Deletes a namespace after killing what still runs in it (only lab
# namespaces get here: everything in them was started by a lab script).
lab_del_ns() {
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null || true)
	[ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
	ip netns del "$1" 2>/dev/null || true
}

# Ends a run's processes and namespaces (lab_cleanup does it at the end),
# so that the next case starts from a fresh lab with empty tables. What
# the run started ends first, so that bash has nothing killed under it to
# report; lab_del_ns then finds the namespaces empty.
lab_teardown_run() {
	local pid ns
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	LAB_PIDS=()
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		lab_del_ns "$ns"
	done
}

# Namespaces of earlier runs that were killed before their cleanup ran.
lab_remove_leftovers() {
	local ns pid
	for ns in $(ip netns list | awk '{print $1}' | grep '^nslab-[0-9]*-' || true); do
		pid=${ns#nslab-}
		pid=${pid%%-*}
		if ! kill -0 "$pid" 2>/dev/null; then
			lab_del_ns "$ns"
		fi
	done
}

lab_cleanup() {
	local rc=$?
	local pid ns
	# A failure keeps its evidence: every NAT's conntrack table as the
	# kernel holds it when the run ends (docs/lab.md, "Not yet explained").
	if [ "$rc" != 0 ] && [ "$rc" != "$LAB_SKIP" ] && command -v conntrack >/dev/null; then
		for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-nat" || true); do
			echo "---- conntrack -L in ${ns#$LAB-} ----"
			ip netns exec "$ns" conntrack -L 2>/dev/null || true
		done
		# IPv6 routers (lib6.sh): their firewall's table; a dual-stack
		# NAT's IPv6 entries too.
		for ns in $(ip netns list | awk '{print $1}' | grep -E "^$LAB-(rtr|nat)" || true); do
			echo "---- conntrack -L -f ipv6 in ${ns#$LAB-} ----"
			ip netns exec "$ns" conntrack -L -f ipv6 2>/dev/null || true
		done
	fi
	for pid in "${LAB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$LAB-" || true); do
		lab_del_ns "$ns"
	done
	if [ "$rc" != 0 ] && [ "$rc" != "$LAB_SKIP" ]; then
		echo "---- logs ($LAB_LOGS) ----"
		tail -n 40 "$LAB_LOGS"/*.log 2>/dev/null || true
	fi
	if [ -n "${NATSIM_LAB_KEEP:-}" ]; then
		echo "logs kept in $LAB_LOGS"
	else
		rm -rf "$LAB_LOGS"
	fi
	exit "$rc"
}

lab_init() {
	lab_need_root
	lab_remove_leftovers
	# One CPU for the script and everything it starts. A packet crossing a
	# veth is processed by netfilter on the CPU that sent it, so peers on
	# two CPUs make a NAT handle two flows at the same moment: an outbound
	# packet then misses the inbound flow confirmed a microsecond earlier
	# and gets another port (nf_nat_core.c clash). The simulator handles
	# one packet at a time, and so, pinned, does the lab (docs/lab.md).
	taskset -cp 0 $$ >/dev/null
	LAB_LOGS=$(mktemp -d /tmp/natsim-lab.XXXXXX)
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
}

in_ns() {
	local ns=$1
	shift
	ip netns exec "$LAB-$ns" "$@"
}

# Starts a background process in a namespace, output in $LAB_LOGS/NAME.log.
# The log is emptied here, before the fork: the background shell truncates
# it only when it gets to run, and until then lab_wait_log would read the
# previous process of that name (a capture started twice "listened" at once
# and missed the traceroute it was started for).
lab_spawn() {
	local ns=$1 name=$2
	shift 2
	: >"$LAB_LOGS/$name.log"
	ip netns exec "$LAB-$ns" "$@" >"$LAB_LOGS/$name.log" 2>&1 &
	LAB_PIDS+=("$!")
	eval "PID_$name=$!"
}

# Waits (up to $3 seconds, default 5) until log NAME contains TEXT.
lab_wait_log() {
	local name=$1 text=$2 limit=${3:-5} i
	for ((i = 0; i < limit * 20; i++)); do
		grep -qF -- "$text" "$LAB_LOGS/$name.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for '$text' in $name.log" >&2
	return 1
}

lab_make_ns() {
	ip netns add "$LAB-$1"
	in_ns "$1" ip link set lo up
	# IPv6 (lib6.sh): no duplicate address detection on the interfaces made
	# here, link-local ones included, which would otherwise stay tentative a
	# second or two and neighbour discovery with them (RFC 4862 5.4); nothing
	# else in a lab can hold their addresses.
	in_ns "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0
}

lab_make_wan() {
	lab_make_ns wan
	in_ns wan ip link add br0 type bridge
	in_ns wan ip addr add "$COORD1/24" dev br0
	in_ns wan ip addr add "$COORD2/24" dev br0
	in_ns wan ip link set br0 up
}

# Plugs namespace NS into the wan bridge as interface wan0 with address IP.
lab_plug_wan() {
	local ns=$1 ip=$2 port=wp$RANDOM
	ip link add wan0 netns "$LAB-$ns" type veth peer name "$port" netns "$LAB-wan"
	in_ns wan ip link set "$port" master br0 up
	in_ns "$ns" ip addr add "$ip/24" dev wan0
	in_ns "$ns" ip link set wan0 up
	# A default route, as a real NAT has: what is sent to an address that is
	# not on the wan (a peer's private host candidate) leaves and is dropped
	# by the wan namespace, which does not forward - like the internet drops
	# private destinations. The NAT's conntrack keeps an [UNREPLIED] entry
	# for it, as the simulator's does.
	in_ns "$ns" ip route add default via "$COORD1"
}

lab_coord() {
	local extra=("$@")
	lab_spawn wan coord "$NATSIM" coord --listen "$COORD1:$COORD_PORT" \
		--alternate "$COORD2:$COORD_ALT_PORT" "${extra[@]}"
	lab_wait_log coord "listening"
}

# What each NAT kind's router does with unsolicited packets to its own
# address, the scenario language's `nat ... input drop|accept`: the kinds of
# `natsim matrix` are home routers, which drop them (docs/lab.md). The lab
# builds each NAT with this setting and compares it with a simulator run at
# the same setting (lab_expected).
lab_input_of() {
	case "$1" in
	full-cone | restricted-cone | port-restricted-cone | symmetric) echo drop ;;
	*) echo "no NAT kind $1" >&2; return 2 ;;
	esac
}

# nftables rules for each NAT kind (docs/lab.md explains them). $1 kind,
# $2 public address, $3 LAN host address, $4 input drop|accept. Set
# LAB_SYMMETRIC_PORTS=LOW-HIGH to narrow the symmetric NAT's ports (tests of
# the lab itself: one port forces the overlap lab_pair.sh recognises). Set
# LAB_NAT_TCP=1 for cones whose port-for-port forwarding (and the restricted
# cone's filter) holds for TCP as for UDP, as a home router's full cone
# does (RFC 5382 REQ-1, EIF): lab_tcp.sh; unset, the rules are UDP's alone.
lab_nat_rules() {
	local kind=$1 pub=$2 host=$3 input=$4 nat_rules input_rule
	local dport="udp dport" sport="udp sport" dkey="udp dport" skey="udp sport"
	if [ -n "${LAB_NAT_TCP:-}" ]; then
		dport="meta l4proto { tcp, udp } th dport" dkey="th dport"
		sport="meta l4proto { tcp, udp } th sport" skey="th sport"
	fi
	case "$kind" in
	port-restricted-cone)
		nat_rules="chain postrouting { type nat hook postrouting priority srcnat;
			oifname wan0 masquerade
		}" ;;
	symmetric)
		nat_rules="chain postrouting { type nat hook postrouting priority srcnat;
			oifname wan0 ${LAB_SYMMETRIC_PORTS:+meta l4proto udp }masquerade ${LAB_SYMMETRIC_PORTS:+to :$LAB_SYMMETRIC_PORTS }fully-random
		}" ;;
	full-cone)
		nat_rules="chain prerouting { type nat hook prerouting priority dstnat;
			iifname wan0 $dport $LAB_CONE_PORTS dnat to $host
		}
		chain postrouting { type nat hook postrouting priority srcnat;
			oifname wan0 ip saddr $host $sport $LAB_CONE_PORTS snat to $pub
			oifname wan0 masquerade
		}" ;;
	restricted-cone)
		nat_rules="set contacted { type ipv4_addr . inet_service; flags dynamic, timeout; timeout 120s; }
		chain prerouting { type nat hook prerouting priority dstnat;
			iifname wan0 $dport $LAB_CONE_PORTS ip saddr . $dkey @contacted dnat to $host
		}
		chain remember { type filter hook postrouting priority srcnat + 10;
			oifname wan0 $sport $LAB_CONE_PORTS update @contacted { ip daddr . $skey }
		}
		chain postrouting { type nat hook postrouting priority srcnat;
			oifname wan0 ip saddr $host $sport $LAB_CONE_PORTS snat to $pub
			oifname wan0 masquerade
		}" ;;
	*) echo "unknown NAT kind $kind" >&2; return 2 ;;
	esac
	# The input rule, as `nat ... input`: a home router drops new inbound
	# flows to itself, so their conntrack entries are never confirmed; a
	# bare Linux box accepts them (nothing listens: port unreachable), and
	# the confirmed entry holds the public port for that remote, so the
	# next outbound mapping to it gets another port (docs/lab.md).
	case "$input" in
	drop) input_rule="iifname wan0 ct state new drop" ;;
	accept) input_rule="" ;;
	*) echo "input is drop or accept, not '$input'" >&2; return 2 ;;
	esac
	cat <<-NFT
	table ip lab {
		$nat_rules
		chain input { type filter hook input priority filter; policy accept;
			$input_rule
		}
		chain forward { type filter hook forward priority filter; policy drop;
			iifname lan0 accept
			ct state established,related accept
			ct status dnat accept
		}
	}
	NFT
}

# Builds side I (1 or 2) of kind KIND (a NAT's input setting: INPUT, default
# the kind's, lab_input_of); sets PEER_NS_I to the namespace the peer runs in
# and PUB_I to its public address.
lab_side() {
	local i=$1 kind=$2 input=${3:-} pub=10.99.0.1$1 lanip=172.31.$1.2
	case "$kind" in
	open | firewall)
		lab_make_ns "h$i"
		lab_plug_wan "h$i" "$pub"
		if [ "$kind" = firewall ]; then
			in_ns "h$i" nft -f - <<-NFT
			table inet fw {
				chain input { type filter hook input priority filter; policy drop;
					iif lo accept
					ct state established,related accept
				}
			}
			NFT
		fi
		eval "PEER_NS_$i=h$i"
		;;
	*)
		lab_make_ns "nat$i"
		lab_make_ns "lan$i"
		lab_plug_wan "nat$i" "$pub"
		ip link add lan0 netns "$LAB-nat$i" type veth peer name eth0 netns "$LAB-lan$i"
		in_ns "nat$i" ip addr add "172.31.$i.1/24" dev lan0
		in_ns "nat$i" ip link set lan0 up
		in_ns "nat$i" sysctl -qw net.ipv4.ip_forward=1
		in_ns "lan$i" ip addr add "$lanip/24" dev eth0
		in_ns "lan$i" ip link set eth0 up
		in_ns "lan$i" ip route add default via "172.31.$i.1"
		[ -n "$input" ] || input=$(lab_input_of "$kind")
		lab_nat_rules "$kind" "$pub" "$lanip" "$input" | in_ns "nat$i" nft -f -
		# The NAT's decisions as they happen, for a failure's log: each
		# flow's creation with the port the NAT chose, and its end.
		if command -v conntrack >/dev/null; then
			lab_spawn "nat$i" "conntrack_nat$i" conntrack -E -o timestamp
		fi
		eval "PEER_NS_$i=lan$i"
		;;
	esac
	eval "PUB_$i=$pub"
}

# One side of the simulator's version of a lab pair, as `natsim matrix`
# writes it, with the NAT's input setting spelled out (INPUT, default the
# kind's: lab_input_of).
lab_scenario_side() {
	local host=$1 kind=$2 pub=$3 n=$4 input=${5:-}
	case "$kind" in
	open | firewall)
		local fw=off
		[ "$kind" = open ] || fw=on
		echo "host $host at $pub.10 public firewall $fw" ;;
	*)
		[ -n "$input" ] || input=$(lab_input_of "$kind")
		echo "nat $host-nat preset $kind input $input public $pub.10"
		echo "host $host at 192.168.$n.5 behind $host-nat" ;;
	esac
}

# Expected outcome for alice=A, bob=B: the simulator runs the pair with each
# NAT's input setting as the lab builds it, and says direct or relayed.
lab_expected() {
	local f=$LAB_LOGS/expected.nsim
	{
		echo "title \"$1 x $2\""
		echo "internet latency 20ms"
		echo "coordinator coord at 192.0.2.10 alternate 192.0.2.11"
		lab_scenario_side alice "$1" 203.0.113 1
		lab_scenario_side bob "$2" 198.51.100 2
		echo "at 0s register alice"
		echo "at 0s register bob"
		echo "at 1s connect alice to bob"
	} >"$f"
	lab_path_of "$f"
}

# lab_path_of FILE: direct or relayed, whichever the simulator ends the pair
# alice x bob of scenario FILE with by 12 s, else failed; each try's output
# in FILE.PATH.log.
lab_path_of() {
	local f=$1 path
	for path in direct relayed; do
		{ cat "$f"; echo "expect alice and bob $path by 12s"; } >"$f.$path"
		if "$NATSIM" run --quiet --until 12s "$f.$path" >"$f.$path.log" 2>&1; then
			echo "$path"
			return 0
		fi
	done
	echo "failed"
}

# lab_ports_overlap NS HOST PORT: true when the NAT in NS gave two flows from
# HOST:PORT to different remotes the same public port (Linux keeps only the
# 5-tuple unique: port overlapping, RFC 7857 section 3); sets OVERLAP_PORT
# to "dport=N" and leaves the table in $LAB_LOGS/overlap-NS.txt.
lab_ports_overlap() {
	local ns=$1 host=$2 port=$3 table=$LAB_LOGS/overlap-$1.txt
	in_ns "$ns" conntrack -L -p udp 2>/dev/null >"$table" || return 1
	OVERLAP_PORT=$(awk -v src="src=$host" -v sport="sport=$port" '
		$4 == src && $6 == sport {
			# the reply tuple: the last dport= is the public port
			pub = ""; for (i = NF; i > 0; i--) if ($i ~ /^dport=/) { pub = $i; break }
			remote = $5 " " $7
			if (pub in seen && seen[pub] != remote) { print pub; exit }
			seen[pub] = remote
		}' "$table")
	[ -n "$OVERLAP_PORT" ]
}
