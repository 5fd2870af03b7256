/*
 * test_router.c - forwarding (longest prefix, TTL, no route, FORWARD chain)
 * and NAT on a router: translation both ways, filtering, the conntrack line,
 * hairpinning on and off, and NAT nested in NAT (CGNAT).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/host.h"
#include "model/router.h"
#include "sim/trace_log.h"
#include "tests/support_net.h"

struct world {
	struct net *net;
	struct trace_log *log;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));

	if (w == NULL || test_net_open(&w->net, &w->log, 5) < 0)
		return -1;
	explain_attach(net_trace(w->net));
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	test_net_close(w->net, w->log);
	free(w);
	return 0;
}

static size_t count_hops(const struct trace_log *log, uint64_t id, enum trace_hop hop)
{
	size_t n = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		n += r->kind == TRACE_PACKET && r->u.packet.packet_id == id &&
		     r->u.packet.hop == hop;
	}
	return n;
}

/* ---- forwarding ---------------------------------------------------------- */

/* r: a 10.0.0.1/24 (host h 10.0.0.5), b 10.0.1.1/24 (host g1 10.0.1.2),
 * c 10.0.2.1/24 (host g2 10.0.2.2). g1 and g2 stand in for next routers: a
 * packet that reaches one is dropped there as not addressed to it, which
 * shows where the router sent it. */
struct fwd_world {
	struct router *r;
	struct host *h, *g1, *g2;
	struct iface *a, *b, *c;
	struct host_socket *s;
};

static void build_fwd(struct world *w, struct fwd_world *f)
{
	f->r = router_new(w->net, "r");
	f->a = router_add_iface(f->r, "a", IP4(10, 0, 0, 1), 24);
	f->b = router_add_iface(f->r, "b", IP4(10, 0, 1, 1), 24);
	f->c = router_add_iface(f->r, "c", IP4(10, 0, 2, 1), 24);
	f->h = host_new(w->net, "h", IP4(10, 0, 0, 5), 24, IP4(10, 0, 0, 1));
	f->g1 = host_new(w->net, "g1", IP4(10, 0, 1, 2), 24, 0);
	f->g2 = host_new(w->net, "g2", IP4(10, 0, 2, 2), 24, 0);
	test_wire(w->net, "la", f->a, host_iface(f->h));
	test_wire(w->net, "lb", f->b, host_iface(f->g1));
	test_wire(w->net, "lc", f->c, host_iface(f->g2));
	f->s = host_udp_bind(f->h, 4000, NULL, NULL);
	assert_non_null(f->s);
}

/* Send one datagram, run 10 ms; returns its packet id. */
static uint64_t send_to(struct world *w, struct host_socket *s, uint32_t ip, uint16_t port)
{
	struct endpoint to = {ip, port};
	uint64_t id = host_udp_sendto(s, &to, "x", 1);

	assert_int_not_equal(id, 0);
	test_run_ms(w->net, 10);
	return id;
}

static void test_longest_prefix(void **state)
{
	struct world *w = *state;
	struct fwd_world f;

	build_fwd(w, &f);
	/* Added shortest-last and longest-middle: order of addition must not matter. */
	assert_int_equal(router_add_route(f.r, IP4(198, 51, 100, 0), 24, f.b, IP4(10, 0, 1, 2)), 0);
	assert_int_equal(router_add_route(f.r, IP4(198, 51, 100, 128), 25, f.c, IP4(10, 0, 2, 2)),
			 0);
	assert_int_equal(router_add_route(f.r, 0, 0, f.b, IP4(10, 0, 1, 2)), 0);
	assert_int_equal(router_add_route(f.r, 0, 33, f.b, 0), -1);

	/* Where each datagram ended (g1 and g2 then answer with ICMP errors
	 * they have no route back for: those drops come after). */
	uint64_t id = send_to(w, f.s, IP4(198, 51, 100, 200), 53); /* the /25 */

	assert_string_equal(test_drop_of(w->log, id)->node, "g2");
	id = send_to(w, f.s, IP4(198, 51, 100, 5), 53); /* only the /24 */
	assert_string_equal(test_drop_of(w->log, id)->node, "g1");
	id = send_to(w, f.s, IP4(8, 8, 8, 8), 53); /* the default */
	assert_string_equal(test_drop_of(w->log, id)->node, "g1");
	id = send_to(w, f.s, IP4(10, 0, 2, 2), 53); /* connected, to the host itself */
	assert_string_equal(test_drop_of(w->log, id)->node, "g2");
	assert_int_equal(test_drop_of(w->log, id)->reason, TRACE_DROP_NO_SOCKET);
}

