/*
 * test_progress.c - a student's progress file (app/lesson/progress.h): where
 * it lives, attempts noted and kept across runs, the best score kept, a
 * damaged file set aside and never lost, an unwritable folder a notice not a
 * crash, and writes that leave no temporary files behind.
 *
 * Every test points HOME and XDG_STATE_HOME at its own temporary folder.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/lesson/progress.h"

#define T0 ((time_t)1796212800) /* 2026-12-02T12:00:00Z */

struct fixture {
	char dir[64];
	char file[128]; /* dir/natsim/progress.json */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/natsim-progress-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/natsim/progress.json", f->dir);
	setenv("XDG_STATE_HOME", f->dir, 1);
	setenv("HOME", "/nonexistent-home", 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char *buf = calloc(1, 65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

/* Names in `dir` starting with `prefix`. */
static int count_files(const char *dir, const char *prefix, char *first, size_t size)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0 && n++ == 0 && first)
			snprintf(first, size, "%.100s/%.100s", dir, de->d_name);
	closedir(d);
	return n;
}

static void test_the_default_path_follows_xdg_then_home(void **state)
{
	struct fixture *f = *state;
	char path[256];
	assert_int_equal(progress_default_path(path, sizeof(path)), 0);
	assert_string_equal(path, f->file);
	setenv("XDG_STATE_HOME", "relative/state", 1); /* the XDG spec ignores it */
	assert_int_equal(progress_default_path(path, sizeof(path)), 0);
	assert_string_equal(path, "/nonexistent-home/.local/state/natsim/progress.json");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(progress_default_path(path, sizeof(path)), -1);
}

static void test_an_exercise_is_recorded_under_its_course_name(void **state)
{
	(void)state;
	char key[64];
	progress_key_for_file("/usr/share/natsim/scenarios/course/01-hole-punch.nsim", key,
			      sizeof(key));
	assert_string_equal(key, "course/01-hole-punch");
	progress_key_for_file("course/03-x.nsim", key, sizeof(key));
	assert_string_equal(key, "course/03-x");
	progress_key_for_file("/home/t/my-lab.nsim", key, sizeof(key));
	assert_string_equal(key, "my-lab");
	progress_key_for_file("mycourse/a.nsim", key, sizeof(key));
	assert_string_equal(key, "a");
}

static void test_no_file_is_a_student_who_has_not_started(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX];
	struct progress_entry e;
	struct progress *p = progress_open(f->file, T0, notice);
	assert_non_null(p);
	assert_string_equal(notice, "");
	assert_false(progress_lookup(p, "course/01-hole-punch", &e));
	progress_free(p);
	assert_int_equal(access(f->file, F_OK), -1); /* reading writes nothing */
}

static void test_attempts_are_counted_and_the_best_score_kept(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX];
	struct progress_entry e;
	assert_int_equal(progress_record_attempt("course/01-hole-punch.nsim", 50, 80, T0, notice),
			 0);
	assert_string_equal(notice, "");
	assert_int_equal(
	    progress_record_attempt("course/01-hole-punch.nsim", 70, 80, T0 + 60, notice), 0);
	assert_int_equal(
	    progress_record_attempt("course/01-hole-punch.nsim", 20, 80, T0 + 86400, notice), 0);
	struct progress *p = progress_open(f->file, T0, notice);
	assert_non_null(p);
	assert_true(progress_lookup(p, "course/01-hole-punch", &e));
	assert_int_equal(e.best, 70);
	assert_int_equal(e.max, 80);
	assert_int_equal(e.attempts, 3);
	assert_string_equal(e.last, "2026-12-03T12:00:00Z");
	assert_false(progress_lookup(p, "course/02-other", &e));
	progress_free(p);
}

