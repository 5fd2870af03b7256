/*
 * conntrack6.c - the IPv6 connection tracking table (model/conntrack6.h).
 *
 * An entry sits in one list (creation order, what conntrack -L prints) and
 * in a hash of its two tuples. Buckets double when the tuples outnumber
 * them. UDP timing and the state a packet gets are model/conntrack_udp.h's,
 * shared with the IPv4 table.
 */
#include "model/conntrack6.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "model/conntrack_tcp.h"
#include "model/conntrack_udp.h"

struct ct6_slot;

/* A direction of an entry, as its bucket holds it. */
struct ct6_link {
	struct ct6_link *next;
	struct ct6_slot *slot;
	uint8_t dir; /* enum conntrack_dir */
};

/* One entry, with its two links and its place in creation order. */
struct ct6_slot {
	struct conntrack6_entry e;
	struct ct6_link link[2];
	struct ct6_slot *older, *newer;
	engine_event_id timer;
	struct conntrack6 *table;
};

struct conntrack6 {
	struct engine *engine;
	const char *node_name;
	struct conntrack_config cfg;
	struct ct6_link **bucket;
	size_t n_bucket; /* a power of two */
	size_t count;
	uint32_t next_id;
	struct ct6_slot *oldest, *newest;
};

#define CT6_FIRST_BUCKETS 16

static struct ct6_slot *slot_of(struct conntrack6_entry *e)
{
	return (struct ct6_slot *)((char *)e - offsetof(struct ct6_slot, e));
}

static const struct conntrack6_tuple *link_tuple(const struct ct6_link *l)
{
	return l->dir == CONNTRACK_DIR_ORIGINAL ? &l->slot->e.orig : &l->slot->e.reply;
}

