/*
 * test_agent_speed.c - the agent's optional speed layer (p2p/agent_speed.h):
 * the parts that live in agent_speed.c, the spare queue arrays and the
 * summary of the peers' timers. (The hooks an agent obeys are tested with
 * the agent, in test_agent.c.) A build with -DNATSIM_AGENT_SPEED=OFF has no
 * layer: this test then has nothing to check and passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/agent.h"
#include "p2p/agent_speed.h"
#include "p2p/coord.h"

#if NATSIM_AGENT_SPEED

static const struct p2p_endpoint COORD = {.ip = 0xC000020Au, .port = 3478};

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
				  .local = {.ip = 0xCB007109u, .port = 5000},
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

/* ---- the summary of the peers' timers: a world run twice ----
 *
 * Five agents on public addresses and a coordinator, 10 ms apart, in which
 * every kind of peer change happens: direct paths (0-1, 0-2, ...), a pair
 * that only the relay joins (0-3: dropped), a path that dies (1 stops
 * hearing 0 at 8 s: consent expires, reconnect), hard ICMP errors (2's
 * datagrams to 4 are answered port unreachable: pairs fail, relay early), a
 * coordinator that goes silent (20-45 s) while every agent asks for every
 * peer it is not checking (31-40 s: registrations lost, peers fail, ask
 * again and come back), keepalives switched off (agent 2 at 10 s) and data sent after
 * that. Besides their deadlines, every agent is ticked every 7 ms,
 * between its deadlines, when the summary must skip exactly the peers
 * that would do nothing. Run with and without the summary, the world must
 * send the same datagrams and say the same events, to the byte.
 * NATSIM_TEST_VERBOSE=1 prints the events. */

#define TW_AGENTS 5
#define TW_MS P2P_NS_PER_MS
#define TW_LATENCY (10 * TW_MS)
#define TW_EXTRA_TICK (7 * TW_MS)
#define TW_QCAP 8192

struct tw_pkt {
	uint64_t at;
	struct p2p_endpoint src, dst;
	bool icmp; /* an ICMP port unreachable about src -> dst, to src */
	size_t len;
	uint8_t buf[P2P_MAX_DATAGRAM];
};

struct twin {
	bool summary;
	uint64_t now, next_extra, hash, rng[TW_AGENTS + 1];
	size_t datagrams, events, q_head, q_len;
	struct coord *coord;
	struct agent *ag[TW_AGENTS];
	struct tw_pkt *q;
};

static const struct p2p_endpoint TW_COORD = {.ip = 0xC0000201u, .port = 3478};

static struct p2p_endpoint tw_ep(int i)
{
	return (struct p2p_endpoint){.ip = 0x0A000001u + (uint32_t)i, .port = 5000};
}

static int tw_index(const struct p2p_endpoint *ep)
{
	for (int i = 0; i < TW_AGENTS; i++)
		if (p2p_endpoint_equal(
			ep, &(struct p2p_endpoint){.ip = tw_ep(i).ip, .port = tw_ep(i).port}))
			return i;
	return -1;
}

static void tw_mix(struct twin *w, const void *data, size_t len)
{
	const uint8_t *b = data;
	for (size_t i = 0; i < len; i++)
		w->hash = (w->hash ^ b[i]) * 1099511628211ull; /* FNV-1a */
}

static void tw_push(struct twin *w, struct p2p_endpoint src, struct p2p_endpoint dst, bool icmp,
		    const uint8_t *buf, size_t len)
{
	assert_true(w->q_len < TW_QCAP);
	struct tw_pkt *p = &w->q[(w->q_head + w->q_len++) % TW_QCAP];
	*p = (struct tw_pkt){
	    .at = w->now + TW_LATENCY, .src = src, .dst = dst, .icmp = icmp, .len = len};
	if (len > 0) /* an ICMP error carries none */
		memcpy(p->buf, buf, len);
}

static void tw_drain_agent(struct twin *w, int i)
{
	struct p2p_datagram d;
	struct p2p_event e;

	while (agent_pop_datagram(w->ag[i], &d)) {
		tw_mix(w, &w->now, sizeof(w->now));
		tw_mix(w, &d.to, sizeof(d.to));
		tw_mix(w, d.buf, d.len);
		w->datagrams++;
		tw_push(w, d.from, d.to, false, d.buf, d.len);
	}
	while (agent_pop_event(w->ag[i], &e)) {
		tw_mix(w, &e.type, sizeof(e.type));
		tw_mix(w, e.peer, strlen(e.peer));
		tw_mix(w, e.text, strlen(e.text));
		w->events++;
		if (getenv("NATSIM_TEST_VERBOSE"))
			fprintf(stderr, "%d %8.3f a%d %s\n", w->summary, (double)w->now / 1e9, i,
				e.text);
	}
	if (w->summary)
		assert_true(agent_deadlines_agree(w->ag[i]));
}

