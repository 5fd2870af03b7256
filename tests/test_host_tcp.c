/*
 * test_host_tcp.c - the host's TCP through small worlds: the handshake,
 * data both ways, every way to close, TIME-WAIT, the RST for a closed
 * port, SYN retransmission and its timeout, simultaneous open, loss, and
 * the same trace for the same seed.
 *
 * World: alice 10.0.0.1/24 and bob 10.0.0.2/24 on link "lan" (1 ms), no
 * gateways (tests/support_net.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/host.h"
#include "sim/trace_log.h"
#include "tests/support_net.h"

#define ALICE TEST_ALICE
#define BOB TEST_BOB

/* What one end of a connection saw. */
struct app {
	struct host_tcp *s;
	size_t connected, peer_closed, closed;
	int error;
	uint8_t *got;
	size_t got_len, got_cap;
};

struct world {
	struct test_lan lan;
	struct app client, server;
	struct host_tcp *listener;
	size_t accepted;
};

static void on_event(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct app *a = ctx;

	a->s = s;
	if (ev->kind == HOST_TCP_CONNECTED)
		a->connected++;
	if (ev->kind == HOST_TCP_PEER_CLOSED)
		a->peer_closed++;
	if (ev->kind == HOST_TCP_CLOSED) {
		a->closed++;
		a->error = ev->error;
	}
	if (ev->kind != HOST_TCP_DATA)
		return;
	if (a->got_len + ev->len > a->got_cap) {
		a->got_cap = (a->got_len + ev->len) * 2;
		a->got = realloc(a->got, a->got_cap);
		assert_non_null(a->got);
	}
	memcpy(a->got + a->got_len, ev->data, ev->len);
	a->got_len += ev->len;
}

static void on_accept(struct host_tcp *l, struct host_tcp *c, void *ctx)
{
	struct world *w = ctx;

	assert_ptr_equal(l, w->listener);
	assert_int_equal(host_tcp_state(c), TCP_ESTABLISHED);
	w->accepted++;
	w->server.s = c;
	host_tcp_set_fn(c, on_event, &w->server);
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_lan_open(&w->lan, 7) < 0)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	test_net_close(w->lan.net, w->lan.log);
	free(w->client.got);
	free(w->server.got);
	free(w);
	return 0;
}

/* bob listens on 80, alice connects to it from an ephemeral port. */
static void open_pair(struct world *w)
{
	struct endpoint to = {BOB, 80};

	w->listener = host_tcp_listen(w->lan.bob, 0, 80, false, on_accept, w);
	assert_non_null(w->listener);
	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	assert_non_null(w->client.s);
	test_run_ms(w->lan.net, 10);
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

/* The time of the first record moving `node` into `to`, or -1. */
static int64_t time_of_state(const struct trace_log *log, const char *node, enum tcp_state to)
{
	for (size_t k = 0; k < trace_log_count(log); k++) {
		const struct trace_record *r = trace_log_get(log, k);

		if (r->kind == TRACE_SOCKET && strcmp(r->u.sock.node, node) == 0 &&
		    r->u.sock.new_state == to)
			return r->time;
	}
	return -1;
}

static void test_handshake(void **state)
{
	struct world *w = *state;
	const struct trace_socket *r;

	open_pair(w);
	assert_int_equal(host_tcp_state(w->client.s), TCP_ESTABLISHED);
	assert_int_equal(w->client.connected, 1);
	assert_int_equal(w->accepted, 1);
	assert_int_equal(w->server.connected, 1);
	assert_int_equal(host_tcp_remote(w->server.s).ip, ALICE);
	assert_int_equal(host_tcp_remote(w->server.s).port, host_tcp_local(w->client.s).port);
	assert_in_range(host_tcp_local(w->client.s).port, HOST_EPHEMERAL_LO, HOST_EPHEMERAL_HI);
	/* alice: CLOSED -> SYN-SENT by the application, with the SYN's id. */
	r = socket_record(w->lan.log, "alice", 0);
	assert_non_null(r);
	assert_int_equal(r->old_state, TCP_CLOSED);
	assert_int_equal(r->new_state, TCP_SYN_SENT);
	assert_int_equal(r->cause, TCP_CAUSE_APP);
	assert_non_null(test_hop_of(w->lan.log, r->packet_id, TRACE_HOP_SEND));
	r = socket_record(w->lan.log, "alice", 1);
	assert_int_equal(r->new_state, TCP_ESTABLISHED);
	assert_int_equal(r->cause, TCP_CAUSE_SEGMENT);
	/* bob: the listener, then its child LISTEN -> SYN-RECEIVED -> ESTABLISHED. */
	assert_int_equal(socket_record(w->lan.log, "bob", 0)->new_state, TCP_LISTEN);
	assert_int_equal(socket_record(w->lan.log, "bob", 1)->new_state, TCP_SYN_RECEIVED);
	assert_int_equal(socket_record(w->lan.log, "bob", 2)->new_state, TCP_ESTABLISHED);
}

/* Send `len` patterned bytes from `from` while running the world; the
 * send buffer takes what fits each round. */
static void pump(struct world *w, struct app *from, size_t len, uint32_t salt)
{
	uint8_t *data = malloc(len);
	size_t sent = 0;

	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)((i * 31 + salt) ^ (i >> 9));
	for (int rounds = 0; sent < len && rounds < 100000; rounds++) {
		sent += host_tcp_send(from->s, data + sent, len - sent);
		test_run_ms(w->lan.net, 5);
	}
	assert_int_equal(sent, len);
	test_run_ms(w->lan.net, 30000);
	free(data);
}

