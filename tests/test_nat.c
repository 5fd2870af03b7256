/*
 * test_nat.c - the NAT along RFC 4787's axes.
 *
 * The heart is one table: every mapping x filtering combination, probed the
 * way RFC 4787 sections 4.1 and 5 define them. Around it: port assignment,
 * exact expiry in virtual time, refresh rules (REQ-6), forwards, reboot and
 * reconfigure, paired pooling (REQ-2), checksums after rewriting, and the
 * sentences students read when a packet is dropped. Time moves only through
 * engine_run_until().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "explain/explain.h"
#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/trace.h"

#define MAX_RECS 512
#define PUB IP4(203, 0, 113, 7)

static const struct endpoint HOST = {IP4(192, 168, 1, 5), 5000};
static const struct endpoint A = {IP4(192, 0, 2, 1), 3478};
static const struct endpoint A2 = {IP4(192, 0, 2, 1), 3479};   /* A's address, other port */
static const struct endpoint B = {IP4(198, 51, 100, 9), 3478}; /* another address */

/* A trace observer keeping mapping records (their strings are literals). */
struct recs {
	size_t n;
	struct trace_record r[MAX_RECS];
};

static void keep_record(const struct trace_record *r, void *ctx)
{
	struct recs *recs = ctx;
	if (r->kind == TRACE_MAPPING && recs->n < MAX_RECS)
		recs->r[recs->n++] = *r;
}

struct fx {
	const char *name;
	struct engine *e;
	struct nat *nat;
	struct recs recs;
};

static struct fx *fx_new(const char *name, const struct nat_config *cfg)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	struct rng rng;
	assert_non_null(f);
	f->name = name;
	f->e = engine_new();
	assert_non_null(f->e);
	rng_derive(&rng, 42, "nat:test:ports");
	f->nat = nat_new(f->e, name, cfg, &rng);
	assert_non_null(f->nat);
	assert_int_equal(trace_subscribe(engine_trace(f->e), keep_record, &f->recs), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	nat_free(f->nat);
	engine_free(f->e);
	test_free(f);
}

static struct nat_config config(enum nat_behaviour m, enum nat_behaviour fl,
				enum nat_port_assignment p)
{
	struct nat_config cfg;
	nat_config_default(&cfg);
	cfg.mapping = m;
	cfg.filtering = fl;
	cfg.ports = p;
	cfg.n_public = 1;
	cfg.public_ip[0] = PUB;
	return cfg;
}

struct pkt {
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len;
	struct packet_info info;
};

static void pkt_make(struct pkt *p, const struct endpoint *src, const struct endpoint *dst)
{
	p->len = packet_build_udp(p->buf, sizeof(p->buf), src, dst, 64, 7, "ping", 4);
	assert_true(p->len > 0);
	assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
}

/* Send src -> dst through the NAT; on success the packet is re-parsed (the
 * strict parser also proves both checksums are right). */
static enum nat_verdict go(struct fx *f, bool outbound, const struct endpoint *src,
			   const struct endpoint *dst, struct nat_result *res, struct pkt *p)
{
	pkt_make(p, src, dst);
	if (outbound)
		nat_translate_outbound(f->nat, p->buf, p->len, &p->info, res);
	else
		nat_translate_inbound(f->nat, p->buf, p->len, &p->info, res);
	if (res->verdict == NAT_VERDICT_TRANSLATED)
		assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
	return res->verdict;
}

/* The external endpoint an outbound packet left with. */
static struct endpoint out_ok(struct fx *f, const struct endpoint *src, const struct endpoint *dst)
{
	struct nat_result res;
	struct pkt p;
	assert_int_equal(go(f, true, src, dst, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_non_null(res.mapping);
	assert_int_equal(p.info.dst, dst->ip);
	assert_int_equal(p.info.dport, dst->port);
	return (struct endpoint){p.info.src, p.info.sport};
}

/* True if an inbound packet from `src` to `ext` got in, and then it must have
 * been rewritten to `inside`. */
static bool in_admitted(struct fx *f, const struct endpoint *src, const struct endpoint *ext,
			const struct endpoint *inside, struct nat_result *res)
{
	struct pkt p;
	if (go(f, false, src, ext, res, &p) != NAT_VERDICT_TRANSLATED)
		return false;
	assert_int_equal(p.info.dst, inside->ip);
	assert_int_equal(p.info.dport, inside->port);
	assert_int_equal(p.info.src, src->ip);
	assert_int_equal(p.info.sport, src->port);
	return true;
}

/* A verdict in words (one buffer: read it before the next call). */
static const char *why(const struct fx *f, const struct nat_result *res)
{
	static char text[288];

	explain_nat(res, f->name, text, sizeof(text));
	return text;
}

/* ---- the 3 x 3 table (RFC 4787 sections 4.1 and 5) ----------------------- */

static void test_mapping_filtering_matrix(void **state)
{
	(void)state;
	enum {
		EI = NAT_ENDPOINT_INDEPENDENT,
		AD = NAT_ADDRESS_DEPENDENT,
		APD = NAT_ADDRESS_AND_PORT_DEPENDENT
	};
	static const struct {
		int mapping, filtering;
		bool from_a, from_a_port2, from_b; /* inbound admitted? */
		bool same_a_port2, same_b;	   /* second outbound keeps the port? */
	} rows[] = {
	    {EI, EI, true, true, true, true, true},
	    {EI, AD, true, true, false, true, true},
	    {EI, APD, true, false, false, true, true},
	    {AD, EI, true, true, true, true, false},
	    {AD, AD, true, true, false, true, false},
	    {AD, APD, true, false, false, true, false},
	    {APD, EI, true, true, true, false, false},
	    {APD, AD, true, true, false, false, false},
	    {APD, APD, true, false, false, false, false},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct nat_config cfg =
		    config(rows[i].mapping, rows[i].filtering, NAT_PORT_PRESERVE);
		struct fx *f = fx_new("nat", &cfg);
		struct nat_result res;

		print_message("row %zu: %s + %s\n", i, nat_behaviour_abbrev(rows[i].mapping, false),
			      nat_behaviour_abbrev(rows[i].filtering, true));
		struct endpoint x = out_ok(f, &HOST, &A);
		assert_int_equal(x.ip, PUB);
		assert_int_equal(x.port, 5000); /* preserved */

		assert_int_equal(in_admitted(f, &A, &x, &HOST, &res), rows[i].from_a);
		assert_int_equal(in_admitted(f, &A2, &x, &HOST, &res), rows[i].from_a_port2);
		if (!rows[i].from_a_port2)
			assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);
		assert_int_equal(in_admitted(f, &B, &x, &HOST, &res), rows[i].from_b);
		if (!rows[i].from_b)
			assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);

		struct endpoint y = out_ok(f, &HOST, &A2);
		assert_int_equal(y.port == x.port, rows[i].same_a_port2);
		struct endpoint z = out_ok(f, &HOST, &B);
		assert_int_equal(z.port == x.port, rows[i].same_b);
		assert_int_equal(y.ip, PUB);
		assert_int_equal(z.ip, PUB);
		fx_free(f);
	}
}

/* ---- port assignment ---------------------------------------------------- */

