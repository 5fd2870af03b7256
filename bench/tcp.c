/*
 * bench/tcp.c - a TCP bulk transfer through two NATs.
 *
 *	bench_tcp [megabytes]      (default 1000)
 *
 * alice sits behind a port-restricted-cone NAT, bob behind a NAT that
 * forwards TCP port 80 to his server; both NATs hang off one internet
 * router, which keeps conntrack too (a FORWARD rule makes it stateful, as a
 * carrier's firewall is): four links, three routers, conntrack on every hop,
 * two translations each way, no trace observer. alice connects to bob's
 * public port 80 through the host TCP API (model/host.h host_tcp_*), sends
 * the bytes and closes; bob reads them all and closes when alice's FIN
 * comes. The stack's fixed window paces the transfer (window / RTT); a timer
 * tops up alice's send buffer as it drains, as an application blocked in
 * write() would. Links have latency but no rate.
 *
 * Prints the segments the two stacks made (data and ACKs: packet ids used),
 * per second of wall time, the bytes bob received and the virtual time the
 * transfer took. Build with -O2 (CMAKE_BUILD_TYPE=Release) to compare with
 * the target: >= 1 M segments/s on a machine where bench_engine (a) runs
 * 80 M events/s (bench/README.md scales the figure to the machine).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/firewall.h"
#include "model/host.h"
#include "model/router.h"

#define BENCH_DEFAULT_MB 1000ULL
#define BENCH_CHUNK 65536
#define BENCH_REFILL SIM_MS(5) /* how often alice's "write()" wakes up */
#define TARGET_RATE 1e6	       /* segments/s, issue 16, at 80 M events/s */

#define ALICE_PUB IP4(203, 0, 113, 10)
#define BOB_PUB IP4(198, 51, 100, 10)
#define BOB_PORT 80

struct transfer {
	struct net *net;
	struct host_tcp *client;
	uint64_t left, received;
	int64_t started, connected, finished;
	bool closed_server, failed;
	uint8_t chunk[BENCH_CHUNK];
};

static double seconds_of(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_tcp: cannot build %s\n", what);
	exit(1);
}

static void new_link(struct net *net, const char *name, int64_t latency, struct iface *a,
		     struct iface *b)
{
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = latency;
	struct link *l = link_new(net, name, &lc);
	if (l == NULL || link_attach(l, a) < 0 || link_attach(l, b) < 0)
		die(name);
}

/* A host on 192.168.<lan>.0/24 behind a port-restricted-cone NAT whose wan
 * holds `pub` on a /24 uplink to the internet router; `forward` (0 = none)
 * is a TCP port the NAT forwards to the host. */
static struct host *behind_nat(struct net *net, struct router *inet, const char *name, uint32_t pub,
			       int lan, uint16_t forward)
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
	struct nat *nat = NULL;
	if (!wan || !lif || !up || !h || nat_config_preset(&nc, "port-restricted-cone") < 0 ||
	    router_add_route(r, 0, 0, wan, (pub & prefix_mask(24)) | 1) < 0 ||
	    (nat = router_enable_nat(r, wan, &nc)) == NULL)
		die(rname);
	struct endpoint inside = {lan_net | 5, forward};
	if (forward != 0 && nat_add_forward(nat, IPPROTO_NUM_TCP, forward, &inside) < 0)
		die("the port forward");
	snprintf(lname, sizeof(lname), "%s-up", name);
	new_link(net, lname, SIM_MS(10), up, wan);
	snprintf(lname, sizeof(lname), "%s-lan", name);
	new_link(net, lname, SIM_US(500), lif, host_iface(h));
	return h;
}

/* The internet router forwards everything, through conntrack. */
static void make_stateful(struct router *inet)
{
	struct fw_rule accept = {.chain = FW_CHAIN_FORWARD,
				 .states = FW_STATE_ANY,
				 .action = FW_ACCEPT,
				 .comment = "bench: track every flow"};
	if (firewall_append(router_firewall(inet), &accept) < 0)
		die("the internet router's rule");
}

/* bob's reader: count, and close when alice's FIN comes (the transfer's
 * end); a CLOSED before that is a failure. */
static void on_server(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct transfer *t = ctx;
	if (ev->kind == HOST_TCP_DATA) {
		t->received += ev->len;
		return;
	}
	if (t->closed_server)
		return;
	if (ev->kind == HOST_TCP_PEER_CLOSED || ev->kind == HOST_TCP_CLOSED) {
		t->failed |= ev->kind == HOST_TCP_CLOSED;
		t->closed_server = true;
		t->finished = engine_now(net_engine(t->net));
		host_tcp_close(s);
	}
}

