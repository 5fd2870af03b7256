/*
 * bench/flow.c - datagram throughput through two NATs.
 *
 *	bench_flow [datagrams]      (default 1000000)
 *
 * alice sits behind a port-restricted-cone NAT, bob behind a full-cone NAT,
 * both NATs on uplinks to one internet router: four links, two translations
 * (SNAT at alice's NAT, DNAT at bob's), conntrack on both NATs, no trace
 * observer. bob first sends one datagram out, which gives him a mapping that
 * (full cone: endpoint-independent filtering) admits anyone; alice then sends
 * 1000-byte datagrams to bob's public endpoint and we count what bob's socket
 * receives.
 *
 * The sender is paced: a batch every BENCH_PERIOD of virtual time, so the
 * packets in flight (rate x latency) stay bounded and the packet pool small,
 * as a real sender's window would keep them. Links have latency but no rate.
 * Build with -O2 (CMAKE_BUILD_TYPE=Release) to compare with the target.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/host.h"
#include "model/router.h"

#define BENCH_DEFAULT_DATAGRAMS 1000000ULL
#define BENCH_PAYLOAD 1000
#define BENCH_BATCH 64
#define BENCH_PERIOD SIM_US(500) /* 128 k datagrams/s of virtual time, ~1 Gbit/s */

/* ns-3.37 moving the same datagrams through two plain routers (no NAT, no
 * conntrack), and the target the issue sets for natsim: ten times that. */
#define NS3_RATE 62.5e3
#define TARGET_RATE 625e3

#define ALICE_PUB IP4(203, 0, 113, 10)
#define BOB_PUB IP4(198, 51, 100, 10)
#define BOB_PORT 7000

struct flow {
	struct net *net;
	struct host_socket *tx, *rx;
	struct endpoint to;
	uint64_t left, received, bytes;
	uint8_t payload[BENCH_PAYLOAD];
};

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct link *new_link(struct net *net, const char *name, int64_t latency,
			     struct iface *a, struct iface *b)
{
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = latency;
	struct link *l = link_new(net, name, &lc);
	if (l == NULL || link_attach(l, a) < 0 || link_attach(l, b) < 0) {
		fprintf(stderr, "bench_flow: cannot build link %s\n", name);
		exit(1);
	}
	return l;
}

/* A host on 192.168.<lan>.0/24 behind a NAT of the given preset, whose wan
 * holds `pub` on a /24 uplink to the internet router's interface `up`. */
static struct host *behind_nat(struct net *net, struct router *inet, const char *name,
			       const char *preset, uint32_t pub, int lan)
{
	char rname[32], ifname[16], lname[32];
	snprintf(rname, sizeof(rname), "%s-nat", name);
	struct router *r = router_new(net, rname);
	uint32_t lan_net = IP4(192, 168, lan, 0);
	struct iface *wan = r ? router_add_iface(r, "wan", pub, 24) : NULL;
	struct iface *lif = r ? router_add_iface(r, "lan", lan_net | 1, 24) : NULL;
	snprintf(ifname, sizeof(ifname), "up%d", lan);
	struct iface *up = router_add_iface(inet, ifname, (pub & prefix_mask(24)) | 1, 24);
	struct host *h = host_new(net, name, lan_net | 5, 24, lan_net | 1);
	struct nat_config nc;
	nat_config_default(&nc);
	if (!wan || !lif || !up || !h || nat_config_preset(&nc, preset) < 0 ||
	    router_add_route(r, 0, 0, wan, (pub & prefix_mask(24)) | 1) < 0 ||
	    !router_enable_nat(r, wan, &nc)) {
		fprintf(stderr, "bench_flow: cannot build %s\n", rname);
		exit(1);
	}
	snprintf(lname, sizeof(lname), "%s-up", name);
	new_link(net, lname, SIM_MS(10), up, wan);
	snprintf(lname, sizeof(lname), "%s-lan", name);
	new_link(net, lname, SIM_US(500), lif, host_iface(h));
	return h;
}

static void on_receive(struct host_socket *s, const struct endpoint *from,
		       const struct endpoint *to, const uint8_t *payload, size_t len, void *ctx)
{
	struct flow *f = ctx;
	(void)s;
	(void)from;
	(void)to;
	(void)payload;
	f->received++;
	f->bytes += len;
}

static void send_batch(struct engine *e, void *arg)
{
	struct flow *f = arg;
	for (int i = 0; i < BENCH_BATCH && f->left > 0; i++, f->left--)
		host_udp_sendto(f->tx, &f->to, f->payload, sizeof(f->payload));
	if (f->left > 0)
		engine_schedule_after(e, BENCH_PERIOD, send_batch, f);
}

int main(int argc, char **argv)
{
	uint64_t n = BENCH_DEFAULT_DATAGRAMS;
	if (argc > 1 && (n = strtoull(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_flow [datagrams]\n");
		return 2;
	}
	struct flow f = {.left = n};
	f.net = net_new(1);
	struct router *inet = f.net ? router_new(f.net, "internet") : NULL;
	if (inet == NULL)
		return 1;
	struct host *alice = behind_nat(f.net, inet, "alice", "port-restricted-cone", ALICE_PUB, 1);
	struct host *bob = behind_nat(f.net, inet, "bob", "full-cone", BOB_PUB, 2);
	f.tx = host_udp_bind(alice, 5000, NULL, NULL);
	f.rx = host_udp_bind(bob, BOB_PORT, on_receive, &f);
	if (f.tx == NULL || f.rx == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(f.payload); i++)
		f.payload[i] = (uint8_t)i;
	struct engine *e = net_engine(f.net);

	/* Open the path: bob's datagram to alice's NAT gives him a mapping
	 * (port preserved: BOB_PUB:7000) and dies at alice's NAT, which has
	 * none for it. Full cone admits anyone through bob's mapping. */
	struct endpoint alice_pub = {ALICE_PUB, 5000};
	host_udp_sendto(f.rx, &alice_pub, "hello", 5);
	engine_run_until(e, SIM_MS(100));
	f.to = (struct endpoint){BOB_PUB, BOB_PORT};

	uint64_t events0 = engine_events_run(e);
	double t0 = seconds_now();
	engine_schedule_after(e, 0, send_batch, &f);
	engine_run(e);
	double secs = seconds_now() - t0;
	uint64_t events = engine_events_run(e) - events0;
	double rate = (double)f.received / secs;

	printf("bench_flow: %" PRIu64 " UDP datagrams of %d bytes, alice (port-restricted-cone "
	       "NAT) -> bob (full-cone NAT)\n",
	       n, BENCH_PAYLOAD);
	printf("    path: 4 links, 3 routers, 2 translations, conntrack on both NATs, trace "
	       "observers off\n");
	printf("    delivered %" PRIu64 " (%" PRIu64 " payload bytes) in %.3f s, %" PRIu64
	       " events (%.1f M events/s)\n",
	       f.received, f.bytes, secs, events, (double)events / secs / 1e6);
	printf("    datagrams/s: %.0f k/s\n", rate / 1e3);
	printf("    target >= %.0f k/s (%s), ns-3.37 %.1f k/s through two plain routers "
	       "(natsim %.1fx)\n",
	       TARGET_RATE / 1e3, rate >= TARGET_RATE && f.received == n ? "met" : "MISSED",
	       NS3_RATE / 1e3, rate / NS3_RATE);
	net_free(f.net);
	return f.received == n ? 0 : 1;
}
