/*
 * cmd_check.c - `natsim check SUBMISSION... --key KEY`: grade build tasks.
 *
 * Grades each student's world against the teacher's key (app/lesson/grade.h)
 * and prints a table: per student the score and, for each failed check, why.
 * --format csv|json writes the same for a gradebook. One broken submission
 * is a row with 0 points and its file:line:col error; it never stops the
 * batch. Everything that would make the grades meaningless (a malformed key,
 * a key that does not fit its base world, an output that cannot be written,
 * no submission at all) is refused before anything is graded.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lesson/grade.h"
#include "app/lesson/key.h"

const char cmd_check_usage[] =
    "Usage: natsim check SUBMISSION... --key KEY [OPTIONS]\n"
    "       natsim check --key KEY --task\n"
    "\n"
    "Grade build tasks: each SUBMISSION is a student's world (a scenario file);\n"
    "a folder means every *.nsim file in it. KEY is the teacher's key file: the\n"
    "task, and checks that run the student's world (expectations of the scenario\n"
    "language) or count what the student wrote (rules, changed lines). Prints\n"
    "per student the score and, for each failed check, why. A submission that\n"
    "does not parse scores 0 with its file:line:col error; the others are\n"
    "graded as usual. docs/teaching.md, \"Build tasks and natsim check\".\n"
    "\n"
    "Options:\n"
    "  -k, --key KEY         the key file (keep it away from the students)\n"
    "      --task            print the task the key sets, and grade nothing\n"
    "  -f, --format FORMAT   text (default), csv (one row per submission: file,\n"
    "                        score, total, then 1/0 per check) or json\n"
    "  -o, --output FILE     write the grades there (the text table is still\n"
    "                        printed)\n"
    "      --ascii           ASCII only\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 every submission has full marks, 1 some check failed (or a\n"
    "submission is broken), 2 bad usage, a bad key, an unwritable output, or a\n"
    "key that does not fit some submission (that row says which check and why),\n"
    "3 internal error.\n";

enum check_format { FORMAT_TEXT, FORMAT_CSV, FORMAT_JSON };

struct check_args {
	const char *key, *output;
	enum check_format format;
	bool task, ascii;
	char **inputs;
	size_t n_inputs;
};

struct submissions {
	char **paths;
	size_t n, cap;
};

/* ---- arguments ---- */

static int parse_format(const char *s, enum check_format *f)
{
	static const char *const names[] = {"text", "csv", "json"};
	for (size_t i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum check_format)i;
			return 0;
		}
	return cli_usage_error("check", "--format: expected text, csv or json, got '%s'", s);
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
	static const struct option longopts[] = {
	    {"key", required_argument, NULL, 'k'},    {"format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'}, {"task", no_argument, NULL, 'T'},
	    {"ascii", no_argument, NULL, 'A'},	      {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":k:f:o:", longopts, NULL)) != -1) {
		if (ch == 'k')
			a->key = optarg;
		else if (ch == 'f')
			rc = parse_format(optarg, &a->format);
		else if (ch == 'o')
			a->output = optarg;
		else if (ch == 'T')
			a->task = true;
		else if (ch == 'A')
			a->ascii = true;
		else
			rc = cli_option_error("check", ch, argv);
	}
	if (rc)
		return rc;
	a->inputs = argv + optind;
	a->n_inputs = (size_t)(argc - optind);
	if (a->key == NULL || *a->key == 0)
		return cli_usage_error("check", "which key? give --key KEY");
	if (!a->task && a->n_inputs == 0)
		return cli_usage_error("check", "what to grade? give one or more submission "
						"files or folders");
	if (a->task && a->n_inputs)
		return cli_usage_error("check", "--task prints the task; it grades nothing");
	return 0;
}

/* ---- the submissions ---- */

