/*
 * coord.h - the coordinator: STUN server, rendezvous service and relay of last
 * resort, sans-I/O (docs/protocol.md is the wire specification).
 *
 *  - STUN: Binding requests are answered by p2p/stunsrv.h (RFC 8489, RFC 5780
 *    CHANGE-REQUEST when an alternate address is configured).
 *  - Rendezvous: REGISTER carries a peer's name, Ed25519 and X25519 public keys,
 *    host candidates and a timestamp, signed with Ed25519 over canonical bytes
 *    (coord_registration_bytes). The coordinator refuses a bad signature, a
 *    timestamp not newer than the last one it accepted for that name (replay),
 *    and a different key for a name that is still live. Peers not heard from
 *    for peer_timeout_ns expire.
 *  - CONNECT by name: the coordinator sends INTRODUCE to the two peers
 *    concerned, and only to them - never a broadcast - each with the other's
 *    candidates (host candidates from its registration plus the
 *    server-reflexive endpoint the coordinator observed), public keys, and a
 *    session id.
 *  - RELAY: forwards a sealed payload between two registered peers sharing a
 *    session. The coordinator holds no private keys; it cannot read what it
 *    relays.
 *
 * A request is "authenticated" when its source endpoint is the registered
 * endpoint of a live peer (the registration itself was signed). Unauthenticated
 * requests never get a reply larger than themselves (error replies are trimmed,
 * or not sent at all), with one exception: a Binding request is answered in
 * full, up to STUNSRV_MAX_RATIO times its size (p2p/stunsrv.h), and at most
 * binding_burst at once and one per binding_interval_ns after that per source
 * address. Every datagram not answered is counted; a sample of them (at most
 * COORD_LOG_BURST at once, then one per COORD_LOG_INTERVAL) becomes an event.
 *
 * Driver contract (STYLE.md): coord_input() for every datagram (with the local
 * endpoint it arrived on), then drain coord_pop_datagram() and coord_pop_event();
 * call coord_tick() at coord_next_deadline().
 */
#ifndef NATSIM_P2P_COORD_H
#define NATSIM_P2P_COORD_H

#include "crypto.h"
#include "p2p.h"
#include "stream.h"
#include "stun.h"

#define COORD_NAME_MAX 64      /* including the NUL: names are 1..63 bytes */
#define COORD_MAX_CANDIDATES 8 /* host candidates per registration */
#define COORD_SESSIONS_PER_PEER 8
#define COORD_BINDING_BURST 64			     /* answers a quiet source may have at once */
#define COORD_BINDING_INTERVAL (100 * P2P_NS_PER_MS) /* then 10 a second */
#define COORD_LOG_BURST 20			     /* dropped-datagram events at once ... */
#define COORD_LOG_INTERVAL P2P_NS_PER_S		     /* ... then one a second; all are counted */
#define COORD_CANDIDATE_ATTR_LEN 9   /* NATSIM-CANDIDATE value: xor address (8) + type (1) */
#define COORD_CANDIDATE_ATTR_LEN6 21 /* the same with an IPv6 address (20) + type (1) */
/* Largest canonical registration: see coord_registration_bytes. An IPv6
 * candidate (19 bytes) costs more than an IPv4 one (7): the longest has
 * every candidate IPv6 (317 bytes). */
#define COORD_REG_BYTES_MAX                                                                        \
	(18 + 1 + COORD_NAME_MAX + 32 + 32 + 8 + 1 + 1 + 6 + 2 + 19 * COORD_MAX_CANDIDATES)
/* NATSIM-TRANSPORT value for TCP candidates: the IP protocol number (absent: UDP). */
#define COORD_TRANSPORT_TCP 6

enum coord_candidate_type {
	COORD_CAND_HOST = 0,
	COORD_CAND_SRFLX = 1,
	COORD_CAND_PRFLX = 2,
	COORD_CAND_PREDICTED = 3, /* made by the agent from the peer's NATSIM-MAPPING; never sent */
	COORD_CAND_MAPPED = 4,	  /* granted by the router (PCP / NAT-PMP) */
};

