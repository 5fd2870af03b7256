/*
 * conntrack.c - connection tracking with Linux 6.1 semantics for UDP, ICMP
 * and TCP (the TCP state machine is in the section "TCP" below).
 *
 * Layout follows netfilter (include/net/netfilter/nf_conntrack_tuple.h,
 * net/netfilter/nf_conntrack_core.c): an entry carries two tuple hash nodes,
 * one per direction, both in one hash table, so a lookup by either tuple finds
 * the entry and tells which direction matched. Entries are also kept on a list
 * in creation order, which is the order conntrack_foreach() and the printed
 * tables use (deterministic, unlike a walk over hash buckets).
 */
#include "model/conntrack.h"

#include "base/endpoint.h" /* ip_format */
#include "base/hash.h"
#include "model/conntrack_layout.h"
#include "model/conntrack_tcp.h"
#include "model/conntrack_udp.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The node holding an entry this table handed out. */
static struct ct_node *node_of(struct conntrack_entry *entry)
{
	return (struct ct_node *)((char *)entry - offsetof(struct ct_node, e));
}

void conntrack_config_default(struct conntrack_config *cfg)
{
	/* nf_conntrack_proto_udp.c: udp_timeouts[] = 30 s unreplied, 120 s
	 * replied (sysctl nf_conntrack_udp_timeout{,_stream}). */
	cfg->udp_timeout = SIM_S(30);
	cfg->udp_timeout_stream = SIM_S(120);
	cfg->udp_stream_after = SIM_S(2);
	/* nf_conntrack_proto_icmp.c: nf_ct_icmp_timeout = 30 * HZ. */
	cfg->icmp_timeout = SIM_S(30);
	/* nf_conntrack_proto_tcp.c tcp_timeouts[]. */
	cfg->tcp_timeouts[CONNTRACK_TCP_NONE] = 0;
	cfg->tcp_timeouts[CONNTRACK_TCP_SYN_SENT] = SIM_S(120);
	cfg->tcp_timeouts[CONNTRACK_TCP_SYN_RECV] = SIM_S(60);
	cfg->tcp_timeouts[CONNTRACK_TCP_ESTABLISHED] = SIM_S(5 * 24 * 3600);
	cfg->tcp_timeouts[CONNTRACK_TCP_FIN_WAIT] = SIM_S(120);
	cfg->tcp_timeouts[CONNTRACK_TCP_CLOSE_WAIT] = SIM_S(60);
	cfg->tcp_timeouts[CONNTRACK_TCP_LAST_ACK] = SIM_S(30);
	cfg->tcp_timeouts[CONNTRACK_TCP_TIME_WAIT] = SIM_S(120);
	cfg->tcp_timeouts[CONNTRACK_TCP_CLOSE] = SIM_S(10);
	cfg->tcp_timeouts[CONNTRACK_TCP_SYN_SENT2] = SIM_S(120);
	cfg->tcp_timeout_unack = SIM_S(300);
	cfg->max_entries = 65536;
}

static bool ct_tuple_eq(const struct conntrack_tuple *a, const struct conntrack_tuple *b)
{
	return a->proto == b->proto && a->src == b->src && a->dst == b->dst &&
	       a->sport == b->sport && a->dport == b->dport;
}

static const struct conntrack_tuple *ct_hnode_tuple(const struct ct_hnode *hn)
{
	return hn->dir == CONNTRACK_DIR_ORIGINAL ? &hn->owner->e.orig : &hn->owner->e.reply;
}

static void ct_hash_insert(struct conntrack *ct, struct ct_hnode *hn)
{
	size_t b = ct_hash(ct, ct_hnode_tuple(hn));

	hn->next = ct->buckets[b];
	ct->buckets[b] = hn;
}

static void ct_hash_remove(struct conntrack *ct, struct ct_hnode *hn)
{
	struct ct_hnode **pp = &ct->buckets[ct_hash(ct, ct_hnode_tuple(hn))];

	while (*pp != NULL && *pp != hn)
		pp = &(*pp)->next;
	if (*pp != NULL)
		*pp = hn->next;
}

