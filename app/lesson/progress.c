/*
 * progress.c - the progress file: read it (setting a damaged one aside),
 * note an attempt, write it atomically (temp file + rename).
 */
#include "app/lesson/progress.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROGRESS_VERSION 1

struct progress {
	char *path;
	json_t *root; /* {"version": 1, "exercises": {...}} */
};

/* ---- where ---- */

int progress_default_path(char *buf, size_t size)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	int n;
	if (state && state[0] == '/')
		n = snprintf(buf, size, "%s/natsim/progress.json", state);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.local/state/natsim/progress.json", home);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

void progress_key_for_file(const char *path, char *buf, size_t size)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	size_t len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".nsim") == 0)
		len -= 5;
	/* The folder holding the file: "course" makes it a course exercise. */
	const char *dir_end = base > path ? base - 1 : path;
	const char *dir = dir_end;
	while (dir > path && dir[-1] != '/')
		dir--;
	bool in_course = dir_end - dir == 6 && strncmp(dir, "course", 6) == 0;
	snprintf(buf, size, "%s%.*s", in_course ? "course/" : "", (int)len, base);
}

/* ---- reading ---- */

static json_t *empty_progress(void)
{
	return json_pack("{s:i, s:{}}", "version", PROGRESS_VERSION, "exercises");
}

static void utc_stamp(time_t when, const char *format, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&when, &tm);
	strftime(buf, size, format, &tm);
}

/* Rename the damaged file out of the way, keeping it, and say so. */
static void set_aside(const char *path, time_t now, const char *why, char *notice)
{
	char stamp[32], aside[4096];
	utc_stamp(now, "%Y%m%dT%H%M%SZ", stamp, sizeof(stamp));
	/* Never over an earlier copy: a second one in the same second gets -2. */
	snprintf(aside, sizeof(aside), "%s.damaged-%s", path, stamp);
	for (int n = 2; access(aside, F_OK) == 0 && n < 1000; n++)
		snprintf(aside, sizeof(aside), "%s.damaged-%s-%d", path, stamp, n);
	if (access(aside, F_OK) != 0 && rename(path, aside) == 0)
		snprintf(
		    notice, PROGRESS_NOTICE_MAX,
		    "progress file %s is damaged (%s); it was moved to %s and a new one started",
		    path, why, aside);
	else
		snprintf(notice, PROGRESS_NOTICE_MAX,
			 "progress file %s is damaged (%s) and could not be moved to %s (%s); "
			 "it is left as it is and nothing will be recorded",
			 path, why, aside, strerror(errno));
}

/* A parsed file is ours only if it has the shape we write. */
static bool looks_like_progress(const json_t *root)
{
	return json_is_object(root) && json_is_object(json_object_get(root, "exercises"));
}

static json_t *load_or_set_aside(const char *path, time_t now, char *notice, bool *writable)
{
	json_error_t err;
	char why[300];
	json_t *root = json_load_file(path, 0, &err);
	if (root && looks_like_progress(root))
		return root;
	if (root == NULL && access(path, F_OK) != 0)
		return empty_progress(); /* not there yet: a student who has not started */
	if (root == NULL && access(path, R_OK) != 0) {
		snprintf(notice, PROGRESS_NOTICE_MAX, "cannot read progress file %s (%s)", path,
			 strerror(errno));
		*writable = false; /* writing would lose what we could not read */
		return empty_progress();
	}
	if (root == NULL)
		snprintf(why, sizeof(why), "%d:%d: %s", err.line, err.column, err.text);
	else
		snprintf(why, sizeof(why), "1:1: not a natsim progress file (no \"exercises\")");
	json_decref(root);
	set_aside(path, now, why, notice);
	*writable = access(path, F_OK) != 0; /* only if the damaged file is out of the way */
	return empty_progress();
}

struct progress *progress_open(const char *path, time_t now, char notice[PROGRESS_NOTICE_MAX])
{
	notice[0] = 0;
	struct progress *p = calloc(1, sizeof(*p));
	if (p == NULL || (p->path = strdup(path)) == NULL) {
		free(p);
		return NULL;
	}
	bool writable = true;
	p->root = load_or_set_aside(path, now, notice, &writable);
	if (p->root == NULL) {
		progress_free(p);
		return NULL;
	}
	if (!writable) {
		free(p->path);
		p->path = NULL; /* progress_save refuses: see load_or_set_aside */
	}
	return p;
}

