/*
 * gift.h - an exercise's questions in Moodle's GIFT format, one question per
 * question and student, each with the answer computed for that student's
 * world (exercise_run, answer.h), so a teacher imports the whole class into
 * the question bank of the platform the school already uses.
 *
 * Per student K and question ID, a question titled "ID-studentK":
 *   outcome, classify, arrives: multiple choice, the computed answer marked
 *       with '=' and the other words of question_choices() with '~';
 *   drop: multiple choice of "NODE REASON" options (the NATs in front of
 *       the receiver and the receiver itself, with the reasons those can
 *       have, and "delivered"), the computed one marked;
 *   port: numerical ({#5000}), or short answer when there was no mapping;
 *   any other kind: short answer ({=TEXT}).
 * The text starts with "[student K]", so a student knows which world
 * (`natsim exercise FILE --student K`) the question is about. Every text
 * from the file has GIFT's special characters escaped (\ ~ = # { } :, and
 * a line break as \n). A comment line before each student's questions
 * names the variant values that student got.
 */
#ifndef NATSIM_APP_LESSON_GIFT_H
#define NATSIM_APP_LESSON_GIFT_H

#include <stddef.h>
#include <stdio.h>

#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"

struct diag;
struct scenario;

/* `s` with GIFT's special characters escaped. */
void gift_put_escaped(FILE *out, const char *s);

/* Question `q` for `student` (NULL or "": the reference world, titled
 * "ID-reference"), whose world is `s` and computed answer `a`. */
void gift_write_question(FILE *out, const struct question *q, const struct scenario *s,
			 const struct answer *a, const char *student);

/* The whole export: a category line ("$CATEGORY: natsim/NAME", NAME the
 * file's base name), then for each of the `n_students` ids every question,
 * each student's world run with `base` (seed, --set) and its id. Returns 0,
 * or -1 with diagnostics in `d` (a run refused: see exercise_run), or -1
 * with none when out of memory or on a write error. */
int gift_export(FILE *out, const struct exercise *x, const char *const *students, size_t n_students,
		const struct exercise_options *base, struct diag *d);

#endif
