/*
 * parser.c - the statements of the scenario language.
 *
 * The language is line-oriented, so the parser is too: each line is split
 * into tokens (lexer.c), the first word picks a statement parser, and that
 * parser walks the tokens. The first error in a line is reported and the rest
 * of the line skipped, so one pass reports one error per bad line. Names are
 * not resolved here: checks.c does that once the whole file is read.
 */
#include "app/lang/scenario_internal.h"

#include "model/packet.h" /* PACKET_MAX_SIZE, header sizes, TCP flags */
#include "sim/verdict.h"  /* fw_reject_with_parse: iptables' --reject-with names */
#include "p2p/agent.h"	  /* AGENT_NAME_MAX, AGENT_MAX_DATA: what a peer can register and send */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* One node address of either family, as read by want_node_addr. */
struct node_addr {
	int family; /* 4 or 6 */
	uint32_t ip;
	struct ip6_addr ip6;
	struct scenario_loc loc;
};

/* An IPv6 refusal at the character at fault (ip6_parse's offset), so the
 * caret points into the word: "2001:db8::1::2" at its second "::". */
static int err_ip6(struct parser *p, const struct token *t, size_t at, const char *msg)
{
	if (at >= t->len)
		at = 0;
	return err_loc(p, loc_span(p, t->off + at, 1), "%s", msg);
}

/* A node's own address of either family: text with a colon is IPv6
 * (ip6_parse, then ipv6_not_unicast), the rest IPv4 (want_node_ip). */
static int want_node_addr(struct parser *p, const char *what, struct node_addr *out)
{
	const struct token *t = peek(p);
	char msg[MSG_SIZE];
	size_t at = 0;

	if (!t || t->type != TOK_WORD || !memchr(p->line + t->off, ':', t->len))
		return out->family = 4, want_node_ip(p, what, &out->ip, &out->loc);
	p->pos++;
	out->family = 6;
	out->loc = loc_of(p, t);
	if (val_ipv6(TEXT(p, t), &out->ip6, &at, msg) < 0)
		return err_ip6(p, t, at, msg);
	const char *why = ipv6_not_unicast(&out->ip6);
	if (why)
		return err_loc(p, out->loc, "%s cannot be a node's address: %s", show(TEXT(p, t)).s,
			       why);
	return 0;
}

/* ADDR [and ADDR]: one address, or one of each family joined by `and` (the
 * issue's "at 192.168.1.5 and 2001:db8:1::5"). *has4 / *has6 say which. */
static int want_dual_addr(struct parser *p, const char *what, uint32_t *ip,
			  struct scenario_loc *loc, struct ip6_addr *ip6, struct scenario_loc *loc6,
			  bool *has4, bool *has6)
{
	struct node_addr a[2];
	int n = 0;

	*has4 = *has6 = false;
	do {
		if (want_node_addr(p, n ? "an IPv6 or IPv4 address after 'and'" : what, &a[n]) < 0)
			return -1;
		if (n == 1 && a[1].family == a[0].family)
			return err_loc(
			    p, a[1].loc,
			    "'and' joins an IPv4 address and an IPv6 one (a node has one "
			    "of each at most), and both here are IPv%d",
			    a[0].family);
		n++;
	} while (n < 2 && accept_kw(p, "and"));
	for (int i = 0; i < n; i++) {
		if (a[i].family == 4) {
			*has4 = true;
			*ip = a[i].ip;
			*loc = a[i].loc;
		} else {
			*has6 = true;
			*ip6 = a[i].ip6;
			*loc6 = a[i].loc;
		}
	}
	return 0;
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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* `hex "0201 0000"`: a payload written as bytes, two hex digits each
 * (spaces between them allowed), for a datagram no text can spell - a PCP
 * or NAT-PMP request, say. */
static int want_hex_payload(struct parser *p, size_t max, const char **out, size_t *out_len)
{
	const struct token *t = peek(p);
	const char *text;
	size_t len, n = 0;

	if (want_string(p, "the payload in hex digits after 'hex', e.g. \"0200\"", &text, &len) < 0)
		return -1;
	char *bytes = arena_alloc(p->pr, len / 2 + 1);
	if (!bytes)
		return p->oom = true, -1;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ')
			continue;
		int hi = hex_digit(text[i]), lo = i + 1 < len ? hex_digit(text[i + 1]) : -1;
		if (hi < 0 || lo < 0)
			return err_at(p, t,
				      "expected pairs of hex digits (0-9, a-f) in the payload, "
				      "found '%c'",
				      hi < 0	    ? text[i]
				      : i + 1 < len ? text[i + 1]
						    : ' ');
		bytes[n++] = (char)(hi << 4 | lo);
		i++;
	}
	if (n > max)
		return err_at(p, t,
			      "the payload is %zu bytes long; a raw datagram's payload is at "
			      "most %zu bytes",
			      n, max);
	*out = bytes;
	*out_len = n;
	return 0;
}

void join_names(const char *const *names, size_t n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[i]);
}

/* The optional parts of a statement, in any order, each at most once. */
#define MAX_OPTIONS 24
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
	bool has4, has6;

	c->has_alternate = true;
	if (want_dual_addr(p, "the alternate address after 'alternate'", &c->alt_ip, &c->alt_loc,
			   &c->alt_ip6, &c->alt6_loc, &has4, &has6) < 0)
		return -1;
	if (has4 != true || has6 != c->has_ip6)
		return err_loc(p, has6 ? c->alt6_loc : c->alt_loc,
			       "the alternate has the families the primary has (%s): behaviour "
			       "discovery (RFC 5780) compares answers from both",
			       c->has_ip6 ? "an IPv4 and an IPv6 address" : "an IPv4 address");
	if (accept_kw(p, "port")) {
		if (want_listen_port(p, "a port after 'port'", "a coordinator's port",
				     &c->alt_port) < 0)
			return -1;
		*alt_port = true;
	}
	if (c->alt_ip == c->ip || (has6 && ip6_equal(&c->alt_ip6, &c->ip6)))
		return err_loc(p, c->alt_ip == c->ip ? c->alt_loc : c->alt6_loc,
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
	bool has4;
	if (want_kw(p, "at", "'at' after the coordinator's name") < 0 ||
	    want_dual_addr(p, "the coordinator's address after 'at'", &c->ip, &c->ip_loc, &c->ip6,
			   &c->ip6_loc, &has4, &c->has_ip6) < 0)
		return -1;
	if (!has4) /* the agents reach it over IPv4: p2p speaks IPv4 only (docs/ipv6.md step 6) */
		return err_loc(p, c->ip6_loc,
			       "the coordinator needs an IPv4 address beside this one (e.g. 'at "
			       "192.0.2.10 and 2001:db8:ff::10'): the agents reach it over IPv4, "
			       "as their IPv6 is not built yet (docs/ipv6.md step 6)");
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
	NAT_INPUT,
	NAT_ICMP_INNER,
	NAT_ICMP_ERRORS,
	NAT_ICMP_TIMEOUT,
	NAT_TCP_ESTABLISHED,
	NAT_TCP_TRANSITORY,
	NAT_TCP_UNSOLICITED,
	NAT_PCP,
	NAT_NATPMP,
	NAT_IPV6 /* then the IPv6 side's options, in V6_* order */
};

static int parse_nat_word(struct parser *p, int opt, int *out)
{
	if (opt == NAT_TCP_UNSOLICITED)
		WANT_VALUE(p, "'drop', 'rst' or 'icmp' after 'tcp-unsolicited'",
			   val_choice(ws, wl, nat_tcp_unsolicited_words, 3,
				      "'drop', 'rst' or 'icmp'", out, msg));
	else if (opt == NAT_POOLING)
		WANT_VALUE(
		    p, "'paired' or 'arbitrary' after 'pooling'",
		    val_choice(ws, wl, nat_pooling_words, 2, "'paired' or 'arbitrary'", out, msg));
	else
		WANT_VALUE(p, "'drop' or 'accept' after 'input'",
			   val_choice(ws, wl, nat_input_words, 2, "'drop' or 'accept'", out, msg));
	return 0;
}

static int parse_v6side_option(struct parser *p, struct scenario_v6side *v, int opt);

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
	case NAT_ICMP_INNER:
		return want_on_off(p, "'on' or 'off' after 'icmp-inner'", &n->icmp_inner);
	case NAT_ICMP_ERRORS:
		return want_on_off(p, "'on' or 'off' after 'icmp-errors'", &n->icmp_errors);
	case NAT_ICMP_TIMEOUT:
		return want_setting(p, "a duration after 'icmp-timeout'",
				    &scenario_nat_timeout_setting, &n->icmp_timeout_ns);
	case NAT_TCP_ESTABLISHED:
		return want_setting(p, "a duration after 'tcp-established-timeout'",
				    &scenario_tcp_timeout_setting, &n->tcp_established_timeout_ns);
	case NAT_TCP_TRANSITORY:
		return want_setting(p, "a duration after 'tcp-transitory-timeout'",
				    &scenario_tcp_timeout_setting, &n->tcp_transitory_timeout_ns);
	case NAT_TCP_UNSOLICITED:
		return parse_nat_word(p, opt, &n->tcp_unsolicited);
	case NAT_PCP:
		return want_on_off(p, "'on' or 'off' after 'pcp'", &n->pcp);
	case NAT_NATPMP:
		return want_on_off(p, "'on' or 'off' after 'nat-pmp'", &n->natpmp);
	default:
		return parse_v6side_option(p, &n->v6, opt - NAT_IPV6);
	}
}

