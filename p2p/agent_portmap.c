/*
 * agent_portmap.c - the agent asks its router for a mapping (PCP, RFC 6887;
 * NAT-PMP, RFC 6886) and offers it as a candidate (agent.h "Hard NATs").
 * The messages are p2p/pcp.h's; this file is the conversation:
 *
 *  1. agent_register -> portmap_start: a PCP MAP request (RFC 6887 11.1) to
 *     config.gateway (port 5351) from our socket: "map my UDP port P for L
 *     seconds", with a random 96-bit nonce that will own the mapping.
 *  2. No answer: sent again after 250 ms, then 500 ms; PCP is given up 250 ms
 *     after the third (1 s after the first). See "Why bounded" below.
 *  3. The router answers in version 0 (it speaks NAT-PMP only, RFC 6887
 *     section 9), answers UNSUPP_VERSION, or stays silent: NAT-PMP (RFC 6886
 *     3.2, 3.3), the external address (opcode 0) and a UDP mapping (opcode
 *     1) asked together, bounded the same way.
 *  4. An ICMP port unreachable about a request: nothing listens on the
 *     router's port 5351, which the two protocols share (RFC 6887 19.1, RFC
 *     6886 3.1), so NAT-PMP cannot be there either: no port mapping, at once.
 *  5. Granted: the router's public endpoint becomes a candidate of type
 *     "mapped", we register again with it, and the CONNECTs that waited go.
 *     Refused (a result code) or given up: an event says why, and the
 *     CONNECTs go without it.
 *  6. Half the lifetime later, the same request again (same nonce, suggesting
 *     the endpoint we hold: RFC 6887 11.2.1). Its answer's epoch tells
 *     whether the router rebooted meanwhile (RFC 6887 8.5, RFC 6886 3.6).
 *  7. agent_release_mappings: the same request with lifetime 0 (RFC 6887
 *     section 15, RFC 6886 3.4), which deletes it.
 *
 * Why bounded: RFC 6887 8.1.1 retransmits from 3 s on, forever, and RFC
 * 6886 3.1 from 250 ms for nine tries (about two minutes). Those suit a
 * daemon that maps ports for its own sake; here a peer's CONNECT waits for
 * the answer (portmap_busy). The router is one hop away and answers within
 * milliseconds when it runs a server, so three tries 250 ms apart and
 * doubling ride out a lost datagram or two, and a router that runs neither
 * protocol costs at most 2 s (1 s each) before punching starts without it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_state.h"
#include "pcp.h"

#define PORTMAP_TRIES 3				    /* transmissions per protocol */
#define PORTMAP_FIRST_WAIT_NS (250 * P2P_NS_PER_MS) /* then doubling */
#define PORTMAP_PROTOCOL_NS (1000 * P2P_NS_PER_MS)  /* silence this long: next protocol */
#define PORTMAP_MAX_NOTES 3			    /* events about answers we ignored */
#define PORTMAP_MIN_RENEW_NS (30 * P2P_NS_PER_S)    /* see granted() */
#define PORTMAP_UDP 17				    /* IANA protocol number (RFC 6887 11.1) */

enum portmap_protocol { PORTMAP_PCP, PORTMAP_NATPMP };

enum portmap_stage {
	PORTMAP_IDLE,	/* not asked yet */
	PORTMAP_ASKING, /* the first request: a CONNECT waits */
	PORTMAP_HELD,	/* a mapping is ours (a renewal may be in flight) */
	PORTMAP_DONE,	/* refused, given up, lost or released: nothing more */
};

