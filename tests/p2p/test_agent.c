/*
 * test_agent.c - two agents and a coordinator on a tiny in-test network with
 * fake NATs of a few lines each. Time moves by hand; nothing sleeps.
 * Set NATSIM_TEST_VERBOSE=1 to see the events as a student would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "p2p/agent.h"
#include "p2p/agent_speed.h"
#include "p2p/coord.h"

#define MS P2P_NS_PER_MS
#define S P2P_NS_PER_S
#define LATENCY (10 * MS)
#define QCAP 4096
/* Built a second time as test_agent_summary (tests/CMakeLists.txt): every
 * agent then keeps the speed layer's summary of its peers' timers
 * (agent_speed.h), checked against its peers after every call. */
#ifndef TEST_AGENT_SUMMARY
#define TEST_AGENT_SUMMARY 0
#endif

static const struct p2p_endpoint COORD_EP = {.ip = 0xC0000201u, .port = 3478}; /* 192.0.2.1 */

/* ---- fake NAT: EIM or APDM mapping, APDF filtering, idle expiry ---- */

enum fake_mode { FAKE_NONE, FAKE_PORT_RESTRICTED, FAKE_SYMMETRIC };

struct fake_map {
	struct p2p_endpoint in, ext, remote; /* remote: the one it was made for */
	struct p2p_endpoint allowed[32];
	size_t n_allowed;
	uint64_t last;
	bool live;
};

struct fake_nat {
	enum fake_mode mode;
	uint32_t public_ip;
	uint16_t next_port;
	uint64_t idle_ns; /* 0: mappings never expire */
	struct fake_map maps[64];
	size_t n_maps;
};

static bool map_alive(struct fake_nat *n, struct fake_map *m, uint64_t now)
{
	if (m->live && n->idle_ns && now - m->last > n->idle_ns)
		m->live = false;
	return m->live;
}

static struct p2p_endpoint nat_out(struct fake_nat *n, uint64_t now, struct p2p_endpoint in,
				   struct p2p_endpoint to)
{
	struct fake_map *m = NULL;
	for (size_t i = 0; i < n->n_maps && !m; i++) {
		struct fake_map *c = &n->maps[i];
		if (map_alive(n, c, now) && p2p_endpoint_equal(&c->in, &in) &&
		    (n->mode != FAKE_SYMMETRIC || p2p_endpoint_equal(&c->remote, &to)))
			m = c;
	}
	if (m == NULL) {
		assert_true(n->n_maps < 64);
		m = &n->maps[n->n_maps++];
		*m = (struct fake_map){.in = in,
				       .ext = {.ip = n->public_ip, .port = n->next_port++},
				       .remote = to,
				       .live = true};
	}
	bool known = false;
	for (size_t i = 0; i < m->n_allowed; i++)
		known |= p2p_endpoint_equal(&m->allowed[i], &to);
	if (!known && m->n_allowed < 32)
		m->allowed[m->n_allowed++] = to;
	m->last = now; /* RFC 4787 REQ-6: outbound refreshes */
	return m->ext;
}

/* Inbound: the inside endpoint, or false if filtered / no mapping. */
static bool nat_in(struct fake_nat *n, uint64_t now, struct p2p_endpoint from,
		   struct p2p_endpoint to, struct p2p_endpoint *inside)
{
	for (size_t i = 0; i < n->n_maps; i++) {
		struct fake_map *m = &n->maps[i];
		if (!map_alive(n, m, now) || !p2p_endpoint_equal(&m->ext, &to))
			continue;
		for (size_t k = 0; k < m->n_allowed; k++) {
			if (p2p_endpoint_equal(&m->allowed[k], &from)) {
				*inside = m->in;
				m->last = now;
				return true;
			}
		}
		return false; /* address-and-port-dependent filtering */
	}
	return false;
}

/* ---- the network ---- */

struct ev_log {
	uint64_t at;
	enum agent_event_type type;
	char text[256];
	char data[64];
	struct p2p_endpoint remote;
};

struct host {
	struct agent *ag;
	struct p2p_endpoint local;
	struct fake_nat nat; /* mode FAKE_NONE: a public address */
	struct ev_log log[512];
	size_t n_log;
};

struct pkt {
	uint64_t at;
	struct p2p_endpoint src, dst;
	size_t len;
	uint8_t buf[P2P_MAX_DATAGRAM];
	bool from_coord;
	/* An ICMP error instead of a datagram: about the datagram quoted (src
	 * -> dst as it reached the host that answered), from `reporter`. */
	bool icmp;
	struct p2p_icmp_error err;
};

struct net {
	uint64_t now;
	struct coord *coord;
	struct host h[2];
	struct pkt *q;
	size_t q_head, q_len;
	const char *forbidden; /* plaintext that must never cross the wire */
	size_t direct_data, relayed;
	size_t peer_datagrams[2]; /* sent by each agent to anything but the coordinator */
	uint64_t rng;
	bool deaf[2];	       /* drop everything sent to this agent (a dead path) */
	bool closed[2];	       /* this agent's socket is closed: its host answers every
				  datagram from a peer with port unreachable */
	uint32_t unreach_by;   /* nonzero: this router answers every datagram between the
				  agents with network unreachable (and delivers nothing) */
	bool coord_mute_relay; /* the coordinator never hears RELAY requests */
	/* Binding requests each agent sent to the other (connectivity and consent
	 * checks), and when it last got an authenticated-looking answer. */
	uint64_t check_at[2][256];
	size_t n_checks[2];
	uint64_t answered_at[2];
};

static struct net *N;
static bool verbose;

