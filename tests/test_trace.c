/*
 * test_trace.c - the trace bus (stamping, observers) and the trace log (deep
 * copies, determinism hash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sim/trace.h"
#include "sim/trace_log.h"

struct seen {
	int who;
	int order[16];
	uint64_t seq[16];
	int64_t time[16];
	size_t n;
};

/* Observers append their own id to a shared list, so call order shows. */
struct observer {
	struct seen *seen;
	int id;
};

static void observe(const struct trace_record *r, void *ctx)
{
	struct observer *o = ctx;
	struct seen *s = o->seen;
	assert_true(s->n < 16);
	s->order[s->n] = o->id;
	s->seq[s->n] = r->seq;
	s->time[s->n] = r->time;
	s->n++;
}

static void test_names(void **state)
{
	(void)state;
	const char *drops[] = {"none",      "firewall",   "nat-filter", "nat-no-mapping",
			       "nat-exhausted", "hairpin", "no-route", "ttl",
			       "link-loss", "link-down",  "queue-full", "malformed",
			       "no-socket", "not-for-us", "icmp-no-flow", "ct-invalid"};
	assert_int_equal(sizeof(drops) / sizeof(drops[0]), TRACE_DROP_REASON_COUNT);
	for (int i = 0; i < TRACE_DROP_REASON_COUNT; i++)
		assert_string_equal(trace_drop_reason_name((enum trace_drop_reason)i), drops[i]);
	assert_string_equal(trace_drop_reason_name(TRACE_DROP_REASON_COUNT), "?");
	assert_string_equal(trace_kind_name(TRACE_NODE), "node");
	assert_string_equal(trace_kind_name(TRACE_LINK), "link");
	assert_string_equal(trace_kind_name(TRACE_PACKET), "packet");
	assert_string_equal(trace_kind_name(TRACE_CONNTRACK), "conntrack");
	assert_string_equal(trace_kind_name(TRACE_MAPPING), "mapping");
	assert_string_equal(trace_kind_name(TRACE_APP), "app");
	assert_string_equal(trace_kind_name(TRACE_SCENARIO), "scenario");
	assert_string_equal(trace_kind_name(TRACE_SOCKET), "socket");
	assert_string_equal(trace_hop_name(TRACE_HOP_SEND), "send");
	assert_string_equal(trace_hop_name(TRACE_HOP_TX), "tx");
	assert_string_equal(trace_hop_name(TRACE_HOP_RX), "rx");
	assert_string_equal(trace_hop_name(TRACE_HOP_TRANSLATE), "translate");
	assert_string_equal(trace_hop_name(TRACE_HOP_DELIVER), "deliver");
	assert_string_equal(trace_hop_name(TRACE_HOP_DROP), "drop");
}

static void test_emit_without_observers(void **state)
{
	(void)state;
	int64_t clock = 77;
	struct trace t;
	trace_init(&t, &clock);
	assert_false(trace_active(&t));
	assert_false(trace_active(NULL));
	struct trace_record r = {.kind = TRACE_APP};
	trace_emit(&t, &r);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.time, 77);
}

static void test_observers_in_order_and_stamped(void **state)
{
	(void)state;
	int64_t clock = 5;
	struct trace t;
	trace_init(&t, &clock);
	struct seen s = {0};
	struct observer a = {&s, 1}, b = {&s, 2};
	assert_int_equal(trace_subscribe(&t, observe, &a), 0);
	assert_int_equal(trace_subscribe(&t, observe, &b), 0);
	assert_true(trace_active(&t));
	struct trace_record r = {.kind = TRACE_SCENARIO};
	trace_emit(&t, &r);
	clock = 9;
	trace_emit(&t, &r);
	assert_int_equal(s.n, 4);
	int want_order[4] = {1, 2, 1, 2};
	uint64_t want_seq[4] = {0, 0, 1, 1};
	int64_t want_time[4] = {5, 5, 9, 9};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(s.order[i], want_order[i]);
		assert_int_equal(s.seq[i], want_seq[i]);
		assert_int_equal(s.time[i], want_time[i]);
	}
}

