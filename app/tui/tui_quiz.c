/*
 * tui_quiz.c - the question pane of predict mode (tui_quiz.h).
 */
#include "app/tui/tui_quiz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tui_quiz_init(struct tui_quiz *z, const struct tui_quiz_question *q, size_t n,
		   tui_quiz_marker mark, void *ctx)
{
	memset(z, 0, sizeof(*z));
	z->q = q;
	z->n = n;
	z->mark = mark;
	z->ctx = ctx;
}

void tui_quiz_fini(struct tui_quiz *z)
{
	free(z->answers);
	z->answers = NULL;
	tui_lines_fini(&z->result);
}

/* Append one line to the answers text. Returns false when out of memory. */
static bool note(struct tui_quiz *z, const char *fmt, const char *id, const char *text)
{
	size_t need = strlen(fmt) + strlen(id) + strlen(text) + 1;
	if (z->len + need > z->cap) {
		size_t cap = (z->cap + need) * 2;
		char *a = realloc(z->answers, cap);
		if (!a)
			return false;
		z->answers = a;
		z->cap = cap;
	}
	z->len += (size_t)snprintf(z->answers + z->len, z->cap - z->len, fmt, id, text);
	return true;
}

/* All answered: hand the text to the marker once. */
static void finish(struct tui_quiz *z)
{
	z->marked = true;
	if (!z->mark || z->mark(z->ctx, z->answers ? z->answers : "", z->len, &z->result,
				z->summary, sizeof(z->summary)) != 0)
		snprintf(z->summary, sizeof(z->summary), "the answers could not be marked");
}

/* The line as the answer: '#' would start a comment in the answers text
 * and a newline a new line, so neither is ever typed (see tui_quiz_key). */
static void submit(struct tui_quiz *z)
{
	const struct tui_quiz_question *q = &z->q[z->at];
	size_t a = 0, b = z->edit_len;
	while (a < b && z->edit[a] == ' ')
		a++;
	while (b > a && z->edit[b - 1] == ' ')
		b--;
	z->edit[b] = '\0';
	if (a < b && !note(z, "%s = %s\n", q->id, z->edit + a))
		return;
	z->at++;
	z->arrived = false;
	z->hints_open = 0;
	z->edit_len = 0;
	z->edit[0] = '\0';
	if (z->at == z->n)
		finish(z);
}

static void erase_char(struct tui_quiz *z)
{
	/* a whole UTF-8 character: its continuation bytes, then its lead */
	while (z->edit_len > 0 && ((unsigned char)z->edit[z->edit_len - 1] & 0xC0) == 0x80)
		z->edit_len--;
	if (z->edit_len > 0)
		z->edit_len--;
	z->edit[z->edit_len] = '\0';
}

bool tui_quiz_key(struct tui_quiz *z, int ch)
{
	if (!tui_quiz_asking(z))
		return false;
	const struct tui_quiz_question *q = &z->q[z->at];
	if (ch == TUI_QUIZ_ENTER || ch == '\r') {
		submit(z);
	} else if (ch == TUI_QUIZ_BACKSPACE || ch == '\b') {
		erase_char(z);
	} else if (ch == '?' && z->edit_len == 0) {
		if (z->hints_open >= q->n_hints || !note(z, "hint %s%s\n", q->id, ""))
			return false;
		z->hints_open++;
	} else if (ch >= ' ' && ch <= 0xFF && ch != 0x7F && ch != '#' &&
		   z->edit_len < TUI_QUIZ_EDIT_MAX) {
		z->edit[z->edit_len++] = (char)ch;
		z->edit[z->edit_len] = '\0';
	} else {
		return false;
	}
	return true;
}

bool tui_quiz_done(const struct tui_quiz *z)
{
	return z->at >= z->n && z->marked;
}

bool tui_quiz_asking(const struct tui_quiz *z)
{
	return z->at < z->n && (z->q[z->at].moment == TUI_NONE || z->arrived);
}

size_t tui_quiz_limit(const struct tui_quiz *z)
{
	return z->at < z->n ? z->q[z->at].moment : TUI_NONE;
}

void tui_quiz_arrive(struct tui_quiz *z)
{
	if (z->at < z->n && z->q[z->at].moment != TUI_NONE)
		z->arrived = true;
}

static int asking_lines(const struct tui_quiz *z, int width, struct tui_lines *out)
{
	const struct tui_quiz_question *q = &z->q[z->at];
	char line[512];
	snprintf(line, sizeof(line), "Question %zu of %zu (%s): %s", z->at + 1, z->n, q->id,
		 q->moment == TUI_NONE ? "predict, then the run shows"
				       : "the run stops here: what happens next?");
	int rc = tui_lines_wrap(out, TUI_STYLE_HEADER, line, width, 0) ||
		 tui_lines_wrap(out, TUI_STYLE_PLAIN, q->text, width, 2) ||
		 (q->how && tui_lines_wrap(out, TUI_STYLE_DIM, q->how, width, 2));
	for (size_t h = 0; rc == 0 && h < z->hints_open; h++) {
		snprintf(line, sizeof(line), "hint %zu: %s", h + 1, q->hints[h]);
		rc = tui_lines_wrap(out, TUI_STYLE_NOTE, line, width, 2);
	}
	snprintf(line, sizeof(line), "your answer%s: %s_",
		 z->hints_open < q->n_hints ? " (? for a hint, it costs points)" : "", z->edit);
	rc = rc || tui_lines_wrap(out, TUI_STYLE_GOOD, line, width, 2) ||
	     tui_lines_wrap(out, TUI_STYLE_DIM,
			    q->moment == TUI_NONE
				? "Enter gives the answer (empty: skip); the timeline, tables and "
				  "packets open when these questions are answered."
				: "Enter gives the answer (empty: skip); then the run goes on.",
			    width, 0);
	if (rc == 0 && z->instructions)
		rc = tui_lines_wrap(out, TUI_STYLE_PLAIN, " ", width, 0) ||
		     tui_lines_wrap(out, TUI_STYLE_PLAIN, z->instructions, width, 0);
	return rc ? -1 : 0;
}

int tui_quiz_lines(const struct tui_quiz *z, int width, struct tui_lines *out)
{
	tui_lines_clear(out);
	if (z->at < z->n)
		return asking_lines(z, width, out);
	for (size_t i = 0; i < z->result.n; i++)
		if (tui_lines_wrap(out, z->result.v[i].style, z->result.v[i].text, width, 5) != 0)
			return -1;
	return tui_lines_wrap(out, TUI_STYLE_HEADER, z->summary, width, 0);
}
