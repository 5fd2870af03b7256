/*
 * test_nat_tcp.c - the NAT's own rules for TCP (RFC 5382), without a router:
 * a segment is translated under the mapping behaviour with its checksum kept
 * right, port preservation as for UDP, TCP and UDP mappings apart, a TCP
 * mapping with no timer that goes with its last connection
 * (nat_flow_closed), filtering for segments, and an ICMP error quoting a
 * TCP segment translated back (RFC 5508 with a TCP inner header).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/nat.h"
#include "model/packet.h"
#include "sim/engine.h"
#include "sim/rng.h"

#define PUB IP4(203, 0, 113, 7)

static const struct endpoint HOST = {IP4(192, 168, 1, 5), 40000};
static const struct endpoint HOST2 = {IP4(192, 168, 1, 6), 40000};
static const struct endpoint A = {IP4(192, 0, 2, 1), 80};
static const struct endpoint B = {IP4(198, 51, 100, 9), 443};

struct fx {
	struct engine *e;
	struct nat *nat;
};

static struct fx *fx_new(enum nat_behaviour m, enum nat_behaviour f, enum nat_port_assignment p)
{
	struct fx *x = test_calloc(1, sizeof(*x));
	struct nat_config cfg;
	struct rng rng;

	assert_non_null(x);
	nat_config_default(&cfg);
	cfg.mapping = m;
	cfg.filtering = f;
	cfg.ports = p;
	cfg.n_public = 1;
	cfg.public_ip[0] = PUB;
	x->e = engine_new();
	rng_derive(&rng, 42, "nat:test:tcp");
	x->nat = nat_new(x->e, "home", &cfg, &rng);
	assert_non_null(x->nat);
	return x;
}

static void fx_free(struct fx *x)
{
	nat_free(x->nat);
	engine_free(x->e);
	test_free(x);
}

struct pkt {
	uint8_t buf[PACKET_MAX_SIZE];
	size_t len;
	struct packet_info info;
};

static void tcp_make(struct pkt *p, const struct endpoint *src, const struct endpoint *dst,
		     uint8_t flags)
{
	struct tcp_segment s = {.flags = flags, .seq = 1000, .ack = 0, .window = 1024};

	p->len = packet_build_tcp(p->buf, sizeof(p->buf), src, dst, 64, 7, &s);
	assert_true(p->len > 0);
	assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
}

/* src -> dst through the NAT; a translated segment is parsed again (the
 * strict parser proves the TCP checksum was kept right). */
static struct nat_result go(struct fx *x, bool outbound, const struct endpoint *src,
			    const struct endpoint *dst, struct pkt *p)
{
	struct nat_result res;

	tcp_make(p, src, dst, TCP_SYN);
	if (outbound)
		nat_translate_outbound(x->nat, p->buf, p->len, &p->info, &res);
	else
		nat_translate_inbound(x->nat, p->buf, p->len, &p->info, &res);
	if (res.verdict == NAT_VERDICT_TRANSLATED)
		assert_int_equal(packet_parse(p->buf, p->len, &p->info, NULL, 0), PACKET_OK);
	return res;
}

