/*
 * test_host_icmp.c - what a host's stack answers with ICMP, through real
 * packets on a link: echo replies, port unreachable (rate limited as
 * Linux's), errors delivered to the socket they quote, REJECT's answer,
 * never an error about an error.
 *
 * World: alice 10.0.0.1/24 and bob 10.0.0.2/24 on link "lan" (1 ms).
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
	struct test_icmp_seen a_seen;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_lan_open(&w->lan, 5) < 0)
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

static const struct node_path_facts *path_facts(const struct trace_packet *drop)
{
	assert_non_null(drop);
	assert_int_equal(drop->verdict.kind, NODE_VERDICT_PATH);
	return drop->verdict.facts;
}

static void test_ping_gets_reply(void **state)
{
	struct world *w = *state;
	uint64_t id;

	host_set_icmp_listener(w->lan.alice, test_icmp_listen, &w->a_seen);
	id = host_send_echo(w->lan.alice, BOB, 0x1234, 7, 64, 56);
	assert_int_not_equal(id, 0);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_seen.n_icmp, 1);
	assert_int_equal(w->a_seen.last.icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(w->a_seen.last.src, BOB);
	assert_int_equal(w->a_seen.last.dst, ALICE);
	assert_int_equal(w->a_seen.last.icmp_id, 0x1234);
	assert_int_equal(w->a_seen.last.icmp_seq, 7);
	/* Same payload as the request's (icmp_echo copies it). */
	const struct trace_packet *sent = test_hop_of(w->lan.log, id, TRACE_HOP_SEND);

	assert_non_null(sent);
	assert_int_equal(w->a_seen.last_len, sent->len);
	assert_memory_equal(w->a_seen.last_bytes + 28, sent->bytes + 28, sent->len - 28);
	/* The request was delivered to bob's stack, not dropped. */
	assert_non_null(test_hop_of(w->lan.log, id, TRACE_HOP_DELIVER));
	assert_null(test_drop_of(w->lan.log, id));
	assert_int_equal(test_icmp_sent_by(w->lan.log, "bob", ICMP_ECHO_REPLY), 1);
}

static void test_echo_ignore_all(void **state)
{
	struct world *w = *state;
	struct icmp_config cfg;

	host_icmp_config(w->lan.bob, &cfg);
	cfg.echo_ignore_all = true;
	assert_int_equal(host_set_icmp_config(w->lan.bob, &cfg), 0);
	host_set_icmp_listener(w->lan.alice, test_icmp_listen, &w->a_seen);
	host_send_echo(w->lan.alice, BOB, 1, 1, 64, 56);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_seen.n_icmp, 0);
	assert_int_equal(test_icmp_sent_by(w->lan.log, "bob", ICMP_ECHO_REPLY), 0);
}

static void test_closed_port_unreachable(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, &w->a_seen);
	struct endpoint to_bob = {BOB, 6000};
	uint64_t id;

	host_udp_set_error_fn(a, test_icmp_socket_error);
	host_set_icmp_listener(w->lan.alice, test_icmp_listen, &w->a_seen);
	id = host_udp_sendto(a, &to_bob, "knock", 5);
	test_run_ms(w->lan.net, 5);
	/* The socket hears of it, with both ends of its datagram. */
	assert_int_equal(w->a_seen.n_errors, 1);
	assert_int_equal(w->a_seen.err.reporter, BOB);
	assert_int_equal(w->a_seen.err.local.ip, ALICE);
	assert_int_equal(w->a_seen.err.local.port, 4000);
	assert_int_equal(w->a_seen.err.remote.ip, BOB);
	assert_int_equal(w->a_seen.err.remote.port, 6000);
	assert_int_equal(w->a_seen.err.type, ICMP_DEST_UNREACH);
	assert_int_equal(w->a_seen.err.code, ICMP_PORT_UNREACH);
	/* The error quotes the datagram exactly as it was sent. */
	const struct trace_packet *sent = test_hop_of(w->lan.log, id, TRACE_HOP_SEND);

	assert_int_equal(w->a_seen.n_icmp, 1);
	assert_true(w->a_seen.last.icmp_error);
	assert_int_equal(w->a_seen.last.inner.len, sent->len);
	assert_memory_equal(w->a_seen.last_bytes + w->a_seen.last.inner.offset, sent->bytes,
			    sent->len);
	/* bob's drop says what it answered, and that packet went out. */
	const struct node_path_facts *f = path_facts(test_drop_of(w->lan.log, id));

	assert_int_equal(f->cause, NODE_PATH_NO_SOCKET);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->answer.type, ICMP_DEST_UNREACH);
	assert_int_equal(f->answer.code, ICMP_PORT_UNREACH);
	assert_string_equal(test_hop_of(w->lan.log, f->answer.packet_id, TRACE_HOP_SEND)->node,
			    "bob");
	assert_non_null(test_hop_of(w->lan.log, f->answer.packet_id, TRACE_HOP_DELIVER));
}

