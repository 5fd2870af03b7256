/*
 * timeline.c - a run told as one line per event.
 *
 * Each record kind has a describer that decides whether the verbosity selects
 * the record and, if so, writes the node column, a sentence and a style into
 * a struct tl_line. One printer then lays the line out: time column, node
 * column, sentence (transliterated for ASCII terminals, wrapped with a
 * hanging indent, coloured per physical line so a wrapped line never leaves
 * the terminal coloured).
 */
#include "viz/timeline.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr6.h"
#include "base/endpoint.h"
#include "explain/explain.h"
#include "explain/ipv6.h" /* explain_icmp6_name */
#include "explain/socket.h"
#include "sim/engine.h"
#include "viz/text.h"
#include "viz/timeline_internal.h"

#define TL_NODE_COLUMN 9 /* names up to this wide keep the text column aligned */
#define TL_MIN_TEXT 24	 /* a narrow terminal still gets this many columns of text */

static const char *const tl_style_codes[] = {
    [TL_PLAIN] = "",	      [TL_RED] = "\033[31m", [TL_GREEN] = "\033[32m",
    [TL_YELLOW] = "\033[33m", [TL_BOLD] = "\033[1m",
};

void timeline_options_default(struct timeline_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->verbosity = TIMELINE_NORMAL;
}

void tl_say(struct tl_line *l, const char *fmt, ...)
{
	va_list ap;
	if (l->len >= sizeof(l->text) - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len > sizeof(l->text) - 1)
		l->len = sizeof(l->text) - 1;
}

/* Whole seconds left until `at`, rounded up like conntrack -L. */
static long long seconds_left(int64_t at, int64_t now)
{
	int64_t left = at - now;
	return left <= 0 ? 0 : (long long)((left + SIM_S(1) - 1) / SIM_S(1));
}

/* ---- describers, one per kind ------------------------------------------ */

static bool describe_node(struct tl_line *l, const struct trace_node *n, int verbosity)
{
	if (verbosity < TIMELINE_VERBOSE)
		return false;
	l->node = n->name;
	tl_say(l, "%s", n->type != NULL ? n->type : "node");
	if (n->detail != NULL && n->detail[0] != '\0')
		tl_say(l, ": %s", n->detail);
	if (n->behind != NULL)
		tl_say(l, ", behind %s", n->behind);
	return true;
}

static void say_link_end(struct tl_line *l, const char *node, const char *iface)
{
	tl_say(l, "%s", node != NULL ? node : "?");
	if (iface != NULL)
		tl_say(l, ":%s", iface);
}

static bool describe_link(struct tl_line *l, const struct trace_link *k, int verbosity)
{
	static const char *const verbs[] = {"link", "link down:", "link up:"};
	bool added = k->event == TRACE_LINK_ADDED;
	if ((unsigned)k->event > TRACE_LINK_UP ||
	    verbosity < (added ? TIMELINE_VERBOSE : TIMELINE_NORMAL))
		return false;
	l->node = k->name;
	l->style = k->event == TRACE_LINK_DOWN ? TL_RED : TL_PLAIN;
	tl_say(l, "%s ", verbs[k->event]);
	say_link_end(l, k->a, k->a_iface);
	tl_say(l, " " BOTH_WAYS " ");
	say_link_end(l, k->b, k->b_iface);
	if (!added)
		return true;
	tl_say(l, ", %gms latency", (double)k->latency_ns / 1e6);
	if (k->jitter_ns != 0)
		tl_say(l, ", %gms jitter", (double)k->jitter_ns / 1e6);
	if (k->loss > 0)
		tl_say(l, ", %g%% loss", k->loss * 100);
	return true;
}

/* A drop's sentence without its lead naming the node ("office dropped ...",
 * "home's firewall dropped ..."): the node column already says it. explain/
 * made that sentence too (trace_packet.why_after_node); nothing is cut here. */
static const char *without_node(const struct trace_packet *p)
{
	return p->why_after_node != NULL ? p->why_after_node : p->why;
}

/* The packet as the dissector prints it; ICMP in words instead, since
 * "what it is" (a ping, an error about which packet) is the point. */