/* NATSIM-MAPPING value (4 bytes): how the registering peer's NAT assigns
 * ports, as it measured (agent.h "Hard NATs"): u8 kind (enum
 * agent_mapping_kind, 1..3), u8 0, i16 delta (BE) ... and u16 the last
 * public port it saw. Carried in REGISTER (signed) and INTRODUCE. */
#define COORD_MAPPING_ATTR_LEN 6
struct coord_mapping {
	uint8_t kind; /* 0: none said */
	int16_t delta;
	uint16_t last_port;
};
void coord_put_mapping(struct stun_writer *w, const struct coord_mapping *m);
int coord_parse_mapping(const struct stun_attr *a, struct coord_mapping *out);

struct coord_candidate {
	struct p2p_endpoint ep;
	uint8_t type; /* enum coord_candidate_type */
};

/* The fields a REGISTER carries, in the order they are signed. */
struct coord_registration {
	char name[COORD_NAME_MAX];
	uint8_t transport; /* the candidates' transport: 0 UDP, COORD_TRANSPORT_TCP */
	uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE];
	uint8_t box_pk[CRYPTO_BOX_PK_SIZE];
	uint64_t timestamp_ns;
	size_t n_candidates;
	struct coord_candidate candidates[COORD_MAX_CANDIDATES];
	struct coord_mapping mapping; /* kind 0: not measured */
};

/* Canonical signed bytes (docs/protocol.md "Canonical registration bytes"):
 *   "natsim-register1" (16 ASCII bytes, no NUL) || 0x00 0x01 (version)
 *   || u8 name length || name || sign key (32) || box key (32)
 *   || u64 timestamp (BE) || u8 n || n x (u32 ip BE, u16 port BE, u8 type)
 *   || u8 transport, only when it is TCP (UDP registrations sign what they
 *   always did; a TCP one signs that its candidates are TCP ones)
 *   || 'M' u8 kind, i16 delta (BE), u16 last port (BE), only when a mapping
 *   was measured (NATSIM-MAPPING)
 *   || '6' u8 n6 || n6 x (16-byte IPv6 address, u16 port BE, u8 type), only
 *   when there are IPv6 candidates (n above counts the IPv4 ones; an
 *   IPv4-only registration signs what it always did). Each tail starts
 *   with a byte no other starts with (6, 'M', '6'): one registration's
 *   bytes are never another's.
 * Writes at most COORD_REG_BYTES_MAX bytes to out; returns the length. */
size_t coord_registration_bytes(const struct coord_registration *r, uint8_t *out);

/* NATSIM-CANDIDATE attribute: the XOR-MAPPED-ADDRESS encoding of the endpoint
 * (RFC 8489 14.2: 8 bytes for IPv4; 20 for IPv6, XORed with the cookie and
 * the message's transaction ID) followed by one type byte: 9 or 21 bytes.
 * The parser needs the message for its transaction ID. */
void coord_put_candidate(struct stun_writer *w, const struct coord_candidate *c);
int coord_parse_candidate(const struct stun_msg *m, const struct stun_attr *a,
			  struct coord_candidate *out);
const char *coord_candidate_type_name(uint8_t type); /* "host", "srflx", "prflx" */

enum coord_error {
	COORD_OK = 0,
	COORD_ERR_NOMEM = -1,
	COORD_ERR_MALFORMED = -2, /* not STUN, or a natsim message missing attributes */
	COORD_ERR_REFUSED = -3,	  /* well-formed but refused (see the REFUSED event) */
	COORD_ERR_IGNORED = -4,	  /* not for us (a response, an unknown method) */
	COORD_ERR_INVALID = -5,	  /* a connection id we do not know */
};

