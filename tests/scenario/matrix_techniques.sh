#!/usr/bin/env bash
# natsim matrix --techniques through the binary (issue 17): the pairs the
# techniques turn from relayed into direct, named in text, csv and json,
# the plain matrix unchanged without the flag, bad words refused.
# Usage: matrix_techniques.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

expect_exit 0 "matrix --help" -- "$natsim" matrix --help
contains "$out" "--techniques LIST" "--help names --techniques"
contains "$out" "symmetric-sequential" "--help names the two hard kinds"

expect_exit 0 "matrix --techniques all, csv" -- "$natsim" matrix --techniques all --format csv
contains "$out" "a,b,outcome,connect_ms,direct_ms,technique,before_outcome,before_connect_ms" "csv header"
[ "$(printf '%s\n' "$out" | wc -l)" = 65 ] || fail "csv: a header and 8 x 8 pairs: $(printf '%s\n' "$out" | wc -l) lines"
checks=$((checks + 1))
printf '%s\n' "$out" >"$tmp/all.csv"
python3 - "$tmp/all.csv" <<'PY' || fail "csv content: $(cat "$tmp/all.csv")"
import csv, sys
rows = {(r["a"], r["b"]): r for r in csv.DictReader(open(sys.argv[1]))}
# The birthday search: a random-port NAT against a port-restricted cone.
r = rows[("port-restricted-cone", "symmetric")]
assert (r["before_outcome"], r["outcome"], r["technique"]) == ("relayed", "direct", "birthday"), r
assert 2500 < float(r["direct_ms"]) < 30000, r
# Port prediction: a NAT that hands out ports in order.
r = rows[("port-restricted-cone", "symmetric-sequential")]
assert (r["before_outcome"], r["outcome"], r["technique"]) == ("relayed", "direct", "prediction"), r
# Two random-port NATs: two guesses must meet, which the budget does not buy.
r = rows[("symmetric", "symmetric")]
assert (r["before_outcome"], r["outcome"]) == ("relayed", "relayed"), r
# Nothing made worse; every pair direct before is direct after.
for (a, b), r in rows.items():
    if r["before_outcome"] == "direct":
        assert r["outcome"] == "direct", r
    if r["outcome"] == "direct" and r["before_outcome"] != "direct":
        assert r["technique"] in ("prediction", "birthday", "port-mapping"), r
PY

expect_exit 0 "matrix --techniques birthday, text" -- "$natsim" matrix --techniques birthday --ascii
contains "$out" "direct 3.2s [B]" "a cell the birthday search turned direct, with its time"
contains "$out" "port-restricted-cone <-> symmetric: relayed 5.1s -> direct 3.2s (birthday)" "the change in words"
contains "$out" "Techniques on for both agents: birthday; before: none." "which techniques"
lacks "$out" "(prediction)" "prediction is off"

expect_exit 0 "matrix --techniques birthday, json" -- "$natsim" matrix --techniques birthday --format json
printf '%s\n' "$out" >"$tmp/b.json"
checks=$((checks + 1))
python3 - "$tmp/b.json" <<'PY' || fail "json shape"
import json, sys
cells = json.load(open(sys.argv[1]))
assert len(cells) == 64
c = next(c for c in cells if (c["a"], c["b"]) == ("symmetric", "port-restricted-cone"))
assert c["outcome"] == "direct" and c["technique"] == "birthday" and c["before"]["outcome"] == "relayed", c
assert c["direct_ms"] > 2500, c
PY

# Without the flag (or with none): the six classic kinds, the old columns.
expect_exit 0 "matrix --techniques none" -- "$natsim" matrix --techniques none --format csv
contains "$(head -n 1 <<<"$out")" "a,b,outcome,connect_ms" "plain header"
lacks "$out" "technique" "no technique columns"
lacks "$out" "symmetric-sequential" "no hard kinds"

expect_exit 2 "bad --techniques" -- "$natsim" matrix --techniques magic
contains "$err" "--techniques expects all, none or a list of prediction, birthday and port-mapping" "the words named"
expect_exit 2 "--techniques over tcp" -- "$natsim" matrix --techniques all --transport tcp
contains "$err" "--techniques works over UDP" "tcp refused"

finish
