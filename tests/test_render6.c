/*
 * test_render6.c - every renderer shows IPv6 (issue 18, docs/ipv6.md step
 * 7), from a hand-written trace, since renderers read the trace and nothing
 * else. The world: alice (192.168.1.5 and 2001:db8:1::5) and carol (IPv6
 * alone, an address of 39 characters) on xlat's lan; xlat a translator
 * whose wan (203.0.113.7) reaches server (192.0.2.10 and 2001:db8:2::1).
 * The story:
 *   #1 alice's UDP [2001:db8:1::5]:5000 -> [2001:db8:2::1]:3478, delivered;
 *   #2 the server's ICMPv6 port unreachable about #1 back to alice;
 *   #3 alice's UDP to [64:ff9b::c000:20a]:3478, which xlat rewrites to
 *      IPv4 (NAT64: the family changes) with no NAT mapping recorded;
 *   #4 carol's UDP, dropped at xlat;
 *   #5 alice's ICMPv6 echo request to the server;
 *   #6 alice's TCP SYN over IPv6, as far as xlat.
 * xlat's IPv6 conntrack entry for #1 and its NAT64 binding for #3 are
 * records of their own (family 6), numbered 1 like its IPv4 entry and
 * mapping of id 1, which the story also has.
 * Checked: the ladder's rows (summaries, ICMPv6 words and labels, the
 * rewrite across families, the pair filter, widths), why, the timeline, the
 * JSON lines, the captures (each side in its own family, LINKTYPE_RAW), the
 * topology picture and the owners of IPv6 addresses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pcap/pcap.h>
#include <unistd.h>

#include "base/addr6.h"
#include "model/host.h"
#include "model/packet6.h"
#include "model/router.h"
#include "support_trace.h"
#include "viz/dot.h"
#include "viz/jsonl.h"
#include "viz/ladder.h"
#include "viz/packet_words.h"
#include "viz/pcap.h"
#include "viz/tables.h"
#include "viz/timeline.h"
#include "viz/why.h"

#define ALICE6 "2001:db8:1::5"
#define CAROL6 "2001:db8:1234:5678:9abc:def0:1234:5678" /* 39 characters */
#define SERVER6 "2001:db8:2::1"
#define NAT64_SERVER6 "64:ff9b::c000:20a" /* 192.0.2.10 in 64:ff9b::/96 (RFC 6052 2.2) */

struct story {
	struct test_trace *t;
	struct trace_ct_tuples6 ct6;
	struct trace_node6 alice6, carol6, xlat6, server6;
	int64_t now;
};

static struct ip6_addr addr6(const char *text)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(text, &a, NULL), IP6_OK);
	return a;
}

static size_t udp6(struct test_bytes *p, const char *src, uint16_t sport, const char *dst)
{
	struct endpoint6 s = {addr6(src), sport}, d = {addr6(dst), 3478};

	p->n = packet6_build_udp(p->b, sizeof(p->b), &s, &d, 64, 0, "hello", 5);
	assert_true(p->n > 0);
	return p->n;
}

static void node(struct story *s, const char *name, const char *type, const char *detail,
		 uint32_t ip4, const struct trace_node6 *v6)
{
	struct trace_record r = {.kind = TRACE_NODE};
	bool inside = strcmp(name, "alice") == 0 || strcmp(name, "carol") == 0;

	r.u.node = (struct trace_node){.name = name,
				       .type = type,
				       .detail = detail,
				       .behind = inside ? "xlat" : NULL,
				       .n_addrs = 1,
				       .addrs = {ip4},
				       .prefix_lens = {ip4 != 0 ? 24 : 0},
				       .v6 = v6};
	test_trace_emit(s->t, 0, &r);
}

static void add_link(struct story *s, const char *name, const char *a, const char *ai,
		     const char *b, const char *bi)
{
	struct trace_record r = {.kind = TRACE_LINK};

	r.u.link = (struct trace_link){TRACE_LINK_ADDED, name, a, ai, b, bi, SIM_MS(1), 0, 0};
	test_trace_emit(s->t, 0, &r);
}

