/*
 * agent.h - a peer: registers with the coordinator, meets other peers through it,
 * punches holes with ICE-style connectivity checks, keeps the path alive, falls
 * back to the relay, and seals application data. Sans-I/O (STYLE.md).
 *
 * One agent owns one UDP socket (config.local). Everything it sends leaves from
 * that socket; everything arriving on it goes to agent_input().
 *
 * Life of a connection (docs/protocol.md has the ladder):
 *   agent_register -> REGISTER (signed) -> REGISTERED, CANDIDATES (host + srflx)
 *   agent_connect("bob") -> CONNECT -> the coordinator sends INTRODUCE to both
 *   both sides -> PUNCHING: authenticated Binding checks (RFC 8445 7.2.5) to
 *     every candidate of the other: a new one every pacing interval (Ta), each
 *     retransmitted as a STUN transaction (RFC 8489 6.2.1), and a triggered
 *     check at once when the other's check arrives (RFC 8445 7.3.1.4)
 *   first pair that works both ways -> the controlling side (smaller name)
 *     nominates it with USE-CANDIDATE (RFC 8445 8.1.1), both go DIRECT
 *   nothing works by the punch deadline -> the agent asks the coordinator
 *     whether it will relay (a RELAY request): yes -> RELAYED (data through
 *     the coordinator), direct probing continues slowly -> UPGRADED when it
 *     works; no (a coordinator without a relay) -> FAILED
 *   on the chosen path, a consent check every ~5 s (RFC 7675); no answer for
 *     30 s -> PATH_LOST (consent expired), reconnect through the coordinator
 *     (re-register and CONNECT again)
 *   coordinator unreachable as well -> FAILED
 *   a hard ICMP error about a check (port unreachable: nobody listens there)
 *     -> that pair has failed at once (RFC 8445 7.2.5.2.2, RFC 8489 6.2.1)
 *     rather than after its 7 requests; when every pair of a peer has, the
 *     agent asks for the relay then rather than at the punch deadline
 *
 * Events are for people: every event carries a sentence a student can read.
 */
#ifndef NATSIM_P2P_AGENT_H
#define NATSIM_P2P_AGENT_H

#include "coord.h"
#include "discovery.h"
#include "p2p.h"
#include "stream.h"

#define AGENT_NAME_MAX COORD_NAME_MAX
#define AGENT_MAX_PEERS 16
#define AGENT_MAX_HOST_CANDIDATES COORD_MAX_CANDIDATES
#define AGENT_MAX_REMOTE_CANDIDATES 96 /* introduced + predicted + peer-reflexive (< 128) */
#define AGENT_MAX_DATA 1200	       /* largest plaintext agent_send accepts */

enum agent_error {
	AGENT_OK = 0,
	AGENT_ERR_NOMEM = -1,
	AGENT_ERR_INVALID = -2,		/* bad argument (name too long, data too big) */
	AGENT_ERR_MALFORMED = -3,	/* input not a message we understand */
	AGENT_ERR_UNAUTHENTICATED = -4, /* integrity or seal did not verify */
	AGENT_ERR_UNKNOWN_PEER = -5,	/* no such peer / no session with it */
	AGENT_ERR_NOT_CONNECTED = -6,	/* agent_send before an introduction */
	AGENT_ERR_TOO_MANY = -7,	/* AGENT_MAX_PEERS reached */
	AGENT_ERR_BUSY = -8,		/* agent_classify while it already runs */
};

enum agent_event_type {
	AGENT_EV_REGISTERED,
	AGENT_EV_CANDIDATES_GATHERED,
	AGENT_EV_PUNCHING,
	AGENT_EV_DIRECT,
	AGENT_EV_RELAYED,
	AGENT_EV_UPGRADED,
	AGENT_EV_PATH_LOST,
	AGENT_EV_FAILED,
	AGENT_EV_DATA_RECEIVED,
	AGENT_EV_NAT_CLASSIFIED,
	AGENT_EV_LOG,
	AGENT_EV_PAIR_FAILED, /* a hard ICMP error ended a check (agent_handle_icmp_error) */
	AGENT_EV_TECHNIQUE,   /* what a technique for hard NATs measured, tried or found */
};

