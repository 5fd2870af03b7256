#!/usr/bin/env bash
# natsim tui as a user sees it, through tmux, at 80x24 (the smallest screen it
# accepts): the key bar, every node, the help, a drop's whole reason, the
# what-if result; step until the first NAT mapping shows in the tables pane,
# step back and see it go, toggle a NAT preset and see the outcome change,
# shrink and grow the terminal, quit, and check the terminal is restored
# (also after SIGTERM).
# Usage: tui.sh NATSIM_BINARY. Exit 0 pass, 1 fail, 77 skipped (no tmux).
set -u
natsim=$1
if ! command -v tmux >/dev/null 2>&1; then
	echo "SKIP: tmux is not installed; the TUI end-to-end test needs it"
	exit 77
fi
# Every start gets its own tmux server (socket): after kill-session the last
# session's server exits, and a new-session on the same socket can race that
# exit ("server exited unexpectedly"). A fresh socket never meets a dying one.
starts=0
sock=""
tm() { tmux -L "$sock" "$@"; }
cleanup() {
	local i
	for i in $(seq 1 "$starts"); do tmux -L "natsim-tui-test-$$-$i" kill-server >/dev/null 2>&1; done
}
trap cleanup EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
screen() { tm capture-pane -p -t tui 2>/dev/null; }

# wait_for TEXT [SECONDS]: poll the screen until it shows TEXT.
wait_for() {
	local deadline=$((SECONDS + ${2:-10}))
	while [ $SECONDS -lt $deadline ]; do
		screen | grep -qF -- "$1" && return 0
		sleep 0.05
	done
	return 1
}
check() { # check TEXT DESCRIPTION: the screen shows TEXT (waiting a little)
	checks=$((checks + 1))
	wait_for "$1" "${3:-10}" || { fail "$2: '$1' not on screen"; screen | sed 's/^/  | /'; }
}
check_absent() { # check_absent TEXT DESCRIPTION
	checks=$((checks + 1))
	sleep 0.2
	! screen | grep -qF -- "$1" || fail "$2: '$1' still on screen"
}

# Not a terminal: a clear message and exit 2.
checks=$((checks + 1))
out=$("$natsim" tui 2>&1 </dev/null >/dev/null)
rc=$?
[ $rc = 2 ] || fail "tui without a terminal: exit $rc, want 2"
case "$out" in *"standard output is not a terminal; try natsim run"*) ;;
	*) fail "tui without a terminal: message '$out'";; esac

# After natsim exits, the shell reports whether the terminal is sane again.
after='echo; if stty -a | grep -q -- "-icanon"; then c=no; else c=yes; fi;
if stty -a | grep -q -- "-echo "; then e=no; else e=yes; fi; echo "RESTORED icanon=$c echo=$e"; sleep 30'
start() { # start [COLS ROWS]: natsim tui in a new tmux server
	starts=$((starts + 1))
	sock="natsim-tui-test-$$-$starts"
	tm new-session -d -s tui -x "${1:-120}" -y "${2:-40}" \
		"env TERM=xterm-256color LANG=C.UTF-8 LC_ALL=C.UTF-8 '$natsim' tui; $after" ||
		{ echo "FAIL: tmux new-session"; exit 1; }
}

# natsim_pid: poll (bounded) for the natsim process under the pane's shell.
natsim_pid() {
	local shell pid deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		shell=$(tm list-panes -t tui -F '#{pane_pid}' 2>/dev/null | head -1)
		if [ -n "$shell" ]; then
			pid=$(pgrep -P "$shell" -f natsim | head -1)
			[ -n "$pid" ] && { echo "$pid"; return 0; }
		fi
		sleep 0.1
	done
	return 1
}

# The smallest screen natsim tui accepts: everything a student needs shows.
start 80 24
check "Timeline" "the TUI starts" 20
check "? help" "80x24: the key bar keeps help"
check "q quit" "80x24: the key bar keeps quit"
for node in "internet 192.0.2.1" "coord 192.0.2.10" "home 203.0.113.7" "alice 192.168.1.5" \
	"office 198.51.100.9" "bob 10.0.0.7" "cafe 198.51.100.77" "carol 172.16.0.9"; do
	check "$node" "80x24: the topology shows every node and its address"
done
check "Tables: home" "the first NAT is selected"
check "NAT mappings (0)" "no mapping before the first packet"

