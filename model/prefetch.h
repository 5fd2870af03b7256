/*
 * prefetch.h - the models' prefetch pipeline: speed machinery only. A
 * program, and a student reading the models, may ignore this module: the
 * models are complete and correct without it, and it changes no result
 * (tests/test_prefetch.c), only when memory arrives in the cache.
 *
 * At 100 000 peers every packet's arrival finds cold memory: the receiving
 * interface and node, then the node's tables. The engine names upcoming
 * events ahead of time (sim/engine.h, engine_set_prefetcher); for a packet
 * about to arrive, model/prefetch.c asks the CPU for what the arrival will
 * read, in stages, each reading only what the stage before fetched.
 * bench/README.md, "Prefetching", has the stages and what each one earns.
 *
 * Built with NATSIM_PREFETCH=OFF (CMake), the hook below does nothing and
 * nothing is registered.
 */
#ifndef NATSIM_MODEL_PREFETCH_H
#define NATSIM_MODEL_PREFETCH_H

#include "sim/engine.h"
#include "sim/prefetch.h"

#if PREFETCH_ENABLED
/* The hook (model/link.c, link_new): packets in flight are the arguments
 * of events of `packet_arrive`; prefetch for those. Idempotent. */
void prefetch_packet_arrivals(struct engine *e, engine_fn packet_arrive);
#else
static inline void prefetch_packet_arrivals(struct engine *e, engine_fn packet_arrive)
{
	(void)e, (void)packet_arrive;
}
#endif

#endif