/* Linux's icmp_ratelimit: 6 at once to one destination, then one a second. */
static void test_flood_gets_six_errors(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, &w->a_seen);
	struct endpoint to_bob = {BOB, 6000};
	uint64_t ids[10];

	host_udp_set_error_fn(a, test_icmp_socket_error);
	for (int i = 0; i < 10; i++) {
		ids[i] = host_udp_sendto(a, &to_bob, "x", 1);
		test_run_ms(w->lan.net, 50); /* ten within half a second */
	}
	assert_int_equal(w->a_seen.n_errors, 6);
	for (int i = 0; i < 10; i++)
		assert_int_equal(path_facts(test_drop_of(w->lan.log, ids[i]))->answer.kind,
				 i < 6 ? ICMP_ANSWER_SENT : ICMP_ANSWER_RATE_LIMITED);
	assert_non_null(strstr(test_drop_of(w->lan.log, ids[9])->why,
			       "; not answered with port unreachable: Linux's ICMP rate limit"));
	/* A second after the burst began bob has earned one more. */
	test_run_ms(w->lan.net, 600);
	host_udp_sendto(a, &to_bob, "x", 1);
	host_udp_sendto(a, &to_bob, "x", 1);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_seen.n_errors, 7);
}

/* RFC 1122 3.2.2: an ICMP error is never answered with one. */
static void test_error_never_answered(void **state)
{
	struct world *w = *state;
	struct endpoint s = {BOB, 6000}, d = {ALICE, 4000};
	uint8_t quoted[64], buf[128];
	size_t qlen = packet_build_udp(quoted, sizeof(quoted), &s, &d, 64, 1, "q", 1);
	size_t len = packet_build_icmp_error(buf, sizeof(buf), ALICE, BOB, 64, 2, ICMP_DEST_UNREACH,
					     ICMP_PORT_UNREACH, quoted, qlen);
	uint64_t id = host_send_raw(w->lan.alice, buf, len);

	assert_int_not_equal(id, 0);
	test_run_ms(w->lan.net, 5);
	/* No socket at bob sent that datagram: icmp_rcv still takes the
	 * error (delivered, not dropped), nobody is told, nothing answers. */
	assert_null(test_drop_of(w->lan.log, id));
	assert_int_equal(test_icmp_sent_by(w->lan.log, "bob", ICMP_DEST_UNREACH), 0);
}

static void test_input_reject_answers(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, &w->a_seen);
	struct endpoint to_bob = {BOB, 7000};
	struct fw_rule rule = {.chain = FW_CHAIN_INPUT,
			       .proto = IPPROTO_NUM_UDP,
			       .dport_lo = 7000,
			       .dport_hi = 7000,
			       .action = FW_REJECT,
			       .reject_with = FW_REJECT_ADMIN_PROHIBITED};
	uint64_t id;

	host_udp_bind(w->lan.bob, 7000, NULL, NULL);
	host_enable_firewall(w->lan.bob, true);
	assert_true(firewall_append(host_firewall(w->lan.bob), &rule) >= 0);
	host_udp_set_error_fn(a, test_icmp_socket_error);
	id = host_udp_sendto(a, &to_bob, "x", 1);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->a_seen.n_errors, 1);
	assert_int_equal(w->a_seen.err.type, ICMP_DEST_UNREACH);
	assert_int_equal(w->a_seen.err.code, ICMP_ADMIN_PROHIBITED);
	assert_int_equal(w->a_seen.err.reporter, BOB);
	const struct trace_packet *drop = test_drop_of(w->lan.log, id);

	assert_non_null(drop);
	assert_int_equal(drop->verdict.kind, NODE_VERDICT_FIREWALL);
	const struct node_firewall_facts *f = drop->verdict.facts;

	assert_int_equal(f->answer.kind, ICMP_ANSWER_SENT);
	assert_int_equal(f->answer.code, ICMP_ADMIN_PROHIBITED);
	assert_non_null(strstr(drop->why, "and told the sender: communication administratively "
					  "prohibited (icmp-admin-prohibited)"));
	assert_non_null(test_hop_of(w->lan.log, f->answer.packet_id, TRACE_HOP_SEND));
}

/* An OUTPUT REJECT's error goes to the sender itself (through lo). */
static void test_output_reject_to_self(void **state)
{
	struct world *w = *state;
	struct host_socket *a = host_udp_bind(w->lan.alice, 4000, NULL, &w->a_seen);
	struct endpoint to_bob = {BOB, 53};
	struct fw_rule reject = {.chain = FW_CHAIN_OUTPUT,
				 .proto = IPPROTO_NUM_UDP,
				 .dport_lo = 53,
				 .dport_hi = 53,
				 .action = FW_REJECT};
	struct fw_rule icmp_in = {
	    .chain = FW_CHAIN_INPUT, .proto = IPPROTO_NUM_ICMP, .action = FW_ACCEPT};

	host_enable_firewall(w->lan.alice, true);
	assert_true(firewall_append(host_firewall(w->lan.alice), &reject) >= 0);
	assert_true(firewall_append(host_firewall(w->lan.alice), &icmp_in) >= 0);
	host_udp_set_error_fn(a, test_icmp_socket_error);
	assert_int_equal(host_udp_sendto(a, &to_bob, "q", 1), 0);
	assert_int_equal(w->a_seen.n_errors, 1);
	assert_int_equal(w->a_seen.err.reporter, ALICE);
	assert_int_equal(w->a_seen.err.code, ICMP_PORT_UNREACH);
	assert_int_equal(w->a_seen.err.remote.ip, BOB);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(test_icmp_sent_by(w->lan.log, "bob", ICMP_DEST_UNREACH), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ping_gets_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_ignore_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_closed_port_unreachable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flood_gets_six_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_error_never_answered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_input_reject_answers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_output_reject_to_self, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
