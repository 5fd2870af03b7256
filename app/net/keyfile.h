/*
 * keyfile.h - a peer's identity on disk: the 32-byte seed from which
 * p2p/crypto.h derives both key pairs.
 *
 * Format (text, one item a line):
 *   # natsim key file - keep it secret: whoever has it can register as you
 *   # sign-public-key <64 hex digits>   (Ed25519, what the coordinator checks)
 *   # box-public-key  <64 hex digits>   (X25519)
 *   seed <64 hex digits>
 * Blank lines and lines starting with '#' are comments: the public keys are
 * there for people to read, and are recomputed from the seed when loading.
 * The file is created with mode 0600 and loading refuses a file that others
 * may read, as ssh does for its private keys.
 */
#ifndef NATSIM_APP_KEYFILE_H
#define NATSIM_APP_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/crypto.h"

enum keyfile_error {
	KEYFILE_OK = 0,
	KEYFILE_ERR_EXISTS = -1,    /* save without force: the file is already there */
	KEYFILE_ERR_IO = -2,	    /* cannot open, read, write or rename (errno in the message) */
	KEYFILE_ERR_MALFORMED = -3, /* no seed line, a bad line, or a second seed */
	KEYFILE_ERR_MODE = -4,	    /* readable or writable by group or others */
	KEYFILE_ERR_CRYPTO = -5,    /* libsodium could not start */
	KEYFILE_ERR_NOT_FILE = -6,  /* save: something other than a regular file is at path */
};

/* A fresh random seed (libsodium randombytes_buf). */
int keyfile_generate(uint8_t seed[CRYPTO_SEED_SIZE]);

/* Writes `seed` to `path` with mode 0600, atomically: a temporary file in the
 * same folder is renamed over (force) or linked to (no force: fails with
 * KEYFILE_ERR_EXISTS if `path` exists) the final name, so a reader never sees
 * half a key. With force, only a regular file is replaced: a device, fifo,
 * socket, folder or symbolic link at `path` gives KEYFILE_ERR_NOT_FILE and
 * stays as it was. On any error `path` keeps what it held and no temporary
 * file is left; a sentence naming the file goes into err. */
int keyfile_save(const char *path, const uint8_t seed[CRYPTO_SEED_SIZE], bool force, char *err,
		 size_t errlen);

/* Reads the seed from `path`. On error, a sentence naming the file (and the
 * line, for a malformed file) goes into err. */
int keyfile_load(const char *path, uint8_t seed[CRYPTO_SEED_SIZE], char *err, size_t errlen);

/* An allow-list of Ed25519 public keys (natsim coord --allow FILE): one key a
 * line as 64 hex digits, optionally after the word "sign-public-key" (so the
 * output of natsim keygen can be pasted); blank lines and '#' comments are
 * skipped. Public keys are not secret: no mode check. */
struct keyfile_allow {
	size_t n;
	uint8_t (*keys)[CRYPTO_SIGN_PK_SIZE];
};
int keyfile_load_allow(const char *path, struct keyfile_allow *out, char *err, size_t errlen);
bool keyfile_allow_has(const struct keyfile_allow *a, const uint8_t pk[CRYPTO_SIGN_PK_SIZE]);
void keyfile_allow_free(struct keyfile_allow *a);

/* Lowercase hex of `len` bytes into out (2 * len + 1 bytes). */
void keyfile_hex(const uint8_t *bytes, size_t len, char *out);

#endif