static void hop(struct story *s, enum trace_hop h, uint64_t id, const char *at, const char *iface,
		const struct test_bytes *p, const struct test_bytes *before)
{
	struct trace_record r = {.kind = TRACE_PACKET};

	r.u.packet = (struct trace_packet){
	    .hop = h, .packet_id = id, .node = at, .iface = iface, .bytes = p->b, .len = p->n};
	if (before != NULL) {
		r.u.packet.before = before->b;
		r.u.packet.before_len = before->n;
	}
	if (h == TRACE_HOP_DROP) {
		r.u.packet.reason = TRACE_DROP_NO_ROUTE;
		r.u.packet.why = "xlat dropped it: no IPv6 route";
	}
	s->now += SIM_MS(1);
	test_trace_emit(s->t, s->now, &r);
}

/* A packet from `a` (its eth0) through xlat (lan to wan, or back) to `b`. */
static void across(struct story *s, uint64_t id, const char *a, const char *b, bool outbound,
		   const struct test_bytes *p)
{
	hop(s, TRACE_HOP_SEND, id, a, NULL, p, NULL);
	hop(s, TRACE_HOP_TX, id, a, "eth0", p, NULL);
	hop(s, TRACE_HOP_RX, id, "xlat", outbound ? "lan" : "wan", p, NULL);
	hop(s, TRACE_HOP_TX, id, "xlat", outbound ? "wan" : "lan", p, NULL);
	hop(s, TRACE_HOP_RX, id, b, "eth0", p, NULL);
	hop(s, TRACE_HOP_DELIVER, id, b, NULL, p, NULL);
}

static void world(struct story *s)
{
	s->alice6.addrs[0] = addr6(ALICE6);
	s->alice6.prefix_lens[0] = 64;
	s->carol6.addrs[0] = addr6(CAROL6);
	s->carol6.prefix_lens[0] = 64;
	s->xlat6.addrs[0] = addr6("2001:db8:1::1");
	s->xlat6.prefix_lens[0] = 64;
	s->server6.addrs[0] = addr6(SERVER6);
	s->server6.prefix_lens[0] = 64;
	/* alice's detail says her IPv6 address (dot must not say it twice);
	 * the others' do not */
	node(s, "alice", "host", "192.168.1.5/24 and " ALICE6 "/64", IP4(192, 168, 1, 5),
	     &s->alice6);
	node(s, "carol", "host", "", 0, &s->carol6);
	node(s, "xlat", "router", "NAT64", IP4(203, 0, 113, 7), &s->xlat6);
	node(s, "server", "host", "192.0.2.10/24", IP4(192, 0, 2, 10), &s->server6);
	add_link(s, "lan", "alice", "eth0", "xlat", "lan");
	add_link(s, "lan2", "carol", "eth0", "xlat", "lan");
	add_link(s, "wan", "xlat", "wan", "server", "eth0");
}

/* xlat's IPv6 conntrack entry for #1, at the instant #1 leaves xlat (the
 * next hop's: `why` tells what a node did between a packet's arrival and
 * its departure), and an IPv4 entry of the same id. */
static void conntrack(struct story *s)
{
	struct trace_record r = {.kind = TRACE_CONNTRACK};

	s->ct6.orig = (struct trace_ct_tuple6){addr6(ALICE6), addr6(SERVER6), 5000, 3478};
	s->ct6.reply = (struct trace_ct_tuple6){addr6(SERVER6), addr6(ALICE6), 3478, 5000};
	r.u.ct = (struct trace_conntrack){.event = TRACE_CT_NEW,
					  .node = "xlat",
					  .id = 1,
					  .proto = 17,
					  .expires_at = s->now + SIM_S(30),
					  .use = 1,
					  .family = 6,
					  .tuples6 = &s->ct6};
	test_trace_emit(s->t, s->now + SIM_MS(1), &r);
	r.u.ct =
	    (struct trace_conntrack){.event = TRACE_CT_NEW,
				     .node = "xlat",
				     .id = 1,
				     .proto = 17,
				     .orig = {IP4(192, 168, 1, 9), IP4(192, 0, 2, 10), 7000, 53},
				     .reply = {IP4(192, 0, 2, 10), IP4(203, 0, 113, 7), 53, 7000},
				     .expires_at = s->now + SIM_S(30),
				     .use = 1};
	test_trace_emit(s->t, s->now + SIM_MS(1), &r);
}

/* xlat's NAT64 binding for #3 (RFC 6146: its inside is IPv6), and an IPv4
 * mapping of the same id. */
