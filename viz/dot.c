/*
 * dot.c - topology and flow pictures with libcgraph and libgvc.
 *
 * Both graphs are built the same way: attributes through agsafeset (so a
 * default is declared once per attribute), HTML-like labels through
 * agstrdup_html with every string from the trace escaped. Rendering checks
 * first that the output can be written, so that a bad path is reported in
 * words rather than by graphviz's own messages.
 */
#include "viz/dot.h"

#include <errno.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr6.h"
#include "base/endpoint.h"
#include "explain/explain.h"
#include "sim/engine.h"
#include "viz/tables.h"

/* ---- small helpers ------------------------------------------------------ */

static void set(void *obj, const char *name, const char *value)
{
	agsafeset(obj, (char *)name, (char *)value, (char *)"");
}

static void set_html(Agraph_t *g, void *obj, const char *name, const char *html)
{
	char *s = agstrdup_html(g, (char *)html);
	agsafeset(obj, (char *)name, s, (char *)"");
	agstrfree(g, s);
}

static Agnode_t *node(Agraph_t *g, const char *name)
{
	return agnode(g, (char *)name, 1);
}

/* A growing string buffer; on OOM it stays empty and `failed` is set. */
struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	if (b->failed)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t nc = (b->len + (size_t)n + 1) * 2;
		char *p = realloc(b->s, nc);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->s = p;
		b->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Text for an HTML-like label: &, <, > and " escaped. */
static void put_escaped(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			put(b, "&amp;");
			break;
		case '<':
			put(b, "&lt;");
			break;
		case '>':
			put(b, "&gt;");
			break;
		case '"':
			put(b, "&quot;");
			break;
		default:
			put(b, "%c", *s);
			break;
		}
	}
}

const char *dot_format_for_path(const char *path)
{
	const char *dot = path != NULL ? strrchr(path, '.') : NULL;
	if (dot == NULL || strchr(dot, '/') != NULL)
		return NULL;
	if (strcmp(dot, ".svg") == 0)
		return "svg";
	if (strcmp(dot, ".png") == 0)
		return "png";
	if (strcmp(dot, ".dot") == 0 || strcmp(dot, ".gv") == 0)
		return "dot";
	return NULL;
}

/* ---- topology ----------------------------------------------------------- */

static const struct trace_node *find_node(const struct trace_log *log, const char *name)
{
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_NODE && strcmp(r->u.node.name, name) == 0)
			return &r->u.node;
	}
	return NULL;
}

static size_t link_degree(const struct trace_log *log, const char *name)
{
	size_t n = trace_log_count(log), d = 0;
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_LINK && r->u.link.event == TRACE_LINK_ADDED)
			d += strcmp(r->u.link.a, name) == 0 || strcmp(r->u.link.b, name) == 0;
	}
	return d;
}

static bool is_coordinator(const struct trace_log *log, const char *name)
{
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_APP && r->u.app.app != NULL && r->u.app.node != NULL &&
		    strcmp(r->u.app.app, "coordinator") == 0 && strcmp(r->u.app.node, name) == 0)
			return true;
	}
	return false;
}

/* "accepts A, B and C (address-and-port-dependent filtering)" over lines: a break after
 * each comma and before the parenthesis, so a NAT's box stays narrow. */
static void put_who(struct buf *b, const char *who)
{
	char one[2] = "";
	for (const char *p = who; *p != '\0'; p++) {
		if (p[0] == ',' && p[1] == ' ') {
			put(b, ",<BR/>");
			p++;
		} else if (p[0] == ' ' && p[1] == '(') {
			put(b, "<BR/>");
		} else {
			one[0] = *p;
			put_escaped(b, one);
		}
	}
}

/* The mapping table of a NAT as HTML rows. */
static void put_mappings(struct buf *b, const struct tables_node *tn, int64_t at)
{
	char in[512], ex[512], who[512];
	if (tn == NULL || !tn->nats)
		return;
	put(b, "<TR><TD COLSPAN=\"3\" BGCOLOR=\"#fde9c9\"><B>mappings at %.3f s</B></TD></TR>",
	    at / 1e9);
	if (tn->n_mappings == 0)
		put(b, "<TR><TD COLSPAN=\"3\"><I>none</I></TD></TR>");
	else
		put(b, "<TR><TD><I>internal</I></TD><TD><I>external</I></TD>"
		       "<TD><I>who may come in</I></TD></TR>");
	for (size_t i = 0; i < tn->n_mappings; i++) {
		const struct tables_mapping *m = &tn->mappings[i];
		tables_mapping_words(m, in, ex, who, sizeof(who));
		put(b, "<TR><TD>%s</TD><TD>%s</TD><TD BALIGN=\"LEFT\">", in, ex);
		put_who(b, who);
		put(b, "</TD></TR>");
	}
}

