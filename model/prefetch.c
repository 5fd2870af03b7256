/*
 * prefetch.c - the models' prefetch pipeline (model/prefetch.h). Speed
 * machinery only: nothing here decides anything, and nothing the models
 * decide depends on it.
 *
 * The engine calls packet_arrival_prefetch() for a packet whose arrival
 * (packet_arrive in model/link.c) is four, three, two, then one events ahead
 * (engine_set_prefetcher), a round apart. A round earlier still, the engine
 * fetched the packet's first lines. Each stage reads only what the stage
 * before fetched, so none of them waits for memory:
 *
 *   4 ahead  the packet is in: fetch the receiving interface, the node's
 *            head and the node's own fields (a router's or a host's, just
 *            after its struct node);
 *   3 ahead  the node is in: fetch the tables its receive reads first - the
 *            head of every link it may send on (a host: its one link), of its
 *            conntrack table and NAT (where a small table's buckets live),
 *            its first route or its socket array;
 *   2 ahead  the tables' heads are in: fetch the buckets the packet's
 *            lookups will read (its conntrack tuple's; at a NAT, the
 *            mapping indexes' for its direction) and a host's sockets;
 *   1 ahead  the buckets are in: fetch the first entry each one leads to
 *            (a conntrack hash node with its entry's tuples, a mapping).
 *
 * Stages 2 and 1 find the buckets with the tables' own hashes
 * (conntrack_layout.h, nat_layout.h) from the packet's addresses and ports,
 * read from its bytes without the parser (a hint needs no checking). They
 * replace the one-ahead stage 56aa3d1 had, which read the buckets and the
 * entries in the same round and so waited for them (bench/README.md,
 * "Issue 13: the hints the compiler dropped, and the lookups a round
 * apart"). The link's slots, which that stage also fetched, did not earn
 * their hints there.
 *
 * Every span is named by the fields it covers (PREFETCH_FIELDS, offsetof),
 * and every layout it relies on is pinned below: if a struct changes so that
 * a span no longer covers what it says or grows past its budget of lines,
 * the build fails here rather than the hint silently fetching the wrong line
 * (which no test can see: a wrong hint changes no result).
 */
#include "model/prefetch.h"

#include "base/bytes.h"
#include "model/conntrack_layout.h"
#include "model/host_layout.h"
#include "model/link_layout.h"
#include "model/nat_layout.h"
#include "model/net.h"
#include "model/packet.h"
#include "model/router_layout.h"

/* Lines a span may cost: the budgets the stages were measured with. */
#define LINES(n) ((n)*PREFETCH_LINE)
#define SPAN PREFETCH_SPAN_OF

/* Stage 4: a node's own fields are those after its struct node head, which
 * both kinds embed first (router_from_node() and host_from_node() cast). */
#define OWN_BYTES(type) (sizeof(type) - sizeof(struct node))
#define NODE_OWN_BYTES                                                                             \
	(OWN_BYTES(struct router) > OWN_BYTES(struct host) ? OWN_BYTES(struct router)              \
							   : OWN_BYTES(struct host))
_Static_assert(offsetof(struct router, node) == 0, "a router starts with its node");
_Static_assert(offsetof(struct host, node) == 0, "a host starts with its node");
_Static_assert(NODE_OWN_BYTES <= LINES(1), "a node's own fields: a line's worth");
_Static_assert(SPAN(struct node, net, n_ifaces) <= LINES(1), "a node's head: one line");

/* Stage 3: what a send on a link reads (link_transmit, launch), from the
 * world to the cut count: the configuration, the state, the attachment
 * and address tables' pointers; not the lanes, made only with jitter. */
_Static_assert(SPAN(struct link, net, link_cut_at) <= LINES(3), "a link's head: three lines");
_Static_assert(offsetof(struct link, lanes) > offsetof(struct link, link_cut_at),
	       "the lanes come after what every send reads");
/* A lookup's first reads: a table's bucket pointer and size, and a small
 * table's buckets themselves, which live in the struct. */