struct agent_portmap {
	enum portmap_stage stage;
	enum portmap_protocol proto;
	uint8_t nonce[PCP_NONCE_SIZE]; /* PCP: owns the mapping (RFC 6887 11.1) */
	bool in_flight;		       /* a request awaits its answer */
	unsigned tries;		       /* transmissions of it so far */
	uint64_t started_ns;	       /* its first transmission */
	uint64_t retry_ns;	       /* its next transmission, or giving up */
	bool need_address, need_map;   /* NAT-PMP: answers still missing */
	uint32_t natpmp_ip;	       /* NAT-PMP: the external address (opcode 0) */
	struct p2p_endpoint mapped;    /* HELD: the router's public endpoint for us */
	uint32_t lifetime_s;	       /* HELD: as granted (at most what we asked) */
	uint64_t renew_ns, expiry_ns;  /* HELD */
	bool have_epoch;	       /* the last answer's epoch and our clock then */
	uint32_t epoch_server, epoch_client;
	unsigned notes; /* answers ignored so far (events about them) */
	/* The REGISTER that told the coordinator of a new mapping: CONNECTs
	 * wait for its answer too, or the peer might be introduced to our
	 * old candidates (on_register_response sends them then). */
	uint8_t announce_txid[STUN_TXID_SIZE];
	bool announcing;
};

static const char *protocol_name(enum portmap_protocol p)
{
	return p == PORTMAP_PCP ? "PCP" : "NAT-PMP";
}

int portmap_new(struct agent *a)
{
	/* Asked for and possible: a router to ask. */
	if (!(a->cfg.techniques & AGENT_TECH_PORT_MAPPING) || a->cfg.gateway.ip == 0)
		return AGENT_OK;
	a->portmap = calloc(1, sizeof(*a->portmap));
	return a->portmap != NULL ? AGENT_OK : AGENT_ERR_NOMEM;
}

void portmap_free(struct agent *a)
{
	free(a->portmap);
	a->portmap = NULL;
}

/* The address our requests leave from, which PCP writes inside them and the
 * server compares with the packet's source (RFC 6887 8.3: else
 * ADDRESS_MISMATCH). A socket bound to any address (0) has none of its own:
 * the host candidate sharing the longest prefix with the gateway is the
 * interface the kernel would pick for an on-link gateway. */
static uint32_t client_address(const struct agent *a)
{
	uint32_t best = 0;
	int best_len = -1;

	if (a->cfg.local.ip != 0)
		return a->cfg.local.ip;
	for (size_t i = 0; i < a->cfg.n_host_candidates; i++) {
		uint32_t diff = a->cfg.host_candidates[i].ip ^ a->cfg.gateway.ip;
		int len = 0;
		while (len < 32 && !(diff & (0x80000000u >> len)))
			len++;
		if (len > best_len) {
			best_len = len;
			best = a->cfg.host_candidates[i].ip;
		}
	}
	return best;
}

/* A MAP request, or a delete with lifetime 0 (RFC 6887 11.1, 15). */
static void send_pcp(struct agent *a, uint32_t lifetime)
{
	struct agent_portmap *pm = a->portmap;
	struct pcp_map_request req = {
	    .client_ip = client_address(a),
	    .lifetime = lifetime,
	    .protocol = PORTMAP_UDP,
	    .internal_port = a->cfg.local.port,
	};
	struct p2p_datagram *d = dq_push(a, &a->cfg.gateway);

	if (d == NULL)
		return;
	memcpy(req.nonce, pm->nonce, PCP_NONCE_SIZE);
	/* A renewal suggests what it holds (11.2.1); a first request the port
	 * the coordinator saw, if it knows it, so that the mapped and the
	 * server-reflexive candidates may coincide (11.1: a hint only). */
	if (pm->stage == PORTMAP_HELD) {
		req.suggested_ip = pm->mapped.ip;
		req.suggested_port = pm->mapped.port;
	} else if (a->have_srflx) {
		req.suggested_port = a->srflx.port;
	}
	d->len = pcp_map_request_write(&req, d->buf, sizeof(d->buf));
}

