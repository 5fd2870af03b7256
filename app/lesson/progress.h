/*
 * progress.h - a student's progress through the exercises, kept between runs.
 *
 * `natsim exercise` records each finished attempt (score, date, count) and
 * `natsim course` shows them. The file is JSON (jansson), by default
 * $XDG_STATE_HOME/natsim/progress.json, else ~/.local/state/natsim/:
 *
 *   {"version": 1,
 *    "exercises": {"course/01-hole-punch":
 *        {"best": 70, "max": 80, "attempts": 3, "last": "2026-12-02T19:30:00Z"}}}
 *
 * Promises:
 * - A student's progress is never silently lost. A file that does not parse
 *   (or is not a progress file) is renamed to FILE.damaged-<timestamp>, kept,
 *   and reported in the notice; a new file is started.
 * - A write is atomic: the new file is written beside the old one and renamed
 *   over it, so a reader (or a second natsim finishing at the same moment)
 *   sees the old file or the new one, never half of one. Two attempts that
 *   finish at the same instant may keep only one of the two updates.
 * - Nothing here prints. Problems come back as a notice (one sentence) for
 *   the caller to show; an unwritable state folder is a notice, not a failure
 *   of the exercise.
 *
 * Ownership: progress_open returns an object the caller frees with
 * progress_free (NULL does nothing).
 */
#ifndef NATSIM_APP_LESSON_PROGRESS_H
#define NATSIM_APP_LESSON_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define PROGRESS_NOTICE_MAX 10240 /* two paths and a parser message */

struct progress;

/* One exercise's record. */
struct progress_entry {
	int best;      /* the best score so far */
	int max;       /* what full marks were then */
	long attempts; /* finished attempts */
	char last[32]; /* the last attempt's date, "2026-12-02T19:30:00Z" */
};

/* Where the progress file is: $XDG_STATE_HOME/natsim/progress.json when
 * XDG_STATE_HOME is an absolute path (the XDG spec ignores relative ones),
 * else $HOME/.local/state/natsim/progress.json. Returns 0, or -1 if neither
 * is set or the path does not fit in `size`. */
int progress_default_path(char *buf, size_t size);

/* Read the progress file at `path`. A missing file is empty progress. A
 * damaged one is set aside (see above) and `notice` says so; an unreadable
 * one gives empty progress and a notice. `notice` is "" when all went well.
 * NULL only when memory ran out. `now` names the damaged file's copy. */
struct progress *progress_open(const char *path, time_t now, char notice[PROGRESS_NOTICE_MAX]);
void progress_free(struct progress *p);

/* The record of exercise `key` ("course/01-hole-punch"): true and *out
 * filled if there is one. */
bool progress_lookup(const struct progress *p, const char *key, struct progress_entry *out);

/* Count one finished attempt of `key` with `score` of `max` at `now`: the
 * best score is kept, the attempts counted, the date set. In memory only;
 * progress_save writes it. Returns 0, or -1 if memory ran out. */
int progress_note_attempt(struct progress *p, const char *key, int score, int max, time_t now);

/* Write `p` to its file atomically, creating the folders it needs. Returns
 * 0, or -1 with `notice` saying why (the folder cannot be made, the disk is
 * full, ...). */
int progress_save(const struct progress *p, char notice[PROGRESS_NOTICE_MAX]);

/* The name an exercise is recorded under: "course/NN-name" for a file in a
 * folder called course (bundled or not), else the file's name without
 * ".nsim". Writes into buf (truncated to fit). */
void progress_key_for_file(const char *path, char *buf, size_t size);

/* All in one, for `natsim exercise`: open the default file, note the
 * attempt, save. Returns 0, or -1 with `notice` saying what went wrong
 * (the exercise itself is unaffected). `notice` may also hold a report of
 * a damaged file set aside when 0 is returned. */
int progress_record_attempt(const char *exercise_file, int score, int max, time_t now,
			    char notice[PROGRESS_NOTICE_MAX]);

#endif
