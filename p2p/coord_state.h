/*
 * coord_state.h - the coordinator's state, shared by coord.c (the protocol,
 * one handler per message) and coord_tcp.c (the same messages over TCP
 * connections). Not a public header: a program uses coord.h.
 */
#ifndef NATSIM_P2P_COORD_STATE_H
#define NATSIM_P2P_COORD_STATE_H

#include "coord.h"
#include "endpoint6.h"
#include "ratelimit.h"
#include "ring.h"
#include "stream.h"
#include "stunsrv.h"

#define NIL UINT32_MAX

struct coord_session {
	uint64_t id;
	uint64_t created_ns;
	uint32_t other;
	uint32_t other_gen;
};

/* A registration as the coordinator keeps it: struct coord_registration
 * with its candidates packed (endpoint6.h: 8 bytes each, the type in the
 * tag, an IPv6 address in the peer's addrs6), 144 bytes less a peer. */
struct coord_kept_registration {
	char name[COORD_NAME_MAX];
	uint8_t transport; /* the candidates' transport: 0 UDP, COORD_TRANSPORT_TCP */
	uint8_t sign_pk[CRYPTO_SIGN_PK_SIZE];
	uint8_t box_pk[CRYPTO_BOX_PK_SIZE];
	uint8_t n_candidates;
	struct coord_mapping mapping; /* kind 0: not measured */
	uint64_t timestamp_ns;
	struct p2p_packed_ep candidates[COORD_MAX_CANDIDATES];
};

/* A peer's registration over its second family (coord_peer.alt): apart,
 * so that a peer of one family carries a pointer for it, not 44 bytes. */
struct coord_alt {
	struct p2p_endpoint srflx, via;
	uint32_t next; /* chain in coord.by_alt */
};

struct coord_peer {
	bool live;
	bool has_alt; /* see alt */
	uint32_t gen; /* bumped when the slot is freed: stale session links die */
	struct coord_kept_registration reg;
	struct p2p_addr6_table addrs6; /* reg's IPv6 addresses; kept with the slot */
	struct p2p_endpoint srflx;     /* source of its registration, as we saw it */
	struct p2p_endpoint via;       /* our local endpoint it registered on */
	/* A dual-stack peer registers over each family (docs/protocol.md
	 * "IPv6"): its registration over the other family than srflx's, kept
	 * under the same name. has_alt false: one family only. */
	struct coord_alt *alt; /* made by the slot's first; kept with the slot */
	uint32_t conn;	       /* the TCP connection it registered over; 0: UDP */
	uint64_t last_seen_ns;
	uint32_t name_next, ep_next, lru_prev, lru_next; /* name_next doubles as free list */
	struct coord_session sessions[COORD_SESSIONS_PER_PEER];
	unsigned next_session; /* ring position: the oldest link is replaced */
};

/* A TCP connection a peer opened to us (coord_tcp.c). */
struct coord_conn {
	bool open;
	bool closing;  /* garbage: its CLOSE is queued; the id is not reused before */
	uint32_t peer; /* the registration made over it, or NIL */
	struct p2p_endpoint local, remote;
	struct p2p_stream rx;
};

/* What leaves on a TCP connection: a message (framed when popped) or a close. */
struct coord_tcp_out {
	uint32_t conn;
	bool close;
	struct p2p_datagram d;
};

struct coord {
	struct coord_config cfg;
	struct stunsrv_config srv;
	struct coord_peer *peers;
	uint32_t n_alloc, n_used, free_head;
	uint32_t *by_name, *by_ep, mask;
	uint32_t *by_alt; /* alt_srflx -> peer; allocated on the first dual-stack peer */
	uint32_t lru_head, lru_tail;
	struct ring dq; /* struct p2p_datagram: to send */
	struct ring eq; /* struct coord_event: to report, at most cfg.max_events */
	struct coord_counters counters;
	struct ratelimit *binding_limit; /* per source address (ratelimit.h) */
	struct ratelimit *log_limit;	 /* one bucket for all: drop events are a sample */
	uint64_t unlogged;		 /* drops the log budget left out since the last event */
	/* TCP (coord_tcp.c). in_conn is the connection the message being handled
	 * arrived on (0: a UDP datagram): answers go back the way it came. */
	uint32_t in_conn;
	bool pushed_tcp;	  /* the last dq_push was onto tq */
	struct coord_conn *conns; /* conns[id - 1] */
	uint32_t n_conns;
	struct ring tq; /* struct coord_tcp_out: to send on connections */
};

/* coord_tcp.c, used by coord.c: peer i is now known by connection conn (0:
 * none, a UDP peer or one being removed); keeps conns[].peer in step. */
void coord_tcp_bind(struct coord *c, uint32_t i, uint32_t conn);

/* coord.c, used by coord_tcp.c. */
int coord_dispatch(struct coord *c, uint64_t now, const struct p2p_endpoint *local,
		   const struct p2p_endpoint *from, const uint8_t *buf, size_t len);
void coord_forget_peer(struct coord *c, uint32_t i, const char *why);
void coord_drop_event(struct coord *c, uint64_t now, const struct p2p_endpoint *from, size_t len,
		      const char *reason);

#endif
