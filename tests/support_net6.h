/*
 * support_net6.h - the dual-stack world test_router6 and test_host6 share
 * (docs/ipv6.md step 2), and what their sockets saw. Model layer only.
 * Include after <cmocka.h>.
 *
 *   a1 2001:db8:1::5, 10.0.1.5 ---+
 *                                 +-- lan [r1] core -- core [r2] lan -- srv
 *   a2 2001:db8:1::6, 10.0.1.6 ---+   2001:db8:ff::1/::2      2001:db8:2::9
 *
 * r1: lan 2001:db8:1::1/64 10.0.1.1/24, core 2001:db8:ff::1/64 10.0.255.1/24;
 *     2001:db8:2::/48 via 2001:db8:ff::2 (r2), and the wider 2001:db8::/32
 *     via 2001:db8:ff::99, which nobody holds; no default route.
 * r2: core 2001:db8:ff::2/64 10.0.255.2/24, lan 2001:db8:2::1/64 10.0.2.1/24;
 *     default route via 2001:db8:ff::1 (r1).
 * Hosts' IPv6 gateways are their router's lan address; IPv4 too.
 */
#ifndef NATSIM_TESTS_SUPPORT_NET6_H
#define NATSIM_TESTS_SUPPORT_NET6_H

#include "model/host.h"
#include "model/router.h"
#include "tests/support_net.h"

/* 2001:db8:<net>::<last> */
#define T6(net, last)                                                                              \
	((struct ip6_addr){{0x20, 0x01, 0x0d, 0xb8, 0, net, 0, 0, 0, 0, 0, 0, 0, 0, 0, last}})

struct world6 {
	struct net *net;
	struct trace_log *log;
	struct router *r1, *r2;
	struct host *a1, *a2, *srv;
	struct link *lan;
};

/* What an IPv6 socket received and the errors it was told. */
struct inbox6 {
	size_t n, n_errors;
	struct endpoint6 from, to;
	char last[64];
	struct host_icmp6_error err;
};

static inline void inbox6_recv(struct host_socket *s, const struct endpoint6 *from,
			       const struct endpoint6 *to, const uint8_t *payload, size_t len,
			       void *ctx)
{
	struct inbox6 *box = ctx;

	(void)s;
	box->n++;
	box->from = *from;
	box->to = *to;
	snprintf(box->last, sizeof(box->last), "%.*s", (int)len, (const char *)payload);
}

static inline void inbox6_error(struct host_socket *s, const struct host_icmp6_error *err,
				void *ctx)
{
	struct inbox6 *box = ctx;

	(void)s;
	box->n_errors++;
	box->err = *err;
}

static inline struct host *world6_host(struct world6 *w, const char *name, uint32_t v4,
				       uint32_t gw4, struct ip6_addr v6, struct ip6_addr gw6)
{
	struct host *h = host_new(w->net, name, v4, 24, gw4);

	assert_non_null(h);
	assert_int_equal(host_set_address6(h, &v6, 64), 0);
	host_set_gateway6(h, &gw6);
	return h;
}

static inline struct iface *world6_iface(struct router *r, const char *name, uint32_t v4,
					 struct ip6_addr v6)
{
	struct iface *ifc = router_add_iface(r, name, v4, 24);

	assert_non_null(ifc);
	assert_int_equal(iface_set_addr6(ifc, &v6, 64), 0);
	return ifc;
}

static inline void world6_routes(struct world6 *w, struct iface *r1core, struct iface *r2core)
{
	struct ip6_addr p48 = T6(2, 0), p32 = T6(0, 0), any = {{0}};

	assert_int_equal(router_add_route6(w->r1, &p48, 48, r1core, &T6(0xff, 2)), 0);
	assert_int_equal(router_add_route6(w->r1, &p32, 32, r1core, &T6(0xff, 0x99)), 0);
	assert_int_equal(router_add_route6(w->r2, &any, 0, r2core, &T6(0xff, 1)), 0);
	assert_int_equal(router_add_route(w->r1, IP4(10, 0, 2, 0), 24, r1core, IP4(10, 0, 255, 2)),
			 0);
	assert_int_equal(router_add_route(w->r2, 0, 0, r2core, IP4(10, 0, 255, 1)), 0);
}

static inline int world6_open(struct world6 *w, uint64_t seed)
{
	if (test_net_open(&w->net, &w->log, seed) < 0)
		return -1;
	explain_attach(net_trace(w->net));
	w->r1 = router_new(w->net, "r1");
	w->r2 = router_new(w->net, "r2");
	assert_non_null(w->r1);
	assert_non_null(w->r2);
	struct iface *r1lan = world6_iface(w->r1, "lan", IP4(10, 0, 1, 1), T6(1, 1));
	struct iface *r1core = world6_iface(w->r1, "core", IP4(10, 0, 255, 1), T6(0xff, 1));
	struct iface *r2core = world6_iface(w->r2, "core", IP4(10, 0, 255, 2), T6(0xff, 2));
	struct iface *r2lan = world6_iface(w->r2, "lan", IP4(10, 0, 2, 1), T6(2, 1));

	w->a1 = world6_host(w, "a1", IP4(10, 0, 1, 5), IP4(10, 0, 1, 1), T6(1, 5), T6(1, 1));
	w->a2 = world6_host(w, "a2", IP4(10, 0, 1, 6), IP4(10, 0, 1, 1), T6(1, 6), T6(1, 1));
	w->srv = world6_host(w, "srv", IP4(10, 0, 2, 9), IP4(10, 0, 2, 1), T6(2, 9), T6(2, 1));
	test_wire(w->net, "lan", r1lan, host_iface(w->a1));
	w->lan = net_find_link(w->net, "lan");
	assert_int_equal(link_attach(w->lan, host_iface(w->a2)), 0);
	test_wire(w->net, "core", r1core, r2core);
	test_wire(w->net, "srvlan", r2lan, host_iface(w->srv));
	world6_routes(w, r1core, r2core);
	return 0;
}

static inline void world6_close(struct world6 *w)
{
	test_net_close(w->net, w->log);
}

/* The first record of packet `id` at `hop`, or NULL. */
static inline const struct trace_packet *world6_hop(const struct world6 *w, uint64_t id,
						    enum trace_hop hop)
{
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);

		if (r->kind == TRACE_PACKET && r->u.packet.packet_id == id &&
		    r->u.packet.hop == hop)
			return &r->u.packet;
	}
	return NULL;
}

/* The drop of `id` at `node` with path `cause`: its facts. */
static inline const struct node_path_facts *
world6_path_drop(const struct world6 *w, uint64_t id, const char *node, enum node_path_cause cause)
{
	const struct trace_packet *d = world6_hop(w, id, TRACE_HOP_DROP);
	const struct node_path_facts *f;

	assert_non_null(d);
	assert_string_equal(d->node, node);
	assert_int_equal(d->verdict.kind, NODE_VERDICT_PATH);
	f = d->verdict.facts;
	assert_int_equal(f->cause, cause);
	return f;
}

#endif
