/*
 * tui_model.c - the fold from a recorded run to what each TUI pane shows.
 *
 * The tables are folded here by record index, not with viz/tables'
 * tables_fold(), which folds by time: the TUI steps one record at a time and
 * many records share an instant (a whole NAT traversal happens at t = 0), so
 * "step back and the mapping is gone" needs an index fold. The folding rules
 * are the same as tables.h states them. Entries are found by id through a
 * small open-addressing index, so a fold over 10 000 records with 1 000 live
 * flows stays linear.
 */
#include "app/tui/tui_model.h"

#include "app/world/world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/world/runner.h"
#include "base/endpoint.h"
#include "app/world/simdrive.h"
#include "explain/explain.h"
#include "explain/socket.h"
#include "model/conntrack.h"
#include "model/firewall.h"
#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "viz/tables.h"
#include "model/packet6.h" /* packet_ip_version */
#include "viz/packet_words.h"
#include "viz/timeline.h"

#if defined(__has_include)
#if __has_include("viz/ladder.h")
#include "viz/ladder.h"
#define TUI_HAVE_LADDER 1
#endif
#endif

#define MAX_RULES 32 /* hit counters per chain; index 0 is the chain policy */

/* ---- lines ---- */

void tui_lines_clear(struct tui_lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].text);
	l->n = 0;
}

void tui_lines_fini(struct tui_lines *l)
{
	tui_lines_clear(l);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

int tui_lines_addf(struct tui_lines *l, enum tui_style style, const char *fmt, ...)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		struct tui_line *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = ncap;
	}
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *text = len < 0 ? NULL : malloc((size_t)len + 1);
	if (text)
		vsnprintf(text, (size_t)len + 1, fmt, ap2);
	va_end(ap2);
	if (!text)
		return -1;
	l->v[l->n++] = (struct tui_line){text, style};
	return 0;
}

