#!/bin/bash
# stun_tools.sh NATSIM - natsim and the standard STUN tools, on loopback, both
# ways (issue 12, items 7 and 8):
#  1. coturn's turnutils_stunclient (plain and -f), turnutils_natdiscovery -m -f
#     (also with -P: 1524-byte padded requests) and stund's `stun` client get
#     their answers from `natsim coord` with DEFAULT flags;
#  2. natsim's discovery (`natsim peer --classify --no-register`) classifies
#     loopback as "open" against coturn's `turnserver --stun-only` (whose
#     answers to natsim's padded requests are 1604 bytes: they must be read,
#     not dropped and retried without PADDING 1.5 s later) and against stund.
# 127.0.0.1 and 127.0.0.2 serve as the two addresses RFC 5780 and RFC 3489
# servers need; every port is picked free; every process started here is
# killed on exit; every wait is bounded. No network namespaces, no root needed
# (turnserver runs with -n: no config file, no database, no CLI).
# Exit 77 (SKIP) when a tool is missing.
set -uo pipefail
NATSIM=$1

need() {
	command -v "$1" >/dev/null ||
		{ echo "SKIP: '$1' is not installed (Debian package $2)"; exit 77; }
}
need turnutils_stunclient coturn
need turnutils_natdiscovery coturn
need turnserver coturn
need stun stun-client
need stund stun-server
need python3 python3

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

FAILS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# A port P with P and P+1 free for UDP and TCP on 127.0.0.1 and 127.0.0.2
# (servers take both; turnserver also listens on TCP). Random start, so
# parallel runs do not pick the same one.
free_pair() {
	python3 - <<'PY'
import random, socket
for _ in range(500):
    p = random.randrange(20000, 60000, 2)
    socks = []
    try:
        for ip in ("127.0.0.1", "127.0.0.2"):
            for port in (p, p + 1):
                for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                    s = socket.socket(socket.AF_INET, kind)
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    socks.append(s)
                    s.bind((ip, port))
        print(p)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
}

# Waits (at most 5 s) until something listens on UDP 127.0.0.1:$1.
wait_udp() {
	for ((i = 0; i < 100; i++)); do
		python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)' "$1" && return 0
		sleep 0.05
	done
	return 1
}

# Runs a client with a time limit; its output in $TMP/$1.out.
client() {
	local tag=$1
	shift
	timeout 20 "$@" >"$TMP/$tag.out" 2>&1
	local rc=$?
	echo "--- $tag (exit $rc): $*"
	sed 's/^/    /' "$TMP/$tag.out" | head -n 40
	return $rc
}

# ---- 1. the standard clients against natsim coord, default flags ----
C=$(free_pair)
"$NATSIM" coord --listen "127.0.0.1:$C" --alternate "127.0.0.2:$((C + 1))" >"$TMP/coord.log" 2>&1 &
PIDS+=($!)
COORD_PID=$!
wait_udp "$C" || { cat "$TMP/coord.log"; fail "natsim coord did not start"; exit 1; }

client stunclient turnutils_stunclient -p "$C" 127.0.0.1 ||
	fail "turnutils_stunclient got no answer"
grep -q "UDP reflexive addr: 127.0.0.1:" "$TMP/stunclient.out" ||
	fail "turnutils_stunclient: no reflexive address"

client stunclient-f turnutils_stunclient -f -p "$C" 127.0.0.1 ||
	fail "turnutils_stunclient -f got no answer"
grep -q "Other addr: : 127.0.0.2:$((C + 1))" "$TMP/stunclient-f.out" ||
	fail "turnutils_stunclient -f: OTHER-ADDRESS is not the alternate"
grep -q "RFC 5780 response 3" "$TMP/stunclient-f.out" ||
	fail "turnutils_stunclient -f: the change-request tests got no answer"

for pad in "" -P; do
	client "natdiscovery$pad" turnutils_natdiscovery -m -f $pad -p "$C" 127.0.0.1
	grep -q "NAT with Endpoint Independent Mapping" "$TMP/natdiscovery$pad.out" ||
		fail "turnutils_natdiscovery -m -f $pad: mapping not discovered"
	grep -q "NAT with Endpoint Independent Filtering" "$TMP/natdiscovery$pad.out" ||
		fail "turnutils_natdiscovery -m -f $pad: filtering not discovered"
done

S=$(free_pair)
client stun stun "127.0.0.1:$C" -p "$S"
grep -q "^Primary: Open" "$TMP/stun.out" || fail "stund's stun client: not 'Primary: Open'"

kill "$COORD_PID"
wait "$COORD_PID" 2>/dev/null
echo "--- natsim coord"
sed 's/^/    /' "$TMP/coord.log"
grep -q "rate-limited 0)" "$TMP/coord.log" || fail "natsim coord refused some requests"
grep -q "dropped 0 " "$TMP/coord.log" || fail "natsim coord dropped some requests"

# ---- 2. natsim's discovery against coturn and stund ----
# Prints the classic name natsim peer --classify found against $1:$2, and
# how long it took in ms; fails if it took $3 ms or more.
classify() {
	local tag=$1 port=$2 limit=$3 t0 t1 nat
	t0=$(date +%s%N)
	client "$tag" "$NATSIM" peer --name probe --coord "127.0.0.1:$port" --no-register \
		--classify --json --timeout 10s
	t1=$(date +%s%N)
	nat=$(grep '"event":"nat-classified"' "$TMP/$tag.out" | head -n 1 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["nat"])' 2>/dev/null)
	echo "$tag: '$nat' in $(((t1 - t0) / 1000000)) ms"
	[ "$nat" = open ] || fail "$tag: natsim discovery said '$nat', not 'open'"
	[ $(((t1 - t0) / 1000000)) -lt "$limit" ] ||
		fail "$tag: took $(((t1 - t0) / 1000000)) ms (limit $limit)"
}

T=$(free_pair)
turnserver -n --no-cli --stun-only --no-tls --no-dtls -L 127.0.0.1 -L 127.0.0.2 \
	-p "$T" --alt-listening-port "$((T + 1))" --log-file "$TMP/turnserver.log" \
	--simple-log --no-stdout-log --pidfile "$TMP/turnserver.pid" >/dev/null 2>&1 &
PIDS+=($!)
wait_udp "$T" || { cat "$TMP"/turnserver*.log; fail "turnserver did not start"; exit 1; }
# coturn pads its answers as the requests are padded: without reading those
# 1604-byte answers natsim would wait out 3 x 500 ms and retry unpadded.
classify turnserver "$T" 1400

D=$(free_pair)
stund -h 127.0.0.1 -a 127.0.0.2 -p "$D" -o "$((D + 1))" >"$TMP/stund.log" 2>&1 &
PIDS+=($!)
wait_udp "$D" || fail "stund did not start"
# stund (RFC 3489) drops requests with PADDING: natsim retries without it
# after 1.5 s (docs/lab.md), so this one may take longer.
classify stund "$D" 8000

if [ "$FAILS" -gt 0 ]; then
	echo "$FAILS check(s) failed"
	exit 1
fi
echo "PASS: coturn's and stund's clients against natsim coord; natsim's discovery against turnserver and stund"
