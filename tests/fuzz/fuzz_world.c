/*
 * fuzz_world.c - libFuzzer target: a whole world run.
 *
 * Any bytes are a scenario file; one that parses is built into a world and
 * run for at most 20 s of virtual time, as `natsim run --until 20s` would:
 * the NATs, firewalls, conntrack, the coordinator and the agents all see
 * whatever the fuzzer's world makes them send. Inputs are bounded (8 KiB,
 * 24 nodes) so one run stays well under a second. A run must end with a
 * result, or refuse with a diagnostic that says why.
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
		struct run_result res;
		if (runner_run(s, &opt, &res, d) == 0)
			run_result_free(&res);
		else if (diag_count_errors(d) == 0)
			abort(); /* a run that cannot happen says why */
	}
	scenario_free(s);
	diag_free(d);
	return 0;
}
