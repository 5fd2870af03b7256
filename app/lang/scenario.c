/*
 * scenario.c - lexer, parser and semantic checks of the scenario language.
 *
 * The language is line-oriented, so the parser is too: each line is split
 * into tokens (words, strings, commas), the first word picks a statement
 * parser, and that parser walks the tokens. The first error in a line is
 * reported and the rest of the line skipped, so one pass reports one error
 * per bad line. Then a check pass resolves names, reports duplicates, cycles
 * and clashing addresses at the token that caused them, and sorts the
 * actions by time.
 *
 * Words are maximal runs of anything but blanks, '#', '"' and ','; what a
 * word means (keyword, name, address, duration, endpoint...) depends on
 * where it stands, which lets every message say what was expected there.
 *
 * Memory: strings live in an arena owned by the scenario; element arrays are
 * realloc'd vectors; the source text is copied so diagnostics at run time can
 * show the line.
 */
#include "app/lang/scenario.h"

#include "model/packet.h" /* PACKET_MAX_SIZE, header sizes: how big a raw datagram can be */
#include "p2p/agent.h"	  /* AGENT_NAME_MAX, AGENT_MAX_DATA: what a peer can register and send */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ memory */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct scenario_priv {
	struct arena_block *arena;
	char *text; /* copy of the source */
	size_t text_len;
	size_t *line_off; /* byte offset of each line's start */
	size_t n_lines;
	size_t cap_nats, cap_hosts, cap_links, cap_forwards, cap_rules, cap_policies;
	size_t cap_actions, cap_expects;
	char *description; /* grows as description lines arrive (malloc'd) */
	size_t description_len;
};

#define ARENA_BLOCK 4096

static void *arena_alloc(struct scenario_priv *pr, size_t n)
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