static void bindings(struct story *s)
{
	struct trace_record r = {.kind = TRACE_MAPPING};

	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "xlat",
					 .id = 1,
					 .proto = 17,
					 .external = {IP4(203, 0, 113, 7), 2000},
					 .remote = {IP4(192, 0, 2, 10), 0},
					 .expires_at = s->now + SIM_S(300),
					 .family = 6,
					 .internal6 = {addr6(ALICE6), 5001}};
	test_trace_emit(s->t, s->now, &r);
	r.u.map = (struct trace_mapping){.event = TRACE_MAP_CREATED,
					 .node = "xlat",
					 .id = 1,
					 .proto = 17,
					 .internal = {IP4(192, 168, 1, 9), 7000},
					 .external = {IP4(203, 0, 113, 7), 7000},
					 .remote = {IP4(192, 0, 2, 10), 53},
					 .expires_at = s->now + SIM_S(300)};
	test_trace_emit(s->t, s->now, &r);
}

/* #3: alice's datagram to the NAT64 prefix, translated to IPv4 at xlat. */
static void nat64(struct story *s)
{
	struct test_bytes v6, v4;
	struct endpoint src = {IP4(203, 0, 113, 7), 2000}, dst = {IP4(192, 0, 2, 10), 3478};

	udp6(&v6, ALICE6, 5001, NAT64_SERVER6);
	v4.n = packet_build_udp(v4.b, sizeof(v4.b), &src, &dst, 63, 1, "hello", 5);
	assert_true(v4.n > 0);
	hop(s, TRACE_HOP_SEND, 3, "alice", NULL, &v6, NULL);
	hop(s, TRACE_HOP_TX, 3, "alice", "eth0", &v6, NULL);
	hop(s, TRACE_HOP_RX, 3, "xlat", "lan", &v6, NULL);
	bindings(s);
	hop(s, TRACE_HOP_TRANSLATE, 3, "xlat", "wan", &v4, &v6);
	hop(s, TRACE_HOP_TX, 3, "xlat", "wan", &v4, NULL);
	hop(s, TRACE_HOP_RX, 3, "server", "eth0", &v4, NULL);
	hop(s, TRACE_HOP_DELIVER, 3, "server", NULL, &v4, NULL);
}

/* #6: a TCP SYN over IPv6, written by hand (model/packet6.h has no TCP
 * builder yet): the fixed header, a 20-byte TCP header, the checksum. */
static void tcp6_syn(struct story *s)
{
	struct test_bytes p = {.n = IPV6_HEADER_SIZE + TCP_HEADER_MIN};
	struct ip6_addr src = addr6(ALICE6), dst = addr6(SERVER6);
	uint8_t *t = p.b + IPV6_HEADER_SIZE;

	memset(p.b, 0, p.n);
	p.b[0] = 0x60;
	p.b[5] = TCP_HEADER_MIN; /* payload length */
	p.b[6] = IPPROTO_NUM_TCP;
	p.b[7] = 64;
	memcpy(p.b + 8, src.b, 16);
	memcpy(p.b + 24, dst.b, 16);
	t[0] = 40000 >> 8, t[1] = 40000 & 0xff, t[3] = 80;
	t[4] = 0, t[5] = 0, t[6] = 0x03, t[7] = 0xe8; /* seq 1000 */
	t[12] = 5 << 4;
	t[13] = TCP_SYN;
	t[14] = 0xfa, t[15] = 0xf0; /* window 64240 */
	packet6_fill_checksums(p.b, p.n);
	hop(s, TRACE_HOP_SEND, 6, "alice", NULL, &p, NULL);
	hop(s, TRACE_HOP_TX, 6, "alice", "eth0", &p, NULL);
	hop(s, TRACE_HOP_RX, 6, "xlat", "lan", &p, NULL);
}