/* Detail split at "; " onto lines. */
static void put_detail(struct buf *b, const char *detail)
{
	const char *p = detail;
	while (p != NULL && *p != '\0') {
		const char *e = strstr(p, "; ");
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		char *part = strndup(p, n);
		if (part == NULL) {
			b->failed = true;
			return;
		}
		put(b, "<TR><TD COLSPAN=\"3\"><FONT POINT-SIZE=\"9\">");
		put_escaped(b, part);
		put(b, "</FONT></TD></TR>");
		free(part);
		p = e != NULL ? e + 2 : NULL;
	}
}

/* The node's IPv6 addresses (sim/trace.h struct trace_node6), one line
 * each, "IPv6 2001:db8:1::5/64", unless its detail already says the
 * address (then the model's line says it, once). */
static void put_addresses6(struct buf *b, const struct trace_node *n)
{
	char a[IP6_TEXT_SIZE];

	for (size_t i = 0; n->v6 != NULL && i < TRACE_NODE_ADDRS; i++) {
		if (ip6_is_unspecified(&n->v6->addrs[i]))
			continue;
		ip6_format(&n->v6->addrs[i], a, sizeof(a));
		if (n->detail != NULL && strstr(n->detail, a) != NULL)
			continue;
		put(b, "<TR><TD COLSPAN=\"3\"><FONT POINT-SIZE=\"9\">IPv6 %s/%u</FONT></TD></TR>",
		    a, n->v6->prefix_lens[i]);
	}
}

static void add_topology_node(Agraph_t *g, const struct trace_log *log, const struct trace_node *n,
			      const struct tables *t)
{
	Agnode_t *v = node(g, n->name);
	const struct tables_node *tn = tables_node_find(t, n->name);
	bool nat = (tn != NULL && tn->nats) || n->nat;
	bool router = n->type != NULL && strcmp(n->type, "router") == 0;
	bool coord = is_coordinator(log, n->name);
	const char *fill = coord ? "#e3d7f5" : nat ? "#fff3df" : router ? "#dcecfb" : "#e6f4e6";
	const char *role = coord ? "coordinator" : nat ? "NAT" : n->type != NULL ? n->type : "node";
	struct buf b = {0};
	put(&b,
	    "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\" "
	    "BGCOLOR=\"%s\"><TR><TD COLSPAN=\"3\"><B>",
	    fill);
	put_escaped(&b, n->name);
	put(&b, "</B> <I>%s</I></TD></TR>", role);
	put_detail(&b, n->detail);
	put_addresses6(&b, n);
	if (nat)
		put_mappings(&b, tn, tables_time(t));
	put(&b, "</TABLE>");
	set(v, "shape", "plain");
	if (!b.failed)
		set_html(g, v, "label", b.s);
	free(b.s);
}

static void add_link(Agraph_t *g, const struct trace_log *log, const struct trace_link *k)
{
	const struct trace_node *na = find_node(log, k->a), *nb = find_node(log, k->b);
	bool swap = false;
	/* Draw from the inside of the network out: the node another sits behind,
	 * else the one with more links, is the tail. */
	if (na != NULL && na->behind != NULL && strcmp(na->behind, k->b) == 0)
		swap = true;
	else if (!(nb != NULL && nb->behind != NULL && strcmp(nb->behind, k->a) == 0))
		swap = link_degree(log, k->b) > link_degree(log, k->a);
	const char *tail = swap ? k->b : k->a, *head = swap ? k->a : k->b;
	const char *ti = swap ? k->b_iface : k->a_iface, *hi = swap ? k->a_iface : k->b_iface;
	Agedge_t *e = agedge(g, node(g, tail), node(g, head), NULL, 1);
	char label[128];
	int n = snprintf(label, sizeof(label), "%s\n%g ms", k->name != NULL ? k->name : "",
			 (double)k->latency_ns / 1e6);
	if (k->jitter_ns != 0 && n > 0 && (size_t)n < sizeof(label))
		n += snprintf(label + n, sizeof(label) - (size_t)n, " \u00b1 %g",
			      (double)k->jitter_ns / 1e6);
	if (k->loss > 0 && n > 0 && (size_t)n < sizeof(label))
		snprintf(label + n, sizeof(label) - (size_t)n, ", %g%% loss", k->loss * 100);
	set(e, "label", label);
	set(e, "taillabel", ti != NULL ? ti : "");
	set(e, "headlabel", hi != NULL ? hi : "");
	set(e, "dir", "none");
	set(e, "fontsize", "9");
}

