/*
 * tables.c - conntrack and NAT mapping tables as a fold over the trace.
 *
 * The fold keeps, per node, two arrays in creation order and finds entries by
 * id with a linear scan: a node holds tens of entries, not thousands, and an
 * array keeps the `conntrack -L` order for free. Deadlines are applied once,
 * after the replay, because a later record may have pushed one back.
 */
#include "viz/tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/endpoint.h"
#include "explain/explain.h"
#include "sim/engine.h"
#include "viz/packet_words.h"

struct node_state {
	struct tables_node view;
	struct tables_flow *flows;
	size_t cap_flows;
	struct tables_mapping *maps; /* each owns its remotes array */
	size_t cap_maps;
	struct tables_socket *socks;
	size_t cap_socks;
};

struct tables {
	int64_t at;
	struct node_state *nodes;
	size_t n_nodes, cap_nodes;
};

/* Grow `*arr` (of `elem`-byte items) so that it can hold n + 1 items. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap != 0 ? *cap * 2 : 8;
	void *na = realloc(*arr, ncap * elem);
	if (na == NULL)
		return -1;
	*arr = na;
	*cap = ncap;
	return 0;
}

static void free_mapping(struct tables_mapping *m)
{
	free((struct endpoint *)m->remotes); /* ours: const only in the view */
}

void tables_free(struct tables *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_nodes; i++) {
		struct node_state *ns = &t->nodes[i];
		for (size_t j = 0; j < ns->view.n_mappings; j++)
			free_mapping(&ns->maps[j]);
		free(ns->maps);
		free(ns->flows);
		free(ns->socks);
	}
	free(t->nodes);
	free(t);
}

/* The node called `name`, added at the end if new; NULL if out of memory. */
static struct node_state *node_get(struct tables *t, const char *name)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (strcmp(t->nodes[i].view.name, name) == 0)
			return &t->nodes[i];
	if (grow((void **)&t->nodes, &t->cap_nodes, t->n_nodes, sizeof(*t->nodes)) != 0)
		return NULL;
	struct node_state *ns = &t->nodes[t->n_nodes++];
	memset(ns, 0, sizeof(*ns));
	ns->view.name = name;
	return ns;
}

/* ---- conntrack --------------------------------------------------------- */

/* An entry by its id, which is unique per node and family: a node's IPv6
 * table (model/conntrack6.h) numbers its entries from 1 as the IPv4 one
 * does. */
static struct tables_flow *flow_find(struct node_state *ns, uint8_t family, uint32_t id)
{
	for (size_t i = 0; i < ns->view.n_flows; i++)
		if (ns->flows[i].rec.id == id && ns->flows[i].rec.family == family)
			return &ns->flows[i];
	return NULL;
}

static void flow_remove(struct node_state *ns, struct tables_flow *f)
{
	size_t i = (size_t)(f - ns->flows);
	memmove(f, f + 1, (ns->view.n_flows - i - 1) * sizeof(*f));
	ns->view.n_flows--;
}

static int apply_conntrack(struct node_state *ns, int64_t time, const struct trace_conntrack *c)
{
	struct tables_flow *f = flow_find(ns, c->family, c->id);
	ns->view.tracks = true;
	/* An ICMP error RELATED to an entry changes nothing in it (Linux:
	 * nf_conntrack_proto_icmp.c icmp_error_message attaches the entry
	 * and neither refreshes nor updates it): the table is the same. */
	if (c->event == TRACE_CT_RELATED)
		return 0;
	if (c->event == TRACE_CT_DESTROY) {
		if (f != NULL)
			flow_remove(ns, f);
		return 0;
	}
	if (f == NULL) {
		/* An UPDATE for an entry never seen NEW (a log that starts
		 * mid-run) is still an entry the table holds. */
		if (grow((void **)&ns->flows, &ns->cap_flows, ns->view.n_flows, sizeof(*f)) != 0)
			return -1;
		f = &ns->flows[ns->view.n_flows++];
		f->created_at = time;
	}
	f->rec = *c;
	return 0;
}

/* ---- mappings ---------------------------------------------------------- */

/* By family and id: a node's NAT64 bindings are numbered apart from its
 * IPv4 NAT's mappings (model/nat64.c), as its IPv6 conntrack entries are. */
static struct tables_mapping *map_find(struct node_state *ns, uint8_t family, uint32_t id)
{
	for (size_t i = 0; i < ns->view.n_mappings; i++)
		if (ns->maps[i].id == id && ns->maps[i].family == family)
			return &ns->maps[i];
	return NULL;
}

