/* test_agent_dual.c - the agent and the coordinator over two address
 * families (issue 18, docs/ipv6.md step 6): registration over each, pairs
 * per family, IPv6 checked first with the families interleaved (RFC 8421),
 * a broken family does not starve the other, the relay when neither works.
 *
 * The network is a queue of datagrams with a fixed latency and no NAT: a
 * path between the two agents of a family can be cut (what two symmetric
 * NATs do to IPv4, or a firewall to IPv6); the coordinator is always
 * reachable over both. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/agent.h"
#include "p2p/coord.h"

#define MS P2P_NS_PER_MS
#define LATENCY (10 * MS)
#define QCAP 4096
#define LOGCAP 256

struct inflight {
	uint64_t at;
	struct p2p_datagram d;
};

struct ev {
	enum agent_event_type type;
	uint8_t family;
	char text[256];
};

static struct net {
	uint64_t now, rng;
	struct coord *coord;
	struct agent *ag[2];
	struct p2p_endpoint local[2], local6[2], coord4, coord6;
	bool cut[2]; /* [0]: IPv4 between the agents, [1]: IPv6 */
	bool nat64;  /* alice is IPv6-only behind a NAT64 (nat64_up) */
	struct inflight *q;
	size_t nq;
	struct ev log[2][LOGCAP];
	size_t nlog[2];
} * N;

static void fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *x = ctx;
	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		out[i] = (uint8_t)*x;
	}
}

static struct p2p_endpoint ep(const char *text)
{
	struct p2p_endpoint e;
	assert_int_equal(p2p_endpoint_parse(text, &e), 0);
	return e;
}

/* The NAT64 of nat64_up, as model/nat64 does it but in one line each way:
 * 64:ff9b::/96 out from alice as NAT64_POOL with her port (endpoint-
 * independent mapping), and anything to NAT64_POOL in to her from
 * 64:ff9b:: + its source (endpoint-independent filtering). */
#define NAT64_POOL 0xCB007107u /* 203.0.113.7 */
static const uint8_t wkp[12] = {0x00, 0x64, 0xff, 0x9b};

static void nat64_translate(struct p2p_datagram *d)
{
	uint8_t a6[16];
	memcpy(a6, wkp, sizeof(wkp));
	if (p2p_endpoint_is6(&d->to) && memcmp(d->to.ip6, wkp, sizeof(wkp)) == 0) {
		uint32_t v4 = (uint32_t)d->to.ip6[12] << 24 | (uint32_t)d->to.ip6[13] << 16 |
			      (uint32_t)d->to.ip6[14] << 8 | d->to.ip6[15];
		d->from = p2p_endpoint4(NAT64_POOL, d->from.port);
		d->to = p2p_endpoint4(v4, d->to.port);
	} else if (!p2p_endpoint_is6(&d->to) && d->to.ip == NAT64_POOL) {
		for (int k = 0; k < 4; k++)
			a6[12 + k] = (uint8_t)(d->from.ip >> (24 - 8 * k));
		d->to = p2p_endpoint6(N->local[0].ip6, d->to.port);
		d->from = p2p_endpoint6(a6, d->from.port);
	}
}

static void send_one(const struct p2p_datagram *in)
{
	struct p2p_datagram translated = *in;
	const struct p2p_datagram *d = &translated;
	if (N->nat64)
		nat64_translate(&translated);
	bool agents =
	    (p2p_endpoint_equal(&d->to, &N->local[0]) || p2p_endpoint_equal(&d->to, &N->local[1]) ||
	     p2p_endpoint_equal(&d->to, &N->local6[0]) ||
	     p2p_endpoint_equal(&d->to, &N->local6[1])) &&
	    !p2p_endpoint_equal(&d->from, &N->coord4) && !p2p_endpoint_equal(&d->from, &N->coord6);
	assert_int_equal(d->from.family, d->to.family); /* never across families */
	if (agents && N->cut[p2p_endpoint_is6(&d->to)])
		return;
	assert_true(N->nq < QCAP);
	N->q[N->nq++] = (struct inflight){N->now + LATENCY, *d};
}

static void drain(void)
{
	struct p2p_datagram d;
	struct p2p_event e;
	while (coord_pop_datagram(N->coord, &d))
		send_one(&d);
	for (int i = 0; i < 2; i++) {
		while (agent_pop_datagram(N->ag[i], &d))
			send_one(&d);
		while (agent_pop_event(N->ag[i], &e))
			if (N->nlog[i] < LOGCAP) {
				struct ev *x = &N->log[i][N->nlog[i]++];
				x->type = e.type;
				x->family = e.family;
				snprintf(x->text, sizeof(x->text), "%s", e.text);
			}
	}
}

