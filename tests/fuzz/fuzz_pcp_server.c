/*
 * fuzz_pcp_server.c - libFuzzer target: a NAT's PCP / NAT-PMP server
 * (model/pcp_server.c) and the explicit mappings it makes (model/nat.c).
 *
 * The first byte picks the server's configuration (PCP, NAT-PMP, the
 * mapping behaviour, the port assignment); the rest is requests, each
 * after a 2-byte length, sent one after another a minute of virtual time apart, so
 * that creation, renewal, refusal, deletion and expiry meet. Whatever
 * arrives, the server must not crash, must answer within its buffer in the
 * protocol it names, and a mapping it says it granted must be in the table,
 * admitting the address it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/nat.h"
#include "model/pcp_server.h"
#include "sim/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(struct nat *nat, const struct pcp_answer *a)
{
	if (a->len > sizeof(a->buf) || a->facts.decision >= PCP_DECISION_COUNT)
		abort();
	if (a->len > 0 && !((a->buf[0] == 0 || a->buf[0] == 2) && (a->buf[1] & 0x80)))
		abort(); /* a response, in a version this server speaks */
	if (a->mapping != NULL &&
	    nat_mapping_by_external(nat, a->mapping->proto, &a->mapping->external) != a->mapping)
		abort();
	if (a->mapping != NULL && !pcp_decision_succeeded(a->facts.decision))
		abort();
}

static void serve(struct nat *nat, const uint8_t *req, size_t len)
{
	static const struct endpoint client = {0xC0A80105u, 5350};
	struct pcp_answer a;
	/* An exact-size copy: ASan then sees any read past the request. */
	uint8_t *copy = malloc(len + 1);

	if (copy == NULL)
		return;
	memcpy(copy, req, len);
	pcp_server_answer(nat, &client, copy, len, &a);
	check(nat, &a);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct engine *e;
	struct nat *nat;
	struct nat_config cfg;

	if (size < 1 || (e = engine_new()) == NULL)
		return 0;
	nat_config_default(&cfg);
	cfg.n_public = 1;
	cfg.public_ip[0] = 0xCB007107u;
	cfg.pcp = data[0] & 1;
	cfg.natpmp = data[0] & 2;
	cfg.mapping = (enum nat_behaviour)((data[0] >> 2) % 3);
	cfg.ports = (enum nat_port_assignment)((data[0] >> 4) % 3);
	if (data[0] & 64) { /* a tiny range: exhaustion */
		cfg.port_lo = 40000;
		cfg.port_hi = 40002;
	}
	nat = nat_new(e, "home", &cfg, NULL);
	/* Then requests, each after a 2-byte length (its low 11 bits). */
	for (size_t at = 1; nat != NULL && at + 2 <= size;) {
		size_t len = (size_t)((data[at] << 8 | data[at + 1]) & 0x7FF);
		at += 2;
		if (len > size - at)
			len = size - at;
		serve(nat, data + at, len);
		at += len;
		engine_run_until(e, engine_now(e) + SIM_S(60));
	}
	nat_free(nat);
	engine_free(e);
	return 0;
}
