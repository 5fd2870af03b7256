/*
 * ladder.c - the packet-flow diagram.
 *
 * Three steps. The topology (nodes, links, who runs the coordinator) gives
 * every node a place from left to right. One pass over the records picks the
 * rows (arrows, rewrites, drops, notes) that the options select, pairing
 * each TX hop with the next hop of the same packet id (its RX at the far end,
 * or the drop that ended it). The rows name the nodes they touch, and only
 * those get a lane; then each row is drawn: time column, a strip of lane
 * cells, text.
 */
#include "viz/ladder.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/endpoint.h"
#include "sim/engine.h"
#include "explain/ipv6.h" /* explain_icmp6_name */
#include "explain/socket.h"
#include "model/packet6.h"
#include "viz/packet_words.h"
#include "viz/text.h"

#define LD_DEFAULT_WIDTH 100
#define LD_TIME_COLS 9 /* "  12.345s " */
#define LD_MIN_LANE 3  /* a lane never gets narrower than this */
#define LD_MAX_LANE 10 /* nor wider */
#define LD_MIN_TEXT 72 /* lanes narrow before the text gets fewer columns */
#define LD_TEXT_MAX 1024

/* ---- glyphs ------------------------------------------------------------ */

struct glyphs {
	const char *bar, *line, *head_r, *head_l, *tail_r, *tail_l, *rewrite, *cross, *arrow,
	    *ellipsis, *rule;
};

static const struct glyphs utf8_glyphs = {"\u2502", "\u2500", "\u25b6",	     "\u25c0",
					  "\u251c", "\u2524", "\u25c6",	     "\u2717",
					  "\u2192", "\u2026", "\u2500\u2500"};
static const struct glyphs ascii_glyphs = {"|", "-", ">",  "<",	  "+", "+",
					   "*", "x", "->", "...", "=="};

/* ---- topology ----------------------------------------------------------- */

struct ld_node {
	const char *name;
	bool router, nat, server, host;
	int parent;	     /* in the tree grown from the root over links, or -1 */
	int order;	     /* left-to-right rank, or -1 before ordering */
	int lane;	     /* column index in this diagram, or -1: no row touches it */
	struct ip_addr *ips; /* the host's own addresses, either family (pair filter) */
	size_t n_ips;
	struct endpoint *ext; /* NAT endpoints standing for the host (pair filter) */
	size_t n_ext;
};

struct ld_link {
	int a, b;
	const char *a_iface, *b_iface;
};

struct ladder {
	const struct trace_log *log;
	const struct ladder_options *opt;
	const struct glyphs *g;
	struct ld_node *nodes;
	size_t n_nodes, cap_nodes;
	struct ld_link *links;
	size_t n_links, cap_links;
	bool *adj;    /* n_nodes * n_nodes once the topology is read */
	size_t *next; /* per record: the next hop record of the same packet, or SIZE_MAX */
	size_t *prev; /* per record: the hop before, or SIZE_MAX */
	struct packet_owners *owners; /* hosts by address: whose packet an ICMP error quotes */
	struct ld_isn *isns;	      /* each TCP direction's first sequence number */
	size_t n_isns, cap_isns;
	bool oom;
};

/* A TCP direction as the segments on one link carry it (a NAT's two sides
 * are two directions with one ISN), and its initial sequence number: the
 * SYN's. Sequence numbers are shown from it, as Wireshark's "relative
 * sequence numbers" are (tcp.relative_sequence_numbers). */
struct ld_isn {
	struct ip_endpoint src, dst;
	uint32_t isn;
};

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*cap = nc;
	return true;
}

