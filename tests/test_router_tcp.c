/*
 * test_router_tcp.c - TCP segments through a NAT router: translated both
 * ways by mapping (RFC 5382 REQ-1) and filtering, tracked by conntrack's TCP
 * state machine, the mapping kept by its connection (Linux: the entry is the
 * binding; RFC 5382 REQ-5 idle timeouts when set), port forwards for TCP, a
 * SYN reopening a closed flow, INVALID segments passing untranslated as
 * Linux's NAT leaves them, and the router's own stack answering with an RST.
 *
 * World: c 192.168.1.5 -- lan -- [home] 203.0.113.7 -- wan -- s1 203.0.113.80,
 * s2 203.0.113.90. The hosts drop everything they receive at INPUT (a
 * firewall with policy drop and no rule): they are sinks whose drop record
 * shows each segment as it arrived, and no host stack answers for them. The
 * segments are raw (packet_build_tcp), sent with host_send_raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/conntrack.h"
#include "model/firewall.h"
#include "model/host.h"
#include "model/nat.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "tests/support_net.h"

#define C_IP IP4(192, 168, 1, 5)
#define GW_IN IP4(192, 168, 1, 1)
#define PUB IP4(203, 0, 113, 7)
#define S1_IP IP4(203, 0, 113, 80)
#define S2_IP IP4(203, 0, 113, 90)

static const struct endpoint C = {C_IP, 40000};
static const struct endpoint S1 = {S1_IP, 80};
static const struct endpoint S1B = {S1_IP, 81}; /* s1's address, another port */
static const struct endpoint S2 = {S2_IP, 80};
static const struct endpoint EXT = {PUB, 40000}; /* C's mapping, port preserved */

struct world {
	struct net *net;
	struct trace_log *log;
	struct router *home;
	struct nat *nat;
	struct host *c, *s1, *s2;
};

/* A host that drops whatever reaches it: its drop record is the arrival
 * (unless `real`: then its stack answers). */
static bool real_hosts;
static struct host *sink(struct world *w, const char *name, uint32_t ip, uint8_t len, uint32_t gw)
{
	struct host *h = host_new(w->net, name, ip, len, gw);

	assert_non_null(h);
	if (real_hosts)
		return h;
	host_enable_firewall(h, true);
	firewall_clear(host_firewall(h));
	firewall_set_policy(host_firewall(h), FW_CHAIN_INPUT, FW_DROP);
	return h;
}

static struct world *world_new(const struct nat_config *cfg)
{
	struct world *w = calloc(1, sizeof(*w));
	struct link_config lc;

	assert_non_null(w);
	assert_int_equal(test_net_open(&w->net, &w->log, 5), 0);
	explain_attach(net_trace(w->net));
	w->home = router_new(w->net, "home");
	assert_non_null(w->home);
	struct iface *in = router_add_iface(w->home, "lan", GW_IN, 24);
	struct iface *out = router_add_iface(w->home, "wan", PUB, 24);
	w->c = sink(w, "c", C_IP, 24, GW_IN);
	w->s1 = sink(w, "s1", S1_IP, 24, PUB);
	w->s2 = sink(w, "s2", S2_IP, 24, PUB);
	test_wire(w->net, "lan", host_iface(w->c), in);
	link_config_default(&lc);
	lc.latency = SIM_MS(1);
	struct link *wan = link_new(w->net, "wan", &lc);
	assert_non_null(wan);
	assert_int_equal(link_attach(wan, out), 0);
	assert_int_equal(link_attach(wan, host_iface(w->s1)), 0);
	assert_int_equal(link_attach(wan, host_iface(w->s2)), 0);
	w->nat = router_enable_nat(w->home, out, cfg);
	assert_non_null(w->nat);
	return w;
}

static struct nat_config config(enum nat_behaviour m, enum nat_behaviour f)
{
	struct nat_config cfg;

	nat_config_default(&cfg);
	cfg.mapping = m;
	cfg.filtering = f;
	return cfg;
}

static struct world *world_default(void)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT);

	return world_new(&cfg);
}

static void world_free(struct world *w)
{
	test_net_close(w->net, w->log);
	free(w);
}

/* A segment from `h` (src -> dst), run 20 ms. Returns its packet id. */
static uint64_t seg(struct world *w, struct host *h, const struct endpoint *src,
		    const struct endpoint *dst, uint8_t flags, uint32_t seq, uint32_t ack)
{
	uint8_t buf[128];
	struct tcp_segment s = {.flags = flags, .seq = seq, .ack = ack, .window = 64240};
	size_t len = packet_build_tcp(buf, sizeof(buf), src, dst, 64, 1, &s);
	uint64_t id;

	assert_true(len > 0);
	id = host_send_raw(h, buf, len);
	assert_int_not_equal(id, 0);
	test_run_ms(w->net, 20);
	return id;
}

