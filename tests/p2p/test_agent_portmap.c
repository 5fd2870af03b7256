/*
 * test_agent_portmap.c - the agent asks its router for a mapping (PCP, then
 * NAT-PMP; p2p/agent_portmap.c). One agent on a public address, a real
 * coordinator, and a router played by the test: its answers are written
 * here byte by byte from RFC 6887 7.2 / 11.1 and RFC 6886 3.2-3.5, not by
 * p2p/pcp.c, so a codec mistake cannot hide on both sides. Time moves by
 * hand; nothing sleeps. NATSIM_TEST_VERBOSE=1 prints the events.
 */
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
#include "p2p/stun.h"

#define MS P2P_NS_PER_MS
#define S P2P_NS_PER_S
#define MAX_SEEN 64

static const struct p2p_endpoint COORD = {.ip = 0xC0000201u, .port = 3478};  /* 192.0.2.1 */
static const struct p2p_endpoint LOCAL = {.ip = 0xC0A80105u, .port = 5000};  /* 192.168.1.5 */
static const struct p2p_endpoint ROUTER = {.ip = 0xC0A80101u, .port = 5351}; /* 192.168.1.1 */
static const uint32_t PUBLIC_IP = 0xCB007107u;				     /* 203.0.113.7 */

struct seen {
	uint64_t at;
	struct p2p_datagram d;
};

struct rig {
	uint64_t now, rng;
	struct agent *ag;
	struct coord *co;
	struct seen router[MAX_SEEN]; /* what the agent sent the router */
	size_t n_router;
	unsigned connects;	 /* CONNECT requests that reached the coordinator */
	struct p2p_datagram reg; /* the last REGISTER */
	unsigned drop_registers; /* REGISTERs to lose on the way */
	char log[32][256];	 /* AGENT_EV_TECHNIQUE texts */
	size_t n_log;
	bool verbose;
};

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

static void to_coordinator(struct rig *r, const struct p2p_datagram *d)
{
	struct stun_msg m;
	if (stun_decode(d->buf, d->len, false, &m) == STUN_OK && m.cls == STUN_CLASS_REQUEST) {
		if (m.method == STUN_METHOD_CONNECT)
			r->connects++;
		if (m.method == STUN_METHOD_REGISTER) {
			r->reg = *d;
			if (r->drop_registers > 0) {
				r->drop_registers--;
				return;
			}
		}
	}
	coord_input(r->co, r->now, &COORD, &d->from, d->buf, d->len);
}

/* Everything queued, both ways, until quiet. */
static void pump(struct rig *r)
{
	struct p2p_datagram d;
	struct p2p_event e;
	bool more = true;

	while (more) {
		more = false;
		while (agent_pop_datagram(r->ag, &d)) {
			more = true;
			assert_int_equal(d.socket, 0); /* from our own socket */
			if (p2p_endpoint_equal(&d.to, &COORD)) {
				to_coordinator(r, &d);
			} else {
				assert_true(p2p_endpoint_equal(&d.to, &ROUTER));
				assert_true(r->n_router < MAX_SEEN);
				r->router[r->n_router++] = (struct seen){r->now, d};
			}
		}
		while (coord_pop_datagram(r->co, &d)) {
			more = true;
			agent_input(r->ag, r->now, &COORD, d.buf, d.len);
		}
	}
	while (agent_pop_event(r->ag, &e)) {
		if (r->verbose)
			printf("%8.3fs %s %s\n", (double)r->now / S, agent_event_name(e.type),
			       e.text);
		if (e.type == AGENT_EV_TECHNIQUE && r->n_log < 32)
			snprintf(r->log[r->n_log++], sizeof(r->log[0]), "%s", e.text);
	}
}

/* Runs the agent's timers up to `until`. */
static void run_until(struct rig *r, uint64_t until)
{
	for (;;) {
		pump(r);
		uint64_t t = agent_next_deadline(r->ag);
		uint64_t c = coord_next_deadline(r->co);
		t = c < t ? c : t;
		if (t > until)
			break;
		r->now = t > r->now ? t : r->now;
		agent_tick(r->ag, r->now);
		coord_tick(r->co, r->now);
	}
	r->now = until;
	pump(r);
}

