/*
 * values.c - the scenario language's value readers: one word (an address, a
 * port, a duration, a behaviour...) into a value, or a message saying what
 * was expected. The file parser (parser.c) and --set (overrides.c) read
 * values through these, so both say the same thing about the same mistake.
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

#include "base/addr6.h"

/* ------------------------------------------------------------ value parsers */
/*
 * These read one word (bytes s[0..len), not NUL-terminated) and either set
 * *out and return 0, or write a message into msg (MSG_SIZE bytes) and return
 * -1. The same messages serve the file parser and --set.
 */

struct shown show(const char *s, size_t len)
{
	struct shown r;

	units_show(s, len, r.s); /* the same quoting as every units message */
	return r;
}

bool word_is(const char *s, size_t len, const char *kw)
{
	return strlen(kw) == len && memcmp(s, kw, len) == 0;
}

int word_index(const char *s, size_t len, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && word_is(s, len, names[i]))
			return (int)i;
	return -1;
}

const char *suggest_n(const char *s, size_t len, const char *const *names, size_t n)
{
	char word[65];

	if (len == 0 || len >= sizeof(word) || memchr(s, '\0', len))
		return NULL;
	memcpy(word, s, len);
	word[len] = '\0';
	return diag_suggest(word, names, n);
}

/* Append "; did you mean 'X'?" to msg if a candidate is close to the word. */
void add_suggestion(char *msg, const char *s, size_t len, const char *const *names, size_t n)
{
	const char *best = suggest_n(s, len, names, n);
	size_t used = strlen(msg);

	if (best && used < MSG_SIZE)
		snprintf(msg + used, MSG_SIZE - used, "; did you mean '%s'?", best);
}

int val_choice(const char *s, size_t len, const char *const *names, size_t n, const char *expected,
	       int *out, char *msg)
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

int val_on_off(const char *s, size_t len, int *out, char *msg)
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
int val_behaviour(const char *s, size_t len, bool filtering, int *out, char *msg)
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

int val_preset(const char *s, size_t len, const char **out, char *msg)
{
	int i = 0;

	if (val_choice(s, len, preset_names, COUNT(preset_names),
		       "a preset: full-cone, restricted-cone, port-restricted-cone or symmetric",
		       &i, msg) < 0)
		return -1;
	*out = preset_names[i];
	return 0;
}

int val_ports(const char *s, size_t len, int *out, char *msg)
{
	return val_choice(s, len, ports_names, 3, "'preserve', 'sequential' or 'random'", out, msg);
}

/* A whole number 0..max (units_parse_count: decimal digits only). */
int val_u64(const char *s, size_t len, uint64_t max, const char *what, uint64_t *out, char *msg)
{
	return units_read_count(what, s, len, 0, max, out, msg, MSG_SIZE) == UNITS_OK ? 0 : -1;
}

