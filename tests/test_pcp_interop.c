/*
 * test_pcp_interop.c - the client codec (p2p/pcp.h) against the NAT's
 * server (model/pcp_server.h). The two were written apart from the RFC
 * layouts and share no code (p2p/ and model/ stand apart); here each reads
 * what the other writes: a MAP granted, renewed, refused for another
 * nonce, deleted; NAT-PMP's address and mappings; and each protocol's
 * answer to the other's version (RFC 6887 section 9). Then the whole
 * client, the agent (p2p/agent_portmap.c), against the same server: a
 * mapping in the NAT's table, renewed, remade after a reboot, deleted; and
 * the fallback to NAT-PMP when the server speaks only that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/nat.h"
#include "model/pcp_server.h"
#include "p2p/agent.h"
#include "p2p/pcp.h"
#include "sim/engine.h"

#define PUB 0xCB007107u /* 203.0.113.7 */

static const struct endpoint CLIENT = {0xC0A80105u, 5350}; /* 192.168.1.5 */

struct fx {
	struct engine *e;
	struct nat *nat;
	struct pcp_answer a;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct nat_config cfg;

	if (f == NULL || (f->e = engine_new()) == NULL)
		return -1;
	nat_config_default(&cfg);
	cfg.n_public = 1;
	cfg.public_ip[0] = PUB;
	cfg.pcp = cfg.natpmp = true;
	f->nat = nat_new(f->e, "home", &cfg, NULL);
	*state = f;
	return f->nat != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	nat_free(f->nat);
	engine_free(f->e);
	free(f);
	return 0;
}

static void map_request(const uint8_t nonce[PCP_NONCE_SIZE], uint32_t lifetime, uint8_t *buf)
{
	struct pcp_map_request req = {.client_ip = CLIENT.ip,
				      .lifetime = lifetime,
				      .protocol = 17,
				      .internal_port = 5000,
				      .suggested_port = 7000};

	memcpy(req.nonce, nonce, PCP_NONCE_SIZE);
	assert_int_equal(pcp_map_request_write(&req, buf, PCP_MAP_MESSAGE_SIZE),
			 PCP_MAP_MESSAGE_SIZE);
}

static struct pcp_map_response *pcp_round(struct fx *f, const uint8_t nonce[PCP_NONCE_SIZE],
					  uint32_t lifetime, enum pcp_parse want)
{
	static struct pcp_map_response r;
	uint8_t buf[PCP_MAP_MESSAGE_SIZE];

	map_request(nonce, lifetime, buf);
	pcp_server_answer(f->nat, &CLIENT, buf, sizeof(buf), &f->a);
	assert_int_equal(pcp_map_response_read(f->a.buf, f->a.len, nonce, &r), want);
	return &r;
}

static void test_pcp_map_lifecycle(void **state)
{
	struct fx *f = *state;
	static const uint8_t mine[PCP_NONCE_SIZE] = "natsim-pcp1";
	static const uint8_t theirs[PCP_NONCE_SIZE] = "someone-els";

	engine_run_until(f->e, SIM_S(42));
	struct pcp_map_response *r = pcp_round(f, mine, 7200, PCP_PARSE_OK);
	assert_int_equal(r->result, PCP_SUCCESS);
	assert_true(r->has_map);
	assert_int_equal(r->lifetime, 7200);
	assert_int_equal(r->epoch, 42);
	assert_int_equal(r->external_ip, PUB);
	assert_int_equal(r->external_port, 7000);
	assert_int_equal(r->internal_port, 5000);
	r = pcp_round(f, theirs, 7200, PCP_PARSE_OK);
	assert_int_equal(r->result, PCP_NOT_AUTHORIZED);
	assert_string_equal(pcp_result_name(r->result), "NOT_AUTHORIZED");
	r = pcp_round(f, mine, 0, PCP_PARSE_OK);
	assert_int_equal(r->result, PCP_SUCCESS);
	assert_int_equal(r->lifetime, 0);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	/* An answer to someone else's request is not ours. */
	uint8_t buf[PCP_MAP_MESSAGE_SIZE];
	struct pcp_map_response other;
	map_request(theirs, 600, buf);
	pcp_server_answer(f->nat, &CLIENT, buf, sizeof(buf), &f->a);
	assert_int_equal(pcp_map_response_read(f->a.buf, f->a.len, mine, &other), PCP_PARSE_NONCE);
}