static int add_path(struct submissions *s, const char *path)
{
	if (s->n == s->cap) {
		char **np = realloc(s->paths, (s->cap = s->cap * 2 + 32) * sizeof(*np));
		if (np == NULL)
			return -1;
		s->paths = np;
	}
	return (s->paths[s->n++] = strdup(path)) ? 0 : -1;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.nsim of a folder, sorted. */
static int add_folder(struct submissions *s, const char *dir)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return cli_usage_error("check", "cannot read the folder %s: %s", dir,
				       strerror(errno));
	size_t first = s->n;
	int rc = 0;
	size_t dl = strlen(dir);
	for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
		size_t n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".nsim") != 0)
			continue;
		char *path = malloc(dl + n + 2);
		if (path == NULL)
			rc = CLI_EXIT_INTERNAL;
		else
			snprintf(path, dl + n + 2, "%s%s%s", dir,
				 dl && dir[dl - 1] == '/' ? "" : "/", e->d_name);
		if (path && add_path(s, path) < 0)
			rc = CLI_EXIT_INTERNAL;
		free(path);
	}
	closedir(d);
	if (rc == 0 && s->n == first)
		rc = cli_usage_error("check", "no .nsim file in the folder %s", dir);
	if (s->n > first)
		qsort(s->paths + first, s->n - first, sizeof(char *), by_name);
	return rc;
}

