/* test_coord.c - coordinator: registration, expiry, introductions, relay, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/coord.h"
#include "p2p/stunsrv.h"

#define S P2P_NS_PER_S

static const struct p2p_endpoint COORD_EP = {.ip = 0xC0000201u, .port = 3478}; /* 192.0.2.1 */

static void xorshift_fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *x = ctx;
	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		out[i] = (uint8_t)*x;
	}
}

static uint64_t rng_state = 88172645463325252ull;

static struct coord *make_coord(size_t max_peers, uint64_t timeout)
{
	struct coord_config cfg = {
	    .primary = COORD_EP,
	    .max_peers = max_peers,
	    .peer_timeout_ns = timeout,
	    .random = {xorshift_fill, &rng_state},
	};
	struct coord *c = coord_new(&cfg);
	assert_non_null(c);
	return c;
}

struct peer {
	const char *name;
	struct crypto_identity id;
	struct p2p_endpoint ep;
};

static struct peer make_peer(const char *name, uint8_t seed_byte, uint32_t ip)
{
	struct peer p = {.name = name, .ep = {.ip = ip, .port = 40000}};
	uint8_t seed[32];
	memset(seed, seed_byte, sizeof(seed));
	crypto_identity_from_seed(&p.id, seed);
	return p;
}

/* What build_register puts in NATSIM-MAPPING (kind 0: none), and what it
 * signs of it (a tampered copy when they differ). */
static struct coord_mapping reg_mapping, reg_mapping_signed;

/* A REGISTER as an agent builds it; `signer` may differ from p (forgery). */
static size_t build_register(const struct peer *p, const struct crypto_identity *signer,
			     uint64_t ts, uint8_t *buf, size_t cap)
{
	struct coord_registration r = {.timestamp_ns = ts, .n_candidates = 1};
	uint8_t bytes[COORD_REG_BYTES_MAX], sig[64], txid[12] = {1, 2, 3};
	struct stun_writer w;

	snprintf(r.name, sizeof(r.name), "%s", p->name);
	memcpy(r.sign_pk, p->id.sign_pk, 32);
	memcpy(r.box_pk, p->id.box_pk, 32);
	r.candidates[0] =
	    (struct coord_candidate){{.ip = 0x0A000002u, .port = 5000}, COORD_CAND_HOST};
	r.mapping = reg_mapping_signed;
	crypto_identity_sign(signer, bytes, coord_registration_bytes(&r, bytes), sig);
	stun_writer_init(&w, buf, cap, STUN_METHOD_REGISTER, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_NAME, p->name);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGN_KEY, r.sign_pk, 32);
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, r.box_pk, 32);
	coord_put_candidate(&w, &r.candidates[0]);
	if (reg_mapping.kind != 0)
		coord_put_mapping(&w, &reg_mapping);
	stun_put_u64(&w, STUN_ATTR_NATSIM_TIMESTAMP, ts);
	stun_put_raw(&w, STUN_ATTR_NATSIM_SIGNATURE, sig, 64);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	return (size_t)n;
}

static int do_register(struct coord *c, uint64_t now, const struct peer *p, uint64_t ts)
{
	uint8_t buf[512];
	size_t n = build_register(p, &p->id, ts, buf, sizeof(buf));
	return coord_input(c, now, &COORD_EP, &p->ep, buf, n);
}

static void drain(struct coord *c)
{
	struct p2p_datagram d;
	struct coord_event e;
	while (coord_pop_datagram(c, &d))
		;
	while (coord_pop_event(c, &e))
		;
}

static bool last_event(struct coord *c, struct coord_event *out)
{
	bool any = false;
	while (coord_pop_event(c, out))
		any = true;
	return any;
}

static void test_register_ok(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	struct p2p_datagram d;
	struct stun_msg m;
	struct p2p_endpoint mapped;
	struct coord_event e;
	(void)state;

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	assert_true(coord_pop_datagram(c, &d));
	assert_true(p2p_endpoint_equal(&d.to, &a.ep));
	assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
	assert_int_equal(m.method, STUN_METHOD_REGISTER);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), STUN_OK);
	assert_true(p2p_endpoint_equal(&mapped, &a.ep));
	assert_true(coord_pop_event(c, &e));
	assert_int_equal(e.type, COORD_EV_REGISTERED);
	assert_string_equal(e.name, "alice");
	assert_true(coord_lookup(c, "alice", NULL));
	assert_int_equal(coord_counters(c)->peers, 1);
	/* A newer timestamp refreshes. */
	assert_int_equal(do_register(c, 1 * S, &a, 2), COORD_OK);
	assert_true(last_event(c, &e));
	assert_int_equal(e.type, COORD_EV_REFRESHED);
	coord_free(c);
}

static void test_forged_signature_refused(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u), mallory = make_peer("alice", 9, 1);
	uint8_t buf[512];
	struct p2p_datagram d;
	struct coord_event e;
	(void)state;

	/* Signed by someone else's key while claiming alice's key. */
	size_t n = build_register(&a, &mallory.id, 1, buf, sizeof(buf));
	assert_int_equal(coord_input(c, 0, &COORD_EP, &a.ep, buf, n), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.type, COORD_EV_REFUSED);
	assert_int_equal(e.refusal, COORD_REFUSE_BAD_SIGNATURE);
	assert_true(coord_pop_datagram(c, &d) ? d.len <= n : true);
	assert_false(coord_lookup(c, "alice", NULL));
	/* A valid registration whose timestamp was altered in flight. */
	n = build_register(&a, &a.id, 1, buf, sizeof(buf));
	for (size_t i = 0; i + 8 < n; i++)
		if (buf[i] == STUN_ATTR_NATSIM_TIMESTAMP >> 8 &&
		    buf[i + 1] == (STUN_ATTR_NATSIM_TIMESTAMP & 0xFF))
			buf[i + 11] ^= 0x40;
	assert_int_equal(coord_input(c, 0, &COORD_EP, &a.ep, buf, n), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_BAD_SIGNATURE);
	assert_false(coord_lookup(c, "alice", NULL));
	coord_free(c);
}

