/*
 * sweep_curve.h - the analytic curve a sweep's measured shares are set
 * against, where theory gives one, and whether each point fits it.
 *
 * One curve is known: the birthday search (issue 17). A hard side, behind a
 * NAT that gives each destination a new random port, opens K sockets that
 * each send once towards the easy side: K open mappings, K distinct ports.
 * The easy side sends n probes, each to a port drawn uniformly and
 * independently (with replacement) from the R ports 1024-65535 (R = 64 512)
 * of the hard side's public address. Each probe misses with probability
 * 1 - K/R, whatever the others did, so n probes find an open port with
 *
 *	P(n) = 1 - (1 - K/R)^n
 *
 * exactly (not an approximation: the approximations are 1 - e^(-nK/R), and
 * the without-replacement 1 - C(R-K, n)/C(R, n), which a prober that never
 * repeats a port would follow). It holds while nothing is lost on the way
 * and the K mappings outlive the search; the sweep's scenario is to see to
 * that (docs/sweep.md).
 *
 * Nothing here prints; the words are sweep_out.c's.
 */
#ifndef NATSIM_APP_SWEEP_CURVE_H
#define NATSIM_APP_SWEEP_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/world/sweep.h"

struct scenario;

/* The ports a birthday prober draws from: 1024-65535. */
#define SWEEP_BIRTHDAY_RANGE 64512u
/* The level of the interval a point is checked against. */
#define SWEEP_CURVE_LEVEL 0.99

enum sweep_curve_kind {
	SWEEP_CURVE_NONE = 0,
	SWEEP_CURVE_BIRTHDAY = 1,
};

struct sweep_curve {
	enum sweep_curve_kind kind;
	size_t pair;	     /* the `connect` pair it predicts (sweep_pairs' order) */
	const char *prober;  /* the easy side, whose `probes` is varied (borrowed) */
	const char *hard;    /* the side behind the random-port NAT (borrowed) */
	uint32_t open_ports; /* K: the hard side's `sockets` */
	uint32_t port_range; /* R: SWEEP_BIRTHDAY_RANGE */
};

/* Whether a point's world lets the curve hold: the formula counts n probes
 * that all leave, each while the K mappings are open. */
enum sweep_curve_limit {
	SWEEP_CURVE_HOLDS = 0,
	SWEEP_CURVE_RUN_ENDS,	     /* the run ends before the n-th probe leaves */
	SWEEP_CURVE_MAPPINGS_EXPIRE, /* the first mappings time out before it */
};

/* How one point of the sweep compares with the curve. */
struct sweep_curve_point {
	double x;	 /* the varied value: the prober's probe budget n */
	double expected; /* P(n) */
	/* The direct share that SWEEP_CURVE_LEVEL of sweeps would measure if
	 * the curve were right: the central binomial range of `trials` trials
	 * at P(n) (stats_binomial_range), as shares. */
	double low, high;
	bool fits; /* the measured direct share lies in [low, high] */
	enum sweep_curve_limit limit;
	double last_probe_s; /* about when the n-th probe leaves (virtual time) */
};

/* "birthday"; "none" for SWEEP_CURVE_NONE. */
const char *sweep_curve_name(enum sweep_curve_kind kind);

/* The curve's value at x: 1 - (1 - K/R)^x. */
double sweep_curve_value(const struct sweep_curve *c, double x);

/* The most the chance with K + 1 open ports exceeds the curve, over all n.
 * The hard side's own socket sends ICE's checks to the prober's
 * server-reflexive endpoint, so its NAT holds one mapping more that admits
 * the prober's probes (agent_hard.c opens K on extra sockets besides): the
 * world's exact chance is 1 - (1 - (K+1)/R)^n, above the curve by at most
 * about 1/(e K), 0.0014 for K = 256, which 1000 trials cannot see (their
 * 99 % range is +-0.04 at P = 0.5). The curve is the issue's, with K. */
double sweep_curve_plus_one(const struct sweep_curve *c);

/* Point p of a sweep: its scenario (the varied value applied), when its
 * trials end (0: where natsim run ends them) and what it measured for c's
 * pair. The limit is from the agent's schedule: the prober waits while the
 * other side opens its sockets (K at the probe rate), then sends one probe
 * per 1/rate; a world whose run or NAT timeout is shorter is marked. */
void sweep_curve_compare(const struct sweep_curve *c, const struct scenario *point,
			 int64_t until_ns, const struct sweep_summary *measured,
			 struct sweep_curve_point *out);

/* Whether the birthday curve applies to a sweep of `s` with these varies:
 * exactly one --vary, HOST.probes with HOST's agent running the birthday
 * search in a `connect` pair with a host that also runs it, has `sockets`
 * K, and sits behind a NAT that maps each destination to a new random port;
 * HOST's own NAT, if any, keeps one port for all destinations (an easy side
 * probes, a hard one opens sockets). Returns true with *out filled, or
 * false with what the curve needs that this sweep lacks in why, words that
 * follow "the birthday curve needs ". */
bool sweep_curve_find(const struct scenario *s, const struct sweep_vary *vary, size_t n_vary,
		      struct sweep_curve *out, char *why, size_t n);

#endif
