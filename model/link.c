/*
 * link.c - a segment between interfaces: latency, jitter, loss, an optional
 * rate with a bounded per-sender queue, and cuts.
 *
 * A packet in flight is its own engine event: the packet is the event's
 * argument and carries its receiving interface (packet->hop_*), so an arrival
 * touches only the packet and the link. While a link's timing stays fixed
 * and has no jitter, a (sender, receiver) pair's arrival times never
 * decrease, and the engine runs equal times in scheduling order, so packets
 * never overtake each other. Once it has jitter, or its timing changed after
 * traffic began, the link is "ordered": each pair's lane remembers its last
 * arrival, and arrival = max(now + latency + jitter, the lane's last
 * arrival). A lane made after that change starts from the latest arrival
 * then in flight on the link, so a packet is never delivered before one its
 * pair sent earlier (it may wait for another pair's, only in that window).
 *
 * A cut does not touch the engine: the world counts cuts (of any link or
 * any attachment's access, net_cut_count), a link notes the count at each of
 * its own, and a packet the count when it left. One that left before a cut
 * of its link or of either end's access is dropped with LINK_DOWN when it
 * reaches the far end, which is when the student would notice it missing.
 * While nothing was cut anywhere since it left, an arrival does not even
 * look at its link.
 *
 * The link emits the TX record at the sender and the RX record at the
 * receiver, then hands the packet to the receiver's ops->receive.
 *
 * A link has any number of attachments (an ISP's access segment may hold
 * thousands of customer routers), so nothing on the packet path scans them:
 * an interface knows its own attachment index, a small open-addressing table
 * of {address, attachment} maps an address to the attachment holding it, and
 * lanes (jitter only) are made on first use and found through another such
 * table. A point-to-point link thus costs a few hundred bytes.
 */
#include "model/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "model/link_layout.h"
#include "model/prefetch.h"

#define LINK_MIN_SLOTS 8 /* per open-addressing table, a power of two */
#define NO_SLOT UINT32_MAX

struct link;

/* An attachment: its interface and, beside it, that interface's node, so a
 * packet launched towards it can name the node to prefetch without
 * touching the interface. */
struct attachment {
	struct iface *ifc;
	struct node *node;
};

/* A (sender, receiver) pair on a jittery link. */
struct lane {
	uint32_t from, to; /* attachment indices */
	int64_t last_arrival;
};

/* An address table slot: NO_SLOT in `att` marks a free one. */
struct addr_slot {
	uint32_t addr;
	uint32_t att;
};

/* One attachment's own access to the segment (a host's Wi-Fi on a LAN): it
 * adds to the link's behaviour for every packet to or from it. */
struct access {
	int64_t latency, jitter;
	double loss;
	bool down;
	uint32_t cut_at; /* net_cut_count at this access's last cut, 0: never */
};

/* The transmitter of one attachment when the link has a rate: the times at
 * which each packet accepted into it finishes serializing (a growable ring). */
struct sender {
	int64_t *finish;
	size_t cap, head, count;
};

static void keep_order_if(struct link *l, bool needed);
static void packet_arrive(struct engine *e, void *arg);

/* The lane from -> to, or NULL if no packet ever took it. */
static struct lane *lane_find(const struct link *l, uint32_t from, uint32_t to)
{
	size_t mask = l->lane_slots - 1;

	for (size_t i = hash_mix64(((uint64_t)from << 32) | to) & mask;; i = (i + 1) & mask) {
		struct lane *lane = l->lanes[i];

		if (lane == NULL || (lane->from == from && lane->to == to))
			return lane;
	}
}

static void lane_insert(struct lane **slots, size_t n_slots, struct lane *lane)
{
	size_t mask = n_slots - 1;
	size_t i = hash_mix64(((uint64_t)lane->from << 32) | lane->to) & mask;

	while (slots[i] != NULL)
		i = (i + 1) & mask;
	slots[i] = lane;
}

/* The lane from -> to, made if needed. NULL if out of memory. */
static struct lane *lane_get(struct link *l, uint32_t from, uint32_t to)
{
	struct lane *lane = lane_find(l, from, to);