static void test_port_preservation_and_fallback(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint h2 = {IP4(192, 168, 1, 6), 5000};
	struct endpoint h3 = {IP4(192, 168, 1, 7), 5000};
	struct endpoint low = {IP4(192, 168, 1, 8), 500};

	assert_int_equal(out_ok(f, &HOST, &A).port, 5000);
	/* RFC 4787 REQ-3 note: the second host on port 5000 cannot have it
	 * too; it falls back to the sequential allocator from port_lo. */
	assert_int_equal(out_ok(f, &h2, &A).port, 1024);
	assert_int_equal(out_ok(f, &h3, &A).port, 1025);
	/* A port below the range is not preserved. */
	assert_int_equal(out_ok(f, &low, &A).port, 1026);
	/* And the first host keeps its port. */
	assert_int_equal(out_ok(f, &HOST, &B).port, 5000);
	assert_int_equal(nat_mapping_count(f->nat), 4);
	fx_free(f);
}

static void test_sequential_allocation_wraps(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_SEQUENTIAL);
	cfg.port_lo = 20000;
	cfg.port_hi = 20002;
	struct fx *f = fx_new("home", &cfg);
	struct endpoint h[4];
	for (int i = 0; i < 4; i++)
		h[i] = (struct endpoint){IP4(192, 168, 1, 10 + i), 5000};

	assert_int_equal(out_ok(f, &h[0], &A).port, 20000);
	engine_run_until(f->e, SIM_S(1));
	assert_int_equal(out_ok(f, &h[1], &A).port, 20001);
	engine_run_until(f->e, SIM_S(2));
	assert_int_equal(out_ok(f, &h[2], &A).port, 20002);

	struct nat_result res;
	struct pkt p;
	assert_int_equal(go(f, true, &h[3], &A, &res, &p), NAT_VERDICT_DROP);
	assert_int_equal(res.reason, TRACE_DROP_NAT_EXHAUSTED);
	/* The first mapping expires at 30 s; the cursor wraps to it. */
	engine_run_until(f->e, SIM_S(30));
	assert_int_equal(nat_mapping_count(f->nat), 2);
	assert_int_equal(out_ok(f, &h[3], &A).port, 20000);
	fx_free(f);
}

static void test_random_allocation_fills_range(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	cfg.port_lo = 40000;
	cfg.port_hi = 40007;
	uint16_t first[8];

	for (int run = 0; run < 2; run++) {
		struct fx *f = fx_new("home", &cfg);
		bool used[8] = {false};
		/* Eight destinations, eight mappings: the whole range, each port
		 * once, collisions resolved. */
		for (int i = 0; i < 8; i++) {
			struct endpoint dst = {IP4(192, 0, 2, 1 + i), 3478};
			uint16_t port = out_ok(f, &HOST, &dst).port;
			assert_in_range(port, 40000, 40007);
			assert_false(used[port - 40000]);
			used[port - 40000] = true;
			if (run == 0)
				first[i] = port;
			else
				assert_int_equal(port, first[i]); /* same seed, same ports */
		}
		struct endpoint ninth = {IP4(192, 0, 2, 9), 3478};
		struct nat_result res;
		struct pkt p;
		assert_int_equal(go(f, true, &HOST, &ninth, &res, &p), NAT_VERDICT_DROP);
		assert_int_equal(res.reason, TRACE_DROP_NAT_EXHAUSTED);
		assert_null(res.mapping);
		assert_string_equal(
		    why(f, &res), "home dropped 192.168.1.5:5000 \u2192 192.0.2.9:3478: every port "
				  "from 40000 to 40007 on 203.0.113.7 is taken by another mapping, "
				  "so there is no external port left for a new one");
		assert_int_equal(nat_mapping_count(f->nat), 8);
		fx_free(f);
	}
	/* Random, not sequential: the draws are not simply 40000, 40001, ... */
	bool sequential = true;
	for (int i = 0; i < 8; i++)
		sequential = sequential && first[i] == 40000 + i;
	assert_false(sequential);
}

/* ---- lifetime (RFC 4787 REQ-5, REQ-6) ------------------------------------ */

static size_t count_events(const struct fx *f, enum trace_map_event ev)
{
	size_t n = 0;
	for (size_t i = 0; i < f->recs.n; i++)
		n += f->recs.r[i].u.map.event == ev;
	return n;
}

static void test_expiry_outbound_refresh(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;

	struct endpoint x = out_ok(f, &HOST, &A);
	engine_run_until(f->e, SIM_S(20));
	out_ok(f, &HOST, &A); /* outbound refreshes: now expires at 50 s */
	assert_int_equal(engine_pending(f->e), 1);
	engine_run_until(f->e, SIM_S(45));
	assert_true(in_admitted(f, &A, &x, &HOST, &res)); /* inbound does not refresh */
	assert_int_equal(res.mapping->expires_at, SIM_S(50));
	engine_run_until(f->e, SIM_S(50) - 1);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	assert_int_equal(engine_pending(f->e), 1); /* lazily re-armed, still one */
	engine_run_until(f->e, SIM_S(50));
	assert_int_equal(nat_mapping_count(f->nat), 0);
	assert_int_equal(engine_pending(f->e), 0);
	assert_null(nat_mapping_by_external(f->nat, IPPROTO_NUM_UDP, &x));

	const struct trace_record *last = &f->recs.r[f->recs.n - 1];
	assert_int_equal(last->u.map.event, TRACE_MAP_EXPIRED);
	assert_int_equal(last->time, SIM_S(50));
	assert_int_equal(last->u.map.external.port, 5000);
	assert_int_equal(count_events(f, TRACE_MAP_CREATED), 1);
	assert_int_equal(count_events(f, TRACE_MAP_REFRESHED), 1);

	/* Gone means gone: the next inbound finds nobody. */
	assert_false(in_admitted(f, &A, &x, &HOST, &res));
	assert_int_equal(res.reason, TRACE_DROP_NAT_NO_MAPPING);
	fx_free(f);
}

static void test_expiry_inbound_refresh(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	cfg.inbound_refresh = true;
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;

	struct endpoint x = out_ok(f, &HOST, &A);
	engine_run_until(f->e, SIM_S(25));
	assert_true(in_admitted(f, &B, &x, &HOST, &res));
	assert_int_equal(res.mapping->expires_at, SIM_S(55));
	engine_run_until(f->e, SIM_S(55) - 1);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	engine_run_until(f->e, SIM_S(55));
	assert_int_equal(nat_mapping_count(f->nat), 0);
	assert_int_equal(f->recs.r[f->recs.n - 1].time, SIM_S(55));
	fx_free(f);
}

static void test_many_refreshes_one_event(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	struct fx *f = fx_new("home", &cfg);

	out_ok(f, &HOST, &A);
	out_ok(f, &HOST, &B);
	for (int i = 1; i <= 200; i++) {
		engine_run_until(f->e, SIM_MS(250) * i);
		out_ok(f, &HOST, &A);
		/* One event per mapping; the idle one to B goes at 30 s. */
		assert_int_equal(engine_pending(f->e), SIM_MS(250) * i < SIM_S(30) ? 2 : 1);
	}
	engine_run_until(f->e, SIM_S(80));
	assert_int_equal(nat_mapping_count(f->nat), 0);
	assert_int_equal(f->recs.r[f->recs.n - 1].time, SIM_S(80));
	assert_int_equal(count_events(f, TRACE_MAP_EXPIRED), 2);
	fx_free(f);
}

