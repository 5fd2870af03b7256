/*
 * prefetch.c - the models' prefetch pipeline (model/prefetch.h). Speed
 * machinery only: nothing here decides anything, and nothing the models
 * decide depends on it.
 *
 * The engine calls packet_arrival_prefetch() for a packet whose arrival
 * (packet_arrive in model/link.c) is three, then two, then one events ahead
 * (engine_set_prefetcher), a round apart. A round earlier still, the engine
 * fetched the packet's first lines. Each stage reads only what the stage
 * before fetched, so none of them waits for memory:
 *
 *   3 ahead  the packet is in: fetch the receiving interface, the node's
 *            head and the node's own fields (a router's or a host's, just
 *            after its struct node);
 *   2 ahead  the node is in: fetch the tables its receive reads first - the
 *            head of every link it may send on (a host: its one link), of its
 *            conntrack table and NAT (where a small table's buckets live),
 *            its first route or its socket array.
 *   1 ahead  nothing. Fetching the very entries the packet would look up
 *            (its conntrack entry, NAT mapping, link slots, the receiving
 *            agent) re-ran half of the receive path to find them and earned
 *            nothing measurable at 20 000 peers (bench/README.md,
 *            "Prefetching"), so it is gone.
 *
 * Every span is named by the fields it covers (PREFETCH_FIELDS, offsetof),
 * and every layout it relies on is pinned below: if a struct changes so that
 * a span no longer covers what it says or grows past its budget of lines,
 * the build fails here rather than the hint silently fetching the wrong line
 * (which no test can see: a wrong hint changes no result).
 */
#include "model/prefetch.h"

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

/* Stage 3: a node's own fields are those after its struct node head, which
 * both kinds embed first (router_from_node() and host_from_node() cast). */
#define OWN_BYTES(type) (sizeof(type) - sizeof(struct node))
#define NODE_OWN_BYTES                                                                             \
	(OWN_BYTES(struct router) > OWN_BYTES(struct host) ? OWN_BYTES(struct router)              \
							   : OWN_BYTES(struct host))
_Static_assert(offsetof(struct router, node) == 0, "a router starts with its node");
_Static_assert(offsetof(struct host, node) == 0, "a host starts with its node");
_Static_assert(NODE_OWN_BYTES <= LINES(1), "a node's own fields: a line's worth");
_Static_assert(SPAN(struct node, net, n_ifaces) <= LINES(1), "a node's head: one line");

/* Stage 2: what a send on a link reads (link_transmit, launch), from the
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

/* Built with NATSIM_PREFETCH=OFF, only the layout checks above remain. */
#if PREFETCH_ENABLED

static void link_head(const struct link *l)
{
	PREFETCH_FIELDS(l, struct link, net, link_cut_at);
}

/* 3 ahead: the packet's first lines came a round ago. hop_node is the
 * receiving interface's node, named in the packet so that this stage need
 * not wait for the interface to find it. */
static void receiving_node(const struct packet *p)
{
	const struct node *n = p->hop_node;

	prefetch_line(p->hop_to);
	PREFETCH_FIELDS(n, struct node, net, n_ifaces);
	prefetch_span(n, sizeof(struct node), NODE_OWN_BYTES);
}

/* 2 ahead, a router: every way out, and where its tables start. */
static void router_tables(const struct router *r)
{
	for (size_t i = 0; i < r->node.n_ifaces; i++)
		if (r->node.ifaces[i].link != NULL)
			link_head(r->node.ifaces[i].link);
	PREFETCH_FIELDS(r->ct, struct conntrack, buckets, inline_buckets);
	PREFETCH_FIELDS(r->nat, struct nat, by_key, inline_ext);
	prefetch_line(r->routes);
}

/* 2 ahead, a host: its link (an answer goes out on it), where its
 * conntrack table starts, and its sockets. */
static void host_tables(const struct host *h)
{
	if (h->node.ifaces[0].link != NULL)
		link_head(h->node.ifaces[0].link);
	PREFETCH_FIELDS(h->ct, struct conntrack, buckets, inline_buckets);
	prefetch_line(h->socks);
}

/* packet_arrive's prefetcher: `arg` is a packet in flight. */
static void packet_arrival_prefetch(const void *arg, int ahead)
{
	const struct packet *p = arg;
	const struct node *n = p->hop_node;

	if (ahead >= 3)
		receiving_node(p);
	else if (ahead == 2 && n->kind == NODE_ROUTER)
		router_tables((const struct router *)n);
	else if (ahead == 2 && n->kind == NODE_HOST)
		host_tables((const struct host *)n);
}

void prefetch_packet_arrivals(struct engine *e, engine_fn packet_arrive)
{
	engine_set_prefetcher(e, packet_arrive, packet_arrival_prefetch);
}
#endif
