/*
 * support_trace.h - what the renderer tests that replay a hand-written story
 * share (test_tables, test_timeline): a trace bus whose clock the test sets
 * record by record, with a log keeping every record for the renderer to fold,
 * and the records such a story is written with (test_icmp_render,
 * test_tcp_render). Include after <cmocka.h>.
 */
#ifndef NATSIM_TESTS_SUPPORT_TRACE_H
#define NATSIM_TESTS_SUPPORT_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "model/packet.h"
#include "sim/engine.h"
#include "sim/trace.h"
#include "sim/trace_log.h"

struct test_trace {
	struct trace trace;
	int64_t clock; /* the trace's clock: set by test_trace_emit() */
	struct trace_log *log;
};

/* A bus with a log attached; fails the test if out of memory. */
static inline struct test_trace *test_trace_new(void)
{
	struct test_trace *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	trace_init(&f->trace, &f->clock);
	f->log = trace_log_new();
	assert_non_null(f->log);
	assert_int_equal(trace_log_attach(f->log, &f->trace), 0);
	return f;
}

static inline void test_trace_free(struct test_trace *f)
{
	trace_log_free(f->log);
	free(f);
}

/* Emits r at time `at` (times only move forward in a real run: keep them so). */
static inline void test_trace_emit(struct test_trace *f, int64_t at, struct trace_record *r)
{
	f->clock = at;
	trace_emit(&f->trace, r);
}

/* A packet's bytes, as a test builds them. */
struct test_bytes {
	uint8_t b[PACKET_MAX_SIZE];
	size_t n;
};

/* A node of the world, with one address, at time 0. */
static inline void test_trace_node(struct test_trace *f, const char *name, const char *type,
				   uint32_t ip, bool nat)
{
	struct trace_record r = {.kind = TRACE_NODE};
	r.u.node = (struct trace_node){.name = name, .type = type, .n_addrs = 1, .addrs = {ip}};
	r.u.node.nat = nat;
	test_trace_emit(f, 0, &r);
}

/* A link between the eth0 of a and the eth0 of b, 1 ms, at time 0. */
static inline void test_trace_link(struct test_trace *f, const char *name, const char *a,
				   const char *b)
{
	struct trace_record r = {.kind = TRACE_LINK};
	r.u.link =
	    (struct trace_link){TRACE_LINK_ADDED, name, a, "eth0", b, "eth0", SIM_MS(1), 0, 0};
	test_trace_emit(f, 0, &r);
}

/* A packet's hop at `node` (TX and RX on eth0); with `before`, a NAT's
 * translation by the mapping internal <-> external. */
static inline void test_trace_hop(struct test_trace *f, int64_t at, enum trace_hop hop, uint64_t id,
				  const char *node, const struct test_bytes *p,
				  const struct test_bytes *before, struct endpoint internal,
				  struct endpoint external)
{
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet = (struct trace_packet){
	    .hop = hop,
	    .packet_id = id,
	    .node = node,
	    .iface = hop == TRACE_HOP_TX || hop == TRACE_HOP_RX ? "eth0" : NULL,
	    .bytes = p->b,
	    .len = p->n};
	if (before != NULL) {
		r.u.packet.before = before->b;
		r.u.packet.before_len = before->n;
		r.u.packet.map_internal = internal;
		r.u.packet.map_external = external;
	}
	test_trace_emit(f, at, &r);
}

#endif