/* ---- trace records ------------------------------------------------------- */

static void test_trace_records(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);

	out_ok(f, &HOST, &A);
	out_ok(f, &HOST, &A2);
	out_ok(f, &HOST, &A2);
	assert_int_equal(f->recs.n, 3);
	const struct trace_mapping *c = &f->recs.r[0].u.map;
	assert_int_equal(c->event, TRACE_MAP_CREATED);
	assert_string_equal(c->node, "home");
	assert_int_equal(c->internal.ip, HOST.ip);
	assert_int_equal(c->internal.port, HOST.port);
	assert_int_equal(c->external.ip, PUB);
	assert_int_equal(c->external.port, 5000);
	assert_int_equal(c->remote.ip, A.ip);
	assert_int_equal(c->remote.port, A.port);
	assert_int_equal(c->mapping, NAT_ENDPOINT_INDEPENDENT);
	assert_int_equal(c->filtering, NAT_ADDRESS_AND_PORT_DEPENDENT);
	assert_false(c->is_static);
	assert_int_equal(c->expires_at, SIM_S(30));
	assert_int_equal(f->recs.r[1].u.map.event, TRACE_MAP_REMOTE_ADDED);
	assert_int_equal(f->recs.r[1].u.map.remote.port, 3479);
	assert_int_equal(f->recs.r[2].u.map.event, TRACE_MAP_REFRESHED);
	assert_int_equal(f->recs.r[2].u.map.id, c->id);

	const struct nat_mapping *m =
	    nat_mapping_by_external(f->nat, IPPROTO_NUM_UDP, &(struct endpoint){PUB, 5000});
	assert_non_null(m);
	assert_int_equal(m->n_remotes, 2);
	assert_int_equal(m->remotes[0].port, 3478);
	assert_int_equal(m->remotes[1].port, 3479);
	fx_free(f);
}

/* A mapping that talks to many remotes (a peer punching to many others)
 * keeps them all, once each, in the order contacted, past the few its node
 * holds inline; filtering admits exactly those, with each axis's rule. */
static void test_many_remotes(void **state)
{
	(void)state;
	for (int adf = 0; adf < 2; adf++) {
		struct nat_config cfg =
		    config(NAT_ENDPOINT_INDEPENDENT,
			   adf ? NAT_ADDRESS_DEPENDENT : NAT_ADDRESS_AND_PORT_DEPENDENT,
			   NAT_PORT_PRESERVE);
		struct fx *f = fx_new("busy", &cfg);
		struct endpoint ext = {0, 0}, remotes[37];
		struct nat_result res;

		for (int i = 0; i < 37; i++) {
			remotes[i] = (struct endpoint){IP4(198, 51, 100, (uint8_t)(i + 1)),
						       (uint16_t)(4000 + i)};
			ext = out_ok(f, &HOST, &remotes[i]);
			out_ok(f, &HOST, &remotes[i / 2]); /* again: not a new remote */
		}
		const struct nat_mapping *m =
		    nat_mapping_by_external(f->nat, IPPROTO_NUM_UDP, &ext);
		assert_non_null(m);
		assert_int_equal(m->n_remotes, 37);
		for (int i = 0; i < 37; i++) {
			assert_int_equal(m->remotes[i].ip, remotes[i].ip);
			assert_int_equal(m->remotes[i].port, remotes[i].port);
			assert_true(in_admitted(f, &remotes[i], &ext, &HOST, &res));
			struct endpoint other_port = {remotes[i].ip,
						      (uint16_t)(remotes[i].port + 100)};
			assert_int_equal(in_admitted(f, &other_port, &ext, &HOST, &res), adf == 1);
		}
		struct endpoint stranger = {IP4(198, 51, 100, 200), 4000};
		assert_false(in_admitted(f, &stranger, &ext, &HOST, &res));
		fx_free(f);
	}
}

/* ---- forwards, reboot, reconfigure ---------------------------------------- */

static void test_static_forward(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint server = {IP4(192, 168, 1, 10), 80};
	struct endpoint ext = {PUB, 8080};
	struct nat_result res;

	assert_int_equal(nat_add_forward(f->nat, IPPROTO_NUM_UDP, 8080, &server), 0);
	assert_int_equal(nat_add_forward(f->nat, IPPROTO_NUM_UDP, 8080, &HOST), -1);
	assert_int_equal(engine_pending(f->e), 0); /* nothing to expire */
	assert_true(in_admitted(f, &A, &ext, &server, &res));
	assert_true(in_admitted(f, &B, &ext, &server, &res));
	assert_true(res.mapping->is_static);
	engine_run_until(f->e, SIM_S(3600));
	assert_true(in_admitted(f, &A2, &ext, &server, &res));
	/* The server answers from its forwarded port. */
	struct endpoint x = out_ok(f, &server, &B);
	assert_int_equal(x.port, 8080);
	assert_int_equal(f->recs.r[0].u.map.event, TRACE_MAP_CREATED);
	assert_true(f->recs.r[0].u.map.is_static);
	assert_int_equal(f->recs.r[0].u.map.expires_at, SIM_TIME_NEVER);
	/* No dynamic mapping may take the forwarded port. */
	struct endpoint h = {IP4(192, 168, 1, 20), 8080};
	cfg = config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	assert_int_equal(nat_reconfigure(f->nat, &cfg), 0);
	assert_int_equal(out_ok(f, &h, &A).port, 1024);
	fx_free(f);
}

static void test_reboot_keeps_forwards(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint server = {IP4(192, 168, 1, 10), 80};
	struct endpoint fwd = {PUB, 8080};
	struct endpoint h2 = {IP4(192, 168, 1, 6), 6000};
	struct nat_result res;

	assert_int_equal(nat_add_forward(f->nat, IPPROTO_NUM_UDP, 8080, &server), 0);
	struct endpoint x = out_ok(f, &HOST, &A);
	out_ok(f, &h2, &B);
	assert_int_equal(nat_mapping_count(f->nat), 3);
	nat_reboot(f->nat);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	assert_int_equal(engine_pending(f->e), 0);
	assert_int_equal(count_events(f, TRACE_MAP_CLEARED), 2);
	assert_false(in_admitted(f, &A, &x, &HOST, &res));
	assert_int_equal(res.reason, TRACE_DROP_NAT_NO_MAPPING);
	assert_true(in_admitted(f, &A, &fwd, &server, &res));
	fx_free(f);
}

