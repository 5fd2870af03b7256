/*
 * exercise.h - a classroom exercise: a scenario plus questions, in one file.
 *
 * An exercise file is a scenario (docs/scenario.md) with lesson statements
 * mixed in, one per line:
 *
 *   instructions "Alice and Bob sit behind two home routers. ..."
 *   question q1 "Do Alice and Bob end up talking directly?" outcome alice and bob
 *   question q2 "Alice's first packet to Bob's public address: who drops it?" drop from alice to
 * bob question q3 "Which public port does home give alice's port 5000?" port home for alice:5000
 *   question q4 "What kind of NAT is office (RFC 3489's names)?" classify office
 *   question q4b "And in RFC 4787's terms (mapping, filtering)?" axes office
 *   question q5 "Does Bob get Alice's hello?" arrives "hello" at bob from alice
 *   question q6 "At 40 s, does home still map alice:5000?" mapping home for alice:5000 at 40s
 *   question q7 "At 10 s, how many seconds are left on it?" timeout home for alice:5000 at 10s
 * within 1s question q8 "At 3 s, office's entry for bob:5000 to alice?" conntrack office from
 * bob:5000 to alice at 3s question q9 "When (s) do they first talk directly?" when alice and bob
 * direct within 100ms hint q1 "Look at how office chooses its public ports." teacher q1 "Most
 * students answer direct: ask them what office's mapping is keyed by." teacher "A 20-minute
 * exercise; run it after the mapping lesson." variant office.preset port-restricted-cone |
 * symmetric variant internet.latency 20ms | 80ms shown      (the student is told which)
 *
 * The answers are never written down: exercise_compute() (answer.h) runs the
 * world and reads them off what happened. A variant lets a setting take one
 * of several values; a student id picks one deterministically, so neighbours
 * get different worlds and different answers.
 *
 * exercise_parse() takes the lesson lines out (blanking them, so the
 * scenario's line numbers stay the file's) and leaves the rest for the
 * scenario parser. Errors name the file, line and column, like the scenario
 * language's.
 *
 * Ownership: a struct exercise owns every string in it; free it with
 * exercise_free().
 */
#ifndef NATSIM_APP_LESSON_EXERCISE_H
#define NATSIM_APP_LESSON_EXERCISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;
struct scenario;

enum question_kind {
	QUESTION_OUTCOME,   /* how a connect pair ends: direct, relayed, failed, unconnected */
	QUESTION_DROP,	    /* where A's first packet to B's public address dies, and why */
	QUESTION_PORT,	    /* the public port a NAT gives an inside endpoint */
	QUESTION_CLASSIFY,  /* a NAT's kind in RFC 3489's names */
	QUESTION_ARRIVES,   /* whether a message reaches a host: yes or no */
	QUESTION_MAPPING,   /* whether a NAT holds a mapping for an inside endpoint at a time */
	QUESTION_TIMEOUT,   /* seconds left on that mapping at a time (a number, a tolerance) */
	QUESTION_CONNTRACK, /* the state of a node's conntrack entry for a flow at a time */
	QUESTION_WHEN,	    /* when (seconds into the run) a pair first got a path */
	QUESTION_AXES,	    /* a NAT's RFC 4787 mapping and filtering, e.g. "EIM APDF" */
};

#define EXERCISE_ID_MAX 32
#define EXERCISE_MAX_HINTS 8
#define EXERCISE_POINTS 10 /* per question */

struct question {
	char id[EXERCISE_ID_MAX];
	char *text;
	enum question_kind kind;
	char *a, *b;   /* outcome: the pair; drop: from a to b; arrives: at b from a */
	char *node;    /* port, classify: the NAT */
	char *host;    /* port: the inside host */
	uint16_t port; /* port: its port */
	char *data;    /* arrives: the message (escapes decoded) */
	size_t data_len;
	char *remote;	      /* conntrack: the flow's remote (a host or the coordinator) */
	int remote_port;      /* conntrack: its port, or -1 for any */
	int path;	      /* when: 0 direct, 1 relayed (enum scenario_path) */
	int64_t at_ns;	      /* mapping, timeout, conntrack: the moment asked about */
	int64_t tolerance_ns; /* timeout, when: how far off a right number may be */
	char *hints[EXERCISE_MAX_HINTS];
	size_t n_hints;
	char *teacher; /* a note for the teacher, or NULL */
	int line, col; /* of the question statement */
};

#define EXERCISE_MAX_VALUES 8

struct variant {
	char *setting; /* "office.preset" */
	bool shown;    /* `... shown`: the student is told the value (else it is a question) */
	char *values[EXERCISE_MAX_VALUES];
	size_t n_values;
	int line, col;
};

struct exercise {
	char *filename;
	char *instructions; /* lines joined with '\n', or NULL */
	char *teacher;	    /* the notes not tied to a question, or NULL */
	struct question *questions;
	size_t n_questions;
	struct variant *variants;
	size_t n_variants;
	char *scenario_text; /* the file with the lesson lines blanked */
	size_t scenario_len;
};

/* Parse `text` (len bytes). Every problem goes into `d`; NULL if there was
 * any, or memory ran out. The scenario part is not parsed here. */
struct exercise *exercise_parse(const char *text, size_t len, const char *filename, struct diag *d);
/* Read a file and parse it ("cannot read FILE: <strerror>" if unreadable). */
struct exercise *exercise_load(const char *path, struct diag *d);
void exercise_free(struct exercise *x);

/* Whether `text` has any lesson statement (an exercise, not a plain scenario). */
bool exercise_text_has_questions(const char *text, size_t len);

/* The question with this id, or NULL. */
const struct question *exercise_find_question(const struct exercise *x, const char *id);

/* Which value of variant `v` student `student` gets: a hash of the student
 * id and the setting, so the same id always gets the same world. NULL or ""
 * gets the first value (the teacher's reference world). */
size_t exercise_variant_pick(const struct variant *v, const char *student);

/* Check the names a question uses against the scenario (hosts, NATs, the
 * pairs it connects); problems go into `d`. Returns the number of errors. */
size_t exercise_check(const struct exercise *x, const struct scenario *s, struct diag *d);

/* "outcome", "drop", ... */
const char *question_kind_name(enum question_kind k);

#endif
