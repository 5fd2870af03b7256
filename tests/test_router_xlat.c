/*
 * test_router_xlat.c - NPTv6 and NAT64 on a router (model/router_xlat.h):
 * a UDP exchange through each, seen by the sockets at both ends and in the
 * trace (the translate hops, NAT64's binding), a refusal of each with
 * its reason and words, and NAT64 bindings (UDP, ICMP, TCP) expiring at
 * exactly their lifetimes.
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
#include "model/router_xlat.h"
#include "sim/engine.h"
#include "sim/trace_log.h"

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

/* What a socket received last. */
struct heard {
	int n;
	char from[ENDPOINT6_TEXT_SIZE];
	struct endpoint from4;
};

static void heard6(struct host_socket *s, const struct endpoint6 *from, const struct endpoint6 *to,
		   const uint8_t *payload, size_t len, void *ctx)
{
	struct heard *h = ctx;
	(void)s, (void)to, (void)payload, (void)len;
	h->n++;
	endpoint6_format(from, h->from, sizeof(h->from));
}

static void heard4(struct host_socket *s, const struct endpoint *from, const struct endpoint *to,
		   const uint8_t *payload, size_t len, void *ctx)
{
	struct heard *h = ctx;
	(void)s, (void)to, (void)payload, (void)len;
	h->n++;
	h->from4 = *from;
}

struct world {
	struct net *net;
	struct trace_log *log;
	struct router *home;
	struct iface *lan, *wan;
	struct link *wan_link;
	struct host *alice, *server;
};

/* alice -- lan -- home -- wan -- server. */
static void build(struct world *w, const char *lan6, const char *alice6, uint32_t wan4)
{
	struct link_config cfg;

	w->net = net_new(1);
	w->log = trace_log_new();
	assert_int_equal(trace_log_attach(w->log, net_trace(w->net)), 0);
	explain_attach(net_trace(w->net));
	link_config_default(&cfg);
	cfg.latency = SIM_MS(1);
	struct link *lan = link_new(w->net, "lan", &cfg), *wan = link_new(w->net, "wan", &cfg);
	w->wan_link = wan;
	w->home = router_new(w->net, "home");
	w->lan = router_add_iface(w->home, "lan", 0, 0);
	w->wan = router_add_iface(w->home, "wan", wan4, wan4 ? 24 : 0);
	struct ip6_addr l = addr(lan6), a = addr(alice6);
	assert_int_equal(iface_set_addr6(w->lan, &l, 64), 0);
	assert_int_equal(link_attach(lan, w->lan), 0);
	assert_int_equal(link_attach(wan, w->wan), 0);
	w->alice = host_new(w->net, "alice", 0, 0, 0);
	assert_int_equal(host_set_address6(w->alice, &a, 64), 0);
	host_set_gateway6(w->alice, &l);
	assert_int_equal(link_attach(lan, host_iface(w->alice)), 0);
}

static void world_free(struct world *w)
{
	net_free(w->net);
	trace_log_free(w->log);
}

/* The first record of `kind` (and hop, for packets) on home, or NULL. */
static const struct trace_record *find(const struct world *w, enum trace_kind kind, int hop)
{
	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);
		if (r->kind == kind && (kind != TRACE_PACKET || (int)r->u.packet.hop == hop))
			return r;
	}
	return NULL;
}

/* NPTv6 world: home's wan is 2001:db8:ff::2/64, server 2001:db8:ff::1 on it. */
static void build_npt(struct world *w, const char *lan6, const char *alice6)
{
	build(w, lan6, alice6, 0);
	struct ip6_addr wan6 = addr("2001:db8:ff::2"), srv = addr("2001:db8:ff::1");
	struct ip6_addr in = addr("fd01:203:405::"), out = addr("2001:db8:1::"), any = {{0}};
	assert_int_equal(iface_set_addr6(w->wan, &wan6, 64), 0);
	assert_int_equal(router_add_route6(w->home, &any, 0, w->wan, &srv), 0);
	assert_int_equal(router_enable_nptv6(w->home, w->wan, &in, &out, 48), 0);
	assert_int_equal(router_enable_nptv6(w->home, w->wan, &in, &out, 48), -1); /* once */
	w->server = host_new(w->net, "server", 0, 0, 0);
	assert_int_equal(host_set_address6(w->server, &srv, 64), 0);
	host_set_gateway6(w->server, &wan6);
	assert_int_equal(link_attach(w->wan_link, host_iface(w->server)), 0);
	net_announce(w->net);
}

