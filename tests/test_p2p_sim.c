/*
 * test_p2p_sim.c - the real p2p code (agent, coordinator) running against the
 * simulated models, built in C through the model API (issue: "In the
 * simulator"). Checks the outcome matrix of the six classic peer kinds, peers
 * behind one NAT, NAT discovery of all nine RFC 4787 combinations, mapping
 * expiry with and without keepalives, and that relayed payloads are opaque.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/world/secrets.h"
#include "app/world/simdrive.h"
#include "model/host.h"
#include "model/router.h"
#include "sim/trace_log.h"

#define COORD_IP IP4(192, 0, 2, 10)
#define COORD_ALT IP4(192, 0, 2, 11)

enum kind { OPEN, FIREWALL, FULL_CONE, RESTRICTED, PORT_RESTRICTED, SYMMETRIC, KIND_COUNT };
static const char *const kind_names[] = {
    "open", "firewall", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric"};

struct world {
	struct net *net;
	struct router *inet;
	struct simdrive *drive;
	struct sim_agent *peer[2];
	struct router *nat[2];
	struct trace_log *log;
	int n_uplinks;
	/* events seen by the hook */
	int direct[2], relayed[2], lost[2], upgraded[2], classified[2];
	int pair_failed[2];
	int64_t pair_failed_at[2];
	struct p2p_endpoint pair_failed_remote[2];
	char classic[2][32];
	int mapping[2], filtering[2];
	char path_text[2][256]; /* the last DIRECT or UPGRADED event's */
};

/* Issue 17's settings for every agent add_agent makes (zero: none). */
static struct agent_config hard_settings;

static struct link *uplink(struct world *w, const char *name, struct iface *far, uint32_t prefix)
{
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = SIM_MS(10);
	struct link *l = link_new(w->net, name, &lc);
	char ifname[16];
	snprintf(ifname, sizeof(ifname), "up%d", w->n_uplinks++);
	struct iface *near = router_add_iface(w->inet, ifname, prefix | 1, 24);
	assert_non_null(l);
	assert_non_null(near);
	assert_int_equal(link_attach(l, near), 0);
	assert_int_equal(link_attach(l, far), 0);
	return l;
}

static void on_agent(struct sim_agent *sa, const struct p2p_event *ev, void *ctx)
{
	struct world *w = ctx;
	int i = sa == w->peer[0] ? 0 : sa == w->peer[1] ? 1 : -1;
	if (i < 0)
		return;
	switch (ev->type) {
	case AGENT_EV_DIRECT:
		w->direct[i]++;
		break;
	case AGENT_EV_RELAYED:
		w->relayed[i]++;
		break;
	case AGENT_EV_PATH_LOST:
		w->lost[i]++;
		break;
	case AGENT_EV_UPGRADED:
		w->upgraded[i]++;
		break;
	default:
		break;
	}
	switch (ev->type) {
	case AGENT_EV_DIRECT:
	case AGENT_EV_UPGRADED:
		snprintf(w->path_text[i], sizeof(w->path_text[i]), "%s", ev->text);
		break;
	case AGENT_EV_PAIR_FAILED:
		if (w->pair_failed[i]++ == 0) {
			w->pair_failed_at[i] = engine_now(net_engine(w->net));
			w->pair_failed_remote[i] = ev->remote;
		}
		break;
	case AGENT_EV_NAT_CLASSIFIED:
		w->classified[i]++;
		snprintf(w->classic[i], sizeof(w->classic[i]), "%s",
			 ev->nat.classic_name ? ev->nat.classic_name : "?");
		w->mapping[i] = ev->nat.mapping;
		w->filtering[i] = ev->nat.filtering;
		break;
	default:
		break;
	}
}

static void world_init(struct world *w, uint64_t seed)
{
	memset(w, 0, sizeof(*w));
	w->net = net_new(seed);
	assert_non_null(w->net);
	w->log = trace_log_new();
	assert_int_equal(trace_log_attach(w->log, net_trace(w->net)), 0);
	w->inet = router_new(w->net, "internet");
	w->drive = simdrive_new(w->net);
	simdrive_set_hooks(w->drive, on_agent, NULL, w);

	struct host *c = host_new(w->net, "coord", COORD_IP, 24, IP4(192, 0, 2, 1));
	assert_non_null(c);
	struct iface *alt = host_add_address(c, COORD_ALT, 24);
	assert_non_null(alt);
	struct link *l = uplink(w, "coord-up", host_iface(c), IP4(192, 0, 2, 0));
	assert_int_equal(link_attach(l, alt), 0);
	struct coord_config cc = {.primary = {.ip = COORD_IP, .port = 3478},
				  .has_alternate = true,
				  .alternate = {.ip = COORD_ALT, .port = 3479}};
	assert_non_null(simdrive_add_coord(w->drive, c, &cc));
}