struct p2p_event {
	enum agent_event_type type;
	char peer[AGENT_NAME_MAX]; /* empty for events about the agent itself */
	struct p2p_endpoint local; /* DIRECT/UPGRADED: the chosen pair */
	struct p2p_endpoint remote;
	unsigned technique; /* DIRECT/UPGRADED: the enum agent_technique bit that found the
			       pair; 0: ICE's checks alone */
	uint8_t family;	    /* DIRECT/UPGRADED: the path's, P2P_FAMILY_IPV4 or _IPV6 */
	char text[256];	    /* "direct via 10.0.1.2:5000 -> 203.0.113.9:61002 (srflx)" */
	size_t data_len;    /* DATA_RECEIVED: plaintext (a copy) */
	uint8_t data[AGENT_MAX_DATA];
	struct discovery_result nat; /* NAT_CLASSIFIED */
};

enum agent_peer_state {
	AGENT_PEER_NONE = 0,   /* unknown name */
	AGENT_PEER_CONNECTING, /* waiting for registration or introduction */
	AGENT_PEER_PUNCHING,
	AGENT_PEER_DIRECT,
	AGENT_PEER_RELAYED,
	AGENT_PEER_FAILED,
};

struct agent_speed; /* agent_speed.h: optional, a program may ignore it */

/* Techniques against hard NATs (see "Hard NATs" below): bits of
 * agent_config.techniques. */
enum agent_technique {
	AGENT_TECH_PREDICTION = 1u << 0,   /* port prediction (agent_hard.c) */
	AGENT_TECH_BIRTHDAY = 1u << 1,	   /* the birthday search (agent_hard.c) */
	AGENT_TECH_PORT_MAPPING = 1u << 2, /* ask the router: PCP, else NAT-PMP (agent_portmap.c) */
};
#define AGENT_TECH_ALL (AGENT_TECH_PREDICTION | AGENT_TECH_BIRTHDAY | AGENT_TECH_PORT_MAPPING)

/* How our NAT assigns public ports, as the agent measured it against the
 * coordinator's addresses (agent_hard.c) and told the peer through it. */
enum agent_mapping_kind {
	AGENT_MAPPING_UNKNOWN = 0,    /* not measured (no technique asks for it) or no answer */
	AGENT_MAPPING_SAME = 1,	      /* one public port for every destination (EIM) */
	AGENT_MAPPING_SEQUENTIAL = 2, /* a new port per destination, `delta` apart */
	AGENT_MAPPING_RANDOM = 3,     /* a new port per destination, unpredictable */
};

/* Largest number of extra sockets (the birthday search's). */
#define AGENT_MAX_SOCKETS 1024

enum agent_transport {
	AGENT_TRANSPORT_UDP = 0, /* one UDP socket: agent_input, agent_pop_datagram */
	AGENT_TRANSPORT_TCP = 1, /* TCP connections: the agent_tcp_* calls below */
};

