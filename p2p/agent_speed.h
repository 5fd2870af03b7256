/*
 * agent_speed.h - the agent's optional speed layer: what lets one process
 * run 100 000 agents fast (a simulator, bench/scale.c). A program may ignore
 * this. An agent whose agent_config.speed is NULL is complete and correct;
 * the real-socket daemon runs it that way, and so does the whole test suite
 * in a build with -DNATSIM_AGENT_SPEED=OFF, which leaves agent_speed.c out.
 *
 * Nothing here changes what an agent says or decides: the same datagrams, the
 * same random draws, the same events (only their text may be left empty when
 * nobody reads it). Each member is optional; a zeroed struct agent_speed is
 * the plain agent.
 *
 * Every function pointer is called from the agent's own calls only (it stays
 * single-threaded and sans-I/O), with arguments borrowed for the call, and
 * must not call back into the agent.
 */
#ifndef NATSIM_P2P_AGENT_SPEED_H
#define NATSIM_P2P_AGENT_SPEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "ring.h"

struct agent;

/* Spare arrays for the agents' output queues, shared by every agent of one
 * driver on one thread. A queue the driver has drained gives its array back
 * here and the next agent with something to say takes it: at ~1.5 KiB an
 * item, arrays kept by every idle agent were a third of its memory, and a
 * malloc and free per burst cost a few percent (bench/README.md). The driver
 * owns this object and frees it after its agents. */
struct agent_spares {
	struct ring_spare datagrams;
	struct ring_spare events;
};

struct agent_speed {
	/* The agent's identity, already derived from its key seed (a simulator
	 * derives many on several cores: app/world/identities.h); copied. NULL: the
	 * agent derives it (agent_config.key_seed). */
	const struct crypto_identity *identity;

	/* The secret shared with a peer (crypto.h), the costly public-key step
	 * of an introduction. A simulator that holds both ends of every session
	 * computes each once, ahead of time, on another thread
	 * (app/world/secrets.h). Must write what crypto_shared_secret(me,
	 * peer_box_pk, out) would and return its result; a negative enum
	 * crypto_error refuses the introduction as a bad key does. NULL:
	 * crypto_shared_secret. */
	int (*shared_secret)(void *ctx, const struct crypto_identity *me,
			     const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			     uint8_t out[CRYPTO_KEY_SIZE]);
	void *secret_ctx;

	/* Told about every registration the agent signs (once per REGISTER
	 * datagram: each is signed anew), before it is queued: the signer's
	 * public key, the canonical bytes (coord_registration_bytes) and the
	 * signature. The coordinator verifies that very signature some
	 * milliseconds later; a simulator has another thread verify it
	 * meanwhile (coord_config.verify, app/world/secrets.h). Only a hint. */
	void (*signed_registration)(void *ctx, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
				    const uint8_t *msg, size_t len,
				    const uint8_t sig[CRYPTO_SIGNATURE_SIZE]);
	void *sign_ctx;

	/* Whether anyone will read the text of the next event (p2p_event.text):
	 * formatting addresses into sentences is most of what an event costs,
	 * and a large run with no trace reads none. false: the event is queued
	 * as always, with an empty text. NULL: always formatted. */
	bool (*event_text_wanted)(void *ctx);
	void *text_ctx;

	/* Where drained output queues leave their arrays; NULL: each agent
	 * keeps its own. */
	struct agent_spares *spares;

	/* Keep a summary of the peers' timers (agent_speed.c), so that agent_next_deadline() and
	 * agent_tick() read only the peers that have something due instead of walking all of them:
	 * with 100 000 agents of 8 peers the peers are cold, and the walks
	 * were most of the last-level cache misses (bench/README.md, "Issue
	 * 13: where the misses are"). The same summary indexes the peers by
	 * name and by their checks' transaction IDs, so that finding the peer
	 * a check or its answer is for reads only that peer (about 320 bytes
	 * an agent in all). The same deadlines, ticks and lookups. false: the
	 * plain walks. */
	bool summarize_deadlines;
};

/* NULL on allocation failure. agent_spares_free(NULL) does nothing. */
struct agent_spares *agent_spares_new(void);
void agent_spares_free(struct agent_spares *s);

/* For tests: whether the agent's summary of its peers' timers (above,
 * summarize_deadlines) says what walking its peers says, for every peer it
 * holds as up to date, and whether its index (ibid.) has every peer's name
 * and every check that may still be answered. true for an agent without a
 * summary. Debug builds
 * (the sanitizer run of the suite) check this inside the agent on every
 * agent_next_deadline() and agent_tick(). */
bool agent_deadlines_agree(const struct agent *a);

#endif