static void fill(void *ctx, uint8_t *out, size_t len)
{
	uint64_t *x = ctx;
	for (size_t i = 0; i < len; i++) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		out[i] = (uint8_t)*x;
	}
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; i + m <= n; i++)
		if (memcmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

static void enqueue(const struct p2p_endpoint *src, const struct p2p_datagram *d, bool from_coord)
{
	assert_true(N->q_len < QCAP);
	struct pkt *p = &N->q[(N->q_head + N->q_len++) % QCAP];
	p->at = N->now + LATENCY;
	p->src = *src;
	p->dst = d->to;
	p->len = d->len;
	memcpy(p->buf, d->buf, d->len);
	p->from_coord = from_coord;
	if (N->forbidden)
		assert_false(contains(d->buf, d->len, N->forbidden));
	struct stun_msg m;
	if (stun_decode(d->buf, d->len, false, &m) == STUN_OK && m.method == STUN_METHOD_DATA)
		N->direct_data++;
}

static void note_check(int i, const struct p2p_datagram *d)
{
	struct stun_msg m;
	if (stun_decode(d->buf, d->len, false, &m) == STUN_OK && m.method == STUN_METHOD_BINDING &&
	    m.cls == STUN_CLASS_REQUEST && N->n_checks[i] < 256)
		N->check_at[i][N->n_checks[i]++] = N->now;
}

static void drain_all(void)
{
	struct p2p_datagram d;
	struct p2p_event e;

	while (coord_pop_datagram(N->coord, &d))
		enqueue(&d.from, &d, true);
	for (int i = 0; i < 2; i++) {
		struct host *h = &N->h[i];
		while (agent_pop_datagram(h->ag, &d)) {
			struct p2p_endpoint src = d.from;
			if (!p2p_endpoint_equal(&d.to, &COORD_EP)) {
				N->peer_datagrams[i]++;
				note_check(i, &d);
			}
			if (h->nat.mode != FAKE_NONE)
				src = nat_out(&h->nat, N->now, d.from, d.to);
			enqueue(&src, &d, false);
		}
		while (agent_pop_event(h->ag, &e)) {
			if (verbose)
				fprintf(stderr, "%8.3f %s %-14s %s\n", (double)N->now / S,
					i ? "bob  " : "alice", agent_event_name(e.type), e.text);
			if (h->n_log == 512)
				continue;
			struct ev_log *l = &h->log[h->n_log++];
			l->at = N->now;
			l->type = e.type;
			l->remote = e.remote;
			snprintf(l->text, sizeof(l->text), "%s", e.text);
			memset(l->data, 0, sizeof(l->data));
			memcpy(l->data, e.data, e.data_len < 63 ? e.data_len : 63);
		}
#if TEST_AGENT_SUMMARY
		assert_true(agent_deadlines_agree(h->ag));
#endif
	}
	struct coord_event ce;
	while (coord_pop_event(N->coord, &ce)) {
		if (ce.type == COORD_EV_RELAYED)
			N->relayed++;
		if (verbose)
			fprintf(stderr, "%8.3f coord %-14s %s\n", (double)N->now / S,
				coord_event_name(ce.type), ce.text);
	}
}

/* An ICMP error about datagram p back to its sender, after LATENCY. */
static void answer_icmp(const struct pkt *p, uint32_t reporter, uint8_t type, uint8_t code)
{
	assert_true(N->q_len < QCAP);
	struct pkt *e = &N->q[(N->q_head + N->q_len++) % QCAP];
	*e = (struct pkt){.at = N->now + LATENCY,
			  .src = {.ip = reporter, .port = 0},
			  .dst = p->src,
			  .icmp = true};
	e->err = (struct p2p_icmp_error){.local = p->src,
					 .remote = p->dst,
					 .reporter = p2p_endpoint4(reporter, 0),
					 .type = type,
					 .code = code};
}

/* The error reaches the agent whose datagram it quotes: through its NAT,
 * which maps the quoted source back inside (RFC 5508 REQ-3) whatever the
 * error's own source (errors are RELATED, not filtered). */
static void deliver_icmp(struct pkt *p)
{
	for (int i = 0; i < 2; i++) {
		struct host *h = &N->h[i];
		struct p2p_icmp_error err = p->err;
		bool ours = h->nat.mode == FAKE_NONE && p2p_endpoint_equal(&h->local, &err.local);
		for (size_t k = 0; h->nat.mode != FAKE_NONE && k < h->nat.n_maps && !ours; k++)
			if (map_alive(&h->nat, &h->nat.maps[k], N->now) &&
			    p2p_endpoint_equal(&h->nat.maps[k].ext, &err.local)) {
				err.local = h->nat.maps[k].in;
				ours = true;
			}
		if (ours) {
			agent_handle_icmp_error(h->ag, N->now, &err);
			return;
		}
	}
}

static void deliver(struct pkt *p)
{
	struct stun_msg m;
	bool decoded = !p->icmp && stun_decode(p->buf, p->len, false, &m) == STUN_OK;

	if (p->icmp) {
		deliver_icmp(p);
		return;
	}
	if (N->unreach_by && !p->from_coord && !p2p_endpoint_equal(&p->dst, &COORD_EP)) {
		answer_icmp(p, N->unreach_by, 3, 0); /* network unreachable */
		return;
	}
	if (p2p_endpoint_equal(&p->dst, &COORD_EP)) {
		if (N->coord_mute_relay && decoded && m.method == STUN_METHOD_RELAY &&
		    m.cls == STUN_CLASS_REQUEST)
			return;
		coord_input(N->coord, N->now, &COORD_EP, &p->src, p->buf, p->len);
		return;
	}
	for (int i = 0; i < 2; i++) {
		struct host *h = &N->h[i];
		struct p2p_endpoint inside = p->dst;
		if (h->nat.mode == FAKE_NONE && !p2p_endpoint_equal(&h->local, &p->dst))
			continue;
		if (h->nat.mode != FAKE_NONE &&
		    (p->dst.ip != h->nat.public_ip || !nat_in(&h->nat, N->now, p->src, p->dst, &inside)))
			continue;
		if (N->deaf[i])
			return;
		if (N->closed[i]) {
			if (!p->from_coord) /* Linux: port unreachable, from that host */
				answer_icmp(p, p->dst.ip, 3, 3);
			return;
		}
		if (decoded && m.method == STUN_METHOD_BINDING && m.cls == STUN_CLASS_SUCCESS &&
		    !p->from_coord)
			N->answered_at[i] = N->now;
		agent_input(h->ag, N->now, &p->src, p->buf, p->len);
		return;
	}
	/* Anything else (private addresses across the Internet, filtered) is dropped. */
}

static uint64_t next_time(void)
{
	uint64_t t = coord_next_deadline(N->coord);
	for (int i = 0; i < 2; i++) {
		uint64_t d = agent_next_deadline(N->h[i].ag);
		t = d < t ? d : t;
	}
	if (N->q_len && N->q[N->q_head].at < t)
		t = N->q[N->q_head].at;
	return t;
}

static void run_until(uint64_t end)
{
	for (unsigned guard = 0; guard < 2000000; guard++) {
		uint64_t t = next_time();
		if (t > end)
			break;
		if (t > N->now)
			N->now = t;
		if (N->q_len && N->q[N->q_head].at <= N->now) {
			struct pkt *p = &N->q[N->q_head];
			N->q_head = (N->q_head + 1) % QCAP;
			N->q_len--;
			deliver(p);
		} else {
			if (coord_next_deadline(N->coord) <= N->now)
				coord_tick(N->coord, N->now);
			for (int i = 0; i < 2; i++)
				if (agent_next_deadline(N->h[i].ag) <= N->now)
					agent_tick(N->h[i].ag, N->now);
		}
		drain_all();
	}
	N->now = end > N->now ? end : N->now;
}

struct setup {
	enum fake_mode mode;
	uint64_t idle_ns;
	uint64_t keepalive_ns; /* 0: default; UINT64_MAX: disabled */
	uint64_t consent_expiry_ns; /* 0: default (30 s) */
	bool no_host;
	bool relay_off; /* the coordinator runs without a relay */
};

/* Each agent's shared-secret source for the next net_up (zeroed:
 * crypto_shared_secret), its signing hint (zeroed: none) and the
 * coordinator's signature verifier (NULL: crypto_identity_verify); net_down
 * clears them. */
static struct agent_speed speed_for[2];
static bool (*coord_verify)(void *ctx, const uint8_t sign_pk[32], const uint8_t *msg, size_t len,
			    const uint8_t sig[64]);
static void *coord_verify_ctx;

static void net_up(const struct setup *s)
{
	static const char *names[2] = {"alice", "bob"};
	uint8_t seed[32];

	verbose = getenv("NATSIM_TEST_VERBOSE") != NULL;
	N = calloc(1, sizeof(*N));
	N->q = calloc(QCAP, sizeof(*N->q));
	N->rng = 0x9E3779B97F4A7C15ull;
	struct coord_config cc = {.primary = COORD_EP,
				  .random = {fill, &N->rng},
				  .disable_relay = s->relay_off,
				  .verify = coord_verify,
				  .verify_ctx = coord_verify_ctx};
	N->coord = coord_new(&cc);
	assert_non_null(N->coord);
	for (int i = 0; i < 2; i++) {
		struct host *h = &N->h[i];
		h->nat.mode = s->mode;
		h->nat.public_ip = i ? 0xC6336401u : 0xCB007101u; /* 198.51.100.1, 203.0.113.1 */
		h->nat.next_port = (uint16_t)(40000 + 1000 * i);
		h->nat.idle_ns = s->idle_ns;
		h->local = s->mode == FAKE_NONE
			       ? (struct p2p_endpoint){.ip = h->nat.public_ip + 9, .port = 5000}
			       : (struct p2p_endpoint){.ip = 0x0A000102u + 0x100u * (uint32_t)i,
						       .port = 5000};
		memset(seed, i + 1, sizeof(seed));
		speed_for[i].summarize_deadlines = TEST_AGENT_SUMMARY;
		struct agent_config ac = {
		    .name = names[i],
		    .local = h->local,
		    .coordinator = COORD_EP,
		    .key_seed = seed,
		    .random = {fill, &N->rng},
		    .keepalive_ns = s->keepalive_ns == UINT64_MAX ? 0 : s->keepalive_ns,
		    .consent_expiry_ns = s->consent_expiry_ns,
		    .disable_host_candidates = s->no_host,
		    .speed = &speed_for[i],
		};
		h->ag = agent_new(&ac);
		assert_non_null(h->ag);
		if (s->keepalive_ns == UINT64_MAX)
			agent_set_keepalive(h->ag, 0);
	}
}

static void net_down(void)
{
	for (int i = 0; i < 2; i++)
		agent_free(N->h[i].ag);
	coord_free(N->coord);
	free(N->q);
	free(N);
	N = NULL;
	memset(speed_for, 0, sizeof(speed_for));
	coord_verify = NULL;
	coord_verify_ctx = NULL;
}

static int count(int host, enum agent_event_type t)
{
	int n = 0;
	for (size_t i = 0; i < N->h[host].n_log; i++)
		n += N->h[host].log[i].type == t;
	return n;
}

static const struct ev_log *find_ev(int host, enum agent_event_type t)
{
	for (size_t i = 0; i < N->h[host].n_log; i++)
		if (N->h[host].log[i].type == t)
			return &N->h[host].log[i];
	return NULL;
}

static void register_and_connect(void)
{
	agent_register(N->h[0].ag, N->now);
	agent_register(N->h[1].ag, N->now);
	drain_all();
	run_until(N->now + 500 * MS);
	assert_int_equal(count(0, AGENT_EV_REGISTERED), 1);
	assert_int_equal(count(1, AGENT_EV_CANDIDATES_GATHERED), 1);
	assert_int_equal(agent_connect(N->h[0].ag, N->now, "bob"), AGENT_OK);
	drain_all();
}

static void send_and_expect(int from, const char *msg)
{
	const char *to = from ? "alice" : "bob";
	size_t before = N->h[!from].n_log;
	N->forbidden = msg;
	assert_int_equal(agent_send(N->h[from].ag, N->now, to, (const uint8_t *)msg, strlen(msg)),
			 AGENT_OK);
	drain_all();
	run_until(N->now + 200 * MS);
	N->forbidden = NULL;
	bool got = false;
	for (size_t i = before; i < N->h[!from].n_log; i++)
		got |= N->h[!from].log[i].type == AGENT_EV_DATA_RECEIVED &&
		       strcmp(N->h[!from].log[i].data, msg) == 0;
	assert_true(got);
}

/* ---- tests ---- */

static void test_direct_no_nat(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	assert_int_equal(count(1, AGENT_EV_PUNCHING), 1); /* the introduced side punched too */
	const struct ev_log *a = find_ev(0, AGENT_EV_DIRECT), *b = find_ev(1, AGENT_EV_DIRECT);
	assert_non_null(a);
	assert_non_null(b);
	assert_true(p2p_endpoint_equal(&a->remote, &N->h[1].local));
	assert_true(p2p_endpoint_equal(&b->remote, &N->h[0].local));
	size_t d0 = N->direct_data;
	send_and_expect(0, "hello bob, it is alice");
	send_and_expect(1, "hi alice");
	assert_int_equal(N->direct_data, d0 + 2);
	assert_int_equal(N->relayed, 0);
	struct p2p_endpoint pub;
	assert_true(agent_public_endpoint(N->h[0].ag, &pub));
	assert_true(p2p_endpoint_equal(&pub, &N->h[0].local));
	net_down();
}

static void test_direct_port_restricted(void **state)
{
	struct setup s = {FAKE_PORT_RESTRICTED, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 3 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	assert_int_equal(count(0, AGENT_EV_RELAYED), 0);
	/* Both ends agree on one path: each one's remote is the other's public mapping. */
	const struct ev_log *a = find_ev(0, AGENT_EV_DIRECT), *b = find_ev(1, AGENT_EV_DIRECT);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->remote.ip, N->h[1].nat.public_ip);
	assert_int_equal(b->remote.ip, N->h[0].nat.public_ip);
	send_and_expect(0, "through two NATs");
	send_and_expect(1, "and back");
	assert_int_equal(N->relayed, 0);
	net_down();
}

static void test_relay_then_upgrade(void **state)
{
	struct setup s = {FAKE_SYMMETRIC, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 6 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_RELAYED);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_RELAYED);
	assert_int_equal(count(0, AGENT_EV_DIRECT), 0);
	send_and_expect(0, "via the relay, sealed");
	send_and_expect(1, "relay reply");
	assert_int_equal(N->relayed, 2);
	/* The NATs turn into port-restricted cones: background probing finds the path. */
	N->h[0].nat.mode = N->h[1].nat.mode = FAKE_PORT_RESTRICTED;
	run_until(N->now + 10 * S);
	assert_int_equal(count(0, AGENT_EV_UPGRADED), 1);
	assert_int_equal(count(1, AGENT_EV_UPGRADED), 1);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	size_t d0 = N->direct_data;
	send_and_expect(0, "now direct");
	assert_int_equal(N->direct_data, d0 + 1);
	net_down();
}

