#!/usr/bin/env bash
# natsim sweep through the binary (issue 17, "Sweeps and plots"): the same
# bytes whatever --jobs, the csv and json shapes, bad --vary named, a sweep
# whose outcome turns with the value, and the plot (gnuplot) or a clear
# refusal without it. Usage: sweep.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

expect_exit 0 "sweep --help" -- "$natsim" sweep --help
contains "$out" "cartesian product" "--help says several --vary combine"
contains "$out" "--jobs N" "--help names --jobs"
expect_exit 0 "top --help lists sweep" -- "$natsim" --help
contains "$out" "sweep" "sweep in the command list"

# Symmetric against symmetric is relayed; make one side full-cone and every
# trial goes direct.
vary=(symmetric-pair --vary home.preset=full-cone,symmetric --trials 20)
expect_exit 0 "preset sweep" -- "$natsim" sweep "${vary[@]}" --format csv --jobs 2
[ "$(printf '%s\n' "$out" | wc -l)" = 3 ] || fail "csv: a header and one row per value: $out"
header='home.preset,a,b,trials,direct,direct_share,direct_low,direct_high,relayed,relayed_share,relayed_low,relayed_high,failed,failed_share,failed_low,failed_high,connected,connect_median_ms,connect_p90_ms'
contains "$out" "$header" "csv header"
contains "$out" "full-cone,alice,bob,20,20,1.0000,0.8389,1.0000,0," "full-cone: all direct, Wilson [0.839, 1]"
contains "$out" "symmetric,alice,bob,20,0,0.0000,0.0000,0.1611,20,1.0000," "symmetric: none direct, all relayed"
[ -z "$err" ] || fail "no progress bar when stderr is not a terminal: '$err'"
csv=$out

# The same bytes on one process and on two; text and json too.
expect_exit 0 "preset sweep, one job" -- "$natsim" sweep "${vary[@]}" --format csv --jobs 1
[ "$out" = "$csv" ] || fail "--jobs 1 and --jobs 2 differ"
lossy=(classic --vary internet.loss=0%,20% --vary office.preset=port-restricted-cone,full-cone --trials 15)
for fmt in text json; do
	"$natsim" sweep "${lossy[@]}" --format $fmt --jobs 1 >"$tmp/one.$fmt" 2>&1
	"$natsim" sweep "${lossy[@]}" --format $fmt --jobs 2 >"$tmp/two.$fmt" 2>&1
	checks=$((checks + 1))
	cmp -s "$tmp/one.$fmt" "$tmp/two.$fmt" || fail "$fmt: --jobs 1 and 2 differ"
done
contains "$(cat "$tmp/one.text")" "internet.loss  office.preset         pair" "text: a column per --vary"
contains "$(cat "$tmp/one.text")" "20%            full-cone             alice" "text: the last --vary changes fastest"
python3 - "$tmp/one.json" <<'PY' || fail "json shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["vary"] == ["internet.loss", "office.preset"], d["vary"]
assert d["trials"] == 15 and d["seed"] == 1
pts = d["points"]
assert [tuple(p["values"].values()) for p in pts] == [
    ("0%", "port-restricted-cone"), ("0%", "full-cone"),
    ("20%", "port-restricted-cone"), ("20%", "full-cone")], pts
for p in pts:
    (pair,) = p["pairs"]
    assert (pair["a"], pair["b"]) == ("alice", "bob")
    n = sum(pair[o]["count"] for o in ("direct", "relayed", "failed"))
    assert n == 15, pair
    for o in ("direct", "relayed", "failed"):
        s = pair[o]
        assert 0 <= s["low"] <= s["share"] <= s["high"] <= 1, s
    # a pair that connected and later lost its path still had a connect time
    assert pair["connected"] >= pair["direct"]["count"] + pair["relayed"]["count"], pair
    assert (pair["connect_median_ms"] is None) == (pair["connected"] == 0), pair