	if (lane != NULL)
		return lane;
	if ((l->n_lanes + 1) * 2 > l->lane_slots) {
		size_t n = l->lane_slots * 2;
		struct lane **slots = calloc(n, sizeof(*slots));

		if (slots == NULL)
			return NULL;
		for (size_t i = 0; i < l->lane_slots; i++)
			if (l->lanes[i] != NULL)
				lane_insert(slots, n, l->lanes[i]);
		free(l->lanes);
		l->lanes = slots;
		l->lane_slots = n;
	}
	lane = calloc(1, sizeof(*lane));
	if (lane == NULL)
		return NULL;
	lane->from = from;
	lane->to = to;
	lane->last_arrival = l->order_floor;
	lane_insert(l->lanes, l->lane_slots, lane);
	l->n_lanes++;
	return lane;
}

static void addr_insert(struct addr_slot *slots, size_t n_slots, uint32_t addr, uint32_t i)
{
	size_t mask = n_slots - 1;

	for (size_t k = hash_mix64(addr) & mask;; k = (k + 1) & mask) {
		if (slots[k].att == NO_SLOT) {
			slots[k] = (struct addr_slot){addr, i};
			return;
		}
		if (slots[k].addr == addr)
			return; /* the first attachment holding it stays the answer */
	}
}

void link_config_default(struct link_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_limit = 64;
	cfg->mtu = 1500;
}

uint32_t link_mtu6(const struct link *l)
{
	uint32_t mtu = l->cfg.mtu == 0 ? 1500 : l->cfg.mtu;

	return mtu < IPV6_MIN_MTU ? IPV6_MIN_MTU : mtu; /* ip6_forward's floor */
}

struct link *link_new(struct net *net, const char *name, const struct link_config *cfg)
{
	if (name == NULL || net_find_link(net, name) != NULL)
		return NULL;
	struct link *l = calloc(1, sizeof(*l));
	char stream[96];

	if (l == NULL)
		return NULL;
	l->name = strdup(name);
	if (l->name == NULL || net_add_link(net, l) < 0) {
		free(l->name);
		free(l);
		return NULL;
	}
	l->net = net;
	l->up = true;
	if (cfg != NULL)
		l->cfg = *cfg;
	else
		link_config_default(&l->cfg);
	keep_order_if(l, l->cfg.jitter > 0);
	prefetch_packet_arrivals(net_engine(net), packet_arrive); /* speed only: model/prefetch.h */
	snprintf(stream, sizeof(stream), "link:%s", name);
	net_rng(net, stream, &l->rng);
	/* Registered with the world from here: link_free() copes with NULLs. */
	l->lanes = calloc(LINK_MIN_SLOTS, sizeof(*l->lanes));
	l->by_addr = malloc(LINK_MIN_SLOTS * sizeof(*l->by_addr));
	if (l->lanes == NULL || l->by_addr == NULL)
		return NULL;
	l->lane_slots = LINK_MIN_SLOTS;
	l->addr_slots = LINK_MIN_SLOTS;
	memset(l->by_addr, 0xff, LINK_MIN_SLOTS * sizeof(*l->by_addr)); /* NO_SLOT */
	return l;
}

void link_free(struct link *l)
{
	if (l == NULL)
		return;
	/* Packets still in flight belong to engine events and go with the
	 * world's packet pool. */
	for (size_t i = 0; i < l->n_att; i++)
		free(l->tx[i].finish);
	for (size_t i = 0; i < l->lane_slots; i++)
		free(l->lanes[i]);
	free(l->lanes);
	free(l->by_addr);
	free(l->att);
	free(l->tx);
	free(l->access);
	free(l->name);
	free(l);
}

/* Room for one more attachment in every per-attachment array. */
static int grow_attachments(struct link *l)
{
	if (l->n_att < l->cap_att)
		return 0;
	size_t n = l->cap_att ? l->cap_att * 2 : 2;
	struct attachment *att = realloc(l->att, n * sizeof(*att));

	if (att == NULL)
		return -1;
	l->att = att;
	struct sender *tx = realloc(l->tx, n * sizeof(*tx));

	if (tx == NULL)
		return -1;
	l->tx = tx;
	struct access *access = realloc(l->access, n * sizeof(*access));

	if (access == NULL)
		return -1;
	l->access = access;
	l->cap_att = n;
	return 0;
}