static void say_summary(struct tl_line *l, const struct trace_packet *p,
			const struct timeline_options *opt)
{
	char sum[512];
	struct explain_packet_facts f;
	if (packet_words_facts(p->bytes, p->len, opt->owners, &f) && f.flow.proto == 1 &&
	    f.flow.ip_version != 6) {
		tl_say(l, "%s ttl=%u", explain_packet(&f, sum, sizeof(sum)), f.flow.ttl);
		return;
	}
	if (f.flow.ip_version == 6 && f.flow.proto == 58) { /* ICMPv6: "hlim=" as tcpdump */
		tl_say(l, "%s hlim=%u", explain_packet(&f, sum, sizeof(sum)), f.flow.ttl);
		return;
	}
	packet_summary(p->bytes, p->len, opt->payload, false, sum, sizeof(sum));
	tl_say(l, "%s", sum);
}

static bool describe_drop(struct tl_line *l, const struct trace_packet *p,
			  const struct timeline_options *opt)
{
	l->style = TL_RED;
	tl_say(l, CROSS " ");
	if (opt->verbosity >= TIMELINE_VERBOSE)
		tl_say(l, "#%" PRIu64 " ", p->packet_id);
	if (p->why != NULL) {
		tl_say(l, "%s", without_node(p));
		return true;
	}
	tl_say(l, "dropped (%s): ", trace_drop_reason_name(p->reason));
	say_summary(l, p, opt);
	return true;
}

/* A mapping's ends in the renderers' words (packet_words_mapping_end). */
#define MAP_END_SIZE 64 /* a NAT64 binding's inside: "[IPv6]:port" */

static void mapping_ends(const struct trace_mapping *m, char in[MAP_END_SIZE],
			 char ex[MAP_END_SIZE], char re[MAP_END_SIZE])
{
	packet_words_mapping_inside(m, in, MAP_END_SIZE);
	packet_words_mapping_end(&m->external, m->proto, false, ex, MAP_END_SIZE);
	packet_words_mapping_end(&m->remote, m->proto, true, re, MAP_END_SIZE);
}

/* Whether the mapping that translated p is an echo's: p is an echo, or an
 * error quoting one (the mapping of the flow it quotes). */
static bool maps_by_echo_id(const struct trace_packet *p)
{
	struct packet_info pi;

	if (packet_parse(p->bytes, p->len, &pi, NULL, 0) != PACKET_OK || pi.proto != 1)
		return false;
	return !pi.icmp_error || pi.inner.proto == 1;
}

static bool describe_packet(struct tl_line *l, const struct trace_packet *p,
			    const struct timeline_options *opt)
{
	l->node = p->node;
	if (p->hop == TRACE_HOP_DROP)
		return describe_drop(l, p, opt);
	if (opt->verbosity < TIMELINE_VERBOSE)
		return false;
	tl_say(l, "#%" PRIu64 " ", p->packet_id);
	switch (p->hop) {
	case TRACE_HOP_SEND:
		tl_say(l, "sent ");
		break;
	case TRACE_HOP_TX:
		tl_say(l, "out %s: ", p->iface != NULL ? p->iface : "?");
		break;
	case TRACE_HOP_RX:
		tl_say(l, "in %s: ", p->iface != NULL ? p->iface : "?");
		break;
	case TRACE_HOP_TRANSLATE: {
		struct trace_mapping m = {.internal = p->map_internal, .external = p->map_external};
		char in[MAP_END_SIZE], ex[MAP_END_SIZE], re[MAP_END_SIZE];

		if (!packet_words_translate_mapped(p)) {
			tl_say(l, "translated: ");
			break;
		}

		/* An echo's mapping (or an error's, by the echo it quotes) is by id. */
		m.proto = maps_by_echo_id(p) ? 1 : 0;
		mapping_ends(&m, in, ex, re);
		tl_say(l, "translated by mapping %s " BOTH_WAYS " %s: ", in, ex);
		break;
	}
	case TRACE_HOP_DELIVER:
		tl_say(l, "delivered ");
		break;
	default:
		tl_say(l, "%s ", trace_hop_name(p->hop));
		break;
	}
	say_summary(l, p, opt);
	if (p->why != NULL)
		tl_say(l, " \u2014 %s", p->why);
	return true;
}