static struct rig *rig_new(unsigned techniques)
{
	struct rig *r = calloc(1, sizeof(*r));
	uint8_t seed[32];

	assert_non_null(r);
	r->rng = 0x9E3779B97F4A7C15ull;
	r->verbose = getenv("NATSIM_TEST_VERBOSE") != NULL;
	struct coord_config cc = {.primary = COORD, .random = {fill, &r->rng}};
	r->co = coord_new(&cc);
	assert_non_null(r->co);
	memset(seed, 7, sizeof(seed));
	struct agent_config ac = {.name = "alice",
				  .local = LOCAL,
				  .coordinator = COORD,
				  .key_seed = seed,
				  .random = {fill, &r->rng},
				  .techniques = techniques,
				  .gateway = {.ip = ROUTER.ip, .port = 0}}; /* port 0: 5351 */
	r->ag = agent_new(&ac);
	assert_non_null(r->ag);
	return r;
}

static void rig_free(struct rig *r)
{
	agent_free(r->ag);
	coord_free(r->co);
	free(r);
}

static bool logged(const struct rig *r, const char *needle)
{
	for (size_t i = 0; i < r->n_log; i++)
		if (strstr(r->log[i], needle) != NULL)
			return true;
	return false;
}

static size_t count_logged(const struct rig *r, const char *needle)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_log; i++)
		n += strstr(r->log[i], needle) != NULL;
	return n;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
	p[3] = (uint8_t)v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

/* The router's PCP answer to request `req` (RFC 6887 7.2, 11.1): the
 * request's MAP part echoed, the assigned endpoint in it. */
static void answer_pcp(struct rig *r, const struct p2p_datagram *req, uint8_t result,
		       uint16_t ext_port, uint32_t lifetime, uint32_t epoch)
{
	uint8_t b[60];

	assert_int_equal(req->len, 60);
	memcpy(b, req->buf, 60);
	b[1] |= 0x80; /* R */
	b[2] = 0;
	b[3] = result;
	wr32(b + 4, lifetime);
	wr32(b + 8, epoch);
	memset(b + 12, 0, 12);
	wr16(b + 24 + 18, ext_port);
	memset(b + 24 + 20, 0, 10);
	b[24 + 30] = b[24 + 31] = 0xff;
	wr32(b + 24 + 32, PUBLIC_IP);
	agent_input(r->ag, r->now, &ROUTER, b, sizeof(b));
	pump(r);
}

/* A MAP request as RFC 6887 11.1 lays it out, with `lifetime`. */
static void assert_pcp_map(const struct p2p_datagram *d, uint32_t lifetime)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	assert_int_equal(d->len, 60);
	assert_int_equal(d->buf[0], 2); /* version */
	assert_int_equal(d->buf[1], 1); /* R = 0, MAP */
	assert_int_equal(rd32(d->buf + 4), lifetime);
	assert_memory_equal(d->buf + 8, v4mapped, 12);
	assert_int_equal(rd32(d->buf + 20), LOCAL.ip); /* our address, as sent from */
	assert_int_equal(d->buf[24 + 12], 17);	       /* UDP */
	assert_int_equal(rd16(d->buf + 24 + 16), LOCAL.port);
}

/* Registered, and the first request to the router answered or not. */
static struct rig *rig_registered(unsigned techniques)
{
	struct rig *r = rig_new(techniques);
	agent_register(r->ag, r->now);
	pump(r);
	assert_int_equal(agent_connect(r->ag, r->now, "bob"), AGENT_OK);
	pump(r);
	return r;
}

/* Whether the last REGISTER offered `ep` as a mapped candidate. */
static bool registered_mapped(const struct rig *r, struct p2p_endpoint ep)
{
	struct stun_msg m;
	struct coord_candidate c;

	assert_int_equal(stun_decode(r->reg.buf, r->reg.len, false, &m), STUN_OK);
	for (size_t i = 0; i < m.n_attrs; i++)
		if (m.attrs[i].type == STUN_ATTR_NATSIM_CANDIDATE &&
		    coord_parse_candidate(&m, &m.attrs[i], &c) == 0 &&
		    c.type == COORD_CAND_MAPPED && p2p_endpoint_equal(&c.ep, &ep))
			return true;
	return false;
}

