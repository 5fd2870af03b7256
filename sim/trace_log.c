/*
 * trace_log.c - an observer that keeps a deep copy of every record.
 *
 * Strings and byte buffers are copied into an arena of chunks that never move,
 * and records into blocks that never move, so both the pointers inside a
 * record and the record pointers from trace_log_get() stay valid until
 * trace_log_free(), however long the log grows.
 */
#include "sim/trace_log.h"

#include "sim/verdict.h"

#include <stdlib.h>
#include <string.h>

#define LOG_CHUNK_SIZE (64 * 1024)
#define LOG_BLOCK_RECORDS 1024

struct log_chunk {
	struct log_chunk *next;
	size_t used;
	size_t size;
	unsigned char data[];
};

struct trace_log {
	struct trace_record **blocks;
	size_t n_blocks;
	size_t cap_blocks;
	size_t count;
	struct log_chunk *chunks; /* newest first; the head is the one in use */
	bool failed;
};

struct trace_log *trace_log_new(void)
{
	return calloc(1, sizeof(struct trace_log));
}

void trace_log_free(struct trace_log *log)
{
	if (log == NULL)
		return;
	for (size_t i = 0; i < log->n_blocks; i++)
		free(log->blocks[i]);
	free(log->blocks);
	struct log_chunk *c = log->chunks;
	while (c != NULL) {
		struct log_chunk *next = c->next;
		free(c);
		c = next;
	}
	free(log);
}

/* Arena allocation, 8-byte aligned. A request larger than a chunk gets a chunk
 * of its own, linked behind the current one so the current one keeps filling. */
static void *log_alloc(struct trace_log *log, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct log_chunk *c = log->chunks;
	if (c != NULL && c->size - c->used >= n) {
		void *p = c->data + c->used;
		c->used += n;
		return p;
	}
	size_t size = n > LOG_CHUNK_SIZE ? n : LOG_CHUNK_SIZE;
	struct log_chunk *nc = malloc(sizeof(*nc) + size);
	if (nc == NULL)
		return NULL;
	nc->size = size;
	nc->used = n;
	if (n > LOG_CHUNK_SIZE && c != NULL) {
		nc->next = c->next;
		c->next = nc;
	} else {
		nc->next = c;
		log->chunks = nc;
	}
	return nc->data;
}

/* Copy a borrowed string into the arena; NULL stays NULL. */
static bool copy_str(struct trace_log *log, const char **s)
{
	if (*s == NULL)
		return true;
	size_t n = strlen(*s) + 1;
	char *p = log_alloc(log, n);
	if (p == NULL)
		return false;
	memcpy(p, *s, n);
	*s = p;
	return true;
}

/* Copy a borrowed buffer; a NULL buffer is kept as NULL with length 0. */
static bool copy_bytes(struct trace_log *log, const uint8_t **b, size_t *len)
{
	if (*b == NULL) {
		*len = 0;
		return true;
	}
	if (*len == 0) {
		*b = (const uint8_t *)"";
		return true;
	}
	uint8_t *p = log_alloc(log, *len);
	if (p == NULL)
		return false;
	memcpy(p, *b, *len);
	*b = p;
	return true;
}

/* Copy a drop's verdict (sim/verdict.h): its facts by value, then the names
 * they borrow. An unknown kind is not kept. */
static bool copy_verdict(struct trace_log *log, struct trace_verdict *v)
{
	size_t n = verdict_facts_size(v->kind);

	if (v->facts == NULL || n == 0) {
		*v = (struct trace_verdict){0, NULL};
		return true;
	}
	void *facts = log_alloc(log, n);
	if (facts == NULL)
		return false;
	memcpy(facts, v->facts, n);
	v->facts = facts;
	if (v->kind == NODE_VERDICT_FIREWALL) /* borrowed from the filter: not kept */
		((struct node_firewall_facts *)facts)->verdict.admitted = NULL;
	if (v->kind == NODE_VERDICT_PATH) {
		struct node_path_facts *f = facts;
		return copy_str(log, &f->iface) && copy_str(log, &f->detail);
	}
	if (v->kind == NODE_VERDICT_LINK) {
		struct link_drop_facts *f = facts;
		return copy_str(log, &f->link) && copy_str(log, &f->iface) &&
		       copy_str(log, &f->peer) && copy_str(log, &f->cut_by);
	}
	return true;
}