/* Room in the address table for one more attachment (at most half full). */
static int grow_addr_index(struct link *l)
{
	if ((l->n_att + 1) * 2 <= l->addr_slots)
		return 0;
	size_t n = l->addr_slots * 2;
	struct addr_slot *slots = malloc(n * sizeof(*slots));

	if (slots == NULL)
		return -1;
	memset(slots, 0xff, n * sizeof(*slots));
	for (uint32_t i = 0; i < l->n_att; i++)
		addr_insert(slots, n, l->att[i].ifc->addr, i);
	free(l->by_addr);
	l->by_addr = slots;
	l->addr_slots = n;
	return 0;
}

int link_attach(struct link *l, struct iface *ifc)
{
	if (ifc->link != NULL || l->n_att >= NO_SLOT || grow_attachments(l) < 0 ||
	    grow_addr_index(l) < 0)
		return -1;
	uint32_t i = (uint32_t)l->n_att++;

	ifc->link = l;
	ifc->attachment = i;
	l->att[i] = (struct attachment){ifc, ifc->node};
	memset(&l->tx[i], 0, sizeof(l->tx[i]));
	memset(&l->access[i], 0, sizeof(l->access[i]));
	addr_insert(l->by_addr, l->addr_slots, ifc->addr, i);
	return 0;
}

size_t link_attachment_count(const struct link *l)
{
	return l->n_att;
}

struct iface *link_attachment(const struct link *l, size_t i)
{
	return i < l->n_att ? l->att[i].ifc : NULL;
}

bool link_is_up(const struct link *l)
{
	return l->up;
}

const char *link_name(const struct link *l)
{
	return l->name;
}

const struct link_config *link_get_config(const struct link *l)
{
	return &l->cfg;
}

/* From now on keep each pair's packets in order with lanes (see the top):
 * jitter, or timing that changes once packets may be in flight. */
static void keep_order_if(struct link *l, bool needed)
{
	if (!needed || l->ordered)
		return;
	l->ordered = true;
	l->order_floor = l->max_arrival;
}

void link_set_config(struct link *l, const struct link_config *cfg)
{
	l->cfg = *cfg;
	keep_order_if(l, cfg->jitter > 0 || l->max_arrival > 0);
}

static int attachment_index(const struct link *l, const struct iface *ifc);

/* Announced per pair: the link's behaviour plus both ends' access. */
static void emit_link(struct link *l, enum trace_link_event ev, const struct iface *a,
		      const struct iface *b)
{
	struct trace_record r = {.kind = TRACE_LINK};
	int ai = a != NULL ? attachment_index(l, a) : -1;
	int bi = b != NULL ? attachment_index(l, b) : -1;
	double keep = 1.0 - l->cfg.loss;

	r.u.link.event = ev;
	r.u.link.name = l->name;
	r.u.link.a = a != NULL ? a->node->name : NULL;
	r.u.link.a_iface = a != NULL ? a->name : NULL;
	r.u.link.b = b != NULL ? b->node->name : NULL;
	r.u.link.b_iface = b != NULL ? b->name : NULL;
	r.u.link.latency_ns = l->cfg.latency;
	r.u.link.jitter_ns = l->cfg.jitter;
	for (int k = 0; k < 2; k++) {
		int i = k == 0 ? ai : bi;

		if (i < 0)
			continue;
		r.u.link.latency_ns += l->access[i].latency;
		r.u.link.jitter_ns += l->access[i].jitter;
		keep *= 1.0 - l->access[i].loss;
	}
	r.u.link.loss = 1.0 - keep;
	trace_emit(net_trace(l->net), &r);
}

void link_announce(struct link *l)
{
	if (!trace_active(net_trace(l->net)))
		return;
	if (l->n_att <= 2) {
		emit_link(l, TRACE_LINK_ADDED, link_attachment(l, 0), link_attachment(l, 1));
		return;
	}
	for (size_t i = 1; i < l->n_att; i++)
		emit_link(l, TRACE_LINK_ADDED, l->att[0].ifc, l->att[i].ifc);
}

