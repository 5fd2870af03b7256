/*
 * key.c - reading a build task's key file (key.h).
 *
 * The key is read line by line, like the scenario language: a keyword, then
 * words and quoted texts. A `check` line's condition is the rest of the line,
 * kept as written: an expectation goes to the scenario parser unchanged (so
 * its errors and its meaning are exactly the language's), and only the two
 * structural conditions are read here.
 */
#include "app/lesson/key.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/lang/diag.h"

static const char *const key_keywords[] = {"task", "check", "base", "seed"};
#define N_KEYWORDS (sizeof(key_keywords) / sizeof(key_keywords[0]))

/* The words an expectation may start with (besides `HOST and HOST`). */
static const char *const expect_starts[] = {"drop", "no", "mapping", "classify", "data"};
#define N_STARTS (sizeof(expect_starts) / sizeof(expect_starts[0]))

static const char *const compare_names[] = {
    [KEY_AT_MOST] = "at-most", [KEY_AT_LEAST] = "at-least", [KEY_EXACTLY] = "exactly"};

const char *key_compare_name(enum key_compare c)
{
	return (size_t)c < 3 ? compare_names[c] : "?";
}

bool key_compare_holds(enum key_compare cmp, long value, long limit)
{
	switch (cmp) {
	case KEY_AT_MOST:
		return value <= limit;
	case KEY_AT_LEAST:
		return value >= limit;
	case KEY_EXACTLY:
		return value == limit;
	}
	return false;
}

/* ---- one line ---- */

struct kline {
	struct key *k;
	struct diag *d;
	int number;
	const char *src;
	size_t len;
	size_t pos; /* the next byte to read */
	int errors;
};

