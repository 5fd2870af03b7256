/*
 * fuzz_world.c - libFuzzer target: a whole world run.
 *
 * Any bytes are a scenario file; one that parses is built into a world and
 * run for at most 20 s of virtual time, as `natsim run --until 20s --trace`
 * would: the NATs, firewalls, conntrack, the coordinator and the agents all
 * see whatever the fuzzer's world makes them send, and every trace record is
 * written as JSON lines (viz/jsonl.c, with the STUN summariser). Inputs are
 * bounded (8 KiB, 24 nodes) so one run stays well under a second. A run must
 * end with a result, or refuse with a diagnostic that says why; and since a
 * run is a function of (scenario, seed), running it again must give the
 * same result and a byte-identical trace.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/diag.h"
#include "app/world/runner.h"
#include "app/lang/scenario.h"
#include "app/world/simdrive.h"
#include "sim/engine.h"
#include "viz/jsonl.h"

#define MAX_INPUT 8192
#define MAX_NODES 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct traced_run {
	int rc;
	struct run_result res;
	char *trace; /* the JSON lines, malloc'd */
	size_t trace_len;
};

static void jsonl_observe(const struct trace_record *r, void *ctx)
{
	jsonl_write_record(ctx, r);
}

/* One run with its trace kept in memory. */
static void run_once(const struct scenario *s, struct diag *d, struct traced_run *out)
{
	struct run_options opt = {.until_ns = SIM_S(20)};
	FILE *f = open_memstream(&out->trace, &out->trace_len);
	struct jsonl_writer *w = f ? jsonl_writer_new(f, simdrive_payload_summary) : NULL;

	if (!w)
		abort(); /* out of memory in the harness itself */
	opt.observers[0].fn = jsonl_observe;
	opt.observers[0].ctx = w;
	opt.n_observers = 1;
	out->rc = runner_run(s, &opt, &out->res, d);
	(void)jsonl_writer_flush(w);
	jsonl_writer_free(w);
	fclose(f);
}

/* Two runs of one scenario agree on everything the runner reports. */
static void check_same(const struct traced_run *x, const struct traced_run *y)
{
	const struct run_result *a = &x->res, *b = &y->res;

	if (x->trace_len != y->trace_len || memcmp(x->trace, y->trace, x->trace_len) != 0)
		abort();
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
		struct traced_run one = {0}, two = {0};
		run_once(s, d, &one);
		if (one.rc == 0) {
			run_once(s, d, &two);
			if (two.rc != 0)
				abort();
			check_same(&one, &two);
			run_result_free(&two.res);
			run_result_free(&one.res);
		} else if (diag_count_errors(d) == 0) {
			abort(); /* a run that cannot happen says why */
		}
		free(one.trace);
		free(two.trace);
	}
	scenario_free(s);
	diag_free(d);
	return 0;
}