static void test_ttl_expiry(void **state)
{
	struct world *w = *state;
	struct fwd_world f;
	struct endpoint s = {IP4(10, 0, 0, 5), 4000}, d = {IP4(10, 0, 1, 2), 53};
	uint8_t buf[64];
	size_t len;

	build_fwd(w, &f);
	len = packet_build_udp(buf, sizeof(buf), &s, &d, 1, 0, "x", 1);
	assert_int_not_equal(host_send_raw(f.h, buf, len), 0);
	test_run_ms(w->net, 10);
	const struct trace_packet *drop = test_last_drop(w->log);

	assert_non_null(drop);
	assert_int_equal(drop->reason, TRACE_DROP_TTL);
	assert_string_equal(drop->node, "r");
	assert_string_equal(drop->why,
			    "TTL expired at r: 10.0.0.5:4000 → 10.0.1.2:53 arrived with TTL "
			    "1, and a router may not forward a packet whose TTL would reach 0; "
			    "answered with time exceeded (#2)");
	assert_null(drop->why_after_node); /* "TTL expired at r": r is not the subject */

	/* With TTL 2 it gets through, and leaves with TTL 1. */
	len = packet_build_udp(buf, sizeof(buf), &s, &d, 2, 0, "x", 1);
	uint64_t id = host_send_raw(f.h, buf, len);

	test_run_ms(w->net, 10);
	drop = test_drop_of(w->log, id);
	assert_non_null(drop);
	assert_string_equal(drop->node, "g1");
	struct packet_info info;

	assert_int_equal(packet_parse(drop->bytes, drop->len, &info, NULL, 0), PACKET_OK);
	assert_int_equal(info.ttl, 1);
}

static void test_no_route(void **state)
{
	struct world *w = *state;
	struct fwd_world f;

	build_fwd(w, &f);
	send_to(w, f.s, IP4(8, 8, 8, 8), 53);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->reason, TRACE_DROP_NO_ROUTE);
	assert_string_equal(d->node, "r");
	assert_string_equal(d->why, "r dropped 10.0.0.5:4000 → 8.8.8.8:53: no route to 8.8.8.8 (no "
				    "entry in its table matches, and it has no default route); "
				    "answered with network unreachable (#2)");

	/* The router's own address is no service. */
	send_to(w, f.s, IP4(10, 0, 1, 1), 53);
	d = test_last_drop(w->log);
	assert_int_equal(d->reason, TRACE_DROP_NOT_FOR_US);
	assert_string_equal(d->why, "r dropped 10.0.0.5:4000 → 10.0.1.1:53: 10.0.1.1 is r's own "
				    "address, and routers do not run services here");
}

static void test_forward_firewall(void **state)
{
	struct world *w = *state;
	struct fwd_world f;
	struct fw_rule rule = {.chain = FW_CHAIN_FORWARD,
			       .proto = IPPROTO_NUM_UDP,
			       .dport_lo = 53,
			       .dport_hi = 53,
			       .action = FW_DROP};

	build_fwd(w, &f);
	assert_int_equal(firewall_append(router_firewall(f.r), &rule), 0);
	send_to(w, f.s, IP4(10, 0, 1, 2), 53);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->reason, TRACE_DROP_FIREWALL);
	assert_string_equal(d->node, "r");
	assert_string_equal(d->why,
			    "r's firewall dropped 10.0.0.5:4000 → 10.0.1.2:53: rule FORWARD #1 "
			    "(-p udp --dport 53 -j DROP) dropped it");
	assert_string_equal(d->rule, "FORWARD #1");
	uint64_t id = send_to(w, f.s, IP4(10, 0, 1, 2), 54); /* another port passes */

	assert_string_equal(test_drop_of(w->log, id)->node, "g1");
	assert_int_equal(test_drop_of(w->log, id)->reason, TRACE_DROP_NO_SOCKET);
}

/* ---- NAT ----------------------------------------------------------------- */

/* alice 192.168.1.5 (and carol .6) -- lan [home NAT] wan 203.0.113.7 --
 * 203.0.113.1 [isp] 192.0.2.254 -- server 192.0.2.1 */
struct nat_world {
	struct router *home, *isp;
	struct host *alice, *carol, *server;
	struct host_socket *a, *c, *srv, *srv2;
	struct test_inbox a_box, c_box, s_box, s2_box;
};