static void kline_error(struct kline *l, size_t at, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void kline_error(struct kline *l, size_t at, size_t len, const char *fmt, ...)
{
	struct diag_span span = {l->k->filename,       l->number, (int)at + 1,
				 (int)(len ? len : 1), l->src,	  l->len};
	va_list ap;
	va_start(ap, fmt);
	diag_addv(l->d, DIAG_ERROR, &span, fmt, ap);
	va_end(ap);
	l->errors++;
}

static void skip_blanks(struct kline *l)
{
	while (l->pos < l->len && (l->src[l->pos] == ' ' || l->src[l->pos] == '\t'))
		l->pos++;
}

static bool at_end(struct kline *l)
{
	skip_blanks(l);
	return l->pos >= l->len || l->src[l->pos] == '#';
}

/* The next blank-separated word: its start in *at and its length. 0 at the end. */
static size_t next_word(struct kline *l, size_t *at)
{
	if (at_end(l)) {
		*at = l->pos;
		return 0;
	}
	*at = l->pos;
	while (l->pos < l->len && l->src[l->pos] != ' ' && l->src[l->pos] != '\t')
		l->pos++;
	return l->pos - *at;
}

static bool word_is(struct kline *l, size_t at, size_t n, const char *w)
{
	return n == strlen(w) && memcmp(l->src + at, w, n) == 0;
}

/* A quoted text ("...", escapes \" \\ \n \t), decoded into a new string. */
static char *read_text(struct kline *l, const char *what)
{
	if (at_end(l) || l->src[l->pos] != '"') {
		kline_error(l, l->pos, 1, "expected %s in double quotes", what);
		return NULL;
	}
	size_t start = l->pos++, n = 0;
	char *out = malloc(l->len + 1);
	if (out == NULL)
		return NULL;
	while (l->pos < l->len && l->src[l->pos] != '"') {
		char c = l->src[l->pos++];
		if (c == '\\' && l->pos < l->len) {
			char e = l->src[l->pos++];
			c = e == 'n' ? '\n' : e == 't' ? '\t' : e;
		}
		out[n++] = c;
	}
	if (l->pos >= l->len) {
		kline_error(l, start, l->len - start, "%s has no closing quote", what);
		free(out);
		return NULL;
	}
	l->pos++;
	out[n] = 0;
	return out;
}

/* A decimal number from lo to hi. */
static bool read_number(struct kline *l, const char *what, long lo, long hi, long *out)
{
	size_t at, n = next_word(l, &at);
	char buf[24];
	if (n == 0 || n >= sizeof(buf)) {
		kline_error(l, at, n, "expected %s (a number)", what);
		return false;
	}
	memcpy(buf, l->src + at, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (!isdigit((unsigned char)buf[0]) || *end || errno || v < lo || v > hi) {
		kline_error(l, at, n, "%s must be a whole number from %ld to %ld, not '%s'", what,
			    lo, hi, buf);
		return false;
	}
	*out = v;
	return true;
}

static bool no_more(struct kline *l)
{
	if (at_end(l))
		return true;
	kline_error(l, l->pos, l->len - l->pos, "unexpected text at the end of the line");
	return false;
}

/* ---- statements ---- */

static char *append_line(char *old, const char *add)
{
	size_t a = old ? strlen(old) + 1 : 0, b = strlen(add);
	char *s = realloc(old, a + b + 1);
	if (s == NULL)
		return old;
	if (a)
		s[a - 1] = '\n';
	memcpy(s + a, add, b + 1);
	return s;
}

static int parse_task(struct kline *l)
{
	char *t = read_text(l, "the task's text");
	if (t && no_more(l))
		l->k->task = append_line(l->k->task, t);
	free(t);
	return 0;
}

static int parse_base(struct kline *l)
{
	char *path;
	if (!at_end(l) && l->src[l->pos] == '"') {
		path = read_text(l, "the base world's file name");
	} else {
		size_t at, n = next_word(l, &at);
		if (n == 0) {
			kline_error(l, at, 1, "expected the file name of the world handed out");
			return 0;
		}
		path = strndup(l->src + at, n);
	}
	if (path == NULL || !no_more(l)) {
		free(path);
		return 0;
	}
	if (l->k->base_path) {
		kline_error(l, 0, 4, "a second base line (the first is on line %d)",
			    l->k->base_line);
		free(path);
		return 0;
	}
	l->k->base_path = path;
	l->k->base_line = l->number;
	return 0;
}

static int parse_seed(struct kline *l)
{
	long v;
	if (read_number(l, "the seed", 0, 2147483647L, &v) && no_more(l)) {
		l->k->has_seed = true;
		l->k->seed = (uint64_t)v;
	}
	return 0;
}

static bool valid_id(const char *s, size_t n)
{
	if (n == 0 || n >= KEY_ID_MAX || !isalpha((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* rules at NODE CMP N */
static bool parse_rules_condition(struct kline *l, struct key_check *c)
{
	size_t at, n = next_word(l, &at); /* "at", already seen by the caller */
	n = next_word(l, &at);
	if (n == 0) {
		kline_error(l, at, 1, "expected the node whose rules are counted");
		return false;
	}
	c->node = strndup(l->src + at, n);
	n = next_word(l, &at);
	size_t cmp = 0;
	while (cmp < 3 && !word_is(l, at, n, compare_names[cmp]))
		cmp++;
	if (cmp == 3) {
		kline_error(l, at, n, "expected at-most, at-least or exactly");
		return false;
	}
	c->cmp = (enum key_compare)cmp;
	return c->node && read_number(l, "the number of rules", 0, 100000, &c->limit) && no_more(l);
}

/* changed at-most N lines */
static bool parse_changed_condition(struct kline *l, struct key_check *c)
{
	size_t at, n = next_word(l, &at);
	if (!word_is(l, at, n, "at-most")) {
		kline_error(l, at, n, "expected at-most (changed at-most N lines)");
		return false;
	}
	c->cmp = KEY_AT_MOST;
	if (!read_number(l, "the number of lines", 0, 100000, &c->limit))
		return false;
	n = next_word(l, &at);
	if (!word_is(l, at, n, "lines") && !word_is(l, at, n, "line")) {
		kline_error(l, at, n, "expected the word lines (changed at-most N lines)");
		return false;
	}
	return no_more(l);
}

/* The condition: a structural one read here, or an expectation kept as text
 * after a look at its first words. */
static bool parse_condition(struct kline *l, struct key_check *c)
{
	size_t start, n1, at2, n2;
	n1 = next_word(l, &start);
	if (n1 == 0) {
		kline_error(l, start, 1,
			    "expected the check's condition: an expectation "
			    "(drop at NODE ..., HOST and HOST direct, ...), rules at NODE "
			    "at-most N, or changed at-most N lines");
		return false;
	}
	c->cond_col = (int)start + 1;
	size_t after_first = l->pos;
	n2 = next_word(l, &at2);
	size_t end = l->len;
	while (end > start && (l->src[end - 1] == ' ' || l->src[end - 1] == '\t'))
		end--;
	c->condition = strndup(l->src + start, end - start);
	if (c->condition == NULL)
		return false;
	if (word_is(l, start, n1, "rules") && word_is(l, at2, n2, "at")) {
		c->kind = KEY_CHECK_RULES;
		l->pos = after_first;
		return parse_rules_condition(l, c);
	}
	if (word_is(l, start, n1, "changed")) {
		c->kind = KEY_CHECK_CHANGED;
		l->pos = after_first;
		return parse_changed_condition(l, c);
	}
	c->kind = KEY_CHECK_EXPECT;
	for (size_t i = 0; i < N_STARTS; i++)
		if (word_is(l, start, n1, expect_starts[i]))
			return true;
	if (word_is(l, at2, n2, "and"))
		return true;
	kline_error(l, start, n1,
		    "a condition is an expectation without 'expect' (drop, no drop, mapping, "
		    "no mapping, classify, data, HOST and HOST ...), 'rules at NODE ...' or "
		    "'changed at-most N lines'");
	return false;
}

static struct key_check *new_check(struct key *k)
{
	if (k->n_checks % 16 == 0) {
		struct key_check *c = realloc(k->checks, (k->n_checks + 16) * sizeof(*c));
		if (c == NULL)
			return NULL;
		k->checks = c;
	}
	struct key_check *c = &k->checks[k->n_checks];
	memset(c, 0, sizeof(*c));
	return c;
}

static void check_fini(struct key_check *c)
{
	free(c->text);
	free(c->condition);
	free(c->node);
}

/* check ID "TEXT" [points N] CONDITION */
static int parse_check(struct kline *l)
{
	struct key *k = l->k;
	size_t at, n = next_word(l, &at);
	if (!valid_id(l->src + at, n)) {
		kline_error(l, at, n,
			    "expected the check's id: a letter, then letters, digits, "
			    "'-', '_' or '.' (at most %d)",
			    KEY_ID_MAX - 1);
		return 0;
	}
	if (k->n_checks == KEY_MAX_CHECKS) {
		kline_error(l, at, n, "more than %d checks", KEY_MAX_CHECKS);
		return 0;
	}
	struct key_check *c = new_check(k);
	if (c == NULL)
		return -1;
	memcpy(c->id, l->src + at, n);
	c->id[n] = 0;
	c->line = l->number;
	c->points = 1;
	for (size_t i = 0; i < k->n_checks; i++)
		if (strcmp(k->checks[i].id, c->id) == 0)
			kline_error(l, at, n, "a second check '%s' (the first is on line %d)",
				    c->id, k->checks[i].line);
	c->text = read_text(l, "the check's text");
	size_t save = l->pos;
	size_t pn = c->text ? next_word(l, &at) : 0;
	if (pn && word_is(l, at, pn, "points")) {
		long p = 1;
		if (read_number(l, "the points", 1, KEY_MAX_POINTS, &p))
			c->points = (int)p;
	} else {
		l->pos = save;
	}
	bool ok = c->text && parse_condition(l, c);
	if (!ok || l->errors) {
		check_fini(c);
		return 0;
	}
	k->total += c->points;
	k->n_checks++;
	return 0;
}

static int parse_line(struct kline *l)
{
	size_t at, n = next_word(l, &at);
	if (n == 0)
		return 0; /* blank or a comment */
	static int (*const parse[])(struct kline *) = {parse_task, parse_check, parse_base,
						       parse_seed};
	for (size_t i = 0; i < N_KEYWORDS; i++)
		if (word_is(l, at, n, key_keywords[i]))
			return parse[i](l);
	char word[40];
	snprintf(word, sizeof(word), "%.*s", (int)(n < 39 ? n : 39), l->src + at);
	const char *near = diag_suggest(word, key_keywords, N_KEYWORDS);
	if (strcmp(word, "expect") == 0)
		kline_error(l, at, n, "a key has no expect lines: write the expectation as a "
				      "check, 'check ID \"TEXT\" CONDITION' without 'expect'");
	else if (near)
		kline_error(l, at, n, "unknown keyword '%s'; did you mean '%s'?", word, near);
	else
		kline_error(l, at, n,
			    "unknown keyword '%s' (a key has task, check, base and "
			    "seed lines)",
			    word);
	return 0;
}

/* ---- the file ---- */

void key_free(struct key *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n_checks; i++)
		check_fini(&k->checks[i]);
	free(k->checks);
	free(k->filename);
	free(k->task);
	free(k->base_path);
	free(k->base_text);
	free(k->base_file);
	free(k->text);
	free(k);
}

static struct key *key_new(const char *text, size_t len, const char *filename)
{
	struct key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	k->filename = strdup(filename ? filename : "<key>");
	k->text = malloc(len + 1);
	if (k->filename == NULL || k->text == NULL) {
		key_free(k);
		return NULL;
	}
	memcpy(k->text, text, len);
	k->text[len] = 0;
	k->len = len;
	return k;
}

struct key *key_parse(const char *text, size_t len, const char *filename, struct diag *d)
{
	struct key *k = key_new(text, len, filename);
	if (k == NULL)
		return NULL;
	size_t errors = diag_count_errors(d);
	int number = 1;
	for (size_t i = 0; i <= len; number++) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		struct kline l = {k, d, number, k->text + i, e - i, 0, 0};
		if (l.len && l.src[l.len - 1] == '\r')
			l.len--;
		if (memchr(l.src, 0, l.len))
			kline_error(&l, (size_t)((const char *)memchr(l.src, 0, l.len) - l.src), 1,
				    "a NUL byte: a key is text");
		else if (parse_line(&l) < 0)
			goto fail;
		i = e + 1;
	}
	if (k->n_checks == 0 && diag_count_errors(d) == errors) {
		struct diag_span at = {k->filename, 0, 0, 0, NULL, 0};
		diag_add(d, DIAG_ERROR, &at,
			 "this key has no check: a key needs at least one "
			 "'check ID \"TEXT\" CONDITION' line");
	}
	for (size_t i = 0; i < k->n_checks; i++)
		if (k->checks[i].kind == KEY_CHECK_CHANGED && k->base_path == NULL) {
			struct diag_span at = {
			    k->filename, k->checks[i].line, k->checks[i].cond_col, 7, NULL, 0};
			at.src = key_source_line(k, at.line, &at.src_len);
			diag_add(d, DIAG_ERROR, &at,
				 "'changed' compares with the world handed "
				 "out: name it in a 'base FILE' line");
		}
	if (diag_count_errors(d) == errors)
		return k;
fail:
	key_free(k);
	return NULL;
}

const char *key_source_line(const struct key *k, int line, size_t *len)
{
	const char *p = k->text, *end = k->text + k->len;
	for (int n = 1; n < line; n++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return NULL;
		p++;
	}
	if (line < 1 || p > end)
		return NULL;
	const char *e = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((e ? e : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return p;
}

/* A whole file, NUL-terminated; NULL with errno set. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap * 2 + 8192);
			if (nb == NULL)
				break;
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	int err = ferror(f) ? EIO : ENOMEM;
	bool ok = buf && !ferror(f) && feof(f);
	fclose(f);
	if (!ok) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

int key_load_base(struct key *k, struct diag *d)
{
	if (k->base_path == NULL)
		return 0;
	const char *slash = strrchr(k->filename, '/');
	size_t dir =
	    k->base_path[0] == '/' || slash == NULL ? 0 : (size_t)(slash - k->filename) + 1;
	size_t n = dir + strlen(k->base_path) + 1;
	free(k->base_file);
	k->base_file = malloc(n);
	if (k->base_file == NULL)
		return -1;
	snprintf(k->base_file, n, "%.*s%s", (int)dir, k->filename, k->base_path);
	k->base_text = read_file(k->base_file, &k->base_len);
	if (k->base_text)
		return 0;
	struct diag_span at = {k->filename, k->base_line, 1, 4, NULL, 0};
	at.src = key_source_line(k, at.line, &at.src_len);
	diag_add(d, DIAG_ERROR, &at, "cannot read the base world %s: %s", k->base_file,
		 strerror(errno));
	return -1;
}

struct key *key_load(const char *path, struct diag *d)
{
	size_t len = 0;
	char *text = read_file(path, &len);
	if (text == NULL) {
		struct diag_span at = {NULL, 0, 0, 0, NULL, 0};
		diag_add(d, DIAG_ERROR, &at, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	struct key *k = key_parse(text, len, path, d);
	free(text);
	if (k && key_load_base(k, d) < 0) {
		key_free(k);
		return NULL;
	}
	return k;
}
