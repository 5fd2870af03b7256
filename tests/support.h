/*
 * support.h - what several tests share: paths into the source tree and a
 * bundled scenario run into a trace log (through the same cli_run_to_log
 * that natsim dot, flow and why use). Include after <cmocka.h>.
 * Its siblings need less of the tree: support_net.h (small model worlds:
 * test_host, test_router) and support_trace.h (hand-written trace stories:
 * test_tables, test_timeline).
 */
#ifndef NATSIM_TESTS_SUPPORT_H
#define NATSIM_TESTS_SUPPORT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/cli/cli.h"
#include "sim/trace_log.h"

/* `rel` relative to tests/ in the source tree (from this file's path). */
static inline void test_source_path(char *out, size_t size, const char *rel)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash != NULL ? (int)(slash - __FILE__) : 1;
	snprintf(out, size, "%.*s/%s", dir, slash != NULL ? __FILE__ : ".", rel);
}

/* Run a scenario (path relative to tests/) with every record kept. */
static inline struct trace_log *test_run_scenario(const char *rel, uint64_t seed, int64_t until)
{
	char path[1024];
	struct trace_log *log = NULL;
	test_source_path(path, sizeof(path), rel);
	struct cli_scenario_args a = {
		.file = path, .has_seed = true, .seed = seed, .until_ns = until};
	assert_int_equal(cli_run_to_log("test", &a, &log), 0);
	assert_non_null(log);
	return log;
}

#endif
