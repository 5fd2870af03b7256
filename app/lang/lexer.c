/*
 * lexer.c - one line of a scenario into tokens, and where errors point.
 *
 * Words are maximal runs of anything but blanks, '#', '"' and ','; what a
 * word means (keyword, name, address, duration, endpoint...) depends on
 * where it stands (parser.c), which lets every message say what was expected
 * there. Strings are checked for their escapes and the whole line for UTF-8.
 */
#include "app/lang/scenario_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------- lexer */

int clamp_int(size_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

struct scenario_loc loc_span(const struct parser *p, size_t off, size_t len)
{
	struct scenario_loc loc = {p->line_no, clamp_int(off + 1), clamp_int(len ? len : 1)};

	return loc;
}

/* A token's location; NULL = just past the last token (something missing). */
struct scenario_loc loc_of(const struct parser *p, const struct token *t)
{
	if (t)
		return loc_span(p, t->off, t->len);
	if (p->n_toks == 0)
		return loc_span(p, p->line_len, 1);
	const struct token *last = &p->toks[p->n_toks - 1];
	return loc_span(p, last->off + last->len, 1);
}

static int verr(struct parser *p, enum diag_severity sev, struct scenario_loc loc, const char *fmt,
		va_list ap)
{
	/* Past the limit, nothing more is shown (a garbage file is not worth
	 * thousands of lines), but errors still count. */
	if (sev == DIAG_ERROR && ++p->errors > SCENARIO_MAX_ERRORS)
		p->too_many = true;
	if (!p->too_many)
		report_v(p->s, p->d, sev, &loc, fmt, ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) int err_loc(struct parser *p, struct scenario_loc loc,
						  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) int err_at(struct parser *p, const struct token *t,
						 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_ERROR, loc_of(p, t), fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) void note_loc(struct parser *p, struct scenario_loc loc,
						    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) void warn_loc(struct parser *p, struct scenario_loc loc,
						    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) void warn_at(struct parser *p, const struct token *t,
						   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_WARNING, loc_of(p, t), fmt, ap);
	va_end(ap);
}

static bool is_delim(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '#' || c == '"' || c == ',' || c < 0x20 ||
	       c == 0x7f;
}

static int push_token(struct parser *p, enum tok_type type, size_t off, size_t len)
{
	struct token *t;

	PUSH(p->toks, p->n_toks, p->cap_toks, t);
	if (!t) {
		p->oom = true;
		return -1;
	}
	t->type = type;
	t->off = off;
	t->len = len;
	return 0;
}

/* A string from the quote at *i; checks escapes, leaves *i after it. */
static int lex_string(struct parser *p, size_t *i)
{
	size_t start = *i, j = start + 1;

	for (;;) {
		if (j >= p->line_len || (p->line[j] == '\\' && j + 1 >= p->line_len))
			return err_loc(p, loc_span(p, start, p->line_len - start),
				       "unterminated string: missing the closing '\"'");
		unsigned char c = (unsigned char)p->line[j];
		if (c == '"')
			break;
		if (c == '\\') {
			char e = p->line[j + 1];
			if (e != '"' && e != '\\' && e != 'n')
				return err_loc(
				    p, loc_span(p, j, 2),
				    "unknown escape '\\%s' in a string; write \\\" for a "
				    "quote, \\\\ for a backslash or \\n for a new line",
				    show(&e, 1).s);
			j += 2;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return err_loc(p, loc_span(p, j, 1),
				       "control character (byte 0x%02x) in a string", c);
		j++;
	}
	*i = j + 1;
	return push_token(p, TOK_STRING, start, *i - start);
}

/* The length of the UTF-8 sequence at s[0..len), or 0 if it is not one:
 * no overlong forms, no surrogates, nothing past U+10FFFF (RFC 3629
 * section 4). *cp gets the code point. */
static size_t utf8_sequence(const unsigned char *s, size_t len, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t n = 0;

	if (s[0] < 0x80)
		n = 1;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4;
	if (n == 0 || n > len)
		return 0;
	uint32_t c = n == 1 ? s[0] : s[0] & (0x7fu >> n);
	for (size_t k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[k] & 0x3fu);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* A scenario file is UTF-8 text, comments included: anything else would
 * reach the terminal raw when a title, a note or a line is shown. C1
 * control characters (U+0080-U+009F) are refused too: some terminals take
 * U+009B as the start of a command, as they do ESC [. */
static int check_utf8(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->line;

	for (size_t i = 0; i < p->line_len;) {
		uint32_t cp = 0;
		size_t n = utf8_sequence(s + i, p->line_len - i, &cp);

		if (n == 0)
			return err_loc(p, loc_span(p, i, 1),
				       "invalid UTF-8 (byte 0x%02x); a scenario file is UTF-8 text",
				       s[i]);
		if (cp >= 0x80 && cp <= 0x9f)
			return err_loc(p, loc_span(p, i, n), "control character U+%04X", cp);
		i += n;
	}
	return 0;
}

/* Split the current line into tokens. */
int lex_line(struct parser *p)
{
	size_t i = 0;

	p->n_toks = 0;
	p->pos = 0;
	if (check_utf8(p) < 0)
		return -1;
	while (i < p->line_len) {
		unsigned char c = (unsigned char)p->line[i];

		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == '#') {
			break;
		} else if (c < 0x20 || c == 0x7f) {
			return err_loc(p, loc_span(p, i, 1),
				       "unexpected control character "
				       "(byte 0x%02x)",
				       c);
		} else if (c == '"') {
			if (lex_string(p, &i) < 0)
				return -1;
		} else if (c == ',') {
			if (push_token(p, TOK_COMMA, i++, 1) < 0)
				return -1;
		} else {
			size_t start = i;
			while (i < p->line_len && !is_delim((unsigned char)p->line[i]))
				i++;
			if (push_token(p, TOK_WORD, start, i - start) < 0)
				return -1;
		}
	}
	return 0;
}
