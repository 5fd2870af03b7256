/*
 * secrets.h - the simulator's cache of the public-key results its agents and
 * coordinators need: the secrets agents share (crypto.h), so that each
 * session's X25519 step is computed once instead of twice, and the verdicts
 * on registration signatures; both optionally computed ahead of time on a
 * second thread.
 *
 * Why: in the simulator the driver (app/world/simdrive.c) holds both ends of every
 * session, and crypto_shared_secret(a, B) == crypto_shared_secret(b, A): two
 * scalar multiplications of ~31 us each for one value. Agents reach this
 * cache through their speed layer (p2p/agent_speed.h); the p2p code itself never
 * sees a thread. Likewise the driver sees every REGISTER signed
 * (agent_speed.signed_registration) milliseconds of virtual time, often much more
 * wall time, before the coordinator verifies it (coord_config.verify): 35 us
 * of Ed25519 the worker can spend instead.
 *
 * Keyed by the unordered pair of X25519 public keys {min(pk_a, pk_b),
 * max(pk_a, pk_b)} (memcmp order). secrets_lookup(c, me, P) returns the entry
 * for {me->box_pk, P} if there is one, else computes crypto_shared_secret(me,
 * P) and keeps it.
 *
 * Soundness: every agent of the driver holds the private key of its own public
 * key (agent_new derives both from one seed). An entry for {X, Y} was
 * therefore computed by the holder of X's or Y's private key, with the other
 * as the peer key: it is what either holder computes, and a requester is
 * always one of the two (its own key is half of the lookup key). A peer key
 * nobody in the driver holds changes nothing: only its one counterpart ever
 * asks for that pair. Failures (a low-order peer key, CRYPTO_ERR_KEY) are
 * returned to the caller and never stored as a secret. A signature verdict is
 * a pure function of (public key, message, signature) and is only ever
 * returned for exactly those bytes, compared in full.
 *
 * Memory: an unplanned entry is dropped once served twice (both sides had
 * it); a third request (a later session of the same pair) computes again.
 * Signature jobs live in a fixed ring of SECRETS_SIG_JOBS slots (about
 * 1.4 MiB): a job is freed when its verdict is used, and a job never asked
 * for is overwritten when the ring comes round again.
 *
 * Ahead of time (optional; changes only speed): secrets_expect() records
 * pairs before the run, secrets_start() starts ONE worker thread computing
 * them in announcement order (once the caller has caught up with it, it
 * keeps a lead on the caller's latest pair, jumping ahead and leaving the
 * pairs it skips to the caller), and verifying every hinted signature
 * (secrets_expect_signature) first, as those are needed within
 * milliseconds. A lookup of a planned pair takes the worker's result if it
 * is finished, else claims the pair and computes it on the calling thread
 * (the worker then skips it); if the worker is in the middle of that very
 * pair, the caller computes its own copy rather than wait. Signature
 * verdicts follow the same three cases. So the caller never blocks, and every
 * lookup returns the same bytes whatever the timing: only who computed them
 * changes (secrets_get_stats). The planned table is complete before the
 * worker starts and fixed in structure afterwards; only per-pair and per-job
 * atomic states change, so there are no locks on the way of a lookup or a
 * hint. With nothing left to do the worker sleeps on a condition variable
 * (no CPU); a hint wakes it, and only then takes a mutex.
 *
 * Threads: everything but the worker's own computation happens on the thread
 * that calls these functions, one thread at a time (the simulator's).
 */
#ifndef NATSIM_APP_SECRETS_H
#define NATSIM_APP_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/crypto.h"

/* Signature jobs in flight at most, and the longest message hinted (a
 * canonical registration is at most COORD_REG_BYTES_MAX = 317 bytes, with
 * eight IPv6 candidates). */
#define SECRETS_SIG_JOBS 4096
#define SECRETS_SIG_MSG_MAX 320

enum secrets_error {
	SECRETS_OK = 0,
	SECRETS_ERR_NOMEM = -1,
	SECRETS_ERR_STARTED = -2, /* secrets_expect after secrets_start */
	SECRETS_ERR_THREAD = -3,  /* the worker thread could not be created */
};

