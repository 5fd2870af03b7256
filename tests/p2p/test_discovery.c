/*
 * test_discovery.c - RFC 5780 behaviour discovery against the real stunsrv,
 * through a tiny fake NAT (RFC 4787 mapping x filtering), time moved by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "p2p/discovery.h"
#include "p2p/stunsrv.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define EI DISCOVERY_ENDPOINT_INDEPENDENT
#define AD DISCOVERY_ADDRESS_DEPENDENT
#define APD DISCOVERY_ADDRESS_AND_PORT_DEPENDENT

static const struct p2p_endpoint LOCAL = {.ip = IP(10, 0, 0, 2), .port = 5000};
static const struct p2p_endpoint PRIMARY = {.ip = IP(192, 0, 2, 1), .port = 3478};
static const struct p2p_endpoint ALT = {.ip = IP(192, 0, 2, 2), .port = 3479};
#define RTO (100 * P2P_NS_PER_MS)

/* ---- a fake NAT: outbound mapping and inbound filtering per RFC 4787 ---- */

struct mapping {
	struct p2p_endpoint key; /* destination part of the key: none, address, or both */
	struct p2p_endpoint ext;
	struct p2p_endpoint contacted[8];
	size_t n_contacted;
};

struct fake_nat {
	bool translate; /* false: no NAT, only a stateful filter (or none, with EI) */
	enum discovery_behaviour mapping, filtering;
	uint16_t next_port;
	struct mapping m[8];
	size_t n;
};

static struct p2p_endpoint nat_out(struct fake_nat *nat, const struct p2p_endpoint *to)
{
	struct p2p_endpoint key = {.ip = 0, .port = 0};
	struct mapping *mp = NULL;

	if (nat->mapping != EI)
		key.ip = to->ip;
	if (nat->mapping == APD)
		key.port = to->port;
	for (size_t i = 0; i < nat->n && mp == NULL; i++)
		if (p2p_endpoint_equal(&nat->m[i].key, &key))
			mp = &nat->m[i];
	if (mp == NULL) {
		assert_true(nat->n < 8);
		mp = &nat->m[nat->n++];
		*mp = (struct mapping){.key = key, .ext = LOCAL};
		if (nat->translate)
			mp->ext = (struct p2p_endpoint){.ip = IP(198, 51, 100, 1),
							.port = nat->next_port++};
	}
	for (size_t i = 0; i < mp->n_contacted; i++)
		if (p2p_endpoint_equal(&mp->contacted[i], to))
			return mp->ext;
	assert_true(mp->n_contacted < 8);
	mp->contacted[mp->n_contacted++] = *to;
	return mp->ext;
}

static bool nat_in(const struct fake_nat *nat, const struct p2p_endpoint *from,
		   const struct p2p_endpoint *to)
{
	for (size_t i = 0; i < nat->n; i++) {
		const struct mapping *mp = &nat->m[i];
		if (!p2p_endpoint_equal(&mp->ext, to))
			continue;
		for (size_t j = 0; j < mp->n_contacted; j++) {
			if (nat->filtering == EI ||
			    (nat->filtering == AD && mp->contacted[j].ip == from->ip) ||
			    p2p_endpoint_equal(&mp->contacted[j], from))
				return true;
		}
	}
	return false;
}

/* ---- the harness ---- */

static void fill_counter(void *ctx, uint8_t *out, size_t len)
{
	uint32_t *c = ctx;

	memset(out, 0, len);
	(*c)++;
	memcpy(out, c, sizeof(*c));
}

static bool is_server(const struct p2p_endpoint *ep)
{
	return (ep->ip == PRIMARY.ip || ep->ip == ALT.ip) &&
	       (ep->port == PRIMARY.port || ep->port == ALT.port);
}

struct world {
	struct fake_nat nat;
	bool server_up;
	bool server_alternate;
	bool server_classic; /* like stund: RFC 3489 only, drops PADDING */
	unsigned sent;       /* datagrams the client sent */
	unsigned unpadded;   /* of which without PADDING */
	uint64_t now;
	char error[200]; /* r.error points into the discovery object: copied before free */
};

/* An RFC 3489 server such as Debian's stund 0.97: a request with an
 * attribute it does not know (PADDING) is dropped; the answer carries
 * MAPPED-ADDRESS, SOURCE-ADDRESS and CHANGED-ADDRESS, not the RFC 5780 ones. */
static bool classic_answer(const struct p2p_datagram *req, const struct p2p_endpoint *pub,
			   struct p2p_datagram *ans)
{
	struct stun_msg m;
	struct stun_writer w;
	uint32_t change = 0;

