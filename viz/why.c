/*
 * why.c - one packet's story. The hops of the packet are found by id; each
 * becomes a sentence, worded from what came before it at the same node
 * (an arrival then a departure is a router forwarding). Records of other
 * kinds between two hops at one node, at one instant, are that node's
 * reaction to the packet and are told in between.
 */
#include "viz/why.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/endpoint.h"
#include "sim/engine.h"
#include "explain/explain.h"
#include "explain/socket.h"
#include "viz/packet_words.h"
#include "viz/text.h"

#define WHY_TEXT_MAX 1536
#define WHY_NODE_COLUMN 9

struct story {
	FILE *out;
	const struct trace_log *log;
	payload_summary_fn payload;
	bool ascii;
	const struct packet_owners *owners; /* whose packet an ICMP error quotes */
};

static void emit(const struct story *s, const char *text)
{
	char buf[WHY_TEXT_MAX * 2];
	if (s->ascii) {
		text_to_ascii(text, buf, sizeof(buf));
		text = buf;
	}
	fputs(text, s->out);
}

static void line(const struct story *s, int64_t t, const char *node, const char *text)
{
	char head[96];
	t = t < 0 ? 0 : t;
	snprintf(head, sizeof(head), "  %4" PRId64 ".%03ds  %-*s ", t / SIM_S(1),
		 (int)(t % SIM_S(1) / SIM_MS(1)), WHY_NODE_COLUMN, node != NULL ? node : "-");
	emit(s, head);
	emit(s, text);
	emit(s, "\n");
}

static bool end_is(const char *node, const char *iface, const char *n, const char *i)
{
	return node != NULL && n != NULL && strcmp(node, n) == 0 &&
	       (i == NULL || (iface != NULL && strcmp(iface, i) == 0));
}

/* The link between (node, iface) and (to, to_iface): a LAN is one link
 * record per attachment, so both ends are needed to name it. `to` NULL:
 * the first link at (node, iface). */
static const char *link_name(const struct trace_log *log, const char *node, const char *iface,
			     const char *to, const char *to_iface)
{
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n && iface != NULL; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		const struct trace_link *k = &r->u.link;
		if (r->kind != TRACE_LINK || k->event != TRACE_LINK_ADDED)
			continue;
		if (end_is(k->a, k->a_iface, node, iface) &&
		    (to == NULL || end_is(k->b, k->b_iface, to, to_iface)))
			return k->name;
		if (end_is(k->b, k->b_iface, node, iface) &&
		    (to == NULL || end_is(k->a, k->a_iface, to, to_iface)))
			return k->name;
	}
	return NULL;
}

/* The packet's ends, of either family. */
static bool flow_of(const uint8_t *bytes, size_t len, struct ip_endpoint *src,
		    struct ip_endpoint *dst)
{
	struct packet_ends e;
	if (!packet_ends_of(bytes, len, &e))
		return false;
	*src = e.src;
	*dst = e.dst;
	return true;
}

static bool same_end(const struct ip_endpoint *a, const struct ip_endpoint *b)
{
	return a->port == b->port && ip_addr_equal(&a->addr, &b->addr);
}

static void say_rewrite(const struct trace_packet *p, char *out, size_t size)
{
	struct ip_endpoint xs, xd, ys, yd;
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE], c[24], d[24];
	text_appendf(out, size, "%s translated", p->node);
	if (packet_words_icmp_rewrite(p->before, p->before_len, p->bytes, p->len, " and ", out,
				      size)) {
		/* ICMP: addresses, an echo's id, and inside an error */
	} else if (!flow_of(p->before, p->before_len, &xs, &xd) ||
		   !flow_of(p->bytes, p->len, &ys, &yd)) {
		text_appendf(out, size, " the packet");
	} else {
		bool src = !same_end(&xs, &ys), dst = !same_end(&xd, &yd);
		if (src)
			text_appendf(out, size, " source %s \u2192 %s",
				     ip_endpoint_format(&xs, a, sizeof(a)),
				     ip_endpoint_format(&ys, b, sizeof(b)));
		if (dst)
			text_appendf(out, size, "%s destination %s \u2192 %s", src ? " and" : "",
				     ip_endpoint_format(&xd, a, sizeof(a)),
				     ip_endpoint_format(&yd, b, sizeof(b)));
		if (!src && !dst)
			text_appendf(out, size, " nothing");
	}
	if (!packet_words_translate_mapped(p))
		return;
	text_appendf(out, size, " using its mapping %s \u2194 %s",
		     endpoint_format(&p->map_internal, c, sizeof(c)),
		     endpoint_format(&p->map_external, d, sizeof(d)));
}

