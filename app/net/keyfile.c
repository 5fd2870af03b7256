/*
 * keyfile.c - load and save a peer's seed (keyfile.h has the format).
 */
#include "app/net/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void keyfile_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

int keyfile_generate(uint8_t seed[CRYPTO_SEED_SIZE])
{
	if (crypto_init() < 0)
		return KEYFILE_ERR_CRYPTO;
	randombytes_buf(seed, CRYPTO_SEED_SIZE);
	return KEYFILE_OK;
}

static int format_file(const uint8_t seed[CRYPTO_SEED_SIZE], char *out, size_t size)
{
	struct crypto_identity id;
	char seed_hex[2 * CRYPTO_SEED_SIZE + 1], sign_hex[65], box_hex[65];
	if (crypto_identity_from_seed(&id, seed) < 0)
		return -1;
	keyfile_hex(seed, CRYPTO_SEED_SIZE, seed_hex);
	keyfile_hex(id.sign_pk, sizeof(id.sign_pk), sign_hex);
	keyfile_hex(id.box_pk, sizeof(id.box_pk), box_hex);
	sodium_memzero(&id, sizeof(id));
	int n = snprintf(out, size,
			 "# natsim key file - keep it secret: whoever has it can register as you\n"
			 "# sign-public-key %s\n"
			 "# box-public-key  %s\n"
			 "seed %s\n",
			 sign_hex, box_hex, seed_hex);
	sodium_memzero(seed_hex, sizeof(seed_hex));
	return n > 0 && (size_t)n < size ? n : -1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The temporary file lives beside the target so rename/link stay within one
 * file system. */
static int make_temp(const char *path, char *tmp, size_t size)
{
	if ((size_t)snprintf(tmp, size, "%s.tmpXXXXXX", path) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkstemp(tmp); /* mode 0600 (POSIX.1-2008) */
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	case S_IFDIR:
		return "a folder";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "not a plain file";
}

/* --force replaces a key file, nothing else: rename() would happily put a
 * regular file in place of /dev/full or of a symbolic link's own entry.
 * lstat, so that a link is judged itself and not its target. Absent: fine. */
static int check_replaceable(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return KEYFILE_OK;
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(errno));
		return KEYFILE_ERR_IO;
	}
	if (S_ISREG(st.st_mode))
		return KEYFILE_OK;
	snprintf(err, errlen,
		 "%s is %s, not a regular file; --force only replaces an earlier key file", path,
		 file_kind(st.st_mode));
	return KEYFILE_ERR_NOT_FILE;
}

int keyfile_save(const char *path, const uint8_t seed[CRYPTO_SEED_SIZE], bool force, char *err,
		 size_t errlen)
{
	char text[512], tmp[4096];
	int len = format_file(seed, text, sizeof(text));
	if (len < 0) {
		snprintf(err, errlen, "%s: libsodium could not start", path);
		return KEYFILE_ERR_CRYPTO;
	}
	if (!force && access(path, F_OK) == 0) {
		snprintf(err, errlen, "%s already exists; use --force to overwrite it", path);
		return KEYFILE_ERR_EXISTS;
	}
	int checked = force ? check_replaceable(path, err, errlen) : KEYFILE_OK;
	if (checked != KEYFILE_OK) {
		sodium_memzero(text, sizeof(text));
		return checked;
	}
	int fd = make_temp(path, tmp, sizeof(tmp));
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a file beside %s: %s", path, strerror(errno));
		sodium_memzero(text, sizeof(text));
		return KEYFILE_ERR_IO;
	}
	int rc = KEYFILE_OK;
	if (fchmod(fd, 0600) < 0 || write_all(fd, text, (size_t)len) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		rc = KEYFILE_ERR_IO;
	}
	sodium_memzero(text, sizeof(text));
	close(fd);
	/* Again just before the rename: something may have appeared meanwhile. */
	if (rc == KEYFILE_OK && force)
		rc = check_replaceable(path, err, errlen);
	if (rc == KEYFILE_OK) {
		/* link() fails on an existing name: no race between check and create. */
		int r = force ? rename(tmp, path) : link(tmp, path);
		if (r < 0 && errno == EEXIST) {
			snprintf(err, errlen, "%s already exists; use --force to overwrite it",
				 path);
			rc = KEYFILE_ERR_EXISTS;
		} else if (r < 0) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
			rc = KEYFILE_ERR_IO;
		}
	}
	unlink(tmp); /* after rename it is gone already: harmless */
	return rc;
}

static bool parse_seed_line(const char *line, uint8_t seed[CRYPTO_SEED_SIZE])
{
	const char *hex = line + strlen("seed");
	if (strncmp(line, "seed", 4) != 0 || (*hex != ' ' && *hex != '\t'))
		return false;
	hex += strspn(hex, " \t");
	size_t n = strcspn(hex, " \t\r\n");
	if (n != 2 * CRYPTO_SEED_SIZE || hex[n + strspn(hex + n, " \t\r\n")] != '\0')
		return false;
	size_t bin_len = 0;
	return sodium_hex2bin(seed, CRYPTO_SEED_SIZE, hex, n, NULL, &bin_len, NULL) == 0 &&
	       bin_len == CRYPTO_SEED_SIZE;
}