static void assert_pattern(const struct app *a, size_t len, uint32_t salt)
{
	assert_int_equal(a->got_len, len);
	for (size_t i = 0; i < len; i++)
		if (a->got[i] != (uint8_t)((i * 31 + salt) ^ (i >> 9)))
			fail_msg("byte %zu differs", i);
}

static void test_data_both_ways(void **state)
{
	struct world *w = *state;

	open_pair(w);
	pump(w, &w->client, 1 << 20, 1);
	pump(w, &w->server, 100000, 2);
	assert_pattern(&w->server, 1 << 20, 1);
	assert_pattern(&w->client, 100000, 2);
}

/* alice closes first: FIN-WAIT-1, FIN-WAIT-2, and TIME-WAIT for 60 s; bob
 * hears PEER_CLOSED, closes, LAST-ACK, CLOSED. */
static void test_close_from_client(void **state)
{
	struct world *w = *state;
	int64_t tw;

	open_pair(w);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->server.peer_closed, 1);
	assert_int_equal(host_tcp_state(w->server.s), TCP_CLOSE_WAIT);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	tw = time_of_state(w->lan.log, "alice", TCP_TIME_WAIT);
	assert_true(tw > 0);
	assert_true(time_of_state(w->lan.log, "alice", TCP_FIN_WAIT_2) > 0);
	assert_true(time_of_state(w->lan.log, "bob", TCP_LAST_ACK) > 0);
	assert_true(time_of_state(w->lan.log, "bob", TCP_CLOSED) > 0);
	test_run_ms(w->lan.net, 61000);
	/* TIME-WAIT -> CLOSED exactly TCP_TIMEWAIT_LEN later. */
	assert_int_equal(time_of_state(w->lan.log, "alice", TCP_CLOSED) - tw, SIM_S(60));
	assert_int_equal(socket_record(w->lan.log, "alice", 5)->cause, TCP_CAUSE_TIME_WAIT);
}

/* bob closes first: bob goes through TIME-WAIT; alice hears PEER_CLOSED. */
static void test_close_from_server(void **state)
{
	struct world *w = *state;

	open_pair(w);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->client.peer_closed, 1);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_true(time_of_state(w->lan.log, "bob", TCP_TIME_WAIT) > 0);
	assert_true(time_of_state(w->lan.log, "alice", TCP_LAST_ACK) > 0);
	assert_int_equal(time_of_state(w->lan.log, "alice", TCP_TIME_WAIT), -1);
}