/* The IPv6 side's options, shared by `nat` and `router` (one vocabulary):
 * ipv6 PREFIX, firewall6 rfc6092|off, filtering6 B, reject6 on|off. */
enum { V6_PREFIX, V6_FIREWALL, V6_FILTERING, V6_REJECT };
static const char *const fw6_words[] = {"off", "rfc6092"};

static int want_home_prefix(struct parser *p, struct scenario_v6side *v)
{
	const struct token *t = want_word(p, "an IPv6 prefix like 2001:db8:1::/64 after 'ipv6'");
	char msg[MSG_SIZE];
	size_t at = 0;

	if (!t)
		return -1;
	v->loc = loc_of(p, t);
	if (!memchr(p->line + t->off, '/', t->len))
		return err_at(p, t,
			      "expected an IPv6 prefix like 2001:db8:1::/64 after 'ipv6', found "
			      "'%s' (the /length is missing): the router routes the prefix to its "
			      "inside",
			      show(TEXT(p, t)).s);
	if (val_prefix6(TEXT(p, t), &v->prefix, &v->prefix_len, &at, msg) < 0)
		return err_ip6(p, t, at, msg);
	/* The inside needs room for the router's own address and a host's. */
	if (v->prefix_len == 0 || v->prefix_len > 126)
		return err_at(p, t,
			      "a home's prefix is /1 to /126 (a home gets a /48 to /64 from its "
			      "ISP, RFC 6177): the inside needs an address for the router and "
			      "one for each host");
	v->present = true;
	return 0;
}

static int parse_v6side_option(struct parser *p, struct scenario_v6side *v, int opt)
{
	if (opt != V6_PREFIX && v->option_loc.line == 0)
		v->option_loc = loc_of(p, &p->toks[p->pos - 1]);
	switch (opt) {
	case V6_PREFIX:
		return want_home_prefix(p, v);
	case V6_FIREWALL:
		WANT_VALUE(
		    p, "'rfc6092' or 'off' after 'firewall6'",
		    val_choice(ws, wl, fw6_words, 2, "'rfc6092' or 'off'", &v->firewall, msg));
		return 0;
	case V6_FILTERING:
		return want_behaviour(p, true, &v->filtering);
	case V6_REJECT:
		return want_on_off(p, "'on' or 'off' after 'reject6'", &v->reject);
	}
	return -1;
}

/* What the IPv6 options agree on, once the line is read. */
static int check_v6side(struct parser *p, const char *stmt, const char *name,
			const struct scenario_v6side *v)
{
	if (!v->present && v->option_loc.line)
		return err_loc(p, v->option_loc,
			       "the IPv6 firewall options need an IPv6 side: give %s '%s' a "
			       "prefix with 'ipv6 2001:db8:1::/64'",
			       stmt, name);
	if (v->firewall == SCENARIO_FW6_OFF && (v->filtering >= 0 || v->reject >= 0))
		return err_loc(p, v->option_loc,
			       "'filtering6' and 'reject6' shape the RFC 6092 firewall, and this "
			       "line turns it off ('firewall6 off')");
	return 0;
}

static void v6side_unset(struct scenario_v6side *v)
{
	v->firewall = SCENARIO_UNSET;
	v->filtering = SCENARIO_UNSET;
	v->reject = SCENARIO_UNSET;
}

/* Every option a nat line may leave out: not given (the model's default). */
static void nat_options_unset(struct scenario_nat *n)
{
	n->timeout_ns = SCENARIO_UNSET;
	n->hairpinning = SCENARIO_UNSET;
	n->inbound_refresh = SCENARIO_UNSET;
	n->pooling = SCENARIO_UNSET;
	n->input = SCENARIO_UNSET;
	n->icmp_inner = SCENARIO_UNSET;
	n->icmp_errors = SCENARIO_UNSET;
	n->icmp_timeout_ns = SCENARIO_UNSET;
	n->tcp_established_timeout_ns = SCENARIO_UNSET;
	n->tcp_transitory_timeout_ns = SCENARIO_UNSET;
	n->tcp_unsolicited = SCENARIO_UNSET;
	n->pcp = SCENARIO_UNSET;
	n->natpmp = SCENARIO_UNSET;
	v6side_unset(&n->v6);
}

static int parse_nat(struct parser *p)
{
	static const char *const names[] = {
	    "preset",
	    "mapping",
	    "filtering",
	    "ports",
	    "range",
	    "timeout",
	    "hairpinning",
	    "inbound-refresh",
	    "public",
	    "behind",
	    "pooling",
	    "input",
	    "icmp-inner",
	    "icmp-errors",
	    "icmp-timeout",
	    "tcp-established-timeout",
	    "tcp-transitory-timeout",
	    "tcp-unsolicited",
	    "pcp",
	    "nat-pmp",
	    "ipv6",
	    "firewall6",
	    "filtering6",
	    "reject6",
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
	nat_options_unset(n);
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
	return check_v6side(p, "nat", n->name, &n->v6);
}

/* The translators a `router` line may add (docs/scenario.md "IPv6"):
 * nat64 [PREFIX/96], public IPV4, nptv6 OUTSIDE-PREFIX. */
enum { RX_NAT64, RX_PUBLIC, RX_NPTV6 };

/* `nat64` and its optional prefix: RFC 6052 2.2 allows /32 to /96, natsim's
 * translator (model/xlat.h) embeds the IPv4 address in the last 32 bits,
 * which only the /96 does; the well-known 64:ff9b::/96 (2.1) by default. */
static int parse_router_nat64(struct parser *p, struct scenario_router *r)
{
	const struct token *t = peek(p);
	char msg[MSG_SIZE];
	size_t at = 0;
	uint8_t len = 96;

	r->nat64 = true;
	r->nat64_loc = loc_of(p, &p->toks[p->pos - 1]);
	r->nat64_prefix = (struct ip6_addr){.b = {0x00, 0x64, 0xff, 0x9b}};
	if (!t || t->type != TOK_WORD || !memchr(p->line + t->off, ':', t->len))
		return 0;
	p->pos++;
	if (val_prefix6(TEXT(p, t), &r->nat64_prefix, &len, &at, msg) < 0)
		return err_ip6(p, t, at, msg);
	if (len != 96)
		return err_at(p, t,
			      "a NAT64 prefix is a /96 here (RFC 6052 2.2 allows /32 to /96, and "
			      "natsim embeds the IPv4 address in the last 32 bits, as the /96 "
			      "does): e.g. 64:ff9b::/96, the well-known prefix");
	return 0;
}

static int parse_router_nptv6(struct parser *p, struct scenario_router *r)
{
	const struct token *t = want_word(p, "the outside IPv6 prefix after 'nptv6'");
	char msg[MSG_SIZE];
	size_t at = 0;

	if (!t)
		return -1;
	r->nptv6 = true;
	r->nptv6_loc = loc_of(p, t);
	if (val_prefix6(TEXT(p, t), &r->nptv6_outside, &r->nptv6_len, &at, msg) < 0)
		return err_ip6(p, t, at, msg);
	return 0;
}

static int parse_router_xlat(struct parser *p, struct scenario_router *r, int opt)
{
	switch (opt) {
	case RX_NAT64:
		return parse_router_nat64(p, r);
	case RX_PUBLIC:
		if (want_node_ip(p, "the NAT64's public IPv4 address", &r->nat64_pool,
				 &r->pool_loc) < 0)
			return -1;
		if (peek(p) && peek(p)->type == TOK_COMMA)
			return err_at(p, peek(p),
				      "a NAT64 here has one public address (the router's wan "
				      "address, its pool of one)");
		return 0;
	case RX_NPTV6:
		return parse_router_nptv6(p, r);
	}
	return -1;
}

/* What the translators agree on, once the line is read. */
static int check_router_xlat(struct parser *p, const struct scenario_router *r)
{
	if (r->nat64 && r->nat64_pool == 0)
		return err_loc(
		    p, r->nat64_loc,
		    "router '%s''s NAT64 needs its pool's IPv4 address, e.g. 'nat64 "
		    "public 203.0.113.7' (the IPv4 source its inside's flows leave with)",
		    r->name);
	if (!r->nat64 && r->nat64_pool != 0)
		return err_loc(p, r->pool_loc,
			       "a router's public IPv4 address is its NAT64's pool: write 'nat64 "
			       "public ...' (an IPv4 home router is a 'nat')");
	if (r->nptv6 && r->nptv6_len != r->v6.prefix_len)
		return err_loc(p, r->nptv6_loc,
			       "NPTv6 maps a prefix onto one of the same length (RFC 6296 3.7 "
			       "leaves other lengths out): the inside is a /%u, this is a /%u",
			       (unsigned)r->v6.prefix_len, (unsigned)r->nptv6_len);
	if (r->nptv6 && r->nptv6_len > 64)
		return err_loc(p, r->nptv6_loc,
			       "NPTv6 translates prefixes of /64 or shorter (RFC 6296 3.7: the "
			       "checksum-neutral word sits in bits 48-63 or the interface "
			       "identifier)");
	if (r->nptv6 && ip6_prefix_match(&r->v6.prefix, r->v6.prefix_len, &r->nptv6_outside))
		return err_loc(p, r->nptv6_loc,
			       "the outside prefix is the inside one: NPTv6 would translate "
			       "nothing");
	return 0;
}

/* router NAME ipv6 PREFIX [firewall6 ...] [filtering6 ...] [reject6 ...]
 *     [nat64 [PREFIX] public IPV4] [nptv6 PREFIX]:
 * a home router with IPv6 only, so no NAT44 at all. */
static int parse_router(struct parser *p)
{
	static const char *const names[] = {"ipv6",  "firewall6", "filtering6", "reject6",
					    "nat64", "public",	  "nptv6"};
	struct optset o = {.stmt = "router", .names = names, .n = COUNT(names)};
	struct scenario_ref name;
	struct scenario_router *r;

	if (want_name(p, "a name after 'router'", &name) < 0)
		return -1;
	PUSH(p->s->routers, p->s->n_routers, p->pr->cap_routers, r);
	if (!r)
		return p->oom = true, -1;
	r->name = name.name;
	r->name_loc = name.loc;
	r->loc = loc_of(p, &p->toks[0]);
	v6side_unset(&r->v6);
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || (opt > V6_REJECT ? parse_router_xlat(p, r, opt - V6_REJECT - 1)
						: parse_v6side_option(p, &r->v6, opt)) < 0)
			return -1;
	}
	if (!r->v6.present)
		return err_loc(p, r->name_loc,
			       "router '%s' needs its inside's IPv6 prefix, e.g. 'ipv6 "
			       "2001:db8:1::/64' (a home router with IPv4 is a 'nat')",
			       r->name);
	if (check_v6side(p, "router", r->name, &r->v6) < 0)
		return -1;
	return check_router_xlat(p, r);
}

