/*
 * handout.h - an exercise as a printable page: one self-contained HTML file
 * (no external assets) with the title, the instructions, the world as an
 * inline SVG picture, and the questions with their choices and a blank for
 * each answer. A4 print CSS keeps every question on one page.
 *
 * The student's sheet gives nothing away: the picture shows names and
 * addresses only (no NAT behaviour, no outcome, no table), and no answer,
 * hint, variant value or teacher note is written. The teacher's sheet adds,
 * per question, the answer computed for that student's world (exercise_run,
 * answer.h), the hints and the note, then the variant values the student
 * got (with all the values each variant takes) and the teacher's notes.
 *
 * Every text from the exercise file is HTML-escaped.
 */
#ifndef NATSIM_APP_LESSON_HANDOUT_H
#define NATSIM_APP_LESSON_HANDOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "app/lesson/answer.h"
#include "app/lesson/exercise.h"

struct scenario;

/* The world of `s` as an SVG element ("<svg ...>...</svg>", no XML prolog),
 * laid out by graphviz: the internet, the coordinator, each NAT with its
 * public address and each host with its address, linked to what they sit
 * behind. Names and addresses only. Returns a malloc'd string (the caller
 * frees it), or NULL with a sentence in err[err_size]. */
char *handout_world_svg(const struct scenario *s, char *err, size_t err_size);

/* Write the page for exercise `x` as run `r` (the student's world; its
 * student id, if any, is printed on the sheet). `teacher` adds the answer
 * key, hints, variants and notes. Returns 0, or -1 with a sentence in
 * err[err_size] (the picture could not be drawn, out of memory, a write
 * error on `out`). */
int handout_write(FILE *out, const struct exercise *x, const struct exercise_run *r, bool teacher,
		  char *err, size_t err_size);

/* `s` with &, <, >, " and ' escaped, for HTML text and attribute values. */
void handout_put_escaped(FILE *out, const char *s);

#endif
