/*
 * test_net.c - the world registry and links: latency, jitter without
 * reordering, loss, rate and queue, cuts, and the topology announcement.
 *
 * Links are tested between "sink" nodes defined here, which record when each
 * packet arrived and nothing else, so what is measured is the link alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/host.h"
#include "model/net.h"
#include "model/router.h"
#include "explain/explain.h"
#include "sim/trace_log.h"

#define SINK_MAX 12000

struct sink {
	struct node node;
	size_t n;
	uint64_t ids[SINK_MAX];
	int64_t at[SINK_MAX];
};

static void sink_receive(struct node *n, struct iface *in, struct packet *p)
{
	struct sink *s = (struct sink *)n;

	(void)in;
	if (s->n < SINK_MAX) {
		s->ids[s->n] = p->id;
		s->at[s->n] = engine_now(net_engine(n->net));
		s->n++;
	}
	packet_release(net_packets(n->net), p);
}

static void sink_free(struct node *n)
{
	free(n);
}

static const struct node_ops sink_ops = {.receive = sink_receive, .free = sink_free};

static struct sink *sink_new(struct net *net, const char *name, uint32_t addr)
{
	struct sink *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(net_add_node(net, &s->node, NODE_HOST, &sink_ops, name), 0);
	assert_non_null(node_add_iface(&s->node, "eth0", addr, 24));
	return s;
}

/* Two sinks a (10.0.0.1) and b (10.0.0.2) on link "wire". */
struct fixture {
	struct net *net;
	struct trace_log *log;
	struct sink *a, *b;
	struct link *wire;
};

static struct fixture *fixture_new(uint64_t seed, const struct link_config *cfg)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->net = net_new(seed);
	assert_non_null(f->net);
	f->log = trace_log_new();
	assert_non_null(f->log);
	assert_int_equal(trace_log_attach(f->log, net_trace(f->net)), 0);
	explain_attach(net_trace(f->net)); /* link drops carry verdicts; these are their words */
	f->a = sink_new(f->net, "a", IP4(10, 0, 0, 1));
	f->b = sink_new(f->net, "b", IP4(10, 0, 0, 2));
	f->wire = link_new(f->net, "wire", cfg);
	assert_non_null(f->wire);
	assert_int_equal(link_attach(f->wire, &f->a->node.ifaces[0]), 0);
	assert_int_equal(link_attach(f->wire, &f->b->node.ifaces[0]), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	net_free(f->net);
	trace_log_free(f->log);
	free(f);
}

/* Send one 100-byte-payload UDP packet a -> b now; returns its id. */
static uint64_t send_ab(struct fixture *f, size_t payload)
{
	static const uint8_t zeros[1400];
	struct endpoint s = {IP4(10, 0, 0, 1), 1000}, d = {IP4(10, 0, 0, 2), 2000};
	struct packet *p = packet_alloc(net_packets(f->net), net_next_packet_id(f->net), PACKET_MAX_SIZE);

	assert_non_null(p);
	p->len = packet_build_udp(p->data, p->cap, &s, &d, 64, 1, zeros, payload);
	assert_true(p->len > 0);
	uint64_t id = p->id;

	link_transmit(f->wire, &f->a->node.ifaces[0], d.ip, p);
	return id;
}

/* The n-th (0-based) packet drop record, or NULL. */
static const struct trace_packet *nth_drop(const struct trace_log *log, size_t nth)
{
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP && nth-- == 0)
			return &r->u.packet;
	}
	return NULL;
}

static size_t count_drops(const struct trace_log *log, enum trace_drop_reason reason)
{
	size_t n = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		n += r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
		     r->u.packet.reason == reason;
	}
	return n;
}

static void test_registry(void **state)
{
	(void)state;
	struct net *net = net_new(1);
	struct sink *s;

	assert_non_null(net);
	s = sink_new(net, "x", IP4(10, 0, 0, 1));
	struct sink *dup = calloc(1, sizeof(*dup));

	assert_int_equal(net_add_node(net, &dup->node, NODE_HOST, &sink_ops, "x"), -1);
	free(dup);
	assert_ptr_equal(net_find_node(net, "x"), &s->node);
	assert_null(net_find_node(net, "y"));
	assert_int_equal(net_node_count(net), 1);
	assert_ptr_equal(net_node_at(net, 0), &s->node);
	assert_int_equal(net_next_packet_id(net), 1);
	assert_int_equal(net_next_packet_id(net), 2);
	assert_ptr_equal(node_iface_by_addr(&s->node, IP4(10, 0, 0, 1)), &s->node.ifaces[0]);
	assert_null(node_add_iface(&s->node, "eth0", IP4(10, 0, 1, 1), 24)); /* name taken */
	for (int i = 1; i < NODE_MAX_IFACES; i++) {
		char name[8];

		snprintf(name, sizeof(name), "e%d", i);
		assert_non_null(node_add_iface(&s->node, name, IP4(10, 0, i, 1), 24));
	}
	assert_null(node_add_iface(&s->node, "full", IP4(10, 9, 0, 1), 24));
	assert_non_null(link_new(net, "l", NULL));
	assert_null(link_new(net, "l", NULL)); /* names are unique */
	assert_non_null(net_find_link(net, "l"));
	net_free(net);
}