/* Copy an IPv6 conntrack record's tuples (NULL for IPv4 stays NULL). */
static bool copy_tuples6(struct trace_log *log, const struct trace_ct_tuples6 **t)
{
	struct trace_ct_tuples6 *p;

	if (*t == NULL)
		return true;
	p = log_alloc(log, sizeof(*p));
	if (p == NULL)
		return false;
	*p = **t;
	*t = p;
	return true;
}

/* A node's IPv6 addresses, by value. */
static bool copy_node6(struct trace_log *log, const struct trace_node6 **v6)
{
	if (*v6 == NULL)
		return true;
	struct trace_node6 *p = log_alloc(log, sizeof(*p));
	if (p == NULL)
		return false;
	memcpy(p, *v6, sizeof(*p));
	*v6 = p;
	return true;
}

/* An IPv6 socket's ends, by value (NULL for IPv4 stays NULL). */
static bool copy_socket6(struct trace_log *log, const struct trace_socket6 **v6)
{
	struct trace_socket6 *p;

	if (*v6 == NULL)
		return true;
	p = log_alloc(log, sizeof(*p));
	if (p == NULL)
		return false;
	*p = **v6;
	*v6 = p;
	return true;
}

/* Replace every borrowed pointer in `r` with a copy owned by the log. */
static bool copy_pointers(struct trace_log *log, struct trace_record *r)
{
	bool ok = true;
	switch (r->kind) {
	case TRACE_NODE:
		ok = copy_str(log, &r->u.node.name) && copy_str(log, &r->u.node.type) &&
		     copy_str(log, &r->u.node.detail) && copy_str(log, &r->u.node.behind) &&
		     copy_node6(log, &r->u.node.v6);
		break;
	case TRACE_LINK:
		ok = copy_str(log, &r->u.link.name) && copy_str(log, &r->u.link.a) &&
		     copy_str(log, &r->u.link.a_iface) && copy_str(log, &r->u.link.b) &&
		     copy_str(log, &r->u.link.b_iface);
		break;
	case TRACE_PACKET:
		ok = copy_str(log, &r->u.packet.node) && copy_str(log, &r->u.packet.iface) &&
		     copy_bytes(log, &r->u.packet.bytes, &r->u.packet.len) &&
		     copy_bytes(log, &r->u.packet.before, &r->u.packet.before_len) &&
		     copy_str(log, &r->u.packet.why) &&
		     copy_str(log, &r->u.packet.why_after_node) &&
		     copy_str(log, &r->u.packet.rule) && copy_verdict(log, &r->u.packet.verdict);
		break;
	case TRACE_CONNTRACK:
		ok = copy_str(log, &r->u.ct.node) && copy_str(log, &r->u.ct.why) &&
		     copy_tuples6(log, &r->u.ct.tuples6);
		break;
	case TRACE_MAPPING:
		ok = copy_str(log, &r->u.map.node);
		break;
	case TRACE_APP:
		ok = copy_str(log, &r->u.app.node) && copy_str(log, &r->u.app.app) &&
		     copy_str(log, &r->u.app.event) && copy_str(log, &r->u.app.peer) &&
		     copy_str(log, &r->u.app.text);
		break;
	case TRACE_SCENARIO:
		ok = copy_str(log, &r->u.scenario.text);
		break;
	case TRACE_SOCKET:
		ok = copy_str(log, &r->u.sock.node) && copy_socket6(log, &r->u.sock.v6);
		break;
	}
	return ok;
}

static struct trace_record *log_next_record(struct trace_log *log)
{
	size_t b = log->count / LOG_BLOCK_RECORDS;
	if (b == log->n_blocks) {
		if (log->n_blocks == log->cap_blocks) {
			size_t cap = log->cap_blocks ? log->cap_blocks * 2 : 16;
			struct trace_record **nb = realloc(log->blocks, cap * sizeof(*nb));
			if (nb == NULL)
				return NULL;
			log->blocks = nb;
			log->cap_blocks = cap;
		}
		log->blocks[b] = malloc(LOG_BLOCK_RECORDS * sizeof(struct trace_record));
		if (log->blocks[b] == NULL)
			return NULL;
		log->n_blocks++;
	}
	return &log->blocks[b][log->count % LOG_BLOCK_RECORDS];
}