static void deliver(const struct p2p_datagram *d)
{
	if (p2p_endpoint_equal(&d->to, &N->coord4) || p2p_endpoint_equal(&d->to, &N->coord6)) {
		coord_input(N->coord, N->now, &d->to, &d->from, d->buf, d->len);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (p2p_endpoint_equal(&d->to, &N->local[i]) ||
		    p2p_endpoint_equal(&d->to, &N->local6[i]))
			agent_input(N->ag[i], N->now, &d->from, d->buf, d->len);
}

/* Runs every delivery and timer up to `end`, in time order. */
static void run_until(uint64_t end)
{
	for (;;) {
		uint64_t t = coord_next_deadline(N->coord);
		size_t first = SIZE_MAX;
		for (int i = 0; i < 2; i++) {
			uint64_t ti = agent_next_deadline(N->ag[i]);
			t = ti < t ? ti : t;
		}
		for (size_t k = 0; k < N->nq; k++)
			if (N->q[k].at <= t && (first == SIZE_MAX || N->q[k].at < N->q[first].at))
				first = k;
		if (first != SIZE_MAX)
			t = N->q[first].at;
		if (t > end)
			break;
		N->now = t;
		if (first != SIZE_MAX) {
			struct p2p_datagram d = N->q[first].d;
			N->q[first] = N->q[--N->nq];
			deliver(&d);
		} else {
			coord_tick(N->coord, t);
			agent_tick(N->ag[0], t);
			agent_tick(N->ag[1], t);
		}
		drain();
	}
	N->now = end;
}

/* alice and bob; `v6` says which of them have an IPv6 socket. */
static void net_up(const bool v6[2])
{
	static const char *names[2] = {"alice", "bob"};
	uint8_t seed[32];

	N = calloc(1, sizeof(*N));
	N->q = calloc(QCAP, sizeof(*N->q));
	N->rng = 0x9E3779B97F4A7C15ull;
	N->coord4 = ep("192.0.2.1:3478");
	N->coord6 = ep("[2001:db8:ff::1]:3478");
	N->local[0] = ep("203.0.113.5:5000");
	N->local[1] = ep("198.51.100.7:5000");
	N->local6[0] = ep("[2001:db8:1::5]:5000");
	N->local6[1] = ep("[2001:db8:2::7]:5000");
	struct coord_config cc = {.primary = N->coord4, .random = {fill, &N->rng}};
	N->coord = coord_new(&cc);
	assert_non_null(N->coord);
	for (int i = 0; i < 2; i++) {
		memset(seed, i + 1, sizeof(seed));
		struct agent_config ac = {.name = names[i],
					  .local = N->local[i],
					  .local6 = v6[i] ? N->local6[i]
							  : (struct p2p_endpoint){.port = 0},
					  .coordinator = N->coord4,
					  .coordinator6 = N->coord6,
					  .key_seed = seed,
					  .random = {fill, &N->rng}};
		N->ag[i] = agent_new(&ac);
		assert_non_null(N->ag[i]);
		if (!v6[i])
			N->local6[i] = (struct p2p_endpoint){.port = 0};
	}
}

static void net_down(void)
{
	agent_free(N->ag[0]);
	agent_free(N->ag[1]);
	coord_free(N->coord);
	free(N->q);
	free(N);
	N = NULL;
}

static const struct ev *find_ev(int who, enum agent_event_type t)
{
	for (size_t i = 0; i < N->nlog[who]; i++)
		if (N->log[who][i].type == t)
			return &N->log[who][i];
	return NULL;
}

static void connect_both(void)
{
	agent_register(N->ag[0], N->now);
	agent_register(N->ag[1], N->now);
	drain();
	run_until(N->now + 500 * MS);
	agent_connect(N->ag[0], N->now, "bob");
	drain();
	run_until(N->now + 8000 * MS);
}

/* Both dual-stack, IPv4 cut between them (two symmetric NATs would do
 * it): direct over IPv6, and the DIRECT event says so. */
static void test_direct_over_ipv6_while_ipv4_is_cut(void **state)
{
	(void)state;
	net_up((const bool[2]){true, true});
	N->cut[0] = true;
	connect_both();
	assert_int_equal(agent_peer_state(N->ag[0], "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->ag[1], "alice"), AGENT_PEER_DIRECT);
	const struct ev *e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_int_equal(e->family, P2P_FAMILY_IPV6);
	assert_non_null(
	    strstr(e->text, "over IPv6 via [2001:db8:1::5]:5000 -> [2001:db8:2::7]:5000"));
	assert_null(find_ev(0, AGENT_EV_RELAYED));
	net_down();
}

/* IPv6 cut: the IPv4 pair, checked second, is not starved: direct over IPv4. */
static void test_ipv4_when_ipv6_is_cut(void **state)
{
	(void)state;
	net_up((const bool[2]){true, true});
	N->cut[1] = true;
	connect_both();
	const struct ev *e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_int_equal(e->family, P2P_FAMILY_IPV4);
	assert_null(strstr(e->text, "IPv6"));
	net_down();
}

/* Both cut: the relay, as for IPv4 alone. */
static void test_relay_when_both_are_cut(void **state)
{
	(void)state;
	net_up((const bool[2]){true, true});
	N->cut[0] = N->cut[1] = true;
	connect_both();
	assert_int_equal(agent_peer_state(N->ag[0], "bob"), AGENT_PEER_RELAYED);
	assert_null(find_ev(0, AGENT_EV_DIRECT));
	assert_int_equal(agent_send(N->ag[0], N->now, "bob", (const uint8_t *)"hi", 2), AGENT_OK);
	drain();
	run_until(N->now + 100 * MS);
	assert_non_null(find_ev(1, AGENT_EV_DATA_RECEIVED));
	net_down();
}

/* The checklist: IPv6 first, the families interleaved (RFC 8421 4). The
 * PUNCHING event lists the pairs in checking order. */
static void test_checklist_ipv6_first_interleaved(void **state)
{
	(void)state;
	net_up((const bool[2]){true, true});
	connect_both();
	const struct ev *e = find_ev(0, AGENT_EV_PUNCHING);
	assert_non_null(e);
	const char *h6 = strstr(e->text, "host [2001:db8:2::7]:5000");
	const char *h4 = strstr(e->text, "host 198.51.100.7:5000");
	assert_non_null(h6);
	assert_non_null(h4);
	assert_true(h6 < h4);
	assert_non_null(strstr(e->text, "2 candidates")); /* srflx = host without NAT */
	net_down();
}

/* bob has no IPv6: alice pairs IPv4 only, never her IPv6 with his IPv4,
 * and bob ignores her IPv6 candidates (he has no socket for them). */
static void test_pairs_per_family_only(void **state)
{
	(void)state;
	net_up((const bool[2]){true, false});
	connect_both();
	const struct ev *e = find_ev(1, AGENT_EV_PUNCHING);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "1 candidate:"));
	assert_null(strstr(e->text, "2001:db8"));
	e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_int_equal(e->family, P2P_FAMILY_IPV4);
	net_down();
}

/* The second registration: over IPv6 to the coordinator's IPv6 address,
 * after the first is answered; the coordinator then holds one peer. */
static void test_registers_over_both(void **state)
{
	(void)state;
	struct p2p_endpoint srflx;
	net_up((const bool[2]){true, true});
	agent_register(N->ag[0], N->now);
	drain();
	run_until(N->now + 500 * MS);
	assert_true(coord_lookup(N->coord, "alice", &srflx));
	assert_true(p2p_endpoint_equal(&srflx, &N->local[0]));
	assert_int_equal(coord_counters(N->coord)->peers, 1);
	assert_int_equal(coord_counters(N->coord)->registered, 1);
	assert_int_equal(coord_counters(N->coord)->refreshed, 1); /* the IPv6 one */
	bool said = false;
	for (size_t i = 0; i < N->nlog[0]; i++)
		said = said || strstr(N->log[0][i].text, "registered over IPv6 too") != NULL;
	assert_true(said);
	net_down();
}

/* ICMPv6's hard and soft errors, as Linux's icmpv6_err_convert splits them. */
static void test_icmp6_hard_soft(void **state)
{
	(void)state;
	static const bool hard[7] = {false, true, false, false, true, true, true};
	char buf[64];
	for (uint8_t code = 0; code < 7; code++)
		assert_int_equal(p2p_icmp6_error_is_hard(P2P_ICMP6_DEST_UNREACH, code), hard[code]);
	assert_true(p2p_icmp6_error_is_hard(P2P_ICMP6_DEST_UNREACH, 9)); /* past the table */
	assert_false(p2p_icmp6_error_is_hard(P2P_ICMP6_PACKET_TOO_BIG, 0));
	assert_false(p2p_icmp6_error_is_hard(P2P_ICMP6_TIME_EXCEEDED, 0));
	assert_true(p2p_icmp6_error_is_hard(P2P_ICMP6_PARAMETER_PROBLEM, 0));
	assert_false(p2p_icmp6_error_is_hard(129, 0)); /* an echo reply is no error */
	assert_string_equal(p2p_icmp6_error_name(1, 4, buf, sizeof(buf)), "port unreachable");
	assert_string_equal(p2p_icmp6_error_name(1, 1, buf, sizeof(buf)),
			    "communication administratively prohibited");
	assert_string_equal(p2p_icmp6_error_name(2, 0, buf, sizeof(buf)), "packet too big");
	/* An error is read by the family of the socket it is about: type 3 is
	 * time exceeded for ICMPv6, destination unreachable for ICMP. */
	struct p2p_icmp_error e = {.local = ep("[2001:db8:1::5]:5000"), .type = 3, .code = 0};
	assert_false(p2p_icmp_error_hard(&e));
	assert_string_equal(p2p_icmp_error_words(&e, buf, sizeof(buf)),
			    "hop limit exceeded in transit");
	e.local = ep("203.0.113.5:5000");
	e.code = 3;
	assert_true(p2p_icmp_error_hard(&e));
}

/* An ICMPv6 port unreachable about a waiting IPv6 check fails that pair at
 * once (RFC 8445 7.2.5.2.2), and the event names the IPv6 reporter. */
static void test_icmp6_error_fails_ipv6_pair(void **state)
{
	(void)state;
	net_up((const bool[2]){true, true});
	N->cut[0] = N->cut[1] = true;
	agent_register(N->ag[0], N->now);
	agent_register(N->ag[1], N->now);
	drain();
	run_until(N->now + 500 * MS);
	agent_connect(N->ag[0], N->now, "bob");
	drain();
	run_until(N->now + 60 * MS); /* introduced; the first (IPv6) check is out */
	struct p2p_icmp_error err = {.local = N->local6[0],
				     .remote = N->local6[1],
				     .reporter = ep("[2001:db8:a1::2]:0"),
				     .type = P2P_ICMP6_DEST_UNREACH,
				     .code = P2P_ICMP6_PORT_UNREACH};
	assert_int_equal(agent_handle_icmp_error(N->ag[0], N->now, &err), AGENT_OK);
	drain();
	const struct ev *e = find_ev(0, AGENT_EV_PAIR_FAILED);
	assert_non_null(e);
	assert_non_null(
	    strstr(e->text, "2001:db8:a1::2 reported [2001:db8:2::7]:5000 port unreachable"));
	/* About a socket that is not ours: refused. */
	err.local.port = 9;
	assert_int_equal(agent_handle_icmp_error(N->ag[0], N->now, &err), AGENT_ERR_INVALID);
	net_down();
}

/* bob lists host candidates of both families, mixed: every one reaches
 * alice as bob sent it, through the coordinator's kept registration and
 * alice's checklist, which both hold IPv6 addresses apart from the 8-byte
 * IPv4 endpoints (p2p/endpoint6.h); the IPv6 path bob has a socket on is
 * the one that goes direct. */
static void test_mixed_host_candidates_kept(void **state)
{
	(void)state;
	uint8_t seed[32];
	net_up((const bool[2]){true, true});
	agent_free(N->ag[1]);
	memset(seed, 2, sizeof(seed));
	struct agent_config ac = {.name = "bob",
				  .local = N->local[1],
				  .local6 = N->local6[1],
				  .coordinator = N->coord4,
				  .coordinator6 = N->coord6,
				  .key_seed = seed,
				  .random = {fill, &N->rng},
				  .n_host_candidates = 4,
				  .host_candidates = {ep("[2001:db8:2::8]:5008"), N->local[1],
						      ep("[2001:db8:2::9]:5009"), N->local6[1]}};
	N->ag[1] = agent_new(&ac);
	assert_non_null(N->ag[1]);
	N->cut[0] = true;
	connect_both();
	const struct ev *e = find_ev(0, AGENT_EV_PUNCHING);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "4 candidates"));
	assert_non_null(strstr(e->text, "host [2001:db8:2::8]:5008"));
	assert_non_null(strstr(e->text, "host [2001:db8:2::9]:5009"));
	assert_non_null(strstr(e->text, "host [2001:db8:2::7]:5000"));
	assert_non_null(strstr(e->text, "host 198.51.100.7:5000"));
	e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "-> [2001:db8:2::7]:5000 (host)"));
	net_down();
}

