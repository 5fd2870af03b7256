/*
 * diag.h - compiler-style diagnostics for scenario files (and anything else
 * that reads text a person wrote).
 *
 * A struct diag collects diagnostics instead of printing them, so a parser can
 * report every error in a file in one pass and the caller decides where they
 * go. diag_print() renders them the way gcc does:
 *
 *   scenarios/x.nsim:3:1: error: unknown keyword 'cordinator'; did you mean 'coordinator'?
 *       3 | cordinator coord at 192.0.2.1
 *         | ^~~~~~~~~~
 *
 * The caret sits under the first column of the fault and tildes run along the
 * rest of it. Columns are 1-based byte offsets in the line; when printing,
 * tabs are expanded to 8-column stops, a valid UTF-8 sequence counts as one
 * column, and control bytes or invalid UTF-8 are shown as '?', so the caret
 * stays under the fault and nothing unprintable reaches the terminal.
 *
 * Ownership: a struct diag owns copies of everything given to it (file name,
 * message, source line); callers may free or reuse their buffers at once.
 */
#ifndef NATSIM_APP_DIAG_H
#define NATSIM_APP_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity {
	DIAG_ERROR = 0,
	DIAG_WARNING = 1,
	DIAG_NOTE = 2, /* extra context for the diagnostic before it ("first defined here") */
};

/* Where a diagnostic points. Every field may be empty: file NULL (no file
 * prefix), line 0 (no line/column, no source excerpt), col 0 (no column, no
 * caret), src NULL (no excerpt). len is the width of the fault in bytes; the
 * caret line shows '^' plus len-1 '~' (len 0 counts as 1). */
struct diag_span {
	const char *file;
	int line;
	int col;
	int len;
	const char *src; /* the whole source line (need not be NUL-terminated) */
	size_t src_len;	 /* without the newline */
};

/* One stored diagnostic (read-only for callers). */
struct diagnostic {
	enum diag_severity severity;
	char *file; /* NULL if none */
	int line, col, len;
	char *message;
	char *src; /* copy of the source line (at most DIAG_MAX_SRC bytes), or NULL */
	size_t src_len;
};

/* Source lines longer than this are stored truncated (the caret is omitted
 * when the fault lies beyond the stored part). */
#define DIAG_MAX_SRC 4096
/* Messages longer than this are truncated. */
#define DIAG_MAX_MESSAGE 1024

struct diag;

/* A new, empty list; NULL on OOM. diag_free(NULL) does nothing. */
struct diag *diag_new(void);
void diag_free(struct diag *d);
/* Drop every diagnostic and reset the counters. */
void diag_clear(struct diag *d);

/* Add a diagnostic. printf-style message, without a trailing newline or a
 * severity prefix. Returns 0, or -1 if memory ran out: the diagnostic is then
 * not stored but still counted, so diag_count_errors() never under-reports. */
int diag_add(struct diag *d, enum diag_severity sev, const struct diag_span *at, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));
int diag_addv(struct diag *d, enum diag_severity sev, const struct diag_span *at, const char *fmt,
	      va_list ap) __attribute__((format(printf, 4, 0)));

/* Shorthand for an error whose fault is one column wide (a bare caret). */
int diag_error(struct diag *d, const char *file, int line, int col, const char *src_line_start,
	       size_t src_line_len, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Sort the diagnostics from index `from` on by line, then column, keeping
 * each note right after the diagnostic it belongs to and equal positions in
 * the order they were added. Diagnostics without a line go last. Meant for
 * the diagnostics of one file, so that checks run after parsing still show
 * up in file order. */
void diag_sort(struct diag *d, size_t from);

/* Counts include diagnostics that could not be stored for lack of memory. */
size_t diag_count_errors(const struct diag *d);
size_t diag_count_warnings(const struct diag *d);
/* Stored diagnostics, in the order they were added. */
size_t diag_count(const struct diag *d);
const struct diagnostic *diag_get(const struct diag *d, size_t i);

/* Render every stored diagnostic to `out` (see the top of this file). With
 * `color`, gcc's colours: bold location, bold red "error:", bold magenta
 * "warning:", bold cyan "note:", and the caret line in the severity's colour.
 * Returns 0, or -1 if writing failed. */
int diag_print(const struct diag *d, FILE *out, bool color);
/* Render one diagnostic (the same format). */
int diag_print_one(const struct diagnostic *dg, FILE *out, bool color);

/* The candidate closest to `word` by Damerau-Levenshtein distance (optimal
 * string alignment, case-insensitive), if it is close enough to be a likely
 * typo: distance <= 2, and <= 1 for words of 3 characters or fewer, and
 * always less than the word's length. Ties go to the earlier candidate. An
 * exact (case-sensitive) match is not a suggestion. NULL if none; the result
 * points into `candidates`. NULL entries in candidates are skipped. */
const char *diag_suggest(const char *word, const char *const *candidates, size_t n);

/* The restricted Damerau-Levenshtein distance between a and b, comparing
 * ASCII letters case-insensitively; adjacent transpositions cost 1. Strings
 * longer than 64 bytes return a large value (they are never typos of ours). */
size_t diag_distance(const char *a, const char *b);

#endif
