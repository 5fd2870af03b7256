/*
 * tui_model.h - the view model behind `natsim tui`: what each pane shows at
 * the cursor, as a fold over a recorded run. No ncurses here, so the model is
 * unit-tested without a terminal and benchmarked on its own.
 *
 * A run is recorded first (the whole scenario into a trace_log); the cursor is
 * then an index into its records. Everything shown is a fold of the records
 * 0..cursor inclusive (DESIGN.md "The trace is the contract"): stepping
 * forward applies one record, stepping back re-folds from the start. The fold
 * is by record index, not by time, so two records at the same instant are two
 * steps.
 *
 * Ownership: the model borrows the scenario (the what-if cycle edits it in
 * place through scenario_set_override) and owns the log, the timeline text
 * and the fold. Pointers it returns stay valid until the next call that moves
 * the cursor, re-runs or frees the model.
 */
#ifndef NATSIM_APP_TUI_MODEL_H
#define NATSIM_APP_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "sim/trace.h"
#include "sim/trace_log.h"

#define TUI_NONE ((size_t)-1)

struct tui_model_options {
	bool ascii;    /* "->" and "x" instead of arrows and crosses */
	bool has_seed; /* else the scenario's, else 1; kept across what-if re-runs */
	uint64_t seed;
	int64_t until_ns; /* SCENARIO_UNSET: the runner's default end */
};

/* How a line should look; the front end maps styles to colours. */
enum tui_style {
	TUI_STYLE_PLAIN,
	TUI_STYLE_HEADER,  /* a section title */
	TUI_STYLE_DIM,	   /* secondary text */
	TUI_STYLE_DROP,	   /* drops, failures */
	TUI_STYLE_GOOD,	   /* direct paths, passed expectations */
	TUI_STYLE_WARN,	   /* relayed paths */
	TUI_STYLE_CHANGED, /* a field a translation rewrote */
	TUI_STYLE_NOTE,	   /* scenario notes */
};

struct tui_line {
	char *text;
	enum tui_style style;
};

