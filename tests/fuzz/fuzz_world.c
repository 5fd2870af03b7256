/*
 * fuzz_world.c - libFuzzer target: a whole world run.
 *
 * Any bytes are a scenario file; one that parses is built into a world and
 * run for at most 20 s of virtual time, as `natsim run --until 20s` would:
 * the NATs, firewalls, conntrack, the coordinator and the agents all see
 * whatever the fuzzer's world makes them send. Inputs are bounded (8 KiB,
 * 24 nodes) so one run stays well under a second. A run must end with a
 * result, or refuse with a diagnostic that says why; and since a run is a
 * function of (scenario, seed), running it again must give the same result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "app/diag.h"
#include "app/runner.h"
#include "app/scenario.h"
#include "sim/engine.h"

#define MAX_INPUT 8192
#define MAX_NODES 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two runs of one scenario agree on everything the runner reports. */
static void check_same(const struct run_result *a, const struct run_result *b)
{
	if (a->events != b->events || a->ended_at != b->ended_at || a->n_failed != b->n_failed ||
	    a->n_pairs != b->n_pairs || a->n_verdicts != b->n_verdicts)
		abort();
	for (size_t i = 0; i < a->n_pairs; i++)
		if (a->pairs[i].path != b->pairs[i].path ||
		    a->pairs[i].connected_at != b->pairs[i].connected_at ||
		    a->pairs[i].direct_at != b->pairs[i].direct_at)
			abort();
	for (size_t i = 0; i < a->n_verdicts; i++)
		if (a->verdicts[i].passed != b->verdicts[i].passed ||
		    a->verdicts[i].checked_at != b->verdicts[i].checked_at)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_INPUT)
		return 0;
	struct diag *d = diag_new();
	if (!d)
		return 0;
	struct scenario *s = scenario_parse((const char *)data, size, "fuzz.nsim", d);
	if (s && s->n_hosts + s->n_nats <= MAX_NODES) {
		struct run_options opt = {.until_ns = SIM_S(20)};
		struct run_result res, again;
		if (runner_run(s, &opt, &res, d) == 0) {
			if (runner_run(s, &opt, &again, d) != 0)
				abort();
			check_same(&res, &again);
			run_result_free(&again);
			run_result_free(&res);
		} else if (diag_count_errors(d) == 0) {
			abort(); /* a run that cannot happen says why */
		}
	}
	scenario_free(s);
	diag_free(d);
	return 0;
}
