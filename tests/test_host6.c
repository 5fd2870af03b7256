/*
 * test_host6.c - a host's IPv6 (docs/ipv6.md step 2) in the dual-stack
 * world of tests/support_net6.h: IPv4 and IPv6 sockets on one port (two
 * port spaces, IPV6_V6ONLY), binds that clash, port unreachable at the
 * sender's socket, the host's ICMPv6 rate limit over its default route,
 * echo replies, a host that does not forward, no route, an IPv6-only host,
 * and REJECTs in a host's ip6 INPUT and OUTPUT chains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/filter6.h"
#include "model/packet6.h"
#include "tests/support_net6.h"

static int setup(void **state)
{
	struct world6 *w = calloc(1, sizeof(*w));

	if (w == NULL || world6_open(w, 3) < 0)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world6 *w = *state;

	world6_close(w);
	free(w);
	return 0;
}

/* An IPv4 and an IPv6 socket on port 5000 of a1, as v6only allows; srv
 * sends to each family and each socket gets its own. A second IPv6 bind
 * of the port fails; an IPv4 one on another port is no clash. */
static void test_two_families_one_port(void **state)
{
	struct world6 *w = *state;
	struct test_inbox box4 = {0};
	struct inbox6 box6 = {0};
	struct host_socket *s4 = host_udp_bind(w->a1, 5000, test_inbox_recv, &box4);
	struct host_socket *s6 = host_udp_bind6(w->a1, NULL, 5000, inbox6_recv, &box6);
	struct host_socket *from4 = host_udp_bind(w->srv, 0, NULL, NULL);
	struct host_socket *from6 = host_udp_bind6(w->srv, NULL, 0, NULL, NULL);
	struct endpoint to4 = {IP4(10, 0, 1, 5), 5000};
	struct endpoint6 to6 = {T6(1, 5), 5000};

	assert_non_null(s4);
	assert_non_null(s6);
	assert_true(host_socket_is6(s6));
	assert_false(host_socket_is6(s4));
	assert_null(host_udp_bind6(w->a1, &T6(1, 5), 5000, NULL, NULL));
	assert_null(host_udp_bind6(w->a1, &T6(1, 77), 5001, NULL, NULL)); /* not a1's */
	assert_true(host_udp_sendto(from4, &to4, "four", 4) != 0);
	assert_true(host_udp_sendto6(from6, &to6, "six", 3) != 0);
	test_run_ms(w->net, 100);
	assert_int_equal(box4.n, 1);
	assert_string_equal(box4.last, "four");
	assert_int_equal(box6.n, 1);
	assert_string_equal(box6.last, "six");
	assert_true(ip6_equal(&box6.from.ip, &T6(2, 9)));
	assert_int_equal(box6.from.port, host_socket_local6(from6).port);
	struct endpoint6 local = host_socket_local6(s6);

	assert_true(ip6_equal(&local.ip, &T6(1, 5)));
	host_udp_close(s6);
	assert_non_null(host_udp_bind6(w->a1, &T6(1, 5), 5000, NULL, NULL)); /* free again */
	host_udp_close(s4);
}

/* A datagram to a closed port of srv: port unreachable (code 4) from the
 * address asked, at the sender's socket (__udp6_lib_rcv, __udp6_lib_err). */
static void test_port_unreachable(void **state)
{
	struct world6 *w = *state;
	struct inbox6 box = {0};
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, inbox6_recv, &box);
	struct endpoint6 to = {T6(2, 9), 9999};
	uint64_t id;

	host_udp_set_error6_fn(s, inbox6_error);
	id = host_udp_sendto6(s, &to, "x", 1);
	test_run_ms(w->net, 100);
	assert_int_equal(world6_path_drop(w, id, "srv", NODE_PATH_NO_SOCKET)->answer.code,
			 ICMP6_PORT_UNREACH);
	assert_int_equal(box.n_errors, 1);
	assert_int_equal(box.err.type, ICMP6_DEST_UNREACH);
	assert_int_equal(box.err.code, ICMP6_PORT_UNREACH);
	assert_true(ip6_equal(&box.err.reporter, &T6(2, 9)));
	assert_int_equal(box.err.remote.port, 9999);
	assert_int_equal(box.err.local.port, 4000);
}

/* After srv's burst of six port unreachables to a1, one more per
 * net.ipv6.icmp.ratelimit (100 ms, 25 jiffies): refused 40 ms on,
 * answered 120 ms on. */
