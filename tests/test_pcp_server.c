/*
 * test_pcp_server.c - the NAT's PCP (RFC 6887) and NAT-PMP (RFC 6886)
 * server: MAP creates, renews (same nonce), refuses (another nonce,
 * NOT_AUTHORIZED, section 11.3) and deletes (lifetime 0); lifetimes are
 * clamped; mappings admit anyone and expire exactly; a reboot starts a new
 * epoch and forgets them; every malformed or unsupported request gets its
 * answer (or none) and a record. Requests are written here byte by byte
 * from the RFC layouts; tests/p2p/test_pcp.c checks the client codec the
 * same way. Then through a router: UDP 5351 of the inside address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/bytes.h"
#include "explain/explain.h"
#include "model/host.h"
#include "model/nat.h"
#include "model/pcp_server.h"
#include "model/router.h"
#include "sim/engine.h"
#include "sim/trace_log.h"
#include "tests/support_net.h"

#define PUB IP4(203, 0, 113, 7)
#define MAX_RECS 64

static const struct endpoint CLIENT = {IP4(192, 168, 1, 5), 5350};
static const uint8_t NONCE_A[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t NONCE_B[12] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9};

struct recs {
	size_t n;
	struct trace_mapping r[MAX_RECS];
};

static void keep_mapping(const struct trace_record *r, void *ctx)
{
	struct recs *recs = ctx;
	if (r->kind == TRACE_MAPPING && recs->n < MAX_RECS)
		recs->r[recs->n++] = r->u.map;
}

struct fx {
	struct engine *e;
	struct nat *nat;
	struct recs recs;
	struct pcp_answer a;
};

static int setup_with(void **state, enum nat_behaviour mapping, bool pcp, bool natpmp)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct nat_config cfg;

	if (f == NULL || (f->e = engine_new()) == NULL)
		return -1;
	nat_config_default(&cfg);
	cfg.mapping = mapping;
	cfg.n_public = 1;
	cfg.public_ip[0] = PUB;
	cfg.pcp = pcp;
	cfg.natpmp = natpmp;
	f->nat = nat_new(f->e, "home", &cfg, NULL);
	if (f->nat == NULL || trace_subscribe(engine_trace(f->e), keep_mapping, &f->recs) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, NAT_ENDPOINT_INDEPENDENT, true, true);
}

static int setup_symmetric(void **state)
{
	return setup_with(state, NAT_ADDRESS_AND_PORT_DEPENDENT, true, false);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nat_free(f->nat);
	engine_free(f->e);
	free(f);
	return 0;
}

/* A PCP MAP request (RFC 6887 7.1 + 11.1), 60 bytes, from CLIENT. */
static size_t pcp_map(uint8_t *b, const uint8_t nonce[12], uint8_t proto, uint16_t port,
		      uint16_t suggested, uint32_t lifetime)
{
	memset(b, 0, 60);
	b[0] = 2;
	b[1] = 1;
	put32(b + 4, lifetime);
	b[18] = b[19] = 0xff;
	put32(b + 20, CLIENT.ip);
	memcpy(b + 24, nonce, 12);
	b[36] = proto;
	put16(b + 40, port);
	put16(b + 42, suggested);
	b[54] = b[55] = 0xff; /* no suggested address: ::ffff:0.0.0.0 */
	return 60;
}

static struct pcp_answer *ask(struct fx *f, const uint8_t *req, size_t len)
{
	pcp_server_answer(f->nat, &CLIENT, req, len, &f->a);
	return &f->a;
}

static const struct trace_mapping *last_rec(const struct fx *f)
{
	assert_true(f->recs.n > 0);
	return &f->recs.r[f->recs.n - 1];
}

static void run_s(struct fx *f, int64_t s)
{
	engine_run_until(f->e, engine_now(f->e) + SIM_S(s));
}

/* ---- PCP MAP ------------------------------------------------------------- */