/* Where packet `id` ended: its drop record (parsed into *info), or NULL. */
static const struct trace_packet *ended(struct world *w, uint64_t id, struct packet_info *info)
{
	const struct trace_packet *d = test_drop_of(w->log, id);

	if (d != NULL && info != NULL)
		assert_int_equal(packet_parse(d->bytes, d->len, info, NULL, 0), PACKET_OK);
	return d;
}

/* Packet `id` reached host `node` (its sink dropped it there) from `src` to
 * `dst`, checksums right (the strict parser sums them). */
static void arrived(struct world *w, uint64_t id, const char *node, const struct endpoint *src,
		    const struct endpoint *dst)
{
	struct packet_info pi;
	const struct trace_packet *d = ended(w, id, &pi);

	assert_non_null(d);
	assert_string_equal(d->node, node);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_int_equal(pi.src, src->ip);
	assert_int_equal(pi.sport, src->port);
	assert_int_equal(pi.dst, dst->ip);
	assert_int_equal(pi.dport, dst->port);
}

/* The NAT's drop of packet `id` at home, with its decision. */
static const struct nat_facts *nat_dropped(struct world *w, uint64_t id, enum nat_decision dec)
{
	const struct trace_packet *d = ended(w, id, NULL);

	assert_non_null(d);
	assert_string_equal(d->node, "home");
	assert_int_equal(d->verdict.kind, NODE_VERDICT_NAT);
	const struct nat_facts *f = d->verdict.facts;
	assert_int_equal(f->result.decision, dec);
	return f;
}

static bool first_tcp(const struct conntrack_entry *e, void *ctx)
{
	if (e->orig.proto != IPPROTO_NUM_TCP)
		return true;
	*(const struct conntrack_entry **)ctx = e;
	return false;
}

/* home's first TCP entry, or NULL. */
static const struct conntrack_entry *entry(struct world *w)
{
	const struct conntrack_entry *e = NULL;

	conntrack_foreach(router_conntrack(w->home), first_tcp, &e);
	return e;
}

static void handshake(struct world *w)
{
	arrived(w, seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0), "s1", &EXT, &S1);
	arrived(w, seg(w, w->s1, &S1, &EXT, TCP_SYN | TCP_ACK, 5000, 1001), "c", &S1, &C);
	arrived(w, seg(w, w->c, &C, &S1, TCP_ACK, 1001, 5001), "s1", &EXT, &S1);
}

/* RFC 5382 REQ-1 through a port-restricted cone: the SYN leaves from the
 * preserved port, the SYN/ACK finds its way back, and conntrack moves
 * SYN_SENT -> SYN_RECV -> ESTABLISHED [ASSURED] with Linux's timeouts. */
static void test_handshake_translated_and_tracked(void **state)
{
	struct world *w = world_default();
	const struct conntrack_entry *e;

	(void)state;
	arrived(w, seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0), "s1", &EXT, &S1);
	e = entry(w);
	assert_non_null(e);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_SYN_SENT);
	assert_int_equal(e->reply.dst, PUB);
	assert_int_equal(e->reply.dport, 40000);
	arrived(w, seg(w, w->s1, &S1, &EXT, TCP_SYN | TCP_ACK, 5000, 1001), "c", &S1, &C);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_SYN_RECV);
	arrived(w, seg(w, w->c, &C, &S1, TCP_ACK, 1001, 5001), "s1", &EXT, &S1);
	e = entry(w);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	assert_true(e->assured);
	/* Seen 1 ms after it was sent, 20 ms ago. */
	assert_int_equal(e->expires_at - engine_now(net_engine(w->net)) + SIM_MS(19),
			 SIM_S(5 * 24 * 3600));
	assert_int_equal(nat_mapping_count(w->nat), 1);
	world_free(w);
}

static const struct nat_mapping *the_mapping(struct world *w)
{
	return nat_mapping_by_external(w->nat, IPPROTO_NUM_TCP, &EXT);
}

/* A TCP mapping has no timer of its own: it goes with its last connection.
 * After an RST the entry is CLOSE for 10 s (Linux), and then both are gone. */
