/*
 * test_router_icmp.c - a router's own ICMP through real packets: time
 * exceeded (traceroute), net unreachable, a FORWARD REJECT's answer, echo
 * replies and port unreachable with `input accept`, a time exceeded after
 * DNAT quoting the packet as it arrived, never an error about an error.
 *
 * World: h 10.0.0.5 -- a 10.0.0.1 [r1] b 10.0.1.1 -- a 10.0.1.2 [r2]
 * b 10.0.2.1 -- srv 10.0.2.9. r1 has no default route.
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
#include "tests/support_net.h"

#define H IP4(10, 0, 0, 5)
#define R1_A IP4(10, 0, 0, 1)
#define R1_B IP4(10, 0, 1, 1)
#define R2_A IP4(10, 0, 1, 2)
#define R2_B IP4(10, 0, 2, 1)
#define SRV IP4(10, 0, 2, 9)

struct world {
	struct net *net;
	struct trace_log *log;
	struct router *r1, *r2;
	struct host *h, *srv;
	struct host_socket *s;
	struct test_icmp_seen seen;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_net_open(&w->net, &w->log, 11) < 0)
		return -1;
	explain_attach(net_trace(w->net));
	w->r1 = router_new(w->net, "r1");
	w->r2 = router_new(w->net, "r2");
	w->h = host_new(w->net, "h", H, 24, R1_A);
	w->srv = host_new(w->net, "srv", SRV, 24, R2_B);
	struct iface *r1a = router_add_iface(w->r1, "a", R1_A, 24);
	struct iface *r1b = router_add_iface(w->r1, "b", R1_B, 24);
	struct iface *r2a = router_add_iface(w->r2, "a", R2_A, 24);
	struct iface *r2b = router_add_iface(w->r2, "b", R2_B, 24);

	test_wire(w->net, "l0", host_iface(w->h), r1a);
	test_wire(w->net, "l1", r1b, r2a);
	test_wire(w->net, "l2", r2b, host_iface(w->srv));
	router_add_route(w->r1, IP4(10, 0, 2, 0), 24, r1b, R2_A);
	router_add_route(w->r2, IP4(10, 0, 0, 0), 24, r2a, R1_B);
	w->s = host_udp_bind(w->h, 40000, NULL, &w->seen);
	host_udp_set_error_fn(w->s, test_icmp_socket_error);
	host_set_icmp_listener(w->h, test_icmp_listen, &w->seen);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	test_net_close(w->net, w->log);
	free(w);
	return 0;
}

static uint64_t probe(struct world *w, uint32_t dst, uint16_t port, uint8_t ttl)
{
	struct endpoint to = {dst, port};
	uint64_t id = host_udp_sendto_ttl(w->s, &to, "probe", 5, ttl);

	assert_int_not_equal(id, 0);
	test_run_ms(w->net, 20);
	return id;
}

static const struct node_path_facts *path_facts(const struct trace_packet *drop)
{
	assert_non_null(drop);
	assert_int_equal(drop->verdict.kind, NODE_VERDICT_PATH);
	return drop->verdict.facts;
}

/* traceroute: TTL 1, 2, 3 - time exceeded from each router's address
 * towards us, then port unreachable from the server. */
static void test_traceroute(void **state)
{
	struct world *w = *state;
	const uint32_t from[] = {R1_A, R2_A, SRV};
	const uint8_t type[] = {ICMP_TIME_EXCEEDED, ICMP_TIME_EXCEEDED, ICMP_DEST_UNREACH};
	const uint8_t code[] = {ICMP_EXC_TTL, ICMP_EXC_TTL, ICMP_PORT_UNREACH};

	for (uint8_t ttl = 1; ttl <= 3; ttl++) {
		uint64_t id = probe(w, SRV, 33434, ttl);

		assert_int_equal(w->seen.n_errors, ttl);
		assert_int_equal(w->seen.err.reporter, from[ttl - 1]);
		assert_int_equal(w->seen.err.type, type[ttl - 1]);
		assert_int_equal(w->seen.err.code, code[ttl - 1]);
		assert_int_equal(w->seen.err.local.port, 40000);
		assert_int_equal(w->seen.err.remote.ip, SRV);
		assert_int_equal(w->seen.err.remote.port, 33434);
		/* The quote is the probe as the reporter got it: TTL 1 there. */
		assert_int_equal(w->seen.last.inner.ttl, 1);
		assert_int_equal(w->seen.last.src, from[ttl - 1]);
		const struct node_path_facts *f = path_facts(test_drop_of(w->log, id));

		assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
		assert_int_equal(f->answer.type, type[ttl - 1]);
	}
}