static void test_natpmp_round_trips(void **state)
{
	struct fx *f = *state;
	uint8_t buf[NATPMP_MAP_REQUEST_SIZE];
	struct natpmp_response r;

	engine_run_until(f->e, SIM_S(9));
	pcp_server_answer(f->nat, &CLIENT, buf, natpmp_address_request_write(buf, sizeof(buf)),
			  &f->a);
	assert_int_equal(natpmp_response_read(f->a.buf, f->a.len, NATPMP_OPCODE_ADDRESS, &r),
			 PCP_PARSE_OK);
	assert_int_equal(r.external_ip, PUB);
	assert_int_equal(r.epoch, 9);
	size_t n = natpmp_map_request_write(NATPMP_OPCODE_MAP_TCP, 22, 2222, 60, buf, sizeof(buf));
	pcp_server_answer(f->nat, &CLIENT, buf, n, &f->a);
	assert_int_equal(natpmp_response_read(f->a.buf, f->a.len, NATPMP_OPCODE_MAP_TCP, &r),
			 PCP_PARSE_OK);
	assert_int_equal(r.result, NATPMP_SUCCESS);
	assert_int_equal(r.external_port, 2222);
	assert_int_equal(r.lifetime, 120); /* clamped up to the server's minimum */
	n = natpmp_map_request_write(NATPMP_OPCODE_MAP_TCP, 22, 0, 0, buf, sizeof(buf));
	pcp_server_answer(f->nat, &CLIENT, buf, n, &f->a);
	assert_int_equal(natpmp_response_read(f->a.buf, f->a.len, NATPMP_OPCODE_MAP_TCP, &r),
			 PCP_PARSE_OK);
	assert_int_equal(r.external_port, 0);
	assert_int_equal(nat_mapping_count(f->nat), 0);
}

/* Section 9: each client learns that the server speaks only the other
 * protocol. */
static void test_versions(void **state)
{
	struct fx *f = *state;
	struct nat_config cfg = *nat_config(f->nat);
	uint8_t buf[PCP_MAP_MESSAGE_SIZE];
	struct natpmp_response nr;
	static const uint8_t nonce[PCP_NONCE_SIZE] = "natsim-pcp1";

	cfg.pcp = false;
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	pcp_round(f, nonce, 600, PCP_PARSE_NATPMP_ONLY);
	cfg.pcp = true;
	cfg.natpmp = false;
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	size_t n = natpmp_map_request_write(NATPMP_OPCODE_MAP_UDP, 5000, 0, 600, buf, sizeof(buf));
	pcp_server_answer(f->nat, &CLIENT, buf, n, &f->a);
	assert_int_equal(natpmp_response_read(f->a.buf, f->a.len, NATPMP_OPCODE_MAP_UDP, &nr),
			 PCP_PARSE_VERSION);
	assert_int_equal(f->a.buf[3], PCP_UNSUPP_VERSION);
}

/* ---- the agent against the server ---- */

static const struct p2p_endpoint GATEWAY = {.ip = 0xC0A80101u, .port = 5351}; /* 192.168.1.1 */

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

static struct agent *asking_agent(uint64_t *rng)
{
	static const uint8_t seed[32] = {1};
	struct agent_config c = {
	    .name = "alice",
	    .local = {.ip = CLIENT.ip, .port = 5000},
	    .coordinator = {.ip = 0xC0000201u, .port = 3478}, /* answers nothing here */
	    .key_seed = seed,
	    .random = {fill, rng},
	    .techniques = AGENT_TECH_PORT_MAPPING,
	    .gateway = GATEWAY,
	    .mapping_lifetime_s = 600};
	struct agent *a = agent_new(&c);
	assert_non_null(a);
	return a;
}

/* Datagrams to the gateway go to the server and its answers come back;
 * the rest is lost. Returns how many requests the server saw. */
