/*
 * tui.c - the ncurses front end: five panes over the view model, a title
 * bar and a status line.
 *
 *   ┌ title: scenario, time, record n/N, run state ───────────────────────┐
 *   │ Topology (pairs, nodes, the packet in flight) │ Tables (selected node)│
 *   │ Timeline (one line per record, the cursor highlighted)               │
 *   │ Packet inspector                              │ Ladder               │
 *   └ status: keys, or the last message ──────────────────────────────────┘
 *
 * Where everything goes (pane sizes, the key bar, wrapped rows, the
 * topology's cells, what a click hits) is decided in app/tui/tui_view.c, which
 * is tested without a terminal; this file draws it and turns curses input
 * into calls. Every frame is drawn whole from the model (erase, draw,
 * refresh; curses sends only the difference). Signals only set a flag that
 * the input loop reads, so endwin() never runs inside a handler; atexit()
 * restores the terminal on any other way out.
 */
#include "app/tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "sim/engine.h"

enum colour_pair {
	CP_HEADER = 1,
	CP_FOCUS,
	CP_DROP,
	CP_GOOD,
	CP_WARN,
	CP_CHANGED,
	CP_NOTE,
	CP_FLIGHT,
	CP_TITLE,
};

static const double rates[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
			       0.2,   0.5,   1,	    2,	  5,	10,   100};
#define N_RATES (sizeof(rates) / sizeof(rates[0]))
#define DEFAULT_RATE 6 /* 0.1x: a tenth of real time, the punching is visible */

struct tui {
	struct tui_model *m;
	struct tui_config cfg;
	bool color;
	bool running;
	size_t rate;
	double virt_ns; /* where running has got to, in virtual ns */
	struct timespec last;
	char msg[400];
	struct tui_view v; /* layout, scroll positions, focus: decided in tui_view.c */
	struct tui_lines tables, inspect, ladder;
	struct diag *d;
	bool quiz_open;		/* the question pane (predict mode) is drawn */
	int quiz_top;		/* its first line shown, once marked */
	struct tui_lines quiz; /* its text */
};

static volatile sig_atomic_t tui_signal;
static bool screen_up;

/* ---- text and attributes ---- */

static attr_t style_attr(const struct tui *t, enum tui_style s)
{
	if (!t->color) {
		switch (s) {
		case TUI_STYLE_HEADER:
			return A_BOLD;
		case TUI_STYLE_DIM:
			return A_DIM;
		case TUI_STYLE_DROP:
			return A_BOLD | A_UNDERLINE;
		case TUI_STYLE_GOOD:
		case TUI_STYLE_CHANGED:
		case TUI_STYLE_NOTE:
			return A_BOLD;
		case TUI_STYLE_WARN:
			return A_UNDERLINE;
		default:
			return A_NORMAL;
		}
	}
	switch (s) {
	case TUI_STYLE_HEADER:
		return A_BOLD;
	case TUI_STYLE_DIM:
		return A_DIM;
	case TUI_STYLE_DROP:
		return COLOR_PAIR(CP_DROP) | A_BOLD;
	case TUI_STYLE_GOOD:
		return COLOR_PAIR(CP_GOOD) | A_BOLD;
	case TUI_STYLE_WARN:
		return COLOR_PAIR(CP_WARN) | A_BOLD;
	case TUI_STYLE_CHANGED:
		return COLOR_PAIR(CP_CHANGED) | A_BOLD;
	case TUI_STYLE_NOTE:
		return COLOR_PAIR(CP_NOTE) | A_BOLD;
	default:
		return A_NORMAL;
	}
}

/* Bytes of `s` that fit in `w` columns (UTF-8 aware unless ascii). */
static size_t fit_bytes(const struct tui *t, const char *s, int w, int *cols)
{
	size_t i = 0, len = strlen(s);
	int used = 0;
	mbstate_t st;
	memset(&st, 0, sizeof(st));
	while (i < len) {
		wchar_t wc;
		size_t n = t->cfg.ascii ? 1 : mbrtowc(&wc, s + i, len - i, &st);
		int cw = 1;
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			n = 1;
			memset(&st, 0, sizeof(st));
		} else if (!t->cfg.ascii) {
			cw = wcwidth(wc);
			cw = cw < 0 ? 1 : cw;
		}
		if (used + cw > w)
			break;
		used += cw;
		i += n;
	}
	if (cols)
		*cols = used;
	return i;
}

