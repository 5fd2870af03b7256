/*
 * fuzz_portmap.c - libFuzzer target: the agent's port-mapping client
 * (p2p/agent_portmap.c) fed whatever its router might send.
 *
 * An agent with the port-mapping technique asks its gateway; the input is a
 * series of answers, each a length byte, a control byte and that many bytes
 * (cut short at the end of the input). Control bit 0 copies the nonce of
 * the agent's latest PCP request into a PCP-sized answer (so that the fuzzer
 * reaches past the nonce check), bit 1 moves time on by (control >> 2)
 * seconds and runs the agent's timers, bit 2 delivers an ICMP error about
 * the latest request instead. Whatever arrives, the agent must not crash,
 * must not read past an answer, must keep its deadline in the future of its
 * last tick, and may ask the router only a bounded number of times.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/agent.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct p2p_endpoint GATEWAY = {.ip = 0xC0A80101u, .port = 5351};
static const struct p2p_endpoint LOCAL = {.ip = 0xC0A80105u, .port = 5000};

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

/* Drain what the agent sends; keep the latest request to the router. */
static size_t drain(struct agent *a, uint8_t last[60], size_t *last_len)
{
	struct p2p_datagram d;
	struct p2p_event e;
	size_t asked = 0;

	while (agent_pop_datagram(a, &d)) {
		if (!p2p_endpoint_equal(&d.to, &GATEWAY))
			continue;
		asked++;
		*last_len = d.len < 60 ? d.len : 60;
		memcpy(last, d.buf, *last_len);
	}
	while (agent_pop_event(a, &e))
		;
	return asked;
}

static void answer(struct agent *a, uint64_t now, uint8_t control, const uint8_t *p, size_t n,
		   const uint8_t *last, size_t last_len)
{
	/* An exact-size copy: ASan then sees any read past the answer. */
	uint8_t *buf = malloc(n + 1);
	if (buf == NULL)
		return;
	memcpy(buf, p, n);
	if ((control & 1) && n >= 36 && last_len == 60)
		memcpy(buf + 24, last + 24, 12);
	agent_input(a, now, &GATEWAY, buf, n);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t rng = 0x9E3779B97F4A7C15ull, now = 0;
	static const uint8_t seed[32] = {7};
	struct agent_config c = {.name = "alice",
				 .local = LOCAL,
				 .coordinator = {.ip = 0xC0000201u, .port = 3478},
				 .key_seed = seed,
				 .random = {fill, &rng},
				 .techniques = AGENT_TECH_PORT_MAPPING,
				 .gateway = GATEWAY};
	struct agent *a = agent_new(&c);
	uint8_t last[60];
	size_t last_len = 0, asked = 0;

	if (a == NULL)
		return 0;
	agent_register(a, now);
	asked += drain(a, last, &last_len);
	for (size_t i = 0; i + 2 <= size;) {
		size_t n = data[i];
		uint8_t control = data[i + 1];
		i += 2;
		n = n < size - i ? n : size - i;
		if (control & 2) {
			now += (uint64_t)(control >> 2) * P2P_NS_PER_S;
			agent_tick(a, now);
		}
		if (control & 4) {
			struct p2p_icmp_error err = {.local = LOCAL,
						     .remote = GATEWAY,
						     .reporter = p2p_endpoint4(GATEWAY.ip, 0),
						     .type = 3,
						     .code = (uint8_t)(control >> 3)};
			agent_handle_icmp_error(a, now, &err);
		} else {
			answer(a, now, control, data + i, n, last, last_len);
		}
		i += n;
		asked += drain(a, last, &last_len);
		if (agent_next_deadline(a) < now)
			abort(); /* a timer in the past: it would spin */
	}
	/* Bounded: an ask is at most 9 datagrams (3 PCP, 3 x 2 NAT-PMP); a
	 * renewal comes at least 30 s after a grant, a failed one again at
	 * half the time left (a few more near the end). */
	if (asked > 9 * (20 + now / (15 * P2P_NS_PER_S)))
		abort();
	agent_release_mappings(a, now);
	drain(a, last, &last_len);
	agent_free(a);
	return 0;
}