static void test_outbound_preserves_port_and_sum(void **state)
{
	struct fx *x =
	    fx_new(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct pkt p;
	struct nat_result r = go(x, true, &HOST, &A, &p);

	(void)state;
	assert_int_equal(r.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(r.decision, NAT_DECISION_MAPPING_CREATED);
	assert_int_equal(p.info.src, PUB);
	assert_int_equal(p.info.sport, 40000);
	assert_int_equal(p.info.proto, IPPROTO_NUM_TCP);
	/* The second host with the same port gets another (REQ-3 note). */
	go(x, true, &HOST2, &A, &p);
	assert_int_not_equal(p.info.sport, 40000);
	fx_free(x);
}

/* TCP and UDP mappings are apart: the same inside port maps on both
 * without a clash, and a UDP mapping lets no segment in. */
static void test_tcp_and_udp_apart(void **state)
{
	struct fx *x =
	    fx_new(NAT_ENDPOINT_INDEPENDENT, NAT_ENDPOINT_INDEPENDENT, NAT_PORT_PRESERVE);
	struct endpoint ext = {PUB, 40000};
	struct pkt p;
	struct nat_result r;
	uint8_t udp[128];
	struct packet_info ui;
	size_t ulen = packet_build_udp(udp, sizeof(udp), &HOST, &A, 64, 1, "x", 1);

	(void)state;
	assert_int_equal(packet_parse(udp, ulen, &ui, NULL, 0), PACKET_OK);
	nat_translate_outbound(x->nat, udp, ulen, &ui, &r);
	assert_int_equal(r.verdict, NAT_VERDICT_TRANSLATED);
	r = go(x, false, &A, &ext, &p);
	assert_int_equal(r.decision, NAT_DECISION_NO_MAPPING);
	go(x, true, &HOST, &A, &p);
	assert_int_equal(p.info.sport, 40000);
	assert_int_equal(nat_mapping_count(x->nat), 2);
	fx_free(x);
}

/* No timer: an hour later the mapping is there; its last flow closing
 * takes it, an earlier one only takes that remote. */
static void test_mapping_kept_by_flows(void **state)
{
	struct fx *x =
	    fx_new(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct endpoint ext = {PUB, 40000};
	struct pkt p;

	(void)state;
	go(x, true, &HOST, &A, &p);
	go(x, true, &HOST, &B, &p);
	const struct nat_mapping *m = nat_mapping_by_external(x->nat, IPPROTO_NUM_TCP, &ext);
	assert_non_null(m);
	assert_int_equal(m->expires_at, SIM_TIME_NEVER);
	engine_run_until(x->e, SIM_S(3600));
	assert_int_equal(nat_mapping_count(x->nat), 1);
	nat_flow_closed(x->nat, IPPROTO_NUM_TCP, &HOST, &ext, &A);
	assert_int_equal(nat_mapping_count(x->nat), 1);
	assert_int_equal(go(x, false, &A, &ext, &p).decision, NAT_DECISION_FILTERED);
	assert_int_equal(go(x, false, &B, &ext, &p).verdict, NAT_VERDICT_TRANSLATED);
	nat_flow_closed(x->nat, IPPROTO_NUM_TCP, &HOST, &ext, &B);
	assert_int_equal(nat_mapping_count(x->nat), 0);
	fx_free(x);
}

/* A forward for TCP stays when its flows close (it is static). */
static void test_forward_survives_flows(void **state)
{
	struct fx *x =
	    fx_new(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_PRESERVE);
	struct endpoint srv = {HOST.ip, 22}, ext = {PUB, 2222};
	struct pkt p;

	(void)state;
	assert_int_equal(nat_add_forward(x->nat, IPPROTO_NUM_TCP, 2222, &srv), 0);
	assert_int_equal(go(x, false, &A, &ext, &p).verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(p.info.dport, 22);
	go(x, true, &srv, &A, &p); /* the answer leaves from the forward */
	assert_int_equal(p.info.sport, 2222);
	nat_flow_closed(x->nat, IPPROTO_NUM_TCP, &srv, &ext, &A);
	assert_int_equal(nat_mapping_count(x->nat), 1);
	fx_free(x);
}

/* RFC 5508 with TCP inside: a port unreachable about a segment that left
 * through the mapping is given back to the inside host with the quoted
 * source rewritten to it. */
static void test_icmp_error_quoting_tcp(void **state)
{
	struct fx *x =
	    fx_new(NAT_ENDPOINT_INDEPENDENT, NAT_ADDRESS_AND_PORT_DEPENDENT, NAT_PORT_RANDOM);
	struct pkt p;
	uint8_t err[PACKET_MAX_SIZE];
	struct packet_info ei;
	struct nat_result r;

	(void)state;
	go(x, true, &HOST, &A, &p); /* p now as it left */
	size_t elen =
	    packet_build_icmp_error(err, sizeof(err), A.ip, PUB, 64, 1, 3, 3, p.buf, p.len);
	assert_true(elen > 0);
	assert_int_equal(packet_parse(err, elen, &ei, NULL, 0), PACKET_OK);
	nat_translate_inbound(x->nat, err, elen, &ei, &r);
	assert_int_equal(r.verdict, NAT_VERDICT_TRANSLATED);
	assert_int_equal(r.inner_proto, IPPROTO_NUM_TCP);
	assert_int_equal(packet_parse(err, elen, &ei, NULL, 0), PACKET_OK);
	assert_int_equal(ei.dst, HOST.ip);
	assert_int_equal(ei.inner.src, HOST.ip);
	assert_int_equal(ei.inner.sport, HOST.port);
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_outbound_preserves_port_and_sum),
	    cmocka_unit_test(test_tcp_and_udp_apart),
	    cmocka_unit_test(test_mapping_kept_by_flows),
	    cmocka_unit_test(test_forward_survives_flows),
	    cmocka_unit_test(test_icmp_error_quoting_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