/* Print `s` at (y, x) clipped to w columns; returns the columns used. */
static int put(const struct tui *t, int y, int x, int w, const char *s, attr_t a)
{
	int cols = 0;
	if (w <= 0)
		return 0;
	size_t n = fit_bytes(t, s, w, &cols);
	attron(a);
	mvaddnstr(y, x, s, (int)n);
	attroff(a);
	return cols;
}

/* A full-width row in `a` (a bar). */
static void bar(const struct tui *t, int y, int x, int w, const char *s, attr_t a)
{
	attron(a);
	mvhline(y, x, ' ', w);
	attroff(a);
	put(t, y, x, w, s, a);
}

static attr_t header_attr(const struct tui *t, bool focused)
{
	if (!t->color)
		return focused ? A_REVERSE | A_BOLD : A_REVERSE;
	return COLOR_PAIR(focused ? CP_FOCUS : CP_HEADER) | A_BOLD;
}

static void pane_title(const struct tui *t, const struct tui_rect *r, const char *title,
		       bool focused)
{
	bar(t, r->y, r->x, r->w, title, header_attr(t, focused));
}

/* Lines of a list into a pane's body, from line `first`, each shifted left
 * by `hoff` columns. */
static void draw_lines(const struct tui *t, const struct tui_rect *r, const struct tui_lines *l,
		       size_t first, int hoff)
{
	for (int row = 0; row < r->h - 1 && first + (size_t)row < l->n; row++) {
		const struct tui_line *ln = &l->v[first + (size_t)row];
		size_t skip = tui_text_fit(ln->text, hoff);
		put(t, r->y + 1 + row, r->x, r->w, ln->text + skip, style_attr(t, ln->style));
	}
}

/* ---- panes ---- */

/* A vertical rule between side-by-side panes ("│" as text: ACS line drawing
 * is not what every terminal multiplexer passes on). */
static void separator(const struct tui *t, const struct tui_rect *left)
{
	const char *v = t->cfg.ascii ? "|" : "\u2502";
	for (int y = 0; y < left->h; y++)
		mvaddstr(left->y + y, left->x + left->w, v);
}

static void draw_title(struct tui *t)
{
	const struct scenario *s = tui_model_scenario(t->m);
	char line[512];
	snprintf(line, sizeof(line), " natsim tui | t=%.6fs | record %zu/%zu | %s %gx%s%s | %s",
		 tui_model_now(t->m) / 1e9, tui_model_count(t->m) ? tui_model_cursor(t->m) + 1 : 0,
		 tui_model_count(t->m), t->running ? "running" : "paused", rates[t->rate],
		 tui_model_filter(t->m)[0] ? " | filter /" : "", tui_model_filter(t->m),
		 s->title ? s->title : s->filename);
	bar(t, 0, 0, t->v.lay.title.w, line, t->color ? COLOR_PAIR(CP_TITLE) | A_BOLD : A_REVERSE);
}

/* The packet marker of node `i`: one column before its name. */
static const char *flight_glyph(const struct tui *t, const struct tui_flight *f, size_t i)
{
	if (!f->active)
		return NULL;
	if (f->child == i)
		return t->cfg.ascii ? (f->up ? "^" : "v") : (f->up ? "\u25b2" : "\u25bc");
	if (f->child == TUI_NONE && f->node == i)
		return t->cfg.ascii ? "*" : "\u25cf";
	return NULL;
}

static void draw_cell(struct tui *t, const struct tui_topo_cell *c, int y,
		      const struct tui_flight *f)
{
	const struct tui_rect *r = &t->v.lay.topo;
	const struct tui_node *n = tui_model_node(t->m, c->node);
	bool sel = c->node == tui_model_selected(t->m);
	const char *mark = flight_glyph(t, f, c->node);
	int x = r->x + c->col, end = r->x + r->w;
	x += put(t, y, x, end - x, c->lead, A_DIM);
	x +=
	    put(t, y, x, end - x, mark ? mark : " ",
		mark ? (t->color ? COLOR_PAIR(CP_FLIGHT) | A_BOLD : A_REVERSE | A_BOLD) : A_NORMAL);
	x += put(t, y, x, end - x, n->name, sel ? A_REVERSE | A_BOLD : A_BOLD);
	put(t, y, x, end - x, c->info, n->role == TUI_ROLE_NAT ? A_NORMAL : A_DIM);
}

