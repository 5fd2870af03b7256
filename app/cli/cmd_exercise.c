/*
 * cmd_exercise.c - `natsim exercise FILE`: predict, run, check.
 *
 * Shows the instructions, the world (names and addresses only: nothing that
 * gives an answer away) and the questions; takes the answers (asked at a
 * terminal, or read from --answers FILE or stdin); then marks each one
 * against the answer the run computed (app/lesson), with the decisive
 * packet's hop-by-hop story as the explanation, and ends with the score.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/lang/diag.h"
#include "app/lang/scenario.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/mark.h"
#include "app/lesson/progress.h"
#include "app/world/simdrive.h"
#include "sim/trace_log.h"
#include "viz/why.h"

const char cmd_exercise_usage[] =
    "Usage: natsim exercise FILE|NAME [OPTIONS]\n"
    "\n"
    "Work through an exercise: read the instructions and the world, answer its\n"
    "questions (predict), then natsim runs the world (run) and marks each answer\n"
    "against what really happened, explaining it packet by packet (check). The\n"
    "answers are never written in the file: natsim computes them by running it.\n"
    "NAME is a bundled exercise (natsim course lists them), e.g. course/01-hole-punch.\n"
    "\n"
    "Answers are asked at the terminal (type ? for a hint, which costs part of the\n"
    "question's points). Without a terminal, or with --answers, they are read as\n"
    "lines 'ID = ANSWER', with 'hint ID' for each hint opened.\n"
    "\n"
    "Options:\n"
    "      --student ID      your student id: picks your variant of the world\n"
    "  -a, --answers FILE    read the answers from FILE ('-' for stdin)\n"
    "      --questions       print the instructions, the world and the questions\n"
    "                        (to write an answers file); ask nothing\n"
    "      --teacher         print the answer key for --student's world, the\n"
    "                        variants and the teacher's notes; ask nothing\n"
    "  -s, --seed N          random seed (default: the exercise's, else 1)\n"
    "      --set NAME.KEY=VALUE  change the world (repeatable), after the variants:\n"
    "                        for a teacher trying what-ifs\n"
    "      --no-progress     do not record this attempt in your progress\n"
    "                        (natsim course shows it; see docs/teaching.md)\n"
    "      --ascii           ASCII only\n"
    "      --export gift     write Moodle GIFT questions instead, one per question and\n"
    "                        student, with the computed answers (to -o FILE or stdout);\n"
    "                        students '1'..'N' (--students N) or --students-file FILE\n"
    "  -h, --help            show this help\n"
    "\n"
    "Exit status: 0 every answer right, 1 some wrong, 2 bad usage or bad input\n"
    "(the exercise or the answers), 3 internal error.\n";

struct exercise_args {
	const char *file, *student, *answers;
	const char **sets; /* room for argc */
	size_t n_sets;
	bool teacher, questions, ascii, has_seed, no_progress;
	uint64_t seed;
};

/* ---- what the student sees before answering ---- */

