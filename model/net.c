/*
 * net.c - the world: engine, seed, packet pool, and the registry of nodes and
 * links, plus the packet-hop records every node emits.
 *
 * The registry is two growing arrays in creation order, each with a hash
 * index by name. Names are not on the packet path (packets move by pointers),
 * but every node and link added checks that its name is free, and a generated
 * world of 100 000 peers adds half a million: a scan would make building it
 * quadratic.
 */
#include "model/net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

/* Open addressing over positions in a registry array: slot = position + 1,
 * 0 = free. At most half full. */
struct name_index {
	size_t *slots;
	size_t n_slots;
};

static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* The position of `name` in `items` (whose names `name_of` gives), or -1. */
static long name_find(const struct name_index *ix, void *const *items,
		      const char *(*name_of)(const void *), const char *name)
{
	if (ix->n_slots == 0)
		return -1;
	size_t mask = ix->n_slots - 1;

	for (size_t k = name_hash(name) & mask; ix->slots[k] != 0; k = (k + 1) & mask)
		if (strcmp(name_of(items[ix->slots[k] - 1]), name) == 0)
			return (long)(ix->slots[k] - 1);
	return -1;
}

static void name_put(size_t *slots, size_t n_slots, const char *name, size_t pos)
{
	size_t mask = n_slots - 1, k = name_hash(name) & mask;

	while (slots[k] != 0)
		k = (k + 1) & mask;
	slots[k] = pos + 1;
}

/* Index items[n - 1] (the one just added). Returns 0 or -1. */
static int name_add(struct name_index *ix, void *const *items, size_t n,
		    const char *(*name_of)(const void *))
{
	if (n * 2 > ix->n_slots) {
		size_t ns = ix->n_slots ? ix->n_slots * 2 : 16;
		size_t *slots = calloc(ns, sizeof(*slots));

		if (slots == NULL)
			return -1;
		for (size_t i = 0; i + 1 < n; i++)
			name_put(slots, ns, name_of(items[i]), i);
		free(ix->slots);
		ix->slots = slots;
		ix->n_slots = ns;
	}
	name_put(ix->slots, ix->n_slots, name_of(items[n - 1]), n - 1);
	return 0;
}

static const char *node_name_of(const void *n)
{
	return ((const struct node *)n)->name;
}

static const char *link_name_of(const void *l)
{
	return link_name(l);
}

struct net {
	struct engine *engine;
	struct packet_pool *pool;
	uint64_t seed;
	uint64_t last_packet_id;
	uint32_t cuts; /* see net_cut_count */
	struct node **nodes;
	size_t n_nodes, cap_nodes;
	struct link **links;
	size_t n_links, cap_links;
	struct name_index node_names, link_names;
};

struct net *net_new(uint64_t seed)
{
	struct net *net = calloc(1, sizeof(*net));

	if (net == NULL)
		return NULL;
	net->seed = seed;
	net->engine = engine_new();
	net->pool = packet_pool_new();
	if (net->engine == NULL || net->pool == NULL) {
		net_free(net);
		return NULL;
	}
	return net;
}

void net_free(struct net *net)
{
	if (net == NULL)
		return;
	/* Nodes first: their conntrack tables and NATs cancel engine events and
	 * may still use the engine. A node's name outlives its ops->free, since
	 * the tables it owns borrow it. */
	for (size_t i = 0; i < net->n_nodes; i++) {
		struct node *n = net->nodes[i];
		char *name = n->name;

		free(n->addrs6);
		n->ops->free(n);
		free(name);
	}
	free(net->nodes);
	/* Links hand their in-flight packets back to the pool before it goes. */
	for (size_t i = 0; i < net->n_links; i++)
		link_free(net->links[i]);
	free(net->links);
	free(net->node_names.slots);
	free(net->link_names.slots);
	packet_pool_free(net->pool);
	engine_free(net->engine);
	free(net);
}

struct engine *net_engine(struct net *net)
{
	return net->engine;
}

struct trace *net_trace(struct net *net)
{
	return engine_trace(net->engine);
}

