/*
 * bench/scale.c - a generated world of N peers, each behind its own NAT.
 *
 *	bench_scale [N]      (default: N = 1000, 10000 and 100000, each in a
 *	                      child process so peak RSS is per size)
 *
 * The world: four regions (an ISP each). A region router has one public /16
 * on its access segment, a LAN link on which the wan interfaces of a quarter
 * of the NATs sit, as customers' routers share an ISP's aggregation network;
 * the internet router joins the four regions and the coordinator's data
 * centre with one route per region. Every packet between two peers thus
 * crosses seven links and five routers, and no router holds more than a few
 * routes, whatever N is. NAT kinds cycle full-cone, restricted-cone,
 * port-restricted-cone, symmetric; every NAT's inside is 192.168.0.0/24.
 *
 * Each peer runs the real agent (Ed25519 registration, X25519 session keys,
 * authenticated connectivity checks) against one real coordinator: it
 * registers at a time spread over the first second, and at 2 s + the same
 * offset asks to be introduced to the next K_PEERS peers (i + 1 .. i + 4,
 * modulo N), so every peer takes part in 8 connections, 4 of its own. The
 * run ends at RUN_END of virtual time, after relay fallback (5 s of
 * punching) has settled. No trace observer is attached.
 *
 * The peers' identities are derived on the second core while the first
 * builds the hosts and NATs, then on both (app/world/identities.h): the same keys
 * simdrive would derive one by one.
 * Every connection's shared secret is computed once for both sides, and
 * ahead of time by a second thread (simdrive_expect_session for each planned
 * pair, in connect order, then simdrive_start_precompute): results are the
 * same, only the time changes. That thread also verifies each registration's
 * Ed25519 signature as soon as the agent made it, so the coordinator's check
 * usually finds the verdict ready.
 *
 * Figures: wall time to build and to run, events and events/s, peak RSS
 * (getrusage ru_maxrss), how the connections ended, and who computed the
 * shared secrets and the signature verdicts (the worker thread or the
 * simulation's). Target (issue):
 * N = 100 000 in <= 30 s and <= 2 GiB, cost growing linearly in N.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app/world/identities.h"
#include "app/world/secrets.h"
#include "app/world/simdrive.h"
#include "p2p/agent_speed.h"
#include "model/host.h"
#include "model/router.h"

#define K_PEERS 4
#define REGIONS 4
#define PEER_PORT 5000
#define COORD_IP IP4(192, 0, 2, 10)
#define COORD_PORT 3478
#define REGISTER_SPREAD SIM_S(1)
#define CONNECT_AT SIM_S(2)
#define RUN_END SIM_S(10)

#define TARGET_N 100000
#define TARGET_SECONDS 30.0
#define TARGET_RSS_KIB (2.0 * 1024 * 1024)

static const char *const nat_kinds[] = {"full-cone", "restricted-cone", "port-restricted-cone",
					"symmetric"};

struct peer {
	struct sim_agent *sa;
	struct world *w;
	size_t index;
};

struct world {
	struct net *net;
	struct simdrive *drive;
	struct peer *peers;
	size_t n;
	char (*names)[32];
};

struct result {
	size_t n;
	double build_s, run_s;
	uint64_t events;
	long rss_kib;
	uint64_t direct, relayed, other, expect_relayed;
	uint64_t secrets_worker, secrets_main, secrets_reused;
	uint64_t sigs_hinted, sigs_served, sigs_inline, sigs_worker;
	int ok;
};

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, size_t i)
{
	fprintf(stderr, "bench_scale: cannot build %s %zu\n", what, i);
	exit(1);
}

static struct link *new_link(struct net *net, const char *name, int64_t latency)
{
	struct link_config lc;
	link_config_default(&lc);
	lc.latency = latency;
	struct link *l = link_new(net, name, &lc);
	if (l == NULL)
		die("link", 0);
	return l;
}

static void attach(struct link *l, struct iface *ifc, size_t i)
{
	if (ifc == NULL || link_attach(l, ifc) < 0)
		die("attachment", i);
}

/* A region's public /16: 11.<r>.0.0 (any public-looking block will do). */
static uint32_t region_block(size_t r)
{
	return IP4(11, r, 0, 0);
}