/* Double the table when it holds more tuples than buckets. A failed grow is
 * harmless: chains just get longer. */
static void ct_maybe_grow(struct conntrack *ct)
{
	if (ct->count * 2 < ct->n_buckets)
		return;
	size_t n = ct->n_buckets * 2;
	struct ct_hnode **nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return;
	if (ct->buckets != ct->inline_buckets)
		free(ct->buckets);
	ct->buckets = nb;
	ct->n_buckets = n;
	for (struct ct_node *node = ct->head; node != NULL; node = node->next) {
		ct_hash_insert(ct, &node->hn[0]);
		ct_hash_insert(ct, &node->hn[1]);
	}
}

struct conntrack *conntrack_new(struct engine *e, const char *node_name,
				const struct conntrack_config *cfg)
{
	struct conntrack *ct = calloc(1, sizeof(*ct));
	if (ct == NULL)
		return NULL;
	ct->buckets = ct->inline_buckets;
	ct->n_buckets = CT_MIN_BUCKETS;
	ct->engine = e;
	ct->node_name = node_name;
	if (cfg != NULL)
		ct->cfg = *cfg;
	else
		conntrack_config_default(&ct->cfg);
	ct->next_id = 1;
	return ct;
}

static void ct_unlink(struct conntrack *ct, struct ct_node *node)
{
	ct_hash_remove(ct, &node->hn[0]);
	ct_hash_remove(ct, &node->hn[1]);
	if (node->prev != NULL)
		node->prev->next = node->next;
	else
		ct->head = node->next;
	if (node->next != NULL)
		node->next->prev = node->prev;
	else
		ct->tail = node->prev;
	ct->count--;
}

void conntrack_free(struct conntrack *ct)
{
	if (ct == NULL)
		return;
	struct ct_node *node = ct->head;
	while (node != NULL) {
		struct ct_node *next = node->next;
		engine_cancel(ct->engine, node->timer);
		free(node);
		node = next;
	}
	if (ct->buckets != ct->inline_buckets)
		free(ct->buckets);
	free(ct);
}

struct conntrack_entry *conntrack_lookup(struct conntrack *ct, const struct conntrack_tuple *t,
					 enum conntrack_dir *dir)
{
	for (struct ct_hnode *hn = ct->buckets[ct_hash(ct, t)]; hn != NULL; hn = hn->next) {
		if (ct_tuple_eq(ct_hnode_tuple(hn), t)) {
			if (dir != NULL)
				*dir = hn->dir;
			return &hn->owner->e;
		}
	}
	return NULL;
}

bool conntrack_tuple_taken(const struct conntrack *ct, const struct conntrack_tuple *t,
			   const struct conntrack_tuple *ignore_src)
{
	for (struct ct_hnode *hn = ct->buckets[ct_hash(ct, t)]; hn != NULL; hn = hn->next) {
		if (!ct_tuple_eq(ct_hnode_tuple(hn), t))
			continue;
		const struct conntrack_entry *e = &hn->owner->e;
		const struct conntrack_tuple *other =
		    hn->dir == CONNTRACK_DIR_ORIGINAL ? &e->reply : &e->orig;
		if (ignore_src != NULL && other->src == ignore_src->src &&
		    other->sport == ignore_src->sport)
			continue;
		return true;
	}
	return false;
}

static void ct_emit(struct conntrack *ct, const struct conntrack_entry *entry,
		    enum trace_ct_event ev, const char *why)
{
	struct trace *t = engine_trace(ct->engine);
	if (!trace_active(t))
		return;
	struct trace_record r;
	memset(&r, 0, sizeof(r));
	r.kind = TRACE_CONNTRACK;
	conntrack_entry_record(ct, entry, &r.u.ct);
	r.u.ct.event = ev;
	r.u.ct.why = why;
	trace_emit(t, &r);
}

static void ct_timer_fired(struct engine *e, void *arg);