static void draw_topology(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.topo;
	struct tui_flight f;
	char title[160];
	tui_model_flight(t->m, &f);
	int len = snprintf(title, sizeof(title), " Topology");
	if (f.active && f.node != TUI_NONE)
		len += snprintf(title + len, sizeof(title) - (size_t)len, "  #%llu %s at %s",
				(unsigned long long)f.packet_id, trace_hop_name(f.hop),
				tui_model_node(t->m, f.node)->name);
	if (len + 24 <= r->w)
		snprintf(title + len, sizeof(title) - (size_t)len, "  (tab, arrows: select)");
	pane_title(t, r, title, t->v.focus == TUI_FOCUS_TOPOLOGY);
	int y = r->y + 1;
	for (size_t i = 0; i < t->v.pairs.n && y < t->v.topo_y0; i++, y++)
		put(t, y, r->x, r->w, t->v.pairs.v[i].text,
		    style_attr(t, t->v.pairs.v[i].style) | A_BOLD);
	for (size_t i = 0; i < t->v.topo.n; i++) {
		const struct tui_topo_cell *c = &t->v.topo.v[i];
		int row = c->row - t->v.topo_top;
		if (row >= 0 && row < t->v.topo_rows)
			draw_cell(t, c, t->v.topo_y0 + row, &f);
	}
}

static void draw_tables(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.tables;
	size_t sel = tui_model_selected(t->m);
	const struct tui_node *n = tui_model_node(t->m, sel);
	char title[160];
	snprintf(title, sizeof(title), " Tables: %s (%s)  [ ] scroll", n ? n->name : "-",
		 tui_model_follow(t->m) ? "follows packet" : "pinned, f follows");
	pane_title(t, r, title, false);
	/* only the lines up to the bottom of the pane: ] scrolls one at a time */
	tui_model_tables(t->m, n ? n->name : NULL, r->w, (size_t)(t->v.tables_off + r->h),
			 &t->tables);
	if (t->v.tables_off > (int)t->tables.n - 1)
		t->v.tables_off = t->tables.n ? (int)t->tables.n - 1 : 0;
	draw_lines(t, r, &t->tables, (size_t)t->v.tables_off, t->v.tables_hoff);
}

static void draw_timeline(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.timeline;
	char title[200];
	snprintf(title, sizeof(title), " Timeline  %zu of %zu records%s%s%s  (/ filter)",
		 tui_model_visible_count(t->m), tui_model_count(t->m),
		 tui_model_filter(t->m)[0] ? ", matching \"" : "", tui_model_filter(t->m),
		 tui_model_filter(t->m)[0] ? "\"" : "");
	pane_title(t, r, title, t->v.focus == TUI_FOCUS_TIMELINE);
	if (tui_model_visible_count(t->m) == 0)
		put(t, t->v.tl_y0, r->x, r->w,
		    "(no record matches the filter; / and Enter clears it)", A_DIM);
	size_t cur = tui_model_cursor(t->m);
	for (size_t row = 0; row < t->v.tl.n; row++) {
		size_t i = t->v.tl_rec[row];
		int y = t->v.tl_y0 + (int)row;
		attr_t a = style_attr(t, t->v.tl.v[row].style);
		if (i == cur) {
			a = A_REVERSE | A_BOLD;
			attron(a);
			mvhline(y, r->x, ' ', r->w);
			attroff(a);
		} else if (tui_model_visible_pos(t->m, cur) == tui_model_visible_pos(t->m, i)) {
			a |= A_UNDERLINE; /* the cursor is on a filtered-out record after it */
		}
		put(t, y, r->x, r->w, t->v.tl.v[row].text, a);
	}
}

static void draw_inspector(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.inspect;
	pane_title(t, r, " Packet inspector  (n: next packet)", false);
	tui_model_inspect(t->m, tui_model_inspected(t->m), r->w, &t->inspect);
	draw_lines(t, r, &t->inspect, 0, 0);
}

/* "  1.083s ..." */
static bool starts_with_time(const char *s)
{
	s += strspn(s, " ");
	size_t n = strspn(s, "0123456789.");
	return n > 0 && s[n] == 's';
}

/* The ladder's header (lane names) stays; the rows show their tail, which
 * ends at the cursor. */