static void map_remove(struct node_state *ns, struct tables_mapping *m)
{
	size_t i = (size_t)(m - ns->maps);
	free_mapping(m);
	memmove(m, m + 1, (ns->view.n_mappings - i - 1) * sizeof(*m));
	ns->view.n_mappings--;
}

/* Remember a remote once; 0.0.0.0:0 is "none" (a static forward's). */
static int map_add_remote(struct tables_mapping *m, const struct endpoint *ep)
{
	if (ep->ip == 0 && ep->port == 0)
		return 0;
	for (size_t i = 0; i < m->n_remotes; i++)
		if (m->remotes[i].ip == ep->ip && m->remotes[i].port == ep->port)
			return 0;
	struct endpoint *r =
	    realloc((struct endpoint *)m->remotes, (m->n_remotes + 1) * sizeof(*r));
	if (r == NULL)
		return -1;
	r[m->n_remotes++] = *ep;
	m->remotes = r;
	return 0;
}

/* The flow to `ep` ended: it no longer decides who may come in. */
static void map_remove_remote(struct tables_mapping *m, const struct endpoint *ep)
{
	struct endpoint *r = (struct endpoint *)m->remotes;
	for (size_t i = 0; i < m->n_remotes; i++) {
		if (r[i].ip == ep->ip && r[i].port == ep->port) {
			memmove(&r[i], &r[i + 1], (m->n_remotes - i - 1) * sizeof(*r));
			m->n_remotes--;
			return;
		}
	}
}

static struct tables_mapping *map_add(struct node_state *ns, int64_t time,
				      const struct trace_mapping *rec)
{
	if (grow((void **)&ns->maps, &ns->cap_maps, ns->view.n_mappings, sizeof(*ns->maps)) != 0)
		return NULL;
	struct tables_mapping *m = &ns->maps[ns->view.n_mappings++];
	memset(m, 0, sizeof(*m));
	m->id = rec->id;
	m->proto = rec->proto;
	m->internal = rec->internal;
	m->external = rec->external;
	m->family = rec->family;
	m->internal6 = rec->internal6;
	m->is_static = rec->is_static;
	m->created_at = time;
	return m;
}