static void build_nat(struct world *w, struct nat_world *n, bool hairpinning)
{
	struct nat_config nc;

	n->home = router_new(w->net, "home");
	n->isp = router_new(w->net, "isp");
	struct iface *lan = router_add_iface(n->home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(n->home, "wan", IP4(203, 0, 113, 7), 24);
	struct iface *up = router_add_iface(n->isp, "home", IP4(203, 0, 113, 1), 24);
	struct iface *dc = router_add_iface(n->isp, "dc", IP4(192, 0, 2, 254), 24);

	n->alice = host_new(w->net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	n->carol = host_new(w->net, "carol", IP4(192, 168, 1, 6), 24, IP4(192, 168, 1, 1));
	n->server = host_new(w->net, "server", IP4(192, 0, 2, 1), 24, IP4(192, 0, 2, 254));
	struct link_config cfg;
	struct link *l;

	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	l = link_new(w->net, "home-lan", &cfg);
	link_attach(l, lan);
	link_attach(l, host_iface(n->alice));
	link_attach(l, host_iface(n->carol));
	test_wire(w->net, "home-isp", wan, up);
	test_wire(w->net, "isp-dc", dc, host_iface(n->server));
	assert_int_equal(router_add_route(n->home, 0, 0, wan, IP4(203, 0, 113, 1)), 0);
	nat_config_default(&nc);
	assert_int_equal(nat_config_preset(&nc, "port-restricted-cone"), 0);
	nc.hairpinning = hairpinning;
	assert_non_null(router_enable_nat(n->home, wan, &nc));
	assert_ptr_equal(router_nat_outside(n->home), wan);
	n->a = host_udp_bind(n->alice, 5000, test_inbox_recv, &n->a_box);
	n->c = host_udp_bind(n->carol, 5000, test_inbox_recv, &n->c_box);
	n->srv = host_udp_bind(n->server, 3478, test_inbox_recv, &n->s_box);
	n->srv2 = host_udp_bind(n->server, 3479, test_inbox_recv, &n->s2_box);
}

static void udp(struct world *w, struct host_socket *s, const struct endpoint *to, const char *m)
{
	assert_int_not_equal(host_udp_sendto(s, to, m, strlen(m)), 0);
	test_run_ms(w->net, 20);
}

static bool print_entry(const struct conntrack_entry *e, void *ctx)
{
	struct world *w = ((void **)ctx)[0];
	struct conntrack *ct = ((void **)ctx)[1];
	char *out = ((void **)ctx)[2];
	struct trace_conntrack rec;

	conntrack_entry_record(ct, e, &rec);
	conntrack_format_record(&rec, engine_now(net_engine(w->net)), out, 256);
	return false; /* the first one */
}

static void test_nat_round_trip(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478};

	build_nat(w, &n, false);
	udp(w, n.a, &srv, "binding request");
	/* The server sees the NAT's public address, not alice's. */
	assert_int_equal(n.s_box.n, 1);
	assert_int_equal(n.s_box.from.ip, IP4(203, 0, 113, 7));
	assert_int_equal(n.s_box.from.port, 5000); /* port preserved */
	/* The reply finds its way back through the mapping. */
	udp(w, n.srv, &n.s_box.from, "binding response");
	assert_int_equal(n.a_box.n, 1);
	assert_string_equal(n.a_box.last, "binding response");
	assert_int_equal(n.a_box.from.ip, srv.ip);
	assert_int_equal(n.a_box.from.port, 3478);

	/* The router's flow table reads like Linux masquerade. The reply
	 * passed home 22 ms after the request (under 2 s), so the flow is
	 * replied but not assured, and its 30 s timeout restarted then, 18 ms
	 * ago: 29.982 s left, which conntrack rounds up to 30. */
	char line[256] = "";
	void *ctx[3] = {w, router_conntrack(n.home), line};

	assert_int_equal(conntrack_count(router_conntrack(n.home)), 1);
	conntrack_foreach(router_conntrack(n.home), print_entry, ctx);
	assert_string_equal(line,
			    "udp      17 30 src=192.168.1.5 dst=192.0.2.1 sport=5000 dport=3478 "
			    "src=192.0.2.1 dst=203.0.113.7 sport=3478 dport=5000 mark=0 use=1");
	/* The core router does not track. */
	assert_int_equal(conntrack_count(router_conntrack(n.isp)), 0);

	/* Unsolicited: the same server from another port is refused by the
	 * port-restricted filter. */
	udp(w, n.srv2, &n.s_box.from, "hello?");
	assert_int_equal(n.a_box.n, 1);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->reason, TRACE_DROP_NAT_FILTER);
	assert_string_equal(d->node, "home");
	assert_string_equal(d->why,
			    "home dropped 192.0.2.1:3479 → 203.0.113.7:5000: its mapping for "
			    "192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, the one "
			    "endpoint it has sent to (address-and-port-dependent filtering)");
}

static void test_nat_translate_record(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478};
	struct packet_info before, after;

	build_nat(w, &n, false);
	uint64_t id = host_udp_sendto(n.a, &srv, "x", 1);

	test_run_ms(w->net, 20);
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind != TRACE_PACKET || r->u.packet.hop != TRACE_HOP_TRANSLATE)
			continue;
		assert_int_equal(r->u.packet.packet_id, id);
		assert_string_equal(r->u.packet.node, "home");
		assert_string_equal(r->u.packet.iface, "wan");
		assert_int_equal(
		    packet_parse(r->u.packet.before, r->u.packet.before_len, &before, NULL, 0),
		    PACKET_OK);
		assert_int_equal(packet_parse(r->u.packet.bytes, r->u.packet.len, &after, NULL, 0),
				 PACKET_OK);
		assert_int_equal(before.src, IP4(192, 168, 1, 5));
		assert_int_equal(after.src, IP4(203, 0, 113, 7));
		assert_int_equal(r->u.packet.map_internal.ip, IP4(192, 168, 1, 5));
		assert_int_equal(r->u.packet.map_external.ip, IP4(203, 0, 113, 7));
		assert_int_equal(r->u.packet.map_external.port, 5000);
	}
	assert_int_equal(count_hops(w->log, id, TRACE_HOP_TRANSLATE), 1);
	assert_int_equal(count_hops(w->log, id, TRACE_HOP_DELIVER), 1);
}