static void test_replay_and_name_taken(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u),
		    imp = make_peer("alice", 7, 0x01020304u);
	uint8_t buf[512];
	struct coord_event e;
	(void)state;

	size_t n = build_register(&a, &a.id, 100, buf, sizeof(buf));
	assert_int_equal(coord_input(c, 0, &COORD_EP, &a.ep, buf, n), COORD_OK);
	drain(c);
	/* The same bytes again: a replay. */
	assert_int_equal(coord_input(c, 1, &COORD_EP, &a.ep, buf, n), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_REPLAY);
	assert_int_equal(do_register(c, 2, &a, 50), COORD_ERR_REFUSED);
	/* Someone else wants the live name with another key. */
	assert_int_equal(do_register(c, 3, &imp, 1000), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_NAME_TAKEN);
	struct p2p_endpoint ep;
	assert_true(coord_lookup(c, "alice", &ep));
	assert_true(p2p_endpoint_equal(&ep, &a.ep));
	assert_int_equal(coord_counters(c)->refused, 3);
	coord_free(c);
}

static void test_expiry(void **state)
{
	struct coord *c = make_coord(0, 10 * S);
	struct peer a = make_peer("alice", 1, 0xCB007101u), b = make_peer("bob", 2, 0xC6336401u);
	struct coord_event e;
	(void)state;

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	assert_int_equal(do_register(c, 4 * S, &b, 1), COORD_OK);
	drain(c);
	assert_int_equal(coord_next_deadline(c), 10 * S);
	coord_tick(c, 9 * S);
	assert_false(coord_pop_event(c, &e));
	coord_tick(c, 10 * S);
	assert_true(coord_pop_event(c, &e));
	assert_int_equal(e.type, COORD_EV_EXPIRED);
	assert_string_equal(e.name, "alice");
	assert_false(coord_lookup(c, "alice", NULL));
	assert_true(coord_lookup(c, "bob", NULL));
	assert_int_equal(coord_next_deadline(c), 14 * S);
	coord_tick(c, 20 * S);
	assert_false(coord_lookup(c, "bob", NULL));
	assert_int_equal(coord_next_deadline(c), P2P_NO_DEADLINE);
	/* An expired name may be registered again, even with an older timestamp. */
	assert_int_equal(do_register(c, 21 * S, &a, 1), COORD_OK);
	coord_free(c);
}

static size_t build_connect(const char *target, uint8_t *buf, size_t cap)
{
	struct stun_writer w;
	uint8_t txid[12] = {9};
	stun_writer_init(&w, buf, cap, STUN_METHOD_CONNECT, STUN_CLASS_REQUEST, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, target);
	return (size_t)stun_writer_finish(&w);
}

struct trio {
	struct coord *c;
	struct peer a, b, x;
	uint64_t session;
};

/* alice, bob and carol register; alice asks for bob. */
static void introduce(struct trio *t)
{
	uint8_t buf[256];
	struct p2p_datagram d;
	int to_a = 0, to_b = 0;
	uint64_t sess_a = 0, sess_b = 0;

	t->c = make_coord(0, 0);
	t->a = make_peer("alice", 1, 0xCB007101u);
	t->b = make_peer("bob", 2, 0xC6336401u);
	t->x = make_peer("carol", 3, 0xC6336402u);
	assert_int_equal(do_register(t->c, 0, &t->a, 1), COORD_OK);
	assert_int_equal(do_register(t->c, 0, &t->b, 1), COORD_OK);
	assert_int_equal(do_register(t->c, 0, &t->x, 1), COORD_OK);
	drain(t->c);
	size_t n = build_connect("bob", buf, sizeof(buf));
	assert_int_equal(coord_input(t->c, S, &COORD_EP, &t->a.ep, buf, n), COORD_OK);
	while (coord_pop_datagram(t->c, &d)) {
		struct stun_msg m;
		char peer[64];
		assert_false(p2p_endpoint_equal(&d.to, &t->x.ep)); /* carol hears nothing */
		assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
		if (m.method != STUN_METHOD_INTRODUCE)
			continue;
		assert_int_equal(stun_get_string(&m, STUN_ATTR_NATSIM_PEER, peer, sizeof(peer)), 0);
		const struct stun_attr *bk = stun_find(&m, STUN_ATTR_NATSIM_BOX_KEY);
		assert_non_null(bk);
		size_t ncand = 0;
		for (size_t i = 0; i < m.n_attrs; i++) {
			struct coord_candidate cc;
			if (m.attrs[i].type != STUN_ATTR_NATSIM_CANDIDATE)
				continue;
			assert_int_equal(coord_parse_candidate(&m, &m.attrs[i], &cc), 0);
			ncand++;
			if (cc.type == COORD_CAND_SRFLX)
				assert_true(p2p_endpoint_equal(
				    &cc.ep,
				    p2p_endpoint_equal(&d.to, &t->a.ep) ? &t->b.ep : &t->a.ep));
		}
		assert_int_equal(ncand, 2); /* one host + the observed srflx */
		if (p2p_endpoint_equal(&d.to, &t->a.ep)) {
			to_a++;
			assert_string_equal(peer, "bob");
			assert_memory_equal(bk->value, t->b.id.box_pk, 32);
			stun_get_u64(&m, STUN_ATTR_NATSIM_SESSION, &sess_a);
		} else {
			assert_true(p2p_endpoint_equal(&d.to, &t->b.ep));
			to_b++;
			assert_string_equal(peer, "alice");
			assert_memory_equal(bk->value, t->a.id.box_pk, 32);
			stun_get_u64(&m, STUN_ATTR_NATSIM_SESSION, &sess_b);
		}
	}
	assert_int_equal(to_a, 1);
	assert_int_equal(to_b, 1);
	assert_int_equal(sess_a, sess_b);
	assert_true(sess_a != 0);
	t->session = sess_a;
}