static const char *ip_text(uint32_t ip, char *buf)
{
	struct in_addr a = {htonl(ip)};
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

/* One node of the world as the student sees it: names and addresses, never
 * behaviours (the kinds of NAT are questions). */
struct world_item {
	const char *name;
	const char *parent; /* the NAT it sits behind; NULL: on the internet */
	char text[96];
};

/* The items whose parent is `parent`, as a tree under `prefix`. */
static void show_children(FILE *out, const struct world_item *it, size_t n, const char *parent,
			  const char *prefix, bool ascii, int depth)
{
	size_t last = n;
	for (size_t i = 0; i < n; i++)
		if ((it[i].parent == NULL) == (parent == NULL) &&
		    (parent == NULL || strcmp(it[i].parent, parent) == 0))
			last = i;
	for (size_t i = 0; i < n && depth < 8; i++) {
		if ((it[i].parent == NULL) != (parent == NULL) ||
		    (parent != NULL && strcmp(it[i].parent, parent) != 0))
			continue;
		fprintf(out, "%s%s%s  %s\n", prefix,
			i == last ? (ascii ? "`-- " : "└── ") : (ascii ? "|-- " : "├── "),
			it[i].name, it[i].text);
		const char *step = i == last ? "    " : (ascii ? "|   " : "│   ");
		char deeper[128];
		size_t pl = strlen(prefix), sl = strlen(step);
		if (pl + sl >= sizeof(deeper))
			continue;
		memcpy(deeper, prefix, pl);
		memcpy(deeper + pl, step, sl + 1);
		show_children(out, it, n, it[i].name, deeper, ascii, depth + 1);
	}
}

static void show_world(FILE *out, const struct scenario *s, bool ascii)
{
	char ip[INET_ADDRSTRLEN];
	size_t n = 0;
	struct world_item *it = calloc(s->n_nats + s->n_hosts + 1, sizeof(*it));
	if (it == NULL)
		return;
	if (s->coordinator) {
		it[n].name = s->coordinator->name;
		snprintf(it[n++].text, sizeof(it->text), "coordinator at %s",
			 ip_text(s->coordinator->ip, ip));
	}
	for (size_t i = 0; i < s->n_nats; i++, n++) {
		it[n].name = s->nats[i].name;
		it[n].parent = s->nats[i].behind.name;
		snprintf(it[n].text, sizeof(it->text), "router with NAT, public %s",
			 ip_text(s->nats[i].public_ip[0], ip));
	}
	for (size_t i = 0; i < s->n_hosts; i++, n++) {
		it[n].name = s->hosts[i].name;
		it[n].parent = s->hosts[i].is_public ? NULL : s->hosts[i].behind.name;
		snprintf(it[n].text, sizeof(it->text), "host at %s", ip_text(s->hosts[i].ip, ip));
	}
	fprintf(out, "The world:\n  internet\n");
	show_children(out, it, n, NULL, "  ", ascii, 0);
	free(it);
}

static void show_choices(FILE *out, const struct question *q)
{
	const char *const *c = question_choices(q->kind);
	if (q->kind == QUESTION_DROP) {
		/* No example: a node and a reason from a world could be an answer. */
		fprintf(out, "     answer: NODE REASON (a node of the world, one of the reasons"
			     " below), or 'delivered'; reasons:");
	} else if (q->kind == QUESTION_PORT) {
		fprintf(out, "     answer: a port number\n");
		return;
	} else if (q->kind == QUESTION_TIMEOUT || q->kind == QUESTION_WHEN) {
		char tol[32];
		snprintf(tol, sizeof(tol), "%g", (double)q->tolerance_ns / 1e9);
		fprintf(out, "     answer: a number of seconds (within %s s), or '%s'\n", tol,
			q->kind == QUESTION_WHEN ? "never" : "none");
		return;
	} else {
		fprintf(out, "     answer one of:");
	}
	for (; c && *c; c++)
		fprintf(out, " %s", *c);
	fprintf(out, "\n");
}

static void show_intro(FILE *out, const struct exercise *x, const struct scenario *s,
		       const char *student, bool ascii)
{
	fprintf(out, "%s\n", s->title ? s->title : x->filename);
	if (student && *student)
		fprintf(out, "(the world of student %s)\n", student);
	if (x->instructions)
		fprintf(out, "\n%s\n", x->instructions);
	fprintf(out, "\n");
	show_world(out, s, ascii);
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		if (v->shown)
			fprintf(out, "  in your world: %s = %s\n", v->setting,
				v->values[exercise_variant_pick(v, student)]);
	}
	fprintf(out, "\nQuestions (%zu, %d points each):\n", x->n_questions, EXERCISE_POINTS);
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		fprintf(out, "  %s. %s\n", q->id, q->text);
		show_choices(out, q);
	}
	fflush(out);
}

/* ---- taking the answers ---- */