static int node_find(const struct ladder *L, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < L->n_nodes; i++)
		if (strcmp(L->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int node_get(struct ladder *L, const char *name)
{
	int i = node_find(L, name);
	if (i >= 0 || name == NULL)
		return i;
	if (!grow((void **)&L->nodes, &L->cap_nodes, L->n_nodes, sizeof(*L->nodes))) {
		L->oom = true;
		return -1;
	}
	L->nodes[L->n_nodes] =
	    (struct ld_node){.name = name, .parent = -1, .order = -1, .lane = -1};
	return (int)L->n_nodes++;
}

static void read_node(struct ladder *L, const struct trace_node *n)
{
	int i = node_get(L, n->name);
	if (i < 0)
		return;
	struct ld_node *d = &L->nodes[i];
	const char *type = n->type != NULL ? n->type : "";
	d->host = strcmp(type, "host") == 0;
	d->router = strcmp(type, "router") == 0 || strcmp(type, "internet") == 0;
	if (strcmp(type, "nat") == 0 || n->nat) /* the record says so; detail is for pictures */
		d->nat = true;
	if (strcmp(type, "coordinator") == 0)
		d->server = true;
}

static void read_link(struct ladder *L, const struct trace_link *k)
{
	if (k->event != TRACE_LINK_ADDED)
		return;
	int a = node_get(L, k->a), b = node_get(L, k->b);
	if (a < 0 || b < 0)
		return;
	if (!grow((void **)&L->links, &L->cap_links, L->n_links, sizeof(*L->links))) {
		L->oom = true;
		return;
	}
	L->links[L->n_links++] = (struct ld_link){a, b, k->a_iface, k->b_iface};
}

/* Nodes, links, NATs and the coordinator's host, from the whole log. */
static void read_topology(struct ladder *L)
{
	size_t n = trace_log_count(L->log);
	for (size_t i = 0; i < n && !L->oom; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		int k;
		switch (r->kind) {
		case TRACE_NODE:
			read_node(L, &r->u.node);
			break;
		case TRACE_LINK:
			read_link(L, &r->u.link);
			break;
		case TRACE_MAPPING:
			if ((k = node_get(L, r->u.map.node)) >= 0)
				L->nodes[k].nat = true;
			break;
		case TRACE_APP:
			if (r->u.app.app != NULL && strcmp(r->u.app.app, "coordinator") == 0 &&
			    (k = node_get(L, r->u.app.node)) >= 0)
				L->nodes[k].server = true;
			break;
		case TRACE_PACKET:
			node_get(L, r->u.packet.node);
			break;
		default:
			break;
		}
	}
}

static bool adjacent(const struct ladder *L, int a, int b)
{
	return L->adj[(size_t)a * L->n_nodes + (size_t)b];
}

/* The middle of the picture: the plain router with the most links. */
static int pick_root(const struct ladder *L)
{
	int best = -1, best_deg = -1;
	for (int pass = 0; pass < 2 && best < 0; pass++) {
		for (size_t i = 0; i < L->n_nodes; i++) {
			const struct ld_node *d = &L->nodes[i];
			if (pass == 0 && (!d->router || d->nat))
				continue;
			int deg = 0;
			for (size_t j = 0; j < L->n_nodes; j++)
				deg += adjacent(L, (int)i, (int)j);
			if (deg > best_deg && deg > 0) {
				best = (int)i;
				best_deg = deg;
			}
		}
	}
	return best;
}

/* Breadth first from the root: every node reached gets its parent. */
static void grow_tree(struct ladder *L, int root)
{
	int *queue = malloc(L->n_nodes * sizeof(*queue));
	if (queue == NULL) {
		L->oom = true;
		return;
	}
	size_t head = 0, tail = 0;
	L->nodes[root].parent = root;
	queue[tail++] = root;
	while (head < tail) {
		int u = queue[head++];
		for (size_t v = 0; v < L->n_nodes; v++) {
			if (L->nodes[v].parent >= 0 || !adjacent(L, u, (int)v))
				continue;
			L->nodes[v].parent = u;
			queue[tail++] = (int)v;
		}
	}
	free(queue);
}

struct order_state {
	int *seq;
	size_t n;
};

/* Children before their parent: hosts outermost, their routers inside. */
static void post_order(struct ladder *L, int u, int root, struct order_state *s)
{
	for (size_t v = 0; v < L->n_nodes; v++)
		if ((int)v != root && (int)v != u && L->nodes[v].parent == u)
			post_order(L, (int)v, root, s);
	s->seq[s->n++] = u;
}

/* The child of the root whose subtree holds `u`, or -1. */
static int branch_of(const struct ladder *L, int u, int root)
{
	if (u < 0 || L->nodes[u].parent < 0 || u == root)
		return -1;
	while (L->nodes[u].parent != root)
		u = L->nodes[u].parent;
	return u;
}

static bool subtree_has(const struct ladder *L, int branch, int root, bool server)
{
	for (size_t i = 0; i < L->n_nodes; i++)
		if (branch_of(L, (int)i, root) == branch &&
		    (server ? L->nodes[i].server : L->nodes[i].nat))
			return true;
	return false;
}

enum { SIDE_NONE, SIDE_LEFT, SIDE_RIGHT, SIDE_MIDDLE };

struct placement {
	int *side;   /* per node that is a branch root */
	int *placed; /* branches in placement order */
	size_t n_placed;
	size_t n_left, n_right;
};

static void place(struct placement *p, int branch, int side)
{
	if (branch < 0 || p->side[branch] != SIDE_NONE)
		return;
	if (side == SIDE_NONE)
		side = p->n_left <= p->n_right ? SIDE_LEFT : SIDE_RIGHT;
	p->side[branch] = side;
	p->placed[p->n_placed++] = branch;
	if (side == SIDE_LEFT)
		p->n_left++;
	else
		p->n_right++;
}

static int opposite(int side)
{
	return side == SIDE_LEFT ? SIDE_RIGHT : SIDE_LEFT;
}

/* Two peers that talk to each other go on opposite sides: the asked pair
 * first, then the pairs the agents report, then the rest by node order. */
static void place_branches(struct ladder *L, int root, struct placement *p)
{
	const struct ladder_options *o = L->opt;
	place(p, branch_of(L, node_find(L, o->pair_a), root), SIDE_LEFT);
	place(p, branch_of(L, node_find(L, o->pair_b), root), SIDE_RIGHT);
	size_t n = trace_log_count(L->log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		if (r->kind != TRACE_APP || r->u.app.peer == NULL)
			continue;
		int a = branch_of(L, node_find(L, r->u.app.node), root);
		int b = branch_of(L, node_find(L, r->u.app.peer), root);
		if (a < 0 || b < 0 || a == b || p->side[a] == SIDE_MIDDLE ||
		    p->side[b] == SIDE_MIDDLE)
			continue;
		if (p->side[a] == SIDE_NONE && p->side[b] != SIDE_NONE)
			place(p, a, opposite(p->side[b]));
		else if (p->side[a] == SIDE_NONE) {
			place(p, a, SIDE_NONE);
			place(p, b, opposite(p->side[a]));
		} else
			place(p, b, opposite(p->side[a]));
	}
	for (size_t i = 0; i < L->n_nodes; i++)
		if (L->nodes[i].parent == root && (int)i != root)
			place(p, (int)i, SIDE_NONE);
}

static void order_tree(struct ladder *L, int root, struct order_state *s)
{
	struct placement p = {0};
	p.side = calloc(L->n_nodes, sizeof(*p.side));
	p.placed = calloc(L->n_nodes, sizeof(*p.placed));
	int *left = calloc(L->n_nodes, sizeof(*left));
	if (p.side == NULL || p.placed == NULL || left == NULL) {
		L->oom = true;
		goto out;
	}
	for (size_t i = 0; i < L->n_nodes; i++)
		if (L->nodes[i].parent == root && (int)i != root &&
		    subtree_has(L, (int)i, root, true) && !subtree_has(L, (int)i, root, false))
			p.side[i] = SIDE_MIDDLE;
	place_branches(L, root, &p);
	/* Left: branches in placement order, the first one outermost. */
	for (size_t k = 0; k < p.n_placed; k++)
		if (p.side[p.placed[k]] == SIDE_LEFT)
			post_order(L, p.placed[k], root, s);
	/* Middle: the root, then the servers' branches. */
	s->seq[s->n++] = root;
	for (size_t i = 0; i < L->n_nodes; i++)
		if (p.side[i] == SIDE_MIDDLE) {
			size_t start = s->n;
			post_order(L, (int)i, root, s);
			/* parent first in the middle: reverse the branch */
			for (size_t a = start, b = s->n - 1; a < b; a++, b--) {
				int t = s->seq[a];
				s->seq[a] = s->seq[b];
				s->seq[b] = t;
			}
		}
	/* Right: the mirror image, the first branch placed outermost. */
	struct order_state r = {left, 0};
	for (size_t k = 0; k < p.n_placed; k++)
		if (p.side[p.placed[k]] == SIDE_RIGHT)
			post_order(L, p.placed[k], root, &r);
	for (size_t k = r.n; k > 0; k--)
		s->seq[s->n++] = r.seq[k - 1];
out:
	free(p.side);
	free(p.placed);
	free(left);
}

/* Give every node its left-to-right rank. */
static void order_nodes(struct ladder *L)
{
	size_t n = L->n_nodes;
	L->adj = calloc(n * n + 1, sizeof(*L->adj));
	struct order_state s = {malloc((n + 1) * sizeof(int)), 0};
	if (L->adj == NULL || s.seq == NULL) {
		L->oom = true;
		free(s.seq);
		return;
	}
	for (size_t i = 0; i < L->n_links; i++) {
		L->adj[(size_t)L->links[i].a * n + (size_t)L->links[i].b] = true;
		L->adj[(size_t)L->links[i].b * n + (size_t)L->links[i].a] = true;
	}
	int root = pick_root(L);
	if (root >= 0) {
		grow_tree(L, root);
		if (!L->oom)
			order_tree(L, root, &s);
	}
	for (size_t i = 0; i < s.n; i++)
		L->nodes[s.seq[i]].order = (int)i;
	/* Nodes without links come last, in order of appearance. */
	int next = (int)s.n;
	for (size_t i = 0; i < n; i++)
		if (L->nodes[i].order < 0)
			L->nodes[i].order = next++;
	free(s.seq);
}

/* ---- packets ------------------------------------------------------------ */

struct hop_key {
	uint64_t id;
	size_t rec;
};

static int hop_key_cmp(const void *a, const void *b)
{
	const struct hop_key *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* next[i]: the record of the hop after record i for the same packet id. */
static void link_hops(struct ladder *L)
{
	size_t n = trace_log_count(L->log), m = 0;
	struct hop_key *keys = malloc((n + 1) * sizeof(*keys));
	L->next = malloc((n + 1) * sizeof(*L->next));
	L->prev = malloc((n + 1) * sizeof(*L->prev));
	if (keys == NULL || L->next == NULL || L->prev == NULL) {
		L->oom = true;
		free(keys);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		L->next[i] = L->prev[i] = SIZE_MAX;
		if (r->kind == TRACE_PACKET)
			keys[m++] = (struct hop_key){r->u.packet.packet_id, i};
	}
	qsort(keys, m, sizeof(*keys), hop_key_cmp);
	for (size_t k = 0; k + 1 < m; k++)
		if (keys[k].id == keys[k + 1].id) {
			L->next[keys[k].rec] = keys[k + 1].rec;
			L->prev[keys[k + 1].rec] = keys[k].rec;
		}
	free(keys);
}

static const struct trace_packet *packet_at(const struct ladder *L, size_t i)
{
	if (i == SIZE_MAX)
		return NULL;
	const struct trace_record *r = trace_log_get(L->log, i);
	return r->kind == TRACE_PACKET ? &r->u.packet : NULL;
}

/* The node at the other end of the link leaving `node` through `iface`, when
 * there is exactly one. */
static int far_end(const struct ladder *L, int node, const char *iface)
{
	int found = -1;
	for (size_t i = 0; i < L->n_links; i++) {
		const struct ld_link *k = &L->links[i];
		int other = -1;
		if (k->a == node && iface != NULL && k->a_iface != NULL &&
		    strcmp(k->a_iface, iface) == 0)
			other = k->b;
		else if (k->b == node && iface != NULL && k->b_iface != NULL &&
			 strcmp(k->b_iface, iface) == 0)
			other = k->a;
		if (other < 0)
			continue;
		if (found >= 0 && found != other)
			return -1;
		found = other;
	}
	return found;
}

/* ---- the pair filter ---------------------------------------------------- */

static bool has_ip(const struct ld_node *d, const struct ip_addr *ip)
{
	for (size_t i = 0; i < d->n_ips; i++)
		if (ip_addr_equal(&d->ips[i], ip))
			return true;
	return false;
}

static bool same_end(const struct ip_endpoint *a, const struct ip_endpoint *b)
{
	return a->port == b->port && ip_addr_equal(&a->addr, &b->addr);
}

static bool has_ext(const struct ld_node *d, const struct endpoint *ep)
{
	for (size_t i = 0; i < d->n_ext; i++)
		if (d->ext[i].ip == ep->ip && d->ext[i].port == ep->port)
			return true;
	return false;
}

static void add_ip(struct ladder *L, struct ld_node *d, const struct ip_addr *ip)
{
	size_t cap = d->n_ips;
	if (has_ip(d, ip))
		return;
	/* capacity is the count rounded up to a power of two */
	if ((cap & (cap - 1)) == 0) {
		struct ip_addr *p = realloc(d->ips, (cap ? cap * 2 : 1) * sizeof(*p));
		if (p == NULL) {
			L->oom = true;
			return;
		}
		d->ips = p;
	}
	d->ips[d->n_ips++] = *ip;
}

static void add_ext(struct ladder *L, struct ld_node *d, const struct endpoint *ep)
{
	size_t cap = d->n_ext;
	if (has_ext(d, ep))
		return;
	if ((cap & (cap - 1)) == 0) {
		struct endpoint *p = realloc(d->ext, (cap ? cap * 2 : 1) * sizeof(*p));
		if (p == NULL) {
			L->oom = true;
			return;
		}
		d->ext = p;
	}
	d->ext[d->n_ext++] = *ep;
}

/* A host's addresses are those its sockets send from and receive on; the
 * endpoints that stand for it outside are the NAT mappings of those (and of
 * those, for a NAT behind a NAT). */
static void learn_addresses(struct ladder *L, struct ld_node *d)
{
	size_t n = trace_log_count(L->log);
	struct packet_ends e;
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		if (r->kind != TRACE_PACKET || strcmp(r->u.packet.node, d->name) != 0)
			continue;
		const struct trace_packet *p = &r->u.packet;
		if (p->hop != TRACE_HOP_SEND && p->hop != TRACE_HOP_DELIVER)
			continue;
		if (packet_ends_of(p->bytes, p->len, &e))
			add_ip(L, d, p->hop == TRACE_HOP_SEND ? &e.src.addr : &e.dst.addr);
	}
	for (size_t grew = 1; grew != 0;) {
		grew = 0;
		for (size_t i = 0; i < n; i++) {
			const struct trace_record *r = trace_log_get(L->log, i);
			if (r->kind != TRACE_MAPPING || r->u.map.event != TRACE_MAP_CREATED)
				continue;
			const struct trace_mapping *m = &r->u.map;
			if ((has_ip(d, &(struct ip_addr){.family = IP_FAMILY_V4,
							 .u.v4 = m->internal.ip}) ||
			     has_ext(d, &m->internal)) &&
			    !has_ext(d, &m->external)) {
				add_ext(L, d, &m->external);
				grew++;
			}
		}
	}
}

/* A host's own address, or (IPv4: NAT mappings are IPv4's alone) an
 * endpoint standing for it outside. */
static bool stands_for(const struct ld_node *d, const struct ip_addr *ip, uint16_t port)
{
	if (has_ip(d, ip))
		return true;
	return ip->family == IP_FAMILY_V4 && has_ext(d, &(struct endpoint){ip->u.v4, port});
}

/* One end of a verdict's flow (an ICMP error's quoted packet). */
static struct ip_addr flow_addr(const struct verdict_flow *v, bool src)
{
	return v->ip_version == 6 ? ip_addr_v6(src ? &v->src6 : &v->dst6)
				  : ip_addr_v4(src ? v->src : v->dst);
}

static void touches(const struct ld_node *a, const struct ld_node *b, const uint8_t *bytes,
		    size_t len, bool *ta, bool *tb)
{
	struct explain_packet_facts f;
	struct packet_ends e;
	if (!packet_ends_of(bytes, len, &e))
		return;
	*ta =
	    *ta || stands_for(a, &e.src.addr, e.src.port) || stands_for(a, &e.dst.addr, e.dst.port);
	*tb =
	    *tb || stands_for(b, &e.src.addr, e.src.port) || stands_for(b, &e.dst.addr, e.dst.port);
	if (!e.icmp || !packet_words_facts(bytes, len, NULL, &f) || !f.has_inner)
		return;
	/* An ICMP error belongs to the flow it quotes: a port unreachable
	 * that a router sends alice about her packet to bob is between them. */
	struct ip_addr is = flow_addr(&f.inner, true), id = flow_addr(&f.inner, false);
	*ta = *ta || stands_for(a, &is, f.inner.sport) || stands_for(a, &id, f.inner.dport);
	*tb = *tb || stands_for(b, &is, f.inner.sport) || stands_for(b, &id, f.inner.dport);
}

/* Whether the packet of record `i` ever went between the pair: one of its
 * hops names one host, and one names the other. */
static bool packet_between(const struct ladder *L, size_t i, const struct ld_node *a,
			   const struct ld_node *b)
{
	bool ta = false, tb = false;
	/* Walk back to the packet's first hop, then forward through all of them. */
	size_t first = i;
	while (L->prev[first] != SIZE_MAX)
		first = L->prev[first];
	for (size_t j = first; j != SIZE_MAX; j = L->next[j]) {
		const struct trace_packet *p = packet_at(L, j);
		touches(a, b, p->bytes, p->len, &ta, &tb);
		touches(a, b, p->before, p->before_len, &ta, &tb);
	}
	return ta && tb;
}

/* ---- rows --------------------------------------------------------------- */

enum row_kind { ROW_ARROW, ROW_REWRITE, ROW_DROP, ROW_NOTE };

struct row {
	enum row_kind kind;
	size_t rec;   /* the record that makes the row (TX for an arrow) */
	size_t end;   /* arrow: the RX or DROP that ends it, or SIZE_MAX (in flight) */
	int a, b;     /* nodes: arrow from a to b (b < 0: unknown); others at a */
	bool crossed; /* arrow: ends in a drop */
};

struct rows {
	struct row *v;
	size_t n, cap;
	size_t n_packets; /* rows other than notes */
};

static bool in_window(const struct ladder_options *o, int64_t t)
{
	return t >= o->from_ns && (o->to_ns < 0 || t <= o->to_ns);
}

/* The row for a TX hop: an arrow to wherever the packet went next. */
static bool arrow_row(const struct ladder *L, size_t i, struct row *w, bool *consumed)
{
	const struct trace_packet *p = packet_at(L, i), *q = packet_at(L, L->next[i]);
	w->kind = ROW_ARROW;
	w->end = L->next[i];
	w->a = node_find(L, p->node);
	if (q != NULL && q->hop == TRACE_HOP_RX) {
		w->b = node_find(L, q->node);
	} else if (q != NULL && q->hop == TRACE_HOP_DROP) {
		w->crossed = true;
		w->b = strcmp(q->node, p->node) != 0 ? node_find(L, q->node)
						     : far_end(L, w->a, p->iface);
		*consumed = true;
	} else {
		w->end = SIZE_MAX;
		w->b = far_end(L, w->a, p->iface);
		if (w->b < 0)
			return false;
	}
	if (w->b == w->a)
		w->b = -1;
	return true;
}

static bool push_row(struct ladder *L, struct rows *rows, const struct row *w)
{
	if (!grow((void **)&rows->v, &rows->cap, rows->n, sizeof(*rows->v))) {
		L->oom = true;
		return false;
	}
	rows->v[rows->n++] = *w;
	if (w->kind != ROW_NOTE)
		rows->n_packets++;
	return true;
}

static bool packet_row(const struct ladder *L, size_t i, struct row *w, bool *consumed)
{
	const struct trace_packet *p = packet_at(L, i);
	switch (p->hop) {
	case TRACE_HOP_TX:
		return arrow_row(L, i, w, &consumed[L->next[i] == SIZE_MAX ? i : L->next[i]]);
	case TRACE_HOP_TRANSLATE:
		w->kind = ROW_REWRITE;
		w->a = node_find(L, p->node);
		return true;
	case TRACE_HOP_DROP:
		if (consumed[i])
			return false;
		w->kind = ROW_DROP;
		w->a = node_find(L, p->node);
		return true;
	default: /* send, rx, deliver: the arrows say it */
		return false;
	}
}

static void pick_rows(struct ladder *L, struct rows *rows)
{
	const struct ladder_options *o = L->opt;
	size_t n = trace_log_count(L->log);
	bool *consumed = calloc(n + 1, sizeof(*consumed));
	int only = node_find(L, o->node);
	int pa = node_find(L, o->pair_a), pb = node_find(L, o->pair_b);
	bool pair = o->pair_a != NULL && o->pair_b != NULL;
	if (consumed == NULL) {
		L->oom = true;
		return;
	}
	if (pair && pa >= 0 && pb >= 0) {
		learn_addresses(L, &L->nodes[pa]);
		learn_addresses(L, &L->nodes[pb]);
	}
	for (size_t i = 0; i < n && !L->oom; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		struct row w = {.rec = i, .end = SIZE_MAX, .a = -1, .b = -1};
		if (!in_window(o, r->time))
			continue;
		if (r->kind == TRACE_SCENARIO && r->u.scenario.event == TRACE_SCN_NOTE) {
			w.kind = ROW_NOTE;
			push_row(L, rows, &w);
			continue;
		}
		if (r->kind != TRACE_PACKET)
			continue;
		bool taken = false;
		if (!packet_row(L, i, &w, consumed))
			continue;
		if (o->node != NULL && (only < 0 || !(w.a == only || w.b == only)))
			taken = true;
		if (!taken && pair &&
		    (pa < 0 || pb < 0 || !packet_between(L, i, &L->nodes[pa], &L->nodes[pb])))
			taken = true;
		if (taken) {
			/* a filtered arrow leaves its drop to be shown (or not) alone */
			if (w.kind == ROW_ARROW && w.crossed)
				consumed[w.end] = false;
			continue;
		}
		push_row(L, rows, &w);
	}
	free(consumed);
}

/* ---- row text ----------------------------------------------------------- */

/* "[SYN,ACK]": a TCP segment's flags as Wireshark's Info column brackets
 * them. */
static char *tcp_flags_label(uint8_t flags, char *out, size_t size)
{
	char words[36]; /* all eight flags: 31 bytes */

	explain_tcp_flags(flags, words, sizeof(words));
	for (char *c = words; *c != '\0'; c++)
		*c = *c == '+' ? ',' : *c;
	snprintf(out, size, "[%.*s]", (int)(size > 2 ? size - 3 : 0), words);
	return out;
}

static const struct ld_isn *isn_of(const struct ladder *L, const struct ip_endpoint *src,
				   const struct ip_endpoint *dst)
{
	for (size_t i = 0; i < L->n_isns; i++)
		if (same_end(&L->isns[i].src, src) && same_end(&L->isns[i].dst, dst))
			return &L->isns[i];
	return NULL;
}

/* Whether the bytes may hold TCP: the protocol byte of either family's
 * header, read before a full parse (most packets are UDP). */
static bool may_be_tcp(const uint8_t *bytes, size_t len)
{
	if (packet_ip_version(bytes, len) == 6)
		return len >= IPV6_HEADER_SIZE && bytes[6] == IPPROTO_NUM_TCP;
	return len >= IPV4_HEADER_MIN && bytes[9] == IPPROTO_NUM_TCP;
}

/* Every direction's ISN, from the SYNs of the log (a SYN sent again
 * carries the same one). */
static void learn_isns(struct ladder *L)
{
	for (size_t i = 0, n = trace_log_count(L->log); i < n && !L->oom; i++) {
		const struct trace_record *r = trace_log_get(L->log, i);
		struct packet_ends e;
		if (r->kind != TRACE_PACKET || !may_be_tcp(r->u.packet.bytes, r->u.packet.len) ||
		    !packet_ends_of(r->u.packet.bytes, r->u.packet.len, &e) ||
		    e.proto != IPPROTO_NUM_TCP || !(e.tcp_flags & TCP_SYN))
			continue;
		if (isn_of(L, &e.src, &e.dst) != NULL)
			continue;
		if (!grow((void **)&L->isns, &L->cap_isns, L->n_isns, sizeof(*L->isns))) {
			L->oom = true;
			return;
		}
		L->isns[L->n_isns++] = (struct ld_isn){e.src, e.dst, e.tcp_seq};
	}
}

/* "10.0.0.7:40000 → 203.0.113.5:80 [SYN,ACK] seq=0 ack=1 len=0": a TCP
 * segment, its numbers relative to each direction's SYN as Wireshark shows
 * them (absolute where no SYN was seen). */
static void tcp_summary(const struct ladder *L, const struct packet_ends *e, char *out, size_t size)
{
	const struct ld_isn *mine = isn_of(L, &e->src, &e->dst),
			    *theirs = isn_of(L, &e->dst, &e->src);
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], flags[48];

	snprintf(out, size, "%s \u2192 %s %s seq=%u", ip_endpoint_format(&e->src, a, sizeof(a)),
		 ip_endpoint_format(&e->dst, b, sizeof(b)),
		 tcp_flags_label(e->tcp_flags, flags, sizeof(flags)),
		 e->tcp_seq - (mine ? mine->isn : 0));
	if (e->tcp_flags & TCP_ACK)
		text_appendf(out, size, " ack=%u", e->tcp_ack - (theirs ? theirs->isn : 0));
	text_appendf(out, size, " len=%zu", e->payload_len);
}

/* "192.168.1.5:5000 → 192.0.2.10:3478 STUN Binding Request", "[2001:db8:1::5]:5000
 * → [2001:db8:2::1]:3478 STUN Binding Request": the packet as it was on a
 * link, shortened to what changes from hop to hop. */
static void summarise(const struct ladder *L, const uint8_t *bytes, size_t len, char *out,
		      size_t size)
{
	struct packet_ends e;
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], pay[256];
	if (!packet_ends_of(bytes, len, &e)) {
		packet_summary(bytes, len, L->opt->payload, false, out, size);
		return;
	}
	if (e.icmp) { /* what it is: "ping ...", "port unreachable ..." */
		packet_words(bytes, len, L->owners, out, size);
		return;
	}
	if (e.proto == IPPROTO_NUM_TCP) {
		tcp_summary(L, &e, out, size);
		return;
	}
	int n = L->opt->payload != NULL
		    ? L->opt->payload(e.payload, e.payload_len, pay, sizeof(pay))
		    : 0;
	if (n <= 0)
		snprintf(pay, sizeof(pay), "len=%zu", e.payload_len);
	snprintf(out, size, "%s \u2192 %s %s", ip_endpoint_format(&e.src, a, sizeof(a)),
		 ip_endpoint_format(&e.dst, b, sizeof(b)), pay);
}