/* "192.168.1.5:5000 → 192.0.2.10:3478", the flow as first seen; an ICMP
 * entry (sim/trace.h: sport = the echo id, dport = type << 8 | code) is
 * "ping 10.0.0.7 → 192.0.2.1 id=1", as conntrack -L keys it. An IPv6 entry
 * (family 6, tuples6) alike in RFC 5952 text: "[2001:db8:1::5]:5000 →
 * [2001:db8:2::1]:3478", "ping 2001:db8:1::5 → 2001:db8:2::1 id=7". */
static void say_flow(struct tl_line *l, const struct trace_conntrack *c)
{
	struct ip_endpoint s, d;
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], name[48];

	packet_words_ct_tuple(c, false, &s, &d);
	if (packet_words_ct_is_icmp(c)) {
		uint8_t type = (uint8_t)(d.port >> 8), code = (uint8_t)d.port;
		bool v6 = c->family == 6;
		tl_say(l, "%s %s " ARROW " %s id=%u",
		       type == (v6 ? 128 : 8) ? "ping"
		       : v6		      ? explain_icmp6_name(type, code, name, sizeof(name))
					      : explain_icmp_name(type, code, name, sizeof(name)),
		       ip_addr_format(&s.addr, a, sizeof(a)), ip_addr_format(&d.addr, b, sizeof(b)),
		       s.port);
		return;
	}
	tl_say(l, "%s " ARROW " %s", ip_endpoint_format(&s, a, sizeof(a)),
	       ip_endpoint_format(&d, b, sizeof(b)));
}

/* An ICMP entry's NAT: the reply goes to another address or id. */
static void say_icmp_nat(struct tl_line *l, const struct ip_endpoint *os,
			 const struct ip_endpoint *od, const struct ip_endpoint *rs,
			 const struct ip_endpoint *rd)
{
	char buf[IP6_TEXT_SIZE];
	if (!ip_addr_equal(&rd->addr, &os->addr) || rs->port != os->port)
		tl_say(l, ", seen outside as %s id=%u", ip_addr_format(&rd->addr, buf, sizeof(buf)),
		       rs->port);
	if (!ip_addr_equal(&rs->addr, &od->addr))
		tl_say(l, ", forwarded to %s", ip_addr_format(&rs->addr, buf, sizeof(buf)));
}

/* How NAT changed the flow, read off a reply tuple that does not mirror the
 * original: replies to another address mean source NAT, replies from another
 * address mean destination NAT (a port forward). */
static void say_nat(struct tl_line *l, const struct trace_conntrack *c)
{
	struct ip_endpoint os, od, rs, rd;
	char buf[ENDPOINT6_TEXT_SIZE];

	packet_words_ct_tuple(c, false, &os, &od);
	packet_words_ct_tuple(c, true, &rs, &rd);
	if (packet_words_ct_is_icmp(c)) {
		say_icmp_nat(l, &os, &od, &rs, &rd);
		return;
	}
	if (!ip_addr_equal(&rd.addr, &os.addr) || rd.port != os.port)
		tl_say(l, ", seen outside as %s", ip_endpoint_format(&rd, buf, sizeof(buf)));
	if (!ip_addr_equal(&rs.addr, &od.addr) || rs.port != od.port)
		tl_say(l, ", forwarded to %s", ip_endpoint_format(&rs, buf, sizeof(buf)));
}

/* What an update changed: a TCP entry names its new state (SYN_SENT,
 * SYN_RECV, ESTABLISHED, FIN_WAIT, ...) as conntrack -E does, since every
 * TCP update after the first reply is a change of state, not of flags. */
static void say_ct_change(struct tl_line *l, const struct trace_conntrack *c)
{
	char state[48];
	if (c->proto == 6 /* TCP */) {
		conntrack_format_tcp_state(c, state, sizeof(state));
		tl_say(l, " now %s", state);
		return;
	}
	tl_say(l, " now %s", c->assured ? "[ASSURED]" : c->seen_reply ? "replied" : "[UNREPLIED]");
}