/* Peer i of the given kind: public hosts sit on 203.0.113.0/24 (i=0) or
 * 198.51.100.0/24 (i=1); NATed ones on 192.168.(i+1).0/24 behind a NAT whose
 * public address is there instead. */
static struct host *add_peer_host(struct world *w, int i, enum kind k, const struct nat_config *nc)
{
	uint32_t pub = i == 0 ? IP4(203, 0, 113, 0) : IP4(198, 51, 100, 0);
	char name[32];
	snprintf(name, sizeof(name), "peer%d-up", i);
	if (k == OPEN || k == FIREWALL) {
		struct host *h = host_new(w->net, i == 0 ? "alice" : "bob", pub | 10, 24, pub | 1);
		assert_non_null(h);
		host_enable_firewall(h, k == FIREWALL);
		uplink(w, name, host_iface(h), pub);
		return h;
	}
	struct router *r = router_new(w->net, i == 0 ? "home" : "office");
	struct iface *wan = router_add_iface(r, "wan", pub | 10, 24);
	uint32_t lan_net = IP4(192, 168, i + 1, 0);
	struct iface *lan = router_add_iface(r, "lan", lan_net | 1, 24);
	assert_int_equal(router_add_route(r, 0, 0, wan, pub | 1), 0);
	uplink(w, name, wan, pub);
	struct nat_config cfg;
	if (nc) {
		cfg = *nc;
	} else {
		nat_config_default(&cfg);
		assert_int_equal(nat_config_preset(&cfg, kind_names[k]), 0);
	}
	assert_non_null(router_enable_nat(r, wan, &cfg));
	w->nat[i] = r;
	struct host *h = host_new(w->net, i == 0 ? "alice" : "bob", lan_net | 5, 24, lan_net | 1);
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = SIM_US(500);
	snprintf(name, sizeof(name), "lan%d", i);
	struct link *l = link_new(w->net, name, &lc);
	assert_int_equal(link_attach(l, lan), 0);
	assert_int_equal(link_attach(l, host_iface(h)), 0);
	return h;
}

static struct sim_agent *add_agent(struct world *w, int i, struct host *h, uint64_t keepalive_ns)
{
	struct agent_config ac = {.name = i == 0 ? "alice" : "bob",
				  .local = {.ip = host_address(h), .port = 5000},
				  .coordinator = {.ip = COORD_IP, .port = 3478},
				  .keepalive_ns = keepalive_ns,
				  .techniques = hard_settings.techniques,
				  .probe_rate = hard_settings.probe_rate,
				  .probe_budget = hard_settings.probe_budget,
				  .birthday_sockets = hard_settings.birthday_sockets,
				  .prediction_window = hard_settings.prediction_window};
	struct sim_agent *sa = simdrive_add_agent(w->drive, h, &ac);
	assert_non_null(sa);
	w->peer[i] = sa;
	return sa;
}

static void world_fini(struct world *w)
{
	simdrive_free(w->drive);
	net_free(w->net);
	trace_log_free(w->log);
}

static void do_register(struct world *w, int i)
{
	struct sim_agent *sa = w->peer[i];
	agent_register(sim_agent_agent(sa), (uint64_t)engine_now(net_engine(w->net)));
	sim_agent_flush(sa);
}

static void do_connect(struct world *w)
{
	struct sim_agent *sa = w->peer[0];
	agent_connect(sim_agent_agent(sa), (uint64_t)engine_now(net_engine(w->net)), "bob");
	sim_agent_flush(sa);
}

/* pair_outcome with the driver's worker thread (simdrive_start_precompute):
 * it computes the pair's secret and verifies the registrations ahead. */
static bool with_worker;