/* ---- PCP granted ---- */

static void test_grant(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	/* One MAP request at once; the CONNECT waits for the router. */
	assert_int_equal(r->n_router, 1);
	assert_pcp_map(&r->router[0].d, 7200);
	assert_int_equal(r->connects, 0);
	assert_true(logged(r, "asking the router 192.168.1.1:5351 to map our UDP port 5000"));

	r->now += 2 * MS;
	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 42);
	assert_true(logged(r, "the router mapped 203.0.113.7:5000 for us for 7200 s by PCP"));
	/* Registered again with the mapped candidate, then the CONNECT. */
	assert_true(registered_mapped(r, (struct p2p_endpoint){.ip = PUBLIC_IP, .port = 5000}));
	assert_int_equal(r->connects, 1);
	rig_free(r);
}

/* The CONNECT waits for the REGISTER that carries the mapping, or the
 * coordinator could introduce us with the old candidates. */
static void test_connect_waits_for_the_new_registration(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	r->drop_registers = 1;
	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 42);
	assert_true(registered_mapped(r, (struct p2p_endpoint){.ip = PUBLIC_IP, .port = 5000}));
	assert_int_equal(r->connects, 0); /* that REGISTER was lost */
	run_until(r, 2 * S);		  /* its retransmission is answered */
	assert_int_equal(r->connects, 1);
	rig_free(r);
}

static void test_refused(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_pcp(r, &r->router[0].d, 2 /* NOT_AUTHORIZED */, 0, 0, 42);
	assert_true(logged(r, "no port mapping: the router refused by PCP: NOT_AUTHORIZED"));
	assert_false(registered_mapped(r, (struct p2p_endpoint){.ip = PUBLIC_IP, .port = 5000}));
	assert_int_equal(r->connects, 1); /* without it */
	run_until(r, 10 * S);
	assert_int_equal(r->n_router, 1); /* and asks no more */
	rig_free(r);
}

static void test_off_asks_nothing(void **state)
{
	(void)state;
	struct rig *r = rig_registered(0);

	run_until(r, 5 * S);
	assert_int_equal(r->n_router, 0);
	assert_int_equal(r->connects, 1);
	rig_free(r);
}

/* ---- renewal and the router's epoch ---- */

static void test_renewal_at_half_lifetime(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);
	uint8_t nonce[12];

	memcpy(nonce, r->router[0].d.buf + 24, 12);
	answer_pcp(r, &r->router[0].d, 0, 5000, 1200, 42); /* granted less than asked */
	run_until(r, 600 * S - 1);
	assert_int_equal(r->n_router, 1);
	run_until(r, 600 * S);
	assert_int_equal(r->n_router, 2);
	assert_int_equal(r->router[1].at, 600 * S); /* half of what was granted */
	assert_pcp_map(&r->router[1].d, 7200);
	/* RFC 6887 11.2.1: the same nonce, suggesting what it holds. */
	assert_memory_equal(r->router[1].d.buf + 24, nonce, 12);
	assert_int_equal(rd16(r->router[1].d.buf + 24 + 18), 5000);
	assert_int_equal(rd32(r->router[1].d.buf + 24 + 32), PUBLIC_IP);
	/* Renewed quietly: no new event, no new REGISTER needed. */
	size_t before = r->n_log;
	answer_pcp(r, &r->router[1].d, 0, 5000, 1200, 42 + 600);
	assert_int_equal(r->n_log, before);
	run_until(r, 1200 * S);
	assert_int_equal(r->n_router, 3);
	assert_int_equal(r->router[2].at, 1200 * S);
	rig_free(r);
}

/* A router that grants seconds cannot make the agent ask it many times a
 * second: renewals come 30 s apart at the soonest. A huge lifetime is
 * renewed as if it were the one asked. */