static bool describe_conntrack(struct tl_line *l, int64_t now, const struct trace_conntrack *c,
			       int verbosity)
{
	bool normal = c->event == TRACE_CT_NEW || c->event == TRACE_CT_DESTROY ||
		      c->event == TRACE_CT_RELATED;
	if (verbosity < (normal ? TIMELINE_NORMAL : TIMELINE_VERBOSE))
		return false;
	l->node = c->node;
	tl_say(l, "conntrack: %s", c->event == TRACE_CT_NEW ? "new flow " : "flow ");
	say_flow(l, c);
	switch (c->event) {
	case TRACE_CT_NEW:
		if (!c->seen_reply)
			tl_say(l, " [UNREPLIED]");
		say_nat(l, c);
		break;
	case TRACE_CT_UPDATE:
		say_ct_change(l, c);
		break;
	case TRACE_CT_REFRESH:
		tl_say(l, " refreshed");
		break;
	case TRACE_CT_DESTROY:
		tl_say(l, " destroyed");
		if (c->why != NULL)
			tl_say(l, " (%s)", c->why);
		return true;
	case TRACE_CT_RELATED:
		tl_say(l, ": an ICMP error about it is RELATED (it has no entry of its own)");
		return true;
	}
	tl_say(l, ", expires in %llds", seconds_left(c->expires_at, now));
	return true;
}

static bool describe_mapping(struct tl_line *l, int64_t now, const struct trace_mapping *m,
			     int verbosity)
{
	char in[MAP_END_SIZE], ex[MAP_END_SIZE], re[MAP_END_SIZE];
	if (verbosity < (m->event == TRACE_MAP_REFRESHED ? TIMELINE_VERBOSE : TIMELINE_NORMAL))
		return false;
	l->node = m->node;
	mapping_ends(m, in, ex, re);
	bool explicit_expiry = m->event == TRACE_MAP_EXPIRED &&
			       (m->origin == NAT_ORIGIN_PCP || m->origin == NAT_ORIGIN_NATPMP);
	if (m->pcp.protocol != 0 || explicit_expiry) { /* a port-mapping request's doing */
		char words[320];
		explain_port_mapping(m, words, sizeof(words));
		tl_say(l, "%s", words);
		return true;
	}
	switch (m->event) {
	case TRACE_MAP_CREATED:
		/* A forward is read from outside in: who is reached on which port. */
		if (m->is_static)
			tl_say(l, "port forward %s " ARROW " %s", ex, in);
		else
			tl_say(l, "new mapping %s " ARROW " %s (for %s)", in, ex, re);
		return true;
	case TRACE_MAP_REMOTE_ADDED:
		tl_say(l, "mapping %s " ARROW " %s now also used for %s", in, ex, re);
		return true;
	case TRACE_MAP_REFRESHED:
		tl_say(l, "mapping %s " ARROW " %s refreshed, expires in %llds", in, ex,
		       seconds_left(m->expires_at, now));
		return true;
	case TRACE_MAP_EXPIRED:
		tl_say(l, "mapping %s " ARROW " %s expired", in, ex);
		return true;
	case TRACE_MAP_RENEWED:
	case TRACE_MAP_DELETED:
	case TRACE_MAP_REFUSED:
		return false; /* only a request makes them: worded above */
	case TRACE_MAP_CLEARED:
		tl_say(l, "mapping %s " ARROW " %s cleared", in, ex);
		return true;
	case TRACE_MAP_REMOTE_REMOVED:
		tl_say(l, "mapping %s " ARROW " %s no longer used for %s (its flow ended)", in, ex,
		       re);
		return true;
	}
	return false;
}

static enum tl_style app_style(const char *event)
{
	if (strcmp(event, "direct") == 0 || strcmp(event, "upgraded") == 0)
		return TL_GREEN;
	if (strcmp(event, "relayed") == 0)
		return TL_YELLOW;
	if (strcmp(event, "failed") == 0 || strcmp(event, "path-lost") == 0)
		return TL_RED;
	return TL_PLAIN;
}