_Static_assert(offsetof(struct conntrack, buckets) == 0 &&
		   offsetof(struct conntrack, inline_buckets) >
		       offsetof(struct conntrack, n_buckets),
	       "conntrack: what a lookup reads comes first, together");
_Static_assert(SPAN(struct conntrack, buckets, inline_buckets) <= LINES(3),
	       "conntrack's lookup fields: three lines");
_Static_assert(offsetof(struct nat, by_key) == 0 &&
		   offsetof(struct nat, inline_ext) > offsetof(struct nat, inline_key),
	       "nat: what a lookup reads comes first, together");
_Static_assert(SPAN(struct nat, by_key, inline_ext) <= LINES(3),
	       "nat's lookup fields: three lines");

/* Stage 1: a bucket leads to a hash node, hn[0] or hn[1] of its ct_node;
 * the lookup compares the entry's tuple the node points to. From either
 * hash node to the end of the reply tuple: two lines at most. */
#define CT_LOOKUP_BYTES (offsetof(struct ct_node, e.reply) + sizeof(struct conntrack_tuple))
_Static_assert(offsetof(struct ct_node, hn) == 0 && CT_LOOKUP_BYTES <= LINES(2),
	       "conntrack: the hash nodes and the tuples open the node, in two lines");
/* A mapping node starts with its mapping (nat.c, "a mapping pointer is a
 * node pointer"); the lookups compare what struct nat_mapping holds from
 * its protocol to is_static. */
_Static_assert(PREFETCH_SPAN_OF(struct nat_mapping, id, is_static) <= LINES(1),
	       "nat: what a lookup compares fits a line");

/* Built with NATSIM_PREFETCH=OFF, only the layout checks above remain. */
#if PREFETCH_ENABLED

static void link_head(const struct link *l)
{
	PREFETCH_FIELDS(l, struct link, net, link_cut_at);
}

/* 4 ahead: the packet's first lines came a round ago. hop_node is the
 * receiving interface's node, named in the packet so that this stage need
 * not wait for the interface to find it. */
static void receiving_node(const struct packet *p)
{
	const struct node *n = p->hop_node;

	prefetch_line(p->hop_to);
	PREFETCH_FIELDS(n, struct node, net, n_ifaces);
	prefetch_span(n, sizeof(struct node), NODE_OWN_BYTES);
}

/* 3 ahead, a router: every way out, and where its tables start. */
static void router_tables(const struct router *r)
{
	for (size_t i = 0; i < r->node.n_ifaces; i++)
		if (r->node.ifaces[i].link != NULL)
			link_head(r->node.ifaces[i].link);
	PREFETCH_FIELDS(r->ct, struct conntrack, buckets, inline_buckets);
	PREFETCH_FIELDS(r->nat, struct nat, by_key, inline_ext);
	prefetch_line(r->routes);
}

/* 3 ahead, a host: its link (an answer goes out on it), where its
 * conntrack table starts, and its sockets. */
static void host_tables(const struct host *h)
{
	if (h->node.ifaces[0].link != NULL)
		link_head(h->node.ifaces[0].link);
	PREFETCH_FIELDS(h->ct, struct conntrack, buckets, inline_buckets);
	prefetch_line(h->socks);
}

/* The packet's tuple as conntrack_tuple_of() makes it, read straight from
 * its bytes: UDP and TCP only (the rest is rare at scale); false for
 * anything else or too short. Unchecked: a hint for a broken packet is
 * merely useless. */
static bool flow_of(const struct packet *p, struct conntrack_tuple *t)
{
	size_t ihl = (size_t)(p->data[0] & 0x0f) * 4;

	if (p->len < IPV4_HEADER_MIN || ihl < IPV4_HEADER_MIN || p->len < ihl + 4)
		return false;
	t->proto = p->data[9];
	if (t->proto != IPPROTO_NUM_UDP && t->proto != IPPROTO_NUM_TCP)
		return false;
	t->src = get32(p->data + 12);
	t->dst = get32(p->data + 16);
	t->sport = get16(p->data + ihl);
	t->dport = get16(p->data + ihl + 2);
	return true;
}

