/*
 * grade.h - grading a build task: a student's world against the key.
 *
 * For each submission: parse it as a scenario (a file that does not parse is
 * "broken": its first error, file:line:col, and 0 points); count what the
 * structural checks count; append the key's expectations to the student's
 * text as `expect` lines, parse that, run it (app/world's runner) and read
 * each check's verdict off the run. A condition the submission cannot carry
 * (it names a host or a NAT the submission lacks) is "a key that does not
 * fit": that check gets 0 points and the reason, pointing at the key's line,
 * and the other checks are graded as usual.
 *
 * Nothing here prints; the words of a failed check are the runner's (what
 * was expected, and what happened instead) or, for the structural checks,
 * made here from the counts.
 */
#ifndef NATSIM_APP_LESSON_GRADE_H
#define NATSIM_APP_LESSON_GRADE_H

#include <stdbool.h>
#include <stddef.h>

#include "app/lesson/key.h"

struct diag;

enum grade_status {
	GRADE_GRADED, /* every check was decided */
	GRADE_BROKEN, /* the submission does not parse or its world cannot be built: 0 points */
	GRADE_MISFIT, /* some check named what the submission lacks (those score 0) */
};

#define GRADE_WHY_MAX 600

struct grade_check {
	bool passed;
	bool fits;		 /* false: the key does not fit the submission here */
	char why[GRADE_WHY_MAX]; /* a failure in words; "" when passed */
};

struct grade {
	char *file; /* the submission's name, as given */
	enum grade_status status;
	char error[GRADE_WHY_MAX]; /* broken: "file:line:col: message" */
	int score, total;
	struct grade_check *checks; /* one per key check, in the key's order */
};

/* Grade the text of one submission (len bytes) named `name`. Returns 0 and
 * fills *g (free with grade_fini), a broken submission included; -1 only if
 * memory ran out or the key's own lines made the combined text unreadable in
 * a way no check can be blamed for. */
int grade_text(const struct key *k, const char *name, const char *text, size_t len,
	       struct grade *g);
/* The same for a file; an unreadable file is a broken submission. */
int grade_file(const struct key *k, const char *path, struct grade *g);
void grade_fini(struct grade *g);

/* Does the key fit its own base world (every name its conditions use exists
 * there)? Diagnostics point at the key's lines. Returns the number of
 * errors; 0 also when the key names no base. A base that does not parse is
 * an error too. */
size_t key_fits_base(const struct key *k, struct diag *d);

/* How many lines of `text` differ from `base`: comments, blank lines and
 * runs of blanks ignored; an edited line counts once (one line removed and
 * one added), so this is max(removed, added) of a line diff. -1 if a text
 * is too long to compare (more than GRADE_DIFF_MAX_LINES lines). */
#define GRADE_DIFF_MAX_LINES 2000
long grade_lines_changed(const char *base, size_t base_len, const char *text, size_t len);

/* "graded", "broken", "misfit" (the key does not fit) */
const char *grade_status_name(enum grade_status s);

#endif
