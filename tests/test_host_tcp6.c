/*
 * test_host_tcp6.c - the host's TCP over IPv6 (model/host_tcp.c with
 * host6.c's paths) through the dual-stack world of tests/support_net6.h:
 * the handshake and its MSS, the RST for a closed port (tcp_v6_send_reset),
 * simultaneous open, ICMPv6 errors ending a connect (tcp_v6_err), a
 * transfer in 1428-byte segments, TIME-WAIT, and IPV6_V6ONLY's two port
 * spaces.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/filter6.h"
#include "model/host.h"
#include "model/packet6.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "tests/support_net6.h"

/* What one end of a connection saw. */
struct app {
	struct host_tcp *s;
	size_t connected, peer_closed, closed, simultaneous;
	int error;
	size_t got_len;
	uint32_t got_sum; /* a running sum of (byte, position) to check order */
};

struct w6 {
	struct world6 w;
	struct app client, server;
	struct host_tcp *listener;
	size_t accepted;
};

static void on_event(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct app *a = ctx;

	a->s = s;
	a->connected += ev->kind == HOST_TCP_CONNECTED;
	a->simultaneous += ev->kind == HOST_TCP_CONNECTED && ev->simultaneous;
	a->peer_closed += ev->kind == HOST_TCP_PEER_CLOSED;
	if (ev->kind == HOST_TCP_CLOSED) {
		a->closed++;
		a->error = ev->error;
	}
	for (size_t i = 0; ev->kind == HOST_TCP_DATA && i < ev->len; i++, a->got_len++)
		a->got_sum += (uint32_t)ev->data[i] * (uint32_t)(a->got_len % 251 + 1);
}

static void on_accept(struct host_tcp *l, struct host_tcp *c, void *ctx)
{
	struct w6 *t = ctx;

	assert_ptr_equal(l, t->listener);
	t->accepted++;
	t->server.s = c;
	host_tcp_set_fn(c, on_event, &t->server);
}

