/*
 * cmd_tui.c - `natsim tui [FILE]`: record a whole run of a scenario, then
 * step through it in an ncurses interface (app/tui/tui.c over app/tui/tui_model.c).
 *
 * `natsim tui --predict EXERCISE`: the run is the student's world of an
 * exercise (app/lesson exercise_run); the TUI opens hidden, asks the
 * questions in its question pane (app/tui/tui_quiz.c), and marks the
 * answers here with app/lesson/mark.h, the marking `natsim exercise` uses.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli/cli.h"
#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"
#include "app/lesson/mark.h"
#include "app/lesson/progress.h"
#include "app/tui/tui.h"
#include "app/tui/tui_model.h"
#include "app/tui/tui_quiz.h"
#include "sim/trace.h"
#include "sim/trace_log.h"

const char cmd_tui_usage[] =
    "Usage: natsim tui [FILE] [OPTIONS]\n"
    "\n"
    "Record a whole run of a scenario, then step through it in the terminal:\n"
    "the topology with each pair's state and the packet in flight, the timeline,\n"
    "the conntrack, NAT mapping and firewall tables of the node the packet is at\n"
    "(or of the node you select), the packet inspector (fields, before/after a\n"
    "translation, bytes, why a drop) and a ladder of the recent packet flow.\n"
    "Long lines wrap: nothing is cut at 80x24. Everything shown is the trace\n"
    "folded up to the cursor, so stepping back works. Without FILE, the built-in\n"
    "default scenario (classic); FILE may be the name of a bundled scenario.\n"
    "\n"
    "Controls:\n"
    "  space      step one record          b          step back one record\n"
    "  n          next packet hop          g          go to a virtual time\n"
    "  r          run at the rate          p          pause\n"
    "  + / -      faster / slower          Home/End   first / last record\n"
    "  tab        focus topology or timeline\n"
    "  arrows     topology: select a node; timeline: move the cursor\n"
    "  PgUp/PgDn  a timeline page          [ ] < >    scroll the tables\n"
    "  f          the tables follow the packet's node again (selecting pins them)\n"
    "  /          filter the timeline (substring; empty clears)\n"
    "  t          what-if: the selected NAT (or the host's NAT) gets the next preset\n"
    "             (full-cone, restricted-cone, port-restricted-cone, symmetric) and\n"
    "             the scenario re-runs with the same seed\n"
    "  mouse      click a node or a timeline line; the wheel scrolls the timeline\n"
    "  ?          help                     q          quit\n"
    "\n"
    "Predict mode (--predict EXERCISE, e.g. course/01-hole-punch): nothing that\n"
    "answers a question is shown before it is answered. The questions about the\n"
    "whole run come first, the world shown by names and addresses only (type the\n"
    "answer, Enter; ? opens a hint, which costs points); then the run opens and\n"
    "stops at each other question's moment (a drop question when its packet is\n"
    "sent, a table question at its time) to ask it. Then each answer is marked\n"
    "(right or wrong, the computed answer, points, the score) and the whole run\n"
    "opens to step through. m shows the marks again.\n"
    "\n"
    "Options:\n"
    "      --predict EXERCISE    predict mode over this exercise (FILE or NAME)\n"
    "      --student ID          with --predict: your id picks your world's variant\n"
    "      --no-progress         with --predict: do not record the attempt\n"
    "  -s, --seed N              random seed (default: the scenario's, else 1)\n"
    "      --set NAME.KEY=VALUE  override the scenario (repeatable; see natsim run)\n"
    "  -u, --until TIME          record until this virtual time (e.g. 30s)\n"
    "      --ascii               ASCII only (no arrows or box drawing)\n"
    "      --no-color            no colours (also: NO_COLOR=1)\n"
    "  -h, --help                show this help\n"
    "\n"
    "Needs a terminal of at least 80x24. Exit status: 0 on quit, 2 bad usage or\n"
    "scenario (or standard output is not a terminal), 3 internal error.\n";

struct tui_cli {
	const char *file;
	const char *predict, *student; /* --predict EXERCISE, --student ID */
	bool no_progress;
	struct tui_model_options opt;
	struct tui_config cfg;
	const char **sets;
	size_t n_sets;
};