static void test_ttl_quote_exact(void **state)
{
	struct world *w = *state;
	uint64_t id = probe(w, SRV, 33434, 1);
	const struct trace_packet *sent = test_hop_of(w->log, id, TRACE_HOP_SEND);

	assert_int_equal(test_drop_of(w->log, id)->reason, TRACE_DROP_TTL);
	assert_string_equal(test_drop_of(w->log, id)->node, "r1");
	assert_int_equal(w->seen.last.inner.len, sent->len);
	assert_memory_equal(w->seen.last_bytes + w->seen.last.inner.offset, sent->bytes, sent->len);
	/* Sent by r1 as a packet of its own: a SEND hop there. */
	const struct node_path_facts *f = path_facts(test_drop_of(w->log, id));

	assert_string_equal(test_hop_of(w->log, f->answer.packet_id, TRACE_HOP_SEND)->node, "r1");
}

static void test_no_route_net_unreachable(void **state)
{
	struct world *w = *state;
	uint64_t id = probe(w, IP4(192, 0, 2, 1), 53, 64);
	const struct node_path_facts *f = path_facts(test_drop_of(w->log, id));

	assert_int_equal(f->cause, NODE_PATH_NO_ROUTE);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(w->seen.n_errors, 1);
	assert_int_equal(w->seen.err.reporter, R1_A);
	assert_int_equal(w->seen.err.type, ICMP_DEST_UNREACH);
	assert_int_equal(w->seen.err.code, ICMP_NET_UNREACH);
}

/* RFC 1122 3.2.2 / RFC 1812 4.3.2.7: no error about an ICMP error. */
static void test_no_error_about_error(void **state)
{
	struct world *w = *state;
	struct endpoint s = {H, 1}, d = {IP4(192, 0, 2, 1), 2};
	uint8_t quoted[64], buf[128];
	size_t qlen = packet_build_udp(quoted, sizeof(quoted), &s, &d, 64, 1, "q", 1);
	size_t len = packet_build_icmp_error(buf, sizeof(buf), H, IP4(192, 0, 2, 1), 64, 2,
					     ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, quoted, qlen);
	uint64_t no_route = host_send_raw(w->h, buf, len);

	test_run_ms(w->net, 20);
	len = packet_build_icmp_error(buf, sizeof(buf), H, SRV, 1, 3, ICMP_DEST_UNREACH,
				      ICMP_PORT_UNREACH, quoted, qlen);
	uint64_t ttl = host_send_raw(w->h, buf, len);

	test_run_ms(w->net, 20);
	assert_int_equal(path_facts(test_drop_of(w->log, no_route))->answer.kind,
			 ICMP_ANSWER_NEVER);
	assert_int_equal(path_facts(test_drop_of(w->log, ttl))->answer.kind, ICMP_ANSWER_NEVER);
	assert_int_equal(test_icmp_sent_by(w->log, "r1", ICMP_DEST_UNREACH), 0);
	assert_int_equal(test_icmp_sent_by(w->log, "r1", ICMP_TIME_EXCEEDED), 0);
	assert_int_equal(w->seen.n_icmp, 0);
}

static void test_forward_reject(void **state)
{
	struct world *w = *state;
	struct fw_rule rule = {.chain = FW_CHAIN_FORWARD,
			       .proto = IPPROTO_NUM_UDP,
			       .dport_lo = 53,
			       .dport_hi = 53,
			       .action = FW_REJECT,
			       .reject_with = FW_REJECT_HOST_PROHIBITED};

	assert_int_equal(firewall_append(router_firewall(w->r2), &rule), 0);
	uint64_t id = probe(w, SRV, 53, 64);
	const struct trace_packet *drop = test_drop_of(w->log, id);

	assert_non_null(drop);
	assert_int_equal(drop->verdict.kind, NODE_VERDICT_FIREWALL);
	assert_int_equal(((const struct node_firewall_facts *)drop->verdict.facts)->answer.kind,
			 ICMP_ANSWER_SENT);
	assert_int_equal(w->seen.n_errors, 1);
	assert_int_equal(w->seen.err.reporter, R2_A); /* the interface towards h */
	assert_int_equal(w->seen.err.code, ICMP_HOST_PROHIBITED);
	/* A DROP answers nothing. */
	rule.action = FW_DROP;
	rule.dport_lo = rule.dport_hi = 54;
	assert_int_equal(firewall_append(router_firewall(w->r2), &rule), 1);
	id = probe(w, SRV, 54, 64);
	assert_int_equal(w->seen.n_errors, 1);
	assert_int_equal(
	    ((const struct node_firewall_facts *)test_drop_of(w->log, id)->verdict.facts)
		->answer.kind,
	    ICMP_ANSWER_NONE);
}