/* The internet router, the coordinator's host, and the four regions; returns
 * each region's access segment in access[]. */
static struct host *build_backbone(struct net *net, struct link *access[REGIONS])
{
	struct router *core = router_new(net, "internet");
	struct host *coord = host_new(net, "coord", COORD_IP, 24, IP4(192, 0, 2, 1));
	if (core == NULL || coord == NULL)
		die("backbone", 0);
	struct link *dc = new_link(net, "dc", SIM_MS(2));
	attach(dc, router_add_iface(core, "dc", IP4(192, 0, 2, 1), 24), 0);
	attach(dc, host_iface(coord), 0);
	for (size_t r = 0; r < REGIONS; r++) {
		char name[32];
		snprintf(name, sizeof(name), "isp%zu", r);
		struct router *isp = router_new(net, name);
		uint32_t transit = IP4(198, 18, r, 0); /* RFC 2544 benchmarking space */
		struct iface *up = isp ? router_add_iface(isp, "core", transit | 2, 24) : NULL;
		struct iface *down = router_add_iface(core, name, transit | 1, 24);
		snprintf(name, sizeof(name), "isp%zu-core", r);
		struct link *l = new_link(net, name, SIM_MS(10));
		attach(l, up, r);
		attach(l, down, r);
		if (router_add_route(isp, 0, 0, up, transit | 1) < 0 ||
		    router_add_route(core, region_block(r), 16, down, transit | 2) < 0)
			die("route", r);
		snprintf(name, sizeof(name), "isp%zu-access", r);
		access[r] = new_link(net, name, SIM_MS(5));
		attach(access[r], router_add_iface(isp, "access", region_block(r) | 1, 16), r);
	}
	return coord;
}

/* Peer i: a NAT (wan on its region's access segment) and a host behind it. */
static struct host *build_peer(struct world *w, struct link *access[REGIONS], size_t i)
{
	size_t r = i % REGIONS, slot = i / REGIONS + 2; /* .0.0 is the net, .0.1 the ISP */
	uint32_t pub = region_block(r) | (uint32_t)slot;
	char name[32];

	snprintf(name, sizeof(name), "nat%zu", i);
	struct router *nat = router_new(w->net, name);
	struct iface *wan = nat ? router_add_iface(nat, "wan", pub, 16) : NULL;
	struct iface *lan = nat ? router_add_iface(nat, "lan", IP4(192, 168, 0, 1), 24) : NULL;
	struct host *h = host_new(w->net, w->names[i], IP4(192, 168, 0, 10), 24,
				  IP4(192, 168, 0, 1));
	struct nat_config nc;
	nat_config_default(&nc);
	if (wan == NULL || lan == NULL || h == NULL ||
	    nat_config_preset(&nc, nat_kinds[i % 4]) < 0 ||
	    router_add_route(nat, 0, 0, wan, region_block(r) | 1) < 0 ||
	    router_enable_nat(nat, wan, &nc) == NULL)
		die("peer", i);
	attach(access[r], wan, i);
	snprintf(name, sizeof(name), "lan%zu", i);
	struct link *l = new_link(w->net, name, SIM_US(500));
	attach(l, lan, i);
	attach(l, host_iface(h), i);
	return h;
}

static void do_register(struct engine *e, void *arg)
{
	struct peer *p = arg;
	agent_register(sim_agent_agent(p->sa), (uint64_t)engine_now(e));
	sim_agent_flush(p->sa);
}

static void do_connect(struct engine *e, void *arg)
{
	struct peer *p = arg;
	struct world *w = p->w;
	for (size_t d = 1; d <= K_PEERS; d++)
		agent_connect(sim_agent_agent(p->sa), (uint64_t)engine_now(e),
			      w->names[(p->index + d) % w->n]);
	sim_agent_flush(p->sa);
}

