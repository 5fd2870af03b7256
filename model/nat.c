/*
 * nat.c - a NAT along RFC 4787's axes: mapping, filtering, port assignment,
 * lifetime and refresh, static forwards.
 *
 * Two indexes lead to a mapping, as netfilter's two tuple hashes do
 * (net/netfilter/nf_nat_core.c keeps nf_nat_bysource beside the conntrack
 * hash): one by the mapping key (the internal endpoint, plus as much of the
 * remote as the mapping behaviour says), used outbound; one by the external
 * endpoint, used inbound. A creation-order list makes printing deterministic.
 * External endpoints are unique per protocol across all mappings and
 * forwards, so the inbound lookup always has one answer.
 */
#include "model/nat.h"

#include "base/hash.h"
#include "model/conntrack.h"
#include "model/nat_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Random port picks tried before probing linearly from the last pick: keeps
 * allocation uniform while the range is sparse, and bounded when it is full. */
#define NAT_RANDOM_TRIES 8

/* Remotes a mapping holds in its own node before it needs an array: most
 * mappings talk to a few (a symmetric NAT's, to one). */
#define NAT_INLINE_REMOTES 4

struct nat_node {
	struct nat_mapping m; /* first: a mapping pointer is a node pointer */
	/* Then what a packet's lookup and filtering read. */
	struct nat_node *key_next, *ext_next;
	struct endpoint inline_remotes[NAT_INLINE_REMOTES];
	size_t cap_remotes;	      /* of m.remotes: NAT_INLINE_REMOTES while it is inline */
	struct nat_node *prev, *next; /* creation order */
	engine_event_id timer;
	struct nat *nat;
	bool clash; /* keyed to one remote after a conntrack clash (nat_used_tuple) */
};

/* What a new mapping is for: the flow of the packet that asks for it. */
struct nat_flow {
	uint8_t proto;
	struct endpoint internal, remote;
};

/* ---- names, presets, parsing ------------------------------------------ */

const struct nat_preset nat_presets[] = {
    {"full-cone", NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE,
     "Once an inside endpoint has sent one packet out, anyone on the Internet can reach "
     "it through the same public port."},
    {"restricted-cone", NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_DEPENDENT, NAT_PORT_PRESERVE,
     "An inside endpoint keeps one public port for every destination, and any port of an "
     "address it has sent to may answer through it."},
    {"port-restricted-cone", NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT,
     NAT_PORT_PRESERVE,
     "An inside endpoint keeps one public port for every destination, but only the exact "
     "address and port it has sent to may answer through it."},
    {"symmetric", NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM,
     "Every new destination gets its own random public port, and only that destination "
     "may answer, so a port learned from a STUN server is useless to a peer."},
};
const size_t nat_preset_count = sizeof(nat_presets) / sizeof(nat_presets[0]);

void nat_config_default(struct nat_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mapping = NAT_ENDPOINT_INDEPENDENT;
	cfg->filtering = NAT_ADDRESS_AND_PORT_DEPENDENT;
	cfg->ports = NAT_PORT_PRESERVE;
	cfg->port_lo = 1024;
	cfg->port_hi = 65535;
	cfg->mapping_timeout = SIM_S(30);
	cfg->icmp_timeout = SIM_S(30);
	cfg->icmp_inner = true;
	cfg->icmp_errors = true;
	cfg->map_min_lifetime = 120;
	cfg->map_max_lifetime = 86400;
}

int nat_config_preset(struct nat_config *cfg, const char *name)
{
	for (size_t i = 0; i < nat_preset_count; i++) {
		if (strcasecmp(nat_presets[i].name, name) == 0) {
			cfg->mapping = nat_presets[i].mapping;
			cfg->filtering = nat_presets[i].filtering;
			cfg->ports = nat_presets[i].ports;
			return 0;
		}
	}
	return -1;
}

const char *nat_port_assignment_name(enum nat_port_assignment p)
{
	switch (p) {
	case NAT_PORT_PRESERVE:
		return "preserve";
	case NAT_PORT_SEQUENTIAL:
		return "sequential";
	case NAT_PORT_RANDOM:
		return "random";
	}
	return "unknown";
}

int nat_behaviour_parse(const char *s, enum nat_behaviour *out)
{
	static const struct {
		const char *word;
		enum nat_behaviour b;
	} words[] = {
	    {"endpoint-independent", NAT_ENDPOINT_INDEPENDENT},
	    {"EIM", NAT_ENDPOINT_INDEPENDENT},
	    {"EIF", NAT_ENDPOINT_INDEPENDENT},
	    {"EI", NAT_ENDPOINT_INDEPENDENT},
	    {"address-dependent", NAT_ADDRESS_DEPENDENT},
	    {"ADM", NAT_ADDRESS_DEPENDENT},
	    {"ADF", NAT_ADDRESS_DEPENDENT},
	    {"AD", NAT_ADDRESS_DEPENDENT},
	    {"address-and-port-dependent", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"APDM", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"APDF", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"APD", NAT_ADDRESS_AND_PORT_DEPENDENT},
	};

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(words[i].word, s) == 0) {
			*out = words[i].b;
			return 0;
		}
	}
	return -1;
}

/* ---- indexes ------------------------------------------------------------ */

/* The indexes' hashes, nat_key_hash() and nat_ext_hash(), are in
 * nat_layout.h: model/prefetch.c finds a packet's buckets with them too. */