int tui_text_cols(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

size_t tui_text_fit(const char *s, int cols)
{
	size_t i = 0;
	int used = 0;
	while (s[i]) {
		size_t n = 1;
		while (((unsigned char)s[i + n] & 0xc0) == 0x80)
			n++;
		if (++used > cols)
			break;
		i += n;
	}
	return i;
}

/* Where to end a row of `p` that is wider than `avail`: after the last space
 * that fits, or (one long word) at the edge. */
static size_t wrap_break(const char *p, int avail)
{
	size_t fit = tui_text_fit(p, avail), brk = fit;
	while (brk > 0 && p[brk] != ' ')
		brk--;
	return brk > 0 ? brk : (fit > 0 ? fit : 1);
}

int tui_lines_wrap(struct tui_lines *l, enum tui_style style, const char *s, int width, int indent)
{
	if (indent > width / 2)
		indent = width / 2;
	for (int row = 0; row == 0 || *s; row++) {
		int pad = row ? indent : 0, avail = width - pad;
		if (width <= 0 || tui_text_cols(s) <= avail)
			return tui_lines_addf(l, style, "%*s%s", pad, "", s);
		size_t brk = wrap_break(s, avail), end = brk;
		while (end > 0 && s[end - 1] == ' ')
			end--;
		if (tui_lines_addf(l, style, "%*s%.*s", pad, "", (int)end, s) != 0)
			return -1;
		s += brk;
		s += strspn(s, " ");
	}
	return 0;
}

/* ---- an id -> index map (open addressing, never shrinks) ---- */

struct idmap {
	uint32_t *keys;
	uint32_t *vals; /* index + 1; 0 = empty slot */
	size_t cap, n;
};

static void idmap_reset(struct idmap *im)
{
	if (im->cap)
		memset(im->vals, 0, im->cap * sizeof(*im->vals));
	im->n = 0;
}

static void idmap_fini(struct idmap *im)
{
	free(im->keys);
	free(im->vals);
}

static size_t idmap_slot(const struct idmap *im, uint32_t key)
{
	size_t mask = im->cap - 1;
	size_t i = (key * 2654435761u) & mask;
	while (im->vals[i] && im->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

/* The index stored for `key`, or TUI_NONE. */
static size_t idmap_get(const struct idmap *im, uint32_t key)
{
	if (!im->cap)
		return TUI_NONE;
	size_t i = idmap_slot(im, key);
	return im->vals[i] ? im->vals[i] - 1 : TUI_NONE;
}

static int idmap_put(struct idmap *im, uint32_t key, size_t index);

static int idmap_grow(struct idmap *im)
{
	struct idmap bigger = {.cap = im->cap ? im->cap * 2 : 64};
	bigger.keys = malloc(bigger.cap * sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		idmap_fini(&bigger);
		return -1;
	}
	for (size_t i = 0; i < im->cap; i++)
		if (im->vals[i])
			idmap_put(&bigger, im->keys[i], im->vals[i] - 1);
	idmap_fini(im);
	*im = bigger;
	return 0;
}

static int idmap_put(struct idmap *im, uint32_t key, size_t index)
{
	if ((im->n + 1) * 2 > im->cap && idmap_grow(im) != 0)
		return -1;
	size_t i = idmap_slot(im, key);
	if (!im->vals[i])
		im->n++;
	im->keys[i] = key;
	im->vals[i] = (uint32_t)index + 1;
	return 0;
}

/* ---- the fold's state ---- */

struct fold_flow {
	struct trace_conntrack rec;
	bool live;
};

struct fold_map {
	struct trace_mapping rec; /* the latest record */
	struct endpoint *remotes;
	size_t n_remotes;
	bool live;
};

struct fold_node {
	const char *name; /* borrowed from the log */
	struct fold_flow *flows;
	size_t n_flows, cap_flows;
	struct fold_map *maps;
	size_t n_maps, cap_maps;
	struct idmap flow_ids, map_ids;
	/* IPv6 conntrack entries and NAT64 bindings: numbered apart from the
	 * IPv4 ones (model/conntrack6.c, model/nat64.c), so kept apart */
	struct idmap flow6_ids, map6_ids;
	uint64_t hits[FW_CHAIN_COUNT][MAX_RULES + 1]; /* [chain][0] = policy */
	uint64_t fw_drops;
};

struct link_info {
	const char *a, *a_iface, *b, *b_iface;
};

struct tui_model {
	struct scenario *scn;
	struct tui_model_options opt;
	uint64_t seed;
	struct trace_log *log;
	size_t count;

	char *text;	  /* every timeline line, NUL-separated */
	size_t *line_off; /* count offsets into text */
	unsigned char *style;

	char *filter;
	size_t *visible; /* record indexes whose line matches the filter */
	size_t n_visible;

	struct tui_node *nodes; /* tree order */
	size_t n_nodes;
	struct link_info *links;
	size_t n_links;
	struct tui_pair *pairs;
	size_t n_pairs;
	/* predict mode: what the panes show while the answers are withheld */
	bool hidden;
	size_t limit;		       /* the last record that may be shown, or TUI_NONE */
	struct tui_node *masked_nodes; /* names and addresses only */
	struct tui_pair *masked_pairs; /* the pair, no state, no outcome */
	char selected_name[64];
	bool pinned; /* the student chose a node: the selection stops following */

	size_t cursor;
	size_t applied; /* records 0..applied-1 are folded */
	struct fold_node *fnodes;
	size_t n_fnodes, cap_fnodes;
	bool failed;
};

static void fold_node_fini(struct fold_node *fn)
{
	for (size_t j = 0; j < fn->n_maps; j++)
		free(fn->maps[j].remotes);
	free(fn->maps);
	free(fn->flows);
	idmap_fini(&fn->flow_ids);
	idmap_fini(&fn->map_ids);
	idmap_fini(&fn->flow6_ids);
	idmap_fini(&fn->map6_ids);
}

/* Empty every table, keeping the allocations for the re-fold. */
static void fold_reset(struct tui_model *m)
{
	for (size_t i = 0; i < m->n_fnodes; i++) {
		struct fold_node *fn = &m->fnodes[i];
		for (size_t j = 0; j < fn->n_maps; j++)
			free(fn->maps[j].remotes);
		fn->n_maps = fn->n_flows = 0;
		idmap_reset(&fn->flow_ids);
		idmap_reset(&fn->map_ids);
		idmap_reset(&fn->flow6_ids);
		idmap_reset(&fn->map6_ids);
		memset(fn->hits, 0, sizeof(fn->hits));
		fn->fw_drops = 0;
	}
	for (size_t i = 0; i < m->n_pairs; i++)
		m->pairs[i].state = TUI_PAIR_REGISTERING;
	m->applied = 0;
}

static void fold_free(struct tui_model *m)
{
	for (size_t i = 0; i < m->n_fnodes; i++)
		fold_node_fini(&m->fnodes[i]);
	free(m->fnodes);
	m->fnodes = NULL;
	m->n_fnodes = m->cap_fnodes = 0;
	m->applied = 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 16;
	void *na = realloc(*arr, ncap * elem);
	if (!na)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static struct fold_node *fold_node_find(const struct tui_model *m, const char *name)
{
	for (size_t i = 0; name && i < m->n_fnodes; i++)
		if (strcmp(m->fnodes[i].name, name) == 0)
			return &m->fnodes[i];
	return NULL;
}

static struct fold_node *fold_node_get(struct tui_model *m, const char *name)
{
	struct fold_node *fn = fold_node_find(m, name);
	if (fn || !name)
		return fn;
	if (grow((void **)&m->fnodes, &m->cap_fnodes, m->n_fnodes, sizeof(*fn)) != 0)
		return NULL;
	fn = &m->fnodes[m->n_fnodes++];
	memset(fn, 0, sizeof(*fn));
	fn->name = name;
	return fn;
}

/* ---- folding records ---- */

static int apply_conntrack(struct fold_node *fn, const struct trace_conntrack *c)
{
	struct idmap *ids = c->family == 6 ? &fn->flow6_ids : &fn->flow_ids;
	size_t i = idmap_get(ids, c->id);
	struct fold_flow *f = i != TUI_NONE && fn->flows[i].live ? &fn->flows[i] : NULL;
	if (c->event == TRACE_CT_RELATED) /* an ICMP error about it: no change */
		return 0;
	if (c->event == TRACE_CT_DESTROY) {
		if (f)
			f->live = false;
		return 0;
	}
	if (!f) {
		if (grow((void **)&fn->flows, &fn->cap_flows, fn->n_flows, sizeof(*f)) != 0 ||
		    idmap_put(ids, c->id, fn->n_flows) != 0)
			return -1;
		f = &fn->flows[fn->n_flows++];
		f->live = true;
	}
	f->rec = *c;
	return 0;
}

static int map_add_remote(struct fold_map *fm, const struct endpoint *ep)
{
	if (ep->ip == 0 && ep->port == 0)
		return 0;
	for (size_t i = 0; i < fm->n_remotes; i++)
		if (fm->remotes[i].ip == ep->ip && fm->remotes[i].port == ep->port)
			return 0;
	struct endpoint *r = realloc(fm->remotes, (fm->n_remotes + 1) * sizeof(*r));
	if (!r)
		return -1;
	r[fm->n_remotes++] = *ep;
	fm->remotes = r;
	return 0;
}

static int apply_mapping(struct fold_node *fn, const struct trace_mapping *rec)
{
	struct idmap *ids = rec->family == 6 ? &fn->map6_ids : &fn->map_ids;
	size_t i = idmap_get(ids, rec->id);
	struct fold_map *fm = i != TUI_NONE && fn->maps[i].live ? &fn->maps[i] : NULL;
	if (rec->event == TRACE_MAP_REFUSED)
		return 0; /* a port-mapping request refused: nothing changed */
	if (rec->event == TRACE_MAP_EXPIRED || rec->event == TRACE_MAP_CLEARED ||
	    rec->event == TRACE_MAP_DELETED || (fm && rec->event == TRACE_MAP_CREATED)) {
		if (fm)
			fm->live = false; /* a reused id: CREATED replaces it */
		fm = NULL;
		if (rec->event != TRACE_MAP_CREATED)
			return 0;
	}
	if (!fm) {
		if (grow((void **)&fn->maps, &fn->cap_maps, fn->n_maps, sizeof(*fm)) != 0 ||
		    idmap_put(ids, rec->id, fn->n_maps) != 0)
			return -1;
		fm = &fn->maps[fn->n_maps++];
		memset(fm, 0, sizeof(*fm));
		fm->live = true;
	}
	fm->rec = *rec;
	if (rec->event == TRACE_MAP_CREATED || rec->event == TRACE_MAP_REMOTE_ADDED)
		return map_add_remote(fm, &rec->remote);
	for (size_t k = 0; rec->event == TRACE_MAP_REMOTE_REMOVED && k < fm->n_remotes; k++) {
		if (fm->remotes[k].ip == rec->remote.ip &&
		    fm->remotes[k].port == rec->remote.port) {
			memmove(&fm->remotes[k], &fm->remotes[k + 1],
				(fm->n_remotes - k - 1) * sizeof(*fm->remotes));
			fm->n_remotes--;
			break;
		}
	}
	return 0;
}

/* A firewall's verdict on a packet record: the chain and the rule that
 * decided (hits[chain][0] counts the policy), read from the verdict's
 * facts, not from the `rule` label. */
static void count_firewall_verdict(struct fold_node *fn, const struct trace_verdict *v)
{
	const struct node_firewall_facts *f = v->facts;

	if (v->kind != NODE_VERDICT_FIREWALL || f == NULL ||
	    (unsigned)f->verdict.chain >= FW_CHAIN_COUNT)
		return;
	int k = f->verdict.rule + 1; /* -1, the policy, counts at 0 */
	if (k >= 0 && k <= MAX_RULES)
		fn->hits[f->verdict.chain][k]++;
}

static void apply_packet(struct fold_node *fn, const struct trace_packet *p)
{
	count_firewall_verdict(fn, &p->verdict);
	if (p->hop == TRACE_HOP_DROP && p->reason == TRACE_DROP_FIREWALL) {
		fn->fw_drops++;
	}
}

static enum tui_pair_state pair_state_of(const char *event, bool *known)
{
	static const struct {
		const char *event;
		enum tui_pair_state state;
	} table[] = {
	    {"punching", TUI_PAIR_PUNCHING}, {"direct", TUI_PAIR_DIRECT},
	    {"upgraded", TUI_PAIR_DIRECT},   {"relayed", TUI_PAIR_RELAYED},
	    {"path-lost", TUI_PAIR_LOST},    {"failed", TUI_PAIR_FAILED},
	};
	for (size_t i = 0; event && i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(event, table[i].event) == 0) {
			*known = true;
			return table[i].state;
		}
	}
	*known = false;
	return TUI_PAIR_REGISTERING;
}

static bool same(const char *x, const char *y)
{
	return x && y && strcmp(x, y) == 0;
}

/* The latest word from either side of a pair is its state. */
static void apply_app(struct tui_model *m, const struct trace_app *a)
{
	bool known;
	enum tui_pair_state st = pair_state_of(a->event, &known);
	if (!known)
		return;
	for (size_t i = 0; i < m->n_pairs; i++) {
		struct tui_pair *p = &m->pairs[i];
		if ((same(a->app, p->a) && same(a->peer, p->b)) ||
		    (same(a->app, p->b) && same(a->peer, p->a)))
			p->state = st;
	}
}

static const char *record_node(const struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_PACKET:
		return r->u.packet.node;
	case TRACE_CONNTRACK:
		return r->u.ct.node;
	case TRACE_MAPPING:
		return r->u.map.node;
	case TRACE_SOCKET:
		return r->u.sock.node;
	default:
		return NULL;
	}
}

static int apply_record(struct tui_model *m, const struct trace_record *r)
{
	if (r->kind == TRACE_APP) {
		apply_app(m, &r->u.app);
		return 0;
	}
	if (r->kind == TRACE_SOCKET) /* a host's socket: no table of the fold */
		return 0;
	const char *name = record_node(r);
	if (!name)
		return 0;
	struct fold_node *fn = fold_node_get(m, name);
	if (!fn)
		return -1;
	if (r->kind == TRACE_CONNTRACK)
		return apply_conntrack(fn, &r->u.ct);
	if (r->kind == TRACE_MAPPING)
		return apply_mapping(fn, &r->u.map);
	apply_packet(fn, &r->u.packet);
	return 0;
}

/* Fold records up to and including `upto`. */
static int fold_to(struct tui_model *m, size_t upto)
{
	if (upto + 1 < m->applied)
		fold_reset(m);
	while (m->applied <= upto && m->applied < m->count) {
		if (apply_record(m, trace_log_get(m->log, m->applied)) != 0) {
			m->failed = true;
			return -1;
		}
		m->applied++;
	}
	return 0;
}

/* ---- the timeline text ---- */

static enum tui_style record_style(const struct trace_record *r)
{
	switch (r->kind) {
	case TRACE_NODE:
	case TRACE_LINK:
		return TUI_STYLE_DIM;
	case TRACE_PACKET:
		return r->u.packet.hop == TRACE_HOP_DROP ? TUI_STYLE_DROP : TUI_STYLE_PLAIN;
	case TRACE_APP: {
		bool known;
		enum tui_pair_state st = pair_state_of(r->u.app.event, &known);
		if (!known)
			return TUI_STYLE_PLAIN;
		return st == TUI_PAIR_DIRECT	 ? TUI_STYLE_GOOD
		       : st == TUI_PAIR_RELAYED	 ? TUI_STYLE_WARN
		       : st == TUI_PAIR_PUNCHING ? TUI_STYLE_PLAIN
						 : TUI_STYLE_DROP;
	}
	case TRACE_SOCKET: /* a connection made is good news, one that failed bad */
		return r->u.sock.error != 0	  ? TUI_STYLE_DROP
		       : r->u.sock.new_state == 4 ? TUI_STYLE_GOOD /* ESTABLISHED */
						  : TUI_STYLE_PLAIN;
	case TRACE_SCENARIO:
		return r->u.scenario.event == TRACE_SCN_NOTE	      ? TUI_STYLE_NOTE
		       : r->u.scenario.event == TRACE_SCN_EXPECT_PASS ? TUI_STYLE_GOOD
		       : r->u.scenario.event == TRACE_SCN_EXPECT_FAIL ? TUI_STYLE_DROP
								      : TUI_STYLE_PLAIN;
	default:
		return TUI_STYLE_PLAIN;
	}
}

/* One line per record: newlines inside become spaces, the indent goes. */
static void tidy_lines(char *text, const size_t *off, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		char *s = text + off[i];
		size_t len = strlen(s);
		while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
			s[--len] = '\0';
		for (size_t j = 0; j < len; j++)
			if (s[j] == '\n')
				s[j] = ' ';
	}
}

static int build_timeline(struct tui_model *m)
{
	struct timeline_options o;
	timeline_options_default(&o);
	o.verbosity = TIMELINE_VERBOSE;
	o.ascii = m->opt.ascii;
	o.payload = simdrive_payload_summary;
	/* whose packet an ICMP error is about: the hosts of the log */
	struct packet_owners *owners = packet_owners_of_log(m->log);
	o.owners = owners;
	size_t size = 0;
	FILE *f = open_memstream(&m->text, &size);
	m->line_off = calloc(m->count + 1, sizeof(*m->line_off));
	m->style = calloc(m->count + 1, 1);
	if (!f || !m->line_off || !m->style || !owners) {
		if (f)
			fclose(f);
		packet_owners_free(owners);
		return -1;
	}
	for (size_t i = 0; i < m->count; i++) {
		const struct trace_record *r = trace_log_get(m->log, i);
		m->line_off[i] = (size_t)ftell(f);
		m->style[i] = (unsigned char)record_style(r);
		fputs("  ", f);
		if (timeline_render_record(f, r, &o) <= 0)
			fprintf(f, "%8.3fs  %s", r->time / 1e9, trace_kind_name(r->kind));
		fputc('\0', f);
	}
	packet_owners_free(owners);
	if (fclose(f) != 0 || !m->text)
		return -1;
	/* each line starts with the two spaces the timeline indents by */
	for (size_t i = 0; i < m->count; i++)
		m->line_off[i] += strspn(m->text + m->line_off[i], " ") >= 4 ? 2 : 0;
	tidy_lines(m->text, m->line_off, m->count);
	return 0;
}

/* ---- topology ---- */

/* Its IPv6 addresses (sim/trace.h struct trace_node6) after what `out`
 * holds, `used` bytes of it. */
static void node_addrs6(const struct trace_node *tn, char *out, size_t size, size_t used)
{
	char text[IP6_TEXT_SIZE];

	for (size_t i = 0; tn->v6 != NULL && i < TRACE_NODE_ADDRS; i++) {
		if (ip6_is_unspecified(&tn->v6->addrs[i]))
			continue;
		ip6_format(&tn->v6->addrs[i], text, sizeof(text));
		int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", text);
		if (w < 0 || (size_t)w >= size - used)
			return;
		used += (size_t)w;
	}
}

/* The node's IPv4 addresses from its record, each once, comma-separated:
 * its interfaces', then a NAT's public one; not a host's gateway, which is
 * its router's address. Then its IPv6 ones; an interface with IPv6 alone
 * (IPv4 address 0) names only those. */
static void node_addrs(const struct trace_node *tn, char *out, size_t size)
{
	size_t n = tn->n_addrs < TRACE_NODE_ADDRS ? tn->n_addrs : TRACE_NODE_ADDRS;
	uint32_t seen[TRACE_NODE_ADDRS + 1];
	size_t k = 0, used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n + (tn->nat ? 1 : 0); i++) {
		uint32_t ip = i < n ? tn->addrs[i] : tn->nat_public;
		bool dup = false;
		char text[16];

		for (size_t j = 0; j < k && !dup; j++)
			dup = seen[j] == ip;
		if (dup || (ip == 0 && tn->v6 != NULL))
			continue;
		seen[k++] = ip;
		ip_format(ip, text, sizeof(text));
		int w = snprintf(out + used, size - used, "%s%s", used ? "," : "", text);
		if (w < 0 || (size_t)w >= size - used)
			return;
		used += (size_t)w;
	}
	node_addrs6(tn, out, size, used);
}