uint32_t net_cut_count(const struct net *net)
{
	return net->cuts;
}

uint32_t net_count_cut(struct net *net)
{
	return ++net->cuts;
}

struct packet_pool *net_packets(struct net *net)
{
	return net->pool;
}

uint64_t net_seed(const struct net *net)
{
	return net->seed;
}

uint64_t net_next_packet_id(struct net *net)
{
	return ++net->last_packet_id;
}

uint32_t net_flow_label6(const struct net *net, const struct ip6_addr *src,
			 const struct ip6_addr *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	uint64_t h = hash_mix64(net->seed ^ 0x666c6f776c61626cULL); /* "flowlabl" */

	for (size_t i = 0; i < 16; i += 8) {
		uint64_t a, b;

		memcpy(&a, src->b + i, 8);
		memcpy(&b, dst->b + i, 8);
		h = hash_mix64(h ^ a);
		h = hash_mix64(h ^ b);
	}
	h = hash_mix64(h ^ ((uint64_t)proto << 32 | (uint64_t)sport << 16 | dport));
	/* ip6_make_flowlabel: rol32(hash, 16) & IPV6_FLOWLABEL_MASK, then the
	 * stateless flag; any 20 bits of a good hash serve as well. */
	return (uint32_t)(h & 0xfffffu) | 0x80000u;
}

void net_rng(const struct net *net, const char *name, struct rng *out)
{
	rng_derive(out, net->seed, name);
}

struct node *net_find_node(struct net *net, const char *name)
{
	long i = name_find(&net->node_names, (void *const *)net->nodes, node_name_of, name);

	return i < 0 ? NULL : net->nodes[i];
}

size_t net_node_count(const struct net *net)
{
	return net->n_nodes;
}

struct node *net_node_at(struct net *net, size_t i)
{
	return i < net->n_nodes ? net->nodes[i] : NULL;
}

struct link *net_find_link(struct net *net, const char *name)
{
	long i = name_find(&net->link_names, (void *const *)net->links, link_name_of, name);

	return i < 0 ? NULL : net->links[i];
}

/* Grow an array of pointers to hold one more. Returns 0 or -1. */
static int grow(void ***items, size_t n, size_t *cap)
{
	if (n < *cap)
		return 0;
	size_t ncap = *cap ? *cap * 2 : 8;
	void **p = realloc(*items, ncap * sizeof(*p));

	if (p == NULL)
		return -1;
	*items = p;
	*cap = ncap;
	return 0;
}

int net_add_node(struct net *net, struct node *n, enum node_kind kind, const struct node_ops *ops,
		 const char *name)
{
	if (name == NULL || ops == NULL || net_find_node(net, name) != NULL)
		return -1;
	if (grow((void ***)&net->nodes, net->n_nodes, &net->cap_nodes) < 0)
		return -1;
	n->name = strdup(name);
	if (n->name == NULL)
		return -1;
	n->net = net;
	n->ops = ops;
	n->kind = kind;
	net->nodes[net->n_nodes++] = n;
	if (name_add(&net->node_names, (void *const *)net->nodes, net->n_nodes, node_name_of) < 0) {
		net->n_nodes--;
		free(n->name);
		return -1;
	}
	return 0;
}

int net_add_link(struct net *net, struct link *l)
{
	if (grow((void ***)&net->links, net->n_links, &net->cap_links) < 0)
		return -1;
	net->links[net->n_links++] = l;
	if (name_add(&net->link_names, (void *const *)net->links, net->n_links, link_name_of) < 0) {
		net->n_links--;
		return -1;
	}
	return 0;
}

_Static_assert(TRACE_NODE_ADDRS >= NODE_MAX_IFACES, "a node record lists every interface");

