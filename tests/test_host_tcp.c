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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/host.h"
#include "model/nat.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "tests/support_net.h"

#define ALICE TEST_ALICE
#define BOB TEST_BOB

/* What one end of a connection saw. */
struct app {
	struct host_tcp *s;
	size_t connected, peer_closed, closed;
	size_t simultaneous; /* CONNECTED events that said the SYNs crossed */
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
	if (ev->kind == HOST_TCP_CONNECTED) {
		a->connected++;
		a->simultaneous += ev->simultaneous;
	}
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
	assert_int_equal(w->client.simultaneous, 0); /* a plain three-way handshake */
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

static bool first_tcp(const struct conntrack_entry *e, void *ctx)
{
	if (e->orig.proto != IPPROTO_NUM_TCP)
		return true;
	*(const struct conntrack_entry **)ctx = e;
	return false;
}

/* bob's conntrack sees a segment before his INPUT rules (nf_conntrack_in in
 * PREROUTING): alice's FIN, which a rule drops, still moves the flow to
 * FIN_WAIT, while bob's socket never hears of it. */
static void test_dropped_fin_moves_conntrack(void **state)
{
	struct world *w = *state;
	struct fw_rule fin = {.chain = FW_CHAIN_INPUT,
			      .proto = IPPROTO_NUM_TCP,
			      .tcp_flags_mask = TCP_FIN,
			      .tcp_flags_match = TCP_FIN,
			      .action = FW_DROP};
	const struct conntrack_entry *e = NULL;

	/* Only the FIN rule: INPUT accepts the rest. */
	host_enable_firewall(w->lan.bob, true);
	firewall_clear(host_firewall(w->lan.bob));
	firewall_set_policy(host_firewall(w->lan.bob), FW_CHAIN_INPUT, FW_ACCEPT);
	assert_true(firewall_append(host_firewall(w->lan.bob), &fin) >= 0);
	open_pair(w);
	conntrack_foreach(host_conntrack(w->lan.bob), first_tcp, &e);
	assert_non_null(e);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->server.peer_closed, 0);
	e = NULL;
	conntrack_foreach(host_conntrack(w->lan.bob), first_tcp, &e);
	assert_non_null(e);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_FIN_WAIT);
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

/* The times (ms) at which `node` sent a segment with exactly `flags`. */
static size_t send_times(const struct trace_log *log, const char *node, uint8_t flags, int64_t *ms,
			 size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < trace_log_count(log) && n < max; k++) {
		const struct trace_record *r = trace_log_get(log, k);
		struct packet_info info;

		if (r->kind != TRACE_PACKET || r->u.packet.hop != TRACE_HOP_SEND ||
		    strcmp(r->u.packet.node, node) != 0 ||
		    packet_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0) != PACKET_OK)
			continue;
		if (info.proto == IPPROTO_NUM_TCP && info.tcp_flags == flags)
			ms[n++] = r->time / SIM_MS(1);
	}
	return n;
}

/* A SYN nobody answers: sent at 0, then again 1, 2, 4, 8, 16, 32 s apart
 * (TCP_TIMEOUT_INIT doubling), and connect() fails with ETIMEDOUT at
 * 127 s, as Linux's tcp_syn_retries = 6 gives. */
static void expect_syn_timeout(struct world *w)
{
	static const int64_t want[] = {0, 1000, 3000, 7000, 15000, 31000, 63000};
	struct endpoint to = {BOB, 80};
	int64_t ms[16];

	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	test_run_ms(w->lan.net, 126999);
	assert_int_equal(w->client.closed, 0);
	test_run_ms(w->lan.net, 2);
	assert_int_equal(w->client.closed, 1);
	assert_int_equal(w->client.error, ETIMEDOUT);
	assert_int_equal(time_of_state(w->lan.log, "alice", TCP_CLOSED), SIM_S(127));
	assert_int_equal(socket_record(w->lan.log, "alice", 1)->cause, TCP_CAUSE_RETRIES);
	assert_int_equal(send_times(w->lan.log, "alice", TCP_SYN, ms, 16), 7);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(ms[i], want[i]);
	host_tcp_close(w->client.s);
}