static void test_reconfigure(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint server = {IP4(192, 168, 1, 10), 80};
	struct nat_result res;

	assert_int_equal(nat_add_forward(f->nat, IPPROTO_NUM_UDP, 8080, &server), 0);
	out_ok(f, &HOST, &A);
	struct nat_config sym = cfg;
	assert_int_equal(nat_config_preset(&sym, "symmetric"), 0);
	sym.public_ip[0] = IP4(203, 0, 113, 99);
	assert_int_equal(nat_reconfigure(f->nat, &sym), 0);
	assert_int_equal(nat_mapping_count(f->nat), 1);
	assert_int_equal(count_events(f, TRACE_MAP_CLEARED), 1);
	assert_int_equal(nat_config(f->nat)->mapping, NAT_ADDRESS_AND_PORT_DEPENDENT);
	assert_true(nat_owns_address(f->nat, IP4(203, 0, 113, 99)));
	assert_false(nat_owns_address(f->nat, PUB));
	/* The forward moved to the new address. */
	struct endpoint fwd = {IP4(203, 0, 113, 99), 8080};
	assert_true(in_admitted(f, &B, &fwd, &server, &res));
	/* New behaviour applies: two destinations, two ports. */
	struct endpoint x = out_ok(f, &HOST, &A);
	struct endpoint y = out_ok(f, &HOST, &B);
	assert_int_equal(x.ip, IP4(203, 0, 113, 99));
	assert_int_not_equal(x.port, y.port);
	/* A bad config is refused and changes nothing. */
	struct nat_config bad = sym;
	bad.n_public = 0;
	assert_int_equal(nat_reconfigure(f->nat, &bad), -1);
	assert_int_equal(nat_mapping_count(f->nat), 3);
	bad = sym;
	bad.port_lo = 2000;
	bad.port_hi = 1000;
	assert_int_equal(nat_reconfigure(f->nat, &bad), -1);
	assert_null(nat_new(f->e, "x", &bad, NULL));
	fx_free(f);
}

/* ---- addresses ------------------------------------------------------------ */

static void test_paired_pooling(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	cfg.n_public = 2;
	cfg.public_ip[1] = IP4(203, 0, 113, 8);
	struct fx *f = fx_new("cgnat", &cfg);
	size_t on[2] = {0, 0};

	assert_true(nat_owns_address(f->nat, PUB));
	assert_true(nat_owns_address(f->nat, IP4(203, 0, 113, 8)));
	assert_false(nat_owns_address(f->nat, IP4(203, 0, 113, 9)));
	for (int h = 1; h <= 16; h++) {
		struct endpoint src = {IP4(100, 64, 0, h), 5000};
		struct endpoint src2 = {IP4(100, 64, 0, h), 6000};
		uint32_t ip = out_ok(f, &src, &A).ip;
		/* RFC 4787 REQ-2: every mapping of one host uses one address. */
		assert_int_equal(out_ok(f, &src, &B).ip, ip);
		assert_int_equal(out_ok(f, &src2, &A2).ip, ip);
		on[ip == PUB ? 0 : 1]++;
	}
	assert_true(on[0] > 0 && on[1] > 0);
	fx_free(f);
}

/* RFC 4787 REQ-2 "arbitrary" pooling: one host's mappings spread over the
 * public addresses, chosen from the NAT's seeded stream (the same seed gives
 * the same choices); paired is the default. */
static void test_arbitrary_pooling(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	assert_int_equal(cfg.pooling, NAT_POOLING_PAIRED);
	assert_string_equal(nat_pooling_name(NAT_POOLING_PAIRED), "paired");
	assert_string_equal(nat_pooling_name(NAT_POOLING_ARBITRARY), "arbitrary");
	cfg.n_public = 2;
	cfg.public_ip[1] = IP4(203, 0, 113, 8);
	cfg.pooling = NAT_POOLING_ARBITRARY;
	struct fx *f = fx_new("cgnat", &cfg), *g = fx_new("cgnat", &cfg);
	size_t on[2] = {0, 0};

	for (int i = 0; i < 32; i++) {
		struct endpoint dst = {A.ip, (uint16_t)(10000 + i)};
		struct endpoint x = out_ok(f, &HOST, &dst);
		on[x.ip == PUB ? 0 : 1]++;
		/* Deterministic: a second NAT from the same stream chooses alike. */
		assert_int_equal(out_ok(g, &HOST, &dst).ip, x.ip);
		/* A mapping keeps its address: only new ones draw. */
		assert_int_equal(out_ok(f, &HOST, &dst).ip, x.ip);
	}
	assert_true(on[0] > 0 && on[1] > 0);
	fx_free(f);
	fx_free(g);
	cfg.pooling = (enum nat_pooling)7;
	struct engine *e = engine_new();
	assert_null(nat_new(e, "bad", &cfg, NULL));
	engine_free(e);
}

/* A flow's end (its conntrack entry died) takes its remote out of the
 * filtering state while the mapping lives on for another flow; other
 * mappings, unknown remotes and a mapping dying this instant are left alone. */
static void test_flow_closed(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct endpoint ext = out_ok(f, &HOST, &A);
	struct endpoint other = {IP4(192, 168, 1, 6), 5000};

	assert_int_equal(out_ok(f, &HOST, &B).port, ext.port);
	size_t recs = f->recs.n;
	nat_flow_closed(f->nat, IPPROTO_NUM_UDP, &other, &ext, &A); /* not its mapping */
	nat_flow_closed(f->nat, IPPROTO_NUM_UDP, &HOST, &ext, &A2); /* not a remote */
	assert_int_equal(f->recs.n, recs);
	assert_true(in_admitted(f, &A, &ext, &HOST, &res));
	nat_flow_closed(f->nat, IPPROTO_NUM_UDP, &HOST, &ext, &A);
	assert_int_equal(f->recs.n, recs + 1);
	assert_int_equal(f->recs.r[recs].u.map.event, TRACE_MAP_REMOTE_REMOVED);
	assert_int_equal(f->recs.r[recs].u.map.remote.ip, A.ip);
	assert_false(in_admitted(f, &A, &ext, &HOST, &res));
	assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);
	assert_true(in_admitted(f, &B, &ext, &HOST, &res));
	/* Outbound refreshes; inbound does not (REQ-6 default). */
	assert_int_equal(go(f, true, &HOST, &B, &res, &(struct pkt){0}), NAT_VERDICT_TRANSLATED);
	assert_true(res.refreshed);
	assert_true(in_admitted(f, &B, &ext, &HOST, &res));
	assert_false(res.refreshed);
	/* After the mapping expired there is nothing to forget. */
	engine_run_until(f->e, res.mapping->expires_at);
	recs = f->recs.n;
	nat_flow_closed(f->nat, IPPROTO_NUM_UDP, &HOST, &ext, &B);
	assert_int_equal(f->recs.n, recs);
	fx_free(f);
}