static void on_accept(struct host_tcp *listener, struct host_tcp *conn, void *ctx)
{
	host_tcp_set_fn(conn, on_server, ctx);
	host_tcp_close(listener); /* one transfer: the listener's job is done */
}

/* alice's writer: fill the send buffer, close after the last byte. */
static void refill(struct engine *e, void *arg)
{
	struct transfer *t = arg;
	if (t->client == NULL)
		return;
	while (t->left > 0) {
		size_t want = t->left < BENCH_CHUNK ? (size_t)t->left : BENCH_CHUNK;
		size_t took = host_tcp_send(t->client, t->chunk, want);
		t->left -= took;
		if (took < want)
			break;
	}
	if (t->left == 0) {
		host_tcp_close(t->client);
		t->client = NULL;
		return;
	}
	engine_schedule_after(e, BENCH_REFILL, refill, t);
}

static void on_client(struct host_tcp *s, const struct host_tcp_event *ev, void *ctx)
{
	struct transfer *t = ctx;
	if (ev->kind == HOST_TCP_CONNECTED) {
		t->connected = engine_now(net_engine(t->net));
		refill(net_engine(t->net), t);
	} else if (ev->kind == HOST_TCP_CLOSED && t->client == s) {
		/* refused or reset while alice still owned it */
		t->failed = true;
		host_tcp_close(s);
		t->client = NULL;
	}
}

/* Wall time is the figure; the process's CPU time beside it tells what a
 * loaded machine (other processes on the core) took from it. */
static void report(const struct transfer *t, uint64_t bytes, uint64_t segments, double secs,
		   double cpu, uint64_t events)
{
	double rate = (double)segments / secs;
	bool ok = !t->failed && t->received == bytes;
	printf("bench_tcp: %" PRIu64 " bytes over TCP, alice (port-restricted-cone NAT) -> "
	       "bob:80 (port forward)\n",
	       bytes);
	printf("    path: 4 links, 3 routers, conntrack on every hop, 2 translations each way, "
	       "trace observers off\n");
	printf("    bob received %" PRIu64 " bytes%s; virtual time %.3f s (handshake %.3f s)\n",
	       t->received, ok ? "" : " - TRANSFER FAILED",
	       (double)(t->finished - t->started) / 1e9, (double)(t->connected - t->started) / 1e9);
	printf("    %" PRIu64 " segments (data and ACKs) in %.3f s of wall time (%.3f s of CPU), "
	       "%" PRIu64 " events (%.1f M events/s)\n",
	       segments, secs, cpu, events, (double)events / secs / 1e6);
	printf("    segments/s: %.0f k/s (%.0f k per CPU second); target >= %.0f k/s at "
	       "bench_engine (a) 80 M events/s (bench/README.md)\n",
	       rate / 1e3, (double)segments / cpu / 1e3, TARGET_RATE / 1e3);
}

int main(int argc, char **argv)
{
	uint64_t mb = BENCH_DEFAULT_MB;
	if (argc > 1 && (mb = strtoull(argv[1], NULL, 10)) == 0) {
		fprintf(stderr, "usage: bench_tcp [megabytes]\n");
		return 2;
	}
	static struct transfer t;
	t.left = mb * 1000000ULL;
	for (size_t i = 0; i < sizeof(t.chunk); i++)
		t.chunk[i] = (uint8_t)i;
	t.net = net_new(1);
	struct router *inet = t.net ? router_new(t.net, "internet") : NULL;
	if (inet == NULL)
		die("the internet");
	make_stateful(inet);
	struct host *alice = behind_nat(t.net, inet, "alice", ALICE_PUB, 1, 0);
	struct host *bob = behind_nat(t.net, inet, "bob", BOB_PUB, 2, BOB_PORT);
	if (host_tcp_listen(bob, 0, BOB_PORT, false, on_accept, &t) == NULL)
		die("bob's listener");
	struct engine *e = net_engine(t.net);
	struct endpoint to = {BOB_PUB, BOB_PORT};

	uint64_t id0 = net_next_packet_id(t.net), events0 = engine_events_run(e);
	double t0 = seconds_of(CLOCK_MONOTONIC), c0 = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
	t.started = engine_now(e);
	t.client = host_tcp_connect(alice, NULL, &to, false, on_client, &t);
	if (t.client == NULL)
		die("alice's connection");
	engine_run(e);
	double secs = seconds_of(CLOCK_MONOTONIC) - t0;
	double cpu = seconds_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
	uint64_t segments = net_next_packet_id(t.net) - id0 - 1;
	report(&t, mb * 1000000ULL, segments, secs, cpu, engine_events_run(e) - events0);
	bool ok = !t.failed && t.received == mb * 1000000ULL && t.closed_server;
	net_free(t.net);
	return ok ? 0 : 1;
}
