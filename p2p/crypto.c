/*
 * crypto.c - libsodium wrappers: identities, signatures, sealed sessions.
 * See crypto.h for the construction; the comments here say why.
 */
#include "crypto.h"

#include <string.h>

#include <sodium.h>

_Static_assert(CRYPTO_SIGN_PK_SIZE == crypto_sign_PUBLICKEYBYTES, "sign pk");
_Static_assert(CRYPTO_SIGN_SK_SIZE == crypto_sign_SECRETKEYBYTES, "sign sk");
_Static_assert(CRYPTO_BOX_PK_SIZE == crypto_box_PUBLICKEYBYTES, "box pk");
_Static_assert(CRYPTO_BOX_SK_SIZE == crypto_box_SECRETKEYBYTES, "box sk");
_Static_assert(CRYPTO_SIGNATURE_SIZE == crypto_sign_BYTES, "signature");
_Static_assert(CRYPTO_TAG_SIZE == crypto_box_MACBYTES, "tag");
_Static_assert(CRYPTO_KEY_SIZE == crypto_box_BEFORENMBYTES, "key");
_Static_assert(crypto_box_NONCEBYTES == 16 + CRYPTO_COUNTER_SIZE, "nonce layout");

int crypto_init(void)
{
	/* sodium_init returns 1 when already initialised: not an error. */
	return sodium_init() < 0 ? CRYPTO_ERR_INIT : CRYPTO_OK;
}

static void kdf(uint8_t *out, size_t out_len, const uint8_t *key, size_t key_len,
		const char *context, uint64_t id)
{
	crypto_generichash_state st;
	uint8_t idb[8];

	for (int i = 0; i < 8; i++)
		idb[i] = (uint8_t)(id >> (56 - 8 * i));
	crypto_generichash_init(&st, key, key_len, out_len);
	crypto_generichash_update(&st, (const uint8_t *)context, strlen(context));
	crypto_generichash_update(&st, idb, sizeof(idb));
	crypto_generichash_final(&st, out, out_len);
}

int crypto_identity_from_seed(struct crypto_identity *id, const uint8_t seed[CRYPTO_SEED_SIZE])
{
	uint8_t s[32];

	if (crypto_init() < 0)
		return CRYPTO_ERR_INIT;
	/* Two independent seeds from one: a signature key must never double as a
	 * key-agreement key. */
	crypto_generichash(s, sizeof(s), (const uint8_t *)"natsim-sign-v1", 14, seed,
			   CRYPTO_SEED_SIZE);
	crypto_sign_seed_keypair(id->sign_pk, id->sign_sk, s);
	crypto_generichash(s, sizeof(s), (const uint8_t *)"natsim-box-v1", 13, seed,
			   CRYPTO_SEED_SIZE);
	crypto_box_seed_keypair(id->box_pk, id->box_sk, s);
	sodium_memzero(s, sizeof(s));
	return CRYPTO_OK;
}

void crypto_identity_sign(const struct crypto_identity *id, const uint8_t *msg, size_t len,
		       uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	crypto_sign_detached(sig, NULL, msg, len, id->sign_sk);
}

bool crypto_identity_verify(const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE], const uint8_t *msg,
			 size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	return crypto_sign_verify_detached(sig, msg, len, sign_pk) == 0;
}

int crypto_shared_secret(const struct crypto_identity *me,
			 const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			 uint8_t secret[CRYPTO_KEY_SIZE])
{
	if (crypto_init() < 0)
		return CRYPTO_ERR_INIT;
	/* crypto_box_beforenm is symmetric: both peers get the same secret. It
	 * refuses a peer key whose product with ours is the identity (a low-order
	 * point), which would make the secret public. */
	if (crypto_box_beforenm(secret, peer_box_pk, me->box_sk) != 0) {
		memset(secret, 0, CRYPTO_KEY_SIZE);
		return CRYPTO_ERR_KEY;
	}
	return CRYPTO_OK;
}

int crypto_session_init_from_secret(struct crypto_session *s, const struct crypto_identity *me,
				    const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
				    const uint8_t secret[CRYPTO_KEY_SIZE], uint64_t session_id)
{
	if (crypto_init() < 0)
		return CRYPTO_ERR_INIT;
	memset(s, 0, sizeof(*s));
	s->session_id = session_id;
	kdf(s->data_key, sizeof(s->data_key), secret, CRYPTO_KEY_SIZE, "natsim-data-v1",
	    session_id);
	kdf(s->check_key, sizeof(s->check_key), secret, CRYPTO_KEY_SIZE, "natsim-check-v1",
	    session_id);
	/* The sender's key hash is the direction bit: A->B and B->A nonces differ. */
	crypto_generichash(s->my_prefix, 16, me->box_pk, CRYPTO_BOX_PK_SIZE, NULL, 0);
	crypto_generichash(s->peer_prefix, 16, peer_box_pk, CRYPTO_BOX_PK_SIZE, NULL, 0);
	return CRYPTO_OK;
}

