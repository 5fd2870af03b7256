/*
 * test_p2p_sim6.c - the real agent and coordinator over a dual-stack world
 * built through the model API (issue 18, docs/ipv6.md step 6): two homes,
 * each a router with a symmetric NAT for IPv4 and an RFC 6092 stateful
 * firewall for IPv6 (no NAT), and a coordinator on both families. IPv4 alone
 * must be relayed (both sides map per destination and filter per port);
 * IPv6 punches through the firewalls with a simultaneous open and goes
 * direct. The driver (app/world/simdrive.c) gives each agent on a host with
 * an IPv6 address an IPv6 socket and the coordinator's IPv6 endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "app/world/simdrive.h"
#include "base/addr6.h"
#include "model/filter6.h"
#include "model/host.h"
#include "model/router.h"

#define COORD_IP IP4(192, 0, 2, 10)

struct world {
	struct net *net;
	struct router *inet;
	struct simdrive *drive;
	struct sim_agent *peer[2];
	int n_up;
	int direct[2], relayed[2];
	uint8_t family[2];
	char text[2][256];
};

static struct ip6_addr a6(const char *s)
{
	struct ip6_addr a;
	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

static void on_agent(struct sim_agent *sa, const struct p2p_event *ev, void *ctx)
{
	struct world *w = ctx;
	int i = sa == w->peer[0] ? 0 : 1;
	if (ev->type == AGENT_EV_DIRECT || ev->type == AGENT_EV_UPGRADED) {
		w->direct[i]++;
		w->family[i] = ev->family;
		snprintf(w->text[i], sizeof(w->text[i]), "%s", ev->text);
	} else if (ev->type == AGENT_EV_RELAYED) {
		w->relayed[i]++;
	}
}

/* A 10 ms link from the internet router to `far`, on IPv4 net4/24 and,
 * unless net6 is NULL, IPv6 net6::/64 (the router ::1, `far` its own). */
static struct iface *uplink(struct world *w, struct iface *far, uint32_t net4, const char *net6)
{
	struct link_config lc;
	char name[16], addr[64];
	link_config_default(&lc);
	lc.latency = SIM_MS(10);
	snprintf(name, sizeof(name), "up%d", w->n_up++);
	struct link *l = link_new(w->net, name, &lc);
	struct iface *near = router_add_iface(w->inet, name, net4 | 1, 24);
	assert_non_null(near);
	if (net6 != NULL) {
		snprintf(addr, sizeof(addr), "%s1", net6);
		struct ip6_addr r = a6(addr);
		assert_int_equal(iface_set_addr6(near, &r, 64), 0);
	}
	assert_int_equal(link_attach(l, near), 0);
	assert_int_equal(link_attach(l, far), 0);
	return near;
}

static void add_coord(struct world *w)
{
	struct host *c = host_new(w->net, "coord", COORD_IP, 24, IP4(192, 0, 2, 1));
	assert_non_null(c);
	struct ip6_addr addr = a6("2001:db8:ff::10"), gw = a6("2001:db8:ff::1");
	assert_int_equal(host_set_address6(c, &addr, 64), 0);
	host_set_gateway6(c, &gw);
	uplink(w, host_iface(c), IP4(192, 0, 2, 0), "2001:db8:ff::");
	struct coord_config cc = {.primary = {.ip = COORD_IP, .port = 3478}};
	assert_non_null(simdrive_add_coord(w->drive, c, &cc));
}

/* Home i: wan 203.0.113.10 / 198.51.100.10 and 2001:db8:a<i>::2, lan
 * 192.168.<i+1>.0/24 and 2001:db8:<i+1>::/64; a symmetric NAT, an RFC 6092
 * firewall (conntrack's own filtering, drops silently); the host at .5 / ::5. */