PY
checks=$((checks + 1))
# Another seed, other trials.
"$natsim" sweep "${lossy[@]}" --format json --seed 99 >"$tmp/seed99.json" 2>&1
checks=$((checks + 1))
cmp -s "$tmp/one.json" "$tmp/seed99.json" && fail "--seed changes nothing"

# A trial again by hand, as docs/sweep.md tells: trial t's seed is splitmix64's
# (t+1)-th output from --seed (computed here independently of natsim), and
# natsim run with that seed and the value as --set tells the same story:
# with --trials t+1 the one count that grows is that run's outcome, and
# trial 0's time to connect is the sweep's median of one.
for t in 0 1 2; do
	x=$(python3 -c 'import sys
s, t = map(int, sys.argv[1:]); m = 2**64 - 1
x = (s + (t + 1) * 0x9e3779b97f4a7c15) & m
x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & m
x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & m
print(x ^ (x >> 31))' 3 $t)
	row=$("$natsim" sweep classic --vary internet.loss=30% --trials $((t + 1)) --seed 3 \
		--format csv | tail -n 1)
	run_out=$("$natsim" run classic -q --set internet.loss=30% --seed "$x")
	end=$(printf '%s\n' "$run_out" | sed -n 's/.*alice ↔ bob: \([a-z]*\) at the end.*/\1/p')
	after=$(printf '%s\n' "$run_out" | sed -n 's/.*(\([0-9.]*\) s after asking).*/\1/p')
	printf '%s|%s|%s|%s\n' "$t" "$end" "$after" "$row" >>"$tmp/trials"
done
python3 - "$tmp/trials" <<'PY2' || fail "a trial run by hand with its seed differs: $(cat "$tmp/trials")"
import sys
prev = {"direct": 0, "relayed": 0, "failed": 0}
for line in open(sys.argv[1]):
    t, end, after, row = line.rstrip("\n").split("|")
    f = row.split(",")
    counts = {"direct": int(f[4]), "relayed": int(f[8]), "failed": int(f[12])}
    outcome = end if end in ("direct", "relayed") else "failed"
    assert [k for k in counts if counts[k] != prev[k]] == [outcome], (line, prev)
    prev = counts
    if t == "0":
        # natsim run shows milliseconds, the csv microseconds
        assert after and abs(float(f[17]) - float(after) * 1000) < 1, line
PY2
checks=$((checks + 1))

# --per-trial: every trial with its seed; natsim run with that seed and the
# value as --set is that trial (its outcome and its time to connect).
expect_exit 0 "--per-trial" -- "$natsim" sweep classic --vary internet.loss=0%,30% --trials 4 \
	--seed 3 --per-trial "$tmp/per.csv"
contains "$(head -n 1 "$tmp/per.csv")" "internet.loss,trial,seed,a,b,outcome,connect_ms" "--per-trial header"
checks=$((checks + 1))
[ "$(wc -l <"$tmp/per.csv")" = 9 ] || fail "--per-trial: 2 values x 4 trials: $(cat "$tmp/per.csv")"
while IFS=, read -r loss trial seed a b outcome ms; do
	run_out=$("$natsim" run classic -q --set "internet.loss=$loss" --seed "$seed")
	end=$(printf '%s\n' "$run_out" | sed -n 's/.*alice ↔ bob: \([a-z]*\) at the end.*/\1/p')
	after=$(printf '%s\n' "$run_out" | sed -n 's/.*(\([0-9.]*\) s after asking).*/\1/p')
	case $end in direct | relayed) ;; *) end=failed ;; esac
	checks=$((checks + 1))
	[ "$end" = "$outcome" ] || fail "trial $trial at $loss: the sweep says $outcome, natsim run $end"
	checks=$((checks + 1))
	python3 -c 'import sys; a, b = sys.argv[1:]; assert (a == "") == (b == "") and (a == "" or abs(float(a) * 1000 - float(b)) < 1)' \
		"$after" "$ms" || fail "trial $trial at $loss: connect $ms ms in the sweep, $after s in natsim run"
