#!/usr/bin/env bash
# Install into a temporary prefix and use the installed natsim from there.
set -eu
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail=0
checks=5
for f in bin/natsim share/man/man1/natsim.1 share/natsim/scenarios/classic.nsim; do
	[ -e "$prefix/$f" ] || { echo "FAIL: $f not installed"; fail=$((fail + 1)); }
done
# Run from elsewhere, so nothing but the install is found first.
cd /
out=$("$prefix/bin/natsim" list)
case "$out" in *"$prefix/bin/../share/natsim/scenarios"*) ;; *) echo "FAIL: list: $out"; fail=$((fail + 1));; esac
"$prefix/bin/natsim" run -q cgnat >/dev/null || { echo "FAIL: installed run cgnat"; fail=$((fail + 1)); }
# The installed man page names its files under this prefix, not another.
checks=$((checks + 1))
grep -q "^\.I $prefix/share/natsim/scenarios/\$" "$prefix/share/man/man1/natsim.1" &&
	! grep -q "PREFIX/\|/usr/local/share" "$prefix/share/man/man1/natsim.1" ||
	{ echo "FAIL: man page FILES does not name $prefix"; fail=$((fail + 1)); }
echo "$((checks - fail)) passed, $fail failed"
exit $fail
