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
 * Every frame is drawn whole from the model (erase, draw, refresh; curses
 * sends only the difference). Signals only set a flag that the input loop
 * reads, so endwin() never runs inside a handler; atexit() restores the
 * terminal on any other way out.
 */
#include "app/tui.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "app/cli.h"
#include "sim/engine.h"

enum focus { FOCUS_TOPOLOGY, FOCUS_TIMELINE, FOCUS_COUNT };

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

struct rect {
	int y, x, h, w;
};

struct layout {
	bool too_small;
	struct rect title, topo, tables, timeline, inspect, ladder, status;
};

static const double rates[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1,
			       0.2,   0.5,   1,	    2,	  5,	10,   100};
#define N_RATES (sizeof(rates) / sizeof(rates[0]))
#define DEFAULT_RATE 6 /* 0.1x: a tenth of real time, the punching is visible */

struct tui {
	struct tui_model *m;
	struct tui_config cfg;
	bool color;
	enum focus focus;
	bool running;
	size_t rate;
	double virt_ns; /* where running has got to, in virtual ns */
	struct timespec last;
	size_t tl_top, node_top;
	int tables_off, tables_hoff; /* vertical and horizontal scroll */
	bool help;
	char msg[400];
	struct tui_lines tables, inspect, ladder;
	struct layout lay;
	int node_y0, node_rows; /* topology rows showing nodes, for the mouse */
	int tl_y0, tl_rows;
	struct diag *d;
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

static void pane_title(const struct tui *t, const struct rect *r, const char *title, bool focused)
{
	bar(t, r->y, r->x, r->w, title, header_attr(t, focused));
}

/* Lines of a list into a pane's body, from line `first`, each shifted left
 * by `hoff` bytes (the tables hold ASCII: conntrack lines, endpoints). */
static void draw_lines(const struct tui *t, const struct rect *r, const struct tui_lines *l,
		       size_t first, int hoff)
{
	for (int row = 0; row < r->h - 1 && first + (size_t)row < l->n; row++) {
		const struct tui_line *ln = &l->v[first + (size_t)row];
		size_t len = strlen(ln->text), skip = (size_t)hoff < len ? (size_t)hoff : len;
		put(t, r->y + 1 + row, r->x, r->w, ln->text + skip, style_attr(t, ln->style));
	}
}

/* ---- layout ---- */

static struct layout layout_compute(int rows, int cols)
{
	struct layout l;
	memset(&l, 0, sizeof(l));
	if (rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS) {
		l.too_small = true;
		return l;
	}
	int body = rows - 2;
	int top = body * 36 / 100, mid = body * 30 / 100;
	int bottom = body - top - mid;
	int left = cols * 9 / 20 < 40 ? 40 : cols * 9 / 20;
	int half = cols / 2;
	l.title = (struct rect){0, 0, 1, cols};
	l.topo = (struct rect){1, 0, top, left};
	l.tables = (struct rect){1, left + 1, top, cols - left - 1};
	l.timeline = (struct rect){1 + top, 0, mid, cols};
	l.inspect = (struct rect){1 + top + mid, 0, bottom, half};
	l.ladder = (struct rect){1 + top + mid, half + 1, bottom, cols - half - 1};
	l.status = (struct rect){rows - 1, 0, 1, cols};
	return l;
}

/* A vertical rule between side-by-side panes ("│" as text: ACS line drawing
 * is not what every terminal multiplexer passes on). */
static void separator(const struct tui *t, const struct rect *left)
{
	const char *v = t->cfg.ascii ? "|" : "\u2502";
	for (int y = 0; y < left->h; y++)
		mvaddstr(left->y + y, left->x + left->w, v);
}

static void separators(const struct tui *t)
{
	separator(t, &t->lay.topo);
	separator(t, &t->lay.inspect);
}

/* ---- panes ---- */

static void draw_title(struct tui *t)
{
	const struct scenario *s = tui_model_scenario(t->m);
	char line[512];
	snprintf(line, sizeof(line), " natsim tui | t=%.6fs | record %zu/%zu | %s %gx%s%s | %s",
		 tui_model_now(t->m) / 1e9, tui_model_count(t->m) ? tui_model_cursor(t->m) + 1 : 0,
		 tui_model_count(t->m), t->running ? "running" : "paused", rates[t->rate],
		 tui_model_filter(t->m)[0] ? " | filter /" : "", tui_model_filter(t->m),
		 s->title ? s->title : s->filename);
	bar(t, 0, 0, t->lay.title.w, line, t->color ? COLOR_PAIR(CP_TITLE) | A_BOLD : A_REVERSE);
}

static const char *role_tag(const struct tui_node *n)
{
	switch (n->role) {
	case TUI_ROLE_INTERNET:
		return "core router";
	case TUI_ROLE_NAT:
		return "NAT";
	case TUI_ROLE_ROUTER:
		return "router";
	case TUI_ROLE_COORDINATOR:
		return n->relay ? "coordinator+relay" : "coordinator";
	default:
		return n->firewall ? "host+fw" : "host";
	}
}

static enum tui_style pair_style(enum tui_pair_state s)
{
	return s == TUI_PAIR_DIRECT			    ? TUI_STYLE_GOOD
	       : s == TUI_PAIR_RELAYED			    ? TUI_STYLE_WARN
	       : s == TUI_PAIR_FAILED || s == TUI_PAIR_LOST ? TUI_STYLE_DROP
							    : TUI_STYLE_PLAIN;
}

static int draw_pairs(const struct tui *t, const struct rect *r, int y)
{
	for (size_t i = 0; i < tui_model_pair_count(t->m) && y < r->y + r->h - 1; i++) {
		const struct tui_pair *p = tui_model_pair(t->m, i);
		char line[256];
		int x = r->x;
		snprintf(line, sizeof(line), "%s %s %s: ", p->a, t->cfg.ascii ? "<->" : "\u2194",
			 p->b);
		x += put(t, y, x, r->w, line, A_BOLD);
		x += put(t, y, x, r->x + r->w - x, tui_pair_state_name(p->state),
			 style_attr(t, pair_style(p->state)) | A_BOLD);
		if (p->prev_outcome >= 0 && p->prev_outcome != p->outcome)
			snprintf(line, sizeof(line), " (ends %s, was %s)",
				 scenario_path_name(p->outcome),
				 scenario_path_name(p->prev_outcome));
		else
			snprintf(line, sizeof(line), " (ends %s)", scenario_path_name(p->outcome));
		put(t, y++, x, r->x + r->w - x, line, A_DIM);
	}
	return y;
}

static void node_line(const struct tui *t, const struct tui_node *n, char *out, size_t size)
{
	int indent = n->depth * 2;
	const char *branch = n->depth == 0 ? "" : t->cfg.ascii ? "`-" : "\u2514\u2500";
	snprintf(out, size, "%*s%s%s", indent > 2 ? indent - 2 : 0, "", branch, n->name);
}

/* The marker of the packet in flight on this node's line, or "". */
static void flight_mark(const struct tui *t, const struct tui_flight *f, size_t i, char *out,
			size_t size)
{
	out[0] = '\0';
	if (!f->active)
		return;
	if (f->child == i)
		snprintf(out, size, " %s#%llu ",
			 t->cfg.ascii ? (f->up ? "^" : "v") : (f->up ? "\u25b2" : "\u25bc"),
			 (unsigned long long)f->packet_id);
	else if (f->child == TUI_NONE && f->node == i)
		snprintf(out, size, " %s#%llu %s ", t->cfg.ascii ? "*" : "\u25cf",
			 (unsigned long long)f->packet_id, trace_hop_name(f->hop));
}

static void draw_node(struct tui *t, const struct rect *r, int y, size_t i,
		      const struct tui_flight *f)
{
	const struct tui_node *n = tui_model_node(t->m, i);
	char name[96], mark[64], rest[256];
	bool sel = i == tui_model_selected(t->m);
	node_line(t, n, name, sizeof(name));
	flight_mark(t, f, i, mark, sizeof(mark));
	int x = r->x, end = r->x + r->w;
	x += put(t, y, x, end - x, name, sel ? A_REVERSE | A_BOLD : A_BOLD);
	if (mark[0])
		x += put(t, y, x, end - x, mark,
			 t->color ? COLOR_PAIR(CP_FLIGHT) | A_BOLD : A_REVERSE | A_BOLD);
	/* the first address: a NAT's public one, a host's own */
	int alen = (int)strcspn(n->addrs, ",");
	snprintf(rest, sizeof(rest), " %s%s%.*s %.*s", role_tag(n), n->behaviour[0] ? " " : "",
		 (int)strcspn(n->behaviour, " "), n->behaviour, alen, n->addrs);
	put(t, y, x, end - x, rest, n->role == TUI_ROLE_NAT ? A_NORMAL : A_DIM);
}

static void draw_topology(struct tui *t)
{
	const struct rect *r = &t->lay.topo;
	struct tui_flight f;
	pane_title(t, r, " Topology  (tab: focus, arrows: select)", t->focus == FOCUS_TOPOLOGY);
	tui_model_flight(t->m, &f);
	int y = draw_pairs(t, r, r->y + 1);
	t->node_y0 = y;
	t->node_rows = r->y + r->h - y;
	size_t n = tui_model_node_count(t->m), sel = tui_model_selected(t->m);
	if (sel != TUI_NONE && sel < t->node_top)
		t->node_top = sel;
	if (sel != TUI_NONE && t->node_rows > 0 && sel >= t->node_top + (size_t)t->node_rows)
		t->node_top = sel - (size_t)t->node_rows + 1;
	for (size_t i = t->node_top; i < n && y < r->y + r->h; i++)
		draw_node(t, r, y++, i, &f);
}

static void draw_tables(struct tui *t)
{
	const struct rect *r = &t->lay.tables;
	size_t sel = tui_model_selected(t->m);
	const struct tui_node *n = tui_model_node(t->m, sel);
	char title[160];
	snprintf(title, sizeof(title), " Tables: %s  ([ ] < > scroll)", n ? n->name : "-");
	pane_title(t, r, title, false);
	tui_model_tables(t->m, n ? n->name : NULL, &t->tables);
	if (t->tables_off > (int)t->tables.n - 1)
		t->tables_off = t->tables.n ? (int)t->tables.n - 1 : 0;
	draw_lines(t, r, &t->tables, (size_t)t->tables_off, t->tables_hoff);
}

/* Keep the cursor's line in view, a third from the bottom when it moves on. */
static void timeline_scroll(struct tui *t, size_t pos, int rows)
{
	if (pos == TUI_NONE || rows <= 0)
		return;
	if (pos < t->tl_top)
		t->tl_top = pos;
	if (pos >= t->tl_top + (size_t)rows)
		t->tl_top = pos - (size_t)rows + 1 + (size_t)(rows / 3);
	size_t n = tui_model_visible_count(t->m);
	if (t->tl_top + (size_t)rows > n)
		t->tl_top = n > (size_t)rows ? n - (size_t)rows : 0;
	if (pos < t->tl_top)
		t->tl_top = pos;
}

static void draw_timeline(struct tui *t)
{
	const struct rect *r = &t->lay.timeline;
	char title[200];
	snprintf(title, sizeof(title), " Timeline  %zu of %zu records%s%s%s  (/ filter)",
		 tui_model_visible_count(t->m), tui_model_count(t->m),
		 tui_model_filter(t->m)[0] ? ", matching \"" : "", tui_model_filter(t->m),
		 tui_model_filter(t->m)[0] ? "\"" : "");
	pane_title(t, r, title, t->focus == FOCUS_TIMELINE);
	t->tl_y0 = r->y + 1;
	t->tl_rows = r->h - 1;
	size_t cur = tui_model_cursor(t->m);
	size_t pos = tui_model_visible_pos(t->m, cur);
	timeline_scroll(t, pos, t->tl_rows);
	if (tui_model_visible_count(t->m) == 0)
		put(t, t->tl_y0, r->x, r->w,
		    "(no record matches the filter; / and Enter clears it)", A_DIM);
	for (int row = 0; row < t->tl_rows; row++) {
		size_t i = tui_model_visible_at(t->m, t->tl_top + (size_t)row);
		if (i == TUI_NONE)
			break;
		attr_t a = style_attr(t, tui_model_line_style(t->m, i));
		if (i == cur) {
			a = A_REVERSE | A_BOLD;
			attron(a);
			mvhline(t->tl_y0 + row, r->x, ' ', r->w);
			attroff(a);
		} else if (t->tl_top + (size_t)row == pos) {
			a |= A_UNDERLINE; /* the cursor is on a filtered-out record after it */
		}
		put(t, t->tl_y0 + row, r->x, r->w, tui_model_line(t->m, i), a);
	}
}

static void draw_inspector(struct tui *t)
{
	const struct rect *r = &t->lay.inspect;
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
	const struct rect *r = &t->lay.ladder;
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

static const char keys_hint[] =
    " space step  n packet  b back  r run  p pause  +/- rate  g time  / filter  "
    "t preset  tab focus  ? help  q quit";

static void draw_status(struct tui *t)
{
	const struct rect *r = &t->lay.status;
	bar(t, r->y, r->x, r->w, t->msg[0] ? t->msg : keys_hint,
	    t->msg[0] ? A_BOLD | (t->color ? COLOR_PAIR(CP_NOTE) : A_REVERSE) : A_REVERSE);
}

static const char *const help_text[] = {
    "natsim tui - step through a recorded run",
    "",
    "space     step one record         b  step back one record",
    "n         next packet hop         g  go to a virtual time",
    "r         run at the rate         p  pause",
    "+ / -     faster / slower         Home / End  first / last record",
    "tab       focus topology/timeline",
    "arrows    topology: select a node; timeline: move the cursor",
    "PgUp/PgDn timeline: ten lines     [ ] < >  scroll the tables",
    "/         filter the timeline (substring; empty clears)",
    "t         what-if: next preset for the selected NAT (or the",
    "          host's NAT), re-run with the same seed",
    "mouse     click a node or a timeline line",
    "?         this help               q  quit",
    "",
    "Tables and the topology are a fold of the trace up to the cursor.",
    "Press any key.",
};

static void draw_help(const struct tui *t)
{
	int n = (int)(sizeof(help_text) / sizeof(help_text[0]));
	int w = 66 < COLS - 2 ? 66 : COLS - 2, h = n + 2 < LINES - 2 ? n + 2 : LINES - 2;
	int y0 = (LINES - h) / 2, x0 = (COLS - w) / 2;
	for (int y = 0; y < h; y++) {
		attron(A_REVERSE);
		mvhline(y0 + y, x0, ' ', w);
		attroff(A_REVERSE);
	}
	for (int i = 0; i < n && i < h - 2; i++)
		put(t, y0 + 1 + i, x0 + 2, w - 4, help_text[i], A_REVERSE | (i == 0 ? A_BOLD : 0));
}

void tui_draw(struct tui *t)
{
	erase();
	t->lay = layout_compute(LINES, COLS);
	if (t->lay.too_small) {
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
	separators(t);
	draw_status(t);
	if (t->help)
		draw_help(t);
	refresh();
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
	t->focus = FOCUS_TIMELINE;
	t->d = diag_new();
	if (!t->d) {
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
	t->tl_top = 0;
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
	t->tables_off = 0;
}

static void arrow(struct tui *t, int ch)
{
	int dir = ch == KEY_DOWN || ch == KEY_RIGHT ? 1 : -1;
	if (t->focus == FOCUS_TOPOLOGY) {
		select_step(t, dir);
		return;
	}
	t->running = false;
	tui_model_step_visible(t->m, dir);
}

static void page(struct tui *t, int dir)
{
	t->running = false;
	for (int i = 0; i < (t->tl_rows > 1 ? t->tl_rows - 1 : 10); i++)
		if (!tui_model_step_visible(t->m, dir))
			break;
}

static void mouse(struct tui *t)
{
	MEVENT ev;
	if (getmouse(&ev) != OK || t->lay.too_small)
		return;
	const struct rect *tl = &t->lay.timeline, *tp = &t->lay.topo;
	bool in_tl = ev.y >= tl->y && ev.y < tl->y + tl->h;
	if (in_tl && (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED))) {
		tui_model_step_visible(t->m, ev.bstate & BUTTON4_PRESSED ? -1 : 1);
		return;
	}
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return;
	if (in_tl && ev.y >= t->tl_y0) {
		size_t i = tui_model_visible_at(t->m, t->tl_top + (size_t)(ev.y - t->tl_y0));
		t->focus = FOCUS_TIMELINE;
		if (i != TUI_NONE) {
			t->running = false;
			tui_model_seek(t->m, i);
		}
	} else if (ev.x < tp->x + tp->w && ev.y >= t->node_y0 && ev.y < tp->y + tp->h) {
		size_t i = t->node_top + (size_t)(ev.y - t->node_y0);
		t->focus = FOCUS_TOPOLOGY;
		if (i < tui_model_node_count(t->m)) {
			tui_model_select(t->m, i);
			t->tables_off = 0;
		}
	}
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

bool tui_handle_key(struct tui *t, int ch)
{
	if (ch == ERR)
		return true;
	t->msg[0] = '\0';
	if (t->help && ch != KEY_RESIZE && ch != KEY_MOUSE) {
		t->help = false;
		return ch != 'q';
	}
	if (cursor_key(t, ch))
		return true;
	switch (ch) {
	case 'q':
		return false;
	case 'r':
		set_running(t, true);
		break;
	case 'p':
		t->running = false;
		break;
	case '+':
	case '=':
		rate(t, 1);
		break;
	case '-':
		rate(t, -1);
		break;
	case 'g':
		ask_time(t);
		break;
	case '/':
		ask_filter(t);
		break;
	case 't':
		what_if(t);
		break;
	case '?':
		t->help = true;
		break;
	case '\t':
		t->focus = (t->focus + 1) % FOCUS_COUNT;
		break;
	case KEY_BTAB:
		t->focus = (t->focus + FOCUS_COUNT - 1) % FOCUS_COUNT;
		break;
	case '[':
		t->tables_off = t->tables_off > 0 ? t->tables_off - 1 : 0;
		break;
	case ']':
		t->tables_off++;
		break;
	case '<':
		t->tables_hoff = t->tables_hoff >= 16 ? t->tables_hoff - 16 : 0;
		break;
	case '>':
		t->tables_hoff += t->tables_hoff < 400 ? 16 : 0;
		break;
	case KEY_MOUSE:
		mouse(t);
		break;
	default:
		break;
	}
	return true;
}

/* Move the cursor along at the rate while running. */
static void run_tick(struct tui *t)
{
	if (!t->running)
		return;
	t->virt_ns += elapsed_ns(&t->last) * rates[t->rate];
	tui_model_advance_to(t->m, (int64_t)t->virt_ns);
	if (tui_model_at_end(t->m)) {
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
		return CLI_EXIT_INTERNAL;
	atexit(restore_terminal);
	if (!initscr()) {
		tui_free(t);
		return CLI_EXIT_INTERNAL;
	}
	screen_up = true;
	install_signals();
	tui_screen_setup(t);
	int rc = loop(t);
	restore_terminal();
	tui_free(t);
	return rc;
}