/* RFC 8445 section 14 / RFC 8489 6.2.1: a pair that never works costs one
 * transaction of Rc = 7 requests (at 0, 0.1, 0.3, 0.7, 1.5, 3.1, 4.7 s), not
 * a check every pacing interval for the whole punch deadline (~250). */
static void test_failing_pairs_cost_a_few_checks(void **state)
{
	struct setup s = {FAKE_SYMMETRIC, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 5500 * MS); /* past the deadline, before the first background check */
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_RELAYED);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_RELAYED);
	/* Each side has two pairs: the other's host and server-reflexive candidates. */
	for (int i = 0; i < 2; i++) {
		assert_true(N->peer_datagrams[i] >= 2 * 6);
		assert_true(N->peer_datagrams[i] <= 2 * 7);
	}
	net_down();
}

/* Consent checks (RFC 7675) keep the path, and both NATs' mappings, alive
 * through five idle minutes although the NATs forget after 30 s. */
static void test_keepalive_keeps_path(void **state)
{
	struct setup s = {FAKE_PORT_RESTRICTED, 30 * S, 25 * S, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 300 * S);
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 0);
	assert_int_equal(count(1, AGENT_EV_PATH_LOST), 0);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	size_t d0 = N->direct_data;
	send_and_expect(1, "still there after five minutes");
	assert_int_equal(N->direct_data, d0 + 1);
	net_down();
}