struct agent_config {
	const char *name;	   /* 1..63 bytes; copied */
	struct p2p_endpoint local; /* our socket's address */
	size_t n_host_candidates;  /* 0: config.local is the only host candidate */
	struct p2p_endpoint host_candidates[AGENT_MAX_HOST_CANDIDATES];
	bool disable_host_candidates; /* advertise none (privacy, or a lesson) */
	struct p2p_endpoint coordinator;
	/* Dual stack (issue 18; agent_dual.c): an IPv6 socket beside config.local
	 * and the coordinator's IPv6 endpoint; family 0 (unset): IPv4 only. With
	 * both, the agent registers over each family, offers its IPv6 host
	 * candidate (when n_host_candidates is 0), pairs candidates per family
	 * and checks IPv6 pairs first, interleaved with IPv4's (RFC 8421 4). A
	 * datagram with socket 0 leaves from the socket of its destination's
	 * family; what arrives on the IPv6 socket goes to agent_input too. */
	struct p2p_endpoint local6;
	struct p2p_endpoint coordinator6;
	const uint8_t *key_seed; /* 32 bytes (simulator), or NULL: drawn from random */
	struct p2p_random random;
	uint64_t clock_offset_ns;	 /* added to now for registration timestamps: the
					    daemon passes wall clock - monotonic clock */
	const struct agent_speed *speed; /* NULL: none (agent_speed.h); copied */
	/* Timing knobs; 0 picks the default in brackets. */
	uint64_t pacing_ns;	       /* Ta: between two new checks while punching [20 ms] */
	uint64_t check_rto_ns;	       /* a check's first retransmission; doubles [100 ms] */
	uint64_t punch_timeout_ns;     /* punching before relay fallback [5 s] */
	uint64_t background_pacing_ns; /* between checks while relayed [1 s] */
	uint64_t keepalive_ns;	       /* see agent_set_keepalive [25 s] */
	uint64_t refresh_ns;	       /* registration refresh [60 s] */
	uint64_t consent_check_ns;     /* RFC 7675: base period of consent checks, each
					  drawn from 0.8-1.2 times it [5 s] */
	uint64_t consent_expiry_ns;    /* RFC 7675: no answer this long on the chosen
					  path -> PATH_LOST [30 s] */
	uint64_t rto_ns;	       /* REGISTER/CONNECT/RELAY retransmission [500 ms] */
	/* NAT64 (issue 18): the first 12 bytes of our network's NAT64 prefix,
	 * a /96 (RFC 6052 2.2), as RFC 7050's discovery (or the simulator's
	 * DNS64) learned it; all zero: none. An agent with an IPv6 socket and
	 * no IPv4 one then pairs a peer's IPv4 candidates at PREFIX + IPv4,
	 * as RFC 8305 7.1 asks of a client given IPv4 literals on an
	 * IPv6-only network (agent_dual.c, nat64_candidate). */
	uint8_t nat64_prefix[12];
	/* TCP (see "TCP" below). */
	enum agent_transport transport; /* [UDP] */
	uint64_t tcp_retry_ns;	    /* a refused or failed punch connects again after [250 ms] */
	unsigned tcp_connect_tries; /* connects per candidate, within the punch deadline [8] */
	/* Hard NATs (see "Hard NATs" below); all off unless set. */
	unsigned techniques;	     /* enum agent_technique bits [none] */
	unsigned prediction_window;  /* predicted ports the peer probes [8] */
	unsigned birthday_sockets;   /* K: extra sockets a hard side opens [256] */
	unsigned probe_rate;	     /* probes per second, all techniques' together [100] */
	unsigned probe_budget;	     /* probes per introduction, sockets' first sends
					included [2048] */
	struct p2p_endpoint gateway; /* port mapping: our router's inside address; port 0
					means 5351 (PCP and NAT-PMP); ip 0: none known */
	uint32_t mapping_lifetime_s; /* port mapping: lifetime asked for [7200] */
};

struct agent;

/* NULL on bad config or allocation failure. */
struct agent *agent_new(const struct agent_config *cfg);
void agent_free(struct agent *a);

int agent_input(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *from,
		const uint8_t *buf, size_t len);
/* An ICMP error about a datagram our socket sent (p2p.h). A hard error
 * (p2p_icmp_error_is_hard) about a check still waiting for its answer fails
 * that pair: no more retransmissions, AGENT_EV_PAIR_FAILED, and the relay
 * sooner once every pair of the peer has failed. A soft error about such a
 * check is reported once per check (AGENT_EV_LOG) and changes nothing.
 * The error is taken as a hint, never as proof: an authenticated answer
 * that arrives later still counts, and a check from the peer on that pair
 * revives it (RFC 8445 7.3.1.4). AGENT_ERR_INVALID if err->local is not our
 * socket (config.local; any address if that one's is 0); AGENT_ERR_UNKNOWN_PEER if no check of ours
 * to err->remote awaits an answer (an error about data, a keepalive, or one forged or late:
 * ignored, as RFC 8445 asks of errors that may be spoofed). */
int agent_handle_icmp_error(struct agent *a, uint64_t now_ns, const struct p2p_icmp_error *err);
void agent_tick(struct agent *a, uint64_t now_ns);
uint64_t agent_next_deadline(const struct agent *a); /* P2P_NO_DEADLINE if none */
bool agent_pop_datagram(struct agent *a, struct p2p_datagram *out);
bool agent_pop_event(struct agent *a, struct p2p_event *out);