static void test_checksums_after_translation(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_SEQUENTIAL);
	cfg.port_lo = 61000;
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt p;
	uint8_t copy[PACKET_MAX_SIZE];

	assert_int_equal(go(f, true, &HOST, &A, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_int_equal(p.info.sport, 61000);
	memcpy(copy, p.buf, p.len);
	packet_fill_checksums(copy, p.len);
	assert_memory_equal(copy, p.buf, p.len);

	struct endpoint x = {PUB, 61000};
	assert_int_equal(go(f, false, &A, &x, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_int_equal(p.info.dst, HOST.ip);
	memcpy(copy, p.buf, p.len);
	packet_fill_checksums(copy, p.len);
	assert_memory_equal(copy, p.buf, p.len);
	fx_free(f);
}

/* ---- sentences ---------------------------------------------------------- */

static struct fx *office(enum nat_behaviour filtering)
{
	struct nat_config cfg = config(NAT_ENDPOINT_INDEPENDENT, filtering, NAT_PORT_SEQUENTIAL);
	cfg.public_ip[0] = IP4(198, 51, 100, 9);
	cfg.port_lo = 61002;
	return fx_new("office", &cfg);
}

static const char *drop_why(struct fx *f, const struct endpoint *src, uint16_t port,
			    struct nat_result *res)
{
	struct endpoint ext = {nat_config(f->nat)->public_ip[0], port};
	assert_false(in_admitted(f, src, &ext, &HOST, res));
	return why(f, res);
}

static void test_drop_sentences(void **state)
{
	(void)state;
	struct endpoint stranger = {IP4(203, 0, 113, 7), 4000};
	struct endpoint a2 = {IP4(192, 0, 2, 2), 3478};
	struct nat_result res;

	struct fx *f = office(NAT_ADDRESS_AND_PORT_DEPENDENT);
	assert_int_equal(out_ok(f, &HOST, &A).port, 61002);
	assert_string_equal(
	    drop_why(f, &stranger, 61002, &res),
	    "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its mapping "
	    "for 192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, the "
	    "one endpoint it has sent to (address-and-port-dependent filtering)");
	assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);
	assert_non_null(res.mapping);
	assert_int_equal(res.mapping->internal.port, 5000);
	out_ok(f, &HOST, &a2);
	assert_string_equal(
	    drop_why(f, &stranger, 61002, &res),
	    "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its mapping "
	    "for 192.168.1.5:5000 only accepts replies from 192.0.2.1:3478 and "
	    "192.0.2.2:3478, the endpoints it has sent to (address-and-port-dependent "
	    "filtering)");
	for (int i = 3; i <= 5; i++)
		out_ok(f, &HOST, &(struct endpoint){IP4(192, 0, 2, i), 3478});
	assert_string_equal(
	    drop_why(f, &stranger, 61002, &res),
	    "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its mapping "
	    "for 192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, "
	    "192.0.2.2:3478, 192.0.2.3:3478 and 2 more, the endpoints it has sent "
	    "to (address-and-port-dependent filtering)");
	fx_free(f);

	f = office(NAT_ADDRESS_DEPENDENT);
	out_ok(f, &HOST, &A);
	out_ok(f, &HOST, &A2); /* same address: listed once */
	assert_string_equal(
	    drop_why(f, &stranger, 61002, &res),
	    "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its mapping "
	    "for 192.168.1.5:5000 only accepts packets from 192.0.2.1 (any port), "
	    "the one address it has sent to (address-dependent filtering)");
	out_ok(f, &HOST, &a2);
	assert_string_equal(
	    drop_why(f, &stranger, 61002, &res),
	    "office dropped 203.0.113.7:4000 \u2192 198.51.100.9:61002: its mapping "
	    "for 192.168.1.5:5000 only accepts packets from 192.0.2.1 and "
	    "192.0.2.2 (any port), the addresses it has sent to (address-dependent "
	    "filtering)");
	fx_free(f);
}

static void test_no_mapping_sentence(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint from = {IP4(198, 51, 100, 2), 4000};
	struct nat_result res;

	assert_string_equal(drop_why(f, &from, 61002, &res),
			    "home dropped 198.51.100.2:4000 \u2192 203.0.113.7:61002: no mapping "
			    "uses port 61002, so there is nobody inside to deliver it to");
	assert_int_equal(res.reason, TRACE_DROP_NAT_NO_MAPPING);
	assert_null(res.mapping);
	fx_free(f);
}

static void test_classic_names_and_presets(void **state)
{
	(void)state;
	enum nat_behaviour ei = NAT_ENDPOINT_INDEPENDENT, ad = NAT_ADDRESS_DEPENDENT,
			   apd = NAT_ADDRESS_AND_PORT_DEPENDENT;

	assert_string_equal(nat_classic_name(ei, ei), "full-cone");
	assert_string_equal(nat_classic_name(ei, ad), "restricted-cone");
	assert_string_equal(nat_classic_name(ei, apd), "port-restricted-cone");
	assert_string_equal(nat_classic_name(apd, apd), "symmetric");
	assert_string_equal(nat_classic_name(ad, ei), "symmetric");
	assert_string_equal(nat_classic_name(apd, ad), "symmetric");

	assert_int_equal(nat_preset_count, 4);
	for (size_t i = 0; i < nat_preset_count; i++) {
		const struct nat_preset *p = &nat_presets[i];
		struct nat_config cfg;
		nat_config_default(&cfg);
		assert_int_equal(nat_config_preset(&cfg, p->name), 0);
		assert_int_equal(cfg.mapping, p->mapping);
		assert_int_equal(cfg.filtering, p->filtering);
		assert_int_equal(cfg.ports, p->ports);
		assert_string_equal(nat_classic_name(p->mapping, p->filtering), p->name);
		assert_true(strlen(p->summary) > 20);
	}
	struct nat_config cfg;
	nat_config_default(&cfg);
	assert_int_equal(cfg.mapping, ei);
	assert_int_equal(cfg.filtering, apd);
	assert_int_equal(cfg.ports, NAT_PORT_PRESERVE);
	assert_int_equal(cfg.port_lo, 1024);
	assert_int_equal(cfg.port_hi, 65535);
	assert_int_equal(cfg.mapping_timeout, SIM_S(30));
	assert_int_equal(cfg.n_public, 0);
	assert_int_equal(nat_config_preset(&cfg, "symmetric"), 0);
	assert_int_equal(cfg.ports, NAT_PORT_RANDOM);
	assert_int_equal(cfg.mapping_timeout, SIM_S(30)); /* only behaviour changes */
	assert_int_equal(nat_config_preset(&cfg, "cone-ish"), -1);
}

static void test_behaviour_names_and_parse(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int want;
	} rows[] = {
	    {"endpoint-independent", NAT_ENDPOINT_INDEPENDENT},
	    {"Endpoint-Independent", NAT_ENDPOINT_INDEPENDENT},
	    {"EIM", NAT_ENDPOINT_INDEPENDENT},
	    {"eif", NAT_ENDPOINT_INDEPENDENT},
	    {"EI", NAT_ENDPOINT_INDEPENDENT},
	    {"address-dependent", NAT_ADDRESS_DEPENDENT},
	    {"ADM", NAT_ADDRESS_DEPENDENT},
	    {"adf", NAT_ADDRESS_DEPENDENT},
	    {"ad", NAT_ADDRESS_DEPENDENT},
	    {"address-and-port-dependent", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"APDM", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"ApDf", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"APD", NAT_ADDRESS_AND_PORT_DEPENDENT},
	    {"", -1},
	    {"port-dependent", -1},
	    {"EIMX", -1},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enum nat_behaviour b = NAT_ADDRESS_DEPENDENT;
		int rc = nat_behaviour_parse(rows[i].s, &b);
		if (rows[i].want < 0) {
			assert_int_equal(rc, -1);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(b, rows[i].want);
		}
	}
	assert_string_equal(nat_behaviour_name(NAT_ADDRESS_AND_PORT_DEPENDENT),
			    "address-and-port-dependent");
	assert_string_equal(nat_behaviour_abbrev(NAT_ADDRESS_DEPENDENT, false), "ADM");
	assert_string_equal(nat_behaviour_abbrev(NAT_ADDRESS_AND_PORT_DEPENDENT, true), "APDF");
	assert_string_equal(nat_behaviour_abbrev(NAT_ENDPOINT_INDEPENDENT, true), "EIF");
	assert_string_equal(nat_port_assignment_name(NAT_PORT_PRESERVE), "preserve");
	assert_string_equal(nat_port_assignment_name(NAT_PORT_SEQUENTIAL), "sequential");
	assert_string_equal(nat_port_assignment_name(NAT_PORT_RANDOM), "random");
}

struct ids {
	size_t n;
	uint16_t port[8];
};

static bool collect(const struct nat_mapping *m, void *ctx)
{
	struct ids *ids = ctx;
	ids->port[ids->n++] = m->external.port;
	return ids->n < 8;
}

static void test_foreach_order(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct ids ids = {0};

	for (uint16_t port = 7003; port >= 7001; port--)
		out_ok(f, &(struct endpoint){HOST.ip, port}, &A);
	nat_foreach_mapping(f->nat, collect, &ids);
	assert_int_equal(ids.n, 3);
	assert_int_equal(ids.port[0], 7003);
	assert_int_equal(ids.port[1], 7002);
	assert_int_equal(ids.port[2], 7001);
	fx_free(f);
}

static void test_non_udp_is_refused(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt p;

	/* GRE (47): TCP is translated since issue 16 (test_nat_tcp.c). */
	pkt_make(&p, &HOST, &A);
	p.info.proto = 47;
	nat_translate_outbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_DROP);
	assert_int_equal(res.reason, TRACE_DROP_MALFORMED);
	assert_int_equal(res.decision, NAT_DECISION_NOT_UDP);
	assert_int_equal(nat_mapping_count(f->nat), 0);
	fx_free(f);
}