static void tw_drain(struct twin *w)
{
	struct p2p_datagram d;
	struct coord_event ce;

	while (coord_pop_datagram(w->coord, &d))
		tw_push(w, d.from, d.to, false, d.buf, d.len);
	while (coord_pop_event(w->coord, &ce))
		;
	for (int i = 0; i < TW_AGENTS; i++)
		tw_drain_agent(w, i);
}

/* What the network does to a datagram from agent s (-1: the coordinator)
 * to agent d (-1: the coordinator): 0 deliver, 1 drop, 2 port unreachable. */
static int tw_fate(const struct twin *w, int s, int d)
{
	uint64_t t = w->now;
	if ((s < 0 || d < 0) && t >= 20000 * TW_MS && t < 45000 * TW_MS)
		return 1; /* the coordinator is silent */
	if ((s == 0 && d == 3) || (s == 3 && d == 0))
		return 1; /* only the relay joins them */
	if (s == 0 && d == 1 && t >= 8000 * TW_MS)
		return 1; /* 1 no longer hears 0 */
	if (s == 2 && d == 4)
		return 2; /* nothing listens for 2 there */
	return 0;
}

static void tw_deliver(struct twin *w, const struct tw_pkt *p)
{
	int s = tw_index(&p->src), d = tw_index(&p->dst);

	if (p->icmp) {
		struct p2p_icmp_error err = {.local = p->src,
					     .remote = p->dst,
					     .reporter = p2p_endpoint4(p->dst.ip, 0),
					     .type = 3,
					     .code = 3};
		agent_handle_icmp_error(w->ag[s], w->now, &err);
		return;
	}
	int fate = tw_fate(w, s, d);
	if (fate == 2)
		tw_push(w, p->src, p->dst, true, NULL, 0);
	if (fate != 0)
		return;
	if (d < 0)
		coord_input(w->coord, w->now, &TW_COORD, &p->src, p->buf, p->len);
	else
		agent_input(w->ag[d], w->now, &p->src, p->buf, p->len);
}

static uint64_t tw_next(const struct twin *w)
{
	uint64_t t = coord_next_deadline(w->coord);
	for (int i = 0; i < TW_AGENTS; i++) {
		uint64_t d = agent_next_deadline(w->ag[i]);
		t = d < t ? d : t;
	}
	if (w->q_len && w->q[w->q_head].at < t)
		t = w->q[w->q_head].at;
	return w->next_extra < t ? w->next_extra : t;
}

/* One step: a datagram due, else the timers (and the extra ticks). */
static void tw_step(struct twin *w)
{
	if (w->q_len && w->q[w->q_head].at <= w->now) {
		struct tw_pkt *p = &w->q[w->q_head];
		w->q_head = (w->q_head + 1) % TW_QCAP;
		w->q_len--;
		tw_deliver(w, p);
		return;
	}
	bool extra = w->now >= w->next_extra;
	if (extra)
		w->next_extra = w->now + TW_EXTRA_TICK;
	if (coord_next_deadline(w->coord) <= w->now)
		coord_tick(w->coord, w->now);
	for (int i = 0; i < TW_AGENTS; i++)
		if (extra || agent_next_deadline(w->ag[i]) <= w->now)
			agent_tick(w->ag[i], w->now);
}

static void tw_run_until(struct twin *w, uint64_t end)
{
	for (;;) {
		uint64_t t = tw_next(w);
		if (t > end)
			break;
		if (t > w->now)
			w->now = t;
		tw_step(w);
		tw_drain(w);
	}
	w->now = end;
}

static void tw_fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *x = ctx;
	for (size_t i = 0; i < len; i++) {
		*x = *x * 6364136223846793005ull + 1442695040888963407ull;
		out[i] = (uint8_t)(*x >> 56);
	}
}

