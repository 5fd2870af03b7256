/*
 * sweep_curve.c - the birthday search's analytic curve, and when a sweep is
 * one it describes.
 */
#include "app/world/sweep_curve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/scenario.h"
#include "app/world/runner.h"
#include "app/world/stats.h"
#include "model/nat.h"

/* The agent's default K (p2p/agent.c, agent_config.birthday_sockets). */
#define BIRTHDAY_DEFAULT_SOCKETS 256

const char *sweep_curve_name(enum sweep_curve_kind kind)
{
	return kind == SWEEP_CURVE_BIRTHDAY ? "birthday" : "none";
}

double sweep_curve_value(const struct sweep_curve *c, double x)
{
	if (c->kind != SWEEP_CURVE_BIRTHDAY || c->port_range == 0 || x <= 0)
		return 0.0;
	/* (1 - K/R)^x as exp(x log1p(-K/R)): exact to rounding for any x. */
	double miss = log1p(-(double)c->open_ports / (double)c->port_range);
	return -expm1(x * miss);
}

double sweep_curve_plus_one(const struct sweep_curve *c)
{
	struct sweep_curve more = *c;
	double most = 0;
	more.open_ports++;
	/* The gap peaks near n = R/K; 4R/K points of n cover it. */
	for (double n = 1; n <= 4.0 * c->port_range / (c->open_ports ? c->open_ports : 1); n++) {
		double gap = sweep_curve_value(&more, n) - sweep_curve_value(c, n);
		most = gap > most ? gap : most;
	}
	return most;
}

static const struct scenario_host *find_host(const struct scenario *s, const char *name)
{
	for (size_t i = 0; i < s->n_hosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	return NULL;
}

static const struct scenario_nat *find_nat(const struct scenario *s, const char *name)
{
	for (size_t i = 0; name && i < s->n_nats; i++)
		if (strcmp(s->nats[i].name, name) == 0)
			return &s->nats[i];
	return NULL;
}

/* The probe budget n the host runs with: its `probes`, else the agent's. */
static double probes_of(const struct scenario_host *h)
{
	return h && h->probes > 0 ? (double)h->probes : 2048.0; /* agent.c's default */
}

/* When the prober asks for (or is asked by) the hard side: the first
 * `connect` between them. */
static int64_t connect_time(const struct scenario *s, const struct sweep_curve *c)
{
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		if (a->kind == SCENARIO_ACT_CONNECT &&
		    ((strcmp(a->host.name, c->prober) == 0 && strcmp(a->peer.name, c->hard) == 0) ||
		     (strcmp(a->host.name, c->hard) == 0 && strcmp(a->peer.name, c->prober) == 0)))
			return a->at_ns;
	}
	return 0;
}

/* The hard side's NAT's mapping lifetime, as the world sets it. */
static int64_t mapping_timeout(const struct scenario *s, const char *hard)
{
	const struct scenario_host *h = find_host(s, hard);
	const struct scenario_nat *sn = h ? find_nat(s, h->behind.name) : NULL;
	struct nat_config cfg;
	nat_config_default(&cfg);
	return sn && sn->timeout_ns >= 0 ? sn->timeout_ns : cfg.mapping_timeout;
}

/* Slack for the introduction's round trip and the agent's timers. */
#define CURVE_SLACK_NS 500000000LL

/* Whether n probes all leave within the run and the mappings' lifetime
 * (agent_hard.c's schedule: the prober waits its own `sockets` x 1/rate
 * after the introduction, then one probe per 1/rate). */
static void limit_of(const struct sweep_curve *c, const struct scenario *point, int64_t until_ns,
		     struct sweep_curve_point *out)
{
	const struct scenario_host *p = find_host(point, c->prober);
	double rate = p && p->probe_rate > 0 ? p->probe_rate : 100.0;		   /* agent.c */
	double wait = p && p->sockets > 0 ? p->sockets : BIRTHDAY_DEFAULT_SOCKETS; /* its K */
	int64_t start = connect_time(point, c);
	int64_t search = (int64_t)((wait + out->x - 1) / rate * 1e9) + CURVE_SLACK_NS;
	int64_t end = until_ns > 0 ? until_ns : runner_default_end(point);
	out->last_probe_s = (double)(start + search) / 1e9;
	out->limit = start + search > end			 ? SWEEP_CURVE_RUN_ENDS
		     : search >= mapping_timeout(point, c->hard) ? SWEEP_CURVE_MAPPINGS_EXPIRE
								 : SWEEP_CURVE_HOLDS;
}

void sweep_curve_compare(const struct sweep_curve *c, const struct scenario *point,
			 int64_t until_ns, const struct sweep_summary *measured,
			 struct sweep_curve_point *out)
{
	uint64_t lo, hi;
	out->x = probes_of(find_host(point, c->prober));
	limit_of(c, point, until_ns, out);
	out->expected = sweep_curve_value(c, out->x);
	stats_binomial_range(out->expected, measured->trials, 1.0 - SWEEP_CURVE_LEVEL, &lo, &hi);
	double n = measured->trials ? (double)measured->trials : 1.0;
	out->low = (double)lo / n;
	out->high = (double)hi / n;
	uint64_t direct = measured->count[SWEEP_DIRECT];
	out->fits = direct >= lo && direct <= hi;
}