/* Time of the first event of type t at host, or 0. */
static uint64_t event_at(int host, enum agent_event_type t)
{
	const struct ev_log *e = find_ev(host, t);
	return e ? e->at : 0;
}

/* RFC 7675 5.1: once the path is chosen, a consent check every 0.8 to 1.2
 * times 5 s, drawn anew each time (not one fixed period). */
static void test_consent_checks_jittered(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 2 * S);
	uint64_t direct = event_at(0, AGENT_EV_DIRECT);
	assert_true(direct > 0);
	size_t first = N->n_checks[0];
	run_until(direct + 120 * S);
	/* The nomination's check is the last before the path was chosen. */
	uint64_t prev = direct, lo = UINT64_MAX, hi = 0;
	size_t n = 0;
	for (size_t k = first; k < N->n_checks[0]; k++, n++) {
		uint64_t gap = N->check_at[0][k] - prev;
		assert_true(gap >= 4 * S);
		assert_true(gap <= 6 * S);
		lo = gap < lo ? gap : lo;
		hi = gap > hi ? gap : hi;
		prev = N->check_at[0][k];
	}
	assert_true(n >= 120 / 6);
	assert_true(n <= 120 / 4);
	assert_true(hi - lo > 200 * MS); /* jitter, not a fixed period */
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 0);
	net_down();
}

/* RFC 7675 5.1: consent expires 30 s after the last answer. Bob goes deaf
 * (a NAT in between drops everything); alice keeps checking, and declares
 * the path lost exactly 30 s after bob's last answer, not before. */
static void test_consent_lost_after_30s(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 10 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	N->deaf[1] = true;
	uint64_t deaf_at = N->now, last = N->answered_at[0];
	assert_true(last > 0 && last <= deaf_at);
	size_t checks = N->n_checks[0];
	run_until(last + 30 * S - 1);
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 0);
	assert_true(N->n_checks[0] >= checks + 4); /* still checking, unanswered */
	run_until(last + 30 * S);
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 1);
	assert_int_equal(event_at(0, AGENT_EV_PATH_LOST), last + 30 * S);
	assert_non_null(strstr(find_ev(0, AGENT_EV_PATH_LOST)->text, "consent expired"));
	assert_int_not_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	net_down();
}

/* Answers keep consent: 20 s without any (fewer than 30) lose nothing. */
static void test_consent_answers_keep_it(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 10 * S);
	N->deaf[1] = true;
	run_until(N->now + 20 * S);
	N->deaf[1] = false;
	run_until(N->now + 60 * S);
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 0);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_true(N->answered_at[0] > N->now - 7 * S);
	net_down();
}

/* Keepalives off: the agents send nothing on the idle path (no consent
 * checks either), the NATs forget their mappings at 30 s, and consent
 * expires 30 s after the last answer. Reconnecting at once would itself be
 * a keepalive, so the agent stays quiet until it has something to send;
 * then the message goes through the relay and punching starts again. */
static void test_path_lost_without_keepalive(void **state)
{
	struct setup s = {FAKE_PORT_RESTRICTED, 30 * S, UINT64_MAX, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	size_t checks = N->n_checks[0];
	uint64_t last = N->answered_at[0];
	run_until(last + 30 * S - 1);
	assert_int_equal(N->n_checks[0], checks); /* silence */
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 0);
	run_until(last + 30 * S);
	assert_int_equal(count(0, AGENT_EV_PATH_LOST), 1);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_CONNECTING);
	size_t sent = N->peer_datagrams[0] + N->peer_datagrams[1];
	run_until(N->now + 20 * S);
	assert_int_equal(N->peer_datagrams[0] + N->peer_datagrams[1], sent); /* still quiet */
	assert_int_equal(count(0, AGENT_EV_PUNCHING), 1);
	/* Something to send: through the relay, and punching again. */
	assert_int_equal(agent_send(N->h[0].ag, N->now, "bob", (const uint8_t *)"hi", 2), AGENT_OK);
	drain_all();
	assert_int_equal(N->relayed, 0);
	run_until(N->now + 10 * S);
	assert_int_equal(N->relayed, 1);
	assert_int_equal(count(0, AGENT_EV_PUNCHING), 2);
	net_down();
}

/* A coordinator without a relay refuses the RELAY request: punching failed,
 * so the connection has failed, and the agents never say "relayed". */
static void test_relay_refused_fails(void **state)
{
	struct setup s = {FAKE_SYMMETRIC, 0, 0, 0, false, true};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 7 * S);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(count(i, AGENT_EV_RELAYED), 0);
		assert_int_equal(count(i, AGENT_EV_FAILED), 1);
		assert_non_null(strstr(find_ev(i, AGENT_EV_FAILED)->text, "refuses to relay (403"));
	}
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_FAILED);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_FAILED);
	assert_int_equal(agent_send(N->h[0].ag, N->now, "bob", (const uint8_t *)"x", 1),
			 AGENT_ERR_NOT_CONNECTED);
	assert_int_equal(N->relayed, 0);
	net_down();
}