static void build(struct world *w, size_t n)
{
	struct link *access[REGIONS];
	w->n = n;
	w->net = net_new(1);
	w->drive = w->net ? simdrive_new(w->net) : NULL;
	w->peers = calloc(n, sizeof(*w->peers));
	w->names = calloc(n, sizeof(*w->names));
	if (w->drive == NULL || w->peers == NULL || w->names == NULL)
		die("world", n);
	struct host *coord = build_backbone(w->net, access);
	struct coord_config cc = {.primary = {.ip = COORD_IP, .port = COORD_PORT}, .max_peers = n};
	if (simdrive_add_coord(w->drive, coord, &cc) == NULL)
		die("coordinator", 0);
	struct engine *e = net_engine(w->net);
	/* The keys simdrive would derive one by one, derived on the second
	 * core while this one builds the peers' hosts and NATs, then on both. */
	uint8_t(*seeds)[CRYPTO_SEED_SIZE] = malloc(n * sizeof(*seeds));
	struct crypto_identity *ids = malloc(n * sizeof(*ids));
	struct host **hosts = malloc(n * sizeof(*hosts));
	if (seeds == NULL || ids == NULL || hosts == NULL)
		die("identities", n);
	for (size_t i = 0; i < n; i++) {
		snprintf(w->names[i], sizeof(w->names[i]), "peer%zu", i);
		simdrive_key_seed(w->drive, w->names[i], seeds[i]);
	}
	struct identities_job *job =
	    identities_start(ids, (const uint8_t(*)[CRYPTO_SEED_SIZE])seeds, n);
	if (job == NULL)
		die("identities", n);
	for (size_t i = 0; i < n; i++)
		hosts[i] = build_peer(w, access, i);
	identities_finish(job);
	for (size_t i = 0; i < n; i++) {
		struct agent_speed speed = {.identity = &ids[i]}; /* simdrive adds the rest */
		struct agent_config ac = {
		    .name = w->names[i],
		    .local = {.ip = host_address(hosts[i]), .port = PEER_PORT},
		    .coordinator = {.ip = COORD_IP, .port = COORD_PORT},
		    .speed = &speed};
		w->peers[i] = (struct peer){simdrive_add_agent(w->drive, hosts[i], &ac), w, i};
		if (w->peers[i].sa == NULL)
			die("agent", i);
		int64_t offset = (int64_t)(i * (uint64_t)REGISTER_SPREAD / n);
		if (engine_schedule_at(e, offset, do_register, &w->peers[i]) == 0 ||
		    engine_schedule_at(e, CONNECT_AT + offset, do_connect, &w->peers[i]) == 0)
			die("schedule", i);
	}
	free(hosts);
	free(ids);
	free(seeds);
	/* The sessions do_connect will ask for, in the order it asks. */
	for (size_t i = 0; i < n; i++)
		for (size_t d = 1; d <= K_PEERS; d++)
			if (simdrive_expect_session(w->drive, w->peers[i].sa,
						    w->peers[(i + d) % n].sa) < 0)
				die("planned session", i);
}

/* Symmetric against port-restricted-cone or symmetric cannot punch
 * (test_p2p_sim's outcome matrix): those pairs end relayed. */
static bool expect_relayed(size_t a, size_t b)
{
	size_t ka = a % 4, kb = b % 4;
	return (ka == 3 && kb >= 2) || (kb == 3 && ka >= 2);
}

static void tally(struct world *w, struct result *res)
{
	for (size_t i = 0; i < w->n; i++) {
		for (size_t d = 1; d <= K_PEERS; d++) {
			size_t j = (i + d) % w->n;
			enum agent_peer_state s =
			    agent_peer_state(sim_agent_agent(w->peers[i].sa), w->names[j]);
			res->direct += s == AGENT_PEER_DIRECT;
			res->relayed += s == AGENT_PEER_RELAYED;
			res->other += s != AGENT_PEER_DIRECT && s != AGENT_PEER_RELAYED;
			res->expect_relayed += expect_relayed(i, j);
		}
	}
}