static void test_map_created(void **state)
{
	struct fx *f = *state;
	uint8_t req[60];
	struct pcp_answer *a;

	run_s(f, 10);
	a = ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 6000, 7200));
	assert_int_equal(a->facts.decision, PCP_DECISION_CREATED);
	/* The answer, byte by byte: version 2, R|MAP, SUCCESS, the lifetime
	 * granted, epoch 10 s, the nonce and request echoed, the assigned
	 * (suggested, free) port and the public address IPv4-mapped. */
	assert_int_equal(a->len, 60);
	static const uint8_t head[12] = {2, 0x81, 0, 0, 0, 0, 0x1c, 0x20, 0, 0, 0, 10};
	assert_memory_equal(a->buf, head, sizeof(head));
	assert_memory_equal(a->buf + 24, NONCE_A, 12);
	assert_int_equal(a->buf[36], 17);
	assert_int_equal(get16(a->buf + 40), 5000);
	assert_int_equal(get16(a->buf + 42), 6000);
	assert_int_equal(a->buf[54], 0xff);
	assert_int_equal(get32(a->buf + 56), PUB);
	/* The table holds it: explicit, its nonce, exactly 7200 s. */
	const struct nat_mapping *m =
	    nat_mapping_by_external(f->nat, 17, &(struct endpoint){PUB, 6000});
	assert_non_null(m);
	assert_int_equal(m->origin, NAT_ORIGIN_PCP);
	assert_memory_equal(m->nonce, NONCE_A, 12);
	assert_int_equal(m->expires_at, SIM_S(10) + SIM_S(7200));
	const struct trace_mapping *r = last_rec(f);
	assert_int_equal(r->event, TRACE_MAP_CREATED);
	assert_int_equal(r->origin, NAT_ORIGIN_PCP);
	assert_int_equal(r->pcp.lifetime, 7200);
	char words[320];
	explain_port_mapping(r, words, sizeof(words));
	assert_string_equal(words, "PCP new mapping UDP 192.168.1.5:5000 → 203.0.113.7:6000 "
				   "for 7200 s (asked 7200 s, at most 86400 s); it admits "
				   "anyone; epoch 10 s");
}

/* The server's clamp (miniupnpd's defaults: 120 s to 86400 s). */
static void test_lifetime_clamped(void **state)
{
	struct fx *f = *state;
	uint8_t req[60];

	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 10u * 86400));
	assert_int_equal(get32(f->a.buf + 4), 86400);
	assert_int_equal(f->a.facts.requested_lifetime, 10u * 86400);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 5));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_RENEWED);
	assert_int_equal(get32(f->a.buf + 4), 120);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_RENEWED);
	assert_int_equal(f->a.mapping->expires_at, SIM_S(120));
}

/* Section 11.3: the nonce owns the mapping. */
static void test_nonce_renew_refuse_delete(void **state)
{
	struct fx *f = *state;
	uint8_t req[60];

	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	uint16_t port = get16(f->a.buf + 42);
	run_s(f, 100);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_RENEWED);
	assert_int_equal(get16(f->a.buf + 42), port);
	assert_int_equal(f->a.mapping->expires_at, SIM_S(700));
	/* Another nonce may neither renew nor delete it. */
	ask(f, req, pcp_map(req, NONCE_B, 17, 5000, 0, 600));
	assert_int_equal(f->a.buf[3], 2); /* NOT_AUTHORIZED */
	assert_int_equal(f->a.facts.decision, PCP_DECISION_NONCE_MISMATCH);
	assert_int_equal(get32(f->a.buf + 4), 0);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_REFUSED);
	ask(f, req, pcp_map(req, NONCE_B, 17, 5000, 0, 0));
	assert_int_equal(f->a.buf[3], 2);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	/* Its owner deletes it; deleting again is a success with nothing done. */
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 0));
	assert_int_equal(f->a.buf[3], 0);
	assert_int_equal(f->a.facts.decision, PCP_DECISION_DELETED);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_DELETED);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 0));
	assert_int_equal(f->a.buf[3], 0);
	assert_int_equal(f->a.facts.decision, PCP_DECISION_NOTHING_TO_DELETE);
}

/* Explicit mappings admit anyone, leave outbound traffic through them
 * whatever the mapping behaviour, are not refreshed by it, and expire. */