/* The outcome of each pair: the last direct/relayed/lost/failed an agent said. */
struct outcome {
	const char *a, *b, *path;
};

static void add_outcomes(Agraph_t *g, const struct trace_log *log)
{
	size_t n = trace_log_count(log), m = 0;
	struct outcome *o = calloc(n + 1, sizeof(*o));
	if (o == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		const struct trace_app *a = &r->u.app;
		if (r->kind != TRACE_APP || a->event == NULL || a->peer == NULL || a->node == NULL)
			continue;
		const char *path =
		    strcmp(a->event, "direct") == 0 || strcmp(a->event, "upgraded") == 0 ? "direct"
		    : strcmp(a->event, "relayed") == 0					 ? "relayed"
		    : strcmp(a->event, "failed") == 0					 ? "failed"
		    : strcmp(a->event, "path-lost") == 0				 ? "lost"
											 : NULL;
		if (path == NULL || agnode(g, (char *)a->node, 0) == NULL ||
		    agnode(g, (char *)a->peer, 0) == NULL)
			continue;
		size_t k = 0;
		while (k < m && !((strcmp(o[k].a, a->node) == 0 && strcmp(o[k].b, a->peer) == 0) ||
				  (strcmp(o[k].a, a->peer) == 0 && strcmp(o[k].b, a->node) == 0)))
			k++;
		if (k == m)
			o[m++] = (struct outcome){a->node, a->peer, NULL};
		o[k].path = path;
	}
	for (size_t k = 0; k < m; k++) {
		Agedge_t *e = agedge(g, node(g, o[k].a), node(g, o[k].b), NULL, 1);
		const char *color = strcmp(o[k].path, "direct") == 0	? "#2e8b2e"
				    : strcmp(o[k].path, "relayed") == 0 ? "#e08a00"
									: "#d62020";
		set(e, "label", o[k].path);
		set(e, "color", color);
		set(e, "fontcolor", color);
		set(e, "penwidth", "2.5");
		set(e, "style",
		    strcmp(o[k].path, "failed") == 0 || strcmp(o[k].path, "lost") == 0 ? "dashed"
										       : "bold");
		set(e, "dir", "both");
		set(e, "constraint", "false");
	}
	free(o);
}

static int64_t last_time(const struct trace_log *log)
{
	size_t n = trace_log_count(log);
	return n > 0 ? trace_log_get(log, n - 1)->time : 0;
}

static Agraph_t *topology_graph(const struct trace_log *log)
{
	Agraph_t *g = agopen((char *)"natsim", Agdirected, NULL);
	struct tables *t = tables_fold(log, last_time(log));
	if (g == NULL || t == NULL) {
		if (g != NULL)
			agclose(g);
		tables_free(t);
		return NULL;
	}
	set(g, "rankdir", "TB");
	set(g, "fontname", "Helvetica");
	set(g, "nodesep", "0.4");
	agattr(g, AGNODE, (char *)"fontname", (char *)"Helvetica");
	agattr(g, AGEDGE, (char *)"fontname", (char *)"Helvetica");
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_NODE)
			add_topology_node(g, log, &r->u.node, t);
		else if (r->kind == TRACE_LINK && r->u.link.event == TRACE_LINK_ADDED)
			add_link(g, log, &r->u.link);
	}
	add_outcomes(g, log);
	tables_free(t);
	return g;
}

/* ---- flow --------------------------------------------------------------- */

#define FLOW_LANE_IN 1.4 /* inches between lanes */
#define FLOW_ROW_IN 0.32 /* inches between rows */
#define FLOW_TEXT_IN 9.0 /* width of the text column */

static void pin(Agnode_t *v, double x, double y)
{
	char pos[64];
	snprintf(pos, sizeof(pos), "%.3f,%.3f!", x, y);
	set(v, "pos", pos);
}

static Agnode_t *pin_point(Agraph_t *g, const char *name, double x, double y, bool visible)
{
	Agnode_t *v = node(g, name);
	set(v, "shape", "point");
	set(v, "width", visible ? "0.06" : "0.01");
	set(v, "label", "");
	if (!visible)
		set(v, "style", "invis");
	pin(v, x, y);
	return v;
}