static void test_syn_timeout_link_down(void **state)
{
	struct world *w = *state;

	w->listener = host_tcp_listen(w->lan.bob, 0, 80, false, on_accept, w);
	assert_int_equal(
	    link_attachment_set_up(host_iface(w->lan.bob)->link, host_iface(w->lan.bob), false), 0);
	expect_syn_timeout(w);
}

/* bob's stateful firewall drops the new inbound flow, SYN after SYN. */
static void test_syn_timeout_firewall(void **state)
{
	struct world *w = *state;

	w->listener = host_tcp_listen(w->lan.bob, 0, 80, false, on_accept, w);
	host_enable_firewall(w->lan.bob, true);
	expect_syn_timeout(w);
	assert_int_equal(test_last_drop(w->lan.log)->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(w->accepted, 0);
}

/* bob REJECTs port 80 with `with`; alice's connect ends at the error. */
static void expect_icmp_abort(struct world *w, enum fw_reject_with with, int error)
{
	struct fw_rule reject = {.chain = FW_CHAIN_INPUT,
				 .proto = IPPROTO_NUM_TCP,
				 .dport_lo = 80,
				 .dport_hi = 80,
				 .action = FW_REJECT,
				 .reject_with = with};
	struct endpoint to = {BOB, 80};

	host_enable_firewall(w->lan.bob, true);
	assert_true(firewall_append(host_firewall(w->lan.bob), &reject) >= 0);
	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->client.closed, 1);
	assert_int_equal(w->client.error, error);
	assert_int_equal(socket_record(w->lan.log, "alice", 1)->cause, TCP_CAUSE_ICMP);
	assert_int_equal(time_of_state(w->lan.log, "alice", TCP_CLOSED), SIM_MS(2));
	host_tcp_close(w->client.s);
}

/* tcp_v4_err in SYN_SENT: port unreachable (hard) is ECONNREFUSED at once. */
static void test_icmp_port_unreachable_refuses(void **state)
{
	expect_icmp_abort(*state, FW_REJECT_PORT_UNREACHABLE, ECONNREFUSED);
}

/* ... and so is host unreachable, a soft error (RFC 1122 4.2.3.9 would
 * retry; Linux ends the handshake on any error it reads). */
static void test_icmp_host_unreachable_aborts(void **state)
{
	expect_icmp_abort(*state, FW_REJECT_HOST_UNREACHABLE, EHOSTUNREACH);
}

/* SO_LINGER 0: alice's abort sends an RST; bob's connection is reset. */
static void test_abort_resets_peer(void **state)
{
	struct world *w = *state;

	open_pair(w);
	host_tcp_abort(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->server.closed, 1);
	assert_int_equal(w->server.error, ECONNRESET);
	assert_int_equal(socket_record(w->lan.log, "bob", 3)->cause, TCP_CAUSE_RST);
	assert_int_equal(w->client.closed, 0); /* aborted: the application hears no more */
	host_tcp_close(w->server.s);
}

/* Two hosts connect to each other at once, each from the port the other
 * aims at (TCP hole punching): the SYNs cross, both go SYN-SENT ->
 * SYN-RECEIVED -> ESTABLISHED (RFC 9293 figure 8) and neither listens. */
static void test_simultaneous_open(void **state)
{
	struct world *w = *state;
	struct endpoint a = {ALICE, 5000}, b = {BOB, 6000};

	w->client.s = host_tcp_connect(w->lan.alice, &a, &b, true, on_event, &w->client);
	w->server.s = host_tcp_connect(w->lan.bob, &b, &a, true, on_event, &w->server);
	assert_non_null(w->client.s);
	assert_non_null(w->server.s);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(w->client.connected, 1);
	assert_int_equal(w->server.connected, 1);
	assert_int_equal(w->client.simultaneous, 1);
	assert_int_equal(w->server.simultaneous, 1);
	assert_int_equal(socket_record(w->lan.log, "alice", 1)->new_state, TCP_SYN_RECEIVED);
	assert_int_equal(socket_record(w->lan.log, "bob", 1)->new_state, TCP_SYN_RECEIVED);
	pump(w, &w->client, 5000, 3);
	assert_pattern(&w->server, 5000, 3);
}