static void test_mapping_goes_with_its_connection(void **state)
{
	struct world *w = world_default();

	(void)state;
	handshake(w);
	assert_non_null(the_mapping(w));
	assert_int_equal(the_mapping(w)->expires_at, SIM_TIME_NEVER);
	test_run_ms(w->net, 3600 * 1000); /* an hour idle: ESTABLISHED keeps it */
	assert_non_null(the_mapping(w));
	seg(w, w->c, &C, &S1, TCP_RST | TCP_ACK, 1001, 5001);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_CLOSE);
	test_run_ms(w->net, 9000);
	assert_non_null(the_mapping(w));
	test_run_ms(w->net, 1100);
	assert_null(entry(w));
	assert_null(the_mapping(w));
	assert_int_equal(nat_mapping_count(w->nat), 0);
	world_free(w);
}

/* An RST answering the SYN is translated in, then kills the entry
 * (nf_conntrack_tcp_packet: "only reply is a RST"), and the mapping with
 * it at once. */
static void test_rst_before_reply_kills_entry_and_mapping(void **state)
{
	struct world *w = world_default();

	(void)state;
	seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0);
	arrived(w, seg(w, w->s1, &S1, &EXT, TCP_RST | TCP_ACK, 0, 1001), "c", &S1, &C);
	assert_null(entry(w));
	assert_int_equal(nat_mapping_count(w->nat), 0);
	world_free(w);
}

/* RFC 5382 REQ-5 timeouts, when set, replace Linux's per-state ones for
 * the connections the NAT translates: 2 h 4 min established, 4 min
 * transitory (the SYN's). */
static void test_rfc5382_idle_timeouts(void **state)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT);
	struct world *w;
	int64_t now;

	(void)state;
	cfg.tcp_established_timeout = SIM_S(7440);
	cfg.tcp_transitory_timeout = SIM_S(240);
	w = world_new(&cfg);
	seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0);
	now = engine_now(net_engine(w->net)) - SIM_MS(20);
	assert_in_range(entry(w)->expires_at - now, SIM_S(240), SIM_S(240) + SIM_MS(20));
	handshake(w);
	now = engine_now(net_engine(w->net)) - SIM_MS(20);
	assert_in_range(entry(w)->expires_at - now, SIM_S(7440), SIM_S(7440) + SIM_MS(20));
	test_run_ms(w->net, 7440 * 1000);
	assert_null(entry(w));
	assert_int_equal(nat_mapping_count(w->nat), 0);
	world_free(w);
}

/* Filtering applies to TCP as to UDP (RFC 5382 REQ-3): through APDF a SYN
 * from another port of s1, or from s2, finds the mapping but is refused. */
static void test_apdf_refuses_other_endpoints(void **state)
{
	struct world *w = world_default();

	(void)state;
	seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0);
	nat_dropped(w, seg(w, w->s1, &S1B, &EXT, TCP_SYN, 7000, 0), NAT_DECISION_FILTERED);
	nat_dropped(w, seg(w, w->s2, &S2, &EXT, TCP_SYN, 7000, 0), NAT_DECISION_FILTERED);
	world_free(w);
}

/* Endpoint-independent filtering lets s2's SYN in through c's mapping
 * (the flow it opens is tracked like any other). */
static void test_eif_admits_anyone(void **state)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT);
	struct world *w = world_new(&cfg);
	struct endpoint c_seen = C;

	(void)state;
	seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0);
	arrived(w, seg(w, w->s2, &S2, &EXT, TCP_SYN, 7000, 0), "c", &S2, &c_seen);
	assert_int_equal(conntrack_count(router_conntrack(w->home)), 2);
	world_free(w);
}

/* Address-and-port-dependent mapping: one external port per destination;
 * endpoint-independent: the same for both (RFC 5382 REQ-1). */
static void test_mapping_behaviour(void **state)
{
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT);
	struct world *w = world_new(&cfg);
	struct packet_info a, b;

	(void)state;
	ended(w, seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0), &a);
	ended(w, seg(w, w->c, &C, &S2, TCP_SYN, 1000, 0), &b);
	assert_int_not_equal(a.sport, b.sport);
	assert_int_equal(nat_mapping_count(w->nat), 2);
	world_free(w);
	w = world_default();
	ended(w, seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0), &a);
	ended(w, seg(w, w->c, &C, &S2, TCP_SYN, 1000, 0), &b);
	assert_int_equal(a.sport, b.sport);
	assert_int_equal(nat_mapping_count(w->nat), 1);
	world_free(w);
}

/* An unsolicited SYN to a port no mapping uses: dropped, nothing sent back
 * (RFC 5382 REQ-4's silence; tcp-unsolicited-syn drop, the default). */