static enum agent_peer_state pair_outcome(struct world *w, enum kind a, enum kind b)
{
	world_init(w, 7);
	struct host *ha = add_peer_host(w, 0, a, NULL);
	struct host *hb = add_peer_host(w, 1, b, NULL);
	add_agent(w, 0, ha, 0);
	add_agent(w, 1, hb, 0);
	if (with_worker) {
		assert_int_equal(simdrive_expect_session(w->drive, w->peer[0], w->peer[1]), 0);
		assert_int_equal(simdrive_start_precompute(w->drive), 0);
	}
	net_announce(w->net);
	do_register(w, 0);
	do_register(w, 1);
	engine_run_until(net_engine(w->net), SIM_S(1));
	do_connect(w);
	engine_run_until(net_engine(w->net), SIM_S(12));
	enum agent_peer_state sa = agent_peer_state(sim_agent_agent(w->peer[0]), "bob");
	enum agent_peer_state sb = agent_peer_state(sim_agent_agent(w->peer[1]), "alice");
	assert_int_equal(sa, sb); /* both sides agree on the path */
	return sa;
}

static bool drops_with_reason(const struct trace_log *log, enum trace_drop_reason reason)
{
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
		    r->u.packet.reason == reason)
			return true;
	}
	return false;
}

/* Every pair of the six kinds: direct, except the three pairs where one side
 * maps per destination and the other filters on the port it sent to. */
static void test_outcome_matrix(void **state)
{
	(void)state;
	for (int a = 0; a < KIND_COUNT; a++) {
		for (int b = 0; b < KIND_COUNT; b++) {
			struct world w;
			enum agent_peer_state got = pair_outcome(&w, a, b);
			int lo = a < b ? a : b, hi = a < b ? b : a;
			bool relayed = hi == SYMMETRIC &&
				       (lo == FIREWALL || lo == PORT_RESTRICTED || lo == SYMMETRIC);
			enum agent_peer_state want =
			    relayed ? AGENT_PEER_RELAYED : AGENT_PEER_DIRECT;
			if (got != want)
				fail_msg("%s x %s: got %s, want %s", kind_names[a], kind_names[b],
					 agent_peer_state_name(got), agent_peer_state_name(want));
			if (relayed) /* the trace shows the drops that decided it */
				assert_true(drops_with_reason(w.log, TRACE_DROP_NAT_FILTER) ||
					    drops_with_reason(w.log, TRACE_DROP_FIREWALL));
			world_fini(&w);
		}
	}
}

/* Two peers behind one NAT: host candidates connect them on the LAN; without
 * host candidates they must go out and back in through the NAT, which works
 * only if it hairpins. */
static enum agent_peer_state same_nat(bool host_candidates, bool hairpin)
{
	struct world w;
	world_init(&w, 3);
	uint32_t pub = IP4(203, 0, 113, 0);
	struct router *r = router_new(w.net, "home");
	struct iface *wan = router_add_iface(r, "wan", pub | 10, 24);
	struct iface *lan = router_add_iface(r, "lan", IP4(192, 168, 1, 1), 24);
	assert_int_equal(router_add_route(r, 0, 0, wan, pub | 1), 0);
	uplink(&w, "home-up", wan, pub);
	struct nat_config cfg;
	nat_config_default(&cfg);
	nat_config_preset(&cfg, "port-restricted-cone");
	cfg.hairpinning = hairpin;
	assert_non_null(router_enable_nat(r, wan, &cfg));
	struct link_config lc;
	link_config_default(&lc);
	struct link *l = link_new(w.net, "lan", &lc);
	link_attach(l, lan);
	for (int i = 0; i < 2; i++) {
		struct host *h = host_new(w.net, i ? "bob" : "alice", IP4(192, 168, 1, 5 + i), 24,
					  IP4(192, 168, 1, 1));
		link_attach(l, host_iface(h));
		struct agent_config ac = {.name = i ? "bob" : "alice",
					  .local = {.ip = host_address(h), .port = 5000},
					  .coordinator = {.ip = COORD_IP, .port = 3478},
					  .disable_host_candidates = !host_candidates};
		w.peer[i] = simdrive_add_agent(w.drive, h, &ac);
		assert_non_null(w.peer[i]);
	}
	net_announce(w.net);
	do_register(&w, 0);
	do_register(&w, 1);
	engine_run_until(net_engine(w.net), SIM_S(1));
	do_connect(&w);
	engine_run_until(net_engine(w.net), SIM_S(12));
	enum agent_peer_state s = agent_peer_state(sim_agent_agent(w.peer[0]), "bob");
	if (!host_candidates && !hairpin)
		assert_true(drops_with_reason(w.log, TRACE_DROP_HAIRPIN));
	world_fini(&w);
	return s;
}

