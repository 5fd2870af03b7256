/*
 * hmac.h - HMAC-SHA256 (RFC 2104 over FIPS 180-4 SHA-256), for STUN's
 * MESSAGE-INTEGRITY-SHA256 (p2p/stun.c).
 *
 * Why not libsodium's crypto_auth_hmacsha256: every connectivity check is
 * MACed by its sender and checked by its receiver, and libsodium hashes in
 * portable C. On a CPU with the SHA extensions (x86 SHA-NI) this module
 * hashes with them, three to four times faster per STUN message; elsewhere
 * it uses its own portable code. With libsodium's HMAC in its place,
 * bench_scale took 11 % more CPU time (issue 13 allows 5 %; figures in
 * bench/README.md, "Libraries"). tests/p2p/test_hmac.c checks both
 * implementations against libsodium and the RFC 4231 vectors.
 *
 * A key is kept as the two SHA-256 states after its padded inner and outer
 * blocks (RFC 2104 section 4), so a MAC with a long-lived key costs only the
 * message's blocks plus one. Nothing here allocates or keeps global state
 * except the choice of implementation, made once.
 */
#ifndef NATSIM_P2P_HMAC_H
#define NATSIM_P2P_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_SIZE 32

struct hmac_sha256_key {
	uint32_t inner[8]; /* SHA-256 state after (key ^ ipad) */
	uint32_t outer[8]; /* SHA-256 state after (key ^ opad) */
};

/* One MAC in progress: the message may come in pieces. */
struct hmac_sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	size_t buf_len;
	uint64_t total; /* message bytes so far */
};

/* A key of any length (longer than 64 bytes is hashed first, RFC 2104). */
void hmac_sha256_key_init(struct hmac_sha256_key *k, const uint8_t *key, size_t key_len);
void hmac_sha256_start(struct hmac_sha256 *c, const struct hmac_sha256_key *k);
void hmac_sha256_update(struct hmac_sha256 *c, const uint8_t *data, size_t len);
void hmac_sha256_final(struct hmac_sha256 *c, const struct hmac_sha256_key *k,
		       uint8_t mac[HMAC_SHA256_SIZE]);

/* Plain SHA-256, as the key schedule needs it (and for tests). */
void hmac_sha256_digest(const uint8_t *data, size_t len, uint8_t out[HMAC_SHA256_SIZE]);

/* Whether the CPU's SHA extensions are in use. hmac_sha256_use_extensions(false)
 * forces the portable code (tests compare the two); true uses them again if
 * the CPU has them. Returns whether they are now in use. */
bool hmac_sha256_extensions(void);
bool hmac_sha256_use_extensions(bool on);

#endif
