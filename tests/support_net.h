/*
 * support_net.h - what the model tests that build small worlds share
 * (test_host, test_router): a net with every trace record kept, the clock
 * moved by hand, a socket that remembers what it received, links of 1 ms,
 * and the last drop in the log. Model layer only (no app/).
 * Include after <cmocka.h>.
 */
#ifndef NATSIM_TESTS_SUPPORT_NET_H
#define NATSIM_TESTS_SUPPORT_NET_H

#include <stdint.h>
#include <string.h>

#include "model/host.h"
#include "model/net.h"
#include "sim/trace_log.h"

/* A new net (seeded) whose every record goes into a new log. 0, or -1 for a
 * setup function to return. */
static inline int test_net_open(struct net **net, struct trace_log **log, uint64_t seed)
{
	*net = net_new(seed);
	*log = trace_log_new();
	if (*net == NULL || *log == NULL || trace_log_attach(*log, net_trace(*net)) < 0)
		return -1;
	return 0;
}

static inline void test_net_close(struct net *net, struct trace_log *log)
{
	net_free(net);
	trace_log_free(log);
}

/* Runs the world's clock `ms` milliseconds on. */
static inline void test_run_ms(struct net *net, int64_t ms)
{
	struct engine *e = net_engine(net);

	engine_run_until(e, engine_now(e) + SIM_MS(ms));
}

/* A link of 1 ms between two interfaces (b may be NULL: one end only). */
static inline void test_wire(struct net *net, const char *name, struct iface *a, struct iface *b)
{
	struct link_config cfg;
	struct link *l;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	l = link_new(net, name, &cfg);
	assert_non_null(l);
	assert_int_equal(link_attach(l, a), 0);
	if (b != NULL)
		assert_int_equal(link_attach(l, b), 0);
}

/* The last packet dropped anywhere, or NULL. */
static inline const struct trace_packet *test_last_drop(const struct trace_log *log)
{
	const struct trace_packet *d = NULL;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP)
			d = &r->u.packet;
	}
	return d;
}

/* The drop record of packet `id`, or NULL if it was not dropped. */
static inline const struct trace_packet *test_drop_of(const struct trace_log *log, uint64_t id)
{
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
		    r->u.packet.packet_id == id)
			return &r->u.packet;
	}
	return NULL;
}

/* What a socket bound with test_inbox_recv (ctx: the inbox) received: how
 * many datagrams, and the last one's endpoints and text. */
struct test_inbox {
	size_t n;
	struct endpoint from, to;
	char last[64];
};

static inline void test_inbox_recv(struct host_socket *s, const struct endpoint *from,
				   const struct endpoint *to, const uint8_t *payload, size_t len,
				   void *ctx)
{
	struct test_inbox *box = ctx;

	(void)s;
	box->n++;
	box->from = *from;
	box->to = *to;
	memset(box->last, 0, sizeof(box->last));
	memcpy(box->last, payload, len < sizeof(box->last) - 1 ? len : sizeof(box->last) - 1);
}

#endif