static void test_admits_anyone_and_expires(void **state)
{
	struct fx *f = *state; /* address-and-port-dependent mapping and filtering */
	uint8_t req[60], pkt[PACKET_MAX_SIZE];
	struct packet_info info;
	struct nat_result res;
	struct endpoint inside = {CLIENT.ip, 5000}, anyone = {IP4(198, 51, 100, 9), 777};

	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 200));
	struct endpoint ext = f->a.mapping->external;
	size_t len = packet_build_udp(pkt, sizeof(pkt), &anyone, &ext, 64, 1, "hi", 2);
	assert_int_equal(packet_parse(pkt, len, &info, NULL, 0), PACKET_OK);
	nat_translate_inbound(f->nat, pkt, len, &info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(packet_parse(pkt, len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.dport, 5000);
	/* Outbound to a new remote leaves through the same mapping. */
	run_s(f, 150);
	len = packet_build_udp(pkt, sizeof(pkt), &inside, &anyone, 64, 2, "hi", 2);
	assert_int_equal(packet_parse(pkt, len, &info, NULL, 0), PACKET_OK);
	nat_translate_outbound(f->nat, pkt, len, &info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.external.port, ext.port);
	assert_false(res.refreshed);
	/* ... and it dies at 200 s, not 150 s + 30 s idle. */
	run_s(f, 49);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	run_s(f, 2);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_EXPIRED);
	assert_int_equal(last_rec(f)->origin, NAT_ORIGIN_PCP);
	char words[320];
	explain_port_mapping(last_rec(f), words, sizeof(words));
	assert_string_equal(words, "PCP mapping UDP 192.168.1.5:5000 → 203.0.113.7:5000 expired: "
				   "the lifetime it was granted ran out with no renewal");
}

/* A suggested port that is taken yields another; the host's own implicit
 * mapping becomes the explicit one and keeps its port. */
static void test_suggested_taken_and_adopted(void **state)
{
	struct fx *f = *state; /* endpoint-independent, port preserving */
	uint8_t req[60], pkt[PACKET_MAX_SIZE];
	struct packet_info info;
	struct nat_result res;
	struct endpoint inside = {CLIENT.ip, 4000}, far = {IP4(198, 51, 100, 9), 3478};

	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 6000, 600));
	ask(f, req, pcp_map(req, NONCE_B, 17, 5001, 6000, 600));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_CREATED);
	assert_int_not_equal(get16(f->a.buf + 42), 6000);
	size_t len = packet_build_udp(pkt, sizeof(pkt), &inside, &far, 64, 1, "x", 1);
	assert_int_equal(packet_parse(pkt, len, &info, NULL, 0), PACKET_OK);
	nat_translate_outbound(f->nat, pkt, len, &info, &res);
	uint16_t implicit = res.external.port;
	ask(f, req, pcp_map(req, NONCE_A, 17, 4000, 9000, 600));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_CREATED);
	assert_int_equal(get16(f->a.buf + 42), implicit);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_RENEWED);
	assert_int_equal(nat_mapping_count(f->nat), 3);
}

/* A reboot forgets every mapping and starts a new epoch (RFC 6887 8.5):
 * a client sees the epoch go backwards and knows to map again. */
static void test_reboot_resets_epoch(void **state)
{
	struct fx *f = *state;
	uint8_t req[60];

	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	run_s(f, 300);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	assert_int_equal(get32(f->a.buf + 8), 300);
	nat_reboot(f->nat);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	run_s(f, 5);
	ask(f, req, pcp_map(req, NONCE_B, 17, 5000, 0, 600));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_CREATED);
	assert_int_equal(get32(f->a.buf + 8), 5);
}

/* A port forward's internal endpoint is not for a client to take. */
static void test_forward_not_owned(void **state)
{
	struct fx *f = *state;
	uint8_t req[60];
	struct endpoint inside = {CLIENT.ip, 5000};

	assert_int_equal(nat_add_forward(f->nat, 17, 8080, &inside), 0);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	assert_int_equal(f->a.buf[3], 2);
	assert_int_equal(f->a.facts.decision, PCP_DECISION_NOT_OWNER);
}

/* ---- refusals: RFC 6887 8.3, 7.3, 11.1, 11.3; section 9 for versions ------ */

