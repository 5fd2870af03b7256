#!/usr/bin/env bash
# natsim tui --predict through tmux: the first screen gives no answer away
# (no outcome, no drop reason, no NAT kind: only the questions' own choices
# name them); the student answers the questions without a moment in the
# question pane, opening one hint; then steps through the run, which stops
# and asks at each other question's moment (the drop question when its
# packet is sent, the table questions at their times) with nothing after it
# shown; then the marks and the score; then the whole run to step through,
# outcomes and all, and the attempt is in the progress file (a temporary
# XDG_STATE_HOME: nothing is written to the real home).
# Usage: predict.sh NATSIM_BINARY. Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -u
natsim=$1
if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux is not installed; this test needs it"
	exit 77
fi
sock="natsim-predict-test-$$"
tmp=$(mktemp -d)
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$tmp"' EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
screen() { tm capture-pane -p -t pr 2>/dev/null; }
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
	wait_for "$1" || { fail "$2: '$1' not on screen"; screen | sed 's/^/  | /'; }
}
# no_spoilers WHEN: the screen without the lines that list a question's
# choices ("answer one of: direct relayed ...") and without the variant the
# teacher shows ("In your world: office.preset = ...", and the line it may
# wrap onto) names no answer.
no_spoilers() {
	local shown word
	shown=$(screen | grep -v -e "answer one of:" -e "answer: NODE REASON" -e "reasons:" |
		awk '/In your world/ { skip = 2 } skip > 0 { skip--; next } { print }')
	for word in direct relayed nat-filter port-restricted symmetric "(ends " cone; do
		checks=$((checks + 1))
		if printf '%s\n' "$shown" | grep -qF -- "$word"; then
			fail "$1: '$word' is on screen before the answers"
			printf '%s\n' "$shown" | sed 's/^/  | /'
		fi
	done
}
answer() { # answer TEXT: type a line into the question pane
	tm send-keys -t pr -l -- "$1"
	tm send-keys -t pr Enter
}

tm new-session -d -s pr -x 100 -y 30 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp' HOME='$tmp' \
	'$natsim' tui --predict course/01-hole-punch --ascii; echo EXIT=\$?; sleep 60" ||
	{ echo "FAIL: tmux new-session"; exit 1; }

check "Question 1 of 8 (q1)" "the first question is asked at once"
check "How do Alice and Bob end up talking?" "q1's text"
check "alice <-> bob: ?" "the pair, its outcome a question"
check "home NAT 203.0.113.7" "the world: names and addresses"
check "(hidden until you have answered)" "the tables withheld"
check "In your world: office.preset =" "the variant the teacher shows"
no_spoilers "the first screen"
# keys that would step the run are typed into the answer instead
tm send-keys -t pr -l "n"
check "your answer (? for a hint, it costs points): n_" "keys go to the line editor"
tm send-keys -t pr BSpace
no_spoilers "after a step key"

tm send-keys -t pr -l "?"
check "hint 1: Both routers keep one public port" "? opens a hint"
answer "direct"
# the questions with no moment first (q1 q3 q4 q6), then the run opens
check "Question 2 of 8 (q3)" "the next question before the run"
no_spoilers "the second question"
answer "5000"
answer "yes"
answer "1.486"
check "the run stops at the next question" "the run opens up to the next question"
check "Timeline  124 of 3344 records" "the timeline up to the drop question's moment"
checks=$((checks + 1))
screen | grep -qF -e "(ends " -e "#11 dropped" && fail "the outcome or the drop before its question"
tm send-keys -t pr -l "r"
check "Question 5 of 8 (q2)" "running stops at the decisive packet and asks"
check "#11 send at alice" "the decisive packet is being sent"
checks=$((checks + 1))
screen | grep -qF -e "(ends " -e "#11 dropped" && fail "the drop shown before its question"
answer "office nat-filter"
tm send-keys -t pr -l "n"
check "#11 tx at alice" "n steps on by one packet hop, not past the next question"
tm send-keys -t pr g 3 0 0 Enter
check "Question 6 of 8 (q5)" "going to a later time stops at 2 s's question"
answer "replied"
tm send-keys -t pr g 3 0 0 Enter
check "Question 7 of 8 (q7)" "and at 3 s's"
answer "28.4"
tm send-keys -t pr g 3 0 0 Enter
check "Question 8 of 8 (q8)" "and at 170 s's"
answer "no" # wrong: home still maps alice:5000 at 170 s

check "Your marks" "the marks after the last answer"
check "[ok] q1. How do Alice and Bob end up talking?" "q1 marked right"
check "answer: direct  (7/10 points, hints opened)" "the hint cost part of q1's points"
check "[ok] q2. Alice's first packet" "q2, asked at its moment, marked in file order"
check "Score: 67/80 (7 of 8 right)" "the score"
tm send-keys -t pr PageDown
check "[x] q8." "q8 marked wrong"
check "answer: yes; you said: no" "the wrong answer and the right one"

tm send-keys -t pr Escape # closes the marks: the whole run is open
check "alice <-> bob: direct (ends direct)" "the outcome, now the answers are in"
check "record 3194/3344" "the cursor where the last question was asked"
tm send-keys -t pr -l "b"
check "record 3193/3344" "b steps back"
tm send-keys -t pr -l "n"
check "record 3194/3344" "n steps forward again"
tm send-keys -t pr -l "nn"
check "record 3198/3344" "past the last question's moment"
# (filtered on the filtering drops: with the internet router's no-route
# drops and their ICMP answers, "dropped" has more lines than fit)
tm send-keys -t pr / a c c e p t s Enter
check "#11 dropped 203.0.113.7:5000 -> 198.51.100.9:5000: its mapping for" "the decisive drop and why, in the timeline"
tm send-keys -t pr -l "m"
check "Score: 67/80" "m shows the marks again"
tm send-keys -t pr -l "q"
check "EXIT=0" "q quits"

checks=$((checks + 1))
grep -q '"course/01-hole-punch"' "$tmp/natsim/progress.json" 2>/dev/null &&
	grep -q '"best": 67' "$tmp/natsim/progress.json" ||
	fail "the attempt is not in the progress file: $(cat "$tmp/natsim/progress.json" 2>&1)"

# --no-progress: every question skipped (empty answers), nothing recorded
tm kill-session -t pr
cp "$tmp/natsim/progress.json" "$tmp/before.json" 2>/dev/null
tm new-session -d -s pr -x 100 -y 30 \
	"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 XDG_STATE_HOME='$tmp' HOME='$tmp' \
	'$natsim' tui --predict course/01-hole-punch --ascii --no-progress; echo EXIT=\$?; sleep 60" ||
	{ echo "FAIL: tmux new-session"; exit 1; }
check "Question 1 of 8 (q1)" "asked again"
for _ in 1 2 3 4; do tm send-keys -t pr Enter; done # the questions before the run
for _ in 1 2 3 4; do tm send-keys -t pr g 3 0 0 Enter Enter; done # each at its moment
check "Score: 0/80 (0 of 8 right)" "skipped questions earn nothing"
check "answer: direct; you did not answer" "a skipped question still shows its answer"
tm send-keys -t pr -l "q"
check "EXIT=0" "q quits the marks"
checks=$((checks + 1))
cmp -s "$tmp/before.json" "$tmp/natsim/progress.json" ||
	fail "--no-progress, yet the progress file changed"

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" = 0 ]