/* "home rewrites source 192.168.1.5:5000 → 203.0.113.7:5000"; a
 * translator's rewrite between families (NAT64) names each side in its own:
 * "xlat rewrites source [2001:db8:1::5]:5000 → 203.0.113.7:2000,
 * destination [64:ff9b::c000:20a]:3478 → 192.0.2.10:3478". */
static void describe_rewrite(const struct trace_packet *p, char *out, size_t size)
{
	struct packet_ends x, y;
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE];
	text_appendf(out, size, "%s rewrites", p->node);
	if (packet_words_icmp_rewrite(p->before, p->before_len, p->bytes, p->len, ", ", out, size))
		return; /* ICMP: addresses, an echo's id, and inside an error */
	if (!packet_ends_of(p->before, p->before_len, &x) ||
	    !packet_ends_of(p->bytes, p->len, &y)) {
		text_appendf(out, size, " the packet");
		return;
	}
	bool src = !same_end(&x.src, &y.src), dst = !same_end(&x.dst, &y.dst);
	if (src)
		text_appendf(out, size, " source %s \u2192 %s",
			     ip_endpoint_format(&x.src, a, sizeof(a)),
			     ip_endpoint_format(&y.src, b, sizeof(b)));
	if (dst)
		text_appendf(out, size, "%s destination %s \u2192 %s", src ? "," : "",
			     ip_endpoint_format(&x.dst, a, sizeof(a)),
			     ip_endpoint_format(&y.dst, b, sizeof(b)));
	if (!src && !dst)
		text_appendf(out, size, " nothing");
}

