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

		deadline = ct_udp_deadline(&ct->cfg, entry->created_at, entry->seen_reply, now,
					   &stream);
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

/* nf_conntrack_proto_tcp.c (Linux 6.1): nf_conntrack_tcp_packet's state
 * table and special cases, tcp_new, and tcp_in_window's sequence and window
 * checks. The names of the kernel's variables are kept where they help
 * reading the two side by side. */

/* get_conntrack_index's classes of a segment's flags. */
enum ct_tcp_index { CT_SYN, CT_SYNACK, CT_FIN, CT_ACK, CT_RST, CT_NONE, CT_INDEXES };

#define sNO CONNTRACK_TCP_NONE
#define sSS CONNTRACK_TCP_SYN_SENT
#define sSR CONNTRACK_TCP_SYN_RECV
#define sES CONNTRACK_TCP_ESTABLISHED
#define sFW CONNTRACK_TCP_FIN_WAIT
#define sCW CONNTRACK_TCP_CLOSE_WAIT
#define sLA CONNTRACK_TCP_LAST_ACK
#define sTW CONNTRACK_TCP_TIME_WAIT
#define sCL CONNTRACK_TCP_CLOSE
#define sS2 CONNTRACK_TCP_SYN_SENT2
#define sIV CONNTRACK_TCP_STATES       /* invalid: TCP_CONNTRACK_MAX */
#define sIG (CONNTRACK_TCP_STATES + 1) /* ignored: TCP_CONNTRACK_IGNORE */

/* nf_conntrack_proto_tcp.c (6.1) tcp_conntracks[direction][index][state]:
 * the state a segment of each flag class moves a flow to. The kernel's
 * comments beside each row give the reasons. */