	if (stun_decode(req->buf, req->len, true, &m) != STUN_OK ||
	    stun_find(&m, STUN_ATTR_PADDING) != NULL)
		return false;
	(void)stun_get_u32(&m, STUN_ATTR_CHANGE_REQUEST, &change);
	ans->from = req->to;
	if (change & STUN_CHANGE_IP)
		ans->from.ip = req->to.ip == PRIMARY.ip ? ALT.ip : PRIMARY.ip;
	if (change & STUN_CHANGE_PORT)
		ans->from.port = req->to.port == PRIMARY.port ? ALT.port : PRIMARY.port;
	ans->to = *pub;
	stun_writer_init(&w, ans->buf, sizeof(ans->buf), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS,
			 m.txid);
	stun_put_address(&w, STUN_ATTR_MAPPED_ADDRESS, pub);
	stun_put_address(&w, STUN_ATTR_SOURCE_ADDRESS, &ans->from);
	stun_put_address(&w, STUN_ATTR_CHANGED_ADDRESS, &ALT);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	ans->len = (size_t)n;
	return true;
}

static struct discovery_result run(struct world *w)
{
	uint32_t counter = 0;
	struct discovery_config cfg = {
	    .local = LOCAL,
	    .server = PRIMARY,
	    .rto_ns = RTO,
	    .max_tries = 3,
	    .random = {.fill = fill_counter, .ctx = &counter},
	};
	struct stunsrv_config srv = {.primary = PRIMARY,
				     .has_alternate = w->server_alternate,
				     .alternate = ALT,
				     .software = "natsim test"};
	struct discovery *d = discovery_new(&cfg);
	struct discovery_result r;
	struct p2p_datagram dg, ans;

	assert_non_null(d);
	assert_false(discovery_result(d, &r));
	assert_int_equal(discovery_next_deadline(d), P2P_NO_DEADLINE);
	w->nat.next_port = 40000;
	w->now = 1000;
	discovery_start(d, w->now);
	for (int iter = 0; iter < 100 && !discovery_result(d, &r); iter++) {
		while (discovery_pop_datagram(d, &dg)) {
			w->sent++;
			assert_true(p2p_endpoint_equal(&dg.from, &LOCAL));
			w->unpadded += dg.len < 100; /* padded for a strict server */
			struct p2p_endpoint pub = nat_out(&w->nat, &dg.to);
			if (!w->server_up)
				continue;
			assert_true(is_server(&dg.to));
			if (w->server_classic ? !classic_answer(&dg, &pub, &ans)
					      : stunsrv_answer(&srv, &dg.to, &pub, dg.buf, dg.len,
							       &ans) != STUNSRV_ANSWERED)
				continue;
			assert_true(is_server(&ans.from));
			if (nat_in(&w->nat, &ans.from, &ans.to))
				assert_true(
				    discovery_input(d, w->now, &ans.from, ans.buf, ans.len));
		}
		if (discovery_result(d, &r))
			break;
		uint64_t next = discovery_next_deadline(d);
		assert_true(next != P2P_NO_DEADLINE && next >= w->now);
		discovery_tick(d, next - 1); /* early: nothing happens */
		assert_false(discovery_pop_datagram(d, &dg));
		w->now = next;
		discovery_tick(d, w->now);
	}
	assert_true(discovery_result(d, &r));
	assert_int_equal(discovery_next_deadline(d), P2P_NO_DEADLINE);
	if (r.error != NULL) {
		strncpy(w->error, r.error, sizeof(w->error) - 1);
		r.error = w->error;
	}
	discovery_free(d);
	return r;
}

static void test_nine_nat_types(void **state)
{
	(void)state;
	static const struct {
		enum discovery_behaviour mapping, filtering;
		const char *name;
	} rows[] = {
	    {EI, EI, "full-cone"},  {EI, AD, "restricted-cone"}, {EI, APD, "port-restricted-cone"},
	    {AD, EI, "symmetric"},  {AD, AD, "symmetric"},	 {AD, APD, "symmetric"},
	    {APD, EI, "symmetric"}, {APD, AD, "symmetric"},	 {APD, APD, "symmetric"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct world w = {.nat = {.translate = true,
					  .mapping = rows[i].mapping,
					  .filtering = rows[i].filtering},
				  .server_up = true,
				  .server_alternate = true};
		struct discovery_result r = run(&w);

		assert_true(r.ok);
		assert_null(r.error);
		assert_int_equal(w.unpadded, 0); /* natsim's server answers padded requests */
		assert_true(r.behind_nat);
		assert_int_equal(r.mapped.ip, IP(198, 51, 100, 1));
		assert_int_equal(r.mapped.port, 40000);
		if (r.mapping != rows[i].mapping || r.filtering != rows[i].filtering)
			fail_msg("row %zu: got %s/%s", i, discovery_behaviour_name(r.mapping),
				 discovery_behaviour_name(r.filtering));
		assert_string_equal(r.classic_name, rows[i].name);
	}
}

/* Against an RFC 3489 server that drops padded requests (stund): after test
 * I goes unanswered, discovery asks again without PADDING, reads the
 * alternate from CHANGED-ADDRESS, and classifies as against natsim coord. */
static void test_classic_server(void **state)
{
	static const enum discovery_behaviour kinds[][2] = {{EI, EI}, {EI, AD}, {EI, APD},
							     {APD, APD}};
	static const char *const names[] = {"full-cone", "restricted-cone",
					    "port-restricted-cone", "symmetric"};
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct world w = {.nat = {.translate = true,
					  .mapping = kinds[i][0],
					  .filtering = kinds[i][1]},
				  .server_up = true,
				  .server_classic = true};
		struct discovery_result r = run(&w);
		assert_true(r.ok);
		assert_int_equal(r.mapping, kinds[i][0]);
		assert_int_equal(r.filtering, kinds[i][1]);
		assert_string_equal(r.classic_name, names[i]);
		assert_true(w.unpadded > 0 && w.unpadded < w.sent);
	}
}

