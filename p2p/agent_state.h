/*
 * agent_state.h - the agent's state, shared by the files that make up the
 * agent: agent.c (registration, introduction, relay, data, timers) and
 * agent_checks.c (connectivity checks, nomination, consent). Not a public
 * header: a program uses agent.h.
 *
 * Candidate pairs are (our socket, remote candidate). The local half is
 * config.local's socket (0) for every pair but those the birthday search
 * found on one of its extra sockets (agent.h "Extra sockets"), so a pair is
 * named by its socket and remote endpoint.
 */
#ifndef NATSIM_P2P_AGENT_STATE_H
#define NATSIM_P2P_AGENT_STATE_H

#include "agent.h"
#include "agent_speed.h"
#include "endpoint6.h"
#include "ring.h"
#include "stun.h"

#define CHECK_TXNS 8 /* recent check transactions whose answers we still accept */

/* A candidate pair, 24 bytes (a checklist holds up to
 * AGENT_MAX_REMOTE_CANDIDATES of them, and a large run many checklists):
 * the remote candidate packed (endpoint6.h; its type in remote.tag, its
 * IPv6 address in the peer's addrs6), read as the endpoint it is with
 * pair_remote, and the flags in bits. */
struct agent_pair {
	struct p2p_packed_ep remote; /* the remote candidate: pair_remote, pair_candidate */
	uint16_t sock;		     /* our socket: 0, or an extra one (the birthday search's) */
	uint8_t txn;		     /* ring slot of the pair's transaction (see pair_txn) */
	uint8_t tries;		     /* requests sent in that transaction */
	bool waiting : 1;   /* RFC 8445 6.1.2.6 Waiting: its first check is still to be paced */
	bool succeeded : 1; /* our check got an authenticated answer (RFC 8445 7.2.5.3) */
	bool heard : 1;	    /* an authenticated check from the peer arrived from here */
	bool peer_nominated : 1; /* that check carried USE-CANDIDATE */
	bool failed : 1;	 /* a hard ICMP error ended our check (RFC 8445 7.2.5.2.2) */
	bool soft_noted : 1;	 /* a soft ICMP error about our check was reported */
	uint64_t retx_ns;	 /* next retransmission of the pair's transaction; 0: none */
};

/* The size the comment above promises, on the 64-bit hosts natsim is
 * measured on (bench_scale). */
_Static_assert(sizeof(void *) != 8 || sizeof(struct agent_pair) == 24,
	       "struct agent_pair grew: bench_scale holds millions");

/* A connectivity check in flight: a STUN transaction (RFC 8489 6.2.1). */
struct agent_txn {
	uint8_t txid[STUN_TXID_SIZE];
	int8_t pair; /* -1: unused */
	bool nominate;
};

struct agent_peer {
	/* Where the peer stands and what it waits for: agent_next_deadline()
	 * reads these of every peer after every call, so they come first,
	 * together with the name every lookup compares. */
	enum agent_peer_state state;
	uint32_t n_pairs; /* the checklist's length (pairs, below) */
	uint64_t
	    connect_retry_ns; /* CONNECTING: next CONNECT; 0: not waiting for an introduction */
	uint64_t connect_deadline_ns;
	uint64_t retx_soonest_ns; /* min of the pairs' retx_ns (retx_refresh) */
	uint64_t punch_deadline_ns;
	uint64_t relay_retry_ns;  /* PUNCHING: next RELAY request; 0: not asking */
	uint64_t next_check_ns;	  /* RELAYED: next background check */
	uint64_t consent_ns;	  /* DIRECT: last authenticated answer on the chosen pair */
	uint64_t next_consent_ns; /* DIRECT: next consent check (none with keepalives off) */
	char name[AGENT_NAME_MAX];
	bool controlling;	/* lexicographically smaller name nominates */
	bool introduced;	/* keys and session known */
	bool connect_pending;	/* CONNECT to send once registered */
	bool reconnect_on_send; /* path lost with keepalives off: reconnect on agent_send */
	bool checks_failed;	/* PUNCHING: every pair failed by ICMP; relay asked early */
	uint8_t connect_txid[STUN_TXID_SIZE];
	uint64_t session;
	struct coord_mapping mapping; /* how its NAT assigns ports (INTRODUCE); kind 0: not said */
	uint16_t predicted_lo, predicted_hi; /* ports we predicted for it (0: none pending) */
	struct crypto_session cs;
	struct stun_integrity_key check_mac; /* cs.check_key, pads hashed once */
	/* The checklist (RFC 8445 6.1.2): grown on demand up to
	 * AGENT_MAX_REMOTE_CANDIDATES, and the checks in flight. */
	struct agent_pair *pairs;
	struct p2p_addr6_table addrs6; /* the IPv6 addresses of pairs' remote candidates */
	uint32_t cap_pairs;
	struct agent_txn txns[CHECK_TXNS];
	unsigned next_txn;
	int selected;	/* chosen pair, -1 none */
	int nominating; /* controlling: pair being nominated, -1 none */
	size_t rr;	/* RELAYED: next pair for a background check */
	/* The relay fallback (a RELAY request). */
	unsigned relay_tries;
	uint8_t relay_txid[STUN_TXID_SIZE];
};

