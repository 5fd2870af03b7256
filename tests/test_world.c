/*
 * test_world.c - the classic topology, built in C, end to end:
 *
 *   alice 192.168.1.5 -- [home: port-restricted] 203.0.113.7 --+
 *   bob 10.0.0.5 ---- [office: full cone] 198.51.100.9 ---------+-- [internet]
 *   coord 192.0.2.1 --------------------------------------------+
 *
 * Every link to the internet router takes 20 ms, LANs 1 ms. What gets
 * through follows from the NAT types alone, and the same world and seed
 * always give the same trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/host.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "support_net.h"

#define COORD IP4(192, 0, 2, 1)
#define HOME_PUBLIC IP4(203, 0, 113, 7)
#define OFFICE_PUBLIC IP4(198, 51, 100, 9)

struct inbox {
	size_t n;
	struct endpoint from;
};

/* The coordinator answers every datagram, and remembers who it saw last. */
static void coord_recv(struct host_socket *s, const struct endpoint *from,
		       const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	struct inbox *box = ctx;

	(void)to;
	(void)payload;
	(void)len;
	box->n++;
	box->from = *from;
	host_udp_sendto(s, from, "seen", 4);
}

static void peer_recv(struct host_socket *s, const struct endpoint *from, const struct endpoint *to,
		      const uint8_t *payload, size_t len, void *ctx)
{
	struct inbox *box = ctx;

	(void)s;
	(void)to;
	(void)payload;
	(void)len;
	box->n++;
	box->from = *from;
}

struct world {
	struct net *net;
	struct trace_log *log;
	struct host *alice, *bob, *coord;
	struct host_socket *a, *b, *c, *c2;
	struct inbox a_box, b_box, c_box, c2_box;
};

static struct link *wire_up(struct net *net, const char *name, struct iface *x, struct iface *y,
			    int64_t latency)
{
	struct link_config cfg;
	struct link *l;

	link_config_default(&cfg);
	cfg.latency = latency;
	l = link_new(net, name, &cfg);
	assert_non_null(l);
	assert_int_equal(link_attach(l, x), 0);
	assert_int_equal(link_attach(l, y), 0);
	return l;
}

static struct router *nat_router(struct net *net, const char *name, const char *preset,
				 uint32_t lan, uint32_t wan, uint32_t upstream)
{
	struct router *r = router_new(net, name);
	struct nat_config nc;

	assert_non_null(r);
	assert_non_null(router_add_iface(r, "lan", lan, 24));
	struct iface *w = router_add_iface(r, "wan", wan, 24);

	assert_int_equal(router_add_route(r, 0, 0, w, upstream), 0);
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, preset), 0);
	assert_non_null(router_enable_nat(r, w, &nc));
	return r;
}

static struct world *world_new(uint64_t seed)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->net = net_new(seed);
	w->log = trace_log_new();
	assert_non_null(w->net);
	assert_non_null(w->log);
	assert_int_equal(trace_log_attach(w->log, net_trace(w->net)), 0);
	explain_attach(net_trace(w->net));

	struct net *net = w->net;
	struct router *inet = router_new(net, "internet");
	struct iface *to_home = router_add_iface(inet, "home", IP4(203, 0, 113, 1), 24);
	struct iface *to_office = router_add_iface(inet, "office", IP4(198, 51, 100, 1), 24);
	struct iface *to_coord = router_add_iface(inet, "coord", IP4(192, 0, 2, 254), 24);
	struct router *home = nat_router(net, "home", "port-restricted-cone", IP4(192, 168, 1, 1),
					 HOME_PUBLIC, IP4(203, 0, 113, 1));
	struct router *office = nat_router(net, "office", "full-cone", IP4(10, 0, 0, 1),
					   OFFICE_PUBLIC, IP4(198, 51, 100, 1));

	w->alice = host_new(net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	w->bob = host_new(net, "bob", IP4(10, 0, 0, 5), 24, IP4(10, 0, 0, 1));
	w->coord = host_new(net, "coord", COORD, 24, IP4(192, 0, 2, 254));
	wire_up(net, "home-lan", node_find_iface(router_node(home), "lan"), host_iface(w->alice),
		SIM_MS(1));
	wire_up(net, "office-lan", node_find_iface(router_node(office), "lan"), host_iface(w->bob),
		SIM_MS(1));
	wire_up(net, "home-internet", router_nat_outside(home), to_home, SIM_MS(20));
	wire_up(net, "office-internet", router_nat_outside(office), to_office, SIM_MS(20));
	wire_up(net, "coord-internet", host_iface(w->coord), to_coord, SIM_MS(20));
	net_announce(net);

	w->a = host_udp_bind(w->alice, 5000, peer_recv, &w->a_box);
	w->b = host_udp_bind(w->bob, 6000, peer_recv, &w->b_box);
	w->c = host_udp_bind(w->coord, 3478, coord_recv, &w->c_box);
	w->c2 = host_udp_bind(w->coord, 3479, peer_recv, &w->c2_box);
	assert_true(w->a && w->b && w->c && w->c2);
	return w;
}

