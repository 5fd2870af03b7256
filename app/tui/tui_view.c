/*
 * tui_view.c - layout decisions for `natsim tui`, with no ncurses, so that
 * what a student sees at 80x24 is decided here and unit-tested.
 *
 * The rule throughout: at the smallest size the TUI accepts nothing a
 * student needs is cut. Sentences are word-wrapped (a drop's reason, the
 * what-if result, the help); lists that cannot all fit drop the least needed
 * items first (the key bar) or pack tighter (the topology puts the hosts
 * behind a NAT on the NAT's row); only then does a pane scroll.
 */
#include "app/tui/tui_view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_MAX_ROWS 4
#define HELP_MAX_COLS 76
#define TIMELINE_WRAP_INDENT 20 /* under the text, after the time and node columns */

/* ---- layout ---- */

void tui_layout_compute(struct tui_layout *l, int rows, int cols, int status_rows)
{
	memset(l, 0, sizeof(*l));
	if (rows < TUI_MIN_ROWS || cols < TUI_MIN_COLS) {
		l->too_small = true;
		return;
	}
	status_rows = status_rows < 1		      ? 1
		      : status_rows > STATUS_MAX_ROWS ? STATUS_MAX_ROWS
						      : status_rows;
	int body = rows - 1 - status_rows;
	/* the topology needs a title and 7 rows for the classic story: its pair
	 * and five rows of nodes, compact, with one to spare for a wrapped pair */
	int top = body * 36 / 100 < 8 ? 8 : body * 36 / 100;
	int mid = body * 30 / 100 < 6 ? 6 : body * 30 / 100;
	if (body - top - mid < 4)
		mid = body - top - 4;
	int bottom = body - top - mid;
	int left = cols * 9 / 20 < 40 ? 40 : cols * 9 / 20;
	int half = cols / 2;
	l->title = (struct tui_rect){0, 0, 1, cols};
	l->topo = (struct tui_rect){1, 0, top, left};
	l->tables = (struct tui_rect){1, left + 1, top, cols - left - 1};
	l->timeline = (struct tui_rect){1 + top, 0, mid, cols};
	l->inspect = (struct tui_rect){1 + top + mid, 0, bottom, half};
	l->ladder = (struct tui_rect){1 + top + mid, half + 1, bottom, cols - half - 1};
	l->status = (struct tui_rect){rows - status_rows, 0, status_rows, cols};
}

/* ---- the key bar and the help ---- */

static const struct {
	const char *text;
	int need; /* 0: always shown; higher: dropped first when narrow */
} keybar_keys[] = {
    {"space step", 1}, {"n packet", 1}, {"b back", 1},	 {"r run", 2},	   {"p pause", 3},
    {"+/- rate", 5},   {"g time", 4},	{"/ filter", 2}, {"t what-if", 2}, {"f follow", 4},
    {"tab focus", 3},  {"? help", 0},	{"q quit", 0},
};
#define N_KEYS (sizeof(keybar_keys) / sizeof(keybar_keys[0]))

void tui_keybar(char *out, size_t size, int width)
{
	bool take[N_KEYS] = {false};
	int used = 1; /* the leading space */
	for (int need = 0; need <= 5; need++) {
		for (size_t i = 0; i < N_KEYS; i++) {
			int w = (int)strlen(keybar_keys[i].text) + (used > 1 ? 2 : 0);
			if (keybar_keys[i].need == need && (need == 0 || used + w <= width)) {
				take[i] = true;
				used += w;
			}
		}
	}
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < N_KEYS && len < size; i++)
		if (take[i])
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "  " : " ",
						keybar_keys[i].text);
}

static const char *const help_keys[][2] = {
    {"space / b", "step one record forward / back"},
    {"n", "next packet hop"},
    {"g", "go to a virtual time (1.083s, 250ms)"},
    {"r / p", "run at the rate / pause"},
    {"+ / -", "faster / slower"},
    {"Home / End", "first / last record"},
    {"tab", "focus the topology or the timeline"},
    {"arrows", "topology: select a node; timeline: move the cursor"},
    {"PgUp / PgDn", "timeline: a page"},
    {"[ ] < >", "scroll the tables pane"},
    {"f", "tables follow the packet again (selecting a node pins them)"},
    {"/", "filter the timeline (substring; empty clears)"},
    {"t", "what-if: the selected NAT's next preset, re-run (same seed)"},
    {"mouse", "click a node or a timeline line; the wheel scrolls"},
    {"?", "this help (arrows scroll it)"},
    {"q", "quit"},
};

