/*
 * test_router6.c - IPv6 through routers (docs/ipv6.md step 2), in the
 * dual-stack world of tests/support_net6.h: UDP both ways across two
 * routers, longest-prefix match, hop limit expiry (time exceeded at the
 * sender's socket), no route, address unreachable, echo to a router, the
 * ICMPv6 rate limit, a REJECT in FORWARD, never an error about an error,
 * a zero UDP checksum forwarded and dropped by the receiver, and the
 * routers' TRACE_NODE text. The ICMPv6 types and codes are Linux
 * 6.1's (net/ipv6/route.c ip6_pkt_discard, ip6_output.c ip6_forward,
 * icmp.c icmpv6_xrlim_allow); model/router6.c cites each.
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

struct fixture {
	struct world6 w;
	struct host_socket *a1s, *srvs;
	struct inbox6 a1box, srvbox;
};

/* srv answers every datagram with "pong" to its sender. */
static void srv_echo(struct host_socket *s, const struct endpoint6 *from,
		     const struct endpoint6 *to, const uint8_t *payload, size_t len, void *ctx)
{
	inbox6_recv(s, from, to, payload, len, ctx);
	assert_true(host_udp_sendto6(s, from, "pong", 4) != 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || world6_open(&f->w, 7) < 0)
		return -1;
	f->a1s = host_udp_bind6(f->w.a1, NULL, 5000, inbox6_recv, &f->a1box);
	f->srvs = host_udp_bind6(f->w.srv, NULL, 7000, srv_echo, &f->srvbox);
	assert_non_null(f->a1s);
	assert_non_null(f->srvs);
	host_udp_set_error6_fn(f->a1s, inbox6_error);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	world6_close(&f->w);
	free(f);
	return 0;
}

static uint64_t a1_send(struct fixture *f, struct ip6_addr dst, uint16_t port, uint8_t hlim)
{
	struct endpoint6 to = {dst, port};
	uint64_t id = host_udp_sendto6_hop_limit(f->a1s, &to, "ping", 4, hlim);

	assert_true(id != 0);
	test_run_ms(f->w.net, 100);
	return id;
}

/* a1 -> r1 -> r2 -> srv and back: srv sees a1's address and port, and the
 * hop limit two routers left (64 - 2); r1 picks 2001:db8:2::/48 over the
 * wider /32 (longest-prefix match), whose gateway nobody holds. */