static void test_latency_jitter_keeps_order(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(10);
	cfg.jitter = SIM_MS(5);
	struct fixture *f = fixture_new(7, &cfg);
	struct engine *e = net_engine(f->net);
	int64_t sent[500];
	bool varied = false;

	for (int i = 0; i < 500; i++) {
		engine_run_until(e, SIM_US(100) * i); /* one packet every 0.1 ms */
		sent[i] = engine_now(e);
		assert_int_equal(send_ab(f, 20), (uint64_t)i + 1);
	}
	engine_run_until(e, SIM_S(1));
	assert_int_equal(f->b->n, 500);
	for (size_t i = 0; i < 500; i++) {
		assert_int_equal(f->b->ids[i], i + 1); /* in order */
		int64_t delay = f->b->at[i] - sent[i];

		assert_true(delay >= SIM_MS(10));
		/* Within latency + jitter, unless held behind the packet ahead. */
		assert_true(delay <= SIM_MS(15) || f->b->at[i] == f->b->at[i - 1]);
		if (i > 0) {
			assert_true(f->b->at[i] >= f->b->at[i - 1]);
			varied |= delay != f->b->at[0] - sent[0];
		}
	}
	assert_true(varied);
	assert_int_equal(f->a->n, 0);
	fixture_free(f);
}

/* A packet is held behind the one ahead of it, never delivered early in its
 * place: after latency drops from 10 ms to 1 ms, the second packet waits. */
static void test_held_behind(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(10);
	struct fixture *f = fixture_new(1, &cfg);

	send_ab(f, 10);
	cfg.latency = SIM_MS(1);
	link_set_config(f->wire, &cfg);
	send_ab(f, 10);
	engine_run_until(net_engine(f->net), SIM_MS(5));
	assert_int_equal(f->b->n, 0);
	engine_run_until(net_engine(f->net), SIM_MS(20));
	assert_int_equal(f->b->n, 2);
	assert_int_equal(f->b->ids[0], 1);
	assert_int_equal(f->b->at[0], SIM_MS(10));
	assert_int_equal(f->b->at[1], SIM_MS(10));
	send_ab(f, 10); /* once the line is clear, the new latency applies */
	engine_run_until(net_engine(f->net), SIM_MS(30));
	assert_int_equal(f->b->at[2], SIM_MS(21));
	fixture_free(f);
}

/* Ids of packets that got through, as a hash, and how many; `observed`
 * false runs with no observer at all (no records, no words). */
static uint64_t lossy_run_watched(uint64_t seed, bool observed, size_t *delivered)
{
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	cfg.loss = 0.1;
	struct fixture *f = fixture_new(seed, &cfg);
	uint64_t h = 1469598103934665603ull;

	if (!observed)
		trace_unsubscribe(net_trace(f->net), trace_log_observe, f->log);
	for (int i = 0; i < 10000; i++)
		send_ab(f, 0);
	engine_run_until(net_engine(f->net), SIM_S(1));
	for (size_t i = 0; i < f->b->n; i++)
		h = (h ^ f->b->ids[i]) * 1099511628211ull;
	*delivered = f->b->n;
	if (!observed) {
		assert_int_equal(trace_log_count(f->log), 0);
		fixture_free(f);
		return h;
	}
	assert_int_equal(count_drops(f->log, TRACE_DROP_LINK_LOSS), 10000 - f->b->n);
	const struct trace_packet *d = nth_drop(f->log, 0);

	assert_non_null(d);
	assert_string_equal(d->node, "a");
	assert_string_equal(d->why,
			    "10.0.0.1:1000 → 10.0.0.2:2000 was lost on link wire (loss 10%)");
	/* The record keeps the verdict's facts, not only its words. */
	assert_int_equal(d->verdict.kind, NODE_VERDICT_LINK);
	const struct link_drop_facts *facts = d->verdict.facts;
	assert_int_equal(facts->cause, LINK_DROP_LOSS);
	assert_string_equal(facts->link, "wire");
	assert_float_equal(facts->loss, 0.1, 1e-12);
	fixture_free(f);
	return h;
}