void trace_log_observe(const struct trace_record *r, void *ctx)
{
	struct trace_log *log = ctx;
	struct trace_record *copy = log_next_record(log);
	if (copy == NULL) {
		log->failed = true;
		return;
	}
	*copy = *r;
	/* A record whose strings could not be copied is not kept: a half-copied
	 * record would point into the emitter's freed buffers. */
	if (!copy_pointers(log, copy)) {
		log->failed = true;
		return;
	}
	log->count++;
}

int trace_log_attach(struct trace_log *log, struct trace *t)
{
	return trace_subscribe(t, trace_log_observe, log);
}

size_t trace_log_count(const struct trace_log *log)
{
	return log->count;
}

const struct trace_record *trace_log_get(const struct trace_log *log, size_t i)
{
	if (i >= log->count)
		return NULL;
	return &log->blocks[i / LOG_BLOCK_RECORDS][i % LOG_BLOCK_RECORDS];
}

bool trace_log_failed(const struct trace_log *log)
{
	return log->failed;
}

/*
 * The determinism hash: 64-bit FNV-1a over a canonical serialization of every
 * field of every record. Integers go in as 8 little-endian bytes, doubles by
 * their bit pattern, strings as a presence byte then length and characters,
 * buffers as presence, length and bytes. Never a pointer value, never the
 * padding of a struct or the unused part of the union.
 */
#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static void h_raw(uint64_t *h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		*h ^= b[i];
		*h *= FNV_PRIME;
	}
}

static void h_u64(uint64_t *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	h_raw(h, b, 8);
}

static void h_double(uint64_t *h, double d)
{
	uint64_t v;
	memcpy(&v, &d, sizeof(v));
	h_u64(h, v);
}

static void h_bytes(uint64_t *h, const uint8_t *p, size_t n)
{
	h_u64(h, p != NULL);
	if (p == NULL)
		return;
	h_u64(h, n);
	h_raw(h, p, n);
}

static void h_str(uint64_t *h, const char *s)
{
	h_bytes(h, (const uint8_t *)s, s != NULL ? strlen(s) : 0);
}

static void h_endpoint(uint64_t *h, struct endpoint ep)
{
	h_u64(h, ep.ip);
	h_u64(h, ep.port);
}

static void h_tuple(uint64_t *h, const struct trace_ct_tuple *t)
{
	h_u64(h, t->src);
	h_u64(h, t->dst);
	h_u64(h, t->sport);
	h_u64(h, t->dport);
}

static void hash_packet(uint64_t *h, const struct trace_packet *p)
{
	h_u64(h, (uint64_t)p->hop);
	h_u64(h, p->packet_id);
	h_str(h, p->node);
	h_str(h, p->iface);
	h_bytes(h, p->bytes, p->len);
	h_bytes(h, p->before, p->before_len);
	h_endpoint(h, p->map_internal);
	h_endpoint(h, p->map_external);
	h_u64(h, (uint64_t)p->reason);
	h_str(h, p->why);
	h_str(h, p->rule);
}

static void h_tuple6(uint64_t *h, const struct trace_ct_tuple6 *t)
{
	h_raw(h, t->src.b, sizeof(t->src.b));
	h_raw(h, t->dst.b, sizeof(t->dst.b));
	h_u64(h, t->sport);
	h_u64(h, t->dport);
}

static void hash_conntrack(uint64_t *h, const struct trace_conntrack *c)
{
	h_u64(h, (uint64_t)c->event);
	h_str(h, c->node);
	h_u64(h, c->id);
	h_u64(h, c->proto);
	h_tuple(h, &c->orig);
	h_tuple(h, &c->reply);
	h_u64(h, c->seen_reply);
	h_u64(h, c->assured);
	h_u64(h, (uint64_t)c->expires_at);
	h_u64(h, c->mark);
	h_u64(h, c->use);
	h_str(h, c->why);
	/* IPv6 entries only: an IPv4 record hashes as it always did. */
	if (c->family == 6 && c->tuples6 != NULL) {
		h_u64(h, c->family);
		h_tuple6(h, &c->tuples6->orig);
		h_tuple6(h, &c->tuples6->reply);
	}
}

