/*
 * test_nat64.c - the stateful NAT64 (model/nat64.h, RFC 6146): a UDP flow
 * out and its reply back with the binding in the trace, endpoint-
 * independent mapping, address-dependent and endpoint-independent
 * filtering, port preservation and its fallback, paired pooling, exhaustion,
 * lifetimes (UDP 5 min, ICMP 60 s), ping by its identifier, ICMP errors
 * both ways through the binding their quote names, what it refuses, and
 * TCP's session walk (RFC 6146 3.5.2.2), its lifetimes and refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "model/nat64.h"
#include "model/packet.h"
#include "model/packet6.h"
#include "sim/engine.h"

#define SERVER 0xcb00710a /* 203.0.113.10 */
#define OTHER 0xcb00710b  /* 203.0.113.11 */
#define POOL 0xc6336401	  /* 198.51.100.1 */
#define POOL2 0xc6336402

static struct ip6_addr addr(const char *s)
{
	struct ip6_addr a;

	assert_int_equal(ip6_parse(s, &a, NULL), IP6_OK);
	return a;
}

struct fixture {
	int64_t clock;
	struct trace trace;
	struct trace_mapping recs[32];
	size_t n_recs;
	struct nat64 *nat;
	uint8_t out[1600];
	size_t out_len;
};

static void keep(const struct trace_record *r, void *ctx)
{
	struct fixture *f = ctx;
	if (r->kind == TRACE_MAPPING && f->n_recs < 32)
		f->recs[f->n_recs++] = r->u.map;
}

static struct fixture *setup_with(enum nat_behaviour filtering, uint16_t lo, uint16_t hi)
{
	static struct fixture f;
	struct nat64_config cfg;

	memset(&f, 0, sizeof(f));
	trace_init(&f.trace, &f.clock);
	trace_subscribe(&f.trace, keep, &f);
	nat64_config_default(&cfg, POOL);
	cfg.filtering = filtering;
	cfg.port_lo = lo;
	cfg.port_hi = hi;
	f.nat = nat64_new(&cfg, &f.trace, "nat64");
	assert_non_null(f.nat);
	return &f;
}

static int setup(void **state)
{
	*state = setup_with(NAT_ADDRESS_DEPENDENT, 1024, 65535);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	nat64_free(f->nat);
	return 0;
}

/* [host]:sport -> [64:ff9b::dst4]:dport through the NAT64 at `now`. */
static struct nat64_result send_out(struct fixture *f, int64_t now, const char *host,
				    uint16_t sport, uint32_t dst4, uint16_t dport)
{
	struct ip6_addr wkp = xlat_well_known_prefix();
	struct endpoint6 s = {addr(host), sport}, d = {xlat_synthesize(&wkp, dst4), dport};
	uint8_t in[200];
	size_t n = packet6_build_udp(in, sizeof(in), &s, &d, 63, 0, "hi", 2);

	f->clock = now;
	return nat64_translate_6to4(f->nat, now, in, n, f->out, sizeof(f->out), &f->out_len);
}

/* src4:sport -> POOL:dport back in. */
static struct nat64_result send_in(struct fixture *f, int64_t now, uint32_t src4, uint16_t sport,
				   uint32_t dst4, uint16_t dport)
{
	struct endpoint s = {src4, sport}, d = {dst4, dport};
	uint8_t in[200];
	size_t n = packet_build_udp(in, sizeof(in), &s, &d, 50, 1, "yo", 2);

	f->clock = now;
	return nat64_translate_4to6(f->nat, now, in, n, f->out, sizeof(f->out), &f->out_len);
}

