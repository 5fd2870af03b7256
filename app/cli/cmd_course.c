/*
 * cmd_course.c - `natsim course`: the bundled exercises in teaching order,
 * each with its title, the student's status and best score (app/lesson/
 * progress.h keeps them; natsim exercise records each finished attempt).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/lesson/progress.h"

const char cmd_course_usage[] =
    "Usage: natsim course\n"
    "\n"
    "List the bundled course's exercises in teaching order, each with its title,\n"
    "your status (not started, done) and your best score so far. Work through\n"
    "one with natsim exercise course/NN-NAME; each finished attempt is recorded\n"
    "(unless --no-progress) in $XDG_STATE_HOME/natsim/progress.json (default\n"
    "~/.local/state/natsim/progress.json). A damaged progress file is moved\n"
    "aside, kept, and a new one started.\n"
    "\n"
    "Exit status: 0 listed, 2 bad usage or no bundled course found.\n";

/* The exercise files (NN-name.nsim) of the first course folder that has
 * any, sorted: their numbers give the teaching order. */
static size_t find_exercises(char ***names, char *dir_out, size_t size)
{
	for (const char *const *dirs = cli_scenario_dirs(); *dirs; dirs++) {
		snprintf(dir_out, size, "%s/course", *dirs);
		size_t n = cli_list_nsim(dir_out, names);
		if (n)
			return n;
		free(*names);
	}
	*names = NULL;
	return 0;
}

/* One line: name, title, status, best score. Returns whether it is done. */
static bool show_exercise(const char *dir, const char *name, const struct progress *p)
{
	char path[8448], key[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct diag *d = diag_new();
	struct scenario *s = d ? cli_load_scenario(path, d) : NULL;
	struct progress_entry e;
	progress_key_for_file(path, key, sizeof(key));
	bool done = p && progress_lookup(p, key, &e);
	int stem = (int)strlen(name) - 5;
	printf("  %-24.*s %-52s ", stem, name,
	       s && s->title ? s->title : "(does not parse: natsim exercise it to see why)");
	if (done)
		printf("done, best %d/%d (%ld attempt%s, last %.10s)\n", e.best, e.max, e.attempts,
		       e.attempts == 1 ? "" : "s", e.last);
	else
		printf("not started\n");
	scenario_free(s);
	diag_free(d);
	return done;
}

int cmd_course_main(int argc, char **argv)
{
	if (argc > 1)
		return cli_usage_error("course", "takes no arguments, not '%s'", argv[1]);
	char **names = NULL, dir[4096], file[4096], notice[PROGRESS_NOTICE_MAX] = "";
	size_t n = find_exercises(&names, dir, sizeof(dir));
	if (n == 0) {
		fprintf(stderr, "natsim course: no bundled course found; looked for course/ in:\n");
		for (const char *const *d = cli_scenario_dirs(); *d; d++)
			fprintf(stderr, "  %s\n", *d);
		free(names);
		return CLI_EXIT_USAGE;
	}
	bool have_file = progress_default_path(file, sizeof(file)) == 0;
	struct progress *p = have_file ? progress_open(file, time(NULL), notice) : NULL;
	if (notice[0]) {
		fprintf(stderr, "natsim course: %s\n", notice);
		char saving[PROGRESS_NOTICE_MAX];
		if (p && access(file, F_OK) != 0 && progress_save(p, saving) != 0) /* the new one */
			fprintf(stderr, "natsim course: %s\n", saving);
	}
	printf("The course: %zu exercises, in order\n\n", n);
	size_t done = 0, next = n;
	for (size_t i = 0; i < n; i++) {
		if (show_exercise(dir, names[i], p))
			done++;
		else if (next == n)
			next = i;
	}
	printf("\n%zu of %zu done.", done, n);
	if (next < n)
		printf(" Next: natsim exercise course/%.*s", (int)strlen(names[next]) - 5,
		       names[next]);
	printf("\nYour progress: %s\n",
	       have_file ? file : "(not kept: neither XDG_STATE_HOME nor HOME is set)");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	progress_free(p);
	return CLI_EXIT_OK;
}
