/*
 * crypto.h - the few libsodium operations natsim's peers need.
 *
 * Identity: an Ed25519 key pair (signs registrations, p2p/coord.h) and an
 * X25519 key pair (agrees a shared secret with each peer). Both are derived
 * from one 32-byte seed, so the simulator can give every host deterministic
 * keys; the daemon draws the seed at random.
 *
 * Session: for one (peer, session id) pair, crypto_session_init() derives
 *  - a data key: BLAKE2b(key = X25519 shared secret, "natsim-data-v1" || session id)
 *  - a check key: BLAKE2b(key = X25519 shared secret, "natsim-check-v1" || session id),
 *    used for MESSAGE-INTEGRITY-SHA256 on connectivity checks (RFC 8489 14.6).
 * Both sides compute the same keys; the coordinator, which only ever sees public
 * keys, cannot. The shared secret is libsodium's crypto_box precomputed key,
 * HSalsa20 of the X25519 result: it depends on the pair of peers only, not on
 * the session, so crypto_session_init() is crypto_shared_secret() (the costly
 * public-key step) followed by crypto_session_init_from_secret() (two hashes),
 * and a caller that already holds the secret can skip the first.
 *
 * Sealed data is  counter (8 bytes, big endian) || crypto_box_easy_afternm output
 * (16-byte Poly1305 tag + ciphertext). The 24-byte XSalsa20 nonce is
 *   BLAKE2b-128(sender's X25519 public key) || counter (big endian)
 * so the two directions never share a nonce, and a sender never repeats a counter
 * within a session (it refuses to seal once the counter would wrap). A new session
 * id gives a new key, so counters may start again from zero.
 * The receiver keeps a 64-entry sliding window (as IPsec and WireGuard do) and
 * refuses counters it has already accepted or that fell behind the window.
 *
 * crypto_init() must be called once before anything else (it is idempotent and
 * cheap after the first call); the other functions call it themselves.
 */
#ifndef NATSIM_P2P_CRYPTO_H
#define NATSIM_P2P_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SEED_SIZE 32
#define CRYPTO_SIGN_PK_SIZE 32
#define CRYPTO_SIGN_SK_SIZE 64
#define CRYPTO_BOX_PK_SIZE 32
#define CRYPTO_BOX_SK_SIZE 32
#define CRYPTO_SIGNATURE_SIZE 64
#define CRYPTO_KEY_SIZE 32
#define CRYPTO_COUNTER_SIZE 8
#define CRYPTO_TAG_SIZE 16
/* Bytes a sealed message has beyond its plaintext. */
#define CRYPTO_SEAL_OVERHEAD (CRYPTO_COUNTER_SIZE + CRYPTO_TAG_SIZE)
#define CRYPTO_REPLAY_WINDOW 64

enum crypto_error {
	CRYPTO_OK = 0,
	CRYPTO_ERR_INIT = -1,     /* libsodium could not initialise */
	CRYPTO_ERR_KEY = -2,      /* peer public key unusable (low order point) */
	CRYPTO_ERR_SHORT = -3,    /* sealed input shorter than the overhead */
	CRYPTO_ERR_FORGED = -4,   /* authentication tag does not verify */
	CRYPTO_ERR_REPLAY = -5,   /* counter already seen or behind the window */
	CRYPTO_ERR_SPACE = -6,    /* output buffer too small */
	CRYPTO_ERR_EXHAUSTED = -7 /* send counter would wrap: start a new session */
};

struct crypto_identity {
	uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE];
	uint8_t sign_sk[CRYPTO_SIGN_SK_SIZE];
	uint8_t box_pk[CRYPTO_BOX_PK_SIZE];
	uint8_t box_sk[CRYPTO_BOX_SK_SIZE];
};

struct crypto_session {
	uint64_t session_id;
	uint8_t data_key[CRYPTO_KEY_SIZE];
	uint8_t check_key[CRYPTO_KEY_SIZE];
	uint8_t my_prefix[16];   /* nonce prefix for what we seal */
	uint8_t peer_prefix[16]; /* nonce prefix for what the peer seals */
	uint64_t send_counter;   /* next counter to use */
	uint64_t recv_highest;   /* highest counter accepted */
	uint64_t recv_bitmap;    /* bit i: counter recv_highest - i accepted */
	bool recv_any;
};

int crypto_init(void);

/* Derives both key pairs from `seed`: the Ed25519 seed is
 * BLAKE2b-256(key = seed, "natsim-sign-v1"), the X25519 seed
 * BLAKE2b-256(key = seed, "natsim-box-v1"). */
int crypto_identity_from_seed(struct crypto_identity *id, const uint8_t seed[CRYPTO_SEED_SIZE]);

/* Detached Ed25519 signature of msg. */
void crypto_identity_sign(const struct crypto_identity *id, const uint8_t *msg, size_t len,
		       uint8_t sig[CRYPTO_SIGNATURE_SIZE]);
bool crypto_identity_verify(const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE], const uint8_t *msg,
			 size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE]);

/* The secret `me` shares with the holder of peer_box_pk:
 * crypto_box_beforenm(peer_box_pk, me->box_sk), i.e. HSalsa20(X25519(me, peer)).
 * Symmetric: crypto_shared_secret(a, B) == crypto_shared_secret(b, A).
 * Returns CRYPTO_OK, CRYPTO_ERR_KEY for a low-order peer key (secret zeroed),
 * or CRYPTO_ERR_INIT. Reads only its arguments: safe from any thread. */
int crypto_shared_secret(const struct crypto_identity *me,
			 const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			 uint8_t secret[CRYPTO_KEY_SIZE]);

/* Sets up *s for session `session_id` with the holder of peer_box_pk, given
 * the secret crypto_shared_secret(me, peer_box_pk) returned (or the same
 * value from wherever the caller keeps it: the keys are only as right as the
 * secret). Returns CRYPTO_OK or CRYPTO_ERR_INIT. */
int crypto_session_init_from_secret(struct crypto_session *s, const struct crypto_identity *me,
				    const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
				    const uint8_t secret[CRYPTO_KEY_SIZE], uint64_t session_id);

/* Both steps: crypto_shared_secret, then crypto_session_init_from_secret.
 * Returns CRYPTO_OK or CRYPTO_ERR_KEY (*s is then zeroed). */
int crypto_session_init(struct crypto_session *s, const struct crypto_identity *me,
			const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE], uint64_t session_id);

/* Seals `len` bytes into out (capacity cap >= len + CRYPTO_SEAL_OVERHEAD).
 * Returns the sealed length (> 0) or a negative enum crypto_error. */
int crypto_seal(struct crypto_session *s, const uint8_t *plain, size_t len, uint8_t *out,
		size_t cap);

/* Opens a sealed message into out (capacity cap >= len - CRYPTO_SEAL_OVERHEAD).
 * The replay window moves only after the tag verified, so forged messages
 * cannot disturb it. Returns the plaintext length (>= 0) or a negative enum
 * crypto_error. */
int crypto_open(struct crypto_session *s, const uint8_t *sealed, size_t len, uint8_t *out,
		size_t cap);

/* Short sentence for an error. */
const char *crypto_error_str(int err);

#endif
