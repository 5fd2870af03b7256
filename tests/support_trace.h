/*
 * support_trace.h - what the renderer tests that replay a hand-written story
 * share (test_tables, test_timeline): a trace bus whose clock the test sets
 * record by record, with a log keeping every record for the renderer to fold.
 * Include after <cmocka.h>.
 */
#ifndef NATSIM_TESTS_SUPPORT_TRACE_H
#define NATSIM_TESTS_SUPPORT_TRACE_H

#include <stdint.h>
#include <stdlib.h>

#include "sim/trace.h"
#include "sim/trace_log.h"

struct test_trace {
	struct trace trace;
	int64_t clock; /* the trace's clock: set by test_trace_emit() */
	struct trace_log *log;
};

/* A bus with a log attached; fails the test if out of memory. */
static inline struct test_trace *test_trace_new(void)
{
	struct test_trace *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	trace_init(&f->trace, &f->clock);
	f->log = trace_log_new();
	assert_non_null(f->log);
	assert_int_equal(trace_log_attach(f->log, &f->trace), 0);
	return f;
}

static inline void test_trace_free(struct test_trace *f)
{
	trace_log_free(f->log);
	free(f);
}

/* Emits r at time `at` (times only move forward in a real run: keep them so). */
static inline void test_trace_emit(struct test_trace *f, int64_t at, struct trace_record *r)
{
	f->clock = at;
	trace_emit(&f->trace, r);
}

#endif
