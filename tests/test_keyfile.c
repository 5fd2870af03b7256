/* test_keyfile.c - key files: round trip, mode 0600, refusal to overwrite, malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/net/keyfile.h"

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

/* How many entries the fixture's folder holds besides . and ..: a failed
 * save must leave no temporary file behind. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* --force replaces a regular file only: a fifo, a device node, a folder or a
 * symbolic link at PATH is refused and left exactly as it was (issue 12 #16:
 * keygen once turned /dev/full into a regular file). */
static void test_force_refuses_non_regular(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32] = {5};
	char err[512], fifo[160], dev[160], dir[160], link_path[160], target[160];
	struct stat st;
	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	snprintf(dev, sizeof(dev), "%s/null", f->dir);
	snprintf(dir, sizeof(dir), "%s/folder", f->dir);
	snprintf(link_path, sizeof(link_path), "%s/link", f->dir);
	snprintf(target, sizeof(target), "%s/target", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_text(target, "keep me\n", 0600);
	assert_int_equal(symlink(target, link_path), 0);
	/* A character device like /dev/null (1,3), made here, never in /dev:
	 * only root may create one. */
	bool have_dev = mknod(dev, S_IFCHR | 0600, makedev(1, 3)) == 0;
	int before = count_entries(f->dir);

	const struct {
		const char *path;
		const char *kind;
		mode_t type;
	} table[] = {
	    {fifo, "a fifo", S_IFIFO},
	    {dir, "a folder", S_IFDIR},
	    {link_path, "a symbolic link", S_IFLNK},
	    {dev, "a character device", S_IFCHR},
	};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].type == S_IFCHR && !have_dev)
			continue;
		err[0] = '\0';
		assert_int_equal(keyfile_save(table[i].path, seed, true, err, sizeof(err)),
				 KEYFILE_ERR_NOT_FILE);
		assert_non_null(strstr(err, table[i].path));
		assert_non_null(strstr(err, table[i].kind));
		assert_non_null(strstr(err, "not a regular file"));
		assert_int_equal(lstat(table[i].path, &st), 0);
		assert_int_equal(st.st_mode & S_IFMT, table[i].type);
	}
	if (have_dev) {
		assert_int_equal(lstat(dev, &st), 0);
		assert_int_equal(major(st.st_rdev), 1);
		assert_int_equal(minor(st.st_rdev), 3);
	}
	assert_int_equal(count_entries(f->dir), before); /* no temporary file left */
	/* The symbolic link's target is untouched too. */
	FILE *fp = fopen(target, "r");
	char text[32] = {0};
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	assert_string_equal(text, "keep me\n");
}

/* Replacing a regular file goes through a temporary file in the same folder:
 * afterwards only the key is there, with mode 0600 whatever the old mode. */
static void test_force_replaces_regular_file(void **state)
{
	struct fixture *f = *state;
	uint8_t seed[32] = {6}, back[32];
	char err[512];
	struct stat st;
	write_text(f->path, "old\n", 0644);
	assert_int_equal(keyfile_save(f->path, seed, true, err, sizeof(err)), KEYFILE_OK);
	assert_int_equal(count_entries(f->dir), 1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(keyfile_load(f->path, back, err, sizeof(err)), KEYFILE_OK);
	assert_memory_equal(back, seed, 32);
}

/* A failure before the rename leaves the old file as it was: here the
 * folder cannot hold the temporary file (its name is too long). */
static void test_failure_keeps_old_content(void **state)
{
	struct fixture *f = *state;
	uint8_t b[32] = {2};
	char err[512], longer[400], text[32] = {0};
	/* A file name of 250 bytes exists; NAME.tmpXXXXXX (260) cannot. */
	snprintf(longer, sizeof(longer), "%s/%0250d", f->dir, 0);
	write_text(longer, "old key\n", 0600);
	assert_int_equal(keyfile_save(longer, b, true, err, sizeof(err)), KEYFILE_ERR_IO);
	assert_non_null(strstr(err, "cannot create a file beside"));
	FILE *fp = fopen(longer, "r");
	assert_non_null(fp);
	assert_non_null(fgets(text, sizeof(text), fp));
	fclose(fp);
	assert_string_equal(text, "old key\n");
	assert_int_equal(count_entries(f->dir), 1);
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
	    cmocka_unit_test_setup_teardown(test_force_refuses_non_regular, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_force_replaces_regular_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failure_keeps_old_content, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_world_readable_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hand_written_ok, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