/* NAT-PMP's requests still unanswered: the address (3.2), the mapping (3.3). */
static void send_natpmp(struct agent *a, uint32_t lifetime)
{
	struct agent_portmap *pm = a->portmap;
	struct p2p_datagram *d;
	uint16_t suggest = pm->stage == PORTMAP_HELD ? pm->mapped.port : 0;

	if (pm->need_address && (d = dq_push(a, &a->cfg.gateway)) != NULL)
		d->len = natpmp_address_request_write(d->buf, sizeof(d->buf));
	if (pm->need_map && (d = dq_push(a, &a->cfg.gateway)) != NULL)
		d->len = natpmp_map_request_write(NATPMP_OPCODE_MAP_UDP, a->cfg.local.port, suggest,
						  lifetime, d->buf, sizeof(d->buf));
}

static void transmit(struct agent *a, uint64_t now)
{
	struct agent_portmap *pm = a->portmap;

	pm->tries++;
	if (pm->proto == PORTMAP_PCP)
		send_pcp(a, a->cfg.mapping_lifetime_s);
	else
		send_natpmp(a, a->cfg.mapping_lifetime_s);
	/* 250 ms, 500 ms, then what is left of the protocol's second. */
	uint64_t next = now + (PORTMAP_FIRST_WAIT_NS << (pm->tries - 1));
	uint64_t end = pm->started_ns + PORTMAP_PROTOCOL_NS;
	pm->retry_ns = pm->tries >= PORTMAP_TRIES || next > end ? end : next;
}

/* A fresh exchange in `proto`: the first ask, a fallback, or a renewal. */
static void begin_request(struct agent *a, uint64_t now, enum portmap_protocol proto)
{
	struct agent_portmap *pm = a->portmap;

	pm->proto = proto;
	pm->in_flight = true;
	pm->tries = 0;
	pm->started_ns = now;
	pm->need_address = pm->need_map = proto == PORTMAP_NATPMP;
	transmit(a, now);
}

void portmap_start(struct agent *a, uint64_t now)
{
	struct agent_portmap *pm = a->portmap;
	char gw[P2P_ENDPOINT_STRLEN];

	if (pm == NULL || pm->stage != PORTMAP_IDLE)
		return; /* agent_register again: the mapping is asked for once */
	a->cfg.random.fill(a->cfg.random.ctx, pm->nonce, PCP_NONCE_SIZE);
	pm->stage = PORTMAP_ASKING;
	emit(a, AGENT_EV_TECHNIQUE, NULL,
	     "asking the router %s to map our UDP port %u for %u s (PCP MAP)",
	     fmt_ep(&a->cfg.gateway, gw), (unsigned)a->cfg.local.port,
	     (unsigned)a->cfg.mapping_lifetime_s);
	begin_request(a, now, PORTMAP_PCP);
}

bool portmap_busy(const struct agent *a)
{
	const struct agent_portmap *pm = a->portmap;

	if (pm == NULL)
		return false;
	return pm->stage == PORTMAP_ASKING ||
	       (pm->announcing && a->reg_tries > 0 &&
		memcmp(a->reg_txid, pm->announce_txid, STUN_TXID_SIZE) == 0);
}

/* Register again with the candidates as they are now. */
static void announce(struct agent *a, uint64_t now)
{
	struct agent_portmap *pm = a->portmap;

	register_again(a, now);
	memcpy(pm->announce_txid, a->reg_txid, STUN_TXID_SIZE);
	pm->announcing = true;
}

/* No mapping after all (refused, given up, lost): say why, and let the
 * CONNECTs that waited go without one. */
static void settle_without(struct agent *a, uint64_t now, const char *why)
{
	struct agent_portmap *pm = a->portmap;
	bool had = pm->stage == PORTMAP_HELD;

	pm->stage = PORTMAP_DONE;
	pm->in_flight = false;
	emit(a, AGENT_EV_TECHNIQUE, NULL, "no port mapping: %s", why);
	if (had)
		announce(a, now); /* the mapped candidate is gone */
	send_waiting_connects(a, now);
}

/* The router's epoch went back, or off our clock: it rebooted and lost its
 * mappings (RFC 6887 8.5, RFC 6886 3.6). Our request remade ours. */
