#!/usr/bin/env bash
# lessons_can_fail.sh - every expectation of every bundled scenario can fail.
#
# An expectation that holds whatever happens teaches nothing (issue 12 #5:
# firewall-rules' "no drop at alice" held because nothing ever reached
# alice). mutations.txt lists, for each expectation, a change under which it
# must fail; this script checks that:
#   - every expectation in SCENARIO_DIR/*.nsim has at least one change listed,
#     and every listed change names an expectation that exists;
#   - each scenario holds as written (exit 0);
#   - under each change, `natsim run` exits 1 and reports that very
#     expectation (NAME.nsim:LINE) as failed.
# Expectations are matched by their text (after `expect`, runs of blanks as
# one), so moving lines does not touch the list.
#
# Usage: lessons_can_fail.sh NATSIM SCENARIO_DIR MUTATIONS [--coverage-only]
# --coverage-only checks the list against the scenarios and runs nothing.
set -u
natsim=$1 dir=$2 list=$3 mode=${4:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

squeeze() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/[[:space:]][[:space:]]*/ /g'; }

# All expectations: "scenario<TAB>line<TAB>text", text without `expect `.
for f in "$dir"/*.nsim; do
	name=$(basename "$f" .nsim)
	grep -n '^[[:space:]]*expect[[:space:]]' "$f" | while IFS=: read -r line rest; do
		printf '%s\t%s\t%s\n' "$name" "$line" "$(printf '%s' "$rest" | squeeze | sed 's/^expect //')"
	done
done >"$tmp/expectations"

# The list: "scenario<TAB>text<TAB>change". The text is everything between
# the first and the last '|', so a '|' inside it does no harm.
grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$list" | while IFS= read -r row; do
	s=$(printf '%s' "${row%%|*}" | squeeze)
	c=$(printf '%s' "${row##*|}" | squeeze)
	t=${row#*|}
	t=$(printf '%s' "${t%|*}" | squeeze)
	printf '%s\t%s\t%s\n' "$s" "$t" "$c"
done >"$tmp/changes"

# Coverage, both ways.
while IFS=$'\t' read -r s line t; do
	checks=$((checks + 1))
	awk -F'\t' -v s="$s" -v t="$t" '$1 == s && $2 == t { found = 1 } END { exit !found }' \
		"$tmp/changes" ||
		fail "$s.nsim:$line: no change listed in $(basename "$list") under which 'expect $t' fails"
done <"$tmp/expectations"
while IFS=$'\t' read -r s t c; do
	checks=$((checks + 1))
	awk -F'\t' -v s="$s" -v t="$t" '$1 == s && $3 == t { found = 1 } END { exit !found }' \
		"$tmp/expectations" ||
		fail "$(basename "$list"): '$s | $t' matches no expectation of $dir/$s.nsim"
done <"$tmp/changes"
if [ "$mode" = --coverage-only ]; then
	finish
	exit
fi

# Each scenario as written holds.
for f in "$dir"/*.nsim; do
	expect_exit 0 "$(basename "$f") as written" -- "$natsim" run --quiet --no-color "$f"
done

# Each change makes its expectation fail.
while IFS=$'\t' read -r s t c; do
	line=$(awk -F'\t' -v s="$s" -v t="$t" '$1 == s && $3 == t { print $2; exit }' \
		"$tmp/expectations")
	[ -n "$line" ] || continue # reported above
	file=$dir/$s.nsim
	read -r -a args <<<"$c"
	expect_exit 1 "$s.nsim:$line 'expect $t' under $c" -- \
		"$natsim" run --quiet --no-color "$file" "${args[@]}"
	contains "$out" "✗ $s.nsim:$line " "$s.nsim:$line 'expect $t' under $c: reported as failed"
done <"$tmp/changes"

# The check itself: an expectation nobody can fail is caught, and so is a
# listed change whose expectation is gone.
mkdir -p "$tmp/self"
cp "$dir/classic.nsim" "$tmp/self/classic.nsim"
echo 'expect alice and bob direct by 4s' >>"$tmp/self/classic.nsim"
added=$(wc -l <"$tmp/self/classic.nsim")
grep -v '^[[:space:]]*#' "$list" | grep '^classic |' >"$tmp/self-list"
echo 'classic | mapping at cafe | --set cafe.preset=symmetric' >>"$tmp/self-list"
expect_exit 1 "an unlisted expectation and a stale change are caught" -- \
	bash "$0" "$natsim" "$tmp/self" "$tmp/self-list" --coverage-only
contains "$out" "classic.nsim:$added: no change listed" "the unlisted expectation is named"
contains "$out" "'classic | mapping at cafe' matches no expectation" "the stale change is named"

finish