static void test_connect_introduces_only_the_two(void **state)
{
	struct trio t;
	struct coord_event e;
	(void)state;
	introduce(&t);
	assert_true(last_event(t.c, &e));
	assert_int_equal(e.type, COORD_EV_INTRODUCED);
	assert_string_equal(e.name, "alice");
	assert_string_equal(e.peer, "bob");
	assert_int_equal(coord_counters(t.c)->introduced, 1);
	coord_free(t.c);
}

static size_t build_relay(const char *to, uint64_t session, const uint8_t *payload, size_t plen,
			  uint8_t *buf, size_t cap)
{
	struct stun_writer w;
	uint8_t txid[12] = {7};
	stun_writer_init(&w, buf, cap, STUN_METHOD_RELAY, STUN_CLASS_INDICATION, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, to);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, session);
	stun_put_raw(&w, STUN_ATTR_NATSIM_PAYLOAD, payload, (uint16_t)plen);
	return (size_t)stun_writer_finish(&w);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static void test_relay_forwards_opaque_bytes(void **state)
{
	struct trio t;
	struct crypto_session sa, sb;
	const char *secret = "the launch code is 0000";
	uint8_t sealed[128], buf[512], out[128];
	struct p2p_datagram d;
	struct stun_msg m;
	char from_name[64];
	(void)state;

	introduce(&t);
	drain(t.c);
	crypto_session_init(&sa, &t.a.id, t.b.id.box_pk, t.session);
	crypto_session_init(&sb, &t.b.id, t.a.id.box_pk, t.session);
	int sn = crypto_seal(&sa, (const uint8_t *)secret, strlen(secret), sealed, sizeof(sealed));
	size_t n = build_relay("bob", t.session, sealed, (size_t)sn, buf, sizeof(buf));
	assert_int_equal(coord_input(t.c, 2 * S, &COORD_EP, &t.a.ep, buf, n), COORD_OK);
	assert_true(coord_pop_datagram(t.c, &d));
	assert_true(p2p_endpoint_equal(&d.to, &t.b.ep));
	assert_false(contains(d.buf, d.len, "launch code"));
	assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
	assert_int_equal(m.method, STUN_METHOD_RELAY);
	stun_get_string(&m, STUN_ATTR_NATSIM_PEER, from_name, sizeof(from_name));
	assert_string_equal(from_name, "alice");
	const struct stun_attr *pl = stun_find(&m, STUN_ATTR_NATSIM_PAYLOAD);
	assert_non_null(pl);
	assert_memory_equal(pl->value, sealed, (size_t)sn); /* untouched */
	assert_int_equal(crypto_open(&sb, pl->value, pl->len, out, sizeof(out)), strlen(secret));
	assert_memory_equal(out, secret, strlen(secret));
	assert_int_equal(coord_counters(t.c)->relayed, 1);
	coord_free(t.c);
}

/* A RELAY too large to forward (it arrived: any size is read) is refused
 * with an event, not lost without a word. */
static void test_relay_too_large_is_refused(void **state)
{
	struct trio t;
	static uint8_t payload[1500], buf[1600];
	struct p2p_datagram d;
	struct coord_event e;
	(void)state;

	introduce(&t);
	drain(t.c);
	size_t n = build_relay("bob", t.session, payload, sizeof(payload), buf, sizeof(buf));
	assert_true(n > P2P_MAX_DATAGRAM);
	assert_int_equal(coord_input(t.c, 2 * S, &COORD_EP, &t.a.ep, buf, n), COORD_ERR_REFUSED);
	assert_false(coord_pop_datagram(t.c, &d));
	assert_true(last_event(t.c, &e));
	assert_int_equal(e.type, COORD_EV_REFUSED);
	assert_non_null(strstr(e.text, "too large"));
	assert_int_equal(coord_counters(t.c)->relayed, 0);
	coord_free(t.c);
}

