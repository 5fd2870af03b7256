/*
 * test_agent_speed.c - the agent's optional speed layer (p2p/agent_speed.h):
 * the part that lives in agent_speed.c, the spare queue arrays. (The hooks an agent obeys are tested with the agent, in
 * test_agent.c.) A build with -DNATSIM_AGENT_SPEED=OFF has no layer: this
 * test then has nothing to check and passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/agent.h"
#include "p2p/agent_speed.h"

#if NATSIM_AGENT_SPEED

static const struct p2p_endpoint COORD = {0xC000020Au, 3478};

static void fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *x = ctx;
	for (size_t i = 0; i < len; i++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(*x >> 56);
	}
}

static struct agent *agent_with(const char *name, uint64_t *rng, const struct agent_speed *s)
{
	uint8_t seed[32];
	memset(seed, name[0], sizeof(seed));
	struct agent_config ac = {.name = name,
				  .local = {0xCB007109u, 5000},
				  .coordinator = COORD,
				  .key_seed = seed,
				  .random = {fill, rng},
				  .speed = s};
	struct agent *a = agent_new(&ac);
	assert_non_null(a);
	return a;
}

/* The first REGISTER of an agent, popped. */
static struct p2p_datagram first_register(struct agent *a)
{
	struct p2p_datagram d;
	assert_int_equal(agent_register(a, 0), AGENT_OK);
	assert_true(agent_pop_datagram(a, &d));
	assert_false(agent_pop_datagram(a, &d)); /* one REGISTER, nothing else */
	return d;
}

/* A drained queue leaves its array with the spares, and the next agent to
 * speak takes it instead of allocating; what the agents send is the same
 * as without spares. */
static void test_spares_passed_between_agents(void **state)
{
	(void)state;
	struct agent_spares *sp = agent_spares_new();
	assert_non_null(sp);
	struct agent_speed speed = {.spares = sp};
	uint64_t r1 = 1, r2 = 2, r3 = 1;
	struct agent *a = agent_with("alice", &r1, &speed);
	struct agent *b = agent_with("bob", &r2, &speed);
	struct agent *plain = agent_with("alice", &r3, NULL);

	assert_null(sp->datagrams.items);
	struct p2p_datagram da = first_register(a), dp = first_register(plain);
	void *array = sp->datagrams.items;
	assert_non_null(array); /* alice's drained queue gave it back */
	assert_int_equal(da.len, dp.len);
	assert_memory_equal(da.buf, dp.buf, da.len);
	first_register(b);
	assert_ptr_equal(sp->datagrams.items, array); /* bob took it and gave it back */
	agent_free(a);
	agent_free(b);
	agent_free(plain);
	agent_spares_free(sp);
	agent_spares_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spares_passed_between_agents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	return 0; /* built without the speed layer: nothing of it to test */
}

#endif
