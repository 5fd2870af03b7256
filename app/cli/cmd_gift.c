/*
 * cmd_gift.c - `natsim exercise FILE --export gift [--students N |
 * --students-file FILE] [-o OUT.gift]`: the exercise's questions for Moodle,
 * one per question and student, with each student's computed answer
 * (app/lesson/gift.h). cmd_exercise_main hands over to it when --export is
 * given, so `natsim exercise --help` stays the one page of the command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/gift.h"

#define GIFT_MAX_STUDENTS 100000

struct gift_args {
	const char *file, *format, *output, *students_file;
	uint64_t n_students;
	bool has_n;
	const char **sets; /* room for argc */
	size_t n_sets;
	bool has_seed;
	uint64_t seed;
};

static int own_option(int ch, struct gift_args *a, char **argv)
{
	switch (ch) {
	case 'E':
		a->format = optarg;
		return 0;
	case 'n':
		a->has_n = true;
		return cli_count_flag("exercise", "--students", "a number of students", optarg, 1,
				      GIFT_MAX_STUDENTS, &a->n_students);
	case 'F':
		a->students_file = optarg;
		return 0;
	case 'o':
		a->output = optarg;
		return 0;
	case 'S':
		a->sets[a->n_sets++] = optarg;
		return 0;
	case 's':
		a->has_seed = true;
		return cli_count_flag("exercise", "--seed", "a seed", optarg, 0, UINT64_MAX,
				      &a->seed);
	default:
		return cli_option_error("exercise", ch, argv);
	}
}

static int parse_args(int argc, char **argv, struct gift_args *a)
{
	static const struct option longopts[] = {{"export", required_argument, NULL, 'E'},
						 {"students", required_argument, NULL, 'n'},
						 {"students-file", required_argument, NULL, 'F'},
						 {"output", required_argument, NULL, 'o'},
						 {"seed", required_argument, NULL, 's'},
						 {"set", required_argument, NULL, 'S'},
						 {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":o:s:", longopts, NULL)) != -1)
		rc = own_option(ch, a, argv);
	if (rc == 0)
		rc = cli_take_scenario_file("exercise", argc, argv, &a->file);
	if (rc == 0 && a->file == NULL)
		rc = cli_usage_error("exercise", "which exercise? give a FILE or a NAME");
	if (rc == 0 && (a->format == NULL || strcmp(a->format, "gift") != 0))
		rc = cli_usage_error("exercise", "--export: the one format is 'gift', not '%s'",
				     a->format != NULL ? a->format : "");
	if (rc == 0 && a->has_n == (a->students_file != NULL))
		rc = cli_usage_error("exercise", "--export gift: give --students N or "
						 "--students-file FILE (one of them)");
	return rc;
}

/* One id per line of `text` (blank lines and '#' comments skipped), in
 * place: the ids point into `text`. Returns how many. */
static size_t split_ids(char *text, const char **ids, size_t max)
{
	size_t n = 0;
	for (char *line = strtok(text, "\r\n"); line != NULL && n < max;
	     line = strtok(NULL, "\r\n")) {
		while (*line == ' ' || *line == '\t')
			line++;
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*line != '\0' && *line != '#')
			ids[n++] = line;
	}
	return n;
}

/* The ids: "1".."N", or the lines of --students-file. `store` keeps the
 * text the ids point into (the caller frees it and the array). */
static int student_ids(const struct gift_args *a, const char ***ids, size_t *n, char **store)
{
	size_t max = a->has_n ? (size_t)a->n_students : GIFT_MAX_STUDENTS;
	FILE *f = a->students_file != NULL ? fopen(a->students_file, "r") : NULL;
	if (a->students_file != NULL && f == NULL) {
		fprintf(stderr, "natsim exercise: --students-file: cannot read %s: %s\n",
			a->students_file, strerror(errno));
		return CLI_EXIT_USAGE;
	}
	size_t cap = 0;
	FILE *mem = open_memstream(store, &cap);
	*ids = calloc(max, sizeof(**ids));
	for (int c; f != NULL && mem != NULL && (c = fgetc(f)) != EOF;)
		fputc(c, mem);
	for (size_t k = 1; a->has_n && mem != NULL && k <= max; k++)
		fprintf(mem, "%zu\n", k);
	if (f != NULL)
		fclose(f);
	if (mem == NULL || fclose(mem) != 0 || *ids == NULL)
		return CLI_EXIT_INTERNAL;
	*n = split_ids(*store, *ids, max);
	if (*n == 0) {
		fprintf(stderr, "natsim exercise: --students-file: %s has no student id\n",
			a->students_file);
		return CLI_EXIT_USAGE;
	}
	return 0;
}

static int export_to(const struct gift_args *a, const struct exercise *x, const char **ids,
		     size_t n, struct diag *d)
{
	struct exercise_options opt = {
	    .has_seed = a->has_seed, .seed = a->seed, .sets = a->sets, .n_sets = a->n_sets};
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc = mem != NULL ? gift_export(mem, x, ids, n, &opt, d) : -1;
	if (mem != NULL && fclose(mem) != 0)
		rc = -1;
	if (rc != 0) {
		free(text);
		return diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	}
	rc = cli_write_output("exercise", a->output, text, len);
	free(text);
	return rc;
}

int cmd_exercise_export_main(int argc, char **argv)
{
	struct gift_args a = {0};
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL)
		return CLI_EXIT_INTERNAL;
	int rc = parse_args(argc, argv, &a);
	const char **ids = NULL;
	char *store = NULL, path[4096];
	size_t n = 0;
	if (rc == 0)
		rc = student_ids(&a, &ids, &n, &store);
	struct diag *d = rc == 0 ? diag_new() : NULL;
	struct exercise *x =
	    d != NULL ? exercise_load(cli_find_exercise(a.file, path, sizeof(path)), d) : NULL;
	if (rc == 0 && x == NULL)
		rc = d != NULL && diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	if (rc == 0)
		rc = export_to(&a, x, ids, n, d);
	if (d != NULL && diag_count(d))
		diag_print(d, stderr, cli_use_color(stderr));
	exercise_free(x);
	diag_free(d);
	free(ids);
	free(store);
	free(a.sets);
	return rc;
}

bool cli_wants_export(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--export") == 0 || strncmp(argv[i], "--export=", 9) == 0)
			return true;
	return false;
}
