/*
 * daemon.h - the real-socket driver loop around the sans-I/O p2p objects: the
 * loop of STYLE.md on poll() and CLOCK_MONOTONIC instead of the engine
 * (app/world/simdrive.c is the same loop in the simulator).
 *
 *   receive -> ops->input -> ops->flush (send datagrams, report events)
 *   -> poll() until a socket is readable, a signal arrives or
 *      min(ops->next_deadline, until_ns) -> ops->tick when due
 *
 * SIGINT and SIGTERM are blocked and read from a signalfd while the loop runs,
 * so they end the loop cleanly (DAEMON_STOP_SIGNAL) instead of killing the
 * process between a receive and a send. Sockets are non-blocking IPv4 UDP,
 * and TCP through daemon_tcp.h when struct daemon's `tcp` is set.
 *
 * ICMP errors: every socket sets IP_RECVERR, so Linux queues the ICMP errors
 * about its datagrams (ip_icmp_error); the loop reads them from the error
 * queue (MSG_ERRQUEUE, struct sock_extended_err) and hands the ones from ICMP
 * to ops->icmp_error. Without IP_RECVERR an unconnected UDP socket hears of
 * none (__udp4_lib_err).
 */
#ifndef NATSIM_APP_DAEMON_H
#define NATSIM_APP_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2p/p2p.h"

#define DAEMON_MAX_SOCKETS 4 /* a coordinator with an alternate address (RFC 5780) */
/* Receive buffer: the largest UDP payload there is, so nothing is ever cut. */
#define DAEMON_MAX_RECEIVE 65536

struct daemon;
struct daemon_tcp;

struct daemon_ops {
	/* A datagram arrived on our endpoint `local` (ip 0 if bound to any), of
	 * any size UDP carries (up to 65507 bytes over IPv4). Return 0 if it was
	 * used, negative if the p2p object refused it (counted in `refused`; the
	 * callback itself says why, if it wants to). */
	int (*input)(void *ctx, uint64_t now_ns, const struct p2p_endpoint *local,
		     const struct p2p_endpoint *from, const uint8_t *buf, size_t len);
	void (*tick)(void *ctx, uint64_t now_ns);
	uint64_t (*next_deadline)(void *ctx);
	/* Send queued datagrams (daemon_send) and report events. Return true to
	 * end the loop (DAEMON_STOP_DONE). */
	bool (*flush)(void *ctx, struct daemon *d, uint64_t now_ns);
	/* Optional (NULL: errors are counted and dropped). An ICMP error about
	 * a datagram sent from our endpoint `local` (ip 0 if bound to any);
	 * flush follows. */
	void (*icmp_error)(void *ctx, uint64_t now_ns, const struct p2p_endpoint *local,
			   const struct p2p_icmp_error *err);
};

enum daemon_stop {
	DAEMON_STOP_DONE = 0,	 /* flush said so */
	DAEMON_STOP_SIGNAL = 1,	 /* SIGINT or SIGTERM */
	DAEMON_STOP_TIMEOUT = 2, /* until_ns passed */
	DAEMON_STOP_ERROR = -1,	 /* poll or a socket failed (errno set) */
};

struct daemon {
	int fds[DAEMON_MAX_SOCKETS];
	struct p2p_endpoint locals[DAEMON_MAX_SOCKETS];
	size_t n_socks;
	int sig_fd;
	sigset_t old_mask;
	int last_signal;   /* after DAEMON_STOP_SIGNAL: SIGINT or SIGTERM */
	uint64_t until_ns; /* monotonic; P2P_NO_DEADLINE: run until done or a signal */
	uint64_t received, sent, send_errors;
	uint64_t refused; /* datagrams ops->input refused */
	uint64_t icmp_errors; /* ICMP errors read from the error queues */
	/* Optional (the caller's; NULL: UDP only): TCP sockets daemon_run polls
	 * too, reporting to their object (daemon_tcp.h) and then calling
	 * ops->flush. */
	struct daemon_tcp *tcp;
};

/* Blocks SIGINT/SIGTERM and opens the signalfd. -1 with a message in err. */
int daemon_init(struct daemon *d, char *err, size_t errlen);
/* Closes the sockets and the signalfd, restores the signal mask. */
void daemon_fini(struct daemon *d);

/* Binds a UDP socket to `ep` (port 0: an ephemeral port); fills the bound
 * endpoint into *bound if non-NULL. -1 with a message naming ep in err. */
int daemon_bind(struct daemon *d, const struct p2p_endpoint *ep, struct p2p_endpoint *bound,
		char *err, size_t errlen);

/* Sends dg from the socket bound to dg->from (the first socket if none
 * matches: an agent's one socket). -1 on a send error (counted; UDP: the
 * caller carries on). A send that fails only because an ICMP error was
 * pending on the socket is tried once more (see daemon.c). */
int daemon_send(struct daemon *d, const struct p2p_datagram *dg);

/* Reads socket i's error queue: each ICMP error goes to ops->icmp_error
 * (if set), then ops->flush, which may say done (*done). Returns how many
 * errors it read. daemon_run calls it on POLLERR. */
size_t daemon_read_errors(struct daemon *d, size_t i, const struct daemon_ops *ops, void *ctx,
			  bool *done);

/* Runs the loop until flush returns true, a signal, or d->until_ns. */
enum daemon_stop daemon_run(struct daemon *d, const struct daemon_ops *ops, void *ctx);

/* CLOCK_MONOTONIC in ns: what the p2p objects get as `now`. */
uint64_t daemon_now_ns(void);
/* CLOCK_REALTIME - CLOCK_MONOTONIC: the agent's clock_offset_ns, so its
 * registration timestamps are wall-clock and survive a restart. */
uint64_t daemon_wall_offset_ns(void);
/* struct p2p_random.fill backed by libsodium's randombytes_buf. */
void daemon_random_fill(void *ctx, uint8_t *out, size_t len);
/* ISO-8601 UTC wall clock with milliseconds: "2025-01-31T12:00:00.123Z". */
void daemon_timestamp(char *buf, size_t size);

/* "a.b.c.d:port", or ":port" / "port" meaning 0.0.0.0:port. -1 if malformed. */
int daemon_parse_endpoint(const char *text, struct p2p_endpoint *out);
/* The IPv4 addresses of interfaces that are up (host order), loopback only if
 * include_loopback. Returns how many were written (at most max), -1 on error. */
int daemon_local_addresses(uint32_t *out, size_t max, bool include_loopback);

#endif
