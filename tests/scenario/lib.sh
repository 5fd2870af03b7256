# lib.sh - assertions shared by the command-line test scripts (cli.sh,
# render.sh). Source it after setting $tmp (a scratch folder).
failures=0
checks=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# expect_exit CODE DESCRIPTION -- COMMAND...: run, keep stdout/stderr in $out/$err
expect_exit() {
	local want=$1 what=$2
	shift 3
	checks=$((checks + 1))
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local got=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	[ "$got" = "$want" ] || fail "$what: exit $got, want $want; stderr: $err"
}
contains() { # contains HAYSTACK NEEDLE DESCRIPTION
	checks=$((checks + 1))
	case "$1" in *"$2"*) ;; *) fail "$3: missing '$2'";; esac
}
lacks() { # lacks HAYSTACK NEEDLE DESCRIPTION
	checks=$((checks + 1))
	case "$1" in *"$2"*) fail "$3: unexpected '$2'";; esac
}
# The closing line ctest's readers understand, and the exit status.
finish() {
	echo "$((checks - failures)) passed, $failures failed"
	[ "$failures" = 0 ]
}
