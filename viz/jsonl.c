/*
 * jsonl.c - the trace as JSON lines, built with jansson.
 *
 * Each record becomes a jansson object whose keys are inserted in a fixed
 * order and dumped with JSON_PRESERVE_ORDER: output is stable without sorting,
 * and reads in the order a person expects (seq and time first, then what
 * happened). Every builder below funnels its failures into one `ok` flag so a
 * record is either written whole or not at all.
 */
#include "viz/jsonl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/endpoint.h"
#include "explain/explain.h"
#include "explain/socket.h"
#include "sim/engine.h"
#include "viz/packet_words.h"

/* Nine significant digits keep a loss of 0.1 printing as 0.1, not
 * 0.10000000000000001, and are still exact for any ratio a scenario sets. */
#define JSONL_DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9))

struct jsonl_writer {
	FILE *out;
	payload_summary_fn payload;
	struct trace *trace; /* attached to, or NULL */
	int err;	     /* sticky: 0 or a negative errno */
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_in(const char *const *table, size_t n, unsigned v)
{
	return v < n && table[v] != NULL ? table[v] : "?";
}

const char *jsonl_ct_event_name(enum trace_ct_event e)
{
	static const char *const names[] = {
	    [TRACE_CT_NEW] = "new",	    [TRACE_CT_UPDATE] = "update",
	    [TRACE_CT_REFRESH] = "refresh", [TRACE_CT_DESTROY] = "destroy",
	    [TRACE_CT_RELATED] = "related",
	};
	return name_in(names, COUNT_OF(names), (unsigned)e);
}

const char *jsonl_map_event_name(enum trace_map_event e)
{
	static const char *const names[] = {
	    [TRACE_MAP_CREATED] = "created",
	    [TRACE_MAP_REFRESHED] = "refreshed",
	    [TRACE_MAP_REMOTE_ADDED] = "remote-added",
	    [TRACE_MAP_EXPIRED] = "expired",
	    [TRACE_MAP_CLEARED] = "cleared",
	    [TRACE_MAP_REMOTE_REMOVED] = "remote-removed",
	    [TRACE_MAP_RENEWED] = "renewed",
	    [TRACE_MAP_DELETED] = "deleted",
	    [TRACE_MAP_REFUSED] = "refused",
	};
	return name_in(names, COUNT_OF(names), (unsigned)e);
}

const char *jsonl_link_event_name(enum trace_link_event e)
{
	static const char *const names[] = {
	    [TRACE_LINK_ADDED] = "added",
	    [TRACE_LINK_DOWN] = "down",
	    [TRACE_LINK_UP] = "up",
	};
	return name_in(names, COUNT_OF(names), (unsigned)e);
}

const char *jsonl_scenario_event_name(enum trace_scenario_event e)
{
	static const char *const names[] = {
	    [TRACE_SCN_ACTION] = "action",
	    [TRACE_SCN_NOTE] = "note",
	    [TRACE_SCN_EXPECT_PASS] = "expect-pass",
	    [TRACE_SCN_EXPECT_FAIL] = "expect-fail",
	};
	return name_in(names, COUNT_OF(names), (unsigned)e);
}

/* ---- value builders ---------------------------------------------------- */

/* Add `v` under `key`; a NULL `v` (a failed allocation) clears *ok.
 * json_object_set_new takes the reference even when it fails. */
static void put(json_t *o, const char *key, json_t *v, bool *ok)
{
	if (v == NULL || json_object_set_new(o, key, v) != 0)
		*ok = false;
}

/* A string, null for NULL. jansson insists on valid UTF-8; a sentence with
 * stray bytes is written with each invalid byte replaced by '?' rather than
 * dropping the record. */
static json_t *jstr(const char *s)
{
	if (s == NULL)
		return json_null();
	json_t *v = json_string(s);
	if (v != NULL)
		return v;
	char *copy = strdup(s);
	if (copy == NULL)
		return NULL;
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

static json_t *jint(int64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *jendpoint(const struct endpoint *ep)
{
	char buf[24];
	return json_string(endpoint_format(ep, buf, sizeof(buf)));
}

static json_t *jip(uint32_t ip)
{
	char buf[16];
	return json_string(ip_format(ip, buf, sizeof(buf)));
}

/* Lower-case hex, two digits per byte, no separators. */
static json_t *jhex(const uint8_t *bytes, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * len + 1);
	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[bytes[i] >> 4];
		s[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	json_t *v = json_stringn(s, 2 * len);
	free(s);
	return v;
}

/* An absolute deadline; null for "never" (static mappings). */
static json_t *jdeadline(int64_t at)
{
	return at == SIM_TIME_NEVER ? json_null() : jint(at);
}

static json_t *jsummary(const struct jsonl_writer *w, const uint8_t *bytes, size_t len)
{
	char buf[512];
	if (bytes == NULL)
		return json_null();
	packet_summary(bytes, len, w->payload, false, buf, sizeof(buf));
	return jstr(buf);
}

/* "1.020000s": whole microseconds, for people; t_ns is the exact value. */
static json_t *jtime(int64_t t)
{
	char buf[32];
	int64_t us = t / 1000;
	const char *sign = us < 0 ? "-" : "";
	uint64_t mag = us < 0 ? (uint64_t)(-(us + 1)) + 1 : (uint64_t)us;
	snprintf(buf, sizeof(buf), "%s%" PRIu64 ".%06" PRIu64 "s", sign, mag / 1000000,
		 mag % 1000000);
	return json_string(buf);
}

/* ---- per kind ---------------------------------------------------------- */

static void put_node(json_t *o, const struct trace_node *n, bool *ok)
{
	put(o, "name", jstr(n->name), ok);
	put(o, "type", jstr(n->type), ok);
	put(o, "detail", jstr(n->detail), ok);
	put(o, "behind", jstr(n->behind), ok);
	put(o, "conntrack", json_boolean(n->conntrack), ok);
}

static void put_link(json_t *o, const struct trace_link *l, bool *ok)
{
	put(o, "event", json_string(jsonl_link_event_name(l->event)), ok);
	put(o, "name", jstr(l->name), ok);
	put(o, "a", jstr(l->a), ok);
	put(o, "a_iface", jstr(l->a_iface), ok);
	put(o, "b", jstr(l->b), ok);
	put(o, "b_iface", jstr(l->b_iface), ok);
	put(o, "latency_ns", jint(l->latency_ns), ok);
	put(o, "jitter_ns", jint(l->jitter_ns), ok);
	put(o, "loss", json_real(l->loss), ok);
}

static void put_packet(const struct jsonl_writer *w, json_t *o, const struct trace_packet *p,
		       bool *ok)
{
	put(o, "hop", json_string(trace_hop_name(p->hop)), ok);
	put(o, "id", json_integer((json_int_t)p->packet_id), ok);
	put(o, "node", jstr(p->node), ok);
	put(o, "iface", jstr(p->iface), ok);
	put(o, "len", jint((int64_t)p->len), ok);
	put(o, "summary", jsummary(w, p->bytes, p->len), ok);
	put(o, "hex", p->bytes != NULL ? jhex(p->bytes, p->len) : json_null(), ok);
	/* Keys that only mean something for one hop appear only on that hop. */
	if (p->hop == TRACE_HOP_TRANSLATE) {
		put(o, "before_len", jint((int64_t)p->before_len), ok);
		put(o, "before_summary", jsummary(w, p->before, p->before_len), ok);
		put(o, "before_hex",
		    p->before != NULL ? jhex(p->before, p->before_len) : json_null(), ok);
		/* An IPv6 rewrite (NPTv6 keeps no state, RFC 6296) may use no
		 * NAT mapping: null then, not a mapping of zeros. */
		bool mapped = packet_words_translate_mapped(p);
		put(o, "map_internal", mapped ? jendpoint(&p->map_internal) : json_null(), ok);
		put(o, "map_external", mapped ? jendpoint(&p->map_external) : json_null(), ok);
	}
	if (p->hop == TRACE_HOP_DROP)
		put(o, "reason", json_string(trace_drop_reason_name(p->reason)), ok);
	put(o, "why", jstr(p->why), ok);
	put(o, "rule", jstr(p->rule), ok);
}

/* A tuple with the keys conntrack -L prints for its protocol: sport and
 * dport for UDP; type, code and id for ICMP (sim/trace.h keeps the id in
 * sport and type << 8 | code in dport). */
static json_t *jtuple_of(json_t *src, json_t *dst, uint16_t sport, uint16_t dport, uint8_t proto)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	if (!ok) {
		json_decref(src);
		json_decref(dst);
		return NULL;
	}
	put(o, "src", src, &ok);
	put(o, "dst", dst, &ok);
	if (proto == 1 || proto == 58 /* ICMPv6: the same layout */) {
		put(o, "type", jint(dport >> 8), &ok);
		put(o, "code", jint(dport & 0xff), &ok);
		put(o, "id", jint(sport), &ok);
	} else {
		put(o, "sport", jint(sport), &ok);
		put(o, "dport", jint(dport), &ok);
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *jtuple(const struct trace_ct_tuple *t, uint8_t proto)
{
	return jtuple_of(jip(t->src), jip(t->dst), t->sport, t->dport, proto);
}

/* An IPv6 entry's tuple: addresses in RFC 5952 text. */
static json_t *jtuple6(const struct trace_ct_tuple6 *t, uint8_t proto)
{
	char src[IP6_TEXT_SIZE], dst[IP6_TEXT_SIZE];

	return jtuple_of(json_string(ip6_format(&t->src, src, sizeof(src))),
			 json_string(ip6_format(&t->dst, dst, sizeof(dst))), t->sport, t->dport,
			 proto);
}

static void put_conntrack(json_t *o, int64_t now, const struct trace_conntrack *c, bool *ok)
{
	char line[320];
	conntrack_format_record(c, now, line, sizeof(line));
	put(o, "event", json_string(jsonl_ct_event_name(c->event)), ok);
	put(o, "node", jstr(c->node), ok);
	put(o, "id", jint(c->id), ok);
	put(o, "proto", jint(c->proto), ok);
	put(o, "line", jstr(line), ok);
	/* An IPv6 entry says its family; an IPv4 one is written as it always
	 * was. */
	if (c->family == 6 && c->tuples6 != NULL) {
		put(o, "family", jint(6), ok);
		put(o, "orig", jtuple6(&c->tuples6->orig, c->proto), ok);
		put(o, "reply", jtuple6(&c->tuples6->reply, c->proto), ok);
	} else {
		put(o, "orig", jtuple(&c->orig, c->proto), ok);
		put(o, "reply", jtuple(&c->reply, c->proto), ok);
	}
	put(o, "seen_reply", json_boolean(c->seen_reply), ok);
	put(o, "assured", json_boolean(c->assured), ok);
	put(o, "expires_ns", jint(c->expires_at), ok);
	put(o, "mark", jint(c->mark), ok);
	put(o, "use", jint(c->use), ok);
	put(o, "why", jstr(c->why), ok);
}

/* A port-mapping request (PCP, NAT-PMP) and the server's verdict. */
static json_t *jport_mapping(const struct trace_pcp *f)
{
	bool ok = true;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put(o, "protocol", json_string(nat_origin_name((enum nat_origin)f->protocol)), &ok);
	put(o, "decision", json_string(pcp_decision_name((enum pcp_decision)f->decision)), &ok);
	put(o, "result", jint(f->result), &ok);
	put(o, "version", jint(f->version), &ok);
	put(o, "client", jendpoint(&f->client), &ok);
	put(o, "internal_port", jint(f->internal_port), &ok);
	put(o, "suggested_port", jint(f->suggested_port), &ok);
	put(o, "requested_lifetime_s", jint(f->requested_lifetime), &ok);
	put(o, "lifetime_s", jint(f->lifetime), &ok);
	put(o, "max_lifetime_s", jint(f->max_lifetime), &ok);
	put(o, "epoch_s", jint(f->epoch), &ok);
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void put_mapping(json_t *o, const struct trace_mapping *m, bool *ok)
{
	bool has_remote = m->event == TRACE_MAP_CREATED || m->event == TRACE_MAP_REMOTE_ADDED ||
			  m->event == TRACE_MAP_REMOTE_REMOVED;
	put(o, "event", json_string(jsonl_map_event_name(m->event)), ok);
	put(o, "node", jstr(m->node), ok);
	put(o, "id", jint(m->id), ok);
	put(o, "proto", jint(m->proto), ok);
	if (m->family == 6) { /* a NAT64 binding: its inside is IPv6 (RFC 5952 text) */
		char buf[ENDPOINT6_TEXT_SIZE];
		put(o, "family", jint(6), ok);
		put(o, "internal", jstr(endpoint6_format(&m->internal6, buf, sizeof(buf))), ok);
	} else {
		put(o, "internal", jendpoint(&m->internal), ok);
	}
	put(o, "external", jendpoint(&m->external), ok);
	/* A static forward is created without a remote: 0.0.0.0:0 means none. */
	has_remote = has_remote && (m->remote.ip != 0 || m->remote.port != 0);
	put(o, "remote", has_remote ? jendpoint(&m->remote) : json_null(), ok);
	put(o, "mapping", json_string(nat_behaviour_name((enum nat_behaviour)m->mapping)), ok);
	put(o, "filtering", json_string(nat_behaviour_name((enum nat_behaviour)m->filtering)), ok);
	put(o, "classic",
	    json_string(
		nat_classic_name((enum nat_behaviour)m->mapping, (enum nat_behaviour)m->filtering)),
	    ok);
	put(o, "static", json_boolean(m->is_static), ok);
	put(o, "expires_ns", jdeadline(m->expires_at), ok);
	put(o, "origin", json_string(nat_origin_name((enum nat_origin)m->origin)), ok);
	if (m->pcp.protocol != 0)
		put(o, "request", jport_mapping(&m->pcp), ok);
}

static void put_app(json_t *o, const struct trace_app *a, bool *ok)
{
	put(o, "node", jstr(a->node), ok);
	put(o, "app", jstr(a->app), ok);
	put(o, "event", jstr(a->event), ok);
	put(o, "peer", jstr(a->peer), ok);
	put(o, "text", jstr(a->text), ok);
}

static void put_scenario(json_t *o, const struct trace_scenario *s, bool *ok)
{
	put(o, "event", json_string(jsonl_scenario_event_name(s->event)), ok);
	put(o, "text", jstr(s->text), ok);
	put(o, "line", jint(s->line), ok);
}

static void put_socket(json_t *o, const struct trace_socket *k, bool *ok)
{
	put(o, "node", jstr(k->node), ok);
	put(o, "proto", jint(k->proto), ok);
	if (k->v6 != NULL) { /* an IPv6 socket says its family; RFC 5952 ends */
		char l[ENDPOINT6_TEXT_SIZE], r[ENDPOINT6_TEXT_SIZE];
		put(o, "family", jint(6), ok);
		put(o, "local", jstr(endpoint6_format(&k->v6->local, l, sizeof(l))), ok);
		put(o, "remote", jstr(endpoint6_format(&k->v6->remote, r, sizeof(r))), ok);
	} else {
		put(o, "local", jendpoint(&k->local), ok);
		put(o, "remote", jendpoint(&k->remote), ok);
	}
	put(o, "from", json_string(explain_tcp_state_name(k->old_state)), ok);
	put(o, "to", json_string(explain_tcp_state_name(k->new_state)), ok);
	put(o, "cause", json_string(explain_tcp_cause_name(k->cause)), ok);
	put(o, "packet_id", k->packet_id ? jint((int64_t)k->packet_id) : json_null(), ok);
	put(o, "error", jint(k->error), ok);
}

/* The whole record as an object, or NULL if an allocation failed. */
static json_t *record_object(const struct jsonl_writer *w, const struct trace_record *r)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	if (!ok)
		return NULL;
	put(o, "seq", json_integer((json_int_t)r->seq), &ok);
	put(o, "t_ns", jint(r->time), &ok);
	put(o, "t", jtime(r->time), &ok);
	put(o, "kind", json_string(trace_kind_name(r->kind)), &ok);
	switch (r->kind) {
	case TRACE_NODE:
		put_node(o, &r->u.node, &ok);
		break;
	case TRACE_LINK:
		put_link(o, &r->u.link, &ok);
		break;
	case TRACE_PACKET:
		put_packet(w, o, &r->u.packet, &ok);
		break;
	case TRACE_CONNTRACK:
		put_conntrack(o, r->time, &r->u.ct, &ok);
		break;
	case TRACE_MAPPING:
		put_mapping(o, &r->u.map, &ok);
		break;
	case TRACE_APP:
		put_app(o, &r->u.app, &ok);
		break;
	case TRACE_SCENARIO:
		put_scenario(o, &r->u.scenario, &ok);
		break;
	case TRACE_SOCKET:
		put_socket(o, &r->u.sock, &ok);
		break;
	}
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- the writer -------------------------------------------------------- */

/* Keep the first error only: later ones are usually its consequences. */
static void writer_fail(struct jsonl_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
}

static void writer_fail_errno(struct jsonl_writer *w, int saved_errno)
{
	writer_fail(w, saved_errno > 0 ? -saved_errno : -EIO);
}

struct jsonl_writer *jsonl_writer_new(FILE *out, payload_summary_fn payload)
{
	struct jsonl_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->out = out;
	w->payload = payload;
	return w;
}

static void jsonl_observe(const struct trace_record *r, void *ctx)
{
	jsonl_write_record(ctx, r);
}

void jsonl_writer_free(struct jsonl_writer *w)
{
	if (w == NULL)
		return;
	if (w->trace != NULL)
		trace_unsubscribe(w->trace, jsonl_observe, w);
	free(w);
}

int jsonl_writer_attach(struct jsonl_writer *w, struct trace *t)
{
	if (w->trace != NULL || trace_subscribe(t, jsonl_observe, w) != 0)
		return -1;
	w->trace = t;
	return 0;
}

void jsonl_write_record(struct jsonl_writer *w, const struct trace_record *r)
{
	if (w->err != 0)
		return;
	json_t *o = record_object(w, r);
	char *line = o != NULL ? json_dumps(o, JSONL_DUMP_FLAGS) : NULL;
	json_decref(o);
	if (line == NULL) {
		writer_fail(w, -ENOMEM);
		return;
	}
	errno = 0;
	if (fputs(line, w->out) == EOF || putc('\n', w->out) == EOF || ferror(w->out))
		writer_fail_errno(w, errno);
	free(line);
}

int jsonl_writer_flush(struct jsonl_writer *w)
{
	errno = 0;
	if (fflush(w->out) != 0)
		writer_fail_errno(w, errno);
	return jsonl_writer_error(w);
}

int jsonl_writer_error(const struct jsonl_writer *w)
{
	if (w->err != 0)
		return w->err;
	return ferror(w->out) ? -EIO : 0;
}