static unsigned exchange(struct fx *f, struct agent *a, uint64_t now)
{
	struct p2p_datagram d;
	struct endpoint from = {CLIENT.ip, 5000};
	unsigned n = 0;

	while (agent_pop_datagram(a, &d)) {
		if (!p2p_endpoint_equal(&d.to, &GATEWAY))
			continue;
		n++;
		pcp_server_answer(f->nat, &from, d.buf, d.len, &f->a);
		if (f->a.len > 0)
			agent_input(a, now, &GATEWAY, f->a.buf, f->a.len);
	}
	return n;
}

/* Both clocks to `until` (seconds), the agent's timers on the way. */
static unsigned run_to(struct fx *f, struct agent *a, int64_t until_s)
{
	uint64_t until = (uint64_t)until_s * P2P_NS_PER_S;
	unsigned n = 0;

	for (uint64_t t; (t = agent_next_deadline(a)) <= until;) {
		engine_run_until(f->e, (int64_t)t);
		agent_tick(a, t);
		n += exchange(f, a, t);
	}
	engine_run_until(f->e, (int64_t)until);
	return n;
}

static bool said(struct agent *a, const char *needle)
{
	struct p2p_event e;
	bool found = false;
	while (agent_pop_event(a, &e))
		found |= strstr(e.text, needle) != NULL;
	return found;
}

static void test_agent_maps_renews_and_deletes(void **state)
{
	struct fx *f = *state;
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	struct agent *a = asking_agent(&rng);
	const struct endpoint ext = {PUB, 5000};

	engine_run_until(f->e, SIM_S(1));
	agent_register(a, P2P_NS_PER_S);
	assert_int_equal(exchange(f, a, P2P_NS_PER_S), 1);
	assert_true(said(a, "the router mapped 203.0.113.7:5000 for us for 600 s by PCP"));
	const struct nat_mapping *m = nat_mapping_by_external(f->nat, 17, &ext);
	assert_non_null(m);
	assert_int_equal(m->origin, NAT_ORIGIN_PCP);
	/* Renewed at half the lifetime, before the NAT's table lets it go. */
	assert_int_equal(run_to(f, a, 300), 0);
	assert_int_equal(run_to(f, a, 301), 1);
	assert_non_null(nat_mapping_by_external(f->nat, 17, &ext));
	assert_int_equal(run_to(f, a, 900), 1); /* the next renewal, at 601 s */
	assert_non_null(nat_mapping_by_external(f->nat, 17, &ext));
	agent_release_mappings(a, 900 * P2P_NS_PER_S);
	assert_int_equal(exchange(f, a, 900 * P2P_NS_PER_S), 1);
	assert_null(nat_mapping_by_external(f->nat, 17, &ext));
	agent_free(a);
}

/* The NAT reboots: its table is empty until the renewal, whose answer's
 * epoch tells the agent why (RFC 6887 8.5), and the renewal remade it. */
static void test_agent_notices_reboot(void **state)
{
	struct fx *f = *state;
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	struct agent *a = asking_agent(&rng);
	const struct endpoint ext = {PUB, 5000};

	agent_register(a, 0);
	exchange(f, a, 0);
	assert_true(said(a, "the router mapped"));
	run_to(f, a, 100);
	nat_reboot(f->nat);
	assert_null(nat_mapping_by_external(f->nat, 17, &ext));
	run_to(f, a, 300);
	assert_true(said(
	    a,
	    "the router rebooted (its epoch says 200 s, but 300 s have passed since it said 0 s"));
	assert_non_null(nat_mapping_by_external(f->nat, 17, &ext));
	agent_free(a);
}

static void test_agent_falls_back_to_natpmp(void **state)
{
	struct fx *f = *state;
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	struct agent *a = asking_agent(&rng);
	struct nat_config cfg = *nat_config(f->nat);
	const struct endpoint ext = {PUB, 5000};

	cfg.pcp = false;
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	agent_register(a, 0);
	/* PCP's answer in version 0, then NAT-PMP's address and mapping. */
	assert_int_equal(exchange(f, a, 0), 3);
	assert_true(said(a, "the router mapped 203.0.113.7:5000 for us for 600 s by NAT-PMP"));
	const struct nat_mapping *m = nat_mapping_by_external(f->nat, 17, &ext);
	assert_non_null(m);
	assert_int_equal(m->origin, NAT_ORIGIN_NATPMP);
	agent_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pcp_map_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_natpmp_round_trips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_maps_renews_and_deletes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_notices_reboot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_falls_back_to_natpmp, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