enum {
	HOST_BEHIND,
	HOST_PUBLIC,
	HOST_FIREWALL,
	HOST_KEEPALIVE,
	HOST_PORT,
	HOST_CANDIDATES,
	HOST_TECHNIQUES,
	HOST_PROBE_RATE,
	HOST_PROBES,
	HOST_SOCKETS,
	HOST_PREDICTION_WINDOW,
	HOST_MAPPING_LIFETIME,
};

/* techniques WORD[,WORD...]: the technique names (a word may join several
 * with '+'), or all, or none. */
static int parse_techniques(struct parser *p, struct scenario_host *h)
{
	struct technique_list l = {0};

	for (;;) {
		char msg[MSG_SIZE];
		const struct token *t =
		    want_word(p, "a technique (prediction, birthday, port-mapping, all or none)");
		if (!t)
			return -1;
		if (technique_word_add(&l, TEXT(p, t), msg) < 0)
			return err_at(p, t, "%s", msg);
		if (!peek(p) || peek(p)->type != TOK_COMMA) /* a comma continues the list */
			break;
		p->pos++;
	}
	h->techniques = l.bits;
	return 0;
}

/* The hard-NAT budgets: whole numbers in their documented ranges. */
static int parse_host_budget(struct parser *p, struct scenario_host *h, int opt)
{
	switch (opt) {
	case HOST_PROBE_RATE:
		WANT_VALUE(p, "a rate like 100/s after 'probe-rate'",
			   val_rate(ws, wl, 1, SCENARIO_PROBE_RATE_MAX, "a probe rate",
				    &h->probe_rate, msg));
		return 0;
	case HOST_PROBES:
		WANT_VALUE(p, "a number of probes after 'probes'",
			   val_count(ws, wl, 1, SCENARIO_PROBES_MAX, "a number of probes",
				     &h->probes, msg));
		return 0;
	case HOST_SOCKETS:
		WANT_VALUE(p, "a number of sockets after 'sockets'",
			   val_count(ws, wl, 1, SCENARIO_SOCKETS_MAX, "a number of sockets",
				     &h->sockets, msg));
		return 0;
	case HOST_PREDICTION_WINDOW:
		WANT_VALUE(p, "a number of ports after 'prediction-window'",
			   val_count(ws, wl, 1, SCENARIO_PREDICTION_WINDOW_MAX,
				     "a prediction window", &h->prediction_window, msg));
		return 0;
	case HOST_MAPPING_LIFETIME:
		return want_setting(p, "a duration after 'mapping-lifetime'",
				    &scenario_mapping_lifetime_setting, &h->mapping_lifetime_ns);
	}
	return -1;
}

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
	case HOST_TECHNIQUES:
		return parse_techniques(p, h);
	}
	return parse_host_budget(p, h, opt);
}