static void test_unsolicited_syn_dropped_silently(void **state)
{
	struct world *w = world_default();
	struct endpoint to = {PUB, 5000};
	const struct nat_facts *f;

	(void)state;
	f = nat_dropped(w, seg(w, w->s1, &S1, &to, TCP_SYN, 7000, 0), NAT_DECISION_NO_MAPPING);
	assert_int_equal(f->result.proto, IPPROTO_NUM_TCP);
	assert_int_equal(conntrack_count(router_conntrack(w->home)), 0);
	world_free(w);
}

/* nat_add_forward with proto 6: a SYN to the forwarded port reaches the
 * server inside, its SYN/ACK leaves from the forwarded port; a UDP forward
 * on the same number is another mapping. */
static void test_tcp_forward(void **state)
{
	struct world *w = world_default();
	struct endpoint srv = {C_IP, 80}, pub = {PUB, 8080};

	(void)state;
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_TCP, 8080, &srv), 0);
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_TCP, 8080, &srv), -1);
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_UDP, 8080, &srv), 0);
	arrived(w, seg(w, w->s1, &S1, &pub, TCP_SYN, 7000, 0), "c", &S1, &srv);
	arrived(w, seg(w, w->c, &srv, &S1, TCP_SYN | TCP_ACK, 9000, 7001), "s1", &pub, &S1);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_SYN_RECV);
	world_free(w);
}

/* A SYN on a closed (TIME_WAIT) flow reopens it: the old entry goes, the
 * segment is tracked anew (SYN_SENT) and translated by a new mapping. */
static void test_syn_reopens_time_wait(void **state)
{
	struct world *w = world_default();
	const struct conntrack_entry *e;
	uint32_t old_id;

	(void)state;
	handshake(w);
	seg(w, w->c, &C, &S1, TCP_FIN | TCP_ACK, 1001, 5001);
	seg(w, w->s1, &S1, &EXT, TCP_FIN | TCP_ACK, 5001, 1002);
	seg(w, w->c, &C, &S1, TCP_ACK, 1002, 5002);
	e = entry(w);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_TIME_WAIT);
	old_id = e->id;
	arrived(w, seg(w, w->c, &C, &S1, TCP_SYN, 90000, 0), "s1", &EXT, &S1);
	e = entry(w);
	assert_non_null(e);
	assert_int_not_equal(e->id, old_id);
	assert_int_equal(e->tcp.state, CONNTRACK_TCP_SYN_SENT);
	assert_non_null(the_mapping(w));
	world_free(w);
}

/* A segment conntrack calls INVALID (SYN+FIN: tcp_error) has no entry, and
 * Linux's NAT translates only packets with one: it leaves with the inside
 * address (the leak a `state invalid drop` rule stops). */
static void test_invalid_leaves_untranslated(void **state)
{
	struct world *w = world_default();

	(void)state;
	arrived(w, seg(w, w->c, &C, &S1, TCP_SYN | TCP_FIN, 1000, 0), "s1", &C, &S1);
	assert_int_equal(nat_mapping_count(w->nat), 0);
	assert_int_equal(conntrack_count(router_conntrack(w->home)), 0);
	world_free(w);
}

/* Coming in, an INVALID segment is not DNATed: it is the router's own, and
 * with input drop it is dropped there (ct-invalid). */
static void test_invalid_inbound_dropped(void **state)
{
	struct world *w = world_default();
	const struct trace_packet *d;

	(void)state;
	handshake(w);
	d = ended(w, seg(w, w->s1, &S1, &EXT, TCP_SYN | TCP_FIN, 5001, 0), NULL);
	assert_non_null(d);
	assert_string_equal(d->node, "home");
	assert_int_equal(d->reason, TRACE_DROP_CT_INVALID);
	assert_non_null(strstr(d->why, "INVALID"));
	assert_non_null(strstr(d->why, "(tcp_error)"));
	world_free(w);
}

/* A stray SYN+ACK from outside, for no connection conntrack tracks: INVALID
 * because tcp_new refuses to start an entry with it ("invalid new"), not
 * because of any window; the why says which. */
static void test_stray_synack_is_invalid_new(void **state)
{
	struct world *w = world_default();
	const struct trace_packet *d;
	const struct node_path_facts *f;

	(void)state;
	d = ended(w, seg(w, w->s1, &S1, &EXT, TCP_SYN | TCP_ACK, 5001, 77), NULL);
	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_CT_INVALID);
	f = d->verdict.facts;
	assert_int_equal(f->invalid, CONNTRACK_INVALID_NEW);
	assert_non_null(strstr(d->why, "a SYN+ACK cannot start one (tcp_new)"));
	assert_null(strstr(d->why, "tcp_in_window"));
	world_free(w);
}