static void world_free(struct world *w)
{
	net_free(w->net);
	trace_log_free(w->log);
	free(w);
}

static void send_and_wait(struct world *w, struct host_socket *s, const struct endpoint *to)
{
	struct engine *e = net_engine(w->net);

	assert_int_not_equal(host_udp_sendto(s, to, "hello", 5), 0);
	engine_run_until(e, engine_now(e) + SIM_MS(200));
}

static void test_punching_follows_nat_types(void **state)
{
	(void)state;
	struct world *w = world_new(2024);
	struct endpoint coord = {COORD, 3478};

	/* Both register with the coordinator, which learns their public sides. */
	send_and_wait(w, w->a, &coord);
	struct endpoint alice_pub = w->c_box.from;

	send_and_wait(w, w->b, &coord);
	struct endpoint bob_pub = w->c_box.from;

	assert_int_equal(alice_pub.ip, HOME_PUBLIC);
	assert_int_equal(alice_pub.port, 5000);
	assert_int_equal(bob_pub.ip, OFFICE_PUBLIC);
	assert_int_equal(bob_pub.port, 6000);
	assert_int_equal(w->a_box.n, 1); /* the coordinator's answers came back */
	assert_int_equal(w->b_box.n, 1);

	/* Full cone: once bob's mapping exists, anyone may use it, even a port
	 * bob never talked to. Port-restricted: alice's admits only coord:3478. */
	send_and_wait(w, w->c2, &bob_pub);
	assert_int_equal(w->b_box.n, 2);
	send_and_wait(w, w->c2, &alice_pub);
	assert_int_equal(w->a_box.n, 1);
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NAT_FILTER);
	assert_string_equal(test_last_drop(w->log)->node, "home");

	/* Bob knocks first: home refuses, alice has not sent to bob. */
	send_and_wait(w, w->b, &alice_pub);
	assert_int_equal(w->a_box.n, 1);
	assert_string_equal(test_last_drop(w->log)->why,
			    "home dropped 198.51.100.9:6000 → 203.0.113.7:5000: its mapping for "
			    "192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, the one "
			    "endpoint it has sent to (address-and-port-dependent filtering)");
	/* Alice to bob: office is full cone, so it goes straight through... */
	send_and_wait(w, w->a, &bob_pub);
	assert_int_equal(w->b_box.n, 3);
	assert_int_equal(w->b_box.from.ip, alice_pub.ip);
	assert_int_equal(w->b_box.from.port, alice_pub.port);
	/* ...and it opened home's filter to bob: now bob gets through too. */
	send_and_wait(w, w->b, &alice_pub);
	assert_int_equal(w->a_box.n, 2);
	assert_int_equal(w->a_box.from.ip, bob_pub.ip);
	assert_int_equal(w->a_box.from.port, bob_pub.port);
	assert_false(trace_log_failed(w->log));
	world_free(w);
}

/* A run with jitter and loss on alice's uplink: 40 datagrams to coord. */
static uint64_t lossy_run(uint64_t seed, size_t *answered)
{
	struct world *w = world_new(seed);
	struct engine *e = net_engine(w->net);
	struct link *l = net_find_link(w->net, "home-internet");
	struct link_config cfg = *link_get_config(l);
	struct endpoint coord = {COORD, 3478};

	cfg.loss = 0.3;
	cfg.jitter = SIM_MS(5);
	link_set_config(l, &cfg);
	for (int i = 0; i < 40; i++) {
		assert_int_not_equal(host_udp_sendto(w->a, &coord, "ping", 4), 0);
		engine_run_until(e, engine_now(e) + SIM_MS(10));
	}
	engine_run_until(e, engine_now(e) + SIM_S(1));
	*answered = w->a_box.n;
	assert_false(trace_log_failed(w->log));
	uint64_t h = trace_log_hash(w->log);

	world_free(w);
	return h;
}

static void test_determinism(void **state)
{
	(void)state;
	size_t n1, n2, n3;
	uint64_t h1 = lossy_run(1, &n1), h2 = lossy_run(1, &n2), h3 = lossy_run(2, &n3);

	assert_int_equal(h1, h2);
	assert_int_equal(n1, n2);
	assert_int_not_equal(h1, h3);
	/* Two crossings of a 30% lossy link: about half come back. */
	assert_in_range(n1, 5, 35);
	assert_in_range(n3, 5, 35);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_punching_follows_nat_types),
	    cmocka_unit_test(test_determinism),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
