/*
 * mark.h - a student's answers, read from text, and their marks.
 *
 * The answers format (a file, stdin, or what `natsim exercise` collects when
 * it asks at a terminal), one per line, '#' starting a comment:
 *
 *   q1 = relayed
 *   hint q2           # the student opened one hint of q2 (opening costs)
 *   q2 = office nat-filter
 *
 * Each question is worth EXERCISE_POINTS; each hint opened costs an equal
 * share (points / (hints + 1)), so a question answered right after every
 * hint still earns something. A wrong or missing answer earns 0.
 */
#ifndef NATSIM_APP_LESSON_MARK_H
#define NATSIM_APP_LESSON_MARK_H

#include <stdbool.h>
#include <stddef.h>

#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"

struct diag;

struct given {
	char text[160]; /* the answer given, or "" if none */
	bool answered;
	size_t hints_used; /* how many hints were opened */
	int line;	   /* where it was given in the answers text, 0 if none */
};

/* Read answers for `x` from `text` (named `filename` in diagnostics). An
 * unknown question id, a line that is not "ID = ANSWER" or "hint ID", an
 * answer given twice, more hints than the question has: each is an error in
 * `d`. Returns the number of errors; `out` has one entry per question. */
size_t mark_read_answers(const struct exercise *x, const char *text, size_t len,
			 const char *filename, struct given *out, struct diag *d);

struct mark {
	bool right;
	int points; /* of EXERCISE_POINTS */
};

/* Mark each given answer against the computed ones. Returns the total. */
int mark_all(const struct exercise *x, const struct answer *right, const struct given *given,
	     struct mark *out);

/* The points a right answer earns after `hints_used` of `n_hints` hints. */
int mark_points(size_t n_hints, size_t hints_used);

#endif