static void test_a_damaged_file_is_set_aside_and_kept(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX], dir[128], aside[256];
	snprintf(dir, sizeof(dir), "%s/natsim", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	write_text(f->file, "{\"exercises\": {\"course/01\": {\"best\": 80,\n  oops\n");
	assert_int_equal(progress_record_attempt("course/02-x.nsim", 30, 40, T0, notice), 0);
	/* Said, with where, and the parser's line:col. */
	assert_non_null(strstr(notice, "is damaged (2:"));
	assert_non_null(strstr(notice, "it was moved to "));
	assert_non_null(strstr(notice, "progress.json.damaged-20261202T120000Z"));
	assert_non_null(strstr(notice, "and a new one started"));
	/* Kept, byte for byte, beside the new file. */
	assert_int_equal(count_files(dir, "progress.json.damaged-", aside, sizeof(aside)), 1);
	char *kept = read_text(aside);
	assert_string_equal(kept, "{\"exercises\": {\"course/01\": {\"best\": 80,\n  oops\n");
	free(kept);
	struct progress_entry e;
	struct progress *p = progress_open(f->file, T0, notice);
	assert_string_equal(notice, "");
	assert_true(progress_lookup(p, "course/02-x", &e));
	assert_int_equal(e.best, 30);
	progress_free(p);
	/* A second damaged file in the same second does not overwrite the first copy. */
	write_text(f->file, "[]");
	p = progress_open(f->file, T0, notice);
	assert_non_null(strstr(notice, "1:1: not a natsim progress file"));
	assert_non_null(strstr(notice, "damaged-20261202T120000Z-2"));
	progress_free(p);
	assert_int_equal(count_files(dir, "progress.json.damaged-", NULL, 0), 2);
}

static void test_an_unwritable_folder_is_a_notice(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX], blocker[128];
	/* A file where the natsim folder should be: mkdir fails even for root. */
	snprintf(blocker, sizeof(blocker), "%s/natsim", f->dir);
	write_text(blocker, "not a folder");
	assert_int_equal(progress_record_attempt("course/01-a.nsim", 10, 10, T0, notice), -1);
	assert_non_null(strstr(notice, "cannot write progress file"));
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(progress_record_attempt("course/01-a.nsim", 10, 10, T0, notice), -1);
	assert_non_null(strstr(notice, "neither XDG_STATE_HOME nor HOME"));
}

static void test_a_write_leaves_no_temporary_file(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX], dir[128];
	snprintf(dir, sizeof(dir), "%s/natsim", f->dir);
	for (int i = 0; i < 20; i++)
		assert_int_equal(progress_record_attempt("course/01-a.nsim", i, 20, T0 + i, notice),
				 0);
	/* Only progress.json: every temporary file was renamed over it. */
	assert_int_equal(count_files(dir, "progress.json", NULL, 0), 1);
	struct progress_entry e;
	struct progress *p = progress_open(f->file, T0, notice);
	assert_true(progress_lookup(p, "course/01-a", &e));
	assert_int_equal(e.attempts, 20);
	assert_int_equal(e.best, 19);
	progress_free(p);
}

/* Writers in several processes at once: the file is always whole (one
 * writer's or another's), never torn; some updates may be lost. */
static void test_concurrent_writers_never_tear_the_file(void **state)
{
	struct fixture *f = *state;
	char notice[PROGRESS_NOTICE_MAX];
	enum { WRITERS = 4, EACH = 25 };
	assert_int_equal(progress_record_attempt("course/00-seed.nsim", 1, 1, T0, notice), 0);
	pid_t kids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		kids[w] = fork();
		assert_true(kids[w] >= 0);
		if (kids[w] == 0) {
			char key[32];
			snprintf(key, sizeof(key), "course/%02d-w.nsim", w + 1);
			for (int i = 0; i < EACH; i++)
				progress_record_attempt(key, i, EACH, T0, notice);
			_exit(0);
		}
	}
	for (int i = 0; i < 200; i++) { /* meanwhile, every read parses */
		struct progress *p = progress_open(f->file, T0, notice);
		assert_string_equal(notice, "");
		progress_free(p);
	}
	for (int w = 0; w < WRITERS; w++)
		waitpid(kids[w], NULL, 0);
	struct progress *p = progress_open(f->file, T0, notice);
	assert_string_equal(notice, "");
	progress_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_the_default_path_follows_xdg_then_home, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_an_exercise_is_recorded_under_its_course_name,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_file_is_a_student_who_has_not_started, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_attempts_are_counted_and_the_best_score_kept,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_damaged_file_is_set_aside_and_kept, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_an_unwritable_folder_is_a_notice, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_a_write_leaves_no_temporary_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers_never_tear_the_file, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