static void test_same_nat(void **state)
{
	(void)state;
	assert_int_equal(same_nat(true, false), AGENT_PEER_DIRECT);
	assert_int_equal(same_nat(false, true), AGENT_PEER_DIRECT);
	assert_int_equal(same_nat(false, false), AGENT_PEER_RELAYED);
}

/* NAT discovery against the coordinator's alternate address classifies each
 * of the nine mapping x filtering combinations. */
static void test_discovery_all_nine(void **state)
{
	(void)state;
	static const char *const want_classic[3][3] = {
	    {"full-cone", "restricted-cone", "port-restricted-cone"},
	    {"symmetric", "symmetric", "symmetric"},
	    {"symmetric", "symmetric", "symmetric"},
	};
	for (int m = 0; m < 3; m++) {
		for (int f = 0; f < 3; f++) {
			struct world w;
			world_init(&w, 11);
			struct nat_config nc;
			nat_config_default(&nc);
			nc.mapping = m;
			nc.filtering = f;
			struct host *h = add_peer_host(&w, 0, PORT_RESTRICTED, &nc);
			add_agent(&w, 0, h, 0);
			net_announce(w.net);
			struct agent *a = sim_agent_agent(w.peer[0]);
			assert_int_equal(agent_classify(a, 0), 0);
			sim_agent_flush(w.peer[0]);
			engine_run_until(net_engine(w.net), SIM_S(20));
			assert_int_equal(w.classified[0], 1);
			assert_int_equal(w.mapping[0], DISCOVERY_ENDPOINT_INDEPENDENT + m);
			assert_int_equal(w.filtering[0], DISCOVERY_ENDPOINT_INDEPENDENT + f);
			assert_string_equal(w.classic[0], want_classic[m][f]);
			world_fini(&w);
		}
	}
}

static size_t mapping_events(const struct trace_log *log, const char *node, enum trace_map_event ev,
			     int64_t after)
{
	size_t n = 0;
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_MAPPING && r->u.map.event == ev && r->time > after &&
		    strcmp(r->u.map.node, node) == 0)
			n++;
	}
	return n;
}

/* A 30 s NAT timeout. With keepalives off the agents send nothing on the
 * idle direct path (no consent checks either): both NATs' mappings expire,
 * consent runs out 30 s after the last answer (RFC 7675) and both agents
 * report the path lost; they stay quiet until they have something to send.
 * With keepalives on, the consent checks every 4-6 s keep both mappings:
 * nothing expires, nothing is lost. */
static void run_idle(struct world *w, uint64_t keepalive_ns)
{
	world_init(w, 5);
	struct host *ha = add_peer_host(w, 0, PORT_RESTRICTED, NULL);
	struct host *hb = add_peer_host(w, 1, PORT_RESTRICTED, NULL);
	add_agent(w, 0, ha, 0);
	add_agent(w, 1, hb, 0);
	for (int i = 0; i < 2; i++)
		agent_set_keepalive(sim_agent_agent(w->peer[i]), keepalive_ns);
	net_announce(w->net);
	do_register(w, 0);
	do_register(w, 1);
	engine_run_until(net_engine(w->net), SIM_S(1));
	do_connect(w);
	engine_run_until(net_engine(w->net), SIM_S(5));
	assert_int_equal(agent_peer_state(sim_agent_agent(w->peer[0]), "bob"), AGENT_PEER_DIRECT);
	engine_run_until(net_engine(w->net), SIM_S(300));
}

