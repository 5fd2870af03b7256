#!/usr/bin/env bash
# handout_png.sh - natsim handout's sheets as a real browser shows them:
# headless Chromium renders the student's and the teacher's sheet to PNG,
# and each picture must exist, have the window's size and not be blank
# (a page of text and a graphviz picture has hundreds of colours; a blank or
# failed page has one or two). The HTML is checked too, without a parser:
# the questions' texts, the inline <svg>, no answer or NAT kind on the
# student's sheet and all of them on the teacher's. Printed to PDF, the
# pages are A4.
# Skipped (exit 77) when chromium or ImageMagick's identify is not installed.
# Usage: handout_png.sh NATSIM_BINARY SOURCE_DIR
set -u
natsim=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$src/tests/scenario/lib.sh"
sheet=$src/tests/browser/sheet.nsim

for tool in chromium identify; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (apt-get install chromium imagemagick)"
		exit 77
	fi
done

# render HTML PNG: headless Chromium, its own profile, a minute at most.
render() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$tmp/profile" --window-size=1200,1600 \
		--screenshot="$2" "file://$1" >"$tmp/chromium.log" 2>&1
}

# picture_ok PNG DESCRIPTION: the right size, and not blank.
picture_ok() {
	checks=$((checks + 1))
	if [ ! -s "$1" ]; then
		fail "$2: no PNG written; chromium said: $(tail -3 "$tmp/chromium.log")"
		return
	fi
	size=$(identify -format '%wx%h' "$1")
	colours=$(identify -format '%k' "$1")
	echo "$2: $size, $colours colours"
	[ "$size" = "1200x1600" ] || fail "$2: PNG is $size, want 1200x1600"
	[ "$colours" -ge 200 ] || fail "$2: PNG has $colours colours: a blank page?"
}

# a4_ok HTML DESCRIPTION: printed to PDF, every page is A4 (595 x 842 pt,
# as Chromium rounds it; US Letter would be 612 x 792): the @page rule holds.
a4_ok() {
	checks=$((checks + 1))
	timeout 120 chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer \
		--user-data-dir="$tmp/profile" --print-to-pdf="$tmp/print.pdf" "file://$1" \
		>"$tmp/chromium.log" 2>&1
	boxes=$(grep -a -o '/MediaBox \[[^]]*\]' "$tmp/print.pdf" 2>/dev/null | sort -u)
	echo "$2 printed: $(printf '%s\n' "$boxes" | grep -c MediaBox) page size(s): $boxes"
	[ -n "$boxes" ] || fail "$2: no PDF printed; chromium said: $(tail -3 "$tmp/chromium.log")"
	printf '%s\n' "$boxes" | grep -v -E '^/MediaBox \[0 0 59[45]\.[0-9]* 84[12]\.[0-9]*\]$' |
		grep -q . && fail "$2: not A4 when printed: $boxes"
}

questions=("q1. How do Alice &amp; Bob end up talking?"
	"q2. Alice&#39;s first packet to Bob: where does it end, and why?"
	"q3. Which public port does home give Alice&#39;s port 5000?"
	"q4. Does Bob receive Alice&#39;s message?")

expect_exit 0 "student sheet" -- "$natsim" handout "$sheet" -o "$tmp/student.html"
html=$(cat "$tmp/student.html")
for q in "${questions[@]}"; do contains "$html" "$q" "student sheet"; done
contains "$html" "<svg" "student sheet: inline picture"
contains "$html" "<h1>Sheet &lt;test&gt; &amp; friends</h1>" "student sheet: escaped title"
lacks "$html" 'class="key"' "student sheet: no answer key"
lacks "$html" "office nat-filter" "student sheet: no drop answer"
lacks "$html" "port-restricted-cone" "student sheet: no NAT kind"
lacks "$html" "symmetric" "student sheet: no variant value"
lacks "$html" "Ask who sent first" "student sheet: no teacher note"
lacks "$html" "opens the way" "student sheet: no hint"
lacks "$html" "src=\"http" "student sheet: no external asset"
render "$tmp/student.html" "$tmp/student.png"
picture_ok "$tmp/student.png" "student sheet"
a4_ok "$tmp/student.html" "student sheet"

expect_exit 0 "teacher sheet" -- "$natsim" handout "$sheet" --teacher --student 7 \
	-o "$tmp/teacher.html"
html=$(cat "$tmp/teacher.html")
for q in "${questions[@]}"; do contains "$html" "$q" "teacher sheet"; done
contains "$html" "<svg" "teacher sheet: inline picture"
contains "$html" 'class="key"' "teacher sheet: answer key"
contains "$html" "(drop)" "teacher sheet: the drop answer"
contains "$html" "<span class=\"answer\">5000</span> (port)" "teacher sheet: the port answer"
contains "$html" "port-restricted-cone | symmetric" "teacher sheet: the variant's values"
contains "$html" "Ask who sent first" "teacher sheet: the note"
contains "$html" "A probe going out opens the way &lt;back&gt;." "teacher sheet: the hint"
render "$tmp/teacher.html" "$tmp/teacher.png"
picture_ok "$tmp/teacher.png" "teacher sheet"

finish