static void test_unsubscribe_and_limit(void **state)
{
	(void)state;
	int64_t clock = 0;
	struct trace t;
	trace_init(&t, &clock);
	struct seen s = {0};
	struct observer o[TRACE_MAX_OBSERVERS + 1];
	for (int i = 0; i <= TRACE_MAX_OBSERVERS; i++)
		o[i] = (struct observer){&s, i};
	for (int i = 0; i < TRACE_MAX_OBSERVERS; i++)
		assert_int_equal(trace_subscribe(&t, observe, &o[i]), 0);
	assert_int_equal(trace_subscribe(&t, observe, &o[TRACE_MAX_OBSERVERS]), -1);

	/* Remove the second: the others keep their order, a slot frees up. */
	trace_unsubscribe(&t, observe, &o[1]);
	trace_unsubscribe(&t, observe, &o[1]); /* not subscribed: no effect */
	assert_int_equal(t.n_observers, TRACE_MAX_OBSERVERS - 1);
	assert_int_equal(trace_subscribe(&t, observe, &o[TRACE_MAX_OBSERVERS]), 0);
	struct trace_record r = {.kind = TRACE_NODE};
	trace_emit(&t, &r);
	assert_int_equal(s.n, TRACE_MAX_OBSERVERS);
	int want[TRACE_MAX_OBSERVERS] = {0, 2, 3, 4, 5, 6, 7, 8};
	for (int i = 0; i < TRACE_MAX_OBSERVERS; i++)
		assert_int_equal(s.order[i], want[i]);
	for (int i = 0; i <= TRACE_MAX_OBSERVERS; i++)
		trace_unsubscribe(&t, observe, &o[i]);
	assert_false(trace_active(&t));
}

struct log_fixture {
	int64_t clock;
	struct trace t;
	struct trace_log *log;
};

static int setup_log(void **state)
{
	static struct log_fixture f;
	f.clock = 0;
	trace_init(&f.t, &f.clock);
	f.log = trace_log_new();
	if (f.log == NULL || trace_log_attach(f.log, &f.t) != 0)
		return -1;
	*state = &f;
	return 0;
}

static int teardown_log(void **state)
{
	struct log_fixture *f = *state;
	trace_log_free(f->log);
	return 0;
}

/* Emit a translate hop whose strings and bytes live in buffers we then wreck. */
static void emit_packet(struct log_fixture *f, const char *node, uint8_t fill)
{
	char node_buf[32], why_buf[64];
	uint8_t bytes[28], before[28];
	strncpy(node_buf, node, sizeof(node_buf) - 1);
	node_buf[sizeof(node_buf) - 1] = '\0';
	strcpy(why_buf, "rewritten by the NAT");
	memset(bytes, fill, sizeof(bytes));
	memset(before, fill ^ 0xff, sizeof(before));
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet.hop = TRACE_HOP_TRANSLATE;
	r.u.packet.packet_id = 7;
	r.u.packet.node = node_buf;
	r.u.packet.iface = NULL;
	r.u.packet.bytes = bytes;
	r.u.packet.len = sizeof(bytes);
	r.u.packet.before = before;
	r.u.packet.before_len = sizeof(before);
	r.u.packet.map_internal = (struct endpoint){0xc0a80105, 5000};
	r.u.packet.map_external = (struct endpoint){0xcb007107, 61002};
	r.u.packet.why = why_buf;
	trace_emit(&f->t, &r);
	memset(node_buf, 'X', sizeof(node_buf));
	memset(why_buf, 'Y', sizeof(why_buf));
	memset(bytes, 0, sizeof(bytes));
	memset(before, 0, sizeof(before));
}

static void test_log_copies_survive(void **state)
{
	struct log_fixture *f = *state;
	f->clock = 1000;
	emit_packet(f, "office", 0xab);
	assert_int_equal(trace_log_count(f->log), 1);
	const struct trace_record *r = trace_log_get(f->log, 0);
	assert_non_null(r);
	assert_null(trace_log_get(f->log, 1));
	assert_int_equal(r->time, 1000);
	assert_int_equal(r->kind, TRACE_PACKET);
	assert_string_equal(r->u.packet.node, "office");
	assert_null(r->u.packet.iface);
	assert_string_equal(r->u.packet.why, "rewritten by the NAT");
	assert_int_equal(r->u.packet.len, 28);
	for (size_t i = 0; i < r->u.packet.len; i++) {
		assert_int_equal(r->u.packet.bytes[i], 0xab);
		assert_int_equal(r->u.packet.before[i], 0x54);
	}
	assert_int_equal(r->u.packet.map_external.port, 61002);
	assert_false(trace_log_failed(f->log));
}

/* Record pointers and their strings stay put while the log grows past its
 * first blocks and chunks. */