static void test_relay_refuses(void **state)
{
	struct trio t;
	uint8_t buf[512], payload[40] = {0};
	struct p2p_datagram d;
	struct coord_event e;
	struct p2p_endpoint stranger = {.ip = 0x08080808u, .port = 1234};
	(void)state;

	introduce(&t);
	drain(t.c);
	size_t n = build_relay("bob", t.session, payload, sizeof(payload), buf, sizeof(buf));
	assert_int_equal(coord_input(t.c, 2 * S, &COORD_EP, &stranger, buf, n), COORD_ERR_REFUSED);
	assert_false(coord_pop_datagram(t.c, &d));
	assert_true(last_event(t.c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_NOT_REGISTERED);
	/* carol was never introduced to bob. */
	assert_int_equal(coord_input(t.c, 2 * S, &COORD_EP, &t.x.ep, buf, n), COORD_ERR_REFUSED);
	assert_false(coord_pop_datagram(t.c, &d));
	assert_true(last_event(t.c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_NO_SESSION);
	/* Unknown target. */
	n = build_relay("dave", t.session, payload, sizeof(payload), buf, sizeof(buf));
	assert_int_equal(coord_input(t.c, 2 * S, &COORD_EP, &t.a.ep, buf, n), COORD_ERR_REFUSED);
	assert_false(coord_pop_datagram(t.c, &d));
	coord_free(t.c);
}

static void test_no_amplification(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	uint64_t rs = 12345;
	uint8_t buf[600];
	struct p2p_datagram d;
	unsigned answered = 0;
	(void)state;

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK); /* someone to connect to */
	drain(c);
	for (int i = 0; i < 30000; i++) {
		uint8_t r[4];
		xorshift_fill(&rs, r, sizeof(r));
		size_t len = r[0] % 200;
		xorshift_fill(&rs, buf, len);
		if (i % 2 == 0 && len >= 20) {
			/* Valid STUN header, random method and class, random attributes. */
			uint16_t type = (uint16_t)((r[1] << 8 | r[2]) & 0x3EEF);
			if (i % 6 == 0)
				type =
				    (uint16_t)((i % 12 == 0 ? 0x0001 : 0x00C2) | (r[3] & 0x0110));
			buf[0] = (uint8_t)(type >> 8);
			buf[1] = (uint8_t)type;
			size_t body = (len - 20) & ~(size_t)3;
			len = 20 + body;
			buf[2] = (uint8_t)(body >> 8);
			buf[3] = (uint8_t)body;
			buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xA4, buf[7] = 0x42;
			if (i % 4 == 0 && body >= 8) { /* a well-formed PEER attribute */
				buf[20] = STUN_ATTR_NATSIM_PEER >> 8;
				buf[21] = STUN_ATTR_NATSIM_PEER & 0xFF;
				buf[22] = 0, buf[23] = 5;
				memcpy(buf + 24, "alice", body >= 12 ? 5 : 4);
				if (body < 12)
					buf[23] = 4;
			}
		}
		struct p2p_endpoint from = {.ip = 0x64000000u + (uint32_t)i,
					    .port = (uint16_t)(1000 + i)};
		coord_input(c, (uint64_t)i, &COORD_EP, &from, buf, len);
		while (coord_pop_datagram(c, &d)) {
			answered++;
			assert_true(p2p_endpoint_equal(&d.to, &from));
			/* Binding answers are bounded by the ratio, the rest by the request. */
			bool binding = ((d.buf[0] << 8 | d.buf[1]) & 0x3EEF) == STUN_METHOD_BINDING;
			assert_true(d.len <= (binding ? STUNSRV_MAX_RATIO * len : len));
		}
	}
	assert_true(answered > 0); /* some were answered (Bindings, trimmed errors) */
	assert_int_equal(coord_counters(c)->introduced, 0);
	coord_free(c);
}

static size_t binding_request(uint8_t *buf, size_t cap, uint8_t id)
{
	struct stun_writer w;
	uint8_t txid[12] = {id, 0x42};
	stun_writer_init(&w, buf, cap, STUN_METHOD_BINDING, STUN_CLASS_REQUEST, txid);
	return (size_t)stun_writer_finish(&w);
}

static unsigned count_refusals(struct coord *c, enum coord_refusal why)
{
	struct coord_event e;
	unsigned n = 0;
	while (coord_pop_event(c, &e))
		n += e.type == COORD_EV_REFUSED && e.refusal == why;
	return n;
}

/* Per-source limit on Binding answers: a burst, then one per interval; one
 * event per episode, every refusal counted; other sources and registered
 * peers are not affected. */
static void test_binding_rate_limit(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	struct p2p_datagram d;
	uint8_t buf[64];
	unsigned answered = 0;
	(void)state;

	size_t n = binding_request(buf, sizeof(buf), 1);
	for (int i = 0; i < 100; i++) {
		struct p2p_endpoint from = {.ip = 0x64000001u,
					    .port = (uint16_t)(1000 + i)}; /* one address */
		coord_input(c, 5 * S, &COORD_EP, &from, buf, n);
		answered += coord_pop_datagram(c, &d);
	}
	assert_int_equal(answered, COORD_BINDING_BURST);
	assert_int_equal(coord_counters(c)->rate_limited, 100 - COORD_BINDING_BURST);
	assert_int_equal(count_refusals(c, COORD_REFUSE_RATE_LIMITED), 1);
	/* Another address has its own bucket. */
	struct p2p_endpoint other = {.ip = 0x64000002u, .port = 1000};
	assert_int_equal(coord_input(c, 5 * S, &COORD_EP, &other, buf, n), COORD_OK);
	assert_true(coord_pop_datagram(c, &d));
	/* One second later, 1 s / interval tokens are back, and no more. */
	struct p2p_endpoint from = {.ip = 0x64000001u, .port = 999};
	uint64_t per_s = P2P_NS_PER_S / COORD_BINDING_INTERVAL;
	answered = 0;
	for (uint64_t i = 0; i < per_s + 5; i++) {
		coord_input(c, 6 * S, &COORD_EP, &from, buf, n);
		answered += coord_pop_datagram(c, &d);
	}
	assert_int_equal(answered, per_s);
	assert_int_equal(count_refusals(c, COORD_REFUSE_RATE_LIMITED), 1); /* a new episode */
	/* A registered peer's keepalives are never limited. */
	assert_int_equal(do_register(c, 6 * S, &a, 1), COORD_OK);
	drain(c);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(coord_input(c, 6 * S, &COORD_EP, &a.ep, buf, n), COORD_OK);
		assert_true(coord_pop_datagram(c, &d));
	}
	coord_free(c);
}

/* Whatever is not answered is counted; a flood of it is logged as a sample. */
static void test_drops_counted_and_sampled(void **state)
{
	struct coord *c = make_coord(0, 0);
	struct coord_event e;
	uint8_t junk[2000];
	unsigned events = 0;
	(void)state;

	memset(junk, 0xAB, sizeof(junk));
	for (int i = 0; i < 500; i++) {
		struct p2p_endpoint from = {.ip = 0x64000000u + (uint32_t)i, .port = 7};
		assert_int_equal(coord_input(c, S, &COORD_EP, &from, junk, sizeof(junk)),
				 COORD_ERR_MALFORMED);
	}
	assert_int_equal(coord_counters(c)->dropped, 500);
	while (coord_pop_event(c, &e)) {
		assert_int_equal(e.type, COORD_EV_DROPPED);
		assert_non_null(strstr(e.text, "2000-byte datagram"));
		events++;
	}
	assert_int_equal(events, COORD_LOG_BURST);
	/* Later, the next event says how many went unlogged. */
	struct p2p_endpoint from = {.ip = 0x65000000u, .port = 7};
	coord_input(c, 3 * S, &COORD_EP, &from, junk, 100);
	assert_true(last_event(c, &e));
	assert_non_null(strstr(e.text, "480 more not logged"));
	coord_free(c);
}