static void test_nptv6_through_home(void **state)
{
	(void)state;
	struct world w;
	struct heard at_server = {0}, at_alice = {0};
	struct ip6_addr srv = addr("2001:db8:ff::1");

	build_npt(&w, "fd01:203:405:1::1", "fd01:203:405:1::1234");
	struct host_socket *s = host_udp_bind6(w.server, NULL, 3478, heard6, &at_server);
	struct host_socket *a = host_udp_bind6(w.alice, NULL, 5000, heard6, &at_alice);
	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "hi", 2);
	engine_run_until(net_engine(w.net), SIM_MS(100));
	/* The server sees RFC 6296 3.6's outside address, port unchanged. */
	assert_int_equal(at_server.n, 1);
	assert_string_equal(at_server.from, "[2001:db8:1:d550::1234]:5000");
	struct endpoint6 back = {addr("2001:db8:1:d550::1234"), 5000};
	host_udp_sendto6(s, &back, "yo", 2);
	engine_run_until(net_engine(w.net), SIM_MS(200));
	assert_int_equal(at_alice.n, 1);
	assert_string_equal(at_alice.from, "[2001:db8:ff::1]:3478");
	const struct trace_record *t = find(&w, TRACE_PACKET, TRACE_HOP_TRANSLATE);
	assert_non_null(t);
	assert_string_equal(t->u.packet.node, "home");
	assert_string_equal(t->u.packet.iface, "wan");
	assert_memory_not_equal(t->u.packet.before + 8, t->u.packet.bytes + 8, 16);
	world_free(&w);
}

static void test_nptv6_untranslatable_dropped(void **state)
{
	(void)state;
	struct world w;
	struct heard at_server = {0};
	struct ip6_addr srv = addr("2001:db8:ff::1");

	build_npt(&w, "fd01:203:405:ffff::1", "fd01:203:405:ffff::5");
	host_udp_bind6(w.server, NULL, 3478, heard6, &at_server);
	struct host_socket *a = host_udp_bind6(w.alice, NULL, 5000, NULL, NULL);
	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "hi", 2);
	engine_run_until(net_engine(w.net), SIM_MS(100));
	assert_int_equal(at_server.n, 0);
	const struct trace_record *d = find(&w, TRACE_PACKET, TRACE_HOP_DROP);
	assert_non_null(d);
	assert_string_equal(d->u.packet.node, "home");
	assert_non_null(strstr(d->u.packet.why, "home dropped [fd01:203:405:ffff::5]:5000"));
	assert_non_null(strstr(d->u.packet.why, "NPTv6 cannot translate its address"));
	world_free(&w);
}

#define WAN4 IP4(198, 51, 100, 1)
#define SERVER4 IP4(198, 51, 100, 10)

/* NAT64 world: home's wan is 198.51.100.1/24, an IPv4-only server on it. */
static void build_nat64(struct world *w)
{
	build(w, "2001:db8:1::1", "2001:db8:1::5", WAN4);
	assert_non_null(router_enable_nat64(w->home, w->wan, NULL));
	assert_null(router_enable_nat64(w->home, w->wan, NULL)); /* once */
	w->server = host_new(w->net, "server", SERVER4, 24, WAN4);
	assert_int_equal(link_attach(w->wan_link, host_iface(w->server)), 0);
	net_announce(w->net);
}

static void test_nat64_through_home(void **state)
{
	(void)state;
	struct world w;
	struct heard at_server = {0}, at_alice = {0};
	struct ip6_addr wkp = xlat_well_known_prefix();

	build_nat64(&w);
	struct host_socket *s = host_udp_bind(w.server, 3478, heard4, &at_server);
	struct host_socket *a = host_udp_bind6(w.alice, NULL, 5000, heard6, &at_alice);
	host_udp_sendto6(a, &(struct endpoint6){xlat_synthesize(&wkp, SERVER4), 3478}, "hi", 2);
	engine_run_until(net_engine(w.net), SIM_MS(100));
	assert_int_equal(at_server.n, 1);
	assert_int_equal(at_server.from4.ip, WAN4);
	assert_int_equal(at_server.from4.port, 5000);
	host_udp_sendto(s, &at_server.from4, "yo", 2);
	engine_run_until(net_engine(w.net), SIM_MS(200));
	assert_int_equal(at_alice.n, 1);
	assert_string_equal(at_alice.from, "[64:ff9b::c633:640a]:3478");
	/* The binding, in the trace as TRACE_MAPPING with its IPv6 inside. */
	const struct trace_record *m = find(&w, TRACE_MAPPING, 0);
	assert_non_null(m);
	assert_int_equal(m->u.map.event, TRACE_MAP_CREATED);
	assert_int_equal(m->u.map.family, 6);
	assert_int_equal(m->u.map.internal6.port, 5000);
	assert_int_equal(m->u.map.external.ip, WAN4);
	assert_non_null(find(&w, TRACE_PACKET, TRACE_HOP_TRANSLATE));
	assert_int_equal(nat64_count(router_nat64(w.home)), 1);
	/* To a pool port no binding holds: dropped with the NAT64's reason. */
	host_udp_sendto(s, &(struct endpoint){WAN4, 6000}, "no", 2);
	engine_run_until(net_engine(w.net), SIM_MS(300));
	const struct trace_record *d = find(&w, TRACE_PACKET, TRACE_HOP_DROP);
	assert_non_null(d);
	assert_int_equal(d->u.packet.reason, TRACE_DROP_NAT_NO_MAPPING);
	assert_non_null(strstr(d->u.packet.why, "its NAT64 holds no binding"));
	world_free(&w);
}