/* No answer to the RELAY request at all: retransmitted, then failed. */
static void test_relay_silent_fails(void **state)
{
	struct setup s = {FAKE_SYMMETRIC, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	N->coord_mute_relay = true;
	register_and_connect();
	run_until(N->now + 6 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_PUNCHING);
	run_until(N->now + 30 * S);
	assert_int_equal(count(0, AGENT_EV_RELAYED), 0);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_FAILED);
	assert_non_null(strstr(find_ev(0, AGENT_EV_FAILED)->text, "does not answer"));
	net_down();
}

static void test_unknown_peer_fails(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, true, false};
	(void)state;
	net_up(&s);
	agent_register(N->h[0].ag, 0);
	drain_all();
	run_until(500 * MS);
	assert_int_equal(agent_connect(N->h[0].ag, N->now, "nobody"), AGENT_OK);
	drain_all();
	run_until(N->now + 1 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "nobody"), AGENT_PEER_FAILED);
	assert_int_equal(count(0, AGENT_EV_FAILED), 1);
	assert_int_equal(agent_send(N->h[0].ag, N->now, "nobody", (const uint8_t *)"x", 1),
			 AGENT_ERR_NOT_CONNECTED);
	assert_string_equal(agent_event_name(AGENT_EV_PATH_LOST), "path-lost");
	assert_string_equal(agent_event_name(AGENT_EV_NAT_CLASSIFIED), "nat-classified");
	net_down();
}

/* ---- the shared-secret source (agent_config.secrets) ---- */

struct counting_source {
	int calls;
	int fail_with; /* 0: forward to crypto_shared_secret */
};

static int counting_secret(void *ctx, const struct crypto_identity *me,
			   const uint8_t peer_box_pk[CRYPTO_BOX_PK_SIZE],
			   uint8_t out[CRYPTO_KEY_SIZE])
{
	struct counting_source *cs = ctx;
	cs->calls++;
	return cs->fail_with ? cs->fail_with : crypto_shared_secret(me, peer_box_pk, out);
}

static void test_secret_source_used(void **state)
{
	struct counting_source src = {0, 0};
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	for (int i = 0; i < 2; i++) {
		speed_for[i].shared_secret = counting_secret;
		speed_for[i].secret_ctx = &src;
	}
	net_up(&s);
	register_and_connect();
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	assert_int_equal(src.calls, 2); /* one introduction on each side, nothing else */
	send_and_expect(0, "keys from the source");
	send_and_expect(1, "work both ways");
	net_down();
}

/* An INTRODUCE of "carol" with box key `pk`, as the coordinator sends it. */
static int introduce(struct agent *ag, const uint8_t pk[CRYPTO_BOX_PK_SIZE])
{
	uint8_t buf[P2P_MAX_DATAGRAM], txid[STUN_TXID_SIZE] = {1, 2, 3};
	struct stun_writer w;
	struct coord_candidate c = {{.ip = 0xCB007163u, .port = 6000}, COORD_CAND_SRFLX};

	stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION, txid);
	stun_put_string(&w, STUN_ATTR_NATSIM_PEER, "carol");
	stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, pk, CRYPTO_BOX_PK_SIZE);
	coord_put_candidate(&w, &c);
	stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, 77);
	stun_put_fingerprint(&w);
	int n = stun_writer_finish(&w);
	assert_true(n > 0);
	return agent_input(ag, 0, &COORD_EP, buf, (size_t)n);
}

static struct agent *lone_agent(uint64_t *rng, struct agent_speed speed)
{
	uint8_t seed[32];
	memset(seed, 7, sizeof(seed));
	struct agent_config ac = {.name = "dave",
				  .local = {.ip = 0xCB007109u, .port = 5000},
				  .coordinator = COORD_EP,
				  .key_seed = seed,
				  .random = {fill, rng},
				  .speed = &speed};
	struct agent *ag = agent_new(&ac);
	assert_non_null(ag);
	return ag;
}

static size_t pending_output(struct agent *ag)
{
	struct p2p_datagram d;
	struct p2p_event e;
	size_t n = 0;
	while (agent_pop_datagram(ag, &d))
		n++;
	while (agent_pop_event(ag, &e))
		n++;
	return n;
}

/* An identity derived elsewhere is taken as it is: no seed is drawn, and the
 * agent's keys are exactly the given ones. */
static void test_given_identity_used(void **state)
{
	uint8_t seed[32];
	struct crypto_identity given;
	uint64_t rng = 5;
	(void)state;
	memset(seed, 9, sizeof(seed));
	assert_int_equal(crypto_identity_from_seed(&given, seed), CRYPTO_OK);
	struct agent_config ac = {.name = "erin",
				  .local = {.ip = 0xCB00710Au, .port = 5000},
				  .coordinator = COORD_EP,
				  .random = {fill, &rng},
				  .speed = &(struct agent_speed){.identity = &given}};
	struct agent *ag = agent_new(&ac);
	assert_non_null(ag);
	assert_memory_equal(agent_identity(ag), &given, sizeof(given));
	assert_int_equal(rng, 5); /* nothing drawn for a seed */
	agent_free(ag);
}

/* A source that fails refuses the introduction exactly as a low-order key
 * does: same error, same peer state, nothing sent, no event. */
static void test_secret_source_error_refuses(void **state)
{
	uint64_t rng = 1;
	uint8_t carol_seed[32], zero[CRYPTO_BOX_PK_SIZE] = {0};
	struct crypto_identity carol;
	struct counting_source failing = {0, CRYPTO_ERR_KEY};
	(void)state;
	memset(carol_seed, 3, sizeof(carol_seed));
	assert_int_equal(crypto_identity_from_seed(&carol, carol_seed), CRYPTO_OK);

	struct agent *bad_key = lone_agent(&rng, (struct agent_speed){0});
	struct agent *bad_src = lone_agent(&rng, (struct agent_speed){.shared_secret = counting_secret, .secret_ctx = &failing});
	struct agent *control = lone_agent(&rng, (struct agent_speed){0});
	assert_int_equal(introduce(bad_key, zero), AGENT_ERR_MALFORMED);
	assert_int_equal(introduce(bad_src, carol.box_pk), AGENT_ERR_MALFORMED);
	assert_int_equal(failing.calls, 1);
	assert_int_equal(agent_peer_state(bad_src, "carol"), agent_peer_state(bad_key, "carol"));
	assert_int_not_equal(agent_peer_state(bad_src, "carol"), AGENT_PEER_PUNCHING);
	assert_int_equal(pending_output(bad_key), 0);
	assert_int_equal(pending_output(bad_src), 0);
	assert_int_equal(agent_send(bad_src, 0, "carol", (const uint8_t *)"x", 1),
			 AGENT_ERR_NOT_CONNECTED);
	/* The same introduction with a working source starts punching. */
	assert_int_equal(introduce(control, carol.box_pk), AGENT_OK);
	assert_int_equal(agent_peer_state(control, "carol"), AGENT_PEER_PUNCHING);
	agent_free(bad_key);
	agent_free(bad_src);
	agent_free(control);
}