int tui_help_lines(struct tui_lines *out, int width, bool ascii)
{
	(void)ascii;
	tui_lines_clear(out);
	if (tui_lines_wrap(out, TUI_STYLE_HEADER, "natsim tui - step through a recorded run", width,
			   2) != 0 ||
	    tui_lines_addf(out, TUI_STYLE_PLAIN, " ") != 0)
		return -1;
	for (size_t i = 0; i < sizeof(help_keys) / sizeof(help_keys[0]); i++) {
		char line[200];
		snprintf(line, sizeof(line), "%-11s %s", help_keys[i][0], help_keys[i][1]);
		if (tui_lines_wrap(out, TUI_STYLE_PLAIN, line, width, 12) != 0)
			return -1;
	}
	if (tui_lines_addf(out, TUI_STYLE_PLAIN, " ") != 0)
		return -1;
	return tui_lines_wrap(
	    out, TUI_STYLE_DIM,
	    "Panes are a fold of the trace up to the cursor. Any key closes this.", width, 0);
}

/* ---- topology ---- */

enum tui_style tui_pair_style(enum tui_pair_state s)
{
	return s == TUI_PAIR_DIRECT			    ? TUI_STYLE_GOOD
	       : s == TUI_PAIR_RELAYED			    ? TUI_STYLE_WARN
	       : s == TUI_PAIR_FAILED || s == TUI_PAIR_LOST ? TUI_STYLE_DROP
							    : TUI_STYLE_PLAIN;
}

static int build_pairs(struct tui_view *v, const struct tui_model *m, int width)
{
	tui_lines_clear(&v->pairs);
	for (size_t i = 0; i < tui_model_pair_count(m); i++) {
		const struct tui_pair *p = tui_model_pair(m, i);
		char line[256];
		if (p->outcome < 0) /* predict mode: how it ends is a question */
			snprintf(line, sizeof(line), "%s %s %s: ?", p->a,
				 v->ascii ? "<->" : "\u2194", p->b);
		else if (tui_model_limit(m) != TUI_NONE) /* step by step: no future */
			snprintf(line, sizeof(line), "%s %s %s: %s", p->a,
				 v->ascii ? "<->" : "\u2194", p->b, tui_pair_state_name(p->state));
		else if (p->prev_outcome >= 0 && p->prev_outcome != p->outcome)
			snprintf(line, sizeof(line), "%s %s %s: %s (ends %s, was %s)", p->a,
				 v->ascii ? "<->" : "\u2194", p->b, tui_pair_state_name(p->state),
				 scenario_path_name(p->outcome),
				 scenario_path_name(p->prev_outcome));
		else
			snprintf(line, sizeof(line), "%s %s %s: %s (ends %s)", p->a,
				 v->ascii ? "<->" : "\u2194", p->b, tui_pair_state_name(p->state),
				 scenario_path_name(p->outcome));
		if (tui_lines_wrap(&v->pairs, tui_pair_style(p->state), line, width, 2) != 0)
			return -1;
	}
	return 0;
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

static struct tui_topo_cell *topo_add(struct tui_topo *t, size_t node, int row, int col,
				      const char *lead, const char *name, const char *info)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct tui_topo_cell *nv = realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return NULL;
		t->v = nv;
		t->cap = ncap;
	}
	struct tui_topo_cell *c = &t->v[t->n++];
	c->node = node;
	c->row = row;
	c->col = col;
	snprintf(c->lead, sizeof(c->lead), "%s", lead);
	snprintf(c->info, sizeof(c->info), "%s", info);
	c->cols = tui_text_cols(c->lead) + 1 + tui_text_cols(name) + tui_text_cols(c->info);
	return c;
}

/* The first of a node's addresses (a NAT's public one, a host's own). */
static void first_addr(const struct tui_node *n, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(n->addrs, ","), n->addrs);
}

/* One node a row, as a tree: "└─home NAT port-restricted-cone 203.0.113.7,
 * 192.168.1.1" (every address when the row has room, else the first).
 * Returns false if some row would not fit in `width`. */