static void test_keepalive(void **state)
{
	(void)state;
	struct world w;
	run_idle(&w, 0);
	assert_true(mapping_events(w.log, "home", TRACE_MAP_EXPIRED, SIM_S(5)) > 0);
	assert_true(mapping_events(w.log, "office", TRACE_MAP_EXPIRED, SIM_S(5)) > 0);
	assert_int_equal(w.lost[0], 1);
	assert_int_equal(w.lost[1], 1);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"),
			 AGENT_PEER_CONNECTING);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[1]), "alice"),
			 AGENT_PEER_CONNECTING);
	world_fini(&w);

	run_idle(&w, SIM_S(25));
	assert_int_equal(mapping_events(w.log, "home", TRACE_MAP_EXPIRED, 0), 0);
	assert_int_equal(mapping_events(w.log, "office", TRACE_MAP_EXPIRED, 0), 0);
	assert_int_equal(w.lost[0] + w.lost[1], 0);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"), AGENT_PEER_DIRECT);
	world_fini(&w);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

/* Symmetric x symmetric goes through the relay; the bytes the relay carries
 * (as any node on the path sees them) are ciphertext. */
static void test_relay_is_ciphertext(void **state)
{
	(void)state;
	struct world w;
	enum agent_peer_state s = pair_outcome(&w, SYMMETRIC, SYMMETRIC);
	assert_int_equal(s, AGENT_PEER_RELAYED);
	static const char secret[] = "the cake is in the oven";
	agent_send(sim_agent_agent(w.peer[0]), (uint64_t)engine_now(net_engine(w.net)), "bob",
		   (const uint8_t *)secret, strlen(secret));
	sim_agent_flush(w.peer[0]);
	size_t before = trace_log_count(w.log);
	engine_run_until(net_engine(w.net), SIM_S(14));
	size_t delivered = 0;
	for (size_t i = before; i < trace_log_count(w.log); i++) {
		const struct trace_record *r = trace_log_get(w.log, i);
		if (r->kind == TRACE_PACKET)
			assert_false(contains(r->u.packet.bytes, r->u.packet.len, secret));
		if (r->kind == TRACE_APP && strcmp(r->u.app.event, "data") == 0)
			delivered++;
	}
	assert_int_equal(delivered, 1); /* and bob did get it */
	world_fini(&w);
}

/* Same world, same seed: byte-identical trace. */
static void test_deterministic(void **state)
{
	(void)state;
	uint64_t h[2];
	for (int i = 0; i < 2; i++) {
		struct world w;
		pair_outcome(&w, PORT_RESTRICTED, FULL_CONE);
		h[i] = trace_log_hash(w.log);
		world_fini(&w);
	}
	assert_true(h[0] == h[1]);
}

/* The worker thread changes only who computes: the same trace, byte for
 * byte, and every registration the agents signed was hinted to the cache and
 * its signature checked through it once. */
static void test_worker_changes_nothing(void **state)
{
	(void)state;
	uint64_t h[2];
	struct secrets_stats st;
	for (int i = 0; i < 2; i++) {
		struct world w;
		with_worker = i == 1;
		pair_outcome(&w, PORT_RESTRICTED, SYMMETRIC);
		h[i] = trace_log_hash(w.log);
		simdrive_secret_stats(w.drive, &st);
		/* Agents hint their signatures through their speed layer
		 * (p2p/agent_speed.h); a build without it hints nothing. */
		assert_true(NATSIM_AGENT_SPEED ? st.sig_hints >= 2 : st.sig_hints == 0);
		assert_int_equal(st.sig_hints_dropped, 0);
		/* Without hints, the coordinator still checks alice's and bob's. */
		assert_int_equal(st.sig_verifies, NATSIM_AGENT_SPEED ? st.sig_hints : 2);
		assert_int_equal(st.sig_served_worker + st.sig_computed_caller, st.sig_verifies);
		if (i == 0)
			assert_int_equal(st.sig_served_worker, 0);
		world_fini(&w);
	}
	with_worker = false;
	assert_true(h[0] == h[1]);
}

/* UDP datagrams sent by `node` (SEND hops) at or after `since`: what its
 * programs sent, not its stack's ICMP answers. */
static int sends_since(const struct trace_log *log, const char *node, int64_t since)
{
	int n = 0;
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		n += r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_SEND &&
		     r->time >= since && strcmp(r->u.packet.node, node) == 0 &&
		     r->u.packet.len > 9 && r->u.packet.bytes[9] == 17; /* IPv4 protocol: UDP */
	}
	return n;
}

/* sim_agent_stop: the program stops as a killed one does. Its host sends
 * nothing more (no refresh, no keepalive, no answer to the checks of the
 * peer, which still finds it registered and is introduced), and the agent
 * object stays, frozen. */