static void test_no_nat_is_open(void **state)
{
	(void)state;
	struct world w = {.nat = {.translate = false, .mapping = EI, .filtering = EI},
			  .server_up = true,
			  .server_alternate = true};
	struct discovery_result r = run(&w);

	assert_true(r.ok);
	assert_false(r.behind_nat);
	assert_true(p2p_endpoint_equal(&r.mapped, &LOCAL));
	assert_int_equal(r.mapping, EI);
	assert_int_equal(r.filtering, EI);
	assert_string_equal(r.classic_name, "open");
	assert_int_equal(w.sent, 2); /* test I and filtering test II; no mapping tests */
}

static void test_no_nat_with_firewall(void **state)
{
	(void)state;
	struct world w = {.nat = {.translate = false, .mapping = EI, .filtering = APD},
			  .server_up = true,
			  .server_alternate = true};
	struct discovery_result r = run(&w);

	assert_true(r.ok);
	assert_false(r.behind_nat);
	assert_int_equal(r.mapping, EI);
	assert_int_equal(r.filtering, APD);
	assert_string_equal(r.classic_name, "firewall");
}

static void test_unreachable_server(void **state)
{
	(void)state;
	struct world w = {.nat = {.translate = true, .mapping = EI, .filtering = EI},
			  .server_up = false};
	struct discovery_result r = run(&w);

	assert_false(r.ok);
	assert_string_equal(r.error, "no answer from the coordinator at 192.0.2.1:3478");
	assert_string_equal(r.classic_name, "unknown");
	/* max_tries padded, then max_tries without PADDING (an RFC 3489 server
	 * might have dropped the padded ones), then it gives up. */
	assert_int_equal(w.sent, 6);
	assert_int_equal(w.unpadded, 3);
	assert_int_equal(w.now, 1000 + 6 * RTO);
}

static void test_server_without_alternate(void **state)
{
	(void)state;
	struct world w = {.nat = {.translate = true, .mapping = EI, .filtering = EI},
			  .server_up = true,
			  .server_alternate = false};
	struct discovery_result r = run(&w);

	assert_false(r.ok);
	assert_non_null(r.error);
	assert_non_null(strstr(r.error, "192.0.2.1:3478"));
	assert_non_null(strstr(r.error, "OTHER-ADDRESS"));
	assert_int_equal(w.sent, 1);
}

static void test_input_not_ours(void **state)
{
	(void)state;
	struct discovery_config cfg = {.local = LOCAL, .server = PRIMARY};
	struct discovery *d = discovery_new(&cfg);
	struct p2p_datagram dg;
	uint8_t junk[40] = {0xFF};
	uint8_t other[64];
	struct stun_writer w;
	static const uint8_t txid[STUN_TXID_SIZE] = {9, 9, 9};

	discovery_start(d, 0);
	assert_true(discovery_pop_datagram(d, &dg));
	assert_false(discovery_pop_datagram(d, &dg));
	assert_int_equal(discovery_next_deadline(d), 500 * P2P_NS_PER_MS); /* default RTO */
	assert_false(discovery_input(d, 1, &PRIMARY, junk, sizeof(junk)));
	stun_writer_init(&w, other, sizeof(other), STUN_METHOD_BINDING, STUN_CLASS_SUCCESS, txid);
	int n = stun_writer_finish(&w);
	assert_false(discovery_input(d, 1, &PRIMARY, other, (size_t)n));
	/* A retransmission carries the same transaction. */
	discovery_tick(d, 500 * P2P_NS_PER_MS);
	struct p2p_datagram again;
	assert_true(discovery_pop_datagram(d, &again));
	assert_int_equal(again.len, dg.len);
	assert_memory_equal(again.buf, dg.buf, dg.len);
	assert_string_equal(discovery_behaviour_name(DISCOVERY_UNKNOWN), "unknown");
	assert_string_equal(discovery_behaviour_name(APD), "address-and-port-dependent");
	discovery_free(d);
	discovery_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nine_nat_types),
	    cmocka_unit_test(test_classic_server),
	    cmocka_unit_test(test_no_nat_is_open),
	    cmocka_unit_test(test_no_nat_with_firewall),
	    cmocka_unit_test(test_unreachable_server),
	    cmocka_unit_test(test_server_without_alternate),
	    cmocka_unit_test(test_input_not_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