static void test_udp_out_and_back(void **state)
{
	struct fixture *f = *state;
	struct packet_info pi;
	struct packet6_info p6;

	struct nat64_result r = send_out(f, SIM_S(1), "2001:db8:1::5", 5000, SERVER, 3478);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_true(r.created);
	assert_int_equal(packet_parse(f->out, f->out_len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.src, POOL);
	assert_int_equal(pi.sport, 5000); /* preserved */
	assert_int_equal(pi.dst, SERVER);
	/* The binding in the trace: created, then the remote it sent to. */
	assert_int_equal(f->n_recs, 2);
	assert_int_equal(f->recs[0].event, TRACE_MAP_CREATED);
	assert_int_equal(f->recs[0].family, 6);
	assert_true(ip6_equal(&f->recs[0].internal6.ip, &r.binding.internal.ip));
	assert_int_equal(f->recs[0].internal6.port, 5000);
	assert_int_equal(f->recs[0].external.ip, POOL);
	assert_int_equal(f->recs[0].expires_at, SIM_S(301)); /* UDP_DEFAULT */
	assert_int_equal(f->recs[1].event, TRACE_MAP_REMOTE_ADDED);
	assert_int_equal(f->recs[1].remote.ip, SERVER);
	/* The reply comes back from 64:ff9b::203.0.113.10. */
	r = send_in(f, SIM_S(2), SERVER, 3478, POOL, 5000);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet6_parse(f->out, f->out_len, &p6, NULL, 0), PACKET_OK);
	char text[IP6_TEXT_SIZE];
	assert_string_equal(ip6_format(&p6.src, text, sizeof(text)), "64:ff9b::cb00:710a");
	assert_string_equal(ip6_format(&p6.dst, text, sizeof(text)), "2001:db8:1::5");
	assert_int_equal(p6.dport, 5000);
	assert_int_equal(p6.sport, 3478);
}

static void test_mapping_eim_filtering_adf(void **state)
{
	struct fixture *f = *state;

	send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 3478);
	struct nat64_result r = send_out(f, 0, "2001:db8:1::5", 5000, OTHER, 9999);
	assert_false(r.created); /* endpoint-independent mapping */
	assert_int_equal(r.binding.external.port, 5000);
	assert_int_equal(nat64_count(f->nat), 1);
	/* ADF: an address it has sent to may answer from any port; another may not. */
	assert_int_equal(send_in(f, 0, OTHER, 1, POOL, 5000).verdict, NAT64_TRANSLATED);
	assert_int_equal(send_in(f, 0, 0x08080808, 53, POOL, 5000).verdict, NAT64_DROP_FILTERED);
	assert_int_equal(send_in(f, 0, SERVER, 3478, POOL, 5001).verdict, NAT64_DROP_NO_BINDING);
	assert_int_equal(send_in(f, 0, SERVER, 3478, POOL2, 5000).verdict, NAT64_DROP_NOT_OURS);
}

static void test_filtering_eif(void **state)
{
	(void)state;
	struct fixture *f = setup_with(NAT_ENDPOINT_INDEPENDENT, 1024, 65535);

	send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 3478);
	assert_int_equal(send_in(f, 0, 0x08080808, 53, POOL, 5000).verdict, NAT64_TRANSLATED);
	nat64_free(f->nat);
}

static void test_ports_and_exhaustion(void **state)
{
	(void)state;
	struct fixture *f = setup_with(NAT_ADDRESS_DEPENDENT, 4999, 5000);

	assert_int_equal(send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 1).binding.external.port,
			 5000);
	/* Another host's 5000 is taken: the next free port from port_lo. */
	assert_int_equal(send_out(f, 0, "2001:db8:1::6", 5000, SERVER, 1).binding.external.port,
			 4999);
	assert_int_equal(send_out(f, 0, "2001:db8:1::7", 5000, SERVER, 1).verdict,
			 NAT64_DROP_EXHAUSTED);
	nat64_free(f->nat);
}

/* RFC 6146 section 4: UDP_MIN is 2 minutes, UDP_DEFAULT 5, ICMP_DEFAULT
 * 60 s; a UDP lifetime under UDP_MIN is refused (as Jool's
 * validate_timeout refuses it). */
