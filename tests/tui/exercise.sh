#!/usr/bin/env bash
# natsim exercise as a student at a terminal, through tmux: the instructions,
# the world and the questions appear before anything runs; '?' opens a hint;
# the student types each answer; then the marks, the explanations and the
# score, with the hint's cost. Usage: exercise.sh NATSIM_BINARY.
# Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -u
natsim=$1
if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux is not installed; this test needs it"
	exit 77
fi
sock="natsim-exercise-test-$$"
tmp=$(mktemp -d)
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$tmp"' EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# The whole pane, scrollback included: the report is longer than a screen.
screen() { tm capture-pane -p -S -3000 -t ex 2>/dev/null; }
wait_for() {
	local deadline=$((SECONDS + ${2:-15}))
	while [ $SECONDS -lt $deadline ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}
check() { # check TEXT DESCRIPTION
	checks=$((checks + 1))
	wait_for "$1" || { fail "$2: '$1' not on screen"; screen | tail -30 | sed 's/^/  | /'; }
}
answer() { # answer TEXT: type a line at the current question
	tm send-keys -t ex -l -- "$1"
	tm send-keys -t ex Enter
}

tm new-session -d -s ex -x 100 -y 40 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp' HOME='$tmp' \
	'$natsim' exercise course/01-hole-punch --ascii; echo EXIT=\$?; sleep 60" ||
	{ echo "FAIL: tmux new-session"; exit 1; }

check "Exercise 1: two laptops behind home routers" "the title"
check "Bob's Wi-Fi is slow" "the instructions"
check "office  router with NAT, public 198.51.100.9" "the world, names and addresses"
check "in your world: office.preset = port-restricted-cone" "the variant the teacher shows"
check "Questions (8, 10 points each):" "the questions before anything runs"
check "q1. How do Alice and Bob end up talking?" "the first question asked"
check "your answer (? for a hint):" "the prompt offers a hint"
checks=$((checks + 1))
screen | grep -q "Score:" && fail "a score before any answer"

answer "?"
check "hint 1: Both routers keep one public port" "the first hint"
answer "direct"
check "q2. Alice's first packet" "the next question"
answer "office nat-filter"
answer "5000"
answer "yes"
answer "replied"
answer "1.486"
answer "28.4"
answer "no" # wrong: the mapping is still there at 170 s
check "EXIT=1" "exit 1: one answer wrong"
check "[ok] q1. How do Alice and Bob end up talking?" "q1 marked right"
check "answer: direct  (7/10 points, hints opened)" "the hint cost part of q1's points"
check "[x] q8." "q8 marked wrong"
check "answer: yes; you said: no" "the wrong answer and the right one"
check "Fate: dropped at office (nat-filter)" "q2 explained by natsim why's story"
check "Score: 67/80 (7 of 8 right)" "the score"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" = 0 ]