/* A NAT's behaviour as the topology pane names it: "port-restricted-cone
 * (EIM+APDF)"; "" for a node without a NAT. */
static void node_behaviour(const struct trace_node *tn, char *out, size_t size)
{
	enum nat_behaviour m = (enum nat_behaviour)tn->nat_mapping;
	enum nat_behaviour f = (enum nat_behaviour)tn->nat_filtering;

	out[0] = '\0';
	if (tn->nat)
		snprintf(out, size, "%s (%s+%s)", nat_classic_name(m, f),
			 nat_behaviour_abbrev(m, false), nat_behaviour_abbrev(f, true));
}

static bool scenario_node_has_rules(const struct scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_rules; i++)
		if (same(s->rules[i].node.name, name))
			return true;
	for (size_t i = 0; i < s->n_policies; i++)
		if (same(s->policies[i].node.name, name))
			return true;
	return false;
}

static const char *scenario_parent(const struct scenario *s, const char *name)
{
	const struct scenario_nat *sn = scenario_find_nat(s, name);
	if (sn)
		return sn->behind.name;
	const struct scenario_host *sh = scenario_find_host(s, name);
	return sh ? sh->behind.name : NULL;
}

static void classify_node(const struct tui_model *m, struct tui_node *n, const char *behind)
{
	const struct scenario *s = m->scn;
	n->role = same(n->type, "host") ? TUI_ROLE_HOST : TUI_ROLE_ROUTER;
	if (s->coordinator && same(s->coordinator->name, n->name)) {
		n->role = TUI_ROLE_COORDINATOR;
		n->relay = s->coordinator->relay;
	} else if (scenario_find_nat(s, n->name) || n->behaviour[0] != '\0') {
		n->role = TUI_ROLE_NAT;
	} else if (n->role == TUI_ROLE_ROUTER && !behind && !scenario_find_host(s, n->name)) {
		n->role = TUI_ROLE_INTERNET;
	}
	n->firewall = n->firewall || scenario_node_has_rules(s, n->name);
}

static size_t raw_find(const struct tui_node *v, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return i;
	return TUI_NONE;
}

/* Depth-first from the roots: parents before children, siblings in the
 * order the world announced them. */
static void tree_order(const struct tui_node *raw, size_t n, int parent, int depth, size_t *order,
		       size_t *k, int *new_index)
{
	for (size_t i = 0; i < n; i++) {
		if (raw[i].parent != parent || new_index[i] >= 0)
			continue;
		new_index[i] = (int)*k;
		order[(*k)++] = i;
		tree_order(raw, n, (int)i, depth + 1, order, k, new_index);
	}
}

static int collect_nodes(struct tui_model *m, struct tui_node **out, const char ***behind)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	*behind = NULL;
	for (size_t i = 0; i < m->count; i++) {
		const struct trace_record *r = trace_log_get(m->log, i);
		if (r->kind != TRACE_NODE || raw_find(*out, n, r->u.node.name) != TUI_NONE)
			continue;
		size_t c2 = cap;
		if (grow((void **)out, &cap, n, sizeof(**out)) != 0 ||
		    grow((void **)behind, &c2, n, sizeof(**behind)) != 0)
			return -1;
		struct tui_node *nd = &(*out)[n];
		memset(nd, 0, sizeof(*nd));
		nd->name = r->u.node.name;
		nd->type = r->u.node.type ? r->u.node.type : "node";
		nd->detail = r->u.node.detail ? r->u.node.detail : "";
		/* Addresses and behaviour from the record's fields, not its words. */
		node_addrs(&r->u.node, nd->addrs, sizeof(nd->addrs));
		node_behaviour(&r->u.node, nd->behaviour, sizeof(nd->behaviour));
		nd->firewall = r->u.node.firewall;
		(*behind)[n++] = r->u.node.behind;
	}
	return (int)n;
}

static int build_nodes(struct tui_model *m)
{
	struct tui_node *raw;
	const char **behind;
	int n = collect_nodes(m, &raw, &behind);
	size_t core = TUI_NONE;
	for (int i = 0; i < n; i++) {
		classify_node(m, &raw[i],
			      behind[i] ? behind[i] : scenario_parent(m->scn, raw[i].name));
		if (raw[i].role == TUI_ROLE_INTERNET && core == TUI_NONE)
			core = (size_t)i;
	}
	for (int i = 0; i < n; i++) {
		const char *up = behind[i] ? behind[i] : scenario_parent(m->scn, raw[i].name);
		size_t p = raw_find(raw, (size_t)n, up);
		if (p == TUI_NONE && raw[i].role != TUI_ROLE_INTERNET)
			p = core;
		raw[i].parent = p == TUI_NONE || p == (size_t)i ? -1 : (int)p;
	}
	size_t *order = calloc((size_t)n + 1, sizeof(*order));
	int *new_index = malloc(((size_t)n + 1) * sizeof(*new_index));
	m->nodes = calloc((size_t)n + 1, sizeof(*m->nodes));
	int rc = (n < 0 || !order || !new_index || !m->nodes) ? -1 : 0;
	if (rc == 0) {
		size_t k = 0;
		memset(new_index, 0xff, (size_t)n * sizeof(*new_index));
		tree_order(raw, (size_t)n, -1, 0, order, &k, new_index);
		for (int i = 0; i < n; i++) /* a cycle leaves some out: add them as roots */
			if (new_index[i] < 0) {
				raw[i].parent = -1;
				tree_order(raw, (size_t)n, -1, 0, order, &k, new_index);
			}
		for (size_t j = 0; j < k; j++) {
			m->nodes[j] = raw[order[j]];
			int p = m->nodes[j].parent;
			m->nodes[j].parent = p < 0 ? -1 : new_index[p];
			m->nodes[j].depth = p < 0 ? 0 : m->nodes[new_index[p]].depth + 1;
		}
		m->n_nodes = k;
	}
	free(order);
	free(new_index);
	free(raw);
	free(behind);
	return rc;
}