/* The last TRACE_MAPPING record of `event` (of proto, 0: any), or NULL. */
static const struct trace_record *last_map(const struct world *w, enum trace_map_event event,
					   uint8_t proto)
{
	const struct trace_record *found = NULL;

	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);
		if (r->kind == TRACE_MAPPING && r->u.map.event == event &&
		    (proto == 0 || r->u.map.proto == proto))
			found = r;
	}
	return found;
}

/* RFC 6146 3.5.1 / 3.5.3 and section 4: a UDP binding lives 5 minutes after
 * its last packet, an ICMP query's 60 s. Each goes at exactly that instant,
 * with its expiry record, and not a nanosecond before, though no packet
 * comes to look; the ICMP binding, made later but shorter-lived, goes
 * first. A packet after expiry makes a new binding. */
static void test_nat64_bindings_expire_on_time(void **state)
{
	(void)state;
	struct world w;
	struct ip6_addr wkp = xlat_well_known_prefix(), srv;
	struct engine *e;

	build_nat64(&w);
	e = net_engine(w.net);
	srv = xlat_synthesize(&wkp, SERVER4);
	host_udp_bind(w.server, 3478, NULL, NULL);
	struct host_socket *a = host_udp_bind6(w.alice, NULL, 5000, NULL, NULL);
	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "hi", 2);
	engine_run_until(e, SIM_S(10));
	host_send_echo6(w.alice, &srv, 77, 1, 64, 8);
	engine_run_until(e, SIM_S(20));
	const struct trace_record *udp = last_map(&w, TRACE_MAP_CREATED, 17);
	const struct trace_record *icmp = last_map(&w, TRACE_MAP_CREATED, 1);
	assert_non_null(udp);
	assert_non_null(icmp);
	int64_t udp_end = udp->time + SIM_S(300);
	uint32_t udp_id = udp->u.map.id;
	assert_int_equal(udp->u.map.expires_at, udp_end);
	assert_int_equal(icmp->u.map.expires_at, icmp->time + SIM_S(60));
	assert_int_equal(nat64_count(router_nat64(w.home)), 2);
	/* The echo reply came back through the ICMP binding and refreshed it. */
	const struct nat64_binding *b = nat64_binding_at(router_nat64(w.home), 1);
	assert_int_equal(b->proto, 1);
	int64_t icmp_end = b->expires_at;
	assert_true(icmp_end > icmp->time + SIM_S(60) && icmp_end < udp_end);

	engine_run_until(e, icmp_end - 1);
	assert_null(last_map(&w, TRACE_MAP_EXPIRED, 0));
	engine_run_until(e, icmp_end);
	const struct trace_record *gone = last_map(&w, TRACE_MAP_EXPIRED, 1);
	assert_non_null(gone);
	assert_int_equal(gone->time, icmp_end);
	assert_int_equal(gone->u.map.family, 6);
	assert_int_equal(nat64_count(router_nat64(w.home)), 1);

	engine_run_until(e, udp_end - 1);
	assert_null(last_map(&w, TRACE_MAP_EXPIRED, 17));
	assert_int_equal(nat64_count(router_nat64(w.home)), 1);
	engine_run_until(e, udp_end);
	gone = last_map(&w, TRACE_MAP_EXPIRED, 17);
	assert_non_null(gone);
	assert_int_equal(gone->time, udp_end);
	assert_int_equal(gone->u.map.id, udp_id);
	assert_int_equal(nat64_count(router_nat64(w.home)), 0);

	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "again", 5);
	engine_run_until(e, udp_end + SIM_S(1));
	const struct trace_record *again = last_map(&w, TRACE_MAP_CREATED, 17);
	assert_ptr_not_equal(again, udp);
	assert_int_not_equal(again->u.map.id, udp_id);
	assert_int_equal(nat64_count(router_nat64(w.home)), 1);
	world_free(&w);
}

/* A packet through a binding pushes its expiry back: the timer armed for
 * the first expiry fires early, finds the binding alive, and it goes at
 * the later time (lazy re-arm). */