static char *arena_strndup(struct scenario_priv *pr, const char *s, size_t len)
{
	char *p = arena_alloc(pr, len + 1);

	if (!p)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Room for one more item; returns the (maybe moved) array or NULL on OOM. */
static void *grow_array(void *items, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return items;
	size_t new_cap = *cap ? *cap * 2 : 8;
	void *q = realloc(items, new_cap * size);

	if (q)
		*cap = new_cap;
	return q;
}

/* Append a zeroed item to arr (count n, capacity cap); out = the item or NULL. */
#define PUSH(arr, n, cap, out)                                                                     \
	do {                                                                                       \
		void *q_ = grow_array((arr), (n), &(cap), sizeof(*(arr)));                         \
		(out) = NULL;                                                                      \
		if (q_) {                                                                          \
			(arr) = q_;                                                                \
			(out) = &(arr)[(n)++];                                                     \
			memset((out), 0, sizeof(*(out)));                                          \
		}                                                                                  \
	} while (0)

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

static int report_v(const struct scenario *s, struct diag *d, enum diag_severity sev,
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

static const char *const behaviour_names[] = {
    "endpoint-independent",
    "address-dependent",
    "address-and-port-dependent",
};

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
static const char *const preset_names[] = {
    "full-cone",
    "restricted-cone",
    "port-restricted-cone",
    "symmetric",
};

static const char *const ports_names[] = {"preserve", "sequential", "random"};

static const char *const class_names[] = {
    "open", "firewall", "full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
};

/* Indexed by enum trace_drop_reason; [0] is "any" (no reason given). */
static const char *const reason_names[] = {
    "any", "firewall",	"nat-filter", "nat-no-mapping", "nat-exhausted", "hairpin",   "no-route",
    "ttl", "link-loss", "link-down",  "queue-full",	"malformed",	 "no-socket", "not-for-us",
};

static const char *const path_names[] = {"direct", "relayed", "unconnected"};
static const char *const chain_names[] = {"input", "output", "forward"};
static const char *const verdict_names[] = {"accept", "drop", "reject"};

static const char *const action_names[] = {
    [SCENARIO_ACT_REGISTER] = "register",
    [SCENARIO_ACT_CONNECT] = "connect",
    [SCENARIO_ACT_SEND] = "send",
    [SCENARIO_ACT_CLASSIFY] = "classify",
    [SCENARIO_ACT_KEEPALIVE] = "keepalive",
    [SCENARIO_ACT_CUT_LINK] = "cut",
    [SCENARIO_ACT_RESTORE_LINK] = "restore",
    [SCENARIO_ACT_REBOOT] = "reboot",
    [SCENARIO_ACT_SET] = "set",
    [SCENARIO_ACT_RAW] = "raw",
    [SCENARIO_ACT_NOTE] = "note",
};

static const char *const expect_names[] = {
    [SCENARIO_EXPECT_PATH] = "HOST and HOST", [SCENARIO_EXPECT_DROP] = "drop",
    [SCENARIO_EXPECT_NO_DROP] = "no drop",    [SCENARIO_EXPECT_MAPPING] = "mapping",
    [SCENARIO_EXPECT_CLASSIFY] = "classify",  [SCENARIO_EXPECT_DATA] = "data",
    [SCENARIO_EXPECT_NO_MAPPING] = "no mapping",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

/* ------------------------------------------------------------ value parsers */
/*
 * These read one word (bytes s[0..len), not NUL-terminated) and either set
 * *out and return 0, or write a message into msg (MSG_SIZE bytes) and return
 * -1. The same messages serve the file parser and --set.
 */

#define MSG_SIZE 320
#define SHOW_MAX UNITS_SHOW_MAX

/* A word made safe and short for a message: unprintable bytes become '?'. */
struct shown {
	char s[SHOW_MAX + 8];
};

static struct shown show(const char *s, size_t len)
{
	struct shown r;

	units_show(s, len, r.s); /* the same quoting as every units message */
	return r;
}

static bool word_is(const char *s, size_t len, const char *kw)
{
	return strlen(kw) == len && memcmp(s, kw, len) == 0;
}

static int word_index(const char *s, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && word_is(s, len, names[i]))
			return (int)i;
	return -1;
}

static const char *suggest_n(const char *s, size_t len, const char *const *names, size_t n)
{
	char word[65];

	if (len == 0 || len >= sizeof(word) || memchr(s, '\0', len))
		return NULL;
	memcpy(word, s, len);
	word[len] = '\0';
	return diag_suggest(word, names, n);
}

/* Append "; did you mean 'X'?" to msg if a candidate is close to the word. */
static void add_suggestion(char *msg, const char *s, size_t len, const char *const *names, size_t n)
{
	const char *best = suggest_n(s, len, names, n);
	size_t used = strlen(msg);

	if (best && used < MSG_SIZE)
		snprintf(msg + used, MSG_SIZE - used, "; did you mean '%s'?", best);
}

static int val_choice(const char *s, size_t len, const char *const *names, size_t n,
		      const char *expected, int *out, char *msg)
{
	int i = word_index(s, len, names, n);

	if (i >= 0) {
		*out = i;
		return 0;
	}
	snprintf(msg, MSG_SIZE, "expected %s, found '%s'", expected, show(s, len).s);
	add_suggestion(msg, s, len, names, n);
	return -1;
}

static int val_on_off(const char *s, size_t len, int *out, char *msg)
{
	static const char *const names[] = {"off", "on"};

	return val_choice(s, len, names, 2, "'on' or 'off'", out, msg);
}

static bool ieq(const char *s, size_t len, const char *kw)
{
	if (strlen(kw) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (tolower((unsigned char)s[i]) != kw[i])
			return false;
	return true;
}

/* Names, or abbreviations EI/AD/APD with an optional M (mapping) or F
 * (filtering) suffix, case-insensitive: EIM, apdf... */
static int val_behaviour(const char *s, size_t len, bool filtering, int *out, char *msg)
{
	static const char *const abbrev[] = {"ei", "ad", "apd"};
	const char *axis = filtering ? "filtering" : "mapping";
	int full = word_index(s, len, behaviour_names, 3);

	if (full >= 0) {
		*out = full;
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(abbrev[i]);

		if (len < n || len > n + 1 || !ieq(s, n, abbrev[i]))
			continue;
		char suffix = len > n ? (char)tolower((unsigned char)s[n]) : 0;
		if (!suffix || suffix == (filtering ? 'f' : 'm')) {
			*out = i;
			return 0;
		}
		if (suffix == (filtering ? 'm' : 'f')) {
			snprintf(msg, MSG_SIZE,
				 "'%s' is a %s behaviour; for %s write %s, %s%c or %s",
				 show(s, len).s, filtering ? "mapping" : "filtering", axis,
				 i == 0	  ? "EI"
				 : i == 1 ? "AD"
					  : "APD",
				 i == 0	  ? "EI"
				 : i == 1 ? "AD"
					  : "APD",
				 filtering ? 'F' : 'M', behaviour_names[i]);
			return -1;
		}
	}
	snprintf(msg, MSG_SIZE,
		 "expected a %s behaviour: endpoint-independent, address-dependent or "
		 "address-and-port-dependent (or EI, AD, APD), found '%s'",
		 axis, show(s, len).s);
	add_suggestion(msg, s, len, behaviour_names, 3);
	return -1;
}

static int val_preset(const char *s, size_t len, const char **out, char *msg)
{
	int i = 0;

	if (val_choice(s, len, preset_names, COUNT(preset_names),
		       "a preset: full-cone, restricted-cone, port-restricted-cone or symmetric",
		       &i, msg) < 0)
		return -1;
	*out = preset_names[i];
	return 0;
}

static int val_ports(const char *s, size_t len, int *out, char *msg)
{
	return val_choice(s, len, ports_names, 3, "'preserve', 'sequential' or 'random'", out, msg);
}

/* A whole number 0..max (units_parse_count: decimal digits only). */
static int val_u64(const char *s, size_t len, uint64_t max, const char *what, uint64_t *out,
		   char *msg)
{
	return units_read_count(what, s, len, 0, max, out, msg, MSG_SIZE) == UNITS_OK ? 0 : -1;
}

static int val_port(const char *s, size_t len, uint16_t *out, char *msg)
{
	uint64_t v;

	if (val_u64(s, len, 65535, "a port", &v, msg) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "N" or "N-M" with N <= M. */
static int val_port_range(const char *s, size_t len, uint16_t *lo, uint16_t *hi, char *msg)
{
	const char *dash = memchr(s, '-', len);

	if (!dash) {
		if (val_port(s, len, lo, msg) < 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	size_t n = (size_t)(dash - s);
	if (val_port(s, n, lo, msg) < 0 || val_port(dash + 1, len - n - 1, hi, msg) < 0)
		return -1;
	if (*lo > *hi) {
		snprintf(msg, MSG_SIZE,
			 "port range '%s' is backwards: the first port must be "
			 "the lower one",
			 show(s, len).s);
		return -1;
	}
	return 0;
}

/* a.b.c.d, each part 0-255 in decimal. Returns 0, -1 if it is not an
 * address, or IPV4_LEADING_ZERO (with *out set to the decimal reading) if a
 * part has a leading zero: inet_aton and many tools read 010 as octal 8,
 * so the same text would mean two addresses. */
#define IPV4_LEADING_ZERO (-2)
static int ipv4_n(const char *s, size_t len, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0;
	bool zero = false;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0) {
			if (i >= len || s[i] != '.')
				return -1;
			i++;
		}
		zero |= i + 1 < len && s[i] == '0' && isdigit((unsigned char)s[i + 1]);
		while (i < len && isdigit((unsigned char)s[i]) && digits < 4) {
			v = v * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -1;
		ip = ip << 8 | v;
	}
	if (i != len)
		return -1;
	*out = ip;
	return zero ? IPV4_LEADING_ZERO : 0;
}

static void format_ip(uint32_t ip, char buf[16]);

/* The message for an address written with a leading zero. */
static void leading_zero_problem(const char *s, size_t len, uint32_t ip, char *msg)
{
	char canon[16];

	format_ip(ip, canon);
	snprintf(msg, MSG_SIZE,
		 "'%s' has a part with a leading zero, which some tools read as octal; write %s",
		 show(s, len).s, canon);
}

static int val_ipv4(const char *s, size_t len, uint32_t *out, char *msg)
{
	int rc = ipv4_n(s, len, out);

	if (rc == 0)
		return 0;
	if (rc == IPV4_LEADING_ZERO)
		leading_zero_problem(s, len, *out, msg);
	else
		snprintf(msg, MSG_SIZE, "expected an IPv4 address like 192.0.2.1, found '%s'",
			 show(s, len).s);
	return -1;
}

static void format_ip(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

/* The documented range of each duration setting (docs/scenario.md,
 * "Ranges and limits"). Each bound has a reason: below a keepalive's 100 ms the run
 * spends its time on keepalives (1ns never ended), a day is longer than any
 * lesson needs, and 10 s of latency is already a satellite link gone wrong. */
const struct units_setting scenario_time_setting = {
    .what = "a time", .min_ns = 0, .max_ns = SCENARIO_MAX_TIME_NS};
const struct units_setting scenario_keepalive_setting = {
    .what = "a keepalive interval",
    .min_ns = SCENARIO_KEEPALIVE_MIN_NS,
    .max_ns = SCENARIO_KEEPALIVE_MAX_NS,
    .zero_word = "off",
    .zero_means = "no keepalives",
};
const struct units_setting scenario_latency_setting = {
    .what = "a latency", .min_ns = 0, .max_ns = 10 * UNITS_NS_PER_S};
const struct units_setting scenario_jitter_setting = {
    .what = "a jitter", .min_ns = 0, .max_ns = 10 * UNITS_NS_PER_S};
const struct units_setting scenario_nat_timeout_setting = {
    .what = "a mapping timeout", .min_ns = UNITS_NS_PER_S, .max_ns = 24 * UNITS_NS_PER_H};

int scenario_parse_duration(const char *s, int64_t *ns)
{
	if (!s || !ns)
		return SCENARIO_DURATION_SYNTAX;
	return units_parse_duration(s, strlen(s), ns);
}

/* A duration within its setting's range (or its zero word). */
static int val_setting(const struct units_setting *set, const char *s, size_t len, int64_t *out,
		       char *msg)
{
	return units_read_setting(set, s, len, out, msg, MSG_SIZE) == UNITS_OK ? 0 : -1;
}

/* A time since the start of the run (`at`, `by`). */
static int val_duration(const char *s, size_t len, int64_t *out, char *msg)
{
	return val_setting(&scenario_time_setting, s, len, out, msg);
}

/* A keepalive interval: "off" (0) or a duration in range. */
static int val_keepalive(const char *s, size_t len, int64_t *out, char *msg)
{
	return val_setting(&scenario_keepalive_setting, s, len, out, msg);
}

/* "1%", "0.5%", "100%" -> a probability 0..1. */
static int val_percent(const char *s, size_t len, double *out, char *msg)
{
	double v = 0, scale = 1;
	size_t i = 0;

	for (; i < len && isdigit((unsigned char)s[i]); i++)
		if (v <= 1000) /* past that, only "too big" matters */
			v = v * 10 + (s[i] - '0');
	if (i == 0)
		goto syntax;
	if (i < len && s[i] == '.') {
		if (++i >= len || !isdigit((unsigned char)s[i]))
			goto syntax;
		for (; i < len && isdigit((unsigned char)s[i]); i++)
			if (scale > 1e-12)
				v += (s[i] - '0') * (scale /= 10);
	}
	if (i != len - 1 || s[i] != '%')
		goto syntax;
	if (v > 100) {
		snprintf(msg, MSG_SIZE, "'%s' is out of range: a loss is between 0%% and 100%%",
			 show(s, len).s);
		return -1;
	}
	*out = v / 100;
	return 0;
syntax:
	snprintf(msg, MSG_SIZE, "expected a percentage like 1%% or 0.5%%, found '%s'",
		 show(s, len).s);
	return -1;
}

/* a.b.c.d/len or a.b.c.d (a /32). *host_bits tells if bits past len were set
 * (they are cleared, as iptables does). */
static int val_prefix(const char *s, size_t len, uint32_t *ip, uint8_t *plen, bool *host_bits,
		      char *msg)
{
	const char *slash = memchr(s, '/', len);
	size_t n = slash ? (size_t)(slash - s) : len;
	uint64_t bits = 32;

	int rc = ipv4_n(s, n, ip);
	if (rc == IPV4_LEADING_ZERO) {
		leading_zero_problem(s, n, *ip, msg);
		return -1;
	}
	if (rc < 0) {
		snprintf(msg, MSG_SIZE, "expected an address or prefix like 10.0.0.0/8, found '%s'",
			 show(s, len).s);
		return -1;
	}
	if (slash && val_u64(slash + 1, len - n - 1, 32, "a prefix length", &bits, msg) < 0)
		return -1;
	uint32_t mask = bits == 0 ? 0 : UINT32_MAX << (32 - bits);
	*host_bits = (*ip & ~mask) != 0;
	*ip &= mask;
	*plen = (uint8_t)bits;
	return 0;
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || !isalpha((unsigned char)s[0]) || (unsigned char)s[0] >= 0x80)
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x80 || !(isalnum(c) || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------- lexer */

enum tok_type {
	TOK_WORD,
	TOK_STRING, /* with its quotes; escapes checked by the lexer */
	TOK_COMMA,
};

struct token {
	enum tok_type type;
	size_t off; /* from the start of the line */
	size_t len;
};

struct parser {
	struct scenario *s;
	struct scenario_priv *pr;
	struct diag *d;
	const char *line; /* the current line, without '\n' */
	size_t line_len;
	int line_no;
	struct token *toks;
	size_t n_toks, cap_toks, pos;
	size_t errors;
	bool too_many; /* SCENARIO_MAX_ERRORS reached: stop reporting */
	bool oom;
	struct scenario_loc title_loc, seed_loc;
};

static int clamp_int(size_t v)
{
	return v > INT_MAX ? INT_MAX : (int)v;
}

static struct scenario_loc loc_span(const struct parser *p, size_t off, size_t len)
{
	struct scenario_loc loc = {p->line_no, clamp_int(off + 1), clamp_int(len ? len : 1)};

	return loc;
}

/* A token's location; NULL = just past the last token (something missing). */
static struct scenario_loc loc_of(const struct parser *p, const struct token *t)
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

__attribute__((format(printf, 3, 4))) static int err_loc(struct parser *p, struct scenario_loc loc,
							 const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) static int err_at(struct parser *p, const struct token *t,
							const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_ERROR, loc_of(p, t), fmt, ap);
	va_end(ap);
	return -1;
}

__attribute__((format(printf, 3, 4))) static void
note_loc(struct parser *p, struct scenario_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(p, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void warn_at(struct parser *p, const struct token *t,
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
static int lex_line(struct parser *p)
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

/* ---------------------------------------------------------- token helpers */

#define TEXT(p, t) ((p)->line + (t)->off), ((t)->len)

static const struct token *peek(const struct parser *p)
{
	return p->pos < p->n_toks ? &p->toks[p->pos] : NULL;
}

static bool at_kw(const struct parser *p, const char *kw)
{
	const struct token *t = peek(p);

	return t && t->type == TOK_WORD && word_is(TEXT(p, t), kw);
}

static bool accept_kw(struct parser *p, const char *kw)
{
	if (!at_kw(p, kw))
		return false;
	p->pos++;
	return true;
}

/* "'word'", "a string" or "','" for messages. */
static struct shown found(const struct parser *p, const struct token *t)
{
	struct shown r;

	if (t->type == TOK_STRING)
		snprintf(r.s, sizeof(r.s), "a string");
	else
		snprintf(r.s, sizeof(r.s), "'%.*s'", SHOW_MAX + 3, show(TEXT(p, t)).s);
	return r;
}

/* "expected WHAT, found X" at the current token (or at the line's end). */
static int expected(struct parser *p, const char *what)
{
	const struct token *t = peek(p);

	if (!t)
		return err_at(p, NULL, "expected %s, but the line ends here", what);
	return err_at(p, t, "expected %s, found %s", what, found(p, t).s);
}

static int want_kw(struct parser *p, const char *kw, const char *what)
{
	const struct token *t = peek(p);

	if (accept_kw(p, kw))
		return 0;
	if (t && t->type == TOK_WORD && suggest_n(TEXT(p, t), &kw, 1))
		return err_at(p, t, "expected %s, found %s; did you mean '%s'?", what,
			      found(p, t).s, kw);
	return expected(p, what);
}

static const struct token *want_word(struct parser *p, const char *what)
{
	const struct token *t = peek(p);

	if (!t || t->type != TOK_WORD) {
		expected(p, what);
		return NULL;
	}
	p->pos++;
	return t;
}

static int want_end(struct parser *p, const char *stmt)
{
	const struct token *t = peek(p);

	if (!t)
		return 0;
	return err_at(p, t, "unexpected %s after the end of the '%s' statement", found(p, t).s,
		      stmt);
}

static char *save(struct parser *p, const char *s, size_t len)
{
	char *c = arena_strndup(p->pr, s, len);

	if (!c)
		p->oom = true;
	return c;
}

static int check_name(struct parser *p, const struct token *t, const char *s, size_t len)
{
	/* A host registers under its name, and the coordinator takes names of
	 * 1 to AGENT_NAME_MAX - 1 bytes (p2p/coord.h): longer ones failed only
	 * once running. Every name keeps to it, as names are shared. */
	if (valid_name(s, len) && len > AGENT_NAME_MAX - 1)
		return err_loc(p, t ? loc_of(p, t) : loc_of(p, NULL),
			       "the name '%s' is %zu bytes long; a name is at most %d bytes, the "
			       "longest a peer can register with the coordinator",
			       show(s, len).s, len, AGENT_NAME_MAX - 1);
	if (valid_name(s, len))
		return 0;
	return err_loc(p, t ? loc_of(p, t) : loc_of(p, NULL),
		       "'%s' is not a valid name: a name starts with a letter and continues with "
		       "letters, digits, '-' or '_'",
		       show(s, len).s);
}

static int want_name(struct parser *p, const char *what, struct scenario_ref *out)
{
	const struct token *t = want_word(p, what);

	if (!t || check_name(p, t, TEXT(p, t)) < 0)
		return -1;
	out->name = save(p, TEXT(p, t));
	out->loc = loc_of(p, t);
	return out->name ? 0 : -1;
}

/* Read one word and run a value parser on it, reporting its message. */
#define WANT_VALUE(p, what, call)                                                                  \
	do {                                                                                       \
		char msg[MSG_SIZE];                                                                \
		const struct token *t_ = want_word((p), (what));                                   \
		if (!t_)                                                                           \
			return -1;                                                                 \
		const char *ws = (p)->line + t_->off;                                              \
		size_t wl = t_->len;                                                               \
		if ((call) < 0)                                                                    \
			return err_at((p), t_, "%s", msg);                                         \
	} while (0)

static int want_duration(struct parser *p, const char *what, int64_t *out)
{
	WANT_VALUE(p, what, val_duration(ws, wl, out, msg));
	return 0;
}

static int want_setting(struct parser *p, const char *what, const struct units_setting *set,
			int64_t *out)
{
	WANT_VALUE(p, what, val_setting(set, ws, wl, out, msg));
	return 0;
}

static int want_ip(struct parser *p, const char *what, uint32_t *out, struct scenario_loc *loc)
{
	WANT_VALUE(p, what, val_ipv4(ws, wl, out, msg));
	if (loc)
		*loc = loc_of(p, &p->toks[p->pos - 1]);
	return 0;
}

static int want_port(struct parser *p, const char *what, uint16_t *out)
{
	WANT_VALUE(p, what, val_port(ws, wl, out, msg));
	return 0;
}

/* A port something listens on: port 0 is no port there (to bind() it means
 * "any free port"), so `coordinator ... port 0` is refused here, not at
 * run time. `role` ends the message: "a coordinator's port". */
static int want_listen_port(struct parser *p, const char *what, const char *role, uint16_t *out)
{
	if (want_port(p, what, out) < 0)
		return -1;
	if (*out == 0)
		return err_at(p, &p->toks[p->pos - 1],
			      "port 0 cannot be %s: it means 'any free port'; %s is 1-65535", role,
			      role);
	return 0;
}

/* An address a node's interface can have: a unicast one. The others are
 * refused with what they are (RFC 6890 lists them all). */
static int check_unicast(struct parser *p, uint32_t ip, struct scenario_loc loc)
{
	char buf[16];
	const char *why = NULL;

	if (ip >> 24 == 0)
		why = "0.0.0.0/8 means 'this network' (RFC 1122 section 3.2.1.3)";
	else if (ip >> 24 == 127)
		why = "127.0.0.0/8 is loopback, which never leaves a host (RFC 1122 section "
		      "3.2.1.3)";
	else if (ip == UINT32_MAX)
		why = "it is the limited broadcast address (RFC 919)";
	else if (ip >> 28 == 14)
		why = "224.0.0.0/4 is for multicast groups (RFC 5771), not interfaces";
	else if (ip >> 28 == 15)
		why = "240.0.0.0/4 is reserved (RFC 1112 section 4)";
	if (!why)
		return 0;
	format_ip(ip, buf);
	return err_loc(p, loc, "%s cannot be a node's address: %s", buf, why);
}

/* A node's own address: want_ip, then check_unicast. */
static int want_node_ip(struct parser *p, const char *what, uint32_t *out, struct scenario_loc *loc)
{
	if (want_ip(p, what, out, NULL) < 0)
		return -1;
	if (loc)
		*loc = loc_of(p, &p->toks[p->pos - 1]);
	return check_unicast(p, *out, loc_of(p, &p->toks[p->pos - 1]));
}

static int want_on_off(struct parser *p, const char *what, int *out)
{
	WANT_VALUE(p, what, val_on_off(ws, wl, out, msg));
	return 0;
}

static int want_percent(struct parser *p, const char *what, double *out)
{
	WANT_VALUE(p, what, val_percent(ws, wl, out, msg));
	return 0;
}

static int want_behaviour(struct parser *p, bool filtering, int *out)
{
	const char *what = filtering ? "a filtering behaviour after 'filtering'"
				     : "a mapping behaviour after 'mapping'";

	WANT_VALUE(p, what, val_behaviour(ws, wl, filtering, out, msg));
	return 0;
}

static int want_preset(struct parser *p, const char **out)
{
	WANT_VALUE(p, "a preset after 'preset'", val_preset(ws, wl, out, msg));
	return 0;
}

static int want_string(struct parser *p, const char *what, const char **out, size_t *out_len)
{
	const struct token *t = peek(p);

	if (!t || t->type != TOK_STRING)
		return expected(p, what);
	p->pos++;
	/* The decoded text is never longer than the quoted one. */
	char *buf = arena_alloc(p->pr, t->len);
	if (!buf) {
		p->oom = true;
		return -1;
	}
	size_t n = 0;
	for (size_t i = t->off + 1; i < t->off + t->len - 1; i++) {
		char c = p->line[i];
		if (c == '\\') {
			c = p->line[++i];
			if (c == 'n')
				c = '\n';
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	*out = buf;
	*out_len = n;
	return 0;
}

/* The most a `send` (and so an `expect data`) can carry: one sealed agent
 * message. And a `raw` payload: one UDP datagram in the largest packet the
 * model builds. Past these the run failed with a cut-off reason. */
#define SEND_MAX_BYTES ((size_t)AGENT_MAX_DATA)
#define RAW_MAX_BYTES ((size_t)(PACKET_MAX_SIZE - IPV4_HEADER_MIN - UDP_HEADER_SIZE))

/* want_string, for a text that must fit `max` bytes; `limit` says whose
 * limit that is. */
static int want_text_at_most(struct parser *p, const char *what, size_t max, const char *limit,
			     const char **out, size_t *out_len)
{
	const struct token *t = peek(p);

	if (want_string(p, what, out, out_len) < 0)
		return -1;
	if (*out_len > max)
		return err_at(p, t, "the text is %zu bytes long; %s is at most %zu bytes", *out_len,
			      limit, max);
	return 0;
}

static void join_names(const char *const *names, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
}

/* The optional parts of a statement, in any order, each at most once. */
#define MAX_OPTIONS 16
struct optset {
	const char *stmt;
	const char *const *names;
	size_t n;
	bool seen[MAX_OPTIONS];
	struct scenario_loc first[MAX_OPTIONS];
};

/* The index of the option word at the cursor (consumed), or -1 after an error. */
static int next_option(struct parser *p, struct optset *o)
{
	const struct token *t = peek(p);
	char list[256];
	int i = t->type == TOK_WORD ? word_index(TEXT(p, t), o->names, o->n) : -1;

	if (i < 0)
		join_names(o->names, o->n, list, sizeof(list));
	if (t->type != TOK_WORD)
		return err_at(p, t, "expected one of %s in the '%s' statement, found %s", list,
			      o->stmt, found(p, t).s);
	if (i < 0) {
		const char *best = suggest_n(TEXT(p, t), o->names, o->n);

		if (best)
			return err_at(p, t,
				      "unknown option '%s' in the '%s' statement; did you "
				      "mean '%s'?",
				      show(TEXT(p, t)).s, o->stmt, best);
		return err_at(p, t, "unknown option '%s' in the '%s' statement; expected one of %s",
			      show(TEXT(p, t)).s, o->stmt, list);
	}
	if (o->seen[i]) {
		err_at(p, t, "'%s' is given twice in this statement", o->names[i]);
		note_loc(p, o->first[i], "'%s' was first given here", o->names[i]);
		return -1;
	}
	o->seen[i] = true;
	o->first[i] = loc_of(p, t);
	p->pos++;
	return i;
}

/* --------------------------------------------------------------- the world */

static int parse_title(struct parser *p)
{
	struct scenario_loc here = loc_of(p, &p->toks[0]);
	size_t len;

	if (p->s->title) {
		err_loc(p, here, "'title' is given twice");
		note_loc(p, p->title_loc, "the first title is here");
		return -1;
	}
	if (want_string(p, "a quoted title after 'title'", &p->s->title, &len) < 0)
		return -1;
	p->title_loc = here;
	return want_end(p, "title");
}

static int parse_description(struct parser *p)
{
	struct scenario_priv *pr = p->pr;
	const char *text;
	size_t len;

	if (want_string(p, "a quoted text after 'description'", &text, &len) < 0)
		return -1;
	/* Lines join with '\n'. */
	size_t need = pr->description_len + (pr->description ? 1 : 0) + len + 1;
	char *d = realloc(pr->description, need);
	if (!d) {
		p->oom = true;
		return -1;
	}
	if (pr->description)
		d[pr->description_len++] = '\n';
	memcpy(d + pr->description_len, text, len + 1);
	pr->description_len += len;
	pr->description = d;
	return want_end(p, "description");
}

static int parse_seed(struct parser *p)
{
	struct scenario_loc here = loc_of(p, &p->toks[0]);

	if (p->s->has_seed) {
		err_loc(p, here, "'seed' is given twice");
		note_loc(p, p->seed_loc, "the first seed is here");
		return -1;
	}
	WANT_VALUE(p, "a number after 'seed'",
		   val_u64(ws, wl, UINT64_MAX, "a seed", &p->s->seed, msg));
	p->s->has_seed = true;
	p->seed_loc = here;
	return want_end(p, "seed");
}

/* latency/jitter/loss options shared by `internet` and `link`. */
static int parse_link_options(struct parser *p, const char *stmt, int64_t *latency, int64_t *jitter,
			      double *loss)
{
	static const char *const names[] = {"latency", "jitter", "loss"};
	struct optset o = {.stmt = stmt, .names = names, .n = COUNT(names)};

	if (!peek(p))
		return err_at(p, NULL, "'%s' needs at least one of latency, jitter or loss", stmt);
	while (peek(p)) {
		switch (next_option(p, &o)) {
		case 0:
			if (want_setting(p, "a duration after 'latency'", &scenario_latency_setting,
					 latency) < 0)
				return -1;
			break;
		case 1:
			if (want_setting(p, "a duration after 'jitter'", &scenario_jitter_setting,
					 jitter) < 0)
				return -1;
			break;
		case 2:
			if (want_percent(p, "a percentage after 'loss'", loss) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static int parse_internet(struct parser *p)
{
	struct scenario_internet *in = &p->s->internet;
	struct scenario_loc here = loc_of(p, &p->toks[0]);

	if (in->present) {
		err_loc(p, here, "'internet' is given twice");
		note_loc(p, in->loc, "the first 'internet' line is here");
		return -1;
	}
	in->present = true;
	in->loc = here;
	return parse_link_options(p, "internet", &in->latency_ns, &in->jitter_ns, &in->loss);
}

static int parse_link(struct parser *p)
{
	struct scenario_link l = {
	    .loc = loc_of(p, &p->toks[0]),
	    .latency_ns = SCENARIO_UNSET,
	    .jitter_ns = SCENARIO_UNSET,
	    .loss = SCENARIO_UNSET,
	};
	struct scenario_link *slot;

	if (want_name(p, "a node name after 'link'", &l.node) < 0 ||
	    parse_link_options(p, "link", &l.latency_ns, &l.jitter_ns, &l.loss) < 0)
		return -1;
	PUSH(p->s->links, p->s->n_links, p->pr->cap_links, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = l;
	return 0;
}

/* `alternate IP [port N]` of a coordinator. */
static int parse_alternate(struct parser *p, struct scenario_coordinator *c, bool *alt_port)
{
	c->has_alternate = true;
	if (want_node_ip(p, "the alternate IPv4 address after 'alternate'", &c->alt_ip,
			 &c->alt_loc) < 0)
		return -1;
	if (accept_kw(p, "port")) {
		if (want_listen_port(p, "a port after 'port'", "a coordinator's port",
				     &c->alt_port) < 0)
			return -1;
		*alt_port = true;
	}
	if (c->alt_ip == c->ip)
		return err_loc(p, c->alt_loc,
			       "the alternate address must differ from the "
			       "primary one: behaviour discovery (RFC 5780) needs two addresses");
	return 0;
}

static int parse_coordinator_options(struct parser *p, struct scenario_coordinator *c)
{
	static const char *const names[] = {"port", "alternate", "relay"};
	struct optset o = {.stmt = "coordinator", .names = names, .n = COUNT(names)};
	bool alt_port = false;
	int relay;

	while (peek(p)) {
		switch (next_option(p, &o)) {
		case 0:
			if (want_listen_port(p, "a port after 'port'", "a coordinator's port",
					     &c->port) < 0)
				return -1;
			break;
		case 1:
			if (parse_alternate(p, c, &alt_port) < 0)
				return -1;
			break;
		case 2:
			if (want_on_off(p, "'on' or 'off' after 'relay'", &relay) < 0)
				return -1;
			c->relay = relay;
			break;
		default:
			return -1;
		}
	}
	if (c->has_alternate && !alt_port) {
		if (c->port == 65535)
			return err_loc(p, c->alt_loc,
				       "the alternate port would be port + 1 = 65536; "
				       "give one with 'alternate IP port N'");
		c->alt_port = (uint16_t)(c->port + 1);
	}
	return 0;
}

static int parse_coordinator(struct parser *p)
{
	struct scenario_loc here = loc_of(p, &p->toks[0]);
	struct scenario_coordinator *c = p->s->coordinator;
	struct scenario_ref name;

	if (c) {
		err_loc(p, here, "a scenario has only one coordinator, and '%s' is already defined",
			c->name);
		note_loc(p, c->loc, "the coordinator '%s' is defined here", c->name);
		return -1;
	}
	if (want_name(p, "a name after 'coordinator'", &name) < 0)
		return -1;
	c = arena_alloc(p->pr, sizeof(*c));
	if (!c)
		return p->oom = true, -1;
	memset(c, 0, sizeof(*c));
	c->name = name.name;
	c->name_loc = name.loc;
	c->loc = here;
	c->port = SCENARIO_COORDINATOR_PORT;
	c->relay = true;
	p->s->coordinator = c;
	if (want_kw(p, "at", "'at' after the coordinator's name") < 0 ||
	    want_node_ip(p, "the coordinator's IPv4 address after 'at'", &c->ip, &c->ip_loc) < 0)
		return -1;
	return parse_coordinator_options(p, c);
}

static int parse_public_list(struct parser *p, struct scenario_nat *n)
{
	do {
		if (n->n_public == SCENARIO_MAX_PUBLIC)
			return err_at(p, peek(p), "a NAT has at most %d public addresses",
				      SCENARIO_MAX_PUBLIC);
		if (want_node_ip(p, "a public IPv4 address", &n->public_ip[n->n_public],
				 &n->public_loc[n->n_public]) < 0)
			return -1;
		n->n_public++;
		/* A comma continues the list. */
		if (!peek(p) || peek(p)->type != TOK_COMMA)
			return 0;
		p->pos++;
	} while (1);
}

static int parse_nat_range(struct parser *p, struct scenario_nat *n)
{
	WANT_VALUE(p, "a port range like 1024-65535 after 'range'",
		   val_port_range(ws, wl, &n->port_lo, &n->port_hi, msg));
	if (n->port_lo == 0)
		return err_at(p, &p->toks[p->pos - 1], "a NAT's port range starts at 1 or above");
	n->has_range = true;
	return 0;
}

static int parse_nat_timeout(struct parser *p, struct scenario_nat *n)
{
	return want_setting(p, "a duration after 'timeout'", &scenario_nat_timeout_setting,
			    &n->timeout_ns);
}

enum {
	NAT_PRESET,
	NAT_MAPPING,
	NAT_FILTERING,
	NAT_PORTS,
	NAT_RANGE,
	NAT_TIMEOUT,
	NAT_HAIRPIN,
	NAT_REFRESH,
	NAT_PUBLIC,
	NAT_BEHIND,
	NAT_POOLING,
	NAT_INPUT
};

/* `pooling paired|arbitrary` (RFC 4787 REQ-2) and `input drop|accept` (what
 * the router does with unsolicited packets to its own address): words whose
 * index is the model's enum value. */
static const char *const nat_pooling_words[] = {"paired", "arbitrary"};
static const char *const nat_input_words[] = {"drop", "accept"};

static int parse_nat_word(struct parser *p, int opt, int *out)
{
	if (opt == NAT_POOLING)
		WANT_VALUE(p, "'paired' or 'arbitrary' after 'pooling'",
			   val_choice(ws, wl, nat_pooling_words, 2, "'paired' or 'arbitrary'", out,
				      msg));
	else
		WANT_VALUE(p, "'drop' or 'accept' after 'input'",
			   val_choice(ws, wl, nat_input_words, 2, "'drop' or 'accept'", out, msg));
	return 0;
}

static int parse_nat_option(struct parser *p, struct scenario_nat *n, int opt)
{
	switch (opt) {
	case NAT_PRESET:
		return want_preset(p, &n->preset);
	case NAT_MAPPING:
		n->has_mapping = true;
		return want_behaviour(p, false, &n->mapping);
	case NAT_FILTERING:
		n->has_filtering = true;
		return want_behaviour(p, true, &n->filtering);
	case NAT_PORTS:
		n->has_ports = true;
		WANT_VALUE(p, "'preserve', 'sequential' or 'random' after 'ports'",
			   val_ports(ws, wl, &n->ports, msg));
		return 0;
	case NAT_RANGE:
		return parse_nat_range(p, n);
	case NAT_TIMEOUT:
		return parse_nat_timeout(p, n);
	case NAT_HAIRPIN:
		return want_on_off(p, "'on' or 'off' after 'hairpinning'", &n->hairpinning);
	case NAT_REFRESH:
		return want_on_off(p, "'on' or 'off' after 'inbound-refresh'", &n->inbound_refresh);
	case NAT_PUBLIC:
		return parse_public_list(p, n);
	case NAT_BEHIND:
		return want_name(p, "the name of the outer NAT after 'behind'", &n->behind);
	case NAT_POOLING:
		return parse_nat_word(p, opt, &n->pooling);
	case NAT_INPUT:
		return parse_nat_word(p, opt, &n->input);
	}
	return -1;
}

static int parse_nat(struct parser *p)
{
	static const char *const names[] = {
	    "preset",  "mapping",     "filtering",	 "ports",  "range",
	    "timeout", "hairpinning", "inbound-refresh", "public", "behind",
	    "pooling", "input",
	};
	struct optset o = {.stmt = "nat", .names = names, .n = COUNT(names)};
	struct scenario_ref name;
	struct scenario_nat *n;

	if (want_name(p, "a name after 'nat'", &name) < 0)
		return -1;
	/* Kept even if the rest of the line is wrong, so that references to it
	 * do not pile up more errors. */
	PUSH(p->s->nats, p->s->n_nats, p->pr->cap_nats, n);
	if (!n)
		return p->oom = true, -1;
	n->name = name.name;
	n->name_loc = name.loc;
	n->loc = loc_of(p, &p->toks[0]);
	n->timeout_ns = SCENARIO_UNSET;
	n->hairpinning = SCENARIO_UNSET;
	n->inbound_refresh = SCENARIO_UNSET;
	n->pooling = SCENARIO_UNSET;
	n->input = SCENARIO_UNSET;
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || parse_nat_option(p, n, opt) < 0)
			return -1;
	}
	if (!n->preset && !(n->has_mapping && n->has_filtering))
		return err_loc(p, n->name_loc,
			       "nat '%s' needs a preset (full-cone, "
			       "restricted-cone, port-restricted-cone, symmetric) or both "
			       "'mapping' and 'filtering'",
			       n->name);
	if (n->n_public == 0)
		return err_loc(p, n->name_loc,
			       "nat '%s' needs a public address, e.g. 'public "
			       "203.0.113.1'",
			       n->name);
	return 0;
}

enum { HOST_BEHIND, HOST_PUBLIC, HOST_FIREWALL, HOST_KEEPALIVE, HOST_PORT, HOST_CANDIDATES };

static int parse_host_option(struct parser *p, struct scenario_host *h, int opt)
{
	const struct token *kw = &p->toks[p->pos - 1];
	uint16_t port = 0;

	switch (opt) {
	case HOST_BEHIND:
	case HOST_PUBLIC:
		if (h->is_public || h->behind.name)
			return err_at(p, kw,
				      "a host is either 'public' or 'behind' a NAT, "
				      "not both");
		if (opt == HOST_PUBLIC)
			return h->is_public = true, 0;
		return want_name(p, "the name of a NAT after 'behind'", &h->behind);
	case HOST_FIREWALL:
		return want_on_off(p, "'on' or 'off' after 'firewall'", &h->firewall);
	case HOST_KEEPALIVE:
		WANT_VALUE(p, "a duration or 'off' after 'keepalive'",
			   val_keepalive(ws, wl, &h->keepalive_ns, msg));
		return 0;
	case HOST_PORT:
		if (want_listen_port(p, "a port after 'port'", "an agent's port", &port) < 0)
			return -1;
		h->port = port;
		return 0;
	case HOST_CANDIDATES:
		return want_on_off(p, "'on' or 'off' after 'host-candidates'", &h->host_candidates);
	}
	return -1;
}

static int parse_host(struct parser *p)
{
	static const char *const names[] = {
	    "behind", "public", "firewall", "keepalive", "port", "host-candidates",
	};
	struct optset o = {.stmt = "host", .names = names, .n = COUNT(names)};
	struct scenario_ref name;
	struct scenario_host *h;

	if (want_name(p, "a name after 'host'", &name) < 0)
		return -1;
	PUSH(p->s->hosts, p->s->n_hosts, p->pr->cap_hosts, h);
	if (!h)
		return p->oom = true, -1;
	h->name = name.name;
	h->name_loc = name.loc;
	h->loc = loc_of(p, &p->toks[0]);
	h->firewall = SCENARIO_UNSET;
	h->keepalive_ns = SCENARIO_UNSET;
	h->port = SCENARIO_UNSET;
	h->host_candidates = SCENARIO_UNSET;
	if (want_kw(p, "at", "'at' after the host's name") < 0 ||
	    want_node_ip(p, "the host's IPv4 address after 'at'", &h->ip, NULL) < 0)
		return -1;
	h->ip_loc = loc_of(p, &p->toks[p->pos - 1]);
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || parse_host_option(p, h, opt) < 0)
			return -1;
	}
	if (!h->is_public && !h->behind.name)
		return err_loc(p, h->name_loc,
			       "host '%s' needs 'behind NATNAME' or 'public' to "
			       "say where it is",
			       h->name);
	return 0;
}

/* HOST[:PORT] (forward targets, expect mapping's `for`). *port stays
 * untouched when no port is given. */
static int want_name_port(struct parser *p, const char *what, struct scenario_ref *name, int *port)
{
	const struct token *t = want_word(p, what);
	char msg[MSG_SIZE];

	if (!t)
		return -1;
	const char *s = p->line + t->off, *colon = memchr(s, ':', t->len);
	size_t n = colon ? (size_t)(colon - s) : t->len;
	if (check_name(p, t, s, n) < 0)
		return -1;
	if (colon) {
		uint16_t v;
		if (val_port(colon + 1, t->len - n - 1, &v, msg) < 0)
			return err_at(p, t, "%s", msg);
		*port = v;
	}
	name->name = save(p, s, n);
	name->loc = loc_span(p, t->off, n);
	return name->name ? 0 : -1;
}

static int parse_forward(struct parser *p)
{
	struct scenario_forward f = {.loc = loc_of(p, &p->toks[0]), .proto = 17};
	struct scenario_forward *slot;
	int host_port = SCENARIO_UNSET;

	if (want_name(p, "a NAT name after 'forward'", &f.nat) < 0)
		return -1;
	if (at_kw(p, "tcp"))
		return err_at(p, peek(p), "only 'udp' forwards are supported");
	if (want_kw(p, "udp", "'udp' after the NAT's name") < 0 ||
	    want_listen_port(p, "the external port after 'udp'", "a forwarded port", &f.port) < 0)
		return -1;
	f.port_loc = loc_of(p, &p->toks[p->pos - 1]);
	if (want_kw(p, "to", "'to' after the port") < 0 ||
	    want_name_port(p, "a host name (and optional :PORT) after 'to'", &f.host, &host_port) <
		0 ||
	    want_end(p, "forward") < 0)
		return -1;
	if (host_port == 0)
		return err_at(p, &p->toks[p->pos - 1],
			      "port 0 cannot be a forward's target: the host listens on a port "
			      "1-65535");
	f.host_port = host_port == SCENARIO_UNSET ? f.port : (uint16_t)host_port;
	PUSH(p->s->forwards, p->s->n_forwards, p->pr->cap_forwards, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = f;
	return 0;
}

/* --------------------------------------------------------------- firewalls */

static int want_chain(struct parser *p, int *chain)
{
	WANT_VALUE(p, "a chain (input, output or forward)",
		   val_choice(ws, wl, chain_names, COUNT(chain_names),
			      "a chain: 'input', 'output' or 'forward'", chain, msg));
	return 0;
}

static int want_prefix(struct parser *p, const char *what, uint32_t *ip, uint8_t *len)
{
	char buf[16];
	bool host_bits;

	WANT_VALUE(p, what, val_prefix(ws, wl, ip, len, &host_bits, msg));
	if (host_bits) {
		format_ip(*ip, buf);
		warn_at(p, &p->toks[p->pos - 1], "the prefix has bits set past /%u; it means %s/%u",
			*len, buf, *len);
	}
	return 0;
}

/* new | established | new,established */
static int want_states(struct parser *p, unsigned *states)
{
	static const char *const names[] = {"new", "established"};
	int i = 0;

	do {
		WANT_VALUE(
		    p, "a state ('new' or 'established') after 'state'",
		    val_choice(ws, wl, names, 2, "a state: 'new' or 'established'", &i, msg));
		*states |= i == 0 ? SCENARIO_STATE_NEW : SCENARIO_STATE_ESTABLISHED;
		if (!peek(p) || peek(p)->type != TOK_COMMA)
			return 0;
		p->pos++;
	} while (1);
}

enum { RULE_UDP, RULE_FROM, RULE_TO, RULE_SPORT, RULE_DPORT, RULE_STATE };

static int parse_rule_option(struct parser *p, struct scenario_rule *r, int opt)
{
	switch (opt) {
	case RULE_UDP:
		r->proto = 17;
		return 0;
	case RULE_FROM:
		r->has_src = true;
		return want_prefix(p, "an address or prefix after 'from'", &r->src, &r->src_len);
	case RULE_TO:
		r->has_dst = true;
		return want_prefix(p, "an address or prefix after 'to'", &r->dst, &r->dst_len);
	case RULE_SPORT:
		r->has_sport = true;
		WANT_VALUE(p, "a port or range after 'sport'",
			   val_port_range(ws, wl, &r->sport_lo, &r->sport_hi, msg));
		return 0;
	case RULE_DPORT:
		r->has_dport = true;
		WANT_VALUE(p, "a port or range after 'dport'",
			   val_port_range(ws, wl, &r->dport_lo, &r->dport_hi, msg));
		return 0;
	case RULE_STATE:
		return want_states(p, &r->states);
	}
	return -1;
}

static int parse_rule(struct parser *p)
{
	static const char *const names[] = {"udp", "from", "to", "sport", "dport", "state"};
	struct optset o = {.stmt = "rule", .names = names, .n = COUNT(names)};
	struct scenario_rule r = {.loc = loc_of(p, &p->toks[0])};
	struct scenario_rule *slot;

	if (want_name(p, "a node name after 'rule'", &r.node) < 0 || want_chain(p, &r.chain) < 0)
		return -1;
	WANT_VALUE(p, "a verdict (accept, drop or reject)",
		   val_choice(ws, wl, verdict_names, COUNT(verdict_names),
			      "a verdict: 'accept', 'drop' or 'reject'", &r.verdict, msg));
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || parse_rule_option(p, &r, opt) < 0)
			return -1;
	}
	PUSH(p->s->rules, p->s->n_rules, p->pr->cap_rules, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = r;
	return 0;
}

static int parse_policy(struct parser *p)
{
	struct scenario_policy pol = {.loc = loc_of(p, &p->toks[0])};
	struct scenario_policy *slot;

	if (want_name(p, "a node name after 'policy'", &pol.node) < 0 ||
	    want_chain(p, &pol.chain) < 0)
		return -1;
	if (at_kw(p, "reject"))
		return err_at(p, peek(p), "a policy is 'accept' or 'drop' ('reject' is for rules)");
	WANT_VALUE(p, "'accept' or 'drop'",
		   val_choice(ws, wl, verdict_names, 2, "'accept' or 'drop'", &pol.verdict, msg));
	if (want_end(p, "policy") < 0)
		return -1;
	PUSH(p->s->policies, p->s->n_policies, p->pr->cap_policies, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = pol;
	return 0;
}

/* a.b.c.d:port or name:port; with port_optional, the port may be left out. */
static int want_endpoint(struct parser *p, const char *what, bool port_optional,
			 struct scenario_endpoint *ep)
{
	const struct token *t = want_word(p, what);
	char msg[MSG_SIZE];

	if (!t)
		return -1;
	const char *s = p->line + t->off, *colon = memchr(s, ':', t->len);
	size_t n = colon ? (size_t)(colon - s) : t->len;
	ep->loc = loc_of(p, t);
	ep->port = SCENARIO_UNSET;
	if (!colon && !port_optional)
		return err_at(p, t,
			      "expected an endpoint like 192.0.2.1:3478 or alice:5000, found "
			      "'%s' (the port is missing)",
			      show(TEXT(p, t)).s);
	if (colon) {
		uint16_t v;
		if (val_port(colon + 1, t->len - n - 1, &v, msg) < 0)
			return err_at(p, t, "%s", msg);
		ep->port = v;
	}
	int rc = ipv4_n(s, n, &ep->ip);
	if (rc == 0)
		return 0;
	if (rc == IPV4_LEADING_ZERO) {
		leading_zero_problem(s, n, ep->ip, msg);
		return err_at(p, t, "%s", msg);
	}
	if (n > 0 && isdigit((unsigned char)s[0]))
		return err_at(p, t, "'%s' is not an IPv4 address", show(s, n).s);
	if (check_name(p, t, s, n) < 0)
		return -1;
	ep->node.name = save(p, s, n);
	ep->node.loc = loc_span(p, t->off, n);
	return ep->node.name ? 0 : -1;
}

/* ----------------------------------------------------------------- actions */

static int act_host(struct parser *p, struct scenario_action *a)
{
	char what[64];

	snprintf(what, sizeof(what), "a host name after '%s'", action_names[a->kind]);
	return want_name(p, what, &a->host);
}

static int act_connect(struct parser *p, struct scenario_action *a)
{
	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the first host") < 0 ||
	    want_name(p, "a host name after 'to'", &a->peer) < 0)
		return -1;
	if (a->kind == SCENARIO_ACT_SEND)
		return want_text_at_most(p, "the quoted text to send", SEND_MAX_BYTES,
					 "a message between peers", &a->text, &a->text_len);
	return 0;
}

static int act_keepalive(struct parser *p, struct scenario_action *a)
{
	if (act_host(p, a) < 0)
		return -1;
	WANT_VALUE(p, "a duration or 'off' after the host name",
		   val_keepalive(ws, wl, &a->keepalive_ns, msg));
	return 0;
}

static int act_link(struct parser *p, struct scenario_action *a)
{
	const char *kw = action_names[a->kind];
	char what[64];

	snprintf(what, sizeof(what), "'link' after '%s'", kw);
	if (want_kw(p, "link", what) < 0)
		return -1;
	return want_name(p, "a node name after 'link'", &a->target);
}

static int act_reboot(struct parser *p, struct scenario_action *a)
{
	return want_name(p, "a NAT name after 'reboot'", &a->target);
}

static int act_set(struct parser *p, struct scenario_action *a)
{
	static const char *const names[] = {"preset", "mapping", "filtering"};
	struct optset o = {.stmt = "set", .names = names, .n = COUNT(names)};

	if (want_name(p, "a NAT name after 'set'", &a->target) < 0)
		return -1;
	if (!peek(p))
		return err_at(p, NULL,
			      "'set' needs 'preset P' or 'mapping B' and/or 'filtering B'");
	while (peek(p)) {
		int rc;

		switch (next_option(p, &o)) {
		case 0:
			rc = want_preset(p, &a->preset);
			break;
		case 1:
			a->has_mapping = true;
			rc = want_behaviour(p, false, &a->mapping);
			break;
		case 2:
			a->has_filtering = true;
			rc = want_behaviour(p, true, &a->filtering);
			break;
		default:
			rc = -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int act_raw(struct parser *p, struct scenario_action *a)
{
	if (act_host(p, a) < 0 || want_kw(p, "from", "'from' after the host name") < 0 ||
	    want_port(p, "the source port after 'from'", &a->src_port) < 0 ||
	    want_kw(p, "to", "'to' after the source port") < 0 ||
	    want_endpoint(p, "an endpoint like 192.0.2.1:3478 after 'to'", false, &a->dst) < 0)
		return -1;
	return want_text_at_most(p, "the quoted payload", RAW_MAX_BYTES, "a raw datagram's payload",
				 &a->text, &a->text_len);
}

static int act_note(struct parser *p, struct scenario_action *a)
{
	/* The runner copies a note into a fixed line of the trace: a longer one
	 * would be cut, maybe inside a UTF-8 character. */
	return want_text_at_most(p, "a quoted text after 'note'", SCENARIO_NOTE_MAX,
				 "a note (one line of the timeline)", &a->text, &a->text_len);
}

static int (*const action_parsers[])(struct parser *, struct scenario_action *) = {
    [SCENARIO_ACT_REGISTER] = act_host,
    [SCENARIO_ACT_CONNECT] = act_connect,
    [SCENARIO_ACT_SEND] = act_connect,
    [SCENARIO_ACT_CLASSIFY] = act_host,
    [SCENARIO_ACT_KEEPALIVE] = act_keepalive,
    [SCENARIO_ACT_CUT_LINK] = act_link,
    [SCENARIO_ACT_RESTORE_LINK] = act_link,
    [SCENARIO_ACT_REBOOT] = act_reboot,
    [SCENARIO_ACT_SET] = act_set,
    [SCENARIO_ACT_RAW] = act_raw,
    [SCENARIO_ACT_NOTE] = act_note,
};

static int parse_at(struct parser *p)
{
	struct scenario_action a = {.loc = loc_of(p, &p->toks[0])};
	struct scenario_action *slot;
	char list[256];

	if (want_duration(p, "a time after 'at', like 0s or 1.5s", &a.at_ns) < 0)
		return -1;
	const struct token *t = want_word(p, "an action after the time");
	if (!t)
		return -1;
	int i = word_index(TEXT(p, t), action_names, COUNT(action_names));
	if (i < 0) {
		const char *best = suggest_n(TEXT(p, t), action_names, COUNT(action_names));

		if (best)
			return err_at(p, t, "unknown action '%s'; did you mean '%s'?",
				      show(TEXT(p, t)).s, best);
		join_names(action_names, COUNT(action_names), list, sizeof(list));
		return err_at(p, t, "unknown action '%s'; the actions are %s", show(TEXT(p, t)).s,
			      list);
	}
	a.kind = (enum scenario_action_kind)i;
	a.kind_loc = loc_of(p, t);
	if (action_parsers[i](p, &a) < 0 || want_end(p, scenario_action_kind_name(a.kind)) < 0)
		return -1;
	PUSH(p->s->actions, p->s->n_actions, p->pr->cap_actions, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = a;
	return 0;
}

/* ------------------------------------------------------------ expectations */

/* The optional trailing parts of an expectation: each name in `names` maps
 * to a handler below. */
enum { EXP_BY, EXP_REASON, EXP_FROM, EXP_TO, EXP_FOR, EXP_EXTERNAL_PORT };

static int parse_expect_option(struct parser *p, struct scenario_expect *e, int which)
{
	uint16_t port = 0;

	switch (which) {
	case EXP_BY:
		return want_duration(p, "a time after 'by', like 5s", &e->by_ns);
	case EXP_REASON:
		WANT_VALUE(
		    p, "a drop reason after 'reason'",
		    val_choice(ws, wl, reason_names + 1, COUNT(reason_names) - 1,
			       "a drop reason: firewall, nat-filter, nat-no-mapping, "
			       "nat-exhausted, hairpin, no-route, ttl, link-loss, link-down, "
			       "queue-full, malformed, no-socket or not-for-us",
			       &e->reason, msg));
		e->reason++;
		return 0;
	case EXP_FROM:
		e->has_from = true;
		return want_endpoint(p, "an endpoint after 'from'", true, &e->from);
	case EXP_TO:
		e->has_to = true;
		return want_endpoint(p, "an endpoint after 'to'", true, &e->to);
	case EXP_FOR:
		return want_name_port(p, "a host name (and optional :PORT) after 'for'", &e->host,
				      &e->host_port);
	case EXP_EXTERNAL_PORT:
		if (want_port(p, "a port after 'external-port'", &port) < 0)
			return -1;
		e->external_port = port;
		return 0;
	}
	return -1;
}

/* Options named in `names`; `ids` gives each one's EXP_* code. */
static int parse_expect_options(struct parser *p, struct scenario_expect *e,
				const char *const *names, const int *ids, size_t n)
{
	struct optset o = {.stmt = "expect", .names = names, .n = n};

	while (peek(p)) {
		int i = next_option(p, &o);

		if (i < 0 || parse_expect_option(p, e, ids[i]) < 0)
			return -1;
	}
	return 0;
}

static int exp_by_only(struct parser *p, struct scenario_expect *e)
{
	static const char *const names[] = {"by"};
	static const int ids[] = {EXP_BY};

	return parse_expect_options(p, e, names, ids, 1);
}

static int exp_path(struct parser *p, struct scenario_expect *e)
{
	e->kind = SCENARIO_EXPECT_PATH;
	if (want_name(p, "a host name after 'expect'", &e->host) < 0 ||
	    want_kw(p, "and", "'and' after the first host") < 0 ||
	    want_name(p, "a host name after 'and'", &e->peer) < 0)
		return -1;
	/* `end PATH` (or `ends PATH`): the state the run ends in; without it,
	 * a path reached at some moment by the deadline (docs/scenario.md). */
	e->at_end = accept_kw(p, "end") || accept_kw(p, "ends");
	WANT_VALUE(p, "'direct', 'relayed' or 'unconnected'",
		   val_choice(ws, wl, path_names, COUNT(path_names),
			      "'direct', 'relayed' or 'unconnected'", &e->path, msg));
	if (e->at_end && peek(p))
		return err_at(p, peek(p),
			      "'end %s' is about the end of the run, so it takes nothing after it "
			      "(for a deadline write 'expect %s and %s %s by TIME')",
			      path_names[e->path], e->host.name, e->peer.name, path_names[e->path]);
	return exp_by_only(p, e);
}

static int exp_drop(struct parser *p, struct scenario_expect *e)
{
	static const char *const names[] = {"reason", "from", "to", "by"};
	static const int ids[] = {EXP_REASON, EXP_FROM, EXP_TO, EXP_BY};
	bool no = e->kind == SCENARIO_EXPECT_NO_DROP;

	if (no && want_kw(p, "drop", "'drop' or 'mapping' after 'no'") < 0)
		return -1;
	if (want_kw(p, "at", "'at' after 'drop'") < 0 ||
	    want_name(p, "a node name after 'at'", &e->node) < 0)
		return -1;
	/* `expect no drop` takes reason and by only. */
	static const char *const no_names[] = {"reason", "by"};
	static const int no_ids[] = {EXP_REASON, EXP_BY};
	if (no)
		return parse_expect_options(p, e, no_names, no_ids, 2);
	return parse_expect_options(p, e, names, ids, 4);
}

static int exp_mapping(struct parser *p, struct scenario_expect *e)
{
	static const char *const names[] = {"for", "external-port", "by"};
	static const int ids[] = {EXP_FOR, EXP_EXTERNAL_PORT, EXP_BY};

	if (want_kw(p, "at", "'at' after 'mapping'") < 0 ||
	    want_name(p, "a NAT name after 'at'", &e->node) < 0)
		return -1;
	return parse_expect_options(p, e, names, ids, 3);
}

/* `expect no mapping ...` negates `expect mapping ...` (same options);
 * anything else after 'no' is `expect no drop ...`. */
static int exp_no(struct parser *p, struct scenario_expect *e)
{
	if (!accept_kw(p, "mapping"))
		return exp_drop(p, e);
	e->kind = SCENARIO_EXPECT_NO_MAPPING;
	return exp_mapping(p, e);
}

static int exp_classify(struct parser *p, struct scenario_expect *e)
{
	if (want_name(p, "a host name after 'classify'", &e->host) < 0 ||
	    want_kw(p, "as", "'as' after the host name") < 0)
		return -1;
	WANT_VALUE(p, "a NAT class after 'as'",
		   val_choice(ws, wl, class_names, COUNT(class_names),
			      "a class: open, firewall, full-cone, restricted-cone, "
			      "port-restricted-cone or symmetric",
			      &e->nat_class, msg));
	e->class_name = class_names[e->nat_class];
	return exp_by_only(p, e);
}

static int exp_data(struct parser *p, struct scenario_expect *e)
{
	if (want_kw(p, "at", "'at' after 'data'") < 0 ||
	    want_name(p, "a host name after 'at'", &e->host) < 0)
		return -1;
	if (accept_kw(p, "from") && want_name(p, "a host name after 'from'", &e->peer) < 0)
		return -1;
	if (want_text_at_most(p, "the quoted text expected (or 'from HOST')", SEND_MAX_BYTES,
			      "a message between peers", &e->text, &e->text_len) < 0)
		return -1;
	return exp_by_only(p, e);
}

static int parse_expect_kind(struct parser *p, struct scenario_expect *e)
{
	static const char *const kinds[] = {"drop", "no", "mapping", "classify", "data"};
	static const enum scenario_expect_kind codes[] = {
	    SCENARIO_EXPECT_DROP,     SCENARIO_EXPECT_NO_DROP, SCENARIO_EXPECT_MAPPING,
	    SCENARIO_EXPECT_CLASSIFY, SCENARIO_EXPECT_DATA,
	};
	static int (*const fns[])(struct parser *, struct scenario_expect *) = {
	    exp_drop, exp_no, exp_mapping, exp_classify, exp_data,
	};

	/* "expect HOST and HOST ...": the third word tells. */
	if (p->n_toks >= 3 && p->toks[2].type == TOK_WORD && word_is(TEXT(p, &p->toks[2]), "and"))
		return exp_path(p, e);
	const struct token *t = want_word(p, "what to expect: drop, no drop, mapping, classify, "
					     "data, or HOST and HOST");
	if (!t)
		return -1;
	int i = word_index(TEXT(p, t), kinds, COUNT(kinds));
	if (i < 0) {
		const char *best = suggest_n(TEXT(p, t), kinds, COUNT(kinds));

		if (best)
			return err_at(p, t, "unknown expectation '%s'; did you mean '%s'?",
				      show(TEXT(p, t)).s, best);
		return err_at(p, t,
			      "unknown expectation '%s'; write 'expect drop', 'expect no "
			      "drop', 'expect mapping', 'expect classify', 'expect data' or "
			      "'expect HOST and HOST direct'",
			      show(TEXT(p, t)).s);
	}
	e->kind = codes[i];
	return fns[i](p, e);
}

static int parse_expect(struct parser *p)
{
	struct scenario_expect e = {
	    .loc = loc_of(p, &p->toks[0]),
	    .by_ns = SCENARIO_UNSET,
	    .host_port = SCENARIO_UNSET,
	    .external_port = SCENARIO_UNSET,
	};
	struct scenario_expect *slot;

	if (parse_expect_kind(p, &e) < 0)
		return -1;
	PUSH(p->s->expects, p->s->n_expects, p->pr->cap_expects, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = e;
	return 0;
}

/* ------------------------------------------------------------- statements */

static const struct {
	const char *kw;
	int (*parse)(struct parser *p);
} statements[] = {
    {"title", parse_title},
    {"description", parse_description},
    {"seed", parse_seed},
    {"internet", parse_internet},
    {"coordinator", parse_coordinator},
    {"nat", parse_nat},
    {"host", parse_host},
    {"link", parse_link},
    {"forward", parse_forward},
    {"rule", parse_rule},
    {"policy", parse_policy},
    {"at", parse_at},
    {"expect", parse_expect},
};

static void parse_line(struct parser *p)
{
	const char *kws[COUNT(statements)];
	char list[256];

	if (lex_line(p) < 0 || p->n_toks == 0)
		return;
	for (size_t i = 0; i < COUNT(statements); i++)
		kws[i] = statements[i].kw;
	const struct token *t = &p->toks[0];
	int i = t->type == TOK_WORD ? word_index(TEXT(p, t), kws, COUNT(kws)) : -1;
	if (i >= 0) {
		p->pos = 1;
		statements[i].parse(p);
		return;
	}
	join_names(kws, COUNT(kws), list, sizeof(list));
	if (t->type != TOK_WORD) {
		err_at(p, t, "expected a keyword at the start of the line (%s), found %s", list,
		       found(p, t).s);
		return;
	}
	const char *best = suggest_n(TEXT(p, t), kws, COUNT(kws));
	if (best)
		err_at(p, t, "unknown keyword '%s'; did you mean '%s'?", show(TEXT(p, t)).s, best);
	else
		err_at(p, t, "unknown keyword '%s'; a line starts with one of %s",
		       show(TEXT(p, t)).s, list);
}

/* ------------------------------------------------------------------ checks */

enum { KIND_HOST = 1, KIND_NAT = 2, KIND_COORD = 4, KIND_ANY = 7 };

struct node_name {
	const char *name;
	int kind;
	struct scenario_loc loc;
	size_t index; /* into hosts or nats */
};

struct checker {
	struct parser *p;
	struct scenario *s;
	struct node_name *names; /* sorted by name, then by position in the file */
	size_t n;
};

static int loc_cmp(const struct scenario_loc *a, const struct scenario_loc *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

static int node_name_cmp(const void *va, const void *vb)
{
	const struct node_name *a = va, *b = vb;
	int c = strcmp(a->name, b->name);

	return c ? c : loc_cmp(&a->loc, &b->loc);
}

static const char *kind_word(int kind)
{
	switch (kind) {
	case KIND_HOST:
		return "host";
	case KIND_NAT:
		return "NAT";
	case KIND_COORD:
		return "coordinator";
	case KIND_HOST | KIND_NAT:
		return "host or NAT";
	}
	return "node";
}

static const char *kind_plural(int kind)
{
	switch (kind) {
	case KIND_HOST:
		return "hosts";
	case KIND_NAT:
		return "NATs";
	case KIND_HOST | KIND_NAT:
		return "hosts and NATs";
	}
	return "nodes";
}

static int build_names(struct checker *c)
{
	struct scenario *s = c->s;
	size_t n = s->n_hosts + s->n_nats + (s->coordinator ? 1 : 0);

	c->names = malloc((n ? n : 1) * sizeof(*c->names));
	if (!c->names)
		return c->p->oom = true, -1;
	for (size_t i = 0; i < s->n_nats; i++)
		c->names[c->n++] =
		    (struct node_name){s->nats[i].name, KIND_NAT, s->nats[i].name_loc, i};
	for (size_t i = 0; i < s->n_hosts; i++)
		c->names[c->n++] =
		    (struct node_name){s->hosts[i].name, KIND_HOST, s->hosts[i].name_loc, i};
	if (s->coordinator)
		c->names[c->n++] = (struct node_name){s->coordinator->name, KIND_COORD,
						      s->coordinator->name_loc, 0};
	qsort(c->names, c->n, sizeof(*c->names), node_name_cmp);
	return 0;
}

/* Names are unique across hosts, NATs and the coordinator. */
static void check_duplicates(struct checker *c)
{
	for (size_t i = 1, first = 0; i < c->n; i++) {
		if (strcmp(c->names[i].name, c->names[first].name) != 0) {
			first = i;
			continue;
		}
		err_loc(c->p, c->names[i].loc, "'%s' is already defined as a %s", c->names[i].name,
			kind_word(c->names[first].kind));
		note_loc(c->p, c->names[first].loc, "'%s' is first defined here",
			 c->names[first].name);
	}
}

/* The first definition of `name`, or NULL. */
static const struct node_name *lookup(const struct checker *c, const char *name)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->names[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n && strcmp(c->names[lo].name, name) == 0 ? &c->names[lo] : NULL;
}

static void report_unknown(struct checker *c, const struct scenario_ref *ref, int mask)
{
	const char **cands = calloc(c->n ? c->n : 1, sizeof(*cands));
	size_t n = 0;
	char list[200];

	if (!cands) {
		err_loc(c->p, ref->loc, "unknown %s '%s'", kind_word(mask), ref->name);
		return;
	}
	for (size_t i = 0; i < c->n; i++)
		if ((c->names[i].kind & mask) &&
		    (n == 0 || strcmp(cands[n - 1], c->names[i].name) != 0))
			cands[n++] = c->names[i].name;
	const char *best = diag_suggest(ref->name, cands, n);
	if (best) {
		err_loc(c->p, ref->loc, "unknown %s '%s'; did you mean '%s'?", kind_word(mask),
			ref->name, best);
	} else if (n == 0) {
		err_loc(c->p, ref->loc, "unknown %s '%s': the scenario defines no %s",
			kind_word(mask), ref->name, kind_plural(mask));
	} else if (n <= 8) {
		join_names(cands, n, list, sizeof(list));
		err_loc(c->p, ref->loc, "unknown %s '%s'; the %s are %s", kind_word(mask),
			ref->name, kind_plural(mask), list);
	} else {
		err_loc(c->p, ref->loc, "unknown %s '%s'", kind_word(mask), ref->name);
	}
	free(cands);
}

/* The definition `ref` names if it has a kind in `mask`; else reports and
 * returns NULL. An absent ref is NULL without a report. */
static const struct node_name *resolve(struct checker *c, const struct scenario_ref *ref, int mask)
{
	if (!ref->name)
		return NULL;
	const struct node_name *nn = lookup(c, ref->name);
	if (nn && (nn->kind & mask))
		return nn;
	if (nn)
		err_loc(c->p, ref->loc, "'%s' is a %s, not a %s", ref->name, kind_word(nn->kind),
			kind_word(mask));
	else
		report_unknown(c, ref, mask);
	return NULL;
}

static void check_forwards(struct checker *c)
{
	struct scenario *s = c->s;

	for (size_t i = 0; i < s->n_forwards; i++) {
		const struct scenario_forward *f = &s->forwards[i];
		const struct node_name *nat = resolve(c, &f->nat, KIND_NAT);
		const struct node_name *host = resolve(c, &f->host, KIND_HOST);

		if (nat && host) {
			const struct scenario_host *h = &s->hosts[host->index];
			if (!h->behind.name || strcmp(h->behind.name, nat->name) != 0)
				err_loc(c->p, f->host.loc,
					"host '%s' is not behind NAT '%s', so "
					"'%s' cannot forward to it",
					h->name, nat->name, nat->name);
		}
		for (size_t j = 0; j < i; j++) {
			const struct scenario_forward *g = &s->forwards[j];
			if (g->port == f->port && strcmp(g->nat.name, f->nat.name) == 0) {
				err_loc(c->p, f->port_loc, "port %u of '%s' is already forwarded",
					f->port, f->nat.name);
				note_loc(c->p, g->port_loc, "the first forward is here");
				break;
			}
		}
	}
}

static void check_links(struct checker *c)
{
	struct scenario *s = c->s;

	for (size_t i = 0; i < s->n_links; i++) {
		resolve(c, &s->links[i].node, KIND_ANY);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->links[j].node.name, s->links[i].node.name) == 0) {
				err_loc(c->p, s->links[i].node.loc,
					"the link of '%s' is already set", s->links[i].node.name);
				note_loc(c->p, s->links[j].node.loc, "it is first set here");
				break;
			}
		}
	}
}

static void check_not_same(struct checker *c, const struct scenario_ref *a,
			   const struct scenario_ref *b, const char *what)
{
	if (a->name && b->name && strcmp(a->name, b->name) == 0)
		err_loc(c->p, b->loc, "'%s' %s itself", a->name, what);
}

static void check_action(struct checker *c, const struct scenario_action *a)
{
	switch (a->kind) {
	case SCENARIO_ACT_CONNECT:
	case SCENARIO_ACT_SEND:
		resolve(c, &a->peer, KIND_HOST);
		check_not_same(c, &a->host, &a->peer,
			       a->kind == SCENARIO_ACT_SEND ? "cannot send to"
							    : "cannot connect to");
		/* fall through */
	case SCENARIO_ACT_REGISTER:
	case SCENARIO_ACT_CLASSIFY:
	case SCENARIO_ACT_KEEPALIVE:
		resolve(c, &a->host, KIND_HOST);
		break;
	case SCENARIO_ACT_RAW:
		resolve(c, &a->host, KIND_HOST);
		resolve(c, &a->dst.node, KIND_ANY);
		break;
	case SCENARIO_ACT_CUT_LINK:
	case SCENARIO_ACT_RESTORE_LINK:
		resolve(c, &a->target, KIND_ANY);
		break;
	case SCENARIO_ACT_REBOOT:
	case SCENARIO_ACT_SET:
		resolve(c, &a->target, KIND_NAT);
		break;
	default:
		break;
	}
}

static void check_expect(struct checker *c, const struct scenario_expect *e)
{
	switch (e->kind) {
	case SCENARIO_EXPECT_PATH:
		resolve(c, &e->host, KIND_HOST);
		resolve(c, &e->peer, KIND_HOST);
		check_not_same(c, &e->host, &e->peer, "cannot be connected to");
		break;
	case SCENARIO_EXPECT_DROP:
	case SCENARIO_EXPECT_NO_DROP:
		resolve(c, &e->node, KIND_ANY);
		resolve(c, &e->from.node, KIND_ANY);
		resolve(c, &e->to.node, KIND_ANY);
		break;
	case SCENARIO_EXPECT_MAPPING:
	case SCENARIO_EXPECT_NO_MAPPING:
		resolve(c, &e->node, KIND_NAT);
		resolve(c, &e->host, KIND_HOST);
		break;
	case SCENARIO_EXPECT_CLASSIFY:
	case SCENARIO_EXPECT_DATA:
		resolve(c, &e->host, KIND_HOST);
		resolve(c, &e->peer, KIND_HOST);
		break;
	default:
		break;
	}
}

/* register, connect, send and classify talk to the coordinator. */
static void check_coordinator_needed(struct checker *c)
{
	if (c->s->coordinator)
		return;
	for (size_t i = 0; i < c->s->n_actions; i++) {
		const struct scenario_action *a = &c->s->actions[i];

		if (a->kind == SCENARIO_ACT_REGISTER || a->kind == SCENARIO_ACT_CONNECT ||
		    a->kind == SCENARIO_ACT_SEND || a->kind == SCENARIO_ACT_CLASSIFY) {
			err_loc(c->p, a->kind_loc,
				"'%s' needs a coordinator, but the scenario has "
				"none",
				action_names[a->kind]);
			note_loc(c->p, (struct scenario_loc){0},
				 "add one, e.g. 'coordinator coord at 192.0.2.1'");
			return;
		}
	}
}

/* The NAT a NAT sits behind, as an index, or -1 (internet or unknown). */
static long outer_nat(const struct checker *c, size_t i)
{
	const char *behind = c->s->nats[i].behind.name;
	const struct node_name *nn = behind ? lookup(c, behind) : NULL;

	return nn && nn->kind == KIND_NAT ? (long)nn->index : -1;
}

static void report_cycle(struct checker *c, const size_t *stack, size_t depth, size_t start)
{
	const struct scenario_nat *last = &c->s->nats[stack[depth - 1]];
	char path[256];
	size_t used = 0;

	if (depth - start == 1) {
		err_loc(c->p, last->behind.loc, "nat '%s' cannot be behind itself", last->name);
		return;
	}
	for (size_t k = start; k <= depth && used < sizeof(path); k++) {
		const char *name = c->s->nats[stack[k < depth ? k : start]].name;
		used += (size_t)snprintf(path + used, sizeof(path) - used, "%s'%s'",
					 k > start ? " -> " : "", name);
	}
	err_loc(c->p, last->behind.loc, "the NATs are behind each other in a cycle: %s", path);
}

/* 'behind' between NATs must form a tree: walk up from each NAT. */
static void check_cycles(struct checker *c)
{
	size_t n = c->s->n_nats;
	unsigned char *state = calloc(n ? n : 1, 1); /* 0 new, 1 on the walk, 2 done */
	size_t *stack = malloc((n ? n : 1) * sizeof(*stack));

	if (!state || !stack) {
		c->p->oom = true;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t depth = 0;
		long cur = (long)i;

		while (cur >= 0 && state[cur] == 0) {
			state[cur] = 1;
			stack[depth++] = (size_t)cur;
			cur = outer_nat(c, (size_t)cur);
		}
		if (cur >= 0 && state[cur] == 1) {
			size_t start = 0;
			while (stack[start] != (size_t)cur)
				start++;
			report_cycle(c, stack, depth, start);
		}
		for (size_t k = 0; k < depth; k++)
			state[stack[k]] = 2;
	}
out:
	free(state);
	free(stack);
}

/* An address in a network: -1 the internet, else the index of the NAT it is
 * behind. */
struct address {
	long net;
	uint32_t ip;
	struct scenario_loc loc;
	const char *owner;
	int kind;
};

static int address_cmp(const void *va, const void *vb)
{
	const struct address *a = va, *b = vb;

	if (a->net != b->net)
		return a->net < b->net ? -1 : 1;
	if (a->ip != b->ip)
		return a->ip < b->ip ? -1 : 1;
	return loc_cmp(&a->loc, &b->loc);
}

/* The network a host or NAT lives in, or -2 if that is unknown. */
static long network_of(const struct checker *c, const struct scenario_ref *behind)
{
	if (!behind->name)
		return -1;
	const struct node_name *nn = lookup(c, behind->name);
	return nn && nn->kind == KIND_NAT ? (long)nn->index : -2;
}

static size_t collect_addresses(const struct checker *c, struct address *out)
{
	const struct scenario *s = c->s;
	size_t n = 0;

	for (size_t i = 0; i < s->n_hosts; i++) {
		const struct scenario_host *h = &s->hosts[i];
		long net = network_of(c, &h->behind);
		if (h->ip_loc.line > 0 && net != -2 && (h->is_public || h->behind.name))
			out[n++] = (struct address){net, h->ip, h->ip_loc, h->name, KIND_HOST};
	}
	for (size_t i = 0; i < s->n_nats; i++) {
		const struct scenario_nat *nat = &s->nats[i];
		long net = network_of(c, &nat->behind);
		for (size_t k = 0; k < nat->n_public && net != -2; k++)
			out[n++] = (struct address){net, nat->public_ip[k], nat->public_loc[k],
						    nat->name, KIND_NAT};
	}
	const struct scenario_coordinator *co = s->coordinator;
	if (co && co->ip_loc.line > 0)
		out[n++] = (struct address){-1, co->ip, co->ip_loc, co->name, KIND_COORD};
	if (co && co->has_alternate && co->alt_loc.line > 0)
		out[n++] = (struct address){-1, co->alt_ip, co->alt_loc, co->name, KIND_COORD};
	return n;
}

/* Two nodes in one network must not share an address. Hosts behind
 * different NATs may (that is what private addresses are for). */
static void check_addresses(struct checker *c)
{
	const struct scenario *s = c->s;
	size_t max = s->n_hosts + s->n_nats * SCENARIO_MAX_PUBLIC + 2;
	struct address *a = malloc(max * sizeof(*a));
	char ip[16], where[96];

	if (!a) {
		c->p->oom = true;
		return;
	}
	size_t n = collect_addresses(c, a);
	qsort(a, n, sizeof(*a), address_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (a[i].net != a[first].net || a[i].ip != a[first].ip) {
			first = i;
			continue;
		}
		format_ip(a[i].ip, ip);
		if (a[i].net < 0)
			snprintf(where, sizeof(where), "on the internet");
		else
			snprintf(where, sizeof(where), "behind '%s'", s->nats[a[i].net].name);
		err_loc(c->p, a[i].loc, "address %s is already used by %s '%s' %s", ip,
			kind_word(a[first].kind), a[first].owner, where);
		note_loc(c->p, a[first].loc, "'%s' has %s here", a[first].owner, ip);
	}
	free(a);
}

static int action_cmp(const void *va, const void *vb)
{
	const struct scenario_action *a = va, *b = vb;

	if (a->at_ns != b->at_ns)
		return a->at_ns < b->at_ns ? -1 : 1;
	return loc_cmp(&a->loc, &b->loc); /* ties keep file order */
}

static void check(struct parser *p)
{
	struct checker c = {.p = p, .s = p->s};
	struct scenario *s = p->s;

	if (build_names(&c) < 0)
		return;
	check_duplicates(&c);
	for (size_t i = 0; i < s->n_nats; i++)
		resolve(&c, &s->nats[i].behind, KIND_NAT);
	for (size_t i = 0; i < s->n_hosts; i++)
		resolve(&c, &s->hosts[i].behind, KIND_NAT);
	check_cycles(&c);
	check_addresses(&c);
	check_links(&c);
	check_forwards(&c);
	for (size_t i = 0; i < s->n_rules; i++)
		resolve(&c, &s->rules[i].node, KIND_ANY);
	for (size_t i = 0; i < s->n_policies; i++)
		resolve(&c, &s->policies[i].node, KIND_ANY);
	for (size_t i = 0; i < s->n_actions; i++)
		check_action(&c, &s->actions[i]);
	for (size_t i = 0; i < s->n_expects; i++)
		check_expect(&c, &s->expects[i]);
	check_coordinator_needed(&c);
	free(c.names);
	if (s->n_actions > 1)
		qsort(s->actions, s->n_actions, sizeof(*s->actions), action_cmp);
}

/* --------------------------------------------------------------------- API */

static void parse_lines(struct parser *p)
{
	const struct scenario_priv *pr = p->pr;

	for (size_t k = 0; k < pr->n_lines && !p->oom; k++) {
		if (p->errors >= SCENARIO_MAX_ERRORS) {
			p->too_many = true;
			return;
		}
		p->line_no = clamp_int(k + 1);
		p->line = scenario_source_line(p->s, p->line_no, &p->line_len);
		parse_line(p);
	}
}

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
		check(&p);
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

/* ----------------------------------------------------------------- --set */

static const char *const nat_keys[] = {
    "preset",	   "mapping",	      "filtering", "ports", "timeout",
    "hairpinning", "inbound-refresh", "pooling",   "input", "forwards",
};
static const char *const host_keys[] = {"firewall", "keepalive", "host-candidates"};
static const char *const internet_keys[] = {"latency", "jitter", "loss"};

/* Index of key in keys, or -1 with an "unknown key" message. */
static int override_key(const char *key, size_t klen, const char *const *keys, size_t n,
			const char *owner, char *msg)
{
	char list[200];
	int i = word_index(key, klen, keys, n);

	if (i >= 0)
		return i;
	join_names(keys, n, list, sizeof(list));
	snprintf(msg, MSG_SIZE, "unknown key '%s' for %s", show(key, klen).s, owner);
	add_suggestion(msg, key, klen, keys, n);
	size_t used = strlen(msg);
	snprintf(msg + used, MSG_SIZE - used, " (the keys are %s)", list);
	return -1;
}

/* `--set NAT.forwards=off`: the world without the NAT's port forwards (the
 * one way to show that a lesson's forward is what lets a packet in). */
static int override_forwards(struct scenario *s, const struct scenario_nat *n, const char *v,
			     size_t vlen, char *msg)
{
	static const char *const off[] = {"off"};
	int unused;
	size_t kept = 0;

	if (val_choice(v, vlen, off, 1, "'off'", &unused, msg) < 0)
		return -1;
	for (size_t i = 0; i < s->n_forwards; i++)
		if (strcmp(s->forwards[i].nat.name, n->name) != 0)
			s->forwards[kept++] = s->forwards[i];
	s->n_forwards = kept;
	return 0;
}

static int override_nat(struct scenario *s, struct scenario_nat *n, const char *key, size_t klen,
			const char *v, size_t vlen, char *msg)
{
	char owner[96];
	int64_t timeout;
	int rc = -1;

	snprintf(owner, sizeof(owner), "NAT '%s'", n->name);
	switch (override_key(key, klen, nat_keys, COUNT(nat_keys), owner, msg)) {
	case 0:
		rc = val_preset(v, vlen, &n->preset, msg);
		/* A preset replaces the behaviour the file spelled out. */
		if (rc == 0)
			n->has_mapping = n->has_filtering = false;
		return rc;
	case 1:
		rc = val_behaviour(v, vlen, false, &n->mapping, msg);
		n->has_mapping |= rc == 0;
		return rc;
	case 2:
		rc = val_behaviour(v, vlen, true, &n->filtering, msg);
		n->has_filtering |= rc == 0;
		return rc;
	case 3:
		rc = val_ports(v, vlen, &n->ports, msg);
		n->has_ports |= rc == 0;
		return rc;
	case 4:
		if (val_setting(&scenario_nat_timeout_setting, v, vlen, &timeout, msg) < 0)
			return -1;
		n->timeout_ns = timeout;
		return 0;
	case 5:
		return val_on_off(v, vlen, &n->hairpinning, msg);
	case 6:
		return val_on_off(v, vlen, &n->inbound_refresh, msg);
	case 7:
		return val_choice(v, vlen, nat_pooling_words, 2, "'paired' or 'arbitrary'",
				  &n->pooling, msg);
	case 8:
		return val_choice(v, vlen, nat_input_words, 2, "'drop' or 'accept'", &n->input,
				  msg);
	case 9:
		return override_forwards(s, n, v, vlen, msg);
	}
	return -1;
}

static int override_host(struct scenario_host *h, const char *key, size_t klen, const char *v,
			 size_t vlen, char *msg)
{
	char owner[96];

	snprintf(owner, sizeof(owner), "host '%s'", h->name);
	switch (override_key(key, klen, host_keys, COUNT(host_keys), owner, msg)) {
	case 0:
		return val_on_off(v, vlen, &h->firewall, msg);
	case 1:
		return val_keepalive(v, vlen, &h->keepalive_ns, msg);
	case 2:
		return val_on_off(v, vlen, &h->host_candidates, msg);
	}
	return -1;
}

static int override_internet(struct scenario_internet *in, const char *key, size_t klen,
			     const char *v, size_t vlen, char *msg)
{
	int rc = -1;

	switch (override_key(key, klen, internet_keys, COUNT(internet_keys), "'internet'", msg)) {
	case 0:
		rc = val_setting(&scenario_latency_setting, v, vlen, &in->latency_ns, msg);
		break;
	case 1:
		rc = val_setting(&scenario_jitter_setting, v, vlen, &in->jitter_ns, msg);
		break;
	case 2:
		rc = val_percent(v, vlen, &in->loss, msg);
		break;
	}
	in->present |= rc == 0;
	return rc;
}

static void unknown_override_name(const struct scenario *s, const char *name, size_t len, char *msg)
{
	size_t n = s->n_nats + s->n_hosts + 2, k = 0;
	const char **names = malloc(n * sizeof(*names));

	if (s->coordinator && word_is(name, len, s->coordinator->name)) {
		snprintf(msg, MSG_SIZE, "the coordinator '%s' has no settings --set can change",
			 s->coordinator->name);
		free(names);
		return;
	}
	snprintf(msg, MSG_SIZE,
		 "no NAT or host is named '%s' (expected NAME.KEY=VALUE with "
		 "the name of a NAT or host, 'internet', or seed=N)",
		 show(name, len).s);
	if (!names)
		return;
	for (size_t i = 0; i < s->n_nats; i++)
		names[k++] = s->nats[i].name;
	for (size_t i = 0; i < s->n_hosts; i++)
		names[k++] = s->hosts[i].name;
	names[k++] = "internet";
	names[k++] = "seed";
	const char *best = suggest_n(name, len, names, k);
	if (best)
		snprintf(msg, MSG_SIZE, "no NAT or host is named '%s'; did you mean '%s'?",
			 show(name, len).s, best);
	free(names);
}

static int override_apply(struct scenario *s, const char *arg, size_t klen, const char *v,
			  char *msg)
{
	size_t vlen = strlen(v);
	const char *dot = memchr(arg, '.', klen);

	if (word_is(arg, klen, "seed")) {
		if (val_u64(v, vlen, UINT64_MAX, "a seed", &s->seed, msg) < 0)
			return -1;
		s->has_seed = true;
		return 0;
	}
	if (!dot) {
		snprintf(msg, MSG_SIZE,
			 "expected NAME.KEY=VALUE (e.g. home.preset=symmetric) or "
			 "seed=N");
		return -1;
	}
	size_t nlen = (size_t)(dot - arg);
	const char *key = dot + 1;
	klen -= nlen + 1;
	if (word_is(arg, nlen, "internet"))
		return override_internet(&s->internet, key, klen, v, vlen, msg);
	for (size_t i = 0; i < s->n_nats; i++)
		if (word_is(arg, nlen, s->nats[i].name))
			return override_nat(s, &s->nats[i], key, klen, v, vlen, msg);
	for (size_t i = 0; i < s->n_hosts; i++)
		if (word_is(arg, nlen, s->hosts[i].name))
			return override_host(&s->hosts[i], key, klen, v, vlen, msg);
	unknown_override_name(s, arg, nlen, msg);
	return -1;
}

int scenario_set_override(struct scenario *s, const char *name_dot_key_eq_value, struct diag *diags)
{
	const char *arg = name_dot_key_eq_value ? name_dot_key_eq_value : "";
	const char *eq = strchr(arg, '=');
	char msg[MSG_SIZE];

	if (!s)
		return -1;
	if (!eq)
		snprintf(msg, MSG_SIZE, "expected NAME.KEY=VALUE (e.g. home.preset=symmetric)");
	else if (override_apply(s, arg, (size_t)(eq - arg), eq + 1, msg) == 0)
		return 0;
	diag_add(diags, DIAG_ERROR, NULL, "--set '%s': %s", show(arg, strlen(arg)).s, msg);
	return -1;
}