static int parse_seed(const char *arg, struct tui_cli *c)
{
	uint64_t v;
	if (cli_count_flag("tui", "--seed", "a seed", arg, 0, UINT64_MAX, &v))
		return CLI_EXIT_USAGE;
	c->opt.has_seed = true;
	c->opt.seed = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct tui_cli *c)
{
	static const struct option longopts[] = {
	    {"seed", required_argument, NULL, 's'},  {"set", required_argument, NULL, 'S'},
	    {"until", required_argument, NULL, 'u'}, {"ascii", no_argument, NULL, 'A'},
	    {"no-color", no_argument, NULL, 'C'},    {"predict", required_argument, NULL, 'P'},
	    {"student", required_argument, NULL, 'i'}, {"no-progress", no_argument, NULL, 'N'},
	    {NULL, 0, NULL, 0}};
	int ch, rc = 0;
	opterr = 0;
	optind = 1;
	while (rc == 0 && (ch = getopt_long(argc, argv, ":s:u:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			rc = parse_seed(optarg, c);
			break;
		case 'S':
			c->sets[c->n_sets++] = optarg;
			break;
		case 'u':
			rc = cli_duration_flag("tui", "--until", optarg, &scenario_time_setting,
					       &c->opt.until_ns);
			break;
		case 'A':
			c->cfg.ascii = c->opt.ascii = true;
			break;
		case 'C':
			c->cfg.color = false;
			break;
		case 'P':
			c->predict = optarg;
			break;
		case 'i':
			c->student = optarg;
			if (!*optarg)
				rc = cli_usage_error("tui", "--student: expected an id, got nothing");
			break;
		case 'N':
			c->no_progress = true;
			break;
		default: /* ':' missing value, '?' unknown option */
			return cli_option_error("tui", ch, argv);
		}
	}
	if (rc == 0)
		rc = cli_take_scenario_file("tui", argc, argv, &c->file);
	if (rc == 0 && c->predict && c->file)
		rc = cli_usage_error("tui", "--predict names the exercise; give no other FILE");
	if (rc == 0 && !c->predict && (c->student || c->no_progress))
		rc = cli_usage_error("tui", "--student and --no-progress go with --predict");
	return rc;
}

static struct scenario *load(struct tui_cli *c, struct diag *d)
{
	struct scenario *s = cli_load_scenario_with(c->file, c->sets, c->n_sets, d);
	if (!s)
		diag_print(d, stderr, cli_use_color(stderr));
	return s;
}

static int record_and_show(struct tui_cli *c, struct scenario *s, struct diag *d)
{
	struct tui_model *m = tui_model_new(s, &c->opt);
	if (!m)
		return CLI_EXIT_INTERNAL;
	int rc;
	if (tui_model_run(m, d) != 0) {
		diag_print(d, stderr, cli_use_color(stderr));
		rc = diag_count_errors(d) ? CLI_EXIT_USAGE : CLI_EXIT_INTERNAL;
	} else {
		rc = tui_run(m, &c->cfg);
		if (rc < 0)
			rc = CLI_EXIT_INTERNAL;
	}
	tui_model_free(m);
	return rc;
}

/* ---- predict mode ---- */

struct predict {
	const char *file; /* the exercise's path: its progress key */
	bool ascii, no_progress;
	struct exercise *x;
	struct exercise_run run;
	struct tui_quiz_question *qs;
	char (*how)[256];  /* one per question */
	char *instructions; /* the exercise's, its lines joined by blanks */
};

/* How to answer `q`, as `natsim exercise` says it. */
static void how_to_answer(const struct question *q, char *out, size_t size)
{
	const char *const *c = question_choices(q->kind);
	size_t n;
	if (q->kind == QUESTION_PORT) {
		snprintf(out, size, "answer: a port number");
		return;
	}
	if (q->kind == QUESTION_TIMEOUT || q->kind == QUESTION_WHEN) {
		snprintf(out, size, "answer: a number of seconds (within %g s), or '%s'",
			 (double)q->tolerance_ns / 1e9, q->kind == QUESTION_WHEN ? "never" : "none");
		return;
	}
	n = (size_t)snprintf(out, size, "%s",
			     q->kind == QUESTION_DROP ? "answer: NODE REASON (e.g. office "
							"nat-filter), or 'delivered'; reasons:"
						      : "answer one of:");
	for (; c && *c && n < size; c++)
		n += (size_t)snprintf(out + n, size - n, " %s", *c);
}

/* A finished attempt goes into the progress, as with natsim exercise; a
 * problem there is a line in the marks, not a failure. */
static int note_progress(const struct predict *p, int score, struct tui_lines *out)
{
	char notice[PROGRESS_NOTICE_MAX];
	if (p->no_progress)
		return 0;
	progress_record_attempt(p->file, score, (int)(EXERCISE_POINTS * p->x->n_questions),
				time(NULL), notice);
	return notice[0] ? tui_lines_addf(out, TUI_STYLE_DIM, "progress: %s", notice) : 0;
}

static int mark_lines(const struct predict *p, const struct given *given,
		      const struct mark *marks, struct tui_lines *out)
{
	for (size_t i = 0; i < p->x->n_questions; i++) {
		const struct question *q = &p->x->questions[i];
		const struct answer *a = &p->run.answers[i];
		char said[200] = "";
		if (!given[i].answered)
			snprintf(said, sizeof(said), "; you did not answer");
		else if (!marks[i].right)
			snprintf(said, sizeof(said), "; you said: %s", given[i].text);
		if (tui_lines_addf(out, marks[i].right ? TUI_STYLE_GOOD : TUI_STYLE_DROP, "%s %s. %s",
				   marks[i].right ? (p->ascii ? "[ok]" : "\u2713") : (p->ascii ? "[x]" : "\u2717"),
				   q->id, q->text) != 0 ||
		    tui_lines_addf(out, TUI_STYLE_PLAIN, "     answer: %s%s  (%d/%d points%s)", a->text,
				   said, marks[i].points, EXERCISE_POINTS,
				   given[i].hints_used ? ", hints opened" : "") != 0 ||
		    (a->packet && tui_lines_addf(out, TUI_STYLE_DIM,
						 "     decided by packet #%llu (filter the timeline: /#%llu)",
						 (unsigned long long)a->packet,
						 (unsigned long long)a->packet) != 0))
			return -1;
	}
	return 0;
}

/* The quiz's marker: app/lesson's reading and marking of answers text. */
static int mark_answers(void *ctx, const char *answers, size_t len, struct tui_lines *out,
			char *summary, size_t size)
{
	const struct predict *p = ctx;
	size_t n = p->x->n_questions, right = 0;
	struct given *given = calloc(n + 1, sizeof(*given));
	struct mark *marks = calloc(n + 1, sizeof(*marks));
	struct diag *d = diag_new();
	int rc = -1;
	if (given && marks && d &&
	    mark_read_answers(p->x, answers, len, "<your answers>", given, d) == 0) {
		int total = mark_all(p->x, p->run.answers, given, marks);
		for (size_t i = 0; i < n; i++)
			right += marks[i].right;
		snprintf(summary, size, "Score: %d/%d (%zu of %zu right)", total,
			 (int)(EXERCISE_POINTS * n), right, n);
		rc = mark_lines(p, given, marks, out) || note_progress(p, total, out) ? -1 : 0;
	}
	diag_free(d);
	free(given);
	free(marks);
	return rc;
}

/* The record at which question `i` is asked, or TUI_NONE (before the run):
 * a drop question when its decisive packet is sent, a question about a
 * table at a time at the last record before that time. */
static size_t question_moment(const struct predict *p, size_t i)
{
	const struct question *q = &p->x->questions[i];
	const struct trace_log *log = p->run.log;
	size_t n = trace_log_count(log), last = 0;
	if (q->kind == QUESTION_DROP && p->run.answers[i].packet) {
		for (size_t r = 0; r < n; r++) {
			const struct trace_record *rec = trace_log_get(log, r);
			if (rec->kind == TRACE_PACKET &&
			    rec->u.packet.packet_id == p->run.answers[i].packet)
				return r;
		}
		return TUI_NONE;
	}
	if (q->kind != QUESTION_MAPPING && q->kind != QUESTION_TIMEOUT &&
	    q->kind != QUESTION_CONNTRACK)
		return TUI_NONE;
	for (size_t r = 0; r < n && trace_log_get(log, r)->time < q->at_ns; r++)
		last = r;
	return last;
}

/* Is `a` asked after `b`? Questions before the run come first. */
static bool asked_later(const struct tui_quiz_question *a, const struct tui_quiz_question *b)
{
	if (a->moment == TUI_NONE)
		return false;
	return b->moment == TUI_NONE || a->moment > b->moment;
}

/* Asking order: the questions before the run in file order, then the
 * others by moment (file order among equal moments): an insertion sort,
 * which keeps equal ones in order. */
static void order_questions(struct tui_quiz_question *qs, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct tui_quiz_question q = qs[i];
		size_t j = i;
		for (; j > 0 && asked_later(&qs[j - 1], &q); j--)
			qs[j] = qs[j - 1];
		qs[j] = q;
	}
}

