/*
 * test_pcp_interop.c - the client codec (p2p/pcp.h) against the NAT's
 * server (model/pcp_server.h). The two were written apart from the RFC
 * layouts and share no code (p2p/ and model/ stand apart); here each reads
 * what the other writes: a MAP granted, renewed, refused for another
 * nonce, deleted; NAT-PMP's address and mappings; and each protocol's
 * answer to the other's version (RFC 6887 section 9).
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pcp_map_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_natpmp_round_trips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
