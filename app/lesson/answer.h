/*
 * answer.h - the answer key, computed: run the exercise's world (with a
 * student's variants) and read each question's answer off what happened.
 *
 * Nobody writes an answer down, so the key is right by construction, stays
 * right when the teacher edits the world, and differs per student where a
 * variant changes the world. Each answer keeps the packet that decided it
 * (when one did), so the explanation is that packet's hop-by-hop story
 * (viz/why), not a canned sentence.
 */
#ifndef NATSIM_APP_LESSON_ANSWER_H
#define NATSIM_APP_LESSON_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/lesson/exercise.h"
#include "app/world/runner.h"

struct diag;
struct scenario;
struct trace_log;

struct answer {
	char text[160];	 /* canonical: "direct", "office nat-filter", "20001", "symmetric", "yes" */
	uint64_t packet; /* the decisive packet's id for `natsim why`, or 0 */
};

/* One run of an exercise for one student. */
struct exercise_run {
	const char *student;	   /* borrowed; NULL = the reference world */
	size_t variant_pick[16];   /* the value each variant took (first 16) */
	struct scenario *scenario; /* the world as this student gets it */
	struct trace_log *log;	   /* every record of the run */
	struct run_result result;
	struct answer *answers; /* one per question, in file order */
};

/* Build the student's world, run it, and compute every answer. Returns 0,
 * or -1 with diagnostics in `d` (the scenario part has errors, a question
 * names something that is not there, a variant value or a --set is refused,
 * or memory ran out). */
struct exercise_options {
	const char *student; /* NULL = the reference world */
	bool has_seed;	     /* as natsim run's --seed */
	uint64_t seed;
	const char *const *sets; /* --set NAME.KEY=VALUE, applied after the variants */
	size_t n_sets;
};
int exercise_run(const struct exercise *x, const struct exercise_options *opt,
		 struct exercise_run *out, struct diag *d);
void exercise_run_free(struct exercise_run *r);

/* The words a student may answer with, for kinds with a fixed set (outcome,
 * classify, arrives; drop offers the reasons): NULL-terminated, or NULL. */
const char *const *question_choices(enum question_kind k);

/* Does `given` answer question `q` whose right answer is `right`? Case and
 * surrounding blanks do not matter; a drop answer needs both the node and
 * the reason; a port is compared as a number. */
bool answer_matches(const struct question *q, const char *right, const char *given);

#endif