static void drop_words(const struct trace_packet *p, char *out, size_t size)
{
	if (p->why != NULL)
		text_appendf(out, size, "%s", p->why);
	else
		text_appendf(out, size, "dropped at %s (%s)", p->node,
			     trace_drop_reason_name(p->reason));
}

/* An IPv6 packet's row wraps rather than being cut: its addresses run to
 * 39 characters (RFC 5952 section 4 writes 2001:db8:1234:5678:9abc:def0:1:2
 * in full), two of them fill the text column, and an address cut short
 * reads as another address. IPv4 rows are cut as they always were. */
static bool wraps_for_ipv6(const struct trace_packet *p)
{
	return packet_ip_version(p->bytes, p->len) == 6 ||
	       packet_ip_version(p->before, p->before_len) == 6;
}

/* The text of a row; returns whether it may wrap (drops, notes and IPv6
 * packets' rows do). */
static bool row_text(const struct ladder *L, const struct row *w, char *out, size_t size)
{
	const struct trace_record *r = trace_log_get(L->log, w->rec);
	const struct trace_packet *p = &r->u.packet, *q = packet_at(L, w->end);
	char sum[512];
	out[0] = '\0';
	switch (w->kind) {
	case ROW_NOTE:
		text_appendf(out, size, "%s", r->u.scenario.text != NULL ? r->u.scenario.text : "");
		return true;
	case ROW_REWRITE:
		text_appendf(out, size, "#%" PRIu64 " ", p->packet_id);
		describe_rewrite(p, out, size);
		return wraps_for_ipv6(p);
	case ROW_DROP:
		text_appendf(out, size, "#%" PRIu64 " %s ", p->packet_id, L->g->cross);
		drop_words(p, out, size);
		return true;
	case ROW_ARROW:
		summarise(L, p->bytes, p->len, sum, sizeof(sum));
		text_appendf(out, size, "#%" PRIu64 " %s", p->packet_id, sum);
		if (w->crossed && q != NULL) {
			text_appendf(out, size, " %s ", L->g->cross);
			drop_words(q, out, size);
			return true;
		}
		if (w->end == SIZE_MAX)
			text_appendf(out, size, " (still in flight when the run ended)");
		return wraps_for_ipv6(p);
	}
	return false;
}