static bool describe_app(struct tl_line *l, const struct trace_app *a, int verbosity)
{
	const char *event = a->event != NULL ? a->event : "";
	if (strcmp(event, "log") == 0 && verbosity < TIMELINE_NORMAL)
		return false;
	l->node = a->node;
	l->style = app_style(event);
	/* The coordinator runs on a server host: say which program spoke. */
	if (a->app != NULL && (a->node == NULL || strcmp(a->app, a->node) != 0))
		tl_say(l, "%s: ", a->app);
	if (a->text != NULL)
		tl_say(l, "%s", a->text);
	else
		tl_say(l, "%s%s%s", event, a->peer != NULL ? " " : "",
		       a->peer != NULL ? a->peer : "");
	return true;
}

static bool describe_scenario(struct tl_line *l, const struct trace_scenario *s)
{
	const char *text = s->text != NULL ? s->text : "";
	switch (s->event) {
	case TRACE_SCN_ACTION:
		l->node = "scenario";
		tl_say(l, "%s", text);
		return true;
	case TRACE_SCN_NOTE:
		l->node = "note";
		l->style = TL_BOLD;
		tl_say(l, "%s", text);
		return true;
	case TRACE_SCN_EXPECT_PASS:
		l->node = "expect";
		l->style = TL_GREEN;
		tl_say(l, CHECK " %s", text);
		return true;
	case TRACE_SCN_EXPECT_FAIL:
		l->node = "expect";
		l->style = TL_RED;
		tl_say(l, CROSS " %s", text);
		if (s->line > 0)
			tl_say(l, " (scenario line %d)", s->line);
		return true;
	}
	return false;
}

/* A TCP socket's change of state (explain/socket.h), at normal verbosity:
 * what `ss -t` would show changing. A failure is red, a connection made is
 * green. */
static bool describe_socket(struct tl_line *l, const struct trace_socket *s,
			    const struct timeline_options *opt)
{
	int flags = s->packet_id ? packet_owners_segment_flags(opt->owners, s->packet_id) : -1;

	if (opt->verbosity < TIMELINE_NORMAL)
		return false;
	l->node = s->node;
	l->style = s->error != 0			 ? TL_RED
		   : s->new_state == 4 /* ESTABLISHED */ ? TL_GREEN
							 : TL_PLAIN;
	l->len += explain_socket(s, flags, 0, l->text + l->len, sizeof(l->text) - l->len);
	return true;
}

static bool describe(struct tl_line *l, const struct trace_record *r,
		     const struct timeline_options *opt)
{
	int v = (int)opt->verbosity;
	switch (r->kind) {
	case TRACE_NODE:
		return describe_node(l, &r->u.node, v);
	case TRACE_LINK:
		return describe_link(l, &r->u.link, v);
	case TRACE_PACKET:
		return describe_packet(l, &r->u.packet, opt);
	case TRACE_CONNTRACK:
		return describe_conntrack(l, r->time, &r->u.ct, v);
	case TRACE_MAPPING:
		return describe_mapping(l, r->time, &r->u.map, v);
	case TRACE_APP:
		return describe_app(l, &r->u.app, v);
	case TRACE_SCENARIO:
		return describe_scenario(l, &r->u.scenario);
	case TRACE_SOCKET:
		return describe_socket(l, &r->u.sock, opt);
	}
	return false;
}

/* ---- layout ------------------------------------------------------------ */

static void print_segment(FILE *out, const char *s, size_t n, const struct timeline_options *opt,
			  enum tl_style style)
{
	bool paint = opt->color && style != TL_PLAIN;
	fprintf(out, "%s%.*s%s\n", paint ? tl_style_codes[style] : "", (int)n, s,
		paint ? "\033[0m" : "");
}

void tl_print_line(FILE *out, int64_t t, const struct tl_line *l,
		   const struct timeline_options *opt)
{
	char text[TL_TEXT_MAX * 2], node[128], when[32];
	const char *body = l->text;
	const char *name = l->node != NULL ? l->node : "-";

	if (opt->ascii) {
		text_to_ascii(l->text, text, sizeof(text));
		text_to_ascii(name, node, sizeof(node));
		body = text;
		name = node;
	}
	char secs[TEXT_SECONDS_SIZE];
	snprintf(when, sizeof(when), "%ss", text_seconds(t, secs, sizeof(secs)));
	size_t name_w = text_width(name, strlen(name));
	size_t pad = name_w < TL_NODE_COLUMN ? TL_NODE_COLUMN - name_w : 0;
	fprintf(out, "%8s  %s%*s ", when, name, (int)pad, "");
	size_t indent = 8 + 2 + name_w + pad + 1;

	if (opt->width <= 0) {
		print_segment(out, body, strlen(body), opt, l->style);
		return;
	}
	size_t avail =
	    (size_t)opt->width > indent + TL_MIN_TEXT ? (size_t)opt->width - indent : TL_MIN_TEXT;
	const char *p = body;
	for (bool first = true; first || *p != '\0'; first = false) {
		const char *end = text_fit_words(p, avail, false);
		if (!first)
			fprintf(out, "%*s", (int)indent, "");
		print_segment(out, p, (size_t)(end - p), opt, l->style);
		for (p = end; *p == ' '; p++)
			;
	}
}

