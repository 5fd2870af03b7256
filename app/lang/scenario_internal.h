/*
 * scenario_internal.h - what the parts of the scenario language share, and
 * nothing outside app/lang/ may include: the scenario's private memory, the
 * parser's state, the words of the language, and the functions one part of
 * app/lang/ calls in another (scenario.c, lexer.c, values.c, parser.c,
 * checks.c, overrides.c). The public contract is app/lang/scenario.h.
 */
#ifndef NATSIM_APP_LANG_SCENARIO_INTERNAL_H
#define NATSIM_APP_LANG_SCENARIO_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "app/lang/scenario.h"

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
	size_t cap_nats, cap_routers, cap_hosts, cap_links, cap_forwards, cap_rules, cap_policies;
	size_t cap_actions, cap_expects;
	char *description; /* grows as description lines arrive (malloc'd) */
	size_t description_len;
};

/* Room for one more item; returns the (maybe moved) array or NULL on OOM. */
void *grow_array(void *items, size_t n, size_t *cap, size_t size);
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

/* ------------------------------------------------------------------ tables */

/* The words of the language, indexed by the enums they name (each part
 * that reads or prints one uses the same table). */
static const char *const behaviour_names[] = {
    "endpoint-independent",
    "address-dependent",
    "address-and-port-dependent",
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
    "any",	 "firewall",   "nat-filter",   "nat-no-mapping", "nat-exhausted", "hairpin",
    "no-route",	 "ttl",	       "link-loss",    "link-down",	 "queue-full",	  "malformed",
    "no-socket", "not-for-us", "icmp-no-flow", "ct-invalid",
};
static const char *const state_names[] = {"new", "established", "related", "invalid"};

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
    [SCENARIO_ACT_PING] = "ping",
    [SCENARIO_ACT_TRACEROUTE] = "traceroute",
    [SCENARIO_ACT_TCP] = "tcp",
    [SCENARIO_ACT_SERVE] = "serve",
    [SCENARIO_ACT_BACKGROUND] = "background",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* `pooling paired|arbitrary` (RFC 4787 REQ-2) and `input drop|accept` (what
 * the router does with unsolicited packets to its own address): words whose
 * index is the model's enum value. */
static const char *const nat_pooling_words[] = {"paired", "arbitrary"};
static const char *const nat_input_words[] = {"drop", "accept"};
/* `tcp-unsolicited drop|rst|icmp`: enum nat_tcp_unsolicited (model/nat.h). */
static const char *const nat_tcp_unsolicited_words[] = {"drop", "rst", "icmp"};

/* ---------------------------------------------------------------- TCP words */

/* TCP flags as the language writes them (lower case, as tcpdump prints
 * them spelled out), each with its bit (model/packet.h TCP_FIN, ...). */
static const char *const tcp_flag_words[] = {"fin", "syn", "rst", "psh",
					     "ack", "urg", "ece", "cwr"};
/* A socket's state, RFC 9293's names in lower case (enum tcp_state); [0]
 * is CLOSED, which no socket in a host's table shows. */
static const char *const tcp_state_words[] = {
    NULL,	  "listen",	"syn-sent", "syn-received", "established", "fin-wait-1",
    "fin-wait-2", "close-wait", "closing",  "last-ack",	    "time-wait",
};
/* A conntrack entry's TCP state, Linux's names (tcp_conntrack_names in
 * nf_conntrack_proto_tcp.c) in lower case with '-' (enum
 * conntrack_tcp_state; [0] is NONE, which no entry shows). */
static const char *const ct_state_words[] = {
    NULL,	  "syn-sent", "syn-recv",  "established", "fin-wait",
    "close-wait", "last-ack", "time-wait", "close",	  "syn-sent2",
};
static const char *const tcp_outcome_words[] = {"connected", "refused", "timeout", "reset",
						"unreachable"};
static const char *const serve_mode_words[] = {"discard", "echo", "daytime"};
/* `techniques`: the names of enum agent_technique's bits (agent_technique_name),
 * then the two words for all of them and none. */
static const char *const technique_words[] = {"prediction", "birthday", "port-mapping", "all",
					      "none"};

/* ------------------------------------------------------------ value parsers */

#define MSG_SIZE 480
#define SHOW_MAX UNITS_SHOW_MAX

/* A word made safe and short for a message: unprintable bytes become '?'. */
struct shown {
	char s[SHOW_MAX + 8];
};

/* val_ipv4 and ipv4_n: a part with a leading zero (see values.c). */
#define IPV4_LEADING_ZERO (-2)

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

/* ---------------------------------------------------------- cross-file calls */

/* scenario.c: the arena and diagnostics at a place in the source */
void *arena_alloc(struct scenario_priv *pr, size_t n);
char *arena_strndup(struct scenario_priv *pr, const char *s, size_t len);
int report_v(const struct scenario *s, struct diag *d, enum diag_severity sev,
	     const struct scenario_loc *loc, const char *fmt, va_list ap);