/* The timeout a new (or ICMP) flow gets: nf_conntrack_icmp_packet re-arms
 * icmp_timeout on every packet; UDP starts with the unreplied one. */
static int64_t ct_base_timeout(const struct conntrack *ct, const struct conntrack_tuple *t)
{
	if (t->proto == IPPROTO_NUM_TCP)
		return ct->cfg.tcp_timeouts[CONNTRACK_TCP_SYN_SENT];
	return t->proto == IPPROTO_NUM_ICMP ? ct->cfg.icmp_timeout : ct->cfg.udp_timeout;
}

static uint64_t ct_packets(const struct conntrack_entry *e)
{
	return e->packets[CONNTRACK_DIR_ORIGINAL] + e->packets[CONNTRACK_DIR_REPLY];
}

static void ct_destroy(struct conntrack *ct, struct ct_node *node, const char *why)
{
	engine_cancel(ct->engine, node->timer);
	/* A TCP entry whose first segment was refused was never told (Linux
	 * never confirms it): nothing to take back. */
	if (node->e.orig.proto != IPPROTO_NUM_TCP || ct_packets(&node->e) != 0)
		ct_emit(ct, &node->e, TRACE_CT_DESTROY, why);
	ct_unlink(ct, node);
	/* nf_nat_core.c nf_nat_cleanup_conntrack: the NAT forgets the flow
	 * as the entry goes (out of the table already, so the hook sees the
	 * table as it is now). */
	if (ct->on_destroy != NULL)
		ct->on_destroy(&node->e, ct->on_destroy_ctx);
	free(node);
}

void conntrack_set_destroy_hook(struct conntrack *ct, conntrack_destroy_fn fn, void *ctx)
{
	ct->on_destroy = fn;
	ct->on_destroy_ctx = ctx;
}

/* Move an entry's deadline. Later: the pending event re-arms itself (lazy);
 * earlier: the event is moved, so the entry dies exactly then. */
static void ct_set_deadline(struct conntrack *ct, struct ct_node *node, int64_t at)
{
	bool earlier = at < node->e.expires_at;

	node->e.expires_at = at;
	if (!earlier)
		return;
	engine_cancel(ct->engine, node->timer);
	node->timer = engine_schedule_at(ct->engine, at, ct_timer_fired, node);
}

/* The entry's one timer. Refreshes only move expires_at; the event notices
 * when it fires early and re-arms at the real deadline (lazy re-arm), so a
 * busy flow costs one pending event, not one per packet (DESIGN.md). */
static void ct_timer_fired(struct engine *e, void *arg)
{
	struct ct_node *node = arg;

	node->timer = 0;
	if (node->e.expires_at > engine_now(e)) {
		node->timer = engine_schedule_at(e, node->e.expires_at, ct_timer_fired, node);
		/* Out of memory: expire now rather than never, so the table
		 * cannot fill with immortal entries. */
		if (node->timer != 0)
			return;
	}
	ct_destroy(node->ct, node, "timed out");
}

struct conntrack_entry *conntrack_create(struct conntrack *ct, const struct conntrack_tuple *orig,
					 const struct conntrack_tuple *reply)
{
	return conntrack_create_until(ct, orig, reply, CONNTRACK_LINUX_TIMEOUT);
}