static bool tuple6_eq(const struct conntrack6_tuple *a, const struct conntrack6_tuple *b)
{
	return a->proto == b->proto && a->sport == b->sport && a->dport == b->dport &&
	       memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

static size_t tuple6_bucket(const struct conntrack6 *ct, const struct conntrack6_tuple *t)
{
	uint64_t h = ((uint64_t)t->proto << 32) | ((uint64_t)t->sport << 16) | t->dport;

	for (int i = 0; i < 16; i += 8) {
		uint64_t s, d;

		memcpy(&s, t->src.b + i, 8);
		memcpy(&d, t->dst.b + i, 8);
		h = hash_mix64(h ^ s) ^ hash_mix64(d + (uint64_t)i);
	}
	return (size_t)(h & (ct->n_bucket - 1));
}

static void bucket_add(struct conntrack6 *ct, struct ct6_link *l)
{
	struct ct6_link **head = &ct->bucket[tuple6_bucket(ct, link_tuple(l))];

	l->next = *head;
	*head = l;
}

static void bucket_remove(struct conntrack6 *ct, struct ct6_link *l)
{
	struct ct6_link **pp = &ct->bucket[tuple6_bucket(ct, link_tuple(l))];

	while (*pp != NULL && *pp != l)
		pp = &(*pp)->next;
	if (*pp != NULL)
		*pp = l->next;
}

/* Twice the buckets once the tuples outnumber them; if memory is short the
 * chains just grow longer. */
static void buckets_maybe_double(struct conntrack6 *ct)
{
	size_t n = ct->n_bucket * 2;
	struct ct6_link **fresh;

	if (2 * (ct->count + 1) <= ct->n_bucket || (fresh = calloc(n, sizeof(*fresh))) == NULL)
		return;
	free(ct->bucket);
	ct->bucket = fresh;
	ct->n_bucket = n;
	for (struct ct6_slot *s = ct->oldest; s != NULL; s = s->newer) {
		bucket_add(ct, &s->link[0]);
		bucket_add(ct, &s->link[1]);
	}
}

struct conntrack6 *conntrack6_new(struct engine *e, const char *node_name,
				  const struct conntrack_config *cfg)
{
	struct conntrack6 *ct = calloc(1, sizeof(*ct));

	if (ct == NULL)
		return NULL;
	ct->bucket = calloc(CT6_FIRST_BUCKETS, sizeof(*ct->bucket));
	if (ct->bucket == NULL) {
		free(ct);
		return NULL;
	}
	ct->n_bucket = CT6_FIRST_BUCKETS;
	ct->engine = e;
	ct->node_name = node_name;
	ct->next_id = 1;
	if (cfg != NULL)
		ct->cfg = *cfg;
	else
		conntrack_config_default(&ct->cfg);
	return ct;
}

void conntrack6_free(struct conntrack6 *ct)
{
	if (ct == NULL)
		return;
	for (struct ct6_slot *s = ct->oldest, *next; s != NULL; s = next) {
		next = s->newer;
		engine_cancel(ct->engine, s->timer);
		free(s);
	}
	free(ct->bucket);
	free(ct);
}

void conntrack6_set_config(struct conntrack6 *ct, const struct conntrack_config *cfg)
{
	ct->cfg = *cfg;
}

const struct conntrack_config *conntrack6_config(const struct conntrack6 *ct)
{
	return &ct->cfg;
}

/* ---- tuples ---------------------------------------------------------------- */

static uint16_t icmp6_key(uint8_t type, uint8_t code)
{
	return (uint16_t)(type << 8 | code);
}

void conntrack6_tuple_of(const struct packet6_info *info, struct conntrack6_tuple *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = info->next_header;
	out->src = info->src;
	out->dst = info->dst;
	/* icmpv6_pkt_to_tuple: the id (bytes 4-5, whatever the type) and the
	 * type and code. */
	if (info->next_header == IPPROTO_NUM_ICMPV6) {
		out->sport = info->icmp_error ? 0 : info->icmp_id;
		out->dport = icmp6_key(info->icmp_type, info->icmp_code);
		return;
	}
	out->sport = info->sport;
	out->dport = info->dport;
}

/* nf_conntrack_proto_icmpv6.c invmap: echo and node information, request
 * <-> reply; 0 where a type has no answer. */
static uint8_t icmp6_answer(uint8_t type)
{
	switch (type) {
	case ICMP6_ECHO_REQUEST:
		return ICMP6_ECHO_REPLY;
	case ICMP6_ECHO_REPLY:
		return ICMP6_ECHO_REQUEST;
	case 139: /* ICMPV6_NI_QUERY (RFC 4620) */
		return 140;
	case 140:
		return 139;
	default:
		return 0;
	}
}

bool conntrack6_tuple_invert(const struct conntrack6_tuple *t, struct conntrack6_tuple *out)
{
	uint8_t answer;

	*out = *t;
	out->src = t->dst;
	out->dst = t->src;
	if (t->proto != IPPROTO_NUM_ICMPV6) {
		out->sport = t->dport;
		out->dport = t->sport;
		return true;
	}
	/* nf_conntrack_invert_icmpv6_tuple: same id, the answer's type,
	 * same code. */
	answer = icmp6_answer((uint8_t)(t->dport >> 8));
	if (answer != 0)
		out->dport = icmp6_key(answer, (uint8_t)(t->dport & 0xff));
	return answer != 0;
}

struct conntrack6_entry *conntrack6_lookup(struct conntrack6 *ct, const struct conntrack6_tuple *t,
					   enum conntrack_dir *dir)
{
	for (struct ct6_link *l = ct->bucket[tuple6_bucket(ct, t)]; l != NULL; l = l->next) {
		if (!tuple6_eq(link_tuple(l), t))
			continue;
		if (dir != NULL)
			*dir = (enum conntrack_dir)l->dir;
		return &l->slot->e;
	}
	return NULL;
}

/* ---- records and expiry ----------------------------------------------------- */

void conntrack6_entry_record(const struct conntrack6 *ct, const struct conntrack6_entry *entry,
			     struct trace_conntrack *out, struct trace_ct_tuples6 *tuples)
{
	const struct conntrack6_tuple *t[2] = {&entry->orig, &entry->reply};
	struct trace_ct_tuple6 *to[2] = {&tuples->orig, &tuples->reply};

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2; i++)
		*to[i] = (struct trace_ct_tuple6){
		    .src = t[i]->src, .dst = t[i]->dst, .sport = t[i]->sport, .dport = t[i]->dport};
	out->node = ct->node_name;
	out->id = entry->id;
	out->proto = entry->orig.proto;
	out->seen_reply = entry->seen_reply;
	out->assured = entry->assured;
	out->expires_at = entry->expires_at;
	out->tcp_state = entry->tcp.state;
	out->use = 1; /* the table's own reference, as conntrack -L shows */
	out->family = 6;
	out->tuples6 = tuples;
}

static void ct6_tell(struct conntrack6 *ct, const struct conntrack6_entry *entry,
		     enum trace_ct_event ev, const char *why)
{
	struct trace *t = engine_trace(ct->engine);
	struct trace_ct_tuples6 tuples;
	struct trace_record r;

	if (!trace_active(t))
		return;
	memset(&r, 0, sizeof(r));
	r.kind = TRACE_CONNTRACK;
	conntrack6_entry_record(ct, entry, &r.u.ct, &tuples);
	r.u.ct.event = ev;
	r.u.ct.why = why;
	trace_emit(t, &r);
}