#define FLOW_WRAP 110 /* characters on a line of row text */

/* Row text as a DOT label: escaped, each line ended with "\\l" (or "\\r") so
 * it is justified to the box's edge, wrapped onto a second line at a space
 * and cut with "…" beyond that. */
static void put_label_text(struct buf *b, const char *text, bool right)
{
	const char *end = right ? "\\r" : "\\l";
	size_t col = 0, lines = 1;
	for (const char *p = text; *p != '\0'; p++) {
		bool lead = ((unsigned char)*p & 0xc0) != 0x80;
		if (lead && col >= FLOW_WRAP - 12 && *p == ' ' && lines < 2) {
			put(b, "%s", end);
			col = 0;
			lines++;
			continue;
		}
		if (lead && col >= FLOW_WRAP) {
			put(b, "\u2026");
			break;
		}
		col += lead;
		if (*p == '\\' || *p == '"')
			put(b, "\\%c", *p);
		else
			put(b, "%c", *p);
	}
	put(b, "%s", end);
}

static void text_node(Agraph_t *g, const char *name, double x, double y, const char *text,
		      bool right, const char *color)
{
	Agnode_t *v = node(g, name);
	struct buf b = {0};
	/* A fixed-size box whose label is justified to one edge. */
	put_label_text(&b, text, right);
	set(v, "shape", "plaintext");
	set(v, "fixedsize", "true");
	set(v, "width", right ? "0.9" : "9.0");
	set(v, "height", "0.3");
	set(v, "fontsize", "10");
	set(v, "fontcolor", color);
	set(v, "tooltip", text);
	if (!b.failed)
		set(v, "label", b.s);
	free(b.s);
	pin(v, right ? x - 0.45 : x + FLOW_TEXT_IN / 2, y);
}

static void flow_lanes(Agraph_t *g, const struct ladder_view *v, double bottom)
{
	char name[64];
	for (size_t k = 0; k < v->n_lanes; k++) {
		double x = (double)k * FLOW_LANE_IN;
		snprintf(name, sizeof(name), "lane%zu", k);
		Agnode_t *head = node(g, name);
		set(head, "label", v->lanes[k]);
		set(head, "shape", "box");
		set(head, "style", "rounded,filled");
		set(head, "fillcolor", "#dcecfb");
		pin(head, x, 0);
		snprintf(name, sizeof(name), "foot%zu", k);
		Agnode_t *foot = pin_point(g, name, x, bottom, false);
		Agedge_t *e = agedge(g, head, foot, NULL, 1);
		set(e, "style", "dashed");
		set(e, "color", "#9aa5b1");
		set(e, "dir", "none");
	}
}

/* A drop is a red cross on its lane, as the ladder's ✗: two strokes between
 * four invisible pinned corners. Graphviz has no cross shape, and a glyph
 * would depend on the fonts installed. */
static void flow_cross(Agraph_t *g, size_t i, double x, double y)
{
	static const double half = 0.08; /* inches from the centre to a corner */
	char a[64], b[64];
	for (int k = 0; k < 2; k++) {
		double dy = k == 0 ? half : -half;
		snprintf(a, sizeof(a), "cross%zu_%da", i, k);
		snprintf(b, sizeof(b), "cross%zu_%db", i, k);
		Agnode_t *from = pin_point(g, a, x - half, y + dy, false);
		Agnode_t *to = pin_point(g, b, x + half, y - dy, false);
		Agedge_t *e = agedge(g, from, to, NULL, 1);
		set(e, "dir", "none");
		set(e, "color", "#c01818");
		set(e, "penwidth", "2.5");
	}
}