# Step one record at a time until the tables pane shows the first mapping.
# Each step waits until the title shows the new record number, so keys never
# run ahead of the screen under load (a queued extra step would hide the
# step back below).
found=no
for k in $(seq 2 300); do
	tm send-keys -t tui Space
	wait_for "record $k/" 10 || break
	if screen | grep -qF "NAT mappings (1)"; then found=yes; break; fi
done
checks=$((checks + 1))
[ $found = yes ] || fail "stepping never showed the first mapping"
check "Tables: home (follows packet)" "the tables follow the packet to home"
check "192.168.1.5:5000 → 203.0.113.7:5000" "the mapping row in the 39-column tables pane"
check "accepts 192.0.2.10:3478" "who may come in through the mapping"

# One step back: the mapping is not there yet.
tm send-keys -t tui b
check "NAT mappings (0)" "after stepping back"
check "(no mappings)" "after stepping back, the table is empty"
check_absent "NAT mappings (1)" "after stepping back"

# The help fits: its first and last lines are on screen, nothing cut.
tm send-keys -t tui '?'
check "natsim tui - step through a recorded run" "80x24: help, its title"
check "Home / End  first / last record" "80x24: help, a whole line"
check "q           quit" "80x24: help shows quit"
check "Any key closes this." "80x24: help, its last line"
tm send-keys -t tui Escape
check "? help" "the help closes"

# The filter, and a drop: its whole reason shows in the timeline (the
# cursor's line wraps) and in the inspector.
tm send-keys -t tui / d r o p p e d Enter
check 'matching "dropped"' "timeline filter"
tm send-keys -t tui Down
check "#11 drop at internet" "the first drop"
# The drops between are the ICMP errors routers answer probes to private
# addresses with (how many depends on what the NATs do with them): step on
# to Alice's probe that office's filtering drops.
found=no
for k in 1 2 3 4; do
	tm send-keys -t tui Down
	if wait_for "#13 drop at office" 3; then found=yes; break; fi
done
checks=$((checks + 1))
[ $found = yes ] || { fail "the office drop, in the inspector: '#13 drop at office' not on screen"; screen | sed 's/^/  | /'; }
check "Tables: office (follows packet)" "the tables follow the packet to office"
checks=$((checks + 1))
n=$(screen | grep -cF -e "-dependent filtering)")
[ "$n" -ge 2 ] || { fail "80x24: the drop's reason ends in the timeline and the inspector ($n)"; screen | sed 's/^/  | /'; }

# Selecting a node pins the tables to it; f follows the packet again.
tm send-keys -t tui Tab Down
check "Tables: bob (pinned, f follows)" "a selection pins the tables"
tm send-keys -t tui f Tab
check "Tables: office (follows packet)" "f: the tables follow the packet again"

# What-if on the followed NAT: office becomes symmetric, the pair relayed.
check "(ends direct)" "classic ends direct"
tm send-keys -t tui t
check "what-if office: port-restricted-cone → symmetric" "what-if message" 20
checks=$((checks + 1))
status=$(screen | tail -4 | tr '\n' ' ' | tr -s ' ')
case "$status" in *"alice ↔ bob: direct → relayed"*) ;;
	*) fail "80x24: the what-if result is cut: '$status'";; esac
check "(ends relayed," "what-if outcome in the topology"

# A terminal below 80x24, then a big one: the topology as a tree.
tm resize-window -t tui -x 70 -y 20
check "needs at least 80x24" "a terminal below 80x24"
tm resize-window -t tui -x 160 -y 48
check "Timeline" "redrawn after growing again"
check "home NAT port-restricted-cone 203.0.113.7,192.168.1.1" "160x48: the tree, every address"
check "+/- rate  g time" "160x48: the whole key bar"

# Quit: the TUI is gone and the terminal is back in cooked mode with echo.
tm send-keys -t tui q
check "RESTORED icanon=yes echo=yes" "terminal restored after q"
check_absent "Timeline" "the TUI is gone after q"
tm kill-session -t tui

# SIGTERM: the same restoration.
start
check "Timeline" "the TUI starts again" 20
checks=$((checks + 1))
if pid=$(natsim_pid); then
	kill -TERM "$pid"
	check "RESTORED icanon=yes echo=yes" "terminal restored after SIGTERM"
else
	fail "could not find the natsim process under the tmux pane"
fi

echo "$checks checks, $failures failed"
[ $failures = 0 ]