static void ct6_forget(struct conntrack6 *ct, struct ct6_slot *s, const char *why)
{
	engine_cancel(ct->engine, s->timer);
	/* A TCP entry whose first segment was refused was never told: nothing
	 * to take back (the IPv4 table's ct_destroy). */
	if (s->e.orig.proto != IPPROTO_NUM_TCP || s->e.packets[0] + s->e.packets[1] != 0)
		ct6_tell(ct, &s->e, TRACE_CT_DESTROY, why);
	bucket_remove(ct, &s->link[0]);
	bucket_remove(ct, &s->link[1]);
	*(s->older != NULL ? &s->older->newer : &ct->oldest) = s->newer;
	*(s->newer != NULL ? &s->newer->older : &ct->newest) = s->older;
	ct->count--;
	free(s);
}

/* The entry's timer: traffic only moves expires_at, and a timer that fires
 * before it arms itself again for the real deadline (one pending event per
 * entry, DESIGN.md "The engine"). */
static void ct6_expire(struct engine *e, void *arg)
{
	struct ct6_slot *s = arg;

	s->timer = 0;
	if (s->e.expires_at > engine_now(e) &&
	    (s->timer = engine_schedule_at(e, s->e.expires_at, ct6_expire, s)) != 0)
		return; /* (out of memory: expire now, never immortal) */
	ct6_forget(s->table, s, "timed out");
}

/* A later deadline waits for the pending event; an earlier one moves it. */
static void ct6_deadline(struct conntrack6 *ct, struct ct6_slot *s, int64_t at)
{
	bool sooner = at < s->e.expires_at;

	s->e.expires_at = at;
	if (sooner) {
		engine_cancel(ct->engine, s->timer);
		s->timer = engine_schedule_at(ct->engine, at, ct6_expire, s);
	}
}

/* ---- flows ------------------------------------------------------------------ */

/* The deadline a new entry starts with, before its first packet sets it:
 * ICMPv6's timeout, TCP's SYN_SENT one, UDP's unreplied one. */
static int64_t ct6_first_timeout(const struct conntrack_config *cfg, uint8_t proto)
{
	if (proto == IPPROTO_NUM_TCP)
		return cfg->tcp_timeouts[CONNTRACK_TCP_SYN_SENT];
	return proto == IPPROTO_NUM_ICMPV6 ? cfg->icmp_timeout : cfg->udp_timeout;
}

struct conntrack6_entry *conntrack6_confirm(struct conntrack6 *ct,
					    const struct conntrack6_tuple *orig)
{
	int64_t now = engine_now(ct->engine);
	struct ct6_slot *s;

	if (ct->count >= ct->cfg.max_entries) /* "table full, dropping packet" */
		return NULL;
	buckets_maybe_double(ct);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->table = ct;
	s->e.id = ct->next_id++;
	s->e.orig = *orig;
	conntrack6_tuple_invert(orig, &s->e.reply);
	s->e.created_at = now;
	s->e.expires_at = now + ct6_first_timeout(&ct->cfg, orig->proto);
	s->timer = engine_schedule_at(ct->engine, s->e.expires_at, ct6_expire, s);
	if (s->timer == 0) {
		free(s);
		return NULL;
	}
	s->link[0] = (struct ct6_link){.slot = s, .dir = CONNTRACK_DIR_ORIGINAL};
	s->link[1] = (struct ct6_link){.slot = s, .dir = CONNTRACK_DIR_REPLY};
	bucket_add(ct, &s->link[0]);
	bucket_add(ct, &s->link[1]);
	s->older = ct->newest;
	*(ct->newest != NULL ? &ct->newest->newer : &ct->oldest) = s;
	ct->newest = s;
	ct->count++;
	/* A TCP entry is told once its first segment set its state
	 * (conntrack6_seen_tcp), as Linux's NEW event carries SYN_SENT. */
	if (orig->proto != IPPROTO_NUM_TCP)
		ct6_tell(ct, &s->e, TRACE_CT_NEW, NULL);
	return &s->e;
}

