#!/usr/bin/env bash
# docs/architecture.md follows one packet through the code by file and
# function name. This script stops that map from silently rotting while the
# code is restructured. It checks two things:
#  - every function the page writes as `name()` (in backticks, with empty
#    parentheses) is defined somewhere in the source tree: a line at column 0
#    that names it before a "(", followed by "{" before any ";" (so a
#    prototype, a comment or a call does not count);
#  - in a table row that names exactly one source file (`dir/file.c`), the
#    row's first `name()` is defined in that file. That is the function the
#    row says runs there, so moving it to another file fails this check.
# The source tree is every top-level folder except tests/, bench/, docs/,
# scenarios/, cmake/ and build folders (those holding a CMakeCache.txt), so
# new folders (base/, explain/, app/ rooms) are searched as they appear.
# The script fails if it finds fewer names than the page holds today, so a
# broken extraction cannot pass by finding nothing. Before checking the page,
# it checks its own definition finder on a small fixture.
# Usage: architecture_names.sh SOURCE_DIR
set -u
src=$1
doc=$src/docs/architecture.md
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

MIN_NAMES=150 # the page names about 200 functions today

# definitions FILE... : "name<TAB>file" for every function defined in them.
definitions() {
	awk '
	FNR == 1 { pending = "" }
	pending != "" {
		text = text $0
		if (match(text, /[{;]/)) {
			if (substr(text, RSTART, 1) == "{")
				print pending "\t" FILENAME
			pending = ""
		}
		next
	}
	/^[A-Za-z_]/ && match($0, /[A-Za-z_][A-Za-z0-9_]*\(/) {
		name = substr($0, RSTART, RLENGTH - 1)
		text = substr($0, RSTART + RLENGTH)
		if (match(text, /[{;]/)) {
			if (substr(text, RSTART, 1) == "{")
				print name "\t" FILENAME
		} else {
			pending = name
		}
	}' "$@"
}

# The finder on a fixture: definitions, K&R braces and static inline count;
# prototypes (one line or several), calls and comments do not.
cat >"$tmp/fixture.c" <<'EOF'
static int declared_only(int a);
int declared_on_two_lines(int a,
			  int b);
static inline bool inline_defined(const int *t) { return t != 0; }
const char *defined_here(int a,
			 int b)
{
	return called_inside(a) ? "" : 0;
}
/* commented(): not a definition */
EOF
definitions "$tmp/fixture.c" | cut -f1 | sort >"$tmp/fixture.got"
printf '%s\n' defined_here inline_defined >"$tmp/fixture.want"
checks=$((checks + 1))
cmp -s "$tmp/fixture.got" "$tmp/fixture.want" ||
	fail "definition finder: found '$(tr '\n' ' ' <"$tmp/fixture.got")', want 'defined_here inline_defined'"

if [ ! -f "$doc" ]; then
	fail "no $doc"
	finish
	exit
fi

# Every .c and .h of the source tree, paths relative to it.
(
	cd "$src" || exit 1
	for d in */; do
		d=${d%/}
		case $d in tests | bench | docs | scenarios | cmake) continue ;; esac
		[ -f "$d/CMakeCache.txt" ] && continue
		find "$d/" -name '*.[ch]' -not -path '*/CMakeFiles/*'
	done
) | sort >"$tmp/files"
[ -s "$tmp/files" ] || fail "no source files found under $src"
mapfile -t files <"$tmp/files"
(cd "$src" && definitions "${files[@]}") >"$tmp/defs"

grep -o '`[A-Za-z_][A-Za-z0-9_]*()`' "$doc" | tr -d '`()' | sort -u >"$tmp/names"
n_names=$(wc -l <"$tmp/names")
checks=$((checks + 1))
[ "$n_names" -ge "$MIN_NAMES" ] ||
	fail "found only $n_names function names in $doc, fewer than $MIN_NAMES: is the extraction broken?"

cut -f1 "$tmp/defs" | sort -u >"$tmp/defined"
checks=$((checks + n_names))
while read -r name; do
	fail "docs/architecture.md cites $name(), which is not defined in the source tree"
done < <(comm -23 "$tmp/names" "$tmp/defined")

# Table rows that name one source file: the row's first function lives there.
n_rows=0
while IFS= read -r row; do
	files=$(grep -o '`[a-z0-9_]*/[a-z0-9_/]*\.c`' <<<"$row" | tr -d '`' | sort -u)
	[ "$(wc -l <<<"$files")" = 1 ] && [ -n "$files" ] || continue
	first=$(grep -o '`[A-Za-z_][A-Za-z0-9_]*()`' <<<"$row" | head -n 1 | tr -d '`()')
	[ -n "$first" ] || continue
	n_rows=$((n_rows + 1))
	checks=$((checks + 1))
	grep -q "^$first	$files\$" "$tmp/defs" ||
		fail "docs/architecture.md says $first() runs in $files, but it is not defined there: $(grep "^$first	" "$tmp/defs" | cut -f2 | tr '\n' ' ')"
done < <(grep '^|' "$doc")
checks=$((checks + 1))
[ "$n_rows" -ge 40 ] || fail "only $n_rows table rows name a file and a function (want >= 40)"

echo "$n_names function names, $n_rows rows with their file"
finish
