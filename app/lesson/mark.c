/*
 * mark.c - reading a student's answers and marking them (mark.h).
 */
#include "app/lesson/mark.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/lang/diag.h"

int mark_points(size_t n_hints, size_t hints_used)
{
	if (hints_used > n_hints)
		hints_used = n_hints;
	int cost = EXERCISE_POINTS / (int)(n_hints + 1);
	return EXERCISE_POINTS - cost * (int)hints_used;
}

struct reader {
	const struct exercise *x;
	const char *file;
	int line;
	const char *src;
	size_t src_len;
	struct diag *d;
	size_t errors;
};

static void read_error(struct reader *r, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void read_error(struct reader *r, size_t col, const char *fmt, ...)
{
	struct diag_span at = {r->file, r->line, (int)col + 1, 1, r->src, r->src_len};
	va_list ap;
	va_start(ap, fmt);
	diag_addv(r->d, DIAG_ERROR, &at, fmt, ap);
	va_end(ap);
	r->errors++;
}

/* The index of question `id` (len bytes), or -1 having said so. */
static long question_index(struct reader *r, const char *id, size_t len, size_t col)
{
	char name[EXERCISE_ID_MAX + 1];
	if (len > EXERCISE_ID_MAX)
		len = EXERCISE_ID_MAX;
	memcpy(name, id, len);
	name[len] = 0;
	for (size_t i = 0; i < r->x->n_questions; i++)
		if (strcmp(r->x->questions[i].id, name) == 0)
			return (long)i;
	read_error(r, col, "no question '%s' in this exercise", name);
	return -1;
}

static size_t skip_blanks(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
		i++;
	return i;
}

static size_t word_end(const char *s, size_t i, size_t n)
{
	while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-' || s[i] == '_'))
		i++;
	return i;
}

static void read_hint(struct reader *r, size_t i, struct given *out)
{
	const char *s = r->src;
	size_t n = r->src_len, from = skip_blanks(s, i, n), to = word_end(s, from, n);
	if (from == to) {
		read_error(r, from, "expected a question id after 'hint'");
		return;
	}
	long q = question_index(r, s + from, to - from, from);
	if (q < 0)
		return;
	if (skip_blanks(s, to, n) != n) {
		read_error(r, skip_blanks(s, to, n), "unexpected text after 'hint %s'",
			   r->x->questions[q].id);
		return;
	}
	if (out[q].hints_used == r->x->questions[q].n_hints) {
		read_error(r, from, "question '%s' has no more hints to open",
			   r->x->questions[q].id);
		return;
	}
	out[q].hints_used++;
}

static void read_line(struct reader *r, struct given *out)
{
	const char *s = r->src;
	size_t n = r->src_len;
	const char *hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	size_t i = skip_blanks(s, 0, n);
	if (i == n)
		return;
	size_t id_end = word_end(s, i, n);
	if (id_end - i == 4 && memcmp(s + i, "hint", 4) == 0 && id_end < n && s[id_end] != '=') {
		read_hint(r, id_end, out);
		return;
	}
	size_t eq = skip_blanks(s, id_end, n);
	if (id_end == i || eq == n || s[eq] != '=') {
		read_error(r, id_end == i ? i : eq, "expected 'ID = ANSWER' or 'hint ID'");
		return;
	}
	long q = question_index(r, s + i, id_end - i, i);
	if (q < 0)
		return;
	if (out[q].answered) {
		read_error(r, i, "question '%s' is already answered on line %d",
			   r->x->questions[q].id, out[q].line);
		return;
	}
	size_t a = skip_blanks(s, eq + 1, n);
	if (a == n) {
		read_error(r, eq + 1, "expected an answer after '='");
		return;
	}
	snprintf(out[q].text, sizeof(out[q].text), "%.*s", (int)(n - a), s + a);
	out[q].answered = true;
	out[q].line = r->line;
}

size_t mark_read_answers(const struct exercise *x, const char *text, size_t len,
			 const char *filename, struct given *out, struct diag *d)
{
	struct reader r = {.x = x, .file = filename, .d = d};
	memset(out, 0, x->n_questions * sizeof(*out));
	for (size_t at = 0; at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		r.line++;
		r.src = text + at;
		r.src_len = n;
		if (memchr(r.src, 0, n) != NULL)
			read_error(&r, 0, "this line holds a NUL byte");
		else
			read_line(&r, out);
		at += n + 1;
	}
	return r.errors;
}

int mark_all(const struct exercise *x, const struct answer *right, const struct given *given,
	     struct mark *out)
{
	int total = 0;
	for (size_t i = 0; i < x->n_questions; i++) {
		const struct question *q = &x->questions[i];
		out[i].right = given[i].answered && answer_matches(q, right[i].text, given[i].text);
		out[i].points = out[i].right ? mark_points(q->n_hints, given[i].hints_used) : 0;
		total += out[i].points;
	}
	return total;
}