/* Row i of the view, drawn `slot` rows below the lane heads of its page. */
static void flow_row(Agraph_t *g, const struct ladder_view *v, size_t i, size_t slot, double text_x)
{
	const struct ladder_row *w = &v->rows[i];
	double y = -(double)(slot + 1) * FLOW_ROW_IN, xa = (double)w->from * FLOW_LANE_IN;
	char name[64], when[32];
	bool drop = w->kind == LADDER_DROP || w->crossed;
	snprintf(when, sizeof(when), "%" PRId64 ".%03ds", w->time / SIM_S(1),
		 (int)(w->time % SIM_S(1) / SIM_MS(1)));
	snprintf(name, sizeof(name), "t%zu", i);
	text_node(g, name, -0.3, y, when, true, "#555555");
	snprintf(name, sizeof(name), "x%zu", i);
	text_node(g, name, text_x, y, w->text, false, drop ? "#c01818" : "#000000");
	if (w->kind == LADDER_NOTE) {
		agsafeset(agnode(g, name, 0), (char *)"fontname", (char *)"Helvetica-Bold",
			  (char *)"");
		return;
	}
	if (w->kind == LADDER_ARROW && w->from >= 0 && w->to >= 0) {
		double xb = (double)w->to * FLOW_LANE_IN;
		snprintf(name, sizeof(name), "a%zu", i);
		Agnode_t *a = pin_point(g, name, xa, y, true);
		snprintf(name, sizeof(name), "b%zu", i);
		Agnode_t *b = pin_point(g, name, xb, y, false);
		Agedge_t *e = agedge(g, a, b, NULL, 1);
		char label[96];
		/* ICMP arrows say what they carry: "#7 echo request", and an
		 * error is dashed, the way the student reads "about that packet". */
		const char *what = w->icmp[0] != '\0' ? w->icmp : w->tcp; /* "[SYN,ACK]" */
		snprintf(label, sizeof(label), "#%" PRIu64 "%s%s", w->packet_id,
			 what[0] != '\0' ? " " : "", what);
		set(e, "xlabel", label);
		set(e, "fontsize", "8");
		set(e, "color", drop ? "#c01818" : w->icmp[0] != '\0' ? "#6a3d9a" : "#1f4e79");
		if (w->icmp_error)
			set(e, "style", "dashed");
		set(e, "arrowhead", drop ? "tee" : "normal");
		set(e, "arrowsize", "0.6");
		return;
	}
	if (w->from < 0)
		return;
	if (w->kind != LADDER_REWRITE) {
		flow_cross(g, i, xa, y);
		return;
	}
	snprintf(name, sizeof(name), "m%zu", i);
	Agnode_t *m = node(g, name);
	pin(m, xa, y);
	set(m, "label", "");
	set(m, "width", "0.14");
	set(m, "height", "0.14");
	set(m, "style", "filled");
	set(m, "shape", "diamond");
	set(m, "fillcolor", "#f0a030");
	set(m, "color", "#b06000");
}

/* Rows [first, first + n) of the view as one picture, lane heads on top. */
static Agraph_t *flow_page(const struct ladder_view *v, size_t first, size_t n)
{
	Agraph_t *g = agopen((char *)"natsim_flow", Agdirected, NULL);
	if (g == NULL)
		return NULL;
	set(g, "splines", "line");
	set(g, "overlap", "true");
	set(g, "outputorder", "edgesfirst");
	set(g, "fontname", "Helvetica");
	agattr(g, AGNODE, (char *)"fontname", (char *)"Helvetica");
	agattr(g, AGEDGE, (char *)"fontname", (char *)"Helvetica");
	double bottom = -(double)(n + 1) * FLOW_ROW_IN;
	double text_x = (double)(v->n_lanes > 0 ? v->n_lanes - 1 : 0) * FLOW_LANE_IN + 0.5;
	flow_lanes(g, v, bottom);
	for (size_t i = 0; i < n; i++)
		flow_row(g, v, first + i, i, text_x);
	if (v->n_packet_rows == 0) {
		Agnode_t *e = node(g, "empty");
		set(e, "shape", "plaintext");
		set(e, "label", "(no packets selected)");
		pin(e, 0, -FLOW_ROW_IN);
	}
	return g;
}

static Agraph_t *flow_graph(const struct trace_log *log, const struct ladder_options *opt)
{
	struct ladder_view *v = ladder_view_build(log, opt);
	Agraph_t *g = v != NULL ? flow_page(v, 0, v->n_rows) : NULL;
	ladder_view_free(v);
	return g;
}

/* ---- output ------------------------------------------------------------- */

static int write_source(FILE *out, Agraph_t *g)
{
	if (g == NULL)
		return -1;
	int rc = agwrite(g, out) == 0 && !ferror(out) ? 0 : -1;
	agclose(g);
	return rc;
}

int dot_topology_write(FILE *out, const struct trace_log *log)
{
	return write_source(out, topology_graph(log));
}

int dot_flow_write(FILE *out, const struct trace_log *log, const struct ladder_options *opt)
{
	return write_source(out, flow_graph(log, opt));
}

/* One graphviz context for the whole process, never freed: graphviz 2.42's
 * text layout caches a font name across contexts, and a second context
 * after gvFreeContext reads the freed one (found by AddressSanitizer). */
static GVC_t *shared_context(void)
{
	static GVC_t *gvc;
	if (gvc == NULL)
		gvc = gvContext();
	return gvc;
}