static void draw_ladder(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.ladder;
	pane_title(t, r,
		   tui_model_has_ladder() ? " Ladder: recent packet flow"
					  : " Recent packet hops (no ladder renderer)",
		   false);
	tui_model_ladder(t->m, r->w, &t->ladder);
	size_t head = 0;
	while (tui_model_has_ladder() && head < t->ladder.n && head < 3 &&
	       !starts_with_time(t->ladder.v[head].text))
		head++;
	int body = r->h - 1;
	for (size_t i = 0; i < head && (int)i < body; i++)
		put(t, r->y + 1 + (int)i, r->x, r->w, t->ladder.v[i].text, A_BOLD);
	size_t rows = (size_t)(body - (int)head > 0 ? body - (int)head : 0);
	size_t first = t->ladder.n - head > rows ? t->ladder.n - rows : head;
	for (size_t i = first, y = head; i < t->ladder.n && y < (size_t)body; i++, y++)
		put(t, r->y + 1 + (int)y, r->x, r->w, t->ladder.v[i].text,
		    style_attr(t, t->ladder.v[i].style));
}

static void draw_status(struct tui *t)
{
	const struct tui_rect *r = &t->v.lay.status;
	attr_t a = t->msg[0] ? A_BOLD | (t->color ? COLOR_PAIR(CP_NOTE) : A_REVERSE) : A_REVERSE;
	for (int i = 0; i < r->h; i++)
		bar(t, r->y + i, r->x, r->w, (size_t)i < t->v.status.n ? t->v.status.v[i].text : "",
		    a);
}

/* The help overlay: sized to its text; when the terminal is too short for
 * it, arrows scroll it and the last row says so. */
static void draw_help(const struct tui *t)
{
	const struct tui_lines *h = &t->v.help_text;
	int w = COLS - 2 < 76 ? COLS - 2 : 76;
	int inside = LINES - 4, n = (int)h->n;
	int rows = n < inside ? n : inside;
	int y0 = (LINES - rows - 2) / 2, x0 = (COLS - w) / 2;
	attron(A_REVERSE);
	for (int y = 0; y < rows + 2; y++)
		mvhline(y0 + y, x0, ' ', w);
	attroff(A_REVERSE);
	for (int i = 0; i < rows; i++) {
		const struct tui_line *ln = &h->v[t->v.help_top + i];
		put(t, y0 + 1 + i, x0 + 2, w - 4, ln->text,
		    A_REVERSE | (ln->style == TUI_STYLE_HEADER ? A_BOLD : 0));
	}
	if (n > rows)
		put(t, y0 + rows + 1, x0 + 2, w - 4,
		    t->v.help_top + rows < n ? "-- more: arrows scroll --" : "-- end --",
		    A_REVERSE | A_BOLD);
}

/* The question pane of predict mode: over the timeline and the panes
 * below it, so the topology (names and addresses) stays in view. */
static void draw_quiz(struct tui *t)
{
	const struct tui_rect *tl = &t->v.lay.timeline, *st = &t->v.lay.status;
	int y0 = tl->y, h = st->y - tl->y, w = COLS;
	if (tui_quiz_lines(t->cfg.quiz, w - 4, &t->quiz) != 0 || h < 3)
		return;
	int rows = h - 2, n = (int)t->quiz.n;
	if (t->quiz_top > n - rows)
		t->quiz_top = n - rows;
	if (t->quiz_top < 0 || !tui_quiz_done(t->cfg.quiz))
		t->quiz_top = 0;
	for (int y = 0; y < h; y++)
		mvhline(y0 + y, 0, ' ', w);
	pane_title(t, &(struct tui_rect){y0, 0, h, w},
		   tui_quiz_done(t->cfg.quiz) ? " Your marks (arrows scroll; any key closes, m reopens)"
					      : " Predict: answer, then the run goes on",
		   true);
	for (int i = 0; i < rows && t->quiz_top + i < n; i++) {
		const struct tui_line *ln = &t->quiz.v[t->quiz_top + i];
		put(t, y0 + 1 + i, 2, w - 4, ln->text, style_attr(t, ln->style));
	}
	if (t->quiz_top + rows < n)
		put(t, y0 + h - 1, 2, w - 4, "-- more: arrows scroll --", A_BOLD);
}

