/*
 * trace.c - the trace bus: stamping records and handing them to observers.
 */
#include "sim/trace.h"

#include <string.h>

static const char *const drop_reason_names[TRACE_DROP_REASON_COUNT] = {
	[TRACE_DROP_NONE] = "none",
	[TRACE_DROP_FIREWALL] = "firewall",
	[TRACE_DROP_NAT_FILTER] = "nat-filter",
	[TRACE_DROP_NAT_NO_MAPPING] = "nat-no-mapping",
	[TRACE_DROP_NAT_EXHAUSTED] = "nat-exhausted",
	[TRACE_DROP_HAIRPIN] = "hairpin",
	[TRACE_DROP_NO_ROUTE] = "no-route",
	[TRACE_DROP_TTL] = "ttl",
	[TRACE_DROP_LINK_LOSS] = "link-loss",
	[TRACE_DROP_LINK_DOWN] = "link-down",
	[TRACE_DROP_QUEUE_FULL] = "queue-full",
	[TRACE_DROP_MALFORMED] = "malformed",
	[TRACE_DROP_NO_SOCKET] = "no-socket",
	[TRACE_DROP_NOT_FOR_US] = "not-for-us",
	[TRACE_DROP_ICMP_NO_FLOW] = "icmp-no-flow",
	[TRACE_DROP_CT_INVALID] = "ct-invalid",
};

static const char *const kind_names[] = {
	[TRACE_NODE] = "node",
	[TRACE_LINK] = "link",
	[TRACE_PACKET] = "packet",
	[TRACE_CONNTRACK] = "conntrack",
	[TRACE_MAPPING] = "mapping",
	[TRACE_APP] = "app",
	[TRACE_SCENARIO] = "scenario",
	[TRACE_SOCKET] = "socket",
};

static const char *const hop_names[] = {
	[TRACE_HOP_SEND] = "send",
	[TRACE_HOP_TX] = "tx",
	[TRACE_HOP_RX] = "rx",
	[TRACE_HOP_TRANSLATE] = "translate",
	[TRACE_HOP_DELIVER] = "deliver",
	[TRACE_HOP_DROP] = "drop",
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
/* Room for a verdict's words: the rule label, then a sentence naming up to
 * three remotes (RFC 4787 behaviour names are long). */
#define TRACE_WORDS_MAX 416

/* Out-of-range values (a corrupted record) name themselves "?" rather than
 * reading past the table. */
static const char *name_in(const char *const *table, size_t n, unsigned v)
{
	return v < n && table[v] != NULL ? table[v] : "?";
}

const char *trace_drop_reason_name(enum trace_drop_reason r)
{
	return name_in(drop_reason_names, COUNT_OF(drop_reason_names), (unsigned)r);
}

const char *trace_kind_name(enum trace_kind k)
{
	return name_in(kind_names, COUNT_OF(kind_names), (unsigned)k);
}

const char *trace_hop_name(enum trace_hop h)
{
	return name_in(hop_names, COUNT_OF(hop_names), (unsigned)h);
}

void trace_init(struct trace *t, const int64_t *clock)
{
	memset(t, 0, sizeof(*t));
	t->clock = clock;
}

int trace_subscribe(struct trace *t, trace_observer_fn fn, void *ctx)
{
	if (t->n_observers >= TRACE_MAX_OBSERVERS)
		return -1;
	t->observers[t->n_observers].fn = fn;
	t->observers[t->n_observers].ctx = ctx;
	t->n_observers++;
	return 0;
}

/* Removes the first matching subscription and keeps the others in order, so
 * the remaining observers still see records in subscription order. */
void trace_unsubscribe(struct trace *t, trace_observer_fn fn, void *ctx)
{
	for (size_t i = 0; i < t->n_observers; i++) {
		if (t->observers[i].fn != fn || t->observers[i].ctx != ctx)
			continue;
		memmove(&t->observers[i], &t->observers[i + 1],
			(t->n_observers - i - 1) * sizeof(t->observers[0]));
		t->n_observers--;
		return;
	}
}

void trace_set_explainer(struct trace *t, trace_explain_fn fn)
{
	t->explain = fn;
}

static void notify(struct trace *t, const struct trace_record *r)
{
	for (size_t i = 0; i < t->n_observers; i++)
		t->observers[i].fn(r, t->observers[i].ctx);
}

/* A drop that carries a verdict: word it; observers see both the words and
 * the verdict. */
static void emit_with_verdict(struct trace *t, struct trace_record *r)
{
	char words[TRACE_WORDS_MAX];

	if (r->u.packet.why == NULL && t->explain != NULL)
		t->explain(r, words, sizeof(words));
	if (r->u.packet.why == NULL && r->u.packet.hop == TRACE_HOP_DROP)
		r->u.packet.why = "(no reason given)";
	notify(t, r);
}

void trace_emit(struct trace *t, struct trace_record *r)
{
	/* Every emission takes a sequence number, observed or not, so seq numbers
	 * do not depend on when an observer was attached. */
	r->seq = t->next_seq++;
	r->time = t->clock != NULL ? *t->clock : 0;
	if (r->kind == TRACE_PACKET && r->u.packet.verdict.kind != 0)
		emit_with_verdict(t, r);
	else
		notify(t, r);
}

static bool same_end(const struct endpoint *a, const struct endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

bool trace_socket_same(const struct trace_socket *a, const struct trace_socket *b)
{
	if (!same_end(&a->local, &b->local) || !same_end(&a->remote, &b->remote) ||
	    (a->v6 == NULL) != (b->v6 == NULL))
		return false;
	return a->v6 == NULL || (ip6_equal(&a->v6->local.ip, &b->v6->local.ip) &&
				 ip6_equal(&a->v6->remote.ip, &b->v6->remote.ip));
}