static void story(struct story *s)
{
	struct test_bytes p1, p2, p4, p5;
	struct ip6_addr alice = addr6(ALICE6), server = addr6(SERVER6);

	world(s);
	udp6(&p1, ALICE6, 5000, SERVER6);
	hop(s, TRACE_HOP_SEND, 1, "alice", NULL, &p1, NULL);
	hop(s, TRACE_HOP_TX, 1, "alice", "eth0", &p1, NULL);
	hop(s, TRACE_HOP_RX, 1, "xlat", "lan", &p1, NULL);
	conntrack(s);
	hop(s, TRACE_HOP_TX, 1, "xlat", "wan", &p1, NULL);
	hop(s, TRACE_HOP_RX, 1, "server", "eth0", &p1, NULL);
	hop(s, TRACE_HOP_DELIVER, 1, "server", NULL, &p1, NULL);
	p2.n = packet6_build_icmp_error(p2.b, sizeof(p2.b), &server, &alice, 64, ICMP6_DEST_UNREACH,
					ICMP6_PORT_UNREACH, 0, p1.b, p1.n);
	assert_true(p2.n > 0);
	across(s, 2, "server", "alice", false, &p2);
	nat64(s);
	udp6(&p4, CAROL6, 6000, SERVER6);
	hop(s, TRACE_HOP_SEND, 4, "carol", NULL, &p4, NULL);
	hop(s, TRACE_HOP_TX, 4, "carol", "eth0", &p4, NULL);
	hop(s, TRACE_HOP_RX, 4, "xlat", "lan", &p4, NULL);
	hop(s, TRACE_HOP_DROP, 4, "xlat", NULL, &p4, NULL);
	p5.n = packet6_build_icmp_echo(p5.b, sizeof(p5.b), &alice, &server, 64, ICMP6_ECHO_REQUEST,
				       7, 1, NULL, 56);
	assert_true(p5.n > 0);
	across(s, 5, "alice", "server", true, &p5);
	tcp6_syn(s);
}

static int setup(void **state)
{
	struct story *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	s->t = test_trace_new();
	story(s);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct story *s = *state;

	test_trace_free(s->t);
	free(s);
	return 0;
}

/* The first row of `kind` for packet `id` whose text holds `needle`. */
static const struct ladder_row *row_of(const struct ladder_view *v, enum ladder_row_kind kind,
				       uint64_t id, const char *needle)
{
	for (size_t i = 0; i < v->n_rows; i++)
		if (v->rows[i].kind == kind && v->rows[i].packet_id == id &&
		    strstr(v->rows[i].text, needle) != NULL)
			return &v->rows[i];
	return NULL;
}

static struct ladder_view *view(struct story *s, const char *pair_a, const char *pair_b)
{
	struct ladder_options o;
	struct ladder_view *v;

	ladder_options_default(&o);
	o.pair_a = pair_a;
	o.pair_b = pair_b;
	v = ladder_view_build(s->t->log, &o);
	assert_non_null(v);
	return v;
}

static void test_ladder_rows(void **state)
{
	struct ladder_view *v = view(*state, NULL, NULL);
	const struct ladder_row *r;

	r = row_of(v, LADDER_ARROW, 1, "#1 [" ALICE6 "]:5000 \u2192 [" SERVER6 "]:3478 len=5");
	assert_non_null(r);
	assert_true(r->wraps); /* an IPv6 row wraps rather than cut an address */
	r = row_of(v, LADDER_ARROW, 2,
		   "port unreachable " SERVER6 " \u2192 " ALICE6 " about alice's UDP [" ALICE6
		   "]:5000 \u2192 [" SERVER6 "]:3478");
	assert_non_null(r);
	assert_string_equal(r->icmp, "port unreachable");
	assert_true(r->icmp_error);
	r = row_of(v, LADDER_ARROW, 5,
		   "ping " ALICE6 " \u2192 " SERVER6 " (echo request id=7 seq=1)");
	assert_non_null(r);
	assert_string_equal(r->icmp, "echo request");
	assert_false(r->icmp_error);
	assert_non_null(row_of(v, LADDER_DROP, 4, "xlat dropped it: no IPv6 route"));
	assert_non_null(row_of(v, LADDER_ARROW, 4, "[" CAROL6 "]:6000"));
	/* TCP: sequence numbers from the direction's SYN, as Wireshark's */
	r = row_of(v, LADDER_ARROW, 6,
		   "#6 [" ALICE6 "]:40000 \u2192 [" SERVER6 "]:80 [SYN] seq=0 len=0");
	assert_non_null(r);
	assert_string_equal(r->tcp, "[SYN]");
	ladder_view_free(v);
}

/* NAT64 changes the family: the rewrite names each side in its own. */
static void test_ladder_rewrite_across_families(void **state)
{
	struct ladder_view *v = view(*state, NULL, NULL);

	assert_non_null(row_of(v, LADDER_REWRITE, 3,
			       "#3 xlat rewrites source [" ALICE6
			       "]:5001 \u2192 203.0.113.7:2000, destination [" NAT64_SERVER6
			       "]:3478 \u2192 192.0.2.10:3478"));
	assert_non_null(row_of(v, LADDER_ARROW, 3, "#3 [" ALICE6 "]:5001 \u2192 [" NAT64_SERVER6));
	assert_non_null(row_of(v, LADDER_ARROW, 3, "#3 203.0.113.7:2000 \u2192 192.0.2.10:3478"));
	ladder_view_free(v);
}