void tui_draw(struct tui *t)
{
	erase();
	tui_view_update(&t->v, t->m, LINES, COLS, t->msg);
	if (t->v.lay.too_small) {
		char line[128];
		snprintf(line, sizeof(line),
			 "natsim tui needs at least %dx%d; this terminal is %dx%d.", TUI_MIN_COLS,
			 TUI_MIN_ROWS, COLS, LINES);
		put(t, LINES / 2, 0, COLS, line, A_BOLD);
		put(t, LINES / 2 + 1, 0, COLS, "Make it bigger, or press q to quit.", A_NORMAL);
		refresh();
		return;
	}
	draw_title(t);
	draw_topology(t);
	draw_tables(t);
	draw_timeline(t);
	draw_inspector(t);
	draw_ladder(t);
	separator(t, &t->v.lay.topo);
	separator(t, &t->v.lay.inspect);
	draw_status(t);
	if (t->quiz_open)
		draw_quiz(t);
	if (t->v.help)
		draw_help(t);
	refresh();
}

/* ---- predict mode ---- */

static void quiz_asking_message(struct tui *t)
{
	snprintf(t->msg, sizeof(t->msg),
		 " predict: type your answer, Enter; ? opens a hint; Ctrl-C quits");
}

/* What the model shows follows the quiz: hidden while a question without a
 * moment is open; up to the next question's moment while the student steps
 * towards it, where it is asked; everything once the answers are marked.
 * Returns 0 or -1 when out of memory. */
static int quiz_sync(struct tui *t)
{
	struct tui_quiz *z = t->cfg.quiz;
	size_t limit = tui_quiz_limit(z);
	bool hide = !tui_quiz_done(z) && limit == TUI_NONE;
	if (tui_model_hidden(t->m) != hide && tui_model_set_hidden(t->m, hide) != 0)
		return -1;
	if (tui_model_limit(t->m) != limit && tui_model_set_limit(t->m, limit) != 0)
		return -1;
	if (limit != TUI_NONE && !tui_quiz_asking(z) && tui_model_cursor(t->m) >= limit) {
		tui_quiz_arrive(z); /* the run has reached the question's moment */
		t->running = false;
	}
	t->quiz_open = tui_quiz_asking(z) || (t->quiz_open && tui_quiz_done(z));
	if (tui_quiz_asking(z))
		quiz_asking_message(t);
	return 0;
}

/* ---- life cycle ---- */

struct tui *tui_new(struct tui_model *m, const struct tui_config *cfg)
{
	struct tui *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->m = m;
	t->cfg = *cfg;
	t->rate = DEFAULT_RATE;
	tui_view_init(&t->v, cfg->ascii);
	t->d = diag_new();
	if (!t->d || (cfg->quiz && quiz_sync(t) != 0)) {
		diag_free(t->d);
		free(t);
		return NULL;
	}
	return t;
}

void tui_free(struct tui *t)
{
	if (!t)
		return;
	tui_lines_fini(&t->tables);
	tui_lines_fini(&t->inspect);
	tui_lines_fini(&t->ladder);
	tui_lines_fini(&t->quiz);
	tui_view_fini(&t->v);
	diag_free(t->d);
	free(t);
}

void tui_screen_setup(struct tui *t)
{
	t->color = t->cfg.color && has_colors();
	if (t->color) {
		start_color();
		use_default_colors();
		init_pair(CP_HEADER, COLOR_WHITE, COLOR_BLUE);
		init_pair(CP_FOCUS, COLOR_BLACK, COLOR_CYAN);
		init_pair(CP_DROP, COLOR_RED, -1);
		init_pair(CP_GOOD, COLOR_GREEN, -1);
		init_pair(CP_WARN, COLOR_YELLOW, -1);
		init_pair(CP_CHANGED, COLOR_MAGENTA, -1);
		init_pair(CP_NOTE, COLOR_CYAN, -1);
		init_pair(CP_FLIGHT, COLOR_BLACK, COLOR_YELLOW);
		init_pair(CP_TITLE, COLOR_BLACK, COLOR_WHITE);
	}
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	set_escdelay(25);
}

/* ---- input ---- */

static double elapsed_ns(struct timespec *last)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double ns =
	    (double)(now.tv_sec - last->tv_sec) * 1e9 + (double)(now.tv_nsec - last->tv_nsec);
	*last = now;
	return ns;
}