static void expect_pcp_error(struct fx *f, const uint8_t *req, size_t len, uint8_t result,
			     size_t answer_len, enum pcp_decision d)
{
	ask(f, req, len);
	assert_int_equal(f->a.facts.decision, d);
	assert_int_equal(f->a.len, answer_len);
	if (answer_len == 0)
		return;
	assert_int_equal(f->a.buf[0], 2);
	assert_true(f->a.buf[1] & 0x80);
	assert_int_equal(f->a.buf[3], result);
	assert_int_equal(last_rec(f)->event, TRACE_MAP_REFUSED);
	assert_int_equal(last_rec(f)->pcp.result, result);
}

static void test_pcp_refusals(void **state)
{
	struct fx *f = *state;
	uint8_t req[80];

	pcp_map(req, NONCE_A, 17, 5000, 0, 600);
	expect_pcp_error(f, req, 1, 0, 0, PCP_DECISION_IGNORED);
	expect_pcp_error(f, req, 59, 3, 24, PCP_DECISION_MALFORMED); /* not a multiple of 4 */
	expect_pcp_error(f, req, 56, 3, 24, PCP_DECISION_MALFORMED); /* MAP cut short */
	expect_pcp_error(f, req, 20, 3, 24, PCP_DECISION_MALFORMED);
	req[0] = 3;
	expect_pcp_error(f, req, 60, 1, 24, PCP_DECISION_UNSUPP_VERSION);
	req[0] = 1;
	expect_pcp_error(f, req, 60, 1, 24, PCP_DECISION_UNSUPP_VERSION);
	req[0] = 2;
	req[1] = 0x81; /* a response: never answered */
	expect_pcp_error(f, req, 60, 0, 0, PCP_DECISION_IGNORED);
	req[1] = 2; /* PEER */
	expect_pcp_error(f, req, 60, 4, 24, PCP_DECISION_UNSUPP_OPCODE);
	req[1] = 1;
	req[23] ^= 1; /* the client address field lies */
	expect_pcp_error(f, req, 60, 12, 60, PCP_DECISION_ADDRESS_MISMATCH);
	req[23] ^= 1;
	req[36] = 1; /* ICMP */
	expect_pcp_error(f, req, 60, 9, 60, PCP_DECISION_UNSUPP_PROTOCOL);
	req[36] = 0; /* all protocols with a port */
	expect_pcp_error(f, req, 60, 3, 60, PCP_DECISION_MALFORMED);
	pcp_map(req, NONCE_A, 17, 0, 0, 600); /* all ports */
	expect_pcp_error(f, req, 60, 2, 60, PCP_DECISION_NOT_AUTHORIZED);
	assert_int_equal(nat_mapping_count(f->nat), 0);
}

/* Options (7.3): mandatory ones (THIRD_PARTY = 1) are not supported, an
 * optional one (128+) is skipped, one that overruns is malformed. */
static void test_pcp_options(void **state)
{
	struct fx *f = *state;
	uint8_t req[80] = {0};

	pcp_map(req, NONCE_A, 17, 5000, 0, 600);
	req[60] = 1;
	put16(req + 62, 16);
	expect_pcp_error(f, req, 80, 5, 60, PCP_DECISION_UNSUPP_OPTION);
	put16(req + 62, 40);
	expect_pcp_error(f, req, 80, 6, 60, PCP_DECISION_MALFORMED_OPTION);
	req[60] = 200;
	put16(req + 62, 16);
	ask(f, req, 80);
	assert_int_equal(f->a.facts.decision, PCP_DECISION_CREATED);
	char words[320];
	req[60] = 1;
	ask(f, req, 80);
	explain_port_mapping(last_rec(f), words, sizeof(words));
	assert_string_equal(words, "PCP request from 192.168.1.5:5350 refused (result 5): it "
				   "carries a mandatory option this server does not support "
				   "(RFC 6887 section 7.3)");
}

/* ---- NAT-PMP (RFC 6886) -------------------------------------------------- */

static size_t natpmp_map(uint8_t *b, uint8_t op, uint16_t port, uint16_t suggested,
			 uint32_t lifetime)
{
	memset(b, 0, 12);
	b[1] = op;
	put16(b + 4, port);
	put16(b + 6, suggested);
	put32(b + 8, lifetime);
	return 12;
}