struct conntrack_entry *conntrack_create_until(struct conntrack *ct,
					       const struct conntrack_tuple *orig,
					       const struct conntrack_tuple *reply,
					       int64_t expires_at)
{
	/* nf_conntrack_core.c __nf_conntrack_alloc: a full table refuses new
	 * flows ("nf_conntrack: table full, dropping packet"). */
	if (ct->count >= ct->cfg.max_entries)
		return NULL;
	ct_maybe_grow(ct);
	struct ct_node *node = calloc(1, sizeof(*node));
	if (node == NULL)
		return NULL;
	int64_t now = engine_now(ct->engine);

	node->ct = ct;
	node->e.id = ct->next_id++;
	node->e.orig = *orig;
	node->e.reply = *reply;
	node->e.created_at = now;
	/* nf_conntrack_udp_packet: a new flow gets the unreplied timeout;
	 * a translated one its binding's deadline. */
	node->e.expires_at =
	    expires_at != CONNTRACK_LINUX_TIMEOUT ? expires_at : now + ct_base_timeout(ct, orig);
	node->timer = engine_schedule_at(ct->engine, node->e.expires_at, ct_timer_fired, node);
	if (node->timer == 0) {
		free(node);
		return NULL;
	}
	node->hn[0] = (struct ct_hnode){.owner = node, .dir = CONNTRACK_DIR_ORIGINAL};
	node->hn[1] = (struct ct_hnode){.owner = node, .dir = CONNTRACK_DIR_REPLY};
	node->prev = ct->tail;
	if (ct->tail != NULL)
		ct->tail->next = node;
	else
		ct->head = node;
	ct->tail = node;
	ct->count++;
	ct_hash_insert(ct, &node->hn[0]);
	ct_hash_insert(ct, &node->hn[1]);
	/* A TCP entry is told once its first segment has set its state
	 * (ct_tcp_account), as Linux's NEW event carries SYN_SENT: the
	 * state is set by nf_conntrack_tcp_packet before the entry is
	 * confirmed and the event sent. */
	if (orig->proto != IPPROTO_NUM_TCP)
		ct_emit(ct, &node->e, TRACE_CT_NEW, NULL);
	return &node->e;
}

void conntrack_seen(struct conntrack *ct, struct conntrack_entry *entry, enum conntrack_dir dir,
		    size_t bytes)
{
	conntrack_seen_until(ct, entry, dir, bytes, CONNTRACK_LINUX_TIMEOUT);
}

void conntrack_seen_until(struct conntrack *ct, struct conntrack_entry *entry,
			  enum conntrack_dir dir, size_t bytes, int64_t expires_at)
{
	int64_t now = engine_now(ct->engine);
	/* The packet that created the entry is told by its NEW record: it did
	 * not also refresh the entry (conntrack -E shows one [NEW] event). */
	bool creating =
	    entry->packets[CONNTRACK_DIR_ORIGINAL] + entry->packets[CONNTRACK_DIR_REPLY] == 0;
	bool changed = false;
	int64_t deadline;

	entry->packets[dir]++;
	entry->bytes[dir] += bytes;
	/* nf_conntrack_proto_icmp.c nf_conntrack_icmp_packet: every packet
	 * re-arms the ICMP timeout, and nothing ever sets IPS_ASSURED. */
	if (entry->orig.proto == IPPROTO_NUM_ICMP)
		deadline = now + ct->cfg.icmp_timeout;
	/* UDP: model/conntrack_udp.h, shared with the IPv6 table. */
	else {
		bool stream;

		deadline =
		    ct_udp_deadline(&ct->cfg, entry->created_at, entry->seen_reply, now, &stream);
		if (stream && !entry->assured) {
			entry->assured = true;
			changed = true;
		}
	}
	/* A translated flow lives exactly as long as its NAT binding (the
	 * caller's deadline): see docs/nat-and-conntrack.md. */
	if (expires_at != CONNTRACK_LINUX_TIMEOUT)
		deadline = expires_at;
	ct_set_deadline(ct, node_of(entry), deadline);
	/* nf_conntrack_core.c nf_conntrack_in: IPS_SEEN_REPLY is set after the
	 * protocol handler ran, so the first reply itself still gets the
	 * unreplied timeout and cannot make the flow ASSURED. */
	if (dir == CONNTRACK_DIR_REPLY && !entry->seen_reply) {
		entry->seen_reply = true;
		changed = true;
	}
	if (changed || !creating)
		ct_emit(ct, entry, changed ? TRACE_CT_UPDATE : TRACE_CT_REFRESH, NULL);
}

enum conntrack_state conntrack_state_of(const struct conntrack_entry *entry, enum conntrack_dir dir)
{
	return ct_state_of(entry != NULL, entry != NULL && entry->seen_reply, dir);
}