static int parse_host(struct parser *p)
{
	static const char *const names[] = {
	    "behind", "public",		 "firewall",	      "keepalive",
	    "port",   "host-candidates", "techniques",	      "probe-rate",
	    "probes", "sockets",	 "prediction-window", "mapping-lifetime",
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
	h->techniques = SCENARIO_UNSET;
	h->probe_rate = h->probes = h->sockets = h->prediction_window = SCENARIO_UNSET;
	h->mapping_lifetime_ns = SCENARIO_UNSET;
	bool has4;
	if (want_kw(p, "at", "'at' after the host's name") < 0 ||
	    want_dual_addr(p, "the host's address after 'at'", &h->ip, &h->ip_loc, &h->ip6,
			   &h->ip6_loc, &has4, &h->has_ip6) < 0)
		return -1;
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
	static const char *const protos[] = {"udp", "tcp"};
	struct scenario_forward f = {.loc = loc_of(p, &p->toks[0]), .proto = 17};
	struct scenario_forward *slot;
	int host_port = SCENARIO_UNSET, proto = 0;

	if (want_name(p, "a NAT name after 'forward'", &f.nat) < 0)
		return -1;
	WANT_VALUE(
	    p, "'udp' or 'tcp' after the NAT's name",
	    val_choice(ws, wl, protos, 2, "'udp' or 'tcp' after the NAT's name", &proto, msg));
	f.proto = proto ? 6 : 17;
	if (want_listen_port(
		p, proto ? "the external port after 'tcp'" : "the external port after 'udp'",
		"a forwarded port", &f.port) < 0)
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

/* new | established | related | invalid, joined by commas */
static int want_states(struct parser *p, unsigned *states)
{
	int i = 0;

	do {
		WANT_VALUE(
		    p, "a state ('new', 'established', 'related' or 'invalid') after 'state'",
		    val_choice(ws, wl, state_names, COUNT(state_names),
			       "a state: 'new', 'established', 'related' or 'invalid'", &i, msg));
		*states |= 1u << i; /* SCENARIO_STATE_* */
		if (!peek(p) || peek(p)->type != TOK_COMMA)
			return 0;
		p->pos++;
	} while (1);
}

enum {
	RULE_UDP,
	RULE_FROM,
	RULE_TO,
	RULE_SPORT,
	RULE_DPORT,
	RULE_STATE,
	RULE_ICMP,
	RULE_TYPE,
	RULE_CODE,
	RULE_WITH,
	RULE_TCP,
	RULE_FLAGS,
	RULE_IP6,
	RULE_ICMPV6
};

/* ICMPv6 types and codes by ip6tables' --icmpv6-type names (iptables'
 * extensions/libxt_icmp.h, icmpv6_codes; RFC 4443, RFC 4861): a name for a
 * whole type matches any code of it there (code -1 here), as ip6tables
 * matches code 0-255. */
static const struct scenario_icmp_word icmp6_words[] = {
    {"destination-unreachable", 1, -1},
    {"no-route", 1, 0},
    {"communication-prohibited", 1, 1},
    {"beyond-scope", 1, 2},
    {"address-unreachable", 1, 3},
    {"port-unreachable", 1, 4},
    {"failed-policy", 1, 5},
    {"reject-route", 1, 6},
    {"packet-too-big", 2, -1},
    {"time-exceeded", 3, -1},
    {"ttl-zero-during-transit", 3, 0},
    {"ttl-zero-during-reassembly", 3, 1},
    {"parameter-problem", 4, -1},
    {"bad-header", 4, 0},
    {"unknown-header-type", 4, 1},
    {"unknown-option", 4, 2},
    {"echo-request", 128, -1},
    {"echo-reply", 129, -1},
    {"router-solicitation", 133, -1},
    {"router-advertisement", 134, -1},
    {"neighbour-solicitation", 135, -1},
    {"neighbour-advertisement", 136, -1},
    {"redirect", 137, -1},
};

/* A rule's from/to as read: which of them were IPv6. */
struct rule_read {
	struct scenario_rule r;
	bool src6, dst6;
	char with[40]; /* the word after `with`, read once the family is known */
};

/* An ICMP message name (scenario_icmp_words, or icmp6_words after
 * `icmpv6`) or a type number 0-255: the type, and the code a name implies
 * (-1: none). */
static int want_icmp_type(struct parser *p, const char *what, bool v6, int *type, int *code)
{
	const struct token *t = want_word(p, what);
	const struct scenario_icmp_word *words = v6 ? icmp6_words : scenario_icmp_words;
	size_t n_words = v6 ? COUNT(icmp6_words) : scenario_icmp_word_count;
	char names[480] = "";
	uint64_t v;
	char msg[MSG_SIZE];

	if (!t)
		return -1;
	for (size_t i = 0; i < n_words; i++)
		if (word_is(TEXT(p, t), words[i].name)) {
			*type = words[i].type;
			*code = words[i].code;
			return 0;
		}
	if (t->len > 0 && isdigit((unsigned char)p->line[t->off])) {
		if (val_u64(TEXT(p, t), 255, v6 ? "an ICMPv6 type" : "an ICMP type", &v, msg) < 0)
			return err_at(p, t, "%s", msg);
		*type = (int)v;
		*code = -1;
		return 0;
	}
	for (size_t i = 0; i < n_words; i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			 i ? ", " : "", words[i].name);
	return err_at(p, t, "expected %s: a number 0-255 or one of %s, found '%s'", what, names,
		      show(TEXT(p, t)).s);
}

static int want_byte(struct parser *p, const char *what, int *out)
{
	uint64_t v;

	WANT_VALUE(p, what, val_u64(ws, wl, 255, what, &v, msg));
	*out = (int)v;
	return 0;
}

/* `with ERROR`: what a reject sends, read by iptables' own names
 * (fw_reject_with_parse: "port-unreachable", "tcp-reset", ...). */
static int reject_with_parse6(const char *word, enum fw_reject_with *with);

/* An IPv4 rule's `with` words, as the language spells them: iptables'
 * names without "icmp-", as nft's. */
static void reject_names4(char *out, size_t size)
{
	out[0] = '\0';
	for (int i = 0; i < FW_REJECT_WITH_COUNT; i++) {
		const char *name = fw_reject_with_name((enum fw_reject_with)i);
		if (strncmp(name, "icmp-", 5) == 0)
			name += 5;
		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? ", " : "", name);
	}
}

static int want_reject_with(struct parser *p, struct rule_read *rr)
{
	const struct token *t = want_word(p, "the error a reject sends after 'with'");
	char names[400] = "";
	enum fw_reject_with with;

	if (!t)
		return -1;
	/* Either family's words: the rule's family is settled at its end
	 * (settle_reject_with). */
	snprintf(rr->with, sizeof(rr->with), "%.*s", (int)(t->len < 39 ? t->len : 39),
		 p->line + t->off);
	if (t->len < sizeof(rr->with) && (fw_reject_with_parse(rr->with, &with) == 0 ||
					  reject_with_parse6(rr->with, &with) == 0)) {
		rr->r.reject_with = (int)with;
		rr->r.reject_tcp_reset = with == FW_REJECT_TCP_RESET; /* also "tcp-rst" */
		return 0;
	}
	reject_names4(names, sizeof(names));
	return err_at(p, t,
		      "expected the error a reject sends after 'with' (one of %s), found '%s'",
		      names, show(TEXT(p, t)).s);
}

/* One TCP flag name ("syn", "SYN"; "all" and "none" as iptables reads
 * them) into its bits; -1 if it is none. */
static int tcp_flag_bits(const char *s, size_t len, uint8_t *bits)
{
	char w[8];

	if (len == 0 || len >= sizeof(w))
		return -1;
	for (size_t i = 0; i < len; i++)
		w[i] = (char)tolower((unsigned char)s[i]);
	if (word_is(w, len, "all"))
		return *bits = 0xff, 0;
	if (word_is(w, len, "none"))
		return *bits = 0, 0;
	int i = word_index(w, len, tcp_flag_words, COUNT(tcp_flag_words));
	if (i < 0)
		return -1;
	*bits = (uint8_t)(1u << i); /* fin 0x01, syn 0x02, ... as TCP_FIN, TCP_SYN */
	return 0;
}

/* Flag names joined by commas, and (with `slash`) one '/' splitting the
 * flags examined from those that must be set: "fin,syn,rst,ack / syn".
 * sides[0] gets the flags before '/', sides[1] those after; *n_sides 1 or
 * 2. A '/' may stand alone or touch its neighbours. */
static int want_tcp_flags(struct parser *p, const char *what, bool slash, uint8_t sides[2],
			  int *n_sides)
{
	*n_sides = 1;
	sides[0] = sides[1] = 0;
	for (;;) {
		const struct token *t = want_word(p, what);
		if (!t)
			return -1;
		size_t a = 0, len = t->len;
		const char *w = p->line + t->off;
		for (size_t i = 0; i <= len; i++) {
			if (i < len && w[i] != '/')
				continue;
			uint8_t bits = 0;
			if (i > a && tcp_flag_bits(w + a, i - a, &bits) < 0)
				return err_loc(p, loc_span(p, t->off + a, i - a),
					       "expected a TCP flag (fin, syn, rst, psh, ack, urg, "
					       "ece, cwr, all or none), found '%s'",
					       show(w + a, i - a).s);
			sides[*n_sides - 1] |= bits;
			if (i < len && (!slash || *n_sides == 2))
				return err_loc(p, loc_span(p, t->off + i, 1),
					       slash ? "only one '/' splits the flags examined "
						       "from those that must be set"
						     : "a segment's flags are a list like syn,ack "
						       "(no '/')");
			if (i < len)
				*n_sides = 2;
			a = i + 1;
		}
		bool ends_in_slash = len > 0 && w[len - 1] == '/';
		const struct token *n = peek(p);
		if (n && n->type == TOK_COMMA) {
			p->pos++;
			continue;
		}
		if (ends_in_slash ||
		    (slash && *n_sides == 1 && n && n->type == TOK_WORD && p->line[n->off] == '/'))
			continue;
		return 0;
	}
}

/* `flags syn` (iptables' --syn: of FIN, SYN, RST and ACK only SYN is set,
 * the first segment of a connection) or `flags MASK / SET` (--tcp-flags
 * MASK SET: of the flags in MASK, exactly those in SET are set). */
static int want_rule_flags(struct parser *p, struct scenario_rule *r)
{
	size_t first = p->pos;
	uint8_t sides[2];
	int n;

	if (want_tcp_flags(p,
			   "TCP flags after 'flags' ('syn', or MASK / SET like "
			   "'syn,ack / syn')",
			   true, sides, &n) < 0)
		return -1;
	struct scenario_loc at = loc_of(p, &p->toks[first]);
	if (n == 1 && sides[0] == TCP_SYN && p->pos == first + 1) {
		r->tcp_flags_mask = TCP_FIN | TCP_SYN | TCP_RST | TCP_ACK;
		r->tcp_flags_match = TCP_SYN;
		return 0;
	}
	if (n == 1)
		return err_loc(p, at,
			       "'flags' takes 'syn' (a connection's first segment, iptables' "
			       "--syn) or MASK / SET, e.g. 'flags syn,ack / syn,ack' (of SYN and "
			       "ACK both are set)");
	if (sides[0] == 0)
		return err_loc(p, at,
			       "the flags before '/' say which are examined; name at least "
			       "one");
	if (sides[1] & ~sides[0])
		return err_loc(p, at,
			       "every flag after '/' must be among those examined before it, "
			       "or the rule never matches");
	r->tcp_flags_mask = sides[0];
	r->tcp_flags_match = sides[1];
	return 0;
}

static int parse_rule_icmp_option(struct parser *p, struct scenario_rule *r, int opt)
{
	int type = 0, code = -1;

	switch (opt) {
	case RULE_ICMP:
		r->proto = 1;
		return 0;
	case RULE_TYPE:
		if (want_icmp_type(p,
				   r->proto == 58 ? "an ICMPv6 type after 'type'"
						  : "an ICMP type after 'type'",
				   r->proto == 58, &type, &code) < 0)
			return -1;
		r->has_icmp_type = true;
		r->icmp_type = (uint8_t)type;
		if (code >= 0 && !r->has_icmp_code) {
			r->has_icmp_code = true;
			r->icmp_code = (uint8_t)code;
		}
		return 0;
	case RULE_CODE:
		if (want_byte(p, "an ICMP code (0-255) after 'code'", &code) < 0)
			return -1;
		r->has_icmp_code = true;
		r->icmp_code = (uint8_t)code;
		return 0;
	case RULE_ICMPV6:
		r->proto = 58;
		return 0;
	case RULE_IP6:
		return 0; /* the family is settled once the line is read */
	}
	return -1;
}

/* `from`/`to` PREFIX: IPv6 text (a colon) is an IPv6 prefix, whose host
 * bits ip6_prefix_parse refuses (a typo hidden by masking, docs/ipv6.md). */
static int want_rule_prefix(struct parser *p, const char *what, bool *is6, uint32_t *ip,
			    struct ip6_addr *ip6, uint8_t *len)
{
	const struct token *t = peek(p);
	char msg[MSG_SIZE];
	size_t at = 0;

	*is6 = t && t->type == TOK_WORD && memchr(p->line + t->off, ':', t->len);
	if (!*is6)
		return want_prefix(p, what, ip, len);
	p->pos++;
	if (val_prefix6(TEXT(p, t), ip6, len, &at, msg) < 0)
		return err_ip6(p, t, at, msg);
	return 0;
}

static int parse_rule_option(struct parser *p, struct rule_read *rr, int opt)
{
	struct scenario_rule *r = &rr->r;

	switch (opt) {
	case RULE_WITH:
		return want_reject_with(p, rr);
	case RULE_UDP:
		r->proto = 17;
		return 0;
	case RULE_TCP:
		r->proto = 6;
		return 0;
	case RULE_FLAGS:
		return want_rule_flags(p, r);
	case RULE_FROM:
		r->has_src = true;
		return want_rule_prefix(p, "an address or prefix after 'from'", &rr->src6, &r->src,
					&r->src6, &r->src_len);
	case RULE_TO:
		r->has_dst = true;
		return want_rule_prefix(p, "an address or prefix after 'to'", &rr->dst6, &r->dst,
					&r->dst6, &r->dst_len);
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
	default:
		return parse_rule_icmp_option(p, r, opt);
	}
}

/* What the options of one rule must agree on. */
static int loc_cmp_col(struct scenario_loc a, struct scenario_loc b)
{
	return a.col < b.col ? -1 : a.col > b.col;
}

static int check_rule_options(struct parser *p, const struct scenario_rule *r,
			      const struct optset *o)
{
	static const int protos[] = {RULE_UDP, RULE_TCP, RULE_ICMP, RULE_ICMPV6};
	int n = 0, last = -1;
	for (size_t i = 0; i < COUNT(protos); i++)
		if (o->seen[protos[i]] &&
		    (n++ == 0 || o->first[protos[i]].col > o->first[last].col))
			last = protos[i];
	if (n > 1) /* at the second protocol written */
		return err_loc(p, o->first[last],
			       o->seen[RULE_ICMPV6]
				   ? "a rule matches one protocol: 'udp', 'tcp', 'icmp' or 'icmpv6'"
				   : "a rule matches one protocol: 'udp', 'tcp' or 'icmp'");
	if (o->seen[RULE_FLAGS] && r->proto != 6)
		return err_loc(p, o->first[RULE_FLAGS],
			       "'flags' match TCP segments: write 'tcp' before them");
	/* iptables: "REJECT: TCP_RESET invalid for non-tcp" (libipt_REJECT.c). */
	if (r->reject_tcp_reset && r->proto != 6)
		return err_loc(p, o->first[RULE_WITH],
			       "a TCP reset answers TCP segments: write 'tcp' in this rule");
	if ((r->has_icmp_type || o->seen[RULE_CODE]) && r->proto != 1 && r->proto != 58)
		return err_loc(p, o->first[o->seen[RULE_TYPE] ? RULE_TYPE : RULE_CODE],
			       "'type' and 'code' match ICMP messages: write 'icmp' before them");
	if ((r->proto == 1 || r->proto == 58) && (r->has_sport || r->has_dport))
		return err_loc(p, o->first[o->seen[RULE_SPORT] ? RULE_SPORT : RULE_DPORT],
			       "ICMP has no ports; match its 'type' and 'code' instead");
	if (o->seen[RULE_WITH] && r->verdict != SCENARIO_REJECT)
		return err_loc(p, o->first[RULE_WITH],
			       "'with' says which ICMP error a 'reject' sends; this rule does not "
			       "reject");
	return 0;
}

/* The family of a rule: 6 with `ip6`, `icmpv6` or an IPv6 prefix, else 4.
 * iptables and ip6tables hold separate rule sets, so one rule cannot mix
 * them: the error points at the first word of the second family. */
static int settle_rule_family(struct parser *p, struct rule_read *rr, const struct optset *o)
{
	struct scenario_loc v4 = {0}, v6 = {0};
	const struct {
		bool six, here;
		int opt;
	} marks[] = {
	    {true, o->seen[RULE_IP6], RULE_IP6},
	    {true, o->seen[RULE_ICMPV6], RULE_ICMPV6},
	    {true, rr->src6, RULE_FROM},
	    {true, rr->dst6, RULE_TO},
	    {false, o->seen[RULE_ICMP], RULE_ICMP},
	    {false, rr->r.has_src && !rr->src6, RULE_FROM},
	    {false, rr->r.has_dst && !rr->dst6, RULE_TO},
	};
	for (size_t i = 0; i < COUNT(marks); i++) {
		struct scenario_loc *l = marks[i].six ? &v6 : &v4;
		if (marks[i].here && (l->line == 0 || loc_cmp_col(o->first[marks[i].opt], *l) < 0))
			*l = o->first[marks[i].opt];
	}
	rr->r.family = v6.line ? 6 : 4;
	if (!v4.line || !v6.line)
		return 0;
	return err_loc(p, loc_cmp_col(v4, v6) > 0 ? v4 : v6,
		       "a rule is IPv4 or IPv6, not both: iptables and ip6tables hold separate "
		       "rule sets (this rule has %s and %s); write two rules",
		       o->seen[RULE_ICMP] ? "'icmp'" : "an IPv4 prefix",
		       o->seen[RULE_ICMPV6] ? "'icmpv6'"
		       : o->seen[RULE_IP6]  ? "'ip6'"
					    : "an IPv6 prefix");
}

/* An ip6 rule's `with` word: ip6tables' --reject-with names and aliases
 * (fw_reject_with_parse6: "icmp6-adm-prohibited", "adm-prohibited", ...),
 * the same without "icmp6-" as the language writes IPv4's without "icmp-"
 * ("no-route", "addr-unreachable", "port-unreachable"), and nft's
 * "admin-prohibited" (`reject with icmpv6 type admin-prohibited`). */
static int reject_with_parse6(const char *word, enum fw_reject_with *with)
{
	char full[48];

	if (strcmp(word, "admin-prohibited") == 0) {
		*with = FW_REJECT_ADMIN_PROHIBITED;
		return 0;
	}
	snprintf(full, sizeof(full), "icmp6-%s", word);
	return fw_reject_with_parse6(word, with) == 0 ? 0 : fw_reject_with_parse6(full, with);
}

/* The `with` word read again in the rule's family: iptables' and
 * ip6tables' REJECT take different names (an IPv4 rule has no
 * "no-route", an ip6 rule no "host-prohibited"). */
static int settle_reject_with(struct parser *p, struct rule_read *rr, struct scenario_loc at)
{
	enum fw_reject_with with;
	char names[400];

	if (rr->r.family == 6) {
		if (reject_with_parse6(rr->with, &with) == 0) {
			rr->r.reject_with = (int)with;
			return 0;
		}
		return err_loc(p, at,
			       "'%s' is not an error an ip6 'reject' sends; expected one of "
			       "port-unreachable, no-route, addr-unreachable, admin-prohibited, "
			       "tcp-reset (ip6tables' --reject-with)",
			       rr->with);
	}
	if (fw_reject_with_parse(rr->with, &with) == 0) {
		rr->r.reject_with = (int)with;
		return 0;
	}
	reject_names4(names, sizeof(names));
	return err_loc(p, at, "'%s' is an ip6 'reject' error; an IPv4 rule's are %s (iptables' "
		       "--reject-with)",
		       rr->with, names);
}

static int parse_rule(struct parser *p)
{
	static const char *const names[] = {"udp",   "from",  "to",   "sport", "dport",
					    "state", "icmp",  "type", "code",  "with",
					    "tcp",   "flags", "ip6",  "icmpv6"};
	struct optset o = {.stmt = "rule", .names = names, .n = COUNT(names)};
	struct rule_read rr = {.r = {.loc = loc_of(p, &p->toks[0]), .reject_with = SCENARIO_UNSET}};
	struct scenario_rule *slot;

	if (want_name(p, "a node name after 'rule'", &rr.r.node) < 0 ||
	    want_chain(p, &rr.r.chain) < 0)
		return -1;
	WANT_VALUE(p, "a verdict (accept, drop or reject)",
		   val_choice(ws, wl, verdict_names, COUNT(verdict_names),
			      "a verdict: 'accept', 'drop' or 'reject'", &rr.r.verdict, msg));
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || parse_rule_option(p, &rr, opt) < 0)
			return -1;
	}
	if (check_rule_options(p, &rr.r, &o) < 0 || settle_rule_family(p, &rr, &o) < 0)
		return -1;
	if (o.seen[RULE_WITH] && settle_reject_with(p, &rr, o.first[RULE_WITH]) < 0)
		return -1;
	PUSH(p->s->rules, p->s->n_rules, p->pr->cap_rules, slot);
	if (!slot)
		return p->oom = true, -1;
	*slot = rr.r;
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