/* With input accept, a SYN no mapping takes reaches the router's own stack,
 * which has no listener: it answers with an RST from the address asked
 * (tcp_v4_send_reset: ACK = SEQ + 1 for the SYN). */
static void test_own_stack_answers_rst(void **state)
{
	struct world *w = world_default();
	struct endpoint to = {PUB, 22};
	struct packet_info rst;
	const struct trace_packet *d;

	(void)state;
	router_set_input(w->home, ROUTER_INPUT_ACCEPT);
	d = ended(w, seg(w, w->s1, &S1, &to, TCP_SYN, 7000, 0), NULL);
	assert_non_null(d);
	assert_int_equal(d->reason, TRACE_DROP_NO_SOCKET);
	const struct node_path_facts *f = d->verdict.facts;
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	assert_non_null(strstr(d->why, "answered with a TCP RST"));
	arrived(w, f->answer.packet_id, "s1", &to, &S1);
	ended(w, f->answer.packet_id, &rst);
	assert_int_equal(rst.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.tcp_ack, 7001);
	/* The RST answered the SYN before any reply: the entry is killed. */
	assert_int_equal(conntrack_count(router_conntrack(w->home)), 0);
	world_free(w);
}

/* Out of window (tcp_in_window: data beyond what s1's window allows) is
 * INVALID too: it leaves untranslated while the connection stays
 * ESTABLISHED and its in-window segments are translated as before. */
static void test_out_of_window_leaks(void **state)
{
	struct world *w = world_default();

	(void)state;
	handshake(w);
	arrived(w, seg(w, w->c, &C, &S1, TCP_ACK, 1001 + 200000, 5001), "s1", &C, &S1);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	arrived(w, seg(w, w->c, &C, &S1, TCP_ACK, 1001, 5001), "s1", &EXT, &S1);
	world_free(w);
}

static struct world *world_unsolicited(enum nat_tcp_unsolicited u)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT);

	cfg.tcp_unsolicited_syn = u;
	return world_new(&cfg);
}

/* tcp-unsolicited-syn drop (the default): the sentence says the NAT stays
 * silent, and nothing is sent. */
static void test_unsolicited_drop_words(void **state)
{
	struct world *w = world_default();
	struct endpoint to = {PUB, 5000};
	const struct trace_packet *d;

	(void)state;
	d = ended(w, seg(w, w->s1, &S1, &to, TCP_SYN, 7000, 0), NULL);
	assert_non_null(strstr(d->why, "home dropped the TCP SYN 203.0.113.80:80"));
	assert_non_null(strstr(d->why, "stays silent"));
	assert_int_equal(((const struct nat_facts *)d->verdict.facts)->answer.kind,
			 ICMP_ANSWER_NONE);
	world_free(w);
}

/* rst: an RST from the address asked, at once, for the SYN no mapping
 * takes (ACK = its SEQ + 1) and for a filtered one. */
static void test_unsolicited_rst(void **state)
{
	struct world *w = world_unsolicited(NAT_TCP_SYN_RST);
	struct endpoint to = {PUB, 5000};
	const struct nat_facts *f;
	struct packet_info rst;

	(void)state;
	uint64_t syn = seg(w, w->s1, &S1, &to, TCP_SYN, 7000, 0);

	f = nat_dropped(w, syn, NAT_DECISION_NO_MAPPING);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	arrived(w, f->answer.packet_id, "s1", &to, &S1);
	ended(w, f->answer.packet_id, &rst);
	assert_int_equal(rst.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.tcp_ack, 7001);
	assert_non_null(strstr(ended(w, syn, NULL)->why, "answered with a TCP RST"));
	seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0);
	f = nat_dropped(w, seg(w, w->s2, &S2, &EXT, TCP_SYN, 7000, 0), NAT_DECISION_FILTERED);
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	arrived(w, f->answer.packet_id, "s2", &EXT, &S2);
	world_free(w);
}

/* icmp: RFC 5382 REQ-4: silent for 6 s, then port unreachable from the
 * address asked, quoting the SYN. */