struct secrets_stats {
	uint64_t lookups;	  /* secrets_lookup calls */
	uint64_t served_stored;	  /* of which answered with a secret already computed */
	uint64_t computed_caller; /* crypto_shared_secret calls on the calling thread */
	uint64_t computed_worker; /* crypto_shared_secret calls on the worker */
	size_t planned;		  /* distinct pairs announced with secrets_expect */
	size_t held;		  /* unplanned secrets waiting for their second serve */
	/* Signatures. */
	uint64_t sig_hints;	      /* secrets_expect_signature calls */
	uint64_t sig_hints_dropped;   /* of which queued nothing: too long, the same job
					 already queued, or its ring slot still being verified */
	uint64_t sig_verifies;	      /* secrets_verify calls */
	uint64_t sig_served_worker;   /* of which answered with the worker's verdict */
	uint64_t sig_computed_caller; /* crypto_identity_verify calls on the calling thread */
	uint64_t sig_computed_worker; /* crypto_identity_verify calls on the worker (a verdict
					 nobody asks for, or asked for too soon, goes unused) */
};

struct secrets;

/* NULL on OOM. */
struct secrets *secrets_new(void);
/* Stops the worker if it still runs (it finishes the pair or signature in
 * hand, ~35 us, and leaves the rest, whether it was busy or asleep) and
 * joins it, then frees everything. NULL does nothing. */
void secrets_free(struct secrets *c);

/* The secret `me` shares with the holder of peer_box_pk: what
 * crypto_shared_secret(me, peer_box_pk, out) returns, from the cache when it
 * can. Never fails for lack of memory (it then just does not keep the
 * secret). `me` is borrowed for the call only. */
int secrets_lookup(struct secrets *c, const struct crypto_identity *me,
		   const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE], uint8_t out[CRYPTO_KEY_SIZE]);

/* Announces that the holder of `a` and the holder of b_box_pk will share a
 * session: the worker will compute it with a's private key. `a` is borrowed
 * and must stay valid until secrets_free (the worker reads it). Announcing
 * a pair again allows two more serves before it becomes an ordinary entry.
 * SECRETS_ERR_STARTED once the worker was started. */
int secrets_expect(struct secrets *c, const struct crypto_identity *a,
		   const uint8_t b_box_pk[CRYPTO_BOX_PK_SIZE]);

/* Starts the worker: it verifies hinted signatures as they come and
 * computes the announced pairs in between, then sleeps until the next hint,
 * until secrets_wait or secrets_free. Call once; later calls do nothing.
 * SECRETS_ERR_THREAD if pthread_create fails: everything is then computed on
 * the calling thread. */
int secrets_start(struct secrets *c);

/* Blocks until the worker has been through every announced pair (computed
 * it, or skipped it as claimed or, once behind the caller, left to it) and
 * every signature job hinted so far, then joins it; later hints are
 * verified on the calling thread. For tests, which want the worker's share
 * to be known; a simulation never needs it. */
void secrets_wait(struct secrets *c);

/* A hint: `sign_pk`'s holder has just signed msg[0..len) as `sig`, and
 * someone will soon ask secrets_verify about it. Queues a verification job
 * for the worker (copying all three; nothing is computed here); whether or
 * not a worker runs, the job is only ever an optimisation: a message longer
 * than SECRETS_SIG_MSG_MAX, a job already queued for the same bytes, or a
 * ring slot still being verified makes it a no-op (sig_hints_dropped), and a
 * full ring overwrites the oldest job no one asked for. Never fails, never
 * blocks (it takes a mutex only to wake a sleeping worker). */
void secrets_expect_signature(struct secrets *c, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
			      const uint8_t *msg, size_t len,
			      const uint8_t sig[CRYPTO_SIGNATURE_SIZE]);

/* What crypto_identity_verify(sign_pk, msg, len, sig) returns, always: the
 * worker's verdict if it verified exactly these bytes already (the job is
 * then freed), else computed on the calling thread (a queued job is claimed
 * first so the worker skips it; one the worker is in the middle of is left
 * to it). Never waits. Arguments are borrowed for the call. */
bool secrets_verify(struct secrets *c, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
		    const uint8_t *msg, size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE]);

/* Counters so far (computed_worker and sig_computed_worker may still grow
 * while the worker runs). */
void secrets_get_stats(const struct secrets *c, struct secrets_stats *out);

#endif