static int render(Agraph_t *g, const char *engine, const char *path, char *err, size_t err_size)
{
	const char *fmt = dot_format_for_path(path);
	int rc = -1;
	if (fmt == NULL) {
		snprintf(err, err_size, "cannot tell the format of '%s': use .svg, .png or .dot",
			 path);
		goto out;
	}
	/* Find out now, in words, whether the file can be written. */
	FILE *probe = fopen(path, "w");
	if (probe == NULL) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	fclose(probe);
	if (g == NULL) {
		snprintf(err, err_size, "out of memory building the graph");
		goto out;
	}
	GVC_t *gvc = shared_context();
	if (gvc == NULL) {
		snprintf(err, err_size, "graphviz could not start");
		goto out;
	}
	if (gvLayout(gvc, g, engine) != 0)
		snprintf(err, err_size, "graphviz could not lay out the graph (%s)", engine);
	else if (gvRenderFilename(gvc, g, fmt, path) != 0)
		snprintf(err, err_size, "graphviz could not render %s as %s", path, fmt);
	else
		rc = 0;
	gvFreeLayout(gvc, g);
out:
	if (g != NULL)
		agclose(g);
	return rc;
}

int dot_topology_render(const struct trace_log *log, const char *path, char *err, size_t err_size)
{
	if (dot_format_for_path(path) == NULL)
		return render(NULL, "dot", path, err, err_size);
	return render(topology_graph(log), "dot", path, err, err_size);
}

/* "flow.png", page 2 -> "flow-2.png" (the number before the extension). */
static void page_path(const char *path, size_t page, char *out, size_t size)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	if (dot == NULL || (slash != NULL && dot < slash))
		dot = path + strlen(path);
	snprintf(out, size, "%.*s-%zu%s", (int)(dot - path), path, page, dot);
}

int dot_flow_render_pages(const struct trace_log *log, const struct ladder_options *opt,
			  const char *path, size_t *pages, char *err, size_t err_size)
{
	const char *fmt = dot_format_for_path(path);
	if (pages != NULL)
		*pages = 0;
	if (fmt == NULL)
		return render(NULL, "neato", path, err, err_size);
	struct ladder_view *v = ladder_view_build(log, opt);
	if (v == NULL)
		return render(NULL, "neato", path, err, err_size); /* says: out of memory */
	/* Only bitmaps have a height limit worth splitting for (ImageMagick's
	 * default policy refuses more than 16 000 px); SVG and DOT stay whole. */
	size_t per_page = strcmp(fmt, "png") == 0 ? DOT_FLOW_PAGE_ROWS : v->n_rows;
	size_t n_pages = v->n_rows <= per_page ? 1 : (v->n_rows + per_page - 1) / per_page;
	int rc = 0;
	for (size_t p = 0; p < n_pages && rc == 0; p++) {
		char name[4096];
		size_t first = p * per_page;
		size_t n = v->n_rows - first < per_page ? v->n_rows - first : per_page;
		if (n_pages == 1)
			snprintf(name, sizeof(name), "%s", path);
		else
			page_path(path, p + 1, name, sizeof(name));
		rc = render(flow_page(v, first, n), "neato", name, err, err_size);
		if (rc == 0 && pages != NULL)
			*pages = p + 1;
	}
	ladder_view_free(v);
	return rc;
}

int dot_flow_render(const struct trace_log *log, const struct ladder_options *opt, const char *path,
		    char *err, size_t err_size)
{
	return dot_flow_render_pages(log, opt, path, NULL, err, err_size);
}

#if defined(__SANITIZE_ADDRESS__)
/* LeakSanitizer: graphviz 2.42 and the font stack under it keep caches for
 * the life of the process and leak in its HTML-label parser; none of that is
 * ours. These suppressions apply to any program that links this file. */
const char *__lsan_default_suppressions(void);
__attribute__((used)) const char *__lsan_default_suppressions(void)
{
	return "leak:libgvc.so\n"
	       "leak:libcgraph.so\n"
	       "leak:libgvplugin_\n"
	       "leak:libfontconfig.so\n"
	       "leak:libpango\n"
	       "leak:libglib-2.0.so\n"
	       "leak:libgobject-2.0.so\n"
	       "leak:libcairo.so\n"
	       "leak:libharfbuzz.so\n"
	       "leak:libfreetype.so\n"
	       "leak:libgd.so\n"
	       "leak:libexpat.so\n";
}
#endif