void link_set_up(struct link *l, bool up)
{
	if (l->up == up)
		return;
	l->up = up;
	if (!up)
		l->link_cut_at = net_count_cut(l->net); /* what is in flight dies on arrival */
	if (trace_active(net_trace(l->net)))
		emit_link(l, up ? TRACE_LINK_UP : TRACE_LINK_DOWN, link_attachment(l, 0),
			  link_attachment(l, 1));
}

int link_attachment_configure(struct link *l, struct iface *ifc, int64_t latency, int64_t jitter,
			      double loss)
{
	int i = attachment_index(l, ifc);

	if (i < 0 || latency < 0 || jitter < 0 || !(loss >= 0.0 && loss <= 1.0))
		return -1;
	l->access[i].latency = latency;
	l->access[i].jitter = jitter;
	l->access[i].loss = loss;
	keep_order_if(l, jitter > 0 || l->max_arrival > 0);
	return 0;
}

int link_attachment_set_up(struct link *l, struct iface *ifc, bool up)
{
	int i = attachment_index(l, ifc);

	if (i < 0)
		return -1;
	if (l->access[i].down == !up)
		return 0;
	l->access[i].down = !up;
	/* What is in flight to or from it dies on arrival, as on a cut link. */
	if (!up)
		l->access[i].cut_at = net_count_cut(l->net);
	/* Paired with the first attachment, as net_announce() pairs a LAN. */
	if (trace_active(net_trace(l->net)))
		emit_link(l, up ? TRACE_LINK_UP : TRACE_LINK_DOWN, l->att[0].ifc,
			  i == 0 ? NULL : l->att[i].ifc);
	return 0;
}

bool link_attachment_is_up(const struct link *l, const struct iface *ifc)
{
	int i = attachment_index(l, ifc);

	return i >= 0 && !l->access[i].down;
}

/* Drop `p` at `at` with the link's verdict; explain/ words it
 * (explain_link). The packet's description is read from its bytes only for
 * the record: the decision is already in `f`. */
static void link_drop(struct iface *at, struct packet *p, enum trace_drop_reason reason,
		      struct link_drop_facts *f)
{
	if (trace_active(net_trace(at->node->net)))
		f->flow = packet_flow_of_bytes(p->data, p->len);
	node_drop_verdict(at->node, at, p, reason, NODE_VERDICT_LINK, f);
}

static int attachment_index(const struct link *l, const struct iface *ifc)
{
	return ifc->link == l ? (int)ifc->attachment : -1;
}

/* The first attachment holding `addr`, other than the sender itself. */
static int attachment_by_addr(const struct link *l, uint32_t addr, int from)
{
	size_t mask = l->addr_slots - 1;
	uint32_t first = NO_SLOT;

	if (addr == 0)
		return -1;
	for (size_t k = hash_mix64(addr) & mask; l->by_addr[k].att != NO_SLOT; k = (k + 1) & mask)
		if (l->by_addr[k].addr == addr) {
			first = l->by_addr[k].att;
			break;
		}
	if (first == NO_SLOT || (int)first != from)
		return first == NO_SLOT ? -1 : (int)first;
	/* The sender holds the address itself (rare): scan for another. */
	for (size_t i = first + 1; i < l->n_att; i++)
		if (l->att[i].ifc->addr == addr)
			return (int)i;
	return -1;
}

static int sender_push(struct sender *s, int64_t t)
{
	if (s->count == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 16;
		int64_t *f = malloc(ncap * sizeof(*f));

		if (f == NULL)
			return -1;
		for (size_t i = 0; i < s->count; i++)
			f[i] = s->finish[(s->head + i) % s->cap];
		free(s->finish);
		s->finish = f;
		s->cap = ncap;
		s->head = 0;
	}
	s->finish[(s->head + s->count) % s->cap] = t;
	s->count++;
	return 0;
}

/* Serialization on a rate-limited link: the time `p` has fully left the
 * sender, or -1 if the sender's queue is full. The packet being serialized
 * does not count against queue_limit, only those waiting behind it. */
static int64_t serialize(struct link *l, int from, const struct packet *p, int64_t now)
{
	struct sender *s = &l->tx[from];

	while (s->count > 0 && s->finish[s->head] <= now) {
		s->head = (s->head + 1) % s->cap;
		s->count--;
	}
	if (s->count > l->cfg.queue_limit)
		return -1;
	int64_t start = now;

	if (s->count > 0) {
		int64_t last = s->finish[(s->head + s->count - 1) % s->cap];

		start = last > now ? last : now;
	}
	int64_t finish = start + (int64_t)((p->len * 8 * (uint64_t)SIM_S(1)) / l->cfg.rate_bps);

	if (sender_push(s, finish) < 0)
		return -1;
	return finish;
}