static bool router_rebooted(struct agent *a, uint64_t now, uint32_t epoch)
{
	struct agent_portmap *pm = a->portmap;
	uint32_t client = (uint32_t)(now / P2P_NS_PER_S);
	bool valid =
	    !pm->have_epoch || pcp_epoch_valid(pm->epoch_client, pm->epoch_server, client, epoch);
	uint32_t said = pm->epoch_server, passed = client - pm->epoch_client;

	pm->have_epoch = true;
	pm->epoch_server = epoch;
	pm->epoch_client = client;
	if (!valid)
		emit(a, AGENT_EV_TECHNIQUE, NULL,
		     "the router rebooted (its epoch says %u s, but %u s have passed since it said "
		     "%u s: RFC 6887 8.5): it had forgotten our mapping, and our renewal asked for "
		     "it anew",
		     (unsigned)epoch, (unsigned)passed, (unsigned)said);
	return !valid;
}

/* A mapping granted, first or renewed. */
static void granted(struct agent *a, uint64_t now, struct p2p_endpoint ep, uint32_t lifetime,
		    uint32_t epoch)
{
	struct agent_portmap *pm = a->portmap;
	char e[P2P_ENDPOINT_STRLEN];
	bool first = pm->stage == PORTMAP_ASKING;
	bool rebooted = router_rebooted(a, now, epoch);
	bool moved = !first && !p2p_endpoint_equal(&ep, &pm->mapped);

	/* A server may grant more than asked (RFC 6887 11.3); we renew as if
	 * it granted what we asked, which is never too late. */
	if (lifetime > a->cfg.mapping_lifetime_s)
		lifetime = a->cfg.mapping_lifetime_s;
	pm->stage = PORTMAP_HELD;
	pm->in_flight = false;
	pm->mapped = ep;
	pm->lifetime_s = lifetime;
	pm->expiry_ns = now + (uint64_t)lifetime * P2P_NS_PER_S;
	/* RFC 6887 11.2.1 renews between 1/2 and 5/8 of the lifetime; RFC
	 * 6886 3.3 at half of it. Half suits both. */
	uint64_t half = (uint64_t)lifetime * P2P_NS_PER_S / 2;
	/* ... but not sooner than 30 s: a router that grants seconds could
	 * otherwise make us ask it many times a second. (Real servers grant
	 * at least minutes: miniupnpd's min_lifetime is 120 s.) */
	pm->renew_ns = now + (half > PORTMAP_MIN_RENEW_NS ? half : PORTMAP_MIN_RENEW_NS);
	if (first || moved || rebooted)
		emit(a, AGENT_EV_TECHNIQUE, NULL, "the router mapped %s for us for %u s by %s%s",
		     fmt_ep(&ep, e), (unsigned)lifetime, protocol_name(pm->proto),
		     first ? "" : " (a new mapping: the old one is gone)");
	if (first || moved)
		announce(a, now); /* the peers learn the mapped candidate */
	send_waiting_connects(a, now);
}

/* An answer we will not take (codec's reason): a few events, then quiet. */
static void ignore_answer(struct agent *a, const char *why)
{
	struct agent_portmap *pm = a->portmap;

	if (pm->notes >= PORTMAP_MAX_NOTES)
		return;
	pm->notes++;
	emit(a, AGENT_EV_TECHNIQUE, NULL, "ignored a %s answer from the router: %s",
	     protocol_name(pm->proto), why);
}

/* The router said no (a result code): a refusal of the first request, or a
 * renewal refused (the mapping is not ours any more). */
static void refused(struct agent *a, uint64_t now, const char *result)
{
	char why[120];

	snprintf(why, sizeof(why), "the router refused by %s: %s", protocol_name(a->portmap->proto),
		 result);
	settle_without(a, now, why);
}

static void fall_back_to_natpmp(struct agent *a, uint64_t now, const char *why)
{
	emit(a, AGENT_EV_TECHNIQUE, NULL, "the router %s: trying NAT-PMP", why);
	begin_request(a, now, PORTMAP_NATPMP);
}

