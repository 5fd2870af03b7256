/*
 * test_host.c - sockets, ephemeral ports, sending and receiving across a
 * link, the stateful host firewall, and every way a host drops a packet.
 *
 * World: alice 10.0.0.1/24 and bob 10.0.0.2/24 on link "lan" (1 ms), no
 * gateways.
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
#include "sim/trace_log.h"
#include "tests/support_net.h"

#define ALICE TEST_ALICE
#define BOB TEST_BOB

struct world {
	struct test_lan lan;
	struct test_inbox a_box, b_box;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_lan_open(&w->lan, 99) < 0)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	test_net_close(w->lan.net, w->lan.log);
	free(w);
	return 0;
}

static void test_bind(void **state)
{
	struct world *w = *state;
	struct host_socket *s = host_udp_bind(w->lan.bob, 5000, test_inbox_recv, NULL);

	assert_non_null(s);
	assert_null(host_udp_bind(w->lan.bob, 5000, test_inbox_recv, NULL)); /* taken */
	assert_ptr_equal(host_socket_host(s), w->lan.bob);
	assert_int_equal(host_socket_local(s).ip, BOB);
	assert_int_equal(host_socket_local(s).port, 5000);

	struct host_socket *e1 = host_udp_bind(w->lan.bob, 0, test_inbox_recv, NULL);
	struct host_socket *e2 = host_udp_bind(w->lan.bob, 0, test_inbox_recv, NULL);
	uint16_t p1 = host_socket_local(e1).port, p2 = host_socket_local(e2).port;

	assert_in_range(p1, HOST_EPHEMERAL_LO, HOST_EPHEMERAL_HI);
	assert_in_range(p2, HOST_EPHEMERAL_LO, HOST_EPHEMERAL_HI);
	/* Sequential from a seeded start (unless the start was the top). */
	assert_true(p2 == p1 + 1 || (p1 == HOST_EPHEMERAL_HI && p2 == HOST_EPHEMERAL_LO));

	/* Another world with the same seed draws the same start. */
	struct net *net2 = net_new(99);
	struct host *bob2 = host_new(net2, "bob", BOB, 24, 0);

	assert_int_equal(host_socket_local(host_udp_bind(bob2, 0, NULL, NULL)).port, p1);
	net_free(net2);

	/* A closed port can be bound again. */
	host_udp_close(s);
	assert_non_null(host_udp_bind(w->lan.bob, 5000, test_inbox_recv, NULL));
}

static void test_ephemeral_exhaustion(void **state)
{
	struct world *w = *state;
	size_t n = 0;

	while (host_udp_bind(w->lan.alice, 0, NULL, NULL) != NULL)
		n++;
	assert_int_equal(n, HOST_EPHEMERAL_HI - HOST_EPHEMERAL_LO + 1);
	assert_non_null(host_udp_bind(w->lan.alice, 80, NULL, NULL)); /* outside the range */
}

static void test_sendto_and_receive(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, test_inbox_recv, &w->a_box);
	struct host_socket *b = host_udp_bind(w->lan.bob, 5000, test_inbox_recv, &w->b_box);
	struct endpoint to_bob = {BOB, 5000};
	uint64_t id = host_udp_sendto(a, &to_bob, "hello", 5);

	assert_int_not_equal(id, 0);
	assert_non_null(b);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 1);
	assert_string_equal(w->b_box.last, "hello");
	assert_int_equal(w->b_box.from.ip, ALICE);
	assert_int_equal(w->b_box.from.port, 4000);
	assert_int_equal(w->b_box.to.port, 5000);

	/* The packet's life on the trace: send, tx, rx, deliver, one id. */
	const enum trace_hop want[] = {TRACE_HOP_SEND, TRACE_HOP_TX, TRACE_HOP_RX,
				       TRACE_HOP_DELIVER};
	const char *where[] = {"alice", "alice", "bob", "bob"};
	size_t k = 0;

	for (size_t i = 0; i < trace_log_count(w->lan.log); i++) {
		const struct trace_record *r = trace_log_get(w->lan.log, i);

		if (r->kind != TRACE_PACKET)
			continue;
		assert_true(k < 4);
		assert_int_equal(r->u.packet.packet_id, id);
		assert_int_equal(r->u.packet.hop, want[k]);
		assert_string_equal(r->u.packet.node, where[k]);
		k++;
	}
	assert_int_equal(k, 4);
	assert_int_equal(trace_log_get(w->lan.log, trace_log_count(w->lan.log) - 1)->time,
			 SIM_MS(1));

	/* Too big for one packet: refused, nothing sent. */
	static const uint8_t big[PACKET_MAX_SIZE];

	assert_int_equal(host_udp_sendto(a, &to_bob, big, sizeof(big)), 0);
}