static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *nb = realloc(buf, cap *= 2);
			if (nb == NULL)
				free(buf);
			buf = nb;
		}
	}
	if (buf && ferror(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* Ask each question at the terminal; the replies become answers text. */
static char *ask(const struct exercise *x, size_t *len)
{
	size_t cap = 256 * (x->n_questions + 1), n = 0;
	char *text = malloc(cap), line[256];
	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		size_t hints = 0;
		for (;;) {
			printf("\n%s. %s\n   your answer%s: ", q->id, q->text,
			       hints < q->n_hints ? " (? for a hint)" : "");
			fflush(stdout);
			if (fgets(line, sizeof(line), stdin) == NULL) {
				*len = n;
				return text; /* end of input: the rest unanswered */
			}
			line[strcspn(line, "\r\n")] = 0;
			if (strcmp(line, "?") == 0 && hints < q->n_hints) {
				printf("   hint %zu: %s\n", hints + 1, q->hints[hints]);
				n += (size_t)snprintf(text + n, cap - n, "hint %s\n", q->id);
				hints++;
				continue;
			}
			if (line[0] && strchr(line, '#') == NULL)
				n += (size_t)snprintf(text + n, cap - n, "%s = %s\n", q->id, line);
			break;
		}
	}
	*len = n;
	return text;
}

static int take_answers(const struct exercise_args *a, const struct exercise *x,
			struct given *given)
{
	size_t len = 0;
	char *text = NULL;
	const char *name = a->answers ? a->answers : "<stdin>";
	if (a->answers && strcmp(a->answers, "-") != 0) {
		FILE *f = fopen(a->answers, "rb");
		if (f == NULL) {
			fprintf(stderr, "natsim exercise: --answers: cannot read %s\n", a->answers);
			return CLI_EXIT_USAGE;
		}
		text = read_all(f, &len);
		fclose(f);
	} else if (a->answers == NULL && isatty(STDIN_FILENO)) {
		text = ask(x, &len);
		name = "<your answers>";
	} else {
		text = read_all(stdin, &len);
	}
	if (text == NULL)
		return CLI_EXIT_INTERNAL;
	struct diag *d = diag_new();
	size_t errors = d ? mark_read_answers(x, text, len, name, given, d) : 1;
	if (errors && d)
		diag_print(d, stderr, cli_use_color(stderr));
	diag_free(d);
	free(text);
	return errors ? CLI_EXIT_USAGE : 0;
}

/* ---- marking and explaining ---- */

static void show_explanation(const struct exercise_run *r, size_t i, bool ascii)
{
	uint64_t id = r->answers[i].packet;
	if (id == 0)
		return;
	printf("     Why, packet by packet:\n");
	fflush(stdout);
	why_render(stdout, r->log, id, simdrive_payload_summary, ascii);
}

static int report(const struct exercise *x, const struct exercise_run *r, const struct given *given,
		  bool ascii, int *score)
{
	struct mark *marks = calloc(x->n_questions, sizeof(*marks));
	if (marks == NULL)
		return CLI_EXIT_INTERNAL;
	int total = mark_all(x, r->answers, given, marks);
	*score = total;
	size_t right = 0;
	printf("\nThe run says:\n");
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		right += marks[i].right;
		printf("\n  %s %s. %s\n",
		       marks[i].right ? (ascii ? "[ok]" : "✓") : (ascii ? "[x]" : "✗"), q->id,
		       q->text);
		printf("     answer: %s", r->answers[i].text);
		if (!given[i].answered)
			printf("; you did not answer");
		else if (!marks[i].right)
			printf("; you said: %s", given[i].text);
		printf("  (%d/%d points%s)\n", marks[i].points, EXERCISE_POINTS,
		       given[i].hints_used ? ", hints opened" : "");
		show_explanation(r, i, ascii);
	}
	printf("\nScore: %d/%d (%zu of %zu right)\n", total,
	       (int)(EXERCISE_POINTS * x->n_questions), right, x->n_questions);
	free(marks);
	return right == x->n_questions ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

static void teacher_key(const struct exercise *x, const struct exercise_run *r)
{
	printf("Answer key%s%s\n",
	       r->student && *r->student ? " for student " : " (reference world)",
	       r->student && *r->student ? r->student : "");
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		size_t pick = i < 16 ? r->variant_pick[i] : 0;
		printf("  variant %s = %s (of", v->setting, v->values[pick]);
		for (size_t k = 0; k < v->n_values; k++)
			printf(" %s", v->values[k]);
		printf(")\n");
	}
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		printf("\n  %s. %s\n     answer: %s  (%s)\n", q->id, q->text, r->answers[i].text,
		       question_kind_name(q->kind));
		for (size_t h = 0; h < q->n_hints; h++)
			printf("     hint %zu: %s\n", h + 1, q->hints[h]);
		if (q->teacher)
			printf("     note: %s\n", q->teacher);
	}
	if (x->teacher)
		printf("\nNotes for the teacher:\n%s\n", x->teacher);
}

/* A finished attempt goes into the student's progress (natsim course); a
 * problem there is said, but it is not the exercise's failure. */