/* --ladder-pair knows hosts by their IPv6 addresses (and an IPv4 one a
 * host received on): carol's packet is not between alice and the server. */
static void test_ladder_pair(void **state)
{
	struct ladder_view *v = view(*state, "alice", "server");

	for (uint64_t id = 1; id <= 5; id++)
		if (id != 4)
			assert_non_null(row_of(v, LADDER_ARROW, id, "#"));
	assert_null(row_of(v, LADDER_ARROW, 4, "#"));
	assert_null(row_of(v, LADDER_DROP, 4, "#"));
	ladder_view_free(v);
	v = view(*state, "carol", "alice");
	assert_int_equal(v->n_packet_rows, 0);
	ladder_view_free(v);
}

/* The terminal diagram at 80 columns: no line wider, and every address
 * whole (a cut one would read as another address). */
static void test_ladder_width(void **state)
{
	struct story *s = *state;
	struct ladder_options o;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	ladder_options_default(&o);
	o.ascii = true;
	o.width = 80;
	assert_int_equal(ladder_render(f, s->t->log, &o), 0);
	assert_int_equal(fclose(f), 0);
	if (getenv("RENDER6_SHOW") != NULL)
		print_message("%s", out);
	for (char *line = out, *end; *line != '\0'; line = end + 1) {
		end = strchr(line, '\n');
		assert_non_null(end);
		assert_true(end - line <= 80);
	}
	assert_non_null(strstr(out, "[" CAROL6 "]:6000"));
	assert_non_null(strstr(out, "[" NAT64_SERVER6 "]:3478"));
	assert_null(strstr(out, "..."));
	free(out);
}

static char *rendered(struct story *s, uint64_t why_id, enum timeline_verbosity verbosity)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct timeline_options o;

	assert_non_null(f);
	timeline_options_default(&o);
	o.verbosity = verbosity;
	if (why_id != 0)
		assert_int_equal(why_render(f, s->t->log, why_id, NULL, false), 0);
	else
		assert_int_equal(timeline_render_log(f, s->t->log, &o), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void test_why(void **state)
{
	char *w3 = rendered(*state, 3, TIMELINE_NORMAL), *w2 = rendered(*state, 2, TIMELINE_NORMAL);

	assert_non_null(
	    strstr(w3, "sent by alice from [" ALICE6 "]:5001 to [" NAT64_SERVER6 "]:3478"));
	assert_non_null(strstr(w3, "xlat translated source [" ALICE6
				   "]:5001 \u2192 203.0.113.7:2000 and destination [" NAT64_SERVER6
				   "]:3478 \u2192 192.0.2.10:3478"));
	assert_null(strstr(w3, "using its mapping")); /* none was recorded: no zeros */
	assert_non_null(strstr(w3, "delivered to the socket on server bound to 192.0.2.10:3478"));
	assert_non_null(strstr(w2, "delivered to alice: port unreachable " SERVER6 " \u2192 " ALICE6
				   " about alice's UDP [" ALICE6 "]:5000"));
	free(w3);
	free(w2);
}

static void test_timeline(void **state)
{
	char *tl = rendered(*state, 0, TIMELINE_VERBOSE);

	assert_non_null(strstr(tl, "#3 translated: UDP 203.0.113.7:2000 \u2192 192.0.2.10:3478"));
	assert_null(strstr(tl, "0.0.0.0:0"));
	assert_non_null(strstr(tl, "#2 sent port unreachable " SERVER6 " \u2192 " ALICE6
				   " about alice's UDP [" ALICE6 "]:5000 \u2192 [" SERVER6
				   "]:3478 hlim=64"));
	assert_non_null(strstr(tl, "#5 sent ping " ALICE6 " \u2192 " SERVER6
				   " (echo request id=7 seq=1) hlim=64"));
	free(tl);
}

/* IPv6 entries and NAT64 bindings, told in RFC 5952 text, beside IPv4
 * ones of the same id. */
static void test_conntrack_and_bindings(void **state)
{
	struct story *s = *state;
	char *tl = rendered(s, 0, TIMELINE_NORMAL), *w1 = rendered(s, 1, TIMELINE_NORMAL);
	struct tables *t = tables_fold(s->t->log, s->now);
	const struct tables_node *x;
	char in[256], ex[256], who[256];

	assert_non_null(strstr(tl, "conntrack: new flow [" ALICE6 "]:5000 \u2192 [" SERVER6
				   "]:3478 [UNREPLIED], expires in 30s"));
	assert_non_null(strstr(tl, "conntrack: new flow 192.168.1.9:7000 \u2192 192.0.2.10:53 "
				   "[UNREPLIED], seen outside as 203.0.113.7:7000"));
	assert_non_null(strstr(tl, "[" ALICE6 "]:5001"));
	assert_null(strstr(tl, "0.0.0.0:0"));
	assert_non_null(
	    strstr(w1, "xlat's conntrack entry [" ALICE6 "]:5000 \u2192 [" SERVER6 "]:3478"));
	assert_non_null(t);
	x = tables_node_find(t, "xlat");
	assert_non_null(x);
	assert_int_equal(x->n_mappings, 2); /* the same id, two families */
	for (size_t i = 0; i < x->n_mappings; i++) {
		tables_mapping_words(&x->mappings[i], in, ex, who, sizeof(in));
		assert_string_equal(in, x->mappings[i].family == 6 ? "[" ALICE6 "]:5001"
								   : "192.168.1.9:7000");
	}
	tables_free(t);
	free(tl);
	free(w1);
}

/* A translate hop with no mapping has null map_* rather than zeros. */
static void test_jsonl_translate(void **state)
{
	struct story *s = *state;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct jsonl_writer *w = jsonl_writer_new(f, NULL);

	assert_non_null(w);
	for (size_t i = 0; i < trace_log_count(s->t->log); i++) {
		const struct trace_record *r = trace_log_get(s->t->log, i);
		if ((r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_TRANSLATE) ||
		    r->kind == TRACE_MAPPING)
			jsonl_write_record(w, r);
	}
	assert_int_equal(jsonl_writer_flush(w), 0);
	jsonl_writer_free(w);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(out, "\"map_internal\":null,\"map_external\":null"));
	/* the NAT64 binding says its family and its IPv6 inside */
	assert_non_null(
	    strstr(out, "\"proto\":17,\"family\":6,\"internal\":\"[" ALICE6 "]:5001\""));
	assert_non_null(strstr(out, "\"proto\":17,\"internal\":\"192.168.1.9:7000\""));
	assert_non_null(strstr(out, "\"before_summary\":\"UDP [" ALICE6
				    "]:5001 \u2192 [" NAT64_SERVER6 "]:3478 len=5 hlim=64"));
	free(out);
}