static void ladder_fini(struct ladder *L)
{
	for (size_t i = 0; i < L->n_nodes; i++) {
		free(L->nodes[i].ips);
		free(L->nodes[i].ext);
	}
	free(L->nodes);
	free(L->links);
	free(L->adj);
	free(L->next);
	free(L->prev);
	free(L->isns);
	packet_owners_free(L->owners);
}

/* ---- the view ----------------------------------------------------------- */

static void row_free_texts(struct ladder_view *v)
{
	for (size_t i = 0; i < v->n_rows; i++)
		free(v->rows[i].text);
}

void ladder_view_free(struct ladder_view *v)
{
	if (v == NULL)
		return;
	row_free_texts(v);
	free(v->rows);
	free(v->lanes);
	free(v);
}

/* Lanes for the nodes the rows touch, in their left-to-right rank. */
static bool view_lanes(struct ladder *L, const struct rows *rows, struct ladder_view *v)
{
	bool *used = calloc(L->n_nodes + 1, sizeof(*used));
	int *by_rank = calloc(L->n_nodes + 1, sizeof(*by_rank));
	v->lanes = calloc(L->n_nodes + 1, sizeof(*v->lanes));
	if (used == NULL || by_rank == NULL || v->lanes == NULL) {
		free(used);
		free(by_rank);
		return false;
	}
	for (size_t i = 0; i < rows->n; i++) {
		if (rows->v[i].a >= 0)
			used[rows->v[i].a] = true;
		if (rows->v[i].b >= 0)
			used[rows->v[i].b] = true;
	}
	/* Ranks are a permutation of 0..n-1: walk them in order. */
	for (size_t i = 0; i < L->n_nodes; i++)
		by_rank[L->nodes[i].order] = (int)i;
	for (size_t k = 0; k < L->n_nodes; k++) {
		struct ld_node *d = &L->nodes[by_rank[k]];
		if (!used[by_rank[k]])
			continue;
		d->lane = (int)v->n_lanes;
		v->lanes[v->n_lanes++] = d->name;
	}
	free(by_rank);
	free(used);
	return true;
}

