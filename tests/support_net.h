/*
 * support_net.h - what the model tests that build small worlds share
 * (test_host, test_router): a net with every trace record kept, the clock
 * moved by hand, a socket that remembers what it received, links of 1 ms,
 * the last drop in the log, and what a host's ICMP listener and a socket's
 * error fn saw. Model layer only (no app/).
 * Include after <cmocka.h>.
 */
#ifndef NATSIM_TESTS_SUPPORT_NET_H
#define NATSIM_TESTS_SUPPORT_NET_H

#include <stdint.h>
#include <string.h>

#include "explain/explain.h" /* test_lan_open words the drops */
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
/* The host tests' world: alice 10.0.0.1 and bob 10.0.0.2 on one LAN, their
 * net (seeded) with its trace log, and explain/'s words attached. 0, or -1
 * for a setup function to return. */
#define TEST_ALICE IP4(10, 0, 0, 1)
#define TEST_BOB IP4(10, 0, 0, 2)
struct test_lan {
	struct net *net;
	struct trace_log *log;
	struct host *alice, *bob;
};

static inline void test_wire(struct net *net, const char *name, struct iface *a, struct iface *b);

static inline int test_lan_open(struct test_lan *l, uint64_t seed)
{
	if (test_net_open(&l->net, &l->log, seed) < 0)
		return -1;
	explain_attach(net_trace(l->net));
	l->alice = host_new(l->net, "alice", TEST_ALICE, 24, 0);
	l->bob = host_new(l->net, "bob", TEST_BOB, 24, 0);
	if (l->alice == NULL || l->bob == NULL)
		return -1;
	test_wire(l->net, "lan", host_iface(l->alice), host_iface(l->bob));
	return 0;
}

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

/* ---- ICMP ---- */

/* What a listener or a socket's error fn saw. */
struct test_icmp_seen {
	size_t n_icmp, n_errors;
	struct packet_info last; /* the last ICMP message (pointers not kept) */
	uint8_t last_bytes[PACKET_MAX_SIZE];
	size_t last_len;
	struct host_icmp_error err;
};

static inline void test_icmp_listen(struct host *h, const struct packet_info *info, void *ctx)
{
	struct test_icmp_seen *seen = ctx;
	/* The listener sees the packet's parse; keep its bytes from the
	 * IPv4 header on (payload points into them). */
	const uint8_t *start = info->payload - info->l4_offset - ICMP_HEADER_SIZE;

	(void)h;
	seen->n_icmp++;
	seen->last = *info;
	seen->last_len = info->total_len;
	memcpy(seen->last_bytes, start, info->total_len);
}

static inline void test_icmp_socket_error(struct host_socket *s, const struct host_icmp_error *err,
					  void *ctx)
{
	struct test_icmp_seen *seen = ctx;

	(void)s;
	seen->n_errors++;
	seen->err = *err;
}

/* The record of packet `id` at `hop`, or NULL. */
static inline const struct trace_packet *test_hop_of(const struct trace_log *log, uint64_t id,
						     enum trace_hop hop)
{
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.packet_id == id &&
		    r->u.packet.hop == hop)
			return &r->u.packet;
	}
	return NULL;
}

/* How many packets `node` sent that are ICMP of `type`. */
static inline size_t test_icmp_sent_by(const struct trace_log *log, const char *node, uint8_t type)
{
	size_t n = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		struct packet_info info;

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
		    strcmp(r->u.packet.node, node) == 0 &&
		    packet_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0) == PACKET_OK &&
		    info.proto == IPPROTO_NUM_ICMP && info.icmp_type == type)
			n++;
	}
	return n;
}

#endif