/* Every packet of a capture file: the version nibble of each, and the
 * link type. Returns the count. */
static size_t capture_versions(const char *path, int *linktype, unsigned *versions, size_t max)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, err);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t n = 0;

	assert_non_null(p);
	*linktype = pcap_datalink(p);
	while (pcap_next_ex(p, &h, &data) == 1 && n < max)
		versions[n++] = h->caplen > 0 ? data[0] >> 4 : 0;
	pcap_close(p);
	return n;
}

/* tshark decodes the wan's capture packet by packet in its own family,
 * every UDP and ICMPv6 checksum Good (the translated datagram's over the
 * IPv4 pseudo-header). Skipped without tshark. */
static void tshark_reads_both(const char *path)
{
	char cmd[400], out[1024] = "";
	size_t n;
	FILE *p;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		print_message("tshark is not installed: skipping its decoding check\n");
		return;
	}
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o udp.check_checksum:TRUE -T fields -E separator='|' "
		 "-e frame.protocols -e udp.checksum.status -e icmpv6.checksum.status "
		 "-e _ws.malformed 2>/dev/null",
		 path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	/* status 1 is Good; the error's quoted UDP is checked too */
	assert_string_equal(out, "raw:ipv6:udp:data|1||\n"
				 "raw:ipv6:icmpv6:ipv6:udp:data|1|1|\n"
				 "raw:ip:udp:data|1||\n"
				 "raw:ipv6:icmpv6:data||1|\n");
}

/* NAT64's two sides in one run's captures: LINKTYPE_RAW (101) files, the
 * lan's packet of #3 IPv6 and the wan's IPv4, each read by its nibble. */
