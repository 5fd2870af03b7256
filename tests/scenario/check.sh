#!/usr/bin/env bash
# natsim check as a teacher uses it: grade a folder of submissions against a
# build task's key (issue 14), read the table, the csv and the json, and rely
# on the exit codes; every kind of bad input is refused with exit 2 and a
# clear message, never a crash.
# Usage: check.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

course=$src/scenarios/course
key=$course/keys/firewall.key
# The class: a right answer, two partly right, one that does not parse, one
# that renamed a host the key names (the key does not fit it).
cp -r "$src/tests/scenario/check/firewall" "$tmp/class"
cd "$tmp" || exit 3

expect_exit 2 "a folder with a submission the key does not fit" -- "$natsim" check class --key "$key"
contains "$out" "Grades against $key: 5 checks, 7 points" "table heading"
contains "$out" "class/a-right.nsim              7/7" "right answer row"
contains "$out" "class/b-everyone.nsim           5/7  outsider" "partly right row"
contains "$out" "class/c-inside-prefix.nsim      5/7  office" "inside prefix row"
contains "$out" "class/d-broken.nsim             0/7  broken: class/d-broken.nsim:25:10: expected a chain" \
	"broken row with file:line:col"
contains "$out" "class/e-renamed.nsim            4/7  outsider (key does not fit), small" "misfit row"
contains "$out" "expected a drop at bob for reason firewall from eve to bob:7000, but no matching drop" \
	"why a check failed, in words"
contains "$out" "the key does not fit this submission: $key:10:98: unknown node 'eve'" \
	"why the key does not fit, at the key's line"
contains "$out" "3 lines differ from the world handed out, the task allows at most 1" "changed lines"
contains "$out" "1 of 5 submissions have full marks." "summary"
first=$out
expect_exit 2 "the same again" -- "$natsim" check class --key "$key"
[ "$out" = "$first" ] || fail "grading is not deterministic"

# Without the misfit: some checks failed (a broken submission is a 0 row, not exit 2).
expect_exit 1 "some checks failed" -- "$natsim" check class/a-right.nsim class/b-everyone.nsim \
	class/d-broken.nsim --key "$key"
expect_exit 0 "full marks" -- "$natsim" check class/a-right.nsim --key "$key"
contains "$out" "1 of 1 submission has full marks." "full marks summary"

# A file too large to be a scenario is a broken row like any other.
mkdir big && head -c 17000000 /dev/zero | tr '\0' '#' >big/huge.nsim
expect_exit 1 "a huge submission" -- "$natsim" check big class/a-right.nsim --key "$key"
contains "$out" "big/huge.nsim: cannot read: File too large" "huge submission row"
printf '%s\n' "$out" | grep -q '^  class/a-right.nsim  *7/7$' || fail "the batch goes on after a huge file"

# csv for the gradebook: one row per submission, 1/0 per check.
expect_exit 2 "csv to a file" -- "$natsim" check class --key "$key" --format csv -o grades.csv
contains "$out" "class/a-right.nsim" "the table is still printed with -o"
printf 'file,score,total,office,outsider,port,one-rule,small\nclass/a-right.nsim,7,7,1,1,1,1,1\nclass/b-everyone.nsim,5,7,1,0,1,1,1\nclass/c-inside-prefix.nsim,5,7,0,1,1,1,1\nclass/d-broken.nsim,0,7,0,0,0,0,0\nclass/e-renamed.nsim,4,7,1,0,1,1,0\n' >want.csv
tr -d '\r' <grades.csv >got.csv
cmp -s want.csv got.csv || fail "csv: $(diff want.csv got.csv)"
expect_exit 1 "csv on stdout" -- "$natsim" check class/a-right.nsim class/b-everyone.nsim --key "$key" --format csv
lacks "$out" "Grades against" "csv alone on stdout"
contains "$out" "class/b-everyone.nsim,5,7,1,0,1,1,1" "csv row on stdout"

# json
expect_exit 2 "json" -- "$natsim" check class --key "$key" --format json -o grades.json
if command -v python3 >/dev/null; then
	python3 - grades.json <<'EOF' || fail "json: not as expected"
import json, sys
g = json.load(open(sys.argv[1]))
assert g["total"] == 7 and [c["id"] for c in g["checks"]] == ["office", "outsider", "port", "one-rule", "small"]
s = {x["file"]: x for x in g["submissions"]}
assert [x["file"] for x in g["submissions"]] == sorted(s)
assert s["class/a-right.nsim"]["score"] == 7 and s["class/a-right.nsim"]["status"] == "graded"
assert s["class/d-broken.nsim"]["status"] == "broken" and s["class/d-broken.nsim"]["score"] == 0
assert s["class/d-broken.nsim"]["error"].startswith("class/d-broken.nsim:25:10: ")
e = s["class/e-renamed.nsim"]
assert e["status"] == "misfit" and e["checks"][1]["fits"] is False and "'eve'" in e["checks"][1]["why"]
b = s["class/b-everyone.nsim"]["checks"][1]
assert b["passed"] is False and b["points"] == 0 and b["why"].startswith("expected a drop")
EOF
else
	contains "$(cat grades.json)" '"status": "broken"' "json broken row"