static void test_renewal_bounds(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_pcp(r, &r->router[0].d, 0, 5000, 2, 42);
	run_until(r, 30 * S - 1);
	assert_int_equal(r->n_router, 1);
	run_until(r, 30 * S);
	assert_int_equal(r->n_router, 2);
	answer_pcp(r, &r->router[1].d, 0, 5000, 0xffffffffu, 72);
	run_until(r, 30 * S + 3600 * S - 1);
	assert_int_equal(r->n_router, 2);
	run_until(r, 30 * S + 3600 * S);
	assert_int_equal(r->n_router, 3);
	rig_free(r);
}

static void test_epoch_reset_means_reboot(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 1000);
	run_until(r, 3600 * S);
	assert_int_equal(r->n_router, 2);
	/* The router came back 20 s ago with an empty table: a new port. */
	answer_pcp(r, &r->router[1].d, 0, 1025, 7200, 20);
	assert_true(logged(r, "the router rebooted (its epoch says 20 s, but 3600 s have passed "
			      "since it said 1000 s"));
	assert_true(logged(r, "the router mapped 203.0.113.7:1025 for us"));
	assert_true(registered_mapped(r, (struct p2p_endpoint){.ip = PUBLIC_IP, .port = 1025}));
	rig_free(r);
}

static void test_epoch_that_kept_time_is_no_reboot(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 1000);
	run_until(r, 3600 * S);
	answer_pcp(r, &r->router[1].d, 0, 5000, 7200, 1000 + 3600);
	assert_false(logged(r, "rebooted"));
	rig_free(r);
}

/* ---- NAT-PMP ---- */

/* RFC 6886 3.5 (erratum 3618): Unsupported Version, 8 bytes, opcode 128. */
static void answer_natpmp_unsupported(struct rig *r)
{
	uint8_t b[8] = {0, 128, 0, 1};
	wr32(b + 4, 77);
	agent_input(r->ag, r->now, &ROUTER, b, sizeof(b));
	pump(r);
}

/* RFC 6886 3.2 and 3.3 answers to the requests from index `from` on. */
static void answer_natpmp(struct rig *r, size_t from, uint16_t ext_port, uint32_t epoch)
{
	for (size_t i = from; i < r->n_router; i++) {
		const struct p2p_datagram *q = &r->router[i].d;
		uint8_t b[16] = {0, (uint8_t)(q->buf[1] | 0x80), 0, 0};
		size_t n = q->buf[1] == 0 ? 12 : 16;
		wr32(b + 4, epoch);
		if (q->buf[1] == 0) {
			wr32(b + 8, PUBLIC_IP);
		} else {
			memcpy(b + 8, q->buf + 4, 2); /* internal port */
			wr16(b + 10, ext_port);
			memcpy(b + 12, q->buf + 8, 4); /* lifetime as asked */
		}
		agent_input(r->ag, r->now, &ROUTER, b, n);
	}
	pump(r);
}

static void test_natpmp_fallback(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_natpmp_unsupported(r); /* a NAT-PMP-only router */
	assert_true(logged(r, "speaks NAT-PMP only"));
	assert_int_equal(r->connects, 0); /* still asking */
	assert_int_equal(r->n_router, 3);
	const struct p2p_datagram *addr = &r->router[1].d, *map = &r->router[2].d;
	assert_int_equal(addr->len, 2);
	assert_int_equal(addr->buf[1], 0); /* external address */
	assert_int_equal(map->len, 12);
	assert_int_equal(map->buf[0], 0);
	assert_int_equal(map->buf[1], 1); /* map UDP */
	assert_int_equal(rd16(map->buf + 4), LOCAL.port);
	assert_int_equal(rd32(map->buf + 8), 7200);

	answer_natpmp(r, 1, 40001, 77);
	assert_true(logged(r, "the router mapped 203.0.113.7:40001 for us for 7200 s by NAT-PMP"));
	assert_true(registered_mapped(r, (struct p2p_endpoint){.ip = PUBLIC_IP, .port = 40001}));
	assert_int_equal(r->connects, 1);

	/* Delete: a NAT-PMP map request with lifetime 0 and suggested port 0. */
	size_t n = r->n_router;
	agent_release_mappings(r->ag, r->now);
	pump(r);
	assert_int_equal(r->n_router, n + 1);
	const struct p2p_datagram *del = &r->router[n].d;
	assert_int_equal(del->len, 12);
	assert_int_equal(rd16(del->buf + 6), 0);
	assert_int_equal(rd32(del->buf + 8), 0);
	rig_free(r);
}