/* ---- the signing hint ---- */

/* Every registration hinted so far, in order. */
struct signed_log {
	unsigned n;
	struct {
		uint8_t pk[CRYPTO_SIGN_PK_SIZE], msg[COORD_REG_BYTES_MAX], sig[CRYPTO_SIGNATURE_SIZE];
		size_t len;
	} e[16];
	unsigned coord_checks, coord_hinted; /* verifier calls, of which about hinted bytes */
};

static void record_signed(void *ctx, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE],
			  const uint8_t *msg, size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE])
{
	struct signed_log *l = ctx;
	assert_true(l->n < 16);
	assert_true(len <= COORD_REG_BYTES_MAX);
	memcpy(l->e[l->n].pk, sign_pk, CRYPTO_SIGN_PK_SIZE);
	memcpy(l->e[l->n].msg, msg, len);
	memcpy(l->e[l->n].sig, sig, CRYPTO_SIGNATURE_SIZE);
	l->e[l->n++].len = len;
}

/* Pops the agent's output: every REGISTER in it must be the next hinted
 * registration (same signature), signed by the agent's key over the hinted
 * bytes. Returns how many REGISTERs there were. */
static unsigned registers_match_hints(struct agent *ag, const struct signed_log *l,
				      unsigned *next)
{
	struct p2p_datagram d;
	struct stun_msg m;
	unsigned n = 0;
	while (agent_pop_datagram(ag, &d)) {
		if (stun_decode(d.buf, d.len, false, &m) != STUN_OK ||
		    m.method != STUN_METHOD_REGISTER)
			continue;
		const struct stun_attr *sig = stun_find(&m, STUN_ATTR_NATSIM_SIGNATURE);
		assert_non_null(sig);
		assert_true(*next < l->n);
		assert_int_equal(sig->len, CRYPTO_SIGNATURE_SIZE);
		assert_memory_equal(sig->value, l->e[*next].sig, CRYPTO_SIGNATURE_SIZE);
		assert_memory_equal(l->e[*next].pk, agent_identity(ag)->sign_pk, CRYPTO_SIGN_PK_SIZE);
		assert_true(crypto_identity_verify(agent_identity(ag)->sign_pk, l->e[*next].msg,
						   l->e[*next].len, l->e[*next].sig));
		(*next)++;
		n++;
	}
	return n;
}

/* Once per REGISTER sent, retransmissions included (each is signed anew,
 * with a newer timestamp), with the bytes the signature covers. */
static void test_sign_hint_per_register(void **state)
{
	static struct signed_log log;
	uint64_t rng = 3;
	uint8_t seed[32];
	unsigned next = 0;
	(void)state;
	memset(&log, 0, sizeof(log));
	memset(seed, 7, sizeof(seed));
	struct agent_config ac = {
	    .name = "dave",
	    .local = {.ip = 0xCB007109u, .port = 5000},
	    .coordinator = COORD_EP,
	    .key_seed = seed,
	    .random = {fill, &rng},
	    .speed = &(struct agent_speed){.signed_registration = record_signed, .sign_ctx = &log}};
	struct agent *ag = agent_new(&ac);
	assert_non_null(ag);
	assert_int_equal(log.n, 0);
	assert_int_equal(agent_register(ag, 0), AGENT_OK);
	assert_int_equal(log.n, 1);
	assert_int_equal(registers_match_hints(ag, &log, &next), 1);
	/* No answer: retransmitted at the RTO, signed again. */
	for (int k = 0; k < 2; k++) {
		uint64_t t = agent_next_deadline(ag);
		assert_true(t != P2P_NO_DEADLINE);
		agent_tick(ag, t);
		assert_int_equal(registers_match_hints(ag, &log, &next), 1);
		assert_int_equal(log.n, (unsigned)k + 2);
	}
	assert_int_equal(log.e[0].len, log.e[1].len);
	assert_memory_not_equal(log.e[0].msg, log.e[1].msg, log.e[0].len); /* timestamps */
	agent_free(ag);
}

/* The coordinator's verifier, in the test network: asked about exactly the
 * bytes an agent hinted. */
static bool verify_hinted(void *ctx, const uint8_t sign_pk[32], const uint8_t *msg, size_t len,
			  const uint8_t sig[64])
{
	struct signed_log *logs = ctx; /* one per agent */
	logs[0].coord_checks++;
	for (int i = 0; i < 2; i++)
		for (unsigned k = 0; k < logs[i].n; k++)
			if (logs[i].e[k].len == len && memcmp(logs[i].e[k].msg, msg, len) == 0 &&
			    memcmp(logs[i].e[k].pk, sign_pk, 32) == 0 &&
			    memcmp(logs[i].e[k].sig, sig, 64) == 0)
				logs[0].coord_hinted++;
	return crypto_identity_verify(sign_pk, msg, len, sig);
}

static void test_sign_hint_is_what_coordinator_checks(void **state)
{
	static struct signed_log logs[2];
	struct setup s = {FAKE_PORT_RESTRICTED, 0, 0, 0, false, false};
	(void)state;
	memset(logs, 0, sizeof(logs));
	for (int i = 0; i < 2; i++) {
		speed_for[i].signed_registration = record_signed;
		speed_for[i].sign_ctx = &logs[i];
	}
	coord_verify = verify_hinted;
	coord_verify_ctx = logs;
	net_up(&s);
	register_and_connect();
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(logs[0].n, 1);
	assert_int_equal(logs[1].n, 1);
	assert_int_equal(logs[0].coord_checks, 2);
	assert_int_equal(logs[0].coord_hinted, 2);
	net_down();
}

/* ---- event texts ---- */

struct text_switch {
	bool on;
	unsigned asked;
};

static bool text_switch_wanted(void *ctx)
{
	struct text_switch *t = ctx;
	t->asked++;
	return t->on;
}

/* Nobody reads alice's texts: her events come as always, with everything
 * but the text; bob's, asked the same question and told yes, read as
 * before. The conversation itself does not change. */