static bool topo_tree(struct tui_topo *t, const struct tui_model *m, int width, bool ascii)
{
	t->n = 0;
	t->compact = false;
	for (size_t i = 0; i < tui_model_node_count(m); i++) {
		const struct tui_node *n = tui_model_node(m, i);
		char lead[24], info[256], addr[48]; /* an IPv6 address: up to 39 */
		int indent = n->depth * 2 > 2 ? n->depth * 2 - 2 : 0;
		snprintf(lead, sizeof(lead), "%*s%s", indent, "",
			 n->depth == 0 ? ""
			 : ascii       ? "`-"
				       : "\u2514\u2500");
		snprintf(info, sizeof(info), " %s%s%.*s %s", role_tag(n),
			 n->behaviour[0] ? " " : "", (int)strcspn(n->behaviour, " "), n->behaviour,
			 n->addrs);
		struct tui_topo_cell *c = topo_add(t, i, (int)i, 0, lead, n->name, info);
		if (c && c->cols > width) {
			first_addr(n, addr, sizeof(addr));
			snprintf(info, sizeof(info), " %s%s%.*s %s", role_tag(n),
				 n->behaviour[0] ? " " : "", (int)strcspn(n->behaviour, " "),
				 n->behaviour, addr);
			t->n--;
			c = topo_add(t, i, (int)i, 0, lead, n->name, info);
		}
		if (!c || c->cols > width)
			return false;
	}
	t->rows = (int)t->n;
	return true;
}

static bool has_children(const struct tui_model *m, size_t i)
{
	for (size_t j = 0; j < tui_model_node_count(m); j++)
		if (tui_model_node(m, j)->parent == (int)i)
			return true;
	return false;
}

/* Place one cell at (*row, *col), or at the start of the next row (indented
 * under its group) when it does not fit. */
static int compact_place(struct tui_topo *t, const struct tui_model *m, size_t i, const char *lead,
			 int indent, int width, int *row, int *col)
{
	const struct tui_node *n = tui_model_node(m, i);
	char info[48]; /* " " and an IPv6 address, up to 39 */
	snprintf(info, sizeof(info), " ");
	first_addr(n, info + 1, sizeof(info) - 1);
	int need = tui_text_cols(lead) + 1 + tui_text_cols(n->name) + tui_text_cols(info);
	/* An address that would not fit even on a row of its own (an IPv6
	 * one runs to 39 columns) is left out, never cut: a cut address
	 * reads as another. The tables and the inspector still say it. */
	if (indent + 2 + need > width) {
		info[0] = '\0';
		need = tui_text_cols(lead) + 1 + tui_text_cols(n->name);
	}
	if (*col > indent && *col + need > width) {
		(*row)++;
		*col = indent + 2;
		lead = "";
	}
	struct tui_topo_cell *c = topo_add(t, i, *row, *col, lead, n->name, info);
	if (!c)
		return -1;
	*col += c->cols;
	return 0;
}

/* Every node and its first address in few rows: a row per NAT or router,
 * with the hosts behind it after a "›"; a nested NAT gets its own row,
 * indented. "home 203.0.113.7 › alice 192.168.1.5". */
static int topo_compact(struct tui_topo *t, const struct tui_model *m, int width, bool ascii)
{
	size_t n = tui_model_node_count(m);
	int row = -1;
	t->n = 0;
	t->compact = true;
	for (size_t h = 0; h < n; h++) {
		const struct tui_node *hn = tui_model_node(m, h);
		if (hn->parent >= 0 && !has_children(m, h))
			continue; /* a leaf: on its parent's row */
		int indent = hn->depth > 1 ? (hn->depth - 1) * 2 : 0, col = indent;
		const char *sep = ascii ? " >" : " \u203a"; /* the marker column follows */
		row++;
		if (compact_place(t, m, h, "", indent, width, &row, &col) != 0)
			return -1;
		for (size_t j = 0; j < n; j++) {
			const struct tui_node *jn = tui_model_node(m, j);
			if (jn->parent != (int)h || has_children(m, j))
				continue;
			if (compact_place(t, m, j, sep, indent, width, &row, &col) != 0)
				return -1;
			sep = ", ";
		}
	}
	t->rows = row + 1;
	return 0;
}

static int topo_row_of(const struct tui_topo *t, size_t node)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].node == node)
			return t->v[i].row;
	return -1;
}

