/*
 * timeline_spray.c - folding sprays of drops into one line (timeline.h
 * "Sprays"): the birthday search sends hundreds of probes that die at a NAT
 * for the same reason, and the timeline should tell that once, with the
 * count, not hundreds of times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/addr6.h"
#include "base/endpoint.h"
#include "model/packet.h"
#include "viz/text.h"
#include "viz/timeline.h"
#include "viz/timeline_internal.h"

#define SPRAYS 8		    /* sprays followed at once (oldest reused) */
#define SPRAY_QUIET_NS 1000000000LL /* a spray ends after a second without a drop */

struct spray {
	char node[64]; /* "": slot free (a copy: records lend their names) */
	enum trace_drop_reason reason;
	struct ip_addr src, dst; /* either family: a spray is of one flow's addresses */
	uint16_t sport, dport;	 /* the last drop's */
	unsigned distinct;	 /* drops on new ports so far */
	unsigned hidden;	 /* folded since the last count was said */
	bool sport_varies, dport_varies;
	uint16_t lo, hi; /* the folded drops' varying ports */
	int64_t first_hidden, last_hidden, last_seen;
};

struct timeline_state {
	struct spray sprays[SPRAYS];
};

struct timeline_state *timeline_state_new(void)
{
	return calloc(1, sizeof(struct timeline_state));
}

void timeline_state_free(struct timeline_state *st)
{
	free(st);
}

/* A flow's address, of either family. */
static struct ip_addr flow_addr(const struct verdict_flow *f, bool src)
{
	return f->ip_version == 6 ? ip_addr_v6(src ? &f->src6 : &f->dst6)
				  : ip_addr_v4(src ? f->src : f->dst);
}

static struct spray *spray_for(struct timeline_state *st, const char *node,
			       enum trace_drop_reason reason, const struct verdict_flow *f)
{
	struct spray *oldest = &st->sprays[0];
	struct ip_addr src = flow_addr(f, true), dst = flow_addr(f, false);
	for (size_t i = 0; i < SPRAYS; i++) {
		struct spray *s = &st->sprays[i];
		if (s->node[0] != '\0' && s->reason == reason && ip_addr_equal(&s->src, &src) &&
		    ip_addr_equal(&s->dst, &dst) && strcmp(s->node, node) == 0)
			return s;
		if (s->node[0] == '\0' ||
		    (oldest->node[0] != '\0' && s->last_seen < oldest->last_seen))
			oldest = s;
	}
	if (oldest->hidden > 0 || strlen(node) >= sizeof(oldest->node))
		return NULL; /* its count is still to be said: do not fold into a new one */
	*oldest = (struct spray){
	    .reason = reason, .src = src, .dst = dst, .sport = f->sport, .dport = f->dport};
	snprintf(oldest->node, sizeof(oldest->node), "%s", node);
	return oldest;
}

/* Whether the drop r is folded into a spray (and counted there). */
static bool fold(struct timeline_state *st, const struct trace_record *r)
{
	const struct trace_packet *p = &r->u.packet;
	struct verdict_flow f = packet_flow_of_bytes(p->bytes, p->len);
	if (f.proto != 17 && f.proto != 6)
		return false; /* ports only for UDP and TCP */
	struct spray *s = spray_for(st, p->node, p->reason, &f);
	if (s == NULL)
		return false;
	s->last_seen = r->time;
	bool new_ports = s->distinct == 0 || f.sport != s->sport || f.dport != s->dport;
	if (!new_ports)
		return false; /* a retransmission: always shown */
	s->sport_varies |= s->distinct > 0 && f.sport != s->sport;
	s->dport_varies |= s->distinct > 0 && f.dport != s->dport;
	s->sport = f.sport;
	s->dport = f.dport;
	if (++s->distinct <= TIMELINE_SPRAY_SHOWN)
		return false;
	uint16_t port = s->dport_varies ? f.dport : f.sport;
	if (s->hidden++ == 0) {
		s->first_hidden = r->time;
		s->lo = s->hi = port;
	}
	s->lo = port < s->lo ? port : s->lo;
	s->hi = port > s->hi ? port : s->hi;
	s->last_hidden = r->time;
	return true;
}

static int say_count(FILE *out, const struct timeline_options *opt, struct spray *s)
{
	struct tl_line l = {.style = TL_RED, .node = s->node};
	char from[ENDPOINT6_TEXT_SIZE], to[ENDPOINT6_TEXT_SIZE];
	char a[TEXT_SECONDS_SIZE], b[TEXT_SECONDS_SIZE];
	struct ip_endpoint src = {s->src, s->sport}, dst = {s->dst, s->dport};

	tl_say(&l,
	       CROSS " and %u more dropped for the same reason (%s), %s to %s on %s ports (%u to "
		     "%u) from %ss to %ss; -v shows each",
	       s->hidden, trace_drop_reason_name(s->reason),
	       s->sport_varies ? ip_addr_format(&s->src, from, sizeof(from))
			       : ip_endpoint_format(&src, from, sizeof(from)),
	       s->dport_varies ? ip_addr_format(&s->dst, to, sizeof(to))
			       : ip_endpoint_format(&dst, to, sizeof(to)),
	       s->sport_varies && s->dport_varies ? "ever-new"
	       : s->dport_varies		  ? "ever-new destination"
						  : "ever-new source",
	       s->lo, s->hi, text_seconds(s->first_hidden, a, sizeof(a)),
	       text_seconds(s->last_hidden, b, sizeof(b)));
	s->hidden = 0;
	/* Said when the spray has gone quiet, so the time column stays in order. */
	tl_print_line(out, s->last_seen + SPRAY_QUIET_NS, &l, opt);
	return ferror(out) ? -1 : 0;
}

/* The counts of sprays that have gone quiet by `now` (all, if now < 0). */
static int say_quiet(FILE *out, const struct timeline_options *opt, struct timeline_state *st,
		     int64_t now)
{
	int rc = 0;
	for (;;) { /* the one that went quiet first first: the time column stays in order */
		struct spray *first = NULL;
		for (size_t i = 0; i < SPRAYS; i++) {
			struct spray *s = &st->sprays[i];
			if (s->hidden > 0 && (now < 0 || now > s->last_seen + SPRAY_QUIET_NS) &&
			    (first == NULL || s->last_seen < first->last_seen))
				first = s;
		}
		if (first == NULL)
			return rc;
		rc |= say_count(out, opt, first);
	}
}

int timeline_render_next(FILE *out, const struct trace_record *r,
			 const struct timeline_options *opt, struct timeline_state *st)
{
	struct timeline_options defaults;
	if (opt == NULL) {
		timeline_options_default(&defaults);
		opt = &defaults;
	}
	if (st == NULL || opt->verbosity >= TIMELINE_VERBOSE)
		return timeline_render_record(out, r, opt);
	if (say_quiet(out, opt, st, r->time) < 0)
		return -1;
	if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_DROP &&
	    r->u.packet.node != NULL && fold(st, r))
		return 0;
	return timeline_render_record(out, r, opt);
}

int timeline_render_end(FILE *out, const struct timeline_options *opt, struct timeline_state *st)
{
	struct timeline_options defaults;
	if (opt == NULL) {
		timeline_options_default(&defaults);
		opt = &defaults;
	}
	return st == NULL ? 0 : say_quiet(out, opt, st, -1);
}