/* An IPv6 endpoint: [addr]:port (RFC 5952 section 6), or the address alone
 * where no port is wanted (a ping's target). */
static int want_endpoint6(struct parser *p, const struct token *t, bool port_optional,
			  struct scenario_endpoint *ep)
{
	const char *s = p->line + t->off;
	size_t len = t->len, at = 0, a0 = 0, alen = len;
	char msg[MSG_SIZE];

	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close || (size_t)(close - s) + 1 == len || close[1] != ':')
			return err_at(
			    p, t, "expected an IPv6 endpoint like [2001:db8::1]:5000, found '%s'",
			    show(s, len).s);
		a0 = 1;
		alen = (size_t)(close - s) - 1;
		uint16_t v;
		if (val_port(close + 2, len - alen - 3, &v, msg) < 0)
			return err_at(p, t, "%s", msg);
		ep->port = v;
	} else if (!port_optional) {
		return err_at(p, t,
			      "expected an endpoint like [2001:db8::1]:5000, found '%s': an IPv6 "
			      "address with a port is written in brackets (RFC 5952 section 6)",
			      show(s, len).s);
	}
	if (val_ipv6(s + a0, alen, &ep->ip6, &at, msg) < 0)
		return err_ip6(p, t, a0 + at, msg);
	ep->is6 = true;
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
	if (t->len && (s[0] == '[' || (colon && memchr(colon + 1, ':', t->len - n - 1))))
		return want_endpoint6(p, t, port_optional, ep);
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
	if (a->kind == SCENARIO_ACT_CONNECT && accept_kw(p, "over")) { /* over tcp */
		a->tcp = true;
		return want_kw(p, "tcp", "'tcp' after 'over' (agents speak udp unless told)");
	}
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