/* Both close at once: the FINs cross, both go FIN-WAIT-1 -> CLOSING ->
 * TIME-WAIT (RFC 9293 figure 13). */
static void test_simultaneous_close(void **state)
{
	struct world *w = *state;

	open_pair(w);
	host_tcp_close(w->client.s);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	assert_true(time_of_state(w->lan.log, "alice", TCP_CLOSING) > 0);
	assert_true(time_of_state(w->lan.log, "bob", TCP_CLOSING) > 0);
	assert_true(time_of_state(w->lan.log, "alice", TCP_TIME_WAIT) > 0);
	assert_true(time_of_state(w->lan.log, "bob", TCP_TIME_WAIT) > 0);
	assert_int_equal(w->client.peer_closed + w->server.peer_closed, 0); /* closed: not told */
}

/* TIME-WAIT holds the four-tuple for 60 s: a connect from the same port to
 * the same peer is refused until then, even with reuse. */
static void test_time_wait_holds_tuple(void **state)
{
	struct world *w = *state;
	struct endpoint local = {ALICE, 40000}, to = {BOB, 80};
	struct app again = {0};

	w->listener = host_tcp_listen(w->lan.bob, 0, 80, true, on_accept, w);
	w->client.s = host_tcp_connect(w->lan.alice, &local, &to, true, on_event, &w->client);
	test_run_ms(w->lan.net, 10);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	assert_null(host_tcp_connect(w->lan.alice, &local, &to, true, on_event, &again));
	test_run_ms(w->lan.net, 60000);
	again.s = host_tcp_connect(w->lan.alice, &local, &to, true, on_event, &again);
	assert_non_null(again.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(again.connected, 1);
	assert_int_equal(w->accepted, 2);
}

/* Path facts of a drop record (the log keeps a copy). */
static const struct node_path_facts *path_facts(const struct trace_packet *drop)
{
	assert_non_null(drop);
	assert_int_equal(drop->verdict.kind, NODE_VERDICT_PATH);
	return drop->verdict.facts;
}

/* The sequence number of segment `id` as sent. */
static uint32_t syn_seq(const struct trace_log *log, uint64_t id)
{
	const struct trace_packet *p = test_hop_of(log, id, TRACE_HOP_SEND);
	struct packet_info info;

	assert_non_null(p);
	assert_int_equal(packet_parse(p->bytes, p->len, &info, NULL, 0), PACKET_OK);
	return info.tcp_seq;
}

/* Nobody listens on bob:81: bob answers the SYN with <SEQ=0><ACK=ISS+1>
 * <CTL=RST,ACK> (RFC 9293 3.10.7.1), its drop names the RST, and alice's
 * connect fails with ECONNREFUSED. */
static void test_rst_for_no_listener(void **state)
{
	struct world *w = *state;
	struct endpoint to = {BOB, 81};
	const struct node_path_facts *f;
	const struct trace_packet *rst;
	struct packet_info info;
	uint64_t syn_id;

	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	syn_id = socket_record(w->lan.log, "alice", 0)->packet_id;
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->client.closed, 1);
	assert_int_equal(w->client.error, ECONNREFUSED);
	assert_int_equal(host_tcp_state(w->client.s), TCP_CLOSED);
	assert_int_equal(socket_record(w->lan.log, "alice", 1)->cause, TCP_CAUSE_RST);
	f = path_facts(test_drop_of(w->lan.log, syn_id));
	assert_int_equal(f->cause, NODE_PATH_NO_SOCKET);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	rst = test_hop_of(w->lan.log, f->answer.packet_id, TRACE_HOP_DELIVER);
	assert_non_null(rst);
	assert_int_equal(packet_parse(rst->bytes, rst->len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(info.tcp_seq, 0);
	assert_int_equal(info.tcp_ack, syn_seq(w->lan.log, syn_id) + 1);
	host_tcp_close(w->client.s); /* a dead handle is the application's to free */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_for_no_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_server, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_wait_holds_tuple, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