/* 2% of packets lost each way: timeouts resend, the bytes arrive equal. */
static void test_transfer_survives_loss(void **state)
{
	struct world *w = *state;
	struct link *lan = host_iface(w->lan.alice)->link;
	struct link_config cfg = *link_get_config(lan);

	open_pair(w);
	cfg.loss = 0.02;
	link_set_config(lan, &cfg);
	pump(w, &w->client, 300000, 4);
	assert_pattern(&w->server, 300000, 4);
	assert_non_null(test_last_drop(w->lan.log));
	assert_int_equal(test_last_drop(w->lan.log)->reason, TRACE_DROP_LINK_LOSS);
}

/* A whole story (handshake, data, close, TIME-WAIT) twice with one seed:
 * the same records, byte for byte. */
static uint64_t story_hash(uint64_t seed)
{
	struct world *w = calloc(1, sizeof(*w));
	uint64_t hash;

	assert_non_null(w);
	assert_int_equal(test_lan_open(&w->lan, seed), 0);
	open_pair(w);
	pump(w, &w->client, 20000, 5);
	host_tcp_close(w->client.s);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 70000);
	hash = trace_log_hash(w->lan.log);
	test_net_close(w->lan.net, w->lan.log);
	free(w->server.got);
	free(w);
	return hash;
}

static void test_same_seed_same_trace(void **state)
{
	(void)state;
	assert_int_equal(story_hash(11), story_hash(11));
	assert_int_not_equal(story_hash(11), story_hash(12)); /* the ISNs differ */
}

/* alice's stateful firewall admits the replies of her own connection
 * (conntrack follows it with conntrack_seen_tcp: ESTABLISHED, [ASSURED])
 * and the close; bob's listener is reached. */
static void test_own_firewall_admits_replies(void **state)
{
	struct world *w = *state;

	host_enable_firewall(w->lan.alice, true);
	open_pair(w);
	assert_int_equal(w->client.connected, 1);
	pump(w, &w->client, 50000, 6);
	pump(w, &w->server, 50000, 7);
	assert_pattern(&w->server, 50000, 6);
	assert_pattern(&w->client, 50000, 7);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_true(time_of_state(w->lan.log, "bob", TCP_TIME_WAIT) > 0);
	assert_true(time_of_state(w->lan.log, "alice", TCP_CLOSED) > 0);
	assert_int_equal(conntrack_count(host_conntrack(w->lan.alice)), 1);
	assert_null(test_last_drop(w->lan.log));
}

/* A NAT world: alice 192.168.1.5 behind router "home" (public 203.0.113.7,
 * endpoint-independent mapping, address-and-port-dependent filtering) and
 * bob 203.0.113.80 on its outside. Replaces the LAN's hosts. */
#define NAT_PUB IP4(203, 0, 113, 7)
#define NAT_BOB IP4(203, 0, 113, 80)
static void nat_world(struct world *w)
{
	struct router *home = router_new(w->lan.net, "home");
	struct nat_config cfg;
	struct iface *in, *out;

	assert_non_null(home);
	in = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);
	out = router_add_iface(home, "wan", NAT_PUB, 24);
	w->lan.alice = host_new(w->lan.net, "c", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	w->lan.bob = host_new(w->lan.net, "s", NAT_BOB, 24, NAT_PUB);
	test_wire(w->lan.net, "lan2", host_iface(w->lan.alice), in);
	test_wire(w->lan.net, "wan", out, host_iface(w->lan.bob));
	nat_config_default(&cfg);
	cfg.mapping = NAT_ENDPOINT_INDEPENDENT;
	cfg.filtering = NAT_ADDRESS_AND_PORT_DEPENDENT;
	assert_non_null(router_enable_nat(home, out, &cfg));
}