/* Read a line on the status row. False if cancelled (Esc, or a signal). */
static bool prompt(struct tui *t, const char *label, char *buf, size_t size)
{
	size_t len = strlen(buf);
	timeout(-1);
	for (;;) {
		char line[300];
		snprintf(line, sizeof(line), " %s%s_", label, buf);
		bar(t, LINES - 1, 0, COLS, line, A_REVERSE | A_BOLD);
		refresh();
		int ch = getch();
		if (tui_signal || ch == 27)
			return false;
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER)
			return true;
		if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && len)
			buf[--len] = '\0';
		else if (ch == KEY_RESIZE)
			tui_draw(t);
		else if (ch >= 32 && ch < 127 && len + 1 < size) {
			buf[len++] = (char)ch;
			buf[len] = '\0';
		}
	}
}

/* "1.5s", "300ms", or a bare number of seconds: read by app/units, so
 * "nan" or "1e400" is refused here as everywhere (strtod let a NaN reach an
 * integer cast). */
static bool parse_time(const char *s, int64_t *ns)
{
	char with_unit[64];
	int rc = scenario_parse_duration(s, ns);
	if (rc == SCENARIO_DURATION_NO_UNIT &&
	    (size_t)snprintf(with_unit, sizeof(with_unit), "%ss", s) < sizeof(with_unit))
		rc = scenario_parse_duration(with_unit, ns);
	return rc == SCENARIO_DURATION_OK;
}

static void ask_time(struct tui *t)
{
	char buf[64] = "";
	int64_t ns;
	if (!prompt(t, "go to time (e.g. 1.083s, 250ms): ", buf, sizeof(buf)) || !buf[0])
		return;
	if (!parse_time(buf, &ns)) {
		snprintf(t->msg, sizeof(t->msg), " not a time: '%s' (try 1.5s or 300ms)", buf);
		return;
	}
	t->running = false;
	tui_model_goto_time(t->m, ns);
}

static void ask_filter(struct tui *t)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", tui_model_filter(t->m));
	if (!prompt(t, "filter timeline (substring, empty clears): /", buf, sizeof(buf)))
		return;
	if (tui_model_set_filter(t->m, buf) != 0)
		snprintf(t->msg, sizeof(t->msg), " out of memory while filtering");
	t->v.tl_top = 0;
}

static void what_if(struct tui *t)
{
	size_t nat = tui_model_selected_nat(t->m);
	bar(t, LINES - 1, 0, COLS, " re-running the scenario...", A_REVERSE | A_BOLD);
	refresh();
	diag_clear(t->d);
	tui_model_cycle_preset(t->m, nat, t->msg + 1, sizeof(t->msg) - 1, t->d);
	t->msg[0] = ' ';
}

static void select_step(struct tui *t, int dir)
{
	size_t n = tui_model_node_count(t->m), sel = tui_model_selected(t->m);
	if (!n)
		return;
	if (sel == TUI_NONE)
		sel = 0;
	else
		sel = dir > 0 ? (sel + 1) % n : (sel + n - 1) % n;
	tui_model_select(t->m, sel);
	t->v.tables_off = 0;
}

static void arrow(struct tui *t, int ch)
{
	int dir = ch == KEY_DOWN || ch == KEY_RIGHT ? 1 : -1;
	if (t->v.focus == TUI_FOCUS_TOPOLOGY) {
		select_step(t, dir);
		return;
	}
	t->running = false;
	tui_model_step_visible(t->m, dir);
}

static void page(struct tui *t, int dir)
{
	t->running = false;
	int rows = t->v.lay.timeline.h - 1;
	for (int i = 0; i < (rows > 1 ? rows - 1 : 10); i++)
		if (!tui_model_step_visible(t->m, dir))
			break;
}

/* Curses reports the event; the view decides what it means. */
static void mouse(struct tui *t)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return;
	enum tui_mouse what = TUI_MOUSE_CLICK;
	if (ev.bstate & BUTTON4_PRESSED)
		what = TUI_MOUSE_WHEEL_UP;
	else if (ev.bstate & BUTTON5_PRESSED)
		what = TUI_MOUSE_WHEEL_DOWN;
	else if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return;
	if (tui_view_mouse(&t->v, t->m, ev.y, ev.x, what))
		t->running = false;
}

static void set_running(struct tui *t, bool on)
{
	t->running = on && !tui_model_at_end(t->m);
	t->virt_ns = (double)tui_model_now(t->m);
	elapsed_ns(&t->last);
}