static void test_hairpin_on(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478};

	build_nat(w, &n, true);
	udp(w, n.a, &srv, "who am i");
	struct endpoint alice_pub = n.s_box.from;

	udp(w, n.c, &srv, "who am i");
	struct endpoint carol_pub = n.s_box.from;

	assert_int_equal(carol_pub.ip, IP4(203, 0, 113, 7));
	assert_int_not_equal(carol_pub.port, alice_pub.port);

	/* Carol punches first: her packet opens her mapping to alice's public
	 * endpoint, but alice's mapping has only sent to the server. */
	udp(w, n.c, &alice_pub, "punch");
	assert_int_equal(n.a_box.n, 0);
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NAT_FILTER);
	/* Now alice's packet is a reply as far as carol's mapping is concerned. */
	udp(w, n.a, &carol_pub, "hi carol");
	assert_int_equal(n.c_box.n, 1);
	assert_string_equal(n.c_box.last, "hi carol");
	assert_int_equal(n.c_box.from.ip, alice_pub.ip); /* seen as from outside */
	assert_int_equal(n.c_box.from.port, alice_pub.port);
	udp(w, n.c, &alice_pub, "hi alice");
	assert_int_equal(n.a_box.n, 1);
	assert_int_equal(n.a_box.from.port, carol_pub.port);
}

static void test_hairpin_off(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478};

	build_nat(w, &n, false);
	udp(w, n.a, &srv, "who am i");
	udp(w, n.c, &srv, "who am i");
	struct endpoint carol_pub = n.s_box.from;

	udp(w, n.a, &carol_pub, "hi carol");
	assert_int_equal(n.c_box.n, 0);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->reason, TRACE_DROP_HAIRPIN);
	assert_string_equal(d->node, "home");
	char want[256];

	snprintf(want, sizeof(want),
		 "home does not hairpin: 192.168.1.5:5000 sent to its own public address "
		 "203.0.113.7:%u, which this NAT only translates for packets arriving from outside",
		 carol_pub.port);
	assert_string_equal(d->why, want);
}

/* Check TRACE_NODE's `behind` in the CGNAT world; returns the nodes seen. */
static size_t check_behind(const struct trace_log *log)
{
	size_t seen = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);
		const char *want = NULL;

		if (r->kind != TRACE_NODE)
			continue;
		if (strcmp(r->u.node.name, "home") == 0)
			want = "carrier"; /* double NAT */
		else if (strcmp(r->u.node.name, "alice") == 0)
			want = "home";
		if (want != NULL) {
			assert_non_null(r->u.node.behind);
			assert_string_equal(r->u.node.behind, want);
		} else {
			assert_null(r->u.node.behind);
		}
		seen++;
	}
	return seen;
}

/* alice 192.168.1.5 -- [home NAT] wan 100.64.0.2/10 -- 100.64.0.1/10 [carrier
 * NAT] 198.51.100.1/24 -- server 198.51.100.9 */
static void test_cgnat(void **state)
{
	struct world *w = *state;
	struct nat_config nc;
	struct test_inbox a_box = {0}, s_box = {0};

	struct router *home = router_new(w->net, "home");
	struct router *carrier = router_new(w->net, "carrier");
	struct iface *lan = router_add_iface(home, "lan", IP4(192, 168, 1, 1), 24);
	struct iface *wan = router_add_iface(home, "wan", IP4(100, 64, 0, 2), 10);
	struct iface *inside = router_add_iface(carrier, "inside", IP4(100, 64, 0, 1), 10);
	struct iface *outside = router_add_iface(carrier, "outside", IP4(198, 51, 100, 1), 24);
	struct host *alice =
	    host_new(w->net, "alice", IP4(192, 168, 1, 5), 24, IP4(192, 168, 1, 1));
	struct host *server = host_new(w->net, "server", IP4(198, 51, 100, 9), 24, 0);

	test_wire(w->net, "home-lan", lan, host_iface(alice));
	test_wire(w->net, "access", wan, inside);
	test_wire(w->net, "internet", outside, host_iface(server));
	assert_int_equal(router_add_route(home, 0, 0, wan, IP4(100, 64, 0, 1)), 0);
	nat_config_default(&nc);
	assert_non_null(router_enable_nat(home, wan, &nc));
	assert_non_null(router_enable_nat(carrier, outside, &nc));

	struct host_socket *a = host_udp_bind(alice, 5000, test_inbox_recv, &a_box);
	struct host_socket *s = host_udp_bind(server, 3478, test_inbox_recv, &s_box);
	struct endpoint srv = {IP4(198, 51, 100, 9), 3478};
	uint64_t id = host_udp_sendto(a, &srv, "x", 1);

	test_run_ms(w->net, 20);
	assert_int_equal(s_box.n, 1);
	assert_int_equal(s_box.from.ip, IP4(198, 51, 100, 1)); /* the carrier's address */
	assert_int_equal(count_hops(w->log, id, TRACE_HOP_TRANSLATE), 2);
	assert_int_equal(nat_mapping_count(router_nat(home)), 1);
	assert_int_equal(nat_mapping_count(router_nat(carrier)), 1);
	/* The carrier's mapping is for home's outside address. */
	struct endpoint ext = s_box.from;
	const struct nat_mapping *m =
	    nat_mapping_by_external(router_nat(carrier), IPPROTO_NUM_UDP, &ext);

	assert_non_null(m);
	assert_int_equal(m->internal.ip, IP4(100, 64, 0, 2));

	id = host_udp_sendto(s, &s_box.from, "y", 1);
	test_run_ms(w->net, 20);
	assert_int_equal(a_box.n, 1);
	assert_int_equal(a_box.from.ip, srv.ip);
	assert_int_equal(count_hops(w->log, id, TRACE_HOP_TRANSLATE), 2);

	/* The topology knows who sits behind whom. */
	net_announce(w->net);
	assert_int_equal(check_behind(w->log), 4);
}