/* lexer.c: tokens, and errors at a token or a place in the line */
int clamp_int(size_t v);
__attribute__((format(printf, 3, 4))) int err_at(struct parser *p, const struct token *t,
						 const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int err_loc(struct parser *p, struct scenario_loc loc,
						  const char *fmt, ...);
int lex_line(struct parser *p);
struct scenario_loc loc_of(const struct parser *p, const struct token *t);
struct scenario_loc loc_span(const struct parser *p, size_t off, size_t len);
__attribute__((format(printf, 3, 4))) void note_loc(struct parser *p, struct scenario_loc loc,
						    const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void warn_at(struct parser *p, const struct token *t,
						   const char *fmt, ...);
__attribute__((format(printf, 3, 4))) void warn_loc(struct parser *p, struct scenario_loc loc,
						    const char *fmt, ...);

/* values.c: one word into a value (0), or a message in msg (MSG_SIZE bytes) and -1 */
void add_suggestion(char *msg, const char *s, size_t len, const char *const *names, size_t n);
void format_ip(uint32_t ip, char buf[16]);
int ipv4_n(const char *s, size_t len, uint32_t *out);
void leading_zero_problem(const char *s, size_t len, uint32_t ip, char *msg);
struct shown show(const char *s, size_t len);
const char *suggest_n(const char *s, size_t len, const char *const *names, size_t n);
int val_behaviour(const char *s, size_t len, bool filtering, int *out, char *msg);
int val_choice(const char *s, size_t len, const char *const *names, size_t n, const char *expected,
	       int *out, char *msg);
int val_duration(const char *s, size_t len, int64_t *out, char *msg);
int val_ipv4(const char *s, size_t len, uint32_t *out, char *msg);
/* IPv6 text (ip6_parse, ip6_prefix_parse); on refusal *at is the byte of the
 * word at fault, for a column that points at it. */
int val_ipv6(const char *s, size_t len, struct ip6_addr *out, size_t *at, char *msg);
int val_prefix6(const char *s, size_t len, struct ip6_addr *out, uint8_t *plen, size_t *at,
		char *msg);
/* Why an IPv6 address cannot be a node's own, or NULL if it can. */
const char *ipv6_not_unicast(const struct ip6_addr *a);
int val_keepalive(const char *s, size_t len, int64_t *out, char *msg);
int val_on_off(const char *s, size_t len, int *out, char *msg);
int val_count(const char *s, size_t len, int lo, int hi, const char *what, int *out, char *msg);
int val_rate(const char *s, size_t len, int lo, int hi, const char *what, int *out, char *msg);
int val_technique(const char *s, size_t len, int *bit, char *msg);
int val_techniques(const char *s, size_t len, int *out, char *msg);
/* A `techniques` list being read, word by word (technique_word_add). */
struct technique_list {
	int bits;   /* SCENARIO_TECH_* */
	int n;	    /* names so far */
	bool alone; /* the last was all or none, which stand alone */
};
int technique_word_add(struct technique_list *l, const char *s, size_t len, char *msg);
int val_percent(const char *s, size_t len, double *out, char *msg);
int val_port(const char *s, size_t len, uint16_t *out, char *msg);
int val_port_range(const char *s, size_t len, uint16_t *lo, uint16_t *hi, char *msg);
int val_ports(const char *s, size_t len, int *out, char *msg);
int val_prefix(const char *s, size_t len, uint32_t *ip, uint8_t *plen, bool *host_bits, char *msg);
int val_preset(const char *s, size_t len, const char **out, char *msg);
int val_setting(const struct units_setting *set, const char *s, size_t len, int64_t *out,
		char *msg);
int val_u64(const char *s, size_t len, uint64_t max, const char *what, uint64_t *out, char *msg);
bool valid_name(const char *s, size_t len);
int word_index(const char *s, size_t len, const char *const *names, size_t n);
bool word_is(const char *s, size_t len, const char *kw);

/* parser.c: every line of the source, one statement each */
void join_names(const char *const *names, size_t n, char *buf, size_t size);
void parse_lines(struct parser *p);

/* checks.c: names, duplicates, cycles and addresses, once all is parsed */
void check_scenario(struct parser *p);

/* What checks.c and checks6.c share: every node's name, sorted. */
enum { KIND_HOST = 1, KIND_NAT = 2, KIND_COORD = 4, KIND_ROUTER = 8, KIND_ANY = 15 };

struct node_name {
	const char *name;
	int kind;
	struct scenario_loc loc;
	size_t index; /* into hosts, nats or routers */
};

struct checker {
	struct parser *p;
	struct scenario *s;
	struct node_name *names; /* sorted by name, then by position in the file */
	size_t n;
};

/* The first definition of `name`, or NULL. */
const struct node_name *lookup(const struct checker *c, const char *name);
/* The definition `ref` names if it has a kind in `mask`; else reports and
 * returns NULL. An absent ref is NULL without a report. */
const struct node_name *resolve(struct checker *c, const struct scenario_ref *ref, int mask);

/* checks6.c: what IPv6 asks of a scenario that has any (scenario_has_ipv6) */
bool scenario_has_ipv6(const struct scenario *s);
void check_ipv6(struct checker *c);

#endif