static void on_pcp_answer(struct agent *a, uint64_t now, const uint8_t *buf, size_t len)
{
	struct agent_portmap *pm = a->portmap;
	struct pcp_map_response r;
	enum pcp_parse p = pcp_map_response_read(buf, len, pm->nonce, &r);

	/* RFC 6887 section 9: a NAT-PMP-only server answers in version 0; a
	 * server of another PCP version with UNSUPP_VERSION in its own. */
	if (pm->stage == PORTMAP_ASKING &&
	    (p == PCP_PARSE_NATPMP_ONLY ||
	     ((p == PCP_PARSE_VERSION || p == PCP_PARSE_OK) && r.result == PCP_UNSUPP_VERSION))) {
		fall_back_to_natpmp(a, now,
				    p == PCP_PARSE_NATPMP_ONLY
					? "speaks NAT-PMP only (a version-0 answer)"
					: "does not speak PCP version 2 (UNSUPP_VERSION)");
		return;
	}
	if (p != PCP_PARSE_OK) {
		ignore_answer(a, pcp_parse_name(p));
		return;
	}
	if (r.result != PCP_SUCCESS) {
		refused(a, now, pcp_result_name(r.result));
		return;
	}
	if (r.protocol != PORTMAP_UDP || r.internal_port != a->cfg.local.port) {
		ignore_answer(a, "it maps another port than ours");
		return;
	}
	if (r.lifetime == 0) {
		refused(a, now, "a lifetime of 0 s");
		return;
	}
	granted(a, now, (struct p2p_endpoint){.ip = r.external_ip, .port = r.external_port},
		r.lifetime, r.epoch);
}

/* NAT-PMP: the two answers may come in either order; the mapping is whole
 * when both did. */
static void on_natpmp_answer(struct agent *a, uint64_t now, const uint8_t *buf, size_t len)
{
	struct agent_portmap *pm = a->portmap;
	struct natpmp_response r;
	uint8_t opcode = len >= 2 && (buf[1] & 0x7f) == NATPMP_OPCODE_ADDRESS
			     ? NATPMP_OPCODE_ADDRESS
			     : NATPMP_OPCODE_MAP_UDP;
	enum pcp_parse p = natpmp_response_read(buf, len, opcode, &r);

	if (p != PCP_PARSE_OK) {
		ignore_answer(a, pcp_parse_name(p));
		return;
	}
	if (r.result != NATPMP_SUCCESS) {
		refused(a, now, natpmp_result_name(r.result));
		return;
	}
	if (opcode == NATPMP_OPCODE_ADDRESS) {
		pm->natpmp_ip = r.external_ip;
		pm->need_address = false;
	} else if (r.internal_port != a->cfg.local.port) {
		ignore_answer(a, "it maps another port than ours");
		return;
	} else if (r.lifetime == 0) {
		refused(a, now, "a lifetime of 0 s");
		return;
	} else {
		pm->mapped.port = r.external_port;
		pm->lifetime_s = r.lifetime;
		pm->need_map = false;
	}
	if (!pm->need_address && !pm->need_map)
		granted(a, now, (struct p2p_endpoint){.ip = pm->natpmp_ip, .port = pm->mapped.port},
			pm->lifetime_s, r.epoch);
}

bool portmap_input(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		   const uint8_t *buf, size_t len)
{
	struct agent_portmap *pm = a->portmap;

	if (pm == NULL || !p2p_endpoint_equal(from, &a->cfg.gateway))
		return false;
	/* The router's port 5351 speaks nothing else to us: whatever comes
	 * from it is an answer, ours or not. */
	if (!pm->in_flight) {
		ignore_answer(a, "no request of ours awaits one");
		return true;
	}
	if (pm->proto == PORTMAP_PCP)
		on_pcp_answer(a, now, buf, len);
	else
		on_natpmp_answer(a, now, buf, len);
	return true;
}

