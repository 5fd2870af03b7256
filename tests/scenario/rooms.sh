#!/usr/bin/env bash
# rooms.sh - dependencies point down (DESIGN.md "Layers"): no source file
# includes a header from a layer or an app/ room above its own.
#
# The unit tests already link each layer alone, so a wrong-way call fails to
# link; this catches what linking cannot: a header used only for a type, an
# enum or a macro, which is the first step of a wrong-way dependency.
#
# Every #include "dir/..." of every .c and .h under the folders below must be
# allowed by its folder's row. A row lists folders (ending in /) or single
# headers. A source file in a folder the table does not know (a new room, or
# a file left in app/ itself) fails too, so the table grows with the tree.
# A private header (name_internal.h) may be included only from its folder.
# Before checking the tree, the script checks itself on a small fixture.
# Usage: rooms.sh SOURCE_DIR
set -u
src=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# folder : what its files may include, besides system headers.
read -r -d '' ROOMS <<'EOF'
base/        : base/
sim/         : sim/ base/
model/       : model/ sim/ base/
explain/     : explain/ sim/ base/
viz/         : viz/ explain/ model/ sim/ base/
p2p/         : p2p/
app/lang/    : app/lang/ base/ model/packet.h p2p/agent.h sim/verdict.h
app/world/   : app/world/ app/lang/ viz/ explain/ model/ sim/ base/ p2p/
app/net/     : app/net/ p2p/
app/lesson/  : app/lesson/ app/world/ app/lang/ viz/ explain/ model/ sim/ base/ p2p/
app/tui/     : app/tui/ app/world/ app/lang/ viz/ explain/ model/ sim/ base/ p2p/
app/cli/     : app/cli/ app/lesson/ app/tui/ app/net/ app/world/ app/lang/ viz/ explain/ model/ sim/ base/ p2p/
EOF

# check_tree DIR: print one line per file in an unknown folder and per
# include its folder may not use.
check_tree() {
	(
		cd "$1" || exit 1
		find base sim model explain viz p2p app -name '*.[ch]' -not -path '*/CMakeFiles/*' \
			2>/dev/null | sort
	) | while read -r file; do
		allowed=
		room=
		while IFS=: read -r folder uses; do
			folder=${folder// /}
			# The longest folder that holds the file is its room.
			if [ "${file#"$folder"}" != "$file" ] && [ ${#folder} -gt ${#room} ]; then
				room=$folder
				allowed=$uses
			fi
		done <<<"$ROOMS"
		# A file of app/ itself (app/x.c) is in no room: the table has no "app/".
		if [ -z "$room" ]; then
			echo "$file: in no room of tests/scenario/rooms.sh"
			continue
		fi
		grep -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$1/$file" |
			sed 's/.*"\(.*\)"/\1/' | while read -r header; do
			# Only paths from the source root name a layer ("sim/trace.h");
			# a bare name ("rfc5769.h") is a file next to this one.
			case $header in */*) ;; *) continue ;; esac
			ok=
			for use in $allowed; do
				case $use in
				*/) [ "${header#"$use"}" != "$header" ] && ok=1 ;;
				*) [ "$header" = "$use" ] && ok=1 ;;
				esac
			done
			[ -n "$ok" ] || echo "$file: includes $header, above $room"
			# A private header (x_internal.h) is for its own folder only.
			case $header in *_internal.h)
				[ "${header%/*}" = "${file%/*}" ] || echo "$file: includes $header, private to ${header%/*}/"
			esac
		done
	done
}

# The checker on a fixture: a wrong-way include in a lower room, a layer
# reaching into app/, another folder's private header and a file outside any
# room are each found; a right-way include, an allowed single header and a
# private header in its own folder are not.
fx=$tmp/fixture
mkdir -p "$fx/app/lang" "$fx/app/world" "$fx/model" "$fx/app"
printf '#include "app/lang/scenario.h"\n#include "model/packet.h"\n' >"$fx/app/lang/ok.c"
printf '#include "app/world/world.h"\n' >"$fx/app/lang/up.c"
printf '#include "app/lang/scenario.h"\n#include "app/lang/diag.h"\n' >"$fx/app/world/ok.c"
printf '#include "app/lang/scenario_internal.h"\n' >"$fx/app/lang/private.c"
printf '#include "app/lang/scenario_internal.h"\n' >"$fx/app/world/private.c"
printf '  #  include "app/cli/cli.h"\n' >"$fx/model/up.c"
printf '#include <stdio.h>\n' >"$fx/app/flat.c"
check_tree "$fx" >"$tmp/fixture.got"
cat >"$tmp/fixture.want" <<'EOF'
app/flat.c: in no room of tests/scenario/rooms.sh
app/lang/up.c: includes app/world/world.h, above app/lang/
app/world/private.c: includes app/lang/scenario_internal.h, private to app/lang/
model/up.c: includes app/cli/cli.h, above model/
EOF
checks=$((checks + 1))
diff "$tmp/fixture.want" "$tmp/fixture.got" >"$tmp/fixture.diff" ||
	fail "the checker on its fixture: $(cat "$tmp/fixture.diff")"

# The tree itself, which must have something to check.
n_files=$(cd "$src" && find app -name '*.[ch]' | wc -l)
checks=$((checks + 1))
[ "$n_files" -ge 20 ] || fail "found only $n_files files under $src/app: wrong SOURCE_DIR?"
check_tree "$src" >"$tmp/tree"
while read -r line; do
	checks=$((checks + 1))
	fail "$line"
done <"$tmp/tree"

echo "$n_files files under app/ checked with the layers below them"
finish