static const uint8_t ct_tcp_table[2][CT_INDEXES][CONNTRACK_TCP_STATES] = {
    {
	/* ORIGINAL   sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/* syn    */ {sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2},
	/* synack */ {sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
    {
	/* REPLY      sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
	/* syn    */ {sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2},
	/* synack */ {sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR},
	/* fin    */ {sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV},
	/* ack    */ {sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG},
	/* rst    */ {sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL},
	/* none   */ {sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV},
    },
};

/* struct conntrack_tcp flags: IP_CT_TCP_FLAG_CLOSE_INIT per direction, and
 * IP_CT_TCP_SIMULTANEOUS_OPEN. */
#define CT_TCP_CLOSE_INIT(dir) (1u << (dir))
#define CT_TCP_SIMULTANEOUS_OPEN 0x04
/* last_flags: IP_CT_EXP_CHALLENGE_ACK (an ignored SYN in LAST_ACK). */
#define CT_TCP_EXP_CHALLENGE_ACK 0x40

/* TCP_MAX_WSCALE (RFC 7323 2.3), MAXACKWINCONST, nf_conntrack_tcp_max_retrans. */
#define CT_TCP_MAX_WSCALE 14
#define CT_TCP_MAXACKWINCONST 66000u
#define CT_TCP_MAX_RETRANS 3

/* Sequence space comparisons (include/net/tcp.h before/after). */
static bool seq_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return seq_before(b, a);
}

static enum ct_tcp_index ct_tcp_index(uint8_t flags)
{
	if (flags & TCP_RST)
		return CT_RST;
	if (flags & TCP_SYN)
		return (flags & TCP_ACK) ? CT_SYNACK : CT_SYN;
	if (flags & TCP_FIN)
		return CT_FIN;
	return (flags & TCP_ACK) ? CT_ACK : CT_NONE;
}

bool conntrack_tcp_flags_valid(uint8_t flags)
{
	/* tcp_valid_flags[], indexed by the flags less PSH, ECE and CWR. */
	switch (flags & (uint8_t) ~(TCP_PSH | TCP_ECE | TCP_CWR)) {
	case TCP_SYN:
	case TCP_SYN | TCP_URG:
	case TCP_SYN | TCP_ACK:
	case TCP_RST:
	case TCP_RST | TCP_ACK:
	case TCP_FIN | TCP_ACK:
	case TCP_FIN | TCP_ACK | TCP_URG:
	case TCP_ACK:
	case TCP_ACK | TCP_URG:
		return true;
	default:
		return false;
	}
}

/* segment_seq_plus_len: where the segment ends in sequence space. */
static uint32_t ct_tcp_end(const struct packet_info *info)
{
	return info->tcp_seq + (uint32_t)info->payload_len + ((info->tcp_flags & TCP_SYN) ? 1 : 0) +
	       ((info->tcp_flags & TCP_FIN) ? 1 : 0);
}

/* tcp_options: window scale and SACK permitted, for a segment that carries
 * options at all. */
static void ct_tcp_options(const struct packet_info *info, struct conntrack_tcp_dir *d)
{
	const struct tcp_options *o = &info->tcp_opt;

	if (info->tcp_header_len <= TCP_HEADER_MIN)
		return;
	d->td_scale = 0;
	d->flags &= CONNTRACK_TCP_BE_LIBERAL;
	if (o->seen & TCP_OPT_SEEN(TCP_OPT_SACK_PERM))
		d->flags |= CONNTRACK_TCP_SACK_PERM;
	if (o->seen & TCP_OPT_SEEN(TCP_OPT_WSCALE)) {
		d->td_scale = o->wscale > CT_TCP_MAX_WSCALE ? CT_TCP_MAX_WSCALE : o->wscale;
		d->flags |= CONNTRACK_TCP_WINDOW_SCALE;
	}
}

/* tcp_new: the first segment of a new entry sets up the original
 * direction: a SYN with its options; anything else (an ACK picked up
 * mid-stream, nf_conntrack_tcp_loose = 1) from the segment alone, with
 * both directions liberal, since its window scale is unknown. */
static void ct_tcp_new(struct conntrack_tcp *t, const struct packet_info *info)
{
	struct conntrack_tcp_dir *d = &t->seen[0];

	memset(t, 0, sizeof(*t));
	d->td_end = ct_tcp_end(info);
	d->td_maxwin = info->tcp_window != 0 ? info->tcp_window : 1;
	if (ct_tcp_index(info->tcp_flags) == CT_SYN) {
		d->td_maxend = d->td_end;
		ct_tcp_options(info, d);
	} else {
		d->td_maxend = d->td_end + d->td_maxwin;
		t->seen[0].flags = t->seen[1].flags =
		    CONNTRACK_TCP_SACK_PERM | CONNTRACK_TCP_BE_LIBERAL;
	}
	t->last_index = CT_NONE;
}

/* tcp_init_sender: a SYN/ACK answering the SYN (or the reply's SYN of a
 * simultaneous open) sets up its direction; window scaling holds only if
 * both sides offered it (RFC 7323). */
static void ct_tcp_init_sender(struct conntrack_tcp *t, enum conntrack_dir dir, uint32_t end,
			       uint32_t win, const struct packet_info *info)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];

	sender->td_end = sender->td_maxend = end;
	sender->td_maxwin = win == 0 ? 1 : win;
	ct_tcp_options(info, sender);
	if (dir == CONNTRACK_DIR_REPLY && !((sender->flags & CONNTRACK_TCP_WINDOW_SCALE) &&
					    (receiver->flags & CONNTRACK_TCP_WINDOW_SCALE))) {
		sender->td_scale = 0;
		receiver->td_scale = 0;
	}
}

static uint32_t ct_tcp_maxackwindow(const struct conntrack_tcp_dir *sender)
{
	return sender->td_maxwin > CT_TCP_MAXACKWINCONST ? sender->td_maxwin
							 : CT_TCP_MAXACKWINCONST;
}

/* What tcp_in_window found. */
enum ct_tcp_window { CT_WIN_ACCEPT, CT_WIN_IGNORE, CT_WIN_INVALID };

/* nf_tcp_log_invalid: a liberal direction (a flow picked up mid-stream)
 * passes what the checks refuse. */
static enum ct_tcp_window ct_tcp_refuse(const struct conntrack_tcp_dir *sender,
					enum ct_tcp_window res)
{
	return (sender->flags & CONNTRACK_TCP_BE_LIBERAL) ? CT_WIN_ACCEPT : res;
}

/* tcp_in_window's first part: a direction seen for the first time is set
 * up from this segment. Returns true when the segment is accepted at once
 * (a SYN without ACK: simultaneous open). */