/* ---- the mapping view and the conntrack view agree (issue 12 item 2) ------ */

struct agree {
	struct world *w;
	struct router *r;
	const struct nat_mapping *m; /* the mapping being checked, or NULL */
	bool found_refresher;	     /* an entry with the mapping's deadline */
	const struct endpoint *remote;
	bool found_remote;
};

/* Which mapping (by external endpoint) translated this entry, and for which
 * remote: source NAT (left from inside) or destination NAT (came in). */
static bool entry_binding(struct router *r, const struct conntrack_entry *e, struct endpoint *ext,
			  struct endpoint *in, struct endpoint *remote)
{
	struct nat *nat = router_nat(r);

	if (nat_owns_address(nat, e->reply.dst) && !nat_owns_address(nat, e->orig.src)) {
		*ext = (struct endpoint){e->reply.dst, e->reply.dport};
		*in = (struct endpoint){e->orig.src, e->orig.sport};
		*remote = (struct endpoint){e->orig.dst, e->orig.dport};
		return true;
	}
	if (nat_owns_address(nat, e->orig.dst) && !nat_owns_address(nat, e->reply.src)) {
		*ext = (struct endpoint){e->orig.dst, e->orig.dport};
		*in = (struct endpoint){e->reply.src, e->reply.sport};
		*remote = (struct endpoint){e->reply.dst, e->reply.dport};
		return true;
	}
	return false;
}

/* Every translated flow has its live mapping and does not outlive it. */
static bool entry_has_mapping(const struct conntrack_entry *e, void *ctx)
{
	struct agree *a = ctx;
	struct endpoint ext, in, remote;

	if (!entry_binding(a->r, e, &ext, &in, &remote))
		return true;
	const struct nat_mapping *m =
	    nat_mapping_by_external(router_nat(a->r), e->orig.proto, &ext);
	assert_non_null(m);
	assert_int_equal(m->internal.ip, in.ip);
	assert_int_equal(m->internal.port, in.port);
	if (!m->is_static)
		assert_true(e->expires_at <= m->expires_at);
	return true;
}

/* Entries of mapping a->m: the one that last refreshed it, and the one for
 * a->remote. */
static bool entry_of_mapping(const struct conntrack_entry *e, void *ctx)
{
	struct agree *a = ctx;
	struct endpoint ext, in, remote;

	if (!entry_binding(a->r, e, &ext, &in, &remote) || ext.ip != a->m->external.ip ||
	    ext.port != a->m->external.port)
		return true;
	a->found_refresher |= e->expires_at == a->m->expires_at;
	a->found_remote |=
	    a->remote != NULL && remote.ip == a->remote->ip && remote.port == a->remote->port;
	return true;
}

/* Every dynamic mapping lives exactly as long as its longest-lived flow, and
 * every remote it admits (its filtering state) has a live flow. */
static bool mapping_has_flows(const struct nat_mapping *m, void *ctx)
{
	struct agree *a = ctx;
	struct conntrack *ct = router_conntrack(a->r);

	if (m->is_static)
		return true;
	a->m = m;
	a->remote = NULL;
	a->found_refresher = false;
	conntrack_foreach(ct, entry_of_mapping, a);
	assert_true(a->found_refresher);
	for (size_t i = 0; i < m->n_remotes; i++) {
		a->remote = &m->remotes[i];
		a->found_remote = false;
		conntrack_foreach(ct, entry_of_mapping, a);
		assert_true(a->found_remote);
	}
	return true;
}

static void assert_views_agree(struct world *w, struct router *r)
{
	struct agree a = {.w = w, .r = r};

	conntrack_foreach(router_conntrack(r), entry_has_mapping, &a);
	nat_foreach_mapping(router_nat(r), mapping_has_flows, &a);
}

/* Advance to `until_ms` in 250 ms steps, checking the views at each. */
static void run_agreeing(struct world *w, struct router *r, int64_t until_ms)
{
	struct engine *e = net_engine(w->net);

	while (engine_now(e) < SIM_MS(until_ms)) {
		engine_run_until(e, engine_now(e) + SIM_MS(250));
		assert_views_agree(w, r);
	}
}

/* A 20 s NAT timeout (the case): a replied, assured flow would get
 * Linux's 120 s stream timeout, but it is the NAT binding, so it dies with
 * its mapping; a flow ends when its mapping lives on for another flow, and
 * then its remote may no longer come in. At no instant do the views
 * disagree. */