static void test_natpmp(void **state)
{
	struct fx *f = *state;
	uint8_t req[16] = {0, 0};

	run_s(f, 7);
	ask(f, req, 2); /* 3.2: the public address */
	static const uint8_t addr[12] = {0, 128, 0, 0, 0, 0, 0, 7, 203, 0, 113, 7};
	assert_int_equal(f->a.len, 12);
	assert_memory_equal(f->a.buf, addr, sizeof(addr));
	ask(f, req, natpmp_map(req, 2, 80, 8080, 3600)); /* TCP */
	static const uint8_t map[16] = {0, 130, 0,    0,    0, 0, 0,	7,
					0, 80,	0x1f, 0x90, 0, 0, 0x0e, 0x10};
	assert_int_equal(f->a.len, 16);
	assert_memory_equal(f->a.buf, map, sizeof(map));
	assert_int_equal(f->a.mapping->origin, NAT_ORIGIN_NATPMP);
	assert_int_equal(f->a.mapping->proto, 6);
	/* A PCP request may not take a NAT-PMP mapping. */
	uint8_t pcp[60];
	ask(f, pcp, pcp_map(pcp, NONCE_A, 6, 80, 0, 600));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_NOT_OWNER);
	/* Renew, delete (3.4: external port and lifetime 0 in the answer). */
	ask(f, req, natpmp_map(req, 2, 80, 0, 7200));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_RENEWED);
	assert_int_equal(get16(f->a.buf + 10), 8080);
	ask(f, req, natpmp_map(req, 2, 80, 0, 0));
	assert_int_equal(f->a.facts.decision, PCP_DECISION_DELETED);
	assert_int_equal(get16(f->a.buf + 10), 0);
	assert_int_equal(get32(f->a.buf + 12), 0);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	/* Unsupported opcode: result 5; a short map request: ignored. */
	req[1] = 9;
	ask(f, req, 12);
	assert_int_equal(f->a.len, 8);
	assert_int_equal(f->a.buf[1], 128 + 9);
	assert_int_equal(get16(f->a.buf + 2), 5);
	natpmp_map(req, 1, 5000, 0, 60);
	ask(f, req, 11);
	assert_int_equal(f->a.len, 0);
	assert_int_equal(f->a.facts.decision, PCP_DECISION_IGNORED);
}

/* Section 9: with NAT-PMP off, a NAT-PMP request gets PCP's UNSUPP_VERSION;
 * with PCP off, a PCP request gets NAT-PMP's Unsupported Version (RFC 6886
 * 3.5 with erratum 3618: opcode 128, 8 bytes). */
static void test_versions_across(void **state)
{
	struct fx *f = *state;
	uint8_t req[60] = {0, 1};
	struct nat_config cfg = *nat_config(f->nat);

	cfg.natpmp = false;
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	ask(f, req, natpmp_map(req, 1, 5000, 0, 600));
	assert_int_equal(f->a.len, 24);
	assert_int_equal(f->a.buf[0], 2);
	assert_int_equal(f->a.buf[3], 1);
	cfg.natpmp = true;
	cfg.pcp = false;
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	ask(f, req, pcp_map(req, NONCE_A, 17, 5000, 0, 600));
	static const uint8_t unsupp[8] = {0, 128, 0, 1, 0, 0, 0, 0};
	assert_int_equal(f->a.len, 8);
	assert_memory_equal(f->a.buf, unsupp, sizeof(unsupp));
	assert_int_equal(f->a.facts.protocol, NAT_ORIGIN_NATPMP);
}

/* ---- through a router ---------------------------------------------------- */

struct rworld {
	struct net *net;
	struct trace_log *log;
	struct router *home;
	struct host *alice, *server;
	struct host_socket *ctl, *app, *srv;
	struct test_inbox ctl_box, app_box, srv_box;
};

