/* test_keyfile.c - key files: round trip, mode 0600, refusal to overwrite, malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/keyfile.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/natsim-keyfile-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/key", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	int rc = system(cmd);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32], back[32];
	char err[512];
	assert_int_equal(keyfile_generate(seed), KEYFILE_OK);
	assert_int_equal(keyfile_save(f->path, seed, false, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(keyfile_load(f->path, back, err, sizeof(err)), KEYFILE_OK);
	assert_memory_equal(seed, back, 32);
}

static void test_mode_0600(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32] = {7};
	char err[512];
	mode_t old = umask(0); /* the file must be private whatever the umask says */
	int rc = keyfile_save(f->path, seed, false, err, sizeof(err));
	umask(old);
	assert_int_equal(rc, KEYFILE_OK);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_public_keys_in_comments(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32] = {1, 2, 3};
	struct crypto_identity id;
	char err[512], hex[65], text[1024] = {0};
	assert_int_equal(keyfile_save(f->path, seed, false, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(crypto_identity_from_seed(&id, seed), 0);
	keyfile_hex(id.sign_pk, 32, hex);
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	size_t n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	assert_true(n > 0);
	assert_non_null(strstr(text, hex));
	assert_non_null(strstr(text, "# sign-public-key"));
}

static void test_refuses_overwrite(void **state)
{
	struct fixture *f = *state;
	uint8_t a[32] = {1}, b[32] = {2}, back[32];
	char err[512];
	assert_int_equal(keyfile_save(f->path, a, false, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(keyfile_save(f->path, b, false, err, sizeof(err)), KEYFILE_ERR_EXISTS);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "--force"));
	assert_int_equal(keyfile_load(f->path, back, err, sizeof(err)), KEYFILE_OK);
	assert_memory_equal(back, a, 32); /* untouched */
	assert_int_equal(keyfile_save(f->path, b, true, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(keyfile_load(f->path, back, err, sizeof(err)), KEYFILE_OK);
	assert_memory_equal(back, b, 32);
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32];
	char err[512];
	assert_int_equal(keyfile_load(f->path, seed, err, sizeof(err)), KEYFILE_ERR_IO);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "No such file"));
}

static void test_world_readable_refused(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32] = {9};
	char err[512];
	assert_int_equal(keyfile_save(f->path, seed, false, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(chmod(f->path, 0644), 0);
	assert_int_equal(keyfile_load(f->path, seed, err, sizeof(err)), KEYFILE_ERR_MODE);
	assert_non_null(strstr(err, "chmod 600"));
}

/* Each malformed file, and the line the message must name. */
static const struct {
	const char *text;
	const char *where;
} malformed[] = {
    {"", ": no 'seed' line"},
    {"# only a comment\n", ": no 'seed' line"},
    {"seed 00112233\n", ":1: expected 'seed'"},
    {"# c\n\nseed zz00112233445566778899aabbccddeeff00112233445566778899aabbccddee\n", ":3:"},
    {"seed 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff extra\n", ":1:"},
    {"key 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", ":1:"},
    {"seed 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
     "seed 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n",
     ":2: a second key"},
};

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		uint8_t seed[32];
		char err[512], want[256];
		unlink(f->path);
		write_text(f->path, malformed[i].text, 0600);
		assert_int_equal(keyfile_load(f->path, seed, err, sizeof(err)),
				 KEYFILE_ERR_MALFORMED);
		snprintf(want, sizeof(want), "%s%s", f->path, malformed[i].where);
		if (!strstr(err, want))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, want);
	}
}

static void test_hand_written_ok(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32];
	char err[512];
	write_text(f->path,
		   "  # indented comment\n\n"
		   "seed\t00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff  \r\n",
		   0400);
	assert_int_equal(keyfile_load(f->path, seed, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(seed[0], 0x00);
	assert_int_equal(seed[10], 0xAA);
	assert_int_equal(seed[31], 0xFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mode_0600, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_public_keys_in_comments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_overwrite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_world_readable_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hand_written_ok, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