bool portmap_icmp_error(struct agent *a, uint64_t now, const struct p2p_icmp_error *err)
{
	struct agent_portmap *pm = a->portmap;
	char what[48];

	if (pm == NULL || !p2p_endpoint_equal(&err->remote, &a->cfg.gateway))
		return false;
	if (!pm->in_flight || !p2p_icmp_error_hard(err))
		return true; /* soft: the retransmissions carry on */
	p2p_icmp_error_words(err, what, sizeof(what));
	char why[200];
	snprintf(why, sizeof(why),
		 "the router answered %s with %s: nothing there speaks PCP or NAT-PMP (both "
		 "use port 5351)",
		 protocol_name(pm->proto), what);
	settle_without(a, now, why);
	return true;
}

/* A request's retransmissions ran out. */
static void gave_up(struct agent *a, uint64_t now)
{
	struct agent_portmap *pm = a->portmap;
	uint64_t left = pm->expiry_ns > now ? pm->expiry_ns - now : 0;

	if (pm->stage == PORTMAP_ASKING && pm->proto == PORTMAP_PCP) {
		fall_back_to_natpmp(a, now, "did not answer PCP (3 tries in 1 s)");
	} else if (pm->stage == PORTMAP_ASKING) {
		settle_without(a, now,
			       "the router answered neither PCP nor NAT-PMP (3 tries each, "
			       "2 s in all)");
	} else if (left > P2P_NS_PER_S) {
		/* A renewal unanswered: try again halfway to the end. */
		pm->in_flight = false;
		pm->renew_ns = now + left / 2;
	} else {
		settle_without(a, now, "the router did not renew our mapping before it ended");
	}
}

void portmap_tick(struct agent *a, uint64_t now)
{
	struct agent_portmap *pm = a->portmap;

	if (pm == NULL)
		return;
	if (pm->in_flight && now >= pm->retry_ns) {
		if (pm->tries >= PORTMAP_TRIES || now >= pm->started_ns + PORTMAP_PROTOCOL_NS)
			gave_up(a, now);
		else
			transmit(a, now);
	} else if (pm->stage == PORTMAP_HELD && !pm->in_flight && now >= pm->renew_ns) {
		/* Same nonce, same protocol (RFC 6887 11.2.1, RFC 6886 3.3);
		 * NAT-PMP asks the address again too: after a reboot it may
		 * have changed. */
		begin_request(a, now, pm->proto);
	}
}

uint64_t portmap_deadline(const struct agent *a)
{
	const struct agent_portmap *pm = a->portmap;

	if (pm == NULL)
		return P2P_NO_DEADLINE;
	if (pm->in_flight)
		return pm->retry_ns;
	return pm->stage == PORTMAP_HELD ? pm->renew_ns : P2P_NO_DEADLINE;
}

size_t portmap_candidates(const struct agent *a, struct coord_candidate *out, size_t max)
{
	const struct agent_portmap *pm = a->portmap;

	if (pm == NULL || pm->stage != PORTMAP_HELD || max == 0)
		return 0;
	out[0] = (struct coord_candidate){pm->mapped, COORD_CAND_MAPPED};
	return 1;
}

void agent_release_mappings(struct agent *a, uint64_t now_ns)
{
	struct agent_portmap *pm = a->portmap;
	char e[P2P_ENDPOINT_STRLEN];

	(void)now_ns;
	if (pm == NULL || pm->stage != PORTMAP_HELD)
		return;
	/* Sent once: the program is ending and will not wait for the answer;
	 * if it is lost, the mapping ends with its lifetime. */
	if (pm->proto == PORTMAP_PCP) {
		send_pcp(a, 0);
	} else {
		pm->need_address = false;
		pm->need_map = true;
		send_natpmp(a, 0);
	}
	pm->stage = PORTMAP_DONE;
	pm->in_flight = false;
	emit(a, AGENT_EV_TECHNIQUE, NULL,
	     "asked the router to delete our mapping %s (%s, lifetime 0)", fmt_ep(&pm->mapped, e),
	     protocol_name(pm->proto));
}
