#!/usr/bin/env bash
# handout.sh - natsim handout and natsim exercise --export gift as a user and
# a script see them: files written, exit codes, and a clear message (exit 2,
# never a crash) for bad input and an unwritable output path.
# Usage: handout.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
sheet=$src/tests/browser/sheet.nsim

# handout: a page by path and by bundled name, to a file or stdout
expect_exit 0 "handout by path" -- "$natsim" handout "$sheet" -o "$tmp/s.html"
contains "$(cat "$tmp/s.html")" "</html>" "handout written whole"
expect_exit 0 "handout by name" -- "$natsim" handout course/01-hole-punch -o -
contains "$out" "<svg" "handout to stdout"
expect_exit 0 "handout --teacher --student" -- "$natsim" handout "$sheet" --teacher \
	--student alice -o -
contains "$out" "answer key for student <b>alice</b>" "teacher sheet names the student"

# handout: bad input, exit 2 with the reason
expect_exit 2 "handout unwritable" -- "$natsim" handout "$sheet" -o "$tmp/no/such/dir/s.html"
contains "$err" "cannot write $tmp/no/such/dir/s.html: No such file or directory" \
	"unwritable -o message"
expect_exit 2 "handout without -o" -- "$natsim" handout "$sheet"
contains "$err" "give -o SHEET.html" "missing -o message"
expect_exit 2 "handout missing file" -- "$natsim" handout "$tmp/nothing.nsim" -o "$tmp/x.html"
contains "$err" "cannot read" "missing exercise message"
[ -e "$tmp/x.html" ] && fail "bad input left a sheet behind"
printf 'question q1 "x" outcome alice and nobody\n' >"$tmp/bad.nsim"
expect_exit 2 "handout bad exercise" -- "$natsim" handout "$tmp/bad.nsim" -o "$tmp/x.html"
contains "$err" "bad.nsim:" "bad exercise names its file"
expect_exit 2 "handout bad --set" -- "$natsim" handout "$sheet" --set office.preset=cheese \
	-o "$tmp/x.html"
expect_exit 2 "handout unknown option" -- "$natsim" handout "$sheet" --colour -o "$tmp/x.html"
contains "$err" "unknown option '--colour'" "unknown option message"

# GIFT: N students, every question for each, to a file or stdout
expect_exit 0 "gift" -- "$natsim" exercise "$sheet" --export gift --students 4 -o "$tmp/q.gift"
gift=$(cat "$tmp/q.gift")
contains "$gift" '$CATEGORY: natsim/sheet' "gift category"
contains "$gift" "::q1-student4:: [student 4] How do Alice & Bob end up talking? {" \
	"gift title and text"
contains "$gift" "Alice's first packet to Bob\\: where does it end, and why?" "gift escapes ':'"
contains "$gift" "{#5000}" "gift numerical port"
checks=$((checks + 1))
[ "$(grep -c '^::' "$tmp/q.gift")" = 16 ] || fail "gift: want 16 questions (4 x 4)"
printf '# class 3B\nana\n\n  ben  \n' >"$tmp/class.txt"
expect_exit 0 "gift --students-file" -- "$natsim" exercise "$sheet" --export gift \
	--students-file "$tmp/class.txt"
contains "$out" "::q4-studentana::" "gift student from the file"
contains "$out" "::q4-studentben::" "gift student id trimmed"
lacks "$out" "student3B" "gift skips comments"
expect_exit 2 "gift without students" -- "$natsim" exercise "$sheet" --export gift
contains "$err" "give --students N or --students-file FILE" "gift needs students"
expect_exit 2 "gift other format" -- "$natsim" exercise "$sheet" --export csv --students 2
contains "$err" "the one format is 'gift'" "gift format message"
expect_exit 2 "gift zero students" -- "$natsim" exercise "$sheet" --export gift --students 0
expect_exit 2 "gift unwritable" -- "$natsim" exercise "$sheet" --export gift --students 2 \
	-o "$tmp/no/such/q.gift"
contains "$err" "cannot write $tmp/no/such/q.gift" "gift unwritable message"
expect_exit 2 "gift missing students file" -- "$natsim" exercise "$sheet" --export gift \
	--students-file "$tmp/nobody.txt"
contains "$err" "--students-file: cannot read" "gift students file message"

finish
