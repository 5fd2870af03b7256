/*
 * identities.h - derives many agents' identities on two cores.
 *
 * crypto_identity_from_seed costs two scalar multiplications (~41 us): a
 * world of 100 000 agents (bench/scale.c) would spend 4 s building them one
 * after another on one core. identities_start() hands the work to one extra
 * thread and returns at once, so the caller can build the rest of its world
 * meanwhile; identities_finish() then joins in on what is left (the two
 * threads take chunks from a shared counter) and waits for the end. Each
 * identity is a pure function of its seed, so the result is the same bytes
 * as a loop would give. The caller passes them to simdrive_add_agent() as
 * agent_speed.identity (p2p/agent_speed.h).
 */
#ifndef NATSIM_APP_IDENTITIES_H
#define NATSIM_APP_IDENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "p2p/crypto.h"

struct identities_job;

/* Starts deriving out[i] = crypto_identity_from_seed(seeds[i]) for i < n on
 * another thread; out and seeds must stay valid until identities_finish.
 * NULL if libsodium cannot start or out of memory (nothing was started). If
 * no thread can be made, identities_finish does all the work. */
struct identities_job *identities_start(struct crypto_identity *out,
					const uint8_t (*seeds)[CRYPTO_SEED_SIZE], size_t n);
/* Derives what is left on the calling thread, waits for the other, frees
 * the job. */
void identities_finish(struct identities_job *job);

/* Both at once: returns 0, or -1 if libsodium could not start. */
int identities_derive(struct crypto_identity *out, const uint8_t (*seeds)[CRYPTO_SEED_SIZE],
		      size_t n);

#endif