static int setup(void **state)
{
	struct w6 *t = calloc(1, sizeof(*t));

	if (t == NULL || world6_open(&t->w, 11) < 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct w6 *t = *state;

	world6_close(&t->w);
	free(t);
	return 0;
}

/* The i-th TRACE_SOCKET record of `node`, or NULL. */
static const struct trace_socket *socket_record(const struct trace_log *log, const char *node,
						size_t i)
{
	for (size_t k = 0; k < trace_log_count(log); k++) {
		const struct trace_record *r = trace_log_get(log, k);

		if (r->kind == TRACE_SOCKET && strcmp(r->u.sock.node, node) == 0 && i-- == 0)
			return &r->u.sock;
	}
	return NULL;
}

/* The IPv6 segment `id` as `node` sent it, parsed into *out. */
static void sent_segment(const struct w6 *t, uint64_t id, struct packet6_info *out)
{
	const struct trace_packet *p = world6_hop(&t->w, id, TRACE_HOP_SEND);

	assert_non_null(p);
	assert_int_equal(packet6_parse(p->bytes, p->len, out, NULL, 0), PACKET_OK);
	assert_int_equal(out->next_header, IPPROTO_NUM_TCP);
}

/* srv listens on [::]:80, a1 connects to [2001:db8:2::9]:80. */
static void open_pair(struct w6 *t)
{
	struct endpoint6 to = {T6(2, 9), 80};

	t->listener = host_tcp_listen6(t->w.srv, NULL, 80, false, on_accept, t);
	assert_non_null(t->listener);
	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	assert_non_null(t->client.s);
	test_run_ms(t->w.net, 50);
}

/* The handshake: both ESTABLISHED, each end's IPv6 ends right, the SYN's
 * MSS 1440 (a 1500-byte link less 40 and 20, as tcp_v6_connect) and its
 * window 64800 (45 segments, tcp_select_initial_window), the trace's
 * socket records carrying the IPv6 ends. */
static void test_handshake(void **state)
{
	struct w6 *t = *state;
	const struct trace_socket *r;
	struct packet6_info syn;
	struct endpoint6 local;

	open_pair(t);
	assert_int_equal(host_tcp_state(t->client.s), TCP_ESTABLISHED);
	assert_int_equal(t->client.connected, 1);
	assert_int_equal(t->accepted, 1);
	assert_true(host_tcp_is6(t->client.s));
	local = host_tcp_local6(t->client.s);
	assert_true(ip6_equal(&local.ip, &T6(1, 5)));
	local = host_tcp_remote6(t->server.s);
	assert_true(ip6_equal(&local.ip, &T6(1, 5)));
	assert_int_equal(local.port, host_tcp_local6(t->client.s).port);
	r = socket_record(t->w.log, "a1", 0);
	assert_non_null(r);
	assert_int_equal(r->new_state, TCP_SYN_SENT);
	assert_non_null(r->v6);
	assert_true(ip6_equal(&r->v6->remote.ip, &T6(2, 9)));
	assert_int_equal(r->v6->remote.port, 80);
	sent_segment(t, r->packet_id, &syn);
	assert_int_equal(syn.tcp_flags, TCP_SYN);
	assert_int_equal(syn.tcp_opt.mss, 1440);
	assert_int_equal(syn.tcp_window, 64800);
	assert_int_equal(syn.hop_limit, 64);
	assert_int_equal(socket_record(t->w.log, "srv", 0)->v6->remote.port, 0);
	assert_true(ip6_is_unspecified(&socket_record(t->w.log, "srv", 0)->v6->local.ip));
	assert_int_equal(socket_record(t->w.log, "srv", 2)->new_state, TCP_ESTABLISHED);
}

/* Nobody on srv's port 81: srv answers the SYN with an RST+ACK (seq 0,
 * ack SYN+1, no options: tcp_v6_send_reset), the SYN's drop names it, and
 * a1's connect fails ECONNREFUSED. */
static void test_rst_for_closed_port(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 to = {T6(2, 9), 81};
	const struct node_path_facts *f;
	struct packet6_info syn, rst;
	uint64_t syn_id;

	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	syn_id = socket_record(t->w.log, "a1", 0)->packet_id;
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.closed, 1);
	assert_int_equal(t->client.error, ECONNREFUSED);
	assert_int_equal(socket_record(t->w.log, "a1", 1)->cause, TCP_CAUSE_RST);
	f = world6_path_drop(&t->w, syn_id, "srv", NODE_PATH_NO_SOCKET);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	sent_segment(t, syn_id, &syn);
	sent_segment(t, f->answer.packet_id, &rst);
	assert_int_equal(rst.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.tcp_seq, 0);
	assert_int_equal(rst.tcp_ack, syn.tcp_seq + 1);
	assert_int_equal(rst.tcp_header_len, 20);
	assert_true(ip6_equal(&rst.src, &T6(2, 9)));
	assert_non_null(world6_hop(&t->w, f->answer.packet_id, TRACE_HOP_DELIVER));
	host_tcp_close(t->client.s);
}

/* a1 and a2 connect to each other at once from the ports the other aims
 * at: SYN-SENT -> SYN-RECEIVED -> ESTABLISHED on both (RFC 9293 fig. 8). */
static void test_simultaneous_open(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 a = {T6(1, 5), 5000}, b = {T6(1, 6), 6000};

	t->client.s = host_tcp_connect6(t->w.a1, &a, &b, true, on_event, &t->client);
	t->server.s = host_tcp_connect6(t->w.a2, &b, &a, true, on_event, &t->server);
	assert_non_null(t->client.s);
	assert_non_null(t->server.s);
	test_run_ms(t->w.net, 10);
	assert_int_equal(t->client.simultaneous, 1);
	assert_int_equal(t->server.simultaneous, 1);
	assert_int_equal(socket_record(t->w.log, "a1", 1)->new_state, TCP_SYN_RECEIVED);
	assert_int_equal(host_tcp_state(t->server.s), TCP_ESTABLISHED);
}

