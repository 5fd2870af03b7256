/*
 * packet_words.c - a packet named from its bytes with explain/'s words.
 *
 * The owners are an array of (address, host) kept sorted lazily: node
 * records come first in a run (and a world may have 100 000 hosts), while
 * lookups happen only for the ICMP errors a renderer words.
 */
#include "viz/packet_words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/packet6.h"
#include "viz/text.h"

struct owner {
	uint32_t ip;
	size_t order; /* learnt n-th: the first host to claim an address wins */
	const char *name;
};

/* A TCP segment's flags by its packet id, as it was sent: a socket's
 * change of state names the segment that moved it by id only. Ids grow, so
 * the array stays sorted as it is learnt. */
struct segment_flags {
	uint64_t id;
	uint8_t flags;
};

/* An IPv6 address a host holds (sim/trace.h struct trace_node6). */
struct owner6 {
	struct ip6_addr ip;
	size_t order;
	const char *name;
};

struct packet_owners {
	struct owner *v;
	size_t n, cap;
	bool sorted;
	struct owner6 *v6;
	size_t n6, cap6;
	bool sorted6;
	struct segment_flags *seg;
	size_t n_seg, cap_seg;
};

struct packet_owners *packet_owners_new(void)
{
	return calloc(1, sizeof(struct packet_owners));
}

void packet_owners_free(struct packet_owners *o)
{
	if (o == NULL)
		return;
	free(o->v);
	free(o->v6);
	free(o->seg);
	free(o);
}

/* Where a TCP segment's header starts in bytes of either family, or 0 if
 * they hold none (IPv6: right after the fixed header, since natsim sends no
 * extension headers: model/packet6.h). */
static size_t tcp_offset(const uint8_t *b, size_t len)
{
	if (packet_ip_version(b, len) == 6)
		return len >= IPV6_HEADER_SIZE && b[6] == IPPROTO_NUM_TCP ? IPV6_HEADER_SIZE : 0;
	if (len < IPV4_HEADER_MIN || b[9] != IPPROTO_NUM_TCP)
		return 0;
	return (size_t)(b[0] & 0x0f) * 4;
}

static int learn_segment(struct packet_owners *o, const struct trace_packet *p)
{
	size_t ihl;

	if (p->hop != TRACE_HOP_SEND || (ihl = tcp_offset(p->bytes, p->len)) == 0)
		return 0;
	if (p->len < ihl + TCP_HEADER_MIN ||
	    (o->n_seg > 0 && o->seg[o->n_seg - 1].id >= p->packet_id))
		return 0;
	if (o->n_seg == o->cap_seg) {
		size_t cap = o->cap_seg != 0 ? o->cap_seg * 2 : 64;
		struct segment_flags *v = realloc(o->seg, cap * sizeof(*v));
		if (v == NULL)
			return -1;
		o->seg = v;
		o->cap_seg = cap;
	}
	o->seg[o->n_seg++] = (struct segment_flags){p->packet_id, p->bytes[ihl + 13]};
	return 0;
}

static int segment_id_cmp(const void *key, const void *elem)
{
	uint64_t id = *(const uint64_t *)key, e = ((const struct segment_flags *)elem)->id;
	return id < e ? -1 : id > e;
}

int packet_owners_segment_flags(const struct packet_owners *o, uint64_t id)
{
	const struct segment_flags *hit;

	if (o == NULL || o->n_seg == 0)
		return -1;
	hit = bsearch(&id, o->seg, o->n_seg, sizeof(*o->seg), segment_id_cmp);
	return hit != NULL ? hit->flags : -1;
}