static void tw_up(struct twin *w, bool summary)
{
	static const char *names[TW_AGENTS] = {"a0", "a1", "a2", "a3", "a4"};
	const struct agent_speed speed = {.summarize_deadlines = true};
	uint8_t seed[32];

	*w = (struct twin){.summary = summary, .hash = 14695981039346656037ull};
	w->q = calloc(TW_QCAP, sizeof(*w->q));
	assert_non_null(w->q);
	for (int i = 0; i <= TW_AGENTS; i++)
		w->rng[i] = 1000u + (uint64_t)i;
	w->coord = coord_new(
	    &(struct coord_config){.primary = TW_COORD, .random = {tw_fill, &w->rng[TW_AGENTS]}});
	assert_non_null(w->coord);
	for (int i = 0; i < TW_AGENTS; i++) {
		memset(seed, 'k' + i, sizeof(seed));
		struct agent_config ac = {.name = names[i],
					  .local = tw_ep(i),
					  .coordinator = TW_COORD,
					  .key_seed = seed,
					  .random = {tw_fill, &w->rng[i]},
					  .refresh_ns = 5 * P2P_NS_PER_S,
					  .speed = summary ? &speed : NULL};
		w->ag[i] = agent_new(&ac);
		assert_non_null(w->ag[i]);
		agent_register(w->ag[i], 0);
	}
	tw_drain(w);
}

static void tw_down(struct twin *w)
{
	for (int i = 0; i < TW_AGENTS; i++)
		agent_free(w->ag[i]);
	coord_free(w->coord);
	free(w->q);
}

/* Every agent asks for every other peer (agent_connect: a peer it has
 * not met, or one relayed or failed; a direct one stays as it is). */
static void tw_connect_all(struct twin *w)
{
	for (int i = 0; i < TW_AGENTS; i++)
		for (int j = 0; j < TW_AGENTS; j++) {
			char peer[3] = {'a', (char)('0' + j), 0};
			if (i != j)
				assert_int_equal(agent_connect(w->ag[i], w->now, peer), AGENT_OK);
		}
	tw_drain(w);
}

/* The script both runs follow. */
static void tw_script(struct twin *w)
{
	static const int conns[][2] = {{0, 1}, {0, 2}, {0, 3}, {0, 4},
				       {1, 2}, {1, 3}, {3, 4}, {2, 4}};
	static const uint8_t hello[] = "hello";

	tw_run_until(w, 1000 * TW_MS);
	for (size_t k = 0; k < sizeof(conns) / sizeof(conns[0]); k++) {
		char peer[3] = {'a', (char)('0' + conns[k][1]), 0};
		assert_int_equal(agent_connect(w->ag[conns[k][0]], w->now, peer), AGENT_OK);
		tw_drain(w);
		tw_run_until(w, w->now + 3 * TW_MS);
	}
	tw_run_until(w, 10000 * TW_MS);
	agent_set_keepalive(w->ag[2], 0);
	for (uint64_t t = 31000; t <= 40000; t += 1000) {
		tw_run_until(w, t * TW_MS);
		tw_connect_all(w);
	}
	tw_run_until(w, 50000 * TW_MS);
	for (int i = 0; i < TW_AGENTS; i++)
		for (int j = 0; j < TW_AGENTS; j++) {
			char peer[3] = {'a', (char)('0' + j), 0};
			if (i != j)
				agent_send(w->ag[i], w->now, peer, hello, sizeof(hello));
		}
	tw_drain(w);
	tw_run_until(w, 70000 * TW_MS);
}

static void test_summary_changes_nothing(void **state)
{
	(void)state;
	struct twin plain, fast;

	tw_up(&plain, false);
	tw_script(&plain);
	tw_up(&fast, true);
	tw_script(&fast);
	assert_int_equal(fast.datagrams, plain.datagrams);
	assert_int_equal(fast.events, plain.events);
	assert_true(fast.hash == plain.hash);
	assert_true(plain.events > 100); /* the world did something */
	for (int i = 0; i < TW_AGENTS; i++)
		for (int j = 0; j < TW_AGENTS; j++) {
			char peer[3] = {'a', (char)('0' + j), 0};
			assert_int_equal(agent_peer_state(fast.ag[i], peer),
					 agent_peer_state(plain.ag[i], peer));
		}
	tw_down(&plain);
	tw_down(&fast);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spares_passed_between_agents),
	    cmocka_unit_test(test_summary_changes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
	return 0; /* built without the speed layer: nothing of it to test */
}

#endif