done < <(tail -n +2 "$tmp/per.csv")
contains "$(cat "$tmp/per.csv")" "30%,2," "--per-trial rows of the second value"

# Bundled sweeps: a bundled scenario named without --vary runs its own;
# --trials given wins, and a --vary given replaces it.
expect_exit 0 "bundled sweep" -- "$natsim" sweep prediction-background --trials 3
contains "$out" "(its bundled sweep: --vary bob.prediction-window=8,16,24,32,40,48,64 --trials 100)" "the plan said"
contains "$out" "prediction-background: 3 trials per point" "--trials wins"
contains "$out" "64                     bob ↔ alice  1.000" "a 64-port window catches up"
contains "$out" "8                      bob ↔ alice  0.000" "an 8-port window does not"
expect_exit 0 "bundled birthday sweep" -- "$natsim" sweep birthday --trials 20 --format csv
[ "$(printf '%s\n' "$out" | wc -l)" = 9 ] || fail "birthday: a header and 8 values of bob.probes: $out"
contains "$(head -n 1 <<<"$out")" "bob.probes,a,b,trials" "birthday: bob.probes varied"
contains "$(head -n 1 <<<"$out")" "curve_p,curve_low,curve_high,curve_fits" "birthday: against its curve"
lacks "$out" "run-ends" "birthday: --until 30s lets every probe leave"
birthday_csv=$out
expect_exit 0 "bundled birthday sweep, one job" -- "$natsim" sweep birthday --trials 20 --format csv --jobs 1
[ "$out" = "$birthday_csv" ] || fail "birthday: --jobs 1 and the default differ (the curve's columns too)"
expect_exit 0 "bundled scenario, own --vary" -- "$natsim" sweep birthday --vary internet.latency=20ms \
	--trials 2 --format csv
lacks "$out" "bob.probes" "a --vary given replaces the bundled sweep"
lacks "$out" "curve_p" "no curve for a latency sweep"

# Bad --vary: the flag named, the value named as --set names it.
expect_exit 2 "--vary without =" -- "$natsim" sweep classic --vary home.preset
contains "$err" "--vary 'home.preset': expected NAME.KEY=V1,V2" "no '=' named"
expect_exit 2 "--vary unknown node" -- "$natsim" sweep classic --vary hom.preset=symmetric
contains "$err" "--set 'hom.preset=symmetric': no NAT or host is named 'hom'; did you mean 'home'?" "unknown node"
expect_exit 2 "--vary bad value" -- "$natsim" sweep classic --vary home.preset=full-cone,banana
contains "$err" "value 'banana'" "bad value named"
contains "$err" "--set 'home.preset=banana'" "bad value as --set names it"
lacks "$err" "value 'full-cone'" "good value not blamed"
expect_exit 2 "--vary empty value" -- "$natsim" sweep classic --vary home.preset=full-cone,
contains "$err" "empty value" "empty value"
expect_exit 2 "--vary seed" -- "$natsim" sweep classic --vary seed=1,2
contains "$err" "seed cannot be varied" "seed refused"
expect_exit 2 "--vary twice" -- "$natsim" sweep classic --vary internet.loss=1% --vary internet.loss=2%
contains "$err" "internet.loss is varied twice" "one key, one --vary"
expect_exit 2 "bad fixed --set" -- "$natsim" sweep classic --set home.preset=banana \
	--vary internet.loss=1%,2%
contains "$err" "--set 'home.preset=banana'" "a bad --set named"
lacks "$err" "value '1%'" "a bad --set is not blamed on the values"
expect_exit 2 "--trials 0" -- "$natsim" sweep classic --trials 0
contains "$err" "--trials" "--trials named"
expect_exit 2 "--jobs 0" -- "$natsim" sweep classic --jobs 0
contains "$err" "--jobs" "--jobs named"
expect_exit 2 "bad --format" -- "$natsim" sweep classic --format xml
contains "$err" "--format expects text, csv or json" "--format named"