struct agent {
	/* Our copy of the config. Its host candidates are the ones we
	 * advertise, made by agent_new from the config's rules (agent.h:
	 * config.local, and local6, when it lists none; none when disabled). */
	struct agent_config cfg;
	struct agent_speed speed; /* agent_speed.h; zeroed: none */
	char name[AGENT_NAME_MAX];
	struct crypto_identity id;
	struct ring dq;		/* struct p2p_datagram: to send */
	struct ring eq;		/* struct p2p_event: to report */
	struct discovery *disc; /* RFC 5780 classification while it runs */
	/* Registration with the coordinator. */
	bool reg_wanted, registered, have_srflx;
	struct p2p_endpoint srflx;
	uint8_t reg_txid[STUN_TXID_SIZE];
	unsigned reg_tries;    /* >0: waiting for an answer */
	uint64_t reg_retry_ns; /* next REGISTER retransmission or refresh */
	uint64_t last_ts;
	uint64_t coord_ka_ns;
	uint8_t ka_txid[STUN_TXID_SIZE];
	/* The peers, allocated by add_peer() in order, never freed before the
	 * agent (most agents know a few: the array grows as they come, up to
	 * AGENT_MAX_PEERS). */
	struct agent_deadlines *deadlines; /* the speed layer's summary (below); NULL: none */
	struct agent_peer **peers;
	size_t n_peers, cap_peers;
	/* RFC 8445 6.1.4.2: one new (Waiting -> In-Progress) check per Ta for
	 * the whole agent, the punching peers served round robin. */
	uint64_t pace_ns; /* earliest time for the next paced check */
	size_t pace_rr;	  /* peer slot to serve first */
	uint16_t in_sock; /* the socket the datagram being read arrived on (agent_input_socket) */
	struct agent_tcp *tcp; /* config.transport TCP: the connections (agent_tcp.c); else NULL */
	struct agent_portmap *portmap; /* PORT_MAPPING: the router's mapping (agent_portmap.c) */
	struct agent_hard *hard;       /* PREDICTION/BIRTHDAY: agent_hard.c's state; else NULL */
	struct agent_dual *dual;       /* an IPv6 socket beside IPv4's: agent_dual.c; else NULL */
};

/* agent.c: output and the peer table, used by agent_checks.c. */
struct p2p_datagram *dq_push(struct agent *a, const struct p2p_endpoint *to);
struct p2p_datagram *dq_push_on(struct agent *a, uint16_t sock, const struct p2p_endpoint *to);
void dq_commit(struct agent *a, struct p2p_datagram *d, struct stun_writer *w);
struct p2p_event *emit(struct agent *a, enum agent_event_type type, const char *peer,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
bool text_wanted(const struct agent *a);
void new_txid(struct agent *a, uint8_t txid[STUN_TXID_SIZE]);
struct agent_peer *find_peer(const struct agent *a, const char *name);
void reconnect(struct agent *a, struct agent_peer *p, uint64_t now);
const char *fmt_ep(const struct p2p_endpoint *ep, char buf[P2P_ENDPOINT_STRLEN]);
int input_message(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		  const uint8_t *buf, size_t len);
void registration_lost(struct agent *a, uint64_t now, const char *why);
/* A peer has no path and no relay: FAILED, with `why` for a student. */
void fail_peer(struct agent *a, struct agent_peer *p, const char *why);
/* RFC 8489 6.2.2: Ti, the transaction timeout over a reliable transport. */
#define STUN_TI_NS (39500 * P2P_NS_PER_MS)

/* agent_relay.c: the fallback to the relay. */
void tick_relay_request(struct agent *a, struct agent_peer *p, uint64_t now);
int on_relay_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		      const struct stun_msg *m);