static int layout_topology(struct tui_view *v, const struct tui_model *m)
{
	const struct tui_rect *r = &v->lay.topo;
	if (build_pairs(v, m, r->w) != 0)
		return -1;
	int pair_rows = (int)v->pairs.n > r->h - 2 ? r->h - 2 : (int)v->pairs.n;
	v->topo_y0 = r->y + 1 + pair_rows;
	v->topo_rows = r->y + r->h - v->topo_y0;
	bool tree =
	    (int)tui_model_node_count(m) <= v->topo_rows && topo_tree(&v->topo, m, r->w, v->ascii);
	if (!tree && topo_compact(&v->topo, m, r->w, v->ascii) != 0)
		return -1;
	/* scroll only when even the compact rows do not fit: keep the selection in view */
	int sel = topo_row_of(&v->topo, tui_model_selected(m));
	if (v->topo_top > v->topo.rows - v->topo_rows)
		v->topo_top = v->topo.rows - v->topo_rows;
	if (v->topo_top < 0)
		v->topo_top = 0;
	if (sel >= 0 && sel < v->topo_top)
		v->topo_top = sel;
	if (sel >= 0 && v->topo_rows > 0 && sel >= v->topo_top + v->topo_rows)
		v->topo_top = sel - v->topo_rows + 1;
	return 0;
}

size_t tui_view_node_at(const struct tui_view *v, int row, int col)
{
	int r = row + v->topo_top;
	for (size_t i = 0; row >= 0 && i < v->topo.n; i++) {
		const struct tui_topo_cell *c = &v->topo.v[i];
		/* a tree row is one node: anywhere on it selects it */
		if (c->row == r && (!v->topo.compact || (col >= c->col && col < c->col + c->cols)))
			return c->node;
	}
	return TUI_NONE;
}

/* ---- timeline ---- */

static int tl_push(struct tui_view *v, size_t rec, enum tui_style style, const char *text,
		   size_t len)
{
	if (v->tl.n == v->tl_cap) {
		size_t ncap = v->tl_cap ? v->tl_cap * 2 : 64;
		size_t *nr = realloc(v->tl_rec, ncap * sizeof(*nr));
		if (!nr)
			return -1;
		v->tl_rec = nr;
		v->tl_cap = ncap;
	}
	v->tl_rec[v->tl.n] = rec;
	return tui_lines_addf(&v->tl, style, "%.*s", (int)len, text);
}

/* A line that does not fit ends in an ellipsis, so a cut is never silent. */
static int tl_push_clipped(struct tui_view *v, const struct tui_model *m, size_t rec, int width)
{
	const char *s = tui_model_line(m, rec);
	enum tui_style st = tui_model_line_style(m, rec);
	if (tui_text_cols(s) <= width)
		return tl_push(v, rec, st, s, strlen(s));
	const char *dots = v->ascii ? "..." : "\u2026";
	size_t n = tui_text_fit(s, width - tui_text_cols(dots));
	if (tl_push(v, rec, st, s, n) != 0)
		return -1;
	char *t = v->tl.v[v->tl.n - 1].text, *nt = realloc(t, n + strlen(dots) + 1);
	if (!nt)
		return -1;
	strcpy(nt + n, dots);
	v->tl.v[v->tl.n - 1].text = nt;
	return 0;
}

/* The first entry on screen: the cursor's entry (k rows tall) stays in
 * view, a third from the bottom when it moves on, and the pane stays full
 * at the end of the list. */
static size_t tl_scroll(size_t top, size_t pos, size_t n, int rows, int k)
{
	if (pos == TUI_NONE)
		return top < n ? top : 0;
	if (pos < top)
		top = pos;
	if ((int)(pos - top) + k > rows) {
		size_t back = (size_t)(rows - k) - (size_t)((rows - k) / 3);
		top = pos > back ? pos - back : 0;
		if ((int)(pos - top) + k > rows)
			top = pos - (size_t)(rows - k);
	}
	int used = (int)(n - top) - 1 + k;
	while (top > 0 && used < rows) {
		top--;
		used++;
	}
	return top;
}

