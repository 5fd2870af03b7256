#!/bin/bash
# lab_conntrack.sh NATSIM - after a hole punch between two port-restricted cone
# NATs, `conntrack -L` in alice's NAT namespace shows entries of the same
# shape as the simulator's conntrack table for the same exchange (the
# `natsim run --trace` records' "line" field): same protocol, same flags
# ([UNREPLIED]/[ASSURED]), same tuple structure, with addresses replaced by
# their role (alice, alice's NAT, coordinator, bob's NAT, bob's private
# address) and ports and timeouts left out.
set -euo pipefail
NATSIM=$1
. "$(dirname "$0")/lib.sh"
command -v conntrack >/dev/null || { echo "SKIP: needs conntrack"; exit "$LAB_SKIP"; }
lab_init

KIND=port-restricted-cone
lab_make_wan
lab_side 1 "$KIND"
lab_side 2 "$KIND"
lab_coord
lab_spawn "$PEER_NS_2" bob "$NATSIM" peer --name bob --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --echo --expect-data --linger 1s --timeout 20s
lab_wait_log bob "registered:"
in_ns "$PEER_NS_1" "$NATSIM" peer --name alice --coord "$COORD1:$COORD_PORT" \
	--port "$LAB_PORT" --connect bob --send hi --expect-data --timeout 15s \
	>"$LAB_LOGS/alice.log" 2>&1
in_ns nat1 conntrack -L -p udp 2>/dev/null >"$LAB_LOGS/lab-conntrack.txt"

# The same exchange in the simulator (the scenario `natsim matrix` runs).
cat >"$LAB_LOGS/pair.nsim" <<NSIM
title "$KIND x $KIND"
internet latency 20ms
coordinator coord at 192.0.2.10 alternate 192.0.2.11
nat alice-nat preset $KIND public 203.0.113.10
host alice at 192.168.1.5 behind alice-nat
nat bob-nat preset $KIND public 198.51.100.10
host bob at 192.168.2.5 behind bob-nat
at 0s register alice
at 0s register bob
at 1s connect alice to bob
NSIM
"$NATSIM" run "$LAB_LOGS/pair.nsim" --until 3s --quiet --trace "$LAB_LOGS/sim.jsonl" >/dev/null

python3 - "$LAB_LOGS/lab-conntrack.txt" "$LAB_LOGS/sim.jsonl" <<'PY'
import json, re, sys
lab_roles = {"172.31.1.2": "alice", "10.99.0.11": "alice-nat", "10.99.0.1": "coord",
             "10.99.0.12": "bob-nat", "172.31.2.2": "bob-private"}
sim_roles = {"192.168.1.5": "alice", "203.0.113.10": "alice-nat", "192.0.2.10": "coord",
             "198.51.100.10": "bob-nat", "192.168.2.5": "bob-private"}

def shape(line, roles):
    words = line.split()
    out = [words[0], words[1], "T"]  # protocol name, number, timeout
    for w in words[3:]:
        k, _, v = w.partition("=")
        if k in ("src", "dst"):
            out.append(k + "=" + roles.get(v, "?" + v))
        elif k in ("sport", "dport"):
            out.append(k + "=p")
        elif w.startswith("[") or k in ("mark", "use"):
            out.append(w)
    return " ".join(out)

lab = sorted({shape(l, lab_roles) for l in open(sys.argv[1]) if l.startswith("udp")})
last = {}
for l in open(sys.argv[2]):
    r = json.loads(l)
    if r.get("kind") == "conntrack" and r.get("node") == "alice-nat":
        last[r["id"]] = None if r["event"] in ("expired", "destroyed", "deleted") else r["line"]
sim = sorted({shape(l, sim_roles) for l in last.values() if l})
print("lab (conntrack -L):"); [print("  " + s) for s in lab]
print("simulator (natsim run --trace):"); [print("  " + s) for s in sim]
sys.exit(0 if lab == sim and lab else 1)
PY
echo "PASS: conntrack entries in the lab NAT have the simulator's shapes"
