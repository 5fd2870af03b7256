/*
 * prefetch.h - ask the CPU for memory before it is read. Speed machinery
 * only: a program may ignore this header.
 *
 * A prefetch is a hint. It never faults (NULL and dangling addresses are
 * fine), never writes, and changes no result, only when memory arrives in
 * the cache. With the build option NATSIM_PREFETCH=OFF (CMake) every helper
 * here compiles to nothing and PREFETCH_ENABLED is 0, so code that asks
 * `if (PREFETCH_ENABLED)` is removed by the compiler rather than by #ifdef.
 *
 * Spans are given as offsetof() and sizeof() of the fields a reader will
 * touch, never as numbers of bytes: when a struct changes, the span follows,
 * and a layout the caller relies on is pinned by a _Static_assert beside
 * the call (model/prefetch.c).
 *
 * The engine's part (sim/engine.c, engine_set_prefetcher) fetches upcoming
 * events' slots and arguments and calls the prefetchers handlers register;
 * the models' part is model/prefetch.c.
 */
#ifndef NATSIM_SIM_PREFETCH_H
#define NATSIM_SIM_PREFETCH_H

#include <stddef.h>
#include <stdint.h>

/* Set by CMake (option NATSIM_PREFETCH); on when built some other way. */
#ifndef NATSIM_PREFETCH
#define NATSIM_PREFETCH 1
#endif

#if NATSIM_PREFETCH && defined(__GNUC__)
#define PREFETCH_ENABLED 1
#else
#define PREFETCH_ENABLED 0
#endif

/* A cache line on the machines natsim is tuned for (x86-64, arm64). */
#define PREFETCH_LINE 64

/* One hint. GCC counts __builtin_prefetch as free of side effects, so a
 * function that does nothing but prefetch is "const" to it, and a call to
 * one whose result is unused (all of them: they return nothing) is dead
 * code it may delete: GCC 12 at -O2 deleted every hint of model/prefetch.c
 * and at -O3 all but the first stage's, wherever its early inliner had not
 * inlined the helper first (-fdump-tree-local-pure-const1: "found to be
 * looping const: prefetch_span"). The empty volatile asm is a side effect
 * the compiler must keep, so the helpers and their callers stay. */
#if PREFETCH_ENABLED
#define PREFETCH_HINT(addr)                                                                        \
	do {                                                                                       \
		__builtin_prefetch(addr);                                                          \
		__asm__ __volatile__("");                                                          \
	} while (0)
#endif

/* The line holding `addr`. */
static inline void prefetch_line(const void *addr)
{
#if PREFETCH_ENABLED
	PREFETCH_HINT(addr);
#else
	(void)addr;
#endif
}

/* The bytes [offset, offset + len) of the object at `base`: one hint per
 * PREFETCH_LINE bytes, at offset, offset + PREFETCH_LINE, ... (as many as
 * len needs; a span that straddles a line boundary may leave its last
 * bytes to be fetched on use, which measured cheaper than one hint more
 * per span). Integer arithmetic: `base` may be NULL or the span may run
 * past the object, where pointer arithmetic would be undefined and a
 * prefetch is harmless. Nothing for a NULL base. */
static inline void prefetch_span(const void *base, size_t offset, size_t len)
{
#if PREFETCH_ENABLED
	uintptr_t from = (uintptr_t)base + offset;

	if (base == NULL)
		return;
	for (size_t done = 0; done < len; done += PREFETCH_LINE)
		PREFETCH_HINT((const void *)(from + done));
#else
	(void)base, (void)offset, (void)len;
#endif
}

/* The bytes from field `first` to the end of field `last` of a `type`. */
#define PREFETCH_SPAN_OF(type, first, last)                                                        \
	(offsetof(type, last) + sizeof(((type *)0)->last) - offsetof(type, first))

/* Prefetch the fields [first, last] of *p, a `type` (p may be NULL). */
#define PREFETCH_FIELDS(p, type, first, last)                                                      \
	prefetch_span((p), offsetof(type, first), PREFETCH_SPAN_OF(type, first, last))

#endif
