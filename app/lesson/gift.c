/*
 * gift.c - Moodle GIFT export (see gift.h).
 *
 * GIFT (Moodle's "General Import Format Technology") is plain text: a
 * question is "::TITLE:: TEXT {ANSWERS}", questions are separated by a blank
 * line, "//" starts a comment line, and the characters ~ = # { } : are
 * written with a backslash before them wherever they are text.
 */
#include "app/lesson/gift.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/lang/scenario.h"

void gift_put_escaped(FILE *out, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\n') {
			fputs("\\n", out);
			continue;
		}
		if (strchr("\\~=#{}:", *s) != NULL)
			fputc('\\', out);
		fputc(*s, out);
	}
}

static bool has_id(const char *student)
{
	return student != NULL && *student != '\0';
}

/* "=right" or "~wrong" on a line of its own. */
static void put_option(FILE *out, const char *text, bool right)
{
	fputs(right ? "\t=" : "\t~", out);
	gift_put_escaped(out, text);
	fputc('\n', out);
}

static bool same_words(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* Multiple choice over `choices` (NULL-terminated); the right answer is
 * added first when it is none of them (a run can end "in flight"). */
static void put_multiple_choice(FILE *out, const char *const *choices, const char *right)
{
	bool listed = false;
	for (const char *const *c = choices; *c != NULL; c++)
		listed = listed || same_words(*c, right);
	fputs("{\n", out);
	if (!listed)
		put_option(out, right, true);
	for (const char *const *c = choices; *c != NULL; c++)
		put_option(out, *c, same_words(*c, right));
	fputs("}\n", out);
}

/* The drop options: "delivered", and for each node between the sender and
 * `to` on the receiving side (the NATs `to` sits behind, innermost last,
 * then `to`) the reasons such a node can drop for. */
#define GIFT_MAX_DROP_OPTIONS 40

static const char *behind_of(const struct scenario *s, const char *name)
{
	for (size_t i = 0; s != NULL && i < s->n_hosts; i++)
		if (strcmp(s->hosts[i].name, name) == 0)
			return s->hosts[i].is_public ? NULL : s->hosts[i].behind.name;
	for (size_t i = 0; s != NULL && i < s->n_nats; i++)
		if (strcmp(s->nats[i].name, name) == 0)
			return s->nats[i].behind.name;
	return NULL;
}

static size_t drop_options(const struct scenario *s, const char *to, char (*opt)[96])
{
	static const char *const nat_reasons[] = {"nat-filter", "nat-no-mapping"};
	static const char *const host_reasons[] = {"firewall", "no-socket"};
	const char *chain[8];
	size_t n_chain = 0, n = 0;
	for (const char *at = behind_of(s, to); at != NULL && n_chain < 8; at = behind_of(s, at))
		chain[n_chain++] = at;
	while (n_chain > 0) {
		n_chain--;
		for (size_t k = 0; k < 2; k++)
			snprintf(opt[n++], 96, "%s %s", chain[n_chain], nat_reasons[k]);
	}
	for (size_t k = 0; k < 2; k++)
		snprintf(opt[n++], 96, "%s %s", to, host_reasons[k]);
	snprintf(opt[n++], 96, "delivered");
	return n;
}

static void put_drop_choice(FILE *out, const struct question *q, const struct scenario *s,
			    const char *right)
{
	char opt[GIFT_MAX_DROP_OPTIONS][96];
	const char *list[GIFT_MAX_DROP_OPTIONS + 1];
	size_t n = drop_options(s, q->b, opt);
	for (size_t i = 0; i < n; i++)
		list[i] = opt[i];
	list[n] = NULL;
	put_multiple_choice(out, list, right);
}

/* A port answer is a number, or "none" when the NAT made no mapping. */
static bool is_port_number(const char *text)
{
	char *end;
	long v = strtol(text, &end, 10);
	return *text >= '0' && *text <= '9' && *end == '\0' && v >= 0 && v <= 65535;
}

static void put_short_answer(FILE *out, const char *right)
{
	fputs("{=", out);
	gift_put_escaped(out, right);
	fputs("}\n", out);
}

void gift_write_question(FILE *out, const struct question *q, const struct scenario *s,
			 const struct answer *a, const char *student)
{
	const char *const *choices = question_choices(q->kind);
	fputs("::", out);
	gift_put_escaped(out, q->id);
	fputs(has_id(student) ? "-student" : "-reference", out);
	gift_put_escaped(out, has_id(student) ? student : "");
	fputs(":: ", out);
	if (has_id(student)) {
		fputs("[student ", out);
		gift_put_escaped(out, student);
		fputs("] ", out);
	}
	gift_put_escaped(out, q->text);
	fputc(' ', out);
	switch (q->kind) {
	case QUESTION_PORT:
		if (is_port_number(a->text))
			fprintf(out, "{#%s}\n", a->text);
		else
			put_short_answer(out, a->text);
		break;
	case QUESTION_DROP:
		put_drop_choice(out, q, s, a->text);
		break;
	default:
		if (choices != NULL)
			put_multiple_choice(out, choices, a->text);
		else
			put_short_answer(out, a->text);
		break;
	}
	fputc('\n', out);
}

/* "// student 3: office.preset = full-cone" */
static void put_student_comment(FILE *out, const struct exercise *x, const struct exercise_run *r)
{
	fprintf(out, "// student %s", has_id(r->student) ? r->student : "(reference)");
	for (size_t i = 0; i < x->n_variants; i++) {
		const struct variant *v = &x->variants[i];
		size_t n_picks = sizeof(r->variant_pick) / sizeof(r->variant_pick[0]);
		size_t pick = i < n_picks ? r->variant_pick[i] : 0;
		fprintf(out, "%s %s = %s", i == 0 ? ":" : ",", v->setting,
			pick < v->n_values ? v->values[pick] : "?");
	}
	fputc('\n', out);
}

/* "course/01-hole-punch.nsim" -> "01-hole-punch" */
static void put_category(FILE *out, const struct exercise *x)
{
	const char *name = x->filename != NULL ? x->filename : "exercise";
	const char *slash = strrchr(name, '/');
	name = slash != NULL ? slash + 1 : name;
	size_t n = strlen(name);
	if (n > 5 && strcmp(name + n - 5, ".nsim") == 0)
		n -= 5;
	char *base = strndup(name, n);
	fputs("$CATEGORY: natsim/", out);
	gift_put_escaped(out, base != NULL ? base : "exercise");
	fputs("\n\n", out);
	free(base);
}

int gift_export(FILE *out, const struct exercise *x, const char *const *students, size_t n_students,
		const struct exercise_options *base, struct diag *d)
{
	fprintf(out,
		"// natsim exercise %s: %zu question(s) for each of %zu student(s),\n"
		"// answers computed by running each student's world.\n",
		x->filename != NULL ? x->filename : "", x->n_questions, n_students);
	put_category(out, x);
	for (size_t k = 0; k < n_students; k++) {
		struct exercise_options opt = *base;
		struct exercise_run run = {0};
		opt.student = students[k];
		if (exercise_run(x, &opt, &run, d) != 0) {
			exercise_run_free(&run);
			return -1;
		}
		put_student_comment(out, x, &run);
		for (size_t i = 0; i < x->n_questions; i++)
			gift_write_question(out, &x->questions[i], run.scenario, &run.answers[i],
					    students[k]);
		exercise_run_free(&run);
	}
	return ferror(out) ? -1 : 0;
}