/* The verdict's facts, with no observer on the trace (they used to be words
 * built only for one): the decision, the remote, the behaviour that decided,
 * the mapping and who it lets in. */
static void test_verdict_facts_unobserved(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint stranger = {IP4(203, 0, 113, 99), 4000};
	struct endpoint ext = {PUB, 5000}, unused = {PUB, 6000};
	struct nat_result res;
	struct pkt p;

	trace_unsubscribe(engine_trace(f->e), keep_record, &f->recs);
	assert_false(trace_active(engine_trace(f->e)));

	assert_int_equal(go(f, true, &HOST, &A, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.decision, NAT_DECISION_MAPPING_CREATED);
	assert_int_equal(res.behaviour, NAT_ENDPOINT_INDEPENDENT);
	assert_int_equal(res.remote.ip, A.ip);
	assert_int_equal(res.remote.port, A.port);
	assert_int_equal(res.internal.port, HOST.port);
	assert_int_equal(res.external.ip, PUB);
	assert_int_equal(res.external.port, 5000);
	assert_int_equal(go(f, true, &HOST, &A, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.decision, NAT_DECISION_MAPPING_REUSED);

	assert_int_equal(go(f, false, &stranger, &ext, &res, &p), NAT_VERDICT_DROP);
	assert_int_equal(res.decision, NAT_DECISION_FILTERED);
	assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);
	assert_int_equal(res.behaviour, NAT_ADDRESS_AND_PORT_DEPENDENT);
	assert_int_equal(res.remote.ip, stranger.ip);
	assert_int_equal(res.remote.port, stranger.port);
	assert_int_equal(res.internal.ip, HOST.ip);
	assert_int_equal(res.n_allowed, 1);
	assert_int_equal(res.allowed[0].ip, A.ip);
	assert_int_equal(res.allowed[0].port, A.port);
	/* The words come from the facts alone. */
	assert_string_equal(why(f, &res),
			    "home dropped 203.0.113.99:4000 \u2192 203.0.113.7:5000: its mapping "
			    "for 192.168.1.5:5000 only accepts replies from 192.0.2.1:3478, the "
			    "one endpoint it has sent to (address-and-port-dependent filtering)");

	assert_int_equal(go(f, false, &A, &ext, &res, &p), NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.decision, NAT_DECISION_ADMITTED);
	assert_int_equal(go(f, false, &A, &unused, &res, &p), NAT_VERDICT_DROP);
	assert_int_equal(res.decision, NAT_DECISION_NO_MAPPING);
	assert_int_equal(res.external.port, 6000);
	assert_string_equal(why(f, &res),
			    "home dropped 192.0.2.1:3478 \u2192 203.0.113.7:6000: no mapping "
			    "uses port 6000, so there is nobody inside to deliver it to");
	fx_free(f);
}

static void test_many_mappings(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint ext[600];
	struct nat_result res;

	/* Enough mappings to grow both indexes several times. */
	for (int i = 0; i < 600; i++)
		ext[i] = out_ok(f, &HOST, &(struct endpoint){A.ip, (uint16_t)(10000 + i)});
	for (int i = 0; i < 600; i++) {
		struct endpoint from = {A.ip, (uint16_t)(10000 + i)};
		assert_true(in_admitted(f, &from, &ext[i], &HOST, &res));
		assert_int_equal(out_ok(f, &HOST, &from).port, ext[i].port);
	}
	assert_int_equal(nat_mapping_count(f->nat), 600);
	fx_free(f);
}

/* ---- ICMP (RFC 5508) ----------------------------------------------------- */

static bool endpoint_equal(const struct endpoint *a, const struct endpoint *b)
{
	return a->ip == b->ip && a->port == b->port;
}

static void echo_make(struct pkt *p, uint32_t src, uint32_t dst, uint8_t type, uint16_t id)
{
	p->len =
	    packet_build_icmp_echo(p->buf, sizeof(p->buf), src, dst, 64, 9, type, id, 1, NULL, 56);
	assert_true(p->len > 0);
	assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
}

/* An error from `from` to `to` quoting the packet in `quoted`. */
static void error_make(struct pkt *p, uint32_t from, uint32_t to, uint8_t type, uint8_t code,
		       const struct pkt *quoted)
{
	p->len = packet_build_icmp_error(p->buf, sizeof(p->buf), from, to, 64, 11, type, code,
					 quoted->buf, quoted->len);
	assert_true(p->len > 0);
	assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
}

/* Ping A from HOST with id `id` and answer it: the reply must come back to
 * HOST with the id it sent. Returns the id the NAT used outside. */
static uint16_t ping_through(struct fx *f, uint32_t to, uint16_t id)
{
	struct nat_result res;
	struct pkt p;

	echo_make(&p, HOST.ip, to, ICMP_ECHO_REQUEST, id);
	nat_translate_outbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(packet_parse(p.buf, p.len, &p.info, NULL, 0), PACKET_OK);
	assert_int_equal(p.info.src, PUB);
	assert_int_equal(res.mapping->proto, IPPROTO_NUM_ICMP);
	uint16_t ext = p.info.icmp_id;

	echo_make(&p, to, PUB, ICMP_ECHO_REPLY, ext);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(packet_parse(p.buf, p.len, &p.info, NULL, 0), PACKET_OK);
	assert_int_equal(p.info.dst, HOST.ip);
	assert_int_equal(p.info.icmp_id, id);
	return ext;
}

/* Every preset lets a ping out and its reply back (REQ-1: the id is the
 * port); an endpoint-independent one keeps the id for every destination, a
 * symmetric one maps it per destination. */
static void test_icmp_echo_presets(void **state)
{
	(void)state;
	for (size_t i = 0; i < nat_preset_count; i++) {
		struct nat_config cfg =
		    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
		assert_int_equal(nat_config_preset(&cfg, nat_presets[i].name), 0);
		struct fx *f = fx_new("home", &cfg);
		uint16_t to_a = ping_through(f, A.ip, 0x1234);
		uint16_t to_b = ping_through(f, B.ip, 0x1234);

		if (cfg.mapping == NAT_ENDPOINT_INDEPENDENT) {
			assert_int_equal(to_a, 0x1234); /* preserved, and reused */
			assert_int_equal(to_b, 0x1234);
			assert_int_equal(nat_mapping_count(f->nat), 1);
		} else {
			assert_int_not_equal(to_a, to_b);
			assert_int_equal(nat_mapping_count(f->nat), 2);
		}
		fx_free(f);
	}
}

/* An echo mapping lives icmp_timeout, not the UDP one; a request to the
 * public address finds no mapping (it is for the NAT itself); ICMP ids and
 * UDP ports are separate spaces. */
static void test_icmp_echo_timeout_and_request_in(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	cfg.icmp_timeout = SIM_S(60);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt p;

	ping_through(f, A.ip, 5000);
	const struct nat_mapping *m =
	    nat_mapping_by_external(f->nat, IPPROTO_NUM_ICMP, &(struct endpoint){PUB, 5000});
	assert_non_null(m);
	assert_int_equal(m->expires_at, SIM_S(60));
	assert_null(
	    nat_mapping_by_external(f->nat, IPPROTO_NUM_UDP, &(struct endpoint){PUB, 5000}));
	echo_make(&p, A.ip, PUB, ICMP_ECHO_REQUEST, 5000);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.decision, NAT_DECISION_NO_MAPPING);
	engine_run_until(f->e, SIM_S(60));
	assert_int_equal(nat_mapping_count(f->nat), 0);
	fx_free(f);
}