static int apply_mapping(struct node_state *ns, int64_t time, const struct trace_mapping *rec)
{
	struct tables_mapping *m = map_find(ns, rec->family, rec->id);
	ns->view.nats = true;
	ns->view.mapping = rec->mapping;
	ns->view.filtering = rec->filtering;
	if (rec->event == TRACE_MAP_REFUSED)
		return 0; /* a port-mapping request refused: nothing changed */
	if (rec->event == TRACE_MAP_EXPIRED || rec->event == TRACE_MAP_CLEARED ||
	    rec->event == TRACE_MAP_DELETED) {
		if (m != NULL)
			map_remove(ns, m);
		return 0;
	}
	if (m != NULL && rec->event == TRACE_MAP_CREATED) {
		map_remove(ns, m); /* an id reused: the new mapping replaces it */
		m = NULL;
	}
	if (m == NULL && (m = map_add(ns, time, rec)) == NULL)
		return -1;
	m->mapping = rec->mapping;
	m->filtering = rec->filtering;
	m->expires_at = rec->expires_at;
	m->origin = rec->origin; /* a renewal can make a mapping explicit */
	if (rec->event == TRACE_MAP_CREATED || rec->event == TRACE_MAP_REMOTE_ADDED)
		return map_add_remote(m, &rec->remote);
	if (rec->event == TRACE_MAP_REMOTE_REMOVED)
		map_remove_remote(m, &rec->remote);
	return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static int apply_socket(struct node_state *ns, int64_t time, const struct trace_socket *k)
{
	struct tables_socket *s = NULL;
	for (size_t i = 0; i < ns->view.n_sockets && s == NULL; i++)
		if (trace_socket_same(&ns->socks[i].rec, k))
			s = &ns->socks[i];
	if (k->new_state == 0 /* CLOSED: the socket is gone */) {
		if (s != NULL) {
			size_t i = (size_t)(s - ns->socks);
			memmove(s, s + 1, (ns->view.n_sockets - i - 1) * sizeof(*s));
			ns->view.n_sockets--;
		}
		return 0;
	}
	if (s == NULL) {
		if (grow((void **)&ns->socks, &ns->cap_socks, ns->view.n_sockets, sizeof(*s)) != 0)
			return -1;
		s = &ns->socks[ns->view.n_sockets++];
	}
	s->rec = *k;
	s->since = time;
	return 0;
}

/* ---- the fold ---------------------------------------------------------- */

/* Every node a record names joins the node list, so the list is the order in
 * which the world introduced them whatever the record kind. */
static int apply_record(struct tables *t, const struct trace_record *r)
{
	const char *names[2] = {NULL, NULL};
	switch (r->kind) {
	case TRACE_NODE:
		names[0] = r->u.node.name;
		break;
	case TRACE_LINK:
		names[0] = r->u.link.a;
		names[1] = r->u.link.b;
		break;
	case TRACE_PACKET:
		names[0] = r->u.packet.node;
		break;
	case TRACE_CONNTRACK:
		names[0] = r->u.ct.node;
		break;
	case TRACE_MAPPING:
		names[0] = r->u.map.node;
		break;
	case TRACE_APP:
		names[0] = r->u.app.node;
		break;
	case TRACE_SOCKET:
		names[0] = r->u.sock.node;
		break;
	case TRACE_SCENARIO:
		break;
	}
	struct node_state *ns = NULL;
	for (int i = 0; i < 2; i++)
		if (names[i] != NULL && (ns = node_get(t, names[i])) == NULL)
			return -1;
	/* A NAT or stateful firewall has a table from the start, empty or not,
	 * as `conntrack -L` on it would show. */
	if (r->kind == TRACE_NODE && r->u.node.conntrack)
		ns->view.tracks = true;
	if (r->kind == TRACE_CONNTRACK)
		return apply_conntrack(ns, r->time, &r->u.ct);
	if (r->kind == TRACE_MAPPING)
		return apply_mapping(ns, r->time, &r->u.map);
	if (r->kind == TRACE_SOCKET && r->u.sock.proto == 6)
		return apply_socket(ns, r->time, &r->u.sock);
	return 0;
}

/* Entries past their deadline are gone at `at`, recorded or not. */
static void prune_expired(struct node_state *ns, int64_t at)
{
	for (size_t i = ns->view.n_flows; i-- > 0;)
		if (ns->flows[i].rec.expires_at <= at)
			flow_remove(ns, &ns->flows[i]);
	for (size_t i = ns->view.n_mappings; i-- > 0;)
		if (!ns->maps[i].is_static && ns->maps[i].expires_at <= at)
			map_remove(ns, &ns->maps[i]);
	ns->view.flows = ns->flows;
	ns->view.mappings = ns->maps;
	ns->view.sockets = ns->socks;
}

struct tables *tables_fold(const struct trace_log *log, int64_t at)
{
	struct tables *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->at = at;
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->time > at)
			continue;
		/* conntrack/mapping records lacking a node cannot be placed */
		bool placeable = !((r->kind == TRACE_CONNTRACK && r->u.ct.node == NULL) ||
				   (r->kind == TRACE_MAPPING && r->u.map.node == NULL));
		if (placeable && apply_record(t, r) != 0) {
			tables_free(t);
			return NULL;
		}
	}
	for (size_t i = 0; i < t->n_nodes; i++)
		prune_expired(&t->nodes[i], at);
	return t;
}

int64_t tables_time(const struct tables *t)
{
	return t->at;
}

size_t tables_node_count(const struct tables *t)
{
	return t->n_nodes;
}

const struct tables_node *tables_node_at(const struct tables *t, size_t i)
{
	return i < t->n_nodes ? &t->nodes[i].view : NULL;
}

const struct tables_node *tables_node_find(const struct tables *t, const char *name)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (strcmp(t->nodes[i].view.name, name) == 0)
			return &t->nodes[i].view;
	return NULL;
}

/* ---- rendering --------------------------------------------------------- */

static void print_header(FILE *out, const char *name, const char *what, bool ascii)
{
	const char *rule = ascii ? "==" : "\u2500\u2500";
	fprintf(out, "%s %s: %s %s\n", rule, name, what, rule);
}

/* Whether `n` is shown: the one asked for by name, or with no name every
 * node for which the table means something. */
static bool selected(const struct tables_node *n, const char *node, bool has_table)
{
	return node != NULL ? strcmp(n->name, node) == 0 : has_table;
}

/* conntrack -L writes its entries to stdout and its closing count to stderr
 * (conntrack-tools 1.4.7, checked in a fresh network namespace), so that a
 * pipe gets the entries alone. With two streams, the entries so far are
 * flushed first: on one terminal the count still comes after them. */