static struct host *add_home(struct world *w, int i, bool host_v6)
{
	uint32_t pub = i == 0 ? IP4(203, 0, 113, 0) : IP4(198, 51, 100, 0);
	char wan6[40], up6[40], lan6[40], host6[40], gw6[40];
	snprintf(up6, sizeof(up6), "2001:db8:a%d::", i);
	snprintf(wan6, sizeof(wan6), "2001:db8:a%d::2", i);
	snprintf(lan6, sizeof(lan6), "2001:db8:%d::", i + 1);
	snprintf(host6, sizeof(host6), "2001:db8:%d::5", i + 1);
	snprintf(gw6, sizeof(gw6), "2001:db8:%d::1", i + 1);
	struct router *r = router_new(w->net, i == 0 ? "home" : "office");
	struct iface *wan = router_add_iface(r, "wan", pub | 10, 24);
	struct iface *lan = router_add_iface(r, "lan", IP4(192, 168, i + 1, 1), 24);
	struct ip6_addr x = a6(wan6), y = a6(gw6), p = a6(lan6), up = a6(up6), h6 = a6(host6);
	assert_int_equal(iface_set_addr6(wan, &x, 64), 0);
	assert_int_equal(iface_set_addr6(lan, &y, 64), 0);
	assert_int_equal(router_add_route(r, 0, 0, wan, pub | 1), 0);
	struct ip6_addr any = {{0}}, inet_side = up;
	inet_side.b[15] = 1;
	assert_int_equal(router_add_route6(r, &any, 0, wan, &inet_side), 0);
	struct iface *near = uplink(w, wan, pub, up6);
	assert_int_equal(router_add_route6(w->inet, &p, 64, near, &x), 0);
	struct nat_config nc;
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "symmetric"), 0);
	assert_non_null(router_enable_nat(r, wan, &nc));
	assert_int_equal(
	    filter6_make_rfc6092(router_filter6(r), &p, 64, NAT_ADDRESS_AND_PORT_DEPENDENT, false),
	    0);
	struct host *h = host_new(w->net, i == 0 ? "alice" : "bob", IP4(192, 168, i + 1, 5), 24,
				  IP4(192, 168, i + 1, 1));
	if (host_v6) {
		assert_int_equal(host_set_address6(h, &h6, 64), 0);
		host_set_gateway6(h, &y);
	}
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = SIM_US(500);
	struct link *l = link_new(w->net, i == 0 ? "lan0" : "lan1", &lc);
	assert_int_equal(link_attach(l, lan), 0);
	assert_int_equal(link_attach(l, host_iface(h)), 0);
	return h;
}

/* host_v6 false: the same world, but the two hosts have no IPv6 address. */
static void world_init(struct world *w, bool host_v6)
{
	memset(w, 0, sizeof(*w));
	w->net = net_new(7);
	assert_non_null(w->net);
	w->inet = router_new(w->net, "internet");
	w->drive = simdrive_new(w->net);
	simdrive_set_hooks(w->drive, on_agent, NULL, w);
	add_coord(w);
	for (int i = 0; i < 2; i++) {
		struct host *h = add_home(w, i, host_v6);
		struct agent_config ac = {.name = i == 0 ? "alice" : "bob",
					  .local = {.ip = host_address(h), .port = 5000},
					  .coordinator = {.ip = COORD_IP, .port = 3478}};
		w->peer[i] = simdrive_add_agent(w->drive, h, &ac);
		assert_non_null(w->peer[i]);
	}
}

static void run(struct world *w)
{
	net_announce(w->net);
	for (int i = 0; i < 2; i++) {
		agent_register(sim_agent_agent(w->peer[i]), 0);
		sim_agent_flush(w->peer[i]);
	}
	engine_run_until(net_engine(w->net), SIM_S(1));
	agent_connect(sim_agent_agent(w->peer[0]), (uint64_t)engine_now(net_engine(w->net)), "bob");
	sim_agent_flush(w->peer[0]);
	engine_run_until(net_engine(w->net), SIM_S(12));
}

static void world_fini(struct world *w)
{
	simdrive_free(w->drive);
	net_free(w->net);
}

/* Symmetric NATs for IPv4, RFC 6092 firewalls for IPv6: direct over IPv6. */
static void test_direct_over_ipv6(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, true);
	run(&w);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(w.direct[i], 1);
		assert_int_equal(w.family[i], P2P_FAMILY_IPV6);
		assert_int_equal(w.relayed[i], 0);
	}
	assert_non_null(
	    strstr(w.text[0], "over IPv6 via [2001:db8:1::5]:5000 -> [2001:db8:2::5]:5000"));
	assert_int_equal(agent_peer_state(sim_agent_agent(w.peer[0]), "bob"), AGENT_PEER_DIRECT);
	world_fini(&w);
}

/* The same homes with IPv4 alone: relayed, as two symmetric NATs leave no
 * other way. What the test above gains is IPv6's doing. */
static void test_relayed_over_ipv4_alone(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, false);
	run(&w);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(w.direct[i], 0);
		assert_int_equal(w.relayed[i], 1);
	}
	world_fini(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct_over_ipv6),
	    cmocka_unit_test(test_relayed_over_ipv4_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