/* A host, a NAT, the coordinator or an address, without a port: where a
 * ping or an ICMP message goes. */
static int want_icmp_target(struct parser *p, const char *what, struct scenario_endpoint *ep)
{
	if (want_endpoint(p, what, true, ep) < 0)
		return -1;
	if (ep->port != SCENARIO_UNSET)
		return err_loc(p, ep->loc, "ICMP has no ports: write the address or name alone");
	return 0;
}

static int want_count(struct parser *p, const char *what, int lo, int hi, int *out)
{
	uint64_t v;
	char msg[MSG_SIZE];
	const struct token *t = want_word(p, what);

	(void)msg;
	if (!t)
		return -1;
	if (val_u64(TEXT(p, t), (uint64_t)hi, what, &v, msg) < 0 || v < (uint64_t)lo)
		return err_at(p, t, "%s must be a whole number from %d to %d, found '%s'", what, lo,
			      hi, show(TEXT(p, t)).s);
	*out = (int)v;
	return 0;
}

/* ping HOST to TARGET [count N] [interval DUR] [size N] [ttl N] */
static int act_ping(struct parser *p, struct scenario_action *a)
{
	static const char *const names[] = {"count", "interval", "size", "ttl"};
	struct optset o = {.stmt = "ping", .names = names, .n = COUNT(names)};
	int rc = 0;

	a->count = 4;
	a->interval_ns = UNITS_NS_PER_S;
	a->size = 56;
	a->ttl = 64;
	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_icmp_target(p, "an address or a node name after 'to'", &a->dst) < 0)
		return -1;
	while (peek(p) && rc == 0) {
		switch (next_option(p, &o)) {
		case 0:
			rc = want_count(p, "the number of pings after 'count'", 1, 1000, &a->count);
			break;
		case 1:
			rc = want_setting(p, "a duration after 'interval'",
					  &scenario_ping_interval_setting, &a->interval_ns);
			break;
		case 2:
			rc = want_count(p, "the payload size after 'size'", 0,
					PACKET_MAX_SIZE - IPV4_HEADER_MIN - ICMP_HEADER_SIZE,
					&a->size);
			break;
		case 3:
			rc = want_count(p, "the TTL after 'ttl'", 1, 255, &a->ttl);
			break;
		default:
			rc = -1;
		}
	}
	return rc;
}

/* traceroute HOST to TARGET [max-hops N] */
static int act_traceroute(struct parser *p, struct scenario_action *a)
{
	a->max_hops = 30;
	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_icmp_target(p, "an address or a node name after 'to'", &a->dst) < 0)
		return -1;
	if (accept_kw(p, "max-hops"))
		return want_count(p, "the number of hops after 'max-hops'", 1, 64, &a->max_hops);
	return 0;
}

static int raw_icmp_option(struct parser *p, struct scenario_action *a, int opt)
{
	switch (opt) {
	case 0:
		return want_icmp_type(p, "an ICMP type after 'type'", false, &a->icmp_type,
				      &a->icmp_code);
	case 1:
		return want_byte(p, "an ICMP code (0-255) after 'code'", &a->icmp_code);
	case 2:
		return want_count(p, "the echo id after 'id'", 0, 65535, &a->icmp_id);
	case 3:
		return want_count(p, "the sequence number after 'seq'", 0, 65535, &a->icmp_seq);
	case 4:
		return want_count(p, "the TTL after 'ttl'", 1, 255, &a->ttl);
	case 5:
		a->has_about = true;
		return want_endpoint(p, "the quoted datagram's source after 'about'", false,
				     &a->about_src) < 0 ||
			       want_kw(p, "to", "'to' after the quoted source") < 0 ||
			       want_endpoint(p, "the quoted datagram's destination after 'to'",
					     false, &a->about_dst) < 0
			   ? -1
			   : 0;
	case 6:
		a->bad_checksum = true;
		return want_kw(p, "bad", "'bad' after 'checksum'");
	}
	return -1;
}

/* raw icmp HOST to TARGET type T [code C] [id N] [seq N] [ttl N]
 *   [about SRC:PORT to DST:PORT] [checksum bad] */
static int act_raw_icmp(struct parser *p, struct scenario_action *a)
{
	static const char *const names[] = {"type", "code",  "id",	"seq",
					    "ttl",  "about", "checksum"};
	struct optset o = {.stmt = "raw icmp", .names = names, .n = COUNT(names)};

	a->icmp = true;
	a->icmp_type = -1;
	a->icmp_code = -1;
	a->ttl = 64;
	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_icmp_target(p, "an address or a node name after 'to'", &a->dst) < 0)
		return -1;
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || raw_icmp_option(p, a, opt) < 0)
			return -1;
	}
	if (!o.seen[0])
		return err_loc(p, a->kind_loc,
			       "'raw icmp' needs 'type T' (echo-request, port-unreachable, "
			       "... or a number)");
	if (a->icmp_code < 0)
		a->icmp_code = 0;
	if (a->has_about && !(a->icmp_type == 3 || a->icmp_type == 11 || a->icmp_type == 12 ||
			      a->icmp_type == 4 || a->icmp_type == 5))
		return err_loc(p, o.first[5],
			       "'about' gives the packet an ICMP error quotes; this "
			       "type is not an error");
	return 0;
}

/* The most a `raw tcp` segment carries: the largest packet the model
 * builds, less its IPv4 and TCP headers. */
#define RAW_TCP_MAX_BYTES (PACKET_MAX_SIZE - IPV4_HEADER_MIN - TCP_HEADER_MIN)
#define TCP_SEND_MAX_BYTES 262144 /* tcp_config.send_buffer: one write fills it */
#define EPHEMERAL_FIRST 32768	  /* Linux's ip_local_port_range starts here */

/* `from port P` */
static int want_from_port(struct parser *p, struct scenario_action *a)
{
	return want_kw(p, "port", "'port' after 'from'") < 0 ||
		       want_listen_port(p, "a port after 'from port'", "a connection's source port",
					&a->src_port) < 0
		   ? -1
		   : 0;
}

/* A 32-bit number; `noun` names it in a message ("a sequence number"). */
static int want_u32(struct parser *p, const char *what, const char *noun, uint32_t *out)
{
	uint64_t v;

	WANT_VALUE(p, what, val_u64(ws, wl, UINT32_MAX, noun, &v, msg));
	*out = (uint32_t)v;
	return 0;
}