int timeline_render_record(FILE *out, const struct trace_record *r,
			   const struct timeline_options *opt)
{
	struct timeline_options defaults;
	struct tl_line line = {.style = TL_PLAIN};

	if (opt == NULL) {
		timeline_options_default(&defaults);
		opt = &defaults;
	}
	if (!describe(&line, r, opt))
		return 0;
	tl_print_line(out, r->time, &line, opt);
	return ferror(out) ? -1 : 1;
}

int timeline_render_log(FILE *out, const struct trace_log *log, const struct timeline_options *opt)
{
	struct timeline_options o;
	struct packet_owners *owners = NULL;
	size_t n = trace_log_count(log);
	int rc = 0;

	if (opt != NULL)
		o = *opt;
	else
		timeline_options_default(&o);
	if (o.owners == NULL && (owners = packet_owners_of_log(log)) == NULL)
		return -1;
	if (o.owners == NULL)
		o.owners = owners;
	struct timeline_state *st = timeline_state_new();
	if (st == NULL) {
		packet_owners_free(owners);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		if (timeline_render_next(out, trace_log_get(log, i), &o, st) < 0)
			rc = -1;
	if (rc == 0)
		rc = timeline_render_end(out, &o, st);
	timeline_state_free(st);
	packet_owners_free(owners);
	return rc != 0 || ferror(out) ? -1 : 0;
}

/* ---- live observer ----------------------------------------------------- */

struct timeline_observer {
	struct trace *trace;
	FILE *out;
	struct timeline_options opt;
	struct packet_owners *owners; /* learnt as node records pass, if opt has none */
	struct timeline_state *state; /* sprays folded so far */
	bool failed;
};

static void timeline_observe(const struct trace_record *r, void *ctx)
{
	struct timeline_observer *obs = ctx;
	/* Node names are borrowed for the emit only: a host's name is kept
	 * as long as the record's, which the world's nodes outlive. */
	if (obs->owners != NULL && packet_owners_learn(obs->owners, r) != 0)
		obs->failed = true;
	if (timeline_render_next(obs->out, r, &obs->opt, obs->state) < 0)
		obs->failed = true;
}

struct timeline_observer *timeline_attach(struct trace *t, FILE *out,
					  const struct timeline_options *opt)
{
	struct timeline_observer *obs = calloc(1, sizeof(*obs));
	if (obs == NULL)
		return NULL;
	obs->trace = t;
	obs->out = out;
	if (opt != NULL)
		obs->opt = *opt;
	else
		timeline_options_default(&obs->opt);
	if (obs->opt.owners == NULL) {
		obs->owners = packet_owners_new();
		obs->opt.owners = obs->owners;
	}
	obs->state = timeline_state_new();
	if (obs->opt.owners == NULL || obs->state == NULL ||
	    trace_subscribe(t, timeline_observe, obs) != 0) {
		packet_owners_free(obs->owners);
		timeline_state_free(obs->state);
		free(obs);
		return NULL;
	}
	return obs;
}

void timeline_detach(struct timeline_observer *obs)
{
	if (obs == NULL)
		return;
	trace_unsubscribe(obs->trace, timeline_observe, obs);
	timeline_render_end(obs->out, &obs->opt, obs->state); /* counts still held */
	timeline_state_free(obs->state);
	packet_owners_free(obs->owners);
	free(obs);
}

bool timeline_observer_failed(const struct timeline_observer *obs)
{
	return obs->failed;
}
