/*
 * units.c - durations and counts read the same way everywhere (units.h has
 * the contract). Hand-written rather than strtod/strtoull: those accept
 * signs, spaces, hex, exponents, "nan" and "inf", and a double cannot hold
 * every nanosecond of a long run.
 */
#include "app/lang/units.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define SHOW_MAX UNITS_SHOW_MAX

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
    {"ns", 1},
    {"us", 1000},
    {"ms", (uint64_t)UNITS_NS_PER_MS},
    {"s", (uint64_t)UNITS_NS_PER_S},
    {"min", (uint64_t)UNITS_NS_PER_MIN},
    {"h", (uint64_t)UNITS_NS_PER_H},
};

void units_show(const char *s, size_t len, char *buf)
{
	size_t n = len > SHOW_MAX ? SHOW_MAX : len, i;

	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f ? s[i] : '?';
	if (len > n)
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
}

static bool all_alpha(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isalpha((unsigned char)s[i]))
			return false;
	return len > 0;
}

static uint64_t unit_ns(const char *s, size_t len)
{
	for (size_t u = 0; u < COUNT(units); u++)
		if (strlen(units[u].name) == len && memcmp(s, units[u].name, len) == 0)
			return units[u].ns;
	return 0;
}

/* Digits, then an optional fraction. Sets *whole (saturating: *big), the
 * fraction as frac / scale with up to 18 digits kept, and whether any digit
 * past those was not 0 (*lost: finer than any unit can make whole). Returns
 * the index after the number, or 0 if there is no number. */
static size_t read_decimal(const char *s, size_t len, uint64_t *whole, bool *big, uint64_t *frac,
			   uint64_t *scale, bool *lost)
{
	size_t i = 0;

	for (; i < len && isdigit((unsigned char)s[i]); i++) {
		if (*whole > (UINT64_MAX - 9) / 10)
			*big = true;
		else
			*whole = *whole * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return 0;
	if (i < len && s[i] == '.') {
		if (++i >= len || !isdigit((unsigned char)s[i]))
			return 0;
		for (; i < len && isdigit((unsigned char)s[i]); i++) {
			if (*scale < UINT64_C(1000000000000000000)) {
				*frac = *frac * 10 + (uint64_t)(s[i] - '0');
				*scale *= 10;
			} else if (s[i] != '0') {
				*lost = true;
			}
		}
	}
	return i;
}

int units_parse_duration(const char *s, size_t len, int64_t *ns)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	bool big = false, lost = false;
	size_t i = s ? read_decimal(s, len, &whole, &big, &frac, &scale, &lost) : 0;

	if (i == 0)
		return UNITS_SYNTAX;
	if (i == len)
		return UNITS_NO_UNIT;
	/* "0x1p3", "1e3s", "5 s": not a unit, not a duration. */
	if (!all_alpha(s + i, len - i))
		return UNITS_SYNTAX;
	uint64_t mult = unit_ns(s + i, len - i);
	if (!mult)
		return UNITS_BAD_UNIT;
	if (big || whole > (uint64_t)INT64_MAX / mult)
		return UNITS_TOO_BIG;
	/* frac / scale of a unit is a whole number of ns only if frac * mult
	 * is a multiple of scale; both fit: frac < scale <= 1e18, and the
	 * product is formed from mult's factors one at a time. */
	uint64_t g = mult, m = scale; /* gcd(mult, scale) */
	while (m) {
		uint64_t t = g % m;
		g = m;
		m = t;
	}
	if (lost || frac % (scale / g) != 0)
		return UNITS_TOO_FINE;
	uint64_t frac_ns = frac / (scale / g) * (mult / g);
	uint64_t total = whole * mult;
	if (total > (uint64_t)INT64_MAX - frac_ns)
		return UNITS_TOO_BIG;
	*ns = (int64_t)(total + frac_ns);
	return UNITS_OK;
}

int units_parse_count(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || len == 0)
		return UNITS_SYNTAX;
	for (size_t i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return UNITS_SYNTAX;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10 || d > max)
			return UNITS_TOO_BIG;
		v = v * 10 + d;
	}
	*out = v;
	return UNITS_OK;
}