static int raw_tcp_option(struct parser *p, struct scenario_action *a, int opt)
{
	uint8_t sides[2];
	uint32_t v = 0;
	int n, rc;

	switch (opt) {
	case 0:
		return want_from_port(p, a);
	case 1:
		rc = want_tcp_flags(p, "TCP flags after 'flags', like syn or syn,ack", false, sides,
				    &n);
		a->tcp_flags = sides[0];
		return rc;
	case 2:
		return want_u32(p, "a sequence number (0-4294967295) after 'seq'",
				"a sequence number", &a->tcp_seq);
	case 3:
		return want_u32(p, "an acknowledgment number (0-4294967295) after 'ack'",
				"an acknowledgment number", &a->tcp_ack);
	case 4:
		rc = want_count(p, "the window after 'window'", 0, 65535, &n);
		v = (uint32_t)n;
		a->tcp_window = (uint16_t)v;
		return rc;
	case 5:
		return want_count(p, "the payload size after 'payload'", 0, RAW_TCP_MAX_BYTES,
				  &a->payload_len);
	}
	return -1;
}

/* raw tcp HOST to DST:PORT [from port P] flags F[,F...] [seq N] [ack N]
 *   [window N] [payload N] (also written `raw HOST tcp to ...`): one
 * segment of the teacher's making, for what NATs and firewalls do with it. */
static int act_raw_tcp(struct parser *p, struct scenario_action *a, bool have_host)
{
	static const char *const names[] = {"from", "flags", "seq", "ack", "window", "payload"};
	struct optset o = {.stmt = "raw tcp", .names = names, .n = COUNT(names)};

	a->tcp = true;
	a->src_port = EPHEMERAL_FIRST;
	a->tcp_window = 64240; /* Linux's first window: 44 segments of 1460 */
	if ((!have_host && act_host(p, a) < 0) ||
	    want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_endpoint(p, "an endpoint like 203.0.113.5:80 after 'to'", false, &a->dst) < 0)
		return -1;
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || raw_tcp_option(p, a, opt) < 0)
			return -1;
	}
	if (!o.seen[1])
		return err_loc(p, a->kind_loc,
			       "'raw tcp' needs 'flags F' (syn, syn,ack, rst, ack, ...): "
			       "a segment always says which flags it carries");
	return 0;
}

static int act_raw(struct parser *p, struct scenario_action *a)
{
	if (accept_kw(p, "icmp"))
		return act_raw_icmp(p, a);
	if (accept_kw(p, "tcp"))
		return act_raw_tcp(p, a, false);
	if (act_host(p, a) < 0)
		return -1;
	if (accept_kw(p, "tcp"))
		return act_raw_tcp(p, a, true);
	if (want_kw(p, "from", "'from' (or 'tcp') after the host name") < 0 ||
	    want_port(p, "the source port after 'from'", &a->src_port) < 0 ||
	    want_kw(p, "to", "'to' after the source port") < 0 ||
	    want_endpoint(p, "an endpoint like 192.0.2.1:3478 after 'to'", false, &a->dst) < 0)
		return -1;
	if (accept_kw(p, "hex"))
		return want_hex_payload(p, RAW_MAX_BYTES, &a->text, &a->text_len);
	return want_text_at_most(p, "the quoted payload", RAW_MAX_BYTES, "a raw datagram's payload",
				 &a->text, &a->text_len);
}

/* `send N bytes` */
static int want_send_bytes(struct parser *p, struct scenario_action *a)
{
	if (want_count(p, "the number of bytes after 'send'", 1, TCP_SEND_MAX_BYTES,
		       &a->send_bytes) < 0)
		return -1;
	if (accept_kw(p, "bytes") || accept_kw(p, "byte"))
		return 0;
	return want_kw(p, "bytes", "'bytes' after the number");
}

/* tcp HOST to DST:PORT [from port P] [send N bytes] [close]: a client, as
 * `nc -v [-p P] DST PORT` with N bytes on its standard input; `close`
 * ends it once they are sent (nc -N: shutdown after EOF). */