static void run_size(size_t n, struct result *res)
{
	struct world w = {0};
	memset(res, 0, sizeof(*res));
	res->n = n;
	double t0 = seconds_now();
	build(&w, n);
	double t1 = seconds_now();
	if (simdrive_start_precompute(w.drive) < 0)
		fprintf(stderr, "bench_scale: no worker thread; computing every secret inline\n");
	engine_run_until(net_engine(w.net), RUN_END);
	double t2 = seconds_now();
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	res->build_s = t1 - t0;
	res->run_s = t2 - t1;
	res->events = engine_events_run(net_engine(w.net));
	res->rss_kib = ru.ru_maxrss;
	tally(&w, res);
	res->ok = res->other == 0 && res->relayed == res->expect_relayed;
	struct secrets_stats st;
	simdrive_secret_stats(w.drive, &st);
	res->secrets_worker = st.computed_worker;
	res->secrets_main = st.computed_caller;
	res->secrets_reused = st.served_stored;
	res->sigs_hinted = st.sig_hints;
	res->sigs_served = st.sig_served_worker;
	res->sigs_inline = st.sig_computed_caller;
	res->sigs_worker = st.sig_computed_worker;
	simdrive_free(w.drive);
	net_free(w.net);
	free(w.peers);
	free(w.names);
}

static void print_result(const struct result *r)
{
	double total = r->build_s + r->run_s;
	uint64_t conns = r->direct + r->relayed + r->other;
	printf("N = %zu peers (%zu nodes), k = %d, %.0f s of virtual time:\n", r->n, 2 * r->n + 6,
	       K_PEERS, (double)RUN_END / 1e9);
	printf("    wall time   %.2f s (build %.2f s, run %.2f s), %.1f us per peer\n", total,
	       r->build_s, r->run_s, total / (double)r->n * 1e6);
	printf("    events      %" PRIu64 " (%.2f M events/s while running)\n", r->events,
	       (double)r->events / r->run_s / 1e6);
	printf("    peak RSS    %.1f MiB (%.1f KiB per peer)\n", (double)r->rss_kib / 1024.0,
	       (double)r->rss_kib / (double)r->n);
	printf("    connections %" PRIu64 ": %" PRIu64 " direct, %" PRIu64 " relayed (expected %" PRIu64
	       "), %" PRIu64 " other%s\n",
	       conns, r->direct, r->relayed, r->expect_relayed, r->other,
	       r->ok ? "" : "  <- UNEXPECTED");
	printf("    secrets     %" PRIu64 " computed by the worker thread, %" PRIu64
	       " by the simulation's, %" PRIu64 " served from the cache\n",
	       r->secrets_worker, r->secrets_main, r->secrets_reused);
	printf("    signatures  %" PRIu64 " hinted; of the coordinator's checks %" PRIu64
	       " took the worker's verdict, %" PRIu64 " verified inline (worker verified %" PRIu64
	       ")\n",
	       r->sigs_hinted, r->sigs_served, r->sigs_inline, r->sigs_worker);
	fflush(stdout);
}

/* Run one size in a child, so that its peak RSS is its own. */
static int run_child(size_t n, struct result *res)
{
	int fd[2];
	if (pipe(fd) < 0)
		return -1;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		run_size(n, res);
		ssize_t wr = write(fd[1], res, sizeof(*res));
		_exit(wr == (ssize_t)sizeof(*res) ? 0 : 1);
	}
	close(fd[1]);
	ssize_t got = read(fd[0], res, sizeof(*res));
	close(fd[0]);
	int status;
	waitpid(pid, &status, 0);
	return got == (ssize_t)sizeof(*res) && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
												  : -1;
}

static void verdict(const struct result *r)
{
	double total = r->build_s + r->run_s;
	printf("target at N = %d: <= %.0f s and <= %.0f MiB: wall %.2f s (%s), peak RSS %.1f MiB "
	       "(%s)\n",
	       TARGET_N, TARGET_SECONDS, TARGET_RSS_KIB / 1024.0, total,
	       total <= TARGET_SECONDS ? "met" : "MISSED", (double)r->rss_kib / 1024.0,
	       (double)r->rss_kib <= TARGET_RSS_KIB ? "met" : "MISSED");
}