/* srv's ip6 INPUT policy REJECT (port unreachable): tcp_v6_err ends the
 * SYN-SENT connect with ECONNREFUSED, the ICMPv6 error named as cause. */
static void test_icmp6_port_unreachable_refuses(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 to = {T6(2, 9), 80};
	const struct trace_socket *r;

	firewall_set_policy(filter6_firewall(host_filter6(t->w.srv)), FW_CHAIN_INPUT, FW_REJECT);
	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.closed, 1);
	assert_int_equal(t->client.error, ECONNREFUSED);
	r = socket_record(t->w.log, "a1", 1);
	assert_int_equal(r->cause, TCP_CAUSE_ICMP);
	assert_int_equal(world6_hop(&t->w, r->packet_id, TRACE_HOP_DELIVER)->bytes[40],
			 ICMP6_DEST_UNREACH);
	host_tcp_close(t->client.s);
}

/* An ip6 rule REJECT --reject-with tcp-reset on srv's INPUT (ip6t_REJECT's
 * nf_send_reset6): the SYN is dropped by the rule, its drop names the RST
 * srv sent, and a1's connect is refused by it (an RST, not ICMPv6). */
static void test_reject_tcp_reset6(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 to = {T6(2, 9), 80};
	struct fw_rule reject = {.chain = FW_CHAIN_INPUT,
				 .family = 6,
				 .proto = IPPROTO_NUM_TCP,
				 .dport_lo = 80,
				 .dport_hi = 80,
				 .action = FW_REJECT,
				 .reject_with = FW_REJECT_TCP_RESET};
	const struct trace_packet *d;
	struct packet6_info rst;
	uint64_t syn_id;

	t->listener = host_tcp_listen6(t->w.srv, NULL, 80, false, on_accept, t);
	assert_true(firewall_append(filter6_firewall(host_filter6(t->w.srv)), &reject) >= 0);
	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	syn_id = socket_record(t->w.log, "a1", 0)->packet_id;
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.error, ECONNREFUSED);
	assert_int_equal(socket_record(t->w.log, "a1", 1)->cause, TCP_CAUSE_RST);
	assert_int_equal(t->accepted, 0);
	d = world6_hop(&t->w, syn_id, TRACE_HOP_DROP);
	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_non_null(strstr(d->why, "RST"));
	sent_segment(t, socket_record(t->w.log, "a1", 1)->packet_id, &rst);
	assert_int_equal(rst.tcp_flags, TCP_RST | TCP_ACK);
	host_tcp_close(t->client.s);
}

/* r1 has no route to 2001:db9::1: its no-route error (code 0, not fatal
 * for icmpv6_err_convert) still ends a connect in SYN-SENT: ENETUNREACH. */
static void test_icmp6_no_route_ends_connect(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 to = {{{0x20, 0x01, 0x0d, 0xb9, [15] = 1}}, 80};

	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.closed, 1);
	assert_int_equal(t->client.error, ENETUNREACH);
	assert_int_equal(socket_record(t->w.log, "a1", 1)->cause, TCP_CAUSE_ICMP);
	host_tcp_close(t->client.s);
}

/* An on-link address nobody holds: a1's neighbour resolution fails and
 * its own stack quotes the SYN back as address unreachable (code 3,
 * ndisc_error_report -> ip6_link_failure), which ends the connect in
 * SYN-SENT with EHOSTUNREACH (tcp_v6_err, icmpv6_err_convert), as Linux's
 * connect() to it (tests/lab/lab_router6.sh). */