/* ---- no server ---- */

static void test_no_server_icmp(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);
	struct p2p_icmp_error err = {.local = LOCAL,
				     .remote = ROUTER,
				     .reporter = {.ip = ROUTER.ip},
				     .type = P2P_ICMP_DEST_UNREACH,
				     .code = P2P_ICMP_PORT_UNREACH};

	r->now += 1 * MS;
	assert_int_equal(agent_handle_icmp_error(r->ag, r->now, &err), AGENT_OK);
	pump(r);
	assert_true(logged(r, "no port mapping: the router answered PCP with port unreachable"));
	assert_int_equal(r->connects, 1); /* at once, not after the tries */
	run_until(r, 10 * S);
	assert_int_equal(r->n_router, 1); /* no NAT-PMP: the same port is closed */
	rig_free(r);
}

static void test_no_server_silence(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);
	static const uint64_t at[] = {0, 250, 750, 1000, 1000, 1250, 1250, 1750, 1750};

	run_until(r, 2 * S - 1);
	assert_int_equal(r->connects, 0);
	assert_int_equal(r->n_router, 9); /* 3 PCP, then 3 x (address, map) */
	for (size_t i = 0; i < 9; i++) {
		assert_int_equal(r->router[i].at, at[i] * MS);
		assert_int_equal(r->router[i].d.buf[0], i < 3 ? 2 : 0); /* version */
	}
	assert_true(logged(r, "did not answer PCP"));
	run_until(r, 2 * S);
	assert_true(logged(r, "no port mapping: the router answered neither PCP nor NAT-PMP"));
	assert_int_equal(r->connects, 1);
	run_until(r, 60 * S);
	assert_int_equal(r->n_router, 9);
	rig_free(r);
}

/* ---- delete, and answers that are not ours ---- */

static void test_release_deletes(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);

	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 42);
	agent_release_mappings(r->ag, r->now);
	pump(r);
	assert_int_equal(r->n_router, 2);
	assert_pcp_map(&r->router[1].d, 0); /* lifetime 0: delete (RFC 6887 15) */
	assert_memory_equal(r->router[1].d.buf + 24, r->router[0].d.buf + 24, 12);
	assert_true(logged(r, "asked the router to delete our mapping 203.0.113.7:5000"));
	run_until(r, 7200 * S); /* no renewal after that */
	assert_int_equal(r->n_router, 2);
	rig_free(r);
}

static void test_bad_answers_ignored(void **state)
{
	(void)state;
	struct rig *r = rig_registered(AGENT_TECH_PORT_MAPPING);
	struct p2p_datagram other = r->router[0].d;

	other.buf[24] ^= 0xff; /* someone else's nonce */
	for (int i = 0; i < 5; i++)
		answer_pcp(r, &other, 0, 6000, 7200, 42);
	uint8_t shorty[3] = {2, 0x81, 0};
	agent_input(r->ag, r->now, &ROUTER, shorty, sizeof(shorty));
	pump(r);
	/* Ignored, said a few times only, and still waiting. */
	assert_int_equal(count_logged(r, "ignored a PCP answer from the router: not our nonce"), 3);
	assert_int_equal(r->connects, 0);
	answer_pcp(r, &r->router[0].d, 0, 5000, 7200, 42);
	assert_true(logged(r, "mapped 203.0.113.7:5000"));
	assert_int_equal(r->connects, 1);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grant),
	    cmocka_unit_test(test_connect_waits_for_the_new_registration),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_off_asks_nothing),
	    cmocka_unit_test(test_renewal_at_half_lifetime),
	    cmocka_unit_test(test_renewal_bounds),
	    cmocka_unit_test(test_epoch_reset_means_reboot),
	    cmocka_unit_test(test_epoch_that_kept_time_is_no_reboot),
	    cmocka_unit_test(test_natpmp_fallback),
	    cmocka_unit_test(test_no_server_icmp),
	    cmocka_unit_test(test_no_server_silence),
	    cmocka_unit_test(test_release_deletes),
	    cmocka_unit_test(test_bad_answers_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