static void test_rate_limit(void **state)
{
	struct world6 *w = *state;
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, NULL, NULL);
	struct endpoint6 to = {T6(2, 9), 9999};
	size_t sent = 0;
	uint64_t ids[10], late, later;

	for (size_t i = 0; i < 10; i++)
		ids[i] = host_udp_sendto6(s, &to, "x", 1);
	test_run_ms(w->net, 40);
	for (size_t i = 0; i < 10; i++)
		sent += world6_path_drop(w, ids[i], "srv", NODE_PATH_NO_SOCKET)->answer.kind ==
			ICMP_ANSWER_SENT;
	assert_int_equal(sent, 6);
	late = host_udp_sendto6(s, &to, "x", 1); /* at srv 40 ms on: 10 jiffies */
	test_run_ms(w->net, 80);
	later = host_udp_sendto6(s, &to, "x", 1); /* 120 ms on: 30 jiffies */
	test_run_ms(w->net, 40);
	assert_int_equal(world6_path_drop(w, late, "srv", NODE_PATH_NO_SOCKET)->answer.kind,
			 ICMP_ANSWER_RATE_LIMITED);
	assert_int_equal(world6_path_drop(w, later, "srv", NODE_PATH_NO_SOCKET)->answer.kind,
			 ICMP_ANSWER_SENT);
}

/* srv answers a ping with the id, sequence and data; a hop limit of 64
 * left two routers behind on the way. */
static void test_echo(void **state)
{
	struct world6 *w = *state;
	uint64_t id = host_send_echo6(w->a1, &T6(2, 9), 9, 3, 64, 16);
	struct packet6_info info;
	bool replied = false;

	test_run_ms(w->net, 100);
	assert_string_equal(world6_hop(w, id, TRACE_HOP_DELIVER)->node, "srv");
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind != TRACE_PACKET || r->u.packet.hop != TRACE_HOP_DELIVER ||
		    strcmp(r->u.packet.node, "a1") != 0)
			continue;
		assert_int_equal(packet6_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0),
				 PACKET_OK);
		assert_int_equal(info.icmp_type, ICMP6_ECHO_REPLY);
		assert_int_equal(info.icmp_seq, 3);
		assert_int_equal(info.payload_len, 16);
		assert_int_equal(info.hop_limit, 62);
		replied = true;
	}
	assert_true(replied);
}

/* a1's IPv6 gateway is a2, a host: a2 does not forward (ip6_forward with
 * forwarding off) and drops it, not-for-us, naming its own address. */
static void test_host_does_not_forward(void **state)
{
	struct world6 *w = *state;
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, NULL, NULL);
	struct endpoint6 to = {T6(2, 9), 7000};
	uint64_t id;

	host_set_gateway6(w->a1, &T6(1, 6));
	id = host_udp_sendto6(s, &to, "x", 1);
	test_run_ms(w->net, 100);
	assert_true(
	    ip6_equal(&world6_path_drop(w, id, "a2", NODE_PATH_NOT_FOR_US)->addr6, &T6(1, 6)));
	assert_non_null(strstr(world6_hop(w, id, TRACE_HOP_DROP)->why,
			       "it is addressed to 2001:db8:2::9, and a2 is 2001:db8:1::6"));
}

/* Without an IPv6 gateway an off-link destination has no route: dropped
 * at the host, in IPv6 words; on-link ones still go. */
static void test_no_gateway(void **state)
{
	struct world6 *w = *state;
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, NULL, NULL);
	struct endpoint6 far = {T6(2, 9), 7000}, near = {T6(1, 6), 7000};
	uint64_t id;

	host_set_gateway6(w->a1, NULL);
	assert_int_equal(host_udp_sendto6(s, &far, "x", 1), 0);
	id = host_udp_sendto6(s, &near, "x", 1);
	test_run_ms(w->net, 100);
	world6_path_drop(w, id, "a2", NODE_PATH_NO_SOCKET);
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
		    strcmp(r->u.packet.node, "a1") == 0)
			assert_string_equal(r->u.packet.why,
					    "a1 has no route to 2001:db8:2::9: it is not on "
					    "2001:db8:1::/64 and a1 has no IPv6 default gateway");
	}
}

/* An IPv6 gateway nobody on the link holds: a1's neighbour resolution
 * fails and a1's own stack quotes the datagram back to itself as address
 * unreachable (ndisc_error_report -> ip6_link_failure -> icmpv6_send), from
 * its own address, through lo, to the socket (__udp6_lib_err). natsim has
 * no neighbour discovery: at once, where Linux waits ~3 s. */