static void print_footer(FILE *out, FILE *err, size_t n)
{
	char line[128];
	conntrack_format_footer(n, line, sizeof(line));
	if (err != out)
		fflush(out);
	fprintf(err, "%s\n", line);
	if (err != out)
		fflush(err);
}

int tables_render_conntrack(FILE *out, FILE *err, const struct tables *t, const char *node,
			    bool ascii)
{
	char line[320];
	bool first = true;
	if (err == NULL)
		err = out;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tables_node *n = &t->nodes[i].view;
		if (!selected(n, node, n->tracks))
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		print_header(out, n->name, "conntrack", ascii);
		for (size_t j = 0; j < n->n_flows; j++) {
			conntrack_format_record(&n->flows[j].rec, t->at, line, sizeof(line));
			fprintf(out, "%s\n", line);
		}
		print_footer(out, err, n->n_flows);
	}
	return ferror(out) || ferror(err) ? -1 : 0;
}

enum { COL_INTERNAL, COL_EXTERNAL, COL_WHO, COL_STATE, COL_LEFT, COL_COUNT };

struct map_row {
	char col[COL_COUNT][256];
};

/* Who may answer through an echo's mapping: by address alone, since a
 * reply comes from no port. */
static void echo_who(const struct tables_mapping *m, char *who, size_t size)
{
	char a[16];
	size_t used;

	if (m->is_static || m->filtering == NAT_ENDPOINT_INDEPENDENT || m->n_remotes == 0) {
		explain_nat_filter((enum nat_behaviour)m->filtering, m->remotes, m->n_remotes,
				   m->is_static, who, size);
		return;
	}
	used = (size_t)snprintf(who, size, "accepts echo replies from");
	for (size_t i = 0; i < m->n_remotes && used < size; i++)
		used += (size_t)snprintf(who + used, size - used, "%s %s", i > 0 ? "," : "",
					 ip_format(m->remotes[i].ip, a, sizeof(a)));
	if (used < size)
		snprintf(who + used, size - used, " (%s filtering)",
			 nat_behaviour_name((enum nat_behaviour)m->filtering));
}

void tables_mapping_words(const struct tables_mapping *m, char *in, char *ex, char *who,
			  size_t size)
{
	if (m->family == 6) /* NAT64: the inside is IPv6 */
		packet_words_mapping_end6(&m->internal6, m->proto, in, size);
	else
		packet_words_mapping_end(&m->internal, m->proto, false, in, size);
	packet_words_mapping_end(&m->external, m->proto, false, ex, size);
	if (m->origin == NAT_ORIGIN_PCP || m->origin == NAT_ORIGIN_NATPMP)
		explain_explicit_filter(m->origin, who, size);
	else if (m->proto == IPPROTO_NUM_ICMP)
		echo_who(m, who, size);
	else
		explain_nat_filter((enum nat_behaviour)m->filtering, m->remotes, m->n_remotes,
				   m->is_static, who, size);
}

static void map_row_fill(struct map_row *row, const struct tables_mapping *m, int64_t at)
{
	tables_mapping_words(m, row->col[COL_INTERNAL], row->col[COL_EXTERNAL], row->col[COL_WHO],
			     sizeof(row->col[0]));
	/* How it was made: a forward, a port-mapping request, or traffic. */
	snprintf(row->col[COL_STATE], sizeof(row->col[0]), "%s",
		 m->is_static			  ? "static"
		 : m->origin == NAT_ORIGIN_PCP	  ? "pcp"
		 : m->origin == NAT_ORIGIN_NATPMP ? "nat-pmp"
						  : "active");
	if (m->is_static || m->expires_at == SIM_TIME_NEVER) {
		snprintf(row->col[COL_LEFT], sizeof(row->col[0]), "-");
	} else {
		/* Rounded up like conntrack -L, so both tables agree. */
		int64_t left = m->expires_at - at;
		long long s = left <= 0 ? 0 : (long long)((left + SIM_S(1) - 1) / SIM_S(1));
		snprintf(row->col[COL_LEFT], sizeof(row->col[0]), "%llds", s);
	}
}

/* Columns two spaces apart; the last one is not padded (no trailing blanks). */
static void print_row(FILE *out, const struct map_row *row, const size_t *width)
{
	for (int c = 0; c < COL_COUNT; c++) {
		if (c + 1 < COL_COUNT)
			fprintf(out, "%-*s  ", (int)width[c], row->col[c]);
		else
			fprintf(out, "%s\n", row->col[c]);
	}
}

