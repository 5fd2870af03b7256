#!/usr/bin/env bash
# course.sh NATSIM SOURCE_DIR - natsim course as a student sees it: the
# bundled exercises in order with status and best score, progress recorded
# by natsim exercise (not by --teacher, --questions or --no-progress), a
# damaged progress file set aside and kept, an unwritable state folder a
# warning only, and the exit codes.
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
export XDG_STATE_HOME=$tmp/state
state=$XDG_STATE_HOME/natsim/progress.json
n=$(ls "$src"/scenarios/course/*.nsim | wc -l)

# Nobody has started: every exercise listed in order, not started.
expect_exit 0 "a new student" -- "$natsim" course
contains "$out" "The course: $n exercises, in order" "counts the exercises"
contains "$out" "01-hole-punch" "lists the first exercise"
contains "$out" "0 of $n done. Next: natsim exercise course/01-hole-punch" "says where to start"
checks=$((checks + 1))
[ "$(grep -c 'not started' <<<"$out")" = "$n" ] || fail "not every exercise is 'not started'"
checks=$((checks + 1))
[ "$(grep -o '^  [0-9][0-9]-[a-z0-9-]*' <<<"$out" | sort -c 2>&1)" = "" ] ||
	fail "the exercises are not in their numbered order"
checks=$((checks + 1))
[ ! -e "$state" ] || fail "listing the course wrote a progress file"

# --teacher, --questions and --no-progress record nothing.
"$natsim" exercise course/02-firewall --teacher >/dev/null
"$natsim" exercise course/02-firewall --questions >/dev/null
echo "q1 = delivered" | "$natsim" exercise course/02-firewall --no-progress >/dev/null
checks=$((checks + 1))
[ ! -e "$state" ] || fail "a mode that is not an attempt recorded progress"

# An attempt (one right of five) and a better one (all right): best kept.
echo "q1 = delivered" | "$natsim" exercise course/02-firewall >/dev/null
"$natsim" exercise course/02-firewall --teacher |
	sed -n 's/^  \(q[0-9]*\)\. .*/\1/p' >"$tmp/ids"
"$natsim" exercise course/02-firewall --teacher |
	sed -n 's/^     answer: \(.*\)  (.*)$/\1/p' >"$tmp/values"
paste -d= "$tmp/ids" "$tmp/values" | sed 's/=/ = /' >"$tmp/right.txt"
expect_exit 0 "all right" -- "$natsim" exercise course/02-firewall --answers "$tmp/right.txt"
echo "q1 = delivered" | "$natsim" exercise course/02-firewall >/dev/null
expect_exit 0 "after three attempts" -- "$natsim" course
contains "$out" "done, best 50/50 (3 attempts, last $(date -u +%Y-%m-%d))" "best score and attempts"
contains "$out" "1 of $n done. Next: natsim exercise course/01-hole-punch" "the next one"
contains "$out" "Your progress: $state" "where it is kept"

# A damaged file: reported, set aside with its bytes, a new one started.
printf '{"exercises": {\n  "course/02-firewall": oops\n' >"$state"
expect_exit 0 "a damaged progress file" -- "$natsim" course
contains "$err" "progress file $state is damaged (2:" "says it is damaged, with line:col"
contains "$err" "it was moved to $state.damaged-" "says where it went"
contains "$err" "and a new one started" "says a new one was started"
contains "$out" "0 of $n done" "the new one is empty"
checks=$((checks + 1))
grep -q oops "$state".damaged-* || fail "the damaged file was not kept"
checks=$((checks + 1))
grep -q '"exercises"' "$state" || fail "no new progress file"

# An unwritable state folder: the exercise still marks and exits as it would.
export XDG_STATE_HOME=$tmp/blocked
echo "not a folder" >"$tmp/blocked"
expect_exit 1 "an attempt with nowhere to record it" -- \
	"$natsim" exercise course/02-firewall --answers /dev/null
contains "$err" "cannot write progress file" "warns"
contains "$out" "Score: 0/50" "still marks"
expect_exit 0 "course with an unwritable folder" -- "$natsim" course

# Every bundled exercise has instructions, hints, teacher notes and
# questions of at least two kinds; at least three have variants.
with_variants=0
for f in "$src"/scenarios/course/*.nsim; do
	name=$(basename "$f" .nsim)
	for statement in instructions hint teacher question; do
		checks=$((checks + 1))
		grep -q "^$statement " "$f" || fail "$name has no '$statement' line"
	done
	kinds=$("$natsim" exercise "$f" --teacher | sed -n 's/^     answer: .*  (\([a-z]*\))$/\1/p' | sort -u | wc -l)
	checks=$((checks + 1))
	[ "$kinds" -ge 2 ] || fail "$name asks questions of $kinds kind(s), not two or more"
	grep -q '^variant ' "$f" && with_variants=$((with_variants + 1))
done
checks=$((checks + 1))
[ "$n" -ge 12 ] || fail "the course has $n exercises, not 12 or more"
checks=$((checks + 1))
[ "$with_variants" -ge 3 ] || fail "only $with_variants exercises have variants"

# Bad usage.
expect_exit 2 "an argument" -- "$natsim" course extra
contains "$err" "takes no arguments" "says why"
expect_exit 0 "--help" -- "$natsim" course --help
contains "$out" "progress.json" "the help says where progress is kept"
finish
