/*
 * scenario.c - the scenario object: its memory (an arena for strings, grown
 * arrays for elements, a copy of the source for diagnostics at run time), the
 * names of its enums, and scenario_parse / scenario_load, which run the
 * lexer and parser line by line (parser.c) and then the checks (checks.c).
 *
 * The language itself is described at the top of parser.c; the other parts
 * of app/lang/ are lexer.c (a line into tokens, and where errors point),
 * values.c (one word into a value, shared with --set), checks.c (names,
 * cycles, addresses) and overrides.c (--set).
 *
 * Memory: strings live in an arena owned by the scenario; element arrays are
 * realloc'd vectors; the source text is copied so diagnostics at run time can
 * show the line.
 */
#include "app/lang/scenario.h"
#include "app/lang/scenario_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ memory */

#define ARENA_BLOCK 4096

void *arena_alloc(struct scenario_priv *pr, size_t n)
{
	struct arena_block *b = pr->arena;
	size_t align = sizeof(max_align_t);

	n = (n + align - 1) / align * align;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = pr->arena;
		b->used = 0;
		b->cap = cap;
		pr->arena = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *arena_strndup(struct scenario_priv *pr, const char *s, size_t len)
{
	char *p = arena_alloc(pr, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Room for one more item; returns the (maybe moved) array or NULL on OOM. */
void *grow_array(void *items, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return items;
	size_t new_cap = *cap ? *cap * 2 : 8;
	void *q = realloc(items, new_cap * size);

	if (q)
		*cap = new_cap;
	return q;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	if (s->priv) {
		struct arena_block *b = s->priv->arena;

		while (b) {
			struct arena_block *next = b->next;
			free(b);
			b = next;
		}
		free(s->priv->text);
		free(s->priv->line_off);
		free(s->priv->description);
		free(s->priv);
	}
	free(s->nats);
	free(s->routers);
	free(s->hosts);
	free(s->links);
	free(s->forwards);
	free(s->rules);
	free(s->policies);
	free(s->actions);
	free(s->expects);
	free(s);
}

static struct scenario *scenario_alloc(const char *text, size_t len, const char *filename)
{
	struct scenario *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->priv = calloc(1, sizeof(*s->priv));
	if (!s->priv)
		goto fail;
	s->internet.latency_ns = SCENARIO_UNSET;
	s->internet.jitter_ns = SCENARIO_UNSET;
	s->internet.loss = SCENARIO_UNSET;
	s->filename = arena_strndup(s->priv, filename, strlen(filename));
	s->priv->text = malloc(len + 1);
	if (!s->filename || !s->priv->text)
		goto fail;
	if (len)
		memcpy(s->priv->text, text, len);
	s->priv->text[len] = '\0';
	s->priv->text_len = len;
	size_t n_lines = 1;
	for (size_t i = 0; i < len; i++)
		n_lines += text[i] == '\n';
	s->priv->line_off = malloc(n_lines * sizeof(size_t));
	if (!s->priv->line_off)
		goto fail;
	s->priv->line_off[0] = 0;
	for (size_t i = 0, k = 1; i < len; i++)
		if (text[i] == '\n')
			s->priv->line_off[k++] = i + 1;
	s->priv->n_lines = n_lines;
	return s;
fail:
	scenario_free(s);
	return NULL;
}

const char *scenario_source_line(const struct scenario *s, int line, size_t *len)
{
	if (!s || !s->priv || line < 1 || (size_t)line > s->priv->n_lines)
		return NULL;
	const struct scenario_priv *pr = s->priv;
	size_t start = pr->line_off[line - 1];
	size_t end = (size_t)line < pr->n_lines ? pr->line_off[line] - 1 : pr->text_len;

	/* A trailing '\r' (CRLF files) is not part of the line. */
	if (end > start && pr->text[end - 1] == '\r')
		end--;
	*len = end - start;
	return pr->text + start;
}

int report_v(const struct scenario *s, struct diag *d, enum diag_severity sev,
	     const struct scenario_loc *loc, const char *fmt, va_list ap)
{
	struct diag_span at = {.file = s ? s->filename : NULL};

	if (loc && loc->line > 0) {
		at.line = loc->line;
		at.col = loc->col;
		at.len = loc->len;
		at.src = scenario_source_line(s, loc->line, &at.src_len);
	}
	return diag_addv(d, sev, &at, fmt, ap);
}

int scenario_report(const struct scenario *s, struct diag *d, enum diag_severity sev,
		    const struct scenario_loc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int rc = report_v(s, d, sev, loc, fmt, ap);
	va_end(ap);
	return rc;
}

/* ------------------------------------------------------------------ tables */

struct preset {
	const char *name;
	int mapping, filtering;
};

/* RFC 4787 section 3's reading of the classic names. */
static const struct preset presets[] = {
    {"full-cone", SCENARIO_EI, SCENARIO_EI},
    {"restricted-cone", SCENARIO_EI, SCENARIO_AD},
    {"port-restricted-cone", SCENARIO_EI, SCENARIO_APD},
    {"symmetric", SCENARIO_APD, SCENARIO_APD},
};

static const char *const expect_names[] = {
    [SCENARIO_EXPECT_PATH] = "HOST and HOST",
    [SCENARIO_EXPECT_DROP] = "drop",
    [SCENARIO_EXPECT_NO_DROP] = "no drop",
    [SCENARIO_EXPECT_MAPPING] = "mapping",
    [SCENARIO_EXPECT_CLASSIFY] = "classify",
    [SCENARIO_EXPECT_DATA] = "data",
    [SCENARIO_EXPECT_NO_MAPPING] = "no mapping",
    [SCENARIO_EXPECT_ICMP] = "icmp",
    [SCENARIO_EXPECT_NO_ICMP] = "no icmp",
    [SCENARIO_EXPECT_RELATED] = "related",
    [SCENARIO_EXPECT_TCP] = "tcp",
    [SCENARIO_EXPECT_SOCKET] = "socket",
    [SCENARIO_EXPECT_NO_SOCKET] = "no socket",
    [SCENARIO_EXPECT_CONNTRACK] = "conntrack",
    [SCENARIO_EXPECT_NO_CONNTRACK] = "no conntrack",
};

/* RFC 792 / RFC 1812 5.2.7.1 names, as nft and iptables spell them. */
const struct scenario_icmp_word scenario_icmp_words[] = {
    {"echo-reply", 0, 0},	 {"echo-request", 8, 0},     {"destination-unreachable", 3, -1},
    {"net-unreachable", 3, 0},	 {"host-unreachable", 3, 1}, {"proto-unreachable", 3, 2},
    {"port-unreachable", 3, 3},	 {"net-prohibited", 3, 9},   {"host-prohibited", 3, 10},
    {"admin-prohibited", 3, 13}, {"time-exceeded", 11, 0},   {"parameter-problem", 12, -1},
};
const size_t scenario_icmp_word_count = COUNT(scenario_icmp_words);

const char *scenario_icmp_name(int type, int code)
{
	for (size_t i = 0; i < COUNT(scenario_icmp_words); i++)
		if (scenario_icmp_words[i].type == type && scenario_icmp_words[i].code == code)
			return scenario_icmp_words[i].name;
	return NULL;
}

const char *scenario_action_kind_name(enum scenario_action_kind kind)
{
	if (kind == SCENARIO_ACT_CUT_LINK)
		return "cut link";
	if (kind == SCENARIO_ACT_RESTORE_LINK)
		return "restore link";
	return (unsigned)kind < COUNT(action_names) ? action_names[kind] : "?";
}

const char *scenario_expect_kind_name(enum scenario_expect_kind kind)
{
	return (unsigned)kind < COUNT(expect_names) ? expect_names[kind] : "?";
}

const char *scenario_tcp_outcome_name(int outcome)
{
	return outcome >= 0 && (size_t)outcome < COUNT(tcp_outcome_words)
		   ? tcp_outcome_words[outcome]
		   : NULL;
}

const char *scenario_tcp_state_name(int state)
{
	return state >= 0 && (size_t)state < COUNT(tcp_state_words) ? tcp_state_words[state] : NULL;
}

const char *scenario_ct_state_name(int state)
{
	return state >= 0 && (size_t)state < COUNT(ct_state_words) ? ct_state_words[state] : NULL;
}

const char *scenario_behaviour_name(int behaviour)
{
	return behaviour >= 0 && (size_t)behaviour < COUNT(behaviour_names)
		   ? behaviour_names[behaviour]
		   : "?";
}

const char *scenario_reason_name(int reason)
{
	return reason >= 0 && (size_t)reason < COUNT(reason_names) ? reason_names[reason] : "?";
}

const char *scenario_path_name(int path)
{
	return path >= 0 && (size_t)path < COUNT(path_names) ? path_names[path] : "?";
}

int scenario_preset_behaviour(const char *preset, int *mapping, int *filtering)
{
	for (size_t i = 0; preset && i < COUNT(presets); i++) {
		if (strcmp(preset, presets[i].name) == 0) {
			*mapping = presets[i].mapping;
			*filtering = presets[i].filtering;
			return 0;
		}
	}
	return -1;
}

const struct scenario_host *scenario_find_host(const struct scenario *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n_hosts; i++)
		if (s->hosts[i].name && strcmp(s->hosts[i].name, name) == 0)
			return &s->hosts[i];
	return NULL;
}

const struct scenario_nat *scenario_find_nat(const struct scenario *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->n_nats; i++)
		if (s->nats[i].name && strcmp(s->nats[i].name, name) == 0)
			return &s->nats[i];
	return NULL;
}

/* --------------------------------------------------------------------- API */

struct scenario *scenario_parse(const char *text, size_t len, const char *filename,
				struct diag *diags)
{
	struct scenario *s =
	    scenario_alloc(text ? text : "", text ? len : 0, filename ? filename : "<input>");
	struct parser p = {.s = s, .d = diags};
	size_t first = diag_count(diags);

	if (!s) {
		diag_add(diags, DIAG_ERROR, NULL, "out of memory reading %s",
			 filename ? filename : "the scenario");
		return NULL;
	}
	p.pr = s->priv;
	parse_lines(&p);
	if (!p.oom && !p.too_many)
		check_scenario(&p);
	free(p.toks);
	s->description = s->priv->description;
	/* Parse errors come line by line, check errors afterwards: show them
	 * all in file order. */
	diag_sort(diags, first);
	if (p.too_many)
		diag_add(diags, DIAG_NOTE, NULL,
			 "too many errors in %s; only the first %d are shown", s->filename,
			 SCENARIO_MAX_ERRORS);
	if (p.oom)
		diag_add(diags, DIAG_ERROR, NULL, "out of memory reading %s", s->filename);
	if (p.oom || p.errors > 0) {
		scenario_free(s);
		return NULL;
	}
	return s;
}

struct scenario *scenario_load(const char *path, struct diag *diags)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f) {
		diag_add(diags, DIAG_ERROR, NULL, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16384;
			char *q = cap <= 2 * (size_t)SCENARIO_MAX_FILE ? realloc(buf, cap) : NULL;
			if (!q) {
				errno = ENOMEM;
				break;
			}
			buf = q;
		}
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	int err = ferror(f) || len == cap ? errno : 0;
	fclose(f);
	if (err || len > SCENARIO_MAX_FILE) {
		if (len > SCENARIO_MAX_FILE)
			diag_add(diags, DIAG_ERROR, NULL,
				 "cannot read %s: a scenario file is at "
				 "most %u bytes",
				 path, SCENARIO_MAX_FILE);
		else
			diag_add(diags, DIAG_ERROR, NULL, "cannot read %s: %s", path,
				 strerror(err));
		free(buf);
		return NULL;
	}
	struct scenario *s = scenario_parse(buf, len, path, diags);
	free(buf);
	return s;
}