void conntrack6_seen(struct conntrack6 *ct, struct conntrack6_entry *entry, enum conntrack_dir dir,
		     size_t bytes)
{
	int64_t now = engine_now(ct->engine), deadline;
	bool first = entry->packets[0] + entry->packets[1] == 0, changed = false, stream;

	entry->packets[dir]++;
	entry->bytes[dir] += bytes;
	/* nf_conntrack_icmpv6_packet: every packet re-arms the timeout, and
	 * nothing sets [ASSURED]. */
	if (entry->orig.proto == IPPROTO_NUM_ICMPV6) {
		deadline = now + ct->cfg.icmp_timeout;
	} else {
		deadline =
		    ct_udp_deadline(&ct->cfg, entry->created_at, entry->seen_reply, now, &stream);
		changed = stream && !entry->assured;
		entry->assured |= stream;
	}
	ct6_deadline(ct, slot_of(entry), deadline);
	/* IPS_SEEN_REPLY after the protocol's handler (nf_conntrack_in): the
	 * first reply itself still gets the unreplied timeout. */
	if (dir == CONNTRACK_DIR_REPLY && !entry->seen_reply)
		changed = entry->seen_reply = true;
	if (changed || !first)
		ct6_tell(ct, entry, changed ? TRACE_CT_UPDATE : TRACE_CT_REFRESH, NULL);
}

/* ---- TCP --------------------------------------------------------------------- */

/* nf_conntrack_proto_tcp.c is the same code for both families: the machine
 * is model/conntrack_tcp.h's, the IPv4 table's own. */

static struct conntrack_tcp_segment ct6_segment_of(const struct packet6_info *info)
{
	return (struct conntrack_tcp_segment){.tcp_flags = info->tcp_flags,
					      .tcp_header_len = info->tcp_header_len,
					      .tcp_window = info->tcp_window,
					      .tcp_seq = info->tcp_seq,
					      .tcp_ack = info->tcp_ack,
					      .payload_len = info->payload_len,
					      .tcp_opt = &info->tcp_opt};
}

static struct conntrack_tcp_flow ct6_flow_of(const struct conntrack6_entry *e)
{
	return (struct conntrack_tcp_flow){.seen_reply = e->seen_reply, .assured = e->assured};
}

/* Counters, deadline, [SEEN_REPLY] and the one record of a tracked
 * segment: NEW for the entry's first (with its state), else UPDATE on a
 * change of state or flags, REFRESH otherwise. */
static void ct6_tcp_account(struct conntrack6 *ct, struct conntrack6_entry *e,
			    enum conntrack_dir dir, size_t bytes,
			    const struct conntrack_tcp_outcome *o)
{
	bool first = e->packets[0] + e->packets[1] == 0, changed = o->changed;

	e->packets[dir]++;
	e->bytes[dir] += bytes;
	e->assured |= o->assured;
	if (o->refresh)
		ct6_deadline(ct, slot_of(e), engine_now(ct->engine) + o->timeout);
	if (dir == CONNTRACK_DIR_REPLY && !e->seen_reply)
		changed = e->seen_reply = true;
	if (first)
		ct6_tell(ct, e, TRACE_CT_NEW, NULL);
	else
		ct6_tell(ct, e, changed ? TRACE_CT_UPDATE : TRACE_CT_REFRESH, NULL);
}

enum conntrack_tcp_verdict conntrack6_seen_tcp(struct conntrack6 *ct,
					       struct conntrack6_entry *entry,
					       enum conntrack_dir dir,
					       const struct packet6_info *info, size_t bytes)
{
	struct conntrack_tcp_segment seg = ct6_segment_of(info);
	struct conntrack_tcp_outcome o;

	conntrack_tcp_advance(&ct->cfg, &entry->tcp, ct6_flow_of(entry), dir, &seg, NULL, &o);
	if (o.verdict == CONNTRACK_TCP_TRACKED)
		ct6_tcp_account(ct, entry, dir, bytes, &o);
	else if (o.verdict == CONNTRACK_TCP_REOPEN)
		ct6_forget(ct, slot_of(entry), "reopened by a new SYN");
	else if (o.verdict == CONNTRACK_TCP_KILLED)
		ct6_forget(ct, slot_of(entry), "reset before any reply");
	return o.verdict;
}

bool conntrack6_tcp_reopens(const struct conntrack6_entry *entry, enum conntrack_dir dir,
			    const struct packet6_info *info)
{
	return entry->orig.proto == IPPROTO_NUM_TCP &&
	       conntrack_tcp_would_reopen(&entry->tcp, dir, info->tcp_flags);
}

void conntrack6_destroy(struct conntrack6 *ct, struct conntrack6_entry *entry, const char *why)
{
	ct6_forget(ct, slot_of(entry), why);
}

enum conntrack_invalid conntrack6_tcp_invalid_cause(const struct conntrack6_entry *entry,
						    const struct packet6_info *info)
{
	if (info->next_header != IPPROTO_NUM_TCP)
		return CONNTRACK_INVALID_NONE;
	if (!conntrack_tcp_flags_valid(info->tcp_flags))
		return CONNTRACK_INVALID_FLAGS;
	return entry == NULL ? CONNTRACK_INVALID_NEW : CONNTRACK_INVALID_SEGMENT;
}