void net_announce(struct net *net)
{
	struct trace *t = net_trace(net);

	if (!trace_active(t))
		return;
	for (size_t i = 0; i < net->n_nodes; i++) {
		struct node *n = net->nodes[i];
		struct trace_record r = {.kind = TRACE_NODE};
		struct trace_node6 v6 = {0}; /* copied by the log (trace_log.c) */
		char detail[256] = "";

		r.u.node.name = n->name;
		r.u.node.type = "node";
		r.u.node.detail = detail;
		r.u.node.n_addrs = n->n_ifaces;
		for (size_t k = 0; k < n->n_ifaces && k < TRACE_NODE_ADDRS; k++) {
			r.u.node.addrs[k] = n->ifaces[k].addr;
			r.u.node.prefix_lens[k] = n->ifaces[k].prefix_len;
			/* the renderers' IPv6 addresses, as values (NULL: none) */
			if (n->ifaces[k].has_addr6) {
				v6.addrs[k] = n->addrs6[k];
				v6.prefix_lens[k] = n->ifaces[k].prefix6_len;
				r.u.node.v6 = &v6;
			}
		}
		if (n->ops->describe != NULL)
			n->ops->describe(n, &r.u.node, detail, sizeof(detail));
		trace_emit(t, &r);
	}
	for (size_t i = 0; i < net->n_links; i++)
		link_announce(net->links[i]);
}

struct iface *node_add_iface(struct node *n, const char *name, uint32_t addr, uint8_t prefix_len)
{
	if (n->n_ifaces >= NODE_MAX_IFACES || name == NULL || prefix_len > 32 ||
	    node_find_iface(n, name) != NULL)
		return NULL;
	struct iface *ifc = &n->ifaces[n->n_ifaces];

	memset(ifc, 0, sizeof(*ifc));
	ifc->node = n;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	ifc->addr = addr;
	ifc->prefix_len = prefix_len;
	ifc->index = (int)n->n_ifaces++;
	return ifc;
}

struct iface *node_find_iface(struct node *n, const char *name)
{
	for (size_t i = 0; i < n->n_ifaces; i++)
		if (strcmp(n->ifaces[i].name, name) == 0)
			return &n->ifaces[i];
	return NULL;
}

struct iface *node_iface_by_addr(struct node *n, uint32_t addr)
{
	if (addr == 0)
		return NULL;
	for (size_t i = 0; i < n->n_ifaces; i++)
		if (n->ifaces[i].addr == addr)
			return &n->ifaces[i];
	return NULL;
}

int iface_set_addr6(struct iface *ifc, const struct ip6_addr *addr, uint8_t prefix_len)
{
	struct node *n = ifc->node;

	if (ifc->has_addr6 || prefix_len > 128 || ip6_is_unspecified(addr))
		return -1;
	if (n->addrs6 == NULL) {
		n->addrs6 = calloc(NODE_MAX_IFACES, sizeof(*n->addrs6));
		if (n->addrs6 == NULL)
			return -1;
	}
	n->addrs6[ifc->index] = *addr;
	ifc->prefix6_len = prefix_len;
	ifc->has_addr6 = true;
	return 0;
}

const struct ip6_addr *iface_addr6(const struct iface *ifc)
{
	return ifc->has_addr6 ? &ifc->node->addrs6[ifc->index] : NULL;
}

struct iface *node_iface_by_addr6(struct node *n, const struct ip6_addr *addr)
{
	for (size_t i = 0; i < n->n_ifaces; i++)
		if (n->ifaces[i].has_addr6 && ip6_equal(&n->addrs6[i], addr))
			return &n->ifaces[i];
	return NULL;
}

/* Every drop carries a verdict, which the trace's explainer words
 * (explain/): no sentence is made here. */
static void emit_hop(struct node *n, struct iface *at, enum trace_hop hop, const struct packet *p,
		     enum trace_drop_reason reason, struct trace_verdict verdict)
{
	struct trace_record r = {.kind = TRACE_PACKET};

	r.u.packet.hop = hop;
	r.u.packet.packet_id = p->id;
	r.u.packet.node = n->name;
	r.u.packet.iface = at != NULL ? at->name : NULL;
	r.u.packet.bytes = p->data;
	r.u.packet.len = p->len;
	r.u.packet.reason = reason;
	r.u.packet.verdict = verdict;
	trace_emit(net_trace(n->net), &r);
}