static void test_log_pointers_stable(void **state)
{
	struct log_fixture *f = *state;
	emit_packet(f, "first", 1);
	const struct trace_record *first = trace_log_get(f->log, 0);
	const char *name = first->u.packet.node;
	char text[40];
	for (int i = 0; i < 5000; i++) {
		memset(text, 'a' + i % 26, sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		struct trace_record r = {.kind = TRACE_APP};
		r.u.app.text = text;
		trace_emit(&f->t, &r);
	}
	assert_ptr_equal(trace_log_get(f->log, 0), first);
	assert_ptr_equal(first->u.packet.node, name);
	assert_string_equal(name, "first");
	assert_int_equal(trace_log_count(f->log), 5001);
	assert_int_equal(trace_log_get(f->log, 5000)->seq, 5000);
	assert_int_equal(trace_log_get(f->log, 27)->u.app.text[0], 'a' + 26 % 26);
}

/* A buffer bigger than an arena chunk gets its own chunk. */
static void test_log_large_bytes(void **state)
{
	struct log_fixture *f = *state;
	static uint8_t big[200000];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	struct trace_record r = {.kind = TRACE_PACKET};
	r.u.packet.bytes = big;
	r.u.packet.len = sizeof(big);
	trace_emit(&f->t, &r);
	emit_packet(f, "after", 3);
	memset(big, 0, sizeof(big));
	const struct trace_record *c = trace_log_get(f->log, 0);
	for (size_t i = 0; i < sizeof(big); i++)
		assert_int_equal(c->u.packet.bytes[i], (uint8_t)i);
	assert_string_equal(trace_log_get(f->log, 1)->u.packet.node, "after");
}

/* Hash of a log holding one record `r` emitted at `clock`. */
static uint64_t hash_one(struct trace_record r, int64_t clock)
{
	struct trace t;
	trace_init(&t, &clock);
	struct trace_log *log = trace_log_new();
	assert_non_null(log);
	assert_int_equal(trace_log_attach(log, &t), 0);
	trace_emit(&t, &r);
	uint64_t h = trace_log_hash(log);
	trace_log_free(log);
	return h;
}

static void test_hash_sees_every_change(void **state)
{
	(void)state;
	uint8_t b1[4] = {1, 2, 3, 4}, b2[4] = {1, 2, 3, 5};
	char n1[] = "office", n2[] = "office";
	struct trace_record base = {.kind = TRACE_PACKET};
	base.u.packet.node = n1;
	base.u.packet.bytes = b1;
	base.u.packet.len = 4;
	base.u.packet.why = "x";
	uint64_t h = hash_one(base, 10);

	/* Same content at different addresses: same hash (no pointers hashed). */
	struct trace_record same = base;
	same.u.packet.node = n2;
	assert_int_equal(hash_one(same, 10), h);

	assert_int_not_equal(hash_one(base, 11), h); /* time */
	struct trace_record v = base;
	v.u.packet.bytes = b2;
	assert_int_not_equal(hash_one(v, 10), h); /* a byte */
	v = base;
	v.u.packet.len = 3;
	assert_int_not_equal(hash_one(v, 10), h); /* a length */
	v = base;
	v.u.packet.node = "offic";
	assert_int_not_equal(hash_one(v, 10), h); /* a string */
	v = base;
	v.u.packet.why = NULL;
	uint64_t h_null = hash_one(v, 10);
	assert_int_not_equal(h_null, h);
	v.u.packet.why = "";
	assert_int_not_equal(hash_one(v, 10), h_null); /* absent differs from empty */
	v = base;
	v.u.packet.map_external.port = 1;
	assert_int_not_equal(hash_one(v, 10), h); /* an endpoint */
	v = base;
	v.u.packet.hop = TRACE_HOP_DROP;
	assert_int_not_equal(hash_one(v, 10), h); /* an enum */
	v = base;
	v.kind = TRACE_APP;
	memset(&v.u, 0, sizeof(v.u));
	assert_int_not_equal(hash_one(v, 10), h); /* the kind */

	struct trace_record l = {.kind = TRACE_LINK};
	l.u.link.loss = 0.01;
	uint64_t hl = hash_one(l, 0);
	l.u.link.loss = 0.02;
	assert_int_not_equal(hash_one(l, 0), hl); /* a double */
}

static void test_hash_sees_order_and_count(void **state)
{
	struct log_fixture *f = *state;
	uint64_t empty = trace_log_hash(f->log);
	emit_packet(f, "a", 1);
	uint64_t one = trace_log_hash(f->log);
	assert_int_not_equal(one, empty);
	emit_packet(f, "b", 1);
	uint64_t ab = trace_log_hash(f->log);

	struct log_fixture g;
	g.clock = 0;
	trace_init(&g.t, &g.clock);
	g.log = trace_log_new();
	assert_non_null(g.log);
	assert_int_equal(trace_log_attach(g.log, &g.t), 0);
	emit_packet(&g, "b", 1);
	emit_packet(&g, "a", 1);
	assert_int_not_equal(trace_log_hash(g.log), ab);
	trace_log_free(g.log);
	trace_log_free(NULL);
}

#define LOG_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup_log, teardown_log)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_emit_without_observers),
		cmocka_unit_test(test_observers_in_order_and_stamped),
		cmocka_unit_test(test_unsubscribe_and_limit),
		LOG_TEST(test_log_copies_survive),
		LOG_TEST(test_log_pointers_stable),
		LOG_TEST(test_log_large_bytes),
		cmocka_unit_test(test_hash_sees_every_change),
		LOG_TEST(test_hash_sees_order_and_count),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