# A scenario with a mistake: file:line:col; one without a `connect`: said.
printf 'title "x"\ncordinator c at 192.0.2.1\n' >"$tmp/bad.nsim"
expect_exit 2 "bad scenario" -- "$natsim" sweep "$tmp/bad.nsim" --trials 2
contains "$err" "bad.nsim:2:1: error:" "scenario error located"
printf 'title "idle"\nhost a at 203.0.113.5 public\n' >"$tmp/idle.nsim"
expect_exit 2 "no connect" -- "$natsim" sweep "$tmp/idle.nsim" --trials 2
contains "$err" "no \`connect\` action" "nothing to count"

# The plot: a real SVG; its script draws it again by hand. (CI installs
# gnuplot-nox from .ci/packages; without it only the refusals are checked.)
if command -v gnuplot >/dev/null; then
	expect_exit 0 "--plot svg" -- "$natsim" sweep symmetric-pair --vary home.preset=full-cone,symmetric \
		--trials 5 --plot "$tmp/p.svg" --plot-script "$tmp/p.gp"
	python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); assert d.documentElement.tagName == "svg"' \
		"$tmp/p.svg" || fail "--plot: not a valid SVG"
	contains "$(cat "$tmp/p.svg")" "alice-bob direct" "the SVG has the direct series"
	contains "$(cat "$tmp/p.gp")" "set output '$tmp/p.svg'" "the script draws into --plot's file"
	rm -f "$tmp/p.svg"
	gnuplot "$tmp/p.gp" && [ -s "$tmp/p.svg" ] || fail "the script does not draw again by hand"
	checks=$((checks + 1))
	expect_exit 0 "--plot png" -- "$natsim" sweep classic --vary internet.loss=0%,20% --trials 3 \
		--plot "$tmp/p.png"
	checks=$((checks + 1))
	[ "$(head -c 8 "$tmp/p.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "--plot: not a PNG"
	ls "$tmp" | grep -q part && fail "a temporary file was left: $(ls "$tmp")"
	# The birthday sweep's plot carries its curve, on a log-2 axis.
	expect_exit 0 "--plot with the curve" -- "$natsim" sweep birthday --trials 5 \
		--plot "$tmp/b.svg" --plot-script "$tmp/b.gp"
	contains "$(cat "$tmp/b.gp")" "1-(1-256.0/64512)**x with lines dashtype 2" "the curve drawn"
	contains "$(cat "$tmp/b.gp")" "set logscale x 2" "doubling n on a log-2 axis"
	contains "$(cat "$tmp/b.svg")" "1-(1-K/R)^n, K = 256, R = 64512" "the curve in the SVG's key"
else
	echo "gnuplot not installed (Debian: gnuplot-nox): drawing not checked"
fi
expect_exit 2 "--plot into a missing folder" -- "$natsim" sweep classic --trials 2 \
	--plot "$tmp/no/such/p.svg"
contains "$err" "--plot: cannot write $tmp/no/such/p.svg" "--plot's folder checked before the trials"
lacks "$out" "alice" "no trial ran for an unwritable --plot"
expect_exit 2 "--plot bad ending" -- "$natsim" sweep classic --trials 2 --plot "$tmp/p.pdf"
contains "$err" "--plot expects a file ending in .svg or .png" "--plot ending"
# Without gnuplot: a clear refusal naming the package, before any trial,
# and no file at all.
expect_exit 2 "--plot without gnuplot" -- env PATH=/nonexistent "$natsim" sweep classic \
	--trials 2 --plot "$tmp/none.svg"
contains "$err" "gnuplot-nox" "the package named"
lacks "$out" "alice" "no trial ran"
checks=$((checks + 1))
[ ! -e "$tmp/none.svg" ] || fail "a plot file was written without gnuplot"

finish
