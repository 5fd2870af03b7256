/*
 * trace_log.h - an observer that keeps a deep copy of every record.
 *
 * Renderers, the TUI (which steps backwards) and tests fold over a trace_log.
 * The log owns its copies: record pointers stay valid until trace_log_free().
 */
#ifndef NATSIM_SIM_TRACE_LOG_H
#define NATSIM_SIM_TRACE_LOG_H

#include "trace.h"

struct trace_log;

struct trace_log *trace_log_new(void);
void trace_log_free(struct trace_log *log);

/* Subscribe the log to a trace bus. Returns 0 or -1. */
int trace_log_attach(struct trace_log *log, struct trace *t);

/* The observer function itself (ctx = the log), for callers that subscribe
 * through someone else, e.g. struct run_options in app/world/runner.h. */
void trace_log_observe(const struct trace_record *r, void *log);

size_t trace_log_count(const struct trace_log *log);
const struct trace_record *trace_log_get(const struct trace_log *log, size_t i);
/* True if an allocation failed while copying (the log is then incomplete). */
bool trace_log_failed(const struct trace_log *log);

/* A 64-bit hash of every field of every record, in order: two runs of the same
 * scenario and seed give the same hash (the determinism check). */
uint64_t trace_log_hash(const struct trace_log *log);

#endif