int crypto_session_init(struct crypto_session *s, const struct crypto_identity *me,
			const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE], uint64_t session_id)
{
	uint8_t shared[CRYPTO_KEY_SIZE];
	int rc;

	if (crypto_init() < 0)
		return CRYPTO_ERR_INIT;
	memset(s, 0, sizeof(*s));
	rc = crypto_shared_secret(me, peer_box_pk, shared);
	if (rc == CRYPTO_OK)
		rc = crypto_session_init_from_secret(s, me, peer_box_pk, shared, session_id);
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

static void make_nonce(uint8_t nonce[crypto_box_NONCEBYTES], const uint8_t prefix[16],
		       uint64_t counter)
{
	memcpy(nonce, prefix, 16);
	for (int i = 0; i < 8; i++)
		nonce[16 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

int crypto_seal(struct crypto_session *s, const uint8_t *plain, size_t len, uint8_t *out,
		size_t cap)
{
	uint8_t nonce[crypto_box_NONCEBYTES];

	if (len > (size_t)INT32_MAX - CRYPTO_SEAL_OVERHEAD || cap < len + CRYPTO_SEAL_OVERHEAD)
		return CRYPTO_ERR_SPACE;
	if (s->send_counter == UINT64_MAX)
		return CRYPTO_ERR_EXHAUSTED; /* never reuse a nonce */
	make_nonce(nonce, s->my_prefix, s->send_counter);
	memcpy(out, nonce + 16, CRYPTO_COUNTER_SIZE);
	crypto_box_easy_afternm(out + CRYPTO_COUNTER_SIZE, plain, len, nonce, s->data_key);
	s->send_counter++;
	return (int)(len + CRYPTO_SEAL_OVERHEAD);
}

/* Where counter stands relative to the window: 0 fresh, <0 refused. */
static int replay_check(const struct crypto_session *s, uint64_t ctr)
{
	if (!s->recv_any || ctr > s->recv_highest)
		return 0;
	uint64_t back = s->recv_highest - ctr;
	if (back >= CRYPTO_REPLAY_WINDOW)
		return CRYPTO_ERR_REPLAY;
	return (s->recv_bitmap >> back) & 1u ? CRYPTO_ERR_REPLAY : 0;
}

static void replay_commit(struct crypto_session *s, uint64_t ctr)
{
	if (!s->recv_any) {
		s->recv_any = true;
		s->recv_highest = ctr;
		s->recv_bitmap = 1;
		return;
	}
	if (ctr > s->recv_highest) {
		uint64_t shift = ctr - s->recv_highest;
		s->recv_bitmap = shift >= CRYPTO_REPLAY_WINDOW ? 0 : s->recv_bitmap << shift;
		s->recv_bitmap |= 1;
		s->recv_highest = ctr;
		return;
	}
	s->recv_bitmap |= (uint64_t)1 << (s->recv_highest - ctr);
}

int crypto_open(struct crypto_session *s, const uint8_t *sealed, size_t len, uint8_t *out,
		size_t cap)
{
	uint8_t nonce[crypto_box_NONCEBYTES];
	uint64_t ctr = 0;
	int rc;

	if (len < CRYPTO_SEAL_OVERHEAD)
		return CRYPTO_ERR_SHORT;
	if (cap < len - CRYPTO_SEAL_OVERHEAD || len > (size_t)INT32_MAX)
		return CRYPTO_ERR_SPACE;
	for (int i = 0; i < 8; i++)
		ctr = (ctr << 8) | sealed[i];
	rc = replay_check(s, ctr);
	if (rc < 0)
		return rc;
	make_nonce(nonce, s->peer_prefix, ctr);
	if (crypto_box_open_easy_afternm(out, sealed + CRYPTO_COUNTER_SIZE,
					 len - CRYPTO_COUNTER_SIZE, nonce, s->data_key) != 0)
		return CRYPTO_ERR_FORGED;
	replay_commit(s, ctr);
	return (int)(len - CRYPTO_SEAL_OVERHEAD);
}

const char *crypto_error_str(int err)
{
	switch (err) {
	case CRYPTO_OK: return "ok";
	case CRYPTO_ERR_INIT: return "libsodium failed to initialise";
	case CRYPTO_ERR_KEY: return "peer public key is unusable";
	case CRYPTO_ERR_SHORT: return "sealed message shorter than its header and tag";
	case CRYPTO_ERR_FORGED: return "authentication tag does not verify (tampered or wrong key)";
	case CRYPTO_ERR_REPLAY: return "counter already received or too old (replay)";
	case CRYPTO_ERR_SPACE: return "output buffer too small";
	case CRYPTO_ERR_EXHAUSTED: return "send counter exhausted; a new session is needed";
	}
	return "unknown crypto error";
}
