/*
 * daemon_tcp.h - the TCP connections of one sans-I/O p2p object (an agent or
 * the coordinator, p2p/stream.h) on the kernel's TCP: what
 * app/world/simtcp.h does on a simulated host, here on real sockets.
 *
 * Every socket is non-blocking; those an agent punches with are bound with
 * SO_REUSEADDR and SO_REUSEPORT, so the listener and every connect share the
 * port the coordinator saw (RFC 5128 3.4; socket(7): every socket
 * sharing the port must set SO_REUSEPORT, as the same user). A connect is
 * connect(2) on such a socket: when the other's SYN crosses ours the kernel
 * completes a simultaneous open (tcp_rcv_synsent_state_process), which a
 * socket cannot tell from an ordinary one, so `simultaneous` is always false.
 *
 * daemon_run (daemon.h) polls the sockets when struct daemon's `tcp` points
 * here and hands what happened to the object through `ops`, then calls the
 * daemon's flush, which carries the object's actions out with daemon_tcp_do.
 *
 * A SEND the kernel takes only in part (its send buffer is full: a short
 * count or EAGAIN) is not lost: the rest waits in the socket's `unsent`
 * bytes, and later SENDs queue behind it, until POLLOUT says there is room.
 * The stream thus carries every frame whole and in order (RFC 4571 and
 * RFC 8489 6.2.2 delimit messages only by their length fields: one cut
 * frame would garble every message after it). A CLOSE waits for its
 * connection's unsent bytes to go out before the FIN.
 */
#ifndef NATSIM_APP_DAEMON_TCP_H
#define NATSIM_APP_DAEMON_TCP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/stream.h"

#define DAEMON_TCP_MAX 64 /* sockets: listeners and connections */
/* Bytes a connection may hold unsent (a peer that stopped reading): a SEND
 * that would go beyond is refused whole, never cut. */
#define DAEMON_TCP_UNSENT_MAX (64 * 1024)

struct daemon_tcp_ops {
	/* A connection the listener accepted: the object's number for it, or 0
	 * (then it is closed). */
	uint32_t (*accepted)(void *ctx, uint64_t now_ns, const struct p2p_endpoint *local,
			     const struct p2p_endpoint *remote);
	/* A CONNECT completed; NULL for an object that never connects. */
	int (*connected)(void *ctx, uint64_t now_ns, uint32_t conn,
			 const struct p2p_endpoint *local, const struct p2p_endpoint *remote,
			 bool simultaneous);
	int (*input)(void *ctx, uint64_t now_ns, uint32_t conn, const uint8_t *buf, size_t len);
	void (*closed)(void *ctx, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why);
};

struct daemon_tcp_sock {
	int fd;	       /* -1: a connect that failed at once, to report */
	uint32_t conn; /* the object's number; 0 for a listener */
	bool listener;
	bool connecting; /* connect(2) in progress */
	bool closing;	 /* CLOSE asked; the FIN waits for `unsent` (conn is 0) */
	int error;	 /* fd -1: the errno connect(2) failed with */
	struct p2p_endpoint local, remote;
	uint8_t *unsent; /* bytes SENT to us the kernel has not taken yet (heap) */
	size_t unsent_len, unsent_cap;
};

struct daemon_tcp {
	const struct daemon_tcp_ops *ops;
	void *ctx;
	struct daemon_tcp_sock s[DAEMON_TCP_MAX];
	size_t n;
	uint64_t errors; /* actions that could not be carried out */
};

void daemon_tcp_init(struct daemon_tcp *t, const struct daemon_tcp_ops *ops, void *ctx);
/* Closes every socket (FIN for the connections). */
void daemon_tcp_fini(struct daemon_tcp *t);
/* Listens on ep with the reuse options (port 0: any free port, filled into
 * *bound). A LISTEN action for a port already listened on is then taken as
 * done. -1 with a message in err. */
int daemon_tcp_listen(struct daemon_tcp *t, const struct p2p_endpoint *ep,
		      struct p2p_endpoint *bound, char *err, size_t errlen);
/* Carries out one action. 0, or -1 (counted in errors) if it could not; a
 * connect(2) that fails at once is reported by daemon_tcp_report_failed. A
 * SEND is 0 once its bytes are the kernel's or queued behind earlier ones
 * (see above); -1 for a connection that is not open, a send(2) error other
 * than EAGAIN (the read side reports the end), or a full queue. */
int daemon_tcp_do(struct daemon_tcp *t, const struct p2p_tcp_action *a);
/* Reports the connects that failed at once (ops->closed). Returns how many:
 * when not 0, the object has new actions to pop. */
size_t daemon_tcp_report_failed(struct daemon_tcp *t, uint64_t now_ns);
/* The pollfds to wait on, written to out (at most max); returns how many.
 * A connection with unsent bytes also waits for POLLOUT. */
size_t daemon_tcp_pollfds(const struct daemon_tcp *t, struct pollfd *out, size_t max);
/* What poll said about fd: accepts, completes connects, writes unsent
 * bytes, reads, and reports each to the object. A stale fd (closed since)
 * is ignored. */
void daemon_tcp_ready(struct daemon_tcp *t, int fd, short revents, uint64_t now_ns);
/* The reason an object is given for errno err (0: the peer's FIN). */
enum p2p_tcp_close daemon_tcp_close_reason(int err);

#endif