static void test_stopped_agent_is_silent(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 5);
	add_agent(&w, 0, add_peer_host(&w, 0, OPEN, NULL), 0);
	struct host *hb = add_peer_host(&w, 1, OPEN, NULL);
	add_agent(&w, 1, hb, 0);
	net_announce(w.net);
	do_register(&w, 0);
	do_register(&w, 1);
	engine_run_until(net_engine(w.net), SIM_S(1));
	assert_false(sim_agent_stopped(w.peer[1]));
	sim_agent_stop(w.peer[1]);
	sim_agent_stop(w.peer[1]); /* twice: nothing more */
	assert_true(sim_agent_stopped(w.peer[1]));
	do_connect(&w);
	engine_run_until(net_engine(w.net), SIM_S(90));
	assert_int_equal(sends_since(w.log, "bob", SIM_S(1)), 0);
	assert_true(sends_since(w.log, "alice", SIM_S(1)) > 0);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"), AGENT_PEER_RELAYED);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[1]), "alice"), AGENT_PEER_NONE);
	world_fini(&w);
}

/* ICMP (issue 15): bob advertises a host candidate on a port where nothing
 * listens (a stale one: the program that had it has stopped). Alice's check
 * there draws port unreachable from bob's host, and she gives that pair up
 * at once - one check, not the 7 of a silent candidate - while the pair to
 * bob's live socket makes the path direct as usual. */
static void test_port_unreachable_candidate(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 11);
	struct host *ha = add_peer_host(&w, 0, OPEN, NULL);
	struct host *hb = add_peer_host(&w, 1, OPEN, NULL);
	add_agent(&w, 0, ha, 0);
	struct p2p_endpoint dead = {.ip = host_address(hb), .port = 5001};
	struct agent_config ac = {.name = "bob",
				  .local = {.ip = host_address(hb), .port = 5000},
				  .coordinator = {.ip = COORD_IP, .port = 3478},
				  .n_host_candidates = 1,
				  .host_candidates = {dead}};
	w.peer[1] = simdrive_add_agent(w.drive, hb, &ac);
	assert_non_null(w.peer[1]);
	net_announce(w.net);
	do_register(&w, 0);
	do_register(&w, 1);
	engine_run_until(net_engine(w.net), SIM_S(1));
	do_connect(&w);
	engine_run_until(net_engine(w.net), SIM_S(12));
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(w.pair_failed[0], 1);
	assert_true(p2p_endpoint_equal(&w.pair_failed_remote[0], &dead));
	/* Within a round trip of the introduction (alice's uplink and bob's
	 * are 10 ms each way), long before a silent pair's 4.7 s. */
	assert_true(w.pair_failed_at[0] < SIM_S(1) + SIM_MS(200));
	assert_int_equal(w.relayed[0], 0);
	world_fini(&w);
}

/* ICMP (issue 15): bob's program has stopped, his registration not yet
 * expired. Alice is introduced all the same; her check to bob's only
 * candidate draws port unreachable from his host, so with no pair left she
 * goes to the relay within a round trip instead of at the 5 s deadline. */
static void test_stopped_peer_relays_early(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 13);
	add_agent(&w, 0, add_peer_host(&w, 0, OPEN, NULL), 0);
	add_agent(&w, 1, add_peer_host(&w, 1, OPEN, NULL), 0);
	net_announce(w.net);
	do_register(&w, 0);
	do_register(&w, 1);
	engine_run_until(net_engine(w.net), SIM_S(1));
	sim_agent_stop(w.peer[1]);
	do_connect(&w);
	engine_run_until(net_engine(w.net), SIM_S(1) + SIM_MS(300));
	assert_int_equal(w.pair_failed[0], 1);
	assert_int_equal(w.relayed[0], 1);
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"), AGENT_PEER_RELAYED);
	world_fini(&w);
}

/* ---- issue 17: measuring, port prediction, the birthday search ---- */

/* Bob's kind in hard_pair. */
static enum kind hard_bob = PORT_RESTRICTED;

/* Alice behind a symmetric NAT with these ports, Bob of kind hard_bob (a
 * port-restricted cone unless a test says); both with hard_settings. Runs
 * to `until`. */
