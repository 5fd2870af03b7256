#!/usr/bin/env bash
# Every example in docs/natsim.1 and README.md that is a scenario run must run
# as written: a reader who copies one gets exit 0, not "unknown host 'bob'".
#
# What counts as an example, found by extraction (nothing is listed by hand):
#  - a scenario: a literal block (man: .nf ... .fi; README: ``` fences) with
#    a statement line (coordinator, nat, host, at, expect); it is saved to a
#    file and run with `natsim run -q FILE`;
#  - a command: a `natsim run ...` line in such a block, or inline in README
#    text as `natsim run ...`, unless it has a placeholder in capitals (FILE,
#    TIME) or brackets; it is run as written from a scratch folder.
# The script fails if it finds fewer examples than the docs hold today, so a
# broken extraction cannot pass by finding nothing.
# Usage: docs_examples.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # commands run elsewhere
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# man: the lines of each .nf/.fi block, roff requests dropped and the
# escapes used in literal text undone; blocks separated by a line "@@".
man_blocks() {
	awk '/^\.nf/ { on = 1; next }
	     /^\.fi/ { on = 0; print "@@"; next }
	     on && !/^\./ { gsub(/\\-/, "-"); gsub(/\\\(em/, "--"); gsub(/\\e/, "\\"); print }' "$1"
}
# README: the lines of each fenced block, separated the same way.
md_blocks() {
	awk '/^```/ { if (on) print "@@"; on = !on; next } on { print }' "$1"
}

n_scenarios=0
n_commands=0

# Split a stream of blocks into files $tmp/block.N.
split_blocks() { # split_blocks PREFIX < blocks
	local i=0
	: >"$tmp/$1.$i"
	while IFS= read -r line; do
		if [ "$line" = "@@" ]; then
			i=$((i + 1))
			: >"$tmp/$1.$i"
		else
			printf '%s\n' "$line" >>"$tmp/$1.$i"
		fi
	done
}

run_scenario() { # run_scenario FILE WHERE
	n_scenarios=$((n_scenarios + 1))
	cp "$1" "$tmp/example.nsim"
	expect_exit 0 "scenario example in $2" -- "$natsim" run -q "$tmp/example.nsim"
	[ "$got_rc" = 0 ] || sed 's/^/    | /' "$1"
}

run_command() { # run_command "natsim run ..." WHERE
	n_commands=$((n_commands + 1))
	local rest=${1#natsim }
	checks=$((checks + 1))
	(cd "$tmp/cwd" && eval "\"\$natsim\" $rest" >"$tmp/out" 2>"$tmp/err" </dev/null)
	local rc=$?
	[ "$rc" = 0 ] || fail "$2: '$1' exits $rc: $(head -c 300 "$tmp/err")"
}

# lib.sh's expect_exit, also keeping the status (to show a failing scenario).
got_rc=0
expect_exit() {
	"${@:4}" >"$tmp/out" 2>"$tmp/err" </dev/null
	got_rc=$?
	checks=$((checks + 1))
	[ "$got_rc" = "$1" ] || fail "$2: exit $got_rc, want $1; stderr: $(head -c 300 "$tmp/err")"
}

is_placeholder() { # a command with FILE, TIME, ... or [optional] parts
	printf '%s' "$1" | grep -Eq '(^| |=)[A-Z][A-Z.]+([ :,]|$)|\['
}

check_blocks() { # check_blocks PREFIX WHERE
	local f line
	for f in "$tmp/$1".*; do
		[ -s "$f" ] || continue
		if grep -Eq '^(coordinator|nat|host|at|expect) ' "$f"; then
			run_scenario "$f" "$2"
			continue
		fi
		while IFS= read -r line; do
			case "$line" in
			"natsim run "*) is_placeholder "$line" || run_command "$line" "$2" ;;
			esac
		done <"$f"
	done
}

mkdir -p "$tmp/cwd"
man_blocks "$src/docs/natsim.1" | split_blocks man
check_blocks man "docs/natsim.1"
man_scenarios=$n_scenarios man_commands=$n_commands

md_blocks "$src/README.md" | split_blocks md
check_blocks md "README.md"
# inline `natsim run ...` in README prose and tables
while IFS= read -r line; do
	is_placeholder "$line" || run_command "$line" "README.md (inline)"
done < <(grep -o '`natsim run [^`]*`' "$src/README.md" | tr -d '`')

# As many as the docs hold today (raise these when adding examples).
checks=$((checks + 1))
[ "$man_scenarios" -ge 1 ] && [ "$man_commands" -ge 4 ] ||
	fail "natsim.1: found $man_scenarios scenarios and $man_commands commands, want 1 and 4"
checks=$((checks + 1))
[ $((n_scenarios - man_scenarios)) -ge 1 ] && [ $((n_commands - man_commands)) -ge 1 ] ||
	fail "README.md: found too few examples to be believed"
echo "ran $n_scenarios scenario examples and $n_commands command examples"
finish
