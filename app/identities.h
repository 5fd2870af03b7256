/*
 * identities.h - derives many agents' identities on two cores.
 *
 * crypto_identity_from_seed costs two scalar multiplications (~41 us): a
 * world of 100 000 agents (bench/scale.c) would spend 4 s building them one
 * after another on one core. identities_derive() splits the work with one
 * extra thread; each identity is a pure function of its seed, so the result
 * is the same bytes as a loop would give. The caller passes them to
 * simdrive_add_agent() as agent_config.identity.
 */
#ifndef NATSIM_APP_IDENTITIES_H
#define NATSIM_APP_IDENTITIES_H

#include <stddef.h>
#include <stdint.h>

#include "p2p/crypto.h"

/* out[i] = crypto_identity_from_seed(seeds[i]) for i < n. Returns 0, or -1 if
 * libsodium could not start (out is then unspecified). If no thread can be
 * made, derives everything on the calling thread. */
int identities_derive(struct crypto_identity *out, const uint8_t (*seeds)[CRYPTO_SEED_SIZE],
		      size_t n);

#endif