void conntrack_flush(struct conntrack *ct, const char *why)
{
	while (ct->head != NULL)
		ct_destroy(ct, ct->head, why);
}

size_t conntrack_count(const struct conntrack *ct)
{
	return ct->count;
}

void conntrack_foreach(const struct conntrack *ct,
		       bool (*fn)(const struct conntrack_entry *e, void *ctx), void *ctx)
{
	for (const struct ct_node *node = ct->head; node != NULL; node = node->next) {
		if (!fn(&node->e, ctx))
			return;
	}
}

static struct trace_ct_tuple ct_trace_tuple(const struct conntrack_tuple *t)
{
	return (struct trace_ct_tuple){
	    .src = t->src, .dst = t->dst, .sport = t->sport, .dport = t->dport};
}

void conntrack_entry_record(const struct conntrack *ct, const struct conntrack_entry *entry,
			    struct trace_conntrack *out)
{
	memset(out, 0, sizeof(*out));
	out->node = ct->node_name;
	out->id = entry->id;
	out->proto = entry->orig.proto;
	out->orig = ct_trace_tuple(&entry->orig);
	out->reply = ct_trace_tuple(&entry->reply);
	out->seen_reply = entry->seen_reply;
	out->assured = entry->assured;
	out->expires_at = entry->expires_at;
	out->mark = entry->mark;
	out->tcp_state = entry->tcp.state;
	/* The only reference is the table's own: conntrack -L shows use=1. */
	out->use = 1;
}

/* ICMP tuples as Linux's icmp_pkt_to_tuple keys them: the id in the source
 * part, type and code in the destination part (sim/trace.h's encoding). */
static uint16_t ct_icmp_key(uint8_t type, uint8_t code)
{
	return (uint16_t)(type << 8 | code);
}

void conntrack_tuple_of(const struct packet_info *info, struct conntrack_tuple *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = info->proto;
	out->src = info->src;
	out->dst = info->dst;
	if (info->proto == IPPROTO_NUM_ICMP) {
		out->sport = info->icmp_error ? 0 : info->icmp_id;
		out->dport = ct_icmp_key(info->icmp_type, info->icmp_code);
		return;
	}
	out->sport = info->sport;
	out->dport = info->dport;
}

void conntrack_tuple_of_inner(const struct packet_info *info, struct conntrack_tuple *out)
{
	const struct packet_inner *in = &info->inner;

	memset(out, 0, sizeof(*out));
	out->proto = in->proto;
	out->src = in->src;
	out->dst = in->dst;
	if (in->proto == IPPROTO_NUM_ICMP) {
		out->sport = in->icmp_id;
		out->dport = ct_icmp_key(in->icmp_type, in->icmp_code);
		return;
	}
	out->sport = in->sport;
	out->dport = in->dport;
}

/* nf_conntrack_proto_icmp.c invmap: the answer to each query type (0 = the
 * type has none). Types beyond the table have none either. */
static uint8_t ct_icmp_answer(uint8_t type, bool *ok)
{
	static const uint8_t invmap[] = {
	    /* echo, timestamp, information, address mask: request <-> reply */
	    [0] = 8 + 1,   [8] = 0 + 1,	  [13] = 14 + 1, [14] = 13 + 1,
	    [15] = 16 + 1, [16] = 15 + 1, [17] = 18 + 1, [18] = 17 + 1,
	};

	*ok = type < sizeof(invmap) && invmap[type] != 0;
	return *ok ? (uint8_t)(invmap[type] - 1) : type;
}

bool conntrack_tuple_invert(const struct conntrack_tuple *t, struct conntrack_tuple *out)
{
	bool ok = true;

	memset(out, 0, sizeof(*out));
	out->proto = t->proto;
	out->src = t->dst;
	out->dst = t->src;
	if (t->proto == IPPROTO_NUM_ICMP) {
		/* nf_conntrack_invert_icmp_tuple: same id, the answer's type,
		 * same code. */
		uint8_t type = ct_icmp_answer((uint8_t)(t->dport >> 8), &ok);
		out->sport = t->sport;
		out->dport = ct_icmp_key(type, (uint8_t)(t->dport & 0xff));
		return ok;
	}
	out->sport = t->dport;
	out->dport = t->sport;
	return true;
}