static void test_nat_and_conntrack_agree(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478}, srv2 = {IP4(192, 0, 2, 1), 3479};
	struct nat *nat;

	build_nat(w, &n, false);
	nat = router_nat(n.home);
	struct nat_config cfg = *nat_config(nat);
	cfg.mapping_timeout = SIM_S(20);
	assert_int_equal(nat_reconfigure(nat, &cfg), 0);
	struct endpoint ext = {IP4(203, 0, 113, 7), 5000};

	udp(w, n.a, &srv, "one");	 /* t = 0: mapping and flow 1, 20 s */
	udp(w, n.srv, &ext, "one back"); /* replied */
	run_agreeing(w, n.home, 3000);
	udp(w, n.a, &srv, "two");	 /* t = 3 s: both pushed to 23 s */
	udp(w, n.srv, &ext, "two back"); /* a stream now: [ASSURED] */
	run_agreeing(w, n.home, 10000);
	udp(w, n.a, &srv2, "other"); /* t = 10 s: flow 2, mapping to 30 s */
	assert_int_equal(conntrack_count(router_conntrack(n.home)), 2);
	run_agreeing(w, n.home, 24000);
	/* Flow 1 died at 23 s with the mapping alive: its remote is gone. */
	assert_int_equal(conntrack_count(router_conntrack(n.home)), 1);
	assert_int_equal(nat_mapping_count(nat), 1);
	size_t got = n.a_box.n;
	udp(w, n.srv, &ext, "late");
	assert_int_equal(n.a_box.n, got);
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NAT_FILTER);
	udp(w, n.srv2, &ext, "still in"); /* flow 2 lives, inbound refreshes nothing */
	assert_int_equal(n.a_box.n, got + 1);
	run_agreeing(w, n.home, 31000);
	/* 25 s and later: no mapping, no entry, and the old reply is refused. */
	assert_int_equal(nat_mapping_count(nat), 0);
	assert_int_equal(conntrack_count(router_conntrack(n.home)), 0);
	udp(w, n.srv2, &ext, "gone");
	assert_int_equal(n.a_box.n, got + 1);
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NAT_NO_MAPPING);
	assert_views_agree(w, n.home);
}

/* ---- the router's own INPUT path (issue 12 item 6) ------------------------ */

/* The server's endpoint at alice's side of the NAT, and alice's mapping's
 * external port for it. */
static uint16_t mapped_port_for(struct world *w, struct nat_world *n, const struct endpoint *to)
{
	size_t before = n->s_box.n + n->s2_box.n;
	udp(w, n->a, to, "out");
	assert_int_equal(n->s_box.n + n->s2_box.n, before + 1);
	return (to->port == 3478 ? n->s_box.from : n->s2_box.from).port;
}

/* A home router (input drop, the default) refuses an unsolicited packet, and
 * alice's later flow to its sender keeps her port. A bare Linux box (input
 * accept) takes it into its own stack: conntrack tracks the flow, the stack
 * answers port unreachable (a no-socket verdict, nothing sent), and alice's
 * flow to that sender clashes with the entry and gets another port
 * (nf_nat_core.c get_unique_tuple) - whether her mapping is new or already
 * used for another remote. Other remotes keep the mapping's port. */
static void test_input_drop_and_accept(void **state)
{
	(void)state;
	struct world *w;
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478}, srv2 = {IP4(192, 0, 2, 1), 3479};
	struct endpoint pub = {IP4(203, 0, 113, 7), 5000};

	for (int accept = 0; accept <= 1; accept++) {
		for (int warm = 0; warm <= 1; warm++) {
			struct nat_world n = {0};
			void *fresh;
			assert_int_equal(setup(&fresh), 0);
			w = fresh;
			build_nat(w, &n, false);
			assert_int_equal(router_input(n.home), ROUTER_INPUT_DROP);
			if (accept)
				router_set_input(n.home, ROUTER_INPUT_ACCEPT);
			/* warm: alice's mapping already exists, for srv2 */
			if (warm)
				assert_int_equal(mapped_port_for(w, &n, &srv2), 5000);
			udp(w, n.srv, &pub, "probe");
			const struct trace_packet *d = test_last_drop(w->log);
			assert_string_equal(d->node, "home");
			if (!accept) {
				assert_int_equal(d->reason, warm ? TRACE_DROP_NAT_FILTER
								 : TRACE_DROP_NAT_NO_MAPPING);
				assert_int_equal(mapped_port_for(w, &n, &srv), 5000);
				teardown(&fresh);
				continue;
			}
			assert_int_equal(d->reason, TRACE_DROP_NO_SOCKET);
			assert_non_null(strstr(d->why, "port unreachable"));
			struct conntrack_tuple t = {IPPROTO_NUM_UDP, srv.ip, pub.ip, srv.port,
						    pub.port};
			assert_non_null(conntrack_lookup(router_conntrack(n.home), &t, NULL));
			uint16_t port = mapped_port_for(w, &n, &srv);
			assert_int_not_equal(port, 5000);
			assert_views_agree(w, n.home);
			/* The probe's flow stays the router's; the new port is alice's. */
			size_t got = n.a_box.n;
			udp(w, n.srv, &pub, "again");
			assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NO_SOCKET);
			udp(w, n.srv, &(struct endpoint){pub.ip, port}, "reply");
			assert_int_equal(n.a_box.n, got + 1);
			if (warm)
				assert_int_equal(mapped_port_for(w, &n, &srv2), 5000);
			run_agreeing(w, n.home,
				     (engine_now(net_engine(w->net)) / SIM_MS(1)) + 2000);
			teardown(&fresh);
		}
	}
}

/* ---- ICMP through the NAT (RFC 5508) ------------------------------------- */

/* The bytes of packet `id` as they last reached `node` (its drop or
 * delivery record: hosts have no ICMP sockets here), parsed into `info`. */