/* The words of an echo the NAT turns away: named as ICMP with its id, not
 * as ports ("203.0.113.7:0"); a request from outside is not a missing port
 * but an echo nobody inside started (RFC 5508 REQ-1); a message leaving
 * from inside is named by its own type. */
static void test_icmp_drop_sentences(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt p;

	echo_make(&p, A.ip, PUB, ICMP_ECHO_REQUEST, 5000);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.icmp_type, ICMP_ECHO_REQUEST);
	assert_string_equal(why(f, &res),
			    "home dropped the ICMP echo request 192.0.2.1 \u2192 203.0.113.7 (id "
			    "5000): a NAT maps the ids of echoes started inside (RFC 5508 REQ-1), "
			    "and nobody inside started this one, so there is nobody to deliver it "
			    "to");
	echo_make(&p, A.ip, PUB, ICMP_ECHO_REPLY, 7000);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_string_equal(why(f, &res),
			    "home dropped the ICMP echo reply 192.0.2.1 \u2192 203.0.113.7 (id "
			    "7000): no mapping uses echo id 7000, so there is nobody inside to "
			    "deliver it to");
	echo_make(&p, HOST.ip, A.ip, ICMP_ECHO_REQUEST, 1);
	p.info.icmp_type = 13; /* a timestamp request: no NAT of natsim's maps it */
	nat_translate_outbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.decision, NAT_DECISION_NOT_UDP);
	assert_int_equal(res.icmp_type, 13);
	fx_free(f);
	/* A reply from someone the echo never went to, through APDF. */
	cfg.filtering = NAT_ADDRESS_AND_PORT_DEPENDENT;
	f = fx_new("home", &cfg);
	uint16_t ext = ping_through(f, A.ip, 100);

	echo_make(&p, B.ip, PUB, ICMP_ECHO_REPLY, ext);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_int_equal(res.decision, NAT_DECISION_FILTERED);
	assert_string_equal(why(f, &res),
			    "home dropped the ICMP echo reply 198.51.100.9 \u2192 203.0.113.7 (id "
			    "100): its mapping for 192.168.1.5 id 100 only accepts echo replies "
			    "from 192.0.2.1, the one address it has pinged "
			    "(address-and-port-dependent filtering)");
	/* A NAT beyond left the quote alone (icmp-inner off): the error comes
	 * to PUB about B's ping to A. Told in the quote's own direction. */
	struct pkt quoted;

	echo_make(&quoted, B.ip, A.ip, ICMP_ECHO_REQUEST, 24253);
	error_make(&p, A2.ip, PUB, ICMP_TIME_EXCEEDED, 0, &quoted);
	nat_translate_inbound(f->nat, p.buf, p.len, &p.info, &res);
	assert_string_equal(why(f, &res),
			    "home dropped the ICMP time exceeded 192.0.2.1 \u2192 "
			    "203.0.113.7: it is about ping 198.51.100.9 \u2192 "
			    "192.0.2.1 id=24253, a flow this NAT has no mapping for, so "
			    "there is nobody to give it to");
	fx_free(f);
}

/* Recompute every checksum of an error from scratch and compare: the
 * outer ICMP one (packet_parse), the quoted IPv4 header's and, as the
 * quote holds the whole datagram, its UDP one (packet_parse of the quote). */
static void assert_error_sums(const struct pkt *p)
{
	struct packet_info in;
	uint8_t copy[PACKET_MAX_SIZE];

	assert_int_equal(packet_parse(p->buf, p->len, &in, NULL, 0), PACKET_OK);
	assert_true(in.inner.ip_sum_ok);
	assert_int_equal(packet_parse(p->buf + in.inner.offset, in.inner.len, &in, NULL, 0),
			 PACKET_OK);
	memcpy(copy, p->buf, p->len);
	packet_fill_checksums(copy, p->len);
	assert_memory_equal(copy, p->buf, p->len);
}

/* HOST:5000 -> A:3478 went out as PUB:5000; A answers port unreachable. */
static void port_unreachable_from_a(struct fx *f, struct pkt *err)
{
	struct nat_result res;
	struct pkt sent;

	assert_int_equal(go(f, true, &HOST, &A, &res, &sent), NAT_VERDICT_TRANSLATED);
	error_make(err, A.ip, PUB, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &sent);
}

/* REQ-3/4: the outer destination and the quoted source go back to the
 * inside endpoint, every checksum right, and the verdict says so. */
static void test_icmp_error_inbound(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt err;

	port_unreachable_from_a(f, &err);
	/* From a router on the path, not A: filtering does not apply. */
	err.len = packet_build_icmp_error(err.buf, sizeof(err.buf), B.ip, PUB, 64, 1,
					  ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
					  err.buf + err.info.inner.offset, err.info.inner.len);
	assert_int_equal(packet_parse(err.buf, err.len, &err.info, NULL, 0), PACKET_OK);
	nat_translate_error_inbound(f->nat, err.buf, err.len, &err.info, true, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.decision, NAT_DECISION_RELATED);
	assert_true(res.icmp_error && res.inner_translated);
	assert_int_equal(res.icmp_code, ICMP_PORT_UNREACH);
	assert_true(endpoint_equal(&res.inner_before, &(struct endpoint){PUB, 5000}));
	assert_true(endpoint_equal(&res.inner_after, &HOST));
	assert_true(endpoint_equal(&res.remote, &A));
	assert_false(res.refreshed);
	assert_error_sums(&err);
	assert_int_equal(packet_parse(err.buf, err.len, &err.info, NULL, 0), PACKET_OK);
	assert_int_equal(err.info.dst, HOST.ip);
	assert_int_equal(err.info.src, B.ip);
	assert_int_equal(err.info.inner.src, HOST.ip);
	assert_int_equal(err.info.inner.sport, HOST.port);
	assert_int_equal(err.info.inner.dst, A.ip);
	assert_int_equal(err.info.inner.dport, A.port);
	fx_free(f);
}