/* Through the NAT: the server sees the public address, the bytes cross
 * both ways, and the close completes on both sides. */
static void test_through_nat(void **state)
{
	struct world *w = *state;
	struct endpoint to = {NAT_BOB, 80};

	nat_world(w);
	w->listener = host_tcp_listen(w->lan.bob, 0, 80, false, on_accept, w);
	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	test_run_ms(w->lan.net, 20);
	assert_int_equal(w->client.connected, 1);
	assert_int_equal(host_tcp_remote(w->server.s).ip, NAT_PUB);
	pump(w, &w->client, 200000, 8);
	pump(w, &w->server, 200000, 9);
	assert_pattern(&w->server, 200000, 8);
	assert_pattern(&w->client, 200000, 9);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 20);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 20);
	assert_true(time_of_state(w->lan.log, "c", TCP_TIME_WAIT) > 0);
	assert_true(time_of_state(w->lan.log, "s", TCP_CLOSED) > 0);
}

/* A home router for `h` (inside 192.168.<n>.0/24, public `pub`) on `wan`. */
static struct host *behind_nat(struct world *w, const char *name, int n, uint32_t pub,
			       struct link *wan)
{
	char rname[16];
	struct router *r;
	struct nat_config cfg;
	struct host *h;
	struct iface *in, *out;

	snprintf(rname, sizeof(rname), "nat-%s", name);
	r = router_new(w->lan.net, rname);
	assert_non_null(r);
	in = router_add_iface(r, "lan", IP4(192, 168, n, 1), 24);
	out = router_add_iface(r, "wan", pub, 24);
	h = host_new(w->lan.net, name, IP4(192, 168, n, 5), 24, IP4(192, 168, n, 1));
	snprintf(rname, sizeof(rname), "lan-%s", name);
	test_wire(w->lan.net, rname, host_iface(h), in);
	assert_int_equal(link_attach(wan, out), 0);
	nat_config_default(&cfg);
	cfg.mapping = NAT_ENDPOINT_INDEPENDENT;
	cfg.filtering = NAT_ADDRESS_AND_PORT_DEPENDENT;
	assert_non_null(router_enable_nat(r, out, &cfg));
	return h;
}

/* TCP hole punching: two hosts behind port-preserving NATs connect to each
 * other's public endpoint at once. Each NAT lets the peer's SYN in because
 * its own host's SYN to that endpoint went out first; the SYNs meet hosts
 * in SYN-SENT: simultaneous open, both CONNECTED. */
static void test_hole_punch_simultaneous_open(void **state)
{
	struct world *w = *state;
	struct link_config lc;
	struct link *wan;
	struct host *a, *b;
	struct endpoint a_in = {IP4(192, 168, 1, 5), 5000}, b_in = {IP4(192, 168, 2, 5), 6000};
	struct endpoint a_pub = {IP4(198, 51, 100, 1), 5000}, b_pub = {IP4(198, 51, 100, 2), 6000};

	link_config_default(&lc);
	lc.latency = SIM_MS(10);
	wan = link_new(w->lan.net, "internet", &lc);
	a = behind_nat(w, "a", 1, a_pub.ip, wan);
	b = behind_nat(w, "b", 2, b_pub.ip, wan);
	w->client.s = host_tcp_connect(a, &a_in, &b_pub, true, on_event, &w->client);
	w->server.s = host_tcp_connect(b, &b_in, &a_pub, true, on_event, &w->server);
	test_run_ms(w->lan.net, 100);
	assert_int_equal(w->client.connected, 1);
	assert_int_equal(w->server.connected, 1);
	assert_true(time_of_state(w->lan.log, "a", TCP_SYN_RECEIVED) > 0);
	pump(w, &w->server, 3000, 10);
	assert_pattern(&w->client, 3000, 10);
}

