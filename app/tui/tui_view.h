/*
 * tui_view.h - what `natsim tui` puts where, decided without ncurses: the
 * panes for a terminal size, the key bar and the help for a width, the
 * topology as rows of cells (a tree when it fits, compact when not), which
 * timeline record each screen row shows (the cursor's line word-wrapped),
 * and what a mouse event at a screen cell does. app/tui/tui.c draws what this
 * decides and turns curses events into these calls, so the tests check the
 * layout at 80x24 and drive the mouse without a terminal.
 *
 * The view borrows the model; tui_view_update() recomputes everything for
 * the model's cursor and a terminal size, and the mouse acts on what the last
 * update laid out (what the student saw when clicking).
 */
#ifndef NATSIM_APP_TUI_VIEW_H
#define NATSIM_APP_TUI_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "app/tui/tui_model.h"

#define TUI_MIN_COLS 80
#define TUI_MIN_ROWS 24

struct tui_rect {
	int y, x, h, w; /* the first row is the pane's title bar */
};

struct tui_layout {
	bool too_small;
	struct tui_rect title, topo, tables, timeline, inspect, ladder, status;
};

/* Panes for `rows` x `cols` with `status_rows` (1..3) rows at the bottom for
 * the key bar or a message. At 80x24 the topology keeps 7 rows of body. */
void tui_layout_compute(struct tui_layout *l, int rows, int cols, int status_rows);

/* The key bar for `width` columns: keys by how much a student needs them,
 * "? help" and "q quit" always, shown in their usual order. */
void tui_keybar(char *out, size_t size, int width);

/* The help text word-wrapped to `width` columns (the overlay's inside). */
int tui_help_lines(struct tui_lines *out, int width, bool ascii);

/* One node on the topology pane: `lead` (tree branch or separator) at
 * column `col`, then one column for the packet marker, the name, and `info`
 * (role and addresses). `cols` is the whole width, for the mouse. */
struct tui_topo_cell {
	size_t node;
	int row, col, cols;
	char lead[24];
	char info[256]; /* role, behaviour, addresses (IPv6 ones up to 39 each) */
};

struct tui_topo {
	struct tui_topo_cell *v;
	size_t n, cap;
	int rows;     /* node rows laid out (they may be more than fit) */
	bool compact; /* several nodes a row: a NAT with the hosts behind it */
};

enum tui_focus { TUI_FOCUS_TOPOLOGY, TUI_FOCUS_TIMELINE, TUI_FOCUS_COUNT };

struct tui_view {
	bool ascii;
	struct tui_layout lay;
	enum tui_focus focus;
	size_t tl_top;		 /* the first visible timeline entry on screen */
	int topo_top;		 /* the first topology node row on screen */
	int tables_off;		 /* tables pane: first line shown */
	int tables_hoff;	 /* and bytes cut on the left */
	bool help;		 /* the help overlay is open */
	int help_top;		 /* its first line shown */
	struct tui_lines status; /* the status rows: a wrapped message, or the key bar */
	struct tui_lines pairs;	 /* topology: each pair and its state, wrapped */
	struct tui_topo topo;
	int topo_y0;	     /* screen row of the first node row */
	int topo_rows;	     /* node rows that fit */
	struct tui_lines tl; /* timeline: the text of each screen row */
	size_t *tl_rec;	     /* the record each row shows */
	size_t tl_cap;
	int tl_y0; /* screen row of the first timeline row */
	struct tui_lines help_text;
};

void tui_view_init(struct tui_view *v, bool ascii);
void tui_view_fini(struct tui_view *v);

/* Lay everything out for the model's cursor on a `rows` x `cols` screen;
 * `msg` (or NULL/"") replaces the key bar and is wrapped over up to three
 * rows, never cut. Returns 0 or -1 when out of memory. */
int tui_view_update(struct tui_view *v, const struct tui_model *m, int rows, int cols,
		    const char *msg);

/* The style a pair's line is drawn in. */
enum tui_style tui_pair_style(enum tui_pair_state s);

/* The node drawn at topology body row `row` (0 = the first node row on
 * screen), column `col` of the pane, or TUI_NONE. */
size_t tui_view_node_at(const struct tui_view *v, int row, int col);

enum tui_mouse {
	TUI_MOUSE_CLICK,
	TUI_MOUSE_WHEEL_UP,
	TUI_MOUSE_WHEEL_DOWN,
};

/* A mouse event at screen cell (y, x), on what the last update laid out: a
 * click on a node selects it (the tables stop following the packet) and
 * focuses the topology; a click on a timeline row moves the cursor to its
 * record; the wheel over the timeline steps through it. Returns true if the
 * model or the view changed. */
bool tui_view_mouse(struct tui_view *v, struct tui_model *m, int y, int x, enum tui_mouse ev);

#endif