static void test_gateway_nobody_holds(void **state)
{
	struct world6 *w = *state;
	struct inbox6 box = {0};
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, inbox6_recv, &box);
	struct endpoint6 to = {T6(2, 9), 7000};
	const struct trace_packet *d;
	uint64_t id;

	host_udp_set_error6_fn(s, inbox6_error);
	host_set_gateway6(w->a1, &T6(1, 0x99));
	id = host_udp_sendto6(s, &to, "x", 1);
	assert_true(id != 0);
	test_run_ms(w->net, 100);
	d = world6_hop(w, id, TRACE_HOP_DROP);
	assert_non_null(d);
	assert_string_equal(d->node, "a1");
	assert_int_equal(d->verdict.kind, NODE_VERDICT_PATH);
	assert_true(ip6_equal(&world6_path_drop(w, id, "a1", NODE_PATH_HOST_NO_NEIGHBOUR6)->addr6,
			      &T6(1, 0x99)));
	assert_int_equal(world6_path_drop(w, id, "a1", NODE_PATH_HOST_NO_NEIGHBOUR6)->answer.code,
			 ICMP6_ADDR_UNREACH);
	assert_non_null(strstr(d->why, "nobody on its link holds 2001:db8:1::99, so its neighbour "
				       "solicitations would go unanswered"));
	assert_int_equal(box.n_errors, 1);
	assert_int_equal(box.err.type, ICMP6_DEST_UNREACH);
	assert_int_equal(box.err.code, ICMP6_ADDR_UNREACH);
	assert_true(ip6_equal(&box.err.reporter, &T6(1, 5)));
	assert_int_equal(box.err.remote.port, 7000);
}

/* An IPv6-only host: no IPv4 address, its text shows IPv6 alone, and it
 * talks to srv. */
static void test_ipv6_only_host(void **state)
{
	struct world6 *w = *state;
	struct host *v6 = host_new(w->net, "v6", 0, 0, 0);
	struct inbox6 box = {0};
	struct host_socket *s;
	struct endpoint6 to = {T6(2, 9), 9};
	struct ip6_addr got;

	assert_non_null(v6);
	assert_false(host_address6(v6, &got));
	assert_int_equal(host_set_address6(v6, &T6(1, 7), 64), 0);
	assert_int_equal(host_set_address6(v6, &T6(1, 8), 64), -1); /* one per interface */
	assert_true(host_address6(v6, &got));
	assert_true(ip6_equal(&got, &T6(1, 7)));
	host_set_gateway6(v6, &T6(1, 1));
	assert_int_equal(link_attach(w->lan, host_iface(v6)), 0);
	s = host_udp_bind6(v6, NULL, 0, inbox6_recv, &box);
	host_udp_set_error6_fn(s, inbox6_error);
	assert_true(host_udp_sendto6(s, &to, "x", 1) != 0);
	test_run_ms(w->net, 100);
	assert_int_equal(box.n_errors, 1); /* srv's port 9 is closed */
	net_announce(w->net);
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind == TRACE_NODE && strcmp(r->u.node.name, "v6") == 0)
			assert_string_equal(r->u.node.detail,
					    "2001:db8:1::7/64 gw6 2001:db8:1::1, firewall off");
	}
}

/* srv's ip6 INPUT policy REJECT: port unreachable from srv. a1's OUTPUT
 * policy REJECT: the datagram never leaves, and its error, sent to a1
 * itself through lo, meets the same OUTPUT (a policy, not a UDP rule: v6ct
 * brings the rules) and is dropped there too. */
static void test_filter_rejects(void **state)
{
	struct world6 *w = *state;
	struct inbox6 box = {0};
	struct host_socket *s = host_udp_bind6(w->a1, NULL, 4000, inbox6_recv, &box);
	struct host_socket *srv = host_udp_bind6(w->srv, NULL, 7000, inbox6_recv, &box);
	struct endpoint6 to = {T6(2, 9), 7000};
	uint64_t id;

	assert_non_null(srv);
	host_udp_set_error6_fn(s, inbox6_error);
	firewall_set_policy(filter6_firewall(host_filter6(w->srv)), FW_CHAIN_INPUT, FW_REJECT);
	id = host_udp_sendto6(s, &to, "x", 1);
	test_run_ms(w->net, 100);
	assert_int_equal(world6_hop(w, id, TRACE_HOP_DROP)->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(box.n, 0);
	assert_int_equal(box.n_errors, 1);
	assert_true(ip6_equal(&box.err.reporter, &T6(2, 9)));
	firewall_set_policy(filter6_firewall(host_filter6(w->a1)), FW_CHAIN_OUTPUT, FW_REJECT);
	assert_int_equal(host_udp_sendto6(s, &to, "x", 1), 0);
	test_run_ms(w->net, 100);
	assert_int_equal(box.n_errors, 1);
	assert_string_equal(test_last_drop(w->log)->node, "a1");
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(test_last_drop(w->log)->bytes[40], ICMP6_DEST_UNREACH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_families_one_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_port_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_host_does_not_forward, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_gateway, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gateway_nobody_holds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ipv6_only_host, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_filter_rejects, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