static void test_event_text_only_when_wanted(void **state)
{
	struct text_switch off = {false, 0}, on = {true, 0};
	struct setup s = {FAKE_PORT_RESTRICTED, 0, 0, 0, false, false};
	(void)state;
	speed_for[0] = (struct agent_speed){.event_text_wanted = text_switch_wanted, .text_ctx = &off};
	speed_for[1] = (struct agent_speed){.event_text_wanted = text_switch_wanted, .text_ctx = &on};
	net_up(&s);
	register_and_connect();
	run_until(N->now + 3 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	send_and_expect(1, "texts or not, data arrives");
	assert_true(off.asked >= N->h[0].n_log);
	assert_true(on.asked >= N->h[1].n_log);
	for (size_t i = 0; i < N->h[0].n_log; i++)
		assert_string_equal(N->h[0].log[i].text, "");
	for (size_t i = 0; i < N->h[1].n_log; i++)
		assert_true(N->h[1].log[i].text[0] != '\0');
	const struct ev_log *a = find_ev(0, AGENT_EV_DIRECT), *b = find_ev(1, AGENT_EV_DIRECT);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->remote.ip, N->h[1].nat.public_ip); /* still filled in */
	assert_non_null(strstr(b->text, "direct to alice via"));
	assert_int_equal(count(0, AGENT_EV_PUNCHING), 1);
	assert_int_equal(count(0, AGENT_EV_DATA_RECEIVED), 1); /* bob wrote to alice */
	assert_int_equal(count(1, AGENT_EV_DATA_RECEIVED), 0);
	net_down();
}

/* ---- many peers ---- */

/* Sixteen peers: whatever the order of introductions and answers, lookups
 * by name find the right peer, the table refuses a seventeenth, and the next
 * deadline is the earliest of all. */
static void test_many_peers(void **state)
{
	uint64_t rng = 11;
	uint8_t seed[32], buf[P2P_MAX_DATAGRAM], txid[STUN_TXID_SIZE] = {9};
	char name[AGENT_NAME_MAX];
	(void)state;
	struct agent *ag = lone_agent(&rng, (struct agent_speed){0});
	assert_int_equal(agent_register(ag, 0), AGENT_OK);
	for (int i = 0; i < AGENT_MAX_PEERS; i++) {
		snprintf(name, sizeof(name), "peer-%02d", i);
		assert_int_equal(agent_connect(ag, (uint64_t)i * MS, name), AGENT_OK);
		assert_int_equal(agent_peer_state(ag, name), AGENT_PEER_CONNECTING);
	}
	assert_int_equal(agent_connect(ag, 20 * MS, "one-too-many"), AGENT_ERR_TOO_MANY);
	assert_int_equal(agent_peer_state(ag, "one-too-many"), AGENT_PEER_NONE);
	assert_int_equal(agent_peer_state(ag, "peer-1"), AGENT_PEER_NONE);
	/* Introduce them in reverse order, each with its own key and address. */
	for (int i = AGENT_MAX_PEERS - 1; i >= 0; i--) {
		struct crypto_identity id;
		struct stun_writer w;
		struct coord_candidate c = {{.ip = 0xCB007100u + (uint32_t)i, .port = 6000},
					    COORD_CAND_SRFLX};
		memset(seed, 40 + i, sizeof(seed));
		assert_int_equal(crypto_identity_from_seed(&id, seed), CRYPTO_OK);
		snprintf(name, sizeof(name), "peer-%02d", i);
		stun_writer_init(&w, buf, sizeof(buf), STUN_METHOD_INTRODUCE, STUN_CLASS_INDICATION,
				 txid);
		stun_put_string(&w, STUN_ATTR_NATSIM_PEER, name);
		stun_put_raw(&w, STUN_ATTR_NATSIM_BOX_KEY, id.box_pk, CRYPTO_BOX_PK_SIZE);
		coord_put_candidate(&w, &c);
		stun_put_u64(&w, STUN_ATTR_NATSIM_SESSION, 100 + (uint64_t)i);
		stun_put_fingerprint(&w);
		int n = stun_writer_finish(&w);
		assert_true(n > 0);
		assert_int_equal(agent_input(ag, 30 * MS, &COORD_EP, buf, (size_t)n), AGENT_OK);
		assert_int_equal(agent_peer_state(ag, name), AGENT_PEER_PUNCHING);
	}
	pending_output(ag);
	/* The first checks are paced one per Ta over all sixteen, then every
	 * pair retransmits; each tick is due exactly when the agent said. */
	uint64_t now = 30 * MS, sent = 0;
	for (int k = 0; k < 200; k++) {
		uint64_t t = agent_next_deadline(ag);
		assert_true(t >= now);
		if (t > 2 * S)
			break;
		now = t;
		agent_tick(ag, now);
		struct p2p_datagram d;
		while (agent_pop_datagram(ag, &d))
			sent += !p2p_endpoint_equal(&d.to, &COORD_EP);
		struct p2p_event e;
		while (agent_pop_event(ag, &e))
			;
	}
	/* 16 first checks plus the retransmissions within 2 s (0.1, 0.3, 0.7
	 * and 1.5 s after each). */
	assert_true(sent >= 16 * 4);
	for (int i = 0; i < AGENT_MAX_PEERS; i++) {
		snprintf(name, sizeof(name), "peer-%02d", i);
		assert_int_equal(agent_peer_state(ag, name), AGENT_PEER_PUNCHING);
	}
	agent_free(ag);
}

/* ---- ICMP errors about checks (RFC 8445 7.2.5.2, RFC 8489 6.2.1) ---- */

/* The split of p2p_icmp_error_is_hard follows Linux's icmp_err_convert. */
static void test_icmp_hard_and_soft(void **state)
{
	static const uint8_t hard[] = {2, 3, 6, 7, 8, 9, 10, 13, 14, 15};
	static const uint8_t soft[] = {0, 1, 4, 5, 11, 12, 16, 255};
	char buf[48];
	(void)state;
	for (size_t i = 0; i < sizeof(hard); i++)
		assert_true(p2p_icmp_error_is_hard(P2P_ICMP_DEST_UNREACH, hard[i]));
	for (size_t i = 0; i < sizeof(soft); i++)
		assert_false(p2p_icmp_error_is_hard(P2P_ICMP_DEST_UNREACH, soft[i]));
	assert_false(p2p_icmp_error_is_hard(P2P_ICMP_TIME_EXCEEDED, 0));
	assert_true(p2p_icmp_error_is_hard(P2P_ICMP_PARAMETER_PROBLEM, 0));
	assert_false(p2p_icmp_error_is_hard(0, 0)); /* an echo reply is no error */
	assert_string_equal(p2p_icmp_error_name(3, 3, buf, sizeof(buf)), "port unreachable");
	assert_string_equal(p2p_icmp_error_name(3, 13, buf, sizeof(buf)),
			    "communication administratively prohibited");
	assert_string_equal(p2p_icmp_error_name(11, 0, buf, sizeof(buf)),
			    "time exceeded in transit");
	assert_string_equal(p2p_icmp_error_name(5, 1, buf, sizeof(buf)), "ICMP type 5 code 1");
	assert_string_equal(agent_event_name(AGENT_EV_PAIR_FAILED), "pair-failed");
}