enum coord_event_type {
	COORD_EV_REGISTERED,
	COORD_EV_REFRESHED,
	COORD_EV_REFUSED,
	COORD_EV_INTRODUCED,
	COORD_EV_RELAYED,
	COORD_EV_EXPIRED,
	COORD_EV_DROPPED, /* a datagram not answered: malformed, not ours, or rate-limited */
};

enum coord_refusal {
	COORD_REFUSE_NONE = 0,
	COORD_REFUSE_MALFORMED,	     /* attributes missing or malformed */
	COORD_REFUSE_BAD_SIGNATURE,  /* REGISTER signature does not verify */
	COORD_REFUSE_REPLAY,	     /* REGISTER timestamp not newer than the last accepted */
	COORD_REFUSE_NAME_TAKEN,     /* live name registered with a different key */
	COORD_REFUSE_FULL,	     /* max_peers reached */
	COORD_REFUSE_NOT_REGISTERED, /* CONNECT/RELAY from an endpoint with no live registration */
	COORD_REFUSE_UNKNOWN_PEER,   /* CONNECT/RELAY to a name that is not registered */
	COORD_REFUSE_NO_SESSION,     /* RELAY between peers that were never introduced */
	COORD_REFUSE_RELAY_OFF,	     /* RELAY while the relay is switched off */
	COORD_REFUSE_NOT_ALLOWED,    /* REGISTER with a key the allow hook refused */
	COORD_REFUSE_RATE_LIMITED,   /* Binding from a source over its rate limit */
};

struct coord_event {
	enum coord_event_type type;
	enum coord_refusal refusal; /* for COORD_EV_REFUSED */
	char name[COORD_NAME_MAX];  /* the peer concerned (may be empty when unknown) */
	char peer[COORD_NAME_MAX];  /* the other peer (INTRODUCED, RELAYED) */
	struct p2p_endpoint from;   /* where the triggering datagram came from */
	uint64_t session;	    /* INTRODUCED, RELAYED */
	size_t bytes;		    /* RELAYED: payload size */
	char text[256];		    /* one sentence for a student */
};

struct coord_counters {
	uint64_t registered, refreshed, refused, introduced, relayed, relayed_bytes, expired;
	uint64_t bindings, dropped, events_dropped;
	/* Binding requests refused by the per-source limit (also in refused and dropped). */
	uint64_t rate_limited;
	size_t peers; /* live registrations */
};

/* The most registrations a coordinator holds; a larger max_peers is lowered to it. */
#define COORD_MAX_PEERS (1u << 24)

struct coord_config {
	struct p2p_endpoint primary; /* where peers reach us */
	bool has_alternate;	     /* RFC 5780: alternate ip and port */
	struct p2p_endpoint alternate;
	bool rfc3489_attrs; /* stunsrv: RFC 3489 attributes in every answer */
	/* Per-source limit on Binding answers to endpoints that are not registered
	 * peers (p2p/ratelimit.h): a burst, then one answer per interval.
	 * 0: COORD_BINDING_BURST and COORD_BINDING_INTERVAL. */
	uint32_t binding_burst;
	uint64_t binding_interval_ns;
	bool disable_relay;	   /* refuse every RELAY (a lesson: no fallback) */
	const char *software;	   /* SOFTWARE for Binding answers, or NULL */
	size_t max_peers;	   /* 0: 100000; at most COORD_MAX_PEERS */
	uint64_t peer_timeout_ns;  /* silence before a registration expires; 0: 180 s */
	uint64_t session_reuse_ns; /* CONNECTs for a pair within this reuse its session
				      id (simultaneous connects, retransmissions); 0: 5 s */
	size_t max_events;	   /* events kept until popped; 0: 65536 (then dropped) */
	struct p2p_random random;  /* session ids and transaction ids */
	/* Optional allow-list: asked about every well-formed REGISTER before its
	 * signature is checked (cheap first); false refuses it with 403
	 * (COORD_REFUSE_NOT_ALLOWED). NULL: any key may register. */
	bool (*allow)(void *ctx, const char *name, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE]);
	void *allow_ctx;
	/* Optional: checks a REGISTER's signature in place of
	 * crypto_identity_verify, and must return exactly what that would for
	 * the same (key, canonical bytes, signature); false refuses the REGISTER
	 * as a bad signature (401, COORD_REFUSE_BAD_SIGNATURE). Called from
	 * coord_input() only, with arguments borrowed for the call. Why: a
	 * simulator that also runs the signing agents can have the verdict
	 * computed on another thread before the REGISTER arrives
	 * (agent_speed.signed_registration, app/world/secrets.h); the coordinator itself stays
	 * single-threaded. NULL: crypto_identity_verify. */
	bool (*verify)(void *ctx, const uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE], const uint8_t *msg,
		       size_t len, const uint8_t sig[CRYPTO_SIGNATURE_SIZE]);
	void *verify_ctx;
};