/* One hop in words. `prev` is the hop before (NULL for the first). */
/* "left office through wan onto link office-wan towards internet". */
static void say_departure(const struct story *s, const struct trace_packet *p,
			  const struct trace_packet *prev, const struct trace_packet *next,
			  char *out, size_t size)
{
	bool same_node = prev != NULL && strcmp(prev->node, p->node) == 0;
	bool arrives = next != NULL && next->hop == TRACE_HOP_RX;
	const char *link = link_name(s->log, p->node, p->iface, arrives ? next->node : NULL,
				     arrives ? next->iface : NULL);
	if (link == NULL) /* a LAN: the far end is attached to the same link */
		link = link_name(s->log, p->node, p->iface, NULL, NULL);
	if (same_node && prev->hop == TRACE_HOP_RX)
		text_appendf(out, size, "forwarded: ");
	text_appendf(out, size, "left %s through %s", p->node, p->iface ? p->iface : "?");
	if (link != NULL)
		text_appendf(out, size, " onto link %s", link);
	if (arrives)
		text_appendf(out, size, " towards %s", next->node);
}

static void say_drop(const struct trace_packet *p, char *out, size_t size)
{
	/* Most sentences start with the node ("office dropped ...": explain/
	 * then also gave why_after_node); those say it all. */
	if (p->why != NULL && p->why_after_node != NULL)
		text_appendf(out, size, "%s", p->why);
	else if (p->why != NULL)
		text_appendf(out, size, "dropped at %s: %s", p->node, p->why);
	else
		text_appendf(out, size, "dropped at %s (%s)", p->node,
			     trace_drop_reason_name(p->reason));
	if (p->rule != NULL)
		text_appendf(out, size, " (rule %s)", p->rule);
}

/* An ICMP packet's send, arrival or delivery: what it is, in words ("ping
 * ...", "port unreachable ... about alice's UDP ..."), since its ports mean
 * nothing. False for other packets. */
static bool say_icmp_hop(const struct story *s, const struct trace_packet *p, char *out,
			 size_t size)
{
	char words[400];
	if (!packet_words_is_icmp(p->bytes, p->len))
		return false;
	packet_words(p->bytes, p->len, s->owners, words, sizeof(words));
	switch (p->hop) {
	case TRACE_HOP_SEND:
		text_appendf(out, size, "sent by %s: %s", p->node, words);
		return true;
	case TRACE_HOP_RX:
		text_appendf(out, size, "arrived at %s on %s (%s)", p->node,
			     p->iface ? p->iface : "?", words);
		return true;
	case TRACE_HOP_DELIVER:
		text_appendf(out, size, "delivered to %s: %s", p->node, words);
		return true;
	default:
		return false;
	}
}

static void say_hop(const struct story *s, const struct trace_packet *p,
		    const struct trace_packet *prev, const struct trace_packet *next, char *out,
		    size_t size)
{
	struct ip_endpoint src, dst;
	char a[ENDPOINT6_TEXT_SIZE], b[ENDPOINT6_TEXT_SIZE];
	out[0] = '\0';
	if (say_icmp_hop(s, p, out, size))
		goto after;
	switch (p->hop) {
	case TRACE_HOP_SEND:
		text_appendf(out, size, "sent by %s", p->node);
		if (flow_of(p->bytes, p->len, &src, &dst))
			text_appendf(out, size, " from %s to %s",
				     ip_endpoint_format(&src, a, sizeof(a)),
				     ip_endpoint_format(&dst, b, sizeof(b)));
		break;
	case TRACE_HOP_TX:
		say_departure(s, p, prev, next, out, size);
		break;
	case TRACE_HOP_RX:
		text_appendf(out, size, "arrived at %s on %s", p->node, p->iface ? p->iface : "?");
		if (flow_of(p->bytes, p->len, &src, &dst))
			text_appendf(out, size, " (%s \u2192 %s)",
				     ip_endpoint_format(&src, a, sizeof(a)),
				     ip_endpoint_format(&dst, b, sizeof(b)));
		break;
	case TRACE_HOP_TRANSLATE:
		say_rewrite(p, out, size);
		break;
	case TRACE_HOP_DELIVER:
		text_appendf(out, size, "delivered to the socket on %s", p->node);
		if (flow_of(p->bytes, p->len, &src, &dst))
			text_appendf(out, size, " bound to %s",
				     ip_endpoint_format(&dst, a, sizeof(a)));
		break;
	case TRACE_HOP_DROP:
		say_drop(p, out, size);
		return;
	}
after:
	if (p->why != NULL)
		text_appendf(out, size, " \u2014 %s", p->why);
	if (p->rule != NULL)
		text_appendf(out, size, " (rule %s)", p->rule);
}