/* agent_discovery.c: RFC 5780 discovery's datagrams out, its result as an event. */
void discovery_drain(struct agent *a);

/* agent_tcp.c: the connections that carry the protocol over TCP. */
struct agent_tcp *agent_tcp_new(void);
void agent_tcp_free(struct agent_tcp *t);
void agent_tcp_tick(struct agent *a, uint64_t now);
uint64_t agent_tcp_deadline(const struct agent *a);
const char *agent_tcp_path_words(const struct agent *a, const struct p2p_endpoint *remote);

/* agent.c: a CONNECT waits until registration has settled (registered, the
 * NAT measured, the router asked: agent.h "Hard NATs"); who makes it
 * settle calls this, which sends the CONNECTs that waited. */
bool registration_settled(const struct agent *a);
void send_waiting_connects(struct agent *a, uint64_t now);
/* Sends a fresh REGISTER now (new candidates or a new measurement). */
void register_again(struct agent *a, uint64_t now);

/* agent.c: writes a signed REGISTER with this transaction ID to `to` (the
 * coordinator's address of one family). */
void write_register(struct agent *a, uint64_t now, const struct p2p_endpoint *to,
		    const uint8_t txid[STUN_TXID_SIZE]);

/* agent_dual.c: the second address family (config.local6). Every call is a
 * no-op, or answers for IPv4 alone, when a->dual is NULL. */
int dual_new(struct agent *a); /* AGENT_OK, or AGENT_ERR_NOMEM */
void dual_free(struct agent *a);
bool agent_is_dual(const struct agent *a);
/* Whether we have a socket of that family: pairs are made per family. */
bool agent_has_family(const struct agent *a, uint8_t family);
/* Our socket's endpoint that datagrams to `to` leave from. */
const struct p2p_endpoint *local_for(const struct agent *a, const struct p2p_endpoint *to);
bool is_local(const struct agent *a, const struct p2p_endpoint *ep); /* one of our sockets */
bool from_coordinator(const struct agent *a, const struct p2p_endpoint *from);
void dual_registered(struct agent *a, uint64_t now); /* the IPv4 REGISTER succeeded */
bool dual_busy(const struct agent *a); /* first IPv6 REGISTER pending: CONNECT waits */
/* A REGISTER answer: true if it answered our IPv6 one. */
bool dual_input_register(struct agent *a, uint64_t now, const struct stun_msg *m);
void dual_tick(struct agent *a, uint64_t now);
uint64_t dual_deadline(const struct agent *a);
bool dual_public_endpoint(const struct agent *a, struct p2p_endpoint *out);
/* An IPv4 candidate of p's, for an IPv6-only agent that knows its NAT64's
 * prefix (config.nat64_prefix): rewrites c to the IPv6 address that
 * reaches it through the NAT64 and says so in an event; false (c as it
 * was) when the agent has no such NAT64 or the address has no such form. */
bool nat64_candidate(struct agent *a, const struct agent_peer *p, struct coord_candidate *c);

/* agent_checks.c: orders a fresh checklist by pair priority (RFC 8445
 * 6.1.2.3, candidate priorities of 5.1.2.1 with RFC 8421's local
 * preferences: IPv6 first, the families interleaved). */
void order_checklist(const struct agent *a, struct agent_peer *p);

/* agent_portmap.c: asking the router for a mapping (PORT_MAPPING). Every
 * call is a no-op when a->portmap is NULL. */
int portmap_new(struct agent *a); /* AGENT_OK, or AGENT_ERR_NOMEM */
void portmap_free(struct agent *a);
void portmap_start(struct agent *a, uint64_t now); /* from agent_register */
bool portmap_busy(const struct agent *a);	   /* an answer still awaited: CONNECT waits */
/* A datagram from config.gateway: true if it was the router's answer. */
bool portmap_input(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		   const uint8_t *buf, size_t len);
/* An ICMP error about a request to the router: true if it was one. */
bool portmap_icmp_error(struct agent *a, uint64_t now, const struct p2p_icmp_error *err);
void portmap_tick(struct agent *a, uint64_t now);
uint64_t portmap_deadline(const struct agent *a);
/* The mapped candidates to register (at most max). */
size_t portmap_candidates(const struct agent *a, struct coord_candidate *out, size_t max);