/* The instructions, then "In your world: NAME.KEY = VALUE." for each
 * variant the teacher shows (`... shown`), as natsim exercise prints them. */
static char *instructions_with_shown_variants(const struct exercise *x, const char *student)
{
	size_t cap = (x->instructions ? strlen(x->instructions) : 0) + 1;
	for (size_t i = 0; i < x->n_variants; i++)
		cap += 32 + strlen(x->variants[i].setting) +
		       strlen(x->variants[i].values[exercise_variant_pick(&x->variants[i], student)]);
	char *out = malloc(cap);
	if (out == NULL)
		return NULL;
	size_t n = (size_t)snprintf(out, cap, "%s", x->instructions ? x->instructions : "");
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		if (v->shown)
			n += (size_t)snprintf(out + n, cap - n, "%sIn your world: %s = %s.",
					      n ? " " : "", v->setting,
					      v->values[exercise_variant_pick(v, student)]);
	}
	return out;
}

static int predict_questions(struct predict *p)
{
	size_t n = p->x->n_questions;
	p->qs = calloc(n + 1, sizeof(*p->qs));
	p->how = calloc(n + 1, sizeof(*p->how));
	p->instructions = instructions_with_shown_variants(p->x, p->run.student);
	if (!p->qs || !p->how || !p->instructions)
		return -1;
	for (char *c = p->instructions; c && *c; c++)
		if (*c == '\n')
			*c = ' ';
	for (size_t i = 0; i < n; i++) {
		const struct question *q = &p->x->questions[i];
		how_to_answer(q, p->how[i], sizeof(p->how[i]));
		p->qs[i] = (struct tui_quiz_question){q->id,
						      q->text,
						      p->how[i],
						      (const char *const *)q->hints,
						      q->n_hints,
						      question_moment(p, i)};
	}
	order_questions(p->qs, n);
	return 0;
}

