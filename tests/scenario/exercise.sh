#!/usr/bin/env bash
# exercise.sh NATSIM SOURCE_DIR - natsim exercise as a student, a teacher and
# a script see it: the key, marking and exit codes, bad input (exit 2 with
# file:line:col), nothing given away before answering, and every bundled
# question able to be answered wrongly (exercise_changes.txt).
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
ex=$src/scenarios/course/01-hole-punch.nsim

# The key: every question's computed answer.
expect_exit 0 "--teacher" -- "$natsim" exercise "$ex" --teacher --ascii
key=$out
contains "$key" "answer: direct" "the key gives q1"
contains "$key" "answer: office nat-filter" "the key gives q2"
contains "$key" "note: " "the key shows teacher notes"
contains "$key" "variant office.preset = port-restricted-cone" "the reference world's variant"

# answers_from_key: the key as an answers file, every answer right.
sed -n 's/^  \(q[0-9]*\)\. .*/\1/p' <<<"$key" >"$tmp/ids"
sed -n 's/^     answer: \(.*\)  (.*)$/\1/p' <<<"$key" >"$tmp/values"
paste -d= "$tmp/ids" "$tmp/values" | sed 's/=/ = /' >"$tmp/right.txt"
checks=$((checks + 1))
[ "$(wc -l <"$tmp/right.txt")" -ge 8 ] || fail "the key has $(wc -l <"$tmp/right.txt") answers"
expect_exit 0 "all right" -- "$natsim" exercise "$ex" --answers "$tmp/right.txt" --ascii
contains "$out" "Score: 80/80 (8 of 8 right)" "full marks"
contains "$out" "Fate: " "explanations are natsim why's stories"

# One wrong, one hint opened: exit 1, the score says so.
sed 's/^q1 = .*/q1 = relayed/' "$tmp/right.txt" >"$tmp/wrong.txt"
echo "hint q2" >>"$tmp/wrong.txt"
expect_exit 1 "one wrong" -- "$natsim" exercise "$ex" --answers "$tmp/wrong.txt" --ascii
contains "$out" "you said: relayed" "the wrong answer is shown"
contains "$out" "Score: 65/80 (7 of 8 right)" "a wrong answer and a hint cost points"
# Answers on stdin, as a script gives them.
checks=$((checks + 1))
"$natsim" exercise "$ex" --ascii <"$tmp/right.txt" >"$tmp/o" 2>&1 || fail "answers on stdin: exit $?"

# A student's variant differs from the reference world and is stable.
for id in s1 s2 s3 s4 s5 s6 s7 s8; do
	"$natsim" exercise "$ex" --teacher --student "$id" | grep -m1 'variant'
done | sort -u >"$tmp/variants"
checks=$((checks + 1))
[ "$(wc -l <"$tmp/variants")" -ge 2 ] || fail "eight students all got the same world"
a=$("$natsim" exercise "$ex" --teacher --student ana)
b=$("$natsim" exercise "$ex" --teacher --student ana)
checks=$((checks + 1))
[ "$a" = "$b" ] || fail "the same student id gave two keys"

# A variant the teacher marks `shown`: each student is told their value.
for id in s1 s2 s3 s4 s5 s6 s7 s8; do
	"$natsim" exercise "$ex" --questions --student "$id" | grep '^  in your world: '
done | sort -u >"$tmp/shown"
checks=$((checks + 1))
[ "$(wc -l <"$tmp/shown")" -ge 2 ] && grep -q "office.preset = " "$tmp/shown" ||
	fail "students are not told their world's shown variant: $(cat "$tmp/shown")"

# Bad input: exit 2 and where.
printf 'q9 = direct\n' >"$tmp/bad.txt"
expect_exit 2 "unknown question id" -- "$natsim" exercise "$ex" --answers "$tmp/bad.txt"
contains "$err" "bad.txt:1:1: error: no question 'q9' in this exercise" "names file:line:col"
expect_exit 2 "unreadable answers" -- "$natsim" exercise "$ex" --answers "$tmp/none.txt"
contains "$err" "cannot read" "says the answers file cannot be read"
expect_exit 2 "no such exercise" -- "$natsim" exercise "$tmp/nope.nsim" --teacher
contains "$err" "cannot read" "says the exercise cannot be read"
sed 's/ outcome alice and bob/ outcom alice and bob/' "$ex" >"$tmp/typo.nsim"
expect_exit 2 "a typo in the exercise" -- "$natsim" exercise "$tmp/typo.nsim" --teacher
contains "$err" "typo.nsim:23:" "the typo's line"
contains "$err" "did you mean 'outcome'" "a suggestion"
expect_exit 2 "--teacher with --answers" -- "$natsim" exercise "$ex" --teacher --answers "$tmp/right.txt"
expect_exit 2 "no exercise" -- "$natsim" exercise

# Nothing before the answers gives one away: the intro names nodes and
# addresses; only the answer-choice lines may hold answer words.
for f in "$src"/scenarios/course/*.nsim; do
	name=course/$(basename "$f" .nsim)
	expect_exit 0 "$name --questions" -- "$natsim" exercise "$f" --questions --ascii
	intro=$(grep -v '^     answer' <<<"$out" | grep -v '^  in your world: ' | tr '[:upper:]' '[:lower:]') # "Direct" too; a shown variant is the teacher's choice
	for word in direct relayed unconnected nat-filter nat-no-mapping no-socket link-loss \
		port-restricted full-cone symmetric restricted-cone unreplied assured \
		dropped delivered firewall; do
		lacks "$intro" "$word" "$name: the questions give away '$word'"
	done
	# Nor do the answer lines: no example there may be a drop's answer.
	key=$("$natsim" exercise "$f" --teacher --ascii)
	while read -r answer; do
		lacks "$out" "$answer" "$name: the questions show the answer '$answer'"
	done < <(sed -n 's/^     answer: \([^ ]* [^ ]*\)  (drop)$/\1/p' <<<"$key")
done

# Every question's answer can be wrong: a change of the world changes it.
while read -r name q sets; do
	case $name in '#'* | '') continue ;; esac
	# shellcheck disable=SC2086
	ref=$("$natsim" exercise "$name" --teacher | sed -n "/^  $q\. /{n;p}")
	# shellcheck disable=SC2086
	alt=$("$natsim" exercise "$name" --teacher $sets | sed -n "/^  $q\. /{n;p}")
	checks=$((checks + 1))
	[ -n "$ref" ] && [ "$ref" != "$alt" ] ||
		fail "$name $q: '$sets' does not change its answer ($ref)"
done <"$(dirname "$0")/exercise_changes.txt"
for f in "$src"/scenarios/course/*.nsim; do
	name=course/$(basename "$f" .nsim)
	for q in $(sed -n 's/^question \([^ ]*\) .*/\1/p' "$f"); do
		checks=$((checks + 1))
		grep -q "^$name $q " "$(dirname "$0")/exercise_changes.txt" ||
			fail "$name $q has no line in exercise_changes.txt"
	done
done
finish