/* Registers (and keeps refreshing every refresh interval). */
int agent_register(struct agent *a, uint64_t now_ns);
/* Asks the coordinator to introduce us to peer_name; punching starts when the
 * introduction arrives. Safe before registration completes (sent after). */
int agent_connect(struct agent *a, uint64_t now_ns, const char *peer_name);
/* Seals and sends: direct if a path is chosen, else through the relay once
 * introduced. AGENT_ERR_NOT_CONNECTED before any introduction. */
int agent_send(struct agent *a, uint64_t now_ns, const char *peer_name, const uint8_t *data,
	       size_t len);
/* Runs RFC 5780 discovery against the coordinator (which needs an alternate
 * address) on our socket; NAT_CLASSIFIED when done. */
int agent_classify(struct agent *a, uint64_t now_ns);
/* Keepalives. Towards the coordinator: a padded Binding every interval_ns.
 * On a chosen path the keepalives are the consent checks (RFC 7675 section
 * 4: they keep the NAT bindings open), every consent_check_ns with jitter,
 * whatever interval_ns is. 0 disables both: the agent then sends nothing on
 * an idle path, its NATs' mappings time out, and consent expires
 * consent_expiry_ns after the last answer (PATH_LOST). */
void agent_set_keepalive(struct agent *a, uint64_t interval_ns);

/* ---- TCP (agent_tcp.c) ----
 * With config.transport TCP the agent speaks the same protocol over TCP
 * connections its driver opens for it (stream.h), from one local port,
 * config.local, bound with address and port reuse (RFC 5128 3.4):
 *   agent_register -> LISTEN on config.local, CONNECT to the coordinator;
 *     REGISTER (with TCP candidates) over that connection: the coordinator
 *     answers with the connection's remote end as it saw it, our TCP
 *     server-reflexive candidate
 *   INTRODUCE (over it, with the other's TCP candidates) -> at once a CONNECT
 *     to every candidate of the other, who does the same towards us: each
 *     SYN opens our NAT for the other's (simultaneous open, RFC 5128 3.4); a
 *     connect that fails (an RST from a NAT that refuses a stray SYN, a
 *     timeout) is tried again every tcp_retry_ns, up to tcp_connect_tries
 *     times, until the punch deadline
 *   on every connection that opens (ours, or one the listener accepted): the
 *     authenticated Binding checks and the nomination of agent_checks.c,
 *     framed as RFC 6544 frames them (RFC 4571); the nominated connection
 *     is the direct path (DATA over it), the others are closed
 *   no connection by the punch deadline -> RELAY through the coordinator's
 *     connection, or FAILED if it runs without a relay
 *   the chosen connection closes -> PATH_LOST, and a new introduction.
 * agent_input, agent_pop_datagram, agent_classify and agent_handle_icmp_error
 * are for UDP: with TCP they refuse (AGENT_ERR_INVALID) or return nothing.
 * The driver reports every connection's fate, pops actions after every call
 * (agent_pop_tcp) and calls agent_tick at agent_next_deadline as for UDP. */
bool agent_pop_tcp(struct agent *a, struct p2p_tcp_action *out);
/* Our CONNECT for conn completed. `simultaneous`: the stack saw the other's
 * SYN cross ours (SYN-SENT -> SYN-RECEIVED, RFC 9293 3.5); false when the
 * driver cannot tell (a socket API does not say). */
int agent_tcp_connected(struct agent *a, uint64_t now_ns, uint32_t conn,
			const struct p2p_endpoint *local, const struct p2p_endpoint *remote,
			bool simultaneous);
/* The listener accepted a connection: returns the id the agent gives it (> 0),
 * or 0 if it wants none (then the driver closes it). */
uint32_t agent_tcp_accepted(struct agent *a, uint64_t now_ns, const struct p2p_endpoint *local,
			    const struct p2p_endpoint *remote);
/* Bytes that arrived on conn, split anyhow. Bytes that are not framed
 * messages close the connection (P2P_TCP_CLOSE; AGENT_ERR_MALFORMED). */
int agent_tcp_input(struct agent *a, uint64_t now_ns, uint32_t conn, const uint8_t *buf,
		    size_t len);
/* conn ended: a connect that failed, or an open connection that closed. */
void agent_tcp_closed(struct agent *a, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why);