static void test_on_link_nobody_ends_connect(void **state)
{
	struct w6 *t = *state;
	struct endpoint6 to = {T6(1, 0x99), 80};

	t->client.s = host_tcp_connect6(t->w.a1, NULL, &to, false, on_event, &t->client);
	assert_non_null(t->client.s);
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.closed, 1);
	assert_int_equal(t->client.error, EHOSTUNREACH);
	assert_int_equal(socket_record(t->w.log, "a1", 1)->cause, TCP_CAUSE_ICMP);
	host_tcp_close(t->client.s);
}

/* 200 000 bytes a1 -> srv arrive whole and in order; a full segment
 * carries 1428 bytes (MSS 1440 less the timestamps' 12) in a 1500-byte
 * IPv6 packet. */
static void test_transfer(void **state)
{
	struct w6 *t = *state;
	enum { LEN = 200000 };
	uint8_t *data = malloc(LEN);
	size_t sent = 0, biggest = 0;
	uint32_t want = 0;

	assert_non_null(data);
	open_pair(t);
	for (size_t i = 0; i < LEN; i++) {
		data[i] = (uint8_t)(i * 7 + (i >> 8));
		want += (uint32_t)data[i] * (uint32_t)(i % 251 + 1);
	}
	for (int rounds = 0; sent < LEN && rounds < 10000; rounds++) {
		sent += host_tcp_send(t->client.s, data + sent, LEN - sent);
		test_run_ms(t->w.net, 5);
	}
	test_run_ms(t->w.net, 5000);
	assert_int_equal(t->server.got_len, LEN);
	assert_int_equal(t->server.got_sum, want);
	for (size_t k = 0; k < trace_log_count(t->w.log); k++) {
		const struct trace_record *r = trace_log_get(t->w.log, k);

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
		    strcmp(r->u.packet.node, "a1") == 0 && r->u.packet.len > biggest)
			biggest = r->u.packet.len;
	}
	assert_int_equal(biggest, 1500);
	free(data);
}

/* a1 closes first, srv then: a1 sits in TIME-WAIT 60 s and is freed. */
static void test_time_wait(void **state)
{
	struct w6 *t = *state;
	size_t n;

	open_pair(t);
	host_tcp_close(t->client.s);
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->server.peer_closed, 1);
	host_tcp_close(t->server.s);
	test_run_ms(t->w.net, 50);
	for (n = 0; socket_record(t->w.log, "a1", n) != NULL; n++)
		;
	assert_int_equal(socket_record(t->w.log, "a1", n - 1)->new_state, TCP_TIME_WAIT);
	test_run_ms(t->w.net, 60000);
	assert_int_equal(socket_record(t->w.log, "a1", n)->new_state, TCP_CLOSED);
	assert_int_equal(socket_record(t->w.log, "a1", n)->cause, TCP_CAUSE_TIME_WAIT);
}

/* IPV6_V6ONLY: an IPv4 and an IPv6 listener share port 80; an IPv4 SYN
 * never reaches the IPv6 one (with it alone, IPv4 gets an RST), and a
 * second IPv6 listener on the port is refused. */
static void test_v6only_port_spaces(void **state)
{
	struct w6 *t = *state;
	struct endpoint to4 = {IP4(10, 0, 2, 9), 80};

	t->listener = host_tcp_listen6(t->w.srv, NULL, 80, false, on_accept, t);
	assert_non_null(t->listener);
	assert_null(host_tcp_listen6(t->w.srv, &T6(2, 9), 80, false, on_accept, t));
	t->client.s = host_tcp_connect(t->w.a1, NULL, &to4, false, on_event, &t->client);
	test_run_ms(t->w.net, 50);
	assert_int_equal(t->client.error, ECONNREFUSED);
	assert_int_equal(t->accepted, 0);
	assert_non_null(host_tcp_listen(t->w.srv, 0, 80, false, NULL, NULL));
	host_tcp_close(t->client.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_for_closed_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp6_port_unreachable_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp6_no_route_ends_connect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reject_tcp_reset6, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_on_link_nobody_ends_connect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_wait, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v6only_port_spaces, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