static bool ct_tcp_window_init(struct conntrack_tcp *t, enum conntrack_dir dir,
			       const struct packet_info *info, uint32_t end, uint32_t sack)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];
	bool syn = info->tcp_flags & TCP_SYN, ack = info->tcp_flags & TCP_ACK;
	uint32_t win = info->tcp_window;

	if (sender->td_maxwin == 0) {
		if (syn) {
			ct_tcp_init_sender(t, dir, end, win, info);
			return !ack;
		}
		/* Mid-connection: its history is lost; use the segment. */
		uint32_t swin = win << sender->td_scale;
		sender->td_end = end;
		sender->td_maxwin = swin == 0 ? 1 : swin;
		sender->td_maxend = end + sender->td_maxwin;
		if (receiver->td_maxwin == 0)
			receiver->td_end = receiver->td_maxend = sack;
		else if (sack == receiver->td_end + 1)
			receiver->td_end++; /* likely a reply to a keepalive */
		return false;
	}
	/* RFC 793: a reinitialised TCP uses larger sequence numbers: a new
	 * SYN(/ACK) in the handshake sets its direction up again. */
	if (syn && seq_after(end, sender->td_end) && (t->state == sSS || t->state == sSR)) {
		ct_tcp_init_sender(t, dir, end, win, info);
		return dir == CONNTRACK_DIR_REPLY && !ack;
	}
	return false;
}

/* tcp_in_window's four conditions (I: seq <= td_maxend; II: the end in the
 * receiver's window; III: ack <= receiver's td_end; IV: ack not too far
 * behind), in the kernel's order and with its answers. SACK blocks are
 * not read: the highest SACK edge is taken to be the ACK. */
static enum ct_tcp_window ct_tcp_window_check(struct conntrack_tcp *t, enum conntrack_dir dir,
					      uint32_t seq, uint32_t end, uint32_t sack)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];

	if (!seq_before(seq, sender->td_maxend + 1)) {
		uint32_t overshot = end - sender->td_maxend + 1;
		bool ack_ok = seq_after(sack, receiver->td_end - ct_tcp_maxackwindow(sender) - 1);
		bool in_recv_win = receiver->td_maxwin != 0 &&
				   seq_after(end, sender->td_end - receiver->td_maxwin - 1);

		if (in_recv_win && ack_ok && overshot <= receiver->td_maxwin &&
		    seq_before(sack, receiver->td_end + 1)) {
			/* A TCP sending more than the window allows: noted,
			 * so that the peer's ACK for it stays valid. */
			sender->td_end = end;
			sender->flags |= CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
			return ct_tcp_refuse(sender, CT_WIN_IGNORE);
		}
		return ct_tcp_refuse(sender, CT_WIN_INVALID); /* SEQ is over upper bound */
	}
	if (!seq_before(sack, receiver->td_end + 1))
		return ct_tcp_refuse(sender, CT_WIN_INVALID); /* ACK is over upper bound */
	if (receiver->td_maxwin != 0 && !seq_after(end, sender->td_end - receiver->td_maxwin - 1))
		return ct_tcp_refuse(sender, CT_WIN_IGNORE); /* SEQ is under lower bound */
	if (!seq_after(sack, receiver->td_end - ct_tcp_maxackwindow(sender) - 1))
		return ct_tcp_refuse(sender, CT_WIN_IGNORE); /* ACK under lower bound */
	return CT_WIN_ACCEPT;
}

/* tcp_in_window's bookkeeping for an accepted segment: the sender's end
 * and largest window, the receiver's right edge, unacknowledged data, and
 * retransmissions of the same ACK segment. */