static void test_unsolicited_icmp_after_6s(void **state)
{
	struct world *w = world_unsolicited(NAT_TCP_SYN_ICMP);
	struct endpoint to = {PUB, 5000};
	const struct trace_packet *d;

	(void)state;
	d = ended(w, seg(w, w->s1, &S1, &to, TCP_SYN, 7000, 0), NULL);
	assert_true(((const struct nat_facts *)d->verdict.facts)->tcp_syn_held);
	assert_non_null(strstr(d->why, "waits 6 s"));
	test_run_ms(w->net, 5900);
	assert_int_equal(test_icmp_sent_by(w->log, "home", ICMP_DEST_UNREACH), 0);
	test_run_ms(w->net, 200);
	assert_int_equal(test_icmp_sent_by(w->log, "home", ICMP_DEST_UNREACH), 1);
	const struct trace_packet *err = test_last_drop(w->log);
	struct packet_info pi;
	assert_string_equal(err->node, "s1");
	assert_int_equal(packet_parse(err->bytes, err->len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.src, PUB);
	assert_int_equal(pi.icmp_code, ICMP_PORT_UNREACH);
	assert_int_equal(pi.inner.proto, IPPROTO_NUM_TCP);
	assert_int_equal(pi.inner.dport, 5000);
	/* A non-SYN segment is not held. */
	d = ended(w, seg(w, w->s1, &S1, &to, TCP_ACK, 7001, 1), NULL);
	assert_false(((const struct nat_facts *)d->verdict.facts)->tcp_syn_held);
	world_free(w);
}

/* icmp, simultaneous open: the inside host's SYN for the same connection
 * goes out within the 6 s, so the held SYN is dropped silently (REQ-4),
 * and the peer's next SYN comes in through the new mapping. */
static void test_unsolicited_icmp_simultaneous_open(void **state)
{
	struct world *w = world_unsolicited(NAT_TCP_SYN_ICMP);

	(void)state;
	nat_dropped(w, seg(w, w->s1, &S1, &EXT, TCP_SYN, 7000, 0), NAT_DECISION_NO_MAPPING);
	test_run_ms(w->net, 2000);
	arrived(w, seg(w, w->c, &C, &S1, TCP_SYN, 1000, 0), "s1", &EXT, &S1);
	test_run_ms(w->net, 5000);
	assert_int_equal(test_icmp_sent_by(w->log, "home", ICMP_DEST_UNREACH), 0);
	arrived(w, seg(w, w->s1, &S1, &EXT, TCP_SYN, 7000, 0), "c", &S1, &C);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_SYN_SENT2);
	world_free(w);
}

/* ---- with the hosts' own TCP stacks ---------------------------------------- */

struct app {
	struct host_tcp *s;
	size_t got, connected, closed;
};

static void app_event(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct app *a = ctx;

	(void)s;
	if (ev->kind == HOST_TCP_CONNECTED)
		a->connected++;
	if (ev->kind == HOST_TCP_DATA)
		a->got += ev->len;
	if (ev->kind == HOST_TCP_CLOSED)
		a->closed++;
}

static void app_accept(struct host_tcp *l, struct host_tcp *c, void *ctx)
{
	struct app *a = ctx;

	(void)l;
	a->s = c;
	a->connected++;
	host_tcp_set_fn(c, app_event, a);
}

/* Every segment s1's stack received came from the NAT's public address:
 * none slipped through untranslated (conntrack never called one INVALID). */
static void none_leaked(struct world *w)
{
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);
		struct packet_info pi;

		if (r->kind != TRACE_PACKET || strcmp(r->u.packet.node, "s1") != 0 ||
		    r->u.packet.hop != TRACE_HOP_DELIVER)
			continue;
		assert_int_equal(packet_parse(r->u.packet.bytes, r->u.packet.len, &pi, NULL, 0),
				 PACKET_OK);
		assert_int_equal(pi.src, PUB);
		assert_int_not_equal(r->u.packet.reason, TRACE_DROP_CT_INVALID);
	}
}

/* A real connection (Linux SYN options: window scale, SACK, timestamps)
 * through the NAT: handshake, 60 kB of data, an orderly close. conntrack's
 * window tracking accepts every segment, the entry ends in TIME_WAIT, and
 * 120 s later the entry and the mapping are gone together. */
static void test_real_connection_through_nat(void **state)
{
	struct world *w;
	struct app server = {0}, client = {0};
	static uint8_t data[60000];

	(void)state;
	real_hosts = true;
	w = world_default();
	real_hosts = false;
	assert_non_null(host_tcp_listen(w->s1, 0, 80, false, app_accept, &server));
	client.s = host_tcp_connect(w->c, &C, &S1, false, app_event, &client);
	assert_non_null(client.s);
	test_run_ms(w->net, 50);
	assert_int_equal(client.connected, 1);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	assert_true(entry(w)->assured);
	assert_int_equal(host_tcp_send(client.s, data, sizeof(data)), sizeof(data));
	test_run_ms(w->net, 2000);
	assert_int_equal(server.got, sizeof(data));
	host_tcp_close(client.s);
	test_run_ms(w->net, 50);
	host_tcp_close(server.s);
	test_run_ms(w->net, 50);
	none_leaked(w);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_TIME_WAIT);
	assert_non_null(the_mapping(w));
	test_run_ms(w->net, 120 * 1000);
	assert_null(entry(w));
	assert_int_equal(nat_mapping_count(w->nat), 0);
	world_free(w);
}

