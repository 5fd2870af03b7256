/*
 * simtcp.h - the TCP connections of one sans-I/O p2p object (an agent or a
 * coordinator, p2p/stream.h) carried out on a simulated host's TCP stack
 * (model/host.h "TCP").
 *
 * The driver pops the object's struct p2p_tcp_action and hands each to
 * simtcp_do: LISTEN and CONNECT bind with SO_REUSEADDR and SO_REUSEPORT (the
 * punch leaves from the port the coordinator saw, RFC 5128 3.4), SEND
 * writes, CLOSE closes in order. What the stack then reports goes back to
 * the object through `ops` (its *_tcp_connected / _accepted / _input /
 * _closed), each followed by ops->flush so the driver pops what the object
 * asks next. The table from the object's connection number to the host's
 * socket is kept here. Nothing is reported from inside simtcp_do: a
 * connect the stack refuses at once is reported from an engine event at the
 * same instant, as the stack defers its own events, so runs stay
 * deterministic and no object is re-entered while its queue is drained.
 */
#ifndef NATSIM_APP_SIMTCP_H
#define NATSIM_APP_SIMTCP_H

#include <stdbool.h>
#include <stdint.h>

#include "model/host.h"
#include "p2p/stream.h"

struct simtcp_ops {
	/* The object's answer to a connection the listener accepted: its
	 * number (> 0), or 0 if it wants none (the socket is then closed). */
	uint32_t (*accepted)(void *obj, uint64_t now_ns, const struct p2p_endpoint *local,
			     const struct p2p_endpoint *remote);
	/* A CONNECT completed; NULL for an object that never connects. */
	int (*connected)(void *obj, uint64_t now_ns, uint32_t conn,
			 const struct p2p_endpoint *local, const struct p2p_endpoint *remote,
			 bool simultaneous);
	int (*input)(void *obj, uint64_t now_ns, uint32_t conn, const uint8_t *buf, size_t len);
	void (*closed)(void *obj, uint64_t now_ns, uint32_t conn, enum p2p_tcp_close why);
	/* After every report: the driver pops the object's actions and events. */
	void (*flush)(void *ctx);
};

struct simtcp;

/* `obj` is what ops receive first; `ctx` what ops->flush receives. NULL on OOM. */
struct simtcp *simtcp_new(struct host *h, const struct simtcp_ops *ops, void *obj, void *ctx);
/* Closes every connection and listener (FIN, as the kernel does for a
 * process that exits) and reports nothing more. */
void simtcp_close_all(struct simtcp *t);
/* Frees the table at the end of a run, closing nothing (the sockets go with
 * their host, net_free: a close here would put a FIN that never happened
 * into the trace). Call simtcp_close_all first while the world still runs;
 * after this, the engine must not run the host's TCP events again. */
void simtcp_free(struct simtcp *t);
/* Carries out one action. 0, or -1 if it could not (a LISTEN on a port
 * taken without reuse, an unknown connection, OOM); a failed CONNECT is
 * reported as closed (P2P_TCP_UNREACHABLE) rather than returned. */
int simtcp_do(struct simtcp *t, const struct p2p_tcp_action *a);
/* Listen on ip:port for the object without being asked (the coordinator
 * listens where it is configured). */
int simtcp_listen(struct simtcp *t, uint32_t ip, uint16_t port);
/* The reason a p2p object is given for a socket's errno (0: the peer's FIN). */
enum p2p_tcp_close simtcp_close_reason(int err);

#endif