/* The buckets a packet's lookups at a node read, stages 2 and 1 alike. */
#define MAX_BUCKETS 4
struct buckets {
	struct ct_hnode *const *ct; /* NULL: no table */
	struct nat_node *const *nat[MAX_BUCKETS - 1];
	size_t n_nat;
};

/* A NAT's buckets for tuple t arriving at router r: on the outside the
 * external index (nat_translate_inbound); inside, the internal one for
 * each key a mapping of t's source may have (nat_find_for_source: a port
 * forward's and an endpoint-independent mapping's empty remote, the
 * remote's address, its address and port), whichever the NAT's behaviour
 * uses. */
static void nat_buckets(const struct router *r, const struct packet *p,
			const struct conntrack_tuple *t, struct buckets *out)
{
	const struct nat *nat = r->nat;
	struct endpoint src = {t->src, t->sport}, dst = {t->dst, t->dport};
	const struct endpoint keys[] = {{0, 0}, {t->dst, 0}, dst};

	if (p->hop_to == r->outside) {
		out->nat[out->n_nat++] = &nat->by_ext[nat_ext_hash(nat, t->proto, &dst)];
		return;
	}
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		out->nat[out->n_nat++] = &nat->by_key[nat_key_hash(nat, t->proto, &src, &keys[k])];
}

static bool buckets_of(const struct packet *p, struct buckets *out)
{
	const struct node *n = p->hop_node;
	const struct conntrack *ct = NULL;
	struct conntrack_tuple t;

	out->ct = NULL;
	out->n_nat = 0;
	if (!flow_of(p, &t))
		return false;
	if (n->kind == NODE_ROUTER) {
		const struct router *r = (const struct router *)n;

		ct = r->ct;
		if (r->nat != NULL)
			nat_buckets(r, p, &t, out);
	} else if (n->kind == NODE_HOST) {
		ct = ((const struct host *)n)->ct;
	}
	if (ct != NULL)
		out->ct = &ct->buckets[ct_hash(ct, &t)];
	return true;
}

/* 2 ahead: the buckets, and a host's sockets (find_socket reads each one's
 * address and port, in its first line). */
static void lookup_buckets(const struct packet *p)
{
	const struct node *n = p->hop_node;
	struct buckets b;

	if (n->kind == NODE_HOST) {
		const struct host *h = (const struct host *)n;

		for (uint32_t i = 0; i < h->n_socks && i < MAX_BUCKETS; i++)
			prefetch_line(h->socks[i]);
	}
	if (!buckets_of(p, &b))
		return;
	prefetch_line(b.ct);
	for (size_t i = 0; i < b.n_nat; i++)
		prefetch_line(b.nat[i]);
}

/* 1 ahead: what each bucket leads to. */
static void lookup_entries(const struct packet *p)
{
	struct buckets b;

	if (!buckets_of(p, &b))
		return;
	if (b.ct != NULL)
		prefetch_span(*b.ct, 0, CT_LOOKUP_BYTES);
	for (size_t i = 0; i < b.n_nat; i++)
		PREFETCH_FIELDS((const struct nat_mapping *)*b.nat[i], struct nat_mapping, id,
				is_static);
}

/* packet_arrive's prefetcher: `arg` is a packet in flight. */
static void packet_arrival_prefetch(const void *arg, int ahead)
{
	const struct packet *p = arg;
	const struct node *n = p->hop_node;

	if (ahead >= 4)
		receiving_node(p);
	else if (ahead == 3 && n->kind == NODE_ROUTER)
		router_tables((const struct router *)n);
	else if (ahead == 3 && n->kind == NODE_HOST)
		host_tables((const struct host *)n);
	else if (ahead == 2)
		lookup_buckets(p);
	else
		lookup_entries(p);
}

void prefetch_packet_arrivals(struct engine *e, engine_fn packet_arrive)
{
	engine_set_prefetcher(e, packet_arrive, packet_arrival_prefetch);
}
#endif