/* ---- FORWARD rules for TCP ------------------------------------------------- */

/* `-m state --state INVALID -j DROP` in FORWARD stops the leak: the drop is
 * ct-invalid, and the sentence says why conntrack called it INVALID. */
static void test_state_invalid_drop(void **state)
{
	struct world *w = world_default();
	struct fw_rule r = {
	    .chain = FW_CHAIN_FORWARD, .states = CONNTRACK_INVALID, .action = FW_DROP};
	const struct trace_packet *d;

	(void)state;
	assert_int_equal(firewall_append(router_firewall(w->home), &r), 0);
	handshake(w);
	d = ended(w, seg(w, w->c, &C, &S1, TCP_ACK, 1001 + 200000, 5001), NULL);
	assert_non_null(d);
	assert_string_equal(d->node, "home");
	assert_int_equal(d->reason, TRACE_DROP_CT_INVALID);
	assert_non_null(strstr(d->why, "outside the window"));
	d = ended(w, seg(w, w->c, &C, &S1, TCP_SYN | TCP_FIN, 1001, 0), NULL);
	assert_int_equal(d->reason, TRACE_DROP_CT_INVALID);
	assert_non_null(strstr(d->why, "SYN+FIN is a combination of flags no TCP sends"));
	world_free(w);
}

/* REJECT --reject-with tcp-reset on a forwarded port: an RST to the sender
 * from the address it asked (the public one, not the inside server's), the
 * sentence naming it. */
static void test_reject_tcp_reset(void **state)
{
	struct world *w = world_default();
	struct endpoint srv = {C_IP, 22}, pub = {PUB, 2222};
	struct fw_rule r = {.chain = FW_CHAIN_FORWARD,
			    .proto = IPPROTO_NUM_TCP,
			    .dport_lo = 22,
			    .action = FW_REJECT,
			    .reject_with = FW_REJECT_TCP_RESET};
	const struct trace_packet *d;
	struct packet_info rst;

	(void)state;
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_TCP, 2222, &srv), 0);
	assert_int_equal(firewall_append(router_firewall(w->home), &r), 0);
	d = ended(w, seg(w, w->s1, &S1, &pub, TCP_SYN, 7000, 0), NULL);
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	const struct node_firewall_facts *f = d->verdict.facts;
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	assert_non_null(strstr(d->why, "--reject-with tcp-reset"));
	assert_non_null(strstr(d->why, "told the sender: a TCP RST"));
	arrived(w, f->answer.packet_id, "s1", &pub, &S1);
	ended(w, f->answer.packet_id, &rst);
	assert_int_equal(rst.tcp_flags, TCP_RST | TCP_ACK);
	assert_int_equal(rst.tcp_ack, 7001);
	world_free(w);
}

/* A host's INPUT REJECT --reject-with tcp-reset answers with an RST (not
 * port unreachable); back through the NAT it reaches c and kills the
 * entry, an RST before any reply. */
static void test_host_reject_tcp_reset(void **state)
{
	struct world *w = world_default();
	struct fw_rule r = {.chain = FW_CHAIN_INPUT,
			    .proto = IPPROTO_NUM_TCP,
			    .action = FW_REJECT,
			    .reject_with = FW_REJECT_TCP_RESET};
	const struct trace_packet *d;

	(void)state;
	assert_int_equal(firewall_append(host_firewall(w->s2), &r), 0);
	d = ended(w, seg(w, w->c, &C, &S2, TCP_SYN, 1000, 0), NULL);
	assert_string_equal(d->node, "s2");
	const struct node_firewall_facts *f = d->verdict.facts;
	assert_int_equal(f->answer.kind, ICMP_ANSWER_TCP_RST);
	arrived(w, f->answer.packet_id, "c", &S2, &C);
	assert_null(entry(w));
	assert_int_equal(nat_mapping_count(w->nat), 0);
	world_free(w);
}

/* conntrack runs in PREROUTING, before FORWARD: a FIN that a FORWARD rule
 * drops has still moved the flow to FIN_WAIT, as on Linux; the drop is
 * the firewall's, and the flow keeps the NAT binding. */