static void test_udp_both_ways(void **state)
{
	struct fixture *f = *state;
	uint64_t id = a1_send(f, T6(2, 9), 7000, 64);
	const struct trace_packet *rx = world6_hop(&f->w, id, TRACE_HOP_DELIVER);
	struct packet6_info info;

	assert_int_equal(f->srvbox.n, 1);
	assert_string_equal(f->srvbox.last, "ping");
	assert_true(ip6_equal(&f->srvbox.from.ip, &T6(1, 5)));
	assert_int_equal(f->srvbox.from.port, 5000);
	assert_non_null(rx);
	assert_string_equal(rx->node, "srv");
	assert_int_equal(packet6_parse(rx->bytes, rx->len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.hop_limit, 62);
	/* ip6_make_flowlabel: an automatic label with the stateless bit */
	assert_true((info.flow_label & 0x80000u) != 0);
	assert_int_equal(f->a1box.n, 1);
	assert_string_equal(f->a1box.last, "pong");
	assert_true(ip6_equal(&f->a1box.from.ip, &T6(2, 9)));
	assert_int_equal(f->a1box.from.port, 7000);
	assert_int_equal(f->a1box.n_errors, 0);
}

/* The flow label is the same for the same flow and seed, another for
 * another flow (net_flow_label6). */
static void test_flow_label_deterministic(void **state)
{
	struct fixture *f = *state;
	struct ip6_addr a = T6(1, 5), b = T6(2, 9);
	uint32_t l1 = net_flow_label6(f->w.net, &a, &b, 17, 5000, 7000);
	struct net *other = net_new(8);

	assert_int_equal(l1, net_flow_label6(f->w.net, &a, &b, 17, 5000, 7000));
	assert_true(l1 != net_flow_label6(f->w.net, &a, &b, 17, 5001, 7000));
	assert_true(l1 != net_flow_label6(other, &a, &b, 17, 5000, 7000));
	assert_true(l1 <= 0xfffffu);
	net_free(other);
}

/* 2001:db8:3::1 matches only the /32, whose gateway is on no attachment
 * of the core link: address unreachable (code 3) from r1's lan address,
 * at a1's socket. */
static void test_address_unreachable(void **state)
{
	struct fixture *f = *state;
	uint64_t id = a1_send(f, T6(3, 1), 9, 64);
	const struct node_path_facts *why =
	    world6_path_drop(&f->w, id, "r1", NODE_PATH_NO_NEIGHBOUR6);

	assert_true(ip6_equal(&why->addr6, &T6(0xff, 0x99)));
	assert_int_equal(why->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->a1box.n_errors, 1);
	assert_int_equal(f->a1box.err.type, ICMP6_DEST_UNREACH);
	assert_int_equal(f->a1box.err.code, ICMP6_ADDR_UNREACH);
	assert_true(ip6_equal(&f->a1box.err.reporter, &T6(1, 1)));
	assert_true(ip6_equal(&f->a1box.err.remote.ip, &T6(3, 1)));
	assert_int_equal(f->a1box.err.local.port, 5000);
	assert_non_null(strstr(world6_hop(&f->w, id, TRACE_HOP_DROP)->why,
			       "its next hop 2001:db8:ff::99 is on no attachment"));
}

/* Hop limit 2: r1 forwards it with 1, r2 may not: time exceeded (code 0)
 * from r2's interface toward a1 (its core address), quoting the packet as
 * it arrived, at a1's socket error fn. */
static void test_hop_limit_expires(void **state)
{
	struct fixture *f = *state;
	uint64_t id = a1_send(f, T6(2, 9), 7000, 2);
	const struct node_path_facts *why = world6_path_drop(&f->w, id, "r2", NODE_PATH_HOP_LIMIT);
	const struct trace_packet *err;
	struct packet6_info info;

	assert_int_equal(world6_hop(&f->w, id, TRACE_HOP_DROP)->reason, TRACE_DROP_TTL);
	assert_int_equal(why->flow.ttl, 1);
	assert_int_equal(why->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->srvbox.n, 0);
	assert_int_equal(f->a1box.n_errors, 1);
	assert_int_equal(f->a1box.err.type, ICMP6_TIME_EXCEEDED);
	assert_int_equal(f->a1box.err.code, ICMP6_EXC_HOP_LIMIT);
	assert_true(ip6_equal(&f->a1box.err.reporter, &T6(0xff, 2)));
	err = world6_hop(&f->w, why->answer.packet_id, TRACE_HOP_DELIVER);
	assert_non_null(err);
	assert_int_equal(packet6_parse(err->bytes, err->len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.inner.hop_limit, 1);
	assert_non_null(
	    strstr(world6_hop(&f->w, id, TRACE_HOP_DROP)->why, "hop limit exceeded at r2"));
}

/* No route at r1 (no default): destination unreachable, no route (code
 * 0), as ip6_pkt_discard answers. */
static void test_no_route(void **state)
{
	struct fixture *f = *state;
	struct ip6_addr far = {{0x20, 0x01, 0x0d, 0xb9, [15] = 1}};
	uint64_t id = a1_send(f, far, 9, 64);
	const struct node_path_facts *why =
	    world6_path_drop(&f->w, id, "r1", NODE_PATH_NO_IPV6_ROUTE);

	assert_int_equal(why->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->a1box.n_errors, 1);
	assert_int_equal(f->a1box.err.type, ICMP6_DEST_UNREACH);
	assert_int_equal(f->a1box.err.code, ICMP6_NO_ROUTE);
	assert_true(ip6_equal(&f->a1box.err.reporter, &T6(1, 1))); /* lab_router6: r1-lan */
	assert_non_null(
	    strstr(world6_hop(&f->w, id, TRACE_HOP_DROP)->why, "no IPv6 route to 2001:db9::1"));
	assert_non_null(
	    strstr(world6_hop(&f->w, id, TRACE_HOP_DROP)->why, "answered with ICMPv6 no route"));
}

/* An ICMPv6 error with no route is dropped and never answered (RFC 4443
 * 2.4(e.1), is_ineligible). */
static void test_never_answers_an_error(void **state)
{
	struct fixture *f = *state;
	uint8_t inner[64], err[160];
	struct endpoint6 src = {T6(2, 9), 7000}, dst = {T6(1, 5), 5000};
	struct ip6_addr far = {{0x20, 0x01, 0x0d, 0xb9, [15] = 1}};
	size_t n = packet6_build_udp(inner, sizeof(inner), &src, &dst, 64, 0, "x", 1);
	size_t len = packet6_build_icmp_error(err, sizeof(err), &T6(1, 5), &far, 64,
					      ICMP6_DEST_UNREACH, ICMP6_PORT_UNREACH, 0, inner, n);
	uint64_t id = host_send_raw(f->w.a1, err, len);
	const struct node_path_facts *why;

	assert_true(id != 0);
	test_run_ms(f->w.net, 100);
	why = world6_path_drop(&f->w, id, "r1", NODE_PATH_NO_IPV6_ROUTE);
	assert_int_equal(why->answer.kind, ICMP_ANSWER_NEVER);
	assert_non_null(strstr(world6_hop(&f->w, id, TRACE_HOP_DROP)->why,
			       "an ICMPv6 error is never answered with another"));
}

/* A ping to r2's far address: the reply from the address asked. */
static void test_echo_to_router(void **state)
{
	struct fixture *f = *state;
	uint64_t id = host_send_echo6(f->w.a1, &T6(2, 1), 77, 1, 64, 8);
	const struct trace_packet *d;
	struct packet6_info info;
	size_t replies = 0;

	assert_true(id != 0);
	test_run_ms(f->w.net, 100);
	d = world6_hop(&f->w, id, TRACE_HOP_DELIVER);
	assert_non_null(d);
	assert_string_equal(d->node, "r2");
	for (size_t i = 0; i < trace_log_count(f->w.log); i++) {
		const struct trace_record *r = trace_log_get(f->w.log, i);

		if (r->kind != TRACE_PACKET || r->u.packet.hop != TRACE_HOP_DELIVER ||
		    strcmp(r->u.packet.node, "a1") != 0)
			continue;
		assert_int_equal(packet6_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0),
				 PACKET_OK);
		assert_int_equal(info.icmp_type, ICMP6_ECHO_REPLY);
		assert_int_equal(info.icmp_id, 77);
		assert_true(ip6_equal(&info.src, &T6(2, 1)));
		replies++;
	}
	assert_int_equal(replies, 1);
}

/* Ten datagrams at once to 2001:db8:3::1: r1 answers six (the bucket's
 * burst) and refuses four; then one per net.ipv6.icmp.ratelimit, 100 ms
 * (25 jiffies): none 41 ms on, one 141 ms on. (Linux's lab_router6 sees
 * the same six and a seventh 150 ms on; IPv4's would need a second.) */
static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct endpoint6 to = {T6(3, 1), 9};
	size_t sent = 0, limited = 0;
	uint64_t ids[10];

	for (size_t i = 0; i < 10; i++)
		ids[i] = host_udp_sendto6(f->a1s, &to, "x", 1);
	test_run_ms(f->w.net, 40);
	for (size_t i = 0; i < 10; i++) {
		const struct node_path_facts *why =
		    world6_path_drop(&f->w, ids[i], "r1", NODE_PATH_NO_NEIGHBOUR6);

		sent += why->answer.kind == ICMP_ANSWER_SENT;
		limited += why->answer.kind == ICMP_ANSWER_RATE_LIMITED;
	}
	assert_int_equal(sent, 6);
	assert_int_equal(limited, 4);
	assert_int_equal(f->a1box.n_errors, 6);
	ids[0] = a1_send(f, T6(3, 1), 9, 64); /* at r1 41 ms on: not yet */
	assert_int_equal(
	    world6_path_drop(&f->w, ids[0], "r1", NODE_PATH_NO_NEIGHBOUR6)->answer.kind,
	    ICMP_ANSWER_RATE_LIMITED);
	ids[0] = a1_send(f, T6(3, 1), 9, 64); /* 141 ms on: one more */
	assert_int_equal(
	    world6_path_drop(&f->w, ids[0], "r1", NODE_PATH_NO_NEIGHBOUR6)->answer.kind,
	    ICMP_ANSWER_SENT);
	assert_non_null(
	    strstr(world6_hop(&f->w, ids[9], TRACE_HOP_DROP)->why, "Linux's ICMPv6 rate limit"));
}