void progress_free(struct progress *p)
{
	if (p == NULL)
		return;
	json_decref(p->root);
	free(p->path);
	free(p);
}

bool progress_lookup(const struct progress *p, const char *key, struct progress_entry *out)
{
	json_t *e = json_object_get(json_object_get(p->root, "exercises"), key);
	if (!json_is_object(e))
		return false;
	memset(out, 0, sizeof(*out));
	out->best = (int)json_integer_value(json_object_get(e, "best"));
	out->max = (int)json_integer_value(json_object_get(e, "max"));
	out->attempts = (long)json_integer_value(json_object_get(e, "attempts"));
	const char *last = json_string_value(json_object_get(e, "last"));
	snprintf(out->last, sizeof(out->last), "%s", last ? last : "");
	return true;
}

/* ---- noting ---- */

int progress_note_attempt(struct progress *p, const char *key, int score, int max, time_t now)
{
	struct progress_entry old = {0};
	bool seen = progress_lookup(p, key, &old);
	char date[32];
	utc_stamp(now, "%Y-%m-%dT%H:%M:%SZ", date, sizeof(date));
	/* The best is the best fraction of full marks: an exercise that gained a
	 * question since keeps its old best only while it is still the better. */
	bool better =
	    !seen || old.max <= 0 || (long long)score * old.max > (long long)old.best * max;
	json_t *e = json_pack("{s:i, s:i, s:I, s:s}", "best", better ? score : old.best, "max",
			      better ? max : old.max, "attempts", (json_int_t)old.attempts + 1,
			      "last", date);
	if (e == NULL)
		return -1;
	return json_object_set_new(json_object_get(p->root, "exercises"), key, e) == 0 ? 0 : -1;
}

/* ---- writing ---- */

/* mkdir -p of the folder holding `path`. */
static int make_parents(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = 0;
	for (char *s = dir + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int progress_save(const struct progress *p, char notice[PROGRESS_NOTICE_MAX])
{
	notice[0] = 0;
	if (p->path == NULL) {
		snprintf(notice, PROGRESS_NOTICE_MAX,
			 "the old progress file is in the way; "
			 "this attempt was not recorded");
		return -1;
	}
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", p->path);
	int fd = make_parents(p->path) == 0 ? mkstemp(tmp) : -1;
	if (fd < 0) {
		snprintf(notice, PROGRESS_NOTICE_MAX, "cannot write progress file %s (%s)", p->path,
			 strerror(errno));
		return -1;
	}
	/* Written whole, flushed to disk, then renamed over the old file. */
	int rc = json_dumpfd(p->root, fd, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
			 write(fd, "\n", 1) == 1 && fsync(fd) == 0
		     ? 0
		     : -1;
	int saved_errno = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		saved_errno = errno;
	}
	if (rc == 0 && rename(tmp, p->path) != 0) {
		rc = -1;
		saved_errno = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		snprintf(notice, PROGRESS_NOTICE_MAX, "cannot write progress file %s (%s)", p->path,
			 strerror(saved_errno));
	}
	return rc;
}

int progress_record_attempt(const char *exercise_file, int score, int max, time_t now,
			    char notice[PROGRESS_NOTICE_MAX])
{
	char path[4096], key[256], saving[PROGRESS_NOTICE_MAX];
	notice[0] = 0;
	if (progress_default_path(path, sizeof(path)) != 0) {
		snprintf(notice, PROGRESS_NOTICE_MAX,
			 "neither XDG_STATE_HOME nor HOME is set: progress not recorded");
		return -1;
	}
	struct progress *p = progress_open(path, now, notice);
	progress_key_for_file(exercise_file, key, sizeof(key));
	int rc = p ? progress_note_attempt(p, key, score, max, now) : -1;
	if (rc == 0)
		rc = progress_save(p, saving);
	else
		snprintf(saving, sizeof(saving), "out of memory: progress not recorded");
	if (rc != 0) {
		/* Keep a damaged-file report and add why this attempt was not saved. */
		size_t used = strlen(notice);
		snprintf(notice + used, PROGRESS_NOTICE_MAX - used, "%s%s", used ? "; " : "",
			 saving);
	}
	progress_free(p);
	return rc;
}