int val_port(const char *s, size_t len, uint16_t *out, char *msg)
{
	uint64_t v;

	if (val_u64(s, len, 65535, "a port", &v, msg) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* "N" or "N-M" with N <= M. */
int val_port_range(const char *s, size_t len, uint16_t *lo, uint16_t *hi, char *msg)
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
int ipv4_n(const char *s, size_t len, uint32_t *out)
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

/* The message for an address written with a leading zero. */
void leading_zero_problem(const char *s, size_t len, uint32_t ip, char *msg)
{
	char canon[16];

	format_ip(ip, canon);
	snprintf(msg, MSG_SIZE,
		 "'%s' has a part with a leading zero, which some tools read as octal; write %s",
		 show(s, len).s, canon);
}

/* Reads text as an IPv6 address or prefix: the word copied to a C string
 * (ip6_parse wants one), the refusal's reason in msg and its place in *at. */
static enum ip6_error read6(const char *s, size_t len, bool prefix, struct ip6_addr *out,
			    uint8_t *plen, size_t *at)
{
	char text[128];

	*at = 0;
	if (len >= sizeof(text) || memchr(s, '\0', len))
		return IP6_ERR_CHAR;
	memcpy(text, s, len);
	text[len] = '\0';
	return prefix ? ip6_prefix_parse(text, out, plen, at) : ip6_parse(text, out, at);
}

int val_ipv6(const char *s, size_t len, struct ip6_addr *out, size_t *at, char *msg)
{
	enum ip6_error err = read6(s, len, false, out, NULL, at);

	if (err == IP6_OK)
		return 0;
	snprintf(msg, MSG_SIZE, "'%s' is not an IPv6 address: %s", show(s, len).s,
		 ip6_error_str(err));
	return -1;
}

int val_prefix6(const char *s, size_t len, struct ip6_addr *out, uint8_t *plen, size_t *at,
		char *msg)
{
	enum ip6_error err = read6(s, len, true, out, plen, at);

	if (err == IP6_OK)
		return 0;
	snprintf(msg, MSG_SIZE, "'%s' is not an IPv6 prefix like 2001:db8:1::/64: %s",
		 show(s, len).s, ip6_error_str(err));
	return -1;
}

/* The kinds of IPv6 address no interface of a node may hold (RFC 4291
 * section 2.4's table, RFC 6890): the reason, or NULL for a unicast one. */
const char *ipv6_not_unicast(const struct ip6_addr *a)
{
	static const struct ip6_addr loopback = {.b = {[15] = 1}};

	if (ip6_is_unspecified(a))
		return ":: is the unspecified address (RFC 4291 section 2.5.2)";
	if (ip6_equal(a, &loopback))
		return "::1 is loopback, which never leaves a host (RFC 4291 section 2.5.3)";
	if (a->b[0] == 0xff)
		return "ff00::/8 is for multicast groups (RFC 4291 section 2.7), not interfaces";
	if (a->b[0] == 0xfe && (a->b[1] & 0xc0) == 0x80)
		return "fe80::/10 is link-local, and natsim does not model link-local scope "
		       "(docs/ipv6.md): give a global address";
	if (ip6_is_v4_mapped(a))
		return "::ffff:0:0/96 is IPv4-mapped (RFC 4291 section 2.5.5.2): it stands for an "
		       "IPv4 address, never for an interface's IPv6 one";
	return NULL;
}

/* The message for text with a colon where an IPv4 address must be: an
 * IPv6 address where only IPv4 means something (a NAT's public address),
 * or no address of either family (issue 18: "2001:db8::1::2", ":::", a
 * zone id). */
static void ipv6_problem(const char *s, size_t len, char *msg)
{
	struct ip6_addr a;
	size_t at;
	enum ip6_error err = read6(s, len, false, &a, NULL, &at);

	if (err == IP6_OK)
		snprintf(msg, MSG_SIZE,
			 "'%s' is an IPv6 address, and only an IPv4 address like 192.0.2.1 has a "
			 "meaning here",
			 show(s, len).s);
	else
		snprintf(msg, MSG_SIZE,
			 "expected an IPv4 address like 192.0.2.1, found '%s', which is not an "
			 "IPv6 address either: %s",
			 show(s, len).s, ip6_error_str(err));
}

int val_ipv4(const char *s, size_t len, uint32_t *out, char *msg)
{
	int rc = ipv4_n(s, len, out);

	if (rc == 0)
		return 0;
	if (rc == IPV4_LEADING_ZERO)
		leading_zero_problem(s, len, *out, msg);
	else if (memchr(s, ':', len) != NULL)
		ipv6_problem(s, len, msg);
	else
		snprintf(msg, MSG_SIZE, "expected an IPv4 address like 192.0.2.1, found '%s'",
			 show(s, len).s);
	return -1;
}

void format_ip(uint32_t ip, char buf[16])
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
/* RFC 5382 REQ-5 asks 2 h 4 min for an established TCP mapping, Linux keeps
 * one 5 days (nf_conntrack_tcp_timeout_established = 432000): both fit. */
const struct units_setting scenario_tcp_timeout_setting = {
    .what = "a TCP timeout", .min_ns = UNITS_NS_PER_S, .max_ns = 5 * 24 * UNITS_NS_PER_H};
/* iputils ping lets only root go below 200 ms; natsim stops at 10 ms, which
 * keeps a run's trace readable. An hour is plenty. */
const struct units_setting scenario_ping_interval_setting = {
    .what = "a ping interval", .min_ns = 10 * UNITS_NS_PER_MS, .max_ns = UNITS_NS_PER_H};

/* PCP servers grant 120 s to a day (RFC 6887 section 15 leaves the range
 * to them; miniupnpd clamps to 120-86400 s, as model/pcp_server.c does):
 * asking for less or more only gets clamped. */
const struct units_setting scenario_mapping_lifetime_setting = {
    .what = "a mapping lifetime", .min_ns = 120 * UNITS_NS_PER_S, .max_ns = 24 * UNITS_NS_PER_H};
const struct units_setting scenario_background_for_setting = {.what =
								  "a background traffic's duration",
							      .min_ns = UNITS_NS_PER_MS,
							      .max_ns = SCENARIO_MAX_TIME_NS};

int scenario_parse_duration(const char *s, int64_t *ns)
{
	if (!s || !ns)
		return SCENARIO_DURATION_SYNTAX;
	return units_parse_duration(s, strlen(s), ns);
}

/* A duration within its setting's range (or its zero word). */
int val_setting(const struct units_setting *set, const char *s, size_t len, int64_t *out, char *msg)
{
	return units_read_setting(set, s, len, out, msg, MSG_SIZE) == UNITS_OK ? 0 : -1;
}

/* A time since the start of the run (`at`, `by`). */
int val_duration(const char *s, size_t len, int64_t *out, char *msg)
{
	return val_setting(&scenario_time_setting, s, len, out, msg);
}

/* A keepalive interval: "off" (0) or a duration in range. */
int val_keepalive(const char *s, size_t len, int64_t *out, char *msg)
{
	return val_setting(&scenario_keepalive_setting, s, len, out, msg);
}

/* "1%", "0.5%", "100%" -> a probability 0..1. */
int val_percent(const char *s, size_t len, double *out, char *msg)
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
int val_prefix(const char *s, size_t len, uint32_t *ip, uint8_t *plen, bool *host_bits, char *msg)
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

bool valid_name(const char *s, size_t len)
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

/* A count within [lo, hi] (units_read_count's words: "WHAT 'N' is out of
 * range (LO-HI)"). */
int val_count(const char *s, size_t len, int lo, int hi, const char *what, int *out, char *msg)
{
	uint64_t v;

	if (units_read_count(what, s, len, (uint64_t)lo, (uint64_t)hi, &v, msg, MSG_SIZE) !=
	    UNITS_OK)
		return -1;
	*out = (int)v;
	return 0;
}

/* "N/s": a whole number of things a second, lo..hi. */
int val_rate(const char *s, size_t len, int lo, int hi, const char *what, int *out, char *msg)
{
	if (len < 3 || s[len - 2] != '/' || s[len - 1] != 's') {
		snprintf(msg, MSG_SIZE,
			 "expected %s like 100/s (a whole number, then /s), found '%s'", what,
			 show(s, len).s);
		return -1;
	}
	uint64_t v;
	int rc = units_parse_count(s, len - 2, (uint64_t)hi, &v);
	if (rc == UNITS_SYNTAX) {
		snprintf(msg, MSG_SIZE,
			 "expected %s like 100/s (a whole number, then /s), found '%s'", what,
			 show(s, len).s);
		return -1;
	}
	if (rc != UNITS_OK || v < (uint64_t)lo) {
		snprintf(msg, MSG_SIZE, "%s '%s' is out of range (%d/s-%d/s)", what, show(s, len).s,
			 lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* One name of `techniques`: a technique's bit, or all (SCENARIO_TECH_ALL)
 * or none (0). */
int val_technique(const char *s, size_t len, int *bit, char *msg)
{
	static const int bits[] = {SCENARIO_TECH_PREDICTION, SCENARIO_TECH_BIRTHDAY,
				   SCENARIO_TECH_PORT_MAPPING, SCENARIO_TECH_ALL, 0};
	int i = 0;

	/* One name per technique: PCP is one of the two protocols port-mapping
	 * speaks (it falls back to NAT-PMP), so it does not name the technique. */
	if (word_is(s, len, "pcp") || word_is(s, len, "nat-pmp")) {
		snprintf(msg, MSG_SIZE,
			 "'%s' is a protocol, not a technique: write 'port-mapping' (the agent "
			 "asks its router with PCP, else NAT-PMP)",
			 show(s, len).s);
		return -1;
	}
	if (val_choice(s, len, technique_words, COUNT(technique_words),
		       "a technique: prediction, birthday, port-mapping, all or none", &i, msg) < 0)
		return -1;
	*bit = bits[i];
	return 0;
}

/* Adds one name's bit to a list being read: all and none stand alone, and
 * no name is given twice. */
static int technique_list_add(struct technique_list *l, const char *s, size_t len, int bit,
			      char *msg)
{
	bool whole = bit == 0 || bit == SCENARIO_TECH_ALL;

	if ((whole || l->alone) && l->n > 0) {
		snprintf(msg, MSG_SIZE,
			 "'all' and 'none' stand alone: write 'techniques %s' or a list of "
			 "techniques",
			 whole	   ? show(s, len).s
			 : l->bits ? "all"
				   : "none");
		return -1;
	}
	if (l->bits & bit) {
		snprintf(msg, MSG_SIZE, "'%s' is given twice in the list", show(s, len).s);
		return -1;
	}
	l->bits |= bit;
	l->alone = whole;
	l->n++;
	return 0;
}

/* One word of a `techniques` list: names joined by '+' (the way to write a
 * list where commas separate something else, as natsim sweep's values do:
 * --vary alice.techniques=none,prediction+birthday). */
int technique_word_add(struct technique_list *l, const char *s, size_t len, char *msg)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;
		int bit;
		while (i < len && s[i] != '+')
			i++;
		if (val_technique(s + start, i - start, &bit, msg) < 0 ||
		    technique_list_add(l, s + start, i - start, bit, msg) < 0)
			return -1;
		if (i++ == len)
			return 0;
	}
}

/* `techniques` as one text, for --set: names separated by commas (spaces
 * around them allowed) or joined by '+'. */
int val_techniques(const char *s, size_t len, int *out, char *msg)
{
	struct technique_list l = {0};
	size_t i = 0;

	for (;;) {
		while (i < len && s[i] == ' ')
			i++;
		size_t start = i;
		while (i < len && s[i] != ',' && s[i] != ' ')
			i++;
		if (technique_word_add(&l, s + start, i - start, msg) < 0)
			return -1;
		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		if (s[i] != ',') {
			snprintf(msg, MSG_SIZE, "expected a comma between techniques, found '%s'",
				 show(s + i, len - i).s);
			return -1;
		}
		i++;
	}
	*out = l.bits;
	return 0;
}

uint64_t scenario_background_flows(int rate, int64_t duration_ns)
{
	if (rate <= 0 || duration_ns <= 0)
		return 0;
	return ((uint64_t)duration_ns * (uint64_t)rate + (uint64_t)UNITS_NS_PER_S - 1) /
	       (uint64_t)UNITS_NS_PER_S;
}