/* A REJECT in r1's ip6 FORWARD chain (its policy: v6ct brings the rules)
 * answers port unreachable (code 4, ip6tables' default) from r1; a DROP
 * answers nothing. */
static void test_forward_reject(void **state)
{
	struct fixture *f = *state;
	struct firewall *fw = filter6_firewall(router_filter6(f->w.r1));
	uint64_t id;

	firewall_set_policy(fw, FW_CHAIN_FORWARD, FW_REJECT);
	id = a1_send(f, T6(2, 9), 7000, 64);
	assert_int_equal(world6_hop(&f->w, id, TRACE_HOP_DROP)->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(f->srvbox.n, 0);
	assert_int_equal(f->a1box.n_errors, 1);
	assert_int_equal(f->a1box.err.code, ICMP6_PORT_UNREACH);
	assert_true(ip6_equal(&f->a1box.err.reporter, &T6(1, 1)));
	firewall_set_policy(fw, FW_CHAIN_FORWARD, FW_DROP);
	id = a1_send(f, T6(2, 9), 7000, 64);
	assert_int_equal(world6_hop(&f->w, id, TRACE_HOP_DROP)->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(f->a1box.n_errors, 1);
}

/* The core link's MTU is 1280: a 1300-byte datagram gets packet too big
 * from r1 with that MTU (ip6_forward; never fragmented, never rate
 * limited); a 1280-byte one passes. */
static void test_packet_too_big(void **state)
{
	struct fixture *f = *state;
	struct link *core = net_find_link(f->w.net, "core");
	struct link_config cfg = *link_get_config(core);
	static const char big[1300 - 48];
	struct endpoint6 to = {T6(2, 9), 7000};
	const struct node_path_facts *why;
	uint64_t id;

	cfg.mtu = 1280;
	link_set_config(core, &cfg);
	id = host_udp_sendto6(f->a1s, &to, big, sizeof(big));
	test_run_ms(f->w.net, 100);
	why = world6_path_drop(&f->w, id, "r1", NODE_PATH_PACKET_TOO_BIG);
	assert_int_equal(why->mtu, 1280);
	assert_int_equal(f->a1box.n_errors, 1);
	assert_int_equal(f->a1box.err.type, ICMP6_PACKET_TOO_BIG);
	assert_int_equal(f->a1box.err.param, 1280);
	assert_true(ip6_equal(&f->a1box.err.reporter, &T6(1, 1)));
	assert_true(host_udp_sendto6(f->a1s, &to, big, 1280 - 48) != 0);
	test_run_ms(f->w.net, 100);
	assert_int_equal(f->srvbox.n, 1);
}

/* The routers' TRACE_NODE text lists each interface's IPv6 address after
 * its IPv4 one; hosts show theirs and their IPv6 gateway. */
/* a1's hand-made datagram to dst:port with its UDP checksum 0, sent raw. */
static uint64_t a1_send_no_checksum(struct fixture *f, struct ip6_addr dst, uint16_t port)
{
	struct endpoint6 src = {T6(1, 5), 5000}, to = {dst, port};
	uint8_t buf[64];
	size_t len = packet6_build_udp(buf, sizeof(buf), &src, &to, 64, 0, "ping", 4);
	uint64_t id;

	buf[IPV6_HEADER_SIZE + 6] = buf[IPV6_HEADER_SIZE + 7] = 0;
	id = host_send_raw(f->w.a1, buf, len);
	assert_true(id != 0);
	test_run_ms(f->w.net, 100);
	return id;
}

/* A zero UDP checksum (RFC 8200 8.1 forbids it) crosses r1 and r2, as Linux
 * routers forward it, and srv's stack drops it, to a socket or not, with no
 * port unreachable (__udp6_lib_rcv: udp6_csum_zero_error); the same at r2's
 * own stack with input accept. lab_router6.sh saw Linux do each. */
static void test_zero_checksum_forwarded_then_dropped(void **state)
{
	struct fixture *f = *state;
	uint64_t to_socket = a1_send_no_checksum(f, T6(2, 9), 7000);
	uint64_t to_none = a1_send_no_checksum(f, T6(2, 9), 7001);
	const struct node_path_facts *d;

	router_set_input(f->w.r2, ROUTER_INPUT_ACCEPT);
	uint64_t to_router = a1_send_no_checksum(f, T6(2, 1), 7000);

	assert_non_null(world6_hop(&f->w, to_socket, TRACE_HOP_RX));
	d = world6_path_drop(&f->w, to_socket, "srv", NODE_PATH_UDP6_CSUM_ZERO);
	assert_int_equal(d->flow.dport, 7000);
	assert_int_equal(d->flow.ttl, 62); /* two routers forwarded it */
	assert_int_equal(f->srvbox.n, 0);
	d = world6_path_drop(&f->w, to_none, "srv", NODE_PATH_UDP6_CSUM_ZERO);
	assert_int_equal(d->answer.kind, ICMP_ANSWER_NONE);
	d = world6_path_drop(&f->w, to_router, "r2", NODE_PATH_UDP6_CSUM_ZERO);
	assert_int_equal(d->flow.ttl, 63);
	assert_int_equal(f->a1box.n_errors, 0);
	assert_non_null(strstr(world6_hop(&f->w, to_none, TRACE_HOP_DROP)->why,
			       "srv dropped [2001:db8:1::5]:5000 \u2192 [2001:db8:2::9]:7001: its "
			       "UDP checksum is 0 (none)"));
}

static void test_describe(void **state)
{
	struct fixture *f = *state;
	bool r1 = false, a1 = false;

	net_announce(f->w.net);
	for (size_t i = 0; i < trace_log_count(f->w.log); i++) {
		const struct trace_record *r = trace_log_get(f->w.log, i);

		if (r->kind != TRACE_NODE)
			continue;
		if (strcmp(r->u.node.name, "r1") == 0) {
			assert_string_equal(r->u.node.detail,
					    "lan 10.0.1.1/24 2001:db8:1::1/64, core 10.0.255.1/24 "
					    "2001:db8:ff::1/64");
			assert_true(ip6_equal(&r->u.node.v6->addrs[1], &T6(0xff, 1)));
			r1 = true;
		}
		if (strcmp(r->u.node.name, "a1") == 0) {
			assert_string_equal(r->u.node.detail,
					    "10.0.1.5/24 2001:db8:1::5/64 gw 10.0.1.1 gw6 "
					    "2001:db8:1::1, firewall off");
			/* the values, for renderers (struct trace_node6) */
			assert_non_null(r->u.node.v6);
			assert_true(ip6_equal(&r->u.node.v6->addrs[0], &T6(1, 5)));
			assert_int_equal(r->u.node.v6->prefix_lens[0], 64);
			a1 = true;
		}
	}
	assert_true(r1 && a1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_udp_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_label_deterministic, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_address_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hop_limit_expires, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_never_answers_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_to_router, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_reject, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_packet_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_checksum_forwarded_then_dropped, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