/* The sequence number of bob's i-th SYN+ACK. */
static uint32_t synack_seq(const struct trace_log *log, size_t i)
{
	for (size_t k = 0; k < trace_log_count(log); k++) {
		const struct trace_record *r = trace_log_get(log, k);
		struct packet_info info;

		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
		    strcmp(r->u.packet.node, "bob") == 0 &&
		    packet_parse(r->u.packet.bytes, r->u.packet.len, &info, NULL, 0) == PACKET_OK &&
		    info.proto == IPPROTO_NUM_TCP && info.tcp_flags == (TCP_SYN | TCP_ACK) &&
		    i-- == 0)
			return info.tcp_seq;
	}
	fail_msg("no SYN+ACK %zu", i);
	return 0;
}

/* The server closed first and holds the tuple in TIME-WAIT; the client
 * connects again from the same port at once. Its SYN is newer (RFC 6528's
 * clock in the ISN, a later timestamp), so the TIME-WAIT connection gives
 * way and the listener takes it, the new ISN being the old SND.NXT + 65537
 * (tcp_timewait_state_process, TCP_TW_SYN). */
static void test_syn_reuses_time_wait(void **state)
{
	struct world *w = *state;
	struct endpoint local = {ALICE, 40000}, to = {BOB, 80};
	const struct trace_socket *r;
	struct app again = {0};
	uint32_t old_snd_nxt;
	int64_t ms[4];

	w->listener = host_tcp_listen(w->lan.bob, 0, 80, true, on_accept, w);
	w->client.s = host_tcp_connect(w->lan.alice, &local, &to, true, on_event, &w->client);
	test_run_ms(w->lan.net, 10);
	host_tcp_close(w->server.s);
	test_run_ms(w->lan.net, 10);
	host_tcp_close(w->client.s);
	test_run_ms(w->lan.net, 10);
	assert_true(time_of_state(w->lan.log, "bob", TCP_TIME_WAIT) > 0);
	old_snd_nxt = syn_seq(w->lan.log, socket_record(w->lan.log, "bob", 3)->packet_id) + 1;
	again.s = host_tcp_connect(w->lan.alice, &local, &to, true, on_event, &again);
	test_run_ms(w->lan.net, 10);
	assert_int_equal(again.connected, 1);
	assert_int_equal(w->accepted, 2);
	r = socket_record(w->lan.log, "bob", 6); /* TIME-WAIT -> CLOSED by the SYN */
	assert_int_equal(r->old_state, TCP_TIME_WAIT);
	assert_int_equal(r->cause, TCP_CAUSE_SEGMENT);
	assert_int_equal(send_times(w->lan.log, "bob", TCP_SYN | TCP_ACK, ms, 4), 2);
	assert_int_equal(synack_seq(w->lan.log, 1), old_snd_nxt + 65537);
}

/* No route to the destination (off-link, no gateway): Linux's connect
 * fails before any SYN with ENETUNREACH, told as the handle's CLOSED. */
static void test_no_route_fails_at_once(void **state)
{
	struct world *w = *state;
	struct endpoint to = {IP4(192, 0, 2, 1), 80};
	int64_t ms[2];

	w->client.s = host_tcp_connect(w->lan.alice, NULL, &to, false, on_event, &w->client);
	assert_non_null(w->client.s);
	assert_int_equal(w->client.closed, 0); /* never inside the call */
	test_run_ms(w->lan.net, 1);
	assert_int_equal(w->client.closed, 1);
	assert_int_equal(w->client.error, ENETUNREACH);
	assert_int_equal(socket_record(w->lan.log, "alice", 0)->error, ENETUNREACH);
	assert_int_equal(send_times(w->lan.log, "alice", TCP_SYN, ms, 2), 0);
	host_tcp_close(w->client.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_data_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rst_for_no_listener, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_route_fails_at_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_timeout_link_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_timeout_firewall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_port_unreachable_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_host_unreachable_aborts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_abort_resets_peer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_transfer_survives_loss, setup, teardown),
	    cmocka_unit_test(test_same_seed_same_trace),
	    cmocka_unit_test_setup_teardown(test_through_nat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hole_punch_simultaneous_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_firewall_admits_replies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_fin_moves_conntrack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_from_server, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_simultaneous_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_wait_holds_tuple, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_syn_reuses_time_wait, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