static int act_tcp(struct parser *p, struct scenario_action *a)
{
	static const char *const names[] = {"from", "send", "close"};
	struct optset o = {.stmt = "tcp", .names = names, .n = COUNT(names)};

	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_endpoint(p, "an endpoint like 203.0.113.5:80 after 'to'", false, &a->dst) < 0)
		return -1;
	if (a->dst.port == 0)
		return err_loc(p, a->dst.loc,
			       "port 0 cannot be connected to; a server listens on "
			       "a port 1-65535");
	while (peek(p)) {
		int opt = next_option(p, &o), rc = -1;

		if (opt == 0)
			rc = want_from_port(p, a);
		else if (opt == 1)
			rc = want_send_bytes(p, a);
		else if (opt == 2)
			rc = 0, a->close = true;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* serve HOST tcp PORT [echo|discard|daytime]: a server listening on PORT. */
static int act_serve(struct parser *p, struct scenario_action *a)
{
	if (act_host(p, a) < 0 || want_kw(p, "tcp", "'tcp' after the host name") < 0 ||
	    want_listen_port(p, "the port to listen on after 'tcp'", "a server's port",
			     &a->src_port) < 0)
		return -1;
	a->serve_mode = SCENARIO_SERVE_DISCARD;
	if (peek(p))
		WANT_VALUE(p, "'echo', 'discard' or 'daytime' after the port",
			   val_choice(ws, wl, serve_mode_words, COUNT(serve_mode_words),
				      "'echo', 'discard' or 'daytime'", &a->serve_mode, msg));
	return 0;
}

static int background_option(struct parser *p, struct scenario_action *a, int opt)
{
	switch (opt) {
	case 0:
		WANT_VALUE(
		    p, "a rate like 5/s after 'rate'",
		    val_rate(ws, wl, 1, SCENARIO_BACKGROUND_RATE_MAX, "a rate", &a->rate, msg));
		return 0;
	case 1:
		return want_setting(p, "a duration after 'for'", &scenario_background_for_setting,
				    &a->duration_ns);
	case 2:
		return want_count(p, "the datagram size after 'size'", 0, (int)RAW_MAX_BYTES,
				  &a->size);
	}
	return -1;
}

/* background HOST to DST:PORT rate N/s [for DUR] [size N]: other traffic
 * behind the host's NAT, N new flows a second (each a mapping of its own). */
static int act_background(struct parser *p, struct scenario_action *a)
{
	static const char *const names[] = {"rate", "for", "size"};
	struct optset o = {.stmt = "background", .names = names, .n = COUNT(names)};

	a->duration_ns = SCENARIO_BACKGROUND_FOR;
	a->size = SCENARIO_BACKGROUND_SIZE;
	if (act_host(p, a) < 0 || want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_endpoint(p, "an endpoint like 198.51.100.50:53 after 'to'", false, &a->dst) < 0)
		return -1;
	if (a->dst.port == 0)
		return err_loc(p, a->dst.loc,
			       "port 0 cannot be sent to; background traffic goes to a port "
			       "1-65535");
	while (peek(p)) {
		int opt = next_option(p, &o);

		if (opt < 0 || background_option(p, a, opt) < 0)
			return -1;
	}
	if (!o.seen[0])
		return err_loc(p, a->kind_loc,
			       "'background' needs 'rate N/s': how many new flows a second");
	uint64_t flows = scenario_background_flows(a->rate, a->duration_ns);
	if (flows > SCENARIO_BACKGROUND_FLOWS_MAX)
		return err_loc(
		    p, o.first[o.seen[1] ? 1 : 0],
		    "this is %llu flows (the rate times the duration); background traffic is at "
		    "most %d flows, e.g. 1000/s for 100s",
		    (unsigned long long)flows, SCENARIO_BACKGROUND_FLOWS_MAX);
	return 0;
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
    [SCENARIO_ACT_PING] = act_ping,
    [SCENARIO_ACT_TRACEROUTE] = act_traceroute,
    [SCENARIO_ACT_TCP] = act_tcp,
    [SCENARIO_ACT_SERVE] = act_serve,
    [SCENARIO_ACT_BACKGROUND] = act_background,
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

/* serve HOST tcp PORT [echo|discard|daytime] as a statement of the world: the
 * server runs from the start (as `at 0s serve ...`). */
static int parse_serve(struct parser *p)
{
	struct scenario_action a = {.loc = loc_of(p, &p->toks[0]),
				    .kind = SCENARIO_ACT_SERVE,
				    .kind_loc = loc_of(p, &p->toks[0])};
	struct scenario_action *slot;

	if (act_serve(p, &a) < 0 || want_end(p, "serve") < 0)
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
			       "queue-full, malformed, no-socket, not-for-us, icmp-no-flow or "
			       "ct-invalid",
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

/* `direct over ipv4|ipv6`: which family the direct path took (the agent
 * checks IPv6 pairs first, RFC 8421); only a direct path has one. */
static int want_path_family(struct parser *p, struct scenario_expect *e)
{
	static const char *const families[] = {"ipv4", "ipv6"};
	int i;

	if (!accept_kw(p, "over"))
		return 0;
	if (e->path != SCENARIO_PATH_DIRECT)
		return err_at(p, &p->toks[p->pos - 1],
			      "'over ipv4' or 'over ipv6' names the family of a direct path: a "
			      "relayed path goes through the coordinator, over whichever family "
			      "reaches it");
	WANT_VALUE(p, "'ipv4' or 'ipv6' after 'over'",
		   val_choice(ws, wl, families, 2, "'ipv4' or 'ipv6'", &i, msg));
	e->family = i == 1 ? 6 : 4;
	return 0;
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
	if (want_path_family(p, e) < 0)
		return -1;
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

static int exp_icmp(struct parser *p, struct scenario_expect *e);
static int exp_socket(struct parser *p, struct scenario_expect *e);
static int exp_conntrack(struct parser *p, struct scenario_expect *e);

/* `expect no mapping ...` negates `expect mapping ...` (same options);
 * anything else after 'no' is `expect no drop ...`. */
static int exp_no(struct parser *p, struct scenario_expect *e)
{
	if (accept_kw(p, "icmp")) {
		e->kind = SCENARIO_EXPECT_NO_ICMP;
		return exp_icmp(p, e);
	}
	if (accept_kw(p, "socket")) {
		e->kind = SCENARIO_EXPECT_NO_SOCKET;
		return exp_socket(p, e);
	}
	if (accept_kw(p, "conntrack")) {
		e->kind = SCENARIO_EXPECT_NO_CONNTRACK;
		return exp_conntrack(p, e);
	}
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

/* expect [no] icmp MESSAGE at HOST [from TARGET] [by TIME] */
static int exp_icmp(struct parser *p, struct scenario_expect *e)
{
	static const char *const names[] = {"from", "by"};
	static const int ids[] = {EXP_FROM, EXP_BY};
	const struct token *t = peek(p);

	if (want_icmp_type(p, "an ICMP message after 'icmp' (echo-reply, port-unreachable, ...)",
			   false, &e->icmp_type, &e->icmp_code) < 0)
		return -1;
	e->icmp_name = save(p, TEXT(p, t));
	if (!e->icmp_name || want_kw(p, "at", "'at' after the ICMP message") < 0 ||
	    want_name(p, "a host name after 'at'", &e->host) < 0 ||
	    parse_expect_options(p, e, names, ids, 2) < 0)
		return -1;
	if (e->has_from && e->from.port != SCENARIO_UNSET)
		return err_loc(p, e->from.loc,
			       "ICMP has no ports: write the address or name alone");
	return 0;
}

/* expect related at NODE [by TIME] */
static int exp_related(struct parser *p, struct scenario_expect *e)
{
	if (want_kw(p, "at", "'at' after 'related'") < 0 ||
	    want_name(p, "a node name after 'at'", &e->node) < 0)
		return -1;
	return exp_by_only(p, e);
}

/* A state word as the language writes it ("time-wait"), also in the
 * spellings students copy from ss or conntrack ("TIME-WAIT", "TIME_WAIT"):
 * its index in `words`, or -1 with the message. */
static int want_state_word(struct parser *p, const char *what, const char *const *words, size_t n,
			   bool any, int *out)
{
	const struct token *t = want_word(p, what);
	char w[32], list[300];

	if (!t)
		return -1;
	for (size_t i = 0; i < t->len && i < sizeof(w); i++) {
		char c = (char)tolower((unsigned char)p->line[t->off + i]);
		w[i] = c == '_' ? '-' : c;
	}
	if (t->len < sizeof(w)) {
		int i = word_index(w, t->len, words, n);
		if (i >= 0 || (any && word_is(w, t->len, "any")))
			return *out = i, 0;
	}
	list[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (words[i])
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 list[0] ? ", " : "", words[i]);
	const char *best = t->len < sizeof(w) ? suggest_n(w, t->len, words, n) : NULL;
	if (best)
		return err_at(p, t, "expected %s (%s%s), found '%s'; did you mean '%s'?", what,
			      list, any ? " or any" : "", show(TEXT(p, t)).s, best);
	return err_at(p, t, "expected %s (%s%s), found '%s'", what, list, any ? " or any" : "",
		      show(TEXT(p, t)).s);
}

/* expect tcp (connected|refused|timeout|reset|unreachable) HOST to TARGET[:PORT] [by TIME] */
static int exp_tcp(struct parser *p, struct scenario_expect *e)
{
	WANT_VALUE(p, "how the connection went after 'tcp'",
		   val_choice(ws, wl, tcp_outcome_words, COUNT(tcp_outcome_words),
			      "'connected', 'refused', 'timeout', 'reset' or 'unreachable'",
			      &e->tcp_outcome, msg));
	if (want_name(p, "the host that connects", &e->host) < 0 ||
	    want_kw(p, "to", "'to' after the host name") < 0 ||
	    want_endpoint(p, "where it connects to after 'to' (like web:80)", true, &e->to) < 0)
		return -1;
	e->has_to = true;
	return exp_by_only(p, e);
}

/* expect [no] socket HOST STATE [port P] [by TIME] */
static int exp_socket(struct parser *p, struct scenario_expect *e)
{
	static const char *const names[] = {"port", "by"};
	struct optset o = {.stmt = "expect", .names = names, .n = COUNT(names)};
	uint16_t port;

	if (want_name(p, "a host name after 'socket'", &e->host) < 0)
		return -1;
	/* A closed socket is gone from the table (as from ss): no socket can
	 * be found in that state (tcp_state_words has no "closed"). */
	if (at_kw(p, "closed") || at_kw(p, "CLOSED"))
		return err_at(p, peek(p),
			      "a closed socket is no longer there to find: write 'expect no socket "
			      "%s [port P]'",
			      e->host.name);
	if (want_state_word(p, "a socket state", tcp_state_words, COUNT(tcp_state_words), true,
			    &e->tcp_state) < 0)
		return -1;
	while (peek(p)) {
		int i = next_option(p, &o);

		if (i < 0)
			return -1;
		if (i == 1 && parse_expect_option(p, e, EXP_BY) < 0)
			return -1;
		if (i == 0 && want_port(p, "the socket's local port after 'port'", &port) < 0)
			return -1;
		if (i == 0)
			e->port = port;
	}
	return 0;
}

/* expect [no] conntrack at NODE tcp [STATE] [by TIME] */
static int exp_conntrack(struct parser *p, struct scenario_expect *e)
{
	e->ct_state = -1;
	if (want_kw(p, "at", "'at' after 'conntrack'") < 0 ||
	    want_name(p, "a node name after 'at'", &e->node) < 0 ||
	    want_kw(p, "tcp", "'tcp' after the node name") < 0)
		return -1;
	if (peek(p) && !at_kw(p, "by") &&
	    want_state_word(p, "a conntrack TCP state", ct_state_words, COUNT(ct_state_words), true,
			    &e->ct_state) < 0)
		return -1;
	return exp_by_only(p, e);
}

static int parse_expect_kind(struct parser *p, struct scenario_expect *e)
{
	static const char *const kinds[] = {"drop", "no",      "mapping", "classify", "data",
					    "icmp", "related", "tcp",	  "socket",   "conntrack"};
	static const enum scenario_expect_kind codes[] = {
	    SCENARIO_EXPECT_DROP,      SCENARIO_EXPECT_NO_DROP, SCENARIO_EXPECT_MAPPING,
	    SCENARIO_EXPECT_CLASSIFY,  SCENARIO_EXPECT_DATA,	SCENARIO_EXPECT_ICMP,
	    SCENARIO_EXPECT_RELATED,   SCENARIO_EXPECT_TCP,	SCENARIO_EXPECT_SOCKET,
	    SCENARIO_EXPECT_CONNTRACK,
	};
	static int (*const fns[])(struct parser *, struct scenario_expect *) = {
	    exp_drop, exp_no,	   exp_mapping, exp_classify, exp_data,
	    exp_icmp, exp_related, exp_tcp,	exp_socket,   exp_conntrack,
	};

	/* "expect HOST and HOST ...": the third word tells. */
	if (p->n_toks >= 3 && p->toks[2].type == TOK_WORD && word_is(TEXT(p, &p->toks[2]), "and"))
		return exp_path(p, e);
	const struct token *t = want_word(p, "what to expect: drop, no drop, mapping, classify, "
					     "data, icmp, related, tcp, socket, conntrack, or HOST "
					     "and HOST");
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
			      "drop', 'expect mapping', 'expect classify', 'expect data', "
			      "'expect icmp', 'expect related', 'expect tcp', 'expect socket', "
			      "'expect conntrack' or 'expect HOST and HOST direct'",
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
	    .port = SCENARIO_UNSET,
	    .tcp_state = -1,
	    .ct_state = -1,
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
    {"router", parse_router},
    {"host", parse_host},
    {"link", parse_link},
    {"forward", parse_forward},
    {"rule", parse_rule},
    {"policy", parse_policy},
    {"at", parse_at},
    {"expect", parse_expect},
    {"serve", parse_serve},
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

/* ------------------------------------------------------------ all the lines */

void parse_lines(struct parser *p)
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