static bool nat_ep_eq(const struct endpoint *a, const struct endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static void nat_index_insert(struct nat *nat, struct nat_node *n)
{
	size_t k = nat_key_hash(nat, n->m.proto, &n->m.internal, &n->m.key_remote);
	size_t x = nat_ext_hash(nat, n->m.proto, &n->m.external);

	n->key_next = nat->by_key[k];
	nat->by_key[k] = n;
	n->ext_next = nat->by_ext[x];
	nat->by_ext[x] = n;
}

static void nat_index_remove(struct nat *nat, struct nat_node *n)
{
	struct nat_node **pp =
	    &nat->by_key[nat_key_hash(nat, n->m.proto, &n->m.internal, &n->m.key_remote)];
	while (*pp != NULL && *pp != n)
		pp = &(*pp)->key_next;
	if (*pp != NULL)
		*pp = n->key_next;
	pp = &nat->by_ext[nat_ext_hash(nat, n->m.proto, &n->m.external)];
	while (*pp != NULL && *pp != n)
		pp = &(*pp)->ext_next;
	if (*pp != NULL)
		*pp = n->ext_next;
}

/* Double both indexes when they hold more mappings than half their buckets;
 * a failed grow only makes chains longer. */
static void nat_maybe_grow(struct nat *nat)
{
	if (nat->count * 2 < nat->n_buckets)
		return;
	size_t n = nat->n_buckets * 2;
	struct nat_node **k = calloc(n, sizeof(*k));
	struct nat_node **x = calloc(n, sizeof(*x));
	if (k == NULL || x == NULL) {
		free(k);
		free(x);
		return;
	}
	if (nat->by_key != nat->inline_key) {
		free(nat->by_key);
		free(nat->by_ext);
	}
	nat->by_key = k;
	nat->by_ext = x;
	nat->n_buckets = n;
	for (struct nat_node *node = nat->head; node != NULL; node = node->next)
		nat_index_insert(nat, node);
}

static struct nat_node *nat_find_key(const struct nat *nat, uint8_t proto,
				     const struct endpoint *internal,
				     const struct endpoint *key_remote, bool is_static)
{
	struct nat_node *n = nat->by_key[nat_key_hash(nat, proto, internal, key_remote)];
	for (; n != NULL; n = n->key_next) {
		if (n->m.proto == proto && n->m.is_static == is_static &&
		    nat_ep_eq(&n->m.internal, internal) && nat_ep_eq(&n->m.key_remote, key_remote))
			return n;
	}
	return NULL;
}

static struct nat_node *nat_find_ext(const struct nat *nat, uint8_t proto,
				     const struct endpoint *external)
{
	struct nat_node *n = nat->by_ext[nat_ext_hash(nat, proto, external)];
	for (; n != NULL; n = n->ext_next) {
		if (n->m.proto == proto && nat_ep_eq(&n->m.external, external))
			return n;
	}
	return NULL;
}

static void nat_list_append(struct nat *nat, struct nat_node *n)
{
	n->prev = nat->tail;
	if (nat->tail != NULL)
		nat->tail->next = n;
	else
		nat->head = n;
	nat->tail = n;
	nat->count++;
}

static void nat_node_free(struct nat_node *n)
{
	if (n->clash)
		n->nat->n_clash--;
	if (n->m.remotes != n->inline_remotes)
		free((struct endpoint *)n->m.remotes);
	free(n);
}

static void nat_unlink(struct nat *nat, struct nat_node *n)
{
	nat_index_remove(nat, n);
	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		nat->head = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		nat->tail = n->prev;
	nat->count--;
}

/* ---- lifetime ----------------------------------------------------------- */

static void nat_emit_facts(struct nat *nat, const struct nat_mapping *m, enum trace_map_event ev,
			   const struct endpoint *remote, const struct trace_pcp *facts)
{
	struct trace *t = engine_trace(nat->engine);
	if (!trace_active(t))
		return;
	struct trace_record r;
	memset(&r, 0, sizeof(r));
	r.kind = TRACE_MAPPING;
	r.u.map = (struct trace_mapping){
	    .event = ev,
	    .node = nat->node_name,
	    .id = m->id,
	    .proto = m->proto,
	    .internal = m->internal,
	    .external = m->external,
	    .mapping = (int)nat->cfg.mapping,
	    .filtering = (int)nat->cfg.filtering,
	    .is_static = m->is_static,
	    .expires_at = m->expires_at,
	    .origin = (uint8_t)m->origin,
	};
	if (remote != NULL)
		r.u.map.remote = *remote;
	if (facts != NULL)
		r.u.map.pcp = *facts;
	trace_emit(t, &r);
}

static void nat_emit(struct nat *nat, const struct nat_mapping *m, enum trace_map_event ev,
		     const struct endpoint *remote)
{
	nat_emit_facts(nat, m, ev, remote, NULL);
}

static bool nat_is_explicit(const struct nat_mapping *m)
{
	return m->origin == NAT_ORIGIN_PCP || m->origin == NAT_ORIGIN_NATPMP;
}

static void nat_destroy_facts(struct nat *nat, struct nat_node *n, enum trace_map_event ev,
			      const struct trace_pcp *facts)
{
	engine_cancel(nat->engine, n->timer);
	nat_emit_facts(nat, &n->m, ev, NULL, facts);
	nat->n_explicit -= nat_is_explicit(&n->m);
	nat_unlink(nat, n);
	nat_node_free(n);
}

static void nat_destroy(struct nat *nat, struct nat_node *n, enum trace_map_event ev)
{
	nat_destroy_facts(nat, n, ev, NULL);
}

/* One event per mapping; refreshes only move expires_at and the event re-arms
 * itself when it fires early (lazy re-arm, DESIGN.md "The engine"), so the
 * mapping dies at exactly last refresh + mapping_timeout (RFC 4787 REQ-5). */
static void nat_timer_fired(struct engine *e, void *arg)
{
	struct nat_node *n = arg;

	n->timer = 0;
	if (n->m.expires_at > engine_now(e)) {
		n->timer = engine_schedule_at(e, n->m.expires_at, nat_timer_fired, n);
		if (n->timer != 0)
			return; /* out of memory: expire now rather than never */
	}
	nat_destroy(n->nat, n, TRACE_MAP_EXPIRED);
}

/* Echo ids a mapping may get: all but 0 (see nat.h). */
#define NAT_ICMP_ID_LO 1
#define NAT_ICMP_ID_HI 65535

static void nat_reset_cursors(struct nat *nat)
{
	for (size_t i = 0; i < NAT_MAX_PUBLIC; i++) {
		nat->seq_next[i] = nat->cfg.port_lo;
		nat->seq_next_icmp[i] = NAT_ICMP_ID_LO;
	}
}

static void nat_clear_dynamic(struct nat *nat)
{
	struct nat_node *n = nat->head;
	while (n != NULL) {
		struct nat_node *next = n->next;
		if (!n->m.is_static)
			nat_destroy(nat, n, TRACE_MAP_CLEARED);
		n = next;
	}
	nat_reset_cursors(nat);
	nat->epoch_start = engine_now(nat->engine); /* the state is lost: a new epoch */
}

/* ---- construction ------------------------------------------------------- */

static bool nat_config_valid(const struct nat_config *cfg)
{
	return cfg != NULL && cfg->n_public >= 1 && cfg->n_public <= NAT_MAX_PUBLIC &&
	       cfg->port_lo >= 1 && cfg->port_lo <= cfg->port_hi &&
	       (unsigned)cfg->mapping <= NAT_ADDRESS_AND_PORT_DEPENDENT &&
	       (unsigned)cfg->filtering <= NAT_ADDRESS_AND_PORT_DEPENDENT &&
	       (unsigned)cfg->ports <= NAT_PORT_RANDOM &&
	       (unsigned)cfg->pooling <= NAT_POOLING_ARBITRARY && cfg->mapping_timeout > 0 &&
	       cfg->icmp_timeout > 0 && cfg->tcp_established_timeout >= 0 &&
	       cfg->tcp_transitory_timeout >= 0 &&
	       (unsigned)cfg->tcp_unsolicited_syn <= NAT_TCP_SYN_ICMP;
}

struct nat *nat_new(struct engine *e, const char *node_name, const struct nat_config *cfg,
		    const struct rng *rng)
{
	if (!nat_config_valid(cfg))
		return NULL;
	struct nat *nat = calloc(1, sizeof(*nat));
	if (nat == NULL)
		return NULL;
	nat->by_key = nat->inline_key;
	nat->by_ext = nat->inline_ext;
	nat->n_buckets = NAT_MIN_BUCKETS;
	nat->engine = e;
	nat->node_name = node_name;
	nat->cfg = *cfg;
	if (rng != NULL)
		nat->rng = *rng;
	else
		rng_seed(&nat->rng, 0);
	nat->next_id = 1;
	nat->epoch_start = engine_now(e);
	nat_reset_cursors(nat);
	return nat;
}

void nat_free(struct nat *nat)
{
	if (nat == NULL)
		return;
	struct nat_node *n = nat->head;
	while (n != NULL) {
		struct nat_node *next = n->next;
		engine_cancel(nat->engine, n->timer);
		nat_node_free(n);
		n = next;
	}
	if (nat->by_key != nat->inline_key) {
		free(nat->by_key);
		free(nat->by_ext);
	}
	free(nat);
}

const struct nat_config *nat_config(const struct nat *nat)
{
	return &nat->cfg;
}

bool nat_owns_address(const struct nat *nat, uint32_t ip)
{
	for (size_t i = 0; i < nat->cfg.n_public; i++) {
		if (nat->cfg.public_ip[i] == ip)
			return true;
	}
	return false;
}

/* ---- choosing a translation: address, then port ------------------------- */

/* RFC 4787 REQ-2 (address pooling): which public address a new mapping
 * gets. The behaviour is a row of this table, not a code path.
 * - paired (REQ-2's recommendation): one internal address always gets the
 *   same external address, so a host's mappings all look like one host
 *   outside. A hash rather than first-come assignment keeps it stateless and
 *   independent of the order hosts start talking.
 * - arbitrary: any address for any mapping, drawn from the NAT's own seeded
 *   stream (deterministic per seed), so one host's mappings may show
 *   different addresses - which breaks applications that expect one. */
static size_t nat_pool_paired(struct nat *nat, uint32_t internal_ip)
{
	return (size_t)(hash_mix64(internal_ip) % nat->cfg.n_public);
}

static size_t nat_pool_arbitrary(struct nat *nat, uint32_t internal_ip)
{
	(void)internal_ip;
	return (size_t)rng_below(&nat->rng, nat->cfg.n_public);
}

static const struct {
	const char *name;
	size_t (*pick)(struct nat *nat, uint32_t internal_ip);
} nat_poolings[] = {
    [NAT_POOLING_PAIRED] = {"paired", nat_pool_paired},
    [NAT_POOLING_ARBITRARY] = {"arbitrary", nat_pool_arbitrary},
};

const char *nat_pooling_name(enum nat_pooling p)
{
	return (unsigned)p <= NAT_POOLING_ARBITRARY ? nat_poolings[p].name : "unknown";
}

static const char *const tcp_unsolicited_names[] = {
    [NAT_TCP_SYN_DROP] = "drop",
    [NAT_TCP_SYN_RST] = "rst",
    [NAT_TCP_SYN_ICMP] = "icmp",
};

const char *nat_tcp_unsolicited_name(enum nat_tcp_unsolicited u)
{
	return (unsigned)u <= NAT_TCP_SYN_ICMP ? tcp_unsolicited_names[u] : "unknown";
}

int nat_tcp_unsolicited_parse(const char *s, enum nat_tcp_unsolicited *out)
{
	for (unsigned u = NAT_TCP_SYN_DROP; u <= NAT_TCP_SYN_ICMP; u++) {
		if (strcmp(s, tcp_unsolicited_names[u]) == 0) {
			*out = (enum nat_tcp_unsolicited)u;
			return 0;
		}
	}
	return -1;
}

static size_t nat_pick_address(struct nat *nat, uint32_t internal_ip)
{
	/* One address: nothing to choose, and no draw from the stream. */
	if (nat->cfg.n_public == 1)
		return 0;
	return nat_poolings[nat->cfg.pooling].pick(nat, internal_ip);
}

/* nf_nat_core.c nf_nat_used_tuple: would the flow's reply tuple, remote ->
 * external, be one conntrack already holds for another flow? The NAT's
 * router delivers unsolicited packets to its own stack with `input accept`,
 * and conntrack confirms an entry for each (remote -> public:port): that
 * port is then taken for this remote. */
static bool nat_used_tuple(const struct nat *nat, const struct nat_flow *fl,
			   const struct endpoint *external)
{
	if (nat->ct == NULL)
		return false;
	struct conntrack_tuple reply = {.proto = fl->proto,
					.src = fl->remote.ip,
					.dst = external->ip,
					.sport = fl->remote.port,
					.dport = external->port};
	struct conntrack_tuple inside = {
	    .proto = fl->proto, .src = fl->internal.ip, .sport = fl->internal.port};
	return conntrack_tuple_taken(nat->ct, &reply, &inside);
}

/* A port is free for a new mapping if no mapping or forward has it (so
 * inbound has one answer) and conntrack holds no clashing flow on it. */
static bool nat_port_free(const struct nat *nat, const struct nat_flow *fl, uint32_t ip,
			  uint32_t port)
{
	struct endpoint ep = {ip, (uint16_t)port};
	return nat_find_ext(nat, fl->proto, &ep) == NULL && !nat_used_tuple(nat, fl, &ep);
}

/* The external ports (or echo ids) a new mapping of `proto` may get. */
static void nat_range(const struct nat *nat, uint8_t proto, uint32_t *lo, uint32_t *hi)
{
	*lo = proto == IPPROTO_NUM_ICMP ? NAT_ICMP_ID_LO : nat->cfg.port_lo;
	*hi = proto == IPPROTO_NUM_ICMP ? NAT_ICMP_ID_HI : nat->cfg.port_hi;
}

/* How long an idle mapping of `proto` lives. */
static int64_t nat_timeout(const struct nat *nat, uint8_t proto)
{
	return proto == IPPROTO_NUM_ICMP ? nat->cfg.icmp_timeout : nat->cfg.mapping_timeout;
}

/* A TCP mapping has no idle timer of its own: it lives exactly as long as
 * the connections through it (nat.h "TCP"). In Linux the conntrack entry is
 * the binding, and nf_nat_core.c find_appropriate_src reuses a source's
 * translation only while an entry of that source is alive; RFC 5382 REQ-5
 * times out connections, by their state, not mappings. */
static bool nat_kept_by_flows(uint8_t proto)
{
	return proto == IPPROTO_NUM_TCP;
}

/* First free port at or after `start`, wrapping within the flow's range;
 * 0 if every port is taken. */
static uint16_t nat_probe(const struct nat *nat, const struct nat_flow *fl, uint32_t ip,
			  uint32_t start)
{
	uint32_t lo, hi;

	nat_range(nat, fl->proto, &lo, &hi);
	uint32_t range = hi - lo + 1;

	for (uint32_t i = 0; i < range; i++) {
		uint32_t p = lo + (start - lo + i) % range;
		if (nat_port_free(nat, fl, ip, p))
			return (uint16_t)p;
	}
	return 0;
}

static uint16_t nat_pick_sequential(struct nat *nat, const struct nat_flow *fl, size_t idx)
{
	uint32_t ip = nat->cfg.public_ip[idx], lo, hi;
	uint16_t *cursor =
	    fl->proto == IPPROTO_NUM_ICMP ? &nat->seq_next_icmp[idx] : &nat->seq_next[idx];
	uint16_t p;

	nat_range(nat, fl->proto, &lo, &hi);
	p = nat_probe(nat, fl, ip, *cursor);
	if (p != 0)
		*cursor = p == hi ? (uint16_t)lo : (uint16_t)(p + 1);
	return p;
}

/* An external port for a new mapping, or 0 when the range is exhausted. Any
 * mapping or forward already on (proto, address, port) is a collision:
 * external endpoints stay unique, so inbound has one answer. */
static uint16_t nat_pick_port(struct nat *nat, const struct nat_flow *fl, size_t idx)
{
	uint16_t internal_port = fl->internal.port;
	uint32_t ip = nat->cfg.public_ip[idx], lo, hi;

	nat_range(nat, fl->proto, &lo, &hi);
	uint32_t range = hi - lo + 1;

	switch (nat->cfg.ports) {
	case NAT_PORT_PRESERVE:
		/* RFC 4787 REQ-3 note: port preservation is fine but must not be
		 * relied on; when two hosts use the same port the second gets
		 * another one. Like nf_nat_core.c get_unique_tuple(), keep the
		 * port only if it lies in the configured range and is unused. */
		if (internal_port >= lo && internal_port <= hi &&
		    nat_port_free(nat, fl, ip, internal_port))
			return internal_port;
		return nat_pick_sequential(nat, fl, idx);
	case NAT_PORT_SEQUENTIAL:
		return nat_pick_sequential(nat, fl, idx);
	case NAT_PORT_RANDOM:
		break;
	}
	/* RFC 6056 style: a few uniform draws, then a linear probe from the last
	 * draw so a nearly full range still terminates (nf_nat_proto.c
	 * nf_nat_l4proto_unique_tuple does the same after its attempts). */
	uint32_t p = lo;
	for (int i = 0; i < NAT_RANDOM_TRIES; i++) {
		p = lo + (uint32_t)rng_below(&nat->rng, range);
		if (nat_port_free(nat, fl, ip, p))
			return (uint16_t)p;
	}
	return nat_probe(nat, fl, ip, p);
}

/* The part of the remote that belongs to the mapping key (RFC 4787 REQ-1):
 * nothing for EIM, the address for ADM, address and port for APDM. */
static struct endpoint nat_key_remote(const struct nat *nat, const struct endpoint *remote)
{
	struct endpoint k = {0, 0};

	if (nat->cfg.mapping != NAT_ENDPOINT_INDEPENDENT)
		k.ip = remote->ip;
	if (nat->cfg.mapping == NAT_ADDRESS_AND_PORT_DEPENDENT)
		k.port = remote->port;
	return k;
}

static struct nat_node *nat_node_new(struct nat *nat, uint8_t proto,
				     const struct endpoint *internal,
				     const struct endpoint *external,
				     const struct endpoint *key_remote)
{
	struct nat_node *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->nat = nat;
	n->m.id = nat->next_id++;
	n->m.proto = proto;
	n->m.internal = *internal;
	n->m.external = *external;
	n->m.key_remote = *key_remote;
	n->m.created_at = engine_now(nat->engine);
	n->m.expires_at = SIM_TIME_NEVER;
	n->m.remotes = n->inline_remotes;
	n->cap_remotes = NAT_INLINE_REMOTES;
	return n;
}

static void nat_drop(struct nat_result *out, enum trace_drop_reason reason,
		     enum nat_decision decision)
{
	out->verdict = NAT_VERDICT_DROP;
	out->reason = reason;
	out->decision = decision;
}

/* A new dynamic mapping for `internal` going to `remote`, or NULL with `out`
 * set to a drop. `clash`: the mapping this source would reuse clashes with a
 * conntrack entry for `remote`, so this one is for `remote` alone. */
static struct nat_node *nat_create_dynamic(struct nat *nat, const struct packet_info *info,
					   const struct endpoint *internal,
					   const struct endpoint *remote, bool clash,
					   struct nat_result *out)
{
	size_t idx = nat_pick_address(nat, internal->ip);
	struct endpoint ext = {nat->cfg.public_ip[idx], 0};
	struct endpoint key = clash ? *remote : nat_key_remote(nat, remote);
	struct nat_flow fl = {info->proto, *internal, *remote};

	ext.port = nat_pick_port(nat, &fl, idx);
	if (ext.port == 0) {
		nat_drop(out, TRACE_DROP_NAT_EXHAUSTED, NAT_DECISION_PORTS_EXHAUSTED);
		out->public_ip = ext.ip;
		uint32_t lo, hi;
		nat_range(nat, info->proto, &lo, &hi);
		out->port_lo = (uint16_t)lo;
		out->port_hi = (uint16_t)hi;
		return NULL;
	}
	struct nat_node *n = nat_node_new(nat, info->proto, internal, &ext, &key);
	if (n != NULL && !nat_kept_by_flows(info->proto)) {
		n->m.expires_at = n->m.created_at + nat_timeout(nat, info->proto);
		n->timer = engine_schedule_at(nat->engine, n->m.expires_at, nat_timer_fired, n);
		if (n->timer == 0) {
			nat_node_free(n);
			n = NULL;
		}
	}
	if (n == NULL) {
		nat_drop(out, TRACE_DROP_NAT_EXHAUSTED, NAT_DECISION_NO_MEMORY);
		return NULL;
	}
	n->clash = clash;
	nat->n_clash += clash;
	nat_maybe_grow(nat);
	nat_list_append(nat, n);
	nat_index_insert(nat, n);
	return n;
}

/* Remember a remote contacted through `n` (the filtering state). Returns true
 * if it was new. Out of memory leaves it unrecorded: its replies will be
 * filtered, which is what a NAT short of memory does. */
static bool nat_add_remote(struct nat_node *n, const struct endpoint *remote)
{
	for (size_t i = 0; i < n->m.n_remotes; i++) {
		if (nat_ep_eq(&n->m.remotes[i], remote))
			return false;
	}
	if (n->m.n_remotes == n->cap_remotes) {
		size_t cap = 2 * n->cap_remotes;
		bool inline_now = n->m.remotes == n->inline_remotes;
		struct endpoint *v =
		    realloc(inline_now ? NULL : (struct endpoint *)n->m.remotes, cap * sizeof(*v));
		if (v == NULL)
			return false;
		if (inline_now)
			memcpy(v, n->inline_remotes, sizeof(n->inline_remotes));
		n->m.remotes = v;
		n->cap_remotes = cap;
	}
	((struct endpoint *)n->m.remotes)[n->m.n_remotes++] = *remote;
	return true;
}

/* A verdict that knows the packet: src, dst and, by direction, the remote
 * and the behaviour that will decide. */
static void nat_result_init(const struct nat *nat, const struct packet_info *info, bool outbound,
			    struct nat_result *out)
{
	*out = (struct nat_result){
	    .verdict = NAT_VERDICT_TRANSLATED,
	    .decision = outbound ? NAT_DECISION_MAPPING_REUSED : NAT_DECISION_ADMITTED,
	    .reason = TRACE_DROP_NONE,
	    .proto = info->proto,
	    .src = {info->src, info->sport},
	    .dst = {info->dst, info->dport},
	    .behaviour = outbound ? nat->cfg.mapping : nat->cfg.filtering,
	};
	out->remote = outbound ? out->dst : out->src;
	if (info->proto == IPPROTO_NUM_ICMP) { /* what message: the words name it */
		out->icmp_type = info->icmp_type;
		out->icmp_code = info->icmp_code;
	}
	if (info->proto == IPPROTO_NUM_TCP)
		out->tcp_flags = info->tcp_flags;
}

/* The mapping's facts in the verdict. */
static void nat_result_mapping(struct nat_result *out, const struct nat_mapping *m)
{
	out->mapping = m;
	out->internal = m->internal;
	out->external = m->external;
	out->allowed = m->remotes;
	out->n_allowed = m->n_remotes;
	out->is_static = m->is_static;
}

/* The NAT rewrites ports, so it carries protocols that have them: UDP, and
 * ICMP echoes, whose id plays the port (RFC 5508 REQ-1): requests going
 * out, replies (and requests, which find no mapping) coming in. */
static bool nat_check_proto(const struct packet_info *info, bool outbound, struct nat_result *out)
{
	if (info->proto == IPPROTO_NUM_UDP || info->proto == IPPROTO_NUM_TCP)
		return true;
	if (info->proto == IPPROTO_NUM_ICMP && !info->icmp_error &&
	    (info->icmp_type == ICMP_ECHO_REQUEST ||
	     (!outbound && info->icmp_type == ICMP_ECHO_REPLY)))
		return true;
	nat_drop(out, TRACE_DROP_MALFORMED, NAT_DECISION_NOT_UDP);
	return false;
}

/* ---- the two questions -------------------------------------------------- */

static bool nat_has_remote(const struct nat_node *n, const struct endpoint *remote)
{
	for (size_t i = 0; i < n->m.n_remotes; i++) {
		if (nat_ep_eq(&n->m.remotes[i], remote))
			return true;
	}
	return false;
}

/* nf_nat_core.c get_unique_tuple step one (find_appropriate_src): reuse the
 * mapping this source already has - a port forward first, so a server
 * answers from its forwarded port; then one made for this very remote after
 * a clash; then the one the mapping behaviour keys (RFC 4787 REQ-1). Reuse
 * holds only while the reply tuple is unused (nf_nat_used_tuple): if a
 * conntrack entry already holds remote -> external (the router's own flow
 * for an earlier unsolicited packet, with `input accept`), *clash is set and
 * NULL returned: this remote needs a mapping of its own, on another port. */
static struct nat_node *nat_find_for_source(struct nat *nat, uint8_t proto,
					    const struct endpoint *internal,
					    const struct endpoint *remote, bool *clash)
{
	struct endpoint none = {0, 0}, key = nat_key_remote(nat, remote);
	struct nat_node *n = nat_find_key(nat, proto, internal, &none, true);

	*clash = false;
	if (n != NULL)
		return n;
	/* An explicit mapping (PCP, NAT-PMP) is the source's whatever the
	 * mapping behaviour: its outbound packets leave through it. */
	if (nat->n_explicit > 0) {
		n = nat_find_key(nat, proto, internal, &none, false);
		if (n != NULL && nat_is_explicit(&n->m))
			return n;
	}
	if (nat->n_clash > 0) {
		n = nat_find_key(nat, proto, internal, remote, false);
		if (n != NULL && n->clash)
			return n;
	}
	n = nat_find_key(nat, proto, internal, &key, false);
	if (n != NULL && nat->ct != NULL && !nat_has_remote(n, remote)) {
		struct nat_flow fl = {proto, *internal, *remote};
		if (nat_used_tuple(nat, &fl, &n->m.external)) {
			*clash = true;
			return NULL;
		}
	}
	return n;
}

void nat_translate_outbound(struct nat *nat, uint8_t *buf, size_t len,
			    const struct packet_info *info, struct nat_result *out)
{
	struct endpoint internal = {info->src, info->sport};
	struct endpoint remote = {info->dst, info->dport};
	enum trace_map_event ev = TRACE_MAP_REFRESHED;
	bool clash;

	if (info->icmp_error) {
		nat_translate_error_outbound(nat, buf, len, info, true, out);
		return;
	}
	nat_result_init(nat, info, true, out);
	if (!nat_check_proto(info, true, out))
		return;
	struct nat_node *n = nat_find_for_source(nat, info->proto, &internal, &remote, &clash);
	if (n == NULL) {
		/* nf_nat_core.c get_unique_tuple steps two and three: an
		 * address (pooling), then a port. */
		n = nat_create_dynamic(nat, info, &internal, &remote, clash, out);
		if (n == NULL)
			return;
		out->created = true;
		out->decision = NAT_DECISION_MAPPING_CREATED;
		ev = TRACE_MAP_CREATED;
	}
	if (nat_add_remote(n, &remote) && ev == TRACE_MAP_REFRESHED)
		ev = TRACE_MAP_REMOTE_ADDED;
	/* RFC 4787 REQ-6: outbound traffic always refreshes the mapping; a
	 * TCP mapping is kept by its connections instead (nat_kept_by_flows),
	 * and only its changes are told. */
	bool timed = !n->m.is_static && !nat_is_explicit(&n->m);
	if (timed && !nat_kept_by_flows(n->m.proto)) {
		n->m.expires_at = engine_now(nat->engine) + nat_timeout(nat, n->m.proto);
		out->refreshed = true;
	}
	/* An explicit mapping's lifetime is its owner's to renew. */
	if (ev != TRACE_MAP_REFRESHED ||
	    (!nat_kept_by_flows(n->m.proto) && !nat_is_explicit(&n->m)))
		nat_emit(nat, &n->m, ev, &remote);
	packet_rewrite_src(buf, len, &n->m.external);
	nat_result_mapping(out, &n->m);
}

/* RFC 4787 section 5 / REQ-8: who may come in through a mapping. */
static bool nat_filter_admits(const struct nat *nat, const struct nat_mapping *m,
			      const struct endpoint *remote)
{
	/* A forward, and a PCP / NAT-PMP mapping (RFC 6887 11: MAP opens the
	 * port to every remote; RFC 6886 3.3 likewise), admit anyone. */
	if (m->is_static || nat_is_explicit(m) || nat->cfg.filtering == NAT_ENDPOINT_INDEPENDENT)
		return true;
	for (size_t i = 0; i < m->n_remotes; i++) {
		if (m->remotes[i].ip != remote->ip)
			continue;
		if (nat->cfg.filtering == NAT_ADDRESS_DEPENDENT ||
		    m->remotes[i].port == remote->port)
			return true;
	}
	return false;
}

bool nat_admits(const struct nat *nat, const struct packet_info *info)
{
	struct endpoint external = {info->dst, info->dport};
	struct endpoint remote = {info->src, info->sport};
	const struct nat_node *n = nat_find_ext(nat, info->proto, &external);

	return (info->proto == IPPROTO_NUM_UDP || info->proto == IPPROTO_NUM_TCP ||
		(info->proto == IPPROTO_NUM_ICMP && info->icmp_type == ICMP_ECHO_REPLY)) &&
	       n != NULL && nat_filter_admits(nat, &n->m, &remote);
}

void nat_translate_inbound(struct nat *nat, uint8_t *buf, size_t len,
			   const struct packet_info *info, struct nat_result *out)
{
	struct endpoint external = {info->dst, info->dport};
	struct endpoint remote = {info->src, info->sport};

	if (info->icmp_error) {
		nat_translate_error_inbound(nat, buf, len, info, true, out);
		return;
	}
	nat_result_init(nat, info, false, out);
	if (!nat_check_proto(info, false, out))
		return;
	struct nat_node *n = nat_find_ext(nat, info->proto, &external);
	if (n == NULL) {
		nat_drop(out, TRACE_DROP_NAT_NO_MAPPING, NAT_DECISION_NO_MAPPING);
		out->external = external;
		return;
	}
	nat_result_mapping(out, &n->m);
	if (!nat_filter_admits(nat, &n->m, &remote)) {
		nat_drop(out, TRACE_DROP_NAT_FILTER, NAT_DECISION_FILTERED);
		return;
	}
	/* RFC 4787 REQ-6: inbound refreshes only where the NAT is configured
	 * to (it lets outsiders keep a mapping alive). */
	if (nat->cfg.inbound_refresh && !n->m.is_static && !nat_is_explicit(&n->m) &&
	    !nat_kept_by_flows(n->m.proto)) {
		n->m.expires_at = engine_now(nat->engine) + nat_timeout(nat, n->m.proto);
		out->refreshed = true;
		nat_emit(nat, &n->m, TRACE_MAP_REFRESHED, &remote);
	}
	packet_rewrite_dst(buf, len, &n->m.internal);
}

/* ---- ICMP errors (RFC 5508) ---------------------------------------------- */

/* The verdict on an error: the outer header as it came, the quoted flow's
 * far end as the remote, and the quoted endpoint the NAT would rewrite. */
static void nat_result_error(const struct nat *nat, const struct packet_info *info, bool outbound,
			     struct nat_result *out)
{
	const struct packet_inner *in = &info->inner;

	nat_result_init(nat, info, outbound, out);
	out->decision = NAT_DECISION_RELATED;
	out->icmp_error = true;
	out->icmp_type = info->icmp_type;
	out->icmp_code = info->icmp_code;
	out->inner_proto = in->proto;
	out->remote = outbound ? (struct endpoint){in->src, in->sport}
			       : (struct endpoint){in->dst, in->dport};
	out->inner_before = outbound ? (struct endpoint){in->dst, in->dport}
				     : (struct endpoint){in->src, in->sport};
	out->inner_after = out->inner_before;
}

/* The options and conntrack's word come first: a NAT told to drop errors
 * drops them all; one conntrack could not place has no flow to go by. */
static bool nat_error_allowed(const struct nat *nat, bool related, struct nat_result *out)
{
	/* A NAT that drops errors filters them: the trace's nat-filter. */
	if (!nat->cfg.icmp_errors) {
		nat_drop(out, TRACE_DROP_NAT_FILTER, NAT_DECISION_ICMP_ERRORS_OFF);
		return false;
	}
	if (!related) {
		nat_drop(out, TRACE_DROP_ICMP_NO_FLOW, NAT_DECISION_ICMP_NO_FLOW);
		return false;
	}
	return true;
}

/* The mapping's facts, and the rewrite of the quoted endpoint to `to` on
 * the side `inner_src` names, unless the NAT leaves the inside alone. */
static void nat_error_rewrite(const struct nat *nat, uint8_t *buf, size_t len,
			      const struct nat_node *n, bool inner_src, const struct endpoint *to,
			      struct nat_result *out)
{
	nat_result_mapping(out, &n->m);
	if (!nat->cfg.icmp_inner)
		return;
	if (inner_src)
		packet_rewrite_inner_src(buf, len, to);
	else
		packet_rewrite_inner_dst(buf, len, to);
	out->inner_translated = true;
	out->inner_after = *to;
}

void nat_translate_error_inbound(struct nat *nat, uint8_t *buf, size_t len,
				 const struct packet_info *info, bool related,
				 struct nat_result *out)
{
	const struct packet_inner *in = &info->inner;
	struct endpoint external = {in->src, in->sport};
	struct endpoint remote = {in->dst, in->dport};

	nat_result_error(nat, info, false, out);
	if (!nat_error_allowed(nat, related, out))
		return;
	/* RFC 5508 REQ-3: the quoted packet is one the NAT sent out, so its
	 * source is the mapping's external endpoint, and it went to `remote`. */
	struct nat_node *n = nat_find_ext(nat, in->proto, &external);
	if (n == NULL || !nat_has_remote(n, &remote)) {
		nat_drop(out, TRACE_DROP_ICMP_NO_FLOW, NAT_DECISION_ICMP_NO_FLOW);
		out->external = external;
		return;
	}
	packet_rewrite_dst(buf, len, &n->m.internal); /* the outer address only */
	nat_error_rewrite(nat, buf, len, n, true, &n->m.internal, out);
}

void nat_translate_error_outbound(struct nat *nat, uint8_t *buf, size_t len,
				  const struct packet_info *info, bool related,
				  struct nat_result *out)
{
	const struct packet_inner *in = &info->inner;
	struct endpoint internal = {in->dst, in->dport};
	struct endpoint remote = {in->src, in->sport};
	bool clash;

	nat_result_error(nat, info, true, out);
	if (!nat_error_allowed(nat, related, out))
		return;
	/* RFC 5508 REQ-4: the quoted packet came in through a mapping of the
	 * inside host it reached, one that let its sender in. */
	struct nat_node *n = nat_find_for_source(nat, in->proto, &internal, &remote, &clash);
	if (n == NULL || !nat_filter_admits(nat, &n->m, &remote)) {
		nat_drop(out, TRACE_DROP_ICMP_NO_FLOW, NAT_DECISION_ICMP_NO_FLOW);
		out->internal = internal;
		return;
	}
	packet_rewrite_src(buf, len, &n->m.external); /* the outer address only */
	nat_error_rewrite(nat, buf, len, n, false, &n->m.external, out);
}

/* The filtering state is the set of live flows (nf_nat_core.c keeps no
 * other: an inbound packet is translated only if it matches a conntrack
 * entry). When a flow's entry dies before its mapping - the mapping kept
 * alive by another flow - the remote it was for may no longer come in. */
void nat_flow_closed(struct nat *nat, uint8_t proto, const struct endpoint *internal,
		     const struct endpoint *external, const struct endpoint *remote)
{
	struct nat_node *n = nat_find_ext(nat, proto, external);

	/* A mapping dying this instant says so itself (TRACE_MAP_EXPIRED). */
	if (n == NULL || !nat_ep_eq(&n->m.internal, internal) ||
	    n->m.expires_at <= engine_now(nat->engine))
		return;
	struct endpoint *r = (struct endpoint *)n->m.remotes;
	for (size_t i = 0; i < n->m.n_remotes; i++) {
		if (nat_ep_eq(&r[i], remote)) {
			memmove(&r[i], &r[i + 1], (n->m.n_remotes - i - 1) * sizeof(*r));
			n->m.n_remotes--;
			nat_emit(nat, &n->m, TRACE_MAP_REMOTE_REMOVED, remote);
			/* Its last connection gone, a TCP mapping goes too. */
			if (n->m.n_remotes == 0 && !n->m.is_static && !nat_is_explicit(&n->m) &&
			    nat_kept_by_flows(proto))
				nat_destroy(nat, n, TRACE_MAP_EXPIRED);
			return;
		}
	}
}

/* ---- forwards, reboot, reconfigure, inspection -------------------------- */

void nat_attach_conntrack(struct nat *nat, const struct conntrack *ct)
{
	nat->ct = ct;
}

int nat_add_forward(struct nat *nat, uint8_t proto, uint16_t external_port,
		    const struct endpoint *internal)
{
	struct endpoint ext = {nat->cfg.public_ip[0], external_port};
	struct endpoint none = {0, 0};

	if (external_port == 0 || nat_find_ext(nat, proto, &ext) != NULL)
		return -1;
	struct nat_node *n = nat_node_new(nat, proto, internal, &ext, &none);
	if (n == NULL)
		return -1;
	n->m.is_static = true;
	n->m.origin = NAT_ORIGIN_FORWARD;
	nat_maybe_grow(nat);
	nat_list_append(nat, n);
	nat_index_insert(nat, n);
	nat_emit(nat, &n->m, TRACE_MAP_CREATED, NULL);
	return 0;
}

void nat_announce(struct nat *nat)
{
	/* Forwards are made while the world is built, before anyone watches
	 * the trace: repeat them with the topology so that every renderer
	 * (tables, dot, the JSON lines) sees them from the first instant. */
	for (struct nat_node *n = nat->head; n != NULL; n = n->next) {
		if (n->m.is_static)
			nat_emit(nat, &n->m, TRACE_MAP_CREATED, NULL);
	}
}

void nat_reboot(struct nat *nat)
{
	nat_clear_dynamic(nat);
}

int nat_reconfigure(struct nat *nat, const struct nat_config *cfg)
{
	if (!nat_config_valid(cfg))
		return -1;
	nat_clear_dynamic(nat);
	/* Forwards follow the first public address; re-key them under it. */
	for (struct nat_node *n = nat->head; n != NULL; n = n->next)
		nat_index_remove(nat, n);
	nat->cfg = *cfg;
	for (struct nat_node *n = nat->head; n != NULL; n = n->next) {
		n->m.external.ip = cfg->public_ip[0];
		nat_index_insert(nat, n);
	}
	nat_reset_cursors(nat);
	return 0;
}

size_t nat_mapping_count(const struct nat *nat)
{
	return nat->count;
}

void nat_foreach_mapping(const struct nat *nat, bool (*fn)(const struct nat_mapping *m, void *ctx),
			 void *ctx)
{
	for (const struct nat_node *n = nat->head; n != NULL; n = n->next) {
		if (!fn(&n->m, ctx))
			return;
	}
}

const struct nat_mapping *nat_mapping_by_external(const struct nat *nat, uint8_t proto,
						  const struct endpoint *external)
{
	struct nat_node *n = nat_find_ext(nat, proto, external);
	return n != NULL ? &n->m : NULL;
}

/* ---- explicit mappings (PCP, NAT-PMP) ------------------------------------ */

const char *nat_node_name(const struct nat *nat)
{
	return nat->node_name;
}

uint32_t nat_epoch(const struct nat *nat)
{
	return (uint32_t)((engine_now(nat->engine) - nat->epoch_start) / SIM_S(1));
}

/* The record of a request, with its decision and what it was granted. */
static void nat_map_emit(struct nat *nat, const struct nat_mapping *m, enum trace_map_event ev,
			 const struct trace_pcp *facts, enum pcp_decision d, uint32_t granted)
{
	struct trace_pcp f = *facts;

	f.decision = (uint8_t)d;
	f.result = pcp_decision_result(d, (enum nat_origin)f.protocol);
	f.lifetime = granted;
	nat_emit_facts(nat, m, ev, NULL, &f);
}

void nat_map_refused(struct nat *nat, uint8_t proto, const struct trace_pcp *facts)
{
	/* No mapping: the record names what was asked for. */
	struct nat_mapping m = {.proto = proto,
				.origin = (enum nat_origin)facts->protocol,
				.internal = {facts->client.ip, facts->internal_port},
				.expires_at = SIM_TIME_NEVER};

	nat_map_emit(nat, &m, TRACE_MAP_REFUSED, facts, (enum pcp_decision)facts->decision, 0);
}

/* The lifetime granted, from now: one timer, moved (not lazily re-armed:
 * a renewal may shorten it). Returns false if no timer could be set. */
static bool nat_set_lifetime(struct nat *nat, struct nat_node *n, uint32_t seconds)
{
	engine_cancel(nat->engine, n->timer);
	n->m.expires_at = engine_now(nat->engine) + (int64_t)seconds * SIM_S(1);
	n->timer = engine_schedule_at(nat->engine, n->m.expires_at, nat_timer_fired, n);
	return n->timer != 0;
}

static void nat_make_explicit(struct nat *nat, struct nat_node *n,
			      const struct nat_map_request *req)
{
	n->m.origin = req->origin;
	memcpy(n->m.nonce, req->nonce, sizeof(n->m.nonce));
	nat->n_explicit++;
}

/* A new explicit mapping: an address (the suggested one if it is ours),
 * then a port - the suggested one when free, else what the NAT's port
 * assignment gives (RFC 6887 11.3: the suggestion is a hint; RFC 6886 3.3
 * likewise). NULL when no port is left or memory is out. */
static struct nat_node *nat_explicit_new(struct nat *nat, const struct nat_map_request *req)
{
	size_t idx = nat_pick_address(nat, req->internal.ip);
	struct endpoint none = {0, 0};
	struct nat_flow fl = {req->proto, req->internal, none};
	uint32_t lo, hi;

	for (size_t i = 0; req->suggested_ip != 0 && i < nat->cfg.n_public; i++)
		if (nat->cfg.public_ip[i] == req->suggested_ip)
			idx = i;
	struct endpoint ext = {nat->cfg.public_ip[idx], 0};
	nat_range(nat, req->proto, &lo, &hi);
	if (req->suggested_port >= lo && req->suggested_port <= hi &&
	    nat_port_free(nat, &fl, ext.ip, req->suggested_port))
		ext.port = req->suggested_port;
	else
		ext.port = nat_pick_port(nat, &fl, idx);
	if (ext.port == 0)
		return NULL;
	struct nat_node *n = nat_node_new(nat, req->proto, &req->internal, &ext, &none);
	if (n == NULL)
		return NULL;
	if (!nat_set_lifetime(nat, n, req->lifetime)) {
		nat_node_free(n);
		return NULL;
	}
	nat_make_explicit(nat, n, req);
	nat_maybe_grow(nat);
	nat_list_append(nat, n);
	nat_index_insert(nat, n);
	return n;
}

/* Is `n` (an explicit mapping) the requester's? PCP goes by the nonce
 * (RFC 6887 11.3); NAT-PMP has none, and any request from the host that
 * owns the internal endpoint is its own (RFC 6886 3.3). */
static enum pcp_decision nat_owner_check(const struct nat_node *n,
					 const struct nat_map_request *req)
{
	if (n->m.origin != req->origin)
		return PCP_DECISION_NOT_OWNER;
	if (req->origin == NAT_ORIGIN_PCP &&
	    memcmp(n->m.nonce, req->nonce, sizeof(n->m.nonce)) != 0)
		return PCP_DECISION_NONCE_MISMATCH;
	return PCP_DECISION_RENEWED;
}

/* Lifetime 0 (RFC 6887 section 15, RFC 6886 3.4): delete the requester's
 * explicit mapping; nothing explicit to delete is a success too. The
 * host's implicit mapping is its traffic's, and stays. */
static enum pcp_decision nat_map_delete(struct nat *nat, struct nat_node *n,
					const struct nat_map_request *req,
					const struct trace_pcp *facts)
{
	struct nat_mapping asked = {.proto = req->proto,
				    .origin = req->origin,
				    .internal = req->internal,
				    .expires_at = SIM_TIME_NEVER};

	if (n == NULL || !nat_is_explicit(&n->m)) {
		nat_map_emit(nat, &asked, TRACE_MAP_REFUSED, facts, PCP_DECISION_NOTHING_TO_DELETE,
			     0);
		return PCP_DECISION_NOTHING_TO_DELETE;
	}
	enum pcp_decision d = nat_owner_check(n, req);
	if (d != PCP_DECISION_RENEWED) {
		nat_map_emit(nat, &n->m, TRACE_MAP_REFUSED, facts, d, 0);
		return d;
	}
	struct trace_pcp f = *facts;
	f.decision = PCP_DECISION_DELETED;
	f.result = 0;
	f.lifetime = 0;
	nat_destroy_facts(nat, n, TRACE_MAP_DELETED, &f);
	return PCP_DECISION_DELETED;
}

enum pcp_decision nat_map_explicit(struct nat *nat, const struct nat_map_request *req,
				   const struct trace_pcp *facts, const struct nat_mapping **out)
{
	struct endpoint none = {0, 0};
	struct nat_node *n = nat_find_key(nat, req->proto, &req->internal, &none, false);
	enum pcp_decision d = PCP_DECISION_CREATED;
	enum trace_map_event ev = TRACE_MAP_CREATED;

	*out = NULL;
	if (nat_find_key(nat, req->proto, &req->internal, &none, true) != NULL) {
		n = nat_find_key(nat, req->proto, &req->internal, &none, true);
		nat_map_emit(nat, &n->m, TRACE_MAP_REFUSED, facts, PCP_DECISION_NOT_OWNER, 0);
		return PCP_DECISION_NOT_OWNER; /* a port forward holds it */
	}
	if (req->lifetime == 0)
		return nat_map_delete(nat, n, req, facts);
	if (n != NULL && nat_is_explicit(&n->m)) {
		d = nat_owner_check(n, req);
		ev = TRACE_MAP_RENEWED;
	} else if (n != NULL) {
		/* The host's traffic already made a mapping for this endpoint
		 * (an endpoint-independent NAT's one mapping): it becomes the
		 * explicit one and keeps its external port, so peers that
		 * learned it (by STUN) still reach it. */
		nat_make_explicit(nat, n, req);
		ev = TRACE_MAP_RENEWED;
	} else if ((n = nat_explicit_new(nat, req)) == NULL) {
		d = PCP_DECISION_NO_RESOURCES;
	}
	if (d != PCP_DECISION_CREATED && d != PCP_DECISION_RENEWED) {
		struct nat_mapping asked = {.proto = req->proto,
					    .origin = req->origin,
					    .internal = req->internal,
					    .expires_at = SIM_TIME_NEVER};
		nat_map_emit(nat, n != NULL ? &n->m : &asked, TRACE_MAP_REFUSED, facts, d, 0);
		return d;
	}
	if (ev == TRACE_MAP_RENEWED && !nat_set_lifetime(nat, n, req->lifetime)) {
		/* Out of memory: gone rather than forever. */
		nat_destroy(nat, n, TRACE_MAP_EXPIRED);
		return PCP_DECISION_NO_RESOURCES;
	}
	nat_map_emit(nat, &n->m, ev, facts, d, req->lifetime);
	*out = &n->m;
	return d;
}