static uint64_t lossy_run(uint64_t seed, size_t *delivered)
{
	return lossy_run_watched(seed, true, delivered);
}

/* A link decides the same whether or not anyone watches: the same packets
 * get through with and without an observer (DESIGN.md "Decide, then
 * explain"). */
static void test_same_fate_unobserved(void **state)
{
	size_t watched, unwatched;

	(void)state;
	assert_int_equal(lossy_run_watched(7, true, &watched),
			 lossy_run_watched(7, false, &unwatched));
	assert_int_equal(watched, unwatched);
	assert_true(watched < 10000);
}

static void test_loss_is_seeded(void **state)
{
	(void)state;
	size_t n1, n2, n3;
	uint64_t h1 = lossy_run(42, &n1), h2 = lossy_run(42, &n2), h3 = lossy_run(43, &n3);

	assert_int_equal(n1, n2);
	assert_int_equal(h1, h2);
	assert_int_not_equal(h1, h3);
	/* 10% of 10k: sd is 30, so +-300 is ten sigma. */
	assert_in_range(n1, 8700, 9300);
	assert_in_range(n3, 8700, 9300);
}

static void test_rate_and_queue(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	cfg.rate_bps = 1000000; /* 1 Mbit/s: a 1000-byte packet takes 8 ms */
	cfg.queue_limit = 4;
	struct fixture *f = fixture_new(1, &cfg);

	for (int i = 0; i < 10; i++)
		send_ab(f, 1000 - 28);
	/* One on the wire and four waiting; the other five find the queue full. */
	assert_int_equal(count_drops(f->log, TRACE_DROP_QUEUE_FULL), 5);
	assert_string_equal(
	    nth_drop(f->log, 0)->why,
	    "a dropped 10.0.0.1:1000 → 10.0.0.2:2000: its queue on link wire is full "
	    "(4 packets wait behind the one being sent at 1000000 bit/s)");
	engine_run_until(net_engine(f->net), SIM_MS(100));
	assert_int_equal(f->b->n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(f->b->at[i], SIM_MS(8) * (int64_t)(i + 1) + SIM_MS(1));
	/* The transmitter is idle again: the next packet goes straight out. */
	send_ab(f, 1000 - 28);
	engine_run_until(net_engine(f->net), SIM_MS(200));
	assert_int_equal(f->b->n, 6);
	assert_int_equal(f->b->at[5], SIM_MS(100) + SIM_MS(9));
	fixture_free(f);
}

static void test_down_and_up(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(2);
	struct fixture *f = fixture_new(1, &cfg);
	struct engine *e = net_engine(f->net);

	link_set_up(f->wire, false);
	assert_false(link_is_up(f->wire));
	send_ab(f, 10);
	engine_run_until(e, SIM_MS(10));
	assert_int_equal(f->b->n, 0);
	assert_int_equal(count_drops(f->log, TRACE_DROP_LINK_DOWN), 1);
	assert_string_equal(nth_drop(f->log, 0)->node, "a");
	assert_string_equal(nth_drop(f->log, 0)->why,
			    "a could not send 10.0.0.1:1000 → 10.0.0.2:2000: link wire is down");
	link_set_up(f->wire, true);
	send_ab(f, 10);
	engine_run_until(e, SIM_MS(20));
	assert_int_equal(f->b->n, 1);
	assert_int_equal(f->b->at[0], SIM_MS(12));

	/* Both changes are on the trace. */
	int downs = 0, ups = 0;

	for (size_t i = 0; i < trace_log_count(f->log); i++) {
		const struct trace_record *r = trace_log_get(f->log, i);

		if (r->kind == TRACE_LINK) {
			downs += r->u.link.event == TRACE_LINK_DOWN;
			ups += r->u.link.event == TRACE_LINK_UP;
			assert_string_equal(r->u.link.name, "wire");
		}
	}
	assert_int_equal(downs, 1);
	assert_int_equal(ups, 1);
	fixture_free(f);
}

static void test_cut_in_flight(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(10);
	struct fixture *f = fixture_new(1, &cfg);
	struct engine *e = net_engine(f->net);

	send_ab(f, 10); /* arrives at 10 ms, if nothing happens */
	engine_run_until(e, SIM_MS(5));
	link_set_up(f->wire, false);
	engine_run_until(e, SIM_MS(6));
	link_set_up(f->wire, true); /* restored before the first one lands */
	send_ab(f, 10);		    /* arrives at 16 ms */
	engine_run_until(e, SIM_MS(30));
	assert_int_equal(f->b->n, 1);
	assert_int_equal(f->b->ids[0], 2);
	assert_int_equal(f->b->at[0], SIM_MS(16));
	const struct trace_packet *d = nth_drop(f->log, 0);

	assert_non_null(d);
	assert_int_equal(d->packet_id, 1);
	assert_int_equal(d->reason, TRACE_DROP_LINK_DOWN);
	assert_string_equal(d->node, "b");
	assert_string_equal(d->why, "10.0.0.1:1000 → 10.0.0.2:2000 never reached b: link wire went "
				    "down while it was in flight");
	fixture_free(f);
}

static void test_no_such_neighbour(void **state)
{
	(void)state;
	struct fixture *f = fixture_new(1, NULL);
	struct packet *p = packet_alloc(net_packets(f->net), net_next_packet_id(f->net), PACKET_MAX_SIZE);
	struct endpoint s = {IP4(10, 0, 0, 1), 1}, d = {IP4(10, 0, 0, 9), 2};

	p->len = packet_build_udp(p->data, p->cap, &s, &d, 64, 0, NULL, 0);
	link_transmit(f->wire, &f->a->node.ifaces[0], d.ip, p);
	assert_int_equal(count_drops(f->log, TRACE_DROP_NO_ROUTE), 1);
	assert_string_equal(nth_drop(f->log, 0)->why, "a could not send 10.0.0.1:1 → 10.0.0.9:2: "
						      "nobody on link wire has address 10.0.0.9");
	fixture_free(f);
}

/* A LAN where one attachment has its own access (say, Wi-Fi): slower, and
 * cut on its own while the rest of the LAN works on. */
static void test_attachment_access(void **state)
{
	(void)state;
	struct link_config cfg;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	struct fixture *f = fixture_new(1, &cfg);
	struct sink *c = sink_new(f->net, "c", IP4(10, 0, 0, 3));
	struct engine *e = net_engine(f->net);
	struct iface *bi = &f->b->node.ifaces[0];

	assert_int_equal(link_attach(f->wire, &c->node.ifaces[0]), 0);
	assert_int_equal(link_attachment_configure(f->wire, bi, SIM_MS(5), 0, 0.0), 0);
	assert_int_equal(link_attachment_configure(f->wire, bi, 0, 0, 1.5), -1);
	assert_int_equal(link_attachment_configure(f->wire, &c->node.ifaces[0] + 1, 0, 0, 0), -1);
	send_ab(f, 10);
	engine_run_until(e, SIM_MS(10));
	assert_int_equal(f->b->at[0], SIM_MS(6));

	/* In flight when b's access goes: dropped on arrival. */
	send_ab(f, 10);
	engine_run_until(e, SIM_MS(12));
	assert_int_equal(link_attachment_set_up(f->wire, bi, false), 0);
	assert_false(link_attachment_is_up(f->wire, bi));
	assert_true(link_is_up(f->wire));
	engine_run_until(e, SIM_MS(20));
	assert_int_equal(f->b->n, 1);
	assert_string_equal(nth_drop(f->log, 0)->why, "10.0.0.1:1000 → 10.0.0.2:2000 never reached "
						      "b: b's access to link wire went down while "
						      "it was in flight");
	/* Sent while it is down: the sender sees it go, b never gets it. */
	send_ab(f, 10);
	assert_string_equal(nth_drop(f->log, 1)->node, "a");
	assert_string_equal(nth_drop(f->log, 1)->why, "10.0.0.1:1000 → 10.0.0.2:2000 never reached "
						      "b: its access to link wire is down");
	/* The rest of the LAN is unaffected. */
	struct packet *p = packet_alloc(net_packets(f->net), net_next_packet_id(f->net), PACKET_MAX_SIZE);
	struct endpoint src = {IP4(10, 0, 0, 1), 1}, dst = {IP4(10, 0, 0, 3), 2};

	p->len = packet_build_udp(p->data, p->cap, &src, &dst, 64, 0, NULL, 0);
	link_transmit(f->wire, &f->a->node.ifaces[0], dst.ip, p);
	engine_run_until(e, SIM_MS(30));
	assert_int_equal(c->n, 1);
	assert_int_equal(link_attachment_set_up(f->wire, bi, true), 0);
	send_ab(f, 10);
	engine_run_until(e, SIM_MS(40));
	assert_int_equal(f->b->n, 2);

	/* The announcement pairs the first attachment with b, access included. */
	size_t pairs = 0;

	net_announce(f->net);
	for (size_t i = 0; i < trace_log_count(f->log); i++) {
		const struct trace_record *r = trace_log_get(f->log, i);

		if (r->kind != TRACE_LINK || r->u.link.event != TRACE_LINK_ADDED)
			continue;
		pairs++;
		assert_string_equal(r->u.link.a, "a");
		assert_int_equal(r->u.link.latency_ns,
				 strcmp(r->u.link.b, "b") == 0 ? SIM_MS(6) : SIM_MS(1));
	}
	assert_int_equal(pairs, 2);
	fixture_free(f);
}

static void test_announce(void **state)
{
	(void)state;
	struct net *net = net_new(1);
	struct trace_log *log = trace_log_new();
	struct link_config cfg;

	assert_int_equal(trace_log_attach(log, net_trace(net)), 0);
	link_config_default(&cfg);
	cfg.latency = SIM_MS(20);
	struct router *home = router_new(net, "home");
	struct iface *lan = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(home, "wan", IP4(203, 0, 113, 7), 24);
	struct host *alice = host_new(net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	struct host *carol = host_new(net, "carol", IP4(192, 168, 1, 6), 24, IP4(192, 168, 1, 1));
	struct host *srv = host_new(net, "srv", IP4(203, 0, 113, 9), 24, 0);
	struct link *l1 = link_new(net, "home-lan", NULL), *l2 = link_new(net, "wan", &cfg);
	struct nat_config nc;

	assert_int_equal(link_attach(l1, lan), 0);
	assert_int_equal(link_attach(l1, host_iface(alice)), 0);
	assert_int_equal(link_attach(l1, host_iface(carol)), 0);
	assert_int_equal(link_attach(l1, host_iface(carol)), -1); /* already attached */
	assert_int_equal(link_attach(l2, wan), 0);
	assert_int_equal(link_attach(l2, host_iface(srv)), 0);
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "port-restricted-cone"), 0);
	assert_non_null(router_enable_nat(home, wan, &nc));
	host_enable_firewall(alice, true);
	assert_int_equal(trace_log_count(log), 0); /* nothing until announced */
	net_announce(net);
	assert_int_equal(trace_log_count(log), 4 + 3);

	const struct trace_record *r = trace_log_get(log, 0);

	assert_int_equal(r->kind, TRACE_NODE);
	assert_string_equal(r->u.node.name, "home");
	assert_string_equal(r->u.node.type, "router");
	assert_string_equal(r->u.node.detail, "lan 192.168.1.1/24, wan 203.0.113.7/24; NAT "
					      "port-restricted-cone (EIM+APDF) on wan 203.0.113.7");
	assert_null(r->u.node.behind);
	r = trace_log_get(log, 1);
	assert_string_equal(r->u.node.name, "alice");
	assert_string_equal(r->u.node.type, "host");
	assert_string_equal(r->u.node.detail, "192.168.1.5/24 gw 192.168.1.1, firewall on");
	assert_string_equal(r->u.node.behind, "home");
	r = trace_log_get(log, 3);
	assert_string_equal(r->u.node.detail, "203.0.113.9/24, no gateway, firewall off");
	assert_null(r->u.node.behind);

	/* The LAN pairs its first attachment with each other one. */
	r = trace_log_get(log, 4);
	assert_int_equal(r->kind, TRACE_LINK);
	assert_int_equal(r->u.link.event, TRACE_LINK_ADDED);
	assert_string_equal(r->u.link.name, "home-lan");
	assert_string_equal(r->u.link.a, "home");
	assert_string_equal(r->u.link.a_iface, "lan");
	assert_string_equal(r->u.link.b, "alice");
	assert_string_equal(trace_log_get(log, 5)->u.link.b, "carol");
	r = trace_log_get(log, 6);
	assert_string_equal(r->u.link.name, "wan");
	assert_string_equal(r->u.link.b, "srv");
	assert_string_equal(r->u.link.b_iface, "eth0");
	assert_int_equal(r->u.link.latency_ns, SIM_MS(20));
	net_free(net);
	trace_log_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),
	    cmocka_unit_test(test_latency_jitter_keeps_order),
	    cmocka_unit_test(test_held_behind),
	    cmocka_unit_test(test_loss_is_seeded),
	    cmocka_unit_test(test_same_fate_unobserved),
	    cmocka_unit_test(test_rate_and_queue),
	    cmocka_unit_test(test_down_and_up),
	    cmocka_unit_test(test_cut_in_flight),
	    cmocka_unit_test(test_no_such_neighbour),
	    cmocka_unit_test(test_attachment_access),
	    cmocka_unit_test(test_announce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