static int build_links(struct tui_model *m)
{
	size_t cap = 0;
	for (size_t i = 0; i < m->count; i++) {
		const struct trace_record *r = trace_log_get(m->log, i);
		if (r->kind != TRACE_LINK || r->u.link.event != TRACE_LINK_ADDED)
			continue;
		if (grow((void **)&m->links, &cap, m->n_links, sizeof(*m->links)) != 0)
			return -1;
		m->links[m->n_links++] = (struct link_info){r->u.link.a, r->u.link.a_iface,
							    r->u.link.b, r->u.link.b_iface};
	}
	return 0;
}

/* Pairs are the scenario's `connect` actions, each unordered pair once. */
static int build_pairs(struct tui_model *m)
{
	const struct scenario *s = m->scn;
	m->pairs = calloc(s->n_actions + 1, sizeof(*m->pairs));
	if (!m->pairs)
		return -1;
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		if (a->kind != SCENARIO_ACT_CONNECT)
			continue;
		bool dup = false;
		for (size_t j = 0; j < m->n_pairs; j++)
			dup |= (same(m->pairs[j].a, a->host.name) &&
				same(m->pairs[j].b, a->peer.name)) ||
			       (same(m->pairs[j].b, a->host.name) &&
				same(m->pairs[j].a, a->peer.name));
		if (!dup)
			m->pairs[m->n_pairs++] =
			    (struct tui_pair){a->host.name, a->peer.name, TUI_PAIR_REGISTERING,
					      SCENARIO_PATH_UNCONNECTED, -1};
	}
	return 0;
}

/* The outcome of each pair is its state once every record is folded. */
static int compute_outcomes(struct tui_model *m)
{
	if (m->count && fold_to(m, m->count - 1) != 0)
		return -1;
	for (size_t i = 0; i < m->n_pairs; i++) {
		enum tui_pair_state st = m->pairs[i].state;
		m->pairs[i].outcome = st == TUI_PAIR_DIRECT    ? SCENARIO_PATH_DIRECT
				      : st == TUI_PAIR_RELAYED ? SCENARIO_PATH_RELAYED
							       : SCENARIO_PATH_UNCONNECTED;
	}
	return 0;
}

/* What predict mode shows instead of the nodes and pairs: a node keeps its
 * name, role, place in the tree and addresses; its behaviour ("symmetric"),
 * firewall and relay flags and its detail line go, for the kind of a NAT is
 * a question. A pair keeps its two names; its state and outcome are -1. */
static int build_masks(struct tui_model *m)
{
	m->masked_nodes = calloc(m->n_nodes + 1, sizeof(*m->masked_nodes));
	m->masked_pairs = calloc(m->n_pairs + 1, sizeof(*m->masked_pairs));
	if (!m->masked_nodes || !m->masked_pairs)
		return -1;
	for (size_t i = 0; i < m->n_nodes; i++) {
		struct tui_node *n = &m->masked_nodes[i];
		*n = m->nodes[i];
		n->behaviour[0] = '\0';
		n->firewall = n->relay = false;
		n->detail = n->addrs;
	}
	for (size_t i = 0; i < m->n_pairs; i++)
		m->masked_pairs[i] =
		    (struct tui_pair){m->pairs[i].a, m->pairs[i].b, TUI_PAIR_REGISTERING, -1, -1};
	return 0;
}

/* ---- life cycle ---- */

struct tui_model *tui_model_new(struct scenario *s, const struct tui_model_options *opt)
{
	struct tui_model *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->scn = s;
	if (opt)
		m->opt = *opt;
	else
		m->opt.until_ns = SCENARIO_UNSET;
	m->seed = m->opt.has_seed ? m->opt.seed : s->has_seed ? s->seed : 1;
	m->limit = TUI_NONE;
	return m;
}

static void drop_run(struct tui_model *m)
{
	fold_free(m);
	trace_log_free(m->log);
	m->log = NULL;
	m->count = 0;
	free(m->text);
	free(m->line_off);
	free(m->style);
	free(m->visible);
	free(m->nodes);
	free(m->links);
	free(m->pairs);
	free(m->masked_nodes);
	free(m->masked_pairs);
	m->masked_nodes = NULL;
	m->masked_pairs = NULL;
	m->text = NULL;
	m->line_off = NULL;
	m->style = NULL;
	m->visible = NULL;
	m->nodes = NULL;
	m->links = NULL;
	m->pairs = NULL;
	m->n_visible = m->n_nodes = m->n_links = m->n_pairs = 0;
}

void tui_model_free(struct tui_model *m)
{
	if (!m)
		return;
	drop_run(m);
	free(m->filter);
	free(m);
}

/* The first NAT, where a student wants to look first; else the first node. */
static size_t first_nat(const struct tui_model *m)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (m->nodes[i].role == TUI_ROLE_NAT)
			return i;
	return m->n_nodes ? 0 : TUI_NONE;
}

static void select_name(struct tui_model *m, size_t node)
{
	const char *name = node < m->n_nodes ? m->nodes[node].name : "";
	snprintf(m->selected_name, sizeof(m->selected_name), "%s", name);
}

/* Follow mode: the selection is a function of the cursor alone. */
static void follow_cursor(struct tui_model *m)
{
	if (m->pinned)
		return;
	size_t n = tui_model_cursor_node(m);
	select_name(m, n != TUI_NONE ? n : first_nat(m));
}

int tui_model_adopt_log(struct tui_model *m, struct trace_log *log)
{
	int64_t keep_time = m->count ? tui_model_now(m) : INT64_MIN;
	bool was_at_start = m->cursor == 0;
	drop_run(m);
	m->log = log;
	m->count = trace_log_count(log);
	char *filter = m->filter;
	m->filter = NULL;
	int rc = build_timeline(m) || build_nodes(m) || build_links(m) || build_pairs(m) ||
			 compute_outcomes(m) || build_masks(m) || tui_model_set_filter(m, filter)
		     ? -1
		     : 0;
	free(filter);
	m->cursor = 0;
	m->applied = m->count; /* compute_outcomes folded everything */
	if (rc == 0 && !was_at_start && keep_time != INT64_MIN)
		tui_model_goto_time(m, keep_time);
	else if (rc == 0)
		rc = tui_model_seek(m, 0);
	if (tui_model_find_node(m, m->selected_name) == TUI_NONE)
		select_name(m, first_nat(m));
	return rc;
}

int tui_model_run(struct tui_model *m, struct diag *d)
{
	struct trace_log *log = trace_log_new();
	if (!log)
		return -1;
	struct run_options o = {.has_seed = true, .seed = m->seed, .until_ns = m->opt.until_ns};
	o.observers[0].fn = trace_log_observe;
	o.observers[0].ctx = log;
	o.n_observers = 1;
	struct run_result res;
	if (runner_run(m->scn, &o, &res, d) != 0) {
		trace_log_free(log);
		return -1;
	}
	run_result_free(&res);
	if (trace_log_failed(log)) {
		trace_log_free(log);
		return -1;
	}
	return tui_model_adopt_log(m, log);
}

const struct trace_log *tui_model_log(const struct tui_model *m)
{
	return m->log;
}

const struct scenario *tui_model_scenario(const struct tui_model *m)
{
	return m->scn;
}

uint64_t tui_model_seed(const struct tui_model *m)
{
	return m->seed;
}

/* ---- the cursor ---- */

size_t tui_model_count(const struct tui_model *m)
{
	return m->count;
}

size_t tui_model_cursor(const struct tui_model *m)
{
	return m->cursor;
}

const struct trace_record *tui_model_record(const struct tui_model *m, size_t i)
{
	return i < m->count ? trace_log_get(m->log, i) : NULL;
}

int64_t tui_model_now(const struct tui_model *m)
{
	return m->count ? trace_log_get(m->log, m->cursor)->time : 0;
}

bool tui_model_at_end(const struct tui_model *m)
{
	return m->cursor + 1 >= m->count || m->cursor >= m->limit;
}

int tui_model_seek(struct tui_model *m, size_t i)
{
	if (m->count == 0)
		return 0;
	size_t last = m->limit < m->count ? m->limit : m->count - 1;
	m->cursor = i < last ? i : last;
	int rc = fold_to(m, m->cursor);
	follow_cursor(m);
	return rc;
}

bool tui_model_step(struct tui_model *m)
{
	if (tui_model_at_end(m))
		return false;
	tui_model_seek(m, m->cursor + 1);
	return true;
}

bool tui_model_back(struct tui_model *m)
{
	if (m->cursor == 0)
		return false;
	tui_model_seek(m, m->cursor - 1);
	return true;
}

bool tui_model_next_packet(struct tui_model *m)
{
	for (size_t i = m->cursor + 1; i < m->count && i <= m->limit; i++) {
		if (trace_log_get(m->log, i)->kind == TRACE_PACKET) {
			tui_model_seek(m, i);
			return true;
		}
	}
	return false;
}