static size_t bytes_at(const struct trace_log *log, const char *node, uint64_t id, uint8_t *out,
		       struct packet_info *info)
{
	size_t len = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		if (r->kind != TRACE_PACKET || r->u.packet.packet_id != id ||
		    strcmp(r->u.packet.node, node) != 0 || r->u.packet.bytes == NULL)
			continue;
		len = r->u.packet.len;
		memcpy(out, r->u.packet.bytes, len);
	}
	assert_true(len > 0);
	assert_int_equal(packet_parse(out, len, info, NULL, 0), PACKET_OK);
	return len;
}

static size_t count_ct_events(const struct trace_log *log, const char *node, int event)
{
	size_t n = 0;

	for (size_t i = 0; i < trace_log_count(log); i++) {
		const struct trace_record *r = trace_log_get(log, i);

		n += r->kind == TRACE_CONNTRACK && (int)r->u.ct.event == event &&
		     strcmp(r->u.ct.node, node) == 0;
	}
	return n;
}

/* `from` sends an error about the UDP datagram src -> dst (rebuilt, with
 * a good checksum, as it reached `from`) to `to`. Returns its packet id. */
static uint64_t send_error(struct world *w, struct host *from, uint32_t to, uint8_t type,
			   uint8_t code, const struct endpoint *src, const struct endpoint *dst)
{
	uint8_t quoted[64], buf[256];
	size_t qlen = packet_build_udp(quoted, sizeof(quoted), src, dst, 62, 1, "x", 1);
	size_t len = packet_build_icmp_error(buf, sizeof(buf), host_address(from), to, 64, 2, type,
					     code, quoted, qlen);
	uint64_t id = host_send_raw(from, buf, len);

	assert_int_not_equal(id, 0);
	test_run_ms(w->net, 20);
	return id;
}

/* Recompute every sum of an error that quotes a whole UDP datagram. */
static void assert_error_sums(const uint8_t *bytes, size_t len, const struct packet_info *info)
{
	uint8_t copy[PACKET_MAX_SIZE];
	struct packet_info in;

	assert_true(info->inner.ip_sum_ok);
	assert_int_equal(packet_parse(bytes + info->inner.offset, info->inner.len, &in, NULL, 0),
			 PACKET_OK);
	memcpy(copy, bytes, len);
	packet_fill_checksums(copy, len);
	assert_memory_equal(copy, bytes, len);
}

/* The server's port unreachable reaches alice with the outer destination
 * and the quoted source rewritten back, every checksum right; conntrack
 * found it RELATED and left the flow's entry alone. */
static void test_icmp_error_back_through_nat(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478}, alice = {IP4(192, 168, 1, 5), 5000};
	struct packet_info info;
	uint8_t bytes[PACKET_MAX_SIZE];

	build_nat(w, &n, false);
	udp(w, n.a, &srv, "hello");
	const struct conntrack_entry *e = NULL;
	struct conntrack_tuple t = {17, IP4(192, 168, 1, 5), IP4(192, 0, 2, 1), 5000, 3478};
	e = conntrack_lookup(router_conntrack(n.home), &t, NULL);
	assert_non_null(e);
	int64_t expires = e->expires_at;

	uint64_t id = send_error(w, n.server, IP4(203, 0, 113, 7), ICMP_DEST_UNREACH,
				 ICMP_PORT_UNREACH, &n.s_box.from, &srv);
	size_t len = bytes_at(w->log, "alice", id, bytes, &info);
	assert_int_equal(info.dst, alice.ip);
	assert_int_equal(info.src, srv.ip);
	assert_int_equal(info.inner.src, alice.ip);
	assert_int_equal(info.inner.sport, alice.port);
	assert_int_equal(info.inner.dst, srv.ip);
	assert_int_equal(info.inner.dport, srv.port);
	assert_error_sums(bytes, len, &info);
	assert_int_equal(count_ct_events(w->log, "home", TRACE_CT_RELATED), 1);
	assert_int_equal(e->expires_at, expires);
	assert_int_equal(e->packets[CONNTRACK_DIR_REPLY], 0);
	assert_int_equal(conntrack_count(router_conntrack(n.home)), 1);
}

/* An error quoting a port the NAT never used: dropped icmp-no-flow. */
static void test_icmp_error_no_flow_dropped(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478}, stray = {IP4(203, 0, 113, 7), 6000};

	build_nat(w, &n, false);
	udp(w, n.a, &srv, "hello");
	uint64_t id = send_error(w, n.server, IP4(203, 0, 113, 7), ICMP_DEST_UNREACH,
				 ICMP_PORT_UNREACH, &stray, &srv);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->packet_id, id);
	assert_int_equal(d->reason, TRACE_DROP_ICMP_NO_FLOW);
	assert_string_equal(d->node, "home");
	assert_int_equal(count_ct_events(w->log, "home", TRACE_CT_RELATED), 0);
}

/* A ping goes out with its id mapped and comes back; the router's table
 * shows the ICMP entry as conntrack -L does. */