/* alice 192.168.1.5 -- [home 192.168.1.1 | 203.0.113.7] -- server 203.0.113.50 */
static void rworld_open(struct rworld *w, bool pcp)
{
	struct nat_config nc;

	assert_int_equal(test_net_open(&w->net, &w->log, 3), 0);
	explain_attach(net_trace(w->net));
	w->home = router_new(w->net, "home");
	struct iface *lan = router_add_iface(w->home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(w->home, "wan", PUB, 24);
	w->alice = host_new(w->net, "alice", CLIENT.ip, 24, IP4(192, 168, 1, 1));
	w->server = host_new(w->net, "server", IP4(203, 0, 113, 50), 24, PUB);
	test_wire(w->net, "lan", lan, host_iface(w->alice));
	test_wire(w->net, "wan", wan, host_iface(w->server));
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "symmetric"), 0);
	nc.pcp = pcp;
	assert_non_null(router_enable_nat(w->home, wan, &nc));
	w->ctl = host_udp_bind(w->alice, CLIENT.port, test_inbox_recv, &w->ctl_box);
	w->app = host_udp_bind(w->alice, 5000, test_inbox_recv, &w->app_box);
	w->srv = host_udp_bind(w->server, 4000, test_inbox_recv, &w->srv_box);
}

static void rworld_close(struct rworld *w)
{
	test_net_close(w->net, w->log);
}

static void test_router_serves_pcp(void **state)
{
	(void)state;
	struct rworld w = {0};
	uint8_t req[60];
	struct endpoint server = {IP4(192, 168, 1, 1), PCP_SERVER_PORT};

	rworld_open(&w, true);
	assert_int_not_equal(
	    host_udp_sendto(w.ctl, &server, req, pcp_map(req, NONCE_A, 17, 5000, 0, 3600)), 0);
	test_run_ms(w.net, 10);
	/* The answer came back from 192.168.1.1:5351. */
	assert_int_equal(w.ctl_box.n, 1);
	assert_int_equal(w.ctl_box.from.ip, server.ip);
	assert_int_equal(w.ctl_box.from.port, PCP_SERVER_PORT);
	const uint8_t *answer = (const uint8_t *)w.ctl_box.last;
	assert_int_equal(answer[3], 0);
	uint16_t port = get16(answer + 42); /* a random port: the NAT is symmetric */
	assert_non_null(
	    nat_mapping_by_external(router_nat(w.home), 17, &(struct endpoint){PUB, port}));
	/* Unsolicited, from a host alice never talked to, through a symmetric
	 * NAT: it arrives, as through a port forward. */
	assert_int_not_equal(host_udp_sendto(w.srv, &(struct endpoint){PUB, port}, "in", 2), 0);
	test_run_ms(w.net, 10);
	assert_int_equal(w.app_box.n, 1);
	assert_string_equal(w.app_box.last, "in");
	/* Its flow keeps Linux's UDP timeout (30 s unreplied), not the
	 * mapping's hour: a PCP mapping is a DNAT rule, not a binding. */
	const struct trace_conntrack *ct = NULL;
	int64_t at = 0;
	for (size_t i = 0; i < trace_log_count(w.log); i++) {
		const struct trace_record *r = trace_log_get(w.log, i);
		if (r->kind == TRACE_CONNTRACK && r->u.ct.event == TRACE_CT_NEW &&
		    r->u.ct.orig.src == IP4(203, 0, 113, 50))
			ct = &r->u.ct, at = r->time;
	}
	assert_non_null(ct);
	assert_int_equal(ct->expires_at - at, SIM_S(30));
	rworld_close(&w);
}

/* PCP off (the default): 5351 is a closed port like any other. */
static void test_router_pcp_off(void **state)
{
	(void)state;
	struct rworld w = {0};
	uint8_t req[60];
	struct endpoint server = {IP4(192, 168, 1, 1), PCP_SERVER_PORT};

	rworld_open(&w, false);
	uint64_t id = host_udp_sendto(w.ctl, &server, req, pcp_map(req, NONCE_A, 17, 5000, 0, 60));
	test_run_ms(w.net, 10);
	assert_int_equal(w.ctl_box.n, 0);
	assert_int_equal(test_drop_of(w.log, id)->reason, TRACE_DROP_NO_SOCKET);
	assert_int_equal(nat_mapping_count(router_nat(w.home)), 0);
	rworld_close(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_map_created, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lifetime_clamped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nonce_renew_refuse_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_admits_anyone_and_expires, setup_symmetric,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_suggested_taken_and_adopted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reboot_resets_epoch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_not_owned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcp_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcp_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_natpmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions_across, setup, teardown),
	    cmocka_unit_test(test_router_serves_pcp),
	    cmocka_unit_test(test_router_pcp_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