struct coord;

/* NULL on allocation failure or if libsodium cannot start. The config is copied
 * (software must outlive the coordinator). */
struct coord *coord_new(const struct coord_config *cfg);
void coord_free(struct coord *c);

/* `local` is which of our endpoints the datagram arrived on, `from` its source.
 * Returns COORD_OK or a negative enum coord_error (informational: the driver
 * just carries on). */
int coord_input(struct coord *c, uint64_t now_ns, const struct p2p_endpoint *local,
		const struct p2p_endpoint *from, const uint8_t *buf, size_t len);
void coord_tick(struct coord *c, uint64_t now_ns);
uint64_t coord_next_deadline(const struct coord *c);
/* Datagrams carry `from`: the local endpoint to send from. */
bool coord_pop_datagram(struct coord *c, struct p2p_datagram *out);
bool coord_pop_event(struct coord *c, struct coord_event *out);

/* ---- TCP (coord_tcp.c) ----
 * Peers may also reach us over TCP: the driver listens on `primary` (and the
 * alternate) and reports every connection it accepts. The messages are the
 * same STUN messages, framed as RFC 8489 6.2.2 sends STUN over TCP. A peer
 * that registers over a connection is known by it: the connection's remote
 * endpoint is its server-reflexive TCP candidate (the XOR-MAPPED-ADDRESS of
 * the answer), and introductions and relayed data for it go down that
 * connection. When it closes, the registration made over it ends (an
 * EXPIRED event), since nothing can reach the peer any more. Bytes that are
 * not STUN close the connection (P2P_TCP_CLOSE) and are counted as dropped.
 */
/* A connection accepted on `local` from `remote`: returns its id (> 0), or 0
 * if none can be allocated (then the driver closes it). */
uint32_t coord_tcp_accepted(struct coord *c, uint64_t now_ns, const struct p2p_endpoint *local,
			    const struct p2p_endpoint *remote);
/* Bytes that arrived on conn, split anyhow. COORD_ERR_MALFORMED if they were
 * garbage (the connection is then being closed), COORD_ERR_INVALID for an unknown id. */
int coord_tcp_input(struct coord *c, uint64_t now_ns, uint32_t conn, const uint8_t *buf,
		    size_t len);
/* The connection ended (the peer closed it, an RST, a timeout). */
void coord_tcp_closed(struct coord *c, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why);
/* P2P_TCP_SEND or P2P_TCP_CLOSE actions, in order. */
bool coord_pop_tcp(struct coord *c, struct p2p_tcp_action *out);

const struct coord_counters *coord_counters(const struct coord *c);
/* Looks a live registration up by name; fills the server-reflexive endpoint. */
bool coord_lookup(const struct coord *c, const char *name, struct p2p_endpoint *srflx);

const char *coord_event_name(enum coord_event_type t); /* "registered", ... */
const char *coord_refusal_name(enum coord_refusal r);  /* "bad-signature", ... */

#endif