fi

# A file name that is not UTF-8 does not cost the gradebook.
mkdir odd && cp class/a-right.nsim "odd/$(printf 'x\377').nsim"
expect_exit 0 "json with an odd file name" -- "$natsim" check odd --key "$key" --format json
contains "$out" '"file": "odd/x?.nsim"' "odd file name in json"

# Bad input: exit 2 and a clear message, nothing graded.
expect_exit 2 "no key" -- "$natsim" check class
contains "$err" "which key? give --key KEY" "no key message"
expect_exit 2 "no submission" -- "$natsim" check --key "$key"
contains "$err" "what to grade?" "no submission message"
expect_exit 2 "missing submission" -- "$natsim" check nowhere.nsim --key "$key"
contains "$err" "nowhere.nsim: No such file or directory" "missing submission message"
mkdir empty
expect_exit 2 "empty folder" -- "$natsim" check empty --key "$key"
contains "$err" "no .nsim file in the folder empty" "empty folder message"
expect_exit 2 "bad format" -- "$natsim" check class --key "$key" --format xml
contains "$err" "--format: expected text, csv or json" "bad format message"
expect_exit 2 "unwritable output" -- "$natsim" check class --key "$key" --format csv -o /nonexistent/dir/g.csv
contains "$err" "cannot write /nonexistent/dir/g.csv" "unwritable output message"
lacks "$out" "Grades against" "nothing graded before the output is known writable"
expect_exit 2 "unreadable key" -- "$natsim" check class --key nokey.key
contains "$err" "cannot read nokey.key" "unreadable key message"
printf 'base "%s"\ncheck ok "t" drop at bob\ncheck bad "t" points 500 drop at bob\n' \
	"$course/tasks/firewall.nsim" >bad.key
expect_exit 2 "malformed key" -- "$natsim" check class --key bad.key
contains "$err" "bad.key:3:22: error: the points must be a whole number from 1 to 100" "malformed key message"
printf 'base "%s"\ncheck m "t" drop at mallory\n' "$course/tasks/firewall.nsim" >misfit.key
expect_exit 2 "a key that does not fit its base" -- "$natsim" check class --key misfit.key
contains "$err" "check 'm' does not fit the base world" "misfit key message"
contains "$err" "unknown node 'mallory'" "misfit key names the node"
printf 'base "nothere.nsim"\ncheck m "t" drop at bob\n' >nobase.key
expect_exit 2 "a key whose base is missing" -- "$natsim" check class --key nobase.key
contains "$err" "nobase.key:1:1: error: cannot read the base world nothere.nsim" "missing base message"

# A key the handout already passes: graded, with a warning.
printf 'base "%s"\ncheck out "Eve stays out" drop at bob reason firewall from eve\n' \
	"$course/tasks/firewall.nsim" >easy.key
expect_exit 0 "a key the handout passes" -- "$natsim" check class/a-right.nsim --key easy.key
contains "$err" "warning: the world handed out ($course/tasks/firewall.nsim) already gets full marks" \
	"handout passes warning"
expect_exit 0 "no warning for a real task" -- "$natsim" check class/a-right.nsim --key "$key"
lacks "$err" "warning" "no warning for the bundled key"

# The task, as the students are told it.
expect_exit 0 "--task" -- "$natsim" check --key "$key" --task
contains "$out" "only the office network can reach" "task text"
lacks "$out" "check" "--task shows no check"

# The bundled build tasks: each handout runs, and does not pass its key yet;
# the right answers get full marks.
for task in firewall nat-setting; do
	expect_exit 0 "handout $task runs" -- "$natsim" run --quiet "$course/tasks/$task.nsim"
	expect_exit 1 "handout $task is not done yet" -- "$natsim" check "$course/tasks/$task.nsim" \
		--key "$course/keys/$task.key"
done
expect_exit 1 "nat-setting submissions" -- "$natsim" check "$src/tests/scenario/check/nat" \
	--key "$course/keys/nat-setting.key" --format csv
contains "$out" "a-full-cone.nsim,8,8,1,1,1,1,1,1" "one NAT full cone: direct"
contains "$out" "b-restricted.nsim,8,8,1,1,1,1,1,1" "one NAT restricted cone: direct"
contains "$out" "c-port-restricted.nsim,4,8,0,0,1,1,1,1" "port-restricted: still relayed"
contains "$out" "d-no-nat.nsim,7,8,1,1,1,0,1,1" "taking Alice off her NAT is caught"

finish