static void rate(struct tui *t, int dir)
{
	if (dir > 0 && t->rate + 1 < N_RATES)
		t->rate++;
	else if (dir < 0 && t->rate > 0)
		t->rate--;
	snprintf(t->msg, sizeof(t->msg), " rate: %g s of virtual time per second", rates[t->rate]);
}

/* The help overlay is open: arrows and pages scroll it, any other key
 * closes it (q also quits). */
static bool help_key(struct tui *t, int ch)
{
	switch (ch) {
	case KEY_UP:
		t->v.help_top--;
		return true;
	case KEY_DOWN:
		t->v.help_top++;
		return true;
	case KEY_PPAGE:
		t->v.help_top -= 10;
		return true;
	case KEY_NPAGE:
		t->v.help_top += 10;
		return true;
	case KEY_RESIZE:
	case KEY_MOUSE:
		return true;
	default:
		t->v.help = false;
		return ch != 'q';
	}
}

/* Keys that move the cursor by hand; false if `ch` is not one. */
static bool cursor_key(struct tui *t, int ch)
{
	switch (ch) {
	case ' ':
		tui_model_step(t->m);
		break;
	case 'n':
		tui_model_next_packet(t->m);
		break;
	case 'b':
		tui_model_back(t->m);
		break;
	case KEY_HOME:
		tui_model_seek(t->m, 0);
		break;
	case KEY_END:
		tui_model_seek(t->m, tui_model_count(t->m));
		break;
	case KEY_NPAGE:
		page(t, 1);
		break;
	case KEY_PPAGE:
		page(t, -1);
		break;
	case KEY_UP:
	case KEY_DOWN:
	case KEY_LEFT:
	case KEY_RIGHT:
		arrow(t, ch);
		return true;
	default:
		return false;
	}
	t->running = false;
	return true;
}

/* Keys that drive the run: play, pause, speed, jump, filter, what-if.
 * Returns false if `ch` is not one of them. */
static bool run_key(struct tui *t, int ch)
{
	switch (ch) {
	case 'r':
		set_running(t, true);
		return true;
	case 'p':
		t->running = false;
		return true;
	case '+':
	case '=':
		rate(t, 1);
		return true;
	case '-':
		rate(t, -1);
		return true;
	case 'g':
		ask_time(t);
		return true;
	case '/':
		ask_filter(t);
		return true;
	case 't':
		what_if(t);
		return true;
	}
	return false;
}

/* Keys that change only what is on screen: help, follow, focus, scrolling
 * the tables, the mouse. Unknown keys are ignored. */
static void view_key(struct tui *t, int ch)
{
	switch (ch) {
	case '?':
		t->v.help = true;
		t->v.help_top = 0;
		break;
	case 'f':
		tui_model_set_follow(t->m, true);
		t->v.tables_off = 0;
		break;
	case '\t':
		t->v.focus = (t->v.focus + 1) % TUI_FOCUS_COUNT;
		break;
	case KEY_BTAB:
		t->v.focus = (t->v.focus + TUI_FOCUS_COUNT - 1) % TUI_FOCUS_COUNT;
		break;
	case '[':
		t->v.tables_off = t->v.tables_off > 0 ? t->v.tables_off - 1 : 0;
		break;
	case ']':
		t->v.tables_off++;
		break;
	case '<':
		t->v.tables_hoff = t->v.tables_hoff >= 16 ? t->v.tables_hoff - 16 : 0;
		break;
	case '>':
		t->v.tables_hoff += t->v.tables_hoff < 400 ? 16 : 0;
		break;
	case KEY_MOUSE:
		mouse(t);
		break;
	default:
		break;
	}
}

/* Predict mode, still asking: every key goes to the line editor (Ctrl-C
 * quits); the last answer marks them all and shows the run. */
static void quiz_ask_key(struct tui *t, int ch)
{
	struct tui_quiz *z = t->cfg.quiz;
	if (ch == KEY_BACKSPACE)
		ch = TUI_QUIZ_BACKSPACE;
	else if (ch == KEY_ENTER)
		ch = TUI_QUIZ_ENTER;
	bool was_hidden = tui_model_hidden(t->m);
	tui_quiz_key(z, ch);
	if (tui_quiz_done(z)) {
		t->quiz_open = true; /* the marks */
		t->quiz_top = 0;
	}
	quiz_sync(t);
	if (was_hidden && !tui_model_hidden(t->m))
		tui_model_seek(t->m, 0); /* the run opens from its start */
	if (tui_quiz_done(z))
		snprintf(t->msg, sizeof(t->msg), " %s; now step through what happened (m: marks)",
			 z->summary);
	else if (!tui_quiz_asking(z))
		snprintf(t->msg, sizeof(t->msg),
			 " step on (space, n, r): the run stops at the next question");
}