/* ---- Hard NATs (agent_hard.c, agent_portmap.c) ----
 * Techniques beyond ICE's checks, each a bit of config.techniques:
 *  - measuring: with PREDICTION or BIRTHDAY, after the first registration
 *    the agent sends Bindings to the coordinator's other endpoints (RFC
 *    5780 OTHER-ADDRESS) and sees how its NAT assigns ports: the same port
 *    for all (SAME), new ones `delta` apart (SEQUENTIAL), or new ones at
 *    random (RANDOM). It registers again with that (NATSIM-MAPPING); the
 *    coordinator passes it to the peer in INTRODUCE, as it passes
 *    candidates, and does nothing else with it. A CONNECT waits for it.
 *  - PREDICTION: against a SEQUENTIAL peer, we add the ports its NAT will
 *    give next (its last measured port + delta, + 2 delta, ...: the window)
 *    as candidates of type "predicted" and check them like any other.
 *  - BIRTHDAY: a RANDOM side opens birthday_sockets extra sockets, each
 *    sending one check to the peer's server-reflexive endpoint (opening
 *    one mapping each); the other side (not RANDOM) waits as long as that
 *    takes at the probe rate, then sends checks to random ports of the
 *    RANDOM side's public address. When both are RANDOM, both open sockets
 *    and probe from them. A probe that lands in an open mapping is a check
 *    like any other: the answer and the triggered check (RFC 8445 7.3.1.4)
 *    make a pair, and the agent goes DIRECT (or UPGRADED from the relay).
 *    At most probe_rate sends per second, at most probe_budget per
 *    introduction; the relay carries the data meanwhile.
 *  - PORT_MAPPING: at agent_register the agent asks config.gateway for a
 *    mapping of its port (PCP MAP, else NAT-PMP), offers what it gets as a
 *    candidate of type "mapped", renews it at half its lifetime (30 s at
 *    the soonest; a reboot the epoch reveals is said) and deletes it at
 *    agent_release_mappings. Asking is bounded, since a CONNECT waits for
 *    it: three tries in 1 s per protocol, 2 s in all for a silent router;
 *    a hard ICMP error about a request, or a refusal, ends it at once.
 *    Events of type TECHNIQUE say what was asked and what came of it.
 * Which technique found a path is said in the DIRECT/UPGRADED event.
 *
 * Extra sockets: a datagram with socket k > 0 (p2p.h) leaves from the
 * agent's k-th extra socket, which the driver binds (same address as
 * config.local, an ephemeral port) when first asked, and keeps until
 * agent_socket_wanted says no more (ask after every call; close those not
 * wanted). What arrives on it goes to agent_input_socket. ICMP errors
 * about an extra socket's datagrams may be dropped by the driver. */
int agent_input_socket(struct agent *a, uint64_t now_ns, uint16_t socket,
		       const struct p2p_endpoint *from, const uint8_t *buf, size_t len);
bool agent_socket_wanted(const struct agent *a, uint16_t socket);
/* Our NAT's port assignment as measured (UNKNOWN before, or if never). */
enum agent_mapping_kind agent_mapping(const struct agent *a, int16_t *delta);
/* Deletes the port mappings the agent holds (lifetime-0 requests to send);
 * call before agent_free when the program ends. */
void agent_release_mappings(struct agent *a, uint64_t now_ns);
const char *agent_technique_name(unsigned technique_bit); /* "prediction", ... */
/* The same in a sentence's words: "port prediction", "the birthday search",
 * "port mapping"; "" for 0. */
const char *agent_technique_words(unsigned technique_bit);
const char *agent_mapping_kind_name(enum agent_mapping_kind k); /* "sequential", ... */

enum agent_peer_state agent_peer_state(const struct agent *a, const char *peer_name);
/* Our server-reflexive endpoint as the coordinator saw it; false before. */
bool agent_public_endpoint(const struct agent *a, struct p2p_endpoint *out);
const struct crypto_identity *agent_identity(const struct agent *a);

const char *agent_event_name(enum agent_event_type t);	    /* "registered", "punching", ... */
const char *agent_peer_state_name(enum agent_peer_state s); /* "direct", ... */
const char *agent_error_str(int err);

#endif