/* The attachment whose cut (-1: the link's own) doomed `p`, a packet from
 * attachment `from` to `to` on l; -2 if no cut since it left. The latest
 * such cut names the cause. */
static int cut_that_dooms(const struct link *l, const struct packet *p, uint32_t to)
{
	uint32_t left = p->hop_cuts, latest = left;
	int by = -2;

	if (l->link_cut_at > latest) {
		latest = l->link_cut_at;
		by = -1;
	}
	if (l->access[p->hop_from].cut_at > latest) {
		latest = l->access[p->hop_from].cut_at;
		by = (int)p->hop_from;
	}
	if (l->access[to].cut_at > latest)
		by = (int)to;
	return by;
}

static void packet_arrive(struct engine *e, void *arg)
{
	struct packet *p = arg;
	struct iface *to = p->hop_to;
	struct link *l = to->link;
	int by =
	    p->hop_cuts == net_cut_count(to->node->net) ? -2 : cut_that_dooms(l, p, to->attachment);

	(void)e;
	if (by != -2) {
		struct link_drop_facts f = {
		    .cause = LINK_DROP_CUT_IN_FLIGHT, .link = l->name, .peer = to->node->name};

		if (by >= 0) {
			f.cause = LINK_DROP_ACCESS_CUT_IN_FLIGHT;
			f.cut_by = l->att[by].node->name;
		}
		link_drop(to, p, TRACE_DROP_LINK_DOWN, &f);
		return;
	}
	node_trace_hop(to->node, to, TRACE_HOP_RX, p);
	to->node->ops->receive(to->node, to, p);
}

/* Put `p` in flight from attachment `from` to `to`, leaving the sender at
 * `depart`. Ownership passes to the engine event. */
static void launch(struct link *l, int from, int to, struct packet *p, int64_t depart)
{
	int64_t arrival = depart + l->cfg.latency + l->access[from].latency + l->access[to].latency;
	int64_t jitter = l->cfg.jitter + l->access[from].jitter + l->access[to].jitter;
	struct lane *lane = NULL;

	if (jitter > 0)
		arrival += (int64_t)rng_below(&l->rng, (uint64_t)jitter + 1);
	if (l->ordered) {
		lane = lane_get(l, (uint32_t)from, (uint32_t)to);
		if (lane != NULL && arrival < lane->last_arrival)
			arrival = lane->last_arrival; /* never overtake the packet ahead */
	}
	p->next = NULL;
	p->hop_to = l->att[to].ifc;
	p->hop_node = l->att[to].node;
	p->hop_from = (uint32_t)from;
	p->hop_cuts = net_cut_count(l->net);
	if ((l->ordered && lane == NULL) ||
	    engine_schedule_at(net_engine(l->net), arrival, packet_arrive, p) == 0) {
		link_drop(l->att[from].ifc, p, TRACE_DROP_QUEUE_FULL,
			  &(struct link_drop_facts){.cause = LINK_DROP_NO_MEMORY, .link = l->name});
		return;
	}
	if (lane != NULL)
		lane->last_arrival = arrival;
	if (arrival > l->max_arrival)
		l->max_arrival = arrival;
}

/* After TX: the receiver's access may be cut, and the link or either end's
 * access may lose the packet. Returns true, having dropped `p` at the
 * sender, if it will not arrive. */
