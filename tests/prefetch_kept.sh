#!/bin/sh
# prefetch_kept.sh LIBRARY CONFIG - the compiler kept model/prefetch.c's hints.
#
# A prefetch changes no result, so no run can tell that one is missing; but
# GCC 12 deleted nearly all of them once (it counts __builtin_prefetch as free
# of side effects and dropped calls to helpers that only prefetch:
# sim/prefetch.h, PREFETCH_HINT). This counts the prefetch instructions in
# prefetch.c's object inside the model library (LIBRARY, a static archive):
# the four stages ask for more than 16 lines in all (node, tables' heads,
# buckets, entries), where the broken build kept 3. Skipped (77) in an
# unoptimised build, where the helpers stay out of line and are counted once,
# and where objdump is missing or the machine's prefetch mnemonic is unknown.
lib=$1
config=$2
case "$config" in
Debug | "") exit 77 ;;
esac
command -v objdump >/dev/null 2>&1 || exit 77
count=$(objdump -d "$lib" | awk '
	/file format/ { inside = ($1 ~ /^prefetch\.c\.o:?$/) }
	inside && /\t(prefetch[a-z0-9]*|prfm)[ \t]/ { n++ }
	END { print n + 0 }')
echo "prefetch instructions in prefetch.c.o: $count"
if [ "$count" -eq 0 ] && ! objdump -d "$lib" | grep -q 'prefetch\|prfm'; then
	exit 77 # no hint at all in the library: an unknown mnemonic, not a deletion
fi
[ "$count" -gt 16 ]