static void test_nat64_refresh_moves_expiry(void **state)
{
	(void)state;
	struct world w;
	struct ip6_addr wkp = xlat_well_known_prefix(), srv;
	struct engine *e;

	build_nat64(&w);
	e = net_engine(w.net);
	srv = xlat_synthesize(&wkp, SERVER4);
	host_udp_bind(w.server, 3478, NULL, NULL);
	struct host_socket *a = host_udp_bind6(w.alice, NULL, 5000, NULL, NULL);
	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "hi", 2);
	engine_run_until(e, SIM_S(200));
	host_udp_sendto6(a, &(struct endpoint6){srv, 3478}, "hi", 2);
	engine_run_until(e, SIM_S(400));
	assert_null(last_map(&w, TRACE_MAP_EXPIRED, 0));
	assert_int_equal(nat64_count(router_nat64(w.home)), 1);
	int64_t end = nat64_binding_at(router_nat64(w.home), 0)->expires_at;
	assert_true(end > SIM_S(500));
	engine_run_until(e, SIM_S(600));
	const struct trace_record *gone = last_map(&w, TRACE_MAP_EXPIRED, 17);
	assert_non_null(gone);
	assert_int_equal(gone->time, end);
	world_free(&w);
}

static void accepted(struct host_tcp *listener, struct host_tcp *conn, void *ctx)
{
	(void)listener;
	*(struct host_tcp **)ctx = conn;
}

/* The last TRACE_HOP_TRANSLATE record, or NULL. */
static const struct trace_record *last_translate(const struct world *w)
{
	const struct trace_record *found = NULL;

	for (size_t i = 0; i < trace_log_count(w->log); i++) {
		const struct trace_record *r = trace_log_get(w->log, i);
		if (r->kind == TRACE_PACKET && r->u.packet.hop == TRACE_HOP_TRANSLATE)
			found = r;
	}
	return found;
}

/* RFC 6146 3.5.2.2 and section 4 on a router: alice's TCP connection to
 * the IPv4 server makes a TCP binding that lives TCP_EST (2 h 4 min) once
 * established; alice's RST moves it to TRANS, its expiry forward to 4
 * minutes after the RST (the timer armed for TCP_EST is moved), and it
 * goes at exactly that instant. */
static void test_nat64_tcp_binding_expires_on_time(void **state)
{
	(void)state;
	struct world w;
	struct ip6_addr wkp = xlat_well_known_prefix();
	struct host_tcp *at_server = NULL;

	build_nat64(&w);
	struct engine *e = net_engine(w.net);
	assert_non_null(host_tcp_listen(w.server, 0, 80, false, accepted, &at_server));
	struct endpoint6 to = {xlat_synthesize(&wkp, SERVER4), 80};
	struct host_tcp *a = host_tcp_connect6(w.alice, NULL, &to, false, NULL, NULL);
	assert_non_null(a);
	engine_run_until(e, SIM_S(1));
	assert_non_null(at_server);
	assert_int_equal(host_tcp_remote(at_server).ip, WAN4);
	const struct nat64_binding *b = nat64_binding_at(router_nat64(w.home), 0);
	assert_int_equal(b->proto, IPPROTO_NUM_TCP);
	assert_int_equal(b->tcp_state, NAT64_TCP_ESTABLISHED);
	assert_int_equal(b->expires_at, last_translate(&w)->time + SIM_S(2 * 3600 + 4 * 60));
	const struct trace_record *made = last_map(&w, TRACE_MAP_CREATED, IPPROTO_NUM_TCP);
	assert_non_null(made);
	assert_int_equal(made->u.map.family, 6);

	host_tcp_abort(a);
	engine_run_until(e, SIM_S(2));
	b = nat64_binding_at(router_nat64(w.home), 0);
	assert_int_equal(b->tcp_state, NAT64_TCP_TRANS);
	int64_t end = b->expires_at;
	assert_int_equal(end, last_translate(&w)->time + SIM_S(240));
	engine_run_until(e, end - 1);
	assert_null(last_map(&w, TRACE_MAP_EXPIRED, 0));
	engine_run_until(e, end);
	const struct trace_record *gone = last_map(&w, TRACE_MAP_EXPIRED, IPPROTO_NUM_TCP);
	assert_non_null(gone);
	assert_int_equal(gone->time, end);
	assert_int_equal(nat64_count(router_nat64(w.home)), 0);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nptv6_through_home),
	    cmocka_unit_test(test_nptv6_untranslatable_dropped),
	    cmocka_unit_test(test_nat64_through_home),
	    cmocka_unit_test(test_nat64_bindings_expire_on_time),
	    cmocka_unit_test(test_nat64_refresh_moves_expiry),
	    cmocka_unit_test(test_nat64_tcp_binding_expires_on_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
