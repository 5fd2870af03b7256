#!/usr/bin/env bash
# trace_identity.sh [BASE_REF] - prove that a restructuring changed no behaviour.
#
# Builds natsim at BASE_REF (default: HEAD, i.e. the last commit, so the check is
# "my uncommitted work changes nothing") and in the work tree as it is, runs every
# bundled scenario with seeds 1, 2 and 3 through both, and compares the JSON-lines
# traces byte for byte. Exit 0 when every trace is identical, 1 otherwise (the
# first difference of each differing trace is printed).
#
#   bench/trace_identity.sh            # work tree vs HEAD
#   bench/trace_identity.sh main~3     # work tree vs an older commit
#
# Run from anywhere inside the repository; uses $TMPDIR for the second build.
set -euo pipefail
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
base=${1:-HEAD}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

build() { # build SRC DIR: a quiet optimised build of the natsim binary
	cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build "$2" -j2 --target natsim >/dev/null
}

echo "building $base ..."
git -C "$root" archive "$base" | tar -x -C "$tmp" --one-top-level=src
build "$tmp/src" "$tmp/build-base"
echo "building the work tree ..."
build "$root" "$tmp/build-now"

fail=0
count=0
for file in "$root"/scenarios/*.nsim; do
	name=$(basename "$file" .nsim)
	for seed in 1 2 3; do
		count=$((count + 1))
		rm -f "$tmp/base.jsonl" "$tmp/now.jsonl"
		"$tmp/build-base/app/natsim" run "$file" --seed "$seed" --quiet \
			--trace "$tmp/base.jsonl" >/dev/null 2>&1 || true
		"$tmp/build-now/app/natsim" run "$file" --seed "$seed" --quiet \
			--trace "$tmp/now.jsonl" >/dev/null 2>&1 || true
		if ! cmp -s "$tmp/base.jsonl" "$tmp/now.jsonl"; then
			fail=$((fail + 1))
			echo "DIFFERS: $name seed $seed"
			# || true: head closing the pipe early must not end the loop (set -e).
			diff "$tmp/base.jsonl" "$tmp/now.jsonl" | head -4 | sed 's/^/    /' || true
		fi
	done
done
echo "$((count - fail)) of $count traces identical to $base"
[ "$fail" = 0 ]