/* A growable list of owned lines. */
struct tui_lines {
	struct tui_line *v;
	size_t n, cap;
};
void tui_lines_clear(struct tui_lines *l);
void tui_lines_fini(struct tui_lines *l);
/* Append a formatted line; returns 0 or -1 when out of memory. */
int tui_lines_addf(struct tui_lines *l, enum tui_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Display columns of UTF-8 text: every glyph natsim prints (arrows, crosses,
 * box lines) is one column wide, so this counts characters. */
int tui_text_cols(const char *s);
/* Bytes of the longest prefix of `s` that fits in `cols` columns. */
size_t tui_text_fit(const char *s, int cols);
/* Append `s` word-wrapped to `width` columns (width <= 0: one line); rows
 * after the first are indented by `indent` spaces. A word longer than a row
 * is cut at the row's end and goes on. Returns 0 or -1 when out of memory. */
int tui_lines_wrap(struct tui_lines *l, enum tui_style style, const char *s, int width, int indent);

struct tui_model;

/* A model for `s` (borrowed, must outlive the model). Runs nothing yet. */
struct tui_model *tui_model_new(struct scenario *s, const struct tui_model_options *opt);
void tui_model_free(struct tui_model *m);

/* Run the scenario from the start into a fresh log. The cursor keeps its
 * virtual time (the last record at or before it), the selected node keeps
 * its name, the filter is re-applied. Returns 0, or -1 with `d` filled. */
int tui_model_run(struct tui_model *m, struct diag *d);

/* Use an existing log instead of running (tests and the benchmark); the
 * model takes ownership of `log`. Returns 0 or -1 when out of memory. */
int tui_model_adopt_log(struct tui_model *m, struct trace_log *log);

const struct trace_log *tui_model_log(const struct tui_model *m);
const struct scenario *tui_model_scenario(const struct tui_model *m);
uint64_t tui_model_seed(const struct tui_model *m);

/* ---- the cursor ---- */

size_t tui_model_count(const struct tui_model *m);
size_t tui_model_cursor(const struct tui_model *m);
const struct trace_record *tui_model_record(const struct tui_model *m, size_t i);
/* Virtual time at the cursor (0 with an empty log). */
int64_t tui_model_now(const struct tui_model *m);
bool tui_model_at_end(const struct tui_model *m);

/* Move the cursor to record `i` (clamped). Returns 0, or -1 if the fold ran
 * out of memory. */
int tui_model_seek(struct tui_model *m, size_t i);
/* One record forward / back; false if already at the end / the start. */
bool tui_model_step(struct tui_model *m);
bool tui_model_back(struct tui_model *m);
/* Forward to the next packet hop; false if there is none. */
bool tui_model_next_packet(struct tui_model *m);
/* To the last record at or before `t` (the first record if none). */
void tui_model_goto_time(struct tui_model *m, int64_t t);
/* Forward (never back) while the next record's time is <= t; for running at a
 * rate. Returns true if the cursor moved. */
bool tui_model_advance_to(struct tui_model *m, int64_t t);

/* ---- the timeline ---- */

/* Record i as one line, as timeline_render_record prints it at VERBOSE. */
const char *tui_model_line(const struct tui_model *m, size_t i);
enum tui_style tui_model_line_style(const struct tui_model *m, size_t i);

/* Show only the records whose line contains `substr` (case-sensitive); NULL
 * or "" shows all. Returns 0 or -1 when out of memory. */
int tui_model_set_filter(struct tui_model *m, const char *substr);
const char *tui_model_filter(const struct tui_model *m);
size_t tui_model_visible_count(const struct tui_model *m);
size_t tui_model_visible_at(const struct tui_model *m, size_t k); /* a record index */
/* The position among the visible lines of the last one at or before record
 * `i`, or TUI_NONE if none is. */
size_t tui_model_visible_pos(const struct tui_model *m, size_t i);
/* Move the cursor to the next (dir > 0) or previous visible record. */
bool tui_model_step_visible(struct tui_model *m, int dir);

/* ---- topology ---- */

enum tui_role {
	TUI_ROLE_INTERNET, /* the core router everything hangs from */
	TUI_ROLE_NAT,
	TUI_ROLE_ROUTER,
	TUI_ROLE_HOST,
	TUI_ROLE_COORDINATOR,
};

struct tui_node {
	const char *name;
	const char *type;   /* from the TRACE_NODE record */
	const char *detail; /* addresses and behaviour, one line */
	enum tui_role role;
	int parent;	    /* index of the node it sits behind, or -1 */
	int depth;	    /* in the tree drawn by the topology pane */
	char addrs[192];    /* its IPv4 addresses, then its IPv6 ones (RFC 5952),
			     * comma-separated */
	char behaviour[64]; /* NAT: "port-restricted-cone (EIM+APDF)"; else "" */
	bool firewall;	    /* a host with its firewall on, or a node with rules */
	bool relay;	    /* the coordinator relays */
};

/* Nodes in tree order: a parent before its children (depth-first). */
size_t tui_model_node_count(const struct tui_model *m);
const struct tui_node *tui_model_node(const struct tui_model *m, size_t i);
size_t tui_model_find_node(const struct tui_model *m, const char *name); /* or TUI_NONE */
size_t tui_model_selected(const struct tui_model *m);			 /* or TUI_NONE */
/* A choice by the student (arrows, a click): it pins the selection, so the
 * tables stop following the packet (tui_model_set_follow turns that back on). */
void tui_model_select(struct tui_model *m, size_t node);
/* Follow mode (on for a new model): the selected node, and so the tables
 * pane, is the node of the record at the cursor (a packet hop, conntrack or
 * mapping change), else of the last such record before it; before any, the
 * first NAT. Turning it on selects that node at once. */
void tui_model_set_follow(struct tui_model *m, bool on);
bool tui_model_follow(const struct tui_model *m);
/* The node the cursor's record (or the last one before it) happened at, or
 * TUI_NONE. */
size_t tui_model_cursor_node(const struct tui_model *m);
/* The NAT the selected node is or sits behind, or TUI_NONE. */
size_t tui_model_selected_nat(const struct tui_model *m);

/* The packet at the cursor, if the current record is a packet hop: the link
 * it is on is drawn between `child` and its parent (`up` = towards the
 * parent). child is TUI_NONE when the hop is not at an interface. */
struct tui_flight {
	bool active;
	uint64_t packet_id;
	enum trace_hop hop;
	size_t node;  /* where the hop happened */
	size_t child; /* the lower end of the link, or TUI_NONE */
	bool up;
};
void tui_model_flight(const struct tui_model *m, struct tui_flight *out);

enum tui_pair_state {
	TUI_PAIR_REGISTERING, /* nothing about the pair yet: agents register */
	TUI_PAIR_PUNCHING,
	TUI_PAIR_DIRECT,
	TUI_PAIR_RELAYED,
	TUI_PAIR_LOST, /* the chosen path stopped answering */
	TUI_PAIR_FAILED,
};
const char *tui_pair_state_name(enum tui_pair_state s);

struct tui_pair {
	const char *a, *b;
	enum tui_pair_state state; /* at the cursor, from TRACE_APP records */
	int outcome;		   /* enum scenario_path at the end of the run */
	int prev_outcome;	   /* before the last what-if re-run, or -1 */
};
size_t tui_model_pair_count(const struct tui_model *m);
const struct tui_pair *tui_model_pair(const struct tui_model *m, size_t i);

/* ---- tables, inspector, ladder: text for the panes ---- */

/* Live entries of `node` at the cursor (for tests and titles). */
size_t tui_model_flow_count(const struct tui_model *m, const char *node);
size_t tui_model_mapping_count(const struct tui_model *m, const char *node);

/* The tables pane for `node`: for a NAT its mappings first (who may come
 * in, time left), then conntrack, then firewall rules with the hits the trace
 * shows, for a pane `width` columns wide. At TUI_TABLES_FULL columns or more
 * (or width <= 0) conntrack entries are `conntrack -L` lines; narrower, each
 * flow is its tuple, time left and flags, and every line is word-wrapped to
 * the width, so nothing needs scrolling sideways. Stops after about
 * `max_lines` lines (0: all), the most the pane can show. Replaces `out`'s
 * lines. Returns 0 or -1 when out of memory. */
#define TUI_TABLES_FULL 120
int tui_model_tables(const struct tui_model *m, const char *node, int width, size_t max_lines,
		     struct tui_lines *out);

/* The packet the inspector shows: the current record if it is a packet hop,
 * else the last hop before it; TUI_NONE if none. */
size_t tui_model_inspected(const struct tui_model *m);
/* Header fields, what a translation changed (before and after side by side),
 * the drop sentence, and the bytes in hex; sentences and the packet summary
 * are word-wrapped to `width` columns. */
int tui_model_inspect(const struct tui_model *m, size_t record, int width, struct tui_lines *out);

/* The recent packet flow ending at the cursor, at most `width` columns. Uses
 * the ladder renderer when built with one, else a list of recent hops. */
int tui_model_ladder(const struct tui_model *m, int width, struct tui_lines *out);
/* True when tui_model_ladder draws a ladder diagram, false for the list. */
bool tui_model_has_ladder(void);

/* ---- predict mode (natsim tui --predict) ---- */

/* What a withheld pane or timeline line says instead. */
#define TUI_HIDDEN_TEXT "(hidden until you have answered)"

/* Hidden: nothing that could answer a question is given out. The timeline
 * has no visible line and tui_model_line() says TUI_HIDDEN_TEXT; nodes keep
 * their names, roles and addresses but lose their behaviour, detail,
 * firewall and relay; pairs keep their names, with outcome and prev_outcome
 * -1 and the state REGISTERING; the tables, inspector and ladder are one
 * TUI_HIDDEN_TEXT line; no packet is in flight. The cursor still moves (the
 * front end decides whether to let it). Showing again restores everything
 * as it was. Returns 0 or -1 when out of memory. */
int tui_model_set_hidden(struct tui_model *m, bool hidden);
bool tui_model_hidden(const struct tui_model *m);

/* Step by step (shown, not hidden): records after `last` are the future a
 * question at that moment asks about. The cursor stops at `last` (step,
 * seek, running: tui_model_at_end is true there), later lines are neither
 * visible nor given (TUI_HIDDEN_TEXT), and the view draws no pair's outcome.
 * TUI_NONE lifts the limit. Returns 0 or -1 when out of memory. */
int tui_model_set_limit(struct tui_model *m, size_t last);
size_t tui_model_limit(const struct tui_model *m); /* or TUI_NONE */

/* ---- what-if ---- */

/* The preset after `current` in full-cone -> restricted-cone ->
 * port-restricted-cone -> symmetric -> full-cone. */
const char *tui_next_preset(const char *current);
/* Set the NAT `node`'s preset to the next one and re-run with the same seed.
 * `msg` gets a sentence for the status line ("what-if office:
 * port-restricted-cone -> symmetric, same seed 1; alice <-> bob: direct ->
 * relayed"); the front end wraps it, never cuts it. Returns 0, or -1 with `d`
 * and `msg` saying why. */
int tui_model_cycle_preset(struct tui_model *m, size_t node, char *msg, size_t size,
			   struct diag *d);

#endif