/* How a host's NAT assigns ports, resolved as the world resolves it: its
 * preset, then its explicit mapping and ports. The first (inside) NAT only:
 * a NAT behind a NAT is not the curve's world. */
static bool nat_kind(const struct scenario *s, const struct scenario_host *h,
		     enum nat_behaviour *mapping, enum nat_port_assignment *ports)
{
	const struct scenario_nat *sn = find_nat(s, h->behind.name);
	struct nat_config cfg;
	if (sn == NULL || sn->behind.name != NULL)
		return false;
	nat_config_default(&cfg);
	if (sn->preset && nat_config_preset(&cfg, sn->preset) < 0)
		return false;
	*mapping = sn->has_mapping ? (enum nat_behaviour)sn->mapping : cfg.mapping;
	*ports = sn->has_ports ? (enum nat_port_assignment)sn->ports : cfg.ports;
	return true;
}

static bool runs_birthday(const struct scenario_host *h)
{
	return h->techniques > 0 && (h->techniques & SCENARIO_TECH_BIRTHDAY);
}

/* The other side of the prober's `connect` pair, and the pair's index;
 * NULL if it has none or several (which would the curve be about?). */
static const char *peer_of(const struct scenario *s, const char *prober, size_t *pair)
{
	struct sweep_pair *pairs = calloc(s->n_actions + 1, sizeof(*pairs));
	size_t n = pairs ? sweep_pairs(s, pairs) : 0;
	const char *peer = NULL;
	bool several = false;
	for (size_t i = 0; i < n; i++) {
		const char *other = strcmp(pairs[i].a, prober) == 0   ? pairs[i].b
				    : strcmp(pairs[i].b, prober) == 0 ? pairs[i].a
								      : NULL;
		several |= other && peer;
		if (other && !peer) {
			peer = other;
			*pair = i;
		}
	}
	free(pairs);
	return several ? NULL : peer;
}

/* The varied key as HOST.probes: the host, or NULL with why. */
static const struct scenario_host *varied_prober(const struct scenario *s,
						 const struct sweep_vary *vary, size_t n_vary,
						 char *why, size_t n)
{
	const char *dot = n_vary == 1 ? strrchr(vary[0].key, '.') : NULL;
	if (dot == NULL || strcmp(dot, ".probes") != 0) {
		snprintf(why, n, "one --vary, of a host's probe budget (HOST.probes=...)");
		return NULL;
	}
	char name[128];
	snprintf(name, sizeof(name), "%.*s", (int)(dot - vary[0].key), vary[0].key);
	const struct scenario_host *h = find_host(s, name);
	if (h == NULL)
		snprintf(why, n, "'%s' to be a host", name);
	else if (!runs_birthday(h))
		snprintf(why, n, "%s to run the birthday search (techniques birthday)", name);
	return h;
}

/* The prober's side is easy and the peer's hard; false with why. */
static bool sides_fit(const struct scenario *s, const struct scenario_host *prober,
		      const struct scenario_host *hard, char *why, size_t n)
{
	enum nat_behaviour mapping;
	enum nat_port_assignment ports;
	if (!runs_birthday(hard)) {
		snprintf(why, n, "%s to run the birthday search (techniques birthday)", hard->name);
		return false;
	}
	if (!nat_kind(s, hard, &mapping, &ports) || mapping == NAT_ENDPOINT_INDEPENDENT ||
	    ports != NAT_PORT_RANDOM) {
		snprintf(why, n,
			 "%s behind one NAT that gives each destination a new random port "
			 "(e.g. preset symmetric)",
			 hard->name);
		return false;
	}
	if (!prober->is_public &&
	    (!nat_kind(s, prober, &mapping, &ports) || mapping != NAT_ENDPOINT_INDEPENDENT)) {
		snprintf(why, n,
			 "%s public or behind one NAT that keeps one port for every "
			 "destination (the easy side probes; two hard sides both open sockets, "
			 "which this curve does not describe)",
			 prober->name);
		return false;
	}
	return true;
}

bool sweep_curve_find(const struct scenario *s, const struct sweep_vary *vary, size_t n_vary,
		      struct sweep_curve *out, char *why, size_t n)
{
	memset(out, 0, sizeof(*out));
	const struct scenario_host *prober = varied_prober(s, vary, n_vary, why, n);
	if (prober == NULL || !runs_birthday(prober))
		return false;
	size_t pair = 0;
	const char *peer = peer_of(s, prober->name, &pair);
	const struct scenario_host *hard = peer ? find_host(s, peer) : NULL;
	if (hard == NULL) {
		snprintf(why, n, "%s in exactly one `connect` pair", prober->name);
		return false;
	}
	if (!sides_fit(s, prober, hard, why, n))
		return false;
	*out = (struct sweep_curve){
	    .kind = SWEEP_CURVE_BIRTHDAY,
	    .pair = pair,
	    .prober = prober->name,
	    .hard = hard->name,
	    .open_ports = hard->sockets > 0 ? (uint32_t)hard->sockets : BIRTHDAY_DEFAULT_SOCKETS,
	    .port_range = SWEEP_BIRTHDAY_RANGE,
	};
	return true;
}