static enum agent_peer_state hard_pair(struct world *w, uint64_t seed,
				       enum nat_port_assignment ports, int64_t until)
{
	struct nat_config nc;
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "symmetric"), 0);
	nc.ports = ports;
	world_init(w, seed);
	struct host *ha = add_peer_host(w, 0, SYMMETRIC, &nc);
	struct host *hb = add_peer_host(w, 1, hard_bob, NULL);
	add_agent(w, 0, ha, 0);
	add_agent(w, 1, hb, 0);
	net_announce(w->net);
	do_register(w, 0);
	do_register(w, 1);
	engine_run_until(net_engine(w->net), SIM_S(1));
	do_connect(w);
	engine_run_until(net_engine(w->net), until);
	enum agent_peer_state sa = agent_peer_state(sim_agent_agent(w->peer[0]), "bob");
	assert_int_equal(sa, agent_peer_state(sim_agent_agent(w->peer[1]), "alice"));
	return sa;
}

/* The measurement against the coordinator's two addresses tells the three
 * ways a NAT assigns ports apart. */
static void test_mapping_measured(void **state)
{
	(void)state;
	hard_settings = (struct agent_config){.techniques = AGENT_TECH_PREDICTION};
	struct world w;
	int16_t delta = 0;
	hard_pair(&w, 3, NAT_PORT_SEQUENTIAL, SIM_S(2));
	assert_int_equal(agent_mapping(sim_agent_agent(w.peer[0]), &delta),
			 AGENT_MAPPING_SEQUENTIAL);
	assert_int_equal(delta, 1);
	assert_int_equal(agent_mapping(sim_agent_agent(w.peer[1]), NULL), AGENT_MAPPING_SAME);
	world_fini(&w);
	hard_pair(&w, 3, NAT_PORT_RANDOM, SIM_S(2));
	assert_int_equal(agent_mapping(sim_agent_agent(w.peer[0]), NULL), AGENT_MAPPING_RANDOM);
	world_fini(&w);
	/* Port preservation: the first mapping keeps 5000, the next count up
	 * from 1024; the step is the later ones'. */
	hard_pair(&w, 3, NAT_PORT_PRESERVE, SIM_S(2));
	assert_int_equal(agent_mapping(sim_agent_agent(w.peer[0]), &delta),
			 AGENT_MAPPING_SEQUENTIAL);
	assert_int_equal(delta, 1);
	world_fini(&w);
	hard_settings = (struct agent_config){0};
}

/* Symmetric with sequential ports against a port-restricted cone: relayed
 * by ICE alone, direct when Bob checks the ports Alice's NAT gives next. */
static void test_prediction(void **state)
{
	(void)state;
	struct world w;
	hard_settings = (struct agent_config){0};
	assert_int_equal(hard_pair(&w, 5, NAT_PORT_SEQUENTIAL, SIM_S(12)), AGENT_PEER_RELAYED);
	world_fini(&w);
	hard_settings = (struct agent_config){.techniques = AGENT_TECH_PREDICTION};
	assert_int_equal(hard_pair(&w, 5, NAT_PORT_SEQUENTIAL, SIM_S(12)), AGENT_PEER_DIRECT);
	assert_non_null(strstr(w.path_text[1], "predicted"));
	assert_non_null(strstr(w.path_text[1], "port prediction"));
	world_fini(&w);
	/* Random ports: nothing to predict. */
	assert_int_equal(hard_pair(&w, 5, NAT_PORT_RANDOM, SIM_S(12)), AGENT_PEER_RELAYED);
	world_fini(&w);
	hard_settings = (struct agent_config){0};
}

/* Datagrams alice's host sent from ports other than her agent's: the
 * birthday search's extra sockets. */
static int extra_sends(const struct trace_log *log, int64_t from, int64_t to)
{
	int n = 0;
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		const struct trace_packet *p = &r->u.packet;
		if (r->kind != TRACE_PACKET || p->hop != TRACE_HOP_SEND || r->time < from ||
		    r->time >= to || strcmp(p->node, "alice") != 0 || p->len < 28)
			continue;
		size_t ihl = (size_t)(p->bytes[0] & 15) * 4; /* the UDP source port follows */
		if ((p->bytes[ihl] << 8 | p->bytes[ihl + 1]) != 5000)
			n++;
	}
	return n;
}