static void test_firewall_off_admits_anything(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, NULL);
	struct endpoint to_bob = {BOB, 5000};

	host_udp_bind(w->lan.bob, 5000, test_inbox_recv, &w->b_box);
	assert_false(host_firewall_enabled(w->lan.bob));
	host_udp_sendto(a, &to_bob, "x", 1);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 1);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.bob)), 0); /* not tracking */
}

static void test_firewall_drops_new_inbound(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, test_inbox_recv, &w->a_box);
	struct host_socket *b = host_udp_bind(w->lan.bob, 5000, test_inbox_recv, &w->b_box);
	struct endpoint to_bob = {BOB, 5000}, to_alice = {ALICE, 4000};

	host_enable_firewall(w->lan.bob, true);
	assert_true(host_firewall_enabled(w->lan.bob));
	host_udp_sendto(a, &to_bob, "knock", 5);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 0);
	const struct trace_packet *d = test_last_drop(w->lan.log);

	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_string_equal(d->node, "bob");
	assert_string_equal(d->why,
			    "bob's firewall dropped 10.0.0.1:4000 → 10.0.0.2:5000: no rule in "
			    "INPUT matched a new inbound flow, and the INPUT policy is drop");
	assert_string_equal(d->rule, "INPUT policy"); /* what decided, for hit counts */
	assert_int_equal(conntrack_count(host_conntrack(w->lan.bob)), 0); /* drops leave no entry */

	/* Bob speaks first: alice's answer is a reply and comes in. */
	host_udp_sendto(b, &to_alice, "hi", 2);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_box.n, 1);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.bob)), 1);
	host_udp_sendto(a, &to_bob, "welcome", 7);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 1);
	assert_string_equal(w->b_box.last, "welcome");
	assert_int_equal(conntrack_count(host_conntrack(w->lan.bob)), 1);
}

static void test_no_socket(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, NULL);
	struct endpoint to_bob = {BOB, 6000};

	host_udp_sendto(a, &to_bob, "x", 1);
	test_run_ms(w->lan.net, 5);
	const struct trace_packet *d = test_last_drop(w->lan.log);

	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_NO_SOCKET);
	assert_string_equal(d->why,
			    "bob dropped 10.0.0.1:4000 → 10.0.0.2:6000: nothing on bob "
			    "listens on UDP port 6000; answered with port unreachable (#2)");
	assert_string_equal(d->why_after_node, d->why + strlen("bob ")); /* for renderers */
}

static void test_malformed_raw(void **state)
{
	struct world *w = *state;
	struct endpoint s = {ALICE, 4000}, d = {BOB, 5000};
	uint8_t buf[64];
	size_t len = packet_build_udp(buf, sizeof(buf), &s, &d, 64, 7, "abc", 3);

	host_udp_bind(w->lan.bob, 5000, test_inbox_recv, &w->b_box);
	buf[10] ^= 0xff; /* break the IPv4 header checksum */
	assert_int_not_equal(host_send_raw(w->lan.alice, buf, len), 0);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 0);
	const struct trace_packet *drop = test_last_drop(w->lan.log);

	assert_non_null(drop);
	assert_int_equal(drop->reason, TRACE_DROP_MALFORMED);
	assert_string_equal(drop->node, "bob");
	assert_memory_equal(drop->why, "bob dropped a malformed packet: ", 32);
	assert_true(strlen(drop->why) > 32);

	/* Too short to carry a destination: nothing goes out. */
	assert_int_equal(host_send_raw(w->lan.alice, buf, 10), 0);

	/* A valid raw packet is delivered like any other. */
	buf[10] ^= 0xff;
	assert_int_not_equal(host_send_raw(w->lan.alice, buf, len), 0);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 1);
	assert_string_equal(w->b_box.last, "abc");
}

static void test_no_route_without_gateway(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, NULL);
	struct endpoint far = {IP4(8, 8, 8, 8), 53};

	assert_int_equal(host_udp_sendto(a, &far, "q", 1), 0);
	const struct trace_packet *d = test_last_drop(w->lan.log);

	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_NO_ROUTE);
	assert_string_equal(d->node, "alice");
	assert_string_equal(d->why, "alice has no route to 8.8.8.8: it is not on 10.0.0.0/24 and "
				    "alice has no default gateway");
}