static void test_lifetime_config(void **state)
{
	(void)state;
	struct nat64_config cfg;

	nat64_config_default(&cfg, POOL);
	assert_int_equal(cfg.udp_timeout, SIM_S(300));
	assert_int_equal(cfg.icmp_timeout, SIM_S(60));
	cfg.udp_timeout = SIM_S(120) - 1;
	assert_null(nat64_new(&cfg, NULL, "nat64"));
	cfg.udp_timeout = SIM_S(120);
	struct nat64 *n = nat64_new(&cfg, NULL, "nat64");
	assert_non_null(n);
	nat64_free(n);
	cfg.icmp_timeout = 0;
	assert_null(nat64_new(&cfg, NULL, "nat64"));
}

static void test_paired_pooling(void **state)
{
	(void)state;
	struct nat64_config cfg;
	uint8_t in[200], out[200];
	size_t m;
	struct ip6_addr wkp = xlat_well_known_prefix();
	struct endpoint6 d = {xlat_synthesize(&wkp, SERVER), 1};
	const char *hosts[] = {"2001:db8:1::5", "2001:db8:1::6", "2001:db8:1::5"};
	const uint32_t want[] = {POOL, POOL2, POOL};

	nat64_config_default(&cfg, POOL);
	cfg.pool[1] = POOL2;
	cfg.n_pool = 2;
	struct nat64 *n = nat64_new(&cfg, NULL, "nat64");
	for (int k = 0; k < 3; k++) {
		struct endpoint6 s = {addr(hosts[k]), (uint16_t)(6000 + k)};
		size_t len = packet6_build_udp(in, sizeof(in), &s, &d, 64, 0, "x", 1);
		struct nat64_result r = nat64_translate_6to4(n, 0, in, len, out, sizeof(out), &m);
		assert_int_equal(r.binding.external.ip, want[k]);
	}
	nat64_free(n);
}

static void test_lifetimes(void **state)
{
	struct fixture *f = *state;
	struct ip6_addr h = addr("2001:db8:1::5"), wkp = xlat_well_known_prefix();
	struct ip6_addr s = xlat_synthesize(&wkp, SERVER);
	uint8_t in[200];

	send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 3478);
	size_t n =
	    packet6_build_icmp_echo(in, sizeof(in), &h, &s, 64, ICMP6_ECHO_REQUEST, 7, 1, NULL, 8);
	struct nat64_result r =
	    nat64_translate_6to4(f->nat, SIM_S(10), in, n, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.binding.proto, IPPROTO_NUM_ICMP);
	assert_int_equal(nat64_next_deadline(f->nat), SIM_S(70)); /* ICMP_Default: 60 s */
	/* A reply refreshes the UDP binding (RFC 6146 3.5.1). */
	assert_int_equal(send_in(f, SIM_S(100), SERVER, 3478, POOL, 5000).verdict,
			 NAT64_TRANSLATED);
	f->clock = SIM_S(70);
	nat64_expire(f->nat, SIM_S(70));
	assert_int_equal(nat64_count(f->nat), 1);
	assert_int_equal(f->recs[f->n_recs - 1].event, TRACE_MAP_EXPIRED);
	assert_int_equal(f->recs[f->n_recs - 1].proto, IPPROTO_NUM_ICMP);
	assert_int_equal(nat64_next_deadline(f->nat), SIM_S(400));
	assert_int_equal(send_in(f, SIM_S(400), SERVER, 3478, POOL, 5000).verdict,
			 NAT64_DROP_NO_BINDING);
	assert_int_equal(nat64_count(f->nat), 0);
}