/* The last record at or before t, or 0: the records are in time order. */
static size_t index_at_time(const struct tui_model *m, int64_t t)
{
	size_t lo = 0, hi = m->count; /* first index with time > t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (trace_log_get(m->log, mid)->time <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

void tui_model_goto_time(struct tui_model *m, int64_t t)
{
	tui_model_seek(m, index_at_time(m, t));
}

bool tui_model_advance_to(struct tui_model *m, int64_t t)
{
	size_t i = index_at_time(m, t);
	if (i <= m->cursor)
		return false;
	tui_model_seek(m, i);
	return true;
}

/* ---- the timeline ---- */

const char *tui_model_line(const struct tui_model *m, size_t i)
{
	if (m->hidden || (i < m->count && i > m->limit))
		return i < m->count ? TUI_HIDDEN_TEXT : "";
	return i < m->count ? m->text + m->line_off[i] : "";
}

enum tui_style tui_model_line_style(const struct tui_model *m, size_t i)
{
	return i < m->count && !m->hidden && i <= m->limit ? (enum tui_style)m->style[i]
							   : TUI_STYLE_PLAIN;
}

/* ---- predict mode ---- */

int tui_model_set_hidden(struct tui_model *m, bool hidden)
{
	m->hidden = hidden;
	char *filter = m->filter; /* re-applied: hidden shows no timeline line */
	m->filter = NULL;
	int rc = tui_model_set_filter(m, filter);
	free(filter);
	return rc;
}

bool tui_model_hidden(const struct tui_model *m)
{
	return m->hidden;
}

int tui_model_set_limit(struct tui_model *m, size_t last)
{
	m->limit = last;
	int rc = tui_model_set_hidden(m, m->hidden); /* the visible lines again */
	if (rc == 0 && m->count && m->cursor > m->limit)
		rc = tui_model_seek(m, m->limit);
	return rc;
}

size_t tui_model_limit(const struct tui_model *m)
{
	return m->limit;
}

int tui_model_set_filter(struct tui_model *m, const char *substr)
{
	free(m->filter);
	m->filter = NULL;
	if (substr && substr[0] && !(m->filter = strdup(substr)))
		return -1;
	free(m->visible);
	m->n_visible = 0;
	m->visible = malloc((m->count + 1) * sizeof(*m->visible));
	if (!m->visible)
		return -1;
	for (size_t i = 0; i < m->count && i <= m->limit && !m->hidden; i++)
		if (!m->filter || strstr(tui_model_line(m, i), m->filter))
			m->visible[m->n_visible++] = i;
	return 0;
}

const char *tui_model_filter(const struct tui_model *m)
{
	return m->filter ? m->filter : "";
}

size_t tui_model_visible_count(const struct tui_model *m)
{
	return m->n_visible;
}

size_t tui_model_visible_at(const struct tui_model *m, size_t k)
{
	return k < m->n_visible ? m->visible[k] : TUI_NONE;
}

size_t tui_model_visible_pos(const struct tui_model *m, size_t i)
{
	size_t lo = 0, hi = m->n_visible; /* first visible index > i */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->visible[mid] <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : TUI_NONE;
}

bool tui_model_step_visible(struct tui_model *m, int dir)
{
	size_t pos = tui_model_visible_pos(m, m->cursor);
	size_t target;
	if (dir > 0) {
		size_t next = pos == TUI_NONE ? 0 : pos + 1;
		if (next >= m->n_visible)
			return false;
		target = m->visible[next];
	} else {
		if (pos == TUI_NONE)
			return false;
		if (m->visible[pos] == m->cursor && pos == 0)
			return false;
		target = m->visible[m->visible[pos] == m->cursor ? pos - 1 : pos];
	}
	tui_model_seek(m, target);
	return true;
}

/* ---- topology ---- */

size_t tui_model_node_count(const struct tui_model *m)
{
	return m->n_nodes;
}

const struct tui_node *tui_model_node(const struct tui_model *m, size_t i)
{
	if (i >= m->n_nodes)
		return NULL;
	return m->hidden && m->masked_nodes ? &m->masked_nodes[i] : &m->nodes[i];
}

size_t tui_model_find_node(const struct tui_model *m, const char *name)
{
	return raw_find(m->nodes, m->n_nodes, name);
}

size_t tui_model_selected(const struct tui_model *m)
{
	return tui_model_find_node(m, m->selected_name);
}

void tui_model_select(struct tui_model *m, size_t node)
{
	select_name(m, node);
	m->pinned = true;
}

void tui_model_set_follow(struct tui_model *m, bool on)
{
	m->pinned = !on;
	follow_cursor(m);
}

bool tui_model_follow(const struct tui_model *m)
{
	return !m->pinned;
}

size_t tui_model_cursor_node(const struct tui_model *m)
{
	for (size_t i = m->cursor + 1; m->count && i-- > 0;) {
		const char *name = record_node(trace_log_get(m->log, i));
		size_t n = name ? tui_model_find_node(m, name) : TUI_NONE;
		if (n != TUI_NONE)
			return n;
	}
	return TUI_NONE;
}

size_t tui_model_selected_nat(const struct tui_model *m)
{
	size_t i = tui_model_selected(m);
	while (i != TUI_NONE && m->nodes[i].role != TUI_ROLE_NAT)
		i = m->nodes[i].parent < 0 ? TUI_NONE : (size_t)m->nodes[i].parent;
	return i;
}

/* The node at the other end of `node`'s interface `iface`, or TUI_NONE. */
static size_t link_peer(const struct tui_model *m, const char *node, const char *iface)
{
	for (size_t i = 0; iface && i < m->n_links; i++) {
		const struct link_info *l = &m->links[i];
		if (same(l->a, node) && same(l->a_iface, iface))
			return tui_model_find_node(m, l->b);
		if (same(l->b, node) && same(l->b_iface, iface))
			return tui_model_find_node(m, l->a);
	}
	return TUI_NONE;
}

void tui_model_flight(const struct tui_model *m, struct tui_flight *out)
{
	const struct trace_record *r = tui_model_record(m, m->cursor);
	memset(out, 0, sizeof(*out));
	out->node = out->child = TUI_NONE;
	if (!r || r->kind != TRACE_PACKET || m->hidden)
		return;
	const struct trace_packet *p = &r->u.packet;
	out->active = true;
	out->packet_id = p->packet_id;
	out->hop = p->hop;
	out->node = tui_model_find_node(m, p->node);
	if (out->node == TUI_NONE || (p->hop != TRACE_HOP_TX && p->hop != TRACE_HOP_RX))
		return;
	size_t other = link_peer(m, p->node, p->iface);
	if (other == TUI_NONE)
		return;
	bool node_is_child = m->nodes[out->node].parent == (int)other;
	out->child = node_is_child ? out->node : other;
	/* leaving the child, or arriving at the parent, is going up */
	out->up = p->hop == TRACE_HOP_TX ? node_is_child : !node_is_child;
}

const char *tui_pair_state_name(enum tui_pair_state s)
{
	static const char *const names[] = {"registering", "punching", "direct",
					    "relayed",	   "lost",     "failed"};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

size_t tui_model_pair_count(const struct tui_model *m)
{
	return m->n_pairs;
}

const struct tui_pair *tui_model_pair(const struct tui_model *m, size_t i)
{
	if (i >= m->n_pairs)
		return NULL;
	return m->hidden && m->masked_pairs ? &m->masked_pairs[i] : &m->pairs[i];
}

/* ---- tables ---- */

static bool flow_alive(const struct fold_flow *f, int64_t now)
{
	return f->live && f->rec.expires_at > now;
}

static bool map_alive(const struct fold_map *fm, int64_t now)
{
	return fm->live && (fm->rec.is_static || fm->rec.expires_at == SIM_TIME_NEVER ||
			    fm->rec.expires_at > now);
}

size_t tui_model_flow_count(const struct tui_model *m, const char *node)
{
	const struct fold_node *fn = fold_node_find(m, node);
	size_t n = 0;
	for (size_t i = 0; fn && i < fn->n_flows; i++)
		n += flow_alive(&fn->flows[i], tui_model_now(m));
	return n;
}

size_t tui_model_mapping_count(const struct tui_model *m, const char *node)
{
	const struct fold_node *fn = fold_node_find(m, node);
	size_t n = 0;
	for (size_t i = 0; fn && i < fn->n_maps; i++)
		n += map_alive(&fn->maps[i], tui_model_now(m));
	return n;
}

/* A line of the tables pane, word-wrapped to `width` (<= 0: as it is). */
static int tab_line(struct tui_lines *out, int width, enum tui_style style, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int tab_line(struct tui_lines *out, int width, enum tui_style style, const char *fmt, ...)
{
	char buf[640];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tui_lines_wrap(out, style, buf, width, 2);
}

static bool tables_full(int width)
{
	return width <= 0 || width >= TUI_TABLES_FULL;
}

static const char *proto_name(uint8_t proto)
{
	return proto == 17 ? "udp" : proto == 6 ? "tcp" : proto == 1 ? "icmp" : "proto";
}

/* A flow in a narrow pane: "udp 192.168.1.5:5000 → 192.0.2.10:3478 29s
 * [ASSURED] as 203.0.113.7:5000": the original tuple, then where the reply
 * tuple shows a translation (netfilter: the reply tuple is the inverted
 * original unless NAT rewrote it). */
/* "icmp 10.0.0.7 -> 192.0.2.1 id=1 29s [UNREPLIED] as 203.0.113.7 id=1024":
 * an ICMP entry's tuple holds the echo id in sport (sim/trace.h). */
static void flow_compact_icmp(const struct tui_model *m, const struct trace_conntrack *c,
			      long long secs, char *out, size_t size)
{
	struct ip_endpoint os, od, rs, rd;
	char src[IP6_TEXT_SIZE], dst[IP6_TEXT_SIZE], x[IP6_TEXT_SIZE];

	packet_words_ct_tuple(c, false, &os, &od);
	packet_words_ct_tuple(c, true, &rs, &rd);
	int used = snprintf(out, size, "%s %s %s %s id=%u %llds%s",
			    c->family == 6 ? "icmpv6" : "icmp",
			    ip_addr_format(&os.addr, src, sizeof(src)),
			    m->opt.ascii ? "->" : "\u2192", ip_addr_format(&od.addr, dst, sizeof(dst)),
			    os.port, secs, c->seen_reply ? "" : " [UNREPLIED]");
	if (used > 0 && (size_t)used < size &&
	    (!ip_addr_equal(&rd.addr, &os.addr) || rs.port != os.port))
		snprintf(out + used, size - (size_t)used, " as %s id=%u",
			 ip_addr_format(&rd.addr, x, sizeof(x)), rs.port);
}

/* An entry of either family (an IPv6 one's in RFC 5952 text). */
static void flow_compact(const struct tui_model *m, const struct trace_conntrack *c, int64_t now,
			 char *out, size_t size)
{
	struct ip_endpoint os, od, rs, rd;
	char src[ENDPOINT6_TEXT_SIZE], dst[ENDPOINT6_TEXT_SIZE], x[ENDPOINT6_TEXT_SIZE];
	const char *arrow = m->opt.ascii ? "->" : "\u2192";
	int64_t left = c->expires_at - now;
	long long secs = left <= 0 ? 0 : (long long)((left + SIM_S(1) - 1) / SIM_S(1));
	if (packet_words_ct_is_icmp(c)) {
		flow_compact_icmp(m, c, secs, out, size);
		return;
	}
	packet_words_ct_tuple(c, false, &os, &od);
	packet_words_ct_tuple(c, true, &rs, &rd);
	int used = snprintf(out, size, "%s %s %s %s %llds%s%s", proto_name(c->proto),
			    ip_endpoint_format(&os, src, sizeof(src)), arrow,
			    ip_endpoint_format(&od, dst, sizeof(dst)), secs,
			    c->seen_reply ? "" : " [UNREPLIED]", c->assured ? " [ASSURED]" : "");
	if (used > 0 && (size_t)used < size &&
	    (!ip_addr_equal(&rd.addr, &os.addr) || rd.port != os.port))
		used += snprintf(out + used, size - (size_t)used, " as %s",
				 ip_endpoint_format(&rd, x, sizeof(x)));
	if (used > 0 && (size_t)used < size &&
	    (!ip_addr_equal(&rs.addr, &od.addr) || rs.port != od.port))
		snprintf(out + used, size - (size_t)used, " to %s",
			 ip_endpoint_format(&rs, x, sizeof(x)));
}

/* The lines past `max` would not be on screen: the pane asks for no more
 * (with 1 000 flows, formatting them all would cost a frame). */
static bool pane_full(const struct tui_lines *out, size_t max)
{
	return max && out->n >= max;
}

static int tables_conntrack(const struct tui_model *m, const struct fold_node *fn, int width,
			    size_t max, struct tui_lines *out)
{
	int64_t now = tui_model_now(m);
	size_t n = fn ? tui_model_flow_count(m, fn->name) : 0;
	char line[320];
	if (tab_line(out, width, TUI_STYLE_HEADER, "conntrack -L (%zu flow%s)", n,
		     n == 1 ? "" : "s") != 0)
		return -1;
	if (n == 0)
		return tui_lines_addf(out, TUI_STYLE_DIM, "(no flows)");
	for (size_t i = 0; i < fn->n_flows && !pane_full(out, max); i++) {
		if (!flow_alive(&fn->flows[i], now))
			continue;
		if (tables_full(width))
			conntrack_format_record(&fn->flows[i].rec, now, line, sizeof(line));
		else
			flow_compact(m, &fn->flows[i].rec, now, line, sizeof(line));
		if (tab_line(out, width, TUI_STYLE_PLAIN, "%s", line) != 0)
			return -1;
	}
	return 0;
}

static int mapping_row(const struct tui_model *m, const struct fold_map *fm, int64_t now,
		       const int *w, int width, struct tui_lines *out)
{
	char in[ENDPOINT6_TEXT_SIZE], ex[32], who[256], left[24];
	/* An echo's mapping by its ids (RFC 5508 REQ-1), not as ports; a
	 * NAT64 binding's inside is IPv6. */
	packet_words_mapping_inside(&fm->rec, in, sizeof(in));
	packet_words_mapping_end(&fm->rec.external, fm->rec.proto, false, ex, sizeof(ex));
	if (fm->rec.origin == NAT_ORIGIN_PCP || fm->rec.origin == NAT_ORIGIN_NATPMP)
		explain_explicit_filter(fm->rec.origin, who, sizeof(who));
	else
		explain_nat_filter((enum nat_behaviour)fm->rec.filtering, fm->remotes,
				   fm->n_remotes, fm->rec.is_static, who, sizeof(who));
	if (fm->rec.is_static || fm->rec.expires_at == SIM_TIME_NEVER)
		snprintf(left, sizeof(left), "-");
	else
		snprintf(left, sizeof(left), "%llds",
			 (long long)((fm->rec.expires_at - now + SIM_S(1) - 1) / SIM_S(1)));
	if (!tables_full(width))
		return tab_line(out, width, TUI_STYLE_PLAIN, "%s %s %s %s; %s", in,
				m->opt.ascii ? "->" : "\u2192", ex, left, who);
	return tui_lines_addf(out, TUI_STYLE_PLAIN, "%-*s %-*s %-4s %s", w[0], in, w[1], ex, left,
			      who);
}

/* Column widths: the longest internal and external endpoint shown. */
static void mapping_widths(const struct fold_node *fn, int64_t now, int *w)
{
	char buf[ENDPOINT6_TEXT_SIZE];
	w[0] = (int)strlen("internal");
	w[1] = (int)strlen("external");
	for (size_t i = 0; fn && i < fn->n_maps; i++) {
		const struct trace_mapping *r = &fn->maps[i].rec;
		if (!map_alive(&fn->maps[i], now))
			continue;
		int a = (int)strlen(packet_words_mapping_inside(r, buf, sizeof(buf)));
		int b = (int)strlen(
		    packet_words_mapping_end(&r->external, r->proto, false, buf, sizeof(buf)));
		w[0] = a > w[0] ? a : w[0];
		w[1] = b > w[1] ? b : w[1];
	}
}

static int tables_mappings(const struct tui_model *m, const struct tui_node *nd,
			   const struct fold_node *fn, int width, size_t max, struct tui_lines *out)
{
	int64_t now = tui_model_now(m);
	size_t n = fn ? tui_model_mapping_count(m, fn->name) : 0;
	int w[2];
	mapping_widths(fn, now, w);
	if (tab_line(out, width, TUI_STYLE_HEADER, "NAT mappings (%zu), %s", n,
		     nd->behaviour[0] ? nd->behaviour : "behaviour unknown") != 0)
		return -1;
	/* a narrow row says what it is: "in -> out 30s; accepts ..." */
	if (tables_full(width) &&
	    tui_lines_addf(out, TUI_STYLE_DIM, "%-*s %-*s %-4s %s", w[0], "internal", w[1],
			   "external", "left", "who may come in") != 0)
		return -1;
	if (n == 0)
		return tui_lines_addf(out, TUI_STYLE_DIM, "(no mappings)");
	for (size_t i = 0; i < fn->n_maps && !pane_full(out, max); i++)
		if (map_alive(&fn->maps[i], now) &&
		    mapping_row(m, &fn->maps[i], now, w, width, out) != 0)
			return -1;
	return 0;
}

/* The rule list the world gave `nd`: a host's stateful INPUT rule first,
 * then the scenario's rules in file order (chain order per node). */
static size_t node_rules(const struct tui_model *m, const struct tui_node *nd,
			 struct fw_rule *rules, size_t max)
{
	size_t n = 0;
	if (nd->role == TUI_ROLE_HOST || nd->role == TUI_ROLE_COORDINATOR) {
		rules[n++] = (struct fw_rule){.chain = FW_CHAIN_INPUT,
					      .states = CONNTRACK_ESTABLISHED,
					      .action = FW_ACCEPT,
					      .comment = "replies to flows this host started"};
	}
	for (size_t i = 0; i < m->scn->n_rules && n < max; i++)
		if (same(m->scn->rules[i].node.name, nd->name))
			world_rule_of(&m->scn->rules[i], &rules[n++]);
	return n;
}

static void node_policies(const struct tui_model *m, const struct tui_node *nd,
			  enum fw_action pol[FW_CHAIN_COUNT])
{
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		pol[c] = FW_ACCEPT;
	if (nd->role == TUI_ROLE_HOST || nd->role == TUI_ROLE_COORDINATOR)
		pol[FW_CHAIN_INPUT] = FW_DROP;
	for (size_t i = 0; i < m->scn->n_policies; i++)
		if (same(m->scn->policies[i].node.name, nd->name))
			pol[m->scn->policies[i].chain] =
			    (enum fw_action)m->scn->policies[i].verdict;
}

static int firewall_rows(const struct tui_model *m, const struct tui_node *nd,
			 const struct fold_node *fn, int width, struct tui_lines *out)
{
	struct fw_rule rules[MAX_RULES];
	enum fw_action pol[FW_CHAIN_COUNT];
	size_t n = node_rules(m, nd, rules, MAX_RULES);
	size_t k[FW_CHAIN_COUNT] = {0};
	char text[200];
	node_policies(m, nd, pol);
	for (size_t i = 0; i < n; i++) {
		int c = rules[i].chain;
		k[c]++;
		fw_rule_format(&rules[i], text, sizeof(text));
		if (tab_line(out, width, TUI_STYLE_PLAIN, "%5llu  %s #%zu  %s",
			     fn ? (unsigned long long)fn->hits[c][k[c] <= MAX_RULES ? k[c] : 0]
				: 0ull,
			     fw_chain_name((enum fw_chain)c), k[c], text) != 0)
			return -1;
	}
	for (int c = 0; c < FW_CHAIN_COUNT; c++)
		if (tab_line(out, width, TUI_STYLE_PLAIN, "%5llu  %s policy %s",
			     fn ? (unsigned long long)fn->hits[c][0] : 0ull,
			     fw_chain_name((enum fw_chain)c), fw_action_name(pol[c])) != 0)
			return -1;
	return 0;
}

static int tables_firewall(const struct tui_model *m, const struct tui_node *nd,
			   const struct fold_node *fn, int width, struct tui_lines *out)
{
	if (!nd->firewall && nd->role != TUI_ROLE_NAT)
		return tab_line(out, width, TUI_STYLE_HEADER, "firewall: off (accepts everything)");
	if (tab_line(out, width, TUI_STYLE_HEADER, "firewall rules (%llu dropped so far)",
		     fn ? (unsigned long long)fn->fw_drops : 0ull) != 0 ||
	    tui_lines_addf(out, TUI_STYLE_DIM, " hits  rule") != 0 ||
	    firewall_rows(m, nd, fn, width, out) != 0)
		return -1;
	return tab_line(out, width, TUI_STYLE_DIM,
			"(hits count the drops each rule decided: the trace names the rule of "
			"every drop, not of accepted packets)");
}

/* A host's TCP sockets at the cursor, as ss -tan lists them: read off the
 * socket records up to it (a state other than CLOSED adds or updates, CLOSED
 * removes, as viz/tables.c folds them). Shown once the host has had one. */
#define TUI_SOCKETS_MAX 64

static int tables_sockets(const struct tui_model *m, const char *node, int width, size_t max,
			  struct tui_lines *out)
{
	struct trace_socket v[TUI_SOCKETS_MAX];
	size_t n = 0, seen = 0;
	for (size_t i = 0; i <= m->cursor && i < m->count; i++) {
		const struct trace_record *r = trace_log_get(m->log, i);
		if (r->kind != TRACE_SOCKET || !same(r->u.sock.node, node))
			continue;
		const struct trace_socket *k = &r->u.sock;
		size_t j = 0;
		seen++;
		while (j < n && !trace_socket_same(&v[j], k))
			j++;
		if (k->new_state == 0 /* CLOSED */ && j < n)
			v[j] = v[--n];
		else if (k->new_state != 0 && (j < n || n < TUI_SOCKETS_MAX))
			v[j == n ? n++ : j] = *k;
	}
	if (seen == 0)
		return 0;
	if (tab_line(out, width, TUI_STYLE_HEADER, "TCP sockets (%zu), as ss -tan", n) != 0)
		return -1;
	for (size_t j = 0; j < n && !pane_full(out, max); j++) {
		char local[EXPLAIN_SOCKET_END_SIZE], peer[EXPLAIN_SOCKET_END_SIZE];
		if (v[j].v6 != NULL) /* ss's RFC 5952 form: [2001:db8::1]:80 */
			explain_socket_end(&v[j], 0, local, sizeof(local));
		else
			endpoint_format(&v[j].local, local, sizeof(local));
		explain_socket_end(&v[j], 1, peer, sizeof(peer));
		if (tab_line(out, width, TUI_STYLE_PLAIN, " %-10s %-21s %s",
			     tables_ss_state_name(v[j].new_state), local, peer) != 0)
			return -1;
	}
	return 0;
}

int tui_model_tables(const struct tui_model *m, const char *node, int width, size_t max,
		     struct tui_lines *out)
{
	tui_lines_clear(out);
	if (m->hidden)
		return tab_line(out, width, TUI_STYLE_DIM, "%s", TUI_HIDDEN_TEXT);
	size_t i = tui_model_find_node(m, node);
	if (i == TUI_NONE)
		return tab_line(out, width, TUI_STYLE_DIM,
				"(select a node: tab, arrows or a click)");
	const struct tui_node *nd = &m->nodes[i];
	const struct fold_node *fn = fold_node_find(m, node);
	/* a NAT's mappings first: they are what a student looks for there;
	 * blank lines between the sections only where rows are not scarce */
	bool gap = tables_full(width);
	if (nd->role == TUI_ROLE_NAT && (tables_mappings(m, nd, fn, width, max, out) != 0 ||
					 (gap && tui_lines_addf(out, TUI_STYLE_PLAIN, " ") != 0)))
		return -1;
	if (pane_full(out, max))
		return 0;
	if (tables_conntrack(m, fn, width, max, out) != 0 ||
	    (gap && tui_lines_addf(out, TUI_STYLE_PLAIN, " ") != 0))
		return -1;
	size_t before = out->n;
	if (nd->role == TUI_ROLE_HOST &&
	    (tables_sockets(m, node, width, max, out) != 0 ||
	     (gap && out->n > before && tui_lines_addf(out, TUI_STYLE_PLAIN, " ") != 0)))
		return -1;
	return pane_full(out, max) ? 0 : tables_firewall(m, nd, fn, width, out);
}

/* ---- the packet inspector ---- */

size_t tui_model_inspected(const struct tui_model *m)
{
	for (size_t i = m->cursor + 1; m->count && i-- > 0;)
		if (trace_log_get(m->log, i)->kind == TRACE_PACKET)
			return i;
	return TUI_NONE;
}

/* One field; a value too long for the pane wraps under the value column. */
static int field_line(struct tui_lines *out, enum tui_style style, int width, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int field_line(struct tui_lines *out, enum tui_style style, int width, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return tui_lines_wrap(out, style, buf, width, 15);
}

/* Before and after side by side where they fit (a column each); in a narrow
 * pane a rewritten field reads "before -> after" on its own line instead. */
/* Fields a packet may show: an ICMP error's are its own header's and those
 * of the packet it quotes (inner.ip.*, inner.udp.*), about two dozen. */
#define INSPECT_FIELDS 48

/* One packet's fields under a heading ("before, IPv6"). */
static int field_list(struct tui_lines *out, const char *heading, const struct packet_field *f,
		      size_t n, int width)
{
	if (tui_lines_addf(out, TUI_STYLE_DIM, "%s", heading) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (field_line(out, TUI_STYLE_PLAIN, width, "%-14s %s", f[i].name, f[i].value) != 0)
			return -1;
	return 0;
}

/* A translation between families (NAT64, RFC 7915) has no field of one
 * side facing the other's: each side is listed whole, in its family. */
static int inspect_two_families(const struct trace_packet *p, const struct packet_field *before,
				size_t nb, const struct packet_field *after, size_t na, int width,
				struct tui_lines *out)
{
	char heading[32];

	snprintf(heading, sizeof(heading), "before, IPv%u",
		 packet_ip_version(p->before, p->before_len));
	if (field_list(out, heading, before, nb, width) != 0)
		return -1;
	snprintf(heading, sizeof(heading), "after, IPv%u", packet_ip_version(p->bytes, p->len));
	return field_list(out, heading, after, na, width);
}

static int inspect_fields(const struct tui_model *m, const struct trace_packet *p, int width,
			  struct tui_lines *out)
{
	struct packet_field after[INSPECT_FIELDS], before[INSPECT_FIELDS];
	size_t na = packet_fields(p->bytes, p->len, after, INSPECT_FIELDS);
	if (p->hop != TRACE_HOP_TRANSLATE || !p->before) {
		for (size_t i = 0; i < na; i++)
			if (field_line(out, TUI_STYLE_PLAIN, width, "%-14s %s", after[i].name,
				       after[i].value) != 0)
				return -1;
		return 0;
	}
	size_t nb = packet_fields(p->before, p->before_len, before, INSPECT_FIELDS);
	if (packet_ip_version(p->before, p->before_len) != packet_ip_version(p->bytes, p->len))
		return inspect_two_families(p, before, nb, after, na, width, out);
	int col = width >= 70 ? 24 : 18;
	bool v6 = packet_ip_version(p->bytes, p->len) == 6;
	bool narrow = width > 0 && width < 15 + col + 16;
	const char *arrow = m->opt.ascii ? "->" : "\u2192";
	if (narrow ? field_line(out, TUI_STYLE_DIM, width, "%-14s before %s after", "field", arrow)
		   : tui_lines_addf(out, TUI_STYLE_DIM, "%-14s %-*s %s", "field", col, "before",
				    "after"))
		return -1;
	for (size_t i = 0; i < na || i < nb; i++) {
		const char *name = i < na ? after[i].name : before[i].name;
		const char *b = i < nb ? before[i].value : "";
		const char *a = i < na ? after[i].value : "";
		bool changed = strcmp(a, b) != 0;
		enum tui_style st = changed ? TUI_STYLE_CHANGED : TUI_STYLE_PLAIN;
		/* a value wider than its column (an IPv6 address: up to 39) takes
		 * the narrow form rather than being cut */
		bool wide = v6 && tui_text_cols(b) > col;
		int rc = !narrow && !wide ? tui_lines_addf(out, st, "%-14s %-*.*s %s%s", name, col,
							   col, b, a, changed ? "  *" : "")
			 : changed
			     ? field_line(out, st, width, "%-14s %s %s %s *", name, b, arrow, a)
			     : field_line(out, st, width, "%-14s %s", name, a);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static int inspect_hex(const uint8_t *b, size_t len, int width, struct tui_lines *out)
{
	size_t per = width >= 56 ? 16 : 8;
	for (size_t off = 0; off < len; off += per) {
		char hex[16 * 3 + 2] = "";
		size_t used = 0;
		for (size_t j = off; j < off + per && j < len; j++)
			used += (size_t)snprintf(hex + used, sizeof(hex) - used, "%s%02x",
						 j == off	 ? ""
						 : (j - off) % 8 ? " "
								 : "  ",
						 b[j]);
		if (tui_lines_addf(out, TUI_STYLE_PLAIN, "%04zx  %s", off, hex) != 0)
			return -1;
	}
	return 0;
}

/* The header, the summary and the sentences, word-wrapped: a drop's reason
 * is the point of the inspector and must never be cut. */
static int inspect_header(const struct tui_model *m, const struct trace_record *r, int width,
			  struct tui_lines *out)
{
	const struct trace_packet *p = &r->u.packet;
	char sum[256], line[1024];
	packet_summary(p->bytes, p->len, simdrive_payload_summary, m->opt.ascii, sum, sizeof(sum));
	snprintf(line, sizeof(line), "#%llu %s at %s%s%s, %.6f s", (unsigned long long)p->packet_id,
		 trace_hop_name(p->hop), p->node ? p->node : "?", p->iface ? " " : "",
		 p->iface ? p->iface : "", r->time / 1e9);
	if (tui_lines_wrap(out, TUI_STYLE_HEADER, line, width, 2) != 0)
		return -1;
	/* the sentence first: in a short pane it is what must show */
	int rc = 0;
	if (p->hop == TRACE_HOP_DROP) {
		snprintf(line, sizeof(line), "dropped (%s): %s", trace_drop_reason_name(p->reason),
			 p->why ? p->why : "");
		rc = tui_lines_wrap(out, TUI_STYLE_DROP, line, width, 2);
	} else if (p->hop == TRACE_HOP_TRANSLATE && packet_words_translate_mapped(p)) {
		char in[24], ex[24];
		endpoint_format(&p->map_internal, in, sizeof(in));
		endpoint_format(&p->map_external, ex, sizeof(ex));
		snprintf(line, sizeof(line), "by mapping %s %s %s", in,
			 m->opt.ascii ? "<->" : "\u2194", ex);
		rc = tui_lines_wrap(out, TUI_STYLE_PLAIN, line, width, 2);
	} else if (p->why) {
		rc = tui_lines_wrap(out, TUI_STYLE_DIM, p->why, width, 2);
	}
	return rc != 0 ? -1 : tui_lines_wrap(out, TUI_STYLE_PLAIN, sum, width, 2);
}

int tui_model_inspect(const struct tui_model *m, size_t record, int width, struct tui_lines *out)
{
	tui_lines_clear(out);
	if (m->hidden)
		return tui_lines_addf(out, TUI_STYLE_DIM, "%s", TUI_HIDDEN_TEXT);
	const struct trace_record *r = tui_model_record(m, record);
	if (!r || r->kind != TRACE_PACKET)
		return tui_lines_addf(out, TUI_STYLE_DIM,
				      "(no packet yet: n steps to the next one)");
	const struct trace_packet *p = &r->u.packet;
	if (inspect_header(m, r, width, out) != 0 || inspect_fields(m, p, width, out) != 0 ||
	    tui_lines_addf(out, TUI_STYLE_DIM, "bytes (%zu)%s", p->len,
			   p->hop == TRACE_HOP_TRANSLATE ? ", after the rewrite" : "") != 0)
		return -1;
	return inspect_hex(p->bytes, p->len, width, out);
}

/* ---- the ladder ---- */

bool tui_model_has_ladder(void)
{
#ifdef TUI_HAVE_LADDER
	return true;
#else
	return false;
#endif
}

#define LADDER_HOPS 24 /* packet hops the ladder pane looks back over */

/* The time of the LADDER_HOPS-th packet hop back from the cursor. */
static size_t ladder_first(const struct tui_model *m)
{
	size_t seen = 0, first = m->cursor;
	for (size_t i = m->cursor + 1; m->count && i-- > 0 && seen < LADDER_HOPS;) {
		if (trace_log_get(m->log, i)->kind == TRACE_PACKET) {
			seen++;
			first = i;
		}
	}
	return first;
}

static int ladder_list(const struct tui_model *m, int width, struct tui_lines *out)
{
	char sum[256];
	size_t first = ladder_first(m);
	for (size_t i = first; m->count && i <= m->cursor; i++) {
		const struct trace_record *r = trace_log_get(m->log, i);
		if (r->kind != TRACE_PACKET)
			continue;
		const struct trace_packet *p = &r->u.packet;
		packet_summary(p->bytes, p->len, NULL, m->opt.ascii, sum, sizeof(sum));
		if (tui_lines_addf(out, p->hop == TRACE_HOP_DROP ? TUI_STYLE_DROP : TUI_STYLE_PLAIN,
				   "%8.3f %-8.8s #%-4llu %-9s %.*s", r->time / 1e9, p->node,
				   (unsigned long long)p->packet_id, trace_hop_name(p->hop),
				   width > 0 ? width : 200, sum) != 0)
			return -1;
	}
	return 0;
}

#ifdef TUI_HAVE_LADDER
static int ladder_diagram(const struct tui_model *m, int width, struct tui_lines *out)
{
	struct ladder_options o;
	ladder_options_default(&o);
	o.from_ns = trace_log_get(m->log, ladder_first(m))->time;
	o.to_ns = tui_model_now(m);
	o.ascii = m->opt.ascii;
	o.width = width;
	o.payload = simdrive_payload_summary;
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return -1;
	int rc = ladder_render(f, m->log, &o);
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return -1;
	}
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (tui_lines_addf(out, TUI_STYLE_PLAIN, "%s", line) != 0) {
			rc = -1;
			break;
		}
	}
	free(buf);
	return rc < 0 ? -1 : 0;
}
#endif

int tui_model_ladder(const struct tui_model *m, int width, struct tui_lines *out)
{
	tui_lines_clear(out);
	if (m->hidden)
		return tui_lines_addf(out, TUI_STYLE_DIM, "%s", TUI_HIDDEN_TEXT);
	if (m->count == 0)
		return 0;
#ifdef TUI_HAVE_LADDER
	if (ladder_diagram(m, width, out) == 0 && out->n)
		return 0;
	tui_lines_clear(out);
#endif
	return ladder_list(m, width, out);
}

/* ---- what-if ---- */

static const char *const preset_cycle[] = {"full-cone", "restricted-cone", "port-restricted-cone",
					   "symmetric"};

const char *tui_next_preset(const char *current)
{
	size_t n = sizeof(preset_cycle) / sizeof(preset_cycle[0]);
	for (size_t i = 0; current && i < n; i++)
		if (strcmp(current, preset_cycle[i]) == 0)
			return preset_cycle[(i + 1) % n];
	return preset_cycle[0];
}

static const char *current_preset(const struct scenario_nat *sn)
{
	int map = SCENARIO_EI, filt = SCENARIO_APD;
	if (sn->preset)
		scenario_preset_behaviour(sn->preset, &map, &filt);
	if (sn->has_mapping)
		map = sn->mapping;
	if (sn->has_filtering)
		filt = sn->filtering;
	return nat_classic_name((enum nat_behaviour)map, (enum nat_behaviour)filt);
}

/* "; alice <-> bob: direct -> relayed" for every pair whose outcome moved. */
static void outcome_changes(const struct tui_model *m, char *msg, size_t size)
{
	size_t used = strlen(msg);
	bool any = false;
	for (size_t i = 0; i < m->n_pairs && used < size; i++) {
		const struct tui_pair *p = &m->pairs[i];
		bool moved = p->prev_outcome >= 0 && p->prev_outcome != p->outcome;
		any |= moved;
		used += (size_t)snprintf(msg + used, size - used, "; %s %s %s: %s%s%s", p->a,
					 m->opt.ascii ? "<->" : "\u2194", p->b,
					 moved ? scenario_path_name(p->prev_outcome) : "",
					 moved ? (m->opt.ascii ? " -> " : " \u2192 ") : "",
					 scenario_path_name(p->outcome));
	}
	if (!any && m->n_pairs && used < size)
		snprintf(msg + used, size - used, " (unchanged)");
}

int tui_model_cycle_preset(struct tui_model *m, size_t node, char *msg, size_t size, struct diag *d)
{
	const struct tui_node *nd = tui_model_node(m, node);
	const struct scenario_nat *sn = nd ? scenario_find_nat(m->scn, nd->name) : NULL;
	if (!sn) {
		snprintf(msg, size, "select a NAT (or a host behind one) to change its preset");
		return -1;
	}
	char name[64], set[128];
	snprintf(name, sizeof(name), "%s", sn->name);
	const char *from = current_preset(sn), *to = tui_next_preset(from);
	snprintf(set, sizeof(set), "%s.preset=%s", name, to);
	int prev[64];
	for (size_t i = 0; i < m->n_pairs && i < 64; i++)
		prev[i] = m->pairs[i].outcome;
	size_t n_prev = m->n_pairs;
	if (scenario_set_override(m->scn, set, d) != 0 || tui_model_run(m, d) != 0) {
		snprintf(msg, size, "could not re-run with %s", set);
		return -1;
	}
	for (size_t i = 0; i < m->n_pairs && i < n_prev && i < 64; i++)
		m->pairs[i].prev_outcome = prev[i];
	snprintf(msg, size, "what-if %s: %s %s %s, same seed %llu", name, from,
		 m->opt.ascii ? "->" : "\u2192", to, (unsigned long long)m->seed);
	outcome_changes(m, msg, size);
	return 0;
}