static void ct_tcp_window_update(struct conntrack_tcp *t, enum conntrack_dir dir,
				 enum ct_tcp_index index, const struct packet_info *info,
				 uint32_t ack, uint32_t end)
{
	struct conntrack_tcp_dir *sender = &t->seen[dir], *receiver = &t->seen[!dir];
	uint32_t win = info->tcp_window, sack = ack, seq = info->tcp_seq;

	if (!(info->tcp_flags & TCP_SYN))
		win <<= sender->td_scale;
	if (sender->td_maxwin < win)
		sender->td_maxwin = win;
	if (seq_after(end, sender->td_end)) {
		sender->td_end = end;
		sender->flags |= CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
	}
	if ((info->tcp_flags & TCP_ACK) &&
	    (!(sender->flags & CONNTRACK_TCP_MAXACK_SET) || seq_after(ack, sender->td_maxack))) {
		sender->td_maxack = ack;
		sender->flags |= CONNTRACK_TCP_MAXACK_SET;
	}
	if (receiver->td_maxwin != 0 && seq_after(end, sender->td_maxend))
		receiver->td_maxwin += end - sender->td_maxend;
	if (seq_after(sack + win, receiver->td_maxend - 1)) {
		receiver->td_maxend = sack + win + (win == 0 ? 1 : 0);
	}
	if (ack == receiver->td_end)
		receiver->flags &= (uint8_t)~CONNTRACK_TCP_DATA_UNACKNOWLEDGED;
	if (index != CT_ACK)
		return;
	if (t->last_dir == dir && t->last_seq == seq && t->last_ack == ack && t->last_end == end &&
	    t->last_win == info->tcp_window) {
		if (t->retrans < UINT8_MAX)
			t->retrans++;
		return;
	}
	t->last_dir = (uint8_t)dir;
	t->last_seq = seq;
	t->last_ack = ack;
	t->last_end = end;
	t->last_win = info->tcp_window;
	t->retrans = 0;
}

/* tcp_in_window (nf_conntrack_tcp_no_window_check = 0, be_liberal = 0). */
static enum ct_tcp_window ct_tcp_in_window(struct conntrack_tcp *t, enum conntrack_dir dir,
					   enum ct_tcp_index index, const struct packet_info *info)
{
	struct conntrack_tcp_dir *receiver = &t->seen[!dir];
	uint32_t seq = info->tcp_seq, ack = info->tcp_ack, end = ct_tcp_end(info);
	enum ct_tcp_window res;

	if (ct_tcp_window_init(t, dir, info, end, ack))
		return CT_WIN_ACCEPT;
	/* No ACK: pretend it was set and right; so too the zero ACK of
	 * broken stacks' RST+ACK. */
	if (!(info->tcp_flags & TCP_ACK) ||
	    ((info->tcp_flags & (TCP_ACK | TCP_RST)) == (TCP_ACK | TCP_RST) && ack == 0))
		ack = receiver->td_end;
	if ((info->tcp_flags & TCP_RST) && seq == 0 && t->state == sSS)
		seq = end = t->seen[dir].td_end; /* an RST answering the SYN */
	res = ct_tcp_window_check(t, dir, seq, end, ack);
	if (res == CT_WIN_ACCEPT)
		ct_tcp_window_update(t, dir, index, info, ack, end);
	return res;
}

/* The TCP_CONNTRACK_IGNORE case: an out-of-sync segment passes untouched,
 * noted so that a SYN/ACK answering an ignored SYN brings the entry back in
 * step ("b)" in the kernel: then true, and the direction that sent the SYN
 * is set up from what was noted). */