static void hash_mapping(uint64_t *h, const struct trace_mapping *m)
{
	h_u64(h, (uint64_t)m->event);
	h_str(h, m->node);
	h_u64(h, m->id);
	h_u64(h, m->proto);
	h_endpoint(h, m->internal);
	h_endpoint(h, m->external);
	h_endpoint(h, m->remote);
	h_u64(h, (uint64_t)(int64_t)m->mapping);
	h_u64(h, (uint64_t)(int64_t)m->filtering);
	h_u64(h, m->is_static);
	h_u64(h, (uint64_t)m->expires_at);
	h_u64(h, m->origin);
	const struct trace_pcp *f = &m->pcp;
	h_u64(h, (uint64_t)f->protocol << 24 | (uint64_t)f->decision << 16 | f->result << 8 |
		     f->version);
	h_endpoint(h, f->client);
	h_u64(h, (uint64_t)f->internal_port << 16 | f->suggested_port);
	h_u64(h, (uint64_t)f->requested_lifetime << 32 | f->lifetime);
	h_u64(h, (uint64_t)f->max_lifetime << 32 | f->epoch);
	if (m->family == 6) { /* NAT64: IPv4 mappings hash as they always did */
		h_bytes(h, m->internal6.ip.b, 16);
		h_u64(h, m->internal6.port);
	}
}

static void hash_link(uint64_t *h, const struct trace_link *l)
{
	h_u64(h, (uint64_t)l->event);
	h_str(h, l->name);
	h_str(h, l->a);
	h_str(h, l->a_iface);
	h_str(h, l->b);
	h_str(h, l->b_iface);
	h_u64(h, (uint64_t)l->latency_ns);
	h_u64(h, (uint64_t)l->jitter_ns);
	h_double(h, l->loss);
}

static void hash_socket(uint64_t *h, const struct trace_socket *s)
{
	h_str(h, s->node);
	h_u64(h, s->proto);
	h_u64(h, s->local.ip);
	h_u64(h, s->local.port);
	h_u64(h, s->remote.ip);
	h_u64(h, s->remote.port);
	h_u64(h, (uint64_t)s->old_state << 16 | (uint64_t)s->new_state << 8 | s->cause);
	h_u64(h, s->packet_id);
	h_u64(h, (uint64_t)(int64_t)s->error);
	/* IPv6 sockets only: an IPv4 record hashes as it always did. */
	if (s->v6 != NULL) {
		h_raw(h, s->v6->local.ip.b, sizeof(s->v6->local.ip.b));
		h_raw(h, s->v6->remote.ip.b, sizeof(s->v6->remote.ip.b));
	}
}

static void hash_record(uint64_t *h, const struct trace_record *r)
{
	h_u64(h, r->seq);
	h_u64(h, (uint64_t)r->time);
	h_u64(h, (uint64_t)r->kind);
	switch (r->kind) {
	case TRACE_NODE:
		h_str(h, r->u.node.name);
		h_str(h, r->u.node.type);
		h_str(h, r->u.node.detail);
		h_str(h, r->u.node.behind);
		break;
	case TRACE_LINK:
		hash_link(h, &r->u.link);
		break;
	case TRACE_PACKET:
		hash_packet(h, &r->u.packet);
		break;
	case TRACE_CONNTRACK:
		hash_conntrack(h, &r->u.ct);
		break;
	case TRACE_MAPPING:
		hash_mapping(h, &r->u.map);
		break;
	case TRACE_APP:
		h_str(h, r->u.app.node);
		h_str(h, r->u.app.app);
		h_str(h, r->u.app.event);
		h_str(h, r->u.app.peer);
		h_str(h, r->u.app.text);
		break;
	case TRACE_SCENARIO:
		h_u64(h, (uint64_t)r->u.scenario.event);
		h_str(h, r->u.scenario.text);
		h_u64(h, (uint64_t)(int64_t)r->u.scenario.line);
		break;
	case TRACE_SOCKET:
		hash_socket(h, &r->u.sock);
		break;
	}
}

uint64_t trace_log_hash(const struct trace_log *log)
{
	uint64_t h = FNV_OFFSET;
	h_u64(&h, log->count);
	for (size_t i = 0; i < log->count; i++)
		hash_record(&h, trace_log_get(log, i));
	return h;
}