/* agent_hard.c: measuring our NAT, prediction, the birthday search. Every
 * call is a no-op when a->hard is NULL. */
int hard_new(struct agent *a);
void hard_free(struct agent *a);
void hard_registered(struct agent *a, uint64_t now); /* a REGISTER succeeded */
bool hard_busy(const struct agent *a);		     /* measuring: CONNECT waits */
/* A Binding response to one of the measurement's requests: true if it was. */
bool hard_input_binding(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
			const struct stun_msg *m);
void hard_put_mapping(const struct agent *a, struct coord_mapping *out); /* for REGISTER */
/* The peer was introduced (fresh pairs from its candidates are in): read
 * its NATSIM-MAPPING, add predicted candidates, plan the birthday search. */
void hard_introduced(struct agent *a, struct agent_peer *p, const struct stun_msg *m, uint64_t now);
void hard_tick(struct agent *a, uint64_t now);
uint64_t hard_deadline(const struct agent *a);
void hard_path_chosen(struct agent *a, struct agent_peer *p, uint64_t now);
/* Which technique found the pair (an enum agent_technique bit), 0 if ICE's
 * checks alone did. */
unsigned hard_pair_technique(const struct agent *a, const struct agent_peer *p,
			     const struct agent_pair *pp);

/* agent.c: the timers. A peer's own next deadline; the next of the peers'
 * and the paced checks' (t: the agent's own), by walking every peer. */
uint64_t peer_deadline(const struct agent *a, const struct agent_peer *p);
uint64_t peers_deadline(const struct agent *a, uint64_t t);

/* A pair's remote candidate, unpacked (struct agent_pair). */
static inline struct p2p_endpoint pair_remote(const struct agent_peer *p,
					      const struct agent_pair *pp)
{
	return p2p_packed_get(&p->addrs6, &pp->remote);
}

static inline uint8_t pair_type(const struct agent_pair *pp) /* enum coord_candidate_type */
{
	return pp->remote.tag;
}

static inline struct coord_candidate pair_candidate(const struct agent_peer *p,
						    const struct agent_pair *pp)
{
	return (struct coord_candidate){pair_remote(p, pp), pair_type(pp)};
}

/* agent_checks.c: the checklist (RFC 8445) and consent (RFC 7675). */
int find_pair(const struct agent_peer *p, const struct p2p_endpoint *ep); /* on socket 0 */
int find_pair_on(const struct agent_peer *p, uint16_t sock, const struct p2p_endpoint *ep);
/* The check transaction of p's with this ID that may still be answered
 * (find_txn asks it of every peer); NULL if none. */
struct agent_txn *peer_txn(struct agent_peer *p, const uint8_t txid[STUN_TXID_SIZE]);
int add_pair(struct agent_peer *p, const struct coord_candidate *c); /* on socket 0 */
int add_pair_on(struct agent_peer *p, uint16_t sock, const struct coord_candidate *c);
/* Writes an authenticated Binding request (a check that no pair owns: a
 * probe of the birthday search) from `sock` to `to`, with a fresh
 * transaction ID written to txid. */
void write_probe(struct agent *a, struct agent_peer *p, uint16_t sock,
		 const struct p2p_endpoint *to, uint8_t txid[STUN_TXID_SIZE]);
/* Whether txid is one of the birthday search's recent probes: its answer
 * (the probe landed) needs nothing, the triggered check that follows makes
 * the pair. */
bool hard_probe_answered(const struct agent *a, const uint8_t txid[STUN_TXID_SIZE]);
void reset_txns(struct agent_peer *p);
void retx_refresh(struct agent_peer *p);
void tick_retransmissions(struct agent *a, struct agent_peer *p, uint64_t now);
void tick_pacing(struct agent *a, uint64_t now);
int first_waiting(const struct agent_peer *p);
bool has_waiting_pair(const struct agent *a);
void send_background_check(struct agent *a, struct agent_peer *p, uint64_t now);
void tick_direct(struct agent *a, struct agent_peer *p, uint64_t now);
int on_check(struct agent *a, uint64_t now, const struct p2p_endpoint *from, const uint8_t *buf,
	     size_t len, const struct stun_msg *m);
