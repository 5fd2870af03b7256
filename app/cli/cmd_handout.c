/*
 * cmd_handout.c - `natsim handout FILE|NAME [--student ID] [--teacher] -o
 * sheet.html`: an exercise as a printable page (app/lesson/handout.h).
 *
 * The page is built in memory first and written at the end, so bad input
 * never leaves a half-written or truncated sheet behind.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/handout.h"

const char cmd_handout_usage[] =
    "Usage: natsim handout FILE|NAME -o SHEET.html [OPTIONS]\n"
    "\n"
    "Write an exercise as a printable page (one HTML file, nothing else needed):\n"
    "the title, the instructions, the world as a picture (names and addresses\n"
    "only), and the questions with their choices and a blank for each answer.\n"
    "The teacher's sheet adds the answer computed for the student's world, the\n"
    "hints, the variant values the student got and the teacher's notes. Print it\n"
    "from a browser (A4; a question never splits across pages).\n"
    "NAME is a bundled exercise, e.g. course/01-hole-punch.\n"
    "\n"
    "Options:\n"
    "  -o, --output SHEET    the page to write ('-' for stdout); required\n"
    "      --student ID      the student whose world (variants) the sheet shows\n"
    "      --teacher         the teacher's sheet: answers, hints, variants, notes\n"
    "  -s, --seed N          random seed (default: the exercise's, else 1)\n"
    "      --set NAME.KEY=VALUE  change the world (repeatable), after the variants\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 written, 2 bad usage, bad exercise or unwritable output,\n"
    "3 internal error.\n";

struct handout_args {
	const char *file, *student, *output;
	const char **sets; /* room for argc */
	size_t n_sets;
	bool teacher, has_seed;
	uint64_t seed;
};

static int parse_args(int argc, char **argv, struct handout_args *a)
{
	static const struct option longopts[] = {
	    {"student", required_argument, NULL, 'i'}, {"teacher", no_argument, NULL, 't'},
	    {"output", required_argument, NULL, 'o'},  {"seed", required_argument, NULL, 's'},
	    {"set", required_argument, NULL, 'S'},     {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":o:s:", longopts, NULL)) != -1) {
		if (ch == 'i' && *optarg == '\0')
			rc = cli_usage_error("handout", "--student: expected an id, got nothing");
		else if (ch == 'i')
			a->student = optarg;
		else if (ch == 't')
			a->teacher = true;
		else if (ch == 'o')
			a->output = optarg;
		else if (ch == 'S')
			a->sets[a->n_sets++] = optarg;
		else if (ch == 's')
			rc = cli_count_flag("handout", "--seed", "a seed", optarg, 0, UINT64_MAX,
					    &a->seed);
		else
			rc = cli_option_error("handout", ch, argv);
		a->has_seed = a->has_seed || ch == 's';
	}
	if (rc == 0)
		rc = cli_take_scenario_file("handout", argc, argv, &a->file);
	if (rc == 0 && a->file == NULL)
		rc = cli_usage_error("handout", "which exercise? give a FILE or a NAME");
	if (rc == 0 && (a->output == NULL || *a->output == '\0'))
		rc = cli_usage_error("handout", "where to? give -o SHEET.html");
	return rc;
}

/* Run the student's world and write the page into memory. */
static int build_page(const struct handout_args *a, const struct exercise *x, struct diag *d,
		      char **page, size_t *len)
{
	struct exercise_options opt = {.student = a->student,
				       .has_seed = a->has_seed,
				       .seed = a->seed,
				       .sets = a->sets,
				       .n_sets = a->n_sets};
	struct exercise_run run = {0};
	char err[256];
	if (exercise_run(x, &opt, &run, d) != 0) {
		exercise_run_free(&run);
		return diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	}
	FILE *mem = open_memstream(page, len);
	int rc = mem != NULL ? handout_write(mem, x, &run, a->teacher, err, sizeof(err)) : -1;
	if (mem != NULL && fclose(mem) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "natsim handout: %s\n", mem != NULL ? err : "out of memory");
	exercise_run_free(&run);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_INTERNAL;
}

int cmd_handout_main(int argc, char **argv)
{
	struct handout_args a = {0};
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL)
		return CLI_EXIT_INTERNAL;
	int rc = parse_args(argc, argv, &a);
	char path[4096], *page = NULL;
	size_t len = 0;
	struct diag *d = rc == 0 ? diag_new() : NULL;
	struct exercise *x =
	    d != NULL ? exercise_load(cli_find_exercise(a.file, path, sizeof(path)), d) : NULL;
	if (rc == 0 && x == NULL)
		rc = d != NULL && diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	if (rc == 0)
		rc = build_page(&a, x, d, &page, &len);
	if (rc == 0)
		rc = cli_write_output("handout", a.output, page, len);
	if (d != NULL && diag_count(d))
		diag_print(d, stderr, cli_use_color(stderr));
	free(page);
	exercise_free(x);
	diag_free(d);
	free(a.sets);
	return rc;
}