static void test_peer_limit(void **state)
{
	struct coord *c = make_coord(3, 0);
	struct coord_event e;
	const char *names[] = {"p0", "p1", "p2", "p3"};
	(void)state;

	for (int i = 0; i < 4; i++) {
		struct peer p = make_peer(names[i], (uint8_t)(i + 1), 0x0A000001u + (uint32_t)i);
		int rc = do_register(c, 0, &p, 1);
		assert_int_equal(rc, i < 3 ? COORD_OK : COORD_ERR_REFUSED);
	}
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_FULL);
	assert_int_equal(coord_counters(c)->peers, 3);
	assert_string_equal(coord_refusal_name(COORD_REFUSE_FULL), "full");
	coord_free(c);
}

static void test_many_peers_hash(void **state)
{
	struct coord *c = make_coord(0, 0);
	char name[16];
	(void)state;
	for (uint32_t i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "peer%u", i);
		struct peer p = make_peer(name, (uint8_t)i, 0x0A000000u + i);
		assert_int_equal(do_register(c, i, &p, 1), COORD_OK);
	}
	drain(c);
	assert_int_equal(coord_counters(c)->peers, 2000);
	assert_true(coord_lookup(c, "peer1999", NULL));
	assert_false(coord_lookup(c, "peer2000", NULL));
	coord_free(c);
}

/* The allow hook: only alice's key may register; bob is refused with 403,
 * before his signature is even checked, and is not stored. */
static bool allow_only(void *ctx, const char *name, const uint8_t sign_pk[32])
{
	(void)name;
	return memcmp(ctx, sign_pk, 32) == 0;
}

static void test_allow_list(void **state)
{
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	struct peer b = make_peer("bob", 2, 0xCB007102u);
	struct coord_config cfg = {
	    .primary = COORD_EP,
	    .random = {xorshift_fill, &rng_state},
	    .allow = allow_only,
	    .allow_ctx = a.id.sign_pk,
	};
	struct coord *c = coord_new(&cfg);
	struct p2p_datagram d;
	struct stun_msg m;
	struct coord_event e;
	int code = 0;
	(void)state;
	assert_non_null(c);

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	drain(c);
	assert_int_equal(do_register(c, 0, &b, 1), COORD_ERR_REFUSED);
	assert_true(coord_pop_datagram(c, &d));
	assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
	assert_int_equal(m.cls, STUN_CLASS_ERROR);
	assert_int_equal(stun_get_error(&m, &code, NULL, NULL), STUN_OK);
	assert_int_equal(code, 403);
	assert_true(last_event(c, &e));
	assert_int_equal(e.type, COORD_EV_REFUSED);
	assert_int_equal(e.refusal, COORD_REFUSE_NOT_ALLOWED);
	assert_string_equal(coord_refusal_name(e.refusal), "not-allowed");
	assert_true(coord_lookup(c, "alice", NULL));
	assert_false(coord_lookup(c, "bob", NULL));
	coord_free(c);
}

/* The verifier hook: counts, remembers what it was asked, and answers as
 * crypto_identity_verify does, or refuses everything. */
struct verifier {
	unsigned calls;
	bool refuse_all;
	uint8_t pk[32], msg[COORD_REG_BYTES_MAX], sig[64];
	size_t len;
};

static bool verify_hook(void *ctx, const uint8_t sign_pk[32], const uint8_t *msg, size_t len,
			const uint8_t sig[64])
{
	struct verifier *v = ctx;
	v->calls++;
	assert_true(len <= sizeof(v->msg));
	memcpy(v->pk, sign_pk, 32);
	memcpy(v->msg, msg, len);
	memcpy(v->sig, sig, 64);
	v->len = len;
	return !v->refuse_all && crypto_identity_verify(sign_pk, msg, len, sig);
}

static struct coord *make_coord_verifying(struct verifier *v, uint64_t *rng)
{
	struct coord_config cfg = {
	    .primary = COORD_EP,
	    .random = {xorshift_fill, rng},
	    .verify = verify_hook,
	    .verify_ctx = v,
	};
	struct coord *c = coord_new(&cfg);
	assert_non_null(c);
	return c;
}

/* A verifier given in the config is asked about every REGISTER's signature
 * (and crypto_identity_verify is not needed: the verdict is the hook's),
 * with the canonical bytes and the signature the peer signed. */
static void test_verifier_used(void **state)
{
	struct verifier v = {0};
	uint64_t rng = 1;
	struct coord *c = make_coord_verifying(&v, &rng);
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	struct coord_registration r = {.timestamp_ns = 5, .n_candidates = 1};
	uint8_t bytes[COORD_REG_BYTES_MAX], sig[64];
	(void)state;

	assert_int_equal(do_register(c, 0, &a, 5), COORD_OK);
	assert_int_equal(v.calls, 1);
	snprintf(r.name, sizeof(r.name), "%s", a.name);
	memcpy(r.sign_pk, a.id.sign_pk, 32);
	memcpy(r.box_pk, a.id.box_pk, 32);
	r.candidates[0] =
	    (struct coord_candidate){{.ip = 0x0A000002u, .port = 5000}, COORD_CAND_HOST};
	size_t n = coord_registration_bytes(&r, bytes);
	crypto_identity_sign(&a.id, bytes, n, sig);
	assert_int_equal(v.len, n);
	assert_memory_equal(v.msg, bytes, n);
	assert_memory_equal(v.pk, a.id.sign_pk, 32);
	assert_memory_equal(v.sig, sig, 64);
	assert_true(coord_lookup(c, "alice", NULL));
	/* A refresh is verified again; a replay is refused before (cheap first). */
	assert_int_equal(do_register(c, 1 * S, &a, 6), COORD_OK);
	assert_int_equal(v.calls, 2);
	assert_int_equal(do_register(c, 2 * S, &a, 6), COORD_ERR_REFUSED);
	assert_int_equal(v.calls, 2);
	coord_free(c);
}