static void record_progress(const char *file, int score, size_t n_questions)
{
	char notice[PROGRESS_NOTICE_MAX];
	progress_record_attempt(file, score, (int)(EXERCISE_POINTS * n_questions), time(NULL),
				notice);
	if (notice[0])
		fprintf(stderr, "natsim exercise: %s\n", notice);
}

/* ---- main ---- */

static int parse_args(int argc, char **argv, struct exercise_args *a)
{
	static const struct option longopts[] = {{"student", required_argument, NULL, 'i'},
						 {"answers", required_argument, NULL, 'a'},
						 {"teacher", no_argument, NULL, 't'},
						 {"questions", no_argument, NULL, 'q'},
						 {"seed", required_argument, NULL, 's'},
						 {"set", required_argument, NULL, 'S'},
						 {"ascii", no_argument, NULL, 'A'},
						 {"no-progress", no_argument, NULL, 'P'},
						 {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":a:s:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			a->student = optarg;
			if (!*optarg)
				rc = cli_usage_error("exercise",
						     "--student: expected an id, got nothing");
			break;
		case 'a':
			a->answers = optarg;
			break;
		case 't':
			a->teacher = true;
			break;
		case 'q':
			a->questions = true;
			break;
		case 'A':
			a->ascii = true;
			break;
		case 'P':
			a->no_progress = true;
			break;
		case 'S':
			a->sets[a->n_sets++] = optarg;
			break;
		case 's':
			rc = cli_count_flag("exercise", "--seed", "a seed", optarg, 0, UINT64_MAX,
					    &a->seed);
			a->has_seed = true;
			break;
		default:
			rc = cli_option_error("exercise", ch, argv);
			break;
		}
	}
	if (rc == 0)
		rc = cli_take_scenario_file("exercise", argc, argv, &a->file);
	if (rc == 0 && a->file == NULL)
		rc = cli_usage_error("exercise", "which exercise? give a FILE or a NAME");
	if (rc == 0 && a->teacher && a->answers)
		rc = cli_usage_error("exercise", "--teacher prints the key; it takes no --answers");
	return rc;
}

int cmd_exercise_main(int argc, char **argv)
{
	if (cli_wants_export(argc, argv)) /* its own options: cmd_gift.c */
		return cmd_exercise_export_main(argc, argv);
	struct exercise_args a = {.ascii = !cli_use_utf8()};
	a.sets = calloc((size_t)argc + 1, sizeof(*a.sets));
	if (a.sets == NULL)
		return CLI_EXIT_INTERNAL;
	int rc = parse_args(argc, argv, &a);
	if (rc != 0) {
		free(a.sets);
		return rc;
	}
	char path[4096];
	struct diag *d = diag_new();
	const char *file = cli_find_exercise(a.file, path, sizeof(path));
	struct exercise *x = d ? exercise_load(file, d) : NULL;
	struct exercise_run run = {0};
	struct given *given = x ? calloc(x->n_questions, sizeof(*given)) : NULL;
	rc = CLI_EXIT_USAGE;
	struct exercise_options opt = {.student = a.student,
				       .has_seed = a.has_seed,
				       .seed = a.seed,
				       .sets = a.sets,
				       .n_sets = a.n_sets};
	if (x && given && exercise_run(x, &opt, &run, d) == 0) {
		if (a.teacher) {
			teacher_key(x, &run);
			rc = CLI_EXIT_OK;
		} else if (a.questions) {
			show_intro(stdout, x, run.scenario, a.student, a.ascii);
			rc = CLI_EXIT_OK;
		} else {
			if (a.answers == NULL && isatty(STDIN_FILENO))
				show_intro(stdout, x, run.scenario, a.student, a.ascii);
			rc = take_answers(&a, x, given);
			int score = 0;
			if (rc == 0)
				rc = report(x, &run, given, a.ascii, &score);
			if ((rc == CLI_EXIT_OK || rc == CLI_EXIT_FAILED) && !a.no_progress)
				record_progress(file, score, x->n_questions);
		}
	} else if (d && diag_count_errors(d) == 0) {
		rc = CLI_EXIT_INTERNAL;
		fprintf(stderr, "natsim exercise: out of memory\n");
	}
	if (d && diag_count(d))
		diag_print(d, stderr, cli_use_color(stderr));
	exercise_run_free(&run);
	exercise_free(x);
	free(given);
	free(a.sets);
	diag_free(d);
	return rc;
}
