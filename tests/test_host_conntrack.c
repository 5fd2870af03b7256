/*
 * test_host_conntrack.c - a host's stateful firewall and conntrack with
 * ICMP, through real packets: the errors about its own flows come in as
 * RELATED (the default ruleset accepts them, as every distribution's does),
 * a ping's reply is ESTABLISHED, and an echo reply nobody asked for is
 * INVALID and kept out, with no entry made for it (nf_conntrack_proto_icmp.c).
 *
 * World: alice 10.0.0.1/24 (stateful firewall) and bob 10.0.0.2/24 on "lan".
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
	struct test_icmp_seen seen;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_lan_open(&w->lan, 5) < 0)
		return -1;
	firewall_make_stateful_host(host_firewall(w->lan.alice));
	host_enable_firewall(w->lan.alice, true);
	host_set_icmp_listener(w->lan.alice, test_icmp_listen, &w->seen);
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

static size_t related_events(const struct trace_log *log, const char *node)
{
	size_t n = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		n += r->kind == TRACE_CONNTRACK && r->u.ct.event == TRACE_CT_RELATED &&
		     strcmp(r->u.ct.node, node) == 0;
	}
	return n;
}

/* bob's port unreachable about alice's datagram passes her INPUT policy
 * drop as RELATED, and her flow's entry is not touched by it. */
static void test_error_about_own_flow_is_related(void **state)
{
	struct world *w = *state;
	struct host_socket *s = host_udp_bind(w->lan.alice, 4000, NULL, &w->seen);
	struct endpoint to_bob = {BOB, 6000};

	host_udp_set_error_fn(s, test_icmp_socket_error);
	assert_int_not_equal(host_udp_sendto(s, &to_bob, "knock", 5), 0);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->seen.n_errors, 1);
	assert_int_equal(w->seen.err.code, ICMP_PORT_UNREACH);
	assert_int_equal(related_events(w->lan.log, "alice"), 1);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.alice)), 1);
	struct conntrack_tuple t = {IPPROTO_NUM_UDP, ALICE, BOB, 4000, 6000};
	const struct conntrack_entry *e = conntrack_lookup(host_conntrack(w->lan.alice), &t, NULL);
	assert_non_null(e);
	assert_false(e->seen_reply);
	assert_int_equal(e->packets[CONNTRACK_DIR_REPLY], 0);
}

/* A ping's reply is ESTABLISHED; the entry reads as conntrack -L prints. */
static void test_ping_reply_established(void **state)
{
	struct world *w = *state;
	char line[256];
	struct trace_conntrack rec;

	assert_int_not_equal(host_send_echo(w->lan.alice, BOB, 0x42, 1, 64, 56), 0);
	test_run_ms(w->lan.net, 5);
	assert_int_equal(w->seen.n_icmp, 1);
	assert_int_equal(w->seen.last.icmp_type, ICMP_ECHO_REPLY);
	struct conntrack_tuple t = {IPPROTO_NUM_ICMP, ALICE, BOB, 0x42, ICMP_ECHO_REQUEST << 8};
	const struct conntrack_entry *e = conntrack_lookup(host_conntrack(w->lan.alice), &t, NULL);
	assert_non_null(e);
	conntrack_entry_record(host_conntrack(w->lan.alice), e, &rec);
	conntrack_format_record(&rec, engine_now(net_engine(w->lan.net)), line, sizeof(line));
	assert_string_equal(line, "icmp     1 30 src=10.0.0.1 dst=10.0.0.2 type=8 code=0 id=66 "
				  "src=10.0.0.2 dst=10.0.0.1 type=0 code=0 id=66 mark=0 use=1");
}

/* An echo reply nobody asked for: INVALID, dropped by the policy, and no
 * entry made for it; nor for an error about no flow of alice's. */
static void test_unsolicited_reply_invalid(void **state)
{
	struct world *w = *state;
	uint8_t buf[128], quoted[64];
	struct endpoint a = {ALICE, 4000}, b = {BOB, 6000};
	size_t len = packet_build_icmp_echo(buf, sizeof(buf), BOB, ALICE, 64, 1, ICMP_ECHO_REPLY, 7,
					    1, NULL, 8);
	uint64_t id = host_send_raw(w->lan.bob, buf, len);

	test_run_ms(w->lan.net, 5);
	const struct trace_packet *d = test_drop_of(w->lan.log, id);
	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_string_equal(d->node, "alice");
	const struct node_firewall_facts *f = d->verdict.facts;
	assert_int_equal(f->verdict.state, CONNTRACK_INVALID);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.alice)), 0);

	size_t qlen = packet_build_udp(quoted, sizeof(quoted), &a, &b, 64, 2, "x", 1);
	len = packet_build_icmp_error(buf, sizeof(buf), BOB, ALICE, 64, 3, ICMP_DEST_UNREACH,
				      ICMP_PORT_UNREACH, quoted, qlen);
	id = host_send_raw(w->lan.bob, buf, len);
	test_run_ms(w->lan.net, 5);
	d = test_drop_of(w->lan.log, id);
	assert_non_null(d);
	f = d->verdict.facts;
	assert_int_equal(f->verdict.state, CONNTRACK_INVALID);
	assert_int_equal(w->seen.n_icmp, 0);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.alice)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_error_about_own_flow_is_related, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping_reply_established, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsolicited_reply_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