static void test_pcap_across_families(void **state)
{
	struct story *s = *state;
	char dir[] = "/tmp/natsim-test-render6-XXXXXX", path[128], err[256], cmd[160];
	unsigned v[16];
	int linktype;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(capture_write_dir(s->t->log, dir, NULL, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/xlat-lan.pcap", dir);
	/* in on lan: #1, #3, #4, #5, #6 (IPv6); out on lan: #2 (IPv6) */
	assert_int_equal(capture_versions(path, &linktype, v, 16), 6);
	assert_int_equal(linktype, DLT_RAW); /* LINKTYPE_RAW in the file */
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(v[i], 6);
	snprintf(path, sizeof(path), "%s/xlat-wan.pcap", dir);
	/* #1 out, #2 in, #3 out (IPv4 after translation), #5 out */
	assert_int_equal(capture_versions(path, &linktype, v, 16), 4);
	assert_int_equal(linktype, DLT_RAW); /* LINKTYPE_RAW in the file */
	assert_int_equal(v[0], 6);
	assert_int_equal(v[1], 6);
	assert_int_equal(v[2], 4);
	assert_int_equal(v[3], 6);
	tshark_reads_both(path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_dot_topology(void **state)
{
	struct story *s = *state;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(dot_topology_write(f, s->t->log), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(out, "IPv6 " CAROL6 "/64"));
	assert_non_null(strstr(out, "IPv6 " SERVER6 "/64"));
	assert_non_null(strstr(out, "IPv6 2001:db8:1::1/64"));
	assert_null(strstr(out, "IPv6 " ALICE6)); /* her detail says it already */
	assert_non_null(strstr(out, ALICE6 "/64"));
	free(out);
}

static void test_owners6(void **state)
{
	struct story *s = *state;
	struct packet_owners *o = packet_owners_of_log(s->t->log);
	struct ip6_addr carol = addr6(CAROL6), nobody = addr6("2001:db8:9::9");
	struct ip_addr alice4 = ip_addr_v4(IP4(192, 168, 1, 5)),
		       server6 = ip_addr_v6(&s->server6.addrs[0]);

	assert_non_null(o);
	assert_string_equal(packet_owners_find6(o, &carol), "carol");
	assert_null(packet_owners_find6(o, &nobody));
	assert_string_equal(packet_owners_find_addr(o, &alice4), "alice");
	assert_string_equal(packet_owners_find_addr(o, &server6), "server");
	assert_null(packet_owners_find6(o, &s->xlat6.addrs[0])); /* a router's is no host's */
	/* a TCP segment's flags as sent, by id (a socket's change names it) */
	assert_int_equal(packet_owners_segment_flags(o, 6), TCP_SYN);
	assert_int_equal(packet_owners_segment_flags(o, 1), -1);
	packet_owners_free(o);
}

/* A world's node records carry the interfaces' IPv6 addresses as values
 * (net_announce), so a host is found by its IPv6 address in a real run. */
static void test_announced_addresses(void **state)
{
	struct net *net = net_new(1);
	struct trace_log *log = trace_log_new();
	struct router *r = router_new(net, "home");
	struct host *h = host_new(net, "bob", 0, 0, 0);
	struct ip6_addr lan = addr6("2001:db8:1::1"), bob = addr6("2001:db8:1::7");
	struct iface *ifc;
	struct packet_owners *o;
	size_t nodes = 0;

	(void)state;
	assert_int_equal(trace_log_attach(log, net_trace(net)), 0);
	ifc = router_add_iface(r, "lan", IP4(192, 168, 1, 1), 24);
	assert_int_equal(iface_set_addr6(ifc, &lan, 64), 0);
	assert_int_equal(host_set_address6(h, &bob, 64), 0);
	net_announce(net);
	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_node *n = &trace_log_get(log, i)->u.node;
		if (trace_log_get(log, i)->kind != TRACE_NODE)
			continue;
		nodes++;
		assert_non_null(n->v6);
		assert_true(ip6_equal(&n->v6->addrs[0], strcmp(n->name, "bob") == 0 ? &bob : &lan));
		assert_int_equal(n->v6->prefix_lens[0], 64);
	}
	assert_int_equal(nodes, 2);
	o = packet_owners_of_log(log);
	assert_string_equal(packet_owners_find6(o, &bob), "bob");
	packet_owners_free(o);
	trace_log_free(log);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ladder_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ladder_rewrite_across_families, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ladder_pair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ladder_width, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_why, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_conntrack_and_bindings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_jsonl_translate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pcap_across_families, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dot_topology, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owners6, setup, teardown),
	    cmocka_unit_test(test_announced_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
