/*
 * sweep.c - natsim sweep's plan (--vary and the seeds) and tally.
 */
#include "app/world/sweep.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/scenario.h"
#include "base/hash.h"

/* Cut text at each ',' into v->values. Returns 0, -1 (an empty value), -2. */
static int split_values(struct sweep_vary *v, char *list, char *msg, size_t n)
{
	size_t count = 1;
	for (const char *c = list; *c; c++)
		count += *c == ',';
	v->values = calloc(count, sizeof(*v->values));
	if (v->values == NULL)
		return -2;
	for (char *p = list;; p++) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (*p == '\0') {
			snprintf(msg, n,
				 "an empty value in the list (values are separated by ',')");
			return -1;
		}
		v->values[v->n_values++] = p;
		if (!comma)
			return 0;
		p = comma;
	}
}

int sweep_vary_parse(const char *arg, struct sweep_vary *v, char *msg, size_t n)
{
	memset(v, 0, sizeof(*v));
	const char *eq = strchr(arg, '=');
	if (eq == NULL || eq == arg) {
		snprintf(msg, n,
			 "expected NAME.KEY=V1,V2,... (e.g. home.preset=full-cone,symmetric)");
		return -1;
	}
	/* The trials take their seeds from --seed (sweep_trial_seed): a varied
	 * seed would be overwritten by every trial. */
	if ((size_t)(eq - arg) == 4 && strncmp(arg, "seed", 4) == 0) {
		snprintf(msg, n,
			 "the seed cannot be varied: each trial has its own, derived from "
			 "--seed (--trials sets how many)");
		return -1;
	}
	if ((v->text = strdup(arg)) == NULL)
		return -2;
	char *cut = v->text + (eq - arg);
	*cut = '\0';
	v->key = v->text;
	int rc = split_values(v, cut + 1, msg, n);
	if (rc < 0)
		sweep_vary_fini(v);
	return rc;
}

void sweep_vary_fini(struct sweep_vary *v)
{
	free(v->text);
	free(v->values);
	memset(v, 0, sizeof(*v));
}

size_t sweep_point_count(const struct sweep_vary *vary, size_t n)
{
	size_t points = 1;
	for (size_t k = 0; k < n; k++) {
		if (vary[k].n_values && points > SIZE_MAX / vary[k].n_values)
			return SIZE_MAX; /* too many to run anyway */
		points *= vary[k].n_values;
	}
	return points;
}

size_t sweep_point_value(const struct sweep_vary *vary, size_t n, size_t point, size_t k)
{
	/* Mixed radix, the last vary the fastest digit. */
	for (size_t j = n; j-- > k + 1;)
		point /= vary[j].n_values;
	return point % vary[k].n_values;
}

int sweep_point_set(const struct sweep_vary *vary, size_t n, size_t point, size_t k, char *buf,
		    size_t size)
{
	return snprintf(buf, size, "%s=%s", vary[k].key,
			vary[k].values[sweep_point_value(vary, n, point, k)]);
}

uint64_t sweep_trial_seed(uint64_t seed, uint64_t trial)
{
	/* splitmix64's state after t+1 steps is seed + (t+1) * gamma. */
	return hash_mix64(seed + (trial + 1) * 0x9e3779b97f4a7c15ULL);
}

const char *sweep_outcome_name(enum sweep_outcome o)
{
	static const char *const names[SWEEP_OUTCOMES] = {"direct", "relayed", "failed"};
	return (unsigned)o < SWEEP_OUTCOMES ? names[o] : "?";
}

int sweep_summarize(const struct sweep_trial *first, size_t stride, uint64_t trials,
		    struct sweep_summary *out)
{
	int64_t *times = malloc((trials ? trials : 1) * sizeof(*times));
	if (times == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	out->trials = trials;
	for (uint64_t t = 0; t < trials; t++) {
		const struct sweep_trial *r = &first[t * stride];
		if ((unsigned)r->outcome < SWEEP_OUTCOMES)
			out->count[r->outcome]++;
		if (r->connect_ns >= 0)
			times[out->connected++] = r->connect_ns;
	}
	for (int o = 0; o < SWEEP_OUTCOMES; o++)
		out->share[o] = stats_wilson(out->count[o], trials, STATS_Z95);
	out->median_ns = out->p90_ns = -1;
	if (out->connected > 0) {
		stats_sort(times, out->connected);
		out->median_ns = stats_rank_percentile(times, out->connected, 0.5);
		out->p90_ns = stats_rank_percentile(times, out->connected, 0.9);
	}
	free(times);
	return 0;
}

static bool same_pair(const struct sweep_pair *p, const char *a, const char *b)
{
	return (strcmp(p->a, a) == 0 && strcmp(p->b, b) == 0) ||
	       (strcmp(p->a, b) == 0 && strcmp(p->b, a) == 0);
}

/* As app/world/runner.c's add_pairs: the results come back in this order. */
size_t sweep_pairs(const struct scenario *s, struct sweep_pair *out)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_actions; i++) {
		const struct scenario_action *a = &s->actions[i];
		bool seen = false;
		if (a->kind != SCENARIO_ACT_CONNECT)
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = same_pair(&out[j], a->host.name, a->peer.name);
		if (!seen)
			out[n++] = (struct sweep_pair){a->host.name, a->peer.name};
	}
	return n;
}