/* Datagrams the coordinator took in from `from` on. */
static int coord_deliveries(const struct trace_log *log, int64_t from)
{
	int n = 0;
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DELIVER &&
		    r->time >= from && strcmp(r->u.packet.node, "coord") == 0)
			n++;
	}
	return n;
}

/* The techniques cost the coordinator nothing after the introduction: no
 * more datagrams reach it than without them (issue 17: "the coordinator
 * relays or introduces nothing extra because of them"). */
static void test_coordinator_spared(void **state)
{
	(void)state;
	struct world w;
	int plain, with;
	for (int ports = NAT_PORT_SEQUENTIAL; ports <= NAT_PORT_RANDOM; ports++) {
		hard_settings = (struct agent_config){0};
		hard_pair(&w, 2, (enum nat_port_assignment)ports, SIM_S(30));
		plain = coord_deliveries(w.log, SIM_MS(1100));
		world_fini(&w);
		hard_settings.techniques = AGENT_TECH_PREDICTION | AGENT_TECH_BIRTHDAY;
		hard_pair(&w, 2, (enum nat_port_assignment)ports, SIM_S(30));
		with = coord_deliveries(w.log, SIM_MS(1100));
		world_fini(&w);
		assert_true(plain > 0);
		assert_true(with <= plain);
	}
	hard_settings = (struct agent_config){0};
}

/* Symmetric with random ports against a port-restricted cone: the birthday
 * search finds a path in most runs; the budget bounds it; the rate is kept. */
static void test_birthday(void **state)
{
	(void)state;
	struct world w;
	int found = 0;
	hard_settings = (struct agent_config){.techniques = AGENT_TECH_BIRTHDAY};
	for (uint64_t seed = 1; seed <= 4; seed++) {
		enum agent_peer_state s = hard_pair(&w, seed, NAT_PORT_RANDOM, SIM_S(30));
		if (s == AGENT_PEER_DIRECT) {
			found++;
			assert_non_null(strstr(w.path_text[0], "birthday search"));
		}
		/* 256 sockets at 100 a second, never more in any second. */
		for (int64_t t = SIM_S(1); t < SIM_S(30); t += SIM_S(1))
			assert_true(extra_sends(w.log, t, t + SIM_S(1)) <= 100);
		world_fini(&w);
	}
	/* 1-(1-256/64512)^2048 is 99.97 %: all four. */
	assert_int_equal(found, 4);
	/* A budget of 8 sends each: Alice opens 8 sockets, Bob probes 8
	 * times (after waiting as long as 256 opens would take). */
	hard_settings.probe_budget = 8;
	int relayed = 0;
	for (uint64_t seed = 1; seed <= 4; seed++) {
		if (hard_pair(&w, seed, NAT_PORT_RANDOM, SIM_S(30)) == AGENT_PEER_RELAYED)
			relayed++;
		assert_true(extra_sends(w.log, 0, SIM_S(30)) <= 8);
		world_fini(&w);
	}
	assert_int_equal(relayed, 4); /* 1-(1-8/64512)^8: one in a thousand */
	/* A public host behind its own firewall: its server-reflexive endpoint
	 * is its host candidate, and the search still finds its way. */
	hard_settings.probe_budget = 0;
	hard_bob = FIREWALL;
	assert_int_equal(hard_pair(&w, 3, NAT_PORT_RANDOM, SIM_S(30)), AGENT_PEER_DIRECT);
	assert_non_null(strstr(w.path_text[0], "birthday search"));
	world_fini(&w);
	hard_bob = PORT_RESTRICTED;
	hard_settings = (struct agent_config){0};
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outcome_matrix),
	    cmocka_unit_test(test_same_nat),
	    cmocka_unit_test(test_discovery_all_nine),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_relay_is_ciphertext),
	    cmocka_unit_test(test_deterministic),
	    cmocka_unit_test(test_worker_changes_nothing),
	    cmocka_unit_test(test_stopped_agent_is_silent),
	    cmocka_unit_test(test_port_unreachable_candidate),
	    cmocka_unit_test(test_stopped_peer_relays_early),
	    cmocka_unit_test(test_mapping_measured),
	    cmocka_unit_test(test_prediction),
	    cmocka_unit_test(test_birthday),
	    cmocka_unit_test(test_coordinator_spared),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