static void test_ping(void **state)
{
	struct fixture *f = *state;
	struct ip6_addr h = addr("2001:db8:1::5"), wkp = xlat_well_known_prefix();
	struct ip6_addr s = xlat_synthesize(&wkp, SERVER);
	uint8_t in[200];
	struct packet_info pi;
	struct packet6_info p6;

	size_t n =
	    packet6_build_icmp_echo(in, sizeof(in), &h, &s, 64, ICMP6_ECHO_REQUEST, 7, 1, NULL, 8);
	struct nat64_result r =
	    nat64_translate_6to4(f->nat, 0, in, n, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet_parse(f->out, f->out_len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.icmp_id, r.binding.external.port);
	n = packet_build_icmp_echo(in, sizeof(in), SERVER, POOL, 60, 1, ICMP_ECHO_REPLY, pi.icmp_id,
				   1, NULL, 8);
	r = nat64_translate_4to6(f->nat, 0, in, n, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet6_parse(f->out, f->out_len, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_type, ICMP6_ECHO_REPLY);
	assert_int_equal(p6.icmp_id, 7);
	/* A ping from the IPv4 side to the pool: no binding takes it. */
	n = packet_build_icmp_echo(in, sizeof(in), SERVER, POOL, 60, 1, ICMP_ECHO_REQUEST, 7, 1,
				   NULL, 8);
	r = nat64_translate_4to6(f->nat, 0, in, n, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_DROP_UNSUPPORTED);
}

static void test_errors_through_the_binding(void **state)
{
	struct fixture *f = *state;
	uint8_t orig[200], err[600];
	struct packet6_info p6;
	struct packet_info pi;

	send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 9);
	memcpy(orig, f->out, f->out_len);
	/* The server's port unreachable, to the host as ICMPv6. */
	size_t e = packet_build_icmp_error(err, sizeof(err), SERVER, POOL, 64, 0, ICMP_DEST_UNREACH,
					   ICMP_PORT_UNREACH, orig, f->out_len);
	struct nat64_result r =
	    nat64_translate_4to6(f->nat, 0, err, e, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet6_parse(f->out, f->out_len, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_code, ICMP6_PORT_UNREACH);
	assert_int_equal(p6.inner.sport, 5000);
	assert_true(ip6_equal(&p6.inner.src, &r.binding.internal.ip));
	/* A router on the IPv6 side reports on a reply that came in. */
	assert_int_equal(send_in(f, 0, SERVER, 9, POOL, 5000).verdict, NAT64_TRANSLATED);
	memcpy(orig, f->out, f->out_len);
	struct ip6_addr router = addr("2001:db8:ff::1"), to = p6.inner.dst;
	e = packet6_build_icmp_error(err, sizeof(err), &router, &to, 64, ICMP6_DEST_UNREACH,
				     ICMP6_ADDR_UNREACH, 0, orig, f->out_len);
	r = nat64_translate_6to4(f->nat, 0, err, e, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet_parse(f->out, f->out_len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.src, POOL); /* the router has no IPv4 address */
	assert_int_equal(pi.icmp_code, ICMP_HOST_UNREACH);
	assert_int_equal(pi.inner.dst, POOL);
	assert_int_equal(pi.inner.dport, 5000);
	/* An error about a flow no binding holds. */
	orig[40 + 2] = 0x99; /* the quoted reply's destination port */
	e = packet6_build_icmp_error(err, sizeof(err), &router, &to, 64, ICMP6_DEST_UNREACH,
				     ICMP6_ADDR_UNREACH, 0, orig, 48);
	r = nat64_translate_6to4(f->nat, 0, err, e, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_DROP_NO_BINDING);
}

/* A parameter problem about a bound flow goes through the binding like
 * any error (RFC 6146 3.4, RFC 7915 4.2); one whose pointer has no
 * counterpart is refused as untranslatable, with RFC 7915's reason. */
static void test_parameter_problem_through_the_binding(void **state)
{
	struct fixture *f = *state;
	uint8_t orig[200], err[600];
	struct packet6_info p6;

	send_out(f, 0, "2001:db8:1::5", 5000, SERVER, 9);
	memcpy(orig, f->out, f->out_len);
	size_t orig_len = f->out_len;
	size_t e = packet_build_icmp_error(err, sizeof(err), SERVER, POOL, 64, 0,
					   ICMP_PARAMETER_PROBLEM, 0, orig, orig_len);
	err[20 + 4] = 9; /* the protocol field */
	packet_fill_checksums(err, e);
	struct nat64_result r =
	    nat64_translate_4to6(f->nat, 0, err, e, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(packet6_parse(f->out, f->out_len, &p6, NULL, 0), PACKET_OK);
	assert_int_equal(p6.icmp_type, ICMP6_PARAM_PROBLEM);
	assert_int_equal(p6.icmp_param, 6); /* the next header field */
	assert_int_equal(p6.inner.sport, 5000);
	err[20 + 4] = 4; /* the Identification: no IPv6 counterpart */
	packet_fill_checksums(err, e);
	r = nat64_translate_4to6(f->nat, 0, err, e, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_DROP_UNTRANSLATABLE);
	assert_int_equal(r.xlat, XLAT_ERR_PARAM_POINTER);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct ip6_addr h = addr("2001:db8:1::5"), wkp = xlat_well_known_prefix();
	struct ip6_addr s = xlat_synthesize(&wkp, SERVER), elsewhere = addr("2001:db8:2::1");
	uint8_t in[200];
	size_t n =
	    packet6_build_icmp_echo(in, sizeof(in), &h, &s, 255, ICMP6_ECHO_REQUEST, 1, 1, NULL, 0);

	in[40] = 135; /* neighbour solicitation */
	packet6_fill_checksums(in, n);
	struct nat64_result r =
	    nat64_translate_6to4(f->nat, 0, in, n, f->out, sizeof(f->out), &f->out_len);
	assert_int_equal(r.verdict, NAT64_DROP_UNTRANSLATABLE);
	assert_int_equal(r.xlat, XLAT_ERR_ICMP_UNTRANSLATABLE);
	in[6] = IPPROTO_NUM_TCP;
	assert_int_equal(nat64_translate_6to4(f->nat, 0, in, 30, f->out, 200, &f->out_len).verdict,
			 NAT64_DROP_MALFORMED);
	n = packet6_build_icmp_echo(in, sizeof(in), &h, &elsewhere, 64, ICMP6_ECHO_REQUEST, 1, 1,
				    NULL, 0);
	assert_int_equal(nat64_translate_6to4(f->nat, 0, in, n, f->out, 200, &f->out_len).verdict,
			 NAT64_DROP_NOT_OURS);
	assert_string_equal(nat64_verdict_name(NAT64_DROP_FILTERED), "filtered");
	assert_int_equal(f->n_recs, 0); /* nothing was bound */
}

/* ---- TCP (RFC 6146 3.5.2) ---------------------------------------------------- */

#define HOST6 "2001:db8:1::5"
#define TCP_EST SIM_S(2 * 3600 + 4 * 60) /* RFC 6146 4 */
#define TCP_TRANS SIM_S(4 * 60)

/* A segment with `flags` from [HOST6]:40000 to [64:ff9b::SERVER]:80. */
static struct nat64_result tcp_out(struct fixture *f, int64_t now, uint8_t flags)
{
	struct ip6_addr wkp = xlat_well_known_prefix();
	struct endpoint6 s = {addr(HOST6), 40000}, d = {xlat_synthesize(&wkp, SERVER), 80};
	struct tcp_segment seg = {.flags = flags, .seq = 1, .ack = 1, .window = 100};
	uint8_t in[200];
	size_t n = packet6_build_tcp(in, sizeof(in), &s, &d, 64, 0, &seg);

	f->clock = now;
	return nat64_translate_6to4(f->nat, now, in, n, f->out, sizeof(f->out), &f->out_len);
}

/* A segment with `flags` from src4:sport to POOL:40000. */
static struct nat64_result tcp_in(struct fixture *f, int64_t now, uint32_t src4, uint16_t sport,
				  uint8_t flags)
{
	struct endpoint s = {src4, sport}, d = {POOL, 40000};
	struct tcp_segment seg = {.flags = flags, .seq = 7, .ack = 2, .window = 100};
	uint8_t in[200];
	size_t n = packet_build_tcp(in, sizeof(in), &s, &d, 64, 1, &seg);

	f->clock = now;
	return nat64_translate_4to6(f->nat, now, in, n, f->out, sizeof(f->out), &f->out_len);
}

/* The session's state and expiry after a segment that went through. */
static void assert_session(struct nat64_result r, enum nat64_tcp_state s, int64_t expires)
{
	assert_int_equal(r.verdict, NAT64_TRANSLATED);
	assert_int_equal(r.binding.proto, IPPROTO_NUM_TCP);
	assert_string_equal(nat64_tcp_state_name(r.binding.tcp_state), nat64_tcp_state_name(s));
	assert_int_equal(r.binding.expires_at, expires);
}

/* An IPv6-opened connection through the whole walk: V6 INIT, ESTABLISHED,
 * V6 FIN RCV, V4 FIN + V6 FIN RCV, gone at exactly TCP_TRANS after. */
static void test_tcp_state_walk(void **state)
{
	struct fixture *f = *state;
	struct packet_info pi;

	struct nat64_result r = tcp_out(f, SIM_S(1), TCP_SYN);
	assert_true(r.created);
	assert_session(r, NAT64_TCP_V6_INIT, SIM_S(1) + TCP_TRANS);
	assert_int_equal(packet_parse(f->out, f->out_len, &pi, NULL, 0), PACKET_OK);
	assert_int_equal(pi.proto, IPPROTO_NUM_TCP);
	assert_int_equal(pi.src, POOL);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.tcp_flags, TCP_SYN);
	assert_int_equal(f->recs[0].event, TRACE_MAP_CREATED);
	assert_int_equal(f->recs[0].family, 6);
	assert_int_equal(f->recs[0].proto, IPPROTO_NUM_TCP);
	assert_session(tcp_in(f, SIM_S(2), SERVER, 80, TCP_SYN | TCP_ACK), NAT64_TCP_ESTABLISHED,
		       SIM_S(2) + TCP_EST);
	assert_session(tcp_out(f, SIM_S(3), TCP_ACK), NAT64_TCP_ESTABLISHED, SIM_S(3) + TCP_EST);
	/* A FIN moves the state and leaves the lifetime (3.5.2.2). */
	assert_session(tcp_out(f, SIM_S(4), TCP_FIN | TCP_ACK), NAT64_TCP_V6_FIN_RCV,
		       SIM_S(3) + TCP_EST);
	assert_session(tcp_in(f, SIM_S(5), SERVER, 80, TCP_ACK), NAT64_TCP_V6_FIN_RCV,
		       SIM_S(5) + TCP_EST);
	assert_session(tcp_in(f, SIM_S(6), SERVER, 80, TCP_FIN | TCP_ACK),
		       NAT64_TCP_V4_FIN_V6_FIN_RCV, SIM_S(6) + TCP_TRANS);
	/* Only the timer leaves V4 FIN + V6 FIN RCV. */
	assert_session(tcp_out(f, SIM_S(7), TCP_ACK), NAT64_TCP_V4_FIN_V6_FIN_RCV,
		       SIM_S(6) + TCP_TRANS);
	assert_int_equal(nat64_next_deadline(f->nat), SIM_S(6) + TCP_TRANS);
	nat64_expire(f->nat, SIM_S(6) + TCP_TRANS - 1);
	assert_int_equal(nat64_count(f->nat), 1);
	nat64_expire(f->nat, SIM_S(6) + TCP_TRANS);
	assert_int_equal(nat64_count(f->nat), 0);
	assert_int_equal(f->recs[f->n_recs - 1].event, TRACE_MAP_EXPIRED);
}

/* An RST moves ESTABLISHED to TRANS (TCP_TRANS); another RST keeps it
 * there, any other segment brings it back to ESTABLISHED. */
static void test_tcp_rst(void **state)
{
	struct fixture *f = *state;

	tcp_out(f, SIM_S(1), TCP_SYN);
	tcp_in(f, SIM_S(2), SERVER, 80, TCP_SYN | TCP_ACK);
	assert_session(tcp_in(f, SIM_S(3), SERVER, 80, TCP_RST), NAT64_TCP_TRANS,
		       SIM_S(3) + TCP_TRANS);
	assert_session(tcp_out(f, SIM_S(4), TCP_RST), NAT64_TCP_TRANS, SIM_S(3) + TCP_TRANS);
	assert_session(tcp_out(f, SIM_S(5), TCP_ACK), NAT64_TCP_ESTABLISHED, SIM_S(5) + TCP_EST);
	/* In V4 FIN RCV an RST changes nothing but the refresh (Jool's
	 * handle-rst-during-fin-rcv off, its default). */
	assert_session(tcp_in(f, SIM_S(6), SERVER, 80, TCP_FIN | TCP_ACK), NAT64_TCP_V4_FIN_RCV,
		       SIM_S(5) + TCP_EST);
	assert_session(tcp_out(f, SIM_S(7), TCP_RST), NAT64_TCP_V4_FIN_RCV, SIM_S(7) + TCP_EST);
	/* With no reply the V6 SYN's binding lives TCP_TRANS, a new SYN renews it. */
	nat64_expire(f->nat, SIM_S(7) + TCP_EST);
	assert_session(tcp_out(f, SIM_S(8), TCP_SYN), NAT64_TCP_V6_INIT, SIM_S(8) + TCP_TRANS);
	assert_session(tcp_out(f, SIM_S(9), TCP_SYN), NAT64_TCP_V6_INIT, SIM_S(9) + TCP_TRANS);
}

/* What TCP is refused: a segment with no session that is not an IPv6 SYN
 * (an IPv4 SYN included: the drop-externally-initiated policy), a SYN from
 * another port of the same server, and (ADF) a segment from an address the
 * binding never sent to. */
static void test_tcp_refusals(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tcp_out(f, SIM_S(1), TCP_ACK).verdict, NAT64_DROP_TCP_NO_SESSION);
	assert_int_equal(tcp_in(f, SIM_S(1), SERVER, 80, TCP_SYN).verdict,
			 NAT64_DROP_TCP_NO_SESSION);
	assert_int_equal(nat64_count(f->nat), 0);
	tcp_out(f, SIM_S(2), TCP_SYN);
	assert_int_equal(tcp_in(f, SIM_S(3), SERVER, 81, TCP_SYN).verdict,
			 NAT64_DROP_TCP_NO_SESSION);
	assert_int_equal(tcp_in(f, SIM_S(3), OTHER, 80, TCP_ACK).verdict, NAT64_DROP_FILTERED);
	/* Another port of the server, not a SYN: the binding lets it by (ADF
	 * checks the address), the session does not move. */
	struct nat64_result r = tcp_in(f, SIM_S(4), SERVER, 81, TCP_ACK);
	assert_session(r, NAT64_TCP_V6_INIT, SIM_S(2) + TCP_TRANS);
	assert_string_equal(nat64_verdict_name(NAT64_DROP_TCP_NO_SESSION), "tcp-no-session");
}

/* RFC 6146 4's minimums: TCP_EST 2 h 4 min, TCP_TRANS 4 min. */
static void test_tcp_lifetime_config(void **state)
{
	(void)state;
	struct nat64_config cfg;

	nat64_config_default(&cfg, POOL);
	assert_int_equal(cfg.tcp_est_timeout, TCP_EST);
	assert_int_equal(cfg.tcp_trans_timeout, TCP_TRANS);
	cfg.tcp_est_timeout = TCP_EST - 1;
	assert_null(nat64_new(&cfg, NULL, "nat64"));
	cfg.tcp_est_timeout = TCP_EST;
	cfg.tcp_trans_timeout = TCP_TRANS - 1;
	assert_null(nat64_new(&cfg, NULL, "nat64"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_udp_out_and_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_mapping_eim_filtering_adf, setup, teardown),
	    cmocka_unit_test(test_filtering_eif),
	    cmocka_unit_test(test_ports_and_exhaustion),
	    cmocka_unit_test(test_paired_pooling),
	    cmocka_unit_test(test_lifetime_config),
	    cmocka_unit_test_setup_teardown(test_lifetimes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors_through_the_binding, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_parameter_problem_through_the_binding, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_state_walk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_rst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_refusals, setup, teardown),
	    cmocka_unit_test(test_tcp_lifetime_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