static void test_icmp_echo_through_nat(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct packet_info info;
	uint8_t buf[128], bytes[PACKET_MAX_SIZE];

	build_nat(w, &n, false);
	size_t len =
	    packet_build_icmp_echo(buf, sizeof(buf), IP4(192, 168, 1, 5), IP4(192, 0, 2, 1), 64, 3,
				   ICMP_ECHO_REQUEST, 4242, 1, NULL, 56);
	uint64_t id = host_send_raw(n.alice, buf, len);
	test_run_ms(w->net, 20);
	bytes_at(w->log, "server", id, bytes, &info);
	assert_int_equal(info.src, IP4(203, 0, 113, 7));
	assert_int_equal(info.icmp_id, 4242);
	len = packet_build_icmp_echo(buf, sizeof(buf), IP4(192, 0, 2, 1), IP4(203, 0, 113, 7), 64,
				     4, ICMP_ECHO_REPLY, info.icmp_id, 1, NULL, 56);
	id = host_send_raw(n.server, buf, len);
	test_run_ms(w->net, 20);
	bytes_at(w->log, "alice", id, bytes, &info);
	assert_int_equal(info.dst, IP4(192, 168, 1, 5));
	assert_int_equal(info.icmp_type, ICMP_ECHO_REPLY);
	assert_int_equal(info.icmp_id, 4242);

	char line[256] = "";
	void *ctx[3] = {w, router_conntrack(n.home), line};
	conntrack_foreach(router_conntrack(n.home), print_entry, ctx);
	assert_string_equal(line, "icmp     1 30 src=192.168.1.5 dst=192.0.2.1 type=8 code=0 "
				  "id=4242 src=192.0.2.1 dst=203.0.113.7 type=0 code=0 id=4242 "
				  "mark=0 use=1");
	/* A second reply nobody asked for (another id) is no flow's: dropped. */
	len = packet_build_icmp_echo(buf, sizeof(buf), IP4(192, 0, 2, 1), IP4(203, 0, 113, 7), 64,
				     5, ICMP_ECHO_REPLY, 999, 1, NULL, 8);
	id = host_send_raw(n.server, buf, len);
	test_run_ms(w->net, 20);
	assert_int_equal(test_last_drop(w->log)->packet_id, id);
	assert_int_equal(test_last_drop(w->log)->reason, TRACE_DROP_NAT_NO_MAPPING);
	assert_int_equal(conntrack_count(router_conntrack(n.home)), 1);
}

/* Carol answers alice's hairpinned datagram with port unreachable: the
 * error takes SNAT then DNAT like the datagram, and alice gets it about
 * the packet she sent (to carol's public endpoint). */
static void test_icmp_error_hairpinned(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478}, carol = {IP4(192, 168, 1, 6), 5000};
	struct packet_info info;
	uint8_t bytes[PACKET_MAX_SIZE];

	build_nat(w, &n, true);
	udp(w, n.a, &srv, "who am i");
	struct endpoint alice_pub = n.s_box.from;
	udp(w, n.c, &srv, "who am i");
	struct endpoint carol_pub = n.s_box.from;
	udp(w, n.c, &alice_pub, "punch");
	udp(w, n.a, &carol_pub, "hi carol");
	assert_int_equal(n.c_box.n, 1);

	uint64_t id = send_error(w, n.carol, alice_pub.ip, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
				 &alice_pub, &carol);
	size_t len = bytes_at(w->log, "alice", id, bytes, &info);
	assert_int_equal(info.src, IP4(203, 0, 113, 7));
	assert_int_equal(info.dst, IP4(192, 168, 1, 5));
	assert_int_equal(info.inner.src, IP4(192, 168, 1, 5));
	assert_int_equal(info.inner.sport, 5000);
	assert_int_equal(info.inner.dst, carol_pub.ip);
	assert_int_equal(info.inner.dport, carol_pub.port);
	assert_error_sums(bytes, len, &info);
	assert_int_equal(count_hops(w->log, id, TRACE_HOP_TRANSLATE), 2);
}

/* A NAT that drops errors drops even one about a live flow. */
static void test_icmp_errors_off(void **state)
{
	struct world *w = *state;
	struct nat_world n = {0};
	struct endpoint srv = {IP4(192, 0, 2, 1), 3478};
	struct nat_config nc;

	build_nat(w, &n, false);
	nc = *nat_config(router_nat(n.home));
	nc.icmp_errors = false;
	assert_int_equal(nat_reconfigure(router_nat(n.home), &nc), 0);
	udp(w, n.a, &srv, "hello");
	uint64_t id = send_error(w, n.server, IP4(203, 0, 113, 7), ICMP_DEST_UNREACH,
				 ICMP_PORT_UNREACH, &n.s_box.from, &srv);
	const struct trace_packet *d = test_last_drop(w->log);

	assert_int_equal(d->packet_id, id);
	assert_string_equal(d->node, "home");
	assert_int_equal(d->reason, TRACE_DROP_NAT_FILTER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_longest_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ttl_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_route, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forward_firewall, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nat_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nat_translate_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hairpin_on, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hairpin_off, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cgnat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nat_and_conntrack_agree, setup, teardown),
	    cmocka_unit_test(test_input_drop_and_accept),
	    cmocka_unit_test_setup_teardown(test_icmp_error_back_through_nat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_error_no_flow_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_echo_through_nat, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_error_hairpinned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_icmp_errors_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