static int check_mode(FILE *f, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fileno(f), &st) < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return KEYFILE_ERR_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen,
			 "%s is not a regular file (expected a key file from "
			 "'natsim keygen')",
			 path);
		return KEYFILE_ERR_IO;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen,
			 "%s may be read by others (mode %04o); a key file must be "
			 "private: chmod 600 %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		return KEYFILE_ERR_MODE;
	}
	return KEYFILE_OK;
}

static int parse_file(FILE *f, const char *path, uint8_t seed[CRYPTO_SEED_SIZE], char *err,
		      size_t errlen)
{
	char line[512];
	unsigned lineno = 0, seed_line = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		const char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		if (seed_line) {
			snprintf(err, errlen,
				 "%s:%u: a second key (the first is on line %u); "
				 "expected one 'seed' line",
				 path, lineno, seed_line);
			return KEYFILE_ERR_MALFORMED;
		}
		if (!parse_seed_line(p, seed)) {
			snprintf(err, errlen, "%s:%u: expected 'seed' followed by 64 hex digits",
				 path, lineno);
			return KEYFILE_ERR_MALFORMED;
		}
		seed_line = lineno;
	}
	sodium_memzero(line, sizeof(line));
	if (ferror(f)) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return KEYFILE_ERR_IO;
	}
	if (!seed_line) {
		snprintf(err, errlen,
			 "%s: no 'seed' line (expected a key file from 'natsim keygen')", path);
		return KEYFILE_ERR_MALFORMED;
	}
	return KEYFILE_OK;
}

int keyfile_load(const char *path, uint8_t seed[CRYPTO_SEED_SIZE], char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
		return KEYFILE_ERR_IO;
	}
	int rc = check_mode(f, path, err, errlen);
	if (rc == KEYFILE_OK)
		rc = parse_file(f, path, seed, err, errlen);
	fclose(f);
	if (rc != KEYFILE_OK)
		sodium_memzero(seed, CRYPTO_SEED_SIZE);
	return rc;
}

/* ---- allow-lists ---- */

static bool parse_pk_line(const char *p, uint8_t pk[CRYPTO_SIGN_PK_SIZE])
{
	if (strncmp(p, "sign-public-key", 15) == 0)
		p += 15 + strspn(p + 15, " \t");
	size_t n = strcspn(p, " \t\r\n"), bin_len = 0;
	if (n != 2 * CRYPTO_SIGN_PK_SIZE || p[n + strspn(p + n, " \t\r\n")] != '\0')
		return false;
	return sodium_hex2bin(pk, CRYPTO_SIGN_PK_SIZE, p, n, NULL, &bin_len, NULL) == 0 &&
	       bin_len == CRYPTO_SIGN_PK_SIZE;
}

static int allow_add(struct keyfile_allow *a, const uint8_t pk[CRYPTO_SIGN_PK_SIZE])
{
	uint8_t(*k)[CRYPTO_SIGN_PK_SIZE] = realloc(a->keys, (a->n + 1) * sizeof(*k));
	if (!k)
		return -1;
	a->keys = k;
	memcpy(a->keys[a->n++], pk, CRYPTO_SIGN_PK_SIZE);
	return 0;
}

int keyfile_load_allow(const char *path, struct keyfile_allow *out, char *err, size_t errlen)
{
	char line[512];
	unsigned lineno = 0;
	int rc = KEYFILE_OK;
	memset(out, 0, sizeof(*out));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open allow-list %s: %s", path, strerror(errno));
		return KEYFILE_ERR_IO;
	}
	while (rc == KEYFILE_OK && fgets(line, sizeof(line), f)) {
		uint8_t pk[CRYPTO_SIGN_PK_SIZE];
		const char *p = line + strspn(line, " \t");
		lineno++;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		if (!parse_pk_line(p, pk)) {
			snprintf(err, errlen,
				 "%s:%u: expected a public key: 64 hex digits, optionally "
				 "after 'sign-public-key'",
				 path, lineno);
			rc = KEYFILE_ERR_MALFORMED;
		} else if (allow_add(out, pk) < 0) {
			snprintf(err, errlen, "%s: out of memory", path);
			rc = KEYFILE_ERR_IO;
		}
	}
	if (rc == KEYFILE_OK && out->n == 0) {
		snprintf(err, errlen, "%s: no public keys (one a line, 64 hex digits)", path);
		rc = KEYFILE_ERR_MALFORMED;
	}
	fclose(f);
	if (rc != KEYFILE_OK)
		keyfile_allow_free(out);
	return rc;
}

bool keyfile_allow_has(const struct keyfile_allow *a, const uint8_t pk[CRYPTO_SIGN_PK_SIZE])
{
	for (size_t i = 0; i < a->n; i++)
		if (memcmp(a->keys[i], pk, CRYPTO_SIGN_PK_SIZE) == 0)
			return true;
	return false;
}

void keyfile_allow_free(struct keyfile_allow *a)
{
	free(a->keys);
	a->keys = NULL;
	a->n = 0;
}