/* tcp_error and tcp_new (no entry), or the whole machine on a copy of the
 * entry's state: would the segment be INVALID? */
static bool ct6_tcp_acceptable(const struct conntrack6_entry *e, enum conntrack_dir dir,
			       const struct packet6_info *info)
{
	struct conntrack_tcp_segment seg = ct6_segment_of(info);

	if (e == NULL)
		return conntrack_tcp_accepts(NULL, (struct conntrack_tcp_flow){0}, dir, &seg);
	return conntrack_tcp_accepts(&e->tcp, ct6_flow_of(e), dir, &seg);
}

/* nf_conntrack_inet_error (6.1) for ICMPv6: the quoted packet's tuple,
 * inverted, is what its answer would carry; the entry holding it is the
 * flow the error is about, if the error goes to the side that sent the
 * quoted packet ("outer daddr != inner"). */
static enum conntrack_state ct6_error(struct conntrack6 *ct, const struct packet6_info *info,
				      struct conntrack6_entry **entry, enum conntrack_dir *dir)
{
	const struct packet6_inner *in = &info->inner;
	struct conntrack6_tuple quoted = {.proto = in->next_header,
					  .src = in->src,
					  .dst = in->dst,
					  .sport = in->sport,
					  .dport = in->dport},
				answer;
	struct conntrack6_entry *e;
	enum conntrack_dir d = CONNTRACK_DIR_ORIGINAL;

	if (in->next_header == IPPROTO_NUM_ICMPV6) {
		quoted.sport = in->icmp_id;
		quoted.dport = icmp6_key(in->icmp_type, in->icmp_code);
	}
	if (!conntrack6_tuple_invert(&quoted, &answer) ||
	    (e = conntrack6_lookup(ct, &answer, &d)) == NULL)
		return CONNTRACK_INVALID;
	if (memcmp(&(d == CONNTRACK_DIR_ORIGINAL ? &e->orig : &e->reply)->dst, &info->dst,
		   sizeof(info->dst)) != 0)
		return CONNTRACK_INVALID;
	*entry = e;
	*dir = d;
	ct6_tell(ct, e, TRACE_CT_RELATED, NULL);
	return CONNTRACK_RELATED;
}

/* nf_conntrack_icmpv6_error's noct_valid_new: MLD queries, reports and
 * done, router and neighbour solicitations and advertisements, MLDv2
 * reports. */
static bool icmp6_untracked(uint8_t type)
{
	return (type >= 130 && type <= 136) || type == 143;
}

enum conntrack_state conntrack6_classify(struct conntrack6 *ct, const struct packet6_info *info,
					 struct conntrack6_entry **entry, enum conntrack_dir *dir)
{
	struct conntrack6_tuple t;
	bool icmp6 = info->next_header == IPPROTO_NUM_ICMPV6,
	     tcp = info->next_header == IPPROTO_NUM_TCP;

	*entry = NULL;
	*dir = CONNTRACK_DIR_ORIGINAL;
	if (info->next_header != IPPROTO_NUM_UDP && !icmp6 && !tcp)
		return CONNTRACK_INVALID;
	if (icmp6 && icmp6_untracked(info->icmp_type))
		return CONNTRACK_UNTRACKED;
	if (icmp6 && info->icmp_error)
		return ct6_error(ct, info, entry, dir);
	conntrack6_tuple_of(info, &t);
	*entry = conntrack6_lookup(ct, &t, dir);
	/* nf_conntrack_icmpv6_packet valid_new: only an echo request or a
	 * node information query may start an entry. */
	if (*entry == NULL && icmp6 && info->icmp_type != ICMP6_ECHO_REQUEST &&
	    info->icmp_type != 139)
		return CONNTRACK_INVALID;
	if (tcp && !ct6_tcp_acceptable(*entry, *dir, info))
		return CONNTRACK_INVALID;
	return ct_state_of(*entry != NULL, *entry != NULL && (*entry)->seen_reply, *dir);
}

void conntrack6_flush(struct conntrack6 *ct, const char *why)
{
	while (ct->oldest != NULL)
		ct6_forget(ct, ct->oldest, why);
}

size_t conntrack6_count(const struct conntrack6 *ct)
{
	return ct->count;
}

void conntrack6_foreach(const struct conntrack6 *ct,
			bool (*fn)(const struct conntrack6_entry *e, void *ctx), void *ctx)
{
	for (const struct ct6_slot *s = ct->oldest; s != NULL && fn(&s->e, ctx); s = s->newer)
		;
}