void node_trace_hop(struct node *n, struct iface *at, enum trace_hop hop, const struct packet *p)
{
	if (trace_active(net_trace(n->net)))
		emit_hop(n, at, hop, p, TRACE_DROP_NONE, (struct trace_verdict){0, NULL});
}

void node_drop_verdict(struct node *n, struct iface *at, struct packet *p,
		       enum trace_drop_reason reason, enum node_verdict_kind kind,
		       const void *facts)
{
	if (trace_active(net_trace(n->net)))
		emit_hop(n, at, TRACE_HOP_DROP, p, reason, (struct trace_verdict){kind, facts});
	packet_release(net_packets(n->net), p);
}

/* A rule that matched a TCP segment for its INVALID state dropped it for
 * what conntrack said (ct-invalid); any other refusal is the firewall's. */
static enum trace_drop_reason firewall_drop_reason(const struct packet_info *info,
						   const struct fw_verdict *v)
{
	if (info->proto == IPPROTO_NUM_TCP && v->state == CONNTRACK_INVALID && v->matched != NULL &&
	    (v->matched->states & CONNTRACK_INVALID) != 0)
		return TRACE_DROP_CT_INVALID;
	return TRACE_DROP_FIREWALL;
}

void node_drop_by_firewall(struct node *n, struct iface *at, struct packet *p,
			   const struct packet_info *info, const struct fw_verdict *v)
{
	node_drop_by_firewall_answered(n, at, p, info, v, NULL);
}

void node_drop_by_firewall_answered(struct node *n, struct iface *at, struct packet *p,
				    const struct packet_info *info, const struct fw_verdict *v,
				    const struct icmp_answer *answer)
{
	struct node_firewall_facts facts = {.verdict = *v};

	if (answer != NULL)
		facts.answer = *answer;

	/* The record keeps values, not pointers into the firewall's rules. */
	if (trace_active(net_trace(n->net))) {
		facts.verdict.matched = NULL;
		if (v->matched != NULL)
			facts.rule = *v->matched;
		facts.flow = packet_flow_of(info);
	}
	node_drop_verdict(n, at, p, firewall_drop_reason(info, v), NODE_VERDICT_FIREWALL, &facts);
}

void node_drop_by_firewall6(struct node *n, struct iface *at, struct packet *p,
			    const struct packet6_info *info, const struct fw_verdict *v,
			    const struct icmp_answer *answer)
{
	struct node_firewall_facts facts = {.verdict = *v};
	enum trace_drop_reason reason = TRACE_DROP_FIREWALL;

	if (answer != NULL)
		facts.answer = *answer;
	if (info->next_header == IPPROTO_NUM_TCP && v->state == CONNTRACK_INVALID &&
	    v->matched != NULL && (v->matched->states & CONNTRACK_INVALID) != 0)
		reason = TRACE_DROP_CT_INVALID;
	if (trace_active(net_trace(n->net))) {
		facts.verdict.matched = NULL;
		if (v->matched != NULL)
			facts.rule = *v->matched;
		facts.flow = packet6_flow_of(info);
	}
	node_drop_verdict(n, at, p, reason, NODE_VERDICT_FIREWALL, &facts);
}

void node_nat_facts(const struct nat_result *res, struct nat_facts *out)
{
	size_t k = res->n_allowed < NAT_FACTS_ALLOWED ? res->n_allowed : NAT_FACTS_ALLOWED;

	/* Whole: a caller fills the answer and the held SYN only where they apply. */
	memset(out, 0, sizeof(*out));
	out->result = *res;
	if (k > 0)
		memcpy(out->allowed, res->allowed, k * sizeof(out->allowed[0]));
	out->result.allowed = NULL;
	out->result.mapping = NULL;
}

void node_drop_by_nat(struct node *n, struct iface *at, struct packet *p,
		      const struct nat_result *res)
{
	struct nat_facts facts = {.result = *res};

	/* The record keeps the remotes the sentence names, not the NAT's array. */
	if (trace_active(net_trace(n->net)))
		node_nat_facts(res, &facts);
	node_drop_verdict(n, at, p, res->reason, NODE_VERDICT_NAT, &facts);
}