static int lane_of(const struct ladder *L, int node)
{
	return node >= 0 ? L->nodes[node].lane : -1;
}

/* An ICMP arrow's message name, from explain/'s words; a TCP arrow's
 * flags. */
static void icmp_label(const struct trace_packet *p, struct ladder_row *o)
{
	struct explain_packet_facts f;
	struct packet_ends e;
	if (!packet_ends_of(p->bytes, p->len, &e))
		return;
	if (e.proto == IPPROTO_NUM_TCP) {
		tcp_flags_label(e.tcp_flags, o->tcp, sizeof(o->tcp));
		return;
	}
	if (!e.icmp || !packet_words_facts(p->bytes, p->len, NULL, &f))
		return;
	if (e.version == 6)
		explain_icmp6_name(f.flow.icmp_type, f.flow.icmp_code, o->icmp, sizeof(o->icmp));
	else
		explain_icmp_name(f.flow.icmp_type, f.flow.icmp_code, o->icmp, sizeof(o->icmp));
	o->icmp_error = f.has_inner;
}

static bool view_rows(struct ladder *L, const struct rows *rows, struct ladder_view *v)
{
	char text[LD_TEXT_MAX];
	v->rows = calloc(rows->n + 1, sizeof(*v->rows));
	if (v->rows == NULL)
		return false;
	for (size_t i = 0; i < rows->n; i++) {
		const struct row *w = &rows->v[i];
		const struct trace_record *r = trace_log_get(L->log, w->rec);
		struct ladder_row *o = &v->rows[v->n_rows];
		o->wraps = row_text(L, w, text, sizeof(text));
		o->text = strdup(text);
		if (o->text == NULL)
			return false;
		v->n_rows++;
		o->kind = (enum ladder_row_kind)w->kind;
		o->time = r->time;
		o->packet_id = r->kind == TRACE_PACKET ? r->u.packet.packet_id : 0;
		o->from = lane_of(L, w->a);
		o->to = lane_of(L, w->b);
		o->crossed = w->crossed;
		if (w->kind == ROW_ARROW)
			icmp_label(&r->u.packet, o);
	}
	v->n_packet_rows = rows->n_packets;
	return true;
}