/* A host's IPv6 addresses, beside its IPv4 ones. */
static int learn_addresses6(struct packet_owners *o, const struct trace_node *n)
{
	for (size_t i = 0; n->v6 != NULL && i < TRACE_NODE_ADDRS; i++) {
		if (ip6_is_unspecified(&n->v6->addrs[i]))
			continue;
		if (o->n6 == o->cap6) {
			size_t cap = o->cap6 != 0 ? o->cap6 * 2 : 16;
			struct owner6 *v = realloc(o->v6, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			o->v6 = v;
			o->cap6 = cap;
		}
		o->v6[o->n6] = (struct owner6){n->v6->addrs[i], o->n6, n->name};
		o->n6++;
		o->sorted6 = false;
	}
	return 0;
}

int packet_owners_learn(struct packet_owners *o, const struct trace_record *r)
{
	const struct trace_node *n = &r->u.node;

	if (r->kind == TRACE_PACKET)
		return learn_segment(o, &r->u.packet);
	if (r->kind != TRACE_NODE || n->type == NULL || strcmp(n->type, "host") != 0)
		return 0;
	for (size_t i = 0; i < n->n_addrs && i < TRACE_NODE_ADDRS; i++) {
		if (n->addrs[i] == 0)
			continue;
		if (o->n == o->cap) {
			size_t cap = o->cap != 0 ? o->cap * 2 : 16;
			struct owner *v = realloc(o->v, cap * sizeof(*v));
			if (v == NULL)
				return -1;
			o->v = v;
			o->cap = cap;
		}
		o->v[o->n] = (struct owner){n->addrs[i], o->n, n->name};
		o->n++;
		o->sorted = false;
	}
	return learn_addresses6(o, n);
}

struct packet_owners *packet_owners_of_log(const struct trace_log *log)
{
	struct packet_owners *o = packet_owners_new();

	for (size_t i = 0, n = trace_log_count(log); o != NULL && i < n; i++) {
		if (packet_owners_learn(o, trace_log_get(log, i)) != 0) {
			packet_owners_free(o);
			return NULL;
		}
	}
	return o;
}

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int owner_ip_cmp(const void *key, const void *elem)
{
	uint32_t ip = *(const uint32_t *)key, e = ((const struct owner *)elem)->ip;
	return ip < e ? -1 : ip > e;
}

const char *packet_owners_find(const struct packet_owners *o, uint32_t ip)
{
	if (o == NULL || o->n == 0)
		return NULL;
	if (!o->sorted) {
		/* Sorting changes nothing a reader can see: the same owners. */
		struct packet_owners *m = (struct packet_owners *)o;
		qsort(m->v, m->n, sizeof(*m->v), owner_cmp);
		m->sorted = true;
	}
	const struct owner *hit = bsearch(&ip, o->v, o->n, sizeof(*o->v), owner_ip_cmp);
	while (hit != NULL && hit > o->v && hit[-1].ip == ip)
		hit--;
	return hit != NULL ? hit->name : NULL;
}

static int owner6_cmp(const void *a, const void *b)
{
	const struct owner6 *x = a, *y = b;
	int c = ip6_compare(&x->ip, &y->ip);
	if (c != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int owner6_ip_cmp(const void *key, const void *elem)
{
	return ip6_compare(key, &((const struct owner6 *)elem)->ip);
}

const char *packet_owners_find6(const struct packet_owners *o, const struct ip6_addr *ip)
{
	if (o == NULL || o->n6 == 0)
		return NULL;
	if (!o->sorted6) {
		struct packet_owners *m = (struct packet_owners *)o;
		qsort(m->v6, m->n6, sizeof(*m->v6), owner6_cmp);
		m->sorted6 = true;
	}
	const struct owner6 *hit = bsearch(ip, o->v6, o->n6, sizeof(*o->v6), owner6_ip_cmp);
	while (hit != NULL && hit > o->v6 && ip6_equal(&hit[-1].ip, ip))
		hit--;
	return hit != NULL ? hit->name : NULL;
}

const char *packet_owners_find_addr(const struct packet_owners *o, const struct ip_addr *a)
{
	if (a->family == IP_FAMILY_V6)
		return packet_owners_find6(o, &a->u.v6);
	return a->family == IP_FAMILY_V4 ? packet_owners_find(o, a->u.v4) : NULL;
}

/* The packet an error quotes, as a verdict names a packet. */
static struct verdict_flow inner_flow(const struct packet_inner *in)
{
	return (struct verdict_flow){.form = VERDICT_FLOW_PARSED,
				     .proto = in->proto,
				     .ttl = in->ttl,
				     .src = in->src,
				     .dst = in->dst,
				     .sport = in->sport,
				     .dport = in->dport,
				     .len = in->total_len,
				     .icmp_type = in->icmp_type,
				     .icmp_code = in->icmp_code};
}

/* The packet an ICMPv6 error quotes. */
static struct verdict_flow inner_flow6(const struct packet6_inner *in)
{
	return (struct verdict_flow){.form = VERDICT_FLOW_PARSED,
				     .ip_version = 6,
				     .proto = in->next_header,
				     .ttl = in->hop_limit,
				     .src6 = in->src,
				     .dst6 = in->dst,
				     .sport = in->sport,
				     .dport = in->dport,
				     .len = IPV6_HEADER_SIZE + (size_t)in->payload_len,
				     .icmp_type = in->icmp_type,
				     .icmp_code = in->icmp_code};
}

static bool facts6(const uint8_t *bytes, size_t len, const struct packet_owners *owners,
		   struct explain_packet_facts *out)
{
	struct packet6_info info;

	if (packet6_parse(bytes, len, &info, NULL, 0) != PACKET_OK)
		return false;
	out->flow = packet6_flow_of(&info);
	if (info.next_header != IPPROTO_NUM_ICMPV6)
		return true;
	if (info.icmp_type == ICMP6_ECHO_REQUEST || info.icmp_type == ICMP6_ECHO_REPLY) {
		out->has_seq = true;
		out->seq = info.icmp_seq;
	}
	if (info.icmp_error) {
		out->has_inner = true;
		out->inner = inner_flow6(&info.inner);
		out->inner_owner = packet_owners_find6(owners, &info.inner.src);
	}
	return true;
}

bool packet_words_facts(const uint8_t *bytes, size_t len, const struct packet_owners *owners,
			struct explain_packet_facts *out)
{
	struct packet_info info;

	memset(out, 0, sizeof(*out));
	if (bytes != NULL && packet_ip_version(bytes, len) == 6)
		return facts6(bytes, len, owners, out);
	if (bytes == NULL || packet_parse(bytes, len, &info, NULL, 0) != PACKET_OK)
		return false;
	out->flow = packet_flow_of(&info);
	if (info.proto != IPPROTO_NUM_ICMP)
		return true;
	if (info.icmp_type == ICMP_ECHO_REQUEST || info.icmp_type == ICMP_ECHO_REPLY) {
		out->has_seq = true;
		out->seq = info.icmp_seq;
	}
	if (info.icmp_error) {
		out->has_inner = true;
		out->inner = inner_flow(&info.inner);
		out->inner_owner = packet_owners_find(owners, info.inner.src);
	}
	return true;
}

char *packet_words(const uint8_t *bytes, size_t len, const struct packet_owners *owners, char *out,
		   size_t size)
{
	struct explain_packet_facts f;

	if (!packet_words_facts(bytes, len, owners, &f)) {
		packet_summary(bytes, len, NULL, false, out, size);
		return out;
	}
	return explain_packet(&f, out, size);
}

bool packet_words_translate_mapped(const struct trace_packet *p)
{
	bool v6 = packet_ip_version(p->bytes, p->len) == 6 ||
		  packet_ip_version(p->before, p->before_len) == 6;
	return !v6 || p->map_internal.ip != 0 || p->map_external.ip != 0;
}

bool packet_words_is_icmp(const uint8_t *bytes, size_t len)
{
	struct packet_ends e;
	return packet_ends_of(bytes, len, &e) && e.icmp;
}

static bool ends6(const uint8_t *bytes, size_t len, struct packet_ends *out)
{
	struct packet6_info info;

	if (packet6_parse(bytes, len, &info, NULL, 0) != PACKET_OK)
		return false;
	*out = (struct packet_ends){
	    .version = 6,
	    .proto = info.next_header,
	    .icmp = info.next_header == IPPROTO_NUM_ICMPV6,
	    .icmp_type = info.icmp_type,
	    .src = {ip_addr_v6(&info.src), info.sport},
	    .dst = {ip_addr_v6(&info.dst), info.dport},
	    .payload = info.payload,
	    .payload_len = info.payload_len,
	    .tcp_flags = info.tcp_flags,
	    .tcp_seq = info.tcp_seq,
	    .tcp_ack = info.tcp_ack,
	};
	return true;
}

bool packet_ends_of(const uint8_t *bytes, size_t len, struct packet_ends *out)
{
	struct packet_info info;

	if (bytes == NULL)
		return false;
	if (packet_ip_version(bytes, len) == 6)
		return ends6(bytes, len, out);
	if (packet_parse(bytes, len, &info, NULL, 0) != PACKET_OK)
		return false;
	*out = (struct packet_ends){
	    .version = 4,
	    .proto = info.proto,
	    .icmp = info.proto == IPPROTO_NUM_ICMP,
	    .icmp_type = info.icmp_type,
	    .src = {ip_addr_v4(info.src), info.sport},
	    .dst = {ip_addr_v4(info.dst), info.dport},
	    .payload = info.payload,
	    .payload_len = info.payload_len,
	    .tcp_flags = info.tcp_flags,
	    .tcp_seq = info.tcp_seq,
	    .tcp_ack = info.tcp_ack,
	};
	return true;
}

char *packet_ends_format(const struct ip_endpoint *ep, bool icmp, char *out, size_t size)
{
	if (icmp)
		return ip_addr_format(&ep->addr, out, size);
	return ip_endpoint_format(ep, out, size);
}

/* A flow's address, of either family (RFC 5952 text for IPv6). */
static char *flow_address(const struct verdict_flow *v, bool src, char *out, size_t size)
{
	if (v->ip_version == 6)
		return ip6_format(src ? &v->src6 : &v->dst6, out, size);
	return ip_format(src ? v->src : v->dst, out, size);
}

static bool flow_is_icmp(const struct verdict_flow *v)
{
	return v->proto == (v->ip_version == 6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP);
}

/* An ICMP (or ICMPv6) endpoint: the address, and an echo's id where it
 * plays the port (a request's source, a reply's destination:
 * model/packet.h, model/packet6.h). */
static void icmp_end(const struct verdict_flow *v, bool src, char *out, size_t size)
{
	char a[IP6_TEXT_SIZE];
	bool request =
	    v->icmp_type == (v->ip_version == 6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO_REQUEST);
	bool reply = v->icmp_type == (v->ip_version == 6 ? ICMP6_ECHO_REPLY : ICMP_ECHO_REPLY);

	flow_address(v, src, a, sizeof(a));
	if ((request && src) || (reply && !src))
		snprintf(out, size, "%s id=%u", a, src ? v->sport : v->dport);
	else
		snprintf(out, size, "%s", a);
}

/* The quoted packet's endpoint: "10.0.0.7:5000" (or "[2001:db8::7]:5000")
 * for UDP, the address (and an echo's id) otherwise. */
static void inner_end(const struct verdict_flow *in, bool src, char *out, size_t size)
{
	char a[IP6_TEXT_SIZE];
	uint16_t port = src ? in->sport : in->dport;

	if (in->proto == IPPROTO_NUM_UDP && in->ip_version == 6) {
		endpoint6_format(&(struct endpoint6){src ? in->src6 : in->dst6, port}, out, size);
		return;
	}
	if (in->proto == IPPROTO_NUM_UDP) {
		endpoint_format(&(struct endpoint){src ? in->src : in->dst, port}, out, size);
		return;
	}
	flow_address(in, src, a, sizeof(a));
	if (flow_is_icmp(in) && port != 0)
		snprintf(out, size, "%s id=%u", a, port);
	else
		snprintf(out, size, "%s", a);
}

/* One side, outer or inner, if it changed: " source A → B". */
static bool changed_end(const char *what, const char *before, const char *after, bool *first,
			const char *join, char *out, size_t size)
{
	if (strcmp(before, after) == 0)
		return false;
	text_appendf(out, size, "%s%s %s \u2192 %s", *first ? " " : join, what, before, after);
	*first = false;
	return true;
}

bool packet_words_icmp_rewrite(const uint8_t *before, size_t before_len, const uint8_t *after,
			       size_t after_len, const char *join, char *out, size_t size)
{
	struct explain_packet_facts x, y;
	char a[ENDPOINT6_TEXT_SIZE + 12], b[ENDPOINT6_TEXT_SIZE + 12];
	bool first = true;

	/* Either family on either side: NAT64 (RFC 7915 4.2, 5.2) turns an
	 * echo or an error of one family into the other's. */
	if (!packet_words_facts(before, before_len, NULL, &x) ||
	    !packet_words_facts(after, after_len, NULL, &y) || !flow_is_icmp(&x.flow) ||
	    !flow_is_icmp(&y.flow))
		return false;
	for (int side = 0; side < 2; side++) {
		icmp_end(&x.flow, side == 0, a, sizeof(a));
		icmp_end(&y.flow, side == 0, b, sizeof(b));
		changed_end(side == 0 ? "source" : "destination", a, b, &first, join, out, size);
	}
	if (!x.has_inner || !y.has_inner)
		goto done;
	/* RFC 5508 REQ-3/4: the NAT also rewrote the packet the error quotes. */
	for (int side = 0; side < 2; side++) {
		inner_end(&x.inner, side == 0, a, sizeof(a));
		inner_end(&y.inner, side == 0, b, sizeof(b));
		changed_end(side == 0 ? "inside the error, source"
				      : "inside the error, destination",
			    a, b, &first, join, out, size);
	}
done:
	if (first)
		text_appendf(out, size, " nothing");
	return true;
}

char *packet_words_mapping_end6(const struct endpoint6 *ep, uint8_t proto, char *out, size_t size)
{
	char a[IP6_TEXT_SIZE];

	if (proto != IPPROTO_NUM_ICMP && proto != IPPROTO_NUM_ICMPV6)
		return endpoint6_format(ep, out, size);
	snprintf(out, size, "%s id=%u", ip6_format(&ep->ip, a, sizeof(a)), ep->port);
	return out;
}

char *packet_words_mapping_inside(const struct trace_mapping *m, char *out, size_t size)
{
	if (m->family == 6)
		return packet_words_mapping_end6(&m->internal6, m->proto, out, size);
	return packet_words_mapping_end(&m->internal, m->proto, false, out, size);
}

void packet_words_ct_tuple(const struct trace_conntrack *c, bool reply, struct ip_endpoint *src,
			   struct ip_endpoint *dst)
{
	if (c->family == 6 && c->tuples6 != NULL) {
		const struct trace_ct_tuple6 *t = reply ? &c->tuples6->reply : &c->tuples6->orig;
		*src = (struct ip_endpoint){ip_addr_v6(&t->src), t->sport};
		*dst = (struct ip_endpoint){ip_addr_v6(&t->dst), t->dport};
		return;
	}
	const struct trace_ct_tuple *t = reply ? &c->reply : &c->orig;
	*src = (struct ip_endpoint){ip_addr_v4(t->src), t->sport};
	*dst = (struct ip_endpoint){ip_addr_v4(t->dst), t->dport};
}

bool packet_words_ct_is_icmp(const struct trace_conntrack *c)
{
	return c->proto == (c->family == 6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP);
}

char *packet_words_mapping_end(const struct endpoint *ep, uint8_t proto, bool remote, char *out,
			       size_t size)
{
	char a[16];

	if (proto != IPPROTO_NUM_ICMP)
		return endpoint_format(ep, out, size);
	if (remote)
		snprintf(out, size, "%s", ip_format(ep->ip, a, sizeof(a)));
	else
		snprintf(out, size, "%s id=%u", ip_format(ep->ip, a, sizeof(a)), ep->port);
	return out;
}