/* ---- TCP ------------------------------------------------------------------ */

/* The machine is model/conntrack_tcp.h's, shared with the IPv6 table; this
 * table hands it the segment and does the bookkeeping. */

bool conntrack_tcp_flags_valid(uint8_t flags)
{
	return ct_tcp_flags_valid(flags);
}

/* The machine's view of a parsed segment. */
static inline struct conntrack_tcp_segment ct_segment_of(const struct packet_info *info)
{
	return (struct conntrack_tcp_segment){.tcp_flags = info->tcp_flags,
					      .tcp_header_len = info->tcp_header_len,
					      .tcp_window = info->tcp_window,
					      .tcp_seq = info->tcp_seq,
					      .tcp_ack = info->tcp_ack,
					      .payload_len = info->payload_len,
					      .tcp_opt = &info->tcp_opt};
}

static inline struct conntrack_tcp_flow ct_flow_of(const struct conntrack_entry *e)
{
	return (struct conntrack_tcp_flow){.seen_reply = e->seen_reply, .assured = e->assured};
}

/* What conntrack_classify needs: conntrack_tcp_accepts on the entry's state
 * (or none). */
static bool ct_tcp_acceptable(const struct conntrack_entry *e, enum conntrack_dir dir,
			      const struct packet_info *info)
{
	struct conntrack_tcp_segment seg = ct_segment_of(info);

	if (e == NULL)
		return conntrack_tcp_accepts(NULL, (struct conntrack_tcp_flow){0}, dir, &seg);
	return conntrack_tcp_accepts(&e->tcp, ct_flow_of(e), dir, &seg);
}

/* The bookkeeping of conntrack_seen_until for a TCP segment: counters,
 * deadline (unless `refresh` is false), [SEEN_REPLY], and the one record
 * it emits. */
static void ct_tcp_account(struct conntrack *ct, struct conntrack_entry *e, enum conntrack_dir dir,
			   size_t bytes, int64_t timeout, bool changed, bool refresh)
{
	bool creating = ct_packets(e) == 0;

	e->packets[dir]++;
	e->bytes[dir] += bytes;
	if (refresh)
		ct_set_deadline(ct, node_of(e), engine_now(ct->engine) + timeout);
	if (dir == CONNTRACK_DIR_REPLY && !e->seen_reply) {
		e->seen_reply = true;
		changed = true;
	}
	if (creating)
		ct_emit(ct, e, TRACE_CT_NEW, NULL); /* with its state: conntrack_create_until */
	else
		ct_emit(ct, e, changed ? TRACE_CT_UPDATE : TRACE_CT_REFRESH, NULL);
}

enum conntrack_tcp_verdict conntrack_seen_tcp(struct conntrack *ct, struct conntrack_entry *entry,
					      enum conntrack_dir dir,
					      const struct packet_info *info)
{
	return conntrack_seen_tcp_idle(ct, entry, dir, info, NULL);
}

bool conntrack_tcp_reopens(const struct conntrack_entry *entry, enum conntrack_dir dir,
			   const struct packet_info *info)
{
	return entry->orig.proto == IPPROTO_NUM_TCP &&
	       conntrack_tcp_would_reopen(&entry->tcp, dir, info->tcp_flags);
}

void conntrack_destroy(struct conntrack *ct, struct conntrack_entry *entry, const char *why)
{
	ct_destroy(ct, node_of(entry), why);
}