/* alice IPv6-only behind a NAT64 (given the coordinator in its prefix, as
 * a DNS64 answers), bob IPv4 with a private host candidate. */
static void nat64_up(bool knows_prefix)
{
	net_up((const bool[2]){false, false});
	agent_free(N->ag[0]);
	agent_free(N->ag[1]);
	N->nat64 = true;
	N->local[0] = ep("[2001:db8:1::5]:5000");
	uint8_t seed[32];
	memset(seed, 1, sizeof(seed));
	struct agent_config alice = {.name = "alice",
				     .local = N->local[0],
				     .coordinator = ep("[64:ff9b::c000:201]:3478"),
				     .key_seed = seed,
				     .random = {fill, &N->rng}};
	if (knows_prefix)
		memcpy(alice.nat64_prefix, wkp, sizeof(wkp));
	N->ag[0] = agent_new(&alice);
	memset(seed, 2, sizeof(seed));
	struct agent_config bob = {.name = "bob",
				   .local = N->local[1],
				   .coordinator = N->coord4,
				   .key_seed = seed,
				   .random = {fill, &N->rng},
				   .n_host_candidates = 1,
				   .host_candidates = {ep("192.168.2.5:5000")}};
	N->ag[1] = agent_new(&bob);
	assert_non_null(N->ag[0]);
	assert_non_null(N->ag[1]);
}