/* A verifier that says no refuses a well-signed REGISTER exactly as a bad
 * signature is refused without one: same error, same reply bytes, same
 * event, same counters, nothing stored. */
static void test_verifier_false_is_bad_signature(void **state)
{
	struct verifier v = {.refuse_all = true};
	uint64_t rng_a = 7, rng_b = 7;
	struct coord *hooked = make_coord_verifying(&v, &rng_a);
	struct coord_config cfg = {.primary = COORD_EP, .random = {xorshift_fill, &rng_b}};
	struct coord *plain = coord_new(&cfg);
	struct peer a = make_peer("alice", 1, 0xCB007101u), mallory = make_peer("alice", 9, 1);
	uint8_t good[512], forged[512];
	struct p2p_datagram dh, dp;
	struct coord_event eh, ep;
	(void)state;
	assert_non_null(plain);

	size_t n = build_register(&a, &a.id, 1, good, sizeof(good));
	size_t nf = build_register(&a, &mallory.id, 1, forged, sizeof(forged));
	assert_int_equal(n, nf);
	assert_int_equal(coord_input(hooked, 0, &COORD_EP, &a.ep, good, n), COORD_ERR_REFUSED);
	assert_int_equal(coord_input(plain, 0, &COORD_EP, &a.ep, forged, nf), COORD_ERR_REFUSED);
	assert_int_equal(v.calls, 1);

	assert_true(coord_pop_datagram(hooked, &dh));
	assert_true(coord_pop_datagram(plain, &dp));
	assert_int_equal(dh.len, dp.len);
	assert_memory_equal(dh.buf, dp.buf, dh.len); /* the same 401 */
	assert_true(p2p_endpoint_equal(&dh.to, &dp.to));
	assert_false(coord_pop_datagram(hooked, &dh));
	assert_false(coord_pop_datagram(plain, &dp));

	assert_true(coord_pop_event(hooked, &eh));
	assert_true(coord_pop_event(plain, &ep));
	assert_int_equal(eh.type, COORD_EV_REFUSED);
	assert_int_equal(eh.refusal, COORD_REFUSE_BAD_SIGNATURE);
	assert_int_equal(ep.refusal, COORD_REFUSE_BAD_SIGNATURE);
	assert_string_equal(eh.name, ep.name);
	assert_string_equal(eh.text, ep.text);
	assert_false(coord_pop_event(hooked, &eh));
	assert_false(coord_pop_event(plain, &ep));

	assert_memory_equal(coord_counters(hooked), coord_counters(plain),
			    sizeof(struct coord_counters));
	assert_int_equal(coord_counters(hooked)->refused, 1);
	assert_false(coord_lookup(hooked, "alice", NULL));
	coord_free(hooked);
	coord_free(plain);
}

/* The NATSIM-MAPPING in the INTRODUCE sent to `a` and to `b` (kind 0: none). */
static void introduced_mappings(struct coord *c, const struct p2p_endpoint *a,
				struct coord_mapping *to_a, const struct p2p_endpoint *b,
				struct coord_mapping *to_b)
{
	struct p2p_datagram d;
	struct stun_msg m;
	int seen = 0;
	memset(to_a, 0, sizeof(*to_a));
	memset(to_b, 0, sizeof(*to_b));
	while (coord_pop_datagram(c, &d)) {
		const struct stun_attr *at;
		if (stun_decode(d.buf, d.len, false, &m) != 0 || m.method != STUN_METHOD_INTRODUCE)
			continue;
		seen++;
		struct coord_mapping *out = p2p_endpoint_equal(&d.to, a)   ? to_a
					    : p2p_endpoint_equal(&d.to, b) ? to_b
									   : NULL;
		assert_non_null(out);
		if ((at = stun_find(&m, STUN_ATTR_NATSIM_MAPPING)) != NULL)
			assert_int_equal(coord_parse_mapping(at, out), STUN_OK);
	}
	assert_int_equal(seen, 2);
}

/* How a peer's NAT assigns ports (agent.h "Hard NATs") is signed with its
 * registration and passed to the other peer in INTRODUCE, and to nobody
 * else; a tampered or malformed one is refused. */
static void test_mapping_passed_on(void **state)
{
	struct peer a = make_peer("alice", 1, 0xCB007101u), b = make_peer("bob", 2, 0xC6336401u);
	struct coord *c = make_coord(0, 0);
	struct coord_event e;
	uint8_t buf[256];
	(void)state;

	reg_mapping = reg_mapping_signed = (struct coord_mapping){2, 1, 1026};
	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	reg_mapping = reg_mapping_signed = (struct coord_mapping){0};
	assert_int_equal(do_register(c, 0, &b, 1), COORD_OK);
	drain(c);
	size_t n = build_connect("alice", buf, sizeof(buf));
	assert_int_equal(coord_input(c, S, &COORD_EP, &b.ep, buf, n), COORD_OK);
	struct coord_mapping to_alice, to_bob;
	introduced_mappings(c, &a.ep, &to_alice, &b.ep, &to_bob);
	assert_int_equal(to_bob.kind, 2);
	assert_int_equal(to_bob.delta, 1);
	assert_int_equal(to_bob.last_port, 1026);
	assert_int_equal(to_alice.kind, 0); /* bob said nothing of his NAT */
	drain(c);

	/* Tampered on the way: the signature covers it. */
	reg_mapping_signed = (struct coord_mapping){2, 1, 1026};
	reg_mapping = (struct coord_mapping){2, 1, 2000};
	assert_int_equal(do_register(c, 4 * S, &a, 3), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_BAD_SIGNATURE);
	/* A kind nobody defined: malformed. */
	reg_mapping = reg_mapping_signed = (struct coord_mapping){4, 1, 1026};
	assert_int_equal(do_register(c, 5 * S, &a, 4), COORD_ERR_MALFORMED);
	reg_mapping = reg_mapping_signed = (struct coord_mapping){0};
	coord_free(c);
}