struct ladder_view *ladder_view_build(const struct trace_log *log, const struct ladder_options *opt)
{
	struct ladder_options defaults;
	if (opt == NULL) {
		ladder_options_default(&defaults);
		opt = &defaults;
	}
	struct ladder L = {.log = log, .opt = opt, .g = &utf8_glyphs};
	struct rows rows = {0};
	struct ladder_view *v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	read_topology(&L);
	L.oom = L.oom || (L.owners = packet_owners_of_log(log)) == NULL;
	if (!L.oom)
		learn_isns(&L);
	if (!L.oom)
		order_nodes(&L);
	if (!L.oom)
		link_hops(&L);
	if (!L.oom)
		pick_rows(&L, &rows);
	if (L.oom || !view_lanes(&L, &rows, v) || !view_rows(&L, &rows, v)) {
		ladder_view_free(v);
		v = NULL;
	}
	free(rows.v);
	ladder_fini(&L);
	return v;
}

/* ---- drawing ------------------------------------------------------------ */

struct layout {
	const struct ladder_view *v;
	const struct glyphs *g;
	bool ascii;
	size_t lane_w, area, text_w;
	const char **cells; /* one glyph per column of the lane area */
};

static size_t max_name_width(const struct ladder_view *v)
{
	size_t name_w = 0;
	for (size_t k = 0; k < v->n_lanes; k++) {
		size_t w = text_width(v->lanes[k], strlen(v->lanes[k]));
		name_w = w > name_w ? w : name_w;
	}
	return name_w;
}

/* Lanes as wide as the longest name (within bounds), narrowed until the
 * text keeps LD_MIN_TEXT columns. */
static bool make_layout(const struct ladder_view *v, const struct ladder_options *o,
			struct layout *y)
{
	size_t width = o->width > 0 ? (size_t)o->width : LD_DEFAULT_WIDTH;
	size_t name_w = max_name_width(v);
	y->v = v;
	y->ascii = o->ascii;
	y->g = o->ascii ? &ascii_glyphs : &utf8_glyphs;
	y->lane_w = name_w + 1 < LD_MIN_LANE ? LD_MIN_LANE : name_w + 1;
	y->lane_w = y->lane_w > LD_MAX_LANE ? LD_MAX_LANE : y->lane_w;
	while (y->lane_w > LD_MIN_LANE &&
	       LD_TIME_COLS + v->n_lanes * y->lane_w + 1 + LD_MIN_TEXT > width)
		y->lane_w--;
	y->area = v->n_lanes * y->lane_w;
	size_t used_cols = LD_TIME_COLS + y->area + 1;
	y->text_w = width > used_cols + 10 ? width - used_cols : 10;
	y->cells = calloc(y->area + 1, sizeof(*y->cells));
	return y->cells != NULL;
}

static size_t lane_col(const struct layout *y, int lane)
{
	return (size_t)lane * y->lane_w + y->lane_w / 2;
}

static void clear_cells(const struct layout *y)
{
	for (size_t c = 0; c < y->area; c++)
		y->cells[c] = " ";
	for (size_t k = 0; k < y->v->n_lanes; k++)
		y->cells[lane_col(y, (int)k)] = y->g->bar;
}

static void draw_arrow(const struct layout *y, const struct ladder_row *w)
{
	const struct glyphs *g = y->g;
	size_t from = lane_col(y, w->from), to = lane_col(y, w->to);
	size_t lo = from < to ? from : to, hi = from < to ? to : from;
	for (size_t c = lo + 1; c < hi; c++)
		y->cells[c] = g->line;
	y->cells[from] = from < to ? g->tail_r : g->tail_l;
	if (w->crossed)
		y->cells[to] = g->cross;
	else if (hi - lo > 1)
		y->cells[from < to ? to - 1 : to + 1] = from < to ? g->head_r : g->head_l;
}