static int render_mapping_table(FILE *out, const struct tables_node *n, int64_t at)
{
	static const struct map_row head = {
	    {"internal", "external", "who may come in", "state", "time left"}};
	size_t width[COL_COUNT];
	if (n->n_mappings == 0) {
		fprintf(out, "(no mappings)\n");
		return 0;
	}
	struct map_row *rows = calloc(n->n_mappings + 1, sizeof(*rows));
	if (rows == NULL)
		return -1;
	rows[0] = head;
	for (size_t j = 0; j < n->n_mappings; j++)
		map_row_fill(&rows[j + 1], &n->mappings[j], at);
	for (int c = 0; c < COL_COUNT; c++) {
		width[c] = 0;
		for (size_t j = 0; j <= n->n_mappings; j++) {
			size_t w = strlen(rows[j].col[c]);
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t j = 0; j <= n->n_mappings; j++)
		print_row(out, &rows[j], width);
	free(rows);
	return 0;
}

int tables_render_mappings(FILE *out, const struct tables *t, const char *node, bool ascii)
{
	char what[128];
	bool first = true;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tables_node *n = &t->nodes[i].view;
		if (!selected(n, node, n->nats))
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		if (n->nats) {
			enum nat_behaviour m = (enum nat_behaviour)n->mapping;
			enum nat_behaviour f = (enum nat_behaviour)n->filtering;
			snprintf(what, sizeof(what), "mappings (%s + %s, %s)",
				 nat_behaviour_abbrev(m, false), nat_behaviour_abbrev(f, true),
				 nat_classic_name(m, f));
		} else {
			snprintf(what, sizeof(what), "mappings");
		}
		print_header(out, n->name, what, ascii);
		if (render_mapping_table(out, n, t->at) != 0)
			return -1;
	}
	return ferror(out) ? -1 : 0;
}

/* ---- sockets, as ss -tan ------------------------------------------------ */

/* ss's names for the states (misc/ss.c sstate_name), in RFC 9293's order
 * as model/tcp.h numbers them. */
const char *tables_ss_state_name(uint8_t state)
{
	static const char *const names[] = {
	    "CLOSED",	  "LISTEN",	"SYN-SENT", "SYN-RECV", "ESTAB",     "FIN-WAIT-1",
	    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING",  "LAST-ACK", "TIME-WAIT",
	};
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "UNKNOWN";
}

/* As ss -tan: an IPv6 socket's ends in RFC 5952 form ("[2001:db8::1]:80",
 * a listener's "[::]:80" and peer "[::]:*"). */
static void socket_local(const struct trace_socket *k, char *out, size_t size)
{
	char ip[16];
	if (k->v6 != NULL)
		endpoint6_format(&k->v6->local, out, size);
	else
		snprintf(out, size, "%s:%u", ip_format(k->local.ip, ip, sizeof(ip)), k->local.port);
}

static void socket_peer(const struct trace_socket *k, char *out, size_t size)
{
	char ip[16];
	if (k->remote.ip == 0 && k->remote.port == 0)
		snprintf(out, size, k->v6 != NULL ? "[::]:*" : "0.0.0.0:*");
	else if (k->v6 != NULL)
		endpoint6_format(&k->v6->remote, out, size);
	else
		snprintf(out, size, "%s:%u", ip_format(k->remote.ip, ip, sizeof(ip)),
			 k->remote.port);
}

bool tables_has_sockets(const struct tables *t)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].view.n_sockets > 0)
			return true;
	return false;
}

int tables_render_sockets(FILE *out, const struct tables *t, const char *node, bool ascii)
{
	bool first = true;
	for (size_t i = 0; i < t->n_nodes; i++) {
		const struct tables_node *n = &t->nodes[i].view;
		if (!selected(n, node, n->n_sockets > 0))
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		print_header(out, n->name, "TCP sockets", ascii);
		fprintf(out, "%-11s %-21s %s\n", "State", "Local Address:Port",
			"Peer Address:Port");
		for (size_t j = 0; j < n->n_sockets; j++) {
			const struct trace_socket *k = &n->sockets[j].rec;
			char local[ENDPOINT6_TEXT_SIZE], peer[ENDPOINT6_TEXT_SIZE];
			socket_local(k, local, sizeof(local));
			socket_peer(k, peer, sizeof(peer));
			fprintf(out, "%-11s %-21s %s\n", tables_ss_state_name(k->new_state), local,
				peer);
		}
	}
	return ferror(out) ? -1 : 0;
}