static int collect(const struct check_args *a, struct submissions *s)
{
	for (size_t i = 0; i < a->n_inputs; i++) {
		struct stat st;
		if (stat(a->inputs[i], &st) < 0)
			return cli_usage_error("check", "%s: %s", a->inputs[i], strerror(errno));
		int rc = S_ISDIR(st.st_mode)		 ? add_folder(s, a->inputs[i])
			 : add_path(s, a->inputs[i]) < 0 ? CLI_EXIT_INTERNAL
							 : 0;
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- the text table ---- */

static void print_failures(FILE *out, const struct key *k, const struct grade *g, const char *cross)
{
	for (size_t i = 0; i < k->n_checks; i++) {
		if (g->checks[i].passed)
			continue;
		const struct key_check *c = &k->checks[i];
		fprintf(out, "    %s %s (%d point%s): %s\n", cross, c->id, c->points,
			c->points == 1 ? "" : "s", c->text);
		fprintf(out, "        %s\n", g->checks[i].why);
	}
}

static void write_text(FILE *out, const struct key *k, const struct grade *g, size_t n, bool ascii)
{
	int width = 10;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(g[i].file) > width)
			width = (int)strlen(g[i].file);
	fprintf(out, "Grades against %s: %zu check%s, %d point%s\n\n", k->filename, k->n_checks,
		k->n_checks == 1 ? "" : "s", k->total, k->total == 1 ? "" : "s");
	fprintf(out, "  %-*s  %7s  %s\n", width, "submission", "score", "failed checks");
	size_t full = 0;
	for (size_t i = 0; i < n; i++) {
		char score[32], failed[256] = "";
		snprintf(score, sizeof(score), "%d/%d", g[i].score, g[i].total);
		size_t used = 0;
		for (size_t c = 0; c < k->n_checks && used < sizeof(failed); c++)
			if (!g[i].checks[c].passed)
				used += (size_t)snprintf(
				    failed + used, sizeof(failed) - used, "%s%s%s",
				    used ? ", " : "", k->checks[c].id,
				    g[i].checks[c].fits ? "" : " (key does not fit)");
		full += g[i].score == g[i].total;
		bool broken = g[i].status == GRADE_BROKEN;
		fprintf(out, "  %-*s  %7s", width, g[i].file, score);
		if (broken || failed[0])
			fprintf(out, "  %s%s", broken ? "broken: " : "",
				broken ? g[i].error : failed);
		fputc('\n', out);
	}
	const char *cross = ascii ? "x" : "\u2717";
	for (size_t i = 0; i < n; i++) {
		if (g[i].score == g[i].total || g[i].status == GRADE_BROKEN)
			continue;
		fprintf(out, "\n%s  %d/%d\n", g[i].file, g[i].score, g[i].total);
		print_failures(out, k, &g[i], cross);
	}
	fprintf(out, "\n%zu of %zu submission%s full marks.\n", full, n,
		n == 1 ? " has" : "s have");
}

/* ---- csv and json ---- */

/* RFC 4180: quote a field holding a comma, a quote or a line break. */
static void csv_field(FILE *out, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void write_csv(FILE *out, const struct key *k, const struct grade *g, size_t n)
{
	fputs("file,score,total", out);
	for (size_t c = 0; c < k->n_checks; c++) {
		fputc(',', out);
		csv_field(out, k->checks[c].id);
	}
	fputs("\r\n", out);
	for (size_t i = 0; i < n; i++) {
		csv_field(out, g[i].file);
		fprintf(out, ",%d,%d", g[i].score, g[i].total);
		for (size_t c = 0; c < k->n_checks; c++)
			fprintf(out, ",%d", g[i].checks[c].passed ? 1 : 0);
		fputs("\r\n", out);
	}
}

/* A JSON string; bytes that are not UTF-8 (a file name can hold any) become
 * '?', so one odd name cannot cost the whole gradebook. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j || s == NULL)
		return j;
	char *copy = strdup(s);
	for (char *p = copy; p && *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = copy ? json_string(copy) : NULL;
	free(copy);
	return j;
}

static json_t *json_grade(const struct key *k, const struct grade *g)
{
	json_t *checks = json_array();
	for (size_t c = 0; checks && c < k->n_checks; c++) {
		const struct grade_check *gc = &g->checks[c];
		json_t *o = json_pack("{s:s, s:b, s:i}", "id", k->checks[c].id, "passed",
				      gc->passed, "points", gc->passed ? k->checks[c].points : 0);
		if (o && !gc->passed)
			json_object_set_new(o, "why", json_text(gc->why));
		if (o && !gc->fits)
			json_object_set_new(o, "fits", json_false());
		json_array_append_new(checks, o);
	}
	json_t *o = json_pack("{s:o, s:s, s:i, s:i}", "file", json_text(g->file), "status",
			      grade_status_name(g->status), "score", g->score, "total", g->total);
	if (o && g->status == GRADE_BROKEN)
		json_object_set_new(o, "error", json_text(g->error));
	if (o)
		json_object_set_new(o, "checks", checks);
	else
		json_decref(checks);
	return o;
}

static int write_json(FILE *out, const struct key *k, const struct grade *g, size_t n)
{
	json_t *checks = json_array(), *subs = json_array();
	for (size_t c = 0; checks && c < k->n_checks; c++)
		json_array_append_new(checks, json_pack("{s:s, s:s, s:i, s:s}", "id",
							k->checks[c].id, "text", k->checks[c].text,
							"points", k->checks[c].points, "condition",
							k->checks[c].condition));
	for (size_t i = 0; subs && i < n; i++)
		json_array_append_new(subs, json_grade(k, &g[i]));
	json_t *root = json_pack("{s:o, s:i, s:o, s:o}", "key", json_text(k->filename), "total",
				 k->total, "checks", checks, "submissions", subs);
	int rc = root ? json_dumpf(root, out, JSON_INDENT(2)) : -1;
	if (rc == 0)
		fputc('\n', out);
	json_decref(root);
	return rc;
}

/* ---- the command ---- */

static int load_key(const struct check_args *a, struct key **out)
{
	struct diag *d = diag_new();
	if (d == NULL)
		return CLI_EXIT_INTERNAL;
	struct key *k = key_load(a->key, d);
	if (k && key_fits_base(k, d)) {
		key_free(k);
		k = NULL;
	}
	if (k == NULL) {
		diag_print(d, stderr, cli_use_color(stderr));
		fprintf(stderr, "natsim check: the key %s cannot be used.\n", a->key);
	}
	diag_free(d);
	*out = k;
	return k ? 0 : CLI_EXIT_USAGE;
}

/* A task the handout already passes grades nothing the student did: say so
 * (the grades still come; the teacher decides). */
static int warn_if_done_already(const struct key *k)
{
	struct grade g;
	if (k->base_text == NULL)
		return 0;
	if (grade_text(k, k->base_file, k->base_text, k->base_len, &g) < 0)
		return CLI_EXIT_INTERNAL;
	if (g.status == GRADE_GRADED && g.score == g.total)
		fprintf(stderr,
			"natsim check: warning: the world handed out (%s) already gets full marks "
			"from %s: its checks cannot tell a student's work from none\n",
			k->base_file, k->filename);
	grade_fini(&g);
	return 0;
}

static int print_task(const struct key *k)
{
	if (k->task == NULL) {
		fprintf(stderr, "natsim check: the key %s has no task line.\n", k->filename);
		return CLI_EXIT_USAGE;
	}
	printf("%s\n", k->task);
	return CLI_EXIT_OK;
}

static int write_grades(const struct check_args *a, FILE *file, const struct key *k,
			const struct grade *g, size_t n)
{
	if (a->format == FORMAT_TEXT || file)
		write_text(stdout, k, g, n, a->ascii);
	FILE *out = file ? file : a->format == FORMAT_TEXT ? NULL : stdout;
	if (out == NULL)
		return 0;
	if (a->format == FORMAT_CSV)
		write_csv(out, k, g, n);
	else if (a->format == FORMAT_JSON && write_json(out, k, g, n) < 0)
		return CLI_EXIT_INTERNAL;
	else if (a->format == FORMAT_TEXT)
		write_text(out, k, g, n, a->ascii);
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "natsim check: cannot write %s: %s\n",
			a->output ? a->output : "the standard output", strerror(errno));
		return CLI_EXIT_USAGE;
	}
	return 0;
}