void units_duration_problem(int status, const char *s, size_t len, char *msg, size_t size)
{
	char shown[UNITS_SHOW_SIZE], unit[UNITS_SHOW_SIZE];
	size_t i = 0;

	units_show(s, len, shown);
	switch (status) {
	case UNITS_NO_UNIT:
		snprintf(msg, size, "expected a duration with a unit (ms, s, min), found '%s'",
			 shown);
		return;
	case UNITS_BAD_UNIT:
		while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'))
			i++;
		units_show(s + i, len - i, unit);
		snprintf(msg, size,
			 "unknown unit '%s' in '%s'; the units are ns, us, ms, s, min and h%s",
			 unit, shown, strcmp(unit, "m") == 0 ? " (minutes are 'min')" : "");
		return;
	case UNITS_TOO_BIG:
		snprintf(msg, size, "duration '%s' is too long", shown);
		return;
	case UNITS_TOO_FINE:
		snprintf(msg, size,
			 "duration '%s' is not a whole number of nanoseconds, the finest step of "
			 "natsim's clock",
			 shown);
		return;
	default:
		snprintf(msg, size, "expected a duration like 20ms, 1.5s or 2min, found '%s'",
			 shown);
		return;
	}
}

void units_count_problem(int status, const char *what, const char *s, size_t len, uint64_t min,
			 uint64_t max, char *msg, size_t size)
{
	char shown[UNITS_SHOW_SIZE];

	units_show(s, len, shown);
	if (status == UNITS_SYNTAX)
		snprintf(msg, size, "expected %s (a whole number), found '%s'", what, shown);
	else
		snprintf(msg, size, "%s '%s' is out of range (%llu-%llu)", what, shown,
			 (unsigned long long)min, (unsigned long long)max);
}

void units_format_duration(int64_t ns, char *buf, size_t size)
{
	size_t u = COUNT(units) - 1;

	if (ns == 0) {
		snprintf(buf, size, "0s");
		return;
	}
	while (u > 0 && (uint64_t)ns % units[u].ns != 0)
		u--;
	snprintf(buf, size, "%llu%s", (unsigned long long)((uint64_t)ns / units[u].ns),
		 units[u].name);
}

static bool is_word(const char *s, size_t len, const char *w)
{
	return w && strlen(w) == len && memcmp(s, w, len) == 0;
}

static void range_problem(const struct units_setting *set, const char *s, size_t len, char *msg,
			  size_t size)
{
	char lo[32], hi[32], shown[UNITS_SHOW_SIZE], zero[96] = "";

	units_format_duration(set->min_ns, lo, sizeof(lo));
	units_format_duration(set->max_ns, hi, sizeof(hi));
	units_show(s, len, shown);
	if (set->zero_word)
		snprintf(zero, sizeof(zero), ", or '%s' for %s", set->zero_word,
			 set->zero_means ? set->zero_means : "none");
	snprintf(msg, size, "'%s' is out of range: %s is from %s to %s%s", shown, set->what, lo, hi,
		 zero);
}

int units_read_setting(const struct units_setting *set, const char *s, size_t len, int64_t *ns,
		       char *msg, size_t size)
{
	int64_t v;
	int rc;

	if (is_word(s, len, set->zero_word) || is_word(s, len, set->zero_word2)) {
		*ns = 0;
		return UNITS_OK;
	}
	rc = units_parse_duration(s, len, &v);
	if (rc != UNITS_OK) {
		units_duration_problem(rc, s, len, msg, size);
		/* A word where a duration or a zero word was expected. */
		if (rc == UNITS_SYNTAX && set->zero_word && len > 0 &&
		    isalpha((unsigned char)s[0])) {
			char shown[UNITS_SHOW_SIZE];
			units_show(s, len, shown);
			snprintf(msg, size, "expected a duration like 25s or '%s', found '%s'",
				 set->zero_word, shown);
		}
		return rc;
	}
	if (v < set->min_ns || v > set->max_ns) {
		range_problem(set, s, len, msg, size);
		return UNITS_OUT_OF_RANGE;
	}
	*ns = v;
	return UNITS_OK;
}

int units_read_count(const char *what, const char *s, size_t len, uint64_t min, uint64_t max,
		     uint64_t *out, char *msg, size_t size)
{
	uint64_t v;
	int rc = units_parse_count(s, len, max, &v);

	if (rc == UNITS_OK && v < min)
		rc = UNITS_OUT_OF_RANGE;
	if (rc != UNITS_OK) {
		units_count_problem(rc, what, s, len, min, max, msg, size);
		return rc;
	}
	*out = v;
	return UNITS_OK;
}