/* Is there an ICMP entry in the table that has seen its reply? */
static bool icmp_replied(const struct conntrack_entry *e, void *ctx)
{
	bool *found = ctx;

	if (e->orig.proto == IPPROTO_NUM_ICMP && e->seen_reply)
		*found = true;
	return !*found;
}

/* input accept: the router answers ping and says "port unreachable" from
 * the address asked; input drop (a home router) answers nothing. */
static void test_own_input(void **state)
{
	struct world *w = *state;

	host_send_echo(w->h, R1_B, 9, 1, 64, 56);
	probe(w, R1_B, 7, 64);
	assert_int_equal(w->seen.n_icmp, 0);
	router_set_input(w->r1, ROUTER_INPUT_ACCEPT);
	host_send_echo(w->h, R1_B, 9, 2, 64, 56);
	test_run_ms(w->net, 20);
	assert_int_equal(w->seen.n_icmp, 1);
	assert_int_equal(w->seen.last.icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(w->seen.last.src, R1_B);
	assert_int_equal(w->seen.last.icmp_seq, 2);
	/* Its own reply is the reply of the flow the request made (LOCAL_OUT). */
	bool replied = false;

	conntrack_foreach(router_conntrack(w->r1), icmp_replied, &replied);
	assert_true(replied);
	uint64_t id = probe(w, R1_B, 7, 64);

	assert_int_equal(w->seen.n_errors, 1);
	assert_int_equal(w->seen.err.reporter, R1_B);
	assert_int_equal(w->seen.err.code, ICMP_PORT_UNREACH);
	const struct node_path_facts *f = path_facts(test_drop_of(w->log, id));

	assert_int_equal(f->cause, NODE_PATH_OWN_NO_SOCKET);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
}

/* The router's echo reply is its entry's reply, as Linux's passes conntrack
 * at LOCAL_OUT: the entry loses [UNREPLIED] (tests/lab/lab_icmp.sh). */
static void test_own_echo_reply_is_replied(void **state)
{
	struct world *w = *state;
	struct conntrack_tuple req = {
	    .src = H, .dst = R1_B, .sport = 9, .dport = 8 << 8, .proto = IPPROTO_NUM_ICMP};
	enum conntrack_dir dir;

	router_set_input(w->r1, ROUTER_INPUT_ACCEPT);
	host_send_echo(w->h, R1_B, 9, 1, 64, 56);
	test_run_ms(w->net, 20);
	assert_int_equal(w->seen.n_icmp, 1);
	const struct conntrack_entry *ce = conntrack_lookup(router_conntrack(w->r1), &req, &dir);

	assert_non_null(ce);
	assert_true(ce->seen_reply);
}

/* A NAT: alice 192.168.1.5 -- lan [home] wan 203.0.113.7 -- server
 * 203.0.113.9. A packet DNATed to alice whose TTL runs out at home: the
 * time exceeded quotes it as it arrived, to home's public address. */
static void test_ttl_after_dnat_quotes_arrival(void **state)
{
	struct world *w = *state;
	struct router *home = router_new(w->net, "home");
	struct iface *lan = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(home, "wan", IP4(203, 0, 113, 7), 24);
	struct host *alice =
	    host_new(w->net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	struct host *server = host_new(w->net, "server", IP4(203, 0, 113, 9), 24, 0);
	struct test_icmp_seen seen = {0};
	struct packet_info out;
	struct nat_config nc;

	test_wire(w->net, "home-lan", lan, host_iface(alice));
	test_wire(w->net, "home-wan", wan, host_iface(server));
	nat_config_default(&nc);
	assert_non_null(router_enable_nat(home, wan, &nc));
	struct host_socket *a = host_udp_bind(alice, 5000, NULL, NULL);
	struct host_socket *srv = host_udp_bind(server, 7000, NULL, &seen);
	struct endpoint to_srv = {IP4(203, 0, 113, 9), 7000};

	host_udp_set_error_fn(srv, test_icmp_socket_error);
	host_set_icmp_listener(server, test_icmp_listen, &seen);
	uint64_t out_id = host_udp_sendto(a, &to_srv, "out", 3);

	test_run_ms(w->net, 20);
	/* alice's mapping: her datagram's source as the server got it. */
	const struct trace_packet *got = test_hop_of(w->log, out_id, TRACE_HOP_DELIVER);

	assert_non_null(got);
	assert_int_equal(packet_parse(got->bytes, got->len, &out, NULL, 0), PACKET_OK);
	struct endpoint mapped = {out.src, out.sport};
	uint64_t id = host_udp_sendto_ttl(srv, &mapped, "in", 2, 1);

	test_run_ms(w->net, 20);
	assert_int_equal(test_drop_of(w->log, id)->reason, TRACE_DROP_TTL);
	assert_int_equal(seen.n_errors, 1);
	assert_int_equal(seen.err.reporter, IP4(203, 0, 113, 7));
	assert_int_equal(seen.err.type, ICMP_TIME_EXCEEDED);
	assert_int_equal(seen.err.remote.ip, IP4(203, 0, 113, 7)); /* not alice's 192.168.1.5 */
	assert_int_equal(seen.err.remote.port, mapped.port);
	const struct trace_packet *sent = test_hop_of(w->log, id, TRACE_HOP_SEND);

	assert_memory_equal(seen.last_bytes + seen.last.inner.offset, sent->bytes, sent->len);
}

/* The same NAT, and a FORWARD rule rejecting what the server sends in. The
 * chain sees the packet after DNAT, so Linux's REJECT quotes alice's
 * address; the error is RELATED to her flow and its NAT translates the
 * quote back on the way out (nf_nat_ipv4_fn -> nf_nat_icmp_reply_translation):
 * the server learns the public endpoint it sent to, never 192.168.1.5. */
static void test_forward_reject_after_dnat_quotes_public(void **state)
{
	struct world *w = *state;
	struct router *home = router_new(w->net, "home");
	struct iface *lan = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(home, "wan", IP4(203, 0, 113, 7), 24);
	struct host *alice =
	    host_new(w->net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	struct host *server = host_new(w->net, "server", IP4(203, 0, 113, 9), 24, 0);
	struct fw_rule rule = {.chain = FW_CHAIN_FORWARD,
			       .proto = IPPROTO_NUM_UDP,
			       .src = IP4(203, 0, 113, 9),
			       .src_len = 32,
			       .action = FW_REJECT};
	struct endpoint to_srv = {IP4(203, 0, 113, 9), 7000}, public = {IP4(203, 0, 113, 7), 0};
	struct test_icmp_seen seen = {0};
	struct nat_config nc;

	test_wire(w->net, "home-lan", lan, host_iface(alice));
	test_wire(w->net, "home-wan", wan, host_iface(server));
	nat_config_default(&nc);
	assert_non_null(router_enable_nat(home, wan, &nc));
	assert_int_equal(firewall_append(router_firewall(home), &rule), 0);
	struct host_socket *srv = host_udp_bind(server, 7000, NULL, &seen);

	host_udp_set_error_fn(srv, test_icmp_socket_error);
	host_set_icmp_listener(server, test_icmp_listen, &seen);
	host_udp_sendto(host_udp_bind(alice, 5000, NULL, NULL), &to_srv, "out", 3);
	test_run_ms(w->net, 20);
	public.port = 5000; /* the NAT keeps the port when it is free */
	uint64_t id = host_udp_sendto(srv, &public, "in", 2);

	test_run_ms(w->net, 20);
	assert_int_equal(test_drop_of(w->log, id)->verdict.kind, NODE_VERDICT_FIREWALL);
	assert_int_equal(seen.n_errors, 1);
	assert_int_equal(seen.err.type, ICMP_DEST_UNREACH);
	assert_int_equal(seen.err.remote.ip, public.ip); /* not alice's 192.168.1.5 */
	assert_int_equal(seen.err.remote.port, public.port);
	assert_int_equal(seen.last.inner.dst, public.ip);
	assert_true(seen.last.inner.ip_sum_ok); /* the quote's own sum kept right */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_traceroute, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ttl_quote_exact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_route_net_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_error_about_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_reject, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_echo_reply_is_replied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ttl_after_dnat_quotes_arrival, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_reject_after_dnat_quotes_public, setup,
					    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