enum conntrack_tcp_verdict
conntrack_seen_tcp_idle(struct conntrack *ct, struct conntrack_entry *entry, enum conntrack_dir dir,
			const struct packet_info *info, const struct conntrack_tcp_idle *idle)
{
	struct conntrack_tcp_segment seg = ct_segment_of(info);
	struct conntrack_tcp_outcome o;

	conntrack_tcp_advance(&ct->cfg, &entry->tcp, ct_flow_of(entry), dir, &seg, idle, &o);
	switch (o.verdict) {
	case CONNTRACK_TCP_TRACKED:
		entry->assured |= o.assured;
		ct_tcp_account(ct, entry, dir, info->total_len, o.timeout, o.changed, o.refresh);
		break;
	case CONNTRACK_TCP_REOPEN:
		ct_destroy(ct, node_of(entry), "reopened by a new SYN");
		break;
	case CONNTRACK_TCP_KILLED:
		ct_destroy(ct, node_of(entry), "reset before any reply");
		break;
	default:
		break;
	}
	return o.verdict;
}

/* nf_conntrack_icmp_packet valid_new[]: the types that may start a flow
 * (the queries); any other without an entry is left untracked. */
static bool ct_icmp_valid_new(uint8_t type)
{
	return type == 8 || type == 13 || type == 15 || type == 17;
}

/* nf_conntrack_proto_icmp.c nf_conntrack_inet_error (6.1): the quoted
 * packet's tuple, inverted, is what a reply to it would carry; the entry
 * holding it is the flow the error is about. The error must be addressed to
 * the side that sent the quoted packet ("outer daddr != inner"), else it is
 * left untracked. */
static enum conntrack_state ct_classify_error(struct conntrack *ct, const struct packet_info *info,
					      struct conntrack_entry **entry,
					      enum conntrack_dir *dir)
{
	struct conntrack_tuple inner, inv;
	enum conntrack_dir d = CONNTRACK_DIR_ORIGINAL;
	struct conntrack_entry *e;

	conntrack_tuple_of_inner(info, &inner);
	if (!conntrack_tuple_invert(&inner, &inv))
		return CONNTRACK_INVALID;
	e = conntrack_lookup(ct, &inv, &d);
	if (e == NULL || (d == CONNTRACK_DIR_ORIGINAL ? e->orig.dst : e->reply.dst) != info->dst)
		return CONNTRACK_INVALID;
	*entry = e;
	*dir = d;
	ct_emit(ct, e, TRACE_CT_RELATED, NULL);
	return CONNTRACK_RELATED;
}

bool conntrack_entry_translated(const struct conntrack_entry *entry)
{
	struct conntrack_tuple inv;

	return conntrack_tuple_invert(&entry->orig, &inv) && !ct_tuple_eq(&inv, &entry->reply);
}

enum conntrack_invalid conntrack_tcp_invalid_cause(const struct conntrack_entry *entry,
						   const struct packet_info *info)
{
	if (info->proto != IPPROTO_NUM_TCP)
		return CONNTRACK_INVALID_NONE;
	if (!conntrack_tcp_flags_valid(info->tcp_flags))
		return CONNTRACK_INVALID_FLAGS;
	return entry == NULL ? CONNTRACK_INVALID_NEW : CONNTRACK_INVALID_SEGMENT;
}

enum conntrack_state conntrack_classify(struct conntrack *ct, const struct packet_info *info,
					struct conntrack_entry **entry, enum conntrack_dir *dir)
{
	struct conntrack_tuple t;

	*entry = NULL;
	*dir = CONNTRACK_DIR_ORIGINAL;
	if (info->proto == IPPROTO_NUM_ICMP && info->icmp_error)
		return ct_classify_error(ct, info, entry, dir);
	conntrack_tuple_of(info, &t);
	*entry = conntrack_lookup(ct, &t, dir);
	if (*entry == NULL && info->proto == IPPROTO_NUM_ICMP &&
	    !ct_icmp_valid_new(info->icmp_type))
		return CONNTRACK_INVALID;
	if (info->proto == IPPROTO_NUM_TCP && !ct_tcp_acceptable(*entry, *dir, info))
		return CONNTRACK_INVALID;
	return conntrack_state_of(*entry, *dir);
}
