/*
 * test_prefetch.c - the prefetch pipeline (sim/prefetch.h, model/prefetch.c)
 * changes no result.
 *
 * A world of many hosts behind one NAT, all sending at the same instants,
 * runs twice with the engine's pipeline switched on (the queue padded past
 * 16 384 pending events with idle events that never run): once with the
 * models' prefetcher registered, once without. The two traces must hash
 * alike, and the first run must really have called the prefetcher at every
 * stage (4, 3, 2 and 1 events ahead). The prefetcher is watched and withheld
 * through the linker (-Wl,--wrap=engine_set_prefetcher, tests/CMakeLists.txt).
 *
 * What no run can catch is a hint that reads a stale offset: it fetches the
 * wrong line and still changes nothing. The _Static_asserts beside every
 * offset in model/prefetch.c catch that at build time.
 *
 * Built with NATSIM_PREFETCH=OFF, no prefetcher is ever registered: the test
 * checks that instead, and that the runs still agree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model/host.h"
#include "model/router.h"
#include "sim/prefetch.h"
#include "support_net.h"

#define PEERS 64
#define ROUNDS 8
#define SERVER IP4(203, 0, 113, 9)
/* The engine's prefetcher stages (sim/engine.c, ENGINE_PREFETCH_STAGES). */
#define STAGES 4

/* What the wrapper saw: how often the engine called the prefetcher, per
 * events-ahead (1 to STAGES), and whether the run registers it at all. */
static struct {
	bool withhold;
	size_t registered;
	size_t calls[STAGES + 1];
	void (*real)(const void *arg, int ahead);
} watch;

bool __real_engine_set_prefetcher(struct engine *e, engine_fn fn,
				  void (*prefetch)(const void *arg, int ahead));
bool __wrap_engine_set_prefetcher(struct engine *e, engine_fn fn,
				  void (*prefetch)(const void *arg, int ahead));

static void counting_prefetch(const void *arg, int ahead)
{
	if (ahead >= 1 && ahead <= STAGES)
		watch.calls[ahead]++;
	watch.real(arg, ahead);
}

bool __wrap_engine_set_prefetcher(struct engine *e, engine_fn fn,
				  void (*prefetch)(const void *arg, int ahead))
{
	watch.registered++;
	if (watch.withhold)
		return true;
	watch.real = prefetch;
	return __real_engine_set_prefetcher(e, fn, counting_prefetch);
}

static void echo(struct host_socket *s, const struct endpoint *from, const struct endpoint *to,
		 const uint8_t *payload, size_t len, void *ctx)
{
	(void)to, (void)ctx;
	host_udp_sendto(s, from, payload, len);
}

static void count_received(struct host_socket *s, const struct endpoint *from,
			   const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	(void)s, (void)from, (void)to, (void)payload, (void)len;
	(*(size_t *)ctx)++;
}

static void idle_event(struct engine *e, void *arg)
{
	(void)e, (void)arg;
}

/* The world: PEERS hosts (their firewalls on, so they track flows) on one
 * LAN behind a port-restricted-cone NAT, and a server on its WAN that
 * echoes. Every peer sends ROUNDS datagrams at once, so arrivals share
 * instants and the engine sees them coming. Returns the trace's hash. */
static uint64_t run_world(size_t *received)
{
	struct net *net;
	struct trace_log *log;
	struct nat_config nc;

	assert_int_equal(test_net_open(&net, &log, 7), 0);
	struct router *r = router_new(net, "nat");
	struct iface *lan = router_add_iface(r, "lan", IP4(192, 168, 0, 1), 24);
	struct iface *wan = router_add_iface(r, "wan", IP4(203, 0, 113, 1), 24);
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "port-restricted-cone"), 0);
	assert_non_null(router_enable_nat(r, wan, &nc));
	struct host *server = host_new(net, "server", SERVER, 24, IP4(203, 0, 113, 1));
	test_wire(net, "wan", wan, host_iface(server));
	assert_non_null(host_udp_bind(server, 3478, echo, NULL));
	test_wire(net, "lan", lan, NULL);

	struct host_socket *socks[PEERS];
	for (int i = 0; i < PEERS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "peer%d", i);
		struct host *h =
		    host_new(net, name, IP4(192, 168, 0, 10 + i), 24, IP4(192, 168, 0, 1));
		assert_non_null(h);
		host_enable_firewall(h, true);
		assert_int_equal(link_attach(lan->link, host_iface(h)), 0);
		socks[i] = host_udp_bind(h, 5000, count_received, received);
		assert_non_null(socks[i]);
	}
	net_announce(net);

	struct engine *e = net_engine(net);
	for (int i = 0; i < 20000; i++) /* never run: they only switch the pipeline on */
		assert_int_not_equal(engine_schedule_at(e, SIM_S(3600) + i, idle_event, NULL), 0);
	struct endpoint to_server = {SERVER, 3478};
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < PEERS; i++)
			assert_int_not_equal(host_udp_sendto(socks[i], &to_server, "ping", 4), 0);
		test_run_ms(net, 10);
	}
	assert_false(trace_log_failed(log));
	uint64_t hash = trace_log_hash(log);
	test_net_close(net, log);
	return hash;
}

static void test_prefetch_changes_no_result(void **state)
{
	size_t with = 0, without = 0;

	(void)state;
	memset(&watch, 0, sizeof(watch));
	uint64_t hash_with = run_world(&with);
	size_t registered = watch.registered;
	size_t calls[STAGES + 1];
	memcpy(calls, watch.calls, sizeof(calls));

	memset(&watch, 0, sizeof(watch));
	watch.withhold = true;
	uint64_t hash_without = run_world(&without);

	assert_int_equal(with, (size_t)PEERS * ROUNDS); /* every echo came back */
	assert_int_equal(without, with);
	assert_true(hash_with == hash_without);
	if (PREFETCH_ENABLED) {
		assert_true(registered > 0);
		for (int ahead = 1; ahead <= STAGES; ahead++)
			assert_true(calls[ahead] > 0);
	} else {
		assert_int_equal(registered, 0); /* compiled out: nothing registers */
		assert_int_equal(watch.registered, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prefetch_changes_no_result),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
