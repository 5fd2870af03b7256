#!/usr/bin/env bash
# The birthday search against its curve (issue 17): at 1000 trials per
# point, the share of trials the simulated search turns direct lies, for
# n = 64 ... 2048 probes and K = 256 open ports, within the range 99 % of
# such sweeps would measure if P(n) = 1 - (1 - K/R)^n (R = 64512) were
# right. The curve and the range are computed here, independently of
# natsim (python3, the binomial's tails in log space), with K = 256 fixed:
# a world that opens another number of ports fails, and the test shows it
# does (alice.sockets=128 must fail the same check). natsim's own curve
# columns must agree with this computation.
#
# The trials' seeds are fixed, so the test gives the same answer every run;
# a change elsewhere that draws other random numbers (another port, another
# seed) gives other trials, and a right world then still falls outside a
# 99 % range at one of the five points with probability under 5 %. If that
# happens, read the printed counts: a real fault is far outside (K = 128
# gives 0.119 at n = 64 against the range 0.191-0.259).
#
# Runtime: about 10 s on two cores (5000 trials of a 30 s world, and 400
# for the mutation). Usage: birthday_curve.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# Easy (bob, port-restricted cone: one port for all destinations) against
# hard (alice, symmetric: a new random port per destination). No loss: the
# curve counts probes that arrive.
cat >"$tmp/birthday.nsim" <<'EOF'
title "the birthday search against its curve"
internet latency 20ms
coordinator coord at 192.0.2.10 alternate 192.0.2.11
nat home preset symmetric public 203.0.113.7
nat office preset port-restricted-cone public 198.51.100.9
host alice at 192.168.1.5 behind home techniques birthday sockets 256
host bob at 10.0.0.7 behind office techniques birthday
at 0s register alice
at 0s register bob
at 1s connect bob to alice
expect bob and alice direct by 30s
EOF

# check.py CSV K TRIALS [same]: every point's direct count within the
# central 99 % binomial range at P(n) for this K; with `same`, natsim's curve
# columns the same curve and range. Exit 1 naming the points outside.
cat >"$tmp/check.py" <<'EOF'
import csv, math, sys
path, K, trials = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
same = sys.argv[4:] == ["same"]
R = 65535 - 1024 + 1

def pmf(k, n, p):
    return math.exp(math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
                    + k * math.log(p) + (n - k) * math.log1p(-p))

def central(n, p, alpha=0.01):
    lo = hi = None
    tail = 0.0
    for k in range(n + 1):
        tail += pmf(k, n, p)
        if tail > alpha / 2:
            lo = k
            break
    tail = 0.0
    for k in range(n, -1, -1):
        tail += pmf(k, n, p)
        if tail > alpha / 2:
            hi = k
            break
    return lo, hi

bad = []
rows = list(csv.DictReader(open(path)))
assert rows, "no rows"
for row in rows:
    n = int(row["bob.probes"])
    assert int(row["trials"]) == trials, row
    p = 1 - (1 - K / R) ** n
    lo, hi = central(trials, p)
    direct = int(row["direct"])
    # natsim's own columns: the same curve and range (not under the
    # mutation, where natsim rightly reads the world's K).
    if same:
        assert abs(float(row["curve_p"]) - p) < 5e-5, (row["curve_p"], p)
        assert abs(float(row["curve_low"]) - lo / trials) < 5e-5, (row["curve_low"], lo)
        assert abs(float(row["curve_high"]) - hi / trials) < 5e-5, (row["curve_high"], hi)
        assert row["curve_fits"] == ("yes" if lo <= direct <= hi else "no"), row
    print(f"n = {n:4}: {direct:4} of {trials} direct, P(n) = {p:.4f}, 99 % range [{lo}, {hi}]")
    if not lo <= direct <= hi:
        bad.append(n)
if bad:
    print("outside the 99 % range at n =", bad)
    sys.exit(1)
EOF

expect_exit 0 "the curve sweep" -- "$natsim" sweep "$tmp/birthday.nsim" \
	--vary bob.probes=64,256,512,1024,2048 --trials 1000 --format csv --jobs 2
printf '%s\n' "$out" >"$tmp/curve.csv"
checks=$((checks + 1))
python3 "$tmp/check.py" "$tmp/curve.csv" 256 1000 same ||
	fail "the simulated birthday search is off its curve (K = 256): $out"

# The check can fail: a world with half the open ports is far off K = 256's
# curve (P(64) 0.119 against 0.225, P(256) 0.399 against 0.639).
expect_exit 0 "the mutated sweep" -- "$natsim" sweep "$tmp/birthday.nsim" --set alice.sockets=128 \
	--vary bob.probes=64,256 --trials 200 --format csv --jobs 2
printf '%s\n' "$out" >"$tmp/mutant.csv"
checks=$((checks + 1))
python3 "$tmp/check.py" "$tmp/mutant.csv" 256 200 >/dev/null &&
	fail "alice.sockets=128 passed the K = 256 check: the check cannot fail"
# ...and natsim itself sets that world against its own K.
contains "$(head -n 1 "$tmp/mutant.csv")" "curve_fits" "the mutant is still a birthday sweep"
contains "$out" ",yes" "the mutant fits its own curve (K = 128)"

# --curve: none drops the columns; birthday insists, and says what is missing.
expect_exit 0 "--curve none" -- "$natsim" sweep "$tmp/birthday.nsim" --vary bob.probes=64 \
	--trials 2 --format csv --curve none
lacks "$out" "curve_p" "--curve none"
expect_exit 2 "--curve birthday on another sweep" -- "$natsim" sweep "$tmp/birthday.nsim" \
	--vary home.preset=symmetric,full-cone --trials 2 --curve birthday
contains "$err" "--curve birthday: the birthday curve needs one --vary, of a host's probe budget" \
	"what the sweep lacks"
expect_exit 2 "--curve birthday, the hard side not searching" -- "$natsim" sweep \
	"$tmp/birthday.nsim" --set alice.techniques=none --vary bob.probes=64 --trials 2 \
	--curve birthday
contains "$err" "alice to run the birthday search" "the hard side named"
expect_exit 2 "bad --curve" -- "$natsim" sweep "$tmp/birthday.nsim" --curve parabola
contains "$err" "--curve expects auto, birthday or none" "--curve's words"

finish