static bool ct_tcp_ignore(struct conntrack_tcp *t, enum conntrack_dir dir, enum ct_tcp_index index,
			  const struct packet_info *info, uint8_t old)
{
	if (index == CT_SYNACK && t->last_index == CT_SYN && t->last_dir != dir &&
	    info->tcp_ack == t->last_end) {
		struct conntrack_tcp_dir *s = &t->seen[t->last_dir];

		s->td_end = s->td_maxend = t->last_end;
		s->td_maxwin = t->last_win == 0 ? 1 : t->last_win;
		s->td_scale = t->last_wscale;
		s->flags = t->last_flags & (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK;
		t->last_flags &= (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK;
		t->seen[dir].td_end = t->seen[dir].td_maxend = t->seen[dir].td_maxwin = 0;
		t->seen[dir].td_maxack = 0;
		t->seen[dir].td_scale = 0;
		t->seen[dir].flags &= CONNTRACK_TCP_BE_LIBERAL;
		return true;
	}
	t->last_index = (uint8_t)index;
	t->last_dir = (uint8_t)dir;
	t->last_seq = info->tcp_seq;
	t->last_end = ct_tcp_end(info);
	t->last_win = info->tcp_window;
	if (index == CT_SYN && dir == CONNTRACK_DIR_ORIGINAL) {
		struct conntrack_tcp_dir seen = {0};

		ct_tcp_options(info, &seen);
		t->last_flags = seen.flags & (CONNTRACK_TCP_WINDOW_SCALE | CONNTRACK_TCP_SACK_PERM);
		t->last_wscale = (seen.flags & CONNTRACK_TCP_WINDOW_SCALE) ? seen.td_scale : 0;
		if (old == sLA) /* an RFC 5961 challenge ACK may answer it */
			t->last_flags |= CT_TCP_EXP_CHALLENGE_ACK;
	}
	if (old == sSS && index == CT_ACK && dir == CONNTRACK_DIR_REPLY)
		t->last_ack = info->tcp_ack; /* possibly a challenge ACK to the SYN */
	return false;
}

/* nf_conntrack_tcp_established: ESTABLISHED and [ASSURED]. */
static bool ct_tcp_established(const struct conntrack_entry *e)
{
	return e->tcp.state == sES && e->assured;
}

/* What to do with a segment the table moves to CLOSE: an RST. */
enum ct_tcp_rst { CT_RST_CHECK_WINDOW, CT_RST_IN_WINDOW, CT_RST_INVALID };

/* The TCP_CONNTRACK_CLOSE case for an RST: one out of step with what the
 * other side acknowledged is invalid ("invalid rst"); in an ESTABLISHED
 * flow one that does not match exactly keeps the state (a challenge ACK
 * may follow, RFC 5961); one answering a segment let through unchecked
 * skips the window checks. */
static enum ct_tcp_rst ct_tcp_rst(const struct conntrack_entry *e, const struct conntrack_tcp *t,
				  enum conntrack_dir dir, const struct packet_info *info,
				  uint8_t *next)
{
	const struct conntrack_tcp_dir *other = &t->seen[!dir];
	uint32_t seq = info->tcp_seq;

	/* tcp_can_early_drop: closing already, the tuple may be reused. */
	if (t->state == sFW || t->state == sLA || t->state == sTW || t->state == sCL ||
	    t->state == sCW)
		return CT_RST_IN_WINDOW;
	if ((other->flags & CONNTRACK_TCP_MAXACK_SET) && t->last_index != CT_SYN) {
		if (seq == 0 && !ct_tcp_established(e))
			return CT_RST_CHECK_WINDOW;
		if (seq_before(seq, other->td_maxack))
			return CT_RST_INVALID;
		if (!ct_tcp_established(e) || seq == other->td_maxack)
			return CT_RST_CHECK_WINDOW;
		if (t->last_index == CT_ACK && t->last_dir == dir && seq == t->last_end)
			return CT_RST_CHECK_WINDOW;
		*next = t->state;
	}
	if (((e->seen_reply && t->last_index == CT_SYN) ||
	     (!e->assured && t->last_index == CT_ACK)) &&
	    info->tcp_ack == t->last_end)
		return CT_RST_IN_WINDOW;
	if (t->state == sSS && t->last_index == CT_ACK && t->last_dir == CONNTRACK_DIR_REPLY &&
	    seq == t->last_ack)
		return CT_RST_IN_WINDOW;
	return CT_RST_CHECK_WINDOW;
}

/* The special cases of nf_conntrack_tcp_packet's switch for the new state
 * the table gave. Returns IGNORED, INVALID or REOPEN when the segment ends
 * there, else TRACKED with *check saying whether tcp_in_window runs. */
static enum conntrack_tcp_verdict ct_tcp_special(const struct conntrack_entry *e,
						 struct conntrack_tcp *t, enum conntrack_dir dir,
						 enum ct_tcp_index index,
						 const struct packet_info *info, uint8_t *old,
						 uint8_t *next, bool *check)
{
	*check = true;
	if (*next == sSS && *old >= sTW) {
		/* RFC 1122 4.2.2.13: a SYN may reopen a connection in
		 * TIME-WAIT; so too an aborted one. */
		if ((t->flags & (CT_TCP_CLOSE_INIT(0) | CT_TCP_CLOSE_INIT(1))) ||
		    (t->last_dir == dir && t->last_index == CT_RST))
			return CONNTRACK_TCP_REOPEN;
		*next = sIG;
	}
	if (*next == sIG) {
		if (!ct_tcp_ignore(t, dir, index, info, *old))
			return CONNTRACK_TCP_IGNORED;
		*old = sSS; /* client and server are in step: as if from SYN_SENT */
		*next = sSR;
		return CONNTRACK_TCP_TRACKED;
	}
	if (*next == sIV)
		return CONNTRACK_TCP_INVALID;
	if (*next == sTW && *old == sLA && index == CT_ACK && t->last_dir != dir &&
	    t->last_index == CT_SYN && (t->last_flags & CT_TCP_EXP_CHALLENGE_ACK)) {
		t->last_flags &= (uint8_t)~CT_TCP_EXP_CHALLENGE_ACK; /* an RFC 5961 challenge ACK */
		return CONNTRACK_TCP_IGNORED;
	}
	if (*next == sS2)
		t->flags |= CT_TCP_SIMULTANEOUS_OPEN;
	/* The table cannot tell a simultaneous open's last ACK. */
	if (*next == sSR && dir == CONNTRACK_DIR_REPLY && index == CT_ACK &&
	    (t->flags & CT_TCP_SIMULTANEOUS_OPEN))
		*next = sES;
	if (*next == sCL && index == CT_RST) {
		enum ct_tcp_rst r = ct_tcp_rst(e, t, dir, info, next);

		if (r == CT_RST_INVALID)
			return CONNTRACK_TCP_INVALID;
		*check = r == CT_RST_CHECK_WINDOW;
	}
	return CONNTRACK_TCP_TRACKED;
}

/* nf_conntrack_tcp_packet up to the state change, on `t` (the entry's own,
 * or a copy when only asking): the table, its special cases, the window.
 * TRACKED: the segment is in window and moves `t` to *next. */
static enum conntrack_tcp_verdict ct_tcp_decide(const struct conntrack_entry *e,
						struct conntrack_tcp *t, enum conntrack_dir dir,
						const struct packet_info *info, uint8_t *old,
						uint8_t *next)
{
	enum ct_tcp_index index = ct_tcp_index(info->tcp_flags);
	enum conntrack_tcp_verdict v;
	enum ct_tcp_window w;
	bool check;

	*old = t->state;
	*next = ct_tcp_table[dir][index][t->state];
	v = ct_tcp_special(e, t, dir, index, info, old, next, &check);
	if (v != CONNTRACK_TCP_TRACKED || !check)
		return v;
	w = ct_tcp_in_window(t, dir, index, info);
	if (w == CT_WIN_INVALID)
		return CONNTRACK_TCP_INVALID;
	return w == CT_WIN_IGNORE ? CONNTRACK_TCP_IGNORED : CONNTRACK_TCP_TRACKED;
}

/* What conntrack_classify needs: tcp_error's flags, then tcp_new (no entry
 * yet: the move from NONE must be valid) or the whole of
 * nf_conntrack_tcp_packet on a copy of the entry's state, which the
 * segment does not change here. */
static bool ct_tcp_acceptable(const struct conntrack_entry *e, enum conntrack_dir dir,
			      const struct packet_info *info)
{
	struct conntrack_tcp copy;
	uint8_t old, next;

	if (!conntrack_tcp_flags_valid(info->tcp_flags))
		return false;
	if (e == NULL)
		return ct_tcp_table[CONNTRACK_DIR_ORIGINAL][ct_tcp_index(info->tcp_flags)][sNO] !=
		       sIV;
	copy = e->tcp;
	return ct_tcp_decide(e, &copy, dir, info, &old, &next) != CONNTRACK_TCP_INVALID;
}

/* The timeout the new state gets (nf_conntrack_tcp_packet, in its order):
 * the retransmission one (5 min) after three retransmissions of the same
 * segment, CLOSE's 10 s after an RST, the unacknowledged one (5 min) while
 * data is unacknowledged, the retransmission one after a zero window; a
 * state's own timeout only where it is shorter. */
static int64_t ct_tcp_timeout(const struct conntrack *ct, const struct conntrack_entry *e,
			      uint8_t state, enum ct_tcp_index index,
			      const struct conntrack_tcp_idle *idle)
{
	const struct conntrack_tcp *t = &e->tcp;
	int64_t timeout = ct->cfg.tcp_timeouts[state], cap = ct->cfg.tcp_timeout_unack;

	/* A NAT's RFC 5382 REQ-5 idle timeouts replace the per-state ones:
	 * established, or transitory (any other state). */
	if (idle != NULL && state == CONNTRACK_TCP_ESTABLISHED && idle->established > 0)
		return idle->established;
	if (idle != NULL && state != CONNTRACK_TCP_ESTABLISHED && idle->transitory > 0)
		return idle->transitory;
	if (t->retrans >= CT_TCP_MAX_RETRANS && timeout > cap)
		timeout = cap;
	else if (index == CT_RST)
		timeout = ct->cfg.tcp_timeouts[CONNTRACK_TCP_CLOSE];
	else if (((t->seen[0].flags | t->seen[1].flags) & CONNTRACK_TCP_DATA_UNACKNOWLEDGED) &&
		 timeout > cap)
		timeout = cap;
	else if (t->last_win == 0 && timeout > cap)
		timeout = cap;
	/* ESTABLISHED without a reply: picked up mid-stream (loose = 1). */
	if (!e->seen_reply && state == CONNTRACK_TCP_ESTABLISHED && timeout > cap)
		timeout = cap;
	return timeout;
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
	const struct conntrack_tcp *t = &entry->tcp;
	enum ct_tcp_index index = ct_tcp_index(info->tcp_flags);

	/* ct_tcp_special's reopen test, without its bookkeeping. */
	return entry->orig.proto == IPPROTO_NUM_TCP && conntrack_tcp_flags_valid(info->tcp_flags) &&
	       ct_tcp_table[dir][index][t->state] == sSS && t->state >= sTW &&
	       ((t->flags & (CT_TCP_CLOSE_INIT(0) | CT_TCP_CLOSE_INIT(1))) ||
		(t->last_dir == dir && t->last_index == CT_RST));
}

void conntrack_destroy(struct conntrack *ct, struct conntrack_entry *entry, const char *why)
{
	ct_destroy(ct, node_of(entry), why);
}

/* The segment is in window and moves the flow to `next`: the state, the
 * close flags, [ASSURED], the timeout, or the entry's end. */
static enum conntrack_tcp_verdict ct_tcp_moved(struct conntrack *ct, struct conntrack_entry *e,
					       enum conntrack_dir dir,
					       const struct packet_info *info, uint8_t old,
					       uint8_t next, const struct conntrack_tcp_idle *idle)
{
	struct conntrack_tcp *t = &e->tcp;
	enum ct_tcp_index index = ct_tcp_index(info->tcp_flags);
	bool assured = false, refresh = true;

	t->last_index = (uint8_t)index;
	t->last_dir = (uint8_t)dir;
	t->state = next;
	if (old != next && next == sFW)
		t->flags |= CT_TCP_CLOSE_INIT(dir);
	if (!e->seen_reply) {
		/* "If only reply is a RST, we can consider ourselves not to
		 * have an established connection": the entry goes at once. */
		if (info->tcp_flags & TCP_RST) {
			ct_destroy(ct, node_of(e), "reset before any reply");
			return CONNTRACK_TCP_KILLED;
		}
		/* A retransmitted SYN does not renew the timeout, lest a
		 * client reusing its port keep the entry (and a NAT's
		 * binding) alive for ever. */
		refresh = !(index == CT_SYN && old == sSS);
	} else if (!e->assured && (old == sSR || old == sES) && next == sES) {
		e->assured = assured = true;
	}
	ct_tcp_account(ct, e, dir, info->total_len, ct_tcp_timeout(ct, e, next, index, idle),
		       old != next || assured, refresh);
	return CONNTRACK_TCP_TRACKED;
}

enum conntrack_tcp_verdict
conntrack_seen_tcp_idle(struct conntrack *ct, struct conntrack_entry *entry, enum conntrack_dir dir,
			const struct packet_info *info, const struct conntrack_tcp_idle *idle)
{
	enum conntrack_tcp_verdict v;
	uint8_t old, next;

	if (!conntrack_tcp_flags_valid(info->tcp_flags))
		return CONNTRACK_TCP_INVALID;
	/* tcp_new, for the segment that made the entry. */
	if (entry->tcp.state == sNO) {
		if (dir != CONNTRACK_DIR_ORIGINAL ||
		    ct_tcp_table[0][ct_tcp_index(info->tcp_flags)][sNO] == sIV)
			return CONNTRACK_TCP_INVALID;
		ct_tcp_new(&entry->tcp, info);
	}
	v = ct_tcp_decide(entry, &entry->tcp, dir, info, &old, &next);
	if (v == CONNTRACK_TCP_REOPEN)
		ct_destroy(ct, node_of(entry), "reopened by a new SYN");
	if (v != CONNTRACK_TCP_TRACKED)
		return v;
	return ct_tcp_moved(ct, entry, dir, info, old, next, idle);
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