/* An entry's original ends: "10.0.0.7:5000" and "192.0.2.1:9"; for ICMP
 * (sim/trace.h: sport is the echo id) "10.0.0.7" and "192.0.2.1 id=1";
 * an IPv6 entry's in RFC 5952 text. */
static void ct_ends(const struct trace_conntrack *k, char *a, char *b, size_t size)
{
	struct ip_endpoint s, d;
	char ip[IP6_TEXT_SIZE];

	packet_words_ct_tuple(k, false, &s, &d);
	if (packet_words_ct_is_icmp(k)) {
		ip_addr_format(&s.addr, a, size);
		snprintf(b, size, "%s id=%u", ip_addr_format(&d.addr, ip, sizeof(ip)), s.port);
		return;
	}
	ip_endpoint_format(&s, a, size);
	ip_endpoint_format(&d, b, size);
}

/* What a node did to its tables (and its TCP sockets) while it handled the
 * packet. */
/* What a conntrack record did to its entry; a TCP update names the state
 * the segment moved it to (conntrack -E's words: "now SYN_SENT
 * [UNREPLIED]", "now FIN_WAIT [ASSURED]"). */
static void say_ct_what(const struct trace_conntrack *k, char *out, size_t size)
{
	char state[48];
	if (k->event == TRACE_CT_UPDATE && k->proto == 6 /* TCP */) {
		conntrack_format_tcp_state(k, state, sizeof(state));
		text_appendf(out, size, "now %s", state);
		return;
	}
	text_appendf(out, size, "%s",
		     k->event == TRACE_CT_NEW	    ? "new, [UNREPLIED]"
		     : k->event == TRACE_CT_REFRESH ? "refreshed"
		     : k->assured		    ? "now [ASSURED]"
		     : k->seen_reply		    ? "now replied"
						    : "updated");
}

static bool say_side_effect(const struct story *s, const struct trace_record *r, char *out,
			    size_t size)
{
	char a[32], b[32], c[32];
	out[0] = '\0';
	if (r->kind == TRACE_SOCKET) {
		const struct trace_socket *k = &r->u.sock;
		explain_socket(k, packet_owners_segment_flags(s->owners, k->packet_id), 1, out,
			       size);
		return true;
	}
	if (r->kind == TRACE_MAPPING) {
		const struct trace_mapping *m = &r->u.map;
		packet_words_mapping_end(&m->internal, m->proto, false, a, sizeof(a));
		packet_words_mapping_end(&m->external, m->proto, false, b, sizeof(b));
		packet_words_mapping_end(&m->remote, m->proto, true, c, sizeof(c));
		switch (m->event) {
		case TRACE_MAP_CREATED:
			text_appendf(out, size, "%s created a mapping %s \u2192 %s for it (to %s)",
				     m->node, a, b, c);
			return true;
		case TRACE_MAP_REMOTE_ADDED:
			text_appendf(out, size, "%s's mapping %s \u2192 %s now also admits %s",
				     m->node, a, b, c);
			return true;
		case TRACE_MAP_REFRESHED:
			text_appendf(out, size,
				     "%s's mapping %s \u2192 %s was refreshed (%" PRId64 " s left)",
				     m->node, a, b,
				     (m->expires_at - r->time + SIM_S(1) - 1) / SIM_S(1));
			return true;
		default:
			return false;
		}
	}
	if (r->kind == TRACE_CONNTRACK) {
		const struct trace_conntrack *k = &r->u.ct;
		ct_ends(k, a, b, sizeof(a));
		if (k->event == TRACE_CT_RELATED) {
			/* Linux: the error is RELATED to the entry of the flow it
			 * quotes and changes nothing in it (icmp_error_message) */
			text_appendf(out, size,
				     "%s found it RELATED to its conntrack entry %s \u2192 %s (an "
				     "ICMP error about that flow; the entry is unchanged)",
				     k->node, a, b);
			return true;
		}
		if (k->event == TRACE_CT_DESTROY)
			return false;
		text_appendf(out, size, "%s's conntrack entry %s \u2192 %s: ", k->node, a, b);
		say_ct_what(k, out, size);
		return true;
	}
	return false;
}

static void tell_side_effects(const struct story *s, size_t from, size_t to, const char *node,
			      int64_t time)
{
	char text[WHY_TEXT_MAX];
	for (size_t k = from + 1; k < to; k++) {
		const struct trace_record *r = trace_log_get(s->log, k);
		const char *n = r->kind == TRACE_MAPPING     ? r->u.map.node
				: r->kind == TRACE_CONNTRACK ? r->u.ct.node
				: r->kind == TRACE_SOCKET    ? r->u.sock.node
							     : NULL;
		if (n == NULL || r->time != time || strcmp(n, node) != 0)
			continue;
		if (say_side_effect(s, r, text, sizeof(text)))
			line(s, r->time, node, text);
	}
}