static void print_time(FILE *out, int64_t t)
{
	char when[32];
	t = t < 0 ? 0 : t;
	snprintf(when, sizeof(when), "%" PRId64 ".%03ds", t / SIM_S(1),
		 (int)(t % SIM_S(1) / SIM_MS(1)));
	fprintf(out, "%8s ", when);
}

static void print_cells(FILE *out, const struct layout *y)
{
	for (size_t c = 0; c < y->area; c++)
		fputs(y->cells[c], out);
	fputc(' ', out);
}

/* Lane names centred on their lanes; when they do not fit side by side, they
 * are staggered over two or three lines (lane k on line k mod lines), and
 * cut with "…" if even that is not enough. */
static void print_header(FILE *out, const struct layout *y)
{
	const struct ladder_view *v = y->v;
	size_t name_w = max_name_width(v), lines = 1;
	while (lines < 3 && name_w + 1 > lines * y->lane_w)
		lines++;
	size_t room = lines * y->lane_w - 1;
	char *line = malloc(y->area * 4 + 64);
	if (line == NULL)
		return;
	for (size_t pass = 0; pass < lines; pass++) {
		size_t col = 0, len = 0;
		for (size_t k = pass; k < v->n_lanes; k += lines) {
			const char *s = v->lanes[k];
			size_t w = text_width(s, strlen(s));
			bool cut = w > room;
			w = cut ? room : w;
			size_t mid = lane_col(y, (int)k);
			size_t start = mid >= w / 2 ? mid - w / 2 : 0;
			start = start < col ? col : start;
			for (; col < start; col++)
				line[len++] = ' ';
			size_t nb = text_bytes_for_cols(s, cut ? w - 1 : w);
			memcpy(line + len, s, nb);
			len += nb;
			if (cut) { /* one column: "…", or "~" in ASCII */
				const char *mark = y->ascii ? "~" : "\u2026";
				memcpy(line + len, mark, strlen(mark));
				len += strlen(mark);
			}
			col += w;
		}
		line[len] = '\0';
		fprintf(out, "%*s%s\n", LD_TIME_COLS, "", line);
	}
	free(line);
}

/* Text after the lanes: cut with "…" when too long, or (drops and notes)
 * wrapped under the text column with the lanes drawn on. */
static void print_text(FILE *out, const struct layout *y, const char *s, bool wrap, bool rule)
{
	size_t w = text_width(s, strlen(s));
	if (w <= y->text_w) {
		fprintf(out, "%s\n", s);
		return;
	}
	if (!wrap) {
		size_t ew = text_width(y->g->ellipsis, strlen(y->g->ellipsis));
		size_t nb = text_bytes_for_cols(s, y->text_w - ew);
		fprintf(out, "%.*s%s\n", (int)nb, s, y->g->ellipsis);
		return;
	}
	for (const char *p = s; *p != '\0';) {
		const char *end = text_fit_words(p, y->text_w, true);
		fprintf(out, "%.*s\n", (int)(end - p), p);
		for (p = end; *p == ' '; p++)
			;
		if (*p == '\0')
			break;
		fprintf(out, "%*s", LD_TIME_COLS, "");
		if (rule) {
			fprintf(out, "%*s", (int)(y->area + 1), "");
		} else {
			clear_cells(y);
			print_cells(out, y);
		}
	}
}

static void print_row(FILE *out, const struct layout *y, const struct ladder_row *w)
{
	char ascii[LD_TEXT_MAX * 2];
	const char *s = w->text;
	if (y->ascii) {
		text_to_ascii(w->text, ascii, sizeof(ascii));
		s = ascii;
	}
	print_time(out, w->time);
	clear_cells(y);
	if (w->kind == LADDER_NOTE) {
		/* A rule across the lanes, the note after it. */
		for (size_t c = 0; c < y->area; c++)
			y->cells[c] = y->g->line;
		print_cells(out, y);
		print_text(out, y, s, w->wraps, true);
		return;
	}
	if (w->kind == LADDER_ARROW && w->from >= 0 && w->to >= 0)
		draw_arrow(y, w);
	else if (w->from >= 0)
		y->cells[lane_col(y, w->from)] =
		    w->kind == LADDER_REWRITE ? y->g->rewrite : y->g->cross;
	print_cells(out, y);
	print_text(out, y, s, w->wraps, false);
}

/* ---- entry points ------------------------------------------------------- */

void ladder_options_default(struct ladder_options *o)
{
	memset(o, 0, sizeof(*o));
	o->to_ns = -1;
}

static void say_nothing(FILE *out, const struct ladder_options *o)
{
	fprintf(out, "(no packets");
	if (o->pair_a != NULL && o->pair_b != NULL)
		fprintf(out, " between %s and %s", o->pair_a, o->pair_b);
	if (o->node != NULL)
		fprintf(out, " at %s", o->node);
	if (o->from_ns > 0 || o->to_ns >= 0)
		fprintf(out, " in this time window");
	fprintf(out, ")\n");
}

int ladder_render(FILE *out, const struct trace_log *log, const struct ladder_options *opt)
{
	struct ladder_options defaults;
	struct layout y = {0};
	if (opt == NULL) {
		ladder_options_default(&defaults);
		opt = &defaults;
	}
	struct ladder_view *v = ladder_view_build(log, opt);
	if (v == NULL)
		return -1;
	int rc = -1;
	if (v->n_packet_rows == 0) {
		say_nothing(out, opt);
	} else if (make_layout(v, opt, &y)) {
		print_header(out, &y);
		for (size_t i = 0; i < v->n_rows; i++)
			print_row(out, &y, &v->rows[i]);
	} else {
		goto out;
	}
	rc = ferror(out) ? -1 : 0;
out:
	free(y.cells);
	ladder_view_free(v);
	return rc;
}

bool ladder_node_known(const struct trace_log *log, const char *name)
{
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n && name != NULL; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_NODE && r->u.node.name != NULL &&
		    strcmp(r->u.node.name, name) == 0)
			return true;
	}
	return false;
}