static void test_forward_drop_still_moves_state(void **state)
{
	struct world *w = world_default();
	struct fw_rule r = {.chain = FW_CHAIN_FORWARD,
			    .proto = IPPROTO_NUM_TCP,
			    .tcp_flags_mask = TCP_FIN,
			    .tcp_flags_match = TCP_FIN,
			    .action = FW_DROP};
	const struct trace_packet *d;

	(void)state;
	handshake(w);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_ESTABLISHED);
	assert_int_equal(firewall_append(router_firewall(w->home), &r), 0);
	d = ended(w, seg(w, w->c, &C, &S1, TCP_FIN | TCP_ACK, 1001, 5001), NULL);
	assert_non_null(d);
	assert_string_equal(d->node, "home");
	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_non_null(entry(w));
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_FIN_WAIT);
	world_free(w);
}

/* A host's `state invalid drop` rule names why conntrack called the segment
 * INVALID: a stray SYN+ACK could start no entry (tcp_new). */
static void test_host_invalid_rule_says_tcp_new(void **state)
{
	struct world *w = world_default();
	struct fw_rule r = {.chain = FW_CHAIN_INPUT,
			    .proto = IPPROTO_NUM_TCP,
			    .states = CONNTRACK_INVALID,
			    .action = FW_DROP};
	const struct trace_packet *d;

	(void)state;
	assert_int_equal(firewall_append(host_firewall(w->s2), &r), 0);
	d = ended(w, seg(w, w->s1, &S1, &S2, TCP_SYN | TCP_ACK, 1000, 5), NULL);
	assert_string_equal(d->node, "s2");
	const struct node_firewall_facts *f = d->verdict.facts;
	assert_int_equal(f->verdict.state, CONNTRACK_INVALID);
	assert_int_equal(f->verdict.invalid, CONNTRACK_INVALID_NEW);
	assert_non_null(strstr(d->why, "(tcp_new)"));
	world_free(w);
}

/* Hairpinning for TCP (RFC 5382, as RFC 4787 REQ-9 for UDP): with it on, c's
 * SYN to the public side of a TCP forward comes back in from c's own
 * external endpoint; off, it is dropped. */
static void test_hairpin_tcp(void **state)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT);
	struct endpoint srv = {C_IP, 80}, pub = {PUB, 8080};
	struct world *w;

	(void)state;
	cfg.hairpinning = true;
	w = world_new(&cfg);
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_TCP, 8080, &srv), 0);
	arrived(w, seg(w, w->c, &C, &pub, TCP_SYN, 1000, 0), "c", &EXT, &srv);
	assert_int_equal(entry(w)->tcp.state, CONNTRACK_TCP_SYN_SENT);
	world_free(w);
	w = world_default();
	assert_int_equal(nat_add_forward(w->nat, IPPROTO_NUM_TCP, 8080, &srv), 0);
	assert_int_equal(ended(w, seg(w, w->c, &C, &pub, TCP_SYN, 1000, 0), NULL)->reason,
			 TRACE_DROP_HAIRPIN);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_translated_and_tracked),
	    cmocka_unit_test(test_mapping_goes_with_its_connection),
	    cmocka_unit_test(test_rst_before_reply_kills_entry_and_mapping),
	    cmocka_unit_test(test_rfc5382_idle_timeouts),
	    cmocka_unit_test(test_apdf_refuses_other_endpoints),
	    cmocka_unit_test(test_eif_admits_anyone),
	    cmocka_unit_test(test_mapping_behaviour),
	    cmocka_unit_test(test_unsolicited_syn_dropped_silently),
	    cmocka_unit_test(test_tcp_forward),
	    cmocka_unit_test(test_syn_reopens_time_wait),
	    cmocka_unit_test(test_invalid_leaves_untranslated),
	    cmocka_unit_test(test_invalid_inbound_dropped),
	    cmocka_unit_test(test_host_invalid_rule_says_tcp_new),
	    cmocka_unit_test(test_forward_drop_still_moves_state),
	    cmocka_unit_test(test_stray_synack_is_invalid_new),
	    cmocka_unit_test(test_own_stack_answers_rst),
	    cmocka_unit_test(test_out_of_window_leaks),
	    cmocka_unit_test(test_unsolicited_drop_words),
	    cmocka_unit_test(test_unsolicited_rst),
	    cmocka_unit_test(test_unsolicited_icmp_after_6s),
	    cmocka_unit_test(test_unsolicited_icmp_simultaneous_open),
	    cmocka_unit_test(test_real_connection_through_nat),
	    cmocka_unit_test(test_state_invalid_drop),
	    cmocka_unit_test(test_reject_tcp_reset),
	    cmocka_unit_test(test_host_reject_tcp_reset),
	    cmocka_unit_test(test_hairpin_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
