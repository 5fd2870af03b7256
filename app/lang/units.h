/*
 * units.h - the one reader of the numbers and durations people give natsim:
 * the scenario language (app/lang/values.c) and every command-line flag
 * (app/cli/cli.c) go through it, so `keepalive 25s` in a file, `--set
 * alice.keepalive=25s` and `natsim peer --keepalive 25s` accept and refuse
 * exactly the same text.
 *
 * What it promises:
 *   - A duration is decimal digits, optionally a '.' and more digits, then a
 *     unit: ns, us, ms, s, min or h. Nothing else is read as one: no sign,
 *     no spaces, no exponent, no hex float (0x1p3), no nan or inf, no bare
 *     number (5 what?). The value must be a whole number of nanoseconds (the
 *     simulator's clock tick; 0.5ns and 1.0000000001s are refused, so nothing
 *     silently rounds to 0) and fit int64_t.
 *   - A count is decimal digits only (no sign, no 0x, no leading or trailing
 *     space), and is refused, never clamped, when above its maximum.
 *   - A setting (struct units_setting) adds a documented range, and
 *     optionally one or two words that mean 0 ("off", "0").
 *   - Problems come back as a status and a sentence (no printing here): the
 *     sentence says what was expected and quotes the text, unprintable bytes
 *     replaced by '?'. Callers add where: file:line:col, or the flag's name.
 *
 * Depends on nothing but the C library.
 */
#ifndef NATSIM_APP_UNITS_H
#define NATSIM_APP_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UNITS_NS_PER_MS INT64_C(1000000)
#define UNITS_NS_PER_S INT64_C(1000000000)
#define UNITS_NS_PER_MIN (60 * UNITS_NS_PER_S)
#define UNITS_NS_PER_H (3600 * UNITS_NS_PER_S)

/* Room for any message below. */
#define UNITS_MSG_SIZE 320
/* A word quoted in a message: at most UNITS_SHOW_MAX bytes, then "...". */
#define UNITS_SHOW_MAX 48
#define UNITS_SHOW_SIZE (UNITS_SHOW_MAX + 4)

enum units_status {
	UNITS_OK = 0,
	UNITS_SYNTAX = -1,	 /* not a number of the expected form */
	UNITS_NO_UNIT = -2,	 /* a duration without its unit: "5" */
	UNITS_BAD_UNIT = -3,	 /* letters that are not a unit: "5sec", "2m" */
	UNITS_TOO_BIG = -4,	 /* does not fit: int64_t ns, or the count's maximum */
	UNITS_TOO_FINE = -5,	 /* a fraction of a nanosecond: "0.5ns" */
	UNITS_OUT_OF_RANGE = -6, /* read, but outside the setting's range */
};

/* Reads s[0..len) (no NUL needed) as a duration. UNITS_OK and *ns set, or a
 * negative status and *ns untouched. */
int units_parse_duration(const char *s, size_t len, int64_t *ns);

/* Reads s[0..len) as a whole number 0..max. UNITS_OK and *out set, or
 * UNITS_SYNTAX / UNITS_TOO_BIG and *out untouched. */
int units_parse_count(const char *s, size_t len, uint64_t max, uint64_t *out);

/* The sentence for a failed units_parse_duration: "expected a duration with
 * a unit (ms, s, min), found '20'", "unknown unit 'sec' in '20sec'; ...". */
void units_duration_problem(int status, const char *s, size_t len, char *msg, size_t size);

/* The sentence for a failed count: "expected WHAT (a whole number), found
 * 'x'", or "WHAT 'N' is out of range (MIN-MAX)". */
void units_count_problem(int status, const char *what, const char *s, size_t len, uint64_t min,
			 uint64_t max, char *msg, size_t size);

/* A duration setting: its range and the words that mean 0. */
struct units_setting {
	const char *what;	/* "a keepalive interval": the subject of messages */
	int64_t min_ns, max_ns; /* inclusive */
	const char *zero_word;	/* a word read as 0 ("off", "0"), or NULL */
	const char *zero_word2; /* a second such word, or NULL */
	const char *zero_means; /* what 0 means, for messages: "no keepalives" */
};

/* Reads a setting: a zero word gives 0; else a duration within
 * [min_ns, max_ns]. UNITS_OK and *ns set, or a negative status with the
 * sentence in msg (UNITS_MSG_SIZE bytes) and *ns untouched. */
int units_read_setting(const struct units_setting *set, const char *s, size_t len, int64_t *ns,
		       char *msg, size_t size);

/* Reads a count within [min, max]; UNITS_OK, or a status with the sentence
 * in msg. */
int units_read_count(const char *what, const char *s, size_t len, uint64_t min, uint64_t max,
		     uint64_t *out, char *msg, size_t size);

/* The shortest text units_parse_duration reads back as ns (ns >= 0): "0s",
 * "100ms", "1.5s", "24h". */
void units_format_duration(int64_t ns, char *buf, size_t size);

/* s[0..len) quoted for a message: at most UNITS_SHOW_MAX bytes (then
 * "..."), bytes outside printable ASCII as '?'. buf holds UNITS_SHOW_SIZE. */
void units_show(const char *s, size_t len, char *buf);

#endif