/* The marks are shown: arrows and pages scroll, any other key closes them
 * (q also quits). */
static bool quiz_marks_key(struct tui *t, int ch)
{
	switch (ch) {
	case KEY_UP:
	case KEY_DOWN:
	case KEY_PPAGE:
	case KEY_NPAGE:
		t->quiz_top += ch == KEY_UP ? -1 : ch == KEY_DOWN ? 1 : ch == KEY_PPAGE ? -10 : 10;
		return true;
	case KEY_RESIZE:
	case KEY_MOUSE:
	case ERR:
		return true;
	default:
		t->quiz_open = false;
		snprintf(t->msg, sizeof(t->msg), " %s (m: marks)", t->cfg.quiz->summary);
		return ch != 'q';
	}
}

/* Predict mode's keys before the normal ones; true if `ch` was one (then
 * *go says whether to go on). */
static bool quiz_handle_key(struct tui *t, int ch, bool *go)
{
	struct tui_quiz *z = t->cfg.quiz;
	*go = true;
	if (tui_quiz_asking(z)) {
		if (ch != ERR)
			quiz_ask_key(t, ch);
		return true;
	}
	if (ch != ERR && t->quiz_open && tui_quiz_done(z)) {
		*go = quiz_marks_key(t, ch);
		return true;
	}
	if (ch == 'm' && tui_quiz_done(z)) {
		t->quiz_open = true;
		return true;
	}
	if (ch == 't' && !tui_quiz_done(z)) { /* a re-run would show how it ends */
		snprintf(t->msg, sizeof(t->msg), " what-if opens once every question is answered");
		return true;
	}
	return false;
}

static bool normal_key(struct tui *t, int ch)
{
	t->msg[0] = '\0';
	if (t->v.help)
		return help_key(t, ch);
	if (cursor_key(t, ch))
		return true;
	if (ch == 'q')
		return false;
	if (!run_key(t, ch))
		view_key(t, ch);
	return true;
}

bool tui_handle_key(struct tui *t, int ch)
{
	bool go = true;
	if (t->cfg.quiz && quiz_handle_key(t, ch, &go))
		return go;
	if (ch == ERR)
		return true;
	go = normal_key(t, ch);
	if (t->cfg.quiz)
		quiz_sync(t); /* a step may have reached a question's moment */
	return go;
}

/* Move the cursor along at the rate while running. */
static void run_tick(struct tui *t)
{
	if (!t->running)
		return;
	t->virt_ns += elapsed_ns(&t->last) * rates[t->rate];
	tui_model_advance_to(t->m, (int64_t)t->virt_ns);
	if (t->cfg.quiz)
		quiz_sync(t); /* running stops at a question's moment */
	if (t->running && tui_model_at_end(t->m)) {
		t->running = false;
		snprintf(t->msg, sizeof(t->msg), " end of the run (b steps back, Home restarts)");
	}
}

/* ---- the terminal ---- */

static void on_signal(int sig)
{
	tui_signal = sig;
}

static void restore_terminal(void)
{
	if (screen_up && !isendwin())
		endwin();
	screen_up = false;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: getch returns and the loop sees the flag */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int loop(struct tui *t)
{
	bool go = true;
	while (go && !tui_signal) {
		run_tick(t);
		tui_draw(t);
		timeout(t->running ? 30 : 250);
		errno = 0;
		int ch = getch();
		if (tui_signal)
			break;
		go = tui_handle_key(t, ch);
	}
	return tui_signal ? 128 + tui_signal : 0;
}

int tui_run(struct tui_model *m, const struct tui_config *cfg)
{
	struct tui *t = tui_new(m, cfg);
	if (!t)
		return -1;
	atexit(restore_terminal);
	if (!initscr()) {
		tui_free(t);
		return -1;
	}
	screen_up = true;
	install_signals();
	tui_screen_setup(t);
	int rc = loop(t);
	restore_terminal();
	tui_free(t);
	return rc;
}