static void test_not_for_us(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, NULL);
	struct endpoint far = {IP4(8, 8, 8, 8), 53};

	/* Bob as alice's gateway, but bob is no router. */
	host_set_gateway(w->lan.alice, BOB);
	assert_int_not_equal(host_udp_sendto(a, &far, "q", 1), 0);
	test_run_ms(w->lan.net, 5);
	const struct trace_packet *d = test_last_drop(w->lan.log);

	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_NOT_FOR_US);
	assert_string_equal(d->why, "bob dropped 10.0.0.1:4000 → 8.8.8.8:53: it is addressed to "
				    "8.8.8.8, and bob is 10.0.0.2");
}

static void test_output_firewall(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, NULL);
	struct endpoint to_bob = {BOB, 53};
	struct fw_rule rule = {.chain = FW_CHAIN_OUTPUT,
			       .proto = IPPROTO_NUM_UDP,
			       .dport_lo = 53,
			       .dport_hi = 53,
			       .action = FW_DROP};

	host_enable_firewall(w->lan.alice, true);
	assert_true(firewall_append(host_firewall(w->lan.alice), &rule) >= 0);
	assert_int_equal(host_udp_sendto(a, &to_bob, "q", 1), 0);
	const struct trace_packet *d = test_last_drop(w->lan.log);

	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_string_equal(d->node, "alice");
	assert_memory_equal(
	    d->why, "alice's firewall dropped 10.0.0.1:4000 → 10.0.0.2:53: rule OUTPUT",
	    strlen("alice's firewall dropped 10.0.0.1:4000 → 10.0.0.2:53: rule OUTPUT"));
	assert_string_equal(d->why_after_node, d->why + strlen("alice's "));
	assert_string_equal(d->rule, "OUTPUT #1");
}

/* A second address (an RFC 5780 alternate): sockets bound per address, and
 * replies leave through the interface that holds their source. */
static void test_second_address(void **state)
{
	struct world *w = *state;
	const uint32_t alt = IP4(10, 0, 0, 3);
	struct test_inbox alt_box = {0};
	struct iface *eth1 = host_add_address(w->lan.bob, alt, 24);

	assert_non_null(eth1);
	assert_string_equal(eth1->name, "eth1");
	assert_null(host_add_address(w->lan.bob, alt, 24)); /* already there */
	assert_int_equal(link_attach(net_find_link(w->lan.net, "lan"), eth1), 0);
	struct host_socket *primary =
	    host_udp_bind_addr(w->lan.bob, BOB, 5000, test_inbox_recv, &w->b_box);
	struct host_socket *other =
	    host_udp_bind_addr(w->lan.bob, alt, 5000, test_inbox_recv, &alt_box);

	assert_non_null(primary);
	assert_non_null(other);
	assert_null(host_udp_bind(w->lan.bob, 5000, NULL, NULL)); /* the wildcard overlaps */
	assert_null(host_udp_bind_addr(w->lan.bob, IP4(10, 0, 0, 77), 6000, NULL, NULL));
	assert_int_equal(host_socket_local(other).ip, alt);

	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, test_inbox_recv, &w->a_box);
	struct endpoint to_alt = {alt, 5000}, to_alice = {ALICE, 4000};

	host_udp_sendto(a, &to_alt, "alt?", 4);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->b_box.n, 0);
	assert_int_equal(alt_box.n, 1);
	assert_int_equal(alt_box.to.ip, alt);
	uint64_t id = host_udp_sendto(other, &to_alice, "alt!", 4);

	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_box.n, 1);
	assert_int_equal(w->a_box.from.ip, alt);
	for (size_t i = 0; i < trace_log_count(w->lan.log); i++) {
		const struct trace_record *r = trace_log_get(w->lan.log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.packet_id == id &&
		    r->u.packet.hop == TRACE_HOP_TX)
			assert_string_equal(r->u.packet.iface, "eth1");
	}
	/* Closing one socket leaves the other on the same port working. */
	host_udp_close(primary);
	host_udp_sendto(a, &to_alt, "again", 5);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(alt_box.n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bind, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ephemeral_exhaustion, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sendto_and_receive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_firewall_off_admits_anything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_firewall_drops_new_inbound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_raw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_route_without_gateway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_for_us, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_firewall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_second_address, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