static bool lost_on_the_way(struct link *l, int fi, int ti, struct packet *p)
{
	struct iface *from = l->att[fi].ifc, *to = l->att[ti].ifc;
	const struct access *af = &l->access[fi], *at = &l->access[ti];
	double loss = 1.0 - (1.0 - l->cfg.loss) * (1.0 - af->loss) * (1.0 - at->loss);

	if (at->down) {
		link_drop(from, p, TRACE_DROP_LINK_DOWN,
			  &(struct link_drop_facts){.cause = LINK_DROP_PEER_DOWN,
						    .link = l->name,
						    .peer = to->node->name});
		return true;
	}
	/* Loss and jitter draw from the link's own stream ("link:<name>"), so
	 * what happens on this link never depends on traffic elsewhere. */
	if (loss <= 0 || rng_double(&l->rng) >= loss)
		return false;
	link_drop(from, p, TRACE_DROP_LINK_LOSS,
		  &(struct link_drop_facts){.cause = af->loss > 0 || at->loss > 0
							 ? LINK_DROP_LOSS_ACCESS
							 : LINK_DROP_LOSS,
					    .link = l->name,
					    .peer = to->node->name,
					    .loss = loss});
	return true;
}

/* The sender's link will not take `p` (not attached, cut). */
static void refuse(struct link *l, struct iface *from, struct packet *p,
		   enum trace_drop_reason reason, enum link_drop_cause cause)
{
	link_drop(from, p, reason,
		  &(struct link_drop_facts){.cause = cause, .link = l->name, .iface = from->name});
}

static int attachment_by_addr6(const struct link *l, const struct ip6_addr *addr, int from);

void link_transmit(struct link *l, struct iface *from, uint32_t next_hop, struct packet *p)
{
	struct node *n = from->node;
	int fi = attachment_index(l, from);

	if (fi < 0) {
		refuse(l, from, p, TRACE_DROP_NO_ROUTE, LINK_DROP_NOT_ATTACHED);
		return;
	}
	if (!l->up || l->access[fi].down) {
		refuse(l, from, p, TRACE_DROP_LINK_DOWN,
		       l->up ? LINK_DROP_ACCESS_DOWN : LINK_DROP_LINK_DOWN);
		return;
	}
	int ti = attachment_by_addr(l, next_hop, fi);

	/* link_transmit6 comes through here with next hop 0, which no IPv4
	 * lookup finds: only then is the IPv6 one asked (link_layout.h). */
	if (ti < 0 && l->next_hop6 != NULL)
		ti = attachment_by_addr6(l, l->next_hop6, fi);
	if (ti < 0) {
		struct link_drop_facts f = {
		    .cause = LINK_DROP_NO_NEIGHBOUR, .link = l->name, .next_hop = next_hop};

		if (l->next_hop6 != NULL)
			f.next_hop6 = *l->next_hop6;
		link_drop(from, p, TRACE_DROP_NO_ROUTE, &f);
		return;
	}
	int64_t depart = engine_now(net_engine(l->net));

	if (l->cfg.rate_bps > 0) {
		depart = serialize(l, fi, p, depart);
		if (depart < 0) {
			link_drop(from, p, TRACE_DROP_QUEUE_FULL,
				  &(struct link_drop_facts){.cause = LINK_DROP_QUEUE_FULL,
							    .link = l->name,
							    .queue_limit = l->cfg.queue_limit,
							    .rate_bps = l->cfg.rate_bps});
			return;
		}
	}
	node_trace_hop(n, from, TRACE_HOP_TX, p);
	if (!lost_on_the_way(l, fi, ti, p))
		launch(l, fi, ti, p, depart);
}

/* The first attachment holding IPv6 `addr`, other than `from`. A scan:
 * IPv4 has an address index because an ISP segment may hold thousands of
 * customers; no IPv6 world is that large yet (docs/ipv6.md step 2 says
 * when one would need the same index). */
static int attachment_by_addr6(const struct link *l, const struct ip6_addr *addr, int from)
{
	for (size_t i = 0; i < l->n_att; i++) {
		const struct iface *ifc = l->att[i].ifc;

		if ((int)i != from && ifc->has_addr6 && ip6_equal(iface_addr6(ifc), addr))
			return (int)i;
	}
	return -1;
}

bool link_has_neighbour6(const struct link *l, const struct iface *from,
			 const struct ip6_addr *addr)
{
	return l != NULL && attachment_by_addr6(l, addr, attachment_index(l, from)) >= 0;
}

/* IPv6 goes through link_transmit, its next hop beside it in the link
 * (link_layout.h says why). */
void link_transmit6(struct link *l, struct iface *from, const struct ip6_addr *next_hop,
		    struct packet *p)
{
	l->next_hop6 = next_hop;
	link_transmit(l, from, 0, p);
	l->next_hop6 = NULL;
}