/* ---- IPv6: registrations per family, introductions, the relay ---- */

static struct p2p_endpoint ep6(const char *text)
{
	struct p2p_endpoint e;
	assert_int_equal(p2p_endpoint_parse(text, &e), 0);
	return e;
}

/* The coordinator's IPv6 address, where dual-stack peers register again. */
#define COORD_EP6 ep6("[2001:db8:ff::1]:3478")

static int register_from(struct coord *c, uint64_t now, const struct peer *p,
			 const struct p2p_endpoint *local, const struct p2p_endpoint *from,
			 uint64_t ts)
{
	struct peer q = *p;
	uint8_t buf[512];

	q.ep = *from;
	size_t n = build_register(&q, &q.id, ts, buf, sizeof(buf));
	return coord_input(c, now, local, from, buf, n);
}

/* Every datagram out: the one to `to` is copied into *out. */
static bool datagram_to(struct coord *c, const struct p2p_endpoint *to, struct p2p_datagram *out)
{
	struct p2p_datagram d;
	bool found = false;
	while (coord_pop_datagram(c, &d))
		if (p2p_endpoint_equal(&d.to, to)) {
			*out = d;
			found = true;
		}
	return found;
}

/* A peer registers over IPv4 and over IPv6: one name, two server-reflexive
 * endpoints, each answered in its own family from the address it came to. */
static void test_dual_stack_registration(void **state)
{
	(void)state;
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u);
	struct p2p_endpoint a6 = ep6("[2001:db8:1::5]:40000"), c6 = COORD_EP6, mapped;
	struct p2p_datagram d;
	struct stun_msg m;

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	drain(c);
	assert_int_equal(register_from(c, 0, &a, &c6, &a6, 2), COORD_OK);
	assert_true(datagram_to(c, &a6, &d));
	assert_true(p2p_endpoint_equal(&d.from, &c6));
	assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
	assert_int_equal(m.cls, STUN_CLASS_SUCCESS);
	assert_int_equal(stun_get_xor_address(&m, STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped), STUN_OK);
	assert_true(p2p_endpoint_equal(&mapped, &a6));
	assert_int_equal(coord_counters(c)->peers, 1);
	/* Either endpoint is the peer's: a CONNECT over IPv6 is authenticated. */
	uint8_t buf[256];
	size_t n = build_connect("nobody", buf, sizeof(buf));
	assert_int_equal(coord_input(c, S, &c6, &a6, buf, n), COORD_ERR_REFUSED);
	struct coord_event e;
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_UNKNOWN_PEER); /* not NOT_REGISTERED */
	/* A refresh over IPv4 keeps the IPv6 endpoint. */
	assert_int_equal(do_register(c, 2 * S, &a, 3), COORD_OK);
	drain(c);
	assert_int_equal(coord_input(c, 3 * S, &c6, &a6, buf, n), COORD_ERR_REFUSED);
	assert_true(last_event(c, &e));
	assert_int_equal(e.refusal, COORD_REFUSE_UNKNOWN_PEER);
	coord_free(c);
}

/* INTRODUCE carries both families' server-reflexive candidates; an IPv6
 * one is a 21-byte NATSIM-CANDIDATE. */
static void test_introduce_both_families(void **state)
{
	(void)state;
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u), b = make_peer("bob", 2, 0xC6336401u);
	struct p2p_endpoint b6 = ep6("[2001:db8:2::7]:40000"), c6 = COORD_EP6;
	struct p2p_datagram d;
	struct stun_msg m;
	uint8_t buf[256];

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	assert_int_equal(do_register(c, 0, &b, 1), COORD_OK);
	assert_int_equal(register_from(c, 0, &b, &c6, &b6, 2), COORD_OK);
	drain(c);
	size_t n = build_connect("bob", buf, sizeof(buf));
	assert_int_equal(coord_input(c, S, &COORD_EP, &a.ep, buf, n), COORD_OK);
	do { /* to alice: INTRODUCE, then CONNECT's answer */
		assert_true(coord_pop_datagram(c, &d));
		assert_int_equal(stun_decode(d.buf, d.len, false, &m), STUN_OK);
	} while (m.method != STUN_METHOD_INTRODUCE || !p2p_endpoint_equal(&d.to, &a.ep));
	bool saw4 = false, saw6 = false;
	for (size_t i = 0; i < m.n_attrs; i++) {
		struct coord_candidate cc;
		if (m.attrs[i].type != STUN_ATTR_NATSIM_CANDIDATE)
			continue;
		assert_int_equal(coord_parse_candidate(&m, &m.attrs[i], &cc), STUN_OK);
		if (cc.type != COORD_CAND_SRFLX)
			continue;
		saw4 = saw4 || p2p_endpoint_equal(&cc.ep, &b.ep);
		saw6 = saw6 || p2p_endpoint_equal(&cc.ep, &b6);
		assert_int_equal(m.attrs[i].len, p2p_endpoint_is6(&cc.ep) ? 21 : 9);
	}
	assert_true(saw4);
	assert_true(saw6);
	coord_free(c);
}