/* The ways real NATs fail: icmp_inner off leaves the quote as it was
 * (checksums still right), icmp_errors off drops every error. */
static void test_icmp_error_options(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	cfg.icmp_inner = false;
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt err;

	port_unreachable_from_a(f, &err);
	nat_translate_inbound(f->nat, err.buf, err.len, &err.info, &res); /* hands it on */
	assert_int_equal(res.decision, NAT_DECISION_RELATED);
	assert_false(res.inner_translated);
	assert_error_sums(&err);
	assert_int_equal(packet_parse(err.buf, err.len, &err.info, NULL, 0), PACKET_OK);
	assert_int_equal(err.info.dst, HOST.ip);
	assert_int_equal(err.info.inner.src, PUB);
	fx_free(f);

	cfg.icmp_inner = true;
	cfg.icmp_errors = false;
	f = fx_new("home", &cfg);
	port_unreachable_from_a(f, &err);
	nat_translate_error_inbound(f->nat, err.buf, err.len, &err.info, true, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_DROP);
	assert_int_equal(res.decision, NAT_DECISION_ICMP_ERRORS_OFF);
	assert_int_equal(res.reason, TRACE_DROP_NAT_FILTER);
	fx_free(f);
}

/* An error about no flow the NAT has, or one conntrack did not place:
 * dropped icmp-no-flow, never delivered. */
static void test_icmp_error_no_flow(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt err, fake;

	port_unreachable_from_a(f, &err);
	nat_translate_error_inbound(f->nat, err.buf, err.len, &err.info, false, &res);
	assert_int_equal(res.decision, NAT_DECISION_ICMP_NO_FLOW);
	assert_int_equal(res.reason, TRACE_DROP_ICMP_NO_FLOW);
	/* Quoting PUB:5000 -> B (a remote the mapping never sent to). */
	pkt_make(&fake, &(struct endpoint){PUB, 5000}, &B);
	error_make(&err, B.ip, PUB, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &fake);
	nat_translate_error_inbound(f->nat, err.buf, err.len, &err.info, true, &res);
	assert_int_equal(res.decision, NAT_DECISION_ICMP_NO_FLOW);
	/* Quoting a port no mapping uses. */
	pkt_make(&fake, &(struct endpoint){PUB, 6000}, &A);
	error_make(&err, A.ip, PUB, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &fake);
	nat_translate_inbound(f->nat, err.buf, err.len, &err.info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_DROP);
	assert_int_equal(res.decision, NAT_DECISION_ICMP_NO_FLOW);
	assert_true(endpoint_equal(&res.external, &(struct endpoint){PUB, 6000}));
	fx_free(f);
}

/* A server behind a port forward answers A's datagram with port
 * unreachable: outer source and quoted destination become the public side. */
static void test_icmp_error_outbound(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct fx *f = fx_new("home", &cfg);
	struct endpoint fwd = {PUB, 8080};
	struct nat_result res;
	struct pkt in, err;

	assert_int_equal(nat_add_forward(f->nat, IPPROTO_NUM_UDP, 8080, &HOST), 0);
	assert_int_equal(go(f, false, &A, &fwd, &res, &in), NAT_VERDICT_TRANSLATED);
	error_make(&err, HOST.ip, A.ip, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, &in);
	nat_translate_outbound(f->nat, err.buf, err.len, &err.info, &res);
	assert_int_equal(res.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(res.decision, NAT_DECISION_RELATED);
	assert_true(endpoint_equal(&res.inner_before, &HOST));
	assert_true(endpoint_equal(&res.inner_after, &fwd));
	assert_error_sums(&err);
	assert_int_equal(packet_parse(err.buf, err.len, &err.info, NULL, 0), PACKET_OK);
	assert_int_equal(err.info.src, PUB);
	assert_int_equal(err.info.dst, A.ip);
	assert_int_equal(err.info.inner.src, A.ip);
	assert_int_equal(err.info.inner.dst, PUB);
	assert_int_equal(err.info.inner.dport, 8080);
	fx_free(f);
}

/* A time exceeded about a ping finds the echo mapping by the quoted id
 * and gives HOST its own id back inside. */
static void test_icmp_error_about_echo(void **state)
{
	(void)state;
	struct nat_config cfg =
	    config(NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	struct fx *f = fx_new("home", &cfg);
	struct nat_result res;
	struct pkt ping, err;

	echo_make(&ping, HOST.ip, A.ip, ICMP_ECHO_REQUEST, 42);
	nat_translate_outbound(f->nat, ping.buf, ping.len, &ping.info, &res);
	assert_int_equal(packet_parse(ping.buf, ping.len, &ping.info, NULL, 0), PACKET_OK);
	error_make(&err, B.ip, PUB, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, &ping);
	nat_translate_inbound(f->nat, err.buf, err.len, &err.info, &res);
	assert_int_equal(res.decision, NAT_DECISION_RELATED);
	assert_int_equal(packet_parse(err.buf, err.len, &err.info, NULL, 0), PACKET_OK);
	assert_int_equal(err.info.dst, HOST.ip);
	assert_int_equal(err.info.inner.src, HOST.ip);
	assert_int_equal(err.info.inner.icmp_id, 42);
	assert_true(err.info.inner.ip_sum_ok);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mapping_filtering_matrix),
	    cmocka_unit_test(test_port_preservation_and_fallback),
	    cmocka_unit_test(test_sequential_allocation_wraps),
	    cmocka_unit_test(test_random_allocation_fills_range),
	    cmocka_unit_test(test_expiry_outbound_refresh),
	    cmocka_unit_test(test_expiry_inbound_refresh),
	    cmocka_unit_test(test_many_refreshes_one_event),
	    cmocka_unit_test(test_trace_records),
	    cmocka_unit_test(test_static_forward),
	    cmocka_unit_test(test_reboot_keeps_forwards),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_paired_pooling),
	    cmocka_unit_test(test_arbitrary_pooling),
	    cmocka_unit_test(test_flow_closed),
	    cmocka_unit_test(test_checksums_after_translation),
	    cmocka_unit_test(test_drop_sentences),
	    cmocka_unit_test(test_no_mapping_sentence),
	    cmocka_unit_test(test_classic_names_and_presets),
	    cmocka_unit_test(test_behaviour_names_and_parse),
	    cmocka_unit_test(test_foreach_order),
	    cmocka_unit_test(test_non_udp_is_refused),
	    cmocka_unit_test(test_many_mappings),
	    cmocka_unit_test(test_verdict_facts_unobserved),
	    cmocka_unit_test(test_many_remotes),
	    cmocka_unit_test(test_icmp_echo_presets),
	    cmocka_unit_test(test_icmp_echo_timeout_and_request_in),
	    cmocka_unit_test(test_icmp_drop_sentences),
	    cmocka_unit_test(test_icmp_error_inbound),
	    cmocka_unit_test(test_icmp_error_options),
	    cmocka_unit_test(test_icmp_error_no_flow),
	    cmocka_unit_test(test_icmp_error_outbound),
	    cmocka_unit_test(test_icmp_error_about_echo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