int on_check_response(struct agent *a, uint64_t now, const struct p2p_endpoint *from,
		      const uint8_t *buf, size_t len, const struct stun_msg *m);
/* agent_handle_icmp_error's work for one peer: AGENT_OK if a check of the
 * peer's was concerned, else AGENT_ERR_UNKNOWN_PEER. */
int on_icmp_error(struct agent *a, struct agent_peer *p, uint64_t now,
		  const struct p2p_icmp_error *err);
/* A check on the pair now, as when the peer's check arrives (RFC 8445
 * 7.3.1.4): over TCP, when the connection that carries it opens. */
void check_pair_now(struct agent *a, struct agent_peer *p, int pair, uint64_t now);
/* The chosen path is gone, and we know it at once (over TCP: its connection
 * closed, `why`): PATH_LOST, and a new introduction as after consent expiry. */
void path_closed(struct agent *a, struct agent_peer *p, uint64_t now, const char *why);

/* ---- the speed layer's summary of the peers' timers ----
 *
 * agent_speed.h (summarize_deadlines), kept in agent_speed.c. The agent is
 * complete without it: with none (a->deadlines NULL, or a build without the
 * layer) the hooks below ask for the plain walks. With one, every call that
 * may change a peer's state, timers or pairs says so, for the peer its
 * message or call is about (peer_changed) or, the few that concern the
 * whole agent, for all (peers_changed); the summary redoes those peers at
 * the next agent_next_deadline() or agent_tick(), and the peers a tick
 * visits too. Debug builds check the summary against the walk. */
struct agent_deadlines;
#if NATSIM_AGENT_SPEED
struct agent_deadlines *deadlines_new(void);
void deadlines_changed(const struct agent *a, const struct agent_peer *p); /* NULL: all */
uint64_t deadlines_next(const struct agent *a, uint64_t t);
bool deadlines_may_be_due(const struct agent *a, size_t slot, uint64_t now);
bool deadlines_may_wait(const struct agent *a, size_t slot);
void deadlines_peer_added(const struct agent *a, size_t slot);
void deadlines_txn_made(const struct agent *a, const struct agent_peer *p);
struct agent_peer *deadlines_find_peer(const struct agent *a, const char *name);
struct agent_txn *deadlines_find_txn(const struct agent *a, const uint8_t txid[STUN_TXID_SIZE],
				     struct agent_peer **peer);
#endif

static inline void peer_changed(struct agent *a, const struct agent_peer *p)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		deadlines_changed(a, p);
#else
	(void)a, (void)p;
#endif
}

static inline void peers_changed(struct agent *a)
{
	peer_changed(a, NULL);
}

/* The same summary indexes the peers by name and by the IDs of their
 * checks in flight, so that find_peer and find_txn visit only the peer
 * that matches: add_peer says it named a peer (peer_added), send_check
 * that it made a transaction ID (txn_made). */
static inline void peer_added(struct agent *a)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		deadlines_peer_added(a, a->n_peers - 1);
#else
	(void)a;
#endif
}

static inline void txn_made(struct agent *a, const struct agent_peer *p)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		deadlines_txn_made(a, p);
#else
	(void)a, (void)p;
#endif
}

/* agent_next_deadline()'s answer for the peers (t: the agent's own timers). */
static inline uint64_t peers_next_deadline(const struct agent *a, uint64_t t)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		return deadlines_next(a, t);
#endif
	return peers_deadline(a, t);
}

/* Whether agent_tick() must visit the peer in `slot`: false only when it
 * surely has nothing due at `now`. */
static inline bool peer_may_be_due(const struct agent *a, size_t slot, uint64_t now)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		return deadlines_may_be_due(a, slot, now);
#endif
	(void)a, (void)slot, (void)now;
	return true;
}

/* Whether the peer in `slot` may have a pair waiting for its paced check:
 * false only when it surely has none. */
static inline bool peer_may_wait(const struct agent *a, size_t slot)
{
#if NATSIM_AGENT_SPEED
	if (a->deadlines != NULL)
		return deadlines_may_wait(a, slot);
#endif
	(void)a, (void)slot;
	return true;
}

#endif