/* 0 full marks everywhere, 1 some check failed, 2 the key did not fit some. */
static int verdict(const struct grade *g, size_t n)
{
	int rc = CLI_EXIT_OK;
	for (size_t i = 0; i < n; i++) {
		if (g[i].status == GRADE_MISFIT)
			return CLI_EXIT_USAGE;
		if (g[i].score < g[i].total)
			rc = CLI_EXIT_FAILED;
	}
	return rc;
}

static int grade_all(const struct check_args *a, FILE *file, const struct key *k,
		     const struct submissions *s)
{
	struct grade *g = calloc(s->n ? s->n : 1, sizeof(*g));
	int rc = g ? 0 : CLI_EXIT_INTERNAL;
	size_t done = 0;
	for (; rc == 0 && done < s->n; done++)
		if (grade_file(k, s->paths[done], &g[done]) < 0)
			rc = CLI_EXIT_INTERNAL;
	if (rc == 0)
		rc = write_grades(a, file, k, g, s->n);
	if (rc == 0)
		rc = verdict(g, s->n);
	for (size_t i = 0; g && i < done; i++)
		grade_fini(&g[i]);
	free(g);
	if (rc == CLI_EXIT_INTERNAL)
		fprintf(stderr, "natsim check: out of memory\n");
	return rc;
}

int cmd_check_main(int argc, char **argv)
{
	struct check_args a = {.ascii = !cli_use_utf8()};
	int rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	struct key *k = NULL;
	if ((rc = load_key(&a, &k)) != 0)
		return rc;
	if (a.task) {
		rc = print_task(k);
		key_free(k);
		return rc;
	}
	struct submissions s = {0};
	FILE *file = NULL;
	rc = warn_if_done_already(k);
	if (rc == 0)
		rc = collect(&a, &s);
	if (rc == 0 && a.output && (file = fopen(a.output, "w")) == NULL)
		rc = cli_usage_error("check", "cannot write %s: %s", a.output, strerror(errno));
	if (rc == 0)
		rc = grade_all(&a, file, k, &s);
	if (file && fclose(file) != 0 && rc != CLI_EXIT_INTERNAL) {
		fprintf(stderr, "natsim check: cannot write %s: %s\n", a.output, strerror(errno));
		rc = CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.paths[i]);
	free(s.paths);
	key_free(k);
	return rc;
}