/* Knowing its NAT64's prefix, the IPv6-only agent checks bob's public
 * IPv4 candidate at 64:ff9b:: + its address (RFC 6052 2.2, RFC 8305 7.1),
 * leaves out his private one (RFC 6052 3.1: the Well-Known Prefix never
 * carries RFC 1918 addresses), says so, and goes direct on that pair. */
static void test_nat64_synthesized_candidates(void **state)
{
	(void)state;
	nat64_up(true);
	connect_both();
	const struct ev *e = find_ev(0, AGENT_EV_PUNCHING);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "1 candidate: srflx [64:ff9b::c633:6407]:5000"));
	assert_null(strstr(e->text, "192.168"));
	bool said = false;
	for (size_t i = 0; i < N->nlog[0]; i++)
		said = said ||
		       strstr(N->log[0][i].text,
			      "candidate 198.51.100.7:5000 is IPv4 and we have IPv6 only: we "
			      "check it through our NAT64 as [64:ff9b::c633:6407]:5000") != NULL;
	assert_true(said);
	e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_int_equal(e->family, P2P_FAMILY_IPV6);
	assert_non_null(strstr(e->text, "-> [64:ff9b::c633:6407]:5000 (srflx)"));
	net_down();
}

/* Without the prefix it has no pair of its own: bob's checks, through the
 * NAT64's endpoint-independent filtering, make the only (peer-reflexive)
 * one, as before the synthesis. */
static void test_nat64_without_prefix(void **state)
{
	(void)state;
	nat64_up(false);
	connect_both();
	const struct ev *e = find_ev(0, AGENT_EV_PUNCHING);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "0 candidates"));
	e = find_ev(0, AGENT_EV_DIRECT);
	assert_non_null(e);
	assert_non_null(strstr(e->text, "-> [64:ff9b::c633:6407]:5000 (prflx)"));
	net_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct_over_ipv6_while_ipv4_is_cut),
	    cmocka_unit_test(test_ipv4_when_ipv6_is_cut),
	    cmocka_unit_test(test_relay_when_both_are_cut),
	    cmocka_unit_test(test_checklist_ipv6_first_interleaved),
	    cmocka_unit_test(test_pairs_per_family_only),
	    cmocka_unit_test(test_registers_over_both),
	    cmocka_unit_test(test_icmp6_hard_soft),
	    cmocka_unit_test(test_icmp6_error_fails_ipv6_pair),
	    cmocka_unit_test(test_mixed_host_candidates_kept),
	    cmocka_unit_test(test_nat64_synthesized_candidates),
	    cmocka_unit_test(test_nat64_without_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