static void predict_free(struct predict *p)
{
	exercise_run_free(&p->run);
	exercise_free(p->x);
	free(p->qs);
	free(p->how);
	free(p->instructions);
}

/* The model adopts the run's log: the TUI shows the very run the answers
 * were computed from. */
static int predict_show(struct tui_cli *c, struct predict *p)
{
	struct tui_model *m = tui_model_new(p->run.scenario, &c->opt);
	if (!m || predict_questions(p) != 0 || tui_model_adopt_log(m, p->run.log) != 0) {
		tui_model_free(m);
		return CLI_EXIT_INTERNAL;
	}
	p->run.log = NULL; /* the model's now */
	struct tui_quiz quiz;
	tui_quiz_init(&quiz, p->qs, p->x->n_questions, mark_answers, p);
	quiz.instructions = p->instructions;
	c->cfg.quiz = &quiz;
	int rc = tui_run(m, &c->cfg);
	c->cfg.quiz = NULL;
	tui_quiz_fini(&quiz);
	tui_model_free(m);
	return rc < 0 ? CLI_EXIT_INTERNAL : rc;
}

static int run_predict(struct tui_cli *c, struct diag *d)
{
	char path[4096];
	struct predict p = {.ascii = c->cfg.ascii, .no_progress = c->no_progress};
	p.file = cli_find_exercise(c->predict, path, sizeof(path));
	struct exercise_options opt = {.student = c->student, .has_seed = c->opt.has_seed,
				       .seed = c->opt.seed, .sets = c->sets, .n_sets = c->n_sets};
	int rc = CLI_EXIT_USAGE;
	p.x = exercise_load(p.file, d);
	if (p.x && exercise_run(p.x, &opt, &p.run, d) == 0)
		rc = predict_show(c, &p);
	else if (diag_count_errors(d) == 0)
		rc = CLI_EXIT_INTERNAL;
	if (diag_count(d))
		diag_print(d, stderr, cli_use_color(stderr));
	predict_free(&p);
	return rc;
}

int cmd_tui_main(int argc, char **argv)
{
	struct tui_cli c = {.cfg = {.ascii = !cli_use_utf8(), .color = true}};
	c.opt.until_ns = SCENARIO_UNSET;
	c.opt.ascii = c.cfg.ascii;
	const char *no_color = getenv("NO_COLOR");
	c.cfg.color = !(no_color && no_color[0]);
	c.sets = calloc((size_t)argc + 1, sizeof(*c.sets));
	struct diag *d = diag_new();
	int rc = (!c.sets || !d) ? CLI_EXIT_INTERNAL : parse_args(argc, argv, &c);
	if (rc == 0 && !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "natsim tui: standard output is not a terminal; try natsim run\n");
		rc = CLI_EXIT_USAGE;
	}
	if (rc == 0 && c.predict && c.opt.until_ns != SCENARIO_UNSET)
		rc = cli_usage_error("tui", "--until: the exercise decides how long its world runs");
	if (rc == 0 && c.predict) {
		rc = run_predict(&c, d);
		diag_free(d);
		free(c.sets);
		return rc;
	}
	struct scenario *s = rc == 0 ? load(&c, d) : NULL;
	if (rc == 0 && !s)
		rc = CLI_EXIT_USAGE;
	if (rc == 0)
		rc = record_and_show(&c, s, d);
	scenario_free(s);
	diag_free(d);
	free(c.sets);
	return rc;
}