/* Relayed data goes to the other peer over the family it came in on when
 * that peer registered over it, and over its one family otherwise. */
static void test_relay_per_family(void **state)
{
	(void)state;
	struct coord *c = make_coord(0, 0);
	struct peer a = make_peer("alice", 1, 0xCB007101u), b = make_peer("bob", 2, 0xC6336401u);
	struct p2p_endpoint a6 = ep6("[2001:db8:1::5]:40000"), b6 = ep6("[2001:db8:2::7]:40000");
	struct p2p_endpoint c6 = COORD_EP6;
	struct p2p_datagram d;
	uint8_t buf[256];
	uint64_t session = 0;
	struct coord_event e;

	assert_int_equal(do_register(c, 0, &a, 1), COORD_OK);
	assert_int_equal(register_from(c, 0, &a, &c6, &a6, 2), COORD_OK);
	assert_int_equal(do_register(c, 0, &b, 1), COORD_OK);
	drain(c);
	size_t n = build_connect("bob", buf, sizeof(buf));
	assert_int_equal(coord_input(c, S, &c6, &a6, buf, n), COORD_OK);
	while (coord_pop_event(c, &e))
		if (e.type == COORD_EV_INTRODUCED)
			session = e.session;
	drain(c);
	assert_true(session != 0);
	/* alice over IPv6 to bob, who registered over IPv4 only: over IPv4. */
	n = build_relay("bob", session, (const uint8_t *)"hi", 2, buf, sizeof(buf));
	assert_int_equal(coord_input(c, S, &c6, &a6, buf, n), COORD_OK);
	assert_true(datagram_to(c, &b.ep, &d));
	assert_true(p2p_endpoint_equal(&d.from, &COORD_EP));
	/* Once bob registers over IPv6 too, IPv6 data reaches him over IPv6. */
	assert_int_equal(register_from(c, 2 * S, &b, &c6, &b6, 2), COORD_OK);
	drain(c);
	assert_int_equal(coord_input(c, 2 * S, &c6, &a6, buf, n), COORD_OK);
	assert_true(datagram_to(c, &b6, &d));
	assert_true(p2p_endpoint_equal(&d.from, &c6));
	/* ... and IPv4 data over IPv4. */
	n = build_relay("alice", session, (const uint8_t *)"ho", 2, buf, sizeof(buf));
	assert_int_equal(coord_input(c, 2 * S, &COORD_EP, &b.ep, buf, n), COORD_OK);
	assert_true(datagram_to(c, &a.ep, &d));
	assert_true(p2p_endpoint_equal(&d.from, &COORD_EP));
	coord_free(c);
}

/* The signed bytes of an IPv4-only registration are what they always were;
 * an IPv6 candidate adds a tail, so the two registrations differ. */
static void test_registration_bytes_ipv6_tail(void **state)
{
	(void)state;
	struct coord_registration r = {.name = "al", .timestamp_ns = 1, .n_candidates = 1};
	uint8_t four[COORD_REG_BYTES_MAX], both[COORD_REG_BYTES_MAX];

	r.candidates[0] = (struct coord_candidate){{.ip = 0x0A000002u, .port = 5000}, 0};
	size_t n4 = coord_registration_bytes(&r, four);
	assert_int_equal(n4, 18 + 1 + 2 + 64 + 8 + 1 + 7); /* the IPv4 layout, unchanged */
	r.candidates[1] = (struct coord_candidate){ep6("[2001:db8::5]:5000"), 0};
	r.n_candidates = 2;
	size_t n6 = coord_registration_bytes(&r, both);
	assert_int_equal(n6, n4 + 2 + 19);
	assert_memory_equal(both, four, n4);
	assert_int_equal(both[n4], '6');
	assert_int_equal(both[n4 + 1], 1);
	assert_memory_equal(both + n4 + 2, r.candidates[1].ep.ip6, 16);
	/* Every candidate IPv6, every tail: the longest registration (a name
	 * of 63 bytes) fits the bound. */
	r.n_candidates = COORD_MAX_CANDIDATES;
	r.transport = COORD_TRANSPORT_TCP;
	r.mapping.kind = 1;
	memset(r.name, 'x', COORD_NAME_MAX - 1);
	for (size_t i = 0; i < COORD_MAX_CANDIDATES; i++)
		r.candidates[i] = r.candidates[1];
	assert_int_equal(coord_registration_bytes(&r, both), COORD_REG_BYTES_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_ok),
	    cmocka_unit_test(test_forged_signature_refused),
	    cmocka_unit_test(test_replay_and_name_taken),
	    cmocka_unit_test(test_expiry),
	    cmocka_unit_test(test_connect_introduces_only_the_two),
	    cmocka_unit_test(test_relay_forwards_opaque_bytes),
	    cmocka_unit_test(test_relay_refuses),
	    cmocka_unit_test(test_no_amplification),
	    cmocka_unit_test(test_binding_rate_limit),
	    cmocka_unit_test(test_relay_too_large_is_refused),
	    cmocka_unit_test(test_drops_counted_and_sampled),
	    cmocka_unit_test(test_peer_limit),
	    cmocka_unit_test(test_many_peers_hash),
	    cmocka_unit_test(test_allow_list),
	    cmocka_unit_test(test_verifier_used),
	    cmocka_unit_test(test_verifier_false_is_bad_signature),
	    cmocka_unit_test(test_mapping_passed_on),
	    cmocka_unit_test(test_dual_stack_registration),
	    cmocka_unit_test(test_introduce_both_families),
	    cmocka_unit_test(test_relay_per_family),
	    cmocka_unit_test(test_registration_bytes_ipv6_tail),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