static int layout_timeline(struct tui_view *v, const struct tui_model *m)
{
	const struct tui_rect *r = &v->lay.timeline;
	int rows = r->h - 1;
	size_t n = tui_model_visible_count(m);
	size_t pos = tui_model_visible_pos(m, tui_model_cursor(m));
	struct tui_lines wrapped = {0};
	tui_lines_clear(&v->tl);
	v->tl_y0 = r->y + 1;
	int rc = 0;
	size_t cur = pos == TUI_NONE ? TUI_NONE : tui_model_visible_at(m, pos);
	if (cur != TUI_NONE)
		rc = tui_lines_wrap(&wrapped, tui_model_line_style(m, cur), tui_model_line(m, cur),
				    r->w, TIMELINE_WRAP_INDENT);
	int k = (int)wrapped.n > rows ? rows : (int)wrapped.n;
	v->tl_top = tl_scroll(v->tl_top, pos, n, rows, k ? k : 1);
	for (size_t e = v->tl_top; rc == 0 && e < n && (int)v->tl.n < rows; e++) {
		size_t rec = tui_model_visible_at(m, e);
		if (e != pos) {
			rc = tl_push_clipped(v, m, rec, r->w);
			continue;
		}
		for (int j = 0; rc == 0 && j < k; j++)
			rc = tl_push(v, rec, wrapped.v[j].style, wrapped.v[j].text,
				     strlen(wrapped.v[j].text));
	}
	tui_lines_fini(&wrapped);
	return rc;
}

/* ---- the whole view ---- */

void tui_view_init(struct tui_view *v, bool ascii)
{
	memset(v, 0, sizeof(*v));
	v->ascii = ascii;
	v->focus = TUI_FOCUS_TIMELINE;
}

void tui_view_fini(struct tui_view *v)
{
	tui_lines_fini(&v->status);
	tui_lines_fini(&v->pairs);
	tui_lines_fini(&v->tl);
	tui_lines_fini(&v->help_text);
	free(v->topo.v);
	free(v->tl_rec);
	memset(v, 0, sizeof(*v));
}

static int layout_status(struct tui_view *v, const char *msg, int cols)
{
	tui_lines_clear(&v->status);
	if (msg && msg[0])
		return tui_lines_wrap(&v->status, TUI_STYLE_NOTE, msg, cols - 1, 1);
	char bar[256];
	tui_keybar(bar, sizeof(bar), cols);
	return tui_lines_addf(&v->status, TUI_STYLE_PLAIN, "%s", bar);
}

int tui_view_update(struct tui_view *v, const struct tui_model *m, int rows, int cols,
		    const char *msg)
{
	if (layout_status(v, msg, cols) != 0)
		return -1;
	tui_layout_compute(&v->lay, rows, cols, (int)v->status.n);
	if (v->lay.too_small)
		return 0;
	int help_w = cols - 2 < HELP_MAX_COLS ? cols - 2 : HELP_MAX_COLS;
	if (layout_topology(v, m) != 0 || layout_timeline(v, m) != 0 ||
	    tui_help_lines(&v->help_text, help_w - 4, v->ascii) != 0)
		return -1;
	int help_rows = rows - 4; /* the overlay's inside: two border rows, one margin each */
	if (v->help_top > (int)v->help_text.n - help_rows)
		v->help_top = (int)v->help_text.n - help_rows;
	if (v->help_top < 0)
		v->help_top = 0;
	return 0;
}

/* ---- the mouse ---- */

static bool in_rect(const struct tui_rect *r, int y, int x)
{
	return y >= r->y && y < r->y + r->h && x >= r->x && x < r->x + r->w;
}

bool tui_view_mouse(struct tui_view *v, struct tui_model *m, int y, int x, enum tui_mouse ev)
{
	if (v->lay.too_small || v->help)
		return false;
	const struct tui_rect *tl = &v->lay.timeline, *tp = &v->lay.topo;
	if (in_rect(tl, y, x) && ev != TUI_MOUSE_CLICK)
		return tui_model_step_visible(m, ev == TUI_MOUSE_WHEEL_UP ? -1 : 1);
	if (ev != TUI_MOUSE_CLICK)
		return false;
	if (in_rect(tl, y, x) && y >= v->tl_y0) {
		int row = y - v->tl_y0;
		v->focus = TUI_FOCUS_TIMELINE;
		if (row < (int)v->tl.n)
			tui_model_seek(m, v->tl_rec[row]);
		return true;
	}
	if (in_rect(tp, y, x) && y >= v->topo_y0) {
		size_t node = tui_view_node_at(v, y - v->topo_y0, x - tp->x);
		v->focus = TUI_FOCUS_TOPOLOGY;
		if (node != TUI_NONE) {
			tui_model_select(m, node);
			v->tables_off = 0;
		}
		return true;
	}
	return false;
}
