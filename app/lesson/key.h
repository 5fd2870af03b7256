/*
 * key.h - the key of a build task: the teacher's checks, in a file the
 * student never gets.
 *
 * In a build task the student writes scenario lines (a firewall rule, a NAT
 * setting) into a world the teacher handed out. The key says what the
 * finished world must do, in the scenario language's own words:
 *
 *   # keys/firewall.key - keep this file away from the students
 *   base "../tasks/firewall.nsim"
 *   seed 1
 *   task "Add one rule to Bob's firewall so that only the office reaches UDP 7000."
 *   check office "The office's datagram gets through" points 2 drop at bob reason no-socket from
 * office to bob:7000 check eve    "Eve's datagram stays out"          drop at bob reason firewall
 * from eve to bob:7000 check rules  "One rule, no more"                 rules at bob at-most 1
 *   check small  "Only one line changed"             changed at-most 1 lines
 *
 * A check's condition is one of:
 *   - an expectation of the scenario language without the word `expect`
 *     (docs/scenario.md "Expectations"): decided by running the student's
 *     world (grade.h);
 *   - `rules at NODE (at-most|at-least|exactly) N`: how many `rule` lines the
 *     student's world has for NODE (no run needed);
 *   - `changed at-most N lines`: how far the student's world is from the
 *     `base` world, counting lines added or edited (no run needed).
 * `points N` (1 to 100, default 1) weighs a check; `seed N` fixes the seed
 * every submission runs with (else the submission's own, else 1); `base`
 * names the handed-out world, relative to the key file.
 *
 * key_parse() checks the key's own shape (keywords, ids, numbers, that each
 * condition starts like one of the above); whether a condition fits a world
 * (its names exist there) is decided against a world: key_fits_base() in
 * grade.h. Errors name the key's file, line and column.
 *
 * Ownership: a struct key owns every string in it; free it with key_free().
 */
#ifndef NATSIM_APP_LESSON_KEY_H
#define NATSIM_APP_LESSON_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

#define KEY_ID_MAX 32
#define KEY_MAX_POINTS 100
#define KEY_MAX_CHECKS 200

enum key_check_kind {
	KEY_CHECK_EXPECT,  /* an expectation, decided by a run */
	KEY_CHECK_RULES,   /* rules at NODE CMP N */
	KEY_CHECK_CHANGED, /* changed at-most N lines (against the base) */
};

enum key_compare {
	KEY_AT_MOST,
	KEY_AT_LEAST,
	KEY_EXACTLY,
};

struct key_check {
	char id[KEY_ID_MAX];
	char *text; /* what the check is about, in the teacher's words */
	int points;
	enum key_check_kind kind;
	char *condition;      /* as written, without trailing blanks */
	int line, cond_col;   /* where the condition starts in the key file */
	char *node;	      /* rules: the node */
	enum key_compare cmp; /* rules, changed */
	long limit;	      /* rules, changed */
};

struct key {
	char *filename;
	char *task; /* the task lines joined with '\n', or NULL */
	bool has_seed;
	uint64_t seed;
	char *base_path; /* as written, or NULL */
	int base_line;
	char *base_text; /* the base world (key_load_base), or NULL */
	size_t base_len;
	char *base_file; /* the base's path as opened (relative to the key's folder) */
	struct key_check *checks;
	size_t n_checks;
	int total;  /* the sum of the points */
	char *text; /* the key file itself, for pointing at its lines */
	size_t len;
};

/* Parse `text` (len bytes). Every problem goes into `d`; NULL if there was
 * any, or memory ran out. The base world is not read here. */
struct key *key_parse(const char *text, size_t len, const char *filename, struct diag *d);
/* Read a key file, parse it, and read its base world if it names one
 * ("cannot read FILE: <strerror>" at the `base` line if that fails). */
struct key *key_load(const char *path, struct diag *d);
/* Read the base world the key names, relative to the key file's folder.
 * Returns 0 (also when the key names none), or -1 with a diagnostic. */
int key_load_base(struct key *k, struct diag *d);
void key_free(struct key *k);

/* The text of the key's line `line` (1-based) without its newline, for
 * diagnostics; NULL if there is none. */
const char *key_source_line(const struct key *k, int line, size_t *len);

/* "at-most", "at-least", "exactly" */
const char *key_compare_name(enum key_compare c);
/* Whether `value` meets `limit` under `cmp`. */
bool key_compare_holds(enum key_compare cmp, long value, long limit);

#endif
