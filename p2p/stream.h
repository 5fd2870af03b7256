/*
 * stream.h - TCP for the sans-I/O p2p code: the actions an agent or the
 * coordinator asks its driver for, and the framing of messages on a byte
 * stream. Nothing here touches a socket: the driver (the simulated host's
 * host_tcp_* in the simulator, the kernel in the daemon) owns the TCP
 * connections and tells the p2p object what happened to them.
 *
 * Connections are named by a number the p2p object chooses (never 0); the
 * driver keeps the table from that number to its socket.
 *
 * Framing (a stream has no message boundaries):
 *  - P2P_FRAMING_STUN: toward the coordinator, STUN messages back to back,
 *    each delimited by its own header's length field, as RFC 8489 6.2.2
 *    sends STUN over TCP to a server. The reassembler insists on the magic
 *    cookie: without it a stream that lost its place can never find it again.
 *  - P2P_FRAMING_RFC4571: between peers, each message behind a 16-bit
 *    big-endian length, as ICE-TCP (RFC 6544) frames the checks
 *    and the media on one connection (RFC 4571 section 2).
 */
#ifndef NATSIM_P2P_STREAM_H
#define NATSIM_P2P_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p.h"

/* The largest message a frame carries: what a datagram would. */
#define P2P_STREAM_MAX_MESSAGE P2P_MAX_DATAGRAM
#define P2P_STREAM_MAX_FRAME (P2P_STREAM_MAX_MESSAGE + 2)

enum p2p_framing {
	P2P_FRAMING_STUN = 0,
	P2P_FRAMING_RFC4571 = 1,
};

/* What a p2p object asks its driver to do. */
enum p2p_tcp_action_type {
	/* Listen on `local` with SO_REUSEADDR and SO_REUSEPORT set, so that the
	 * same port can also connect out (RFC 5128 3.4: every punch leaves
	 * from the port the coordinator saw). On Linux SO_REUSEADDR alone is not
	 * enough once a socket listens on the port: inet_csk_bind_conflict
	 * (net/ipv4/inet_connection_sock.c) lets a second bind share it only when
	 * both sockets set SO_REUSEPORT (same user). Connections it accepts are
	 * reported with agent_tcp_accepted. */
	P2P_TCP_LISTEN,
	/* Open connection `conn` from `local` (bound with the same reuse options)
	 * to `remote`; report agent_tcp_connected or agent_tcp_closed. */
	P2P_TCP_CONNECT,
	/* Write buf[0..len) on `conn`. */
	P2P_TCP_SEND,
	/* Close `conn` (an orderly close; the p2p object forgets it now and
	 * expects no report about it). */
	P2P_TCP_CLOSE,
};

struct p2p_tcp_action {
	enum p2p_tcp_action_type type;
	uint32_t conn;		    /* CONNECT, SEND, CLOSE */
	struct p2p_endpoint local;  /* LISTEN, CONNECT */
	struct p2p_endpoint remote; /* CONNECT */
	size_t len;		    /* SEND */
	uint8_t buf[P2P_STREAM_MAX_FRAME];
};

/* Why a connection ended, as the driver saw it (agent_tcp_closed,
 * coord_tcp_closed). Values are Linux errno names' meanings. */
enum p2p_tcp_close {
	P2P_TCP_CLOSED_BY_PEER = 0, /* FIN: an orderly close */
	P2P_TCP_REFUSED,	    /* ECONNREFUSED: an RST answered our SYN */
	P2P_TCP_RESET,		    /* ECONNRESET: an RST on an open connection */
	P2P_TCP_TIMED_OUT,	    /* ETIMEDOUT: SYN or data retransmissions gave up */
	P2P_TCP_UNREACHABLE,	    /* EHOSTUNREACH / ENETUNREACH: an ICMP error */
};
const char *p2p_tcp_close_name(enum p2p_tcp_close why); /* "refused (RST)", ... */

/* Reassembles frames from a byte stream, however the bytes are split. */
struct p2p_stream {
	enum p2p_framing framing;
	size_t have;
	uint8_t buf[P2P_STREAM_MAX_FRAME];
};

enum p2p_stream_result {
	P2P_STREAM_NEED_MORE = 0, /* every byte taken; no whole message yet */
	P2P_STREAM_MESSAGE = 1,	  /* *msg, *msg_len: one message (valid until the next call) */
	P2P_STREAM_GARBAGE = -1,  /* not this framing: the connection cannot be read further */
};

void p2p_stream_init(struct p2p_stream *s, enum p2p_framing framing);
/* Takes bytes from *in (advancing *in and *in_len) until one message is
 * whole or the input is used up. Call again with what is left while it
 * returns P2P_STREAM_MESSAGE. After P2P_STREAM_GARBAGE the stream stays
 * broken. Checks only the framing: what is inside a message is the caller's. */
enum p2p_stream_result p2p_stream_next(struct p2p_stream *s, const uint8_t **in, size_t *in_len,
				       const uint8_t **msg, size_t *msg_len);
/* Writes msg as one frame into out (at least len + 2 bytes); returns the frame's
 * length, or 0 if the message does not fit a frame. */
size_t p2p_stream_frame(enum p2p_framing framing, const uint8_t *msg, size_t len, uint8_t *out,
			size_t cap);

#endif