/* A TCP segment delivered moves its socket at that instant: the sockets
 * whose change names this packet, right after its last hop. */
static void tell_socket_after(const struct story *s, size_t last, uint64_t id)
{
	char text[WHY_TEXT_MAX];
	int64_t time = trace_log_get(s->log, last)->time;
	for (size_t k = last + 1, n = trace_log_count(s->log); k < n; k++) {
		const struct trace_record *r = trace_log_get(s->log, k);
		if (r->time != time)
			return;
		if (r->kind == TRACE_SOCKET && r->u.sock.packet_id == id &&
		    say_side_effect(s, r, text, sizeof(text)))
			line(s, r->time, r->u.sock.node, text);
	}
}

static void tell_fate(const struct story *s, const struct trace_record *first,
		      const struct trace_record *last, size_t n_links)
{
	const struct trace_packet *p = &last->u.packet;
	char text[WHY_TEXT_MAX] = "";
	double ms = (double)(last->time - first->time) / 1e6;
	if (p->hop == TRACE_HOP_DELIVER)
		text_appendf(text, sizeof(text), "delivered to %s", p->node);
	else if (p->hop == TRACE_HOP_DROP)
		text_appendf(text, sizeof(text), "dropped at %s (%s)", p->node,
			     trace_drop_reason_name(p->reason));
	else
		text_appendf(text, sizeof(text),
			     "still on its way when the run ended (last seen at %s)", p->node);
	text_appendf(text, sizeof(text), ", %.3g ms after it was sent, over %zu link%s.", ms,
		     n_links, n_links == 1 ? "" : "s");
	emit(s, "\nFate: ");
	emit(s, text);
	emit(s, "\n");
}

/* The records of packet `id`'s hops, in order; *n 0 if none. */
static size_t *hops_of(const struct trace_log *log, uint64_t id, size_t *n_hops)
{
	size_t n = trace_log_count(log), m = 0;
	size_t *v = malloc((n + 1) * sizeof(*v));
	for (size_t i = 0; v != NULL && i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind == TRACE_PACKET && r->u.packet.packet_id == id)
			v[m++] = i;
	}
	*n_hops = m;
	return v;
}

int why_render(FILE *out, const struct trace_log *log, uint64_t id, payload_summary_fn payload,
	       bool ascii)
{
	struct packet_owners *owners = packet_owners_of_log(log);
	struct story s = {out, log, payload, ascii, owners};
	size_t n_hops, n_links = 0;
	size_t *hop = owners != NULL ? hops_of(log, id, &n_hops) : NULL;
	char text[WHY_TEXT_MAX];
	if (hop == NULL) {
		packet_owners_free(owners);
		return -1;
	}
	if (n_hops == 0) {
		free(hop);
		packet_owners_free(owners);
		return WHY_NO_SUCH_PACKET;
	}
	const struct trace_record *first = trace_log_get(log, hop[0]), *last = first;
	packet_summary(first->u.packet.bytes, first->u.packet.len, payload, false, text,
		       sizeof(text));
	fprintf(out, "Packet #%" PRIu64 ": ", id);
	emit(&s, text);
	emit(&s, "\n\n");
	for (size_t k = 0; k < n_hops; k++) {
		const struct trace_record *r = trace_log_get(log, hop[k]);
		const struct trace_packet *p = &r->u.packet;
		const struct trace_packet *prev = k > 0 ? &last->u.packet : NULL;
		const struct trace_packet *next =
		    k + 1 < n_hops ? &trace_log_get(log, hop[k + 1])->u.packet : NULL;
		if (prev != NULL && strcmp(prev->node, p->node) == 0)
			tell_side_effects(&s, hop[k - 1], hop[k], p->node, r->time);
		n_links += p->hop == TRACE_HOP_RX;
		say_hop(&s, p, prev, next, text, sizeof(text));
		line(&s, r->time, p->node, text);
		last = r;
	}
	tell_socket_after(&s, hop[n_hops - 1], id);
	free(hop);
	packet_owners_free(owners);
	tell_fate(&s, first, last, n_links);
	return ferror(out) ? -1 : 0;
}

bool why_packet_range(const struct trace_log *log, uint64_t *lo, uint64_t *hi)
{
	bool any = false;
	size_t n = trace_log_count(log);
	for (size_t i = 0; i < n; i++) {
		const struct trace_record *r = trace_log_get(log, i);
		if (r->kind != TRACE_PACKET)
			continue;
		uint64_t id = r->u.packet.packet_id;
		if (!any || id < *lo)
			*lo = id;
		if (!any || id > *hi)
			*hi = id;
		any = true;
	}
	return any;
}
