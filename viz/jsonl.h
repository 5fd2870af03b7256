/*
 * jsonl.h - the trace as JSON lines: one JSON object per record per line.
 *
 * The schema is documented field by field in docs/trace.md. Keys come in a
 * fixed order (common keys, then the kind's keys in the order of its struct
 * in sim/trace.h), so the same records always give byte-identical output:
 * two runs of one scenario and seed can be compared with cmp(1).
 *
 * Output goes to a FILE* owned by the caller. Write errors (disk full, a
 * closed pipe) are sticky: the first one is kept, later records are skipped,
 * and jsonl_writer_error() reports it.
 */
#ifndef NATSIM_VIZ_JSONL_H
#define NATSIM_VIZ_JSONL_H

#include <stdio.h>

#include "model/packet.h" /* payload_summary_fn */
#include "sim/trace.h"

struct jsonl_writer;

/* A writer to `out` (borrowed; the caller closes it after jsonl_writer_free).
 * `payload` summarises UDP payloads in packet summaries (app/ passes the STUN
 * summariser), or NULL for "len=N" only. Returns NULL if out of memory. */
struct jsonl_writer *jsonl_writer_new(FILE *out, payload_summary_fn payload);

/* Unsubscribes from the trace it was attached to (if any) and frees. The
 * trace must still be alive when the writer is freed. */
void jsonl_writer_free(struct jsonl_writer *w);

/* Subscribe to a trace bus: every record emitted from now on is written.
 * A writer attaches to one trace at most. Returns 0, or -1 if the bus has no
 * room for another observer or the writer is already attached. */
int jsonl_writer_attach(struct jsonl_writer *w, struct trace *t);

/* Write one record as one line. Does nothing once an error is recorded. */
void jsonl_write_record(struct jsonl_writer *w, const struct trace_record *r);

/* Flush the stream, recording a failure like any write error. Returns
 * jsonl_writer_error() afterwards. */
int jsonl_writer_flush(struct jsonl_writer *w);

/* 0, or the first error as a negative errno value: -ENOSPC for a full disk,
 * -EIO when the stream failed without saying why, -ENOMEM when a record could
 * not be built. Also reports an error the stream itself has flagged. */
int jsonl_writer_error(const struct jsonl_writer *w);

/* Stable names used in the JSON (and by docs/trace.md); "?" if out of range. */
const char *jsonl_ct_event_name(enum trace_ct_event e);	    /* "new", "update", ... */
const char *jsonl_map_event_name(enum trace_map_event e);   /* "created", "remote-added", ... */
const char *jsonl_link_event_name(enum trace_link_event e); /* "added", "down", "up" */
const char *jsonl_scenario_event_name(enum trace_scenario_event e); /* "action", "expect-pass" */

#endif