/* Bob's agent has stopped, its registration not yet expired: his host
 * answers alice's first check with port unreachable. Alice gives the pair
 * up at once (one request, not 7) and, with no pair left, asks for the
 * relay at once rather than at the 5 s punch deadline. */
static void test_port_unreachable_fails_pair_and_relays_early(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	N->closed[1] = true;
	uint64_t start = N->now;
	run_until(N->now + 1 * S);
	const struct ev_log *f = find_ev(0, AGENT_EV_PAIR_FAILED);
	assert_non_null(f);
	assert_true(p2p_endpoint_equal(&f->remote, &N->h[1].local));
	assert_non_null(strstr(f->text, "198.51.100.10:5000 answered port unreachable"));
	assert_non_null(strstr(f->text, "candidate there is dead"));
	assert_int_equal(count(0, AGENT_EV_PAIR_FAILED), 1);
	assert_int_equal(N->peer_datagrams[0], 1); /* the one check: no retransmission */
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_RELAYED);
	const struct ev_log *r = find_ev(0, AGENT_EV_RELAYED);
	assert_true(r->at < start + 200 * MS);
	assert_non_null(strstr(r->text, "hard ICMP error"));
	net_down();
}

/* A soft error (a router with no route: network unreachable) is reported
 * once per check and changes nothing: the check is retransmitted as usual
 * and the relay comes at the punch deadline. */
static void test_soft_error_changes_nothing(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	N->unreach_by = 0xC0000263u; /* 192.0.2.99 */
	uint64_t start = N->now;
	run_until(N->now + 4900 * MS);
	assert_int_equal(count(0, AGENT_EV_PAIR_FAILED), 0);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_PUNCHING);
	assert_int_equal(N->peer_datagrams[0], 7); /* Rc requests, as with silence */
	int soft = 0;
	for (size_t i = 0; i < N->h[0].n_log; i++)
		soft +=
		    N->h[0].log[i].type == AGENT_EV_LOG &&
		    strstr(N->h[0].log[i].text, "192.0.2.99 reported 198.51.100.10:5000 "
						"network unreachable: a soft ICMP error") != NULL;
	assert_int_equal(soft, 1);
	run_until(start + 6 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_RELAYED);
	assert_true(find_ev(0, AGENT_EV_RELAYED)->at >= start + 5 * S);
	net_down();
}

/* An error is a hint, not proof (it may be forged): the authenticated
 * answer to the failed check, arriving after it, still makes the path
 * direct. (With its only pair failed, alice has asked for the relay
 * meanwhile; the answer upgrades the path.) */
static void test_forged_error_loses_to_answer(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	run_until(N->now + LATENCY); /* the introduction is in; alice's first check is out */
	while (N->peer_datagrams[0] == 0)
		run_until(N->now + 1 * MS);
	struct p2p_icmp_error forged = {.local = N->h[0].local,
					.remote = N->h[1].local,
					.reporter = p2p_endpoint4(0x0A0A0A0Au, 0),
					.type = 3,
					.code = 3};
	assert_int_equal(agent_handle_icmp_error(N->h[0].ag, N->now, &forged), AGENT_OK);
	drain_all();
	assert_int_equal(count(0, AGENT_EV_PAIR_FAILED), 1);
	assert_non_null(strstr(find_ev(0, AGENT_EV_PAIR_FAILED)->text, "10.10.10.10 reported"));
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	assert_int_equal(agent_peer_state(N->h[1].ag, "alice"), AGENT_PEER_DIRECT);
	const struct ev_log *up = find_ev(0, AGENT_EV_UPGRADED);
	assert_non_null(up);
	assert_true(p2p_endpoint_equal(&up->remote, &N->h[1].local));
	assert_true(up->at < N->now - 1 * S); /* at once, not by a background check */
	net_down();
}

/* Errors about anything but a check waiting for its answer are ignored:
 * another socket's, an unknown endpoint's, the chosen path's. */
static void test_icmp_error_ignored_unless_check_waits(void **state)
{
	struct setup s = {FAKE_NONE, 0, 0, 0, false, false};
	(void)state;
	net_up(&s);
	register_and_connect();
	struct p2p_icmp_error e = {.local = N->h[0].local,
				   .remote = N->h[1].local,
				   .reporter = p2p_endpoint4(N->h[1].local.ip, 0),
				   .type = 3,
				   .code = 3};
	e.local.port++;
	assert_int_equal(agent_handle_icmp_error(N->h[0].ag, N->now, &e), AGENT_ERR_INVALID);
	e.local = N->h[0].local;
	e.remote.port++;
	assert_int_equal(agent_handle_icmp_error(N->h[0].ag, N->now, &e), AGENT_ERR_UNKNOWN_PEER);
	run_until(N->now + 2 * S);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	e.remote = N->h[1].local;
	assert_int_equal(agent_handle_icmp_error(N->h[0].ag, N->now, &e), AGENT_ERR_UNKNOWN_PEER);
	drain_all();
	assert_int_equal(count(0, AGENT_EV_PAIR_FAILED), 0);
	assert_int_equal(agent_peer_state(N->h[0].ag, "bob"), AGENT_PEER_DIRECT);
	net_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_direct_no_nat),
	    cmocka_unit_test(test_direct_port_restricted),
	    cmocka_unit_test(test_relay_then_upgrade),
	    cmocka_unit_test(test_consent_checks_jittered),
	    cmocka_unit_test(test_consent_lost_after_30s),
	    cmocka_unit_test(test_consent_answers_keep_it),
	    cmocka_unit_test(test_relay_refused_fails),
	    cmocka_unit_test(test_relay_silent_fails),
	    cmocka_unit_test(test_failing_pairs_cost_a_few_checks),
	    cmocka_unit_test(test_keepalive_keeps_path),
	    cmocka_unit_test(test_path_lost_without_keepalive),
	    cmocka_unit_test(test_unknown_peer_fails),
	    cmocka_unit_test(test_secret_source_used),
	    cmocka_unit_test(test_secret_source_error_refuses),
	    cmocka_unit_test(test_given_identity_used),
	    cmocka_unit_test(test_sign_hint_per_register),
	    cmocka_unit_test(test_sign_hint_is_what_coordinator_checks),
	    cmocka_unit_test(test_event_text_only_when_wanted),
	    cmocka_unit_test(test_many_peers),
	    cmocka_unit_test(test_icmp_hard_and_soft),
	    cmocka_unit_test(test_port_unreachable_fails_pair_and_relays_early),
	    cmocka_unit_test(test_soft_error_changes_nothing),
	    cmocka_unit_test(test_forged_error_loses_to_answer),
	    cmocka_unit_test(test_icmp_error_ignored_unless_check_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