/* Gigabytes of small objects on 4 KiB pages spend much of their time in TLB
 * misses. glibc's malloc uses transparent huge pages when the tunable asks
 * (glibc >= 2.35) and tunables are read at start, so set it and start again,
 * once. NATSIM_BENCH_SMALL_PAGES=1 keeps the small pages, to compare. */
static void use_huge_pages(char **argv)
{
	if (getenv("NATSIM_BENCH_SMALL_PAGES") != NULL || getenv("NATSIM_BENCH_PAGES") != NULL)
		return;
	char mode[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f == NULL)
		return;
	bool have = fgets(mode, sizeof(mode), f) != NULL && strstr(mode, "[never]") == NULL;
	fclose(f);
	if (!have)
		return;
	const char *old = getenv("GLIBC_TUNABLES");
	char tunables[512];
	snprintf(tunables, sizeof(tunables), "%s%sglibc.malloc.hugetlb=1", old ? old : "",
		 old ? ":" : "");
	if (setenv("GLIBC_TUNABLES", tunables, 1) < 0 || setenv("NATSIM_BENCH_PAGES", "huge", 1) < 0)
		return;
	execv("/proc/self/exe", argv);
	/* No re-exec (no /proc): run on small pages. */
	unsetenv("NATSIM_BENCH_PAGES");
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {1000, 10000, 100000};
	struct result res[3];

	use_huge_pages(argv);
	printf("memory pages: %s\n", getenv("NATSIM_BENCH_PAGES") ? "transparent huge pages "
								    "(glibc.malloc.hugetlb=1)"
								  : "4 KiB");

	if (argc > 1) {
		long n = strtol(argv[1], NULL, 10);
		if (n < K_PEERS + 1 || n > 4 * 65000) {
			fprintf(stderr, "usage: bench_scale [N], %d < N <= 260000\n", K_PEERS);
			return 2;
		}
		run_size((size_t)n, &res[0]);
		print_result(&res[0]);
		if (n == TARGET_N)
			verdict(&res[0]);
		return res[0].ok ? 0 : 1;
	}
	printf("bench_scale: N peers each behind its own NAT, k = %d connections each, real "
	       "crypto, trace observers off\n",
	       K_PEERS);
	printf("target (issue): N = %d in <= %.0f s and <= 2 GiB, cost growing linearly in N\n\n",
	       TARGET_N, TARGET_SECONDS);
	int ok = 1;
	for (size_t i = 0; i < 3; i++) {
		if (run_child(sizes[i], &res[i]) < 0) {
			fprintf(stderr, "bench_scale: the run for N = %zu failed\n", sizes[i]);
			return 1;
		}
		print_result(&res[i]);
		ok &= res[i].ok;
	}
	/* Events per peer say whether the work grows linearly; time per peer
	 * adds what the machine makes of it (caches: the world outgrows L3). */
	printf("\nper-peer cost, ratio to the size 10x smaller (1.00 = linear):\n");
	for (size_t i = 1; i < 3; i++) {
		double a = (res[i - 1].build_s + res[i - 1].run_s) / (double)res[i - 1].n;
		double b = (res[i].build_s + res[i].run_s) / (double)res[i].n;
		double ea = (double)res[i - 1].events / (double)res[i - 1].n;
		double eb = (double)res[i].events / (double)res[i].n;
		double ra = (double)res[i - 1].rss_kib / (double)res[i - 1].n;
		double rb = (double)res[i].rss_kib / (double)res[i].n;
		printf("    N = %zu vs %zu: events per peer x%.2f, time per peer x%.2f, "
		       "RSS per peer x%.2f\n",
		       res[i].n, res[i - 1].n, eb / ea, b / a, rb / ra);
	}
	verdict(&res[2]);
	return ok ? 0 : 1;
}
